//! `pv_disk`: the LVM1 PV struct, 468 bytes at byte 0 of the device.
//!
//! | off | size | field | notes |
//! |---:|---:|---|---|
//! | 0x000 | 2 | `id` | `HM` |
//! | 0x002 | 2 | `version` u16 | 1 or 2 |
//! | 0x004 | 8 | `pv_on_disk` {base, size} u32 | bytes |
//! | 0x00C | 8 | `vg_on_disk` | |
//! | 0x014 | 8 | `pv_uuidlist_on_disk` | |
//! | 0x01C | 8 | `lv_on_disk` | |
//! | 0x024 | 8 | `pe_on_disk` | |
//! | 0x02C | 128 | `pv_uuid` | 32 characters, NUL-padded |
//! | 0x0AC | 128 | `vg_name` | empty: orphan; `PV_EXP` suffix: exported |
//! | 0x12C | 128 | `system_id` | host name + Unix time |
//! | 0x1AC | 4 | `pv_major` | |
//! | 0x1B0 | 4 | `pv_number` | 1-based position in the VG |
//! | 0x1B4 | 4 | `pv_status` | 0x01 ACTIVE |
//! | 0x1B8 | 4 | `pv_allocatable` | non-zero: allocatable |
//! | 0x1BC | 4 | `pv_size` | sectors |
//! | 0x1C0 | 4 | `lv_cur` | LV records on this PV |
//! | 0x1C4 | 4 | `pe_size` | sectors |
//! | 0x1C8 | 4 | `pe_total` | PEs on this PV |
//! | 0x1CC | 4 | `pe_allocated` | |
//! | 0x1D0 | 4 | `pe_start` | sectors; read only for version 2 |
//!
//! lvm2's fix-ups on read (`_munge_formats`, `_munge_exported_vg`) are applied here:
//! version 1 takes `pe_start` from the end of `pe_on_disk`, version 2 recomputes
//! `pe_on_disk.size` from `pe_start`; a UUID longer than 32 characters keeps its last 32 with
//! `/` → `#`; an empty UUID is synthesised from `pv_number`; a `PV_EXP` suffix is removed from
//! the VG name and marks the PV exported.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{DataArea, EXPORTED_TAG, ID_LEN, NAME_LEN, c_name, uuid_from_num};
use crate::error::{Error, Result, escape_bytes};
use crate::id::LvmId;
use crate::le::{U16, U32};

/// Bytes of `pv_disk` in use.
pub const PV_DISK_SIZE: usize = 468;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawArea {
    base: U32,
    size: U32,
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawPvDisk {
    id: [u8; 2],
    version: U16,
    pv_on_disk: RawArea,
    vg_on_disk: RawArea,
    pv_uuidlist_on_disk: RawArea,
    lv_on_disk: RawArea,
    pe_on_disk: RawArea,
    pv_uuid: [u8; NAME_LEN],
    vg_name: [u8; NAME_LEN],
    system_id: [u8; NAME_LEN],
    pv_major: U32,
    pv_number: U32,
    pv_status: U32,
    pv_allocatable: U32,
    pv_size: U32,
    lv_cur: U32,
    pe_size: U32,
    pe_total: U32,
    pe_allocated: U32,
    pe_start: U32,
}

const _: () = assert!(size_of::<RawPvDisk>() == PV_DISK_SIZE);

fn area(r: &RawArea) -> DataArea {
    DataArea { base: r.base.get(), size: r.size.get() }
}

/// A decoded, checked, fixed-up `pv_disk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvDisk {
    /// 1 or 2, as stored.
    pub version: u16,
    /// Where the PV struct is.
    pub pv_on_disk: DataArea,
    /// Where the VG struct is.
    pub vg_on_disk: DataArea,
    /// Where the PV UUID list is.
    pub pv_uuidlist_on_disk: DataArea,
    /// Where the LV records are.
    pub lv_on_disk: DataArea,
    /// Where the PE map is (size recomputed from `pe_start` for version 2).
    pub pe_on_disk: DataArea,
    /// PV id after lvm2's fix-ups.
    pub pv_uuid: LvmId,
    /// VG name without the `PV_EXP` suffix; empty for an orphan.
    pub vg_name: String,
    /// The stored name ended in `PV_EXP`.
    pub exported: bool,
    /// `system_id`.
    pub system_id: String,
    /// `pv_major`.
    pub pv_major: u32,
    /// `pv_number`, 1-based.
    pub pv_number: u32,
    /// `pv_status`.
    pub pv_status: u32,
    /// `pv_allocatable`.
    pub pv_allocatable: u32,
    /// `pv_size`, sectors.
    pub pv_size: u32,
    /// `lv_cur`.
    pub lv_cur: u32,
    /// `pe_size`, sectors.
    pub pe_size: u32,
    /// `pe_total`.
    pub pe_total: u32,
    /// `pe_allocated`.
    pub pe_allocated: u32,
    /// First PE in sectors, as lvm2 derives it for this version.
    pub pe_start: u64,
}

