//! `mirror <log type> <#log args> <log args>* <#legs> (<dev> <offset>)+ [<#features>
//! <feature>*]` with a `core` or `disk` log.
//!
//! Log arguments: `core <region size> [sync|nosync]`, `disk <log dev> <region size>
//! [sync|nosync]`. Features: `handle_errors`, `keep_log`. (Cluster logs — `userspace`,
//! `clustered-*` — and the pre-2.6.22 `block_on_error` log argument are not modelled.)

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// Where the region log lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MirrorLogKind {
    /// `core`: in memory (full resync after every activation).
    Core,
    /// `disk`: on a log device (lvm2's `_mlog`).
    Disk(DevRef),
}

/// Explicit initial sync state of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSync {
    /// `sync`: force a resync.
    Sync,
    /// `nosync`: assume in sync.
    NoSync,
}

/// The region log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorLog {
    /// Core or disk.
    pub kind: MirrorLogKind,
    /// Region size, sectors.
    pub region_size: Sectors,
    /// `sync`/`nosync`, if given.
    pub sync: Option<LogSync>,
}

/// One leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorLeg {
    /// Device.
    pub dev: DevRef,
    /// Start on it, sectors.
    pub offset: Sectors,
}

/// Mirror features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MirrorFeatures {
    /// `handle_errors`: fail a leg on error (and wait for userspace, dmeventd, to repair).
    pub handle_errors: bool,
    /// `keep_log`.
    pub keep_log: bool,
}

/// A legacy dm-mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// Log.
    pub log: MirrorLog,
    /// Legs, at least one.
    pub legs: Vec<MirrorLeg>,
    /// Features.
    pub features: MirrorFeatures,
}

impl TargetParams for Mirror {
    const TARGET_TYPE: &'static str = "mirror";
    fn dev_refs(&self) -> Vec<&DevRef> {
        let mut v = Vec::new();
        if let MirrorLogKind::Disk(d) = &self.log.kind {
            v.push(d);
        }
        v.extend(self.legs.iter().map(|l| &l.dev));
        v
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        let mut v = Vec::new();
        if let MirrorLogKind::Disk(d) = &mut self.log.kind {
            v.push(d);
        }
        v.extend(self.legs.iter_mut().map(|l| &mut l.dev));
        v
    }
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sync = usize::from(self.log.sync.is_some());
        match &self.log.kind {
            MirrorLogKind::Core => write!(f, "core {} {}", 1 + sync, self.log.region_size)?,
            MirrorLogKind::Disk(d) => write!(f, "disk {} {d} {}", 2 + sync, self.log.region_size)?,
        }
        match self.log.sync {
            Some(LogSync::Sync) => f.write_str(" sync")?,
            Some(LogSync::NoSync) => f.write_str(" nosync")?,
            None => {}
        }
        write!(f, " {}", self.legs.len())?;
        for l in &self.legs {
            write!(f, " {} {}", l.dev, l.offset)?;
        }
        let n = usize::from(self.features.handle_errors) + usize::from(self.features.keep_log);
        if n > 0 {
            write!(f, " {n}")?;
            if self.features.handle_errors {
                f.write_str(" handle_errors")?;
            }
            if self.features.keep_log {
                f.write_str(" keep_log")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Mirror {
    type Err = Error;
    fn from_str(s: &str) -> Result<Mirror> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let log_type = w.next("log type")?;
        let nargs: usize = w.num("log argument count")?;
        let (kind, fixed) = match log_type {
            "core" => (MirrorLogKind::Core, 1),
            "disk" => (MirrorLogKind::Disk(w.dev("log device")?), 2),
            other => return Err(w.err(format!("log type {other:?} is not core or disk"))),
        };
        if nargs != fixed && nargs != fixed + 1 {
            return Err(w.err(format!("{nargs} {log_type} log arguments")));
        }
        let region_size = w.sectors("region size")?;
        let sync = if nargs == fixed + 1 {
            match w.next("sync mode")? {
                "sync" => Some(LogSync::Sync),
                "nosync" => Some(LogSync::NoSync),
                other => return Err(w.err(format!("log argument {other:?} is not sync or nosync"))),
            }
        } else {
            None
        };
        let n: usize = w.num("leg count")?;
        if n == 0 {
            return Err(w.err("no legs"));
        }
        let mut legs = Vec::with_capacity(n.min(64));
        for i in 0..n {
            let dev = w.dev(&format!("device of leg {i}"))?;
            let offset = w.sectors(&format!("offset of leg {i}"))?;
            legs.push(MirrorLeg { dev, offset });
        }
        let mut features = MirrorFeatures::default();
        if w.peek().is_some() {
            let k: usize = w.num("feature count")?;
            for _ in 0..k {
                match w.next("feature")? {
                    "handle_errors" => features.handle_errors = true,
                    "keep_log" => features.keep_log = true,
                    other => return Err(w.err(format!("unknown feature {other:?}"))),
                }
            }
        }
        w.end()?;
        Ok(Mirror { log: MirrorLog { kind, region_size, sync }, legs, features })
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
            "core 1 1024 2 253:1 0 253:2 0 1 handle_errors",
            "core 2 1024 nosync 2 253:1 0 253:2 0",
            "disk 2 253:5 1024 2 253:1 0 253:2 0 1 handle_errors",
            "disk 3 253:5 1024 sync 3 253:1 0 253:2 0 253:3 0 2 handle_errors keep_log",
        ] {
            assert_eq!(l.parse::<Mirror>().unwrap().to_string(), l);
        }
        for bad in [
            "core 1 1024 0",
            "core 3 1024 nosync 1 1:1 0",
            "userspace 1 x 1 1:1 0",
            "core 1 1024 1 1:1 0 1 x",
        ] {
            assert!(bad.parse::<Mirror>().is_err(), "{bad}");
        }
    }

    fn log() -> impl Strategy<Value = MirrorLog> {
        let kind = prop_oneof![Just(MirrorLogKind::Core), dev_ref().prop_map(MirrorLogKind::Disk)];
        let sync = proptest::option::of(prop_oneof![Just(LogSync::Sync), Just(LogSync::NoSync)]);
        (kind, sectors(), sync).prop_map(|(kind, region_size, sync)| MirrorLog { kind, region_size, sync })
    }

    proptest! {
        #[test]
        fn round_trip(log in log(), legs in proptest::collection::vec((dev_ref(), sectors()), 1..5), handle_errors: bool, keep_log: bool) {
            let x = Mirror {
                log,
                legs: legs.into_iter().map(|(dev, offset)| MirrorLeg { dev, offset }).collect(),
                features: MirrorFeatures { handle_errors, keep_log },
            };
            prop_assert_eq!(x.to_string().parse::<Mirror>().unwrap(), x);
        }
    }
}
