//! udev synchronisation: libdevmapper's notification cookies, byte-compatible with lvm2, so
//! that the standard rules (`55-dm.rules`/`10-dm.rules`, lvm2's `56-lvm.rules`/`11-dm-lvm.rules`,
//! `95-dm-notify.rules`) treat our devices exactly as lvm2's.
//!
//! The protocol, as lvm2's libdm implements it (`libdm/libdm-common.c`: `dm_task_set_cookie`,
//! `_udev_notify_sem_create`, `_udev_notify_sem_inc`, `_udev_wait`; `libdm/ioctl/libdm-iface.c`:
//! `_do_dm_ioctl`, `_udev_complete`, `_check_uevent_generated`; constants from
//! `libdm/libdevmapper.h`):
//!
//! 1. A transaction owns one SysV semaphore keyed by its cookie, `DM_COOKIE_MAGIC << 16 | base`
//!    with a random non-zero 16-bit base, created `IPC_CREAT | IPC_EXCL` mode 0600 (another
//!    base on `EEXIST`) and set to 1: the transaction's own count.
//! 2. Before each ioctl that makes the kernel send a uevent (DM_DEV_SUSPEND as a resume,
//!    DM_DEV_REMOVE, DM_DEV_RENAME) the semaphore goes up by one, and the ioctl's `event_nr`
//!    carries `udev_flags << 16 | base` ([`event_nr`]); libdm always adds
//!    [`flags::PRIMARY_SOURCE`] to these three ioctls. The kernel hands `event_nr` to udev as
//!    `DM_COOKIE`; `55-dm.rules` decodes the flags (`dmsetup udevflags`), and
//!    `95-dm-notify.rules` runs `dmsetup udevcomplete $env{DM_COOKIE}`, which swaps the flags
//!    for the magic ([`Cookie::from_event`]) and decrements that semaphore.
//! 3. When the ioctl fails, or succeeds without a uevent (the reply lacks
//!    `DM_UEVENT_GENERATED_FLAG`: a resume of a device that was not suspended, a deferred
//!    remove of an open device), the caller decrements itself — else the wait would hang.
//! 4. At the end: drop the own count, wait for zero, remove the semaphore (`IPC_RMID`).
//!
//! Where we differ, on purpose: libdm waits without a limit (`semop`); we wait at most
//! [`UdevSync::timeout`] (`semtimedop`) and remove the semaphore also on timeout or error, so
//! none is ever left behind (a dropped transaction removes its semaphore too). Then, like
//! libdm's node fallback (`_add_dev_node`/`_rm_dev_node`: "not set up by udev: Falling back
//! to direct node creation"), every device's `/dev/mapper/NAME` is checked and made or
//! removed directly where udev did not. For an HA stack this is the right trade: the devices
//! are already live, only udev's node work is unconfirmed; failing the activation over a slow
//! udev would fail over a working service. The [`UdevReport`] names what udev did not confirm
//! and what we fixed; only a node we cannot fix is an error.
//!
//! Sync is on only when udev runs ([`udev_running`]: libudev's test, `/run/udev/control`
//! exists), the dm driver passes cookies (interface ≥ 4.15, libdm's
//! `dm_cookie_supported`) and `DM_DISABLE_UDEV` is not set. When it is off while udev runs, the uevents carry
//! [`flags::DISABLE_DM_RULES`] | [`flags::DISABLE_SUBSYSTEM_RULES`] so that udev keeps off the
//! nodes the caller makes (libdm does the same for an ioctl without a cookie).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::devnum::DevNum;
use crate::ioctl;
use crate::name::DmName;

