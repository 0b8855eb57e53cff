//! An in-memory device-mapper for tests without root (feature `fake`): live and inactive
//! tables, suspension, open counts (devices whose live tables use a device, plus openers from
//! outside device-mapper), per-target status, and a log of every call with a failure
//! injectable at any of them. It refuses what the kernel refuses where tests depend on it: a
//! second device with a name or uuid in use (`EEXIST`), a table over a fake device that has no
//! live table (`EINVAL`, "device too small"), a resume with no table (`EINVAL`), the removal
//! of an open device (`EBUSY`), and any call on a device that does not exist (`ENXIO`).
//! Activation's tests check ioctl order against it; the kit's tests run their actions on it.
//! (The real kernel runs the same code in the VM tests.)

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::control::{
    self, CreateOptions, DeviceInfo, DmControl, ListedDevice, RemoveOptions, StatusLine, TargetVersion, flags,
};
use crate::{DevId, DevNum, DmName, DmUuid, Sectors, Table, Target};

/// The major number of the fake's devices (no real block device has it).
pub const MAJOR: u32 = 4095;

/// One fake device.
#[derive(Clone, Debug)]
pub struct Dev {
    /// Its uuid (empty: none).
    pub uuid: String,
    /// Its number.
    pub dev: DevNum,
    /// The live table.
    pub live: Option<Table>,
    /// The live table was loaded read-only.
    pub live_ro: bool,
    /// The loaded, not yet resumed table and its read-only flag.
    pub inactive: Option<(Table, bool)>,
    /// Suspended.
    pub suspended: bool,
    /// Openers from outside device-mapper (a mount, a file descriptor).
    pub held: i32,
}

/// The fake kernel's state.
#[derive(Default)]
pub struct State {
    /// Devices by name.
    pub devs: BTreeMap<String, Dev>,
    /// The next minor number.
    pub next_minor: u32,
    /// Every call, one line each (`create NAME`, `load NAME`, `lookup uuid UUID`, …).
    pub log: Vec<String>,
    /// Fail the call whose log line is this (once) with `EIO`.
    pub fail_on: Option<String>,
    /// The health characters of every `raid` target's status (`AA`: all alive; default).
    pub raid_health: Option<String>,
    /// Status reported for a device by name instead, over its whole table: (target type,
    /// status text), as the kernel's target would (a `multipath` map's path states).
    pub status_of: BTreeMap<String, (String, String)>,
}

/// The fake kernel. `Sync`: activation calls it from several threads.
#[derive(Default)]
pub struct FakeDm(Mutex<State>);

fn err(cmd: &'static str, device: &str, errno: i32) -> control::Error {
    control::Error::Ioctl {
        cmd,
        device: device.to_string(),
        source: std::io::Error::from_raw_os_error(errno),
    }
}

impl FakeDm {
    /// The state, locked (to look at or change it behind the code under test's back).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Every call so far.
    pub fn log(&self) -> Vec<String> {
        self.state().log.clone()
    }
    /// Forget the calls so far.
    pub fn clear_log(&self) {
        self.state().log.clear();
    }
    /// Fail the next call whose log line is `line`.
    pub fn fail_on(&self, line: &str) {
        self.state().fail_on = Some(line.to_string());
    }
    /// `n` more (or, negative, fewer) openers of `name` from outside device-mapper.
    pub fn hold(&self, name: &str, n: i32) {
        self.state().devs.get_mut(name).expect("a fake device").held += n;
    }
    /// Suspend `name` behind the caller's back.
    pub fn suspend_dev(&self, name: &str) {
        self.state().devs.get_mut(name).expect("a fake device").suspended = true;
    }
    /// Make `name` vanish behind the caller's back.
    pub fn drop_dev(&self, name: &str) {
        self.state().devs.remove(name).expect("a fake device");
    }
    /// Replace `name`'s live table behind the caller's back.
    pub fn set_table(&self, name: &str, table: &str) {
        self.state().devs.get_mut(name).expect("a fake device").live = Some(table.parse().expect("a table"));
    }
    /// A live, resumed device made behind the caller's back.
    pub fn add(&self, name: &str, uuid: &str, table: &str) {
        let mut s = self.state();
        let minor = s.next_minor;
        s.next_minor += 1;
        s.devs.insert(
            name.into(),
            Dev {
                uuid: uuid.into(),
                dev: DevNum::new(MAJOR, minor),
                live: Some(table.parse().expect("a table")),
                live_ro: false,
                inactive: None,
                suspended: false,
                held: 0,
            },
        );
    }
    /// Device names.
    pub fn names(&self) -> Vec<String> {
        self.state().devs.keys().cloned().collect()
    }
    /// `name`'s live table as text (empty: none).
    pub fn live_table(&self, name: &str) -> String {
        self.state().devs[name].live.as_ref().map(|t| t.to_string()).unwrap_or_default()
    }
    /// A copy of `name`'s state.
    pub fn dev(&self, name: &str) -> Dev {
        self.state().devs[name].clone()
    }

