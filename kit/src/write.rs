//! Metadata-changing commands: scan, check the VG may be written, edit the model
//! ([`ops`](lvmkit_metadata::write::ops)), commit with lvm2's protocol.
//!
//! Refusals come before any write: a VG with missing PVs, stale or mismatching metadata copies,
//! unusable metadata areas on its PVs, a VG owned by another system ID without a takeover, an
//! exported VG (except for import). `restore-metadata` is the repair and is allowed on an
//! inconsistent VG (its present PVs are written).

use std::fmt;
use std::path::Path;

use lvmkit_metadata::assemble::{AssembledVg, Finding};
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::model::{Metadata, SegmentKind};
use lvmkit_metadata::ring;
use lvmkit_metadata::write::backup::{self, Backups, Committed, FileInfo};
use lvmkit_metadata::write::lock::{LockWait, VgLock, lock_vg};
use lvmkit_metadata::write::lvm1;
use lvmkit_metadata::write::ops::{self, Change, Context};
use lvmkit_metadata::write::{CommitReport, PvTarget, WriteError, open_scanned};

use crate::source::Source;

/// Why a VG cannot be written as it is, one line per problem (empty: consistent).
pub fn inconsistencies(src: &Source, vg: &AssembledVg) -> Vec<String> {
    let name = vg.name();
    let devices: Vec<&str> = vg.pv_devices.iter().flatten().map(|&i| src.scan.pvs[i].name()).collect();
    let mut out = Vec::new();
    for f in &src.assembly.findings {
        let relevant = match f {
            Finding::MissingPv { vg, .. } | Finding::StaleCopy { vg, .. } | Finding::Mismatch { vg, .. } => {
                vg == name
            }
            Finding::Error(e) => devices.iter().any(|d| e.to_string().starts_with(&format!("{d}: "))),
            _ => false,
        };
        if relevant {
            out.push(f.to_string());
        }
    }
    // A PV on two devices is refused by the writer itself (`commit::plan`, lvm2's "Cannot update
    // volume group … with duplicate PV devices"), typed and naming both devices, for every write.
    out
}

/// Write targets for every present PV of `vg`.
pub fn targets(src: &Source, vg: &AssembledVg) -> Result<Vec<PvTarget>, WriteError> {
    vg.pv_devices
        .iter()
        .flatten()
        .map(|&i| Ok(PvTarget::from_scan(&src.scan, i, open_scanned(src.scan.pvs[i].name())?)))
        .collect()
}

fn find_vg<'s>(src: &'s Source, name: &str) -> Result<&'s AssembledVg, WriteError> {
    src.assembly.vg(name).ok_or_else(|| WriteError::Refused {
        vg: name.to_string(),
        why: "not found on the scanned devices".into(),
    })
}

/// What one VG's write did.
#[derive(Debug)]
pub enum Written {
    /// Committed with lvm2's protocol (the archive and backup files as `Committed` says).
    Committed(Committed),
    /// An LVM1 VG's PV structs rewritten in place (export, import).
    Lvm1(lvm1::Lvm1Plan),
    /// `vgcfgrestore`: the file's VG committed as the current metadata.
    Restored {
        /// VG name.
        vg: String,
        /// The commit.
        committed: Committed,
    },
    /// `vgcfgbackup`: the VG's metadata written to a file.
    BackedUp {
        /// VG name.
        vg: String,
        /// The file.
        path: std::path::PathBuf,
        /// Why the VG could not be written as it is ([`inconsistencies`]), backed up anyway.
        warnings: Vec<String>,
    },
}

impl fmt::Display for Written {
    /// As lvm2 words it: `Volume group "VG" written: seqno N, BYTES bytes to DEV mdaN at OFF, …`
    /// with `Archived …`/`Backed up …` lines; `Volume group "VG" successfully exported`;
    /// `Restored volume group VG.`; `Volume group "VG" successfully backed up.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Written::Committed(c) => f.write_str(&describe_committed(c)),
            Written::Lvm1(plan) => f.write_str(&lvm1::describe(plan)),
            Written::Restored { vg, committed } => {
                writeln!(f, "{}  Restored volume group {vg}.", describe_committed(committed))
            }
            Written::BackedUp { vg, warnings, .. } => {
                for why in warnings {
                    writeln!(f, "  WARNING: {why}")?;
                }
                writeln!(f, "  Volume group \"{vg}\" successfully backed up.")
            }
        }
    }
}

/// Several VGs' writes, in order.
#[derive(Debug, Default)]
pub struct Writes(pub Vec<Written>);

impl fmt::Display for Writes {
    /// Each write's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.0 {
            write!(f, "{w}")?;
        }
        Ok(())
    }
}