/// High half of every notification cookie (`libdevmapper.h`: `DM_COOKIE_MAGIC 0x0D4D`).
pub const DM_COOKIE_MAGIC: u16 = 0x0D4D;
/// Where the udev flags sit in `event_nr` (`DM_UDEV_FLAGS_SHIFT 16`).
pub const DM_UDEV_FLAGS_SHIFT: u32 = 16;
/// The flag half of `event_nr` (`DM_UDEV_FLAGS_MASK 0xFFFF0000`).
pub const DM_UDEV_FLAGS_MASK: u32 = 0xFFFF_0000;
/// The dm interface minor from which the kernel passes `event_nr` to udev as `DM_COOKIE`
/// (libdm `dm_cookie_supported`: 4.15).
pub const COOKIE_MIN_MINOR: u32 = 15;
/// The dm interface minor from which replies say whether a uevent was sent
/// (`DM_UEVENT_GENERATED_FLAG`; libdm `_check_uevent_generated`: 4.17).
pub const UEVENT_FLAG_MIN_MINOR: u32 = 17;
/// How long [`UdevSync::wait`] waits for udev by default. udev handles a dm uevent in well
/// under a second (about 0.1 s measured in the UML guest); a failover should not stall
/// for minutes behind a wedged udev, and the node fallback keeps the devices usable.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Semaphore permissions (libdm: 0600).
const SEM_MODE: u32 = 0o600;
/// Fresh random bases tried before giving up on `EEXIST` (libdm retries without a limit).
const CREATE_ATTEMPTS: u32 = 64;

/// The udev flags (`DM_UDEV_*` of `libdevmapper.h`), the high 16 bits of `event_nr`.
pub mod flags {
    /// `DM_UDEV_DISABLE_DM_RULES_FLAG`: no `/dev/mapper` symlink from `55-dm.rules`.
    pub const DISABLE_DM_RULES: u16 = 0x0001;
    /// `DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG`: no subsystem (lvm: `/dev/VG/LV`) rules.
    pub const DISABLE_SUBSYSTEM_RULES: u16 = 0x0002;
    /// `DM_UDEV_DISABLE_DISK_RULES_FLAG`: no `/dev/disk/by-*` links.
    pub const DISABLE_DISK_RULES: u16 = 0x0004;
    /// `DM_UDEV_DISABLE_OTHER_RULES_FLAG`: other packages' rules skip the device.
    pub const DISABLE_OTHER_RULES: u16 = 0x0008;
    /// `DM_UDEV_LOW_PRIORITY_FLAG`: lower link priority (snapshot COW devices).
    pub const LOW_PRIORITY: u16 = 0x0010;
    /// `DM_UDEV_DISABLE_LIBRARY_FALLBACK`: the library will not fix nodes udev missed.
    pub const DISABLE_LIBRARY_FALLBACK: u16 = 0x0020;
    /// `DM_UDEV_PRIMARY_SOURCE_FLAG`: a real event of the tool, not a replay (`udevadm
    /// trigger`, watch): `55-dm.rules` applies the other flags only with it.
    pub const PRIMARY_SOURCE: u16 = 0x0040;
    /// `DM_SUBSYSTEM_UDEV_FLAG0` (lvm2: no scan of the device, `56-lvm.rules`).
    pub const SUBSYSTEM_0: u16 = 0x0100;
    /// `DM_SUBSYSTEM_UDEV_FLAG1`.
    pub const SUBSYSTEM_1: u16 = 0x0200;
    /// `DM_SUBSYSTEM_UDEV_FLAG2`.
    pub const SUBSYSTEM_2: u16 = 0x0400;
    /// `DM_SUBSYSTEM_UDEV_FLAG3`.
    pub const SUBSYSTEM_3: u16 = 0x0800;
    /// `DM_SUBSYSTEM_UDEV_FLAG4`.
    pub const SUBSYSTEM_4: u16 = 0x1000;
    /// `DM_SUBSYSTEM_UDEV_FLAG5`.
    pub const SUBSYSTEM_5: u16 = 0x2000;
    /// `DM_SUBSYSTEM_UDEV_FLAG6`.
    pub const SUBSYSTEM_6: u16 = 0x4000;
    /// `DM_SUBSYSTEM_UDEV_FLAG7`.
    pub const SUBSYSTEM_7: u16 = 0x8000;
}

/// udev is running: libudev's `udev_queue_get_udev_is_active` (what libdm's
/// `_check_udev_is_running` asks), i.e. `/run/udev/control` exists.
pub fn udev_running() -> bool {
    Path::new("/run/udev/control").exists()
}

/// `DM_DISABLE_UDEV` is set (to anything): as libdevmapper (`dm_lib_init`) and lvm2, no sync
/// with udev even where it runs; nodes and links are made directly, and udev's dm rules are
/// told to keep off them (the flags of an ioctl without a cookie).
pub fn udev_disabled_by_env() -> bool {
    std::env::var_os("DM_DISABLE_UDEV").is_some()
}

