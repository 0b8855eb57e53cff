//! Talking to the kernel: the [`DmControl`] trait (what activation needs from
//! device-mapper) and [`Dm`], its implementation over raw ioctls on `/dev/mapper/control`.
//!
//! ```no_run
//! use lvmkit_dm::control::{CreateOptions, Dm, DmControl, RemoveOptions};
//! use lvmkit_dm::{DevId, DmName, Table};
//!
//! let dm = Dm::open()?;
//! let name = DmName::new("demo-lin")?;
//! let id = DevId::Name(name.clone());
//! dm.create(&name, None, &CreateOptions::default())?;
//! dm.table_load(&id, &"0 8192 linear 98:16 2048".parse::<Table>()?, false)?;
//! dm.resume(&id, 0)?;
//! assert_eq!(dm.table(&id, false)?.to_string(), "0 8192 linear 98:16 2048");
//! dm.remove(&id, &RemoveOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! udev: when udev runs, [`Dm::open`] starts a [`UdevSync`] transaction — every resume, remove
//! and rename carries a libdevmapper notification cookie, and [`DmControl::udev_wait`] waits
//! (bounded) for udev to confirm them, then makes or removes directly any `/dev/mapper` node
//! udev did not (see [`crate::udev`]). Without udev the caller makes the nodes
//! ([`make_node`]), and while udev runs without sync the uevents tell its rules to keep off
//! them.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

/// The kernel's `DM_*_FLAG` bits ([`DeviceInfo::flags`], suspend's `extra_flags`).
pub use crate::abi::flags;
use crate::abi::{self, Cmd, Header, Reply};
use crate::devnum::DevNum;
use crate::name::{DevId, DmName, DmUuid};
use crate::table::{Table, TableLine};
use crate::udev::{self, NodeOp, UdevReport, UdevSync};
use crate::units::Sectors;

pub use crate::udev::{udev_disabled_by_env, udev_running};

/// Path of the control node.
pub const CONTROL_PATH: &str = "/dev/mapper/control";

/// What went wrong talking to device-mapper.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `/dev/mapper/control` cannot be opened (no dm in this kernel: `ENODEV`; not root: `EACCES`).
    #[error("cannot open {path}: {source} (is device-mapper (dm-mod) loaded, and are we root?)")]
    Control {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// An ioctl failed.
    #[error("{cmd} on {device}: {source}")]
    Ioctl {
        /// Command name (`DM_TABLE_LOAD`).
        cmd: &'static str,
        /// The device (`name vg0-lin`), or `-`.
        device: String,
        /// The kernel's answer.
        source: io::Error,
    },
    /// A table load failed because the kernel has no such target: its module is not loaded
    /// (minimal guests and initramfs have no module auto-loading).
    #[error("{cmd} on {device}: kernel has no \"{target}\" target (load module {module})")]
    MissingTarget {
        /// Command name.
        cmd: &'static str,
        /// The device.
        device: String,
        /// Target type.
        target: String,
        /// The module that provides it.
        module: String,
    },
    /// A table line cannot be sent (over-long target type, NUL in parameters, unresolved
    /// `<label>` reference).
    #[error("table for {device}: {why}")]
    BadTable {
        /// The device.
        device: String,
        /// What is wrong.
        why: String,
    },
    /// The kernel's reply does not parse.
    #[error("{cmd} on {device}: malformed reply ({why})")]
    Reply {
        /// Command name.
        cmd: &'static str,
        /// The device.
        device: String,
        /// What is wrong.
        why: String,
    },
    /// The kernel answered with a table line our types reject.
    #[error("{cmd} on {device}: {source}")]
    Parse {
        /// Command name.
        cmd: &'static str,
        /// The device.
        device: String,
        /// The parse error.
        source: crate::error::Error,
    },
    /// After the wait for udev, a device's `/dev/mapper` node was wrong and could not be
    /// made or removed directly (the device itself is live).
    #[error("device node of {}: {} could not be fixed after udev: {}", .0.device, .0.path.display(), .0.source)]
    UdevNode(#[from] udev::NodeError),
}

impl Error {
    /// The OS error number of a failed ioctl or open.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Control { source, .. } | Error::Ioctl { source, .. } => source.raw_os_error(),
            Error::UdevNode(e) => e.source.raw_os_error(),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// A device's state (DEV_STATUS and the header of most replies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Name.
    pub name: String,
    /// Uuid (`None`: none set).
    pub uuid: Option<String>,
    /// Device number.
    pub dev: DevNum,
    /// Openers (mounts, holders, open file descriptors).
    pub open_count: i32,
    /// Event counter.
    pub event_nr: u32,
    /// Targets in the live table (or the inactive one, when asked about it).
    pub target_count: u32,
    /// Raw `DM_*_FLAG` bits.
    pub flags: u32,
}

impl DeviceInfo {
    fn from_reply(r: &Reply) -> DeviceInfo {
        DeviceInfo {
            name: r.name.clone(),
            uuid: (!r.uuid.is_empty()).then(|| r.uuid.clone()),
            dev: r.dev,
            open_count: r.open_count,
            event_nr: r.event_nr,
            target_count: r.target_count,
            flags: r.flags,
        }
    }
    /// Suspended.
    pub fn suspended(&self) -> bool {
        self.flags & flags::SUSPEND != 0
    }
    /// Read-only.
    pub fn read_only(&self) -> bool {
        self.flags & flags::READONLY != 0
    }
    /// A live table is present.
    pub fn live_table(&self) -> bool {
        self.flags & flags::ACTIVE_PRESENT != 0
    }
    /// A loaded, not yet resumed table is present.
    pub fn inactive_table(&self) -> bool {
        self.flags & flags::INACTIVE_PRESENT != 0
    }
    /// A deferred removal is pending.
    pub fn deferred_remove(&self) -> bool {
        self.flags & flags::DEFERRED_REMOVE != 0
    }
}

/// One device of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedDevice {
    /// Name.
    pub name: String,
    /// Device number.
    pub dev: DevNum,
    /// Event counter, when the kernel reports it.
    pub event_nr: Option<u32>,
    /// Uuid (`None`: none set).
    pub uuid: Option<String>,
}

