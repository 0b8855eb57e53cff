//! `striped <#stripes> <chunk size> (<dev> <offset>)+`.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};
use crate::units::Sectors;

/// One stripe: device and start offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stripe {
    /// Device.
    pub dev: DevRef,
    /// Start on it, sectors.
    pub offset: Sectors,
}

/// Stripes the line's range over several devices in `chunk_size` chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Striped {
    /// Chunk (stripe) size, sectors.
    pub chunk_size: Sectors,
    /// The stripes, at least one.
    pub stripes: Vec<Stripe>,
}

impl TargetParams for Striped {
    const TARGET_TYPE: &'static str = "striped";
    fn dev_refs(&self) -> Vec<&DevRef> {
        self.stripes.iter().map(|s| &s.dev).collect()
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        self.stripes.iter_mut().map(|s| &mut s.dev).collect()
    }
}

impl fmt::Display for Striped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.stripes.len(), self.chunk_size)?;
        for s in &self.stripes {
            write!(f, " {} {}", s.dev, s.offset)?;
        }
        Ok(())
    }
}

impl FromStr for Striped {
    type Err = Error;
    fn from_str(s: &str) -> Result<Striped> {
        let mut w = Words::new(Self::TARGET_TYPE, s);
        let n: usize = w.num("stripe count")?;
        if n == 0 {
            return Err(w.err("stripe count 0"));
        }
        let chunk_size = w.sectors("chunk size")?;
        let mut stripes = Vec::with_capacity(n.min(1024));
        for i in 0..n {
            let dev = w.dev(&format!("device of stripe {i}"))?;
            let offset = w.sectors(&format!("offset of stripe {i}"))?;
            stripes.push(Stripe { dev, offset });
        }
        w.end()?;
        Ok(Striped { chunk_size, stripes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::strategy::*;
    use proptest::prelude::*;

    #[test]
    fn lvm2_line() {
        let s: Striped = "2 128 7:0 18432 7:1 2048".parse().unwrap();
        assert_eq!(s.stripes.len(), 2);
        assert_eq!(s.chunk_size, Sectors(128));
        assert_eq!(s.to_string(), "2 128 7:0 18432 7:1 2048");
        assert!("2 128 7:0 18432".parse::<Striped>().is_err());
        assert!("0 128".parse::<Striped>().is_err());
        assert!("1 128 7:0 0 7:1 0".parse::<Striped>().is_err());
    }

    proptest! {
        #[test]
        fn round_trip(chunk_size in sectors(), stripes in proptest::collection::vec((dev_ref(), sectors()), 1..8)) {
            let x = Striped { chunk_size, stripes: stripes.into_iter().map(|(dev, offset)| Stripe { dev, offset }).collect() };
            prop_assert_eq!(x.to_string().parse::<Striped>().unwrap(), x);
        }
    }
}
