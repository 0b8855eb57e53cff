//! `lvmkit`: parse arguments, run one command, map the outcome to an exit status.
//!
//! Exit status: 0 success; 1 the command ran but found problems (`check`) or what was asked
//! for does not exist; 2 bad usage (clap's own).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use lvmkit::inspect::{self, DumpForm};
use lvmkit::report::{self, ReportFormat, ReportKind, ReportOptions};
use lvmkit::source::{Source, split_devices};

/// Direct on-disk LVM inspection: reads LVM2 labels and metadata from block devices and image
/// files without lvm2.
#[derive(Parser)]
#[command(name = "lvmkit", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone, Default)]
struct DeviceArgs {
    /// Only scan these devices or image files (comma-separated or repeated), like lvm2's
    /// --devices. Without it every block device in /proc/partitions is scanned.
    #[arg(long = "devices", value_name = "PATH[,PATH…]")]
    devices: Vec<String>,
    /// Also look for PVs on LVs (lvm2's devices/scan_lvs=1). Other device-mapper devices
    /// (multipath maps, crypt devices) are always scanned, and components (multipath paths,
    /// md members, devices with an md superblock) never.
    #[arg(long)]
    scan_lvs: bool,
}

/// How device-mapper work is carried out (activate, refresh, deactivate).
#[derive(Args, Clone, Default)]
struct ApplyArgs {
    /// Threads for independent devices' ioctls (a fresh activation's loads and resumes, a
    /// deactivation's removes); 1 = one after another. Default: 1 on one CPU, else 4 per CPU
    /// up to 16 (the kernel mostly waits: RCU grace periods, disk registration).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

impl ApplyArgs {
    fn options(&self) -> lvmkit_activation::apply::ApplyOptions {
        let mut o = lvmkit_activation::apply::ApplyOptions::default();
        if let Some(j) = self.jobs {
            o.jobs = usize::from(j);
        }
        o
    }
}

#[derive(Args, Clone)]
struct ReportArgs {
    #[command(flatten)]
    dev: DeviceArgs,
    /// Fields to show (comma-separated; a leading + adds to the default columns).
    #[arg(short = 'o', long = "options", value_name = "FIELDS")]
    options: Vec<String>,
    /// Show hidden LVs too (lvs), or every scanned device (pvs).
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// One row per LV segment.
    #[arg(long)]
    segments: bool,
    /// Size units: h, H, b, B, s, S, k, K, m, M, g, G, t, T, p, P, e, E.
    #[arg(long, value_name = "UNIT")]
    units: Option<String>,
    /// Sizes without a unit suffix.
    #[arg(long)]
    nosuffix: bool,
    /// basic (columns) or json (lvm2's JSON shape).
    #[arg(long = "reportformat", value_enum, default_value = "basic")]
    reportformat: FormatArg,
    /// Leave out the heading line.
    #[arg(long)]
    noheadings: bool,
    /// Column separator instead of aligned columns.
    #[arg(long)]
    separator: Option<String>,
    /// VG, VG/LV or PV names to show.
    names: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Basic,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Report physical volumes (lvm2's pvs).
    Pvs(ReportArgs),
    /// Report volume groups (lvm2's vgs).
    Vgs(ReportArgs),
    /// Report logical volumes (lvm2's lvs).
    Lvs(ReportArgs),
    /// Print a VG's current metadata text.
    Dump {
        #[command(flatten)]
        dev: DeviceArgs,
        /// Re-export in vgcfgbackup's file form instead of the stored raw text.
        #[arg(long)]
        backup: bool,
        /// The VG.
        vg: String,
    },
    /// List every metadata copy in a PV's metadata areas (like pvck --dump metadata_all).
    History {
        /// Print the text of the copy with this seqno instead of the list.
        #[arg(long, value_name = "SEQNO")]
        show: Option<u64>,
        /// Device or image file.
        device: PathBuf,
    },
    /// Report every inconsistency (like pvck + vgck); exit status 0 only when clean.
    Check {
        #[command(flatten)]
        dev: DeviceArgs,
    },
    /// Print the device-mapper devices and tables activating VG[/LV]… would create, in
    /// creation order, without touching the kernel (works on image files, unprivileged).
    Plan {
        #[command(flatten)]
        dev: DeviceArgs,
        #[command(flatten)]
        act: ActivationArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Activate VG[/LV]… through device-mapper (children first; rolled back on error).
    Activate {
        #[command(flatten)]
        dev: DeviceArgs,
        #[command(flatten)]
        act: ActivationArgs,
        #[command(flatten)]
        apply: ApplyArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Reload the active LVs of VG[/LV]… from the current metadata after another node changed
    /// it (resize, move, rename, conversion): new tables are loaded, then swapped in
    /// users-first / children-first; layers no longer in the metadata are removed. Inactive
    /// LVs stay inactive; devices of LVs the metadata no longer has are reported, not removed.
    Refresh {
        #[command(flatten)]
        dev: DeviceArgs,
        #[command(flatten)]
        act: ActivationArgs,
        #[command(flatten)]
        apply: ApplyArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Deactivate VG[/LV]… top-down: a VG by its uuid prefix LVM-<vg uuid>, an LV with its whole
    /// stack (sub-LVs included; devices other LVs still hold are kept).
    Deactivate {
        #[command(flatten)]
        dev: DeviceArgs,
        #[command(flatten)]
        apply: ApplyArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Compare VG[/LV]…'s live device-mapper devices with the plan (missing, table mismatch,
    /// not live or suspended, open counts, error targets); exit status 0 only when every
    /// planned device is live and equal.
    Status {
        #[command(flatten)]
        dev: DeviceArgs,
        #[command(flatten)]
        act: ActivationArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Change VG metadata (lvm2's vgchange): tags, system ID, autoactivation.
    Vgchange {
        #[command(flatten)]
        w: WriteArgs,
        #[command(flatten)]
        tags: TagArgs,
        /// Set the VG's system ID ("" removes it).
        #[arg(long = "systemid", value_name = "ID")]
        systemid: Option<String>,
        /// Enable (y) or disable (n) autoactivation.
        #[arg(long = "setautoactivation", value_name = "y|n")]
        setautoactivation: Option<YesNo>,
        /// VGs (all when none given).
        names: Vec<String>,
    },
    /// Change LV tags (lvm2's lvchange --addtag/--deltag).
    Lvchange {
        #[command(flatten)]
        w: WriteArgs,
        #[command(flatten)]
        tags: TagArgs,
        /// VG/LV.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Mark a VG exported (EXPORTED on VG and PVs, system ID cleared), like lvm2's vgexport;
    /// an LVM1 VG gets lvm2 2.02.177's `PV_EXP` VG name and system ID in its PV structs.
    Vgexport {
        #[command(flatten)]
        w: WriteArgs,
        /// VGs.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Import an exported VG (system ID set to this host's), like lvm2's vgimport; an LVM1 VG
    /// gets its plain VG name back and a `PV_IMP` system ID.
    Vgimport {
        #[command(flatten)]
        w: WriteArgs,
        /// VGs.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Make an older metadata copy from DEVICE's ring buffer the VG's current metadata
    /// (written with seqno = current + 1).
    RestoreMetadata {
        #[command(flatten)]
        w: WriteArgs,
        /// Seqno of the copy to bring back (see `lvmkit history DEVICE`).
        #[arg(long, value_name = "N")]
        seqno: u64,
        /// PV whose metadata areas hold the copy.
        device: PathBuf,
    },
    /// Write a VG's current metadata to a file in lvm2's backup format (lvm2's vgcfgbackup).
    Vgcfgbackup {
        #[command(flatten)]
        w: WriteArgs,
        /// The file (default: the backup directory's file for the VG; %s is the VG name).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: Option<PathBuf>,
        /// The VG.
        vg: String,
    },
    /// Make a backup or archive file's VG the current metadata, written with seqno = current
    /// + 1 (lvm2's vgcfgrestore).
    Vgcfgrestore {
        #[command(flatten)]
        w: WriteArgs,
        /// The backup or archive file.
        #[arg(short = 'f', long = "file", value_name = "FILE", required = true)]
        file: PathBuf,
        /// Also restore a file with another VG id, or with thin or cache pools.
        #[arg(long)]
        force: bool,
        /// The VG.
        vg: String,
    },
}

/// `--addtag` / `--deltag`, as vgchange and lvchange take them.
#[derive(Args, Clone, Default)]
struct TagArgs {
    /// Add a tag (repeatable).
    #[arg(long = "addtag", value_name = "TAG")]
    addtag: Vec<String>,
    /// Remove a tag (repeatable).
    #[arg(long = "deltag", value_name = "TAG")]
    deltag: Vec<String>,
}

/// What may be activated (plan, activate, refresh, status).
#[derive(Args, Clone)]
struct ActivationArgs {
    /// Missing PVs: complete (refuse), degraded (raid may run without a leg), partial
    /// (missing areas become error targets).
    #[arg(long = "activationmode", value_enum, default_value = "complete")]
    mode: ModeArg,
    /// This host's system ID (default: from LVM_SYSTEM_DIR or /etc/lvm lvm.conf
    /// global/system_id_source, like lvm2); a VG owned by another is refused without --foreign.
    #[arg(long = "systemid", value_name = "ID")]
    system_id: Option<String>,
    /// Also a VG owned by another host's system ID.
    #[arg(long)]
    foreign: bool,
    /// Also an exported VG.
    #[arg(long)]
    exported: bool,
    /// Also LVs flagged to be skipped on activation (lvm2's -K).
    #[arg(short = 'K', long = "ignoreactivationskip")]
    ignore_activation_skip: bool,
}

/// This host's system ID as lvm2 derives it (LVM_SYSTEM_DIR or /etc/lvm).
fn configured_system_id() -> Result<Option<String>, String> {
    let dir = std::env::var_os("LVM_SYSTEM_DIR").map_or_else(|| PathBuf::from("/etc/lvm"), PathBuf::from);
    lvmkit::write::host_system_id(&dir).map_err(|e| e.to_string())
}

impl ActivationArgs {
    fn plan_options(&self) -> Result<lvmkit_activation::PlanOptions, String> {
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
enum ModeArg {
    Complete,
    Degraded,
    Partial,
}

#[derive(Args, Clone, Default)]
struct WriteArgs {
    #[command(flatten)]
    dev: DeviceArgs,
    /// This host's system ID (default: from LVM_SYSTEM_DIR or /etc/lvm lvm.conf
    /// global/system_id_source, like lvm2).
    #[arg(long = "host-systemid", value_name = "ID")]
    host_systemid: Option<String>,
    /// Allow writing a VG owned by this other system ID (taking it over).
    #[arg(long = "takeover", value_name = "OLD_ID")]
    takeover: Option<String>,
    /// Where the previous metadata is archived before each change (default $LVMKIT_ARCHIVE_DIR
    /// or /etc/lvm/archive).
    #[arg(long = "archive-dir", value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// Where the new metadata is backed up after each change (default $LVMKIT_BACKUP_DIR or
    /// /etc/lvm/backup).
    #[arg(long = "backup-dir", value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// Directory of lvm2's per-VG lock files (default $LVMKIT_LOCK_DIR or /run/lock/lvm).
    #[arg(long = "lock-dir", value_name = "DIR")]
    lock_dir: Option<PathBuf>,
    /// Give up when another process holds the VG lock this long (0: do not wait; default: wait).
    #[arg(long = "lock-timeout", value_name = "SECONDS")]
    lock_timeout: Option<f64>,
}

impl WriteArgs {
    fn dir(opt: &Option<PathBuf>, env: &str, default: &str) -> PathBuf {
        opt.clone()
            .or_else(|| std::env::var_os(env).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default))
    }
    fn backup_dir(&self) -> PathBuf {
        Self::dir(&self.backup_dir, "LVMKIT_BACKUP_DIR", lvmkit_metadata::write::backup::DEFAULT_BACKUP_DIR)
    }
    fn lock_dir(&self) -> PathBuf {
        Self::dir(&self.lock_dir, "LVMKIT_LOCK_DIR", lvmkit_metadata::write::lock::DEFAULT_LOCK_DIR)
    }
    fn lock_wait(&self) -> Result<lvmkit_metadata::write::lock::LockWait, String> {
        use lvmkit_metadata::write::lock::LockWait;
        match self.lock_timeout {
            None => Ok(LockWait::Forever),
            Some(t) if t.is_finite() && t >= 0.0 => Ok(LockWait::For(std::time::Duration::from_secs_f64(t))),
            Some(t) => Err(format!("--lock-timeout {t}: expected a number of seconds >= 0")),
        }
    }
    fn backups(&self, ctx: &lvmkit_metadata::write::ops::Context) -> lvmkit_metadata::write::backup::Backups {
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
fn file_info(ctx: &lvmkit_metadata::write::ops::Context) -> lvmkit_metadata::write::backup::FileInfo {
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
enum YesNo {
    Y,
    N,
}

fn write_context(w: &WriteArgs) -> Result<lvmkit_metadata::write::ops::Context, String> {
    let host = match &w.host_systemid {
        Some(h) => Some(h.clone()).filter(|h| !h.is_empty()),
        None => configured_system_id()?,
    };
    let cmdline: Vec<String> = std::env::args().collect();
    Ok(lvmkit::write::context(host, w.takeover.clone(), &cmdline.join(" ")))
}

/// Which VGs a write touches, for locking before the scan.
enum Touches {
    /// Named on the command line.
    Named(Vec<String>),
    /// Every VG found.
    All,
    /// The VGs of a device.
    DeviceVgs(PathBuf),
}

fn run_write(
    w: &WriteArgs,
    extra: &[PathBuf],
    touches: Touches,
    f: impl FnOnce(
        &Source,
        &lvmkit_metadata::write::ops::Context,
        &lvmkit_metadata::write::backup::Backups,
    ) -> Result<String, lvmkit_metadata::write::WriteError>,
) -> Result<(String, ExitCode), String> {
    let ctx = write_context(w)?;
    let backups = w.backups(&ctx);
    let wait = w.lock_wait()?;
    let mut devices = split_devices(&w.dev.devices);
    for e in extra {
        if !devices.is_empty() && !devices.contains(e) {
            devices.push(e.clone());
        }
    }
    let load = || Source::load(&devices, w.dev.scan_lvs);
    let (known, dev) = match &touches {
        Touches::Named(n) => (Some(n.as_slice()), None),
        Touches::All => (None, None),
        Touches::DeviceVgs(d) => (None, Some(d.as_path())),
    };
    let vgs_of = |src: &Source| match dev {
        Some(d) => lvmkit::write::vgs_of_device(src, d),
        None => src.assembly.vgs.iter().map(|v| v.name().to_string()).collect(),
    };
    lvmkit::write::locked(&w.lock_dir(), wait, known, load, vgs_of, |src| f(src, &ctx, &backups))
        .map(|s| (s, ExitCode::SUCCESS))
        .map_err(|e| e.to_string())
}

fn touches(names: &[String]) -> Touches {
    if names.is_empty() { Touches::All } else { Touches::Named(names.to_vec()) }
}

/// The process is about to exit: leave the scanned model to the OS instead of freeing tens of
/// thousands of allocations one by one (a tenth of a 1000-LV report).
fn exit_soon(src: Source) {
    std::mem::forget(src);
}

fn load(d: &DeviceArgs) -> Source {
    Source::load(&split_devices(&d.devices), d.scan_lvs)
}

/// For commands about named VGs (activation): without `--devices`, the devices the hints file
/// says hold them, when that still holds (see `lvmkit::hints`); `LVMKIT_HINTS` names another
/// hints file, or `none` for always a full scan.
fn load_vgs(d: &DeviceArgs, names: &[String]) -> Source {
    let hints = std::env::var("LVMKIT_HINTS").unwrap_or_else(|_| lvmkit::hints::DEFAULT_PATH.to_string());
    if !d.devices.is_empty() || hints == "none" {
        return load(d);
    }
    let mut vgs: Vec<String> = Vec::new();
    for n in names {
        let vg = n.trim_start_matches("/dev/").split('/').next().unwrap_or_default().to_string();
        if !vgs.contains(&vg) {
            vgs.push(vg);
        }
    }
    lvmkit::hints::load(std::path::Path::new(&hints), &vgs, d.scan_lvs).0
}

fn run(cli: Cli) -> Result<(String, ExitCode), String> {
    match cli.cmd {
        Cmd::Pvs(a) => run_report(ReportKind::Pv, a),
        Cmd::Vgs(a) => run_report(ReportKind::Vg, a),
        Cmd::Lvs(a) => run_report(ReportKind::Lv, a),
        Cmd::Dump { dev, backup, vg } => {
            let src = load(&dev);
            let form = if backup { DumpForm::Backup } else { DumpForm::Raw };
            inspect::dump(&src, &vg, form).map(|s| (s, ExitCode::SUCCESS)).map_err(|e| e.to_string())
        }
        Cmd::History { show: None, device } => inspect::history(&device)
            .map(|h| (inspect::format_history(&h), ExitCode::SUCCESS))
            .map_err(|e| e.to_string()),
        Cmd::History { show: Some(seqno), device } => {
            inspect::history_text(&device, seqno).map(|s| (s, ExitCode::SUCCESS)).map_err(|e| e.to_string())
        }
        Cmd::Plan { dev, act, names } => {
            let opts = act.plan_options()?;
            lvmkit::activate::plan(&load(&dev), &names, &opts)
                .map(|s| (s, ExitCode::SUCCESS))
                .map_err(|e| e.to_string())
        }
        Cmd::Activate { dev, act, apply, names } => {
            let opts = act.plan_options()?;
            match lvmkit::activate::activate(&load_vgs(&dev, &names), &names, &opts, &apply.options()) {
                Ok(s) => Ok((s, ExitCode::SUCCESS)),
                // What came up is printed, the refusals go to stderr, and the exit status is
                // lvm2's for a command that failed in part (ECMD_FAILED).
                Err(e) => match e.partial_output() {
                    Some(out) => {
                        eprintln!("lvmkit: {e}");
                        Ok((out.to_string(), ExitCode::from(5)))
                    }
                    None => Err(e.to_string()),
                },
            }
        }
        Cmd::Refresh { dev, act, apply, names } => {
            let opts = act.plan_options()?;
            lvmkit::activate::refresh(&load_vgs(&dev, &names), &names, &opts, &apply.options())
                .map(|s| (s, ExitCode::SUCCESS))
                .map_err(|e| e.to_string())
        }
        Cmd::Deactivate { dev, apply, names } => {
            let opts = apply.options();
            // Whole VGs straight from the live devices when they say which VG is meant; else
            // from the metadata.
            match lvmkit::activate::deactivate_live(&names, &opts) {
                Ok(Some(s)) => Ok(s),
                Ok(None) => lvmkit::activate::deactivate(&load_vgs(&dev, &names), &names, &opts),
                Err(e) => Err(e),
            }
            .map(|s| (s, ExitCode::SUCCESS))
            .map_err(|e| e.to_string())
        }
        Cmd::Status { dev, act, names } => {
            let opts = act.plan_options()?;
            lvmkit::activate::status(&load_vgs(&dev, &names), &names, &opts)
                .map(|(s, ok)| (s, if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }))
                .map_err(|e| e.to_string())
        }
        Cmd::Vgchange { w, tags: TagArgs { addtag, deltag }, systemid, setautoactivation, names } => {
            use lvmkit_metadata::write::ops::Change;
            let mut changes: Vec<Change> = addtag.into_iter().map(Change::AddVgTag).collect();
            changes.extend(deltag.into_iter().map(Change::DelVgTag));
            if let Some(id) = systemid {
                changes.push(Change::SetSystemId(Some(id)));
            }
            if let Some(a) = setautoactivation {
                changes.push(Change::SetAutoactivation(matches!(a, YesNo::Y)));
            }
            if changes.is_empty() {
                return Err(
                    "vgchange: nothing to change (--addtag, --deltag, --systemid, --setautoactivation)"
                        .into(),
                );
            }
            run_write(&w, &[], touches(&names), |src, ctx, b| {
                lvmkit::write::change_vgs_with(src, &names, &changes, ctx, b)
            })
        }
        Cmd::Lvchange { w, tags: TagArgs { addtag, deltag }, names } => {
            use lvmkit_metadata::write::ops::Change;
            let vgs: Vec<String> =
                names.iter().map(|n| n.split('/').next().unwrap_or(n).to_string()).collect();
            run_write(&w, &[], Touches::Named(vgs), |src, ctx, b| {
                let mut out = String::new();
                for n in &names {
                    let Some((vg, lv)) = n.split_once('/') else {
                        return Err(lvmkit_metadata::write::WriteError::Refused {
                            vg: n.clone(),
                            why: "expected VG/LV".into(),
                        });
                    };
                    let mut changes: Vec<Change> = addtag
                        .iter()
                        .map(|t| Change::AddLvTag { lv: lv.to_string(), tag: t.clone() })
                        .collect();
                    changes.extend(
                        deltag.iter().map(|t| Change::DelLvTag { lv: lv.to_string(), tag: t.clone() }),
                    );
                    out.push_str(&lvmkit::write::change_vgs_with(src, &[vg.to_string()], &changes, ctx, b)?);
                }
                Ok(out)
            })
        }
        Cmd::Vgexport { w, names } => run_write(&w, &[], touches(&names), |src, ctx, b| {
            lvmkit::write::export_import(src, &names, true, ctx, b)
        }),
        Cmd::Vgimport { w, names } => run_write(&w, &[], touches(&names), |src, ctx, b| {
            lvmkit::write::export_import(src, &names, false, ctx, b)
        }),
        Cmd::RestoreMetadata { w, seqno, device } => {
            run_write(&w, std::slice::from_ref(&device), Touches::DeviceVgs(device.clone()), |src, ctx, b| {
                lvmkit::write::restore_metadata_with(src, &device, seqno, ctx, b)
            })
        }
        Cmd::Vgcfgbackup { w, file, vg } => {
            let dir = w.backup_dir();
            run_write(&w, &[], Touches::Named(vec![vg.clone()]), |src, ctx, _| {
                lvmkit::write::vgcfgbackup(src, &vg, file.as_deref(), &dir, &file_info(ctx))
            })
        }
        Cmd::Vgcfgrestore { w, file, force, vg } => {
            run_write(&w, &[], Touches::Named(vec![vg.clone()]), |src, ctx, b| {
                lvmkit::write::vgcfgrestore(src, &vg, &file, force, ctx, b)
            })
        }
        Cmd::Check { dev } => {
            let src = load(&dev);
            let (lines, clean) = inspect::check(&src);
            let mut s = String::new();
            for l in lines {
                s.push_str(&l);
                s.push('\n');
            }
            let summary = format!(
                "{} devices scanned, {} PVs, {} VGs: {}\n",
                src.scan.devices_scanned,
                src.scan.pvs.len(),
                src.assembly.vgs.len(),
                if clean { "clean" } else { "problems found" }
            );
            s.push_str(&summary);
            Ok((s, if clean { ExitCode::SUCCESS } else { ExitCode::from(1) }))
        }
    }
}

fn run_report(kind: ReportKind, a: ReportArgs) -> Result<(String, ExitCode), String> {
    let src = load(&a.dev);
    let opts = ReportOptions {
        fields: a.options,
        all: a.all,
        segments: a.segments,
        units: a.units,
        nosuffix: a.nosuffix,
        format: match a.reportformat {
            FormatArg::Basic => ReportFormat::Basic,
            FormatArg::Json => ReportFormat::Json,
        },
        noheadings: a.noheadings,
        separator: a.separator,
        names: a.names,
    };
    // Device and metadata problems go to stderr; the report still shows what could be read.
    for e in &src.scan.errors {
        eprintln!("  WARNING: {e}");
    }
    for f in &src.assembly.findings {
        eprintln!("  WARNING: {f}");
    }
    let out = report::report(kind, &opts, &src).map(|s| (s, ExitCode::SUCCESS)).map_err(|e| e.to_string());
    exit_soon(src);
    out
}

fn main() -> ExitCode {
    lvmkit::startup::prefault();
    let cli = Cli::parse();
    match run(cli) {
        Ok((out, code)) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`lvmkit lvs | head`) is not an error.
            if let Err(e) = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("lvmkit: {e}");
                    return ExitCode::from(1);
                }
            }
            code
        }
        Err(msg) => {
            eprintln!("lvmkit: {msg}");
            ExitCode::from(1)
        }
    }
}
