//! The actions a cluster manager calls: restore (bring in service), remove (take out of
//! service), quickCheck (graded health) and recover (local recovery after a failed check).
//! Each takes the resource's lock; each is idempotent.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lvmkit_activation::apply::{self, ApplyError, Outcome};
use lvmkit_activation::{Plan, PlanOptions};
use lvmkit_dm::control::DmControl;
use lvmkit_dm::{DevId, DevNum, DevRef, DmName, Target};
use lvmkit_metadata::write::backup;
use lvmkit_metadata::write::ops::{self, Change};

use super::catalog::{Cause, KitError};
use super::resource::{ActivationPolicy, Kind, LvResource, OwnershipPolicy, Resource, VgResource};
use super::store::{STATE_FORMAT, State, StatePv};
use super::{Env, Read, controlled, holders, probe, read_vg, uuid_prefix};

/// Options of restore.
#[derive(Debug, Default)]
pub struct RestoreOptions {
    /// Take the VG over from exactly this system ID even though it is not a peer.
    pub force_takeover: Option<String>,
    /// Turn a controlled VG's autoactivation off again when it is on.
    pub fix: bool,
}

/// What restore did.
#[derive(Debug, Default)]
pub struct Restored {
    /// The resource.
    pub id: String,
    /// The VG.
    pub vg: String,
    /// The system ID written over (a takeover), if any.
    pub took_over_from: Option<String>,
    /// Our system ID was written (no owner before, or a takeover).
    pub wrote_system_id: bool,
    /// An exported LVM1 VG was imported.
    pub imported: bool,
    /// Autoactivation was turned off again (`--fix`).
    pub fixed_autoactivation: bool,
    /// Devices of the plan and what happened to each.
    pub devices: Vec<(String, Outcome)>,
    /// Warnings (the action still succeeded).
    pub warnings: Vec<KitError>,
    /// Things worth a line: stale copies, PVs found by a full scan.
    pub notes: Vec<String>,
}

/// What remove did.
#[derive(Debug, Default)]
pub struct Removed {
    /// The resource.
    pub id: String,
    /// Devices removed, in order.
    pub removed: Vec<String>,
    /// Ownership released (LVM1 export, or the system ID cleared by policy).
    pub released: bool,
    /// Warnings.
    pub warnings: Vec<KitError>,
    /// Notes.
    pub notes: Vec<String>,
}

/// How bad a quickCheck problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// In service, but degraded (exit 3 when nothing worse).
    Degraded,
    /// Unhealthy (exit 1).
    Failed,
    /// Not in service (exit 7).
    NotInService,
    /// Owned by another system ID now (exit 4).
    Ownership,
}

impl Severity {
    /// `degraded`, `failed`, `not_in_service`, `ownership` (the JSON output's words).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Degraded => "degraded",
            Severity::Failed => "failed",
            Severity::NotInService => "not_in_service",
            Severity::Ownership => "ownership",
        }
    }
}

/// One problem quickCheck found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Severity.
    pub severity: Severity,
    /// Catalog code.
    pub code: &'static str,
    /// One line.
    pub line: String,
}

/// quickCheck's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// The resource.
    pub id: String,
    /// The level checked.
    pub level: u8,
    /// Planned devices compared.
    pub devices: usize,
    /// PVs read (level 10 and up).
    pub pvs_read: usize,
    /// Problems, one line each.
    pub problems: Vec<Problem>,
}

impl Health {
    /// The exit status: the worst problem's (ownership 4, not in service 7, failed 1,
    /// degraded 3), 0 when healthy.
    pub fn status(&self) -> u8 {
        use super::catalog::status as st;
        match self.problems.iter().map(|p| p.severity).max() {
            None => st::OK,
            Some(Severity::Ownership) => st::OWNERSHIP,
            Some(Severity::NotInService) => st::NOT_RUNNING,
            Some(Severity::Failed) => st::FAILED,
            Some(Severity::Degraded) => st::DEGRADED,
        }
    }
}

/// What recover did.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The resource.
    pub id: String,
    /// Planned devices and what happened to each (created: was missing; reloaded: table
    /// refreshed from the current metadata; resumed: was suspended).
    pub devices: Vec<(String, Outcome)>,
    /// Devices removed (layers the current metadata no longer has).
    pub removed: Vec<String>,
    /// The metadata seqno the tables now follow, and the one before, when it changed.
    pub seqno: (u64, Option<u64>),
    /// Notes.
    pub notes: Vec<String>,
}

fn vg_of(r: &Resource) -> Result<&VgResource, KitError> {
    match &r.kind {
        Kind::Lvmvg(v) => Ok(v),
        Kind::Lvmlv(_) => {
            Err(KitError::new("000002", &[("what", &format!("{} is an lvmlv resource, not an lvmvg", r.id))]))
        }
    }
}

/// The lvmvg resource an lvmlv depends on (000019 naming it when absent).
pub fn parent_of(env: &Env, lv: &Resource) -> Result<Resource, KitError> {
    let id = lv.depends_on.first().cloned().unwrap_or_else(|| super::resource::vg_id(lv.vg_name()));
    env.store.load(&id)?.ok_or_else(|| {
        KitError::new("000019", &[("what", &id)])
            .detail(format!("{} depends on {id}, which is not in the kit directory", lv.id))
    })
}