/// A loaded target type and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetVersion {
    /// Target type (`thin-pool`).
    pub name: String,
    /// Version.
    pub version: [u32; 3],
}

/// One status line: the raw parts (status text is target-specific).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLine {
    /// First sector.
    pub start: Sectors,
    /// Sectors.
    pub length: Sectors,
    /// Target type.
    pub target_type: String,
    /// Status text.
    pub status: String,
}

/// How to create a device.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Ask for this device number (`DM_PERSISTENT_DEV`; lvm2's `FIXED_MINOR`).
    pub dev: Option<DevNum>,
    /// udev flags (`DM_UDEV_*_FLAG`, high 16 bits of the cookie), sent with the resume.
    pub udev_flags: u16,
}

/// How to remove a device.
#[derive(Clone, Debug)]
pub struct RemoveOptions {
    /// Remove when the last opener closes instead of failing with `EBUSY`.
    pub deferred: bool,
    /// Extra attempts after `EBUSY` (a udev or blkid probe holding the device briefly).
    pub busy_retries: u32,
    /// Pause between attempts.
    pub busy_delay: Duration,
    /// udev flags for the removal's uevent.
    pub udev_flags: u16,
}

impl Default for RemoveOptions {
    fn default() -> Self {
        RemoveOptions {
            deferred: false,
            busy_retries: 5,
            busy_delay: Duration::from_millis(200),
            udev_flags: 0,
        }
    }
}

