//! An in-memory device-mapper for the kit's tests: live tables, suspension, outside holders,
//! RAID health, and a log of the calls that change something. (The activation crate's
//! `apply_fake.rs` checks the ioctl order in detail; this one is what the kit's actions need.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use lvmkit_dm::control::{
    self, CreateOptions, DeviceInfo, DmControl, ListedDevice, RemoveOptions, StatusLine, TargetVersion, flags,
};
use lvmkit_dm::{DevId, DevNum, DmName, DmUuid, Sectors, Table, Target};

#[derive(Clone, Debug)]
pub struct Dev {
    pub uuid: String,
    pub dev: DevNum,
    pub live: Option<Table>,
    pub inactive: Option<(Table, bool)>,
    pub live_ro: bool,
    pub suspended: bool,
    /// Openers outside device-mapper (a mount, a file descriptor).
    pub held: i32,
}

#[derive(Default)]
pub struct State {
    pub devs: BTreeMap<String, Dev>,
    pub next_minor: u32,
    /// Calls that change something.
    pub log: Vec<String>,
    /// The health characters reported for every raid target (`AA`: all alive).
    pub raid_health: Option<String>,
    /// Status lines reported for a device by name, as the kernel's target would (a
    /// `multipath` map's path states): (target type, status text), over its whole table.
    pub status_of: BTreeMap<String, (String, String)>,
}

/// The fake kernel.
#[derive(Default)]
pub struct FakeDm(pub Mutex<State>);

fn err(cmd: &'static str, device: &str, errno: i32) -> control::Error {
    control::Error::Ioctl {
        cmd,
        device: device.to_string(),
        source: std::io::Error::from_raw_os_error(errno),
    }
}

#[allow(dead_code)]
impl FakeDm {
    pub fn s(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
    pub fn names(&self) -> Vec<String> {
        self.s().devs.keys().cloned().collect()
    }
    pub fn hold(&self, name: &str, n: i32) {
        self.s().devs.get_mut(name).unwrap().held += n;
    }
    pub fn suspend_dev(&self, name: &str) {
        self.s().devs.get_mut(name).unwrap().suspended = true;
    }
    pub fn drop_dev(&self, name: &str) {
        self.s().devs.remove(name).unwrap();
    }
    /// A device made behind the kit's back.
    pub fn add(&self, name: &str, uuid: &str, table: &str) {
        let mut s = self.s();
        let minor = s.next_minor;
        s.next_minor += 1;
        s.devs.insert(
            name.into(),
            Dev {
                uuid: uuid.into(),
                dev: DevNum::new(4095, minor),
                live: Some(table.parse().unwrap()),
                inactive: None,
                live_ro: false,
                suspended: false,
                held: 0,
            },
        );
    }
    pub fn set_table(&self, name: &str, table: &str) {
        self.s().devs.get_mut(name).unwrap().live = Some(table.parse().unwrap());
    }
    pub fn log(&self) -> Vec<String> {
        self.s().log.clone()
    }
    fn find(&self, id: &DevId) -> Option<String> {
        let s = self.s();
        match id {
            DevId::Name(n) => s.devs.contains_key(n.as_str()).then(|| n.to_string()),
            DevId::Uuid(u) => s.devs.iter().find(|(_, d)| d.uuid == u.as_str()).map(|(n, _)| n.clone()),
        }
    }
    fn get(&self, id: &DevId, cmd: &'static str) -> control::Result<String> {
        self.find(id).ok_or_else(|| err(cmd, &id.to_string(), 6))
    }
    fn open_count(&self, name: &str) -> i32 {
        let s = self.s();
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
        let s = self.s();
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
            name: name.into(),
            uuid: Some(d.uuid.clone()),
            dev: d.dev,
            open_count,
            event_nr: 0,
            target_count: 1,
            flags: f,
        }
    }
}

