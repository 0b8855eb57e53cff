//! `linear <dev> <offset>`.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// Maps the line's range onto `dev` from `offset` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linear {
    /// Underlying device.
    pub dev: DevRef,
    /// Start on it, sectors.
    pub offset: Sectors,
}

impl TargetParams for Linear {
    const TARGET_TYPE: &'static str = "linear";
    fn dev_refs(&self) -> Vec<&DevRef> {
        vec![&self.dev]
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        vec![&mut self.dev]
    }
}

impl fmt::Display for Linear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.dev, self.offset)
    }
}

impl FromStr for Linear {
    type Err = Error;
    fn from_str(s: &str) -> Result<Linear> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let dev = w.dev("device")?;
        let offset = w.sectors("offset")?;
        w.end()?;
        Ok(Linear { dev, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnum::DevNum;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_line() {
        let l: Linear = "7:0 2048".parse().unwrap();
        assert_eq!(l, Linear { dev: DevRef::Num(DevNum::new(7, 0)), offset: Sectors(2048) });
        assert_eq!(l.to_string(), "7:0 2048");
        assert!("7:0".parse::<Linear>().is_err());
        assert!("7:0 1 2".parse::<Linear>().is_err());
        assert!("7:0 -1".parse::<Linear>().is_err());
    }

    proptest! {
        #[test]
        fn round_trip(dev in dev_ref(), offset in sectors()) {
            let x = Linear { dev, offset };
            prop_assert_eq!(x.to_string().parse::<Linear>().unwrap(), x);
        }
    }
}