/// Whether to synchronise with udev: it runs, the driver passes cookies, and
/// `DM_DISABLE_UDEV` does not say otherwise (libdm's `dm_udev_get_sync_support`).
pub fn sync_wanted(udev_present: bool, cookies_supported: bool, disabled_by_env: bool) -> bool {
    udev_present && cookies_supported && !disabled_by_env
}

/// A notification cookie: `DM_COOKIE_MAGIC << 16 | base` with a non-zero base. It is also
/// the SysV key of its semaphore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cookie(u32);

impl Cookie {
    /// The cookie with this base; `None` for 0 (a base of 0 means "flags only, no semaphore").
    pub fn from_base(base: u16) -> Option<Cookie> {
        (base != 0).then(|| Cookie(u32::from(DM_COOKIE_MAGIC) << DM_UDEV_FLAGS_SHIFT | u32::from(base)))
    }

    /// The cookie an event's `DM_COOKIE` value notifies, as `dmsetup udevcomplete` finds it:
    /// flags stripped, magic put in; `None` for a flags-only value (base 0).
    pub fn from_event(dm_cookie: u32) -> Option<Cookie> {
        Cookie::from_base((dm_cookie & !DM_UDEV_FLAGS_MASK) as u16)
    }

    /// The full value (`0x0d4dXXXX`), as `dmsetup udevcookies` lists it.
    pub fn value(self) -> u32 {
        self.0
    }

    /// The low 16 bits.
    pub fn base(self) -> u16 {
        (self.0 & !DM_UDEV_FLAGS_MASK) as u16
    }

    /// The semaphore's SysV key (`(key_t) cookie`).
    pub fn key(self) -> i32 {
        self.0 as i32
    }
}

impl std::fmt::Display for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// The `event_nr` of a uevent-generating ioctl: `udev_flags << 16 | cookie base` (libdm
/// `_set_cookie_flags` then `dmt->event_nr |= ~DM_UDEV_FLAGS_MASK & *cookie`). No cookie:
/// flags only, base 0 (nobody is notified).
pub fn event_nr(cookie: Option<Cookie>, udev_flags: u16) -> u32 {
    u32::from(udev_flags) << DM_UDEV_FLAGS_SHIFT | cookie.map_or(0, |c| u32::from(c.base()))
}

/// What a device's `/dev/mapper/NAME` must be once udev is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeOp {
    /// Present, for this device number (after a resume, or the new name of a rename).
    Add {
        /// Device name.
        name: DmName,
        /// Its number.
        dev: DevNum,
    },
    /// Absent (after a remove, or the old name of a rename).
    Remove {
        /// Device name.
        name: DmName,
    },
}

impl NodeOp {
    fn name(&self) -> &DmName {
        match self {
            NodeOp::Add { name, .. } | NodeOp::Remove { name } => name,
        }
    }
}

/// How one device's node turned out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCheck {
    /// Device name.
    pub name: String,
    /// `/dev/mapper/NAME`.
    pub path: PathBuf,
    /// The node should exist (`false`: should be gone).
    pub present: bool,
    /// udev was asked to do it (a cookie was sent and its dm rules were not disabled).
    pub by_udev: bool,
    /// It was wrong after the wait and we made or removed it directly.
    pub fixed: bool,
}

/// How the wait for udev ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Outcome {
    /// No semaphore: nothing since the last wait sent a cookie.
    #[default]
    NoCookie,
    /// udev confirmed every uevent.
    Confirmed,
    /// The deadline passed with `outstanding` uevents unconfirmed.
    TimedOut {
        /// Semaphore value at the deadline (`None`: it could not be read).
        outstanding: Option<u32>,
    },
    /// The semaphore misbehaved (removed under us — `dmsetup udevcomplete_all` —, or a
    /// semaphore call failed).
    Failed(String),
}

/// What [`UdevSync::wait`] found: how the wait ended, and every device's node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UdevReport {
    /// The transaction's cookie, if one was made.
    pub cookie: Option<Cookie>,
    /// How the wait ended.
    pub outcome: Outcome,
    /// Time spent waiting.
    pub waited: Duration,
    /// The deadline it had.
    pub timeout: Duration,
    /// Why some uevents went without a cookie (no semaphore could be made, or the dm driver
    /// is older than 4.15); their nodes were made directly.
    pub unsynced: Option<String>,
    /// Each device's node, in order.
    pub nodes: Vec<NodeCheck>,
}