/// What activation needs from device-mapper. One implementation, [`Dm`], over raw ioctls; the
/// trait leaves room for another backend (the `devicemapper` crate) or a test double.
/// `Sync`: activation issues independent devices' ioctls from several threads.
pub trait DmControl: Sync {
    /// The kernel's dm interface version (`4.47.0`).
    fn version(&self) -> Result<[u32; 3]>;
    /// Every device, with uuids.
    fn list(&self) -> Result<Vec<ListedDevice>>;
    /// Create a device with no table (suspended, no I/O possible until a table is resumed).
    fn create(&self, name: &DmName, uuid: Option<&DmUuid>, opts: &CreateOptions) -> Result<DeviceInfo>;
    /// Load `table` into the device's inactive slot. Every reference must be resolved. A
    /// missing target module is reported as [`Error::MissingTarget`].
    fn table_load(&self, id: &DevId, table: &Table, read_only: bool) -> Result<DeviceInfo>;
    /// Drop the inactive table.
    fn table_clear(&self, id: &DevId) -> Result<DeviceInfo>;
    /// Suspend (`extra_flags`: [`flags::NOFLUSH`], [`flags::SKIP_LOCKFS`]).
    fn suspend(&self, id: &DevId, extra_flags: u32) -> Result<DeviceInfo>;
    /// Resume: the inactive table, if any, goes live. `udev_flags` ([`udev::flags`]) ride in
    /// the cookie, with [`udev::flags::PRIMARY_SOURCE`] added as libdevmapper does.
    fn resume(&self, id: &DevId, udev_flags: u16) -> Result<DeviceInfo>;
    /// Remove, retrying a bounded number of times on `EBUSY`.
    fn remove(&self, id: &DevId, opts: &RemoveOptions) -> Result<()>;
    /// Rename (udev moves `/dev/mapper/OLD` to `/dev/mapper/NEW`). Default: `ENOTSUP`, for
    /// backends (test doubles) without it.
    fn rename(&self, id: &DevId, new_name: &DmName, udev_flags: u16) -> Result<DeviceInfo> {
        let _ = (new_name, udev_flags);
        Err(Error::Ioctl {
            cmd: Cmd::DevRename.name(),
            device: id.to_string(),
            source: io::Error::from_raw_os_error(libc::ENOTSUP),
        })
    }
    /// The device's state; `None` if there is no such device.
    fn info(&self, id: &DevId) -> Result<Option<DeviceInfo>>;
    /// The live (or inactive) table, parsed.
    fn table(&self, id: &DevId, inactive: bool) -> Result<Table>;
    /// The device's state and, when it has one, its live table; `None` if there is no such
    /// device. [`Dm`] asks once (DM_TABLE_STATUS answers with the header DM_DEV_STATUS gives);
    /// this default asks [`info`](DmControl::info) then [`table`](DmControl::table).
    fn lookup(&self, id: &DevId) -> Result<Option<(DeviceInfo, Option<Table>)>> {
        let Some(info) = self.info(id)? else { return Ok(None) };
        let table = if info.live_table() { Some(self.table(id, false)?) } else { None };
        Ok(Some((info, table)))
    }
    /// The live table's status lines.
    fn status(&self, id: &DevId) -> Result<Vec<StatusLine>>;
    /// Devices the live table uses.
    fn deps(&self, id: &DevId) -> Result<Vec<DevNum>>;
    /// Loaded target types.
    fn target_versions(&self) -> Result<Vec<TargetVersion>>;
    /// Send a message to the target at `sector` (thin-pool `create_thin 1`, …); returns its
    /// output, if any.
    fn message(&self, id: &DevId, sector: Sectors, message: &str) -> Result<Option<String>>;
    /// udev makes the `/dev/mapper` nodes (and its rules the `/dev/VG/LV` links), and
    /// [`udev_wait`](DmControl::udev_wait) waits for it; when `false` the caller makes them.
    fn udev_sync_enabled(&self) -> bool {
        false
    }
    /// Waits (bounded) for udev to confirm every uevent since the last call, removes the
    /// cookie's semaphore, and makes or removes directly the `/dev/mapper` nodes udev did not.
    /// Call once at the end of an activation or deactivation, and print the report's
    /// [`warnings`](UdevReport::warnings). `Err` only for a node that cannot be fixed.
    fn udev_wait(&self) -> Result<UdevReport> {
        Ok(UdevReport::default())
    }
}

/// The kernel module that provides a target type (as `modprobe` would find it by alias).
pub fn target_module(target_type: &str) -> String {
    match target_type {
        "linear" | "striped" | "error" => "dm-mod".into(),
        "snapshot" | "snapshot-origin" | "snapshot-merge" => "dm-snapshot".into(),
        "thin" | "thin-pool" => "dm-thin-pool".into(),
        "mirror" => "dm-mirror".into(),
        "raid" => "dm-raid".into(),
        "cache" => "dm-cache".into(),
        "era" => "dm-era".into(),
        "multipath" => "dm-multipath".into(),
        other => format!("dm-{other}"),
    }
}

/// Starting buffer size; doubled while the kernel says `DM_BUFFER_FULL` (as libdevmapper).
const INITIAL_BUFFER: usize = 16 << 10;
/// Upper bound on the buffer (a list of ~100k devices).
const MAX_BUFFER: usize = 64 << 20;

/// Device-mapper over raw ioctls on `/dev/mapper/control`.
#[derive(Debug)]
pub struct Dm {
    control: File,
    /// The dm interface version, asked once (`None`: the VERSION ioctl failed).
    driver: OnceLock<Option<[u32; 3]>>,
    /// udev was running when opened.
    udev_present: bool,
    /// The udev transaction, when syncing.
    udev: Option<UdevSync>,
}

