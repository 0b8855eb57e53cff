//! The recovery kit: `lvmvg` and `lvmlv` resources that a cluster manager (or an operator)
//! restores, removes, checks and recovers, with hierarchies, adddelpv, ownership by lvm2
//! system ID, the controlled-VG list and the error catalog.
//!
//! Every action returns a typed outcome or a [`KitError`] (catalog code, message, typed cause);
//! nothing here prints. Actions that touch device-mapper take a `&dyn DmControl`, so they run
//! against a fake off-kernel (`kit/tests/recovery.rs`) and against [`lvmkit_dm::control::Dm`]
//! from the command line.
//!
//! Files: the kit directory ([`store`]), the controlled-VG list ([`controlled`]); metadata writes
//! use lvmkit's archive/backup/lock settings ([`Env::backups`], [`Env::lock_dir`]).

pub mod actions;
pub mod catalog;
pub mod controlled;
pub mod hierarchy;
pub mod holders;
pub mod probe;
pub mod resource;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lvmkit_dm::DevNum;
use lvmkit_metadata::assemble::{AssembledVg, Finding};
use lvmkit_metadata::id::LvmId;
use lvmkit_metadata::scan::PvScan;
use lvmkit_metadata::topology::{SysBlock, Sysfs};
use lvmkit_metadata::write::backup::Backups;
use lvmkit_metadata::write::lock::LockWait;
use lvmkit_metadata::write::ops::Context;

pub use catalog::{Cause, KitError};
pub use resource::{Kind, Resource};
pub use store::Store;

use crate::source::Source;

/// How a PV device maps to the number device-mapper tables use: its `st_rdev` for a block
/// device; tests map image files to made-up numbers.
pub type Resolver = Arc<dyn Fn(&str, Option<u64>) -> Option<DevNum> + Send + Sync>;

/// The block device's own number (image files have none).
pub fn block_devnum() -> Resolver {
    Arc::new(|_, dev_t| dev_t.map(DevNum::from_dev_t))
}

/// Everything an action needs to know about this server.
#[derive(Clone)]
pub struct Env {
    /// The kit directory.
    pub store: Store,
    /// The controlled-VG list (`/etc/lkvgs`).
    pub controlled: PathBuf,
    /// This server's name in hierarchies.
    pub server: String,
    /// This host's lvm2 system ID.
    pub host_system_id: Option<String>,
    /// Devices to scan when a full scan is needed (empty: every block device).
    pub devices: Vec<PathBuf>,
    /// PV device → device-mapper number.
    pub resolve: Resolver,
    /// The kernel's block-device tree (`/sys`): the components under a PV's device (md
    /// members, multipath paths) and their health.
    pub sysfs: Arc<dyn SysBlock>,
    /// How device-mapper work is applied (nodes, removal retries, threads).
    pub apply: lvmkit_activation::apply::ApplyOptions,
    /// Archive and backup files of metadata writes.
    pub backups: Backups,
    /// lvm2's per-VG lock directory.
    pub lock_dir: PathBuf,
    /// How long to wait for a VG lock.
    pub lock_wait: LockWait,
    /// The command line (for the metadata's `description`).
    pub cmdline: String,
    /// The `lvmkit` binary quickCheck level 10 re-executes for its probes.
    pub probe_exe: Option<PathBuf>,
    /// quickCheck level 10's deadline for all PV reads.
    pub probe_timeout: Duration,
    /// How long remove retries a device that is in use.
    pub busy_timeout: Duration,
}

impl Env {
    /// Defaults for this host with the kit directory `dir`: no system ID, server name from the
    /// host name, lvm2's default lock directory, no backup files.
    pub fn new(dir: impl Into<PathBuf>) -> Env {
        Env {
            store: Store::new(dir),
            controlled: PathBuf::from(controlled::DEFAULT_PATH),
            server: hostname(),
            host_system_id: None,
            devices: Vec::new(),
            resolve: block_devnum(),
            sysfs: Arc::new(Sysfs::default()),
            apply: Default::default(),
            backups: Backups::default(),
            lock_dir: PathBuf::from(lvmkit_metadata::write::lock::DEFAULT_LOCK_DIR),
            lock_wait: LockWait::For(Duration::from_secs(30)),
            cmdline: String::from("lvmkit kit"),
            probe_exe: None,
            probe_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// The write context: our system ID, a takeover from `takeover_from`.
    pub fn context(&self, takeover_from: Option<String>) -> Context {
        crate::write::context(self.host_system_id.clone(), takeover_from, &self.cmdline)
    }

    /// The record of PV `uuid` as seen here on `pv`: its device, size, whole disk and the
    /// components under that device (md members, multipath paths).
    pub fn pv_record(&self, uuid: String, pv: &PvScan) -> resource::PvRecord {
        resource::PvRecord {
            uuid,
            device: pv.name().to_string(),
            size: pv.dev_size,
            disk: resource::disk_of(pv.name()),
            components: resource::components_under(
                self.sysfs.as_ref(),
                (self.resolve)(pv.name(), pv.device.dev_t()),
            ),
        }
    }

    /// Scan `devices` (the restriction when empty).
    fn load(&self, devices: &[PathBuf]) -> Source {
        Source::load(if devices.is_empty() { &self.devices } else { devices }, false)
    }
}

/// The host's node name (as lvm2 sees it), or `localhost`.
pub fn hostname() -> String {
    lvmkit_metadata::host::node_name().ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "localhost".into())
}

/// `LVM-<vg uuid>` for a hyphenated or plain UUID.
pub fn uuid_prefix(vg_uuid: &str) -> String {
    format!("{}{}", lvmkit_activation::names::UUID_PREFIX, vg_uuid.replace('-', ""))
}

/// A VG read from disk for a resource.
pub struct Read {
    /// The scan it was read from.
    pub src: Source,
    /// Index of the VG in `src.assembly.vgs`.
    pub vg: usize,
    /// Whether the recorded devices were not enough (a full scan was made).
    pub full_scan: bool,
}

impl Read {
    /// The VG.
    pub fn vg(&self) -> &AssembledVg {
        &self.src.assembly.vgs[self.vg]
    }

