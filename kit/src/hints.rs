//! Where each VG's PVs were last seen, so that activation on a node with many disks reads only
//! the VG's own PVs instead of every device (lvm2's `/run/lvm/hints` idea; in a failover
//! cluster the VG usually sits among dozens of other LUNs).
//!
//! The file (default [`DEFAULT_PATH`], on tmpfs: gone at reboot) is written after every full
//! scan the activation commands make: a fingerprint of `/proc/partitions`, then one
//! `VG_NAME VG_ID DEVICE…` line per VG that was complete and had no duplicate PV. It is only
//! a hint, never trusted: it is ignored when `/proc/partitions` changed since (a disk came or
//! went), and a scan of the hinted devices is used only if every wanted VG assembles from them
//! with all its PVs present; otherwise the command falls back to a full scan (and rewrites
//! the hints).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::source::Source;

/// Default location (tmpfs, like lvm2's hints).
pub const DEFAULT_PATH: &str = "/run/lvmkit/hints";

const MAGIC: &str = "lvmkit-hints 1";

/// FNV-1a of `/proc/partitions` without device-mapper's own devices: the set of disks and
/// partitions and their sizes. (Activating or deactivating adds or removes `dm-N` lines; they
/// must not make the hints stale, or the next command would scan everything again.)
pub fn partitions_fingerprint() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/partitions").ok()?;
    let dm_major = std::fs::read_to_string("/proc/devices").ok().and_then(|d| {
        d.lines().find_map(|l| l.trim().strip_suffix(" device-mapper").map(|m| m.trim().to_string()))
    });
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for line in text.lines() {
        let major = line.split_whitespace().next();
        if major.is_some() && major == dm_major.as_deref() {
            continue;
        }
        for &b in line.as_bytes().iter().chain(b"\n") {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    Some(h)
}

/// The hinted devices of every VG in `vgs`, or `None` when the hints are missing, stale, or
/// do not know one of them.
pub fn devices_for(path: &Path, vgs: &[String]) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let fingerprint: u64 = lines.next()?.strip_prefix("partitions ")?.parse().ok()?;
    if Some(fingerprint) != partitions_fingerprint() {
        return None;
    }
    let known: HashMap<&str, Vec<&str>> = lines
        .filter_map(|l| {
            let mut f = l.split(' ');
            let vg = f.next()?;
            let _id = f.next()?;
            Some((vg, f.collect()))
        })
        .collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for vg in vgs {
        for d in known.get(vg.as_str())? {
            let p = PathBuf::from(d);
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Records where `src` (a full scan) found each VG's PVs. Best effort: a node without a
/// writable `/run` just scans every time.
pub fn write(path: &Path, src: &Source) {
    let Some(fingerprint) = partitions_fingerprint() else { return };
    let mut text = format!("{MAGIC}\npartitions {fingerprint}\n");
    for vg in &src.assembly.vgs {
        if vg.is_partial() {
            continue;
        }
        let devices: Vec<&str> = vg.pv_devices.iter().flatten().map(|&i| src.scan.pvs[i].name()).collect();
        // A PV seen on two paths (multipath without a filter) needs the full scan's verdict.
        let duplicate = vg.pv_devices.iter().flatten().any(|&i| {
            let id = &src.scan.pvs[i].label.pv_header.pv_uuid;
            src.scan.pvs.iter().filter(|p| &p.label.pv_header.pv_uuid == id).count() > 1
        });
        if duplicate || devices.iter().any(|d| d.contains(' ') || d.contains('\n')) {
            continue;
        }
        text.push_str(&format!("{} {} {}\n", vg.name(), vg.metadata.vg.id.as_str(), devices.join(" ")));
    }
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Whole file or nothing: write aside, then rename over.
    let tmp = dir.join(format!(".hints.{}", std::process::id()));
    let ok = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(text.as_bytes())).is_ok();
    if !ok || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A source for a command about `vgs` only: the hinted devices when the hints are fresh and
/// every VG in `vgs` assembles complete from them, otherwise a full scan (which refreshes the
/// hints). Returns whether the hints were used.
pub fn load(path: &Path, vgs: &[String], scan_lvs: bool) -> (Source, bool) {
    if let Some(devices) = devices_for(path, vgs) {
        let src = Source::load(&devices, scan_lvs);
        if vgs.iter().all(|v| src.assembly.vg(v).is_some_and(|a| !a.is_partial())) {
            return (src, true);
        }
    }
    let src = Source::load(&[], scan_lvs);
    write(path, &src);
    (src, false)
}