impl Dm {
    /// Opens `/dev/mapper/control`, with udev synchronisation ([`UdevSync`], deadline
    /// [`udev::DEFAULT_TIMEOUT`]) when udev runs and the dm driver passes cookies (interface
    /// ≥ 4.15) and `DM_DISABLE_UDEV` is not set — libdevmapper's `dm_udev_get_sync_support`.
    pub fn open() -> Result<Dm> {
        let dm = Dm::open_at(Path::new(CONTROL_PATH))?;
        let sync = udev::sync_wanted(dm.udev_present, dm.cookies_supported(), udev_disabled_by_env());
        Ok(if sync { dm.with_udev_sync(Some(UdevSync::default())) } else { dm })
    }

    /// Opens a control node at another path, without udev synchronisation.
    pub fn open_at(path: &Path) -> Result<Dm> {
        let control = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| Error::Control { path: path.to_path_buf(), source })?;
        Ok(Dm { control, driver: OnceLock::new(), udev_present: udev_running(), udev: None })
    }

    /// Sets (or, with `None`, drops) the udev transaction: for another deadline or device
    /// directory, or to force sync on or off. A dropped transaction removes its semaphore
    /// without waiting.
    pub fn with_udev_sync(mut self, sync: Option<UdevSync>) -> Dm {
        self.udev = sync;
        self
    }

    /// The udev transaction, when syncing.
    pub fn udev_sync(&self) -> Option<&UdevSync> {
        self.udev.as_ref()
    }

    fn driver_minor(&self) -> Option<u32> {
        self.driver
            .get_or_init(|| self.version().ok())
            .filter(|v| v[0] == abi::DM_VERSION_MAJOR)
            .map(|v| v[1])
    }

    /// The kernel passes `event_nr` to udev as `DM_COOKIE` (libdm `dm_cookie_supported`).
    fn cookies_supported(&self) -> bool {
        self.driver_minor().is_some_and(|m| m >= udev::COOKIE_MIN_MINOR)
    }

    /// One ioctl that makes the kernel send a uevent (resume, remove, rename), with libdm's
    /// cookie handling (`_do_dm_ioctl`, `dm_task_set_cookie`, `_udev_complete`): `run` gets
    /// the `event_nr` to send. Returns the reply, whether a uevent went out, and whether
    /// udev was asked to handle the node.
    fn uevent_call(
        &self,
        udev_flags: u16,
        run: impl FnOnce(u32) -> Result<Reply>,
    ) -> Result<(Reply, bool, bool)> {
        let cookies = self.cookies_supported();
        let mut f = udev_flags;
        if cookies {
            // "Always mark events coming from libdevmapper as primary sourced."
            f |= udev::flags::PRIMARY_SOURCE;
        }
        let armed = match &self.udev {
            Some(sync) if cookies => match sync.arm() {
                Ok(cookie) => Some((sync, cookie)),
                Err(why) => {
                    sync.note_unsynced(why);
                    None
                }
            },
            Some(sync) => {
                sync.note_unsynced("the dm driver passes no cookies (interface < 4.15)".into());
                None
            }
            None => None,
        };
        if armed.is_none() && self.udev_present && cookies {
            // udev runs but nobody waits for it: its dm and subsystem rules keep off the nodes
            // made directly (libdm does this for an ioctl without a cookie).
            f |= udev::flags::DISABLE_DM_RULES | udev::flags::DISABLE_SUBSYSTEM_RULES;
        }
        let result = run(udev::event_nr(armed.map(|(_, c)| c), f));
        // Before 4.17 the kernel does not say; libdm then assumes a uevent was sent.
        let can_tell = self.driver_minor().is_some_and(|m| m >= udev::UEVENT_FLAG_MIN_MINOR);
        let generated = match &result {
            Ok(r) => r.flags & flags::UEVENT_GENERATED != 0 || !can_tell,
            Err(_) => false,
        };
        if let Some((sync, _)) = armed {
            if !generated {
                sync.disarm();
            }
        }
        let by_udev = armed.is_some() && f & udev::flags::DISABLE_DM_RULES == 0;
        result.map(|r| (r, generated, by_udev))
    }

    fn expect_node(&self, op: NodeOp, by_udev: bool) {
        if let Some(sync) = &self.udev {
            sync.expect(op, by_udev);
        }
    }

    /// One command: builds the buffer, grows it while the kernel says it is full, returns
    /// the reply header and the whole buffer.
    fn call(&self, cmd: Cmd, h: &Header<'_>, payload: &[u8], device: &str) -> Result<(Reply, Vec<u8>)> {
        let mut cap = INITIAL_BUFFER;
        loop {
            let mut buf = abi::build(h, payload, cap);
            abi_call(&self.control, cmd, &mut buf, device)?;
            let reply = abi::parse_reply(&buf).ok_or_else(|| Error::Reply {
                cmd: cmd.name(),
                device: device.to_string(),
                why: "short header".into(),
            })?;
            if reply.flags & flags::BUFFER_FULL != 0 && cap < MAX_BUFFER {
                cap *= 2;
                continue;
            }
            return Ok((reply, buf));
        }
    }

    fn call_id(
        &self,
        cmd: Cmd,
        id: &DevId,
        flags: u32,
        event_nr: u32,
        payload: &[u8],
    ) -> Result<(Reply, Vec<u8>)> {
        let h = header_for(id, flags, event_nr);
        self.call(cmd, &h, payload, &id.to_string())
    }

    fn missing_targets(&self, table: &Table) -> Vec<String> {
        let Ok(loaded) = self.target_versions() else { return Vec::new() };
        let mut missing: Vec<String> = table
            .lines
            .iter()
            .map(|l| l.target.target_type().to_string())
            .filter(|t| !loaded.iter().any(|v| &v.name == t))
            .collect();
        missing.dedup();
        missing
    }
}

