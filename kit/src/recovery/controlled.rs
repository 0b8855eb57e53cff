//! The controlled-VG list (the seeds' `/etc/lkvgs`): the VGs under kit control, one
//! `VG UUID` line each, kept by create/extend/delete. `boot-activate` (the seeds' boot-time
//! `vgactivate`) activates every VG that is not on it and never one that is.

use std::path::Path;

use lvmkit_activation::PlanOptions;
use lvmkit_activation::apply;
use lvmkit_dm::control::DmControl;
use lvmkit_metadata::write::backup::write_atomic;

use super::Env;
use super::catalog::KitError;

/// Default path.
pub const DEFAULT_PATH: &str = "/etc/lkvgs";

/// One line: VG name and UUID (hyphenated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controlled {
    /// VG name when added.
    pub vg: String,
    /// VG UUID.
    pub uuid: String,
}

fn warn(path: &Path, why: impl std::fmt::Display) -> KitError {
    KitError::new("110007", &[("file", &path.display().to_string()), ("why", &why.to_string())])
}

/// Read the list (a missing file is an empty list). Blank lines and `#` comments are skipped.
pub fn read(path: &Path) -> Result<Vec<Controlled>, KitError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(warn(path, e)),
    };
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let vg = w.next().unwrap_or_default().to_string();
            Controlled { vg, uuid: w.next().unwrap_or_default().to_string() }
        })
        .collect())
}

fn write(path: &Path, list: &[Controlled]) -> Result<(), KitError> {
    let mut s =
        String::from("# VGs under lvmkit kit control (VG UUID); boot-activate never activates these.\n");
    for c in list {
        s.push_str(&format!("{} {}\n", c.vg, c.uuid));
    }
    write_atomic(path, s.as_bytes(), true).map_err(|e| warn(path, e))
}

/// Put a VG on the list (kept when its UUID is there; its name is updated).
pub fn add(path: &Path, vg: &str, uuid: &str) -> Result<(), KitError> {
    let mut l = read(path)?;
    match l.iter_mut().find(|c| c.uuid == uuid) {
        Some(c) if c.vg == vg => return Ok(()),
        Some(c) => c.vg = vg.to_string(),
        None => l.push(Controlled { vg: vg.to_string(), uuid: uuid.to_string() }),
    }
    write(path, &l)
}

/// Take a VG off the list.
pub fn remove(path: &Path, uuid: &str) -> Result<(), KitError> {
    let mut l = read(path)?;
    let n = l.len();
    l.retain(|c| c.uuid != uuid);
    if l.len() == n { Ok(()) } else { write(path, &l) }
}

/// Whether a VG (by UUID, or by name for a line without one) is on the list.
pub fn contains(list: &[Controlled], vg: &str, uuid: &str) -> bool {
    list.iter().any(|c| c.uuid == uuid || (c.uuid.is_empty() && c.vg == vg))
}

/// What boot-activate did with one VG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootOutcome {
    /// Activated: the number of devices live.
    Activated(usize),
    /// On the controlled list: left alone.
    Controlled,
    /// Its autoactivation is off (`setautoactivation n`).
    AutoactivationOff,
    /// Not activatable here (foreign, exported, missing PVs, …): why.
    Skipped(String),
    /// Activation failed.
    Failed(String),
}

/// `boot-activate`: every VG found that is not on the controlled list, like `vgchange -aay`:
/// VGs and LVs whose autoactivation is off are skipped, as are foreign and exported VGs.
pub fn boot_activate(env: &Env, dm: &dyn DmControl) -> Result<Vec<(String, BootOutcome)>, KitError> {
    let list = read(&env.controlled).map_err(|e| {
        // Without the list nothing may be activated: every VG could be controlled.
        KitError { code: "110007", message: e.message.clone(), cause: e.cause }
    })?;
    let src = env.load(&[]);
    let mut out = Vec::new();
    for vg in &src.assembly.vgs {
        let md = &vg.metadata.vg;
        let name = md.name.clone();
        if contains(&list, &name, &md.id.to_string()) {
            out.push((name, BootOutcome::Controlled));
            continue;
        }
        if md.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")) {
            out.push((name, BootOutcome::AutoactivationOff));
            continue;
        }
        let lvs: Vec<String> = md
            .lvs
            .iter()
            .filter(|l| l.is_visible() && !l.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")))
            .map(|l| l.name.clone())
            .collect();
        if lvs.is_empty() {
            out.push((name, BootOutcome::Skipped("no LV to autoactivate".into())));
            continue;
        }
        let opts =
            PlanOptions { lvs: Some(lvs), host_system_id: env.host_system_id.clone(), ..Default::default() };
        let mut not_block = None;
        let resolve = &env.resolve;
        let plan = lvmkit_activation::plan_assembled(
            vg,
            |i| {
                let d = &src.scan.pvs[i].device;
                let n = resolve(d.name(), d.dev_t());
                if n.is_none() {
                    not_block.get_or_insert_with(|| d.name().to_string());
                }
                n.map(lvmkit_dm::DevRef::Num)
            },
            &opts,
        );
        let plan = match (plan, not_block) {
            (_, Some(d)) => {
                out.push((name, BootOutcome::Skipped(format!("PV {d} is not a block device"))));
                continue;
            }
            (Err(e), None) => {
                out.push((name, BootOutcome::Skipped(e.to_string())));
                continue;
            }
            (Ok(p), None) => p,
        };
        match apply::activate(dm, &plan, &env.apply) {
            Ok(a) => out.push((name, BootOutcome::Activated(a.devices.len()))),
            Err(e) => out.push((name, BootOutcome::Failed(e.to_string()))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_and_read_back() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("etc/lkvgs");
        assert!(read(&p).unwrap().is_empty());
        add(&p, "vg1", "u1").unwrap();
        add(&p, "vg2", "u2").unwrap();
        add(&p, "vg1", "u1").unwrap();
        add(&p, "vg1new", "u1").unwrap();
        let l = read(&p).unwrap();
        assert_eq!(
            l,
            vec![
                Controlled { vg: "vg1new".into(), uuid: "u1".into() },
                Controlled { vg: "vg2".into(), uuid: "u2".into() }
            ]
        );
        assert!(contains(&l, "other", "u2"));
        assert!(!contains(&l, "vg2", "u3"), "by UUID when the line has one");
        remove(&p, "u1").unwrap();
        assert_eq!(read(&p).unwrap().len(), 1);
        std::fs::write(&p, "# comment\nvgx   ux  # trailing\n\nvgy\n").unwrap();
        let l = read(&p).unwrap();
        assert_eq!(l[0], Controlled { vg: "vgx".into(), uuid: "ux".into() });
        assert!(contains(&l, "vgy", "anything"), "a line without UUID matches by name");
    }

    #[test]
    fn an_unwritable_list_is_the_110007_warning() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("file");
        std::fs::write(&file, "").unwrap();
        // A path under a regular file cannot be created.
        let e = add(&file.join("lkvgs"), "vg", "u").unwrap_err();
        assert_eq!(e.code, "110007");
        assert!(e.entry().unwrap().warning);
    }
}
