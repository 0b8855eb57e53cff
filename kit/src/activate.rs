//! Activation commands: `plan` (the device-mapper devices, tables, names and UUIDs an
//! activation would create, computed from the on-disk metadata without touching the kernel),
//! `activate` (apply that plan through dm ioctls) and `deactivate` (remove a VG's or an LV's
//! devices by uuid prefix, whoever activated them).

use std::fmt;

use lvmkit_activation::apply::{self, ApplyError, ApplyOptions, Outcome};
use lvmkit_activation::status::VgStatus;
use lvmkit_activation::{Plan, PlanOptions, SkipReason, SkippedLv, names, plan_assembled};
use lvmkit_dm::control::{self, Dm, DmControl};
use lvmkit_dm::{DevNum, DevRef};

use crate::source::Source;
use crate::target::{Target, by_vg};

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

/// An LV of a whole VG that was not activated because it needs a missing PV (the others
/// were: lvm2's `vgchange -ay` does the same and exits 5).
#[derive(Debug)]
pub struct Refused {
    /// VG name.
    pub vg: String,
    /// LV name.
    pub lv: String,
    /// Why (the planner's refusal).
    pub why: Box<lvmkit_activation::Error>,
}

impl fmt::Display for Refused {
    /// `VG/LV not activated: WHY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} not activated: {}", self.vg, self.lv, self.why)
    }
}

/// What [`activate`] did.
#[derive(Debug, Default)]
pub struct Activation {
    /// Per VG plan applied, in argument order.
    pub applied: Vec<apply::Activated>,
    /// LVs of whole VGs left inactive because they need missing PVs.
    pub refused: Vec<Refused>,
}

impl Activation {
    /// Nothing was refused.
    pub fn complete(&self) -> bool {
        self.refused.is_empty()
    }

    /// What udev did not do in time (nodes made directly), one line each.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.applied.iter().flat_map(|a| &a.warnings)
    }
}

/// `renamed OLD NEW` lines, then `created|reloaded|unchanged|resumed NAME MAJOR:MINOR` per
/// device.
fn fmt_activated(f: &mut fmt::Formatter<'_>, done: &apply::Activated) -> fmt::Result {
    for (old, new) in &done.renamed {
        writeln!(f, "renamed {old} {new}")?;
    }
    for (name, dev, outcome) in &done.devices {
        writeln!(f, "{} {name} {dev}", outcome_word(*outcome))?;
    }
    Ok(())
}

impl fmt::Display for Activation {
    /// Per applied plan: `renamed OLD NEW` lines, then `created|reloaded|unchanged|resumed
    /// NAME MAJOR:MINOR` per device (the refusals and warnings are not part of it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in &self.applied {
            fmt_activated(f, a)?;
        }
        Ok(())
    }
}

/// What [`refresh`] did to one VG.
#[derive(Debug)]
pub struct VgRefresh {
    /// VG name.
    pub vg: String,
    /// Named (or, for a whole VG, visible) LVs that are not active: left so.
    pub not_active: Vec<String>,
    /// The refresh of the active ones, if any.
    pub done: Option<apply::Refreshed>,
}

/// What [`refresh`] did, per VG in argument order.
#[derive(Debug, Default)]
pub struct Refresh {
    /// Per VG.
    pub vgs: Vec<VgRefresh>,
}

impl Refresh {
    /// What udev did not do in time, one line each.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.vgs.iter().filter_map(|v| v.done.as_ref()).flat_map(|d| &d.activated.warnings)
    }
}

impl fmt::Display for Refresh {
    /// Per VG: `# not active: VG/LV` lines, then the activation's lines (see [`Activation`]),
    /// `removed NAME` per layer dropped and `# left NAME (open N): not in metadata` per live
    /// device of an LV the metadata no longer has.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.vgs {
            for lv in &v.not_active {
                writeln!(f, "# not active: {}/{lv}", v.vg)?;
            }
            let Some(done) = &v.done else { continue };
            fmt_activated(f, &done.activated)?;
            for name in &done.removed {
                writeln!(f, "removed {name}")?;
            }
            for (name, open) in &done.left {
                writeln!(f, "# left {name} (open {open}): not in metadata")?;
            }
        }
        Ok(())
    }
}

/// What [`deactivate`] or [`deactivate_live`] did, per VG or LV stack in argument order.
#[derive(Debug, Default)]
pub struct Deactivation {
    /// Per target.
    pub done: Vec<apply::Deactivated>,
}

impl Deactivation {
    /// Every removed device, in removal order.
    pub fn removed(&self) -> impl Iterator<Item = &String> {
        self.done.iter().flat_map(|d| &d.removed)
    }

    /// What udev did not do in time, one line each.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.done.iter().flat_map(|d| &d.warnings)
    }
}

impl fmt::Display for Deactivation {
    /// `removed NAME` per device.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for name in self.removed() {
            writeln!(f, "removed {name}")?;
        }
        Ok(())
    }
}

/// One plan against the live devices ([`status`]).
#[derive(Debug)]
pub struct PlanStatus {
    /// The comparison.
    pub status: VgStatus,
    /// LVs the plan left out on purpose.
    pub skipped: Vec<SkippedLv>,
}

/// What [`status`] found, per VG in argument order.
#[derive(Debug, Default)]
pub struct StatusReport {
    /// Per VG.
    pub vgs: Vec<PlanStatus>,
}