fn abi_call(control: &File, cmd: Cmd, buf: &mut [u8], device: &str) -> Result<()> {
    crate::ioctl::dm_ioctl(control, cmd, buf).map_err(|source| Error::Ioctl {
        cmd: cmd.name(),
        device: device.to_string(),
        source,
    })
}

fn header_for(id: &DevId, flags: u32, event_nr: u32) -> Header<'_> {
    let mut h = Header { version: [abi::DM_VERSION_MAJOR, 0, 0], flags, event_nr, ..Header::default() };
    match id {
        DevId::Name(n) => h.name = Some(n.as_str()),
        DevId::Uuid(u) => h.uuid = Some(u.as_str()),
    }
    h
}

/// The table in a DM_TABLE_STATUS reply (asked with [`flags::STATUS_TABLE`]).
fn table_of(id: &DevId, r: &Reply, buf: &[u8]) -> Result<Table> {
    let raw = abi::parse_table_status(abi::payload(buf, r), r.target_count)
        .ok_or_else(|| reply_err(Cmd::TableStatus, id, "bad target specs"))?;
    let lines = raw
        .iter()
        .map(|(s, l, t, p)| TableLine::from_raw(*s, *l, t, p))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|source| Error::Parse { cmd: Cmd::TableStatus.name(), device: id.to_string(), source })?;
    Ok(Table { lines })
}

fn reply_err(cmd: Cmd, id: &DevId, why: &str) -> Error {
    Error::Reply { cmd: cmd.name(), device: id.to_string(), why: why.into() }
}

impl DmControl for Dm {
    fn version(&self) -> Result<[u32; 3]> {
        let h = Header { version: [abi::DM_VERSION_MAJOR, 0, 0], ..Header::default() };
        Ok(self.call(Cmd::Version, &h, &[], "-")?.0.version)
    }

