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
