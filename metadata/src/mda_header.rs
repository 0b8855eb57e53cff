//! `mda_header`: the first 512 bytes of a metadata area.
//!
//! | off | size | field | value |
//! |---:|---:|---|---|
//! | 0 | 4 | `checksum_xl` u32 | LVM CRC of bytes 4..512 |
//! | 4 | 16 | `magic` | `" LVM2 x[5A%r0N*>"` |
//! | 20 | 4 | `version` u32 | 1 |
//! | 24 | 8 | `start` u64 | absolute byte offset of this mda (= the label's disk_locn) |
//! | 32 | 8 | `size` u64 | bytes of the whole area, header included |
//! | 40 | 24 | `raw_locns[0]` | committed text |
//! | 64 | 24 | `raw_locns[1]` | precommitted text (normally zero) |
//! | 88 | 24 | `raw_locns[2]` | zero: list terminator |

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::crc::lvm_crc;
use crate::error::{Error, escape_bytes};
use crate::le::{U32, U64};
use crate::raw_locn::{RawLocn, RawRawLocn};

/// `FMTT_MAGIC`.
pub const FMTT_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
/// `FMTT_VERSION`.
pub const FMTT_VERSION: u32 = 1;
/// `MDA_HEADER_SIZE`: the header sector; the ring starts right after it.
pub const MDA_HEADER_SIZE: u64 = 512;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawMdaHeader {
    checksum_xl: U32,
    magic: [u8; 16],
    version: U32,
    start: U64,
    size: U64,
    raw_locns: [RawRawLocn; 3],
}

/// A decoded, checked mda header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdaHeader {
    /// Stored checksum.
    pub checksum: u32,
    /// Absolute byte offset of the area.
    pub start: u64,
    /// Byte size of the area.
    pub size: u64,
    /// Slot 0: committed metadata.
    pub committed: RawLocn,
    /// Slot 1: precommitted metadata (set only mid-commit).
    pub precommitted: RawLocn,
}

impl MdaHeader {
    /// Decode and check the header sector read from `expected_start` (the label's disk_locn
    /// offset). Checks, in lvm2's order: CRC, magic, version, start, size.
    pub fn parse(sector: &[u8], expected_start: u64) -> Result<MdaHeader, Error> {
        let at = expected_start;
        let Ok((raw, _)) = RawMdaHeader::ref_from_prefix(sector) else {
            return Err(Error::Truncated {
                what: "mda_header",
                at,
                len: MDA_HEADER_SIZE,
                size: sector.len() as u64,
            });
        };
        if sector.len() < MDA_HEADER_SIZE as usize {
            return Err(Error::Truncated {
                what: "mda_header",
                at,
                len: MDA_HEADER_SIZE,
                size: sector.len() as u64,
            });
        }
        let computed = lvm_crc(&sector[4..MDA_HEADER_SIZE as usize]);
        if computed != raw.checksum_xl.get() {
            return Err(Error::BadChecksum {
                what: "mda_header",
                at,
                stored: raw.checksum_xl.get(),
                computed,
            });
        }
        if &raw.magic != FMTT_MAGIC {
            return Err(Error::BadMagic {
                what: "mda_header magic",
                at: at.saturating_add(4),
                expected: escape_bytes(FMTT_MAGIC),
                found: escape_bytes(&raw.magic),
            });
        }
        let bad = |field, expected: String, found: String| Error::BadField {
            what: "mda_header",
            at,
            field,
            expected,
            found,
        };
        if raw.version.get() != FMTT_VERSION {
            return Err(bad("version", "1".into(), raw.version.get().to_string()));
        }
        if raw.start.get() != expected_start {
            return Err(bad(
                "start",
                format!("{expected_start} (the offset in the pv_header)"),
                raw.start.get().to_string(),
            ));
        }
        if raw.size.get() < MDA_HEADER_SIZE {
            return Err(bad("size", "at least 512".into(), raw.size.get().to_string()));
        }
        Ok(MdaHeader {
            checksum: raw.checksum_xl.get(),
            start: raw.start.get(),
            size: raw.size.get(),
            committed: RawLocn::from_raw(&raw.raw_locns[0]),
            precommitted: RawLocn::from_raw(&raw.raw_locns[1]),
        })
    }

    /// Encode the 512-byte header sector with a fresh checksum.
    pub fn encode(&self) -> [u8; MDA_HEADER_SIZE as usize] {
        let raw = RawMdaHeader {
            checksum_xl: 0.into(),
            magic: *FMTT_MAGIC,
            version: FMTT_VERSION.into(),
            start: self.start.into(),
            size: self.size.into(),
            raw_locns: [self.committed.to_raw(), self.precommitted.to_raw(), RawLocn::default().to_raw()],
        };
        let mut out = [0u8; MDA_HEADER_SIZE as usize];
        out[..std::mem::size_of::<RawMdaHeader>()].copy_from_slice(raw.as_bytes());
        let crc = lvm_crc(&out[4..]);
        out[..4].copy_from_slice(&crc.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real header of vg0 at seqno 10 (spec §3.2).
    fn real_header() -> [u8; 512] {
        let mut s = [0u8; 512];
        s[0..4].copy_from_slice(&[0x95, 0xb3, 0xee, 0xeb]); // checksum 0xebeeb395
        s[4..20].copy_from_slice(FMTT_MAGIC);
        s[20] = 1; // version
        s[24..32].copy_from_slice(&4096u64.to_le_bytes()); // start
        s[32..40].copy_from_slice(&1044480u64.to_le_bytes()); // size
        s[40..48].copy_from_slice(&0x5800u64.to_le_bytes()); // slot0.offset
        s[48..56].copy_from_slice(&8223u64.to_le_bytes()); // slot0.size
        s[56..60].copy_from_slice(&0xfaf94de3u32.to_le_bytes()); // slot0.checksum
        s
    }

    #[test]
    fn decodes_and_reencodes_real_header() {
        let h = MdaHeader::parse(&real_header(), 4096).unwrap();
        assert_eq!((h.start, h.size), (4096, 1044480));
        assert_eq!(h.committed, RawLocn { offset: 0x5800, size: 8223, checksum: 0xfaf94de3, flags: 0 });
        assert!(h.precommitted.is_empty());
        assert_eq!(h.encode(), real_header());
    }

    #[test]
    fn each_bad_field_is_named() {
        let e = MdaHeader::parse(&real_header(), 8192).unwrap_err();
        assert!(matches!(e, Error::BadField { field: "start", .. }), "{e}");
        let mut s = real_header();
        s[100] = 1;
        assert!(matches!(MdaHeader::parse(&s, 4096), Err(Error::BadChecksum { stored: 0xebeeb395, .. })));
        let mut h = MdaHeader::parse(&real_header(), 4096).unwrap();
        h.size = 100;
        assert!(matches!(MdaHeader::parse(&h.encode(), 4096), Err(Error::BadField { field: "size", .. })));
        let mut s = h.encode();
        s[4] = b'X';
        let crc = lvm_crc(&s[4..]);
        s[..4].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(MdaHeader::parse(&s, 4096), Err(Error::BadMagic { at: 4100, .. })));
        let mut s = real_header();
        s[20] = 2;
        let crc = lvm_crc(&s[4..]);
        s[..4].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(MdaHeader::parse(&s, 4096), Err(Error::BadField { field: "version", .. })));
        assert!(matches!(MdaHeader::parse(&s[..100], 4096), Err(Error::Truncated { .. })));
    }
}
