//! Inspection beyond lvm2's reports: the current metadata text (`dump`), every copy still in a
//! PV's ring buffer (`history`, like `pvck --dump metadata_all`), and a consistency check
//! (`check`, like pvck + vgck) whose exit status says whether anything is wrong.

use std::fmt::Write as _;
use std::path::Path;

use lvmkit_metadata::Error;
use lvmkit_metadata::device::{self, Device};
use lvmkit_metadata::export::export_file_tree;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::label::LabelNote;
use lvmkit_metadata::mda_header::MdaHeader;
use lvmkit_metadata::ring::{self, HistoryEntry};
use lvmkit_metadata::scan::{ScanOptions, open_with_partitions, scan_devices};
use lvmkit_metadata::text::write_file;

use crate::source::Source;

/// Errors of the inspection commands.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The VG is not on any scanned device.
    #[error("volume group \"{0}\" not found")]
    VgNotFound(String),
    /// The device carries no LVM2 label.
    #[error("{0}: no LVM2 label found in sectors 0-3")]
    NotAPv(String),
    /// No copy with that seqno in the ring.
    #[error("{device}: no metadata copy with seqno {seqno} in any metadata area")]
    NoSuchCopy {
        /// Device.
        device: String,
        /// Requested seqno.
        seqno: u64,
    },
    /// The engine failed.
    #[error(transparent)]
    Metadata(#[from] Error),
}

/// How `dump` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpForm {
    /// The committed text exactly as stored (without the NUL).
    Raw,
    /// Re-exported in lvm2's backup-file form (what `vgcfgbackup` writes), from the model.
    Backup,
}

/// The current metadata of `vg`.
pub fn dump(src: &Source, vg: &str, form: DumpForm) -> Result<String, InspectError> {
    let avg = src.assembly.vg(vg).ok_or_else(|| InspectError::VgNotFound(vg.to_string()))?;
    Ok(match form {
        DumpForm::Raw => {
            let t = avg.text.strip_suffix(&[0]).unwrap_or(&avg.text);
            String::from_utf8_lossy(t).into_owned()
        }
        DumpForm::Backup => write_file(&export_file_tree(&avg.metadata)),
    })
}

/// One metadata area's copies.
pub struct MdaHistory {
    /// 1-based mda number.
    pub mda: usize,
    /// The header, or why it is unusable.
    pub header: Result<MdaHeader, Error>,
    /// Copies found.
    pub entries: Vec<HistoryEntry>,
    /// The area is flagged ignored (`RAW_LOCN_IGNORED`): lvm2 neither reads nor updates it, so
    /// the copy its committed slot points at is whatever was current when it was ignored.
    pub ignored: bool,
    /// Where the PV stands among the devices given as context.
    pub pv: PvStanding,
}

/// A PV among the devices given as context (what lvm2's scan would make of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PvStanding {
    /// In VG `vg`, whose current metadata has `seqno`.
    InVg {
        /// VG name.
        vg: String,
        /// The VG's current seqno.
        seqno: u64,
    },
    /// No VG lists it (a fresh PV, or an outdated one its VG dropped while it was away).
    Orphan,
    /// Not among the context's PVs.
    Unknown,
}

impl MdaHistory {
    /// What a copy is: `committed` only when the header's committed slot points at it and it is
    /// the PV's VG's current metadata; a copy the slot points at that lvm2 does not use (ignored
    /// area, orphan PV, older than the VG) is old, with the reason.
    pub fn state(&self, e: &HistoryEntry) -> String {
        if e.committed {
            if self.ignored {
                return "old (ignored mda: the slot still points here; lvm2 neither reads nor updates it)"
                    .into();
            }
            match &self.pv {
                PvStanding::Orphan => {
                    return "old (orphan PV: no VG lists it; the slot still points here)".into();
                }
                PvStanding::InVg { vg, seqno } if *seqno > e.seqno => {
                    return format!("old (stale: VG {vg} is at seqno {seqno}; the slot still points here)");
                }
                _ => return "committed".into(),
            }
        }
        match (e.precommitted, e.damaged) {
            (true, _) => "precommitted",
            (_, true) => "damaged",
            _ => "old",
        }
        .into()
    }
}

/// Every metadata copy on `path` (a device or image; an image with partitions: each partition),
/// judged against the PVs and VGs of `context` (the devices lvm2 would scan; `path` itself at
/// least).
pub fn history(path: &Path, context: &Source) -> Result<Vec<(String, Vec<MdaHistory>)>, InspectError> {
    let devs = open_with_partitions(path, &ScanOptions::default())?;
    let scan = scan_devices(devs);
    if scan.pvs.is_empty() {
        if let Some(e) = scan.errors.into_iter().next() {
            return Err(e.into());
        }
        return Err(InspectError::NotAPv(path.display().to_string()));
    }
    let mut out = Vec::new();
    for pv in &scan.pvs {
        let standing = match context.scan.pvs.iter().position(|c| c.name() == pv.name()) {
            None => PvStanding::Unknown,
            Some(j) if context.assembly.orphans.contains(&j) => PvStanding::Orphan,
            Some(j) => context.assembly.vgs.iter().find(|v| v.pv_devices.contains(&Some(j))).map_or(
                PvStanding::Unknown,
                |v| PvStanding::InVg { vg: v.name().to_string(), seqno: v.metadata.vg.seqno },
            ),
        };
        let mut mdas = Vec::new();
        for m in &pv.mdas {
            let entries = match &m.header {
                Ok(h) => ring::history(pv.device.as_ref(), h).map_err(|e| e.on_device(pv.name()))?,
                Err(_) => vec![],
            };
            mdas.push(MdaHistory {
                mda: m.index + 1,
                header: m.header.clone(),
                entries,
                ignored: m.ignored(),
                pv: standing.clone(),
            });
        }
        let name = if pv.lvm1.is_some() { format!("{} (LVM1 PV)", pv.name()) } else { pv.name().to_string() };
        out.push((name, mdas));
    }
    Ok(out)
}