impl UdevReport {
    /// Nodes udev should have handled but we made or removed directly.
    pub fn fixed_for_udev(&self) -> impl Iterator<Item = &NodeCheck> {
        self.nodes.iter().filter(|n| n.fixed && n.by_udev)
    }

    /// Nodes we made (present and fixed, for udev or not): the caller's links to them (lvm2's
    /// `/dev/VG/LV`) were not made by udev either.
    pub fn made_directly(&self) -> impl Iterator<Item = &NodeCheck> {
        self.nodes.iter().filter(|n| n.fixed && n.present)
    }

    /// Everything worth a warning, one line each, in libdm's words where it has them.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let cookie = self.cookie.map(|c| format!(" (cookie {c})")).unwrap_or_default();
        match &self.outcome {
            Outcome::NoCookie | Outcome::Confirmed => {}
            Outcome::TimedOut { outstanding } => w.push(format!(
                "udev did not confirm {} uevent(s) within {:.1} s{cookie}",
                outstanding.map_or_else(|| "some".to_string(), |n| n.to_string()),
                self.timeout.as_secs_f64()
            )),
            Outcome::Failed(why) => w.push(format!("udev synchronisation failed{cookie}: {why}")),
        }
        if let Some(why) = &self.unsynced {
            w.push(format!("udev synchronisation unavailable ({why}): device nodes made directly"));
        }
        for n in self.fixed_for_udev() {
            w.push(if n.present {
                format!("{} not set up by udev: made directly", n.path.display())
            } else {
                format!("{} was not removed by udev: removed directly", n.path.display())
            });
        }
        w
    }
}

/// A node that is wrong after the wait and cannot be fixed.
#[derive(Debug, thiserror::Error)]
#[error("{device}: {path}: {source}")]
pub struct NodeError {
    /// Device name.
    pub device: String,
    /// The node.
    pub path: PathBuf,
    /// Why it could not be made or removed.
    pub source: io::Error,
}

/// One transaction's semaphore; removed when dropped, so none outlives its transaction.
#[derive(Debug)]
struct Semaphore {
    cookie: Cookie,
    semid: i32,
}

impl Semaphore {
    /// `_udev_notify_sem_create`: a random non-zero base, `IPC_EXCL` (another base on
    /// `EEXIST`), value 1.
    fn create() -> Result<Semaphore, String> {
        let random = RandomState::new();
        for attempt in 0..CREATE_ATTEMPTS {
            let Some(cookie) = Cookie::from_base(random.hash_one((std::process::id(), attempt)) as u16)
            else {
                continue;
            };
            match ioctl::sem_create_excl(cookie.key(), SEM_MODE) {
                Ok(semid) => {
                    let sem = Semaphore { cookie, semid };
                    ioctl::sem_set_value(semid, 1)
                        .map_err(|e| format!("cookie {cookie}: cannot set the semaphore to 1: {e}"))?;
                    return Ok(sem);
                }
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                    return Err(format!(
                        "cannot create a notification semaphore: {e} (limits in /proc/sys/kernel/sem; \
                         stale cookies: dmsetup udevcookies)"
                    ));
                }
                Err(e) => return Err(format!("cannot create a notification semaphore: {e}")),
            }
        }
        Err(format!("no free cookie after {CREATE_ATTEMPTS} random tries"))
    }

    /// Drops the own count, then waits for zero until `timeout` has passed.
    fn wait(&self, timeout: Duration) -> Outcome {
        let cookie = self.cookie;
        // From here on the value counts the uevents udev has not confirmed yet.
        if let Err(e) = ioctl::sem_adjust(self.semid, -1, true) {
            return Outcome::Failed(format!("cannot drop the own count: {e}"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ioctl::sem_wait_zero(self.semid, left) {
                Ok(()) => return Outcome::Confirmed,
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => {
                        let outstanding =
                            ioctl::sem_value(self.semid).ok().and_then(|v| u32::try_from(v).ok());
                        return Outcome::TimedOut { outstanding };
                    }
                    Some(libc::EIDRM) | Some(libc::EINVAL) => {
                        return Outcome::Failed(format!(
                            "semaphore of cookie {cookie} removed by someone else \
                             (dmsetup udevcomplete_all?)"
                        ));
                    }
                    _ => return Outcome::Failed(format!("waiting on cookie {cookie}: {e}")),
                },
            }
        }
    }
}

