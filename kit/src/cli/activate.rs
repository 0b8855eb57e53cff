//! The device-mapper commands (plan, activate, refresh, deactivate, status): plan from the
//! scanned metadata, call `lvmkit::activate`, print its outcome.

use std::process::ExitCode;

use lvmkit::activate;

use super::args::{ActivationArgs, ApplyArgs, DeviceArgs, load, load_vgs};
use super::{Outcome, targets};

/// Warnings (udev did not confirm in time, nodes made directly) to stderr, lvm2's way.
fn warn<'w>(lines: impl IntoIterator<Item = &'w String>) {
    for w in lines {
        eprintln!("  WARNING: {w}");
    }
}

/// `lvmkit plan`.
pub(super) fn plan(dev: DeviceArgs, act: ActivationArgs, names: Vec<String>) -> Outcome {
    let opts = act.plan_options()?;
    let names = targets(&names)?;
    let plans = activate::plan(&load(&dev), &names, &opts).map_err(|e| e.to_string())?;
    Ok((plans.to_string(), ExitCode::SUCCESS))
}

/// `lvmkit activate`: what came up on stdout; LVs refused for missing PVs on stderr, with
/// lvm2's status for a command that failed in part (5, `ECMD_FAILED`).
pub(super) fn activate(
    dev: DeviceArgs,
    act: ActivationArgs,
    apply: ApplyArgs,
    names: Vec<String>,
) -> Outcome {
    let opts = act.plan_options()?;
    let names = targets(&names)?;
    let done = activate::activate(&load_vgs(&dev, &names), &names, &opts, &apply.options())
        .map_err(|e| e.to_string())?;
    warn(done.warnings());
    if done.complete() {
        return Ok((done.to_string(), ExitCode::SUCCESS));
    }
    let refused: Vec<String> = done.refused.iter().map(ToString::to_string).collect();
    eprintln!("lvmkit: {}", refused.join("\n"));
    Ok((done.to_string(), ExitCode::from(5)))
}

/// `lvmkit refresh`.
pub(super) fn refresh(dev: DeviceArgs, act: ActivationArgs, apply: ApplyArgs, names: Vec<String>) -> Outcome {
    let opts = act.plan_options()?;
    let names = targets(&names)?;
    let done = activate::refresh(&load_vgs(&dev, &names), &names, &opts, &apply.options())
        .map_err(|e| e.to_string())?;
    warn(done.warnings());
    Ok((done.to_string(), ExitCode::SUCCESS))
}

/// `lvmkit deactivate`: whole VGs straight from the live devices when they say which VG is
/// meant; else from the metadata.
pub(super) fn deactivate(dev: DeviceArgs, apply: ApplyArgs, names: Vec<String>) -> Outcome {
    let names = targets(&names)?;
    let opts = apply.options();
    let done = match activate::deactivate_live(&names, &opts) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => activate::deactivate(&load_vgs(&dev, &names), &names, &opts),
        Err(e) => Err(e),
    }
    .map_err(|e| e.to_string())?;
    warn(done.warnings());
    Ok((done.to_string(), ExitCode::SUCCESS))
}

/// `lvmkit status`: 0 only when every planned device is live and equal.
pub(super) fn status(dev: DeviceArgs, act: ActivationArgs, names: Vec<String>) -> Outcome {
    let opts = act.plan_options()?;
    let names = targets(&names)?;
    let st = activate::status(&load_vgs(&dev, &names), &names, &opts).map_err(|e| e.to_string())?;
    Ok((st.to_string(), if st.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }))
}
