//! Device numbers (`major:minor`) and device references in table parameters.
//!
//! A table refers to the devices it maps onto by `major:minor`. A plan is built before the
//! devices it stacks on exist, so a reference may also be a [`DevRef::Pending`] label (printed
//! `<label>`, as lvm2's debug output prints not-yet-created devices), resolved to a number when
//! the plan is applied ([`DevRef::resolve`]).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A block device number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevNum {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

impl DevNum {
    /// `major:minor`.
    pub const fn new(major: u32, minor: u32) -> DevNum {
        DevNum { major, minor }
    }

    /// From a userspace `dev_t` (glibc `makedev` encoding, as in `stat.st_rdev`).
    pub fn from_dev_t(dev: u64) -> DevNum {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        DevNum { major: major as u32, minor: minor as u32 }
    }

    /// To a userspace `dev_t` (glibc `makedev` encoding).
    pub fn to_dev_t(self) -> u64 {
        let (ma, mi) = (u64::from(self.major), u64::from(self.minor));
        ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12)
    }

    /// From the kernel's `huge_encode_dev` form used in `struct dm_ioctl.dev`.
    pub fn from_kernel(dev: u64) -> DevNum {
        let major = (dev & 0xfff00) >> 8;
        let minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
        DevNum { major: major as u32, minor: minor as u32 }
    }

    /// To the kernel's `huge_encode_dev` form (12-bit major, 20-bit minor).
    pub fn to_kernel(self) -> u64 {
        let (ma, mi) = (u64::from(self.major), u64::from(self.minor));
        (mi & 0xff) | (ma << 8) | ((mi & !0xff) << 12)
    }
}

impl fmt::Display for DevNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl FromStr for DevNum {
    type Err = Error;
    fn from_str(s: &str) -> Result<DevNum> {
        let bad = || Error::BadDevNum { value: s.to_string() };
        let (ma, mi) = s.split_once(':').ok_or_else(bad)?;
        let num = |t: &str| {
            if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<u32>().map_err(|_| bad())
        };
        Ok(DevNum { major: num(ma)?, minor: num(mi)? })
    }
}

/// A device named in table parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DevRef {
    /// A device number, as the kernel takes and reports it.
    Num(DevNum),
    /// A device that will exist when the table is loaded, by a label (for a device of the same
    /// plan: its dm name). Printed `<label>`; must be resolved before loading.
    Pending(String),
}

impl DevRef {
    /// A pending reference; the label may not be empty, contain whitespace, `<` or `>`.
    pub fn pending(label: impl Into<String>) -> Result<DevRef> {
        let label = label.into();
        if label.is_empty() || label.chars().any(|c| c.is_whitespace() || c == '<' || c == '>') {
            return Err(Error::BadDevRef { value: label });
        }
        Ok(DevRef::Pending(label))
    }

    /// The number, when resolved.
    pub fn num(&self) -> Option<DevNum> {
        match self {
            DevRef::Num(n) => Some(*n),
            DevRef::Pending(_) => None,
        }
    }

    /// The label, when pending.
    pub fn label(&self) -> Option<&str> {
        match self {
            DevRef::Num(_) => None,
            DevRef::Pending(l) => Some(l),
        }
    }

    /// Replace a pending label by the number `lookup` gives for it (numbers stay as they are).
    pub fn resolve(&mut self, lookup: &mut dyn FnMut(&str) -> Option<DevNum>) -> Result<()> {
        if let DevRef::Pending(label) = self {
            let n = lookup(label).ok_or_else(|| Error::Unresolved { label: label.clone() })?;
            *self = DevRef::Num(n);
        }
        Ok(())
    }
}

impl From<DevNum> for DevRef {
    fn from(n: DevNum) -> DevRef {
        DevRef::Num(n)
    }
}

impl fmt::Display for DevRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevRef::Num(n) => n.fmt(f),
            DevRef::Pending(l) => write!(f, "<{l}>"),
        }
    }
}

impl FromStr for DevRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<DevRef> {
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            return DevRef::pending(inner).map_err(|_| Error::BadDevRef { value: s.to_string() });
        }
        s.parse::<DevNum>().map(DevRef::Num).map_err(|_| Error::BadDevRef { value: s.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_forms() {
        assert_eq!("253:12".parse::<DevNum>().unwrap(), DevNum::new(253, 12));
        assert_eq!(DevNum::new(7, 0).to_string(), "7:0");
        for bad in ["", "7", "7:", ":0", "a:b", "7:0:1", "-1:0", "7: 0", "+7:0"] {
            assert!(bad.parse::<DevNum>().is_err(), "{bad:?}");
        }
        assert_eq!("<vg0-lin-real>".parse::<DevRef>().unwrap(), DevRef::Pending("vg0-lin-real".into()));
        assert_eq!("8:16".parse::<DevRef>().unwrap(), DevRef::Num(DevNum::new(8, 16)));
        for bad in ["<>", "<a b>", "<a", "a>", "<<a>>", "/dev/sda"] {
            assert!(bad.parse::<DevRef>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn encodings() {
        // /dev/sdb is 8:16 = 0x810 in both encodings.
        assert_eq!(DevNum::new(8, 16).to_dev_t(), 0x810);
        assert_eq!(DevNum::new(8, 16).to_kernel(), 0x810);
        // A large minor differs: glibc puts minor bits 8.. at bit 20, the kernel at bit 20 too,
        // but glibc keeps the high major bits at 44.
        let d = DevNum::new(259, 0x12345);
        assert_eq!(DevNum::from_dev_t(d.to_dev_t()), d);
        assert_eq!(DevNum::from_kernel(d.to_kernel()), d);
        assert_eq!(d.to_kernel(), 0x45 | (259 << 8) | (0x12300 << 12));
    }

    #[test]
    fn resolve() {
        let mut r = DevRef::Pending("x".into());
        assert!(r.clone().resolve(&mut |_| None).is_err());
        r.resolve(&mut |l| (l == "x").then_some(DevNum::new(253, 3))).unwrap();
        assert_eq!(r, DevRef::Num(DevNum::new(253, 3)));
    }

    proptest! {
        #[test]
        fn devnum_round_trips(major in 0u32..4096, minor in 0u32..(1 << 20)) {
            let d = DevNum::new(major, minor);
            prop_assert_eq!(d.to_string().parse::<DevNum>().unwrap(), d);
            prop_assert_eq!(DevNum::from_dev_t(d.to_dev_t()), d);
            prop_assert_eq!(DevNum::from_kernel(d.to_kernel()), d);
        }

        #[test]
        fn devref_round_trips(r in crate::target::strategy::dev_ref()) {
            prop_assert_eq!(r.to_string().parse::<DevRef>().unwrap(), r);
        }
    }
}
