//! The floor of an activation benchmark (`bench/activate.py`): the least a program can do to
//! bring a plan's devices up or down through our ioctls, and nothing else.
//!
//! ```text
//! bare_loop up PLAN [--nodes|--links]     per device, in plan order: DM_DEV_CREATE, DM_TABLE_LOAD, DM_DEV_SUSPEND (resume)
//! bare_loop down PLAN [--nodes|--links]   per device, newest first: DM_DEV_REMOVE
//! bare_loop check PLAN                    one DM_LIST_DEVICES, then per device one DM_TABLE_STATUS:
//!                                         present by uuid, live, not suspended, the planned table
//! ```
//!
//! PLAN is `lvmkit plan` output: a `# NAME uuid=UUID ro|rw …` header per device, then its
//! `NAME: START LENGTH TARGET PARAMS` lines; `<NAME>` references resolve to the numbers the
//! kernel gave the devices created before. No lookups, no rollback, no retries: a failure
//! stops the run with the device named. `--nodes` also makes (removes) `/dev/mapper/NAME`,
//! to price the nodes separately; `--links` in addition `/dev/VG/LV -> /dev/mapper/NAME` for
//! the plan's public devices (one `symlink` or `unlink` each; the VG folder made when the
//! first link needs it, removed at the end) — everything `lvmkit` does for nodes. Reading and parsing the plan is part of the process, as for
//! `dmsetup create --concise`.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use lvmkit_dm::control::{self, CreateOptions, Dm, DmControl, RemoveOptions};
use lvmkit_dm::{DevId, DevNum, DmName, DmUuid, Table, TableLine};

/// Why the floor stopped.
#[derive(Debug)]
enum Error {
    /// Bad command line.
    Usage,
    /// The plan file cannot be read.
    Read(String, std::io::Error),
    /// A plan line that is not what `lvmkit plan` prints.
    Plan { line: usize, why: String },
    /// A device-mapper call failed.
    Dm(Box<control::Error>),
    /// A reference or node problem, naming the device.
    Device { name: String, why: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage => {
                f.write_str("usage: bare_loop up|down PLAN [--nodes|--links] | bare_loop check PLAN")
            }
            Error::Read(p, e) => write!(f, "{p}: {e}"),
            Error::Plan { line, why } => write!(f, "plan line {line}: {why}"),
            Error::Dm(e) => write!(f, "{e}"),
            Error::Device { name, why } => write!(f, "{name}: {why}"),
        }
    }
}

impl From<control::Error> for Error {
    fn from(e: control::Error) -> Error {
        Error::Dm(Box::new(e))
    }
}

/// One device of the plan.
struct Device {
    name: DmName,
    uuid: DmUuid,
    read_only: bool,
    /// Persistent number (`minor=` / `devnum=` in the header; the kernel keeps dm's major).
    dev: Option<DevNum>,
    table: Table,
    /// Gets `/dev/VG/LV` (`public` in the header).
    public: bool,
}

/// What to do about device nodes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nodes {
    None,
    Mapper,
    MapperAndLinks,
}

/// VG and LV of an LVM dm name (`vg-lv`, dashes inside names doubled).
fn vg_lv(name: &str) -> Option<(String, String)> {
    let mut parts = vec![String::new()];
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                chars.next();
                parts.last_mut()?.push('-');
            }
            '-' => parts.push(String::new()),
            c => parts.last_mut()?.push(c),
        }
    }
    match &parts[..] {
        [vg, lv] | [vg, lv, _] if !vg.is_empty() && !lv.is_empty() => Some((vg.clone(), lv.clone())),
        _ => None,
    }
}