impl PvDisk {
    /// Decode the struct at byte 0 (`bytes` holds at least [`PV_DISK_SIZE`] bytes).
    pub fn parse(bytes: &[u8]) -> Result<PvDisk> {
        let Ok((raw, _)) = RawPvDisk::ref_from_prefix(bytes) else {
            return Err(Error::Truncated {
                what: "pv_disk",
                at: 0,
                len: PV_DISK_SIZE as u64,
                size: bytes.len() as u64,
            });
        };
        if &raw.id != b"HM" {
            return Err(Error::BadMagic {
                what: "pv_disk id",
                at: 0,
                expected: "\"HM\"".into(),
                found: escape_bytes(&raw.id),
            });
        }
        let version = raw.version.get();
        let mut pe_on_disk = area(&raw.pe_on_disk);
        let pe_start = match version {
            1 => pe_on_disk.end() / 512,
            2 => {
                let start = raw.pe_start.get();
                pe_on_disk.size = start.wrapping_mul(512).wrapping_sub(pe_on_disk.base);
                u64::from(start)
            }
            v => {
                return Err(Error::BadField {
                    what: "pv_disk",
                    at: 0,
                    field: "version",
                    expected: "1 or 2".into(),
                    found: v.to_string(),
                });
            }
        };
        let pv_number = raw.pv_number.get();
        let pv_uuid = fix_uuid(&raw.pv_uuid, pv_number)?;
        let stored = c_name(&raw.vg_name, "pv_disk", 0xAC, "vg_name")?;
        let (vg_name, exported) = match stored.strip_suffix(EXPORTED_TAG) {
            Some(v) => (v.to_string(), true),
            None => (stored, false),
        };
        Ok(PvDisk {
            version,
            pv_on_disk: area(&raw.pv_on_disk),
            vg_on_disk: area(&raw.vg_on_disk),
            pv_uuidlist_on_disk: area(&raw.pv_uuidlist_on_disk),
            lv_on_disk: area(&raw.lv_on_disk),
            pe_on_disk,
            pv_uuid,
            vg_name,
            exported,
            system_id: c_name(&raw.system_id, "pv_disk", 0x12C, "system_id")?,
            pv_major: raw.pv_major.get(),
            pv_number,
            pv_status: raw.pv_status.get(),
            pv_allocatable: raw.pv_allocatable.get(),
            pv_size: raw.pv_size.get(),
            lv_cur: raw.lv_cur.get(),
            pe_size: raw.pe_size.get(),
            pe_total: raw.pe_total.get(),
            pe_allocated: raw.pe_allocated.get(),
            pe_start,
        })
    }
}

/// `_munge_formats`' UUID handling: a longer (legacy) UUID keeps its last 32 characters with
/// `/` → `#`; an empty one is made from `pv_number`.
fn fix_uuid(raw: &[u8; NAME_LEN], pv_number: u32) -> Result<LvmId> {
    let bad = |expected: &str| Error::BadField {
        what: "pv_disk",
        at: 0x2C,
        field: "pv_uuid",
        expected: expected.to_string(),
        found: escape_bytes(raw),
    };
    let Some(len) = raw.iter().position(|&b| b == 0) else {
        return Err(bad("a NUL-terminated UUID"));
    };
    if len == 0 {
        return Ok(uuid_from_num(pv_number));
    }
    if len < ID_LEN {
        return Err(bad("32 characters of 0-9a-zA-Z!#"));
    }
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&raw[len - ID_LEN..len]);
    if len > ID_LEN {
        for c in &mut id {
            if *c == b'/' {
                *c = b'#';
            }
        }
    }
    LvmId::from_array(id).map_err(|e| bad(&format!("32 characters of 0-9a-zA-Z!# ({e})")))
}
