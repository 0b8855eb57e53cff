//! `error`: every I/O fails. No parameters.

use std::fmt;
use std::str::FromStr;

use super::{TargetParams, Words};
use crate::devnum::DevRef;
use crate::error::{Error, Result};

/// The `error` target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErrorTarget;

impl TargetParams for ErrorTarget {
    const TARGET_TYPE: &'static str = "error";
    fn dev_refs(&self) -> Vec<&DevRef> {
        Vec::new()
    }
    fn dev_refs_mut(&mut self) -> Vec<&mut DevRef> {
        Vec::new()
    }
}

impl fmt::Display for ErrorTarget {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl FromStr for ErrorTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<ErrorTarget> {
        Words::new(Self::TARGET_TYPE, s).end()?;
        Ok(ErrorTarget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_params() {
        assert_eq!("".parse::<ErrorTarget>().unwrap(), ErrorTarget);
        assert_eq!(" ".parse::<ErrorTarget>().unwrap(), ErrorTarget);
        assert_eq!(ErrorTarget.to_string(), "");
        assert!("x".parse::<ErrorTarget>().is_err());
    }
}
