//! `label_header`: the 32 bytes that mark a sector (0–3) as an LVM2 PV label.
//!
//! | off | size | field | value |
//! |---:|---:|---|---|
//! | 0 | 8 | `id` | `LABELONE` |
//! | 8 | 8 | `sector_xl` u64 | the sector this label is in |
//! | 16 | 4 | `crc_xl` u32 | LVM CRC of bytes 20..512 of the sector |
//! | 20 | 4 | `offset_xl` u32 | byte offset of the pv_header in the sector (always 32) |
//! | 24 | 8 | `type` | `LVM2 001` |
//!
//! lvm2 reads sectors 0–3 and takes the first acceptable label. Its labeller looks only at
//! `type`, and the scan offers it every sector, so a sector whose `LABELONE` was overwritten but
//! still says `LVM2 001` at byte 24 is accepted without the sector or CRC checks. We accept
//! that too (reports must match lvm2) but say so in a [`LabelNote`].

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::crc::lvm_crc;
use crate::error::{Error, escape_bytes};
use crate::le::{U32, U64};
use crate::pv_header::PvHeader;

/// `LABELONE`.
pub const LABEL_ID: &[u8; 8] = b"LABELONE";
/// `LVM2 001`: the text-format labeller's type.
pub const LVM2_LABEL_TYPE: &[u8; 8] = b"LVM2 001";
/// Bytes in a label sector.
pub const LABEL_SIZE: usize = 512;
/// Sectors 0..4 are examined.
pub const LABEL_SCAN_SECTORS: u64 = 4;
/// Bytes that must be read to find a label.
pub const LABEL_SCAN_SIZE: usize = LABEL_SIZE * LABEL_SCAN_SECTORS as usize;

/// On-disk `label_header`.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub(crate) struct RawLabelHeader {
    pub id: [u8; 8],
    pub sector_xl: U64,
    pub crc_xl: U32,
    pub offset_xl: U32,
    pub type_: [u8; 8],
}

/// A decoded, checked LVM2 label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Sector (0–3) the label was found in.
    pub sector: u64,
    /// The stored CRC.
    pub crc: u32,
    /// The pv_header that follows.
    pub pv_header: PvHeader,
}

/// Something about the label area that lvm2 tolerates (or skips) and a careful reader reports.
#[derive(Debug)]
pub enum LabelNote {
    /// Accepted the way lvm2 does, although a strict reader would not.
    LenientAccept {
        /// Sector of the accepted label.
        sector: u64,
        /// Why a strict reader would refuse it.
        why: String,
    },
    /// A `LABELONE` sector that lvm2 skips (wrong sector number, bad CRC) — the error says why.
    Skipped(Error),
    /// A second valid label after the one used ("Ignoring additional label").
    Additional {
        /// Its sector.
        sector: u64,
    },
}

/// What the label area of one device holds.
#[derive(Debug, Default)]
pub struct LabelScan {
    /// The label lvm2 would use, if any.
    pub label: Option<Label>,
    /// Everything odd on the way.
    pub notes: Vec<LabelNote>,
}