    /// Records the call; fails it when asked to.
    fn call(&self, line: String) -> control::Result<()> {
        let mut s = self.state();
        let fail = s.fail_on.as_deref() == Some(line.as_str());
        s.log.push(line.clone());
        if fail {
            s.fail_on = None;
            return Err(err("injected", &line, libc::EIO));
        }
        Ok(())
    }
    fn find(&self, id: &DevId) -> Option<String> {
        let s = self.state();
        match id {
            DevId::Name(n) => s.devs.contains_key(n.as_str()).then(|| n.to_string()),
            DevId::Uuid(u) => s.devs.iter().find(|(_, d)| d.uuid == u.as_str()).map(|(n, _)| n.clone()),
        }
    }
    fn get(&self, id: &DevId, cmd: &'static str) -> control::Result<String> {
        self.find(id).ok_or_else(|| err(cmd, &id.to_string(), libc::ENXIO))
    }
    /// How many devices' live tables use `name`, plus outside holders.
    fn open_count(&self, name: &str) -> i32 {
        let s = self.state();
        let d = &s.devs[name];
        let users = s
            .devs
            .values()
            .filter(|o| o.live.as_ref().is_some_and(|t| t.dev_refs().iter().any(|r| r.num() == Some(d.dev))))
            .count();
        users as i32 + d.held
    }
    fn info_of(&self, name: &str) -> DeviceInfo {
        let open_count = self.open_count(name);
        let s = self.state();
        let d = &s.devs[name];
        let mut f = 0;
        if d.live.is_some() {
            f |= flags::ACTIVE_PRESENT;
        }
        if d.inactive.is_some() {
            f |= flags::INACTIVE_PRESENT;
        }
        if d.suspended {
            f |= flags::SUSPEND;
        }
        if d.live_ro {
            f |= flags::READONLY;
        }
        DeviceInfo {
            name: name.to_string(),
            uuid: (!d.uuid.is_empty()).then(|| d.uuid.clone()),
            dev: d.dev,
            open_count,
            event_nr: 0,
            target_count: d.live.as_ref().map_or(0, |t| t.lines.len() as u32),
            flags: f,
        }
    }
}