fn plan_options(env: &Env, mode: ActivationPolicy, lvs: Option<Vec<String>>) -> PlanOptions {
    PlanOptions { lvs, mode: mode.mode(), host_system_id: env.host_system_id.clone(), ..Default::default() }
}

/// The `{why}` of 110013/110010: the errno of a failed device-mapper step (lvm2's "with error
/// code N"), or why planning refused (a plan error has no errno).
fn activation_why(c: &Cause) -> String {
    match (c, c.errno()) {
        (_, Some(e)) => format!("with error code {e}"),
        (Cause::Plan(e), None) => format!("because planning refused: {e}"),
        (other, None) => format!("because {other}"),
    }
}

/// 110013 (VG) or 110010 (LV) for a failed activation; 110020 when device-mapper itself is
/// unusable.
fn activation_error(what: &Subject, cause: Cause) -> KitError {
    let env_why = match &cause {
        Cause::Apply(ApplyError::Dm { source, .. }) => super::catalog::dm_environment(source),
        Cause::Dm(e) => super::catalog::dm_environment(e),
        _ => None,
    };
    if let Some(why) = env_why {
        return KitError::new("110020", &[("why", &why)]).caused(cause);
    }
    let why = activation_why(&cause);
    match what {
        Subject::Vg(vg) => KitError::new("110013", &[("vg", vg), ("why", &why)]).caused(cause),
        Subject::Lv(lv) => KitError::new("110010", &[("lv", lv), ("why", &why)]).caused(cause),
    }
}

/// What an activation error is about.
enum Subject {
    Vg(String),
    Lv(String),
}

/// Plan `read`'s VG (or some of its LVs) with the PVs' device numbers.
fn plan_read(env: &Env, read: &Read, opts: &PlanOptions, what: &Subject) -> Result<Plan, KitError> {
    let mut not_block = None;
    let src = &read.src;
    let p = lvmkit_activation::plan_assembled(
        read.vg(),
        |i| {
            let d = &src.scan.pvs[i].device;
            let n = (env.resolve)(d.name(), d.dev_t());
            if n.is_none() {
                not_block.get_or_insert_with(|| d.name().to_string());
            }
            n.map(DevRef::Num)
        },
        opts,
    )
    .map_err(|e| activation_error(what, Cause::Plan(e)))?;
    if let Some(d) = not_block {
        return Err(activation_error(what, Cause::Detail(format!("PV {d} is not a block device"))));
    }
    Ok(p)
}

/// The state to record after activating from `read`.
fn state_of(env: &Env, read: &Read, mode: ActivationPolicy) -> State {
    let vg = read.vg();
    let text = String::from_utf8_lossy(&vg.text).trim_end_matches('\0').to_string();
    let pvs = vg
        .metadata
        .vg
        .pvs
        .iter()
        .zip(&vg.pv_devices)
        .map(|(p, d)| {
            let dev = d.map(|i| &read.src.scan.pvs[i].device);
            StatePv {
                uuid: p.id.to_string(),
                device: dev.map(|d| d.name().to_string()),
                dev: dev.and_then(|d| (env.resolve)(d.name(), d.dev_t())).map(|n| n.to_string()),
            }
        })
        .collect();
    State { format: STATE_FORMAT.into(), version: 1, seqno: vg.metadata.vg.seqno, metadata: text, pvs, mode }
}

/// The plan recorded at restore (no disk read): the state's metadata and device numbers.
fn plan_state(env: &Env, s: &State, lvs: Option<Vec<String>>) -> Result<Plan, String> {
    lvmkit_metadata::scan::before_parse(s.metadata.len());
    let md = lvmkit_metadata::import::parse_metadata(s.metadata.as_bytes()).map_err(|e| e.to_string())?;
    let mut refs = Vec::new();
    for p in &md.vg.pvs {
        let rec = s.pvs.iter().find(|r| r.uuid == p.id.to_string());
        let n = match rec.and_then(|r| r.dev.as_deref()) {
            Some(d) => Some(DevRef::Num(d.parse::<DevNum>().map_err(|e| e.to_string())?)),
            None => None,
        };
        refs.push(n);
    }
    let opts = PlanOptions { allow_foreign: true, ..plan_options(env, s.mode, lvs) };
    lvmkit_activation::plan(&md.vg, &refs, &opts).map_err(|e| e.to_string())
}

/// Reads one block of every recorded PV through probe children (when the binary is known), so
/// a dead path cannot hang the caller: a PV with no answer within the probe deadline fails
/// with 110002; with `strict`, so does one that answers with an error or is not there.
fn probe_recorded(env: &Env, v: &VgResource, strict: bool) -> Result<(), KitError> {
    let Some(exe) = &env.probe_exe else { return Ok(()) };
    let devs: Vec<(String, u64)> = v.pvs.iter().map(|p| (p.device.clone(), 0)).collect();
    for (p, res) in v.pvs.iter().zip(probe::probe_all(exe, &devs, env.probe_timeout)) {
        let fatal = match res {
            probe::ProbeResult::Ok => false,
            probe::ProbeResult::TimedOut(_) => true,
            probe::ProbeResult::Failed(_) | probe::ProbeResult::NotStarted(_) => strict,
        };
        if fatal {
            return Err(KitError::new(
                "110002",
                &[("pv", &format!("{} ({})", p.uuid, p.device)), ("vg", &v.vg)],
            )
            .detail(format!("{}: {}", p.device, res.describe())));
        }
    }
    Ok(())
}