/// One line per commit.
fn describe(r: &CommitReport) -> String {
    let copies: Vec<String> = r
        .placements
        .iter()
        .map(|p| {
            format!(
                "{} mda{} at {}{}",
                p.device,
                p.mda + 1,
                p.new.offset,
                if p.wrapped { " (wrapped)" } else { "" }
            )
        })
        .collect();
    let warnings: String = r.warnings.iter().map(|w| format!("  {w}\n")).collect();
    format!(
        "{warnings}Volume group \"{}\" written: seqno {}, {} bytes to {}\n",
        r.vg,
        r.seqno,
        r.text_size,
        copies.join(", ")
    )
}

/// Apply `changes` to each named VG (all VGs when `names` is empty) and commit, without
/// backup or archive files (see [`change_vgs_with`]).
pub fn change_vgs(
    src: &Source,
    names: &[String],
    changes: &[Change],
    ctx: &Context,
) -> Result<Writes, WriteError> {
    change_vgs_with(src, names, changes, ctx, &Backups::default())
}

/// [`change_vgs`], archiving each VG's previous metadata before its change and backing up the
/// new metadata after it as `backups` says.
pub fn change_vgs_with(
    src: &Source,
    names: &[String],
    changes: &[Change],
    ctx: &Context,
    backups: &Backups,
) -> Result<Writes, WriteError> {
    let names: Vec<String> = if names.is_empty() {
        src.assembly.vgs.iter().map(|v| v.name().to_string()).collect()
    } else {
        names.to_vec()
    };
    let mut out = Writes::default();
    for n in &names {
        let vg = find_vg(src, n)?;
        let bad = inconsistencies(src, vg);
        if !bad.is_empty() {
            return Err(WriteError::Inconsistent { vg: n.clone(), why: bad.join("; ") });
        }
        let new = ops::apply(&vg.metadata, changes, ctx)?;
        let t = targets(src, vg)?;
        out.0.push(Written::Committed(backup::commit_with_backups(&t, &vg.metadata, &new, backups)?));
    }
    Ok(out)
}

/// `lvmkit vgexport` (`export`) / `vgimport`: an LVM1 VG (some LVM1 PV carries the name) goes
/// through [`lvm1`]'s in-place rewrite of the PV structs (`PV_EXP` / `PV_IMP`, as lvm2 2.02.177
/// did; no backup files: there is no text metadata to archive), every other VG through
/// [`change_vgs_with`] with lvm2's commit protocol. The LVM1 `system_id` uses `ctx.hostname` and
/// `ctx.time` when set, else this host's `uname` node name and the current time.
pub fn export_import(
    src: &Source,
    names: &[String],
    export: bool,
    ctx: &Context,
    backups: &Backups,
) -> Result<Writes, WriteError> {
    let mut out = Writes::default();
    for n in names {
        if lvm1::is_lvm1_vg(&src.scan, n) {
            let here = lvm1::Lvm1Context::this_host();
            let lctx = match (&ctx.hostname, ctx.time) {
                (Some(h), Some(t)) => lvm1::Lvm1Context { hostname: h.clone(), time: t.max(0) as u64 },
                (h, t) => {
                    let here = here?;
                    lvm1::Lvm1Context {
                        hostname: h.clone().unwrap_or(here.hostname),
                        time: t.map_or(here.time, |t| t.max(0) as u64),
                    }
                }
            };
            let change = if export { lvm1::Lvm1Change::Export } else { lvm1::Lvm1Change::Import };
            let plan = lvm1::plan(&src.scan, n, change, &lctx)?;
            lvm1::execute(&plan)?;
            out.0.push(Written::Lvm1(plan));
        } else {
            let change = if export { Change::Export } else { Change::Import };
            out.0.extend(change_vgs_with(src, std::slice::from_ref(n), &[change], ctx, backups)?.0);
        }
    }
    Ok(out)
}

/// [`describe`] plus the backup files written (a failed backup is a warning: the commit stands).
fn describe_committed(c: &Committed) -> String {
    let mut s = describe(&c.report);
    if let Some(a) = &c.archived {
        s.push_str(&format!(
            "  Archived the previous metadata (seqno {}) to {}\n",
            c.report.seqno - 1,
            a.display()
        ));
    }
    match &c.backup {
        Some(Ok(p)) => s.push_str(&format!("  Backed up the new metadata to {}\n", p.display())),
        Some(Err(e)) => {
            s.push_str(&format!("  WARNING: backup of volume group {} metadata failed: {e}\n", c.report.vg))
        }
        None => {}
    }
    s
}