    /// Device name of the VG's PV `i`, if present.
    pub fn device(&self, i: usize) -> Option<&str> {
        self.vg().pv_devices.get(i).copied().flatten().map(|d| self.src.scan.pvs[d].name())
    }

    /// The PVs of the VG not on any scanned device: (UUID, last known device).
    pub fn missing(&self) -> Vec<(String, Option<String>)> {
        let vg = self.vg();
        vg.metadata
            .vg
            .pvs
            .iter()
            .zip(&vg.pv_devices)
            .filter(|(_, d)| d.is_none())
            .map(|(p, _)| (p.id.to_string(), p.device.clone()))
            .collect()
    }

    /// Findings about this VG's copies and PVs (stale copies, mismatches, duplicates).
    pub fn findings(&self) -> Vec<&Finding> {
        let vg = self.vg();
        let name = vg.name();
        let ids: Vec<LvmId> = vg.metadata.vg.pvs.iter().map(|p| p.id).collect();
        self.src
            .assembly
            .findings
            .iter()
            .filter(|f| match f {
                Finding::StaleCopy { vg, .. } | Finding::Mismatch { vg, .. } => vg == name,
                Finding::DuplicatePv { pv_uuid, .. } => ids.contains(pv_uuid),
                _ => false,
            })
            .collect()
    }

    /// A duplicate PV of this VG, as 110024.
    pub fn duplicate(&self) -> Option<KitError> {
        self.findings().into_iter().find_map(|f| match f {
            Finding::DuplicatePv { pv_uuid, chosen, ignored, .. } => Some(KitError::new(
                "110024",
                &[("pv", &pv_uuid.to_string()), ("devices", &format!("{chosen}, {ignored}"))],
            )),
            _ => None,
        })
    }
}

impl Read {
    /// A copy of one of this VG's PVs on a device the read did not look at, as 110024.
    ///
    /// A read from the recorded devices only never sees a copy elsewhere (a disk cloned to a
    /// second device): writing ownership to one of two copies corrupts the VG. So the other
    /// devices of the scan (`env.devices`, or the kernel's block devices without dm LVs, as
    /// the scan chooses them) are read for their label only — one read of the label sectors
    /// each, no metadata — and a PV UUID of this VG found on a second device that is neither
    /// the same device (an alias) nor a component or holder of it (an md member, a multipath
    /// path) is an unresolved duplicate. After a full scan the assembly has seen every device
    /// already ([`Read::duplicate`]).
    pub fn duplicate_elsewhere(&self, env: &Env) -> Option<KitError> {
        use lvmkit_metadata::scan::ScanOptions;
        use lvmkit_metadata::topology::{self, Stack, StackOptions};
        if self.full_scan {
            return self.duplicate();
        }
        let vg = self.vg();
        let mine: Vec<(LvmId, &str)> = vg
            .metadata
            .vg
            .pvs
            .iter()
            .zip(&vg.pv_devices)
            .filter_map(|(p, d)| d.map(|d| (p.id, self.src.scan.pvs[d].name())))
            .collect();
        if mine.is_empty() {
            return None;
        }
        let read_names: Vec<&str> = self.src.scan.pvs.iter().map(|p| p.name()).collect();
        let read_ids: Vec<DevIdentity> =
            read_names.iter().filter_map(|n| identity(std::path::Path::new(n))).collect();
        // The devices the scan would read, classified as it does before any read: dm LVs
        // (unless scan_lvs), multipath paths and md members are components, never read.
        let sys = env.sysfs.as_ref();
        let stack = Stack::read(sys);
        let stack_opts = StackOptions { scan_lvs: false };
        let paths: Vec<PathBuf> = if env.devices.is_empty() {
            topology::kernel_devices(sys)
                .unwrap_or_default()
                .into_iter()
                .filter(|k| stack.classify(k.major, k.minor, Some(&k.name), stack_opts).is_ok())
                .map(|k| sys.node(&k.name))
                .collect()
        } else {
            env.devices.clone()
        };
        let opts = ScanOptions { devices: None, scan_lvs: false, direct: true };
        for path in &paths {
            let id = identity(path);
            // The devices read already (under any name) need no second look.
            if id.as_ref().is_some_and(|i| i.block && read_ids.contains(i)) {
                continue;
            }
            let Ok(devs) = lvmkit_metadata::scan::open_with_partitions(path, &opts) else { continue };
            for dev in devs {
                if read_names.contains(&dev.name()) {
                    continue;
                }
                let component = dev.dev_t().is_some_and(|rdev| {
                    let n = DevNum::from_dev_t(rdev);
                    stack.classify(n.major, n.minor, None, stack_opts).is_err()
                });
                if component {
                    continue;
                }
                let len = dev.size().min(lvmkit_metadata::label::LABEL_SCAN_SIZE as u64);
                let Ok(head) = lvmkit_metadata::device::read(dev.as_ref(), "label sectors", 0, len) else {
                    continue;
                };
                let Some(label) = lvmkit_metadata::label::find_label(&head).ok().and_then(|l| l.label) else {
                    continue;
                };
                let uuid = label.pv_header.pv_uuid;
                let Some((_, chosen)) = mine.iter().find(|(u, _)| *u == uuid) else { continue };
                if same_or_stacked(std::path::Path::new(chosen), path) {
                    continue;
                }
                return Some(KitError::new(
                    "110024",
                    &[("pv", &uuid.to_string()), ("devices", &format!("{chosen}, {}", dev.name()))],
                ));
            }
        }
        None
    }
}

/// What makes two paths one device: a block device's number, a file's (filesystem, inode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DevIdentity {
    block: bool,
    a: u64,
    b: u64,
}

