//! lvm2's `vg_write` → `vg_commit`, as an explicit list of writes.
//!
//! [`plan`] does every check and computes every byte before anything is written:
//! seqno = current + 1, the text serialised once (raw form + NUL), parsed back and re-serialised
//! as a sanity check, its CRC; for every in-use mda of every PV, the header re-read from the
//! device (it must still be what the scan saw), the new location after the committed copy
//! (512-aligned, wrapping; spec §3.4) and the size rule. The result is a [`CommitPlan`] whose
//! `steps` are, in order:
//!
//! 1. PV labels that need it (extension version < 2 or `PV_EXT_USED` missing), one sector each;
//! 2. the text into every in-use mda (zero-padded to 512 bytes; two pieces when it wraps);
//! 3. the **precommit** header of every mda (slot 1 = the new text, slot 0 unchanged);
//! 4. the **commit** header of every mda (slot 0 = the new text, slot 1 zeroed).
//!
//! [`execute`] runs them in that order, phase by phase, with a durability barrier
//! ([`WriteDevice::sync`] on every device, all devices done) between phases; within a phase the
//! devices are written concurrently. A cut anywhere leaves every mda header either old (slot 0
//! on the old text, which the two-copies-fit rule keeps intact) or new, so every reader finds
//! the old or the new seqno.
//!
//! Ignored mdas (`RAW_LOCN_IGNORED` in slot 0) are not written at all. Checked against lvm2
//! 2.03.16: `vgchange --addtag` on the `ignored-mda` case changed sectors of the in-use mda only;
//! the ignored mda's header and text stayed byte-identical (lvm2 writes only
//! `metadata_areas_in_use`; "ignored ones first" in `_vg_commit_mdas` concerns mdas being
//! switched to ignored in that transaction, which lvmkit never does).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use crate::crc::lvm_crc;
use crate::device;
use crate::error::Error;
use crate::export::export_raw_tree;
use crate::import::parse_metadata;
use crate::label::{Label, encode_label};
use crate::mda_header::{MDA_HEADER_SIZE, MdaHeader};
use crate::model::Metadata;
use crate::pv_header::{PV_EXT_USED, PV_HEADER_EXTENSION_VSN, PvHeaderExtension};
use crate::raw_locn::RawLocn;
use crate::scan::Scan;
use crate::text::write_raw;

use super::WriteError;
use super::device::WriteDevice;

/// One PV of the VG being written: where to write and what the scan saw there.
pub struct PvTarget {
    /// The device, opened for writing.
    pub device: Arc<dyn WriteDevice>,
    /// The label as scanned.
    pub label: Label,
    /// Each mda's header as scanned (label order); `Err` when it was unusable.
    pub mdas: Vec<Result<MdaHeader, Error>>,
    /// The device is an LVM1 PV (its label was synthesised from `pv_disk`): never written.
    pub format1: bool,
    /// Other scanned devices carrying this PV's UUID (unresolved duplicates): while there are
    /// any, [`plan`] refuses the VG, as lvm2's `vg_write` does.
    pub duplicates: Vec<String>,
    /// What each mda's committed slot held at scan time (label order): `None` for no text,
    /// the seqno of a good copy, or why it was unusable. A write over an older or unusable
    /// copy repairs it, and says so ([`CommitPlan::warnings`]).
    pub held: Vec<Option<Result<u64, String>>>,
}

impl PvTarget {
    /// PV `index` of `scan`, and the same device opened for writing. Every other device of
    /// the scan with the same PV UUID is recorded as a duplicate.
    pub fn from_scan(scan: &Scan, index: usize, device: Arc<dyn WriteDevice>) -> PvTarget {
        let pv = &scan.pvs[index];
        let id = pv.label.pv_header.pv_uuid;
        let duplicates = scan
            .pvs
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != index && o.label.pv_header.pv_uuid == id)
            .map(|(_, o)| o.name().to_string())
            .collect();
        PvTarget {
            device,
            label: pv.label.clone(),
            mdas: pv.mdas.iter().map(|m| m.header.clone()).collect(),
            format1: pv.lvm1.is_some(),
            duplicates,
            held: pv
                .mdas
                .iter()
                .map(|m| {
                    m.committed.as_ref().map(|c| match c {
                        Ok(c) => Ok(c.metadata.vg.seqno),
                        Err(e) => Err(e.kind().to_string()),
                    })
                })
                .collect(),
        }
    }
}

