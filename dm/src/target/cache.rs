//! `cache <metadata dev> <cache dev> <origin dev> <block size> <#features> <feature>*
//! <policy> <#policy args> (<key> <value>)*`.
//!
//! The kernel echoes its constructor arguments in `dmsetup table`; `Display` prints features in
//! lvm2's order (`metadata2`, then the mode, then `no_discard_passdown`).

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// Cache write mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// `writethrough` (the kernel's default).
    Writethrough,
    /// `writeback`.
    Writeback,
    /// `passthrough`.
    Passthrough,
}

impl CacheMode {
    /// Kernel word.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::Writethrough => "writethrough",
            CacheMode::Writeback => "writeback",
            CacheMode::Passthrough => "passthrough",
        }
    }
}

/// Cache features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheFeatures {
    /// `metadata2`: metadata format 2.
    pub metadata2: bool,
    /// Write mode, if given.
    pub mode: Option<CacheMode>,
    /// `no_discard_passdown`.
    pub no_discard_passdown: bool,
}

/// A dm-cache device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    /// Metadata device (lvm2's `_cmeta`).
    pub metadata: DevRef,
    /// Fast device (lvm2's `_cdata`).
    pub cache: DevRef,
    /// Slow origin device (lvm2's `_corig`).
    pub origin: DevRef,
    /// Cache block size, sectors.
    pub block_size: Sectors,
    /// Features.
    pub features: CacheFeatures,
    /// Policy name (`smq`, `mq`, `cleaner`, `default`).
    pub policy: String,
    /// Policy arguments, key/value pairs.
    pub policy_args: Vec<(String, String)>,
}

impl TargetParams for Cache {
    const TARGET_TYPE: &'static str = "cache";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.metadata, &self.cache, &self.origin]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.metadata, &mut self.cache, &mut self.origin]
    }
}

impl fmt::Display for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut feats: Vec<&str> = Vec::new();
        if self.features.metadata2 {
            feats.push("metadata2");
        }
        if let Some(m) = self.features.mode {
            feats.push(m.as_str());
        }
        if self.features.no_discard_passdown {
            feats.push("no_discard_passdown");
        }
        write!(f, "{} {} {} {} {}", self.metadata, self.cache, self.origin, self.block_size, feats.len())?;
        for w in feats {
            write!(f, " {w}")?;
        }
        write!(f, " {} {}", self.policy, self.policy_args.len() * 2)?;
        for (k, v) in &self.policy_args {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}

impl FromStr for Cache {
    type Err = Error;
    fn from_str(s: &str) -> Result<Cache> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let metadata = w.dev("metadata device")?;
        let cache = w.dev("cache device")?;
        let origin = w.dev("origin device")?;
        let block_size = w.sectors("block size")?;
        let nf: usize = w.num("feature count")?;
        let mut features = CacheFeatures::default();
        for _ in 0..nf {
            let f = w.next("feature")?;
            let mode = match f {
                "metadata2" => {
                    features.metadata2 = true;
                    continue;
                }
                "no_discard_passdown" => {
                    features.no_discard_passdown = true;
                    continue;
                }
                "writethrough" => CacheMode::Writethrough,
                "writeback" => CacheMode::Writeback,
                "passthrough" => CacheMode::Passthrough,
                other => return Err(w.err(format!("unknown feature {other:?}"))),
            };
            if features.mode.replace(mode).is_some() {
                return Err(w.err("more than one cache mode"));
            }
        }
        let policy = w.next("policy")?.to_string();
        let na: usize = w.num("policy argument count")?;
        if !na.is_multiple_of(2) {
            return Err(w.err(format!("{na} policy arguments (key/value pairs expected)")));
        }
        let mut policy_args = Vec::with_capacity((na / 2).min(64));
        for _ in 0..na / 2 {
            let k = w.next("policy key")?.to_string();
            let v = w.next("policy value")?.to_string();
            policy_args.push((k, v));
        }
        w.end()?;
        Ok(Cache { metadata, cache, origin, block_size, features, policy, policy_args })
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
            "253:1 253:2 253:3 128 2 metadata2 writethrough smq 0",
            "253:1 253:2 253:3 256 1 writeback smq 2 migration_threshold 4096",
            "253:1 253:2 253:3 128 1 writethrough cleaner 0",
        ] {
            assert_eq!(l.parse::<Cache>().unwrap().to_string(), l);
        }
        for bad in [
            "1:1 1:2 1:3 128 1 bogus smq 0",
            "1:1 1:2 1:3 128 2 writeback writethrough smq 0",
            "1:1 1:2 1:3 128 0 smq 1 x",
            "1:1 1:2 1:3 128 0 smq",
        ] {
            assert!(bad.parse::<Cache>().is_err(), "{bad}");
        }
    }

    prop_compose! {
        fn cache()(metadata in dev_ref(), cache in dev_ref(), origin in dev_ref(), block_size in sectors(),
                   metadata2: bool, no_discard_passdown: bool,
                   mode in proptest::option::of(prop_oneof![Just(CacheMode::Writethrough), Just(CacheMode::Writeback), Just(CacheMode::Passthrough)]),
                   policy in word(), policy_args in proptest::collection::vec((word(), "[0-9]{1,6}"), 0..4)) -> Cache {
            Cache { metadata, cache, origin, block_size, features: CacheFeatures { metadata2, mode, no_discard_passdown }, policy, policy_args }
        }
    }

    proptest! {
        #[test]
        fn round_trip(x in cache()) {
            prop_assert_eq!(x.to_string().parse::<Cache>().unwrap(), x);
        }
    }
}