    fn list(&self) -> Result<Vec<ListedDevice>> {
        // DM_UUID_FLAG asks for the uuids in the list (interface 4.46, Linux 5.15); without it
        // every kernel leaves them out and each device would cost a DM_DEV_STATUS below.
        let h = Header { version: [abi::DM_VERSION_MAJOR, 0, 0], flags: flags::UUID, ..Header::default() };
        let (r, buf) = self.call(Cmd::ListDevices, &h, &[], "-")?;
        let entries = abi::parse_name_list(abi::payload(&buf, &r)).ok_or_else(|| Error::Reply {
            cmd: Cmd::ListDevices.name(),
            device: "-".into(),
            why: "bad name list".into(),
        })?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let uuid = match e.uuid {
                Some(u) => u,
                // Kernels before 4.46 do not say: ask the device (it may be gone meanwhile).
                None => match DmName::new(e.name.clone()) {
                    Ok(n) => match self.info(&DevId::Name(n))? {
                        Some(i) => i.uuid,
                        None => continue,
                    },
                    Err(_) => None,
                },
            };
            out.push(ListedDevice { name: e.name, dev: e.dev, event_nr: e.event_nr, uuid });
        }
        Ok(out)
    }

    fn create(&self, name: &DmName, uuid: Option<&DmUuid>, opts: &CreateOptions) -> Result<DeviceInfo> {
        let mut h = Header {
            version: [abi::DM_VERSION_MAJOR, 0, 0],
            name: Some(name.as_str()),
            uuid: uuid.map(|u| u.as_str()),
            ..Header::default()
        };
        if let Some(d) = opts.dev {
            h.flags |= flags::PERSISTENT_DEV;
            h.dev = Some(d);
        }
        let (r, _) = self.call(Cmd::DevCreate, &h, &[], &format!("name {name}"))?;
        Ok(DeviceInfo::from_reply(&r))
    }

    fn table_load(&self, id: &DevId, table: &Table, read_only: bool) -> Result<DeviceInfo> {
        let device = id.to_string();
        if !table.is_resolved() {
            return Err(Error::BadTable { device, why: format!("unresolved device reference in {table}") });
        }
        let payload = abi::table_load_payload(&table.to_raw()).map_err(|e| Error::BadTable {
            device: device.clone(),
            why: match e {
                abi::SpecError::TargetType(t) => format!("target type {t:?} must be 1..=15 bytes"),
                abi::SpecError::Params(p) => format!("parameters {p:?} contain a NUL byte"),
            },
        })?;
        let f = if read_only { flags::READONLY } else { 0 };
        let mut h = header_for(id, f, 0);
        h.target_count = table.lines.len() as u32; // the kernel reads this many specs
        let mut buf = abi::build(&h, &payload, 0);
        match crate::ioctl::dm_ioctl(&self.control, Cmd::TableLoad, &mut buf) {
            Ok(()) => {}
            Err(source) => {
                if source.raw_os_error() == Some(libc::EINVAL) {
                    if let Some(target) = self.missing_targets(table).into_iter().next() {
                        let module = target_module(&target);
                        return Err(Error::MissingTarget {
                            cmd: Cmd::TableLoad.name(),
                            device,
                            target,
                            module,
                        });
                    }
                }
                return Err(Error::Ioctl { cmd: Cmd::TableLoad.name(), device, source });
            }
        }
        let r = abi::parse_reply(&buf).ok_or_else(|| reply_err(Cmd::TableLoad, id, "short header"))?;
        Ok(DeviceInfo::from_reply(&r))
    }

    fn table_clear(&self, id: &DevId) -> Result<DeviceInfo> {
        let (r, _) = self.call_id(Cmd::TableClear, id, 0, 0, &[])?;
        Ok(DeviceInfo::from_reply(&r))
    }

    fn suspend(&self, id: &DevId, extra_flags: u32) -> Result<DeviceInfo> {
        let f = flags::SUSPEND | (extra_flags & (flags::NOFLUSH | flags::SKIP_LOCKFS));
        let (r, _) = self.call_id(Cmd::DevSuspend, id, f, 0, &[])?;
        Ok(DeviceInfo::from_reply(&r))
    }

    fn resume(&self, id: &DevId, udev_flags: u16) -> Result<DeviceInfo> {
        let (r, _, by_udev) =
            self.uevent_call(udev_flags, |ev| Ok(self.call_id(Cmd::DevSuspend, id, 0, ev, &[])?.0))?;
        let info = DeviceInfo::from_reply(&r);
        // Also without a uevent (it was not suspended): the node must be there all the same.
        if let Ok(name) = DmName::new(info.name.clone()) {
            self.expect_node(NodeOp::Add { name, dev: info.dev }, by_udev);
        }
        Ok(info)
    }

    fn remove(&self, id: &DevId, opts: &RemoveOptions) -> Result<()> {
        // The kernel does not return the name of a removed device: ask first, when it matters.
        let name = match id {
            DevId::Name(n) => Some(n.clone()),
            DevId::Uuid(_) if self.udev.is_some() => self.info(id)?.and_then(|i| DmName::new(i.name).ok()),
            DevId::Uuid(_) => None,
        };
        let f = if opts.deferred { flags::DEFERRED_REMOVE } else { 0 };
        let (_, generated, by_udev) = self.uevent_call(opts.udev_flags, |ev| {
            let mut tries = 0;
            loop {
                match self.call_id(Cmd::DevRemove, id, f, ev, &[]) {
                    Err(e) if e.errno() == Some(libc::EBUSY) && tries < opts.busy_retries => {
                        tries += 1;
                        thread::sleep(opts.busy_delay);
                    }
                    r => return r.map(|(r, _)| r),
                }
            }
        })?;
        // No uevent after success: a deferred remove of an open device, which stays for now.
        if let (Some(name), true) = (name, generated) {
            self.expect_node(NodeOp::Remove { name }, by_udev);
        }
        Ok(())
    }

    fn rename(&self, id: &DevId, new_name: &DmName, udev_flags: u16) -> Result<DeviceInfo> {
        // The kernel finds the device to rename by its name only (a uuid in the header means
        // "set this uuid" with DM_UUID_FLAG): look the name up first.
        let old = match id {
            DevId::Name(n) => n.clone(),
            DevId::Uuid(_) => {
                self.info(id)?.and_then(|i| DmName::new(i.name).ok()).ok_or_else(|| Error::Ioctl {
                    cmd: Cmd::DevRename.name(),
                    device: id.to_string(),
                    source: io::Error::from_raw_os_error(libc::ENXIO),
                })?
            }
        };
        let by_name = DevId::Name(old.clone());
        let mut payload = new_name.as_str().as_bytes().to_vec();
        payload.push(0);
        let (r, _, by_udev) = self
            .uevent_call(udev_flags, |ev| Ok(self.call_id(Cmd::DevRename, &by_name, 0, ev, &payload)?.0))?;
        let info = DeviceInfo::from_reply(&r);
        self.expect_node(NodeOp::Remove { name: old }, by_udev);
        self.expect_node(NodeOp::Add { name: new_name.clone(), dev: info.dev }, by_udev);
        Ok(info)
    }

    fn info(&self, id: &DevId) -> Result<Option<DeviceInfo>> {
        match self.call_id(Cmd::DevStatus, id, 0, 0, &[]) {
            Ok((r, _)) => Ok(Some(DeviceInfo::from_reply(&r))),
            Err(e) if e.errno() == Some(libc::ENXIO) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn table(&self, id: &DevId, inactive: bool) -> Result<Table> {
        let mut f = flags::STATUS_TABLE;
        if inactive {
            f |= flags::QUERY_INACTIVE_TABLE;
        }
        let (r, buf) = self.call_id(Cmd::TableStatus, id, f, 0, &[])?;
        table_of(id, &r, &buf)
    }

    fn lookup(&self, id: &DevId) -> Result<Option<(DeviceInfo, Option<Table>)>> {
        let (r, buf) = match self.call_id(Cmd::TableStatus, id, flags::STATUS_TABLE, 0, &[]) {
            Ok(reply) => reply,
            Err(e) if e.errno() == Some(libc::ENXIO) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut info = DeviceInfo::from_reply(&r);
        // The reply echoes the request's flag; DM_DEV_STATUS's header has no such bit.
        info.flags &= !flags::STATUS_TABLE;
        let table = if info.live_table() { Some(table_of(id, &r, &buf)?) } else { None };
        Ok(Some((info, table)))
    }

    fn status(&self, id: &DevId) -> Result<Vec<StatusLine>> {
        let (r, buf) = self.call_id(Cmd::TableStatus, id, 0, 0, &[])?;
        let raw = abi::parse_table_status(abi::payload(&buf, &r), r.target_count)
            .ok_or_else(|| reply_err(Cmd::TableStatus, id, "bad target specs"))?;
        Ok(raw
            .into_iter()
            .map(|(s, l, t, p)| StatusLine {
                start: Sectors(s),
                length: Sectors(l),
                target_type: t,
                status: p,
            })
            .collect())
    }

    fn deps(&self, id: &DevId) -> Result<Vec<DevNum>> {
        let (r, buf) = self.call_id(Cmd::TableDeps, id, 0, 0, &[])?;
        abi::parse_deps(abi::payload(&buf, &r)).ok_or_else(|| reply_err(Cmd::TableDeps, id, "bad deps"))
    }

    fn target_versions(&self) -> Result<Vec<TargetVersion>> {
        let h = Header { version: [abi::DM_VERSION_MAJOR, 0, 0], ..Header::default() };
        let (r, buf) = self.call(Cmd::ListVersions, &h, &[], "-")?;
        let v = abi::parse_versions(abi::payload(&buf, &r)).ok_or_else(|| Error::Reply {
            cmd: Cmd::ListVersions.name(),
            device: "-".into(),
            why: "bad version list".into(),
        })?;
        Ok(v.into_iter().map(|(name, version)| TargetVersion { name, version }).collect())
    }

    fn message(&self, id: &DevId, sector: Sectors, message: &str) -> Result<Option<String>> {
        if message.as_bytes().contains(&0) {
            return Err(Error::BadTable {
                device: id.to_string(),
                why: "message contains a NUL byte".into(),
            });
        }
        let payload = abi::target_msg_payload(sector.0, message);
        let (r, buf) = self.call_id(Cmd::TargetMsg, id, 0, 0, &payload)?;
        if r.flags & flags::DATA_OUT != 0 {
            Ok(Some(abi::parse_string(abi::payload(&buf, &r))))
        } else {
            Ok(None)
        }
    }

    fn udev_sync_enabled(&self) -> bool {
        self.udev.is_some()
    }

    fn udev_wait(&self) -> Result<UdevReport> {
        match &self.udev {
            Some(sync) => Ok(sync.wait()?),
            None => Ok(UdevReport::default()),
        }
    }
}

/// Makes `/dev/mapper/<name>` (block node, mode 0600) for a device when udev is absent;
/// replaces a stale node with another number. Returns the path. The common case (a new
/// device, the folder there) is one `mknod`; the folder and stale nodes are dealt with only
/// when it fails.
pub fn make_node(dev_dir: &Path, name: &DmName, dev: DevNum) -> io::Result<PathBuf> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let dir = dev_dir.join("mapper");
    let path = dir.join(name.as_str());
    match crate::ioctl::mknod_block(&path, 0o600, dev) {
        Ok(()) => return Ok(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(&dir)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let m = std::fs::symlink_metadata(&path)?;
            if m.file_type().is_block_device() && DevNum::from_dev_t(m.rdev()) == dev {
                return Ok(path);
            }
            std::fs::remove_file(&path)?;
        }
        Err(e) => return Err(e),
    }
    crate::ioctl::mknod_block(&path, 0o600, dev)?;
    Ok(path)
}

/// A block device's read-ahead in sectors (`/sys/dev/block/M:m/queue/read_ahead_kb`, what
/// `blockdev --getra` reads through BLKRAGET). A partition has no queue of its own: its
/// disk's (`M:m/../queue`, as BLKRAGET on a partition answers).
pub fn read_ahead(dev: DevNum) -> io::Result<u32> {
    let mut p = format!("/sys/dev/block/{dev}/queue/read_ahead_kb");
    let text = match std::fs::read_to_string(&p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            p = format!("/sys/dev/block/{dev}/../queue/read_ahead_kb");
            std::fs::read_to_string(&p)?
        }
        r => r?,
    };
    let kb: u32 =
        text.trim().parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{p}: {e}")))?;
    Ok(kb.saturating_mul(2))
}

