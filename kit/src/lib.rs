//! lvmkit's command layer: offline inspection (reports, dumps, history, checks) over the
//! metadata engine. The `lvmkit` binary is a thin argument parser over these modules.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activate;
pub mod hints;
pub mod inspect;
pub mod report;
pub mod source;
pub mod startup;
pub mod target;
pub mod write;