/// Find the LVM2 label in the first 2 KiB of a device (`area` may be longer; shorter means the
/// device is smaller than four sectors and only whole sectors are examined).
///
/// Returns `Err` only when the chosen label's pv_header is malformed; a device without a label
/// is `Ok` with `label: None`.
pub fn find_label(area: &[u8]) -> Result<LabelScan, Error> {
    let mut scan = LabelScan::default();
    for sector in 0..LABEL_SCAN_SECTORS {
        let start = sector as usize * LABEL_SIZE;
        let Some(bytes) = area.get(start..start + LABEL_SIZE) else { break };
        let (hdr, _) = RawLabelHeader::ref_from_prefix(bytes).expect("512 bytes hold a 32-byte header");
        let at = start as u64;
        let has_id = &hdr.id == LABEL_ID;
        let mut lenient = None;
        if has_id {
            let stored_sector = hdr.sector_xl.get();
            if stored_sector != sector {
                scan.notes.push(LabelNote::Skipped(Error::BadField {
                    what: "label_header",
                    at,
                    field: "sector_xl",
                    expected: format!("{sector} (its own sector)"),
                    found: stored_sector.to_string(),
                }));
                continue;
            }
            let computed = lvm_crc(&bytes[20..]);
            if computed != hdr.crc_xl.get() {
                scan.notes.push(LabelNote::Skipped(Error::BadChecksum {
                    what: "label_header",
                    at,
                    stored: hdr.crc_xl.get(),
                    computed,
                }));
                continue;
            }
        } else if &hdr.type_ == LVM2_LABEL_TYPE {
            lenient = Some(format!(
                "id is {} instead of \"LABELONE\"; lvm2 accepts the sector on its \"LVM2 001\" type alone, \
                 without sector and checksum checks",
                escape_bytes(&hdr.id)
            ));
        } else {
            continue;
        }
        if &hdr.type_ != LVM2_LABEL_TYPE {
            // A LABELONE sector of another labeller (lvm1/pool are not labels of this kind).
            scan.notes.push(LabelNote::Skipped(Error::BadMagic {
                what: "label_header type",
                at: at + 24,
                expected: "\"LVM2 001\"".into(),
                found: escape_bytes(&hdr.type_),
            }));
            continue;
        }
        if scan.label.is_some() {
            scan.notes.push(LabelNote::Additional { sector });
            continue;
        }
        if let Some(why) = lenient {
            scan.notes.push(LabelNote::LenientAccept { sector, why });
        }
        let pv_header = PvHeader::parse(bytes, at, hdr.offset_xl.get())?;
        scan.label = Some(Label { sector, crc: hdr.crc_xl.get(), pv_header });
    }
    Ok(scan)
}

