//! LVM activation without lvm2: from a VG's metadata to device-mapper devices.
//!
//! This crate is the pure planning half: [`names`] builds lvm2's dm names and uuids, [`plan`]
//! turns an assembled VG into an ordered list of devices with typed tables, exactly as lvm2
//! 2.03.16 would load them. Applying a plan (ioctls) comes later and lives elsewhere.
//!
//! ```no_run
//! use lvmkit_activation::{PlanOptions, plan};
//! # fn demo(vg: &lvmkit_metadata::model::VolumeGroup, pvs: &[Option<lvmkit_dm::DevRef>]) {
//! let p = plan(vg, pvs, &PlanOptions::default()).expect("plannable");
//! print!("{p}"); // one `# name uuid=… rw` header and `name: start len target params` lines per device
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod names;
pub mod plan;

pub use error::{Error, MissingPvDetail, Result};
pub use plan::{
    ActivationMode, PersistentDevNum, Plan, PlanOptions, PlannedDevice, PoolMessages, SkipReason, SkippedLv,
    plan, plan_assembled,
};
