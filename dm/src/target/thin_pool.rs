//! `thin-pool <metadata dev> <data dev> <data block size> <low water mark> [<#features>
//! <feature>*]`, and the messages a pool accepts.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// Optional thin-pool features.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThinPoolFeatures {
    /// `skip_block_zeroing`: newly provisioned blocks are not zeroed.
    pub skip_block_zeroing: bool,
    /// `ignore_discard`.
    pub ignore_discard: bool,
    /// `no_discard_passdown`.
    pub no_discard_passdown: bool,
    /// `read_only`.
    pub read_only: bool,
    /// `error_if_no_space`: fail writes instead of queueing them when the pool is full.
    pub error_if_no_space: bool,
}

impl ThinPoolFeatures {
    /// Set features in the kernel's reporting order.
    fn words(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.skip_block_zeroing {
            v.push("skip_block_zeroing");
        }
        if self.ignore_discard {
            v.push("ignore_discard");
        }
        if self.no_discard_passdown {
            v.push("no_discard_passdown");
        }
        if self.read_only {
            v.push("read_only");
        }
        if self.error_if_no_space {
            v.push("error_if_no_space");
        }
        v
    }
}

/// A thin-provisioning pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThinPool {
    /// Pool metadata device (lvm2's `_tmeta`).
    pub metadata: DevRef,
    /// Pool data device (lvm2's `_tdata`).
    pub data: DevRef,
    /// Data block size, sectors (128..=2097152, a multiple of 128).
    pub block_size: Sectors,
    /// Free data blocks below which the kernel raises an event.
    pub low_water_mark: u64,
    /// Features.
    pub features: ThinPoolFeatures,
}

impl TargetParams for ThinPool {
    const TARGET_TYPE: &'static str = "thin-pool";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.metadata, &self.data]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.metadata, &mut self.data]
    }
}

impl fmt::Display for ThinPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.features.words();
        write!(
            f,
            "{} {} {} {} {}",
            self.metadata,
            self.data,
            self.block_size,
            self.low_water_mark,
            words.len()
        )?;
        for w in words {
            write!(f, " {w}")?;
        }
        Ok(())
    }
}

impl FromStr for ThinPool {
    type Err = Error;
    fn from_str(s: &str) -> Result<ThinPool> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let metadata = w.dev("metadata device")?;
        let data = w.dev("data device")?;
        let block_size = w.sectors("data block size")?;
        let low_water_mark = w.num("low water mark")?;
        let mut features = ThinPoolFeatures::default();
        if w.peek().is_some() {
            let n: usize = w.num("feature count")?;
            for _ in 0..n {
                let f = w.next("feature")?;
                let flag = match f {
                    "skip_block_zeroing" => &mut features.skip_block_zeroing,
                    "ignore_discard" => &mut features.ignore_discard,
                    "no_discard_passdown" => &mut features.no_discard_passdown,
                    "read_only" => &mut features.read_only,
                    "error_if_no_space" => &mut features.error_if_no_space,
                    other => return Err(w.err(format!("unknown feature {other:?}"))),
                };
                *flag = true;
            }
        }
        w.end()?;
        Ok(ThinPool { metadata, data, block_size, low_water_mark, features })
    }
}

/// A message to a thin-pool device (`dmsetup message <pool> 0 <message>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolMessage {
    /// `create_thin <dev id>`.
    CreateThin(u32),
    /// `create_snap <dev id> <origin dev id>`.
    CreateSnap(u32, u32),
    /// `delete <dev id>`.
    Delete(u32),
    /// `set_transaction_id <current id> <new id>`.
    SetTransactionId(u64, u64),
    /// `reserve_metadata_snap`.
    ReserveMetadataSnap,
    /// `release_metadata_snap`.
    ReleaseMetadataSnap,
}

impl fmt::Display for PoolMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolMessage::CreateThin(id) => write!(f, "create_thin {id}"),
            PoolMessage::CreateSnap(id, origin) => write!(f, "create_snap {id} {origin}"),
            PoolMessage::Delete(id) => write!(f, "delete {id}"),
            PoolMessage::SetTransactionId(old, new) => write!(f, "set_transaction_id {old} {new}"),
            PoolMessage::ReserveMetadataSnap => f.write_str("reserve_metadata_snap"),
            PoolMessage::ReleaseMetadataSnap => f.write_str("release_metadata_snap"),
        }
    }
}

