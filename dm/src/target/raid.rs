//! `raid <raid type> <#raid params> <chunk size> [<raid param>]* <#raid devs> (<meta dev>
//! <data dev>)+`, a missing device written `-`.
//!
//! `#raid params` counts the chunk size, one for `sync`/`nosync`, and two for every key/value
//! option (so two per `rebuild`/`write_mostly` index). `Display` prints options in the kernel's
//! order (dm-raid's `raid_status`, which lvm2 follows for target versions other than 1.9–1.10).

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

macro_rules! raid_types {
    ($($v:ident => $s:literal, $doc:literal;)*) => {
        /// A dm-raid layout name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RaidType {
            $(#[doc = $doc] $v,)*
        }

        impl RaidType {
            /// Every type.
            pub const ALL: &'static [RaidType] = &[$(RaidType::$v,)*];
            /// The kernel's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(RaidType::$v => $s,)*
                }
            }
            /// From the kernel's name.
            pub fn from_name(s: &str) -> Option<RaidType> {
                match s {
                    $($s => Some(RaidType::$v),)*
                    _ => None,
                }
            }
        }
    };
}

raid_types! {
    Raid0 => "raid0", "`raid0`: striping, no redundancy.";
    Raid1 => "raid1", "`raid1`: mirroring.";
    Raid10 => "raid10", "`raid10`: striped mirrors.";
    Raid4 => "raid4", "`raid4`: dedicated parity (last device).";
    Raid5N => "raid5_n", "`raid5_n`: dedicated parity, last device (conversion layout).";
    Raid5La => "raid5_la", "`raid5_la`: left asymmetric.";
    Raid5Ra => "raid5_ra", "`raid5_ra`: right asymmetric.";
    Raid5Ls => "raid5_ls", "`raid5_ls`: left symmetric (lvm2's `raid5`).";
    Raid5Rs => "raid5_rs", "`raid5_rs`: right symmetric.";
    Raid6Zr => "raid6_zr", "`raid6_zr`: zero restart (lvm2's `raid6`).";
    Raid6Nr => "raid6_nr", "`raid6_nr`: N restart.";
    Raid6Nc => "raid6_nc", "`raid6_nc`: N continue.";
    Raid6N6 => "raid6_n_6", "`raid6_n_6`: dedicated P and Q.";
    Raid6La6 => "raid6_la_6", "`raid6_la_6`: raid5_la plus dedicated Q.";
    Raid6Ra6 => "raid6_ra_6", "`raid6_ra_6`: raid5_ra plus dedicated Q.";
    Raid6Ls6 => "raid6_ls_6", "`raid6_ls_6`: raid5_ls plus dedicated Q.";
    Raid6Rs6 => "raid6_rs_6", "`raid6_rs_6`: raid5_rs plus dedicated Q.";
}

impl fmt::Display for RaidType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Explicit sync request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaidSync {
    /// `sync`: resynchronise everything.
    Sync,
    /// `nosync`: assume in sync.
    NoSync,
}

/// One image: metadata and data device, either possibly absent (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaidDevice {
    /// Metadata device (lvm2's `_rmeta_N`).
    pub meta: Option<DevRef>,
    /// Data device (lvm2's `_rimage_N`).
    pub data: Option<DevRef>,
}

/// A dm-raid set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raid {
    /// Layout.
    pub raid_type: RaidType,
    /// Chunk (stripe) size, sectors; 0 for raid1.
    pub chunk_size: Sectors,
    /// `sync` / `nosync`.
    pub sync: Option<RaidSync>,
    /// `rebuild <idx>` entries.
    pub rebuild: Vec<u32>,
    /// `daemon_sleep <ms>`.
    pub daemon_sleep: Option<u64>,
    /// `min_recovery_rate <KiB/s>`.
    pub min_recovery_rate: Option<u64>,
    /// `max_recovery_rate <KiB/s>`.
    pub max_recovery_rate: Option<u64>,
    /// `write_mostly <idx>` entries.
    pub write_mostly: Vec<u32>,
    /// `max_write_behind <n>`.
    pub max_write_behind: Option<u64>,
    /// `stripe_cache <n>`.
    pub stripe_cache: Option<u64>,
    /// `region_size <sectors>`.
    pub region_size: Option<Sectors>,
    /// `raid10_copies <n>`.
    pub raid10_copies: Option<u32>,
    /// `raid10_format <near|far|offset>`.
    pub raid10_format: Option<String>,
    /// `delta_disks <±n>`.
    pub delta_disks: Option<i64>,
    /// `data_offset <sectors>`.
    pub data_offset: Option<Sectors>,
    /// `journal_dev <dev>`.
    pub journal_dev: Option<DevRef>,
    /// `journal_mode <writethrough|writeback>`.
    pub journal_mode: Option<String>,
    /// Images.
    pub devices: Vec<RaidDevice>,
}

