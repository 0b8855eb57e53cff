//! `writecache <p|s> <origin dev> <cache dev> <block size> <#args> <arg>*`.
//!
//! The kernel prints its optional arguments in a fixed order (dm-writecache's
//! `writecache_status`: `start_sector`, `high_watermark`, `low_watermark`, `writeback_jobs`,
//! `autocommit_blocks`, `autocommit_time`, `max_age`, `cleaner`, `fua`/`nofua`,
//! `metadata_only`, `pause_writeback`); `Display` uses that order, `FromStr` takes any.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};

/// Optional writecache arguments (lvm2's `dm_writecache_settings`), each as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WritecacheOptions {
    /// `start_sector N`: where the cache starts on the cache device.
    pub start_sector: Option<u64>,
    /// `high_watermark N` (percent).
    pub high_watermark: Option<u64>,
    /// `low_watermark N` (percent).
    pub low_watermark: Option<u64>,
    /// `writeback_jobs N`.
    pub writeback_jobs: Option<u64>,
    /// `autocommit_blocks N`.
    pub autocommit_blocks: Option<u64>,
    /// `autocommit_time N` (milliseconds).
    pub autocommit_time: Option<u64>,
    /// `max_age N` (milliseconds).
    pub max_age: Option<u64>,
    /// `cleaner`.
    pub cleaner: bool,
    /// `fua` (true) or `nofua` (false).
    pub fua: Option<bool>,
    /// `metadata_only`.
    pub metadata_only: bool,
    /// `pause_writeback N` (milliseconds).
    pub pause_writeback: Option<u64>,
}

impl WritecacheOptions {
    /// The arguments in the kernel's order.
    fn words(&self) -> Vec<String> {
        let mut w = Vec::new();
        let mut num = |k: &str, v: Option<u64>| {
            if let Some(v) = v {
                w.push(k.to_string());
                w.push(v.to_string());
            }
        };
        num("start_sector", self.start_sector);
        num("high_watermark", self.high_watermark);
        num("low_watermark", self.low_watermark);
        num("writeback_jobs", self.writeback_jobs);
        num("autocommit_blocks", self.autocommit_blocks);
        num("autocommit_time", self.autocommit_time);
        num("max_age", self.max_age);
        if self.cleaner {
            w.push("cleaner".into());
        }
        match self.fua {
            Some(true) => w.push("fua".into()),
            Some(false) => w.push("nofua".into()),
            None => {}
        }
        if self.metadata_only {
            w.push("metadata_only".into());
        }
        if let Some(v) = self.pause_writeback {
            w.push("pause_writeback".into());
            w.push(v.to_string());
        }
        w
    }

    /// Sets one numeric option by its kernel name; false when `key` is not one.
    pub fn set_number(&mut self, key: &str, v: u64) -> bool {
        let slot = match key {
            "start_sector" => &mut self.start_sector,
            "high_watermark" => &mut self.high_watermark,
            "low_watermark" => &mut self.low_watermark,
            "writeback_jobs" => &mut self.writeback_jobs,
            "autocommit_blocks" => &mut self.autocommit_blocks,
            "autocommit_time" => &mut self.autocommit_time,
            "max_age" => &mut self.max_age,
            "pause_writeback" => &mut self.pause_writeback,
            _ => return false,
        };
        *slot = Some(v);
        true
    }
}

/// A dm-writecache device: writes go to the (fast) cache device and are written back to the
/// origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writecache {
    /// `p`: the cache is persistent memory; `s`: an SSD.
    pub pmem: bool,
    /// Slow origin device (lvm2's `_wcorig`).
    pub origin: DevRef,
    /// Fast cache device (lvm2's cachevol).
    pub cache: DevRef,
    /// Block size, bytes.
    pub block_size: u32,
    /// Optional arguments.
    pub options: WritecacheOptions,
}

impl TargetParams for Writecache {
    const TARGET_TYPE: &'static str = "writecache";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.origin, &self.cache]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.origin, &mut self.cache]
    }
}

impl fmt::Display for Writecache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self.options.words();
        write!(
            f,
            "{} {} {} {} {}",
            if self.pmem { 'p' } else { 's' },
            self.origin,
            self.cache,
            self.block_size,
            args.len()
        )?;
        for a in &args {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

impl FromStr for Writecache {
    type Err = Error;
    fn from_str(s: &str) -> Result<Writecache> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let pmem = match w.next("mode")? {
            "p" => true,
            "s" => false,
            other => return Err(w.err(format!("mode {other:?} is neither p nor s"))),
        };
        let origin = w.dev("origin device")?;
        let cache = w.dev("cache device")?;
        let block_size = w.num("block size")?;
        let count: usize = w.num("argument count")?;
        let mut options = WritecacheOptions::default();
        let mut left = count;
        while left > 0 {
            let key = w.next("argument")?;
            left -= 1;
            match key {
                "cleaner" => options.cleaner = true,
                "fua" => options.fua = Some(true),
                "nofua" => options.fua = Some(false),
                "metadata_only" => options.metadata_only = true,
                _ => {
                    if left == 0 {
                        return Err(w.err(format!("argument {key} without its value")));
                    }
                    let v = w.num(key)?;
                    left -= 1;
                    if !options.set_number(key, v) {
                        return Err(w.err(format!("unknown argument {key}")));
                    }
                }
            }
        }
        w.end()?;
        Ok(Writecache { pmem, origin, cache, block_size, options })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnum::DevNum;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_lines() {
        // lvm2 2.03.16 `lvconvert --type writecache --cachevol`, default settings.
        let w: Writecache = "s 253:2 253:0 4096 0".parse().unwrap();
        assert_eq!(
            w,
            Writecache {
                pmem: false,
                origin: DevRef::Num(DevNum::new(253, 2)),
                cache: DevRef::Num(DevNum::new(253, 0)),
                block_size: 4096,
                options: WritecacheOptions::default(),
            }
        );
        assert_eq!(w.to_string(), "s 253:2 253:0 4096 0");
        // Any order in, the kernel's order out.
        let w: Writecache = "p 8:0 8:16 512 7 nofua cleaner high_watermark 50 low_watermark 45 metadata_only"
            .parse()
            .unwrap();
        assert_eq!(
            w.to_string(),
            "p 8:0 8:16 512 7 high_watermark 50 low_watermark 45 cleaner nofua metadata_only"
        );
        for bad in [
            "x 8:0 8:16 512 0",
            "s 8:0 8:16 512 1",
            "s 8:0 8:16 512 2 high_watermark",
            "s 8:0 8:16 512 2 colour 5",
            "s 8:0 8:16 512 0 extra",
            "s 8:0 8:16",
        ] {
            assert!(bad.parse::<Writecache>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(
            pmem in any::<bool>(),
            origin in dev_ref(),
            cache in dev_ref(),
            block_size in prop_oneof![Just(512u32), Just(4096u32)],
            high in proptest::option::of(0u64..100),
            jobs in proptest::option::of(any::<u64>()),
            cleaner in any::<bool>(),
            fua in proptest::option::of(any::<bool>()),
            pause in proptest::option::of(any::<u64>()),
        ) {
            let options = WritecacheOptions {
                high_watermark: high,
                writeback_jobs: jobs,
                cleaner,
                fua,
                pause_writeback: pause,
                ..Default::default()
            };
            let x = Writecache { pmem, origin, cache, block_size, options };
            prop_assert_eq!(x.to_string().parse::<Writecache>().unwrap(), x);
        }
    }
}
