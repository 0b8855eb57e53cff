//! The thin half of activation: run a [`Plan`] against device-mapper, and take a VG's devices
//! down again.
//!
//! [`activate`] observes the live devices once and takes [`crate::decide`]'s verdict per
//! planned device (by uuid, the identity lvm2 matches on): absent → create, load, resume;
//! present with the same live table → left alone; present with another table → reload (load,
//! then resume swaps it in); then walks the plan in order (children first). `<label>`
//! references resolve to the numbers of devices just created or found. When udev is not
//! running, `/dev/mapper/NAME` and, for public devices, `/dev/VG/LV → /dev/mapper/NAME` are made
//! here, as libdevmapper/lvm2 do. On any error, the devices this run created are removed
//! again (newest first), with their nodes: no half-built stack is left behind.
//!
//! [`deactivate`] removes every device whose uuid starts with a prefix (`LVM-<vg uuid>` for a
//! whole VG — also devices of PVs that vanished), parents before the devices they use,
//! refusing devices that something outside the set holds open.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lvmkit_dm::control::{self, CreateOptions, DmControl, ListedDevice, RemoveOptions};
use lvmkit_dm::udev::{self, UdevReport};
use lvmkit_dm::{DevId, DevNum, DmName, Sectors};

use crate::decide::{Action, decide, observe, observe_listed};
use crate::plan::{Plan, PlannedDevice, ReadAhead};
use crate::{names, parallel};

/// udev flags lvm2 gives devices that get no `/dev/VG/LV` link (hidden and layer devices):
/// `DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG | DISABLE_DISK_RULES | DISABLE_OTHER_RULES`.
pub const HIDDEN_UDEV_FLAGS: u16 =
    udev::flags::DISABLE_SUBSYSTEM_RULES | udev::flags::DISABLE_DISK_RULES | udev::flags::DISABLE_OTHER_RULES;

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Where device nodes live (`/dev`).
    pub dev_dir: PathBuf,
    /// Make `/dev/mapper/NAME` and `/dev/VG/LV` ourselves. Default: when udev is not running
    /// or `DM_DISABLE_UDEV` is set.
    /// Never done while the [`DmControl`] synchronises with udev (udev makes them, and a node
    /// of ours would clash with its symlink); then only what udev failed to make is made.
    pub make_nodes: bool,
    /// How removals (rollback, deactivation) retry on `EBUSY`.
    pub remove: RemoveOptions,
    /// Threads for independent devices' ioctls: a fresh activation's loads and resumes, a
    /// planned deactivation's removes (1: one after another, in plan order). Default:
    /// [`parallel::default_jobs`].
    pub jobs: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            dev_dir: PathBuf::from("/dev"),
            make_nodes: !control::udev_running() || control::udev_disabled_by_env(),
            remove: Default::default(),
            jobs: parallel::default_jobs(),
        }
    }
}

/// What happened to one planned device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Created, loaded, resumed.
    Created,
    /// Was active with another table: reloaded.
    Reloaded,
    /// Was active with the planned table: untouched.
    Unchanged,
    /// Had the planned table but was suspended (an interrupted run): resumed.
    Resumed,
}

/// The result of an activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activated {
    /// Per planned device, in plan order: name, number, outcome.
    pub devices: Vec<(DmName, DevNum, Outcome)>,
    /// Devices found under another name (the LV was renamed): old name, new name.
    pub renamed: Vec<(String, DmName)>,
    /// What udev did not do in time (nodes made directly instead), one line each.
    pub warnings: Vec<String>,
}

/// The result of a deactivation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deactivated {
    /// Removed devices, in removal order.
    pub removed: Vec<String>,
    /// What udev did not do in time (nodes removed directly instead), one line each.
    pub warnings: Vec<String>,
}

/// Why applying or deactivating failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A device-mapper call failed; `rolled_back` lists the devices removed again.
    #[error("{device}: {source}{}", rollback_note(rolled_back, rollback_failures))]
    Dm {
        /// The planned device being worked on.
        device: String,
        /// The failure.
        source: Box<control::Error>,
        /// Devices of this run removed again.
        rolled_back: Vec<String>,
        /// Rollback steps that failed too.
        rollback_failures: Vec<String>,
    },
    /// A device node or link could not be made.
    #[error("{device}: {path}: {source}{}", rollback_note(rolled_back, rollback_failures))]
    Node {
        /// The device.
        device: String,
        /// The node or link.
        path: PathBuf,
        /// The failure.
        source: io::Error,
        /// Devices of this run removed again.
        rolled_back: Vec<String>,
        /// Rollback steps that failed too.
        rollback_failures: Vec<String>,
    },
    /// A reference that no earlier device of the plan resolves.
    #[error("{device}: {source}")]
    Resolve {
        /// The device.
        device: String,
        /// The failure.
        source: lvmkit_dm::Error,
    },
    /// After the wait for udev, a device node was wrong and could not be fixed (the devices
    /// themselves are in place).
    #[error("{source}")]
    Udev {
        /// The failure.
        source: Box<control::Error>,
    },
    /// A device to deactivate is open and not by another device being deactivated.
    #[error("{device} is in use (open count {open_count}{})", holders_note(holders))]
    InUse {
        /// The device.
        device: String,
        /// Its open count.
        open_count: i32,
        /// Holders found in sysfs (`dm-3` …).
        holders: Vec<String>,
    },
}