fn parse_plan(text: &str) -> Result<Vec<Device>, Error> {
    let mut out: Vec<Device> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |why: String| Error::Plan { line: i + 1, why };
        if line.trim().is_empty() || line.starts_with("# skipped ") {
            continue;
        }
        if let Some(header) = line.strip_prefix("# ") {
            let mut words = header.split_whitespace();
            let name = words.next().ok_or_else(|| bad("header without a name".into()))?;
            let name = DmName::new(name).map_err(|e| bad(e.to_string()))?;
            let (mut uuid, mut read_only, mut dev, mut public) = (None, false, None, false);
            for w in words {
                if let Some(u) = w.strip_prefix("uuid=") {
                    uuid = Some(DmUuid::new(u).map_err(|e| bad(e.to_string()))?);
                } else if let Some(m) = w.strip_prefix("minor=") {
                    let m = m.parse().map_err(|_| bad(format!("minor {m:?} is not a number")))?;
                    dev = Some(DevNum::new(0, m));
                } else if let Some(d) = w.strip_prefix("devnum=") {
                    dev = Some(d.parse().map_err(|e: lvmkit_dm::Error| bad(e.to_string()))?);
                } else if w == "ro" {
                    read_only = true;
                } else if w == "public" {
                    public = true;
                } else if w.starts_with("messages") {
                    return Err(bad(format!("{w:?}: the floor loads tables only")));
                }
            }
            let uuid = uuid.ok_or_else(|| bad(format!("{name}: no uuid=")))?;
            out.push(Device { name, uuid, read_only, dev, table: Table::new(), public });
            continue;
        }
        let dev = out.last_mut().ok_or_else(|| bad("table line before any device header".into()))?;
        let rest = line
            .strip_prefix(dev.name.as_str())
            .and_then(|r| r.strip_prefix(": "))
            .ok_or_else(|| bad(format!("expected \"{}: <table line>\"", dev.name)))?;
        dev.table.lines.push(rest.parse::<TableLine>().map_err(|e| bad(e.to_string()))?);
    }
    Ok(out)
}

fn up(dm: &Dm, plan: &[Device], nodes: Nodes) -> Result<(), Error> {
    let mut nums: HashMap<&str, DevNum> = HashMap::new();
    for d in plan {
        let mut table = d.table.clone();
        table
            .resolve(&mut |label| nums.get(label).copied())
            .map_err(|e| Error::Device { name: d.name.to_string(), why: e.to_string() })?;
        let copts = CreateOptions { dev: d.dev, udev_flags: 0 };
        let info = dm.create(&d.name, Some(&d.uuid), &copts)?;
        let id = DevId::Name(d.name.clone());
        dm.table_load(&id, &table, d.read_only)?;
        dm.resume(&id, 0)?;
        if nodes != Nodes::None {
            control::make_node(Path::new("/dev"), &d.name, info.dev)
                .map_err(|e| Error::Device { name: d.name.to_string(), why: format!("node: {e}") })?;
        }
        if nodes == Nodes::MapperAndLinks && d.public {
            let (vg, lv) = vg_lv(d.name.as_str())
                .ok_or_else(|| Error::Device { name: d.name.to_string(), why: "not vg-lv".into() })?;
            let target = Path::new("/dev/mapper").join(d.name.as_str());
            let link = Path::new("/dev").join(&vg).join(&lv);
            let made = std::os::unix::fs::symlink(&target, &link).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => std::fs::create_dir_all(Path::new("/dev").join(&vg))
                    .and_then(|()| std::os::unix::fs::symlink(&target, &link)),
                _ => Err(e),
            });
            made.map_err(|e| Error::Device { name: d.name.to_string(), why: format!("link: {e}") })?;
        }
        nums.insert(d.name.as_str(), info.dev);
    }
    Ok(())
}

fn down(dm: &Dm, plan: &[Device], nodes: Nodes) -> Result<(), Error> {
    let opts = RemoveOptions { busy_retries: 0, ..Default::default() };
    let mut vgs: Vec<String> = Vec::new();
    for d in plan.iter().rev() {
        dm.remove(&DevId::Name(d.name.clone()), &opts)?;
        if nodes != Nodes::None {
            control::remove_node(Path::new("/dev"), &d.name)
                .map_err(|e| Error::Device { name: d.name.to_string(), why: format!("node: {e}") })?;
        }
        if nodes == Nodes::MapperAndLinks && d.public {
            if let Some((vg, lv)) = vg_lv(d.name.as_str()) {
                let _ = std::fs::remove_file(Path::new("/dev").join(&vg).join(lv));
                if !vgs.contains(&vg) {
                    vgs.push(vg);
                }
            }
        }
    }
    for vg in vgs {
        let _ = std::fs::remove_dir(Path::new("/dev").join(vg));
    }
    Ok(())
}

