//! Device-mapper, as types: validated device names and uuids ([`DmName`], [`DmUuid`]), device
//! numbers ([`DevNum`]) and references to devices that may not exist yet ([`DevRef`]), sector
//! counts ([`Sectors`]), and tables ([`Table`]) made of lines whose parameters are typed per
//! target ([`target`]).
//!
//! Every target's parameters print exactly as the kernel accepts them and as `dmsetup table`
//! reports them, and parse back (`parse(print(x)) == x`):
//!
//! ```
//! use lvmkit_dm::{DevNum, DevRef, Sectors, Table, Target, target::Linear};
//!
//! let mut table = Table::new();
//! table.push(Sectors(16384), Target::Linear(Linear { dev: DevRef::Num(DevNum::new(7, 0)), offset: Sectors(2048) }));
//! assert_eq!(table.to_string(), "0 16384 linear 7:0 2048");
//! assert_eq!(table.to_string().parse::<Table>().unwrap(), table);
//! ```
//!
//! [`control`] talks to the kernel: the [`control::DmControl`] trait and [`control::Dm`], raw
//! ioctls on `/dev/mapper/control` (layouts in `abi.rs`). [`udev`] synchronises with udev the
//! way libdevmapper does (notification cookies on SysV semaphores). The private `ioctl` module
//! is the only one allowed `unsafe` (hence `deny`, not `forbid`, here).
//!
//! This crate knows nothing about LVM.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod abi;
pub mod control;
pub mod devnum;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod ioctl;
/// Start-up aids for kernels where page faults are expensive (see `kit/src/startup.rs`).
pub use ioctl::{prefault_executable, reserve_heap};
pub mod name;
pub mod status;
pub mod table;
pub mod target;
pub mod udev;
pub mod units;

pub use devnum::{DevNum, DevRef};
pub use error::{Error, Result};
pub use name::{DevId, DmName, DmUuid};
pub use table::{Table, TableLine};
pub use target::{Target, TargetParams};
pub use units::Sectors;
