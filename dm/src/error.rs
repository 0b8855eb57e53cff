//! The crate's error type.

/// What went wrong with a device-mapper value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A device name or uuid breaks the kernel's (or our stricter) rules.
    #[error("invalid device-mapper {kind} {value:?}: {why}")]
    BadId {
        /// `name` or `uuid`.
        kind: &'static str,
        /// The rejected text.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// Not `MAJOR:MINOR`.
    #[error("{value:?} is not a device number (expected MAJOR:MINOR)")]
    BadDevNum {
        /// The rejected text.
        value: String,
    },
    /// Not `MAJOR:MINOR` nor `<label>`.
    #[error("{value:?} is not a device reference (expected MAJOR:MINOR or <label>)")]
    BadDevRef {
        /// The rejected text.
        value: String,
    },
    /// Target parameters that do not parse.
    #[error("{target} parameters {params:?}: {why}")]
    BadParams {
        /// Target type.
        target: String,
        /// The whole parameter string.
        params: String,
        /// What was expected.
        why: String,
    },
    /// A table line that does not parse.
    #[error("table line {line:?}: {why}")]
    BadLine {
        /// The line.
        line: String,
        /// What was expected.
        why: String,
    },
    /// A `<label>` reference that could not be resolved to a device number.
    #[error("device reference <{label}> does not resolve to a device number")]
    Unresolved {
        /// The label.
        label: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
