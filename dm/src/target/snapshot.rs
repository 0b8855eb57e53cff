//! `snapshot-origin <origin>`, `snapshot <origin> <cow> <P|PO|N> <chunk size> [<#features>
//! <feature>*]` and `snapshot-merge` (same parameters as `snapshot`).

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// The origin of COW snapshots: passes I/O to the origin's real device, copying chunks out to
/// the snapshots before they are overwritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotOrigin {
    /// The origin's real device (lvm2's `-real` layer).
    pub origin: DevRef,
}

impl TargetParams for SnapshotOrigin {
    const TARGET_TYPE: &'static str = "snapshot-origin";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.origin]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.origin]
    }
}

impl fmt::Display for SnapshotOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)
    }
}

impl FromStr for SnapshotOrigin {
    type Err = Error;
    fn from_str(s: &str) -> Result<SnapshotOrigin> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let origin = w.dev("origin device")?;
        w.end()?;
        Ok(SnapshotOrigin { origin })
    }
}

/// How the exception store is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotStore {
    /// `P`: persistent.
    Persistent,
    /// `PO`: persistent, overflow reported instead of invalidating (kernel ≥ 4.3 prints this when
    /// it was requested).
    PersistentOverflow,
    /// `N`: transient.
    Transient,
}

impl SnapshotStore {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotStore::Persistent => "P",
            SnapshotStore::PersistentOverflow => "PO",
            SnapshotStore::Transient => "N",
        }
    }
}

/// A COW snapshot of `origin`, exceptions kept on `cow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The origin's real device.
    pub origin: DevRef,
    /// The exception store (lvm2's `-cow` layer).
    pub cow: DevRef,
    /// Store kind.
    pub store: SnapshotStore,
    /// Chunk size, sectors.
    pub chunk_size: Sectors,
    /// Feature `discard_zeroes_cow`.
    pub discard_zeroes_cow: bool,
    /// Feature `discard_passdown_origin` (needs `discard_zeroes_cow`).
    pub discard_passdown_origin: bool,
}

impl TargetParams for Snapshot {
    const TARGET_TYPE: &'static str = "snapshot";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.origin, &self.cow]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.origin, &mut self.cow]
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.origin, self.cow, self.store.as_str(), self.chunk_size)?;
        let n = usize::from(self.discard_zeroes_cow) + usize::from(self.discard_passdown_origin);
        if n > 0 {
            write!(f, " {n}")?;
            if self.discard_zeroes_cow {
                f.write_str(" discard_zeroes_cow")?;
            }
            if self.discard_passdown_origin {
                f.write_str(" discard_passdown_origin")?;
            }
        }
        Ok(())
    }
}

fn parse_snapshot(target: &'static str, s: &str) -> Result<Snapshot> {
    let mut w = Words::new(target, s);
    let origin = w.dev("origin device")?;
    let cow = w.dev("COW device")?;
    let store = match w.next("persistence (P, PO or N)")? {
        "P" | "p" => SnapshotStore::Persistent,
        "PO" | "po" => SnapshotStore::PersistentOverflow,
        "N" | "n" => SnapshotStore::Transient,
        other => return Err(w.err(format!("persistence {other:?} is not P, PO or N"))),
    };
    let chunk_size = w.sectors("chunk size")?;
    let mut x = Snapshot {
        origin,
        cow,
        store,
        chunk_size,
        discard_zeroes_cow: false,
        discard_passdown_origin: false,
    };
    if w.peek().is_some() {
        let n: usize = w.num("feature count")?;
        for _ in 0..n {
            match w.next("feature")? {
                "discard_zeroes_cow" => x.discard_zeroes_cow = true,
                "discard_passdown_origin" => x.discard_passdown_origin = true,
                other => return Err(w.err(format!("unknown feature {other:?}"))),
            }
        }
    }
    w.end()?;
    Ok(x)
}

impl FromStr for Snapshot {
    type Err = Error;
    fn from_str(s: &str) -> Result<Snapshot> {
        parse_snapshot(Self::TARGET_TYPE, s)
    }
}

/// `snapshot-merge`: merges a snapshot back into its origin; loaded on the origin's device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMerge(pub Snapshot);

impl TargetParams for SnapshotMerge {
    const TARGET_TYPE: &'static str = "snapshot-merge";
    fn dev_refs(&self) -> Vec<&DevRef> {
        self.0.dev_refs()
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        self.0.dev_refs_mut()
    }
}

impl fmt::Display for SnapshotMerge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for SnapshotMerge {
    type Err = Error;
    fn from_str(s: &str) -> Result<SnapshotMerge> {
        parse_snapshot(Self::TARGET_TYPE, s).map(SnapshotMerge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_lines() {
        let s: Snapshot = "253:2 253:3 P 8".parse().unwrap();
        assert_eq!(s.store, SnapshotStore::Persistent);
        assert_eq!(s.chunk_size, Sectors(8));
        assert_eq!(s.to_string(), "253:2 253:3 P 8");
        let s: Snapshot = "253:2 253:3 P 16 2 discard_zeroes_cow discard_passdown_origin".parse().unwrap();
        assert!(s.discard_zeroes_cow && s.discard_passdown_origin);
        assert!("253:2 253:3 X 16".parse::<Snapshot>().is_err());
        assert!("253:2 253:3 P 16 1 bogus".parse::<Snapshot>().is_err());
        assert_eq!("253:2".parse::<SnapshotOrigin>().unwrap().to_string(), "253:2");
        assert_eq!("<a> <b> N 32".parse::<SnapshotMerge>().unwrap().to_string(), "<a> <b> N 32");
    }

    fn store() -> impl Strategy<Value = SnapshotStore> {
        prop_oneof![
            Just(SnapshotStore::Persistent),
            Just(SnapshotStore::PersistentOverflow),
            Just(SnapshotStore::Transient)
        ]
    }

    prop_compose! {
        fn snapshot()(origin in dev_ref(), cow in dev_ref(), store in store(), chunk_size in sectors(),
                      discard_zeroes_cow: bool, discard_passdown_origin: bool) -> Snapshot {
            Snapshot { origin, cow, store, chunk_size, discard_zeroes_cow, discard_passdown_origin }
        }
    }

    proptest! {
        #[test]
        fn round_trip(x in snapshot(), origin in dev_ref()) {
            prop_assert_eq!(x.to_string().parse::<Snapshot>().unwrap(), x.clone());
            let m = SnapshotMerge(x);
            prop_assert_eq!(m.to_string().parse::<SnapshotMerge>().unwrap(), m);
            let o = SnapshotOrigin { origin };
            prop_assert_eq!(o.to_string().parse::<SnapshotOrigin>().unwrap(), o);
        }
    }
}