impl Drop for Semaphore {
    fn drop(&mut self) {
        // Already gone (EINVAL/EIDRM) is fine; there is nothing else to do about a failure.
        let _ = ioctl::sem_remove(self.semid);
    }
}

#[derive(Debug, Default)]
struct Txn {
    sem: Option<Semaphore>,
    unsynced: Option<String>,
    /// Node expectations in order, with "udev was asked".
    ops: Vec<(NodeOp, bool)>,
}

/// A udev transaction: the cookie of every uevent-generating ioctl since the last
/// [`wait`](UdevSync::wait), and what each device's node must be. Used through
/// [`crate::control::Dm`], which arms it around resume, remove and rename.
#[derive(Debug)]
pub struct UdevSync {
    timeout: Duration,
    dev_dir: PathBuf,
    txn: Mutex<Txn>,
}

impl Default for UdevSync {
    fn default() -> Self {
        UdevSync::new(DEFAULT_TIMEOUT)
    }
}

impl UdevSync {
    /// A transaction whose [`wait`](UdevSync::wait) waits at most `timeout`; nodes in `/dev`.
    pub fn new(timeout: Duration) -> UdevSync {
        UdevSync { timeout, dev_dir: PathBuf::from("/dev"), txn: Mutex::default() }
    }

    /// Nodes in `dev_dir` instead of `/dev` (udev itself always works in `/dev`).
    pub fn with_dev_dir(mut self, dev_dir: impl Into<PathBuf>) -> UdevSync {
        self.dev_dir = dev_dir.into();
        self
    }

    /// The wait's deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The cookie of the transaction so far, if one was made.
    pub fn cookie(&self) -> Option<Cookie> {
        self.lock().sem.as_ref().map(|s| s.cookie)
    }

    fn lock(&self) -> MutexGuard<'_, Txn> {
        // A panic elsewhere while holding the lock leaves a consistent Txn: keep going.
        self.txn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Before a uevent-generating ioctl: one more uevent to wait for (`_udev_notify_sem_inc`),
    /// making the semaphore on first use. `Err`: no semaphore — send without a cookie.
    pub(crate) fn arm(&self) -> Result<Cookie, String> {
        let mut txn = self.lock();
        if txn.sem.is_none() {
            txn.sem = Some(Semaphore::create()?);
        }
        let sem = txn.sem.as_ref().expect("made above");
        ioctl::sem_adjust(sem.semid, 1, false)
            .map_err(|e| format!("cookie {}: cannot count a uevent: {e}", sem.cookie))?;
        Ok(sem.cookie)
    }

    /// The armed ioctl failed or sent no uevent: take its count back (libdm `_udev_complete`).
    pub(crate) fn disarm(&self) {
        let txn = self.lock();
        if let Some(sem) = &txn.sem {
            // Cannot go below the own count of 1, so EAGAIN cannot happen; an error would
            // only make the wait time out, which it reports.
            let _ = ioctl::sem_adjust(sem.semid, -1, true);
        }
    }

    /// Some uevent went without a cookie (the first reason is kept).
    pub(crate) fn note_unsynced(&self, why: String) {
        self.lock().unsynced.get_or_insert(why);
    }

    /// What `op`'s node must be after the wait; `by_udev`: udev was asked to do it. A later
    /// op on the same name replaces earlier ones (a rollback's remove cancels the add).
    pub(crate) fn expect(&self, op: NodeOp, by_udev: bool) {
        let mut txn = self.lock();
        txn.ops.retain(|(o, _)| o.name() != op.name());
        txn.ops.push((op, by_udev));
    }

