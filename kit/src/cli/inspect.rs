//! The reading commands (pvs, vgs, lvs, dump, history, check).

use std::path::PathBuf;
use std::process::ExitCode;

use lvmkit::inspect::{self, DumpForm};
use lvmkit::report::{self, ReportFormat, ReportKind, ReportOptions};

use super::args::{DeviceArgs, FormatArg, ReportArgs, configured_system_id, load};
use super::{Outcome, exit_soon};

/// `lvmkit pvs|vgs|lvs`: device and metadata problems go to stderr; the report still shows
/// what could be read.
pub(super) fn report(kind: ReportKind, a: ReportArgs) -> Outcome {
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
        select: a.select,
        sort: a.sort,
        rows: a.rows,
        nameprefixes: a.nameprefixes,
        unquoted: a.unquoted,
        aligned: a.aligned,
        binary: a.binary,
        history: a.history,
        foreign: a.foreign,
        // This host's system ID decides which VGs are foreign (LVM_SYSTEM_DIR, like lvm2).
        system_id: if a.foreign { None } else { configured_system_id()? },
        now: None,
    };
    for e in &src.scan.errors {
        eprintln!("  WARNING: {e}");
    }
    for f in &src.assembly.findings {
        eprintln!("  WARNING: {f}");
    }
    // Not one device could be read: the report is empty, and the exit status says so.
    let code = if src.scan.nothing_readable() { ExitCode::from(5) } else { ExitCode::SUCCESS };
    // Active LVs show the kernel's values, as in lvm2; without device-mapper (no control node)
    // or when it cannot be read, lvm2's no-kernel values. A report of no LV field does not ask.
    let kernel = || {
        let dm = lvmkit_dm::control::Dm::open().ok()?;
        lvmkit_activation::live::Kernel::read(&dm, &lvmkit_activation::live::sysfs_read_ahead)
            .map_err(|e| eprintln!("  WARNING: device-mapper state not read: {e}"))
            .ok()
    };
    let out = report::report_reading_kernel(kind, &opts, &src, &kernel)
        .map(|s| (s, code))
        .map_err(|e| e.to_string());
    exit_soon(src);
    out
}

/// `lvmkit dump`.
pub(super) fn dump(dev: DeviceArgs, backup: bool, vg: String) -> Outcome {
    let src = load(&dev);
    let form = if backup { DumpForm::Backup } else { DumpForm::Raw };
    inspect::dump(&src, &vg, form).map(|s| (s, ExitCode::SUCCESS)).map_err(|e| e.to_string())
}

/// `lvmkit history [--devices …] [--show SEQNO]`: the copies judged against the device and
/// the `--devices` given (which VG the PV is in, at which seqno).
pub(super) fn history(dev: DeviceArgs, show: Option<u64>, device: PathBuf) -> Outcome {
    match show {
        // An unusable mda header is shown, and fails the command.
        None => {
            // The device itself always belongs to the context.
            let mut dev = dev;
            dev.devices.push(device.display().to_string());
            inspect::history(&device, &load(&dev))
                .map(|h| {
                    let bad = h.iter().any(|(_, m)| m.iter().any(|x| x.header.is_err()));
                    (inspect::format_history(&h), if bad { ExitCode::from(5) } else { ExitCode::SUCCESS })
                })
                .map_err(|e| e.to_string())
        }
        Some(seqno) => {
            inspect::history_text(&device, seqno).map(|s| (s, ExitCode::SUCCESS)).map_err(|e| e.to_string())
        }
    }
}

/// `lvmkit check`: 0 only when clean.
pub(super) fn check(dev: DeviceArgs) -> Outcome {
    let c = inspect::check(&load(&dev));
    Ok((c.to_string(), if c.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) }))
}
