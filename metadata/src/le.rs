//! Little-endian, alignment-1 field types for on-disk structures. LVM2 and LVM1 store every
//! integer little-endian; reading one requires `.get()`, so byte order can't be forgotten.

pub use zerocopy::byteorder::little_endian::{U16, U32, U64};
