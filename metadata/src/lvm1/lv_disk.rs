//! `lv_disk`: one LVM1 LV record, 328 bytes; slot `i` at `lv_on_disk.base + 328·i`. Every PV
//! of a VG carries the full array. A slot whose `lv_name` starts with NUL is empty.
//!
//! | off | size | field | notes |
//! |---:|---:|---|---|
//! | 0x000 | 128 | `lv_name` | full path `/dev/<vg>/<lv>` |
//! | 0x080 | 128 | `vg_name` | plain VG name |
//! | 0x100 | 4 | `lv_access` | 0x01 READ, 0x02 WRITE, 0x04 SNAPSHOT (COW), 0x08 SNAPSHOT_ORG |
//! | 0x104 | 4 | `lv_status` | 0x01 ACTIVE, 0x02 SPINDOWN, 0x04 PERSISTENT_MINOR |
//! | 0x108 | 4 | `lv_open` | |
//! | 0x10C | 4 | `lv_dev` | 32-bit `dev_t` |
//! | 0x110 | 4 | `lv_number` | 0..255 |
//! | 0x114 | 4 | `lv_mirror_copies` | |
//! | 0x118 | 4 | `lv_recovery` | |
//! | 0x11C | 4 | `lv_schedule` | |
//! | 0x120 | 4 | `lv_size` | sectors |
//! | 0x124 | 4 | `lv_snapshot_minor` | COW: the origin's `lv_number` |
//! | 0x128 | 2 | `lv_chunk_size` u16 | COW: sectors |
//! | 0x12A | 2 | `dummy` | |
//! | 0x12C | 4 | `lv_allocated_le` | LE count |
//! | 0x130 | 4 | `lv_stripes` | 1 = linear |
//! | 0x134 | 4 | `lv_stripesize` | sectors |
//! | 0x138 | 4 | `lv_badblock` | |
//! | 0x13C | 4 | `lv_allocation` | 0x02 CONTIGUOUS |
//! | 0x140 | 4 | `lv_io_timeout` | |
//! | 0x144 | 4 | `lv_read_ahead` | sectors, 0 = default |

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{DataArea, MAX_LV, NAME_LEN, VgDisk, c_name};
use crate::device::{self, Device};
use crate::error::{Error, Result};
use crate::le::{U16, U32};

/// Bytes of one `lv_disk`.
pub const LV_DISK_SIZE: usize = 328;

/// `LV_READ`.
pub const LV_READ: u32 = 0x01;
/// `LV_WRITE`.
pub const LV_WRITE: u32 = 0x02;
/// `LV_SNAPSHOT`: this LV is a COW store.
pub const LV_SNAPSHOT: u32 = 0x04;
/// `LV_SNAPSHOT_ORG`: this LV has snapshots.
pub const LV_SNAPSHOT_ORG: u32 = 0x08;
/// `LV_SPINDOWN` (in `lv_status`).
pub const LV_SPINDOWN: u32 = 0x02;
/// `LV_PERSISTENT_MINOR` (in `lv_status`).
pub const LV_PERSISTENT_MINOR: u32 = 0x04;
/// `LV_CONTIGUOUS` (in `lv_allocation`).
pub const LV_CONTIGUOUS: u32 = 0x02;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawLvDisk {
    lv_name: [u8; NAME_LEN],
    vg_name: [u8; NAME_LEN],
    lv_access: U32,
    lv_status: U32,
    lv_open: U32,
    lv_dev: U32,
    lv_number: U32,
    lv_mirror_copies: U32,
    lv_recovery: U32,
    lv_schedule: U32,
    lv_size: U32,
    lv_snapshot_minor: U32,
    lv_chunk_size: U16,
    dummy: U16,
    lv_allocated_le: U32,
    lv_stripes: U32,
    lv_stripesize: U32,
    lv_badblock: U32,
    lv_allocation: U32,
    lv_io_timeout: U32,
    lv_read_ahead: U32,
}

const _: () = assert!(size_of::<RawLvDisk>() == LV_DISK_SIZE);

