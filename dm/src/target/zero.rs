//! `zero`: reads return zeroes, writes are dropped. No parameters.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};

/// The `zero` target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Zero;

impl TargetParams for Zero {
    const TARGET_TYPE: &'static str = "zero";
    fn dev_refs(&self) -> Vec<&DevRef> {
        Vec::new()
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        Vec::new()
    }
}

impl fmt::Display for Zero {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl FromStr for Zero {
    type Err = Error;
    fn from_str(s: &str) -> Result<Zero> {
        Words::new(Self::TARGET_TYPE, s).end()?;
        Ok(Zero)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_params() {
        assert_eq!("".parse::<Zero>().unwrap(), Zero);
        assert_eq!(Zero.to_string(), "");
        assert!("1".parse::<Zero>().is_err());
    }
}
