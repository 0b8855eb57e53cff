//! lvmkit's library over the engine: reports, inspection (dumps, history, checks), activation
//! and metadata changes, each returning a typed outcome (whose `Display` is what the command
//! prints) or a typed error, never printing. `VG[/LV]` arguments are parsed by [`target`],
//! scans shared by [`source`]. The `lvmkit` binary (`src/cli/`) parses arguments, calls these
//! modules, prints and maps the outcome to an exit status.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod activate;
pub mod hints;
pub mod inspect;
pub mod ocf;
pub mod recovery;
pub mod report;
pub mod source;
pub mod startup;
pub mod target;
pub mod write;