fn identity(path: &std::path::Path) -> Option<DevIdentity> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::metadata(path).ok()?;
    Some(if m.file_type().is_block_device() {
        DevIdentity { block: true, a: m.rdev(), b: 0 }
    } else {
        DevIdentity { block: false, a: m.dev(), b: m.ino() }
    })
}

/// Whether two block devices are one (aliases) or one holds the other (an md array over its
/// members, a multipath map over its paths: sysfs `holders`), so that the same label on both
/// is not a duplicate PV.
fn same_or_stacked(a: &std::path::Path, b: &std::path::Path) -> bool {
    let (Some(ia), Some(ib)) = (identity(a), identity(b)) else { return false };
    if ia == ib {
        return true;
    }
    if !(ia.block && ib.block) {
        return false;
    }
    let kname = |rdev: u64| {
        let n = DevNum::from_dev_t(rdev);
        std::fs::canonicalize(format!("/sys/dev/block/{n}"))
            .ok()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
    };
    let holds = |lower: u64, upper: u64| {
        let Some(u) = kname(upper) else { return false };
        std::path::Path::new(&format!("/sys/dev/block/{}/holders/{u}", DevNum::from_dev_t(lower))).exists()
    };
    holds(ia.a, ib.a) || holds(ib.a, ia.a)
}

/// Find the VG with `uuid` in `src`.
fn vg_index(src: &Source, uuid: &LvmId) -> Option<usize> {
    src.assembly.vgs.iter().position(|v| v.metadata.vg.id == *uuid)
}

/// Parse a stored UUID.
fn parse_uuid(u: &str, what: &str) -> Result<LvmId, KitError> {
    LvmId::parse(u)
        .map_err(|e| KitError::new("000010", &[("file", what), ("why", &format!("bad UUID {u:?}: {e}"))]))
}

/// Read the VG of `rec` from its recorded PVs only (by UUID); a full scan (of the `--devices`
/// restriction, or every block device) only when the VG is not there or one of its PVs is not
/// where it was recorded. Not found anywhere: 110000.
pub fn read_vg(env: &Env, rec: &resource::VgResource) -> Result<Read, KitError> {
    let uuid = parse_uuid(&rec.vg_uuid, &env.store.path(&resource::vg_id(&rec.vg)).display().to_string())?;
    let recorded: Vec<PathBuf> = rec.pvs.iter().map(|p| PathBuf::from(&p.device)).collect();
    if !recorded.is_empty() {
        let src = Source::load(&recorded, false);
        if let Some(i) = vg_index(&src, &uuid) {
            let read = Read { src, vg: i, full_scan: false };
            if read.missing().is_empty() {
                return Ok(read);
            }
        }
    }
    let src = env.load(&[]);
    match vg_index(&src, &uuid) {
        Some(i) => Ok(Read { src, vg: i, full_scan: true }),
        None => {
            let mut e = KitError::new("110000", &[("vg", &rec.vg)]);
            let why: Vec<String> = src.scan.errors.iter().map(|e| e.to_string()).collect();
            if !why.is_empty() {
                e = e.detail(why.join("\n"));
            }
            Err(e)
        }
    }
}

/// Scan for a VG by name (create); 110000 when absent.
pub fn read_vg_by_name(env: &Env, name: &str) -> Result<Read, KitError> {
    let src = env.load(&[]);
    match src.assembly.vgs.iter().position(|v| v.name() == name) {
        Some(i) => Ok(Read { src, vg: i, full_scan: true }),
        None => Err(KitError::new("110000", &[("vg", name)])),
    }
}
