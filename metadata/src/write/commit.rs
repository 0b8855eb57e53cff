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
//! [`execute`] runs them in that order with a durability barrier ([`WriteDevice::sync`]) after
//! each. A cut anywhere leaves every mda header either old (slot 0 on the old text, which the
//! two-copies-fit rule keeps intact) or new, so every reader finds the old or the new seqno.
//!
//! Ignored mdas (`RAW_LOCN_IGNORED` in slot 0) are not written at all. Checked against lvm2
//! 2.03.16: `vgchange --addtag` on the `ignored-mda` case changed sectors of the in-use mda only;
//! the ignored mda's header and text stayed byte-identical (lvm2 writes only
//! `metadata_areas_in_use`; "ignored ones first" in `_vg_commit_mdas` concerns mdas being
//! switched to ignored in that transaction, which lvmkit never does).

use std::sync::Arc;

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
use crate::scan::PvScan;
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
}

impl PvTarget {
    /// From a scan result and the same device opened for writing.
    pub fn from_scan(pv: &PvScan, device: Arc<dyn WriteDevice>) -> PvTarget {
        PvTarget {
            device,
            label: pv.label.clone(),
            mdas: pv.mdas.iter().map(|m| m.header.clone()).collect(),
            format1: pv.lvm1.is_some(),
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
    Ok(CommitPlan { vg, seqno: new.vg.seqno, text, checksum, placements, ignored, labels, steps })
}

/// Run the plan's writes in order, each followed by a sync. If a precommit header fails, the
/// headers already precommitted are put back (slot 1 cleared) as lvm2's revert does; a failure
/// during the commit phase leaves a mix of old and new headers, which readers resolve by seqno.
pub fn execute(plan: &CommitPlan, targets: &[PvTarget]) -> Result<CommitReport, WriteError> {
    for (done, step) in plan.steps.iter().enumerate() {
        let dev = targets[step.pv].device.as_ref();
        let r = dev.write_at(step.at, &step.data).and_then(|()| dev.sync());
        if let Err(e) = r {
            if step.kind == StepKind::Precommit {
                revert(plan, targets, done);
            }
            return Err(WriteError::Io {
                device: dev.name().to_string(),
                what: step.kind.describe().to_string(),
                at: step.at,
                len: step.data.len() as u64,
                done,
                source: Arc::new(e),
            });
        }
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
    })
}

/// Best effort: restore the original header of every mda whose precommit (among the first
/// `done` steps) was written.
fn revert(plan: &CommitPlan, targets: &[PvTarget], done: usize) {
    for step in plan.steps[..done].iter().filter(|s| s.kind == StepKind::Precommit) {
        if let Some(p) = plan.placements.iter().find(|p| p.pv == step.pv && Some(p.mda) == step.mda) {
            let dev = targets[step.pv].device.as_ref();
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

    #[test]
    fn wrapped_ranges() {
        assert_eq!(ranges(4096, 3584, 1000), vec![(3584, 4096), (512, 1000)]);
        assert_eq!(ranges(4096, 512, 1000), vec![(512, 1512)]);
    }
}