fn rollback_note(rolled_back: &[String], failures: &[String]) -> String {
    let mut s = String::new();
    if !rolled_back.is_empty() {
        s.push_str(&format!("; rolled back {}", rolled_back.join(", ")));
    }
    if !failures.is_empty() {
        s.push_str(&format!("; rollback failed: {}", failures.join("; ")));
    }
    s
}

fn holders_note(h: &[String]) -> String {
    if h.is_empty() { String::new() } else { format!(", held by {}", h.join(", ")) }
}

/// `/dev/VG/LV`.
fn lv_link(dev_dir: &Path, vg: &str, lv: &str) -> PathBuf {
    dev_dir.join(vg).join(lv)
}

/// `/dev/VG/LV -> /dev/mapper/NAME`. The common case (no link yet, the folder there) is one
/// `symlink`; the folder and a stale link are dealt with only when it fails.
fn make_link(dev_dir: &Path, vg: &str, lv: &str, name: &DmName) -> io::Result<PathBuf> {
    let link = lv_link(dev_dir, vg, lv);
    // Absolute, as lvm2 makes it without udev (`/dev/vg/lv -> /dev/mapper/vg-lv`).
    let target = dev_dir.join("mapper").join(name.as_str());
    match std::os::unix::fs::symlink(&target, &link) {
        Ok(()) => return Ok(link),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(dev_dir.join(vg))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if std::fs::read_link(&link).is_ok_and(|t| t == target) {
                return Ok(link);
            }
            std::fs::remove_file(&link)?;
        }
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(&target, &link)?;
    Ok(link)
}

/// Removes `/dev/VG/LV` of a device just removed (the name says VG and LV; layer and hidden
/// devices have none). One `unlink`, no look first: the path is that LV's by lvm2's naming,
/// made by us or by udev's lvm rules, and gone with the LV (lvm2 checks only that it is a
/// symlink; `unlink` refuses a directory). Returns the VG folder, to be removed once empty.
fn remove_link_to(dev_dir: &Path, name: &str) -> Option<PathBuf> {
    let (vg, lv, layer) = names::split_dm_name(name)?;
    if !layer.is_empty() || vg.is_empty() || lv.is_empty() {
        return None;
    }
    let _ = std::fs::remove_file(lv_link(dev_dir, &vg, &lv));
    Some(dev_dir.join(vg))
}

/// [`remove_link_to`] for each name, then the VG folders that became empty.
fn remove_links_to<'n>(dev_dir: &Path, names: impl IntoIterator<Item = &'n str>) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for n in names {
        if let Some(d) = remove_link_to(dev_dir, n) {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    for d in dirs {
        let _ = std::fs::remove_dir(d); // only succeeds when empty
    }
}

/// Apply `plan`.
///
/// One `DM_LIST_DEVICES` up front says which planned devices exist (by uuid); absent ones
/// cost exactly create, load and resume. Present ones are compared with the plan (table,
/// access mode, live and resumed); a differing one gets its new table loaded inactive, and
/// once every table of the plan is in place the changed devices are suspended users-first
/// and resumed children-first, as lvm2 does, so a stack switches over as one. A device that
/// grows is resumed right after its load (as libdevmapper's preload does): the devices above
/// it are checked against its new size when they are loaded.
pub fn activate(dm: &dyn DmControl, plan: &Plan, opts: &ApplyOptions) -> Result<Activated, ApplyError> {
    activate_listed(dm, plan, None, opts)
}

/// [`activate`] with the device list the caller just made (`listed`, from
/// [`DmControl::list`]; every device whose uuid has the plan's VG prefix suffices), instead
/// of listing again.
pub fn activate_listed(
    dm: &dyn DmControl,
    plan: &Plan,
    listed: Option<Vec<ListedDevice>>,
    opts: &ApplyOptions,
) -> Result<Activated, ApplyError> {
    let sync = dm.udev_sync_enabled();
    let mut run = Run {
        dm,
        opts,
        make_nodes: opts.make_nodes && !sync,
        sync,
        created: Vec::new(),
        loaded: Vec::new(),
        renamed: Vec::new(),
        warnings: Vec::new(),
        pv_read_ahead: PvReadAhead::default(),
    };
    let result = run.apply(plan, listed).map_err(|e| run.rollback(e));
    // Once, for everything this run did (also what a rollback undid).
    let report = dm.udev_wait().map_err(|e| ApplyError::Udev { source: Box::new(e) });
    let mut a = result?;
    let report = report?;
    links_for_made_nodes(&report, plan, &opts.dev_dir);
    a.warnings.extend(report.warnings());
    Ok(a)
}

/// `/dev/VG/LV` for public devices whose `/dev/mapper` node was made directly after the
/// wait for udev: udev's lvm rules did not make the link either.
fn links_for_made_nodes(report: &UdevReport, plan: &Plan, dev_dir: &Path) {
    for n in report.made_directly() {
        if let Some(d) = plan.devices.iter().find(|d| d.public && d.name.as_str() == n.name) {
            let _ = make_link(dev_dir, &plan.vg, &d.lv, &d.name);
        }
    }
}

struct Run<'a> {
    dm: &'a dyn DmControl,
    opts: &'a ApplyOptions,
    /// Make nodes and links ourselves (no udev, or udev not synchronised).
    make_nodes: bool,
    /// The dm control synchronises with udev.
    sync: bool,
    /// Devices this run renamed: old name, new name.
    renamed: Vec<(String, DmName)>,
    /// Warnings so far (read-ahead not set).
    warnings: Vec<String>,
    /// The PVs' read-ahead, for LVs that take theirs as a minimum.
    pv_read_ahead: PvReadAhead,
    /// Devices this run created (name, public link), oldest first.
    created: Vec<(DmName, Option<(String, String)>)>,
    /// Existing devices given an inactive table by this run, not yet swapped in, with whether
    /// this run suspended them.
    loaded: Vec<(DevId, String, bool)>,
}

