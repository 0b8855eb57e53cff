//! Live device-mapper state against a [`Plan`]: per planned device, whether a device with its
//! uuid exists, is live (resumed, with a live table), has the planned table (references
//! resolved to the live numbers of the other planned devices) and access mode, how often it is
//! open, and how many `error` targets its live table has. A VG is fine only when every planned
//! device is live and equal ([`VgStatus::ok`]).

use std::collections::HashMap;
use std::fmt;

use lvmkit_dm::control::{self, DmControl};
use lvmkit_dm::{DevId, DevNum, DmName, DmUuid, Table, Target};

use crate::plan::Plan;

/// Something about a planned device that differs from the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No device has the planned uuid.
    Missing,
    /// The device with the planned uuid has another name.
    Renamed {
        /// Its name.
        live_name: String,
    },
    /// The device has no live table (created or loaded, never resumed).
    NoLiveTable,
    /// The device is suspended: I/O to it blocks.
    Suspended,
    /// Loaded read-only where the plan says writable, or the other way round.
    AccessMode {
        /// The plan's mode.
        planned_read_only: bool,
    },
    /// The live table differs from the planned one.
    TableMismatch {
        /// The planned table, references resolved.
        planned: Table,
        /// The live table.
        live: Table,
    },
    /// The table could not be compared: a device it refers to is not live.
    ChildNotLive {
        /// The planned child's name.
        child: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("missing"),
            Problem::Renamed { live_name } => write!(f, "active under another name, {live_name}"),
            Problem::NoLiveTable => f.write_str("no live table"),
            Problem::Suspended => f.write_str("suspended"),
            Problem::AccessMode { planned_read_only: true } => f.write_str("writable, planned read-only"),
            Problem::AccessMode { planned_read_only: false } => f.write_str("read-only, planned writable"),
            Problem::TableMismatch { .. } => f.write_str("table differs from the plan"),
            Problem::ChildNotLive { child } => write!(f, "table not compared: {child} is not live"),
        }
    }
}

/// The live side of a planned device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveDevice {
    /// Its name.
    pub name: String,
    /// Its number.
    pub dev: DevNum,
    /// Openers (mounts, holders, open file descriptors).
    pub open_count: i32,
    /// Lines of the live table whose target is `error`.
    pub error_targets: usize,
}

/// One planned device and what device-mapper has for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Planned name.
    pub name: DmName,
    /// Planned uuid (the identity looked up).
    pub uuid: DmUuid,
    /// The live device, if one has the uuid.
    pub live: Option<LiveDevice>,
    /// Differences from the plan; empty when live and equal.
    pub problems: Vec<Problem>,
}

impl DeviceStatus {
    /// Live and equal to the plan.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A device of the VG (by uuid prefix) that the plan does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnplannedDevice {
    /// Name.
    pub name: String,
    /// Uuid.
    pub uuid: String,
    /// Number.
    pub dev: DevNum,
}

/// A plan's devices against the live state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VgStatus {
    /// VG name.
    pub vg: String,
    /// Per planned device, in plan order.
    pub devices: Vec<DeviceStatus>,
    /// Devices whose uuid has the prefix given to [`status`] but which are not planned.
    pub unplanned: Vec<UnplannedDevice>,
}

impl VgStatus {
    /// Every planned device is live and equal to the plan.
    pub fn ok(&self) -> bool {
        self.devices.iter().all(DeviceStatus::ok)
    }
}