/// Restore (bring in service) the resource `what` (tag or ID).
pub fn restore(
    env: &Env,
    dm: &dyn DmControl,
    what: &str,
    opts: &RestoreOptions,
) -> Result<Restored, KitError> {
    let r = env.store.find(what)?;
    let _lock = env.store.lock(&r.id, super::store::LOCK_WAIT)?;
    match &r.kind {
        Kind::Lvmvg(v) => restore_vg(env, dm, &r, v, opts),
        Kind::Lvmlv(l) => {
            // Its VG must be in service: restore it (returns at once when it is).
            let parent = parent_of(env, &r)?;
            let v = vg_of(&parent)?.clone();
            let vg_done = {
                let _vlock = env.store.lock(&parent.id, super::store::LOCK_WAIT)?;
                restore_vg(env, dm, &parent, &v, opts).map_err(|e| {
                    let mut e = e;
                    e.message = format!("{} (restoring {}, which {} depends on)", e.message, parent.id, r.id);
                    e
                })?
            };
            let mut out = vg_done;
            out.id = r.id.clone();
            // The VG's restore activated every LV; an LV flagged to be skipped is this
            // resource's to bring up.
            let planned_here = out.devices.iter().any(|(n, _)| {
                lvmkit_activation::names::split_dm_name(n)
                    .is_some_and(|(_, lv, layer)| lv == l.lv && layer.is_empty())
            });
            if !planned_here {
                let read = read_vg(env, &v)?;
                if read.vg().metadata.vg.lv(&l.lv).is_none() {
                    return Err(KitError::new("110001", &[("lv", &l.lv), ("vg", &l.vg)]));
                }
                let popts = PlanOptions {
                    ignore_activation_skip: true,
                    ..plan_options(env, v.policy.activation, Some(vec![l.lv.clone()]))
                };
                let what = Subject::Lv(r.tag.clone());
                let plan = plan_read(env, &read, &popts, &what)?;
                let done = apply::activate(dm, &plan, &env.apply)
                    .map_err(|e| activation_error(&what, Cause::Apply(e)))?;
                out.devices.extend(done.devices.into_iter().map(|(n, _, o)| (n.to_string(), o)));
            }
            Ok(out)
        }
    }
}

