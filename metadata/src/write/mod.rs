//! Writing metadata: lvm2's commit protocol (text into every in-use mda's ring, then the
//! precommit slot, then the committed slot), the devices it writes to, and a fault-injecting
//! wrapper that simulates power cuts between (and inside) writes.
//!
//! Nothing here decides *what* to change; callers build the new [`Metadata`](crate::model::Metadata)
//! (see [`ops`] for the operations) and hand it to [`commit::commit`].

pub mod backup;
pub mod commit;
pub mod device;
pub mod fault;
pub mod lock;
pub mod lvm1;
pub mod ops;

use std::io;
use std::sync::Arc;

use crate::error::Error;
use crate::raw_locn::RawLocn;

pub use commit::{CommitPlan, CommitReport, PvTarget, StepKind, WriteStep, commit, plan};
pub use device::{FileWriteDevice, MemWriteDevice, WriteDevice, WriteWindow, open_scanned};

/// Everything that can stop a metadata write. Every refusal happens before the first write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The new seqno is not the current one plus one.
    #[error("VG {vg}: new seqno {new} must be the current seqno {current} + 1")]
    Seqno {
        /// VG.
        vg: String,
        /// Seqno on disk.
        current: u64,
        /// Seqno of the new metadata.
        new: u64,
    },
    /// The new metadata is for a different VG (name or id).
    #[error("the new metadata describes VG {found}, but the VG being written is {expected}")]
    WrongVg {
        /// `name (id)` on disk.
        expected: String,
        /// `name (id)` in the new metadata.
        found: String,
    },
    /// The serialised text does not read back as the same metadata.
    #[error("VG {vg}: the serialised metadata does not read back identically: {why}")]
    SelfCheck {
        /// VG.
        vg: String,
        /// What differed, or the parse error.
        why: String,
    },
    /// The text is larger than one copy may be in this mda (two copies must always fit).
    #[error(
        "{device}: metadata area at byte {mda_start} ({mda_size} bytes): the new metadata needs {needs} bytes, room for {room}"
    )]
    TooLarge {
        /// Device.
        device: String,
        /// Absolute byte offset of the mda.
        mda_start: u64,
        /// Its size.
        mda_size: u64,
        /// Text bytes including the NUL.
        needs: u64,
        /// `(size − 512)/2 − 512`.
        room: u64,
    },
    /// A metadata area's header or slot cannot be used (bad checksum, bad slot, unreadable).
    #[error("{device}: metadata area at byte {mda_start}: {source}")]
    BadMda {
        /// Device.
        device: String,
        /// Absolute byte offset of the mda.
        mda_start: u64,
        /// What is wrong.
        #[source]
        source: Error,
    },
    /// The committed slot changed between the scan and the write (another writer).
    #[error(
        "{device}: metadata area at byte {mda_start} changed since it was scanned (committed slot was {expected:?}, is {found:?})"
    )]
    Changed {
        /// Device.
        device: String,
        /// Absolute byte offset of the mda.
        mda_start: u64,
        /// Slot 0 at scan time.
        expected: RawLocn,
        /// Slot 0 now.
        found: RawLocn,
    },
    /// The new copy would overlap the committed one (cannot happen under the size rule; kept as
    /// lvm2 keeps it, as a sanity check).
    #[error(
        "{device}: metadata area at byte {mda_start}: new copy at {new_offset} overlaps the committed copy at {old_offset}"
    )]
    Overlap {
        /// Device.
        device: String,
        /// Absolute byte offset of the mda.
        mda_start: u64,
        /// Relative offset of the new copy.
        new_offset: u64,
        /// Relative offset of the committed copy.
        old_offset: u64,
    },
    /// No PV of the VG has a metadata area in use.
    #[error("VG {vg}: no metadata area in use on any of its PVs: nothing to write to")]
    NoMda {
        /// VG.
        vg: String,
    },
    /// The VG cannot be written in its current state (missing or stale PVs, mismatching copies).
    #[error("VG {vg} is inconsistent, refusing to write: {why}")]
    Inconsistent {
        /// VG.
        vg: String,
        /// The problems.
        why: String,
    },
    /// A PV of the VG is on more than one device (lvm2: "Cannot update volume group … with
    /// duplicate PV devices").
    #[error(
        "cannot update volume group {vg} with duplicate PV devices: PV {pv} is on {}; give --devices only one of them",
        devices.join(" and ")
    )]
    DuplicatePv {
        /// VG.
        vg: String,
        /// The PV's UUID.
        pv: String,
        /// Every device carrying it (the one scanned as the PV first).
        devices: Vec<String>,
    },
    /// The operation is not allowed on this VG (owner, export state, missing object).
    #[error("VG {vg}: {why}")]
    Refused {
        /// VG.
        vg: String,
        /// Why.
        why: String,
    },
    /// Opening a device for writing failed.
    #[error("cannot open {path} for writing: {source}")]
    Open {
        /// Path.
        path: String,
        /// OS error.
        #[source]
        source: Arc<io::Error>,
    },
    /// A write or sync failed; `done` steps of the plan completed before it.
    #[error(
        "{device}: {what} write of {len} bytes at byte {at} failed after {done} completed steps: {source}"
    )]
    Io {
        /// Device.
        device: String,
        /// Which step ("metadata text", "precommit header", …).
        what: String,
        /// Absolute byte offset.
        at: u64,
        /// Bytes.
        len: u64,
        /// Steps of the plan that completed.
        done: usize,
        /// OS error.
        #[source]
        source: Arc<io::Error>,
    },
    /// Another metadata error (reading, assembling).
    #[error(transparent)]
    Metadata(#[from] Error),
    /// Archiving the previous metadata (or reading a backup file) failed; nothing was written.
    #[error(transparent)]
    Backup(#[from] backup::BackupError),
    /// The VG lock could not be taken; nothing was written.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}
