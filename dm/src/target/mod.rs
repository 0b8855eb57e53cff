//! Typed target parameters, one module per target, and [`Target`], the sum of them.
//!
//! Each type's `Display` is the parameter text the kernel accepts in a table load and prints
//! back in `dmsetup table` (device references as `major:minor`, or `<label>` while pending);
//! `FromStr` parses that text. Where the kernel prints options in a fixed order, `Display` uses
//! that order and `FromStr` accepts any order.

mod cache;
mod error;
mod integrity;
mod linear;
mod mirror;
mod raid;
mod snapshot;
mod striped;
mod thin;
mod thin_pool;
mod writecache;
mod zero;

pub use cache::{Cache, CacheFeatures, CacheMode};
pub use error::ErrorTarget;
pub use integrity::{Integrity, IntegrityArg};
pub use linear::Linear;
pub use mirror::{LogSync, Mirror, MirrorFeatures, MirrorLeg, MirrorLog, MirrorLogKind};
pub use raid::{Raid, RaidDevice, RaidSync, RaidType};
pub use snapshot::{Snapshot, SnapshotMerge, SnapshotOrigin, SnapshotStore};
pub use striped::{Stripe, Striped};
pub use thin::{MAX_THIN_DEVICE_ID, Thin};
pub use thin_pool::{PoolMessage, ThinPool, ThinPoolFeatures};
pub use writecache::{Writecache, WritecacheOptions};
pub use zero::Zero;

use std::fmt;
use std::str::FromStr;

use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// Parameters of one target type.
pub trait TargetParams: fmt::Display + FromStr<Err = Error> + Clone + fmt::Debug + PartialEq {
    /// The kernel's target type name (`linear`, `thin-pool`, …).
    const TARGET_TYPE: &'static str;
    /// Devices referenced, in parameter order.
    fn dev_refs(&self) -> Vec<&DevRef>;
    /// Devices referenced, for resolution.
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef>;
}

/// The target of one table line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `linear`.
    Linear(Linear),
    /// `striped`.
    Striped(Striped),
    /// `error`.
    Error(ErrorTarget),
    /// `zero`.
    Zero(Zero),
    /// `snapshot-origin`.
    SnapshotOrigin(SnapshotOrigin),
    /// `snapshot`.
    Snapshot(Snapshot),
    /// `snapshot-merge`.
    SnapshotMerge(SnapshotMerge),
    /// `thin-pool`.
    ThinPool(ThinPool),
    /// `thin`.
    Thin(Thin),
    /// `mirror`.
    Mirror(Mirror),
    /// `raid`.
    Raid(Raid),
    /// `cache`.
    Cache(Cache),
    /// `writecache`.
    Writecache(Writecache),
    /// `integrity`.
    Integrity(Integrity),
    /// Any other target, parameters kept verbatim (device references in it are not seen).
    Other {
        /// Target type.
        target_type: String,
        /// Parameters, whitespace-trimmed.
        params: String,
    },
}

macro_rules! dispatch {
    ($self:expr, $p:ident => $e:expr, $other:pat => $o:expr) => {
        match $self {
            Target::Linear($p) => $e,
            Target::Striped($p) => $e,
            Target::Error($p) => $e,
            Target::Zero($p) => $e,
            Target::SnapshotOrigin($p) => $e,
            Target::Snapshot($p) => $e,
            Target::SnapshotMerge($p) => $e,
            Target::ThinPool($p) => $e,
            Target::Thin($p) => $e,
            Target::Mirror($p) => $e,
            Target::Raid($p) => $e,
            Target::Cache($p) => $e,
            Target::Writecache($p) => $e,
            Target::Integrity($p) => $e,
            $other => $o,
        }
    };
}

fn type_of<T: TargetParams>(_: &T) -> &'static str {
    T::TARGET_TYPE
}

impl Target {
    /// The kernel's target type name.
    pub fn target_type(&self) -> &str {
        dispatch!(self, p => type_of(p), Target::Other { target_type, .. } => target_type)
    }

    /// The parameter text (empty for `error`/`zero`).
    pub fn params(&self) -> String {
        dispatch!(self, p => p.to_string(), Target::Other { params, .. } => params.clone())
    }

