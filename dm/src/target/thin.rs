//! `thin <pool dev> <dev id> [<external origin dev>]`.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};

/// Largest thin device id (24 bits).
pub const MAX_THIN_DEVICE_ID: u32 = (1 << 24) - 1;

/// A thin volume: device `device_id` of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thin {
    /// The thin-pool device (lvm2's `-tpool` layer).
    pub pool: DevRef,
    /// Thin device id in the pool, `0..=MAX_THIN_DEVICE_ID`.
    pub device_id: u32,
    /// Read-only external origin for unprovisioned blocks.
    pub external_origin: Option<DevRef>,
}

impl TargetParams for Thin {
    const TARGET_TYPE: &'static str = "thin";
    fn dev_refs(&self) -> Vec<&DevRef> {
        let mut v = vec![&self.pool];
        v.extend(self.external_origin.as_ref());
        v
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        let mut v = vec![&mut self.pool];
        v.extend(self.external_origin.as_mut());
        v
    }
}

impl fmt::Display for Thin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.pool, self.device_id)?;
        if let Some(e) = &self.external_origin {
            write!(f, " {e}")?;
        }
        Ok(())
    }
}

impl FromStr for Thin {
    type Err = Error;
    fn from_str(s: &str) -> Result<Thin> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let pool = w.dev("pool device")?;
        let device_id: u32 = w.num("device id")?;
        if device_id > MAX_THIN_DEVICE_ID {
            return Err(w.err(format!("device id {device_id} is above {MAX_THIN_DEVICE_ID}")));
        }
        let external_origin = match w.peek() {
            Some(_) => Some(w.dev("external origin device")?),
            None => None,
        };
        w.end()?;
        Ok(Thin { pool, device_id, external_origin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_lines() {
        assert_eq!("253:4 1".parse::<Thin>().unwrap().to_string(), "253:4 1");
        assert_eq!("253:4 7 253:9".parse::<Thin>().unwrap().external_origin.unwrap().to_string(), "253:9");
        assert!("253:4 16777216".parse::<Thin>().is_err());
        assert!("253:4".parse::<Thin>().is_err());
    }

    proptest! {
        #[test]
        fn round_trip(pool in dev_ref(), device_id in 0..=MAX_THIN_DEVICE_ID, external_origin in proptest::option::of(dev_ref())) {
            let x = Thin { pool, device_id, external_origin };
            prop_assert_eq!(x.to_string().parse::<Thin>().unwrap(), x);
        }
    }
}