/// The least a health check can ask: the device list once, then per planned device its state
/// and live table in one call, compared with the plan (references resolved by the listed
/// names). The floor of the kit's quickCheck level 0.
fn check(dm: &Dm, plan: &[Device]) -> Result<(), Error> {
    let listed = dm.list()?;
    let by_name: HashMap<&str, DevNum> = listed.iter().map(|d| (d.name.as_str(), d.dev)).collect();
    for d in plan {
        let fail = |why: String| Error::Device { name: d.name.to_string(), why };
        if !listed.iter().any(|l| l.uuid.as_deref() == Some(d.uuid.as_str())) {
            return Err(fail("missing".into()));
        }
        let (info, live) =
            dm.lookup(&DevId::Uuid(d.uuid.clone()))?.ok_or_else(|| fail("gone while checked".into()))?;
        if info.suspended() {
            return Err(fail("suspended".into()));
        }
        let mut table = d.table.clone();
        table.resolve(&mut |label| by_name.get(label).copied()).map_err(|e| fail(e.to_string()))?;
        if live.as_ref() != Some(&table) {
            return Err(fail(format!("live table {live:?} is not the planned {table}")));
        }
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), Error> {
    let (verb, path, nodes) = match args {
        [v, p] => (v.as_str(), p, Nodes::None),
        [v, p, n] if n == "--nodes" => (v.as_str(), p, Nodes::Mapper),
        [v, p, n] if n == "--links" => (v.as_str(), p, Nodes::MapperAndLinks),
        _ => return Err(Error::Usage),
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Read(path.clone(), e))?;
    let plan = parse_plan(&text)?;
    let dm = Dm::open()?;
    match verb {
        "up" => up(&dm, &plan, nodes),
        "down" => down(&dm, &plan, nodes),
        "check" if nodes == Nodes::None => check(&dm, &plan),
        _ => Err(Error::Usage),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bare_loop: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lvmkit_plan_output() {
        let text = "# vg-pool_tmeta uuid=LVM-abc-tmeta rw\nvg-pool_tmeta: 0 8192 linear 98:16 2048\n\
                    # vg-lv uuid=LVM-abcdef ro public minor=7\nvg-lv: 0 8 linear <vg-pool_tmeta> 0\n\
                    vg-lv: 8 8 zero\n# skipped vg/snap: activation skip flag set\n";
        let plan = parse_plan(text).unwrap();
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[0].name, "vg-pool_tmeta");
        assert!(!plan[0].read_only && plan[1].read_only);
        assert_eq!(plan[1].dev, Some(DevNum::new(0, 7)));
        assert!(!plan[0].public && plan[1].public);
        assert_eq!(vg_lv("vg-lv"), Some(("vg".into(), "lv".into())));
        assert_eq!(vg_lv("my--vg-l--v-real"), Some(("my-vg".into(), "l-v".into())));
        assert_eq!(vg_lv("nodash"), None);
        assert_eq!(plan[1].table.to_string(), "0 8 linear <vg-pool_tmeta> 0\n8 8 zero");
        assert!(!plan[1].table.is_resolved());
        for (bad, why) in [
            ("vg-lv: 0 8 zero\n", "before any device header"),
            ("# vg-lv rw\n", "no uuid="),
            ("# vg-lv uuid=U rw\nother: 0 8 zero\n", "expected \"vg-lv: <table line>\""),
            ("# vg-lv uuid=U rw\nvg-lv: 0 8 linear\n", "line 2"),
            (
                "# vg-pool uuid=U rw messages(at transaction 1)=[create_thin 1]\n",
                "the floor loads tables only",
            ),
        ] {
            let e = parse_plan(bad).err().unwrap().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