impl DmControl for FakeDm {
    fn version(&self) -> control::Result<[u32; 3]> {
        Ok([4, 47, 0])
    }
    fn list(&self) -> control::Result<Vec<ListedDevice>> {
        self.call("list".into())?;
        let s = self.state();
        Ok(s.devs
            .iter()
            .map(|(n, d)| ListedDevice {
                name: n.clone(),
                dev: d.dev,
                event_nr: None,
                uuid: (!d.uuid.is_empty()).then(|| d.uuid.clone()),
            })
            .collect())
    }
    fn create(
        &self,
        name: &DmName,
        uuid: Option<&DmUuid>,
        _opts: &CreateOptions,
    ) -> control::Result<DeviceInfo> {
        self.call(format!("create {name}"))?;
        {
            let mut s = self.state();
            let u = uuid.map(|u| u.to_string()).unwrap_or_default();
            if s.devs.contains_key(name.as_str()) || s.devs.values().any(|d| !u.is_empty() && d.uuid == u) {
                return Err(err("DM_DEV_CREATE", name.as_str(), libc::EEXIST));
            }
            let minor = s.next_minor;
            s.next_minor += 1;
            s.devs.insert(
                name.to_string(),
                Dev {
                    uuid: u,
                    dev: DevNum::new(MAJOR, minor),
                    live: None,
                    live_ro: false,
                    inactive: None,
                    suspended: true,
                    held: 0,
                },
            );
        }
        Ok(self.info_of(name.as_str()))
    }
    fn table_load(&self, id: &DevId, table: &Table, read_only: bool) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_TABLE_LOAD")?;
        self.call(format!("load {n}"))?;
        assert!(table.is_resolved(), "{n}: unresolved table loaded");
        let mut s = self.state();
        // As the kernel: a device used by the table must exist and have a live table (a device
        // without one has size 0 — "device too small").
        for r in table.dev_refs() {
            let Some(num) = r.num() else { continue };
            if num.major == MAJOR && !s.devs.values().any(|d| d.dev == num && d.live.is_some()) {
                return Err(err("DM_TABLE_LOAD", &n, libc::EINVAL));
            }
        }
        s.devs.get_mut(&n).expect("found above").inactive = Some((table.clone(), read_only));
        drop(s);
        Ok(self.info_of(&n))
    }
    fn table_clear(&self, id: &DevId) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_TABLE_CLEAR")?;
        self.call(format!("clear {n}"))?;
        self.state().devs.get_mut(&n).expect("found above").inactive = None;
        Ok(self.info_of(&n))
    }
    fn suspend(&self, id: &DevId, _extra: u32) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_DEV_SUSPEND")?;
        self.call(format!("suspend {n}"))?;
        self.state().devs.get_mut(&n).expect("found above").suspended = true;
        Ok(self.info_of(&n))
    }
    fn resume(&self, id: &DevId, _udev: u16) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_DEV_SUSPEND")?;
        self.call(format!("resume {n}"))?;
        {
            let mut s = self.state();
            let d = s.devs.get_mut(&n).expect("found above");
            if let Some((t, ro)) = d.inactive.take() {
                d.live = Some(t);
                d.live_ro = ro;
            }
            if d.live.is_none() {
                return Err(err("DM_DEV_SUSPEND", &n, libc::EINVAL));
            }
            d.suspended = false;
        }
        Ok(self.info_of(&n))
    }
    fn remove(&self, id: &DevId, _opts: &RemoveOptions) -> control::Result<()> {
        let n = self.get(id, "DM_DEV_REMOVE")?;
        self.call(format!("remove {n}"))?;
        if self.open_count(&n) > 0 {
            return Err(err("DM_DEV_REMOVE", &n, libc::EBUSY));
        }
        self.state().devs.remove(&n);
        Ok(())
    }
    fn rename(&self, id: &DevId, new_name: &DmName, _udev: u16) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_DEV_RENAME")?;
        self.call(format!("rename {n} {new_name}"))?;
        {
            let mut s = self.state();
            if s.devs.contains_key(new_name.as_str()) {
                return Err(err("DM_DEV_RENAME", &n, libc::EEXIST));
            }
            let d = s.devs.remove(&n).expect("found above");
            s.devs.insert(new_name.to_string(), d);
        }
        Ok(self.info_of(new_name.as_str()))
    }
    fn info(&self, id: &DevId) -> control::Result<Option<DeviceInfo>> {
        self.call(format!("info {id}"))?;
        Ok(self.find(id).map(|n| self.info_of(&n)))
    }
    fn table(&self, id: &DevId, inactive: bool) -> control::Result<Table> {
        let n = self.get(id, "DM_TABLE_STATUS")?;
        self.call(format!("table {n}"))?;
        let s = self.state();
        let d = &s.devs[&n];
        Ok(if inactive { d.inactive.as_ref().map(|t| t.0.clone()) } else { d.live.clone() }
            .unwrap_or_default())
    }
    /// One call, as the kernel's DM_TABLE_STATUS.
    fn lookup(&self, id: &DevId) -> control::Result<Option<(DeviceInfo, Option<Table>)>> {
        self.call(format!("lookup {id}"))?;
        let Some(n) = self.find(id) else { return Ok(None) };
        let info = self.info_of(&n);
        let table = info.live_table().then(|| self.state().devs[&n].live.clone().unwrap_or_default());
        Ok(Some((info, table)))
    }
    /// `raid` targets report [`State::raid_health`] (two legs, in sync); a device named in
    /// [`State::status_of`] reports that line; other targets report nothing.
    fn status(&self, id: &DevId) -> control::Result<Vec<StatusLine>> {
        let n = self.get(id, "DM_TABLE_STATUS")?;
        self.call(format!("status {n}"))?;
        let s = self.state();
        let Some(t) = &s.devs[&n].live else { return Ok(Vec::new()) };
        if let Some((target_type, status)) = s.status_of.get(&n) {
            let length = t.lines.iter().map(|l| l.length).fold(Sectors(0), |a, b| Sectors(a.0 + b.0));
            return Ok(vec![StatusLine {
                start: Sectors(0),
                length,
                target_type: target_type.clone(),
                status: status.clone(),
            }]);
        }
        Ok(t.lines
            .iter()
            .filter(|l| matches!(l.target, Target::Raid(_)))
            .map(|l| StatusLine {
                start: l.start,
                length: l.length,
                target_type: "raid".into(),
                status: format!(
                    "raid1 2 {} 8192/8192 idle 0 0 -",
                    s.raid_health.clone().unwrap_or_else(|| "AA".into())
                ),
            })
            .collect())
    }
    fn deps(&self, id: &DevId) -> control::Result<Vec<DevNum>> {
        let n = self.get(id, "DM_TABLE_DEPS")?;
        self.call(format!("deps {n}"))?;
        let s = self.state();
        Ok(s.devs[&n]
            .live
            .as_ref()
            .map(|t| t.dev_refs().iter().filter_map(|r| r.num()).collect())
            .unwrap_or_default())
    }
    fn target_versions(&self) -> control::Result<Vec<TargetVersion>> {
        Ok(Vec::new())
    }
    fn message(&self, id: &DevId, _sector: Sectors, message: &str) -> control::Result<Option<String>> {
        let n = self.get(id, "DM_TARGET_MSG")?;
        self.call(format!("message {n} {message}"))?;
        Ok(None)
    }
}