    /// Waits for udev (at most [`timeout`](UdevSync::timeout)), removes the semaphore, then
    /// makes or removes directly every `/dev/mapper` node udev did not. Starts a new
    /// transaction. `Err` only when a node cannot be fixed (all others are still done).
    pub fn wait(&self) -> Result<UdevReport, NodeError> {
        let txn = std::mem::take(&mut *self.lock());
        let start = Instant::now();
        let mut report =
            UdevReport { timeout: self.timeout, unsynced: txn.unsynced, ..UdevReport::default() };
        if let Some(sem) = txn.sem {
            report.cookie = Some(sem.cookie);
            report.outcome = sem.wait(self.timeout);
            drop(sem); // IPC_RMID, also after a timeout or failure
        }
        report.waited = start.elapsed();
        let mut first_error = None;
        for (op, by_udev) in txn.ops {
            match fix_node(&self.dev_dir, &op) {
                Ok((path, fixed)) => report.nodes.push(NodeCheck {
                    name: op.name().to_string(),
                    path,
                    present: matches!(op, NodeOp::Add { .. }),
                    by_udev,
                    fixed,
                }),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }
}

/// The node at `path` is `dev` (a block node, or a symlink to one, as udev makes it).
fn node_is(path: &Path, dev: DevNum) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|m| m.file_type().is_block_device() && DevNum::from_dev_t(m.rdev()) == dev)
}