/// Encode a label sector: header, pv_header, CRC. The inverse of [`find_label`].
pub fn encode_label(sector: u64, pv: &PvHeader) -> [u8; LABEL_SIZE] {
    let mut buf = [0u8; LABEL_SIZE];
    buf[..8].copy_from_slice(LABEL_ID);
    buf[8..16].copy_from_slice(&sector.to_le_bytes());
    buf[20..24].copy_from_slice(&32u32.to_le_bytes());
    buf[24..32].copy_from_slice(LVM2_LABEL_TYPE);
    pv.encode_into(&mut buf[32..]);
    let crc = lvm_crc(&buf[20..]);
    buf[16..20].copy_from_slice(&crc.to_le_bytes());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk_locn::DiskLocn;

    /// Sector 1 of a real PV (spec §1.5: 64 MiB loop device in VG vg0, lvm2 2.03.16).
    pub(crate) fn real_label_sector() -> [u8; 512] {
        let mut s = [0u8; 512];
        let rows: [(usize, &[u8]); 7] = [
            (0x00, b"LABELONE"),                                                // id
            (0x08, &[1, 0, 0, 0, 0, 0, 0, 0]),                                  // sector_xl = 1
            (0x10, &[0x21, 0x8f, 0xe1, 0x1a, 0x20, 0, 0, 0]), // crc 0x1ae18f21, offset_xl 32
            (0x18, b"LVM2 001CDKxz4IOHldXLadX3I7cCnT7YdN9sgpR"), // type, pv_uuid
            (0x40, &[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0]), // dev size 64 MiB; da0 1 MiB
            (0x68, &[0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x0f, 0, 0, 0, 0, 0]), // mda0 {4096, 0xff000}
            (0x88, &[2, 0, 0, 0, 1, 0, 0, 0]),                // ext version 2, PV_EXT_USED
        ];
        for (off, b) in rows {
            s[off..off + b.len()].copy_from_slice(b);
        }
        s
    }

    fn area_with(sector: u64, bytes: &[u8; 512]) -> Vec<u8> {
        let mut a = vec![0u8; LABEL_SCAN_SIZE];
        a[sector as usize * 512..][..512].copy_from_slice(bytes);
        a
    }

    #[test]
    fn decodes_real_label() {
        let scan = find_label(&area_with(1, &real_label_sector())).unwrap();
        assert!(scan.notes.is_empty(), "{:?}", scan.notes);
        let l = scan.label.unwrap();
        assert_eq!(l.sector, 1);
        assert_eq!(l.crc, 0x1ae18f21);
        let pv = &l.pv_header;
        assert_eq!(pv.pv_uuid.to_string(), "CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgpR");
        assert_eq!(pv.device_size, 64 << 20);
        assert_eq!(pv.data_areas, vec![DiskLocn { offset: 1 << 20, size: 0 }]);
        assert_eq!(pv.metadata_areas, vec![DiskLocn { offset: 4096, size: 1044480 }]);
        assert!(pv.ext_used());
        assert_eq!(pv.extension.as_ref().unwrap().bootloader_areas, vec![]);
        // Encoding gives back the same sector byte for byte.
        assert_eq!(encode_label(1, pv), real_label_sector());
    }

    #[test]
    fn wrong_sector_and_bad_crc_are_skipped_with_reasons() {
        // The sector-1 label copied into sector 2 says sector_xl = 1: skipped.
        let scan = find_label(&area_with(2, &real_label_sector())).unwrap();
        assert!(scan.label.is_none());
        assert!(matches!(
            &scan.notes[..],
            [LabelNote::Skipped(Error::BadField { field: "sector_xl", at: 1024, .. })]
        ));
        let mut s = real_label_sector();
        s[0x100] ^= 1;
        let scan = find_label(&area_with(1, &s)).unwrap();
        assert!(scan.label.is_none());
        match &scan.notes[..] {
            [LabelNote::Skipped(Error::BadChecksum { stored: 0x1ae18f21, at: 512, .. })] => {}
            n => panic!("{n:?}"),
        }
    }

    #[test]
    fn lvm2_lenient_accept_is_noted() {
        let mut s = real_label_sector();
        s[..8].copy_from_slice(b"XXXXXXXX");
        s[0x100] ^= 1; // the CRC is not checked on this path either
        let scan = find_label(&area_with(1, &s)).unwrap();
        assert!(scan.label.is_some());
        assert!(matches!(&scan.notes[..], [LabelNote::LenientAccept { sector: 1, .. }]));
    }

    #[test]
    fn overflowing_lists_and_offsets_are_errors() {
        let mut pv = find_label(&area_with(1, &real_label_sector())).unwrap().label.unwrap().pv_header;
        pv.metadata_areas = vec![DiskLocn { offset: 4096, size: 4096 }; 40];
        let mut s = [0u8; 512];
        s[..8].copy_from_slice(LABEL_ID);
        s[8] = 1;
        s[20] = 32;
        s[24..32].copy_from_slice(LVM2_LABEL_TYPE);
        s[32..64].copy_from_slice(pv.pv_uuid.as_bytes());
        for i in 0..27 {
            s[72 + i * 16] = 1; // 27 non-terminated entries run off the sector
        }
        let crc = lvm_crc(&s[20..]);
        s[16..20].copy_from_slice(&crc.to_le_bytes());
        let e = find_label(&area_with(1, &s)).unwrap_err();
        assert!(matches!(e, Error::BadField { field: "data areas", .. }), "{e}");
        s[20] = 0xf0;
        s[21] = 0x01; // offset_xl = 496
        let crc = lvm_crc(&s[20..]);
        s[16..20].copy_from_slice(&crc.to_le_bytes());
        let e = find_label(&area_with(1, &s)).unwrap_err();
        assert!(matches!(e, Error::BadField { field: "offset_xl", .. }), "{e}");
    }

    #[test]
    fn short_device_and_garbage_do_not_panic() {
        for len in [0, 100, 511, 512, 1000, 2047] {
            let scan = find_label(&vec![0xffu8; len]).unwrap();
            assert!(scan.label.is_none());
        }
    }
}
