//! Sizes and offsets in 512-byte sectors, the unit of every device-mapper table.

use std::fmt;
use std::ops::{Add, AddAssign, Mul};
use std::str::FromStr;

/// Bytes per sector in device-mapper tables (always 512, whatever the device's block size).
pub const SECTOR_SIZE: u64 = 512;

/// A count of 512-byte sectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sectors(pub u64);

impl Sectors {
    /// In bytes.
    pub fn to_bytes(self) -> u64 {
        self.0 * SECTOR_SIZE
    }
    /// Checked addition.
    pub fn checked_add(self, o: Sectors) -> Option<Sectors> {
        self.0.checked_add(o.0).map(Sectors)
    }
}

impl fmt::Display for Sectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Sectors {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Sectors)
    }
}

impl Add for Sectors {
    type Output = Sectors;
    fn add(self, o: Sectors) -> Sectors {
        Sectors(self.0 + o.0)
    }
}

impl AddAssign for Sectors {
    fn add_assign(&mut self, o: Sectors) {
        self.0 += o.0;
    }
}

impl Mul<u64> for Sectors {
    type Output = Sectors;
    fn mul(self, n: u64) -> Sectors {
        Sectors(self.0 * n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_text() {
        assert_eq!(Sectors(3) + Sectors(4), Sectors(7));
        assert_eq!(Sectors(2048) * 3, Sectors(6144));
        assert_eq!(Sectors(8).to_bytes(), 4096);
        assert_eq!("128".parse::<Sectors>().unwrap(), Sectors(128));
        assert_eq!(Sectors(u64::MAX).checked_add(Sectors(1)), None);
    }
}
