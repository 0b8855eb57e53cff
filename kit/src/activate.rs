//! Activation commands: `plan` (the device-mapper devices, tables, names and UUIDs an
//! activation would create, computed from the on-disk metadata without touching the kernel),
//! `activate` (apply that plan through dm ioctls) and `deactivate` (remove a VG's or an LV's
//! devices by uuid prefix, whoever activated them).

use lvmkit_activation::apply::{self, ApplyError, ApplyOptions, Outcome};
use lvmkit_activation::{Plan, PlanOptions, names, plan_assembled};
use lvmkit_dm::control::{self, Dm, DmControl};
use lvmkit_dm::{DevNum, DevRef};

use crate::source::Source;

/// Errors of the activation commands.
#[derive(Debug, thiserror::Error)]
pub enum ActivateError {
    /// The VG is not on any scanned device.
    #[error("volume group \"{0}\" not found")]
    VgNotFound(String),
    /// Planning refused (missing PV, foreign or exported VG, unsupported segment type, …).
    #[error("{vg}: {source}")]
    Plan {
        /// VG name.
        vg: String,
        /// Why (boxed: the activation error carries whole missing-PV details).
        #[source]
        source: Box<lvmkit_activation::Error>,
    },
    /// A PV of the VG is an image file or otherwise not a block device: nothing to map onto.
    #[error("{vg}: PV {device} is not a block device")]
    NotBlockDevice {
        /// VG name.
        vg: String,
        /// The PV's device.
        device: String,
    },
    /// The VG has no such LV.
    #[error("{vg}: no LV {lv}")]
    NoSuchLv {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// A whole VG with missing PVs: the LVs that do not need them were activated (`activated`,
    /// the usual output lines), these were refused — lvm2's `vgchange -ay` does the same and
    /// exits 5.
    #[error("{}", refused.iter().map(|(vg, lv, why)| format!("{vg}/{lv} not activated: {why}")).collect::<Vec<_>>().join("\n"))]
    SomeRefused {
        /// Output of what was activated.
        activated: String,
        /// (VG, LV, why) per refused LV.
        refused: Vec<(String, String, String)>,
    },
    /// device-mapper cannot be reached.
    #[error("{0}")]
    Control(#[from] Box<control::Error>),
    /// Applying or deactivating failed (what this run created was rolled back).
    #[error("{vg}: {source}")]
    Apply {
        /// VG name.
        vg: String,
        /// Why.
        #[source]
        source: Box<ApplyError>,
    },
}

impl ActivateError {
    /// For [`ActivateError::SomeRefused`]: the output of what was activated (print it, then the
    /// error; lvm2 exits 5 then).
    pub fn partial_output(&self) -> Option<&str> {
        match self {
            ActivateError::SomeRefused { activated, .. } => Some(activated),
            _ => None,
        }
    }
}

/// Plan options that accept everything (missing PVs as error targets, foreign, exported,
/// activation-skip LVs): for knowing which devices a VG or an LV has, never for activating.
fn plan_everything() -> PlanOptions {
    PlanOptions {
        mode: lvmkit_activation::ActivationMode::Partial,
        allow_foreign: true,
        allow_exported: true,
        ignore_activation_skip: true,
        allow_duplicates: true,
        ..Default::default()
    }
}

/// `VG` or `VG/LV` arguments, grouped per VG in first-seen order.
fn by_vg(args: &[String]) -> Vec<(String, Option<Vec<String>>)> {
    let mut out: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for a in args {
        let (vg, lv) = match a.trim_start_matches("/dev/").split_once('/') {
            Some((vg, lv)) => (vg.to_string(), Some(lv.to_string())),
            None => (a.clone(), None),
        };
        match out.iter_mut().find(|(v, _)| *v == vg) {
            Some((_, lvs)) => match (lvs.as_mut(), lv) {
                (Some(l), Some(lv)) => l.push(lv),
                (_, None) => *lvs = None,
                (None, Some(_)) => {}
            },
            None => out.push((vg, lv.map(|l| vec![l]))),
        }
    }
    out
}

fn plan_one(
    src: &Source,
    vg: &str,
    lvs: Option<Vec<String>>,
    base: &PlanOptions,
    block_only: bool,
) -> Result<Plan, ActivateError> {
    let avg = src.assembly.vg(vg).ok_or_else(|| ActivateError::VgNotFound(vg.to_string()))?;
    let opts = PlanOptions { lvs, ..base.clone() };
    let mut not_block = None;
    let pv_ref = |i: usize| {
        let dev = &src.scan.pvs[i].device;
        Some(match dev.dev_t() {
            Some(rdev) => DevRef::Num(DevNum::from_dev_t(rdev)),
            None => {
                not_block.get_or_insert_with(|| dev.name().to_string());
                DevRef::Pending(dev.name().to_string())
            }
        })
    };
    let p = plan_assembled(avg, pv_ref, &opts)
        .map_err(|source| ActivateError::Plan { vg: vg.to_string(), source: Box::new(source) })?;
    if let (true, Some(device)) = (block_only, not_block) {
        return Err(ActivateError::NotBlockDevice { vg: vg.to_string(), device });
    }
    Ok(p)
}

/// Activates each named `VG[/LV]` through device-mapper; one line per device
/// (`created|reloaded|unchanged NAME MAJOR:MINOR`). Every table is planned before the first
/// ioctl; a failure rolls back what this call created for that VG.
pub fn activate(
    src: &Source,
    args: &[String],
    base: &PlanOptions,
    opts: &ApplyOptions,
) -> Result<String, ActivateError> {
    let mut plans = Vec::new();
    let mut refused = Vec::new();
    for (vg, lvs) in by_vg(args) {
        match plan_one(src, &vg, lvs.clone(), base, true) {
            Ok(p) => plans.push(p),
            // A whole VG with LVs on missing PVs: as lvm2, the others still come up.
            Err(ActivateError::Plan { source, .. }) if lvs.is_none() && needs_missing_pv(&source) => {
                let (p, r) = plan_available(src, &vg, base)?;
                plans.extend(p);
                refused.extend(r);
            }
            Err(e) => return Err(e),
        }
    }
    let dm = Dm::open().map_err(Box::new)?;
    let mut out = String::new();
    for p in &plans {
        let done = apply::activate(&dm, p, opts)
            .map_err(|source| ActivateError::Apply { vg: p.vg.clone(), source: Box::new(source) })?;
        report_activated(&mut out, &done);
    }
    if refused.is_empty() { Ok(out) } else { Err(ActivateError::SomeRefused { activated: out, refused }) }
}

/// The refusal is about one LV's missing pieces, not about the VG as a whole.
fn needs_missing_pv(e: &lvmkit_activation::Error) -> bool {
    matches!(e, lvmkit_activation::Error::MissingPv(_) | lvmkit_activation::Error::IncompletePool(_))
}

/// A VG some of whose LVs need missing PVs: the plan of the LVs that do not (`None` if there
/// are none), and (VG, LV, why) for those that do.
#[allow(clippy::type_complexity)]
fn plan_available(
    src: &Source,
    vg: &str,
    base: &PlanOptions,
) -> Result<(Option<Plan>, Vec<(String, String, String)>), ActivateError> {
    let avg = src.assembly.vg(vg).ok_or_else(|| ActivateError::VgNotFound(vg.to_string()))?;
    let mut good = Vec::new();
    let mut refused = Vec::new();
    for lv in avg.metadata.vg.lvs.iter().filter(|l| l.is_visible()) {
        match plan_one(src, vg, Some(vec![lv.name.clone()]), base, true) {
            Ok(_) => good.push(lv.name.clone()),
            Err(ActivateError::Plan { source, .. }) if needs_missing_pv(&source) => {
                refused.push((vg.to_string(), lv.name.clone(), source.to_string()))
            }
            Err(e) => return Err(e),
        }
    }
    let plan = if good.is_empty() { None } else { Some(plan_one(src, vg, Some(good), base, true)?) };
    Ok((plan, refused))
}

/// `renamed OLD NEW` lines, then `created|reloaded|unchanged|resumed NAME MAJOR:MINOR` per
/// device; udev warnings go to stderr.
fn report_activated(out: &mut String, done: &apply::Activated) {
    for (old, new) in &done.renamed {
        out.push_str(&format!("renamed {old} {new}\n"));
    }
    for (name, dev, outcome) in &done.devices {
        out.push_str(&format!("{} {name} {dev}\n", outcome_word(*outcome)));
    }
    warn(&done.warnings);
}

/// Warnings (udev did not confirm in time, nodes made directly) to stderr, lvm2's way.
fn warn(lines: &[String]) {
    for w in lines {
        eprintln!("  WARNING: {w}");
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Reloaded => "reloaded",
        Outcome::Unchanged => "unchanged",
        Outcome::Resumed => "resumed",
    }
}

/// Reloads the active LVs of each named `VG[/LV]` from the current metadata (after another
/// node resized, moved, renamed or converted them): `created|reloaded|unchanged|resumed NAME
/// MAJOR:MINOR` per device of the active LVs' stacks, `removed NAME` for layers the new
/// metadata no longer has, `# left NAME (open N): not in metadata` for live devices of LVs
/// the metadata no longer knows (never removed by a refresh: they may be mounted). LVs that
/// are not active stay so (`# not active: VG/LV`).
pub fn refresh(
    src: &Source,
    args: &[String],
    base: &PlanOptions,
    opts: &ApplyOptions,
) -> Result<String, ActivateError> {
    let dm = Dm::open().map_err(Box::new)?;
    let live: Vec<String> = dm.list().map_err(Box::new)?.into_iter().filter_map(|d| d.uuid).collect();
    let mut out = String::new();
    for (vg, lvs) in by_vg(args) {
        let avg = src.assembly.vg(&vg).ok_or_else(|| ActivateError::VgNotFound(vg.clone()))?;
        let model = &avg.metadata.vg;
        let prefix = apply::vg_uuid_prefix(&model.id);
        let lv_active = |id: &str| {
            let own = format!("{prefix}{id}");
            live.iter().any(|u| u.starts_with(&own))
        };
        let candidates: Vec<String> = match &lvs {
            Some(l) => {
                for lv in l {
                    model.lv(lv).ok_or_else(|| ActivateError::NoSuchLv { vg: vg.clone(), lv: lv.clone() })?;
                }
                l.clone()
            }
            None => model.lvs.iter().filter(|l| l.is_visible()).map(|l| l.name.clone()).collect(),
        };
        let (active, inactive): (Vec<String>, Vec<String>) =
            candidates.into_iter().partition(|lv| model.lv(lv).is_some_and(|l| lv_active(l.id.as_str())));
        for lv in &inactive {
            out.push_str(&format!("# not active: {vg}/{lv}\n"));
        }
        if active.is_empty() {
            continue;
        }
        // The refreshed LVs may carry the activation-skip flag: they are active, so refresh them.
        let base = PlanOptions { ignore_activation_skip: true, ..base.clone() };
        let p = plan_one(src, &vg, Some(active), &base, true)?;
        // Every device the current metadata has, to tell layers gone from LVs gone.
        let any = plan_everything();
        let known: Vec<String> = match plan_one(src, &vg, None, &any, false) {
            Ok(all) => all.devices.iter().map(|d| d.uuid.to_string()).collect(),
            Err(_) => Vec::new(),
        };
        let lv_ids: Vec<String> = model.lvs.iter().map(|l| format!("{prefix}{}", l.id.as_str())).collect();
        let is_known = |u: &str| {
            if known.is_empty() {
                lv_ids.iter().any(|id| u.starts_with(id.as_str()))
            } else {
                known.iter().any(|k| k == u)
            }
        };
        let done = apply::refresh(&dm, &p, is_known, &prefix, opts)
            .map_err(|source| ActivateError::Apply { vg: vg.clone(), source: Box::new(source) })?;
        report_activated(&mut out, &done.activated);
        for name in done.removed {
            out.push_str(&format!("removed {name}\n"));
        }
        for (name, open) in done.left {
            out.push_str(&format!("# left {name} (open {open}): not in metadata\n"));
        }
    }
    Ok(out)
}

/// Deactivates whole VGs from the live devices alone, reading no disk: the devices whose dm
/// name says VG and whose uuid is an LVM one name the VG's uuid, and everything with that
/// uuid prefix goes, as in [`deactivate`] (renamed devices and those of vanished PVs too).
/// That is what a failover's stop needs (the PVs may be gone already), and it spares the
/// scan, parse and plan. `Ok(None)` when the live devices cannot decide it: an argument names
/// an LV, no live device carries a VG's name (renamed by another node: the metadata knows
/// its uuid), or devices with that name carry more than one VG uuid (two VGs of one name) —
/// then [`deactivate`] reads the metadata.
pub fn deactivate_live(args: &[String], opts: &ApplyOptions) -> Result<Option<String>, ActivateError> {
    let vgs = by_vg(args);
    if vgs.iter().any(|(_, lvs)| lvs.is_some()) {
        return Ok(None);
    }
    let dm = Dm::open().map_err(Box::new)?;
    let live = dm.list().map_err(Box::new)?;
    let mut prefixes = Vec::new();
    for (vg, _) in &vgs {
        match live_vg_prefix(&live, vg) {
            Some(p) => prefixes.push((vg.clone(), p)),
            None => return Ok(None),
        }
    }
    let mut out = String::new();
    for (vg, prefix) in prefixes {
        // The list just made: each VG's removal touches only its own devices.
        let removed = apply::deactivate_listed(
            &dm,
            Some(live.clone()),
            None,
            |u| u.starts_with(prefix.as_str()),
            |_| true,
            opts,
        )
        .map_err(|source| ActivateError::Apply { vg, source: Box::new(source) })?;
        warn(&removed.warnings);
        for name in removed.removed {
            out.push_str(&format!("removed {name}\n"));
        }
    }
    Ok(Some(out))
}

/// `LVM-<vg uuid>` of the live devices whose dm name says `vg`, when they agree on one.
fn live_vg_prefix(live: &[control::ListedDevice], vg: &str) -> Option<String> {
    let mut ids: Vec<&str> = live
        .iter()
        .filter(|d| names::split_dm_name(&d.name).is_some_and(|(v, _, _)| v == vg))
        .filter_map(|d| vg_id_of_uuid(d.uuid.as_deref()?))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match ids[..] {
        [id] => Some(format!("{}{id}", names::UUID_PREFIX)),
        _ => None,
    }
}

/// The VG id (32 characters) in an LVM dm uuid `LVM-<vg id><lv id>[-layer]`.
fn vg_id_of_uuid(uuid: &str) -> Option<&str> {
    let rest = uuid.strip_prefix(names::UUID_PREFIX)?;
    let id = rest.get(..32)?;
    (rest.len() >= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(id)
}

/// Deactivates each named `VG` (every device whose uuid starts with `LVM-<vg uuid>`, also
/// those of PVs that vanished) or `VG/LV` (`LVM-<vg uuid><lv uuid>`: the LV's own device and
/// layers); one `removed NAME` line per device.
pub fn deactivate(src: &Source, args: &[String], opts: &ApplyOptions) -> Result<String, ActivateError> {
    /// What to remove for one argument.
    enum Target {
        /// Every device of the VG (by uuid prefix: also what vanished PVs left behind), and
        /// its plan, if it has one (the order to remove them in).
        Prefix(String, Option<Plan>),
        /// One LV's stack, from its plan: all its devices' uuids, and those of the LV itself.
        Stack { plan: Plan, all: Vec<String>, requested: Vec<String> },
    }
    let mut targets = Vec::new();
    // Deactivation must work even where activation is refused (missing PVs, foreign or
    // exported VG): plans here only say which devices make up a stack, and in which order.
    let any = plan_everything();
    for (vg, lvs) in by_vg(args) {
        let avg = src.assembly.vg(&vg).ok_or_else(|| ActivateError::VgNotFound(vg.clone()))?;
        let model = &avg.metadata.vg;
        let vg_prefix = apply::vg_uuid_prefix(&model.id);
        let Some(lvs) = lvs else {
            let planned = plan_one(src, &vg, None, &any, false).ok();
            targets.push((vg.clone(), Target::Prefix(vg_prefix, planned)));
            continue;
        };
        for lv in &lvs {
            model.lv(lv).ok_or_else(|| ActivateError::NoSuchLv { vg: vg.clone(), lv: lv.clone() })?;
        }
        // Hidden sub-LVs (images, pool data, cache parts) have uuids of their own: the LV's
        // plan says which devices make up its stack.
        match plan_one(src, &vg, Some(lvs.clone()), &any, false) {
            Ok(p) => {
                let all = p.devices.iter().map(|d| d.uuid.to_string()).collect();
                let requested = p
                    .devices
                    .iter()
                    .filter(|d| d.layer.is_none() && lvs.contains(&d.lv))
                    .map(|d| d.uuid.to_string())
                    .collect();
                targets.push((vg.clone(), Target::Stack { plan: p, all, requested }));
            }
            // Not plannable (a thin pool with missing pieces): at least the LV's own devices.
            Err(_) => {
                for lv in &lvs {
                    let id = model.lv(lv).map(|l| l.id.as_str().to_string()).unwrap_or_default();
                    targets.push((vg.clone(), Target::Prefix(format!("{vg_prefix}{id}"), None)));
                }
            }
        }
    }
    let dm = Dm::open().map_err(Box::new)?;
    let mut out = String::new();
    for (vg, target) in targets {
        let removed = match &target {
            Target::Prefix(prefix, planned) => {
                debug_assert!(prefix.starts_with(names::UUID_PREFIX));
                apply::deactivate_planned(
                    &dm,
                    planned.as_ref(),
                    |u| u.starts_with(prefix.as_str()),
                    |_| true,
                    opts,
                )
            }
            Target::Stack { plan, all, requested } => apply::deactivate_planned(
                &dm,
                Some(plan),
                |u| all.iter().any(|a| a == u),
                |u| requested.iter().any(|r| r == u),
                opts,
            ),
        }
        .map_err(|source| ActivateError::Apply { vg, source: Box::new(source) })?;
        warn(&removed.warnings);
        for name in removed.removed {
            out.push_str(&format!("removed {name}\n"));
        }
    }
    Ok(out)
}

/// Compares the live devices of each named `VG[/LV]` with its plan (missing devices, tables
/// or access modes that differ, devices not live or suspended, open counts, `error` targets;
/// for a whole VG also its devices the plan does not have). Returns the report and whether
/// every planned device is live and equal to the plan.
pub fn status(src: &Source, args: &[String], base: &PlanOptions) -> Result<(String, bool), ActivateError> {
    let mut plans = Vec::new();
    for (vg, lvs) in by_vg(args) {
        let prefix = match lvs {
            None => {
                let avg = src.assembly.vg(&vg).ok_or_else(|| ActivateError::VgNotFound(vg.clone()))?;
                Some(apply::vg_uuid_prefix(&avg.metadata.vg.id))
            }
            Some(_) => None,
        };
        plans.push((plan_one(src, &vg, lvs, base, true)?, prefix));
    }
    let dm = Dm::open().map_err(Box::new)?;
    let mut out = String::new();
    let mut ok = true;
    for (p, prefix) in &plans {
        let s = lvmkit_activation::status::status(&dm, p, prefix.as_deref())
            .map_err(|e| ActivateError::Control(Box::new(e)))?;
        out.push_str(&s.to_string());
        for skipped in &p.skipped {
            let why = match skipped.reason {
                lvmkit_activation::SkipReason::ActivationSkip => "activation skip flag set",
                lvmkit_activation::SkipReason::UnusedCachePool => "unused cache pool",
            };
            out.push_str(&format!("# not planned: LV {}: {why}\n", skipped.lv));
        }
        ok &= s.ok();
    }
    Ok((out, ok))
}

/// The plan for each named `VG[/LV]`, as text (one block per device, `dmsetup table` lines).
/// Block devices are referred to by `major:minor`, image files by `<path>` placeholders.
pub fn plan(src: &Source, args: &[String], base: &PlanOptions) -> Result<String, ActivateError> {
    let mut out = String::new();
    for (vg, lvs) in by_vg(args) {
        out.push_str(&plan_one(src, &vg, lvs, base, false)?.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_arguments_per_vg() {
        let a: Vec<String> =
            ["vg0/a", "vg1", "vg0/b", "/dev/vg2/c", "vg1/x"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            by_vg(&a),
            vec![
                ("vg0".to_string(), Some(vec!["a".to_string(), "b".to_string()])),
                ("vg1".to_string(), None),
                ("vg2".to_string(), Some(vec!["c".to_string()])),
            ]
        );
    }

    #[test]
    fn a_vg_is_found_among_live_devices_only_when_they_agree_on_its_uuid() {
        let id = |c: char| c.to_string().repeat(32);
        let dev = |name: &str, uuid: Option<String>, minor| control::ListedDevice {
            name: name.to_string(),
            dev: DevNum::new(253, minor),
            event_nr: None,
            uuid,
        };
        let lvm = |vg: char, lv: char, layer: &str| Some(format!("LVM-{}{}{layer}", id(vg), id(lv)));
        let live = vec![
            dev("vg-lv1", lvm('a', 'x', ""), 0),
            dev("vg-pool-tpool", lvm('a', 'y', "-tpool"), 1),
            // Another VG whose name starts like it ("vg-b", escaped), and a foreign uuid.
            dev("vg--b-lv", lvm('b', 'x', ""), 2),
            dev("vg-crypt", Some("CRYPT-LUKS2-0123".into()), 3),
            dev("vg-plain", None, 4),
            // A VG named twice (another node's VG of the same name activated here).
            dev("dup-lv", lvm('c', 'x', ""), 5),
            dev("dup-lv2", lvm('d', 'x', ""), 6),
        ];
        assert_eq!(live_vg_prefix(&live, "vg"), Some(format!("LVM-{}", id('a'))));
        assert_eq!(live_vg_prefix(&live, "vg-b"), Some(format!("LVM-{}", id('b'))));
        assert_eq!(live_vg_prefix(&live, "dup"), None, "two VG uuids under one name");
        assert_eq!(live_vg_prefix(&live, "gone"), None, "nothing live: the metadata decides");
        assert_eq!(vg_id_of_uuid("LVM-short"), None);
        assert_eq!(vg_id_of_uuid(&lvm('a', 'x', "").unwrap()), Some(id('a').as_str()));
    }
}
