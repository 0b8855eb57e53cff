//! On-disk LVM: the LVM2 label, pv_header, metadata areas and ring buffer, the text metadata
//! grammar, the volume-group model, device scanning and VG assembly.
//!
//! Bytes go in, a model comes out; nothing here talks to device-mapper.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assemble;
pub mod crc;
pub mod device;
pub mod disk_locn;
pub mod error;
pub mod export;
pub mod flags;
pub mod fuzzing;
pub mod host;
pub mod id;
pub mod import;
pub mod label;
pub mod le;
pub mod lvm1;
pub mod mda_header;
pub mod model;
pub mod partition;
pub mod pv_header;
pub mod raw_locn;
pub mod ring;
pub mod scan;
pub mod text;
pub mod time;
pub mod topology;
pub mod units;
pub mod write;

pub use error::{Error, Result};
