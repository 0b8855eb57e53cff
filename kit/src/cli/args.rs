//! The argument groups commands share (devices, activation, apply, report, write options)
//! and what turns them into the library's inputs.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use lvmkit::source::{Source, split_devices};
use lvmkit::target::Target;

#[derive(Args, Clone, Default)]
pub(crate) struct DeviceArgs {
    /// Only scan these devices or image files (comma-separated or repeated), like lvm2's
    /// --devices. Without it every block device in /proc/partitions is scanned.
    #[arg(long = "devices", value_name = "PATH[,PATH…]")]
    pub(crate) devices: Vec<String>,
    /// Also look for PVs on LVs (lvm2's devices/scan_lvs=1). Other device-mapper devices
    /// (multipath maps, crypt devices) are always scanned, and components (multipath paths,
    /// md members, devices with an md superblock) never.
    #[arg(long)]
    pub(crate) scan_lvs: bool,
}

/// How device-mapper work is carried out (activate, refresh, deactivate).
#[derive(Args, Clone, Default)]
pub(crate) struct ApplyArgs {
    /// Threads for independent devices' ioctls (a fresh activation's loads and resumes, a
    /// deactivation's removes); 1 = one after another. Default: 1 on one CPU, else 4 per CPU
    /// up to 16 (the kernel mostly waits: RCU grace periods, disk registration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) jobs: Option<u16>,
}

impl ApplyArgs {
    pub(crate) fn options(&self) -> lvmkit_activation::apply::ApplyOptions {
        let mut o = lvmkit_activation::apply::ApplyOptions::default();
        if let Some(j) = self.jobs {
            o.jobs = usize::from(j);
        }
        o
    }
}

#[derive(Args, Clone)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) dev: DeviceArgs,
    /// Fields to show (comma-separated; a leading + adds to the default columns).
    #[arg(short = 'o', long = "options", value_name = "FIELDS")]
    pub(crate) options: Vec<String>,
    /// Show hidden LVs too (lvs), or every scanned device (pvs).
    #[arg(short = 'a', long = "all")]
    pub(crate) all: bool,
    /// One row per LV segment.
    #[arg(long)]
    pub(crate) segments: bool,
    /// Size units: h, H, b, B, s, S, k, K, m, M, g, G, t, T, p, P, e, E.
    #[arg(long, value_name = "UNIT")]
    pub(crate) units: Option<String>,
    /// Sizes without a unit suffix.
    #[arg(long)]
    pub(crate) nosuffix: bool,
    /// basic (columns) or json (lvm2's JSON shape).
    #[arg(long = "reportformat", value_enum, default_value = "basic")]
    pub(crate) reportformat: FormatArg,
    /// Leave out the heading line.
    #[arg(long)]
    pub(crate) noheadings: bool,
    /// Column separator instead of aligned columns.
    #[arg(long)]
    pub(crate) separator: Option<String>,
    /// Only rows matching lvm2's selection expression (see lvmreport(7)).
    #[arg(short = 'S', long = "select", value_name = "SELECTION")]
    pub(crate) select: Option<String>,
    /// Sort keys (comma-separated; a leading - sorts descending), replacing the default order.
    #[arg(short = 'O', long = "sort", value_name = "KEYS", allow_hyphen_values = true)]
    pub(crate) sort: Option<String>,
    /// One line per field instead of one per row.
    #[arg(long)]
    pub(crate) rows: bool,
    /// Print LVM2_FIELD='value' pairs.
    #[arg(long)]
    pub(crate) nameprefixes: bool,
    /// No quotes around --nameprefixes values.
    #[arg(long)]
    pub(crate) unquoted: bool,
    /// Aligned columns also with --separator.
    #[arg(long)]
    pub(crate) aligned: bool,
    /// Binary fields as 0/1 (-1 when unknown) instead of a word or blank.
    #[arg(long)]
    pub(crate) binary: bool,
    /// lvs: also historical LVs (removed LVs lvm2 keeps with record_lvs_history).
    #[arg(short = 'H', long = "history")]
    pub(crate) history: bool,
    /// Also report VGs owned by another system ID (and their LVs and PVs), as lvm2's --foreign.
    #[arg(long)]
    pub(crate) foreign: bool,
    /// VG, VG/LV or PV names to show.
    pub(crate) names: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FormatArg {
    Basic,
    Json,
}

