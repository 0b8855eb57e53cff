//! Table lines and tables.
//!
//! A line is `<start> <length> <target type> <params>` in sectors, as `dmsetup table` prints it
//! (without the `name: ` prefix). A table's lines cover `[0, length)` in order.

use std::fmt;
use std::str::FromStr;

use crate::devnum::{DevNum, DevRef};
use crate::error::{Error, Result};
use crate::target::Target;
use crate::units::Sectors;

/// One line of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableLine {
    /// First sector covered.
    pub start: Sectors,
    /// Sectors covered.
    pub length: Sectors,
    /// What they map to.
    pub target: Target,
}

impl TableLine {
    /// The kernel's raw 4-tuple: start, length, target type, parameter string.
    pub fn to_raw(&self) -> (u64, u64, String, String) {
        (self.start.0, self.length.0, self.target.target_type().to_string(), self.target.params())
    }

    /// From the kernel's raw 4-tuple.
    pub fn from_raw(start: u64, length: u64, target_type: &str, params: &str) -> Result<TableLine> {
        Ok(TableLine {
            start: Sectors(start),
            length: Sectors(length),
            target: Target::parse(target_type, params)?,
        })
    }
}

impl fmt::Display for TableLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.start, self.length, self.target.target_type())?;
        let p = self.target.params();
        if !p.is_empty() {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

impl FromStr for TableLine {
    type Err = Error;
    fn from_str(s: &str) -> Result<TableLine> {
        let bad = |why: &str| Error::BadLine { line: s.to_string(), why: why.to_string() };
        let t = s.trim_start();
        let mut rest = t;
        let mut field = |what: &str| -> Result<&str> {
            let r = rest.trim_start();
            let end = r.find(|c: char| c.is_ascii_whitespace()).unwrap_or(r.len());
            if end == 0 {
                return Err(bad(&format!("missing {what}")));
            }
            rest = &r[end..];
            Ok(&r[..end])
        };
        let start = field("start")?;
        let length = field("length")?;
        let target_type = field("target type")?.to_string();
        let num = |v: &str, what: &str| -> Result<u64> {
            if !v.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad(&format!("{what} {v:?} is not a number")));
            }
            v.parse().map_err(|_| bad(&format!("{what} {v:?} is out of range")))
        };
        let start = num(start, "start")?;
        let length = num(length, "length")?;
        TableLine::from_raw(start, length, &target_type, rest)
    }
}

/// A device's table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Lines in order.
    pub lines: Vec<TableLine>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// Append a line starting where the table ends.
    pub fn push(&mut self, length: Sectors, target: Target) {
        let start = self.length();
        self.lines.push(TableLine { start, length, target });
    }

    /// End of the last line (the device size when the table is contiguous from 0).
    pub fn length(&self) -> Sectors {
        self.lines.last().map_or(Sectors(0), |l| l.start + l.length)
    }

    /// Lines start at 0, follow each other without gaps or overlaps, and none is empty.
    pub fn check_contiguous(&self) -> Result<()> {
        let mut at = Sectors(0);
        for l in &self.lines {
            if l.start != at || l.length.0 == 0 {
                return Err(Error::BadLine {
                    line: l.to_string(),
                    why: format!("expected a non-empty line starting at sector {at}"),
                });
            }
            at = l.start.checked_add(l.length).ok_or_else(|| Error::BadLine {
                line: l.to_string(),
                why: "ends beyond 2^64 sectors".into(),
            })?;
        }
        Ok(())
    }

    /// Devices referenced, in line and parameter order (repeats kept).
    pub fn dev_refs(&self) -> Vec<&DevRef> {
        self.lines.iter().flat_map(|l| l.target.dev_refs()).collect()
    }

    /// Whether `live` (a table read back from the kernel) is this table loaded: the same lines,
    /// each target compared with [`Target::same_device_as`].
    pub fn same_device_as(&self, live: &Table) -> bool {
        self.lines.len() == live.lines.len()
            && self.lines.iter().zip(&live.lines).all(|(a, b)| {
                a.start == b.start && a.length == b.length && a.target.same_device_as(&b.target)
            })
    }

    /// No `<label>` references left.
    pub fn is_resolved(&self) -> bool {
        self.dev_refs().iter().all(|r| r.num().is_some())
    }

    /// Replace every `<label>` by the number `lookup` gives for it.
    pub fn resolve(&mut self, lookup: &mut dyn FnMut(&str) -> Option<DevNum>) -> Result<()> {
        for l in &mut self.lines {
            for r in l.target.dev_refs_mut() {
                r.resolve(lookup)?;
            }
        }
        Ok(())
    }

    /// The kernel's raw 4-tuples.
    pub fn to_raw(&self) -> Vec<(u64, u64, String, String)> {
        self.lines.iter().map(TableLine::to_raw).collect()
    }
}

impl fmt::Display for Table {
    /// One line per target, newline-separated (no trailing newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{l}")?;
        }
        Ok(())
    }
}

impl FromStr for Table {
    type Err = Error;
    /// Non-blank lines, each a [`TableLine`].
    fn from_str(s: &str) -> Result<Table> {
        let lines = s.lines().filter(|l| !l.trim().is_empty()).map(str::parse).collect::<Result<_>>()?;
        Ok(Table { lines })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{ErrorTarget, Linear, Zero};

    #[test]
    fn lines() {
        let l: TableLine = "0 16384 linear 7:0 2048".parse().unwrap();
        assert_eq!(l.to_string(), "0 16384 linear 7:0 2048");
        assert_eq!(l.to_raw(), (0, 16384, "linear".to_string(), "7:0 2048".to_string()));
        // dmsetup prints a trailing space after an empty parameter string.
        let e: TableLine = "0 8192 error ".parse().unwrap();
        assert_eq!(e.target, Target::Error(ErrorTarget));
        assert_eq!(e.to_string(), "0 8192 error");
        let o: TableLine = "0 8 crypt aes-xts-plain64 :64:logon:k 0 8:1 4096".parse().unwrap();
        assert_eq!(o.target.target_type(), "crypt");
        assert_eq!(o.to_string(), "0 8 crypt aes-xts-plain64 :64:logon:k 0 8:1 4096");
        for bad in ["", "0", "0 8", "x 8 zero", "0 -8 zero", "0 8 zero 1", "0 8 linear 7:0"] {
            assert!(bad.parse::<TableLine>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tables() {
        let mut t = Table::new();
        t.push(
            Sectors(8192),
            Target::Linear(Linear { dev: DevRef::Pending("a".into()), offset: Sectors(0) }),
        );
        t.push(Sectors(8), Target::Zero(Zero));
        assert_eq!(t.length(), Sectors(8200));
        assert_eq!(t.to_string(), "0 8192 linear <a> 0\n8192 8 zero");
        assert_eq!(t.to_string().parse::<Table>().unwrap(), t);
        t.check_contiguous().unwrap();
        assert!(!t.is_resolved());
        t.resolve(&mut |l| (l == "a").then_some(DevNum::new(253, 0))).unwrap();
        assert!(t.is_resolved());
        assert_eq!(t.to_string(), "0 8192 linear 253:0 0\n8192 8 zero");
        let gap: Table = "0 8 zero\n9 8 zero".parse().unwrap();
        assert!(gap.check_contiguous().is_err());
    }
}
