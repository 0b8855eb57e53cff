//! `vg_disk`: the LVM1 VG struct, 188 bytes at `pv_disk.vg_on_disk.base`. Every PV of a VG
//! carries the same bytes; lvm2 refuses a VG whose PVs disagree.
//!
//! | off | size | field | notes |
//! |---:|---:|---|---|
//! | 0x00 | 32 | `vg_uuid` | 32 characters, not NUL-terminated; empty: made from `vg_number` |
//! | 0x20 | 96 | `vg_name_dummy` | zero (the VG name is in `pv_disk`) |
//! | 0x80 | 4 | `vg_number` | |
//! | 0x84 | 4 | `vg_access` | 0x01 READ, 0x02 WRITE, 0x04 CLUSTERED, 0x08 SHARED |
//! | 0x88 | 4 | `vg_status` | 0x01 ACTIVE, 0x02 EXPORTED, 0x04 EXTENDABLE |
//! | 0x8C | 4 | `lv_max` | ≤ 256 |
//! | 0x90 | 4 | `lv_cur` | visible LVs + snapshots (over-counts COW records) |
//! | 0x94 | 4 | `lv_open` | |
//! | 0x98 | 4 | `pv_max` | ≤ 256 |
//! | 0x9C | 4 | `pv_cur` | PVs in the VG |
//! | 0xA0 | 4 | `pv_act` | |
//! | 0xA4 | 4 | `dummy` | |
//! | 0xA8 | 4 | `vgda` | |
//! | 0xAC | 4 | `pe_size` | sectors |
//! | 0xB0 | 4 | `pe_total` | over all PVs |
//! | 0xB4 | 4 | `pe_allocated` | |
//! | 0xB8 | 4 | `pvg_total` | |

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{ID_LEN, MAX_LV, MAX_PV, uuid_from_num};
use crate::error::{Error, Result, escape_bytes};
use crate::id::LvmId;
use crate::le::U32;

/// Bytes of `vg_disk`.
pub const VG_DISK_SIZE: usize = 188;

/// `VG_READ`.
pub const VG_READ: u32 = 0x01;
/// `VG_WRITE`.
pub const VG_WRITE: u32 = 0x02;
/// `VG_CLUSTERED`.
pub const VG_CLUSTERED: u32 = 0x04;
/// `VG_SHARED`.
pub const VG_SHARED: u32 = 0x08;
/// `VG_EXPORTED` (in `vg_status`).
pub const VG_EXPORTED: u32 = 0x02;
/// `VG_EXTENDABLE` (in `vg_status`): RESIZEABLE.
pub const VG_EXTENDABLE: u32 = 0x04;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawVgDisk {
    vg_uuid: [u8; ID_LEN],
    vg_name_dummy: [u8; 96],
    vg_number: U32,
    vg_access: U32,
    vg_status: U32,
    lv_max: U32,
    lv_cur: U32,
    lv_open: U32,
    pv_max: U32,
    pv_cur: U32,
    pv_act: U32,
    dummy: U32,
    vgda: U32,
    pe_size: U32,
    pe_total: U32,
    pe_allocated: U32,
    pvg_total: U32,
}

const _: () = assert!(size_of::<RawVgDisk>() == VG_DISK_SIZE);

/// A decoded, checked `vg_disk`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VgDisk {
    /// The 188 bytes as stored (compared across PVs).
    pub raw: Vec<u8>,
    /// VG id (synthesised from `vg_number` when empty).
    pub vg_uuid: LvmId,
    /// `vg_number`.
    pub vg_number: u32,
    /// `vg_access`.
    pub vg_access: u32,
    /// `vg_status`.
    pub vg_status: u32,
    /// `lv_max`.
    pub lv_max: u32,
    /// `lv_cur`.
    pub lv_cur: u32,
    /// `pv_max`.
    pub pv_max: u32,
    /// `pv_cur`.
    pub pv_cur: u32,
    /// `pe_size`, sectors.
    pub pe_size: u32,
    /// `pe_total`.
    pub pe_total: u32,
    /// `pe_allocated`.
    pub pe_allocated: u32,
}

impl VgDisk {
    /// Decode the struct read from byte `at` (`bytes` holds at least [`VG_DISK_SIZE`]).
    pub fn parse(bytes: &[u8], at: u64) -> Result<VgDisk> {
        let Ok((raw, _)) = RawVgDisk::ref_from_prefix(bytes) else {
            return Err(Error::Truncated {
                what: "vg_disk",
                at,
                len: VG_DISK_SIZE as u64,
                size: bytes.len() as u64,
            });
        };
        let bad = |field, expected: &str, found: String| Error::BadField {
            what: "vg_disk",
            at,
            field,
            expected: expected.to_string(),
            found,
        };
        for (field, v, max) in [("lv_max", raw.lv_max.get(), MAX_LV), ("pv_max", raw.pv_max.get(), MAX_PV)] {
            if v > max {
                return Err(bad(field, &format!("at most {max}"), v.to_string()));
            }
        }
        // lvm2 reads the UUID as a C string running on into vg_name_dummy.
        let vg_uuid = if raw.vg_uuid[0] == 0 {
            uuid_from_num(raw.vg_number.get())
        } else {
            let mut s = raw.vg_uuid.to_vec();
            s.extend(raw.vg_name_dummy.iter().take_while(|&&b| b != 0));
            let s: Vec<u8> = s.into_iter().take_while(|&b| b != 0).filter(|&b| b != b'-').collect();
            LvmId::from_raw(&s).map_err(|e| {
                bad(
                    "vg_uuid",
                    "32 characters of 0-9a-zA-Z!#",
                    format!("{} ({e})", escape_bytes(&raw.vg_uuid)),
                )
            })?
        };
        Ok(VgDisk {
            raw: bytes[..VG_DISK_SIZE].to_vec(),
            vg_uuid,
            vg_number: raw.vg_number.get(),
            vg_access: raw.vg_access.get(),
            vg_status: raw.vg_status.get(),
            lv_max: raw.lv_max.get(),
            lv_cur: raw.lv_cur.get(),
            pv_max: raw.pv_max.get(),
            pv_cur: raw.pv_cur.get(),
            pe_size: raw.pe_size.get(),
            pe_total: raw.pe_total.get(),
            pe_allocated: raw.pe_allocated.get(),
        })
    }
}