/// `--addtag` / `--deltag`, as vgchange and lvchange take them.
#[derive(Args, Clone, Default)]
pub(crate) struct TagArgs {
    /// Add a tag (repeatable).
    #[arg(long = "addtag", value_name = "TAG")]
    pub(crate) addtag: Vec<String>,
    /// Remove a tag (repeatable).
    #[arg(long = "deltag", value_name = "TAG")]
    pub(crate) deltag: Vec<String>,
}

/// What may be activated (plan, activate, refresh, status).
#[derive(Args, Clone)]
pub(crate) struct ActivationArgs {
    /// Missing PVs: complete (refuse), degraded (raid may run without a leg), partial
    /// (missing areas become error targets).
    #[arg(long = "activationmode", value_enum, default_value = "complete")]
    pub(crate) mode: ModeArg,
    /// This host's system ID (default: from LVM_SYSTEM_DIR or /etc/lvm lvm.conf
    /// global/system_id_source, like lvm2); a VG owned by another is refused without --foreign.
    #[arg(long = "systemid", value_name = "ID")]
    pub(crate) system_id: Option<String>,
    /// Also a VG owned by another host's system ID.
    #[arg(long)]
    pub(crate) foreign: bool,
    /// Also an exported VG.
    #[arg(long)]
    pub(crate) exported: bool,
    /// Also LVs flagged to be skipped on activation (lvm2's -K).
    #[arg(short = 'K', long = "ignoreactivationskip")]
    pub(crate) ignore_activation_skip: bool,
}

/// This host's system ID as lvm2 derives it (LVM_SYSTEM_DIR or /etc/lvm); why a configured
/// source gave none goes to stderr, as lvm2 warns.
pub(crate) fn configured_system_id() -> Result<Option<String>, String> {
    let id =
        lvmkit_metadata::host::identity(&lvmkit_metadata::host::system_dir()).map_err(|e| e.to_string())?;
    for w in &id.warnings {
        eprintln!("  WARNING: {w}");
    }
    Ok(id.system_id)
}