/// `history` as text: one line per copy, in `pvck --dump metadata_all`'s wording, plus its state
/// ([`MdaHistory::state`]). lvm2's pvck prints nothing for an ignored area or an orphan PV; we
/// show those copies too, as old.
pub fn format_history(h: &[(String, Vec<MdaHistory>)]) -> String {
    let mut s = String::new();
    for (dev, mdas) in h {
        if mdas.is_empty() {
            let _ = writeln!(s, "{dev}: no metadata areas");
        }
        for m in mdas {
            match &m.header {
                Ok(hdr) => {
                    let _ = writeln!(s, "{dev}: mda{} at {} size {}", m.mda, hdr.start, hdr.size);
                }
                Err(e) => {
                    let _ = writeln!(s, "{dev}: mda{}: {e}", m.mda);
                    continue;
                }
            }
            for e in &m.entries {
                let state = m.state(e);
                let _ = writeln!(
                    s,
                    "  metadata at {} length {} crc {:08x} vg {} seqno {}{} {state}",
                    e.abs_offset,
                    e.size,
                    e.checksum,
                    e.vg_name,
                    e.seqno,
                    if e.wrapped { " wrapped" } else { "" },
                );
            }
        }
    }
    s
}

/// The text of the copy with `seqno` on `path` (first mda that has it), without its NUL.
pub fn history_text(path: &Path, seqno: u64) -> Result<String, InspectError> {
    let devs = open_with_partitions(path, &ScanOptions::default())?;
    for dev in &devs {
        let scan = scan_devices(vec![dev.clone()]);
        for pv in &scan.pvs {
            for m in &pv.mdas {
                let Ok(h) = &m.header else { continue };
                for e in ring::history(pv.device.as_ref(), h)? {
                    if e.seqno == seqno {
                        return Ok(copy_text(pv.device.as_ref(), h, &e)?);
                    }
                }
            }
        }
    }
    Err(InspectError::NoSuchCopy { device: path.display().to_string(), seqno })
}

fn copy_text(dev: &dyn Device, h: &MdaHeader, e: &HistoryEntry) -> Result<String, Error> {
    let ring_len = h.size - 512;
    let rel = e.offset - 512;
    let first = e.size.min(ring_len - rel);
    let mut t = device::read(dev, "metadata copy", e.abs_offset, first)?.into_owned();
    if e.size > first {
        t.extend_from_slice(&device::read(dev, "wrapped metadata copy", h.start + 512, e.size - first)?);
    }
    while t.last() == Some(&0) {
        t.pop();
    }
    Ok(String::from_utf8_lossy(&t).into_owned())
}

/// What [`check`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// One line per problem (`error: …` / `warning: …`).
    pub problems: Vec<String>,
    /// One line per device passed over as a component of another (`info: DEVICE: not used:
    /// WHY`): not a problem.
    pub components: Vec<String>,
    /// Devices scanned.
    pub devices_scanned: usize,
    /// PVs found.
    pub pvs: usize,
    /// VGs assembled.
    pub vgs: usize,
}

impl Checked {
    /// Nothing found.
    pub fn clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl std::fmt::Display for Checked {
    /// The problems, one per line, then `N devices scanned, N PVs, N VGs: clean|problems found`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in self.problems.iter().chain(&self.components) {
            writeln!(f, "{l}")?;
        }
        writeln!(
            f,
            "{} devices scanned, {} PVs, {} VGs: {}",
            self.devices_scanned,
            self.pvs,
            self.vgs,
            if self.clean() { "clean" } else { "problems found" }
        )
    }
}

/// Everything wrong with the scanned devices and VGs (like pvck + vgck).
pub fn check(src: &Source) -> Checked {
    let mut lines = Vec::new();
    for e in &src.scan.errors {
        lines.push(format!("error: {e}"));
    }
    let note_line = |dev: &str, n: &LabelNote| match n {
        LabelNote::LenientAccept { sector, why } => {
            format!("warning: {dev}: label in sector {sector}: {why}")
        }
        LabelNote::Skipped(e) => format!("error: {dev}: label skipped: {e}"),
        LabelNote::Additional { sector } => {
            format!("warning: {dev}: ignoring additional label in sector {sector}")
        }
    };
    for (dev, n) in &src.scan.notes {
        lines.push(note_line(dev, n));
    }
    for pv in &src.scan.pvs {
        for n in &pv.label_notes {
            lines.push(note_line(pv.name(), n));
        }
    }
    for f in &src.assembly.findings {
        lines.push(format!("error: {f}"));
    }
    // Every VG's winning text must survive a rewrite unchanged (what we would write is what we read).
    for vg in &src.assembly.vgs {
        let again = write_file(&export_file_tree(&vg.metadata));
        match parse_metadata(again.as_bytes()) {
            Ok(m) if m == *vg.metadata => {}
            Ok(_) => {
                lines.push(format!("error: VG {}: metadata does not survive a rewrite unchanged", vg.name()))
            }
            Err(e) => lines.push(format!("error: VG {}: rewritten metadata does not parse: {e}", vg.name())),
        }
    }
    Checked {
        problems: lines,
        // Components (multipath paths, md members, LVs) are not problems: listed, not counted.
        components: src
            .scan
            .components
            .iter()
            .map(|c| format!("info: {}: not used: {}", c.device, c.why))
            .collect(),
        devices_scanned: src.scan.devices_scanned,
        pvs: src.scan.pvs.len(),
        vgs: src.assembly.vgs.len(),
    }
}
