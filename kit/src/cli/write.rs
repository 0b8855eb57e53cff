//! The metadata-changing commands (vgchange, lvchange, vgexport, vgimport, restore-metadata,
//! vgcfgbackup, vgcfgrestore): lock, scan, call `lvmkit::write`, print what was written.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;

use lvmkit::source::{Source, split_devices};
use lvmkit::write::{self, Writes};
use lvmkit_metadata::write::WriteError;
use lvmkit_metadata::write::ops::Change;

use super::args::{TagArgs, WriteArgs, YesNo, file_info, write_context};
use super::{Outcome, targets};

/// Which VGs a write touches, for locking before the scan.
enum Touches {
    /// Named on the command line.
    Named(Vec<String>),
    /// Every VG found.
    All,
    /// The VGs of a device.
    DeviceVgs(PathBuf),
}

/// Lock the VGs a write touches, scan, run `f`, print what it wrote.
fn run_write<T: Display>(
    w: &WriteArgs,
    extra: &[PathBuf],
    touches: Touches,
    f: impl FnOnce(
        &Source,
        &lvmkit_metadata::write::ops::Context,
        &lvmkit_metadata::write::backup::Backups,
    ) -> Result<T, lvmkit_metadata::write::WriteError>,
) -> Outcome {
    let ctx = write_context(w)?;
    let backups = w.backups(&ctx);
    let wait = w.lock_wait()?;
    let mut devices = split_devices(&w.dev.devices);
    for e in extra {
        if !devices.is_empty() && !devices.contains(e) {
            devices.push(e.clone());
        }
    }
    let load = || Source::load(&devices, w.dev.scan_lvs);
    let (known, dev) = match &touches {
        Touches::Named(n) => (Some(n.as_slice()), None),
        Touches::All => (None, None),
        Touches::DeviceVgs(d) => (None, Some(d.as_path())),
    };
    let vgs_of = |src: &Source| match dev {
        Some(d) => lvmkit::write::vgs_of_device(src, d),
        None => src.assembly.vgs.iter().map(|v| v.name().to_string()).collect(),
    };
    lvmkit::write::locked(&w.lock_dir(), wait, known, load, vgs_of, |src| f(src, &ctx, &backups))
        .map(|written| (written.to_string(), ExitCode::SUCCESS))
        .map_err(|e| e.to_string())
}

fn touches(names: &[String]) -> Touches {
    if names.is_empty() { Touches::All } else { Touches::Named(names.to_vec()) }
}

/// `lvmkit vgchange`.
pub(super) fn vgchange(
    w: WriteArgs,
    tags: TagArgs,
    systemid: Option<String>,
    setautoactivation: Option<YesNo>,
    names: Vec<String>,
) -> Outcome {
    let mut changes: Vec<Change> = tags.addtag.into_iter().map(Change::AddVgTag).collect();
    changes.extend(tags.deltag.into_iter().map(Change::DelVgTag));
    if let Some(id) = systemid {
        changes.push(Change::SetSystemId(Some(id)));
    }
    if let Some(a) = setautoactivation {
        changes.push(Change::SetAutoactivation(matches!(a, YesNo::Y)));
    }
    if changes.is_empty() {
        return Err(
            "vgchange: nothing to change (--addtag, --deltag, --systemid, --setautoactivation)".into()
        );
    }
    run_write(&w, &[], touches(&names), |src, ctx, b| write::change_vgs_with(src, &names, &changes, ctx, b))
}

/// `lvmkit lvchange`: tags of `VG/LV`s.
pub(super) fn lvchange(w: WriteArgs, tags: TagArgs, names: Vec<String>) -> Outcome {
    let targets = targets(&names)?;
    run_write(&w, &[], Touches::Named(lvmkit::target::vg_names(&targets)), |src, ctx, b| {
        let mut out = Writes::default();
        for (n, t) in names.iter().zip(&targets) {
            let (vg, Some(lv)) = (&t.vg, &t.lv) else {
                return Err(WriteError::Refused { vg: n.clone(), why: "expected VG/LV".into() });
            };
            let mut changes: Vec<Change> =
                tags.addtag.iter().map(|t| Change::AddLvTag { lv: lv.to_string(), tag: t.clone() }).collect();
            changes
                .extend(tags.deltag.iter().map(|t| Change::DelLvTag { lv: lv.to_string(), tag: t.clone() }));
            out.0.extend(write::change_vgs_with(src, std::slice::from_ref(vg), &changes, ctx, b)?.0);
        }
        Ok(out)
    })
}

/// `lvmkit vgexport` (`export`) / `vgimport`.
pub(super) fn export_import(w: WriteArgs, names: Vec<String>, export: bool) -> Outcome {
    run_write(&w, &[], touches(&names), |src, ctx, b| write::export_import(src, &names, export, ctx, b))
}

/// `lvmkit restore-metadata`.
pub(super) fn restore_metadata(w: WriteArgs, seqno: u64, device: PathBuf) -> Outcome {
    run_write(&w, std::slice::from_ref(&device), Touches::DeviceVgs(device.clone()), |src, ctx, b| {
        write::restore_metadata_with(src, &device, seqno, ctx, b)
    })
}

/// `lvmkit vgcfgbackup`.
pub(super) fn vgcfgbackup(w: WriteArgs, file: Option<PathBuf>, vg: String) -> Outcome {
    let dir = w.backup_dir();
    run_write(&w, &[], Touches::Named(vec![vg.clone()]), |src, ctx, _| {
        write::vgcfgbackup(src, &vg, file.as_deref(), &dir, &file_info(ctx))
    })
}

/// `lvmkit vgcfgrestore`.
pub(super) fn vgcfgrestore(w: WriteArgs, file: PathBuf, force: bool, vg: String) -> Outcome {
    run_write(&w, &[], Touches::Named(vec![vg.clone()]), |src, ctx, b| {
        write::vgcfgrestore(src, &vg, &file, force, ctx, b)
    })
}