impl ActivationArgs {
    pub(crate) fn plan_options(&self) -> Result<lvmkit_activation::PlanOptions, String> {
        use lvmkit_activation::ActivationMode;
        let host_system_id = match &self.system_id {
            Some(id) => Some(id.clone()).filter(|i| !i.is_empty()),
            None => configured_system_id()?,
        };
        Ok(lvmkit_activation::PlanOptions {
            mode: match self.mode {
                ModeArg::Complete => ActivationMode::Complete,
                ModeArg::Degraded => ActivationMode::Degraded,
                ModeArg::Partial => ActivationMode::Partial,
            },
            host_system_id,
            allow_foreign: self.foreign,
            allow_exported: self.exported,
            ignore_activation_skip: self.ignore_activation_skip,
            ..Default::default()
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ModeArg {
    Complete,
    Degraded,
    Partial,
}

#[derive(Args, Clone, Default)]
pub(crate) struct WriteArgs {
    #[command(flatten)]
    pub(crate) dev: DeviceArgs,
    /// This host's system ID (default: from LVM_SYSTEM_DIR or /etc/lvm lvm.conf
    /// global/system_id_source, like lvm2).
    #[arg(long = "host-systemid", value_name = "ID")]
    pub(crate) host_systemid: Option<String>,
    /// Allow writing a VG owned by this other system ID (taking it over).
    #[arg(long = "takeover", value_name = "OLD_ID")]
    pub(crate) takeover: Option<String>,
    /// Where the previous metadata is archived before each change (default $LVMKIT_ARCHIVE_DIR
    /// or /etc/lvm/archive).
    #[arg(long = "archive-dir", value_name = "DIR")]
    pub(crate) archive_dir: Option<PathBuf>,
    /// Where the new metadata is backed up after each change (default $LVMKIT_BACKUP_DIR or
    /// /etc/lvm/backup).
    #[arg(long = "backup-dir", value_name = "DIR")]
    pub(crate) backup_dir: Option<PathBuf>,
    /// Directory of lvm2's per-VG lock files (default $LVMKIT_LOCK_DIR or /run/lock/lvm).
    #[arg(long = "lock-dir", value_name = "DIR")]
    pub(crate) lock_dir: Option<PathBuf>,
    /// Give up when another process holds the VG lock this long (0: do not wait; default: wait).
    #[arg(long = "lock-timeout", value_name = "SECONDS")]
    pub(crate) lock_timeout: Option<f64>,
}

impl WriteArgs {
    pub(crate) fn dir(opt: &Option<PathBuf>, env: &str, default: &str) -> PathBuf {
        opt.clone()
            .or_else(|| std::env::var_os(env).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default))
    }
    pub(crate) fn backup_dir(&self) -> PathBuf {
        Self::dir(&self.backup_dir, "LVMKIT_BACKUP_DIR", lvmkit_metadata::write::backup::DEFAULT_BACKUP_DIR)
    }
    pub(crate) fn lock_dir(&self) -> PathBuf {
        Self::dir(&self.lock_dir, "LVMKIT_LOCK_DIR", lvmkit_metadata::write::lock::DEFAULT_LOCK_DIR)
    }
    pub(crate) fn lock_wait(&self) -> Result<lvmkit_metadata::write::lock::LockWait, String> {
        use lvmkit_metadata::write::lock::LockWait;
        match self.lock_timeout {
            None => Ok(LockWait::Forever),
            Some(t) if t.is_finite() && t >= 0.0 => Ok(LockWait::For(std::time::Duration::from_secs_f64(t))),
            Some(t) => Err(format!("--lock-timeout {t}: expected a number of seconds >= 0")),
        }
    }
    pub(crate) fn backups(
        &self,
        ctx: &lvmkit_metadata::write::ops::Context,
    ) -> lvmkit_metadata::write::backup::Backups {
        lvmkit_metadata::write::backup::Backups {
            archive_dir: Some(Self::dir(
                &self.archive_dir,
                "LVMKIT_ARCHIVE_DIR",
                lvmkit_metadata::write::backup::DEFAULT_ARCHIVE_DIR,
            )),
            backup_dir: Some(self.backup_dir()),
            info: file_info(ctx),
        }
    }
}

/// The header of backup files: lvm2 quotes the command line without the program path.
pub(crate) fn file_info(
    ctx: &lvmkit_metadata::write::ops::Context,
) -> lvmkit_metadata::write::backup::FileInfo {
    let args: Vec<String> = std::env::args().collect();
    let mut command = args.join(" ");
    if let Some(first) = args.first() {
        let base = std::path::Path::new(first).file_name().map(|b| b.to_string_lossy().into_owned());
        command = std::iter::once(base.unwrap_or_default())
            .chain(args[1..].iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
    }
    lvmkit_metadata::write::backup::FileInfo {
        command,
        host: ctx.hostname.clone(),
        host_system_id: ctx.host_system_id.clone(),
        time: ctx.time,
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum YesNo {
    Y,
    N,
}

pub(crate) fn write_context(w: &WriteArgs) -> Result<lvmkit_metadata::write::ops::Context, String> {
    let host = match &w.host_systemid {
        Some(h) => Some(h.clone()).filter(|h| !h.is_empty()),
        None => configured_system_id()?,
    };
    let cmdline: Vec<String> = std::env::args().collect();
    Ok(lvmkit::write::context(host, w.takeover.clone(), &cmdline.join(" ")))
}

pub(crate) fn load(d: &DeviceArgs) -> Source {
    Source::load(&split_devices(&d.devices), d.scan_lvs)
}

/// For commands about named VGs (activation): without `--devices`, the devices the hints file
/// says hold them, when that still holds (see `lvmkit::hints`); `LVMKIT_HINTS` names another
/// hints file, or `none` for always a full scan.
pub(crate) fn load_vgs(d: &DeviceArgs, targets: &[Target]) -> Source {
    let hints = std::env::var("LVMKIT_HINTS").unwrap_or_else(|_| lvmkit::hints::DEFAULT_PATH.to_string());
    if !d.devices.is_empty() || hints == "none" {
        return load(d);
    }
    lvmkit::hints::load(std::path::Path::new(&hints), &lvmkit::target::vg_names(targets), d.scan_lvs).0
}
