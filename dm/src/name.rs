//! Validated device-mapper device names and uuids (cf. stratis devicemapper-rs `id_macros.rs`).
//!
//! The kernel keeps both in fixed buffers with a terminating NUL: a name has at most 127 bytes
//! (`DM_NAME_LEN` 128), a uuid at most 128 (`DM_UUID_LEN` 129). Both must be non-empty ASCII
//! here. Beyond the kernel's own rules (no `/` in a name, not `.` or `..`) control characters
//! are refused, so a name or uuid always prints on one line.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use crate::error::{Error, Result};

/// `DM_NAME_LEN`: size of the kernel's name buffer, NUL included.
pub const DM_NAME_LEN: usize = 128;
/// `DM_UUID_LEN`: size of the kernel's uuid buffer, NUL included.
pub const DM_UUID_LEN: usize = 129;

fn check(kind: &'static str, s: &str, max: usize) -> Result<()> {
    let bad = |why| Err(Error::BadId { kind, value: s.to_string(), why });
    if s.is_empty() {
        return bad("empty");
    }
    if s.len() > max {
        return bad(if kind == "name" { "longer than 127 bytes" } else { "longer than 128 bytes" });
    }
    if !s.is_ascii() {
        return bad("not ASCII");
    }
    if s.bytes().any(|c| c.is_ascii_control()) {
        return bad("contains a control character");
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $t:ident, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $t(String);

        impl $t {
            /// Validate and wrap.
            pub fn new(s: impl Into<String>) -> Result<$t> {
                let s = s.into();
                let f: fn(&str) -> Result<()> = $check;
                f(&s)?;
                Ok($t(s))
            }
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<$t> {
                $t::new(s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<$t> {
                $t::new(s)
            }
        }

        impl TryFrom<&str> for $t {
            type Error = Error;
            fn try_from(s: &str) -> Result<$t> {
                $t::new(s)
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, o: &str) -> bool {
                self.0 == o
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, o: &&str) -> bool {
                self.0 == *o
            }
        }
    };
}

id_type!(
    /// A device-mapper device name (`/dev/mapper/<name>`): 1..=127 ASCII bytes, no `/`, not
    /// `.` or `..`, no control characters.
    DmName,
    "name",
    |s| {
        check("name", s, DM_NAME_LEN - 1)?;
        if s.contains('/') {
            return Err(Error::BadId { kind: "name", value: s.to_string(), why: "contains '/'" });
        }
        if s == "." || s == ".." {
            return Err(Error::BadId { kind: "name", value: s.to_string(), why: "is . or .." });
        }
        Ok(())
    }
);

id_type!(
    /// A device-mapper uuid: 1..=128 ASCII bytes, no control characters. (lvm2's are
    /// `LVM-<vg id><lv id>[-<suffix>]`.)
    DmUuid,
    "uuid",
    |s| check("uuid", s, DM_UUID_LEN - 1)
);

/// A device, by name or by uuid (how device-mapper ioctls address an existing device).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DevId {
    /// By name.
    Name(DmName),
    /// By uuid.
    Uuid(DmUuid),
}

impl fmt::Display for DevId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevId::Name(n) => write!(f, "name {n}"),
            DevId::Uuid(u) => write!(f, "uuid {u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(DmName::new("vg0-lin-real").unwrap().as_str(), "vg0-lin-real");
        assert_eq!(DmName::new("my--vg.1_x+y-+lead.plus").unwrap(), "my--vg.1_x+y-+lead.plus");
        assert!(DmName::new("a".repeat(127)).is_ok());
        for bad in
            [String::new(), "a".repeat(128), "a/b".into(), ".".into(), "..".into(), "é".into(), "a\nb".into()]
        {
            assert!(DmName::new(bad.clone()).is_err(), "{bad:?}");
        }
        let e = DmName::new("a/b").unwrap_err();
        assert_eq!(e.to_string(), "invalid device-mapper name \"a/b\": contains '/'");
    }

    #[test]
    fn uuids() {
        let u = "LVM-npsDNUzJAqnXX66zQjM22xtv5DtaqdqyySiCHKKRBV3W7MFxR44T32C1XFJdHdTG";
        assert_eq!(DmUuid::new(u).unwrap().len(), 68);
        assert!(DmUuid::new("u".repeat(128)).is_ok());
        assert!(DmUuid::new("u".repeat(129)).is_err());
        assert!(DmUuid::new("").is_err());
        assert!(DmUuid::new("a/b").is_ok(), "the kernel does not restrict uuid characters");
        assert!(DmUuid::new("\u{7f}").is_err());
    }
}