impl fmt::Display for VgStatus {
    /// Per device `NAME MAJOR:MINOR ok|PROBLEM[, …] open=N [error-targets=N]` (a missing one:
    /// `NAME - missing`), with `planned:`/`live:` table lines under a mismatch; then
    /// `# not planned: NAME MAJOR:MINOR UUID` lines and a summary
    /// `VG: N of M planned devices live and equal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.devices {
            let verdict = if d.ok() {
                "ok".to_string()
            } else {
                d.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            };
            match &d.live {
                None => writeln!(f, "{} - {verdict}", d.name)?,
                Some(l) => {
                    write!(f, "{} {} {verdict} open={}", d.name, l.dev, l.open_count)?;
                    if l.error_targets > 0 {
                        write!(f, " error-targets={}", l.error_targets)?;
                    }
                    writeln!(f)?;
                }
            }
            for p in &d.problems {
                if let Problem::TableMismatch { planned, live } = p {
                    for l in &planned.lines {
                        writeln!(f, "  planned: {l}")?;
                    }
                    for l in &live.lines {
                        writeln!(f, "  live:    {l}")?;
                    }
                }
            }
        }
        for u in &self.unplanned {
            writeln!(f, "# not planned: {} {} {}", u.name, u.dev, u.uuid)?;
        }
        let good = self.devices.iter().filter(|d| d.ok()).count();
        writeln!(f, "{}: {good} of {} planned devices live and equal", self.vg, self.devices.len())
    }
}

/// Compares `plan` with what device-mapper has. `uuid_prefix` (`LVM-<vg uuid>` for a whole
/// VG) also lists live devices with that prefix the plan does not have; `None` skips that.
pub fn status(
    dm: &dyn DmControl,
    plan: &Plan,
    uuid_prefix: Option<&str>,
) -> Result<VgStatus, control::Error> {
    let mut nums: HashMap<String, DevNum> = HashMap::new();
    let mut devices = Vec::with_capacity(plan.devices.len());
    for d in &plan.devices {
        let id = DevId::Uuid(d.uuid.clone());
        let Some(info) = dm.info(&id)? else {
            devices.push(DeviceStatus {
                name: d.name.clone(),
                uuid: d.uuid.clone(),
                live: None,
                problems: vec![Problem::Missing],
            });
            continue;
        };
        let mut problems = Vec::new();
        if info.name != d.name.as_str() {
            problems.push(Problem::Renamed { live_name: info.name.clone() });
        }
        let mut error_targets = 0;
        if !info.live_table() {
            problems.push(Problem::NoLiveTable);
        } else {
            if info.read_only() != d.read_only {
                problems.push(Problem::AccessMode { planned_read_only: d.read_only });
            }
            let live = dm.table(&id, false)?;
            error_targets = live.lines.iter().filter(|l| matches!(l.target, Target::Error(_))).count();
            let mut planned = d.table.clone();
            let mut unresolved = None;
            let resolved = planned.resolve(&mut |label| {
                let n = nums.get(label).copied();
                if n.is_none() {
                    unresolved.get_or_insert_with(|| label.to_string());
                }
                n
            });
            match (resolved, unresolved) {
                (Ok(()), _) if planned.same_device_as(&live) => {}
                (Ok(()), _) => problems.push(Problem::TableMismatch { planned, live }),
                (Err(_), Some(child)) => problems.push(Problem::ChildNotLive { child }),
                (Err(_), None) => problems.push(Problem::TableMismatch { planned: d.table.clone(), live }),
            }
            if info.suspended() {
                problems.push(Problem::Suspended);
            }
            // Only a device that is live counts as a resolved reference for its users.
            nums.insert(d.name.to_string(), info.dev);
        }
        devices.push(DeviceStatus {
            name: d.name.clone(),
            uuid: d.uuid.clone(),
            live: Some(LiveDevice {
                name: info.name,
                dev: info.dev,
                open_count: info.open_count,
                error_targets,
            }),
            problems,
        });
    }
    let mut unplanned = Vec::new();
    if let Some(prefix) = uuid_prefix {
        for l in dm.list()? {
            let Some(uuid) = l.uuid.filter(|u| u.starts_with(prefix)) else { continue };
            if !plan.devices.iter().any(|d| d.uuid.as_str() == uuid) {
                unplanned.push(UnplannedDevice { name: l.name, uuid, dev: l.dev });
            }
        }
        unplanned.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(VgStatus { vg: plan.vg.clone(), devices, unplanned })
}
