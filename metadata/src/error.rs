//! The metadata crate's one error type.
//!
//! Every variant says where (a byte offset, a line:column, or a path inside the metadata tree)
//! and what was expected. The device name is added once, by the scan layer, with
//! [`Error::on_device`]; lower layers only know offsets.

use std::io;
use std::sync::Arc;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong reading or interpreting LVM metadata.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Wraps another error with the device (or image file) it happened on.
    #[error("{device}: {source}")]
    OnDevice {
        /// Device path or image name.
        device: String,
        /// What went wrong there.
        #[source]
        source: Box<Error>,
    },

    /// The operating system failed a read.
    #[error("read of {len} bytes at byte {at} failed: {source}")]
    Io {
        /// Absolute byte offset of the read.
        at: u64,
        /// Length of the read.
        len: u64,
        /// The OS error (shared so that errors can be cloned into reports).
        #[source]
        source: Arc<io::Error>,
    },

    /// Opening or sizing a device failed.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path given.
        path: String,
        /// The OS error (shared so that errors can be cloned into reports).
        #[source]
        source: Arc<io::Error>,
    },

    /// A path given as a device is neither a block device nor a regular (image) file.
    #[error("{path}: is {found}; expected a block device or an image file")]
    NotADevice {
        /// The path given.
        path: String,
        /// What it is ("a FIFO", "a character device", "a directory", …).
        found: &'static str,
    },

    /// A structure or area runs past the end of the device.
    #[error("{what} at byte {at} needs {len} bytes, but the device ends at byte {size}")]
    Truncated {
        /// Which structure.
        what: &'static str,
        /// Absolute byte offset where it starts.
        at: u64,
        /// Bytes it needs.
        len: u64,
        /// Device size in bytes.
        size: u64,
    },

    /// A magic number or identifier string is wrong.
    #[error("{what} at byte {at}: expected {expected}, found {found}")]
    BadMagic {
        /// Which structure.
        what: &'static str,
        /// Absolute byte offset of the field.
        at: u64,
        /// What should be there.
        expected: String,
        /// What is there (escaped for printing).
        found: String,
    },

    /// A stored checksum does not match the data.
    #[error("{what} at byte {at}: checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadChecksum {
        /// Which structure.
        what: &'static str,
        /// Absolute byte offset of the checksummed data.
        at: u64,
        /// The checksum on disk.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },

    /// A field holds a value outside what the format allows.
    #[error("{what} at byte {at}: {field} is {found}, expected {expected}")]
    BadField {
        /// Which structure.
        what: &'static str,
        /// Absolute byte offset of the structure.
        at: u64,
        /// The field's on-disk name.
        field: &'static str,
        /// What the format allows.
        expected: String,
        /// What is there.
        found: String,
    },

    /// Two on-disk areas overlap.
    #[error("{what}: area {a_name} [{a_start}, {a_end}) overlaps {b_name} [{b_start}, {b_end})")]
    Overlap {
        /// What was being checked.
        what: &'static str,
        /// First area's name.
        a_name: &'static str,
        /// First area's start byte.
        a_start: u64,
        /// First area's end byte (exclusive).
        a_end: u64,
        /// Second area's name.
        b_name: &'static str,
        /// Second area's start byte.
        b_start: u64,
        /// Second area's end byte (exclusive).
        b_end: u64,
    },

    /// The metadata text does not follow the config grammar.
    #[error("metadata text line {line}, column {column}: expected {expected}, found {found}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (in bytes).
        column: usize,
        /// Byte offset into the text.
        offset: usize,
        /// What the grammar wanted here.
        expected: String,
        /// The offending token (escaped, shortened).
        found: String,
    },

    /// The text parsed, but its content is not a valid VG description.
    #[error("metadata {path}: expected {expected}, found {found}")]
    Semantic {
        /// Path of the offending key, e.g. `vg0/logical_volumes/lv1/segment1/stripes`.
        path: String,
        /// What lvm2 requires there.
        expected: String,
        /// What is there.
        found: String,
    },
}

impl Error {
    /// Attach the device name (once; an error that already has one keeps it).
    pub fn on_device(self, device: &str) -> Error {
        match self {
            e @ Error::OnDevice { .. } => e,
            e => Error::OnDevice { device: device.to_string(), source: Box::new(e) },
        }
    }

    /// The innermost error, without the device wrapper.
    pub fn kind(&self) -> &Error {
        match self {
            Error::OnDevice { source, .. } => source.kind(),
            e => e,
        }
    }

    /// Shorthand for a semantic error.
    pub fn semantic(path: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Error {
        Error::Semantic { path: path.into(), expected: expected.into(), found: found.into() }
    }
}

/// Render raw bytes for an error message: printable ASCII as is, the rest as `\xNN`, at most
/// 40 bytes.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(40) {
        if (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    if b.len() > 40 {
        s.push_str("...");
    }
    s.push('"');
    s
}

impl Error {
    /// A read failure at `at`.
    pub fn io(at: u64, len: u64, e: io::Error) -> Error {
        Error::Io { at, len, source: Arc::new(e) }
    }
    /// An open failure on `path`.
    pub fn open(path: impl Into<String>, e: io::Error) -> Error {
        Error::Open { path: path.into(), source: Arc::new(e) }
    }
}
