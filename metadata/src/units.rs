//! Units that cross module boundaries. LVM text metadata counts 512-byte sectors; the binary
//! LVM2 structures count bytes. Keeping them apart in the types stops the classic ×512 bug.

use std::fmt;

/// Size of the sector unit LVM uses everywhere, whatever the device's logical block size.
pub const SECTOR_SIZE: u64 = 512;

/// A byte count or absolute byte offset on a device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// A count of 512-byte sectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sectors(pub u64);

impl Sectors {
    /// The same length in bytes; saturates instead of overflowing on absurd metadata.
    pub fn to_bytes(self) -> Bytes {
        Bytes(self.0.saturating_mul(SECTOR_SIZE))
    }
}

impl Bytes {
    /// Whole sectors in this length (rounded down).
    pub fn to_sectors(self) -> Sectors {
        Sectors(self.0 / SECTOR_SIZE)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}", self.0)
    }
}

impl fmt::Display for Sectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sectors", self.0)
    }
}
