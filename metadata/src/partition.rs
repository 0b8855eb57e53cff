//! MBR and GPT partition tables inside image files, so PVs in partitions of a disk image are
//! found. (Block devices need none of this: the kernel lists their partitions.)
//!
//! MBR: 4 entries of 16 bytes at byte 446, signature `55 aa` at 510; entry: `4 type u8 |
//! 8 first LBA u32 | 12 sector count u32`. Type 0xee = protective MBR of a GPT.
//! GPT header at LBA 1 (`EFI PART`): `72 entries LBA u64 | 80 entry count u32 | 84 entry size
//! u32`; entry: `0 type GUID [16] | 32 first LBA u64 | 40 last LBA u64 (inclusive)`.
//! Extended/logical MBR partitions are not followed.

use crate::device::{self, Device};

/// A partition: 1-based number and byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1-based number, as the kernel would name it (`p1`).
    pub number: u32,
    /// First byte.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Partitions found on `dev`, empty when it has no table. Entries pointing past the device end
/// are dropped (a damaged table must not stop the scan).
pub fn partitions(dev: &dyn Device) -> Vec<Partition> {
    let Ok(mbr) = device::read(dev, "partition table", 0, 512) else { return vec![] };
    if mbr[510] != 0x55 || mbr[511] != 0xaa {
        return vec![];
    }
    let entry = |i: usize| &mbr[446 + 16 * i..446 + 16 * (i + 1)];
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
    if (0..4).any(|i| entry(i)[4] == 0xee) {
        for lba in [512u64, 4096] {
            let g = gpt(dev, lba);
            if !g.is_empty() {
                return g;
            }
        }
        return vec![];
    }
    let size = dev.size();
    let mut out = Vec::new();
    for i in 0..4 {
        let e = entry(i);
        let (ty, first, count) = (e[4], u32_at(e, 8) as u64, u32_at(e, 12) as u64);
        // 0x05/0x0f/0x85 are extended containers, not data.
        if ty == 0 || count == 0 || [0x05, 0x0f, 0x85].contains(&ty) {
            continue;
        }
        let (start, len) = (first * 512, count * 512);
        if start + len <= size && start > 0 {
            out.push(Partition { number: i as u32 + 1, start, len });
        }
    }
    out
}

fn gpt(dev: &dyn Device, lba: u64) -> Vec<Partition> {
    let Ok(h) = device::read(dev, "GPT header", lba, 92) else { return vec![] };
    if &h[..8] != b"EFI PART" {
        return vec![];
    }
    let u32_at = |o: usize| u32::from_le_bytes(h[o..o + 4].try_into().expect("4 bytes")) as u64;
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    let (entries_lba, count, esize) = (u64_at(&h, 72), u32_at(80), u32_at(84));
    if !(128..=4096).contains(&esize) || count == 0 || count > 1024 {
        return vec![];
    }
    let Some(at) = entries_lba.checked_mul(lba) else { return vec![] };
    let Ok(table) = device::read(dev, "GPT entries", at, count * esize) else { return vec![] };
    let size = dev.size();
    let mut out = Vec::new();
    for i in 0..count as usize {
        let e = &table[i * esize as usize..(i + 1) * esize as usize];
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (u64_at(e, 32), u64_at(e, 40));
        let (Some(start), Some(end)) =
            (first.checked_mul(lba), last.checked_add(1).and_then(|l| l.checked_mul(lba)))
        else {
            continue;
        };
        if first > 0 && end > start && end <= size {
            out.push(Partition { number: i as u32 + 1, start, len: end - start });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::MemDevice;

    #[test]
    fn mbr_and_gpt() {
        let mut d = vec![0u8; 1 << 20];
        d[510] = 0x55;
        d[511] = 0xaa;
        d[446 + 4] = 0x8e; // Linux LVM
        d[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes()[..]);
        d[446 + 12..446 + 16].copy_from_slice(&10u32.to_le_bytes()[..]);
        let p = partitions(&MemDevice::new("m", d.clone()));
        assert!(p.is_empty(), "a partition past the end of the 1 MiB image is dropped: {p:?}");
        d[446 + 8..446 + 12].copy_from_slice(&34u32.to_le_bytes()[..]);
        let p = partitions(&MemDevice::new("m", d.clone()));
        assert_eq!(p, vec![Partition { number: 1, start: 34 * 512, len: 5120 }]);
        // GPT: protective MBR + header at LBA 1 + one entry at LBA 2.
        d[446 + 4] = 0xee;
        d[512..520].copy_from_slice(b"EFI PART");
        d[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
        d[512 + 80..512 + 84].copy_from_slice(&4u32.to_le_bytes());
        d[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
        d[1024] = 1; // non-zero type GUID
        d[1024 + 32..1024 + 40].copy_from_slice(&40u64.to_le_bytes());
        d[1024 + 40..1024 + 48].copy_from_slice(&1000u64.to_le_bytes());
        let p = partitions(&MemDevice::new("m", d));
        assert_eq!(p, vec![Partition { number: 1, start: 40 * 512, len: 961 * 512 }]);
        assert!(partitions(&MemDevice::new("m", vec![0; 100])).is_empty());
    }
}