/// An error before rollback.
enum Failure {
    Dm(String, Box<control::Error>),
    Node(String, PathBuf, io::Error),
    Resolve(String, lvmkit_dm::Error),
}

impl Run<'_> {
    fn apply(&mut self, plan: &Plan, listed: Option<Vec<ListedDevice>>) -> Result<Activated, Failure> {
        let dmerr = |name: &str| {
            let name = name.to_string();
            move |e| Failure::Dm(name, Box::new(e))
        };
        let observed = match listed {
            Some(l) => observe_listed(self.dm, plan, l),
            None => observe(self.dm, plan),
        }
        .map_err(dmerr("-"))?;
        let decided = decide(plan, &observed, None);
        if self.opts.jobs > 1 && plan.devices.len() > 1 && decided.all_new() {
            return self.apply_fresh(plan);
        }
        let mut nums: HashMap<String, DevNum> = HashMap::new();
        // Created ahead of their turn (`create_early`), without a table yet.
        let mut early: HashMap<DmName, DevNum> = HashMap::new();
        let mut out = Vec::new();
        // Devices whose new table waits in the inactive slot (indexes into `out`, plan index).
        let mut changed: Vec<(usize, usize)> = Vec::new();
        for (at, (d, decision)) in plan.devices.iter().zip(&decided.devices).enumerate() {
            let name = d.name.to_string();
            let mut table = d.table.clone();
            table
                .resolve(&mut |label| nums.get(label).copied())
                .map_err(|e| Failure::Resolve(name.clone(), e))?;
            let id = DevId::Uuid(d.uuid.clone());
            let live_dev = observed.planned[at].as_ref().map(|l| l.info.dev);
            if let Some(old) = &decision.rename_from {
                // Renamed in the metadata (lvrename on another node): the device keeps its
                // uuid, only its name follows.
                self.dm.rename(&id, &d.name, self.udev_flags(d)).map_err(dmerr(&name))?;
                self.renamed.push((old.clone(), d.name.clone()));
                if self.make_nodes {
                    remove_links_to(&self.opts.dev_dir, [old.as_str()]);
                    if let Ok(old) = DmName::new(old.clone()) {
                        let _ = control::remove_node(&self.opts.dev_dir, &old);
                    }
                }
            }
            let (dev, outcome) = match (early.get(&d.name), decision.action, live_dev) {
                (Some(&dev), _, _) => {
                    self.dm.table_load(&id, &table, d.read_only).map_err(dmerr(&name))?;
                    self.dm.resume(&id, self.udev_flags(d)).map_err(dmerr(&name))?;
                    (dev, Outcome::Created)
                }
                (None, Action::Create, _) | (None, _, None) => {
                    let info = self.create(d).map_err(dmerr(&name))?;
                    self.dm.table_load(&id, &table, d.read_only).map_err(dmerr(&name))?;
                    self.dm.resume(&id, self.udev_flags(d)).map_err(dmerr(&name))?;
                    (info.dev, Outcome::Created)
                }
                (None, Action::Nothing, Some(dev)) => (dev, Outcome::Unchanged),
                // An interrupted earlier run: the right table, only not resumed.
                (None, Action::Resume, Some(dev)) => {
                    self.dm.resume(&id, self.udev_flags(d)).map_err(dmerr(&name))?;
                    (dev, Outcome::Resumed)
                }
                // Grown: resumed at once, so the devices above it are loaded against its new
                // size (the kernel checks: raid's "component device(s) too small").
                (None, Action::Grow, Some(dev)) => {
                    self.dm.table_load(&id, &table, d.read_only).map_err(dmerr(&name))?;
                    self.dm.resume(&id, self.udev_flags(d)).map_err(dmerr(&name))?;
                    (dev, Outcome::Reloaded)
                }
                (None, Action::Reload, Some(dev)) => {
                    self.dm.table_load(&id, &table, d.read_only).map_err(dmerr(&name))?;
                    self.loaded.push((id.clone(), name.clone(), false));
                    changed.push((out.len(), at));
                    (dev, Outcome::Reloaded)
                }
                // Created but never given a live table (a run cut short): finish it.
                (None, Action::Finish, Some(dev)) => {
                    self.dm.table_load(&id, &table, d.read_only).map_err(dmerr(&name))?;
                    self.dm.resume(&id, self.udev_flags(d)).map_err(dmerr(&name))?;
                    (dev, Outcome::Created)
                }
            };
            if changed.last().is_none_or(|&(_, i)| i != at) {
                if let Some(m) = &d.messages {
                    self.send_messages(&id, m).map_err(dmerr(&name))?;
                }
            }
            if self.make_nodes {
                make_nodes(&self.opts.dev_dir, plan, d, dev)?;
                self.note_link(plan, d);
            }
            // After the resume (a table swap resets it); a deferred one after its swap.
            let deferred = changed.last().is_some_and(|&(_, i)| i == at);
            if outcome != Outcome::Unchanged && !deferred {
                self.warnings.extend(set_read_ahead(
                    d,
                    dev,
                    outcome == Outcome::Created,
                    &self.pv_read_ahead,
                ));
            }
            nums.insert(name, dev);
            out.push((d.name.clone(), dev, outcome));
            for later in &d.create_early {
                let Some(j) = plan.devices.iter().position(|p| p.name == *later) else { continue };
                if observed.planned[j].is_none() {
                    let info = self.create(&plan.devices[j]).map_err(dmerr(later.as_str()))?;
                    early.insert(plan.devices[j].name.clone(), info.dev);
                }
            }
        }
        if !changed.is_empty() {
            let devs: Vec<DevNum> = out.iter().map(|(_, dev, _)| *dev).collect();
            self.swap_in(plan, &changed, &devs)?;
        }
        Ok(Activated {
            devices: out,
            renamed: std::mem::take(&mut self.renamed),
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    /// Swaps the inactive tables of `changed` (plan order) in: suspend users first, then
    /// resume children first; then deliver pool messages.
    fn swap_in(
        &mut self,
        plan: &Plan,
        changed: &[(usize, usize)],
        out_devs: &[DevNum],
    ) -> Result<(), Failure> {
        for i in (0..self.loaded.len()).rev() {
            let (id, name, _) = &self.loaded[i];
            self.dm.suspend(id, 0).map_err(|e| Failure::Dm(name.clone(), Box::new(e)))?;
            self.loaded[i].2 = true;
        }
        // From here on the new tables go in: a failure no longer undoes the others.
        let loaded = std::mem::take(&mut self.loaded);
        let mut first = None;
        for ((id, name, _), &(_, at)) in loaded.iter().zip(changed) {
            let d = &plan.devices[at];
            let r = self.dm.resume(id, self.udev_flags(d)).and_then(|_| match &d.messages {
                Some(m) => self.send_messages(id, m),
                None => Ok(()),
            });
            match r {
                Ok(()) => {
                    if let Some(&(o, _)) = changed.iter().find(|&&(_, i)| i == at) {
                        let dev = out_devs[o];
                        self.warnings.extend(set_read_ahead(d, dev, false, &self.pv_read_ahead));
                    }
                }
                Err(e) => {
                    first.get_or_insert(Failure::Dm(name.clone(), Box::new(e)));
                }
            }
        }
        match first {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// Records that a device this run created got its `/dev/VG/LV` link (rollback removes it).
    fn note_link(&mut self, plan: &Plan, d: &PlannedDevice) {
        if d.public {
            if let Some(c) = self.created.iter_mut().rev().find(|(n, _)| *n == d.name) {
                c.1 = Some((plan.vg.clone(), d.lv.clone()));
            }
        }
    }

    /// A fresh activation (no planned device exists yet) on [`ApplyOptions::jobs`] threads.
    /// Every device is created here first, in the order the one-by-one path creates them, so
    /// the kernel hands out the same device numbers and the tables come out the same. Then
    /// each is loaded and resumed — with its pool messages, nodes and read-ahead — on
    /// whichever thread is free, once the devices it uses are live. A snapshot origin's top
    /// device, created early, still waits for everything planned before it (its snapshots),
    /// as lvm2 resumes it after them.
    fn apply_fresh(&mut self, plan: &Plan) -> Result<Activated, Failure> {
        let n = plan.devices.len();
        let mut devs: Vec<Option<DevNum>> = vec![None; n];
        let mut deps = plan.child_indexes();
        for (at, d) in plan.devices.iter().enumerate() {
            if devs[at].is_none() {
                let info = self.create(d).map_err(|e| Failure::Dm(d.name.to_string(), Box::new(e)))?;
                devs[at] = Some(info.dev);
            }
            for later in &d.create_early {
                let Some(j) = plan.devices.iter().position(|p| p.name == *later) else { continue };
                if devs[j].is_none() {
                    let info = self
                        .create(&plan.devices[j])
                        .map_err(|e| Failure::Dm(later.to_string(), Box::new(e)))?;
                    devs[j] = Some(info.dev);
                    deps[j].extend(at..j);
                }
            }
        }
        let nums: HashMap<&str, DevNum> =
            plan.devices.iter().zip(&devs).filter_map(|(d, n)| Some((d.name.as_str(), (*n)?))).collect();
        let mut tables = Vec::with_capacity(n);
        for d in &plan.devices {
            let mut table = d.table.clone();
            table
                .resolve(&mut |label| nums.get(label).copied())
                .map_err(|e| Failure::Resolve(d.name.to_string(), e))?;
            tables.push(table);
        }
        let this = &*self;
        let results = parallel::run_dag(&deps, self.opts.jobs, |i| {
            let d = &plan.devices[i];
            let dev = devs[i].expect("created above");
            let id = DevId::Uuid(d.uuid.clone());
            let dmerr = |e| Failure::Dm(d.name.to_string(), Box::new(e));
            this.dm.table_load(&id, &tables[i], d.read_only).map_err(dmerr)?;
            this.dm.resume(&id, this.udev_flags(d)).map_err(dmerr)?;
            if let Some(m) = &d.messages {
                this.send_messages(&id, m).map_err(dmerr)?;
            }
            if this.make_nodes {
                make_nodes(&this.opts.dev_dir, plan, d, dev)?;
            }
            Ok(set_read_ahead(d, dev, true, &this.pv_read_ahead))
        });
        let mut first = None;
        let mut out = Vec::with_capacity(n);
        for ((d, r), dev) in plan.devices.iter().zip(results).zip(&devs) {
            match r {
                Some(Ok(warning)) => {
                    if self.make_nodes {
                        self.note_link(plan, d);
                    }
                    self.warnings.extend(warning);
                    out.push((d.name.clone(), dev.expect("created above"), Outcome::Created));
                }
                Some(Err(f)) => {
                    first.get_or_insert(f);
                }
                None => {}
            }
        }
        if let Some(f) = first {
            return Err(f);
        }
        Ok(Activated { devices: out, renamed: Vec::new(), warnings: std::mem::take(&mut self.warnings) })
    }

    fn udev_flags(&self, d: &PlannedDevice) -> u16 {
        udev_flags_for(d, self.sync)
    }

    /// Creates `d`'s device (no table yet) and records it for rollback.
    fn create(&mut self, d: &PlannedDevice) -> Result<control::DeviceInfo, control::Error> {
        // With DM_PERSISTENT_DEV the kernel takes only the minor (dm's own major).
        let copts = CreateOptions {
            dev: d.persistent.map(|p| DevNum::new(p.major.unwrap_or(0), p.minor)),
            udev_flags: self.udev_flags(d),
        };
        let info = self.dm.create(&d.name, Some(&d.uuid), &copts)?;
        self.created.push((d.name.clone(), None));
        Ok(info)
    }

    /// Thin-pool messages, only when the kernel pool is still at the transaction they start
    /// from (status field 1 is the transaction id).
    fn send_messages(&self, id: &DevId, m: &crate::plan::PoolMessages) -> Result<(), control::Error> {
        let status = self.dm.status(id)?;
        let tid = status
            .first()
            .and_then(|s| s.status.split_whitespace().next())
            .and_then(|t| t.parse::<u64>().ok());
        if tid == Some(m.from_transaction_id) {
            for msg in &m.messages {
                self.dm.message(id, Sectors(0), &msg.to_string())?;
            }
        }
        Ok(())
    }

    /// Undo this run: inactive tables it loaded into existing devices are cleared (and those
    /// it suspended resumed on their old table), devices it created are removed, newest
    /// first, with their nodes.
    fn rollback(&mut self, f: Failure) -> ApplyError {
        let mut rolled_back = Vec::new();
        let mut failures = Vec::new();
        for (id, name, suspended) in self.loaded.drain(..) {
            if let Err(e) = self.dm.table_clear(&id) {
                failures.push(format!("{name}: {e}"));
            }
            if suspended {
                if let Err(e) = self.dm.resume(&id, 0) {
                    failures.push(format!("{name}: {e}"));
                }
            }
        }
        for (old, new) in self.renamed.drain(..).rev() {
            let back = match DmName::new(old.clone()) {
                Ok(o) => {
                    self.dm.rename(&DevId::Name(new.clone()), &o, 0).map(|_| ()).map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = back {
                failures.push(format!("{new}: rename back to {old}: {e}"));
            }
        }
        for (name, link) in self.created.drain(..).rev() {
            match self.dm.remove(&DevId::Name(name.clone()), &self.opts.remove) {
                Ok(()) => rolled_back.push(name.to_string()),
                Err(e) => failures.push(e.to_string()),
            }
            if self.make_nodes {
                if let Some((vg, lv)) = link {
                    let _ = std::fs::remove_file(lv_link(&self.opts.dev_dir, &vg, &lv));
                    let _ = std::fs::remove_dir(self.opts.dev_dir.join(&vg));
                }
                if let Err(e) = control::remove_node(&self.opts.dev_dir, &name) {
                    failures.push(format!("{name}: {e}"));
                }
            }
        }
        match f {
            Failure::Dm(device, source) => {
                ApplyError::Dm { device, source, rolled_back, rollback_failures: failures }
            }
            Failure::Node(device, path, source) => {
                ApplyError::Node { device, path, source, rolled_back, rollback_failures: failures }
            }
            Failure::Resolve(device, source) => ApplyError::Resolve { device, source },
        }
    }
}

/// `/dev/mapper/NAME` and, for a public device, `/dev/VG/LV`.
fn make_nodes(dev_dir: &Path, plan: &Plan, d: &PlannedDevice, dev: DevNum) -> Result<(), Failure> {
    let name = d.name.as_str();
    let node_err = |path: PathBuf| move |e| Failure::Node(name.to_string(), path, e);
    control::make_node(dev_dir, &d.name, dev).map_err(node_err(dev_dir.join("mapper").join(name)))?;
    if d.public {
        make_link(dev_dir, &plan.vg, &d.lv, &d.name).map_err(node_err(lv_link(dev_dir, &plan.vg, &d.lv)))?;
    }
    Ok(())
}

/// What every disk, a dm device included, starts with once it has a table: 128 KiB
/// (`VM_READAHEAD_PAGES`; the kernel's `disk_update_readahead` sets at least that).
const KERNEL_DEFAULT_READ_AHEAD: u32 = 256;

/// PVs' read-ahead, read once per run (lvm2 keeps it in its device cache).
#[derive(Default)]
struct PvReadAhead(Mutex<HashMap<DevNum, Option<u32>>>);

impl PvReadAhead {
    /// The largest read-ahead of `pvs` (those that cannot be read are left out).
    fn max_of(&self, pvs: &[DevNum]) -> Option<u32> {
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        pvs.iter().filter_map(|&p| *known.entry(p).or_insert_with(|| control::read_ahead(p).ok())).max()
    }
}

/// The planned read-ahead, once the device is (re)loaded, like libdevmapper after a resume;
/// a failure is a warning (returned: the device works, only slower to stream). `fresh`: the
/// device got its first table in this run, so it has at least the kernel's default and a
/// minimum up to that needs no look.
fn set_read_ahead(d: &PlannedDevice, dev: DevNum, fresh: bool, pvs: &PvReadAhead) -> Option<String> {
    let at_least = |n: u32| {
        if fresh && n <= KERNEL_DEFAULT_READ_AHEAD {
            return Ok(());
        }
        match control::read_ahead(dev) {
            Ok(now) if now >= n => Ok(()),
            _ => control::set_read_ahead(dev, n),
        }
    };
    let r = match &d.read_ahead {
        ReadAhead::Auto => Ok(()),
        ReadAhead::Exactly(n) => control::set_read_ahead(dev, *n),
        ReadAhead::AtLeast(n) => at_least(*n),
        ReadAhead::AtLeastPvs(pv) => match pvs.max_of(pv) {
            Some(n) if n > 0 => at_least(n),
            _ => Ok(()),
        },
    };
    r.err().map(|e| format!("{}: cannot set read-ahead: {e}", d.name))
}

/// The udev flags lvm2 gives a device: rules off for hidden ones, and when synchronising
/// with udev no library fallback (udev makes the nodes; lvm2's `_get_udev_flags` with its
/// default `verify_udev_operations = 0`).
fn udev_flags_for(d: &PlannedDevice, sync: bool) -> u16 {
    let base = if d.public { 0 } else { HIDDEN_UDEV_FLAGS };
    if sync { base | udev::flags::DISABLE_LIBRARY_FALLBACK } else { base }
}

/// The uuid prefix of every device of a VG: `LVM-<vg id>`.
pub fn vg_uuid_prefix(vg_id: &lvmkit_metadata::id::LvmId) -> String {
    format!("{}{}", names::UUID_PREFIX, vg_id.as_str())
}

/// Removes every device whose uuid starts with `uuid_prefix`, users before the devices they
/// use. A device held open by anything but another device of the set is refused
/// ([`ApplyError::InUse`], naming sysfs holders) and so are the devices under it; the others
/// are still removed. Returns the removed names, in removal order.
pub fn deactivate(
    dm: &dyn DmControl,
    uuid_prefix: &str,
    opts: &ApplyOptions,
) -> Result<Deactivated, ApplyError> {
    deactivate_where(dm, |u| u.starts_with(uuid_prefix), |_| true, opts)
}

/// Remove the live devices whose uuid `wanted` selects, users before what they use (one LV's
/// stack: its own devices and its hidden sub-LVs', which have uuids of their own).
///
/// A device still open once its users in the set are gone is an error when `requested` says
/// it was asked for (the LV is in use: refused, naming the holders); otherwise something
/// outside the set holds it — a thin pool that other thin LVs still use — and it stays, with
/// what it sits on.
pub fn deactivate_where(
    dm: &dyn DmControl,
    wanted: impl Fn(&str) -> bool,
    requested: impl Fn(&str) -> bool,
    opts: &ApplyOptions,
) -> Result<Deactivated, ApplyError> {
    deactivate_planned(dm, None, wanted, requested, opts)
}

/// [`deactivate_where`], knowing the plan the devices were made from (the VG's or the LV's):
/// its devices are first removed users first with one `DM_DEV_REMOVE` each, nothing else
/// asked — on [`ApplyOptions::jobs`] threads, a device once the plan's users of it are gone.
/// Only what that leaves (a device held open, one the plan does not know, a table that
/// differs from the plan) goes through the careful path that reads every device's
/// dependencies and open count.
pub fn deactivate_planned(
    dm: &dyn DmControl,
    plan: Option<&Plan>,
    wanted: impl Fn(&str) -> bool,
    requested: impl Fn(&str) -> bool,
    opts: &ApplyOptions,
) -> Result<Deactivated, ApplyError> {
    deactivate_listed(dm, None, plan, wanted, requested, opts)
}

/// [`deactivate_planned`] with the device list the caller already has (`live`, from
/// [`DmControl::list`] just before), instead of listing again.
pub fn deactivate_listed(
    dm: &dyn DmControl,
    live: Option<Vec<ListedDevice>>,
    plan: Option<&Plan>,
    wanted: impl Fn(&str) -> bool,
    requested: impl Fn(&str) -> bool,
    opts: &ApplyOptions,
) -> Result<Deactivated, ApplyError> {
    let result = remove_where(dm, live, plan, wanted, requested, opts);
    // Once, for every removal (also when one failed midway).
    let report = dm.udev_wait().map_err(|e| ApplyError::Udev { source: Box::new(e) });
    let removed = result?;
    let report = report?;
    remove_links_to(
        &opts.dev_dir,
        report.nodes.iter().filter(|n| n.fixed && !n.present).map(|n| n.name.as_str()),
    );
    Ok(Deactivated { removed, warnings: report.warnings() })
}

fn remove_where(
    dm: &dyn DmControl,
    live: Option<Vec<ListedDevice>>,
    plan: Option<&Plan>,
    wanted: impl Fn(&str) -> bool,
    requested: impl Fn(&str) -> bool,
    opts: &ApplyOptions,
) -> Result<Vec<String>, ApplyError> {
    let make_nodes = opts.make_nodes && !dm.udev_sync_enabled();
    let dmerr = |device: &str, source| ApplyError::Dm {
        device: device.to_string(),
        source: Box::new(source),
        rolled_back: Vec::new(),
        rollback_failures: Vec::new(),
    };
    let live = match live {
        Some(l) => l,
        None => dm.list().map_err(|e| dmerr("-", e))?,
    };
    let mut left: Vec<ListedDevice> =
        live.into_iter().filter(|d| d.uuid.as_deref().is_some_and(&wanted)).collect();
    let mut removed = Vec::new();
    // Fast pass: one remove each, users first — by the plan, else newest first. A failure
    // (EBUSY: held, or a user the order did not know of) is not final: the careful pass below
    // looks again.
    let once = RemoveOptions { busy_retries: 0, ..opts.remove.clone() };
    let remove_once = |i: usize| -> bool {
        let Ok(name) = DmName::new(left[i].name.clone()) else { return false };
        if dm.remove(&DevId::Name(name.clone()), &once).is_err() {
            return false;
        }
        if make_nodes {
            let _ = control::remove_node(&opts.dev_dir, &name);
        }
        true
    };
    let gone: Vec<usize> = match plan.filter(|p| !p.devices.is_empty()) {
        Some(plan) => {
            let at: HashMap<&str, usize> =
                left.iter().enumerate().filter_map(|(i, d)| Some((d.uuid.as_deref()?, i))).collect();
            // Task k is the plan's device n-1-k: one thread removes in reverse plan order,
            // and a device waits for the plan's devices that use it.
            let n = plan.devices.len();
            let mut after = vec![Vec::new(); n];
            for (user, children) in plan.child_indexes().into_iter().enumerate() {
                for child in children {
                    after[n - 1 - child].push(n - 1 - user);
                }
            }
            parallel::run_dag(&after, opts.jobs, |k| {
                let i = at.get(plan.devices[n - 1 - k].uuid.as_str()).copied();
                Ok::<_, std::convert::Infallible>(i.filter(|&i| remove_once(i)))
            })
            .into_iter()
            .flatten()
            .flatten()
            .flatten()
            .collect()
        }
        // Several threads, no plan: each device's dependencies from the kernel (one
        // DM_TABLE_DEPS each, cheap next to a removal's wait), then users before what they use.
        None if opts.jobs > 1 && left.len() > 1 => {
            let at: HashMap<DevNum, usize> = left.iter().enumerate().map(|(i, d)| (d.dev, i)).collect();
            let mut after = vec![Vec::new(); left.len()];
            for (user, d) in left.iter().enumerate() {
                let Ok(name) = DmName::new(d.name.clone()) else { continue };
                for dep in dm.deps(&DevId::Name(name)).unwrap_or_default() {
                    if let Some(&child) = at.get(&dep) {
                        after[child].push(user);
                    }
                }
            }
            parallel::run_dag(&after, opts.jobs, |i| {
                Ok::<_, std::convert::Infallible>(Some(i).filter(|&i| remove_once(i)))
            })
            .into_iter()
            .flatten()
            .flatten()
            .flatten()
            .collect()
        }
        // One thread, no plan: newest first. A stack is created children first, so its users
        // have the higher minors; a layer added later (a snapshot's -real under an active
        // origin) fails here and goes through the careful pass.
        None => {
            let mut order: Vec<usize> = (0..left.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse((left[i].dev.major, left[i].dev.minor)));
            order.into_iter().filter(|&i| remove_once(i)).collect()
        }
    };
    let mut gone_at = vec![false; left.len()];
    for i in gone {
        if !gone_at[i] {
            gone_at[i] = true;
            removed.push(left[i].name.clone());
        }
    }
    if make_nodes {
        remove_links_to(&opts.dev_dir, removed.iter().map(String::as_str));
    }
    let mut gone_at = gone_at.into_iter();
    left.retain(|_| !gone_at.next().unwrap_or(false));
    // Who uses whom, within the set.
    let mut uses: HashMap<String, Vec<DevNum>> = HashMap::new();
    for d in &left {
        let id = DevId::Name(
            DmName::new(d.name.clone())
                .map_err(|e| ApplyError::Resolve { device: d.name.clone(), source: e })?,
        );
        uses.insert(d.name.clone(), dm.deps(&id).map_err(|e| dmerr(&d.name, e))?);
    }
    let mut first_error = None;
    while !left.is_empty() {
        // Removable now: no remaining device of the set uses it.
        let (ready, rest): (Vec<_>, Vec<_>) = left.into_iter().partition(|d| {
            !uses
                .iter()
                .any(|(user, deps)| user != &d.name && deps.contains(&d.dev) && uses.contains_key(user))
        });
        if ready.is_empty() {
            // A cycle cannot happen in dm; stop rather than spin.
            break;
        }
        for d in ready {
            let name = DmName::new(d.name.clone()).expect("validated above");
            let id = DevId::Name(name.clone());
            match dm.info(&id) {
                Ok(Some(i)) if i.open_count > 0 && !d.uuid.as_deref().is_some_and(&requested) => {
                    // Held from outside the set: keep it (and, through `uses`, what it sits on).
                    continue;
                }
                Ok(Some(i)) if i.open_count > 0 => {
                    first_error.get_or_insert(ApplyError::InUse {
                        device: d.name.clone(),
                        open_count: i.open_count,
                        holders: sysfs_holders(d.dev),
                    });
                    // Keep it (and, through `uses`, what it sits on) in place.
                    continue;
                }
                Ok(None) => {}
                Ok(Some(_)) => match dm.remove(&id, &opts.remove) {
                    Ok(()) => removed.push(d.name.clone()),
                    Err(e) => {
                        first_error.get_or_insert(dmerr(&d.name, e));
                        continue;
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(dmerr(&d.name, e));
                    continue;
                }
            }
            if make_nodes {
                remove_links_to(&opts.dev_dir, [d.name.as_str()]);
                let _ = control::remove_node(&opts.dev_dir, &name);
            }
            uses.remove(&d.name);
        }
        // Devices kept in place stay "users" so their children are not removed under them.
        left = rest;
        if first_error.is_some() {
            left.retain(|d| !uses.iter().any(|(u, deps)| u != &d.name && deps.contains(&d.dev)));
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(removed),
    }
}

/// `/sys/dev/block/M:m/holders/*`.
fn sysfs_holders(dev: DevNum) -> Vec<String> {
    let p = format!("/sys/dev/block/{dev}/holders");
    let mut v: Vec<String> = std::fs::read_dir(p)
        .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// What [`refresh`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refreshed {
    /// The planned devices, as [`activate`] reports them.
    pub activated: Activated,
    /// Devices that were part of a refreshed LV's stack and that the new metadata no longer
    /// has (a sub-LV removed, a layer gone), removed once nothing used them any more.
    pub removed: Vec<String>,
    /// Live devices of the VG the new metadata does not have and that were not below a
    /// refreshed LV (an LV removed by another node while active here), or still held open:
    /// left alone, with their open counts.
    pub left: Vec<(String, i32)>,
}

/// Brings the active LVs of a VG in line with metadata another node changed (lvm2's
/// `vgchange --refresh`): `plan` holds the LVs to refresh (the active ones), `known` says
/// whether a device uuid belongs to the VG's current metadata at all, `uuid_prefix` is the
/// VG's (`LVM-<vg uuid>`).
///
/// Tables that differ are loaded and swapped in as in [`activate`] (a resized LV, areas moved
/// to another PV, a sub-LV added); devices the new stacks no longer use are removed when
/// nothing holds them; devices of LVs the metadata no longer has are reported, not removed —
/// they may be mounted.
pub fn refresh(
    dm: &dyn DmControl,
    plan: &Plan,
    known: impl Fn(&str) -> bool,
    uuid_prefix: &str,
    opts: &ApplyOptions,
) -> Result<Refreshed, ApplyError> {
    let dmerr = |device: &str, source| ApplyError::Dm {
        device: device.to_string(),
        source: Box::new(source),
        rolled_back: Vec::new(),
        rollback_failures: Vec::new(),
    };
    // One list for the whole refresh: the VG's devices before, and what activation observes.
    let before: Vec<ListedDevice> = dm
        .list()
        .map_err(|e| dmerr("-", e))?
        .into_iter()
        .filter(|d| d.uuid.as_deref().is_some_and(|u| u.starts_with(uuid_prefix)))
        .collect();
    // The refreshed LVs' stacks as they are now: their planned devices and everything below.
    let by_dev: HashMap<DevNum, &ListedDevice> = before.iter().map(|d| (d.dev, d)).collect();
    let planned: Vec<&str> = plan.devices.iter().map(|d| d.uuid.as_str()).collect();
    let mut stack: Vec<DevNum> = Vec::new();
    let mut todo: Vec<&ListedDevice> =
        before.iter().filter(|d| d.uuid.as_deref().is_some_and(|u| planned.contains(&u))).collect();
    while let Some(d) = todo.pop() {
        if stack.contains(&d.dev) {
            continue;
        }
        stack.push(d.dev);
        let id = DevId::Uuid(
            lvmkit_dm::DmUuid::new(d.uuid.clone().unwrap_or_default())
                .map_err(|e| ApplyError::Resolve { device: d.name.clone(), source: e })?,
        );
        for dep in dm.deps(&id).map_err(|e| dmerr(&d.name, e))? {
            if let Some(child) = by_dev.get(&dep) {
                todo.push(child);
            }
        }
    }
    let activated = activate_listed(dm, plan, Some(before.clone()), opts)?;
    let (stale, unknown): (Vec<&ListedDevice>, Vec<&ListedDevice>) = before
        .iter()
        .filter(|d| d.uuid.as_deref().is_some_and(|u| !known(u)))
        .partition(|d| stack.contains(&d.dev));
    let stale_uuids: Vec<&str> = stale.iter().filter_map(|d| d.uuid.as_deref()).collect();
    // Not `requested`: a stale layer something still holds stays, and is reported.
    let Deactivated { removed, warnings } =
        deactivate_where(dm, |u| stale_uuids.contains(&u), |_| false, opts)?;
    let mut activated = activated;
    activated.warnings.extend(warnings);
    let mut left = Vec::new();
    for d in stale.iter().filter(|d| !removed.contains(&d.name)).chain(&unknown) {
        let id = DevId::Name(
            DmName::new(d.name.clone())
                .map_err(|e| ApplyError::Resolve { device: d.name.clone(), source: e })?,
        );
        if let Some(info) = dm.info(&id).map_err(|e| dmerr(&d.name, e))? {
            left.push((d.name.clone(), info.open_count));
        }
    }
    Ok(Refreshed { activated, removed, left })
}