/// Make the copy with `seqno` in `device`'s metadata areas the VG's current metadata again
/// (written with seqno = current + 1 to every present PV of the VG).
pub fn restore_metadata(
    src: &Source,
    device: &Path,
    seqno: u64,
    ctx: &Context,
) -> Result<Written, WriteError> {
    restore_metadata_with(src, device, seqno, ctx, &Backups::default())
}

/// [`restore_metadata`] with backup and archive files.
pub fn restore_metadata_with(
    src: &Source,
    device: &Path,
    seqno: u64,
    ctx: &Context,
    backups: &Backups,
) -> Result<Written, WriteError> {
    let dname = device.display().to_string();
    let pv = src.scan.pvs.iter().find(|p| p.name() == dname).ok_or_else(|| WriteError::Refused {
        vg: "?".into(),
        why: format!("{dname} is not a scanned PV (give it in --devices too)"),
    })?;
    let mut found = None;
    for m in &pv.mdas {
        let Ok(h) = &m.header else { continue };
        let hist = ring::history(pv.device.as_ref(), h)?;
        if let Some(e) = hist.iter().find(|e| e.seqno == seqno && !e.damaged) {
            let text = ring::read_text(
                pv.device.as_ref(),
                h,
                &lvmkit_metadata::raw_locn::RawLocn {
                    offset: e.offset,
                    size: e.size,
                    checksum: e.checksum,
                    flags: 0,
                },
            )?;
            found = Some(parse_metadata(&text)?);
            break;
        }
    }
    let old = found.ok_or_else(|| WriteError::Refused {
        vg: "?".into(),
        why: format!("no intact metadata copy with seqno {seqno} in the metadata areas of {dname}"),
    })?;
    let vg = src.assembly.vgs.iter().find(|v| v.metadata.vg.id == old.vg.id).ok_or_else(|| {
        WriteError::Refused { vg: old.vg.name.clone(), why: "no current copy of this VG found".into() }
    })?;
    let current_ids: Vec<_> = vg.metadata.vg.pvs.iter().map(|p| p.id).collect();
    let old_ids: Vec<_> = old.vg.pvs.iter().map(|p| p.id).collect();
    if current_ids != old_ids {
        return Err(WriteError::Refused {
            vg: old.vg.name.clone(),
            why: format!("the copy with seqno {seqno} lists other PVs than the current metadata"),
        });
    }
    let new = ops::restore(&vg.metadata, &old, ctx)?;
    let t = targets(src, vg)?;
    Ok(Written::Committed(backup::commit_with_backups(&t, &vg.metadata, &new, backups)?))
}

/// The VGs a device belongs to (as a PV of an assembled VG).
pub fn vgs_of_device(src: &Source, device: &Path) -> Vec<String> {
    let dname = device.display().to_string();
    src.assembly
        .vgs
        .iter()
        .filter(|v| v.pv_devices.iter().flatten().any(|&i| src.scan.pvs[i].name() == dname))
        .map(|v| v.name().to_string())
        .collect()
}

/// `lvmkit vgcfgbackup`: write `vg`'s current metadata to `file` (default `<backup dir>/<vg>`)
/// in lvm2's file form. A `%s` in `file` is replaced by the VG name, as lvm2 does.
pub fn vgcfgbackup(
    src: &Source,
    vg: &str,
    file: Option<&Path>,
    backup_dir: &Path,
    info: &FileInfo,
) -> Result<Written, WriteError> {
    let v = find_vg(src, vg)?;
    let path = match file {
        Some(f) => std::path::PathBuf::from(f.to_string_lossy().replace("%s", vg)),
        None => backup_dir.join(vg),
    };
    let warnings = inconsistencies(src, v);
    backup::write_to(&path, &v.metadata, info)?;
    Ok(Written::BackedUp { vg: vg.to_string(), path, warnings })
}

