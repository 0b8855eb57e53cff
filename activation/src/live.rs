//! What device-mapper has for LVM devices right now, in one read: per device with an
//! `LVM-` uuid its info (flags, open count, number), its read-ahead and its status lines.
//! Reports take their kernel values (lvm2's `lv_info_with_seg_status`) from this snapshot, so
//! they stay pure and testable ([`Kernel::from_devices`]); [`Kernel::read`] is the one place
//! that asks the kernel.

use std::collections::HashMap;

use lvmkit_dm::control::{self, DeviceInfo, DmControl, StatusLine};
use lvmkit_dm::{DevId, DevNum, DmUuid};

use crate::names::UUID_PREFIX;

/// One live LVM device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelDevice {
    /// `DM_DEV_STATUS`.
    pub info: DeviceInfo,
    /// Read-ahead in sectors, when readable.
    pub read_ahead: Option<u64>,
    /// `DM_TABLE_STATUS` of the live table (empty without one).
    pub status: Vec<StatusLine>,
}

/// The LVM devices device-mapper has, by uuid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kernel {
    devices: HashMap<String, KernelDevice>,
}

impl Kernel {
    /// Every device whose uuid starts with `LVM-`: its info, its read-ahead (`read_ahead`
    /// of its number; [`sysfs_read_ahead`] on a real system) and its status. A device removed
    /// between the list and the questions is left out.
    pub fn read(
        dm: &dyn DmControl,
        read_ahead: &dyn Fn(DevNum) -> Option<u64>,
    ) -> Result<Kernel, control::Error> {
        let mut devices = HashMap::new();
        for d in dm.list()? {
            let Some(uuid) = d.uuid.filter(|u| u.starts_with(UUID_PREFIX)) else { continue };
            let id = match DmUuid::new(uuid.clone()) {
                Ok(u) => DevId::Uuid(u),
                Err(_) => continue,
            };
            let Some(info) = dm.info(&id)? else { continue };
            let status = if info.live_table() {
                match dm.status(&id) {
                    Ok(s) => s,
                    Err(e) if e.errno() == Some(libc::ENXIO) => continue,
                    Err(e) => return Err(e),
                }
            } else {
                Vec::new()
            };
            let read_ahead = read_ahead(info.dev);
            devices.insert(uuid, KernelDevice { info, read_ahead, status });
        }
        Ok(Kernel { devices })
    }

    /// A snapshot of the given devices (keyed by their uuid; tests, recorded states).
    pub fn from_devices(devices: impl IntoIterator<Item = KernelDevice>) -> Kernel {
        Kernel { devices: devices.into_iter().filter_map(|d| d.info.uuid.clone().map(|u| (u, d))).collect() }
    }

    /// The device with this uuid.
    pub fn device(&self, uuid: &str) -> Option<&KernelDevice> {
        self.devices.get(uuid)
    }

    /// How many devices the snapshot holds.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// No device.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}

/// A block device's read-ahead in sectors, from `/sys/dev/block/MAJ:MIN/queue/read_ahead_kb`
/// (what `blockdev --getra` and libdm's `dm_task_get_read_ahead` give).
pub fn sysfs_read_ahead(dev: DevNum) -> Option<u64> {
    let p = format!("/sys/dev/block/{}:{}/queue/read_ahead_kb", dev.major, dev.minor);
    std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok().map(|kb| kb * 2)
}