/// What a step writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// The label sector (pv_header extension updated).
    Label,
    /// Metadata text; piece 0, or piece 1 of a wrapped copy (at ring offset 512).
    Text {
        /// 0 or 1.
        piece: u8,
    },
    /// mda header with slot 1 set.
    Precommit,
    /// mda header with slot 0 set and slot 1 zeroed.
    Commit,
}

impl StepKind {
    /// Human name for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            StepKind::Label => "label",
            StepKind::Text { piece: 0 } => "metadata text",
            StepKind::Text { .. } => "wrapped metadata text",
            StepKind::Precommit => "precommit header",
            StepKind::Commit => "commit header",
        }
    }
}

/// One write of the plan.
#[derive(Clone, Debug)]
pub struct WriteStep {
    /// Index into the targets.
    pub pv: usize,
    /// Mda index (label order) for text and header steps.
    pub mda: Option<usize>,
    /// What it is.
    pub kind: StepKind,
    /// Absolute byte offset on the PV's device.
    pub at: u64,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Where the new copy goes in one mda.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdaPlacement {
    /// Device name.
    pub device: String,
    /// Target index.
    pub pv: usize,
    /// Mda index.
    pub mda: usize,
    /// Absolute start of the mda.
    pub mda_start: u64,
    /// The header as re-read before writing.
    pub old: MdaHeader,
    /// The new slot.
    pub new: RawLocn,
    /// The new copy wraps to the start of the ring.
    pub wrapped: bool,
}

/// Everything [`execute`] will write, computed and checked.
#[derive(Clone, Debug)]
pub struct CommitPlan {
    /// VG name.
    pub vg: String,
    /// The new seqno.
    pub seqno: u64,
    /// The text, NUL included.
    pub text: Vec<u8>,
    /// Its CRC.
    pub checksum: u32,
    /// One per in-use mda.
    pub placements: Vec<MdaPlacement>,
    /// Ignored mdas left alone: (device, mda index).
    pub ignored: Vec<(String, usize)>,
    /// Devices whose label is rewritten.
    pub labels: Vec<String>,
    /// The writes, in order.
    pub steps: Vec<WriteStep>,
    /// What the write repairs on the way, in lvm2's words ("WARNING: Updating old metadata to
    /// N on DEV for VG V."): mdas whose copy was older than the VG's or unusable.
    pub warnings: Vec<String>,
}

/// What a finished commit did.
#[derive(Clone, Debug)]
pub struct CommitReport {
    /// VG name.
    pub vg: String,
    /// The new seqno.
    pub seqno: u64,
    /// Text bytes, NUL included.
    pub text_size: u64,
    /// Text CRC.
    pub checksum: u32,
    /// Where each copy went.
    pub placements: Vec<MdaPlacement>,
    /// Ignored mdas left alone.
    pub ignored: Vec<(String, usize)>,
    /// Labels rewritten.
    pub labels: Vec<String>,
    /// Writes done.
    pub steps: usize,
    /// The plan's warnings (repairs done on the way).
    pub warnings: Vec<String>,
}

/// Largest text (NUL included) one copy may have in an mda of `size` bytes: two copies must
/// always fit the ring.
pub fn max_text_size(size: u64) -> u64 {
    (size.saturating_sub(MDA_HEADER_SIZE) / 2).saturating_sub(MDA_HEADER_SIZE)
}

/// The ring offset of the next copy after `h`'s committed one (lvm2's `_next_rlocn_offset`).
pub fn next_offset(h: &MdaHeader) -> u64 {
    let rl = &h.committed;
    if rl.is_empty() || rl.is_ignored() {
        return MDA_HEADER_SIZE;
    }
    let end = rl.offset + rl.size;
    let old_last = if end > h.size { MDA_HEADER_SIZE + (end - h.size) - 1 } else { end - 1 };
    if h.size - old_last < MDA_HEADER_SIZE {
        return MDA_HEADER_SIZE;
    }
    let new = (old_last + 1).div_ceil(MDA_HEADER_SIZE) * MDA_HEADER_SIZE;
    if new > h.size - MDA_HEADER_SIZE { MDA_HEADER_SIZE } else { new }
}

/// The ring ranges (relative offsets, end exclusive) a copy at `offset` of `len` bytes covers.
fn ranges(size: u64, offset: u64, len: u64) -> Vec<(u64, u64)> {
    if offset + len <= size {
        vec![(offset, offset + len)]
    } else {
        vec![(offset, size), (MDA_HEADER_SIZE, MDA_HEADER_SIZE + offset + len - size)]
    }
}

/// Serialise `md` in raw form with the trailing blank line and NUL lvm2 writes.
pub fn serialise(md: &Metadata) -> Vec<u8> {
    let mut text = write_raw(&export_raw_tree(md)).into_bytes();
    while !text.ends_with(b"\n\n") {
        text.push(b'\n');
    }
    text.push(0);
    text
}

/// Check everything and compute every write. `current` is the VG's metadata as assembled
/// (the winning copy); `new` must be the same VG with seqno + 1.
pub fn plan(targets: &[PvTarget], current: &Metadata, new: &Metadata) -> Result<CommitPlan, WriteError> {
    let vg = current.vg.name.clone();
    // An LVM1 PV read through the LVM2 model has a synthesised label: writing "LVM2 metadata"
    // to it would overwrite its pv_disk and destroy the VG.
    if current.vg.format.as_deref().is_some_and(|f| f != "lvm2") || targets.iter().any(|t| t.format1) {
        return Err(WriteError::Refused {
            vg,
            why: format!(
                "format {} VG: lvmkit writes only LVM2 metadata, never over an LVM1 PV",
                current.vg.format.as_deref().unwrap_or("lvm1")
            ),
        });
    }
    // lvm2 (`vg_write`, lib/metadata/metadata.c): "Cannot update volume group %s with
    // duplicate PV devices." Which copy is current depends on device order; writing one
    // leaves the other stale, and the stale one may win the next scan.
    if let Some(t) = targets.iter().find(|t| !t.duplicates.is_empty()) {
        return Err(WriteError::DuplicatePv {
            vg,
            pv: t.label.pv_header.pv_uuid.to_string(),
            devices: std::iter::once(t.device.name().to_string())
                .chain(t.duplicates.iter().cloned())
                .collect(),
        });
    }
    if new.vg.name != current.vg.name || new.vg.id != current.vg.id {
        return Err(WriteError::WrongVg {
            expected: format!("{} ({})", current.vg.name, current.vg.id),
            found: format!("{} ({})", new.vg.name, new.vg.id),
        });
    }
    if new.vg.seqno != current.vg.seqno + 1 {
        return Err(WriteError::Seqno { vg, current: current.vg.seqno, new: new.vg.seqno });
    }
    let text = serialise(new);
    let body = &text[..text.len() - 1];
    let back =
        parse_metadata(&text).map_err(|e| WriteError::SelfCheck { vg: vg.clone(), why: e.to_string() })?;
    if serialise(&back) != text {
        return Err(WriteError::SelfCheck {
            vg,
            why: "re-serialising the parsed text gives different bytes".into(),
        });
    }
    if back.vg.seqno != new.vg.seqno || back.vg.name != new.vg.name || back.vg.id != new.vg.id {
        return Err(WriteError::SelfCheck { vg, why: "name, id or seqno changed".into() });
    }
    debug_assert!(!body.contains(&0));
    let checksum = lvm_crc(&text);
    let len = text.len() as u64;

    let mut placements = Vec::new();
    let mut ignored = Vec::new();
    let mut labels = Vec::new();
    let mut label_steps = Vec::new();
    let mut warnings = Vec::new();
    for (pi, t) in targets.iter().enumerate() {
        let dev = t.device.as_ref();
        let name = dev.name().to_string();
        for (mi, (locn, scanned)) in t.label.pv_header.metadata_areas.iter().zip(&t.mdas).enumerate() {
            let bad =
                |source: Error| WriteError::BadMda { device: name.clone(), mda_start: locn.offset, source };
            let scanned = scanned.as_ref().map_err(|e| bad(e.clone()))?;
            let now = device::read(dev, "mda_header", locn.offset, MDA_HEADER_SIZE)
                .and_then(|b| MdaHeader::parse(&b, locn.offset))
                .map_err(bad)?;
            if now.committed != scanned.committed || now.size != scanned.size {
                return Err(WriteError::Changed {
                    device: name.clone(),
                    mda_start: locn.offset,
                    expected: scanned.committed,
                    found: now.committed,
                });
            }
            if now.committed.is_ignored() {
                ignored.push((name.clone(), mi));
                continue;
            }
            if now.start.checked_add(now.size).is_none_or(|e| e > dev.size()) {
                return Err(bad(Error::Truncated {
                    what: "metadata area",
                    at: now.start,
                    len: now.size,
                    size: dev.size(),
                }));
            }
            let room = max_text_size(now.size);
            if len > room {
                return Err(WriteError::TooLarge {
                    device: name.clone(),
                    mda_start: locn.offset,
                    mda_size: now.size,
                    needs: len,
                    room,
                });
            }
            let old = now.committed;
            if !old.is_empty()
                && (old.offset < MDA_HEADER_SIZE
                    || old.offset >= now.size
                    || old.size > now.size - MDA_HEADER_SIZE)
            {
                return Err(bad(Error::BadField {
                    what: "raw_locn",
                    at: locn.offset,
                    field: "offset",
                    expected: format!("a copy inside the {}-byte area", now.size),
                    found: format!("offset {} size {}", old.offset, old.size),
                }));
            }
            let offset = next_offset(&now);
            if !old.is_empty() {
                let a = ranges(now.size, offset, len);
                let b = ranges(now.size, old.offset, old.size);
                if a.iter().any(|x| b.iter().any(|y| x.0 < y.1 && y.0 < x.1)) {
                    return Err(WriteError::Overlap {
                        device: name.clone(),
                        mda_start: locn.offset,
                        new_offset: offset,
                        old_offset: old.offset,
                    });
                }
            }
            // lvm2 (`_vg_read`, lib/metadata/metadata.c) repairs such copies with a warning.
            match t.held.get(mi) {
                Some(Some(Ok(s))) if *s < current.vg.seqno => warnings.push(format!(
                    "WARNING: Updating old metadata to {} on {name} for VG {vg} (mda{} held seqno {s}).",
                    new.vg.seqno,
                    mi + 1
                )),
                Some(Some(Err(why))) => warnings.push(format!(
                    "WARNING: Updating unusable metadata to {} on {name} for VG {vg} (mda{}: {why}).",
                    new.vg.seqno,
                    mi + 1
                )),
                _ => {}
            }
            placements.push(MdaPlacement {
                device: name.clone(),
                pv: pi,
                mda: mi,
                mda_start: locn.offset,
                wrapped: offset + len > now.size,
                new: RawLocn { offset, size: len, checksum, flags: 0 },
                old: now,
            });
        }
        let ext = t.label.pv_header.extension.as_ref();
        if !ext.is_some_and(|e| e.version >= PV_HEADER_EXTENSION_VSN && e.flags & PV_EXT_USED != 0) {
            let mut pvh = t.label.pv_header.clone();
            let e = pvh.extension.get_or_insert(PvHeaderExtension {
                version: PV_HEADER_EXTENSION_VSN,
                flags: 0,
                bootloader_areas: Vec::new(),
            });
            e.version = e.version.max(PV_HEADER_EXTENSION_VSN);
            e.flags |= PV_EXT_USED;
            labels.push(name.clone());
            label_steps.push(WriteStep {
                pv: pi,
                mda: None,
                kind: StepKind::Label,
                at: t.label.sector * 512,
                data: encode_label(t.label.sector, &pvh).to_vec(),
            });
        }
    }
    if placements.is_empty() {
        return Err(WriteError::NoMda { vg });
    }

    let mut steps = label_steps;
    for p in &placements {
        let size = p.old.size;
        let off = p.new.offset;
        let pad = |mut v: Vec<u8>, room: u64| {
            let want = (v.len() as u64).div_ceil(512) * 512;
            v.resize(want.min(room).max(v.len() as u64) as usize, 0);
            v
        };
        if off + len <= size {
            steps.push(WriteStep {
                pv: p.pv,
                mda: Some(p.mda),
                kind: StepKind::Text { piece: 0 },
                at: p.mda_start + off,
                data: pad(text.clone(), size - off),
            });
        } else {
            let first = (size - off) as usize;
            steps.push(WriteStep {
                pv: p.pv,
                mda: Some(p.mda),
                kind: StepKind::Text { piece: 0 },
                at: p.mda_start + off,
                data: text[..first].to_vec(),
            });
            steps.push(WriteStep {
                pv: p.pv,
                mda: Some(p.mda),
                kind: StepKind::Text { piece: 1 },
                at: p.mda_start + MDA_HEADER_SIZE,
                data: pad(text[first..].to_vec(), size - MDA_HEADER_SIZE),
            });
        }
    }
    for p in &placements {
        let h = MdaHeader { precommitted: p.new, ..p.old.clone() };
        steps.push(WriteStep {
            pv: p.pv,
            mda: Some(p.mda),
            kind: StepKind::Precommit,
            at: p.mda_start,
            data: h.encode().to_vec(),
        });
    }
    for p in &placements {
        let h = MdaHeader { committed: p.new, precommitted: RawLocn::default(), ..p.old.clone() };
        steps.push(WriteStep {
            pv: p.pv,
            mda: Some(p.mda),
            kind: StepKind::Commit,
            at: p.mda_start,
            data: h.encode().to_vec(),
        });
    }
    Ok(CommitPlan { vg, seqno: new.vg.seqno, text, checksum, placements, ignored, labels, steps, warnings })
}

/// The phase a step belongs to: labels, texts, precommits, commits (in that order in a plan).
fn phase(kind: StepKind) -> u8 {
    match kind {
        StepKind::Label => 0,
        StepKind::Text { .. } => 1,
        StepKind::Precommit => 2,
        StepKind::Commit => 3,
    }
}

/// One device's share of the plan: per phase (in plan order), the indices of its steps.
struct DeviceWork {
    pv: usize,
    phases: Vec<Vec<usize>>,
}

/// What one device did: the steps whose write returned, the steps written and synced, and the
/// first failure (step index, error).
#[derive(Default)]
struct DeviceDone {
    written: Vec<usize>,
    done: usize,
    failed: Option<(usize, io::Error)>,
}

impl DeviceDone {
    /// Write `steps` (one phase of one device) in order, then make them durable.
    fn run(&mut self, plan: &CommitPlan, dev: &dyn WriteDevice, steps: &[usize]) {
        for &i in steps {
            let s = &plan.steps[i];
            if let Err(e) = dev.write_at(s.at, &s.data) {
                self.failed = Some((i, e));
                return;
            }
            self.written.push(i);
        }
        match (dev.sync(), steps.last()) {
            (Ok(()), _) => self.done += steps.len(),
            (Err(e), Some(&last)) => self.failed = Some((last, e)),
            (Err(_), None) => {}
        }
    }
}

/// Run the plan's writes phase by phase: labels, then every text, then every precommit header,
/// then every commit header. A phase starts only when every write of the one before it is
/// durable (each device's writes of a phase are followed by [`WriteDevice::sync`], and all
/// devices finish the phase before any starts the next), so the protocol's order holds: no
/// header points at a text before the text is on stable storage everywhere, and no commit header
/// is written before every precommit is.
///
/// Within a phase the writes go to different sectors and none depends on another, so the
/// devices are written concurrently, one thread per device (a device's own steps stay in plan
/// order): a phase costs one device's latency instead of the sum. A power cut inside a phase
/// leaves any subset of that phase's writes on disk, which is the state some sequential order
/// of the same writes would leave after a cut: texts are unreferenced, a precommit leaves slot
/// 0 alone, and each commit header is the atomic switch of its mda alone. When a device says
/// it must not be written concurrently ([`WriteDevice::concurrent_writes`], the fault-injecting
/// wrapper of the power-cut tests) the whole plan runs one write at a time in plan order.
///
/// If a precommit header fails, the headers already precommitted are put back (slot 1
/// cleared) as lvm2's revert does; a failure during the commit phase leaves a mix of old and new
/// headers, which readers resolve by seqno.
pub fn execute(plan: &CommitPlan, targets: &[PvTarget]) -> Result<CommitReport, WriteError> {
    let devs: Vec<&dyn WriteDevice> = targets.iter().map(|t| t.device.as_ref()).collect();
    execute_on(plan, &devs)
}

/// [`execute`] on the targets' devices (`devs[pv]`).
fn execute_on(plan: &CommitPlan, devs: &[&dyn WriteDevice]) -> Result<CommitReport, WriteError> {
    let mut phases: Vec<u8> = plan.steps.iter().map(|s| phase(s.kind)).collect();
    phases.dedup();
    let mut work: Vec<DeviceWork> = Vec::new();
    for (i, s) in plan.steps.iter().enumerate() {
        let ph = phases.iter().position(|&p| p == phase(s.kind)).unwrap_or(0);
        let w = match work.iter().position(|w| w.pv == s.pv) {
            Some(w) => &mut work[w],
            None => {
                work.push(DeviceWork { pv: s.pv, phases: vec![Vec::new(); phases.len()] });
                work.last_mut().expect("just pushed")
            }
        };
        w.phases[ph].push(i);
    }
    let concurrent = work.len() > 1 && devs.iter().all(|d| d.concurrent_writes());
    let results: Vec<DeviceDone> = if concurrent {
        run_concurrent(plan, devs, &work, phases.len())
    } else {
        let mut results: Vec<DeviceDone> = work.iter().map(|_| DeviceDone::default()).collect();
        'phases: for ph in 0..phases.len() {
            for (w, r) in work.iter().zip(&mut results) {
                r.run(plan, devs[w.pv], &w.phases[ph]);
                if r.failed.is_some() {
                    break 'phases;
                }
            }
        }
        results
    };
    let done = results.iter().map(|r| r.done).sum();
    let mut failures: Vec<&(usize, io::Error)> = results.iter().filter_map(|r| r.failed.as_ref()).collect();
    failures.sort_by_key(|f| f.0);
    if let Some((i, e)) = failures.first() {
        let step = &plan.steps[*i];
        if step.kind == StepKind::Precommit {
            let mut written: Vec<usize> = results.iter().flat_map(|r| r.written.iter().copied()).collect();
            written.sort_unstable();
            revert(plan, devs, &written);
        }
        return Err(WriteError::Io {
            device: devs[step.pv].name().to_string(),
            what: step.kind.describe().to_string(),
            at: step.at,
            len: step.data.len() as u64,
            done,
            source: Arc::new(io::Error::new(e.kind(), e.to_string())),
        });
    }
    Ok(CommitReport {
        vg: plan.vg.clone(),
        seqno: plan.seqno,
        text_size: plan.text.len() as u64,
        checksum: plan.checksum,
        placements: plan.placements.clone(),
        ignored: plan.ignored.clone(),
        labels: plan.labels.clone(),
        steps: plan.steps.len(),
        warnings: plan.warnings.clone(),
    })
}

