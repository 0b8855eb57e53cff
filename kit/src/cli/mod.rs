//! `lvmkit`'s command line: parse arguments, call the library, print its typed outcome, map
//! it to an exit status. Nothing here decides anything the library could.
//!
//! Exit status: 0 success; 1 the command ran but found problems (`check`, `status`) or what
//! was asked for does not exist; 2 bad usage (clap's own); 5 an activation that left some LVs
//! inactive (lvm2's `ECMD_FAILED`).

mod activate;
mod args;
mod inspect;
mod write;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use lvmkit::source::Source;
use lvmkit::target::Target;

use args::{ActivationArgs, ApplyArgs, DeviceArgs, ReportArgs, TagArgs, WriteArgs, YesNo};

/// Direct on-disk LVM inspection: reads LVM2 labels and metadata from block devices and image
/// files without lvm2.
#[derive(Parser)]
#[command(name = "lvmkit", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
// Each subcommand's arguments are built only when it is the one invoked (clap's `defer`): a
// command pays for its own options, not for every command's.
#[command(defer = true)]
pub(crate) enum Cmd {
    /// The recovery kit: lvmvg/lvmlv resources (restore, remove, quickCheck, recover, …);
    /// `lvmkit kit --help`.
    #[command(disable_help_flag = true)]
    Kit(crate::cli_kit::KitCmd),
    /// The Pacemaker resource agent ocf:lvmkit:lvmvg: `lvmkit ocf install`, `lvmkit ocf agent
    /// ACTION` (what the installed `lvmvg` runs).
    #[command(subcommand)]
    Ocf(crate::cli_ocf::OcfCmd),
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
        /// The other devices to judge the copies against (which VG the PV is in, at which
        /// seqno; an outdated PV shows only beside the PVs of its VG). Without it: the device
        /// alone.
        #[command(flatten)]
        dev: DeviceArgs,
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

/// What a command prints on stdout and the status it exits with; `Err` is a message for
/// stderr (`lvmkit: MESSAGE`, status 1).
type Outcome = Result<(String, ExitCode), String>;

/// `VG[/LV]` arguments.
fn targets(names: &[String]) -> Result<Vec<Target>, String> {
    Target::parse_all(names).map_err(|e| e.to_string())
}

/// The process is about to exit: leave the scanned model to the OS instead of freeing tens of
/// thousands of allocations one by one (a tenth of a 1000-LV report).
fn exit_soon(src: Source) {
    std::mem::forget(src);
}

fn dispatch(cmd: Cmd) -> Outcome {
    use lvmkit::report::ReportKind;
    match cmd {
        Cmd::Kit(k) => Ok(crate::cli_kit::run(k)),
        Cmd::Ocf(o) => Ok((String::new(), crate::cli_ocf::run(o))),
        Cmd::Pvs(a) => inspect::report(ReportKind::Pv, a),
        Cmd::Vgs(a) => inspect::report(ReportKind::Vg, a),
        Cmd::Lvs(a) => inspect::report(ReportKind::Lv, a),
        Cmd::Dump { dev, backup, vg } => inspect::dump(dev, backup, vg),
        Cmd::History { dev, show, device } => inspect::history(dev, show, device),
        Cmd::Check { dev } => inspect::check(dev),
        Cmd::Plan { dev, act, names } => activate::plan(dev, act, names),
        Cmd::Activate { dev, act, apply, names } => activate::activate(dev, act, apply, names),
        Cmd::Refresh { dev, act, apply, names } => activate::refresh(dev, act, apply, names),
        Cmd::Deactivate { dev, apply, names } => activate::deactivate(dev, apply, names),
        Cmd::Status { dev, act, names } => activate::status(dev, act, names),
        Cmd::Vgchange { w, tags, systemid, setautoactivation, names } => {
            write::vgchange(w, tags, systemid, setautoactivation, names)
        }
        Cmd::Lvchange { w, tags, names } => write::lvchange(w, tags, names),
        Cmd::Vgexport { w, names } => write::export_import(w, names, true),
        Cmd::Vgimport { w, names } => write::export_import(w, names, false),
        Cmd::RestoreMetadata { w, seqno, device } => write::restore_metadata(w, seqno, device),
        Cmd::Vgcfgbackup { w, file, vg } => write::vgcfgbackup(w, file, vg),
        Cmd::Vgcfgrestore { w, file, force, vg } => write::vgcfgrestore(w, file, force, vg),
    }
}

/// Parse the command line, run the command, print, exit.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.cmd) {
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
