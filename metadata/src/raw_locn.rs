//! `raw_locn`: one slot of the mda header pointing at a metadata text in the ring buffer.
//!
//! On disk, 24 bytes LE: `0 offset u64 (from mda start) | 8 size u64 (text incl. NUL) |
//! 16 checksum u32 (LVM CRC of the text) | 20 flags u32 (bit 0: RAW_LOCN_IGNORED)`.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::le::{U32, U64};

/// Slot 0 flag: this mda is ignored (`pvchange --metadataignore y`); its text may be stale.
pub const RAW_LOCN_IGNORED: u32 = 0x1;

/// On-disk `raw_locn`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy)]
#[repr(C)]
pub(crate) struct RawRawLocn {
    pub offset: U64,
    pub size: U64,
    pub checksum: U32,
    pub flags: U32,
}

/// A decoded slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawLocn {
    /// Byte offset of the text relative to the mda start (≥ 512; 0 = empty slot).
    pub offset: u64,
    /// Text length in bytes including the trailing NUL.
    pub size: u64,
    /// LVM CRC of the text.
    pub checksum: u32,
    /// `RAW_LOCN_IGNORED` and friends.
    pub flags: u32,
}

impl RawLocn {
    /// The slot points at no text.
    pub fn is_empty(&self) -> bool {
        self.offset == 0
    }
    /// The mda is marked ignored.
    pub fn is_ignored(&self) -> bool {
        self.flags & RAW_LOCN_IGNORED != 0
    }
    pub(crate) fn from_raw(r: &RawRawLocn) -> RawLocn {
        RawLocn {
            offset: r.offset.get(),
            size: r.size.get(),
            checksum: r.checksum.get(),
            flags: r.flags.get(),
        }
    }
    pub(crate) fn to_raw(self) -> RawRawLocn {
        RawRawLocn {
            offset: self.offset.into(),
            size: self.size.into(),
            checksum: self.checksum.into(),
            flags: self.flags.into(),
        }
    }
}