/// One thread per device (the calling thread takes the first), meeting at a barrier after each
/// phase; after a phase in which any device failed, no device starts the next one.
fn run_concurrent(
    plan: &CommitPlan,
    devs: &[&dyn WriteDevice],
    work: &[DeviceWork],
    phases: usize,
) -> Vec<DeviceDone> {
    let barrier = Barrier::new(work.len());
    // One flag per phase: a device that fails in phase k raises flag k before the barrier of
    // phase k, and every device reads flag k only after that barrier, so all agree on whether
    // to go on (a single flag could be raised in phase k + 1 by a fast device before a slow one
    // has read it for phase k, leaving the fast one alone at the next barrier).
    let failed: Vec<AtomicBool> = (0..phases).map(|_| AtomicBool::new(false)).collect();
    let device = |w: &DeviceWork| {
        let dev = devs[w.pv];
        let mut r = DeviceDone::default();
        for (steps, failed) in w.phases.iter().zip(&failed) {
            // A panic must not leave the other devices waiting at the barrier.
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.run(plan, dev, steps)));
            if caught.is_err() && r.failed.is_none() {
                let at = steps.iter().find(|i| !r.written.contains(i)).or(steps.last());
                r.failed = at.map(|&i| (i, io::Error::other("the write thread panicked")));
            }
            if r.failed.is_some() {
                failed.store(true, Ordering::SeqCst);
            }
            barrier.wait();
            if failed.load(Ordering::SeqCst) {
                break;
            }
        }
        r
    };
    debug_assert!(work.iter().all(|w| w.phases.len() == phases));
    std::thread::scope(|scope| {
        let others: Vec<_> = work[1..].iter().map(|w| scope.spawn(move || device(w))).collect();
        let mut out = vec![device(&work[0])];
        out.extend(others.into_iter().map(|h| h.join().expect("panics are caught in the thread")));
        out
    })
}