/// Makes `op` true of `/dev/mapper/NAME`; returns the path and whether anything was done.
/// A missing node becomes a symlink to the kernel's `dm-MINOR` when devtmpfs has it — what
/// udev's `55-dm.rules` would have made, so a late udev replaces it without a "conflicting
/// inode" — and a block node (libdm's fallback) when not.
fn fix_node(dev_dir: &Path, op: &NodeOp) -> Result<(PathBuf, bool), NodeError> {
    let path = dev_dir.join("mapper").join(op.name().as_str());
    let err = |source| NodeError { device: op.name().to_string(), path: path.clone(), source };
    match op {
        NodeOp::Add { name, dev } => {
            if node_is(&path, *dev) {
                return Ok((path, false));
            }
            let kernel = dev_dir.join(format!("dm-{}", dev.minor));
            if node_is(&kernel, *dev) {
                if std::fs::symlink_metadata(&path).is_ok() {
                    std::fs::remove_file(&path).map_err(err)?;
                } else {
                    std::fs::create_dir_all(dev_dir.join("mapper")).map_err(err)?;
                }
                std::os::unix::fs::symlink(Path::new("..").join(format!("dm-{}", dev.minor)), &path)
                    .map_err(err)?;
            } else {
                crate::control::make_node(dev_dir, name, *dev).map_err(err)?;
            }
            Ok((path, true))
        }
        NodeOp::Remove { .. } => match std::fs::remove_file(&path) {
            Ok(()) => Ok((path, true)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((path, false)),
            Err(e) => Err(err(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of `libdm/libdevmapper.h` (lvm2), copied here as the reference.
    #[test]
    fn constants_are_libdms() {
        assert_eq!(DM_COOKIE_MAGIC, 0x0D4D); // #define DM_COOKIE_MAGIC 0x0D4D
        assert_eq!(DM_UDEV_FLAGS_MASK, 0xFFFF0000); // #define DM_UDEV_FLAGS_MASK 0xFFFF0000
        assert_eq!(DM_UDEV_FLAGS_SHIFT, 16); // #define DM_UDEV_FLAGS_SHIFT 16
        let libdm = [
            (flags::DISABLE_DM_RULES, 0x0001),
            (flags::DISABLE_SUBSYSTEM_RULES, 0x0002),
            (flags::DISABLE_DISK_RULES, 0x0004),
            (flags::DISABLE_OTHER_RULES, 0x0008),
            (flags::LOW_PRIORITY, 0x0010),
            (flags::DISABLE_LIBRARY_FALLBACK, 0x0020),
            (flags::PRIMARY_SOURCE, 0x0040),
            (flags::SUBSYSTEM_0, 0x0100),
            (flags::SUBSYSTEM_1, 0x0200),
            (flags::SUBSYSTEM_2, 0x0400),
            (flags::SUBSYSTEM_3, 0x0800),
            (flags::SUBSYSTEM_4, 0x1000),
            (flags::SUBSYSTEM_5, 0x2000),
            (flags::SUBSYSTEM_6, 0x4000),
            (flags::SUBSYSTEM_7, 0x8000),
        ];
        for (ours, theirs) in libdm {
            assert_eq!(ours, theirs);
        }
        // dm_cookie_supported: _dm_version_minor >= 15; _check_uevent_generated: >= 17.
        assert_eq!((COOKIE_MIN_MINOR, UEVENT_FLAG_MIN_MINOR), (15, 17));
    }

    #[test]
    fn cookie_layout() {
        let c = Cookie::from_base(0x1a32).unwrap();
        assert_eq!(c.value(), 0x0d4d_1a32);
        assert_eq!(c.key(), 0x0d4d_1a32);
        assert_eq!(c.base(), 0x1a32);
        assert_eq!(c.to_string(), "0x0d4d1a32");
        assert_eq!(Cookie::from_base(0), None);
        assert!(Cookie::from_base(0xffff).unwrap().key() > 0, "a key_t, positive");
    }

    #[test]
    fn event_nr_carries_flags_high_and_base_low() {
        let c = Cookie::from_base(0x1a32);
        // A public LV's resume: PRIMARY_SOURCE only.
        assert_eq!(event_nr(c, flags::PRIMARY_SOURCE), 0x0040_1a32);
        // A hidden LV's (lvm2 _get_udev_flags): SUBSYSTEM|DISK|OTHER + PRIMARY_SOURCE.
        let hidden = flags::DISABLE_SUBSYSTEM_RULES | flags::DISABLE_DISK_RULES | flags::DISABLE_OTHER_RULES;
        assert_eq!(event_nr(c, hidden | flags::PRIMARY_SOURCE), 0x004e_1a32);
        // Flags only: base 0.
        assert_eq!(event_nr(None, 0x000e), 0x000e_0000);
        // What udev passes to `dmsetup udevcomplete` (the kernel prints event_nr as %u) leads
        // back to the semaphore's key: flags stripped, magic in (dmsetup `_udevcomplete`).
        let dm_cookie: u32 = "4201010".parse().unwrap(); // 0x00401a32
        assert_eq!(Cookie::from_event(dm_cookie), c);
        assert_eq!(Cookie::from_event(event_nr(c, 0xffff)), c);
        assert_eq!(Cookie::from_event(event_nr(None, flags::PRIMARY_SOURCE)), None);
        // `dmsetup udevflags` decodes the high half bit by bit.
        assert_eq!(event_nr(c, hidden) >> DM_UDEV_FLAGS_SHIFT, u32::from(hidden));
    }

    fn sem_keys() -> Vec<i32> {
        // /proc/sysvipc/sem: "key semid perms …" after a header line.
        std::fs::read_to_string("/proc/sysvipc/sem")
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect()
    }

    /// What `95-dm-notify.rules` → `dmsetup udevcomplete` does to the semaphore.
    fn udev_completes(dm_cookie: u32) {
        let c = Cookie::from_event(dm_cookie).unwrap();
        let id = ioctl::sem_lookup(c.key()).unwrap();
        ioctl::sem_adjust(id, -1, true).unwrap();
    }

    fn no_sysv_ipc() -> bool {
        if Path::new("/proc/sysvipc/sem").exists() {
            return false;
        }
        println!("skipped: no SysV IPC here");
        true
    }

    #[test]
    fn semaphore_counts_uevents_and_is_removed() {
        if no_sysv_ipc() {
            return;
        }
        let sync = UdevSync::new(Duration::from_secs(5));
        assert_eq!(sync.cookie(), None);
        let c = sync.arm().unwrap();
        assert_eq!(sync.arm().unwrap(), c, "one cookie per transaction");
        assert_eq!(sync.cookie(), Some(c));
        let id = ioctl::sem_lookup(c.key()).unwrap();
        assert_eq!(ioctl::sem_value(id).unwrap(), 3, "own count + two uevents");
        assert!(sem_keys().contains(&c.key()));
        // A third ioctl sends no uevent: its count is taken back.
        sync.arm().unwrap();
        sync.disarm();
        assert_eq!(ioctl::sem_value(id).unwrap(), 3);
        // "udev" confirms both uevents, a little later, from another thread.
        let udev = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            udev_completes(event_nr(Some(c), flags::PRIMARY_SOURCE));
            udev_completes(event_nr(Some(c), flags::PRIMARY_SOURCE | flags::DISABLE_OTHER_RULES));
        });
        let r = sync.wait().unwrap();
        udev.join().unwrap();
        assert_eq!(r.outcome, Outcome::Confirmed);
        assert_eq!(r.cookie, Some(c));
        assert!(r.waited < Duration::from_secs(2), "returned when udev confirmed: {:?}", r.waited);
        assert!(!sem_keys().contains(&c.key()), "semaphore removed");
        assert!(r.warnings().is_empty(), "{:?}", r.warnings());
        // The next transaction starts fresh; nothing armed: nothing to wait for.
        let r = sync.wait().unwrap();
        assert_eq!((r.outcome, r.cookie), (Outcome::NoCookie, None));
    }

    #[test]
    fn deadline_bounds_the_wait_and_the_semaphore_still_goes() {
        if no_sysv_ipc() {
            return;
        }
        let dir = tempfile_dir("deadline");
        let sync = UdevSync::new(Duration::from_millis(300)).with_dev_dir(&dir);
        let c = sync.arm().unwrap();
        sync.arm().unwrap();
        udev_completes(event_nr(Some(c), 0)); // one of two confirmed
        // A node udev should have removed is still there.
        std::fs::create_dir_all(dir.join("mapper")).unwrap();
        std::fs::write(dir.join("mapper/vg-old"), b"").unwrap();
        sync.expect(NodeOp::Remove { name: DmName::new("vg-old").unwrap() }, true);
        let t = Instant::now();
        let r = sync.wait().unwrap();
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(3), "{took:?}");
        assert_eq!(r.outcome, Outcome::TimedOut { outstanding: Some(1) });
        assert!(!sem_keys().contains(&c.key()), "semaphore removed after the timeout too");
        assert!(!dir.join("mapper/vg-old").exists(), "fallback removed the node");
        assert_eq!(r.fixed_for_udev().count(), 1);
        let w = r.warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("udev did not confirm 1 uevent(s) within 0.3 s (cookie 0x0d4d"), "{w:?}");
        assert!(w[1].ends_with("mapper/vg-old was not removed by udev: removed directly"), "{w:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dropped_transaction_leaves_no_semaphore() {
        if no_sysv_ipc() {
            return;
        }
        let sync = UdevSync::new(DEFAULT_TIMEOUT);
        let c = sync.arm().unwrap();
        assert!(sem_keys().contains(&c.key()));
        drop(sync);
        assert!(!sem_keys().contains(&c.key()));
    }

    #[test]
    fn later_ops_on_a_name_replace_earlier_ones() {
        let sync = UdevSync::new(DEFAULT_TIMEOUT);
        let n = DmName::new("vg-lv").unwrap();
        sync.expect(NodeOp::Add { name: n.clone(), dev: DevNum::new(254, 3) }, true);
        sync.expect(NodeOp::Remove { name: DmName::new("vg-other").unwrap() }, true);
        sync.expect(NodeOp::Remove { name: n.clone() }, true);
        let ops: Vec<_> = sync.lock().ops.iter().map(|(o, _)| o.clone()).collect();
        assert_eq!(
            ops,
            [NodeOp::Remove { name: DmName::new("vg-other").unwrap() }, NodeOp::Remove { name: n }]
        );
    }

    #[test]
    fn missing_node_becomes_a_link_to_the_kernel_node_or_a_block_node() {
        let dir = tempfile_dir("fix");
        let dev = DevNum::new(7, 200);
        let name = DmName::new("vg-lv").unwrap();
        // Kernel node present (devtmpfs): a udev-style symlink. Needs CAP_MKNOD.
        if crate::ioctl::mknod_block(&dir.join("dm-200"), 0o600, dev).is_err() {
            println!("skipped: missing_node_becomes_a_link…: cannot mknod here (not root)");
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        }
        std::fs::create_dir_all(dir.join("mapper")).unwrap();
        std::fs::write(dir.join("mapper/vg-lv"), b"stale").unwrap();
        let (path, fixed) = fix_node(&dir, &NodeOp::Add { name: name.clone(), dev }).unwrap();
        assert!(fixed);
        assert_eq!(std::fs::read_link(&path).unwrap(), Path::new("../dm-200"));
        assert!(node_is(&path, dev));
        assert!(!fix_node(&dir, &NodeOp::Add { name: name.clone(), dev }).unwrap().1, "idempotent");
        // No kernel node: a block node, as libdm's fallback.
        std::fs::remove_file(dir.join("dm-200")).unwrap();
        let (path, fixed) = fix_node(&dir, &NodeOp::Add { name: name.clone(), dev }).unwrap();
        assert!(fixed);
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_block_device());
        assert!(fix_node(&dir, &NodeOp::Remove { name: name.clone() }).unwrap().1);
        assert!(!fix_node(&dir, &NodeOp::Remove { name }).unwrap().1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lvmkit-udev-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
