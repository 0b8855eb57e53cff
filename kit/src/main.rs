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
    /// Also scan device-mapper devices (normally skipped, like LVs lvm2 itself created).
    #[arg(long)]
    scan_dm: bool,
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
        /// Missing PVs: complete (refuse), degraded (raid may run without a leg), partial
        /// (missing areas become error targets).
        #[arg(long = "activationmode", value_enum, default_value = "complete")]
        mode: ModeArg,
        /// This host's system ID; a VG owned by another is refused without --foreign.
        #[arg(long = "systemid")]
        system_id: Option<String>,
        /// Plan a VG owned by another host's system ID.
        #[arg(long)]
        foreign: bool,
        /// Plan an exported VG.
        #[arg(long)]
        exported: bool,
        /// Also plan LVs flagged to be skipped on activation (lvm2's -K).
        #[arg(short = 'K', long = "ignoreactivationskip")]
        ignore_activation_skip: bool,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Activate VG[/LV]… through device-mapper (children first; rolled back on error).
    Activate {
        #[command(flatten)]
        dev: DeviceArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Deactivate VG[/LV]… (top-down, every device whose uuid starts with LVM-<vg uuid>).
    Deactivate {
        #[command(flatten)]
        dev: DeviceArgs,
        /// VG or VG/LV names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Complete,
    Degraded,
    Partial,
}

/// The process is about to exit: leave the scanned model to the OS instead of freeing tens of
/// thousands of allocations one by one (a tenth of a 1000-LV report).
fn exit_soon(src: Source) {
    std::mem::forget(src);
}

fn load(d: &DeviceArgs) -> Source {
    Source::load(&split_devices(&d.devices), d.scan_dm)
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
        Cmd::Plan { dev, mode, system_id, foreign, exported, ignore_activation_skip, names } => {
            let src = load(&dev);
            let opts = lvmkit_activation::PlanOptions {
                mode: match mode {
                    ModeArg::Complete => lvmkit_activation::ActivationMode::Complete,
                    ModeArg::Degraded => lvmkit_activation::ActivationMode::Degraded,
                    ModeArg::Partial => lvmkit_activation::ActivationMode::Partial,
                },
                host_system_id: system_id,
                allow_foreign: foreign,
                allow_exported: exported,
                ignore_activation_skip,
                ..Default::default()
            };
            lvmkit::activate::plan(&src, &names, &opts)
                .map(|s| (s, ExitCode::SUCCESS))
                .map_err(|e| e.to_string())
        }
        Cmd::Activate { dev, names } => {
            lvmkit::activate::activate(&load(&dev), &names, &Default::default(), &Default::default())
                .map(|s| (s, ExitCode::SUCCESS))
                .map_err(|e| e.to_string())
        }
        Cmd::Deactivate { dev, names } => {
            lvmkit::activate::deactivate(&load(&dev), &names, &Default::default())
                .map(|s| (s, ExitCode::SUCCESS))
                .map_err(|e| e.to_string())
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