/// Best effort: restore the original header of every mda whose precommit (among the steps
/// `written`) was written.
fn revert(plan: &CommitPlan, devs: &[&dyn WriteDevice], written: &[usize]) {
    for step in written.iter().map(|&i| &plan.steps[i]).filter(|s| s.kind == StepKind::Precommit) {
        if let Some(p) = plan.placements.iter().find(|p| p.pv == step.pv && Some(p.mda) == step.mda) {
            let dev = devs[step.pv];
            let h = MdaHeader { precommitted: RawLocn::default(), ..p.old.clone() };
            let _ = dev.write_at(step.at, &h.encode()).and_then(|()| dev.sync());
        }
    }
}

/// [`plan`] then [`execute`].
pub fn commit(targets: &[PvTarget], current: &Metadata, new: &Metadata) -> Result<CommitReport, WriteError> {
    let p = plan(targets, current, new)?;
    execute(&p, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::write::device::MemWriteDevice;

    fn hdr(size: u64, offset: u64, len: u64) -> MdaHeader {
        MdaHeader {
            checksum: 0,
            start: 4096,
            size,
            committed: RawLocn { offset, size: len, checksum: 1, flags: 0 },
            precommitted: RawLocn::default(),
        }
    }

    #[test]
    fn next_offset_follows_lvm2() {
        // Spec §3.4 example: seqno 9 at 13824 (8211 bytes) → 22528.
        assert_eq!(next_offset(&hdr(1044480, 13824, 8211)), 22528);
        assert_eq!(next_offset(&hdr(1044480, 0, 0)), 512);
        // The wrapped-ring case: 59392 + 2423 in 61440 ends at ring offset 886 → 1024.
        assert_eq!(next_offset(&hdr(61440, 59392, 2423)), 1024);
        // Ends within the last 512 bytes → back to 512.
        assert_eq!(next_offset(&hdr(61440, 60000, 1200)), 512);
        // Next boundary is the last sector: still used (new ≤ size − 512).
        assert_eq!(next_offset(&hdr(61440, 59000, 900)), 59904);
        assert_eq!(max_text_size(61440), 29952);
        let ign = MdaHeader {
            committed: RawLocn { flags: 1, ..hdr(61440, 5000, 100).committed },
            ..hdr(61440, 0, 0)
        };
        assert_eq!(next_offset(&ign), 512);
    }

    /// A device that fails every write at byte `fail_at`.
    struct Failing(crate::write::device::MemWriteDevice, u64);
    impl Device for Failing {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
            self.0.read_at(at, buf)
        }
    }
    impl WriteDevice for Failing {
        fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()> {
            if at == self.1 { Err(io::Error::other("injected")) } else { self.0.write_at(at, data) }
        }
        fn sync(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Two devices, one mda each: text at 8192, header at 4096.
    fn two_device_plan() -> CommitPlan {
        let old = MdaHeader { start: 4096, ..hdr(1 << 20, 512, 100) };
        let new = RawLocn { offset: 1024, size: 10, checksum: 7, flags: 0 };
        let placements: Vec<MdaPlacement> = (0..2)
            .map(|pv| MdaPlacement {
                device: format!("d{pv}"),
                pv,
                mda: 0,
                mda_start: 4096,
                old: old.clone(),
                new,
                wrapped: false,
            })
            .collect();
        let mut steps = Vec::new();
        for (kind, at, data) in [
            (StepKind::Text { piece: 0 }, 4096 + 1024, vec![b't'; 512]),
            (StepKind::Precommit, 4096, MdaHeader { precommitted: new, ..old.clone() }.encode().to_vec()),
            (StepKind::Commit, 4096, MdaHeader { committed: new, ..old.clone() }.encode().to_vec()),
        ] {
            for pv in 0..2 {
                steps.push(WriteStep { pv, mda: Some(0), kind, at, data: data.clone() });
            }
        }
        CommitPlan {
            vg: "vg".into(),
            seqno: 2,
            text: vec![b't'; 10],
            checksum: 7,
            placements,
            ignored: Vec::new(),
            labels: Vec::new(),
            steps,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn concurrent_phases_write_everything() {
        let p = two_device_plan();
        let devs: Vec<_> = (0..2).map(|i| MemWriteDevice::new(format!("d{i}"), vec![0; 16384])).collect();
        let d: Vec<&dyn WriteDevice> = devs.iter().map(|d| d as &dyn WriteDevice).collect();
        let r = execute_on(&p, &d).unwrap();
        assert_eq!(r.steps, 6);
        for dev in &devs {
            let b = dev.bytes();
            assert_eq!(&b[4096..4096 + 512], &p.steps[4].data[..]);
            assert!(b[5120..5632].iter().all(|&c| c == b't'));
        }
    }

    #[test]
    fn concurrent_precommit_failure_reverts_and_stops() {
        let p = two_device_plan();
        let good = MemWriteDevice::new("d0", vec![0; 16384]);
        let bad = Failing(MemWriteDevice::new("d1", vec![0; 16384]), 4096);
        let d: Vec<&dyn WriteDevice> = vec![&good, &bad];
        match execute_on(&p, &d) {
            Err(WriteError::Io { device, what, done, .. }) => {
                assert_eq!((device.as_str(), what.as_str()), ("d1", "precommit header"));
                assert_eq!(done, 3, "both texts and d0's precommit");
            }
            other => panic!("{other:?}"),
        }
        // d0's precommit was put back (slot 1 clear, slot 0 old), and no commit was written.
        let b = good.bytes();
        let h = MdaHeader::parse(&b[4096..4608], 4096).unwrap();
        assert_eq!((h.committed, h.precommitted), (p.placements[0].old.committed, RawLocn::default()));
        assert!(bad.0.bytes()[4096..4608].iter().all(|&c| c == 0));
    }

    #[test]
    fn wrapped_ranges() {
        assert_eq!(ranges(4096, 3584, 1000), vec![(3584, 4096), (512, 1000)]);
        assert_eq!(ranges(4096, 512, 1000), vec![(512, 1512)]);
    }
}
