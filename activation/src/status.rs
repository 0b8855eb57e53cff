//! Live device-mapper state against a [`Plan`]: per planned device, whether a device with its
//! uuid exists, is live (resumed, with a live table), has the planned table (references
//! resolved to the live numbers of the other planned devices) and access mode, how often it is
//! open, and how many `error` targets its live table has. A VG is fine only when every planned
//! device is live and equal ([`VgStatus::ok`]). The comparison itself is
//! [`crate::decide`]'s, the one apply acts on.

use std::fmt;

use lvmkit_dm::control::{self, DmControl};
use lvmkit_dm::{DevNum, DmName, DmUuid};

use crate::decide::{Observed, decide, error_targets, observe};
pub use crate::decide::{Problem, UnplannedDevice};
use crate::plan::Plan;

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

/// Compares `plan` with what device-mapper has ([`observe`] once, then [`decide`]).
/// `uuid_prefix` (`LVM-<vg uuid>` for a whole VG) also lists live devices with that prefix
/// the plan does not have; `None` skips that.
pub fn status(
    dm: &dyn DmControl,
    plan: &Plan,
    uuid_prefix: Option<&str>,
) -> Result<VgStatus, control::Error> {
    Ok(status_of(plan, &observe(dm, plan)?, uuid_prefix))
}

/// [`status`] of what was already observed (pure).
pub fn status_of(plan: &Plan, observed: &Observed, uuid_prefix: Option<&str>) -> VgStatus {
    let decided = decide(plan, observed, uuid_prefix);
    let devices = plan
        .devices
        .iter()
        .zip(&observed.planned)
        .zip(decided.devices)
        .map(|((d, live), decision)| DeviceStatus {
            name: d.name.clone(),
            uuid: d.uuid.clone(),
            live: live.as_ref().map(|l| LiveDevice {
                name: l.info.name.clone(),
                dev: l.info.dev,
                open_count: l.info.open_count,
                error_targets: l.table.as_ref().map_or(0, error_targets),
            }),
            problems: decision.problems,
        })
        .collect();
    VgStatus { vg: plan.vg.clone(), devices, unplanned: decided.unplanned }
}