    /// Parse parameters of the given target type; unknown types become [`Target::Other`].
    pub fn parse(target_type: &str, params: &str) -> Result<Target> {
        let p = params.trim();
        Ok(match target_type {
            Linear::TARGET_TYPE => Target::Linear(p.parse()?),
            Striped::TARGET_TYPE => Target::Striped(p.parse()?),
            ErrorTarget::TARGET_TYPE => Target::Error(p.parse()?),
            Zero::TARGET_TYPE => Target::Zero(p.parse()?),
            SnapshotOrigin::TARGET_TYPE => Target::SnapshotOrigin(p.parse()?),
            Snapshot::TARGET_TYPE => Target::Snapshot(p.parse()?),
            SnapshotMerge::TARGET_TYPE => Target::SnapshotMerge(p.parse()?),
            ThinPool::TARGET_TYPE => Target::ThinPool(p.parse()?),
            Thin::TARGET_TYPE => Target::Thin(p.parse()?),
            Mirror::TARGET_TYPE => Target::Mirror(p.parse()?),
            Raid::TARGET_TYPE => Target::Raid(p.parse()?),
            Cache::TARGET_TYPE => Target::Cache(p.parse()?),
            Writecache::TARGET_TYPE => Target::Writecache(p.parse()?),
            Integrity::TARGET_TYPE => Target::Integrity(p.parse()?),
            other => Target::Other { target_type: other.to_string(), params: p.to_string() },
        })
    }

    /// Whether `live`, as the kernel prints it back, is this target loaded. The kernel echoes
    /// most targets' parameters as given; `integrity` it prints in its own form (see
    /// [`Integrity::same_device_as`]).
    pub fn same_device_as(&self, live: &Target) -> bool {
        match (self, live) {
            (Target::Integrity(a), Target::Integrity(b)) => a.same_device_as(b),
            _ => self == live,
        }
    }

    /// Devices referenced, in parameter order.
    pub fn dev_refs(&self) -> Vec<&DevRef> {
        dispatch!(self, p => p.dev_refs(), Target::Other { .. } => Vec::new())
    }

    /// Devices referenced, for resolution.
    pub fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        dispatch!(self, p => p.dev_refs_mut(), Target::Other { .. } => Vec::new())
    }
}

/// A whitespace-separated parameter string being parsed; errors name the target and quote the
/// whole string.
pub(crate) struct Words<'a> {
    target: &'static str,
    params: &'a str,
    it: std::iter::Peekable<std::str::SplitAsciiWhitespace<'a>>,
}

impl<'a> Words<'a> {
    pub(crate) fn new(target: &'static str, params: &'a str) -> Self {
        Words { target, params, it: params.split_ascii_whitespace().peekable() }
    }

    pub(crate) fn err(&self, why: impl Into<String>) -> Error {
        Error::BadParams { target: self.target.to_string(), params: self.params.to_string(), why: why.into() }
    }

    pub(crate) fn next(&mut self, what: &str) -> Result<&'a str> {
        match self.it.next() {
            Some(w) => Ok(w),
            None => Err(self.err(format!("missing {what}"))),
        }
    }

    pub(crate) fn peek(&mut self) -> Option<&'a str> {
        self.it.peek().copied()
    }

    pub(crate) fn num<T: FromStr>(&mut self, what: &str) -> Result<T> {
        let w = self.next(what)?;
        if !w.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
            return Err(self.err(format!("{what} {w:?} is not a number")));
        }
        w.parse().map_err(|_| self.err(format!("{what} {w:?} is not a number in range")))
    }

    pub(crate) fn sectors(&mut self, what: &str) -> Result<Sectors> {
        self.num::<u64>(what).map(Sectors)
    }

    pub(crate) fn dev(&mut self, what: &str) -> Result<DevRef> {
        let w = self.next(what)?;
        w.parse().map_err(|_| self.err(format!("{what} {w:?} is not MAJOR:MINOR or <label>")))
    }

    pub(crate) fn end(mut self) -> Result<()> {
        match self.it.next() {
            None => Ok(()),
            Some(w) => Err(self.err(format!("unexpected {w:?} after the last parameter"))),
        }
    }
}

/// proptest strategies shared by the per-target tests.
#[cfg(test)]
pub(crate) mod strategy {
    use proptest::prelude::*;

    use crate::devnum::{DevNum, DevRef};
    use crate::units::Sectors;

    pub(crate) fn dev_ref() -> impl Strategy<Value = DevRef> {
        prop_oneof![
            (0u32..4096, 0u32..(1 << 20)).prop_map(|(a, b)| DevRef::Num(DevNum::new(a, b))),
            "[A-Za-z0-9+_.:-]{1,40}".prop_map(DevRef::Pending),
        ]
    }

    pub(crate) fn sectors() -> impl Strategy<Value = Sectors> {
        prop_oneof![0u64..100_000, any::<u64>()].prop_map(Sectors)
    }

    /// A word without whitespace (policy names, keys).
    pub(crate) fn word() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,15}"
    }
}
