//! LVM identifiers: 32 characters from `0-9a-zA-Z!#`, shown hyphenated 6-4-4-4-4-4-6.
//! Not RFC 4122 UUIDs. The label stores the bare 32 characters; text metadata the 38-char form.

use std::fmt;

/// Valid characters in an LVM id.
pub fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'!' || c == b'#'
}

/// A 32-character LVM id (PV, VG or LV part).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LvmId([u8; 32]);

/// Why a string is not an LVM id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadId(pub String);

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl LvmId {
    /// From the 32 raw bytes of a label (no hyphens).
    pub fn from_raw(raw: &[u8]) -> Result<LvmId, BadId> {
        let arr: [u8; 32] =
            raw.try_into().map_err(|_| BadId(format!("{} characters instead of 32", raw.len())))?;
        if let Some(p) = arr.iter().position(|&c| !is_id_char(c)) {
            return Err(BadId(format!("byte {:#04x} at position {p} is not in 0-9a-zA-Z!#", arr[p])));
        }
        Ok(LvmId(arr))
    }

    /// From the text form: hyphens anywhere are ignored, as lvm2's `id_read_format` does.
    pub fn parse(s: &str) -> Result<LvmId, BadId> {
        let mut arr = [0u8; 32];
        let mut n = 0;
        for c in s.bytes().filter(|&c| c != b'-') {
            if n == 32 {
                return Err(BadId(format!("more than 32 characters in {s:?}")));
            }
            arr[n] = c;
            n += 1;
        }
        if n < 32 {
            return Err(BadId(format!("{n} characters instead of 32")));
        }
        LvmId::from_raw(&arr)
    }

    /// The 32 characters without hyphens.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("validated ASCII")
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Build an id from raw bytes already known valid (LVM1 synthesis, tests).
    pub fn from_array(arr: [u8; 32]) -> Result<LvmId, BadId> {
        LvmId::from_raw(&arr)
    }
}

impl fmt::Display for LvmId {
    /// Hyphenated 6-4-4-4-4-4-6 form, as lvm2 prints and writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let cuts = [0, 6, 10, 14, 18, 22, 26, 32];
        for (i, w) in cuts.windows(2).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(&s[w[0]..w[1]])?;
        }
        Ok(())
    }
}

impl fmt::Debug for LvmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LvmId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_round_trip() {
        let id = LvmId::from_raw(b"CDKxz4IOHldXLadX3I7cCnT7YdN9sgpR").unwrap();
        assert_eq!(id.to_string(), "CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgpR");
        assert_eq!(LvmId::parse("CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgpR").unwrap(), id);
        assert!(LvmId::parse("short").is_err());
        assert!(LvmId::from_raw(b"CDKxz4IOHldXLadX3I7cCnT7YdN9sgp\x00").is_err());
    }
}