fn restore_vg(
    env: &Env,
    dm: &dyn DmControl,
    r: &Resource,
    v: &VgResource,
    opts: &RestoreOptions,
) -> Result<Restored, KitError> {
    let mut out = Restored { id: r.id.clone(), vg: v.vg.clone(), ..Default::default() };
    let _vglock = crate::write::lock_vgs(&env.lock_dir, std::slice::from_ref(&v.vg), env.lock_wait)
        .map_err(|e| KitError::new("110011", &[("vg", &v.vg), ("why", "cannot lock the VG")]).caused(e))?;
    // A dead path must not hang restore in the read below (the cluster's start timeout would
    // end it, and a stop of the same hierarchy would hang next): PVs that do not answer fail
    // it now, with their code, so the cluster moves the hierarchy. A PV that answers with an
    // error or is not at its recorded path is left to the read (a full scan, the mode).
    probe_recorded(env, v, false)?;
    let mut read = read_vg(env, v)?;
    // Before anything is written: a copy of a PV on a device the read did not look at.
    if let Some(e) = read.duplicate_elsewhere(env) {
        return Err(e);
    }
    if read.full_scan {
        out.notes.push(format!("{}: a PV was not where recorded; found by a full scan", v.vg));
        // Record where the PVs are now (the next restore reads only those).
        let vg = read.vg();
        let mut moved = v.clone();
        for p in &mut moved.pvs {
            let Some(i) = vg.metadata.vg.pvs.iter().position(|m| m.id.to_string() == p.uuid) else {
                continue;
            };
            if let Some(d) = vg.pv_devices[i] {
                *p = env.pv_record(p.uuid.clone(), &read.src.scan.pvs[d]);
            }
        }
        if moved != *v {
            let mut nr = r.clone();
            nr.kind = Kind::Lvmvg(moved);
            env.store.save(&nr)?;
            out.notes.push(format!("{}: recorded the PVs' new device paths", r.id));
        }
    }
    if let Some(e) = read.duplicate() {
        return Err(e);
    }
    if read.findings().iter().any(|f| matches!(f, lvmkit_metadata::assemble::Finding::Mismatch { .. })) {
        let why: Vec<String> = read.findings().iter().map(|f| f.to_string()).collect();
        return Err(KitError::new("110011", &[("vg", &v.vg), ("why", "metadata copies disagree")])
            .detail(why.join("\n")));
    }
    for f in read.findings() {
        if let lvmkit_metadata::assemble::Finding::StaleCopy { .. } = f {
            out.notes.push(format!("stale metadata copy (the newest is used): {f}"));
        }
    }
    let missing = read.missing();
    if let (ActivationPolicy::Complete, Some((uuid, hint))) = (v.policy.activation, missing.first()) {
        return Err(KitError::new(
            "110002",
            &[
                ("pv", &format!("{uuid}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())),
                ("vg", &v.vg),
            ],
        )
        .detail("the resource's activation mode is complete: every PV must be present"));
    }
    let name = read.vg().name().to_string();
    let lvm1 = read.vg().metadata.vg.format.as_deref() == Some("lvm1");
    if lvm1 {
        if read.vg().metadata.vg.is_exported() {
            crate::write::export_import(
                &read.src,
                std::slice::from_ref(&name),
                false,
                &env.context(None),
                &env.backups,
            )
            .map_err(|e| KitError::new("110012", &[("vg", &name), ("why", &e.to_string())]).caused(e))?;
            out.imported = true;
            read = read_vg(env, v)?;
        }
    } else {
        let mut changes = Vec::new();
        let owner = read.vg().metadata.vg.system_id.clone().filter(|s| !s.is_empty());
        let ours = env.host_system_id.clone();
        let mut takeover = None;
        if v.policy.ownership == OwnershipPolicy::SystemId || owner.is_some() {
            match (&owner, &ours) {
                (None, Some(id)) if v.policy.ownership == OwnershipPolicy::SystemId => {
                    changes.push(Change::SetSystemId(Some(id.clone())))
                }
                (None, _) => {}
                (Some(o), Some(id)) if o == id => {}
                (Some(o), _) => {
                    let peer =
                        v.peers(&env.server).into_iter().find(|s| s.system_id.as_deref() == Some(o.as_str()));
                    let forced = opts.force_takeover.as_deref() == Some(o.as_str());
                    if peer.is_none() && !forced {
                        return Err(KitError::new("110003", &[("vg", &name), ("owner", o)]).detail(format!(
                            "this server is {} with system ID {}; the hierarchy's servers: {}",
                            env.server,
                            ours.as_deref().unwrap_or("(none)"),
                            v.servers
                                .iter()
                                .map(|s| format!(
                                    "{} ({})",
                                    s.name,
                                    s.system_id.as_deref().unwrap_or("no system ID")
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    if ours.is_none() {
                        return Err(KitError::new(
                            "110012",
                            &[
                                ("vg", &name),
                                (
                                    "why",
                                    "this host has no system ID to take the VG over with (set global/system_id_source in lvm.conf)",
                                ),
                            ],
                        ));
                    }
                    takeover = Some(o.clone());
                    changes.push(Change::SetSystemId(ours.clone()));
                }
            }
        }
        let controlled = controlled::read(&env.controlled).unwrap_or_default();
        let md = &read.vg().metadata.vg;
        let auto_on = !md.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE"));
        if auto_on && controlled::contains(&controlled, &name, &md.id.to_string()) {
            if opts.fix {
                changes.push(Change::SetAutoactivation(false));
                out.fixed_autoactivation = true;
            } else {
                out.warnings.push(KitError::new("110019", &[("vg", &name)]));
            }
        }
        if !changes.is_empty() {
            if !missing.is_empty() && missing.len() * 2 >= md.pvs.len() {
                return Err(KitError::new(
                    "110012",
                    &[("vg", &name), ("why", "fewer than a majority of its PVs are present")],
                ));
            }
            let ctx = env.context(takeover.clone());
            let avg = read.vg();
            let new = ops::apply(&avg.metadata, &changes, &ctx)
                .map_err(|e| KitError::new("110012", &[("vg", &name), ("why", &e.to_string())]).caused(e))?;
            let targets = crate::write::targets(&read.src, avg)
                .map_err(|e| KitError::new("110012", &[("vg", &name), ("why", &e.to_string())]).caused(e))?;
            backup::commit_with_backups(&targets, &avg.metadata, &new, &env.backups)
                .map_err(|e| KitError::new("110012", &[("vg", &name), ("why", &e.to_string())]).caused(e))?;
            out.wrote_system_id = changes.iter().any(|c| matches!(c, Change::SetSystemId(_)));
            out.took_over_from = takeover;
            // Read back: another server may have written at the same time.
            read = read_vg(env, v)?;
            let now = read.vg().metadata.vg.system_id.clone().filter(|s| !s.is_empty());
            if out.wrote_system_id && now != ours {
                return Err(KitError::new(
                    "110017",
                    &[
                        ("vg", &name),
                        ("owner", now.as_deref().unwrap_or("(none)")),
                        ("ours", ours.as_deref().unwrap_or("(none)")),
                    ],
                ));
            }
        }
    }
    let what = Subject::Vg(name.clone());
    let plan = plan_read(env, &read, &plan_options(env, v.policy.activation, None), &what)?;
    let done =
        apply::activate(dm, &plan, &env.apply).map_err(|e| activation_error(&what, Cause::Apply(e)))?;
    out.devices = done.devices.into_iter().map(|(n, _, o)| (n.to_string(), o)).collect();
    out.notes.extend(done.warnings);
    env.store.set_state(&r.id, &state_of(env, &read, v.policy.activation))?;
    Ok(out)
}

/// Deactivate until nothing `wanted` is left or `busy_timeout` runs out on a device in use;
/// then 110005 naming the holders.
fn deactivate_bounded(
    env: &Env,
    dm: &dyn DmControl,
    plan: Option<&Plan>,
    wanted: &dyn Fn(&str) -> bool,
    requested: &dyn Fn(&str) -> bool,
    what: &str,
) -> Result<Vec<String>, KitError> {
    let start = Instant::now();
    let mut removed = Vec::new();
    // The retrying is this loop's, bounded by `busy_timeout`; the engine's own EBUSY retries
    // would add to it.
    let mut opts = env.apply.clone();
    opts.remove.busy_retries = 0;
    loop {
        match apply::deactivate_planned(dm, plan, wanted, requested, &opts) {
            Ok(d) => {
                removed.extend(d.removed);
                return Ok(removed);
            }
            Err(ApplyError::InUse { device, open_count, holders: sys }) => {
                if start.elapsed() < env.busy_timeout {
                    std::thread::sleep(Duration::from_millis(100).min(env.busy_timeout));
                    continue;
                }
                let mut named = DmName::new(device.clone())
                    .ok()
                    .and_then(|n| dm.info(&DevId::Name(n)).ok().flatten())
                    .map(|i| holders::holders(i.dev))
                    .unwrap_or_default();
                if named.is_empty() {
                    named = sys.iter().map(|h| format!("device {h}")).collect();
                }
                if named.is_empty() {
                    named.push(format!("open count {open_count}, holder not found"));
                }
                let err = ApplyError::InUse { device: device.clone(), open_count, holders: sys };
                return Err(KitError::new("110005", &[("lv", &device), ("holder", &named.join("; "))])
                    .caused(err)
                    .with_context(format!("{what}: retried for {:?}", env.busy_timeout)));
            }
            Err(e) => {
                let env_why = match &e {
                    ApplyError::Dm { source, .. } => super::catalog::dm_environment(source),
                    _ => None,
                };
                return Err(match env_why {
                    Some(why) => KitError::new("110020", &[("why", &why)]).caused(e),
                    None => {
                        KitError::new("110008", &[("vg", what), ("why", "device-mapper refused")]).caused(e)
                    }
                });
            }
        }
    }
}

/// Remove (take out of service) the resource `what`.
pub fn remove(env: &Env, dm: &dyn DmControl, what: &str) -> Result<Removed, KitError> {
    let r = env.store.find(what)?;
    let _lock = env.store.lock(&r.id, super::store::LOCK_WAIT)?;
    let mut out = Removed { id: r.id.clone(), ..Default::default() };
    match &r.kind {
        Kind::Lvmvg(v) => {
            // By uuid prefix: also devices of vanished PVs, also after a rename elsewhere; no
            // disk is read to find them.
            let prefix = uuid_prefix(&v.vg_uuid);
            let state = env.store.state(&r.id).ok().flatten();
            let plan = state.as_ref().and_then(|s| plan_state(env, s, None).ok());
            out.removed =
                deactivate_bounded(env, dm, plan.as_ref(), &|u| u.starts_with(&prefix), &|_| true, &v.vg)?;
            env.store.clear_state(&r.id);
            release(env, v, &mut out)?;
        }
        Kind::Lvmlv(l) => {
            out.removed = remove_lv(env, dm, &r, l)?;
        }
    }
    Ok(out)
}

fn remove_lv(env: &Env, dm: &dyn DmControl, r: &Resource, l: &LvResource) -> Result<Vec<String>, KitError> {
    // The LV's stack from the metadata the devices were made from (hidden sub-LVs have uuids
    // of their own); without it, the LV's own uuid prefix.
    let parent_state = parent_of(env, r).ok().and_then(|p| env.store.state(&p.id).ok().flatten());
    let any = |s: &State| {
        let md = lvmkit_metadata::import::parse_metadata(s.metadata.as_bytes()).ok()?;
        let refs: Vec<Option<DevRef>> = md
            .vg
            .pvs
            .iter()
            .map(|p| {
                s.pvs
                    .iter()
                    .find(|r| r.uuid == p.id.to_string())
                    .and_then(|r| r.dev.as_deref()?.parse().ok())
                    .map(DevRef::Num)
            })
            .collect();
        let opts = PlanOptions {
            lvs: Some(vec![l.lv.clone()]),
            mode: lvmkit_activation::ActivationMode::Partial,
            allow_foreign: true,
            allow_exported: true,
            ignore_activation_skip: true,
            ..Default::default()
        };
        lvmkit_activation::plan(&md.vg, &refs, &opts).ok()
    };
    let plan = parent_state.as_ref().and_then(any);
    let own = format!("{}{}", uuid_prefix(&l.vg_uuid), l.lv_uuid.replace('-', ""));
    match &plan {
        Some(p) => {
            let all: Vec<String> = p.devices.iter().map(|d| d.uuid.to_string()).collect();
            let requested: Vec<String> = p
                .devices
                .iter()
                .filter(|d| d.layer.is_none() && d.lv == l.lv)
                .map(|d| d.uuid.to_string())
                .collect();
            deactivate_bounded(
                env,
                dm,
                Some(p),
                &|u| all.iter().any(|a| a == u) || u.starts_with(&own),
                &|u| requested.iter().any(|a| a == u) || u == own,
                &r.tag,
            )
        }
        None => deactivate_bounded(env, dm, None, &|u| u.starts_with(&own), &|_| true, &r.tag),
    }
}

/// After the devices are gone: LVM1 is exported; an LVM2 VG's system ID is cleared when the
/// policy says so (default: it stays, as LVM-activate leaves it).
fn release(env: &Env, v: &VgResource, out: &mut Removed) -> Result<(), KitError> {
    let lvm1 = v.vg_format == "lvm1";
    if !lvm1 && !v.policy.release_on_remove {
        return Ok(());
    }
    let _vglock = crate::write::lock_vgs(&env.lock_dir, std::slice::from_ref(&v.vg), env.lock_wait)
        .map_err(|e| KitError::new("110026", &[("vg", &v.vg), ("why", "cannot lock the VG")]).caused(e))?;
    let read = match read_vg(env, v) {
        Ok(r) => r,
        Err(e) => {
            // The devices are gone already; nothing can be written, and the next restore
            // (anywhere) decides ownership again.
            out.notes.push(format!("{}: not released, its PVs cannot be read: {}", v.vg, e.message));
            return Ok(());
        }
    };
    let name = read.vg().name().to_string();
    let fail = |e: lvmkit_metadata::write::WriteError| {
        KitError::new("110026", &[("vg", &name), ("why", &e.to_string())]).caused(e)
    };
    if lvm1 {
        if !read.vg().metadata.vg.is_exported() {
            crate::write::export_import(
                &read.src,
                std::slice::from_ref(&name),
                true,
                &env.context(None),
                &env.backups,
            )
            .map_err(fail)?;
            out.released = true;
        }
    } else if read.vg().metadata.vg.system_id.as_deref().is_some_and(|s| !s.is_empty()) {
        let avg = read.vg();
        let new =
            ops::apply(&avg.metadata, &[Change::SetSystemId(None)], &env.context(None)).map_err(fail)?;
        let t = crate::write::targets(&read.src, avg).map_err(fail)?;
        backup::commit_with_backups(&t, &avg.metadata, &new, &env.backups).map_err(fail)?;
        out.released = true;
    }
    Ok(())
}

/// quickCheck at `level` (0, 10 or 20).
pub fn quick_check(env: &Env, dm: &dyn DmControl, what: &str, level: u8) -> Result<Health, KitError> {
    let r = env.store.find(what)?;
    let (vg_res_id, vg, lv) = match &r.kind {
        Kind::Lvmvg(v) => (r.id.clone(), v.clone(), None),
        Kind::Lvmlv(l) => {
            let p = parent_of(env, &r)?;
            (p.id.clone(), vg_of(&p)?.clone(), Some(l.lv.clone()))
        }
    };
    let mut h = Health { id: r.id.clone(), level, devices: 0, pvs_read: 0, problems: Vec::new() };
    let mut problem = |severity, code, line: String| h.problems.push(Problem { severity, code, line });
    let prefix = uuid_prefix(&vg.vg_uuid);
    let own_prefix = match &r.kind {
        Kind::Lvmlv(l) => format!("{prefix}{}", l.lv_uuid.replace('-', "")),
        Kind::Lvmvg(_) => prefix.clone(),
    };
    let dmfail =
        |e: lvmkit_dm::control::Error| KitError::from_dm(e, || KitError::new("110009", &[("what", &r.id)]));
    let Some(state) = env.store.state(&vg_res_id)? else {
        let live = dm
            .list()
            .map_err(dmfail)?
            .into_iter()
            .filter(|d| d.uuid.as_deref().is_some_and(|u| u.starts_with(&own_prefix)))
            .count();
        if live == 0 {
            problem(Severity::NotInService, "110015", format!("{}: not in service (no device active)", r.id));
        } else {
            problem(
                Severity::Failed,
                "110009",
                format!("{}: {live} devices active, but not restored by the kit here (run restore)", r.id),
            );
        }
        return Ok(h);
    };
    let plan = match plan_state(env, &state, lv.clone().map(|l| vec![l])) {
        Ok(p) => p,
        Err(why) => {
            problem(
                Severity::Failed,
                "110009",
                format!("{}: the recorded activation cannot be planned: {why}", r.id),
            );
            return Ok(h);
        }
    };
    let st = lvmkit_activation::status::status(dm, &plan, lv.is_none().then_some(prefix.as_str()))
        .map_err(dmfail)?;
    h.devices = st.devices.len();
    let mut problem = |severity, code, line: String| h.problems.push(Problem { severity, code, line });
    let missing = st.devices.iter().filter(|d| d.live.is_none()).count();
    if !st.devices.is_empty() && missing == st.devices.len() && st.unplanned.is_empty() {
        problem(
            Severity::NotInService,
            "110015",
            format!("{}: not in service (none of its {} devices is active)", r.id, st.devices.len()),
        );
        return Ok(h);
    }
    for d in &st.devices {
        for p in &d.problems {
            problem(Severity::Failed, "110009", format!("{}: {p}", d.name));
        }
        let planned = plan.devices.iter().find(|p| p.uuid == d.uuid);
        let planned_errors = planned
            .map_or(0, |p| p.table.lines.iter().filter(|l| matches!(l.target, Target::Error(_))).count());
        if let Some(l) = &d.live {
            if d.problems.is_empty() && planned_errors > 0 {
                problem(
                    Severity::Degraded,
                    "110014",
                    format!(
                        "{}: {} areas mapped to error targets (partial activation)",
                        d.name, l.error_targets
                    ),
                );
            }
        }
        // A RAID leg that failed: the kernel's health characters say 'D'.
        if d.live.is_some()
            && planned.is_some_and(|p| p.table.lines.iter().any(|l| matches!(l.target, Target::Raid(_))))
        {
            if let Ok(lines) = dm.status(&DevId::Uuid(d.uuid.clone())) {
                for s in lines.iter().filter(|s| s.target_type == "raid") {
                    let health = s.status.split_whitespace().nth(2).unwrap_or("");
                    if health.contains('D') {
                        problem(
                            Severity::Degraded,
                            "110014",
                            format!("{}: RAID leg failed or missing (health {health})", d.name),
                        );
                    }
                }
            }
        }
    }
    for u in &st.unplanned {
        problem(
            Severity::Failed,
            "110009",
            format!("{}: active under the VG's uuid but not planned ({})", u.name, u.uuid),
        );
    }
    if level < 10 {
        return Ok(h);
    }
    let devices: Vec<(String, String)> =
        state.pvs.iter().filter_map(|p| Some((p.uuid.clone(), p.device.clone()?))).collect();
    let exe = env.probe_exe.clone().ok_or_else(|| {
        KitError::new("000002", &[("what", "quickCheck level 10 needs the lvmkit binary for its probes")])
    })?;
    let jobs: Vec<(String, u64)> = devices.iter().map(|(_, d)| (d.clone(), 0)).collect();
    let results = probe::probe_all(&exe, &jobs, env.probe_timeout);
    let mut readable: Vec<PathBuf> = Vec::new();
    for ((uuid, dev), res) in devices.iter().zip(results) {
        if res == probe::ProbeResult::Ok {
            readable.push(PathBuf::from(dev));
            continue;
        }
        let why = res.describe();
        problem(Severity::Failed, "110021", format!("PV {uuid} ({dev}): cannot be read: {why}"));
    }
    // The storage under each PV's device (the top device the tables map and the probe read):
    // a degraded md array or a multipath map with a failed path still serves I/O — degraded,
    // not failed; a map with no usable path left is a failure.
    for p in &state.pvs {
        let (Some(device), Some(dev)) = (p.device.as_deref(), p.dev.as_deref()) else { continue };
        let Ok(num) = dev.parse::<DevNum>() else { continue };
        match lvmkit_activation::health::component_health(dm, env.sysfs.as_ref(), num.to_dev_t()) {
            Ok(warnings) => {
                for w in warnings {
                    let severity = match w {
                        lvmkit_activation::health::ComponentWarning::MultipathNoPath { .. } => {
                            Severity::Failed
                        }
                        _ => Severity::Degraded,
                    };
                    let code = if severity == Severity::Degraded { "110014" } else { "110009" };
                    problem(severity, code, format!("PV {} ({device}): {w}", p.uuid));
                }
            }
            Err(e) => problem(
                Severity::Failed,
                "110009",
                format!("PV {} ({device}): the health of the storage under it cannot be read: {e}", p.uuid),
            ),
        }
    }
    h.pvs_read = readable.len();
    if level < 20 {
        return Ok(h);
    }
    // Only the PVs that answered: a dead path must not hang the check here either (and no
    // PV answering is no reason for a scan of every device: an empty list would be one).
    if readable.is_empty() {
        h.problems.push(Problem {
            severity: Severity::Failed,
            code: "110011",
            line: format!("{}: metadata not re-read: none of its PVs answered", vg.vg),
        });
        return Ok(h);
    }
    let src = crate::source::Source::load(&readable, false);
    let uuid = lvmkit_metadata::id::LvmId::parse(&vg.vg_uuid).ok();
    let Some(avg) = src.assembly.vgs.iter().find(|v| Some(v.metadata.vg.id) == uuid) else {
        h.problems.push(Problem {
            severity: Severity::Failed,
            code: "110011",
            line: format!("{}: metadata not found on its readable PVs", vg.vg),
        });
        return Ok(h);
    };
    let md = &avg.metadata.vg;
    let owner = md.system_id.clone().filter(|s| !s.is_empty());
    if md.format.as_deref() != Some("lvm1") && owner.is_some() && owner != env.host_system_id {
        // The split-brain signal: first, and alone decides the status.
        h.problems.insert(
            0,
            Problem {
                severity: Severity::Ownership,
                code: "110016",
                line: super::catalog::fill(
                    super::catalog::entry("110016").map_or("", |e| e.message),
                    &[
                        ("vg", &md.name),
                        ("owner", owner.as_deref().unwrap_or("")),
                        ("ours", env.host_system_id.as_deref().unwrap_or("no system ID")),
                    ],
                ),
            },
        );
        return Ok(h);
    }
    if md.seqno != state.seqno {
        h.problems.push(Problem {
            severity: Severity::Failed,
            code: "110018",
            line: format!(
                "{}: metadata changed on disk (seqno {} -> {}): recover refreshes",
                md.name, state.seqno, md.seqno
            ),
        });
    }
    Ok(h)
}

/// Recover (local recovery): recreate missing devices, reload tables that differ from the
/// current on-disk metadata, resume suspended ones. A PV that is gone or unreadable fails
/// with 110002, an owner that is not us with 110016.
pub fn recover(env: &Env, dm: &dyn DmControl, what: &str) -> Result<Recovered, KitError> {
    let r = env.store.find(what)?;
    let _lock = env.store.lock(&r.id, super::store::LOCK_WAIT)?;
    let (vg_res, v, lv) = match &r.kind {
        Kind::Lvmvg(v) => (r.clone(), v.clone(), None),
        Kind::Lvmlv(l) => {
            let p = parent_of(env, &r)?;
            let v = vg_of(&p)?.clone();
            (p, v, Some(l.lv.clone()))
        }
    };
    let _vglock = crate::write::lock_vgs(&env.lock_dir, std::slice::from_ref(&v.vg), env.lock_wait)
        .map_err(|e| KitError::new("110011", &[("vg", &v.vg), ("why", "cannot lock the VG")]).caused(e))?;
    // Every recorded PV must answer before anything reads it here (the cluster moves the
    // hierarchy when one does not).
    probe_recorded(env, &v, true)?;
    let read = read_vg(env, &v)?;
    if let Some(e) = read.duplicate() {
        return Err(e);
    }
    if let (ActivationPolicy::Complete, Some((uuid, hint))) = (v.policy.activation, read.missing().first()) {
        return Err(KitError::new(
            "110002",
            &[
                ("pv", &format!("{uuid}{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())),
                ("vg", &v.vg),
            ],
        ));
    }
    for i in 0..read.vg().pv_devices.len() {
        let Some(d) = read.vg().pv_devices[i] else { continue };
        let pv = &read.src.scan.pvs[d];
        if let Err(e) = lvmkit_metadata::device::read(
            pv.device.as_ref(),
            "PV probe",
            0,
            probe::PROBE_BYTES.min(pv.device.size()),
        ) {
            return Err(KitError::new(
                "110002",
                &[("pv", &read.vg().metadata.vg.pvs[i].id.to_string()), ("vg", &v.vg)],
            )
            .caused(e));
        }
    }
    let md = &read.vg().metadata.vg;
    let owner = md.system_id.clone().filter(|s| !s.is_empty());
    if md.format.as_deref() != Some("lvm1") && owner.is_some() && owner != env.host_system_id {
        return Err(KitError::new(
            "110016",
            &[
                ("vg", &md.name),
                ("owner", owner.as_deref().unwrap_or("")),
                ("ours", env.host_system_id.as_deref().unwrap_or("no system ID")),
            ],
        ));
    }
    let old = env.store.state(&vg_res.id).ok().flatten().map(|s| s.seqno);
    let mut out = Recovered {
        id: r.id.clone(),
        seqno: (md.seqno, old.filter(|o| *o != md.seqno)),
        ..Default::default()
    };
    let what = match &lv {
        Some(_) => Subject::Lv(r.tag.clone()),
        None => Subject::Vg(md.name.clone()),
    };
    let popts = plan_options(env, v.policy.activation, lv.clone().map(|l| vec![l]));
    let plan = plan_read(env, &read, &popts, &what)?;
    let prefix = uuid_prefix(&v.vg_uuid);
    let all = plan_read(
        env,
        &read,
        &PlanOptions { ignore_activation_skip: true, ..plan_options(env, v.policy.activation, None) },
        &what,
    )
    .map(|p| p.devices.iter().map(|d| d.uuid.to_string()).collect::<Vec<_>>())
    .unwrap_or_default();
    let known = |u: &str| all.iter().any(|k| k == u) || plan.devices.iter().any(|d| d.uuid.as_str() == u);
    let done = apply::refresh(dm, &plan, known, &prefix, &env.apply)
        .map_err(|e| activation_error(&what, Cause::Apply(e)))?;
    out.devices = done.activated.devices.into_iter().map(|(n, _, o)| (n.to_string(), o)).collect();
    out.removed = done.removed;
    for (name, open) in done.left {
        out.notes.push(format!("{name} (open {open}) is not in the current metadata: left alone"));
    }
    if lv.is_none() || env.store.state(&vg_res.id).ok().flatten().is_some() {
        env.store.set_state(&vg_res.id, &state_of(env, &read, v.policy.activation))?;
    }
    Ok(out)
}

#[cfg(test)]
mod activation_error_tests {
    use super::*;

    #[test]
    fn a_refused_plan_gives_its_reason_and_a_dm_failure_its_errno() {
        let plan = lvmkit_activation::Error::NoSuchLv { vg: "vg1".into(), lv: "lv9".into() };
        let e = activation_error(&Subject::Vg("vg1".into()), Cause::Plan(plan));
        assert_eq!(e.code, "110013");
        assert_eq!(
            e.message,
            "Failed to make the LVM volume group vg1 active because planning refused: VG vg1 has no LV lv9"
        );
        assert!(!e.message.contains("unknown"), "{e}");
        let io = Cause::Io { path: "/dev/x".into(), source: std::io::Error::from_raw_os_error(5) };
        let e = activation_error(&Subject::Lv("vg1/lv1".into()), io);
        assert_eq!(e.code, "110010");
        assert_eq!(e.message, "Failed to make the LVM logical volume vg1/lv1 active with error code 5");
    }
}