impl FromStr for PoolMessage {
    type Err = Error;
    fn from_str(s: &str) -> Result<PoolMessage> {
        let mut w = Words::new("thin-pool message", s);
        let m = match w.next("message")? {
            "create_thin" => PoolMessage::CreateThin(w.num("device id")?),
            "create_snap" => PoolMessage::CreateSnap(w.num("device id")?, w.num("origin device id")?),
            "delete" => PoolMessage::Delete(w.num("device id")?),
            "set_transaction_id" => {
                PoolMessage::SetTransactionId(w.num("current transaction id")?, w.num("new transaction id")?)
            }
            "reserve_metadata_snap" => PoolMessage::ReserveMetadataSnap,
            "release_metadata_snap" => PoolMessage::ReleaseMetadataSnap,
            other => return Err(w.err(format!("unknown message {other:?}"))),
        };
        w.end()?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_lines() {
        let p: ThinPool = "253:1 253:2 128 0 0".parse().unwrap();
        assert_eq!(p.features, ThinPoolFeatures::default());
        assert_eq!(p.to_string(), "253:1 253:2 128 0 0");
        let p: ThinPool = "253:1 253:2 128 0 2 ignore_discard skip_block_zeroing".parse().unwrap();
        assert!(p.features.skip_block_zeroing && p.features.ignore_discard);
        assert_eq!(p.to_string(), "253:1 253:2 128 0 2 skip_block_zeroing ignore_discard");
        // lvm2 orders error_if_no_space before read_only, the kernel after; both parse.
        let p: ThinPool = "1:1 1:2 128 9 2 error_if_no_space read_only".parse().unwrap();
        assert_eq!(p.to_string(), "1:1 1:2 128 9 2 read_only error_if_no_space");
        // No feature count at all is accepted (the kernel's minimum is four arguments).
        assert_eq!("1:1 1:2 128 0".parse::<ThinPool>().unwrap().to_string(), "1:1 1:2 128 0 0");
        assert!("1:1 1:2 128 0 1 bogus".parse::<ThinPool>().is_err());
        assert!("1:1 1:2 128 0 2 read_only".parse::<ThinPool>().is_err());
    }

    #[test]
    fn messages() {
        for m in [
            "create_thin 1",
            "create_snap 4 3",
            "delete 2",
            "set_transaction_id 4 5",
            "reserve_metadata_snap",
        ] {
            assert_eq!(m.parse::<PoolMessage>().unwrap().to_string(), m);
        }
        assert!("create_thin".parse::<PoolMessage>().is_err());
        assert!("trim 1".parse::<PoolMessage>().is_err());
    }

    prop_compose! {
        fn features()(a: bool, b: bool, c: bool, d: bool, e: bool) -> ThinPoolFeatures {
            ThinPoolFeatures { skip_block_zeroing: a, ignore_discard: b, no_discard_passdown: c, read_only: d, error_if_no_space: e }
        }
    }

    fn message() -> impl Strategy<Value = PoolMessage> {
        prop_oneof![
            any::<u32>().prop_map(PoolMessage::CreateThin),
            (any::<u32>(), any::<u32>()).prop_map(|(a, b)| PoolMessage::CreateSnap(a, b)),
            any::<u32>().prop_map(PoolMessage::Delete),
            (any::<u64>(), any::<u64>()).prop_map(|(a, b)| PoolMessage::SetTransactionId(a, b)),
            Just(PoolMessage::ReserveMetadataSnap),
            Just(PoolMessage::ReleaseMetadataSnap),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(metadata in dev_ref(), data in dev_ref(), block_size in sectors(), low_water_mark: u64, features in features()) {
            let x = ThinPool { metadata, data, block_size, low_water_mark, features };
            prop_assert_eq!(x.to_string().parse::<ThinPool>().unwrap(), x);
        }

        #[test]
        fn message_round_trip(m in message()) {
            prop_assert_eq!(m.to_string().parse::<PoolMessage>().unwrap(), m);
        }
    }
}
