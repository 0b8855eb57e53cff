//! The live devices against a [`Plan`], in two steps: [`observe`] asks device-mapper once
//! (one `DM_LIST_DEVICES`, then `DM_DEV_STATUS` and, for a device with a live table,
//! `DM_TABLE_STATUS` per planned device that exists), and [`decide`] — pure, no I/O — says
//! per planned device what differs from the plan ([`Problem`]s, what `status` reports) and
//! what it needs ([`Action`], what `apply::activate` does), plus the devices under the VG's
//! uuid prefix the plan does not have. Activation, status, and the kit's quickCheck and
//! recover all decide here: one decision table.
//!
//! | live device (by uuid)                          | action     | problems                      |
//! |------------------------------------------------|------------|-------------------------------|
//! | none                                           | `Create`   | `Missing`                     |
//! | no live table (created, never resumed)         | `Finish`   | `NoLiveTable`                 |
//! | planned table and access mode, resumed         | `Nothing`  | —                             |
//! | planned table and access mode, suspended       | `Resume`   | `Suspended`                   |
//! | another table or access mode, planned one larger | `Grow`   | `TableMismatch`/`AccessMode`/`ChildNotLive` (+ `Suspended`) |
//! | another table or access mode                   | `Reload`   | as above                      |
//!
//! Another name (renamed in the metadata) adds `Renamed` and [`Decision::rename_from`]: the
//! device is renamed first, whatever else it needs. Tables are compared with their
//! references resolved to the observed numbers of the plan's earlier devices; a reference to
//! a device that is not there cannot match (`ChildNotLive`), so the user is reloaded once the
//! child exists.

use std::collections::HashMap;
use std::fmt;

use lvmkit_dm::control::{self, DeviceInfo, DmControl, ListedDevice};
use lvmkit_dm::{DevId, DevNum, Table, Target};

use crate::plan::Plan;

/// What device-mapper has for a plan, as [`observe`] found it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Every device the one list returned.
    pub listed: Vec<ListedDevice>,
    /// Per planned device (plan order), the device with its uuid, if there is one.
    pub planned: Vec<Option<LiveState>>,
}

/// A live device with a planned device's uuid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveState {
    /// Its info (name, number, open count, flags).
    pub info: DeviceInfo,
    /// Its live table, when it has one.
    pub table: Option<Table>,
}

/// Looks at what device-mapper has for `plan`: one list, then per planned device that exists
/// one [`DmControl::lookup`] (its state and live table). A device listed and gone by the time
/// it is asked about counts as absent.
pub fn observe(dm: &dyn DmControl, plan: &Plan) -> Result<Observed, control::Error> {
    let listed = dm.list()?;
    observe_listed(dm, plan, listed)
}

/// [`observe`] with the list the caller already made.
pub fn observe_listed(
    dm: &dyn DmControl,
    plan: &Plan,
    listed: Vec<ListedDevice>,
) -> Result<Observed, control::Error> {
    let by_uuid: HashMap<&str, &ListedDevice> =
        listed.iter().filter_map(|d| Some((d.uuid.as_deref()?, d))).collect();
    let mut planned = Vec::with_capacity(plan.devices.len());
    for d in &plan.devices {
        if !by_uuid.contains_key(d.uuid.as_str()) {
            planned.push(None);
            continue;
        }
        let state = dm.lookup(&DevId::Uuid(d.uuid.clone()))?.map(|(info, table)| LiveState { info, table });
        planned.push(state);
    }
    Ok(Observed { listed, planned })
}

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

/// What a planned device needs (see the module's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// No device: create, load, resume.
    Create,
    /// A device without a live table (a run cut short): load, resume.
    Finish,
    /// Live and as planned: nothing.
    Nothing,
    /// As planned but suspended (an interrupted run): resume.
    Resume,
    /// Another, smaller table: load and resume at once, so the devices above it are loaded
    /// against its new size (the kernel checks; libdevmapper's preload does the same).
    Grow,
    /// Another table or access mode: load now, swap in with the other changed devices
    /// (suspend users first, resume children first).
    Reload,
}