impl DmControl for FakeDm {
    fn version(&self) -> control::Result<[u32; 3]> {
        Ok([4, 47, 0])
    }
    fn list(&self) -> control::Result<Vec<ListedDevice>> {
        Ok(self
            .s()
            .devs
            .iter()
            .map(|(n, d)| ListedDevice {
                name: n.clone(),
                dev: d.dev,
                event_nr: None,
                uuid: Some(d.uuid.clone()),
            })
            .collect())
    }
    fn create(
        &self,
        name: &DmName,
        uuid: Option<&DmUuid>,
        _o: &CreateOptions,
    ) -> control::Result<DeviceInfo> {
        {
            let mut s = self.s();
            s.log.push(format!("create {name}"));
            let u = uuid.map(|u| u.to_string()).unwrap_or_default();
            if s.devs.contains_key(name.as_str()) || s.devs.values().any(|d| !u.is_empty() && d.uuid == u) {
                return Err(err("DM_DEV_CREATE", name.as_str(), 17));
            }
            let minor = s.next_minor;
            s.next_minor += 1;
            s.devs.insert(
                name.to_string(),
                Dev {
                    uuid: u,
                    dev: DevNum::new(4095, minor),
                    live: None,
                    inactive: None,
                    live_ro: false,
                    suspended: true,
                    held: 0,
                },
            );
        }
        Ok(self.info_of(name.as_str()))
    }
    fn table_load(&self, id: &DevId, table: &Table, ro: bool) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_TABLE_LOAD")?;
        assert!(table.is_resolved(), "{n}: unresolved table loaded");
        {
            let mut s = self.s();
            s.log.push(format!("load {n}"));
            s.devs.get_mut(&n).unwrap().inactive = Some((table.clone(), ro));
        }
        Ok(self.info_of(&n))
    }
    fn table_clear(&self, id: &DevId) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_TABLE_CLEAR")?;
        self.s().devs.get_mut(&n).unwrap().inactive = None;
        Ok(self.info_of(&n))
    }
    fn suspend(&self, id: &DevId, _extra: u32) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_DEV_SUSPEND")?;
        {
            let mut s = self.s();
            s.log.push(format!("suspend {n}"));
            s.devs.get_mut(&n).unwrap().suspended = true;
        }
        Ok(self.info_of(&n))
    }
    fn resume(&self, id: &DevId, _udev: u16) -> control::Result<DeviceInfo> {
        let n = self.get(id, "DM_DEV_SUSPEND")?;
        {
            let mut s = self.s();
            s.log.push(format!("resume {n}"));
            let d = s.devs.get_mut(&n).unwrap();
            if let Some((t, ro)) = d.inactive.take() {
                d.live = Some(t);
                d.live_ro = ro;
            }
            if d.live.is_none() {
                return Err(err("DM_DEV_SUSPEND", &n, 22));
            }
            d.suspended = false;
        }
        Ok(self.info_of(&n))
    }
    fn remove(&self, id: &DevId, _o: &RemoveOptions) -> control::Result<()> {
        let n = self.get(id, "DM_DEV_REMOVE")?;
        if self.open_count(&n) > 0 {
            return Err(err("DM_DEV_REMOVE", &n, 16));
        }
        let mut s = self.s();
        s.log.push(format!("remove {n}"));
        s.devs.remove(&n);
        Ok(())
    }
    fn info(&self, id: &DevId) -> control::Result<Option<DeviceInfo>> {
        Ok(self.find(id).map(|n| self.info_of(&n)))
    }
    fn table(&self, id: &DevId, inactive: bool) -> control::Result<Table> {
        let n = self.get(id, "DM_TABLE_STATUS")?;
        let s = self.s();
        let d = &s.devs[&n];
        Ok(if inactive { d.inactive.clone().map(|t| t.0) } else { d.live.clone() }.unwrap_or_default())
    }
    fn status(&self, id: &DevId) -> control::Result<Vec<StatusLine>> {
        let n = self.get(id, "DM_TABLE_STATUS")?;
        let s = self.s();
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
        let s = self.s();
        Ok(s.devs[&n]
            .live
            .as_ref()
            .map(|t| t.dev_refs().iter().filter_map(|r| r.num()).collect())
            .unwrap_or_default())
    }
    fn target_versions(&self) -> control::Result<Vec<TargetVersion>> {
        Ok(Vec::new())
    }
    fn message(&self, id: &DevId, _sector: Sectors, _message: &str) -> control::Result<Option<String>> {
        self.get(id, "DM_TARGET_MSG")?;
        Ok(None)
    }
}
