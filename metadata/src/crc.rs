//! LVM's CRC-32 variant.
//!
//! Reflected IEEE polynomial (same table as zlib), initial register `0xf597a6cf`, no final XOR.
//! `crc32fast` works in finalized form (it starts from `!init` and returns `!register`), so we
//! hand it the complement of LVM's initial value and complement its result.

/// LVM's initial CRC register value (`INITIAL_CRC` in lvm2).
pub const INITIAL_CRC: u32 = 0xf597_a6cf;

/// Incremental LVM CRC, for text that arrives in two pieces (a wrapped ring-buffer copy).
#[derive(Clone)]
pub struct LvmCrc(crc32fast::Hasher);

impl LvmCrc {
    /// A fresh checksum with LVM's initial value.
    pub fn new() -> Self {
        LvmCrc(crc32fast::Hasher::new_with_initial(!INITIAL_CRC))
    }
    /// Feed more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    /// The raw register, which is what lvm2 stores.
    pub fn finish(self) -> u32 {
        !self.0.finalize()
    }
}

impl Default for LvmCrc {
    fn default() -> Self {
        Self::new()
    }
}

/// LVM CRC of one buffer.
pub fn lvm_crc(data: &[u8]) -> u32 {
    let mut c = LvmCrc::new();
    c.update(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference: the definition in the spec, with no table and no crate.
    fn reference(data: &[u8]) -> u32 {
        let mut crc = INITIAL_CRC;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        crc
    }

    #[test]
    fn matches_reference_and_chains() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(lvm_crc(&data), reference(&data));
        let mut c = LvmCrc::new();
        c.update(&data[..777]);
        c.update(&data[777..]);
        assert_eq!(c.finish(), reference(&data));
        assert_eq!(lvm_crc(&[]), INITIAL_CRC);
    }
}