impl StatusReport {
    /// Every planned device is live and equal to the plan.
    pub fn ok(&self) -> bool {
        self.vgs.iter().all(|v| v.status.ok())
    }
}

impl fmt::Display for StatusReport {
    /// Per VG the [`VgStatus`] text, then `# not planned: LV NAME: WHY` per skipped LV.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for v in &self.vgs {
            write!(f, "{}", v.status)?;
            for skipped in &v.skipped {
                let why = match skipped.reason {
                    SkipReason::ActivationSkip => "activation skip flag set",
                    SkipReason::UnusedCachePool => "unused cache pool",
                };
                writeln!(f, "# not planned: LV {}: {why}", skipped.lv)?;
            }
        }
        Ok(())
    }
}

/// Plans, one per VG in argument order ([`plan`]).
#[derive(Debug, Default)]
pub struct Plans(pub Vec<Plan>);

impl fmt::Display for Plans {
    /// Each plan's text (one block per device, `dmsetup table` lines).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            write!(f, "{p}")?;
        }
        Ok(())
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

/// Activates each named `VG[/LV]` through device-mapper. Every table is planned before the
/// first ioctl; a failure rolls back what this call created for that VG. A whole VG some of
/// whose LVs need missing PVs comes up without them ([`Activation::refused`]).
pub fn activate(
    src: &Source,
    args: &[Target],
    base: &PlanOptions,
    opts: &ApplyOptions,
) -> Result<Activation, ActivateError> {
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
    let mut applied = Vec::with_capacity(plans.len());
    for p in &plans {
        applied.push(
            apply::activate(&dm, p, opts)
                .map_err(|source| ActivateError::Apply { vg: p.vg.clone(), source: Box::new(source) })?,
        );
    }
    Ok(Activation { applied, refused })
}

/// The refusal is about one LV's missing pieces, not about the VG as a whole.
fn needs_missing_pv(e: &lvmkit_activation::Error) -> bool {
    matches!(e, lvmkit_activation::Error::MissingPv(_) | lvmkit_activation::Error::IncompletePool(_))
}

/// A VG some of whose LVs need missing PVs: the plan of the LVs that do not (`None` if there
/// are none), and the refusals of those that do.
fn plan_available(
    src: &Source,
    vg: &str,
    base: &PlanOptions,
) -> Result<(Option<Plan>, Vec<Refused>), ActivateError> {
    let avg = src.assembly.vg(vg).ok_or_else(|| ActivateError::VgNotFound(vg.to_string()))?;
    let mut good = Vec::new();
    let mut refused = Vec::new();
    for lv in avg.metadata.vg.lvs.iter().filter(|l| l.is_visible()) {
        match plan_one(src, vg, Some(vec![lv.name.clone()]), base, true) {
            Ok(_) => good.push(lv.name.clone()),
            Err(ActivateError::Plan { source, .. }) if needs_missing_pv(&source) => {
                refused.push(Refused { vg: vg.to_string(), lv: lv.name.clone(), why: source })
            }
            Err(e) => return Err(e),
        }
    }
    let plan = if good.is_empty() { None } else { Some(plan_one(src, vg, Some(good), base, true)?) };
    Ok((plan, refused))
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
    args: &[Target],
    base: &PlanOptions,
    opts: &ApplyOptions,
) -> Result<Refresh, ActivateError> {
    let dm = Dm::open().map_err(Box::new)?;
    let live: Vec<String> = dm.list().map_err(Box::new)?.into_iter().filter_map(|d| d.uuid).collect();
    let mut out = Refresh::default();
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
        if active.is_empty() {
            out.vgs.push(VgRefresh { vg, not_active: inactive, done: None });
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
        out.vgs.push(VgRefresh { vg, not_active: inactive, done: Some(done) });
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
pub fn deactivate_live(args: &[Target], opts: &ApplyOptions) -> Result<Option<Deactivation>, ActivateError> {
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
    let mut out = Deactivation::default();
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
        out.done.push(removed);
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
pub fn deactivate(src: &Source, args: &[Target], opts: &ApplyOptions) -> Result<Deactivation, ActivateError> {
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
    let mut out = Deactivation::default();
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
        out.done.push(removed);
    }
    Ok(out)
}

/// Compares the live devices of each named `VG[/LV]` with its plan (missing devices, tables
/// or access modes that differ, devices not live or suspended, open counts, `error` targets;
/// for a whole VG also its devices the plan does not have).
pub fn status(src: &Source, args: &[Target], base: &PlanOptions) -> Result<StatusReport, ActivateError> {
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
    let mut out = StatusReport::default();
    for (p, prefix) in plans {
        let status = lvmkit_activation::status::status(&dm, &p, prefix.as_deref())
            .map_err(|e| ActivateError::Control(Box::new(e)))?;
        out.vgs.push(PlanStatus { status, skipped: p.skipped });
    }
    Ok(out)
}

/// The plan for each named `VG[/LV]` (its text: one block per device, `dmsetup table` lines).
/// Block devices are referred to by `major:minor`, image files by `<path>` placeholders.
pub fn plan(src: &Source, args: &[Target], base: &PlanOptions) -> Result<Plans, ActivateError> {
    let mut out = Vec::new();
    for (vg, lvs) in by_vg(args) {
        out.push(plan_one(src, &vg, lvs, base, false)?);
    }
    Ok(Plans(out))
}

#[cfg(test)]
mod tests {
    use super::*;

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
