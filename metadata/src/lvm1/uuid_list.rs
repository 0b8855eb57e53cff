//! The LVM1 PV UUID list at `pv_uuidlist_on_disk.base`: 128-byte slots, each a 32-character
//! UUID followed by zeros, in the VG's PV order. Only the first `vg_disk.pv_cur` are valid;
//! later slots may hold stale UUIDs after a vgreduce.

use super::{DataArea, NAME_LEN};
use crate::device::{self, Device};
use crate::error::Result;

/// Read entries as lvm2's `_read_uuids` does: at most `pv_cur`, and no further than the end of
/// the area. Each entry is the text up to its first NUL (byte 127 is forced to NUL).
pub fn read(dev: &dyn Device, area: DataArea, pv_cur: u32) -> Result<Vec<String>> {
    let slots = u64::from(area.size).div_ceil(NAME_LEN as u64).min(u64::from(pv_cur));
    let len = slots * NAME_LEN as u64;
    let bytes = device::read(dev, "PV UUID list", u64::from(area.base), len)?;
    Ok(parse(&bytes))
}

/// Split raw bytes into entries.
pub fn parse(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(NAME_LEN)
        .map(|c| {
            let c = &c[..c.len().min(NAME_LEN - 1)];
            let n = c.iter().position(|&b| b == 0).unwrap_or(c.len());
            String::from_utf8_lossy(&c[..n]).into_owned()
        })
        .collect()
}