/// What [`decide`] says about one planned device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// What it needs.
    pub action: Action,
    /// The live name to rename from first (the LV was renamed in the metadata).
    pub rename_from: Option<String>,
    /// How the live device differs from the plan; empty when it is live and equal.
    pub problems: Vec<Problem>,
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

/// [`decide`]'s verdict on a whole plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    /// Per planned device, in plan order.
    pub devices: Vec<Decision>,
    /// Listed devices under the uuid prefix given to [`decide`] that the plan does not have,
    /// sorted by name.
    pub unplanned: Vec<UnplannedDevice>,
}

impl Decided {
    /// No planned device exists yet: everything is created.
    pub fn all_new(&self) -> bool {
        self.devices.iter().all(|d| d.action == Action::Create)
    }
}

/// Decides, without I/O, what each planned device needs and how it differs from the plan
/// (see the module's table). `uuid_prefix` (`LVM-<vg uuid>` for a whole VG) also lists the
/// observed devices with that prefix the plan does not have; `None` skips that.
pub fn decide(plan: &Plan, observed: &Observed, uuid_prefix: Option<&str>) -> Decided {
    // The observed numbers of the planned devices, for resolving references, and whether
    // each is live (has a live table).
    let mut nums: HashMap<&str, (DevNum, bool)> = HashMap::new();
    let mut devices = Vec::with_capacity(plan.devices.len());
    for (d, live) in plan.devices.iter().zip(&observed.planned) {
        let Some(live) = live else {
            devices.push(Decision {
                action: Action::Create,
                rename_from: None,
                problems: vec![Problem::Missing],
            });
            continue;
        };
        let info = &live.info;
        let mut problems = Vec::new();
        let rename_from = (info.name != d.name.as_str()).then(|| info.name.clone());
        if let Some(live_name) = &rename_from {
            problems.push(Problem::Renamed { live_name: live_name.clone() });
        }
        nums.insert(d.name.as_str(), (info.dev, live.table.is_some()));
        let Some(live_table) = &live.table else {
            problems.push(Problem::NoLiveTable);
            devices.push(Decision { action: Action::Finish, rename_from, problems });
            continue;
        };
        if info.read_only() != d.read_only {
            problems.push(Problem::AccessMode { planned_read_only: d.read_only });
        }
        let mut planned = d.table.clone();
        let mut not_live = None;
        let resolved = planned.resolve(&mut |label| {
            let n = nums.get(label).copied();
            if !n.is_some_and(|(_, live)| live) {
                not_live.get_or_insert_with(|| label.to_string());
            }
            n.map(|(dev, _)| dev)
        });
        let same_table = resolved.is_ok() && planned.same_device_as(live_table);
        match not_live {
            Some(child) => problems.push(Problem::ChildNotLive { child }),
            None if resolved.is_err() => {
                problems.push(Problem::TableMismatch { planned: d.table.clone(), live: live_table.clone() })
            }
            None if !same_table => {
                problems.push(Problem::TableMismatch { planned, live: live_table.clone() })
            }
            None => {}
        }
        if info.suspended() {
            problems.push(Problem::Suspended);
        }
        let action = if same_table && info.read_only() == d.read_only {
            if info.suspended() { Action::Resume } else { Action::Nothing }
        } else if d.table.length() > live_table.length() {
            Action::Grow
        } else {
            Action::Reload
        };
        devices.push(Decision { action, rename_from, problems });
    }
    let mut unplanned = Vec::new();
    if let Some(prefix) = uuid_prefix {
        for l in &observed.listed {
            let Some(uuid) = l.uuid.as_deref().filter(|u| u.starts_with(prefix)) else { continue };
            if !plan.devices.iter().any(|d| d.uuid.as_str() == uuid) {
                unplanned.push(UnplannedDevice { name: l.name.clone(), uuid: uuid.to_string(), dev: l.dev });
            }
        }
        unplanned.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Decided { devices, unplanned }
}

/// Lines of `table` whose target is `error`.
pub fn error_targets(table: &Table) -> usize {
    table.lines.iter().filter(|l| matches!(l.target, Target::Error(_))).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlannedDevice, ReadAhead};
    use lvmkit_dm::control::flags;
    use lvmkit_dm::{DmName, DmUuid};

    const UUID: &str = "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn device(name: &str, table: &str, read_only: bool) -> PlannedDevice {
        PlannedDevice {
            name: DmName::new(name.to_string()).unwrap(),
            uuid: DmUuid::new(format!("{UUID}{name:x<32}")).unwrap(),
            read_only,
            table: table.parse().unwrap(),
            children: Vec::new(),
            lv: name.to_string(),
            layer: None,
            public: true,
            persistent: None,
            messages: None,
            read_ahead: ReadAhead::Auto,
            create_early: Vec::new(),
        }
    }

    /// `vg-child` (8 sectors of zero) under `vg-top` (a linear over it).
    fn plan() -> Plan {
        Plan {
            vg: "vg".into(),
            devices: vec![
                device("vg-child", "0 8 zero", false),
                device("vg-top", "0 8 linear <vg-child> 0", false),
            ],
            skipped: Vec::new(),
        }
    }

    /// What the kernel might have for one device.
    #[derive(Clone, Copy, Debug)]
    enum Live {
        Absent,
        /// Created, never resumed.
        NoTable,
        /// A table of `len` sectors: the planned one (`same`) or another.
        Table {
            same: bool,
            len: u64,
            ro: bool,
            suspended: bool,
            renamed: bool,
        },
    }

    fn live(p: &Plan, i: usize, state: Live, child_dev: DevNum) -> Option<LiveState> {
        let d = &p.devices[i];
        let dev = DevNum::new(253, i as u32);
        let info = |renamed: bool, flag_bits: u32| DeviceInfo {
            name: if renamed { format!("old-{i}") } else { d.name.to_string() },
            uuid: Some(d.uuid.to_string()),
            dev,
            open_count: 0,
            event_nr: 0,
            target_count: 1,
            flags: flag_bits,
        };
        match state {
            Live::Absent => None,
            Live::NoTable => Some(LiveState { info: info(false, 0), table: None }),
            Live::Table { same, len, ro, suspended, renamed } => {
                let mut bits = flags::ACTIVE_PRESENT;
                if ro {
                    bits |= flags::READONLY;
                }
                if suspended {
                    bits |= flags::SUSPEND;
                }
                let text = match (i, same) {
                    (0, true) => "0 8 zero".to_string(),
                    (0, false) => format!("0 {len} error"),
                    (_, true) => format!("0 8 linear {child_dev} 0"),
                    (_, false) => format!("0 {len} linear 7:0 0"),
                };
                Some(LiveState { info: info(renamed, bits), table: Some(text.parse().unwrap()) })
            }
        }
    }

    fn observed(p: &Plan, child: Live, top: Live) -> Observed {
        let child_dev = DevNum::new(253, 0);
        let planned = vec![live(p, 0, child, child_dev), live(p, 1, top, child_dev)];
        let listed = planned
            .iter()
            .flatten()
            .map(|l| ListedDevice {
                name: l.info.name.clone(),
                dev: l.info.dev,
                event_nr: None,
                uuid: l.info.uuid.clone(),
            })
            .collect();
        Observed { listed, planned }
    }

    fn t(same: bool, len: u64, ro: bool, suspended: bool, renamed: bool) -> Live {
        Live::Table { same, len, ro, suspended, renamed }
    }

    #[test]
    fn every_state_of_a_device_gets_its_action_and_problems() {
        let p = plan();
        let ok = t(true, 8, false, false, false);
        // (state of the top device, its action, its problems' words); the child is live and
        // as planned throughout.
        let cases: Vec<(Live, Action, Vec<&str>)> = vec![
            (Live::Absent, Action::Create, vec!["missing"]),
            (Live::NoTable, Action::Finish, vec!["no live table"]),
            (ok, Action::Nothing, vec![]),
            (t(true, 8, false, true, false), Action::Resume, vec!["suspended"]),
            (t(true, 8, false, false, true), Action::Nothing, vec!["active under another name, old-1"]),
            (
                t(true, 8, false, true, true),
                Action::Resume,
                vec!["active under another name, old-1", "suspended"],
            ),
            (t(true, 8, true, false, false), Action::Reload, vec!["read-only, planned writable"]),
            (t(false, 8, false, false, false), Action::Reload, vec!["table differs from the plan"]),
            (t(false, 16, false, false, false), Action::Reload, vec!["table differs from the plan"]),
            (t(false, 4, false, false, false), Action::Grow, vec!["table differs from the plan"]),
            (t(false, 4, false, true, false), Action::Grow, vec!["table differs from the plan", "suspended"]),
            (
                t(false, 8, true, true, true),
                Action::Reload,
                vec![
                    "active under another name, old-1",
                    "read-only, planned writable",
                    "table differs from the plan",
                    "suspended",
                ],
            ),
        ];
        for (state, action, words) in cases {
            let d = decide(&p, &observed(&p, ok, state), None);
            assert_eq!(
                d.devices[0],
                Decision { action: Action::Nothing, rename_from: None, problems: vec![] }
            );
            let top = &d.devices[1];
            let got: Vec<String> = top.problems.iter().map(ToString::to_string).collect();
            assert_eq!(
                (top.action, got),
                (action, words.iter().map(|w| w.to_string()).collect()),
                "{state:?}"
            );
            let renamed = matches!(state, Live::Table { renamed: true, .. });
            assert_eq!(top.rename_from.is_some(), renamed, "{state:?}");
        }
    }

    #[test]
    fn a_user_of_a_device_that_is_not_live_is_reloaded() {
        let p = plan();
        let ok = t(true, 8, false, false, false);
        // A missing child gets a new number: its user is reloaded onto it. A child that
        // exists without a live table keeps its number (it is only loaded and resumed): its
        // user's table already refers to it and stays.
        for (child, action) in [(Live::Absent, Action::Reload), (Live::NoTable, Action::Nothing)] {
            let d = decide(&p, &observed(&p, child, ok), None);
            assert_eq!(d.devices[1].action, action, "{child:?}");
            assert_eq!(d.devices[1].problems, vec![Problem::ChildNotLive { child: "vg-child".into() }]);
        }
        // A child with another number than the one the live user refers to.
        let mut o = observed(&p, ok, ok);
        o.planned[0].as_mut().unwrap().info.dev = DevNum::new(253, 9);
        let d = decide(&p, &o, None);
        assert_eq!(d.devices[1].action, Action::Reload);
        assert!(matches!(d.devices[1].problems[..], [Problem::TableMismatch { .. }]));
    }

    #[test]
    fn nothing_live_means_everything_is_created_and_unplanned_devices_are_listed() {
        let p = plan();
        let none = decide(&p, &observed(&p, Live::Absent, Live::Absent), Some(UUID));
        assert!(none.all_new() && none.unplanned.is_empty());
        let ok = t(true, 8, false, false, false);
        let mut o = observed(&p, ok, ok);
        assert!(!decide(&p, &o, None).all_new());
        // Another device of the VG, and one of another VG.
        for (name, uuid) in [("vg-gone", format!("{UUID}{:x<32}", "gone")), ("other-lv", "LVM-b".repeat(8))] {
            o.listed.push(ListedDevice {
                name: name.into(),
                dev: DevNum::new(253, 7),
                event_nr: None,
                uuid: Some(uuid),
            });
        }
        let d = decide(&p, &o, Some(UUID));
        assert_eq!(d.unplanned.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["vg-gone"]);
        assert!(decide(&p, &o, None).unplanned.is_empty(), "no prefix, no look");
    }
}
