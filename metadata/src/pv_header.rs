//! `pv_header`: the PV's identity and the areas it lists, right after the label header.
//!
//! Offsets from the start of the pv_header (normally sector byte 32):
//!
//! | off | size | field |
//! |---:|---:|---|
//! | 0 | 32 | `pv_uuid`, 32 id characters, no hyphens |
//! | 32 | 8 | `device_size_xl` u64, bytes |
//! | 40 | 16·n | data areas (`disk_locn`), ended by offset 0 — lvm2 writes exactly one |
//! | … | 16·m | metadata areas (`disk_locn`), ended by offset 0 — 0, 1 or 2 |
//! | … | 4 | extension `version` u32 (0 = no extension; 2 = current) |
//! | … | 4 | extension `flags` u32, bit 0 `PV_EXT_USED` |
//! | … | 16·k | bootloader areas (`disk_locn`), ended by offset 0 — at most one |
//!
//! Everything must fit in the 512-byte label sector ("Disk areas overflow label"); the extension
//! is used only if it fits entirely.

use zerocopy::{FromBytes, IntoBytes};

use crate::disk_locn::{DISK_LOCN_SIZE, DiskLocn, RawDiskLocn};
use crate::error::Error;
use crate::id::LvmId;
use crate::label::LABEL_SIZE;

/// Current `pv_header_extension` version.
pub const PV_HEADER_EXTENSION_VSN: u32 = 2;
/// Extension flag: the PV belongs to a VG.
pub const PV_EXT_USED: u32 = 0x1;

/// The `pv_header_extension` (lvm2 ≥ 2.02.99).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvHeaderExtension {
    /// 1 = bootloader areas, 2 = adds `PV_EXT_USED`.
    pub version: u32,
    /// Bit 0: `PV_EXT_USED`.
    pub flags: u32,
    /// Bootloader areas (at most one in practice).
    pub bootloader_areas: Vec<DiskLocn>,
}

/// A decoded pv_header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvHeader {
    /// The PV's id.
    pub pv_uuid: LvmId,
    /// Device size recorded at pvcreate/pvresize time, bytes.
    pub device_size: u64,
    /// Data areas: `{pe_start bytes, 0}`.
    pub data_areas: Vec<DiskLocn>,
    /// Metadata areas (mda1, mda2).
    pub metadata_areas: Vec<DiskLocn>,
    /// The extension, when present with a non-zero version.
    pub extension: Option<PvHeaderExtension>,
}

impl PvHeader {
    /// Decode from a label sector. `sector_at` is the sector's absolute byte offset (for
    /// messages); `offset_xl` is where the pv_header starts inside it.
    pub fn parse(sector: &[u8], sector_at: u64, offset_xl: u32) -> Result<PvHeader, Error> {
        let off = offset_xl as usize;
        // uuid + size + at least the two list terminators.
        if off > LABEL_SIZE - 40 - 2 * DISK_LOCN_SIZE || sector.len() < LABEL_SIZE {
            return Err(Error::BadField {
                what: "label_header",
                at: sector_at,
                field: "offset_xl",
                expected: format!("at most {} so the pv_header fits the sector", LABEL_SIZE - 72),
                found: offset_xl.to_string(),
            });
        }
        let at = sector_at + off as u64;
        let body = &sector[off..LABEL_SIZE];
        let pv_uuid = LvmId::from_raw(&body[..32]).map_err(|e| Error::BadField {
            what: "pv_header",
            at,
            field: "pv_uuid",
            expected: "32 characters from 0-9a-zA-Z!#".into(),
            found: e.0,
        })?;
        let device_size = u64::from_le_bytes(body[32..40].try_into().expect("8 bytes"));
        let mut pos = 40;
        let data_areas = read_list(body, &mut pos, at, "data areas")?;
        let metadata_areas = read_list(body, &mut pos, at, "metadata areas")?;
        let mut extension = None;
        if pos + 8 <= body.len() {
            let version = u32::from_le_bytes(body[pos..pos + 4].try_into().expect("4 bytes"));
            let flags = u32::from_le_bytes(body[pos + 4..pos + 8].try_into().expect("4 bytes"));
            if version != 0 {
                let mut bpos = pos + 8;
                // An extension whose list does not fit is ignored, as lvm2 does.
                if let Ok(bootloader_areas) = read_list(body, &mut bpos, at, "bootloader areas") {
                    extension = Some(PvHeaderExtension { version, flags, bootloader_areas });
                }
            }
        }
        Ok(PvHeader { pv_uuid, device_size, data_areas, metadata_areas, extension })
    }

    /// `pe_start` in bytes from the first data area (the text metadata's `pe_start` wins when
    /// they differ).
    pub fn pe_start(&self) -> Option<u64> {
        self.data_areas.first().map(|d| d.offset)
    }

    /// `PV_EXT_USED` is set.
    pub fn ext_used(&self) -> bool {
        self.extension.as_ref().is_some_and(|e| e.version >= 2 && e.flags & PV_EXT_USED != 0)
    }

    /// Encode into `out` (the sector from byte `offset_xl` on); the caller zeroes the sector.
    pub fn encode_into(&self, out: &mut [u8]) {
        out[..32].copy_from_slice(self.pv_uuid.as_bytes());
        out[32..40].copy_from_slice(&self.device_size.to_le_bytes());
        let mut pos = 40;
        let put = |out: &mut [u8], list: &[DiskLocn], pos: &mut usize| {
            for d in list.iter().chain(std::iter::once(&DiskLocn { offset: 0, size: 0 })) {
                let raw = RawDiskLocn { offset: d.offset.into(), size: d.size.into() };
                out[*pos..*pos + DISK_LOCN_SIZE].copy_from_slice(raw.as_bytes());
                *pos += DISK_LOCN_SIZE;
            }
        };
        put(out, &self.data_areas, &mut pos);
        put(out, &self.metadata_areas, &mut pos);
        if let Some(ext) = &self.extension {
            out[pos..pos + 4].copy_from_slice(&ext.version.to_le_bytes());
            out[pos + 4..pos + 8].copy_from_slice(&ext.flags.to_le_bytes());
            pos += 8;
            put(out, &ext.bootloader_areas, &mut pos);
        }
    }
}

/// Read a `disk_locn` list up to its offset-0 terminator, which must lie inside `body`.
fn read_list(body: &[u8], pos: &mut usize, at: u64, list: &'static str) -> Result<Vec<DiskLocn>, Error> {
    let mut out = Vec::new();
    loop {
        let Some(bytes) = body.get(*pos..*pos + DISK_LOCN_SIZE) else {
            return Err(Error::BadField {
                what: "pv_header",
                at,
                field: list,
                expected: "a list ending with an offset-0 entry inside the 512-byte label sector".into(),
                found: format!("{} entries and no terminator (\"Disk areas overflow label\")", out.len()),
            });
        };
        let raw = RawDiskLocn::read_from_bytes(bytes).expect("16 bytes");
        *pos += DISK_LOCN_SIZE;
        if raw.offset.get() == 0 {
            return Ok(out);
        }
        out.push(DiskLocn { offset: raw.offset.get(), size: raw.size.get() });
    }
}