impl Raid {
    /// A set with no options.
    pub fn new(raid_type: RaidType, chunk_size: Sectors, devices: Vec<RaidDevice>) -> Raid {
        Raid {
            raid_type,
            chunk_size,
            sync: None,
            rebuild: Vec::new(),
            daemon_sleep: None,
            min_recovery_rate: None,
            max_recovery_rate: None,
            write_mostly: Vec::new(),
            max_write_behind: None,
            stripe_cache: None,
            region_size: None,
            raid10_copies: None,
            raid10_format: None,
            delta_disks: None,
            data_offset: None,
            journal_dev: None,
            journal_mode: None,
            devices,
        }
    }

    /// Options after the chunk size, as words, in the kernel's order.
    fn option_words(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let mut kv = |k: &str, val: String| {
            v.push(k.to_string());
            v.push(val);
        };
        let mut single = Vec::new();
        match self.sync {
            Some(RaidSync::Sync) => single.push("sync".to_string()),
            Some(RaidSync::NoSync) => single.push("nosync".to_string()),
            None => {}
        }
        for i in &self.rebuild {
            kv("rebuild", i.to_string());
        }
        if let Some(x) = self.daemon_sleep {
            kv("daemon_sleep", x.to_string());
        }
        if let Some(x) = self.min_recovery_rate {
            kv("min_recovery_rate", x.to_string());
        }
        if let Some(x) = self.max_recovery_rate {
            kv("max_recovery_rate", x.to_string());
        }
        for i in &self.write_mostly {
            kv("write_mostly", i.to_string());
        }
        if let Some(x) = self.max_write_behind {
            kv("max_write_behind", x.to_string());
        }
        if let Some(x) = self.stripe_cache {
            kv("stripe_cache", x.to_string());
        }
        if let Some(x) = self.region_size {
            kv("region_size", x.to_string());
        }
        if let Some(x) = self.raid10_copies {
            kv("raid10_copies", x.to_string());
        }
        if let Some(x) = &self.raid10_format {
            kv("raid10_format", x.clone());
        }
        if let Some(x) = self.delta_disks {
            kv("delta_disks", x.to_string());
        }
        if let Some(x) = self.data_offset {
            kv("data_offset", x.to_string());
        }
        if let Some(x) = &self.journal_dev {
            kv("journal_dev", x.to_string());
        }
        if let Some(x) = &self.journal_mode {
            kv("journal_mode", x.clone());
        }
        single.extend(v);
        single
    }
}

impl TargetParams for Raid {
    const TARGET_TYPE: &'static str = "raid";
    fn dev_refs(&self) -> Vec<&DevRef> {
        let mut v: Vec<&DevRef> = self.journal_dev.iter().collect();
        for d in &self.devices {
            v.extend(d.meta.as_ref());
            v.extend(d.data.as_ref());
        }
        v
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        let mut v: Vec<&mut DevRef> = self.journal_dev.iter_mut().collect();
        for d in &mut self.devices {
            v.extend(d.meta.as_mut());
            v.extend(d.data.as_mut());
        }
        v
    }
}

impl fmt::Display for Raid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.option_words();
        write!(f, "{} {} {}", self.raid_type, 1 + words.len(), self.chunk_size)?;
        for w in &words {
            write!(f, " {w}")?;
        }
        write!(f, " {}", self.devices.len())?;
        let opt = |d: &Option<DevRef>| d.as_ref().map_or_else(|| "-".to_string(), |d| d.to_string());
        for d in &self.devices {
            write!(f, " {} {}", opt(&d.meta), opt(&d.data))?;
        }
        Ok(())
    }
}

