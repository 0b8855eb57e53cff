//! `lvmkit ocf …` and the agent front end: `lvmkit ocf install [--ocf-root DIR]` puts
//! `resource.d/lvmkit/lvmvg` (a symlink to this binary) under the OCF root; invoked as `lvmvg`
//! (argv[0]'s base name) or as `lvmkit ocf agent ACTION`, it runs one agent action from the
//! environment Pacemaker sets (`lvmkit::ocf`), prints meta-data on stdout, notes and
//! `ocf-exit-reason:` on stderr, and exits with the OCF code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use lvmkit::ocf::{self, Action, Agent, OcfError, Paths, Request, Status, Values};

/// `lvmkit ocf`.
#[derive(Subcommand)]
#[command(defer = true)]
pub enum OcfCmd {
    /// Install the agent as OCF_ROOT/resource.d/lvmkit/lvmvg (a symlink to this lvmkit).
    Install {
        /// The OCF root.
        #[arg(long, value_name = "DIR", default_value = "/usr/lib/ocf")]
        ocf_root: PathBuf,
    },
    /// Run one agent action (what `lvmvg ACTION` does).
    Agent {
        /// start, stop, monitor, validate-all, meta-data.
        action: Option<String>,
    },
    /// Print the agent's meta-data.
    MetaData,
}

/// Runs `lvmkit ocf …`.
pub fn run(cmd: OcfCmd) -> ExitCode {
    match cmd {
        OcfCmd::Install { ocf_root } => match install(&ocf_root) {
            Ok(p) => {
                println!("installed {}", p.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lvmkit ocf install: {e}");
                ExitCode::from(1)
            }
        },
        OcfCmd::Agent { action } => agent(action.as_deref()),
        OcfCmd::MetaData => {
            print!("{}", ocf::meta::meta_data());
            ExitCode::SUCCESS
        }
    }
}

/// The symlink `OCF_ROOT/resource.d/lvmkit/lvmvg` → this binary (replaced atomically).
fn install(root: &Path) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let path = ocf::agent_path(root);
    let dir = path.parent().ok_or("bad OCF root")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".{}.{}", ocf::meta::AGENT, std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })?;
    Ok(path)
}

/// `lvmvg` when argv[0]'s base name says so: the action is argv[1] (further arguments are
/// ignored, as OCF asks).
pub fn invoked_as_agent() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let argv0 = args.next()?;
    let base = Path::new(&argv0).file_name()?.to_str()?.to_string();
    (base == ocf::meta::AGENT).then(|| {
        let action = args.next().and_then(|a| a.into_string().ok());
        agent(action.as_deref())
    })
}

fn exit_reason(e: &OcfError) {
    let prefix = std::env::var("OCF_EXIT_REASON_PREFIX").unwrap_or_else(|_| "ocf-exit-reason:".into());
    eprintln!("{prefix}{}", e.reason());
    if !e.cause.is_empty() {
        for l in e.cause.lines() {
            eprintln!("  {l}");
        }
    }
}

fn agent(action: Option<&str>) -> ExitCode {
    let usage = "usage: lvmvg {start|stop|monitor|validate-all|meta-data}";
    let Some(name) = action else {
        eprintln!("{usage}");
        return ExitCode::from(Status::Args.code());
    };
    let Some(action) = Action::parse(name) else {
        eprintln!("{usage}");
        let e = OcfError {
            status: Status::Unimplemented,
            code: "000002",
            message: format!("action {name:?} is not implemented"),
            cause: String::new(),
        };
        exit_reason(&e);
        return ExitCode::from(e.status.code());
    };
    if action == Action::MetaData {
        print!("{}", ocf::meta::meta_data());
        return ExitCode::SUCCESS;
    }
    let env = |k: &str| std::env::var(k).ok();
    let prefix = format!("lvmvg({})", env("OCF_RESOURCE_INSTANCE").unwrap_or_default());
    let fail = |e: OcfError, notes: &[String]| {
        for n in notes {
            eprintln!("{prefix}: {n}");
        }
        exit_reason(&e);
        ExitCode::from(e.status.code())
    };
    let req = match Request::from_env(action, &env) {
        Ok(r) => r,
        Err(e) => return fail(e, &[]),
    };
    let values = match Values::from_env(&env) {
        Ok(v) => v,
        // A stop of a resource that cannot be configured has nothing of ours to stop: success,
        // or the cluster would fence the node for a typo.
        Err(e) if action == Action::Stop => {
            eprintln!("{prefix}: {} (stop: nothing to do)", e.reason());
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(e, &req.notes),
    };
    let mut paths = Paths::default();
    if let Some(d) = env("LVM_SYSTEM_DIR").filter(|d| !d.is_empty()) {
        paths.lvm_system_dir = PathBuf::from(d);
    }
    if let Some(d) = env("LVMKIT_CONTROLLED_VGS").filter(|d| !d.is_empty()) {
        paths.controlled = PathBuf::from(d);
    }
    let dm = lvmkit_dm::control::Dm::open().ok();
    let agent = Agent {
        req,
        values,
        paths,
        membership: &ocf::CrmNode::default(),
        dm: dm.as_ref().map(|d| d as &dyn lvmkit_dm::control::DmControl),
        server: lvmkit::recovery::hostname(),
    };
    let out = agent.run();
    print!("{}", out.out);
    for l in &out.log {
        eprintln!("{prefix}: {l}");
    }
    if let Some(e) = &out.error {
        exit_reason(e);
    }
    ExitCode::from(out.status.code())
}
