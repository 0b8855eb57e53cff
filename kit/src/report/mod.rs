//! lvm2-compatible `pvs`, `vgs` and `lvs` reports.

use crate::source::Source;

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// `pvs`
    Pv,
    /// `vgs`
    Vg,
    /// `lvs`
    Lv,
}

/// Output format (`--reportformat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// Aligned columns (lvm2's default).
    #[default]
    Basic,
    /// lvm2's JSON shape, every value a string.
    Json,
}

/// Options shared by the three reports, named as lvm2 names them.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `-o`: a comma list; a leading `+` appends to the default columns.
    pub fields: Vec<String>,
    /// `-a`: include hidden LVs (lvs) / all devices (pvs).
    pub all: bool,
    /// `--segments` (lvs: one row per segment).
    pub segments: bool,
    /// `--units` (`h`, `b`, `s`, `k`, `m`, `g`, `t`, `p`, `e`; upper case = powers of 1000).
    pub units: Option<String>,
    /// `--nosuffix`.
    pub nosuffix: bool,
    /// `--reportformat`.
    pub format: ReportFormat,
    /// `--noheadings`.
    pub noheadings: bool,
    /// `--separator`.
    pub separator: Option<String>,
    /// VG (or VG/LV, or PV device) names to restrict to.
    pub names: Vec<String>,
}

/// A report request that cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `-o` names a field this report does not have.
    #[error("unrecognised field: {0}")]
    UnknownField(String),
    /// `--units` value not understood.
    #[error("invalid units specification: {0}")]
    BadUnits(String),
    /// A named VG/LV/PV was not found.
    #[error("{0} not found")]
    NotFound(String),
}