impl FromStr for Raid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Raid> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let t = w.next("raid type")?;
        let raid_type = RaidType::from_name(t).ok_or_else(|| w.err(format!("unknown raid type {t:?}")))?;
        let nparams: usize = w.num("parameter count")?;
        if nparams == 0 {
            return Err(w.err("parameter count 0 (the chunk size is mandatory)"));
        }
        let chunk_size = w.sectors("chunk size")?;
        let mut x = Raid::new(raid_type, chunk_size, Vec::new());
        let mut left = nparams - 1;
        while left > 0 {
            let key = w.next("raid parameter")?;
            match key {
                "sync" | "nosync" => {
                    if x.sync.is_some() {
                        return Err(w.err("sync/nosync given twice"));
                    }
                    x.sync = Some(if key == "sync" { RaidSync::Sync } else { RaidSync::NoSync });
                    left -= 1;
                    continue;
                }
                _ => {}
            }
            if left < 2 {
                return Err(w.err(format!("{key} without a value inside the parameter count")));
            }
            left -= 2;
            let dup = || format!("{key} given twice");
            match key {
                "rebuild" => x.rebuild.push(w.num("rebuild index")?),
                "write_mostly" => x.write_mostly.push(w.num("write_mostly index")?),
                "daemon_sleep" | "min_recovery_rate" | "max_recovery_rate" | "max_write_behind"
                | "stripe_cache" => {
                    let v: u64 = w.num(key)?;
                    let slot = match key {
                        "daemon_sleep" => &mut x.daemon_sleep,
                        "min_recovery_rate" => &mut x.min_recovery_rate,
                        "max_recovery_rate" => &mut x.max_recovery_rate,
                        "max_write_behind" => &mut x.max_write_behind,
                        _ => &mut x.stripe_cache,
                    };
                    if slot.replace(v).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                "region_size" | "data_offset" => {
                    let v = w.sectors(key)?;
                    let slot = if key == "region_size" { &mut x.region_size } else { &mut x.data_offset };
                    if slot.replace(v).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                "raid10_copies" => {
                    if x.raid10_copies.replace(w.num(key)?).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                "delta_disks" => {
                    if x.delta_disks.replace(w.num(key)?).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                "raid10_format" | "journal_mode" => {
                    let v = w.next(key)?.to_string();
                    let slot =
                        if key == "raid10_format" { &mut x.raid10_format } else { &mut x.journal_mode };
                    if slot.replace(v).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                "journal_dev" => {
                    if x.journal_dev.replace(w.dev(key)?).is_some() {
                        return Err(w.err(dup()));
                    }
                }
                other => return Err(w.err(format!("unknown raid parameter {other:?}"))),
            }
        }
        let n: usize = w.num("device count")?;
        if n == 0 {
            return Err(w.err("no devices"));
        }
        let opt = |w: &mut Words, what: &str| -> Result<Option<DevRef>> {
            if w.peek() == Some("-") {
                w.next(what)?;
                Ok(None)
            } else {
                w.dev(what).map(Some)
            }
        };
        for i in 0..n {
            let meta = opt(&mut w, &format!("metadata device {i}"))?;
            let data = opt(&mut w, &format!("data device {i}"))?;
            x.devices.push(RaidDevice { meta, data });
        }
        w.end()?;
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_lines() {
        for l in [
            "raid1 3 0 region_size 4096 2 253:1 253:2 253:3 253:4",
            "raid5_ls 3 128 region_size 4096 3 253:1 253:2 253:3 253:4 253:5 253:6",
            "raid10 5 128 region_size 4096 raid10_copies 2 4 1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8",
            "raid0 1 128 2 - 1:2 - 1:4",
            "raid1 5 0 rebuild 1 region_size 1024 2 - - 1:3 1:4",
            "raid1 8 0 nosync min_recovery_rate 10 write_mostly 1 max_write_behind 256 2 1:1 1:2 1:3 1:4",
        ] {
            assert_eq!(l.parse::<Raid>().unwrap().to_string(), l);
        }
        // lvm2's old (1.9/1.10) order parses and prints in the kernel order.
        let r: Raid =
            "raid10 6 128 raid10_copies 2 nosync region_size 1024 2 1:1 1:2 1:3 1:4".parse().unwrap();
        assert_eq!(r.to_string(), "raid10 6 128 nosync region_size 1024 raid10_copies 2 2 1:1 1:2 1:3 1:4");
        for bad in [
            "raid5 1 128 1 - 1:1",
            "raid1 2 0 region_size 2 1:1 1:2",
            "raid1 3 0 bogus 1 1 1:1 1:2",
            "raid1 1 0 2 1:1 1:2",
            "raid1 1 0 0",
            "raid1 3 0 region_size 1 region_size 2 1 1:1 1:2",
        ] {
            assert!(bad.parse::<Raid>().is_err(), "{bad}");
        }
    }

    fn opt_dev() -> impl Strategy<Value = Option<DevRef>> {
        proptest::option::of(dev_ref())
    }

    prop_compose! {
        fn raid()(
            t in proptest::sample::select(RaidType::ALL),
            chunk_size in sectors(),
            sync in proptest::option::of(prop_oneof![Just(RaidSync::Sync), Just(RaidSync::NoSync)]),
            rebuild in proptest::collection::vec(0u32..256, 0..3),
            nums in proptest::collection::vec(proptest::option::of(any::<u64>()), 5),
            write_mostly in proptest::collection::vec(0u32..256, 0..3),
            region_size in proptest::option::of(sectors()),
            raid10_copies in proptest::option::of(any::<u32>()),
            raid10_format in proptest::option::of(word()),
            delta_disks in proptest::option::of(any::<i64>()),
            data_offset in proptest::option::of(sectors()),
            journal_dev in opt_dev(),
            journal_mode in proptest::option::of(word()),
            devices in proptest::collection::vec((opt_dev(), opt_dev()), 1..6),
        ) -> Raid {
            Raid {
                raid_type: t,
                chunk_size,
                sync,
                rebuild,
                daemon_sleep: nums[0],
                min_recovery_rate: nums[1],
                max_recovery_rate: nums[2],
                write_mostly,
                max_write_behind: nums[3],
                stripe_cache: nums[4],
                region_size,
                raid10_copies,
                raid10_format,
                delta_disks,
                data_offset,
                journal_dev,
                journal_mode,
                devices: devices.into_iter().map(|(meta, data)| RaidDevice { meta, data }).collect(),
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(x in raid()) {
            prop_assert_eq!(x.to_string().parse::<Raid>().unwrap(), x);
        }
    }
}