/// `lvmkit vgcfgrestore -f FILE VG`: commit the file's VG as the current metadata with seqno =
/// current + 1, through the commit protocol (archive and backup included).
///
/// Refused (nothing written): the file holds another VG name; another VG id (unless `force`:
/// then the file's id is written, as lvm2 would); PVs other than the VG's current ones, or
/// some of them not present; thin or cache pools (unless `force`, like lvm2, since the pool's
/// own metadata may no longer match); a VG owned by another system ID without a takeover.
/// Allowed on an inconsistent VG (stale copies): this is a repair.
pub fn vgcfgrestore(
    src: &Source,
    vg: &str,
    file: &Path,
    force: bool,
    ctx: &Context,
    backups: &Backups,
) -> Result<Written, WriteError> {
    let fname = file.display().to_string();
    let restored = backup::read_file(file)?;
    let refuse = |why: String| WriteError::Refused { vg: vg.to_string(), why };
    if restored.vg.name != vg {
        return Err(refuse(format!(
            "{fname} does not contain volume group {vg} (it holds {})",
            restored.vg.name
        )));
    }
    let cur = find_vg(src, vg)?;
    ops::check_owner(&cur.metadata, ctx)?;
    if restored.vg.id != cur.metadata.vg.id && !force {
        return Err(refuse(format!(
            "{fname} holds VG id {}, the VG on disk has id {}; use --force to write the file's VG over it",
            restored.vg.id, cur.metadata.vg.id
        )));
    }
    let mut want: Vec<_> = restored.vg.pvs.iter().map(|p| p.id).collect();
    let mut have: Vec<_> = cur.metadata.vg.pvs.iter().map(|p| p.id).collect();
    want.sort();
    have.sort();
    if want != have {
        return Err(refuse(format!("{fname} lists other physical volumes than the VG's current metadata")));
    }
    let missing: Vec<String> = cur
        .metadata
        .vg
        .pvs
        .iter()
        .zip(&cur.pv_devices)
        .filter(|(_, d)| d.is_none())
        .map(|(p, _)| p.id.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!("cannot restore with missing PVs: {}", missing.join(", "))));
    }
    if !force && has_pools(&restored) {
        return Err(refuse(format!(
            "{fname} has thin or cache pools; their own metadata may not match it: use --force to restore anyway"
        )));
    }
    let mut new: Metadata = restored.clone();
    // Device hints: where each PV is now.
    for pv in &mut new.vg.pvs {
        if let Some(c) = cur.metadata.vg.pvs.iter().find(|c| c.id == pv.id) {
            pv.device = c.device.clone();
        }
    }
    new.vg.seqno = cur.metadata.vg.seqno + 1;
    new.header.description = Some(ctx.description.clone());
    new.header.creation_host = ctx.hostname.clone().or(new.header.creation_host);
    new.header.creation_host_system_id = ctx.host_system_id.clone().filter(|s| !s.is_empty());
    new.header.creation_time = ctx.time.or(new.header.creation_time);
    // The commit path requires the same VG identity; with --force the file's id replaces it.
    let mut current: Metadata = (*cur.metadata).clone();
    current.vg.id = new.vg.id;
    let t = targets(src, cur)?;
    let c = backup::commit_with_backups(&t, &current, &new, backups)?;
    Ok(Written::Restored { vg: vg.to_string(), committed: c })
}

fn has_pools(md: &Metadata) -> bool {
    md.vg.lvs.iter().flat_map(|l| &l.segments).any(|s| {
        matches!(
            s.kind,
            SegmentKind::ThinPool { .. } | SegmentKind::CachePool { .. } | SegmentKind::Cache { .. }
        )
    })
}

/// Exclusive lvm2-compatible locks on `vgs` (sorted, each once), in `dir`.
pub fn lock_vgs(dir: &Path, vgs: &[String], wait: LockWait) -> Result<Vec<VgLock>, WriteError> {
    let mut v = vgs.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|n| lock_vg(dir, n, wait).map_err(WriteError::from)).collect()
}

/// Run a write with the VGs it touches locked *before* the scan it is planned from, so two
/// writers serialise on the on-disk state. `known`: the VG names when the command line gives
/// them; otherwise `vgs_of` picks them from a first scan, the locks are taken, and the devices
/// are scanned again (retried when the set changed in between).
pub fn locked<T>(
    lock_dir: &Path,
    wait: LockWait,
    known: Option<&[String]>,
    load: impl Fn() -> Source,
    vgs_of: impl Fn(&Source) -> Vec<String>,
    f: impl FnOnce(&Source) -> Result<T, WriteError>,
) -> Result<T, WriteError> {
    if let Some(names) = known {
        let _locks = lock_vgs(lock_dir, names, wait)?;
        return f(&load());
    }
    let mut want = vgs_of(&load());
    for _ in 0..3 {
        let locks = lock_vgs(lock_dir, &want, wait)?;
        let src = load();
        let now = vgs_of(&src);
        if now.iter().all(|n| want.contains(n)) {
            let r = f(&src);
            drop(locks);
            return r;
        }
        want = now;
    }
    Err(WriteError::Refused {
        vg: want.join(","),
        why: "the set of VGs kept changing while locking them".into(),
    })
}

/// The write context for a command line: host system ID, takeover, description, host, time.
pub fn context(host_system_id: Option<String>, takeover_from: Option<String>, cmdline: &str) -> Context {
    Context {
        host_system_id,
        takeover_from,
        description: format!("Write from {cmdline}."),
        hostname: lvmkit_metadata::host::node_name().ok().map(|s| s.trim().to_string()),
        time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs() as i64),
    }
}
