//! `pe_disk`: the LVM1 PE map, one 4-byte entry per PE of the PV at `pe_on_disk.base`.
//!
//! | off | size | field | notes |
//! |---:|---:|---|---|
//! | 0 | 2 | `lv_num` u16 | `lv_number + 1`; 0 = free |
//! | 2 | 2 | `le_num` u16 | LE in that LV; striped LVs number stripe by stripe |

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::device::{self, Device};
use crate::error::Result;
use crate::le::U16;

/// Bytes of one entry.
pub const PE_DISK_SIZE: usize = 4;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct RawPeDisk {
    lv_num: U16,
    le_num: U16,
}

/// One PE map entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeDisk {
    /// `lv_number + 1`, 0 when the PE is free.
    pub lv_num: u16,
    /// Logical extent within that LV (stripe-major for striped LVs).
    pub le_num: u16,
}

impl PeDisk {
    /// The PE is free.
    pub fn is_free(&self) -> bool {
        self.lv_num == 0
    }
}

/// Decode a whole map from its bytes.
pub fn parse_map(bytes: &[u8]) -> Vec<PeDisk> {
    <[RawPeDisk]>::ref_from_bytes(&bytes[..bytes.len() / PE_DISK_SIZE * PE_DISK_SIZE])
        .map(|m| m.iter().map(|e| PeDisk { lv_num: e.lv_num.get(), le_num: e.le_num.get() }).collect())
        .unwrap_or_default()
}

/// Read `pe_total` entries at byte `base`; a map running past the device end is an error.
/// Read [`CHUNK`](crate::ring::CHUNK) bytes at a time (callers bound `pe_total` first, see
/// [`super::check_pe_total`]).
pub fn read_map(dev: &dyn Device, base: u32, pe_total: u32) -> Result<Vec<PeDisk>> {
    let len = u64::from(pe_total) * PE_DISK_SIZE as u64;
    let base = u64::from(base);
    // One bounds check for the whole map before anything is allocated.
    let size = dev.size();
    if base.checked_add(len).is_none_or(|e| e > size) {
        return Err(crate::error::Error::Truncated { what: "pe_disk map", at: base, len, size });
    }
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let step = crate::ring::CHUNK / PE_DISK_SIZE as u64 * PE_DISK_SIZE as u64;
    let mut done = 0;
    while done < len {
        let n = (len - done).min(step);
        device::read_into(dev, "pe_disk map", base + done, n, &mut buf)?;
        out.extend(parse_map(&buf));
        done += n;
    }
    Ok(out)
}
