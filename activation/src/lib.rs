//! LVM activation without lvm2: from a VG's metadata to device-mapper devices.
//!
//! [`names`] builds lvm2's dm names and uuids, [`plan`] (pure, no I/O) turns an assembled VG
//! into an ordered list of devices with typed tables, exactly as lvm2 2.03.16 would load
//! them, [`decide`] observes the live devices once and decides (pure) what each planned
//! device needs and how it differs from the plan, [`apply`] runs a plan against device-mapper
//! by that decision (and takes a VG down again), and [`status`] reports the same decision.
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

pub mod apply;
pub mod decide;
pub mod error;
pub mod health;
pub mod live;
pub mod names;
pub mod parallel;
pub mod plan;
pub mod status;

pub use error::{Error, MissingPvDetail, Result};
pub use plan::{
    ActivationMode, PersistentDevNum, Plan, PlanOptions, PlannedDevice, PoolMessages, ReadAhead, SkipReason,
    SkippedLv, plan, plan_assembled,
};
