//! `disk_locn`: a byte range on a PV, as listed in the pv_header.
//!
//! On disk, 16 bytes LE: `0 offset u64 | 8 size u64`, both in bytes, offset absolute from the
//! start of the device. A list ends with an entry whose offset is 0.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::le::U64;

/// On-disk `disk_locn`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy)]
#[repr(C)]
pub(crate) struct RawDiskLocn {
    pub offset: U64,
    pub size: U64,
}

/// Size of one `disk_locn`.
pub(crate) const DISK_LOCN_SIZE: usize = 16;

/// A decoded area: absolute byte offset and byte size (0 = "to the end of the device" for a
/// data area).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DiskLocn {
    /// Absolute byte offset on the device.
    pub offset: u64,
    /// Size in bytes; 0 in a data area means "up to the end of the device".
    pub size: u64,
}

impl DiskLocn {
    /// One past the last byte, saturating (for overlap checks).
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size)
    }
}
