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

#[cfg(test)]
mod tests {
    use lvmkit_dm::fake::FakeDm;

    use super::*;

    const LIN: &str = "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaccccccccccccccccccccccccccccccc1";
    const RAID: &str = "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaccccccccccccccccccccccccccccccc2";

    fn fake() -> FakeDm {
        let dm = FakeDm::default();
        dm.add("vg-lin", LIN, "0 2048 linear 8:16 2048");
        dm.add("vg-r", RAID, "0 2048 linear 8:16 4096");
        dm.add("crypt", "CRYPT-LUKS2-0123", "0 2048 linear 8:32 0");
        dm.state().status_of.insert("vg-r".into(), ("raid".into(), "raid1 2 AD 10/20 recover 0 0".into()));
        dm.hold("vg-lin", 1);
        dm.suspend_dev("vg-r");
        dm
    }

    #[test]
    fn one_read_of_every_lvm_device() {
        let dm = fake();
        let k = Kernel::read(&dm, &|d| Some(u64::from(d.minor) * 8)).unwrap();
        // Only LVM devices; the crypt device is not asked about.
        assert_eq!(k.len(), 2);
        assert!(!dm.log().iter().any(|l| l.contains("crypt")), "{:?}", dm.log());
        let lin = k.device(LIN).unwrap();
        assert_eq!((lin.info.open_count, lin.info.suspended(), lin.read_ahead), (1, false, Some(0)));
        let r = k.device(RAID).unwrap();
        assert!(r.info.suspended() && r.info.live_table());
        assert_eq!(r.read_ahead, Some(8));
        assert_eq!(r.status[0].target_type, "raid");
        assert_eq!(r.status[0].status, "raid1 2 AD 10/20 recover 0 0");
        assert!(k.device("LVM-none").is_none());
    }

    #[test]
    fn a_failing_question_is_an_error_not_a_partial_snapshot() {
        let dm = fake();
        dm.fail_on("status vg-r");
        assert!(Kernel::read(&dm, &|_| None).is_err());
        let dm = fake();
        dm.fail_on("list");
        assert!(Kernel::read(&dm, &|_| None).is_err());
    }
}