/// Sets a block device's read-ahead (sectors, rounded down to KiB as sysfs keeps it): what
/// libdevmapper's `_set_read_ahead` does after a resume, without an ioctl.
pub fn set_read_ahead(dev: DevNum, sectors: u32) -> io::Result<()> {
    std::fs::write(format!("/sys/dev/block/{dev}/queue/read_ahead_kb"), format!("{}\n", sectors / 2))
}

/// Removes `/dev/mapper/<name>` if present.
pub fn remove_node(dev_dir: &Path, name: &DmName) -> io::Result<()> {
    match std::fs::remove_file(dev_dir.join("mapper").join(name.as_str())) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_for_targets() {
        assert_eq!(target_module("thin-pool"), "dm-thin-pool");
        assert_eq!(target_module("thin"), "dm-thin-pool");
        assert_eq!(target_module("snapshot-merge"), "dm-snapshot");
        assert_eq!(target_module("zero"), "dm-zero");
        assert_eq!(target_module("raid"), "dm-raid");
        assert_eq!(target_module("cache"), "dm-cache");
        assert_eq!(target_module("mirror"), "dm-mirror");
        assert_eq!(target_module("linear"), "dm-mod");
    }

    #[test]
    fn addressing_uses_one_of_name_and_uuid() {
        let n = DevId::Name(DmName::new("vg-lv").unwrap());
        let h = header_for(&n, 0, 0);
        assert_eq!((h.name, h.uuid), (Some("vg-lv"), None));
        let u = DevId::Uuid(DmUuid::new("LVM-x").unwrap());
        let h = header_for(&u, flags::SUSPEND, udev::event_nr(None, 0x0e));
        assert_eq!((h.name, h.uuid), (None, Some("LVM-x")));
        assert_eq!(h.event_nr, 0x000e_0000);
    }

    #[test]
    fn no_device_mapper_on_a_plain_path() {
        let e = Dm::open_at(Path::new("/nonexistent/control")).unwrap_err();
        assert!(matches!(e, Error::Control { .. }));
        assert_eq!(e.errno(), Some(libc::ENOENT));
    }

    #[test]
    fn unresolved_tables_are_refused_before_any_ioctl() {
        // A Dm on /dev/null: table_load must fail before reaching the ioctl.
        let dm = Dm::open_at(Path::new("/dev/null")).unwrap();
        let t: Table = "0 8 linear <pending> 0".parse().unwrap();
        let id = DevId::Name(DmName::new("x").unwrap());
        assert!(matches!(dm.table_load(&id, &t, false), Err(Error::BadTable { .. })));
        let t: Table = "0 8 a-very-long-target-type x".parse().unwrap();
        assert!(matches!(dm.table_load(&id, &t, false), Err(Error::BadTable { .. })));
    }
}
