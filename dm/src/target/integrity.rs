//! `integrity <dev> <start> <tag size> <mode> <#args> <arg>*`.
//!
//! The arguments are `key:value` words (`meta_device:<dev>`, `block_size:4096`,
//! `internal_hash:crc32c`, …) or flags (`fix_padding`, `recalculate`, `allow_discards`). The
//! kernel does not echo what it was given: `dmsetup table` prints its own set in its own order
//! (it adds `journal_sectors`, `interleave_sectors`, `buffer_sectors`, the mode's watermark and
//! commit or bitmap settings, leaves out `block_size:512`, and drops `recalculate` once done).
//! libdevmapper therefore never compares an integrity table's parameters on reload
//! (`skip_reload_params_compare`); [`Integrity::same_device_as`] says what a live table must
//! keep to be this one. `Display` keeps the arguments in the order given.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// One optional argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntegrityArg {
    /// `meta_device:<dev>`: tags on a separate device.
    MetaDevice(DevRef),
    /// `key:value`.
    Value(String, String),
    /// A word without a value (`fix_padding`, `recalculate`, `allow_discards`, …).
    Flag(String),
}

impl fmt::Display for IntegrityArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntegrityArg::MetaDevice(d) => write!(f, "meta_device:{d}"),
            IntegrityArg::Value(k, v) => write!(f, "{k}:{v}"),
            IntegrityArg::Flag(k) => f.write_str(k),
        }
    }
}

/// A dm-integrity device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integrity {
    /// Data device (lvm2's `_iorig`).
    pub dev: DevRef,
    /// Start on it, sectors.
    pub start: Sectors,
    /// Tag bytes per block.
    pub tag_size: u32,
    /// `J` (journal), `B` (bitmap), `D` (direct) or `R` (recovery).
    pub mode: char,
    /// Optional arguments, in the order given.
    pub args: Vec<IntegrityArg>,
}

impl Integrity {
    /// The value of a `key:value` argument.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.args.iter().find_map(|a| match a {
            IntegrityArg::Value(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }

    /// The separate metadata device, if any.
    pub fn meta_device(&self) -> Option<&DevRef> {
        self.args.iter().find_map(|a| match a {
            IntegrityArg::MetaDevice(d) => Some(d),
            _ => None,
        })
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.args.iter().any(|a| matches!(a, IntegrityArg::Flag(f) if f == flag))
    }

    /// Whether `live` (as the kernel prints it) is this table loaded: the same data device,
    /// start, tag size, mode and metadata device, and every argument given here that the
    /// kernel keeps with the same value — `block_size:512` may be left out, `recalculate` may
    /// have finished.
    pub fn same_device_as(&self, live: &Integrity) -> bool {
        if (&self.dev, self.start, self.tag_size, self.mode)
            != (&live.dev, live.start, live.tag_size, live.mode)
            || self.meta_device() != live.meta_device()
        {
            return false;
        }
        self.args.iter().all(|a| match a {
            IntegrityArg::MetaDevice(_) => true,
            IntegrityArg::Value(k, v) if k == "block_size" && v == "512" => {
                live.value("block_size").is_none_or(|l| l == "512")
            }
            IntegrityArg::Value(k, v) => live.value(k) == Some(v.as_str()),
            IntegrityArg::Flag(f) if f == "recalculate" => true,
            IntegrityArg::Flag(f) => live.has_flag(f),
        })
    }
}

impl TargetParams for Integrity {
    const TARGET_TYPE: &'static str = "integrity";
    fn dev_refs(&self) -> Vec<&DevRef> {
        let mut v = vec![&self.dev];
        v.extend(self.meta_device());
        v
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        let mut v = vec![&mut self.dev];
        for a in &mut self.args {
            if let IntegrityArg::MetaDevice(d) = a {
                v.push(d);
            }
        }
        v
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {} {}", self.dev, self.start, self.tag_size, self.mode, self.args.len())?;
        for a in &self.args {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

impl FromStr for Integrity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Integrity> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let dev = w.dev("device")?;
        let start = w.sectors("start")?;
        let tag_size = w.num("tag size")?;
        let mode = match w.next("mode")? {
            m @ ("J" | "B" | "D" | "R") => m.chars().next().unwrap_or('J'),
            other => return Err(w.err(format!("mode {other:?} is none of J, B, D, R"))),
        };
        let count: usize = w.num("argument count")?;
        let mut args = Vec::new();
        for _ in 0..count {
            let word = w.next("argument")?;
            args.push(match word.split_once(':') {
                Some(("meta_device", d)) => IntegrityArg::MetaDevice(
                    d.parse().map_err(|_| w.err(format!("meta_device {d:?} is not a device")))?,
                ),
                Some((k, v)) => IntegrityArg::Value(k.to_string(), v.to_string()),
                None => IntegrityArg::Flag(word.to_string()),
            });
        }
        w.end()?;
        Ok(Integrity { dev, start, tag_size, mode, args })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnum::DevNum;

    /// What lvm2 2.03.16 loads for a raid1 image with integrity, and what a 6.1 kernel prints
    /// back for it.
    const LVM2: &str = "253:4 0 4 J 4 fix_padding block_size:512 internal_hash:crc32c meta_device:253:3";
    const KERNEL: &str = "253:4 0 4 J 8 meta_device:253:3 journal_sectors:3912 interleave_sectors:32768 \
                          buffer_sectors:128 journal_watermark:50 commit_time:10000 fix_padding internal_hash:crc32c";

    #[test]
    fn lvm2_and_kernel_lines() {
        let ours: Integrity = LVM2.parse().unwrap();
        assert_eq!(ours.dev, DevRef::Num(DevNum::new(253, 4)));
        assert_eq!(ours.meta_device(), Some(&DevRef::Num(DevNum::new(253, 3))));
        assert_eq!(ours.value("internal_hash"), Some("crc32c"));
        assert_eq!(ours.to_string(), LVM2);
        let live: Integrity = KERNEL.parse().unwrap();
        assert!(ours.same_device_as(&live));
        // Negative controls: another hash, another metadata device, a flag the kernel lost.
        for other in [
            KERNEL.replace("crc32c", "sha256"),
            KERNEL.replace("meta_device:253:3", "meta_device:253:9"),
            KERNEL.replace(" fix_padding", "").replace(" 8 ", " 7 "),
            KERNEL.replace(" J ", " B "),
        ] {
            assert!(!ours.same_device_as(&other.parse().unwrap()), "{other}");
        }
        // block_size:4096 must be kept; 512 may be left out.
        let big: Integrity = LVM2.replace("block_size:512", "block_size:4096").parse().unwrap();
        assert!(!big.same_device_as(&live));
        for bad in ["253:4 0 4 X 0", "253:4 0 4 J 2 fix_padding", "253:4 0 4 J 1 meta_device:x", "253:4 0"] {
            assert!(bad.parse::<Integrity>().is_err(), "{bad}");
        }
    }
}