/// A decoded `lv_disk` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LvDisk {
    /// Absolute byte offset of the record (for messages).
    pub at: u64,
    /// `lv_name` as stored (`/dev/vg/lv`).
    pub path: String,
    /// `vg_name`.
    pub vg_name: String,
    /// `lv_access`.
    pub lv_access: u32,
    /// `lv_status`.
    pub lv_status: u32,
    /// `lv_dev`.
    pub lv_dev: u32,
    /// `lv_number`.
    pub lv_number: u32,
    /// `lv_size`, sectors.
    pub lv_size: u32,
    /// `lv_snapshot_minor`: for a COW, the origin's LV number.
    pub lv_snapshot_minor: u32,
    /// `lv_chunk_size`, sectors.
    pub lv_chunk_size: u16,
    /// `lv_allocated_le`.
    pub lv_allocated_le: u32,
    /// `lv_stripes`.
    pub lv_stripes: u32,
    /// `lv_stripesize`, sectors.
    pub lv_stripesize: u32,
    /// `lv_badblock`.
    pub lv_badblock: u32,
    /// `lv_allocation`.
    pub lv_allocation: u32,
    /// `lv_read_ahead`, sectors.
    pub lv_read_ahead: u32,
}

impl LvDisk {
    /// Decode a record read from byte `at`; `Ok(None)` for an empty slot.
    pub fn parse(bytes: &[u8], at: u64) -> Result<Option<LvDisk>> {
        let Ok((raw, _)) = RawLvDisk::ref_from_prefix(bytes) else {
            return Err(Error::Truncated {
                what: "lv_disk",
                at,
                len: LV_DISK_SIZE as u64,
                size: bytes.len() as u64,
            });
        };
        if raw.lv_name[0] == 0 {
            return Ok(None);
        }
        // The LE count sizes the LV's extent map: bounded as lvm2 bounds it.
        if raw.lv_allocated_le.get() > super::MAX_LE_TOTAL {
            return Err(Error::BadField {
                what: "lv_disk",
                at,
                field: "lv_allocated_le",
                expected: format!("at most {} (lvm2's MAX_LE_TOTAL)", super::MAX_LE_TOTAL),
                found: raw.lv_allocated_le.get().to_string(),
            });
        }
        Ok(Some(LvDisk {
            at,
            path: c_name(&raw.lv_name, "lv_disk", at, "lv_name")?,
            vg_name: c_name(&raw.vg_name, "lv_disk", at + 0x80, "vg_name")?,
            lv_access: raw.lv_access.get(),
            lv_status: raw.lv_status.get(),
            lv_dev: raw.lv_dev.get(),
            lv_number: raw.lv_number.get(),
            lv_size: raw.lv_size.get(),
            lv_snapshot_minor: raw.lv_snapshot_minor.get(),
            lv_chunk_size: raw.lv_chunk_size.get(),
            lv_allocated_le: raw.lv_allocated_le.get(),
            lv_stripes: raw.lv_stripes.get(),
            lv_stripesize: raw.lv_stripesize.get(),
            lv_badblock: raw.lv_badblock.get(),
            lv_allocation: raw.lv_allocation.get(),
            lv_read_ahead: raw.lv_read_ahead.get(),
        }))
    }

    /// The LV name: the text after the last `/` of the stored path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// Major number of `lv_dev` (glibc's `major()` of a 32-bit `dev_t`).
    pub fn dev_major(&self) -> u32 {
        (self.lv_dev >> 8) & 0xfff
    }

    /// Minor number of `lv_dev` (glibc's `minor()` of a 32-bit `dev_t`).
    pub fn dev_minor(&self) -> u32 {
        (self.lv_dev & 0xff) | ((self.lv_dev >> 12) & !0xff)
    }
}

/// Read the LV array as lvm2 does: slots `0..lv_max` (all 256 when `lv_max` is 0), stopping
/// once `vg_disk.lv_cur` non-empty records have been found. Returns `(slot, record)` pairs.
pub fn read_all(dev: &dyn Device, area: DataArea, vg: &VgDisk) -> Result<Vec<(u32, LvDisk)>> {
    let slots = if vg.lv_max == 0 { MAX_LV } else { vg.lv_max };
    let mut out = Vec::new();
    for slot in 0..slots {
        if vg.lv_max != 0 && out.len() as u64 >= u64::from(vg.lv_cur) {
            break;
        }
        let at = u64::from(area.base) + u64::from(slot) * LV_DISK_SIZE as u64;
        let bytes = device::read(dev, "lv_disk", at, LV_DISK_SIZE as u64)?;
        if let Some(lv) = LvDisk::parse(&bytes, at)? {
            out.push((slot, lv));
        }
    }
    Ok(out)
}
