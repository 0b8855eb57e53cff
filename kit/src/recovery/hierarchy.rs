//! Hierarchy operations: create (resources from a VG or LVs), delete, list/show (the tree
//! lv → vg → disk(s)), export / canextend / extend (another server takes part in the
//! hierarchy; both record each other as peers), adddelpv (the VG's PV set changed).
//!
//! Peers: `extend FILE` on server B records B and every server of the template. For the
//! primary A to record B, B exports its (extended) hierarchy and A runs `extend` with that
//! template: a resource that exists with the same VG UUID only gains the servers it lacks.

use lvmkit_metadata::assemble::Finding;
use lvmkit_metadata::write::backup;
use lvmkit_metadata::write::ops::{self, Change};
use serde::{Deserialize, Serialize};

use super::catalog::{Cause, KitError};
use super::resource::{
    self, Kind, LvResource, OwnershipPolicy, Policy, PvRecord, Resource, Server, VgResource,
};
use super::{Env, Read, controlled, read_vg, read_vg_by_name};

/// What create/extend did.
#[derive(Debug, Default)]
pub struct Created {
    /// Resources created (IDs), VG first.
    pub created: Vec<String>,
    /// Resources that existed and were updated (extend: peers added).
    pub updated: Vec<String>,
    /// VG autoactivation was turned off.
    pub autoactivation_off: Vec<String>,
    /// VGs owned by a peer ([`create_with_peers`]): their autoactivation is left for the first
    /// restore to turn off, in its takeover write ([`super::actions::RestoreOptions::fix`]).
    pub autoactivation_deferred: Vec<String>,
    /// VGs [`prepare_with_peers`] left for the start to create: this server's own or nobody's,
    /// whose creation writes the VG (autoactivation off).
    pub left_to_start: Vec<String>,
    /// Warnings (110007, …).
    pub warnings: Vec<KitError>,
}

/// Whether creating a resource may write the VG (turn its autoactivation off).
#[derive(Clone, Copy, PartialEq, Eq)]
enum VgWrites {
    Allowed,
    /// A cluster's probe: the VG is read, never written.
    Never,
}

fn pv_records(env: &Env, read: &Read) -> Result<Vec<PvRecord>, KitError> {
    let vg = read.vg();
    let mut out = Vec::new();
    for (i, p) in vg.metadata.vg.pvs.iter().enumerate() {
        let Some(d) = vg.pv_devices[i] else {
            return Err(KitError::new("110002", &[("pv", &p.id.to_string()), ("vg", vg.name())]));
        };
        out.push(env.pv_record(p.id.to_string(), &read.src.scan.pvs[d]));
    }
    Ok(out)
}

/// The IDs and tags of the store, read once per command: every new resource is checked
/// against it (and against the resources the command adds before it), so that creating n
/// resources reads the store once rather than n times.
struct Taken {
    ids: std::collections::HashSet<String>,
    tags: std::collections::HashSet<String>,
}

impl Taken {
    fn load(env: &Env) -> Result<Taken, KitError> {
        let (all, _) = env.store.list()?;
        Ok(Taken {
            ids: all.iter().map(|r| r.id.clone()).collect(),
            tags: all.into_iter().map(|r| r.tag).collect(),
        })
    }

    /// Refuse `r` when its ID (110004: also an unreadable file of that name) or its tag
    /// (000014) is taken; otherwise take them.
    fn claim(&mut self, env: &Env, r: &Resource) -> Result<(), KitError> {
        if self.ids.contains(&r.id) || env.store.path(&r.id).exists() {
            return Err(KitError::new("110004", &[("id", &r.id)]));
        }
        if self.tags.contains(&r.tag) {
            return Err(KitError::new("000014", &[("tag", &r.tag)]));
        }
        self.ids.insert(r.id.clone());
        self.tags.insert(r.tag.clone());
        Ok(())
    }
}

/// Turn a VG's autoactivation off (`vgchange --setautoactivation n`), through lvm2's commit
/// protocol with lvmkit's lock, archive and backup settings. `Ok(false)`: it was off already
/// (or the VG is LVM1, which has no such flag).
fn autoactivation_off(env: &Env, read: &Read) -> Result<bool, KitError> {
    let avg = read.vg();
    let md = &avg.metadata.vg;
    if md.format.as_deref() == Some("lvm1") || md.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")) {
        return Ok(false);
    }
    let name = md.name.clone();
    let owner = md.system_id.clone().filter(|s| !s.is_empty());
    if owner.is_some() && owner != env.host_system_id {
        return Err(KitError::new("110003", &[("vg", &name), ("owner", owner.as_deref().unwrap_or(""))])
            .detail("its autoactivation cannot be turned off here; create the hierarchy on its owner"));
    }
    let fail = |e: lvmkit_metadata::write::WriteError| {
        KitError::new("110012", &[("vg", &name), ("why", &e.to_string())]).caused(e)
    };
    let new =
        ops::apply(&avg.metadata, &[Change::SetAutoactivation(false)], &env.context(None)).map_err(fail)?;
    let t = crate::write::targets(&read.src, avg).map_err(fail)?;
    backup::commit_with_backups(&t, &avg.metadata, &new, &env.backups).map_err(fail)?;
    Ok(true)
}

/// `create VG|/dev/VG/LV…`: the lvmvg resource (unless it exists and only LVs are named) and
/// lvmlv resources for the named LVs (every visible LV when only the VG is named); the VG goes
/// on the controlled list and its autoactivation off.
pub fn create(env: &Env, args: &[String], policy: Option<Policy>) -> Result<Created, KitError> {
    create_inner(env, args, policy, &[], true, VgWrites::Allowed)
}

/// [`create`] on a server that knows its peers already (a cluster's members, `crm_node -l`):
/// the VG resource records them besides this server, and a VG owned by one of them (by system
/// ID) may be created here although this server cannot write it yet — its autoactivation is
/// turned off by the first restore's takeover ([`Created::autoactivation_deferred`]). A VG
/// owned by a host that is no peer is refused (110003) before anything is written: no
/// resource file, no controlled-list entry, no metadata write. A VG named alone gets its
/// lvmvg resource only (a cluster resource manages the VG as a whole: no lvmlv per LV, which
/// at 100 LVs made a node's first start write 100 files more).
pub fn create_with_peers(
    env: &Env,
    args: &[String],
    policy: Option<Policy>,
    peers: &[Server],
) -> Result<Created, KitError> {
    create_inner(env, args, policy, peers, false, VgWrites::Allowed)
}

/// [`create_with_peers`] ahead of a first start, as a cluster's probe does it on a node that
/// has no resource for the VG yet: the scan for the VG, the PV records and the resource file
/// leave the failover path. Only a VG owned by one of the peers is prepared, because its
/// creation writes nothing to the VG (the start's takeover turns its autoactivation off);
/// one that is this server's own or nobody's is left to the start
/// ([`Created::left_to_start`]), and one owned by a host that is no peer is refused (110003)
/// as [`create_with_peers`] refuses it. The start's restore checks the record against the
/// disks and rescans when a PV moved or was added since.
pub fn prepare_with_peers(
    env: &Env,
    args: &[String],
    policy: Option<Policy>,
    peers: &[Server],
) -> Result<Created, KitError> {
    create_inner(env, args, policy, peers, false, VgWrites::Never)
}

/// `every_lv`: a VG named alone gets an lvmlv resource for each visible LV too.
fn create_inner(
    env: &Env,
    args: &[String],
    policy: Option<Policy>,
    peers: &[Server],
    every_lv: bool,
    writes: VgWrites,
) -> Result<Created, KitError> {
    if args.is_empty() {
        return Err(KitError::new("000002", &[("what", "create needs VG or /dev/VG/LV arguments")]));
    }
    let targets = crate::target::Target::parse_all(args)
        .map_err(|e| KitError::new("000002", &[("what", &format!("create: {e}"))]))?;
    let groups = crate::target::by_vg(&targets);
    let mut out = Created::default();
    for (vgname, lvs) in groups {
        let _vglock = crate::write::lock_vgs(&env.lock_dir, std::slice::from_ref(&vgname), env.lock_wait)
            .map_err(|e| {
                KitError::new("110011", &[("vg", &vgname), ("why", "cannot lock the VG")]).caused(e)
            })?;
        let read = read_vg_by_name(env, &vgname)?;
        if let Some(e) = read.duplicate() {
            return Err(e);
        }
        let md = read.vg().metadata.clone();
        let format = md.vg.format.clone().unwrap_or_else(|| "lvm2".into());
        let vg_res = Resource::vg(VgResource {
            vg: vgname.clone(),
            vg_uuid: md.vg.id.to_string(),
            vg_format: format.clone(),
            pvs: pv_records(env, &read)?,
            servers: std::iter::once(Server {
                name: env.server.clone(),
                system_id: env.host_system_id.clone(),
            })
            .chain(peers.iter().filter(|p| p.name != env.server).cloned())
            .collect(),
            policy: policy.unwrap_or(Policy {
                ownership: if env.host_system_id.is_some() && format == "lvm2" {
                    OwnershipPolicy::SystemId
                } else {
                    OwnershipPolicy::None
                },
                ..Default::default()
            }),
        });
        let existing = env.store.load(&vg_res.id)?;
        let mut new: Vec<Resource> = Vec::new();
        let mut taken = Taken::load(env)?;
        match (&existing, &lvs) {
            (Some(e), Some(_)) if e.vg_uuid() == vg_res.vg_uuid() => {}
            (Some(e), _) => return Err(KitError::new("110004", &[("id", &e.id)])),
            (None, _) => {
                taken.claim(env, &vg_res)?;
                new.push(vg_res.clone());
            }
        }
        let names: Vec<String> = match &lvs {
            Some(l) => l.clone(),
            None if every_lv => md.vg.lvs.iter().filter(|l| l.is_visible()).map(|l| l.name.clone()).collect(),
            None => Vec::new(),
        };
        for lv in &names {
            let l = md.vg.lv(lv).ok_or_else(|| KitError::new("110001", &[("lv", lv), ("vg", &vgname)]))?;
            let r = Resource::lv(LvResource {
                vg: vgname.clone(),
                vg_uuid: md.vg.id.to_string(),
                lv: lv.clone(),
                lv_uuid: l.id.to_string(),
            });
            taken.claim(env, &r)?;
            new.push(r);
        }
        let owner = md.vg.system_id.clone().filter(|s| !s.is_empty());
        let foreign = owner.as_ref().filter(|o| Some(*o) != env.host_system_id.as_ref());
        match foreign {
            Some(o) if peers.iter().any(|p| p.name != env.server && p.system_id.as_ref() == Some(o)) => {
                out.autoactivation_deferred.push(vgname.clone());
            }
            Some(o) if !peers.is_empty() => {
                return Err(KitError::new("110003", &[("vg", &vgname), ("owner", o)]).detail(format!(
                    "the owner is none of the peers: {}",
                    peers
                        .iter()
                        .map(|p| format!("{} ({})", p.name, p.system_id.as_deref().unwrap_or("no system ID")))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            _ if writes == VgWrites::Never => {
                out.left_to_start.push(vgname.clone());
                continue;
            }
            _ => {
                if autoactivation_off(env, &read)? {
                    out.autoactivation_off.push(vgname.clone());
                }
            }
        }
        for r in &new {
            env.store.create(r)?;
            out.created.push(r.id.clone());
        }
        if let Err(w) = controlled::add(&env.controlled, &vgname, &md.vg.id.to_string()) {
            out.warnings.push(w);
        }
    }
    Ok(out)
}

/// What delete did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// Resources deleted.
    pub deleted: Vec<String>,
    /// VGs taken off the controlled list.
    pub uncontrolled: Vec<String>,
    /// Warnings.
    pub warnings: Vec<KitError>,
}

/// `delete TAG|ID`: remove resources from the kit (the VG is never touched). An lvmvg with
/// lvmlv resources depending on it is refused unless `hierarchy` (then they go too).
pub fn delete(env: &Env, what: &str, hierarchy: bool) -> Result<Deleted, KitError> {
    let r = env.store.find(what)?;
    let _lock = env.store.lock(&r.id, super::store::LOCK_WAIT)?;
    let (all, _) = env.store.list()?;
    let dependents: Vec<&Resource> = all.iter().filter(|o| o.depends_on.contains(&r.id)).collect();
    if !dependents.is_empty() && !hierarchy {
        return Err(KitError::new(
            "000002",
            &[(
                "what",
                &format!(
                    "{} has dependent resources ({}): delete them first, or the whole hierarchy with --hierarchy",
                    r.id,
                    dependents.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )],
        ));
    }
    let mut out = Deleted::default();
    for d in dependents {
        env.store.delete(&d.id)?;
        out.deleted.push(d.id.clone());
    }
    env.store.delete(&r.id)?;
    out.deleted.push(r.id.clone());
    let (left, _) = env.store.list()?;
    if !left.iter().any(|o| o.vg_uuid() == r.vg_uuid()) {
        match controlled::remove(&env.controlled, r.vg_uuid()) {
            Ok(()) => out.uncontrolled.push(r.vg_name().to_string()),
            Err(w) => out.warnings.push(w),
        }
    }
    Ok(out)
}

/// One node of the hierarchy tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// Resource ID, or the disk's path for a disk.
    pub id: String,
    /// Tag (disks: their path).
    pub tag: String,
    /// `lvmlv`, `lvmvg` or `disk`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it depends on.
    pub children: Vec<Node>,
}

fn vg_node(r: &Resource) -> Node {
    let disk = |d: String, children| Node { id: d.clone(), tag: d, kind: "disk".into(), children };
    let children = match &r.kind {
        // A disk built on others (an md array, a multipath map) over its members / paths.
        Kind::Lvmvg(v) => v
            .disks()
            .into_iter()
            .map(|d| {
                let under = v.components_of(&d).into_iter().map(|c| disk(c, Vec::new())).collect();
                disk(d, under)
            })
            .collect(),
        Kind::Lvmlv(_) => Vec::new(),
    };
    Node { id: r.id.clone(), tag: r.tag.clone(), kind: r.type_name().into(), children }
}

/// The hierarchies: each lvmlv over its lvmvg over its disks; an lvmvg no lvmlv depends on is
/// a root of its own. `only`: the hierarchy of one resource (its dependents and what it
/// depends on).
pub fn tree(all: &[Resource], only: Option<&Resource>) -> Vec<Node> {
    let vg_of = |id: &str| all.iter().find(|r| r.id == id);
    let mut roots = Vec::new();
    let selected = |r: &Resource| match only {
        None => true,
        Some(o) => o.id == r.id || r.depends_on.contains(&o.id) || o.depends_on.contains(&r.id),
    };
    for r in all.iter().filter(|r| matches!(r.kind, Kind::Lvmlv(_)) && selected(r)) {
        let children = r.depends_on.iter().filter_map(|d| vg_of(d)).map(vg_node).collect();
        roots.push(Node { id: r.id.clone(), tag: r.tag.clone(), kind: "lvmlv".into(), children });
    }
    for r in all.iter().filter(|r| matches!(r.kind, Kind::Lvmvg(_))) {
        let has_parent = all.iter().any(|o| o.depends_on.contains(&r.id));
        let wanted = match only {
            None => !has_parent,
            Some(o) => o.id == r.id && !roots.iter().any(|n: &Node| n.children.iter().any(|c| c.id == r.id)),
        };
        if wanted {
            roots.push(vg_node(r));
        }
    }
    roots
}

/// The tree as text: `TAG (ID, TYPE)` lines with `├──`/`└──` branches.
pub fn format_tree(nodes: &[Node]) -> String {
    fn walk(n: &Node, prefix: &str, last: bool, top: bool, out: &mut String) {
        let label =
            if n.kind == "disk" { n.tag.clone() } else { format!("{} ({}, {})", n.tag, n.id, n.kind) };
        if top {
            out.push_str(&format!("{label}\n"));
        } else {
            out.push_str(&format!("{prefix}{}{label}\n", if last { "└── " } else { "├── " }));
        }
        let next =
            if top { String::new() } else { format!("{prefix}{}", if last { "    " } else { "│   " }) };
        for (i, c) in n.children.iter().enumerate() {
            walk(c, &next, i + 1 == n.children.len(), false, out);
        }
    }
    let mut out = String::new();
    for n in nodes {
        walk(n, "", true, true, &mut out);
    }
    out
}

/// `format` of templates.
pub const TEMPLATE_FORMAT: &str = "lvmkit-kit-template";

/// What `export` writes and `canextend`/`extend` read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// [`TEMPLATE_FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// The exporting server.
    pub server: Server,
    /// The lvmvg resource, then its lvmlv resources.
    pub resources: Vec<Resource>,
}

/// `export TAG`: the hierarchy of the resource's VG as a template.
pub fn export(env: &Env, what: &str) -> Result<Template, KitError> {
    let r = env.store.find(what)?;
    let (all, _) = env.store.list()?;
    let vg_id = resource::vg_id(r.vg_name());
    let mut resources: Vec<Resource> = all.iter().filter(|o| o.id == vg_id).cloned().collect();
    if resources.is_empty() {
        return Err(KitError::new("000019", &[("what", &vg_id)]));
    }
    resources.extend(all.into_iter().filter(|o| o.depends_on.contains(&vg_id)));
    Ok(Template {
        format: TEMPLATE_FORMAT.into(),
        version: resource::VERSION,
        server: Server { name: env.server.clone(), system_id: env.host_system_id.clone() },
        resources,
    })
}

/// Read a template file (110022 when unusable).
pub fn read_template(path: &std::path::Path) -> Result<Template, KitError> {
    let file = path.display().to_string();
    let bad = |why: String| KitError::new("110022", &[("file", &file), ("why", &why)]);
    let bytes = std::fs::read(path)
        .map_err(|e| bad(e.to_string()).caused(Cause::Io { path: file.clone(), source: e }))?;
    let t: Template = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a template ({e})")))?;
    if t.format != TEMPLATE_FORMAT {
        return Err(bad(format!("format is {:?}, expected \"{TEMPLATE_FORMAT}\"", t.format)));
    }
    if t.version > resource::VERSION {
        return Err(bad(format!("version {} is newer than this lvmkit reads", t.version)));
    }
    if !matches!(t.resources.first().map(|r| &r.kind), Some(Kind::Lvmvg(_))) {
        return Err(bad("it does not start with an lvmvg resource".into()));
    }
    Ok(t)
}

/// canextend's answer: empty `reasons` means yes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CanExtend {
    /// The VG.
    pub vg: String,
    /// The PVs as found here (recorded on extend).
    pub pvs: Vec<PvRecord>,
    /// Why not, one line each.
    pub reasons: Vec<String>,
}

/// `canextend FILE`: every PV of the template visible here by UUID with the same size, none
/// seen twice, the VG of the same format.
pub fn canextend(env: &Env, t: &Template) -> CanExtend {
    let Kind::Lvmvg(v) = &t.resources[0].kind else { unreachable!("read_template checks") };
    let mut out = CanExtend { vg: v.vg.clone(), ..Default::default() };
    let src = env.load(&[]);
    for p in &v.pvs {
        let found: Vec<usize> = src
            .scan
            .pvs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.label.pv_header.pv_uuid.to_string() == p.uuid)
            .map(|(i, _)| i)
            .collect();
        match found[..] {
            [] => out
                .reasons
                .push(format!("PV {} ({} on {}) is not visible here", p.uuid, p.device, t.server.name)),
            [i] => {
                let s = &src.scan.pvs[i];
                if s.dev_size != p.size {
                    out.reasons.push(format!(
                        "PV {} on {} has {} bytes here, {} on {}",
                        p.uuid,
                        s.name(),
                        s.dev_size,
                        p.size,
                        t.server.name
                    ));
                }
                out.pvs.push(env.pv_record(p.uuid.clone(), s));
            }
            _ => out.reasons.push(format!(
                "PV {} is seen on more than one device here: {}",
                p.uuid,
                found.iter().map(|&i| src.scan.pvs[i].name()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
    if out.reasons.is_empty() {
        let uuid = lvmkit_metadata::id::LvmId::parse(&v.vg_uuid).ok();
        match src.assembly.vgs.iter().find(|g| Some(g.metadata.vg.id) == uuid) {
            None => out
                .reasons
                .push(format!("VG {} ({}) is not assembled from the devices here", v.vg, v.vg_uuid)),
            Some(g) => {
                let f = g.metadata.vg.format.clone().unwrap_or_else(|| "lvm2".into());
                if f != v.vg_format {
                    out.reasons
                        .push(format!("VG {} is {f} here, {} on {}", v.vg, v.vg_format, t.server.name));
                }
            }
        }
    }
    out
}

/// `extend FILE`: create the template's resources here (with this server's device paths),
/// recording every server of the template and this one; resources that exist here for the
/// same VG only gain the servers they lack (this is how the primary records a new peer).
pub fn extend(env: &Env, t: &Template) -> Result<Created, KitError> {
    let Kind::Lvmvg(tv) = &t.resources[0].kind else { unreachable!("read_template checks") };
    let check = canextend(env, t);
    if !check.reasons.is_empty() {
        return Err(KitError::new("110023", &[("vg", &tv.vg), ("why", &check.reasons.join("; "))]));
    }
    let me = Server { name: env.server.clone(), system_id: env.host_system_id.clone() };
    let mut servers = tv.servers.clone();
    for s in [t.server.clone(), me] {
        match servers.iter_mut().find(|x| x.name == s.name) {
            Some(x) => *x = s,
            None => servers.push(s),
        }
    }
    // Check every resource first (against the store, read once, and each other), then write.
    let mut taken = Taken::load(env)?;
    let mut updates: Vec<String> = Vec::new();
    let mut creates: Vec<Resource> = Vec::new();
    for tr in &t.resources {
        let existing = env.store.load(&tr.id)?;
        match (&tr.kind, existing) {
            (_, Some(e)) if e.vg_uuid() != tr.vg_uuid() => {
                return Err(KitError::new("110004", &[("id", &e.id)]));
            }
            (Kind::Lvmvg(_), Some(e)) => updates.push(e.id),
            (Kind::Lvmlv(_), Some(_)) => {}
            (Kind::Lvmvg(v), None) => {
                let mut v = v.clone();
                v.pvs = check.pvs.clone();
                v.servers = servers.clone();
                let r = Resource::vg(v);
                taken.claim(env, &r)?;
                creates.push(r);
            }
            (Kind::Lvmlv(_), None) => {
                taken.claim(env, tr)?;
                creates.push(tr.clone());
            }
        }
    }
    let mut out = Created::default();
    for id in updates {
        let _lock = env.store.lock(&id, super::store::LOCK_WAIT)?;
        // Re-read under the lock: another action may have changed it since.
        let Some(mut e) = env.store.load(&id)? else { continue };
        if let Kind::Lvmvg(v) = &mut e.kind {
            let before = v.servers.len();
            for s in &servers {
                if !v.servers.iter().any(|x| x.name == s.name) {
                    v.servers.push(s.clone());
                }
            }
            if v.servers.len() != before {
                env.store.save(&e)?;
                out.updated.push(e.id.clone());
            }
        }
    }
    for r in &creates {
        env.store.create(r)?;
        out.created.push(r.id.clone());
    }
    if let Err(w) = controlled::add(&env.controlled, &tv.vg, &tv.vg_uuid) {
        out.warnings.push(w);
    }
    Ok(out)
}

/// adddelpv's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PvChanges {
    /// The resource.
    pub id: String,
    /// PVs on disk now that the resource does not record.
    pub added: Vec<PvRecord>,
    /// PVs the resource records that the VG no longer has.
    pub removed: Vec<PvRecord>,
    /// The resource was updated.
    pub applied: bool,
    /// Peers on which `canextend` must confirm the new PVs are visible.
    pub confirm_on: Vec<String>,
}

/// The lists adddelpv was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PvSelection {
    /// Only report.
    Report,
    /// Accept what was detected.
    Yes,
    /// Exactly these (device paths or PV UUIDs) added and removed.
    Lists(Vec<String>, Vec<String>),
}

/// The 110006 usage error.
pub fn adddelpv_usage() -> KitError {
    KitError::new("110006", &[])
}

/// `adddelpv VGTAG [ADDLIST DELLIST] [--yes]`: compare the VG's PV set on disk with the
/// resource's; with lists or `Yes`, record the change (PVs and disks). A PV to add that this
/// server cannot see is refused (110025).
pub fn adddelpv(env: &Env, what: &str, sel: &PvSelection) -> Result<PvChanges, KitError> {
    let r = env.store.find(what)?;
    let Kind::Lvmvg(v) = &r.kind else {
        return Err(adddelpv_usage().detail(format!("{} is not an lvmvg resource", r.id)));
    };
    let _lock = env.store.lock(&r.id, super::store::LOCK_WAIT)?;
    // The VG as on disk now; new PVs are found by a full scan when not among the recorded ones.
    let read = read_vg(env, v)?;
    let vg = read.vg();
    let mut now: Vec<PvRecord> = Vec::new();
    for (i, p) in vg.metadata.vg.pvs.iter().enumerate() {
        now.push(match vg.pv_devices[i] {
            Some(d) => env.pv_record(p.id.to_string(), &read.src.scan.pvs[d]),
            // Not visible here: no disk (adddelpv refuses to record it).
            None => PvRecord {
                uuid: p.id.to_string(),
                device: p.device.clone().unwrap_or_default(),
                size: 0,
                disk: String::new(),
                components: Vec::new(),
            },
        });
    }
    let mut out = PvChanges { id: r.id.clone(), ..Default::default() };
    out.added = now.iter().filter(|n| !v.pvs.iter().any(|p| p.uuid == n.uuid)).cloned().collect();
    out.removed = v.pvs.iter().filter(|p| !now.iter().any(|n| n.uuid == p.uuid)).cloned().collect();
    out.confirm_on = v.peers(&env.server).iter().map(|s| s.name.clone()).collect();
    let (add, del): (Vec<PvRecord>, Vec<PvRecord>) = match sel {
        PvSelection::Report => return Ok(out),
        PvSelection::Yes => (out.added.clone(), out.removed.clone()),
        PvSelection::Lists(a, d) => {
            let pick =
                |list: &[String], from: &[PvRecord], code: &'static str| -> Result<Vec<PvRecord>, KitError> {
                    list.iter()
                        .map(|x| {
                            from.iter().find(|p| &p.uuid == x || &p.device == x).cloned().ok_or_else(|| {
                                if code == "110025" {
                                    KitError::new("110025", &[("pv", x)])
                                } else {
                                    adddelpv_usage().detail(format!(
                                        "{x} is not a PV the resource records and the VG no longer has"
                                    ))
                                }
                            })
                        })
                        .collect()
                };
            (pick(a, &out.added, "110025")?, pick(d, &out.removed, "110006")?)
        }
    };
    // Refuse a PV this server cannot see.
    let visible_uuids: Vec<String> =
        read.src.scan.pvs.iter().map(|p| p.label.pv_header.pv_uuid.to_string()).collect();
    if let Some(p) = add.iter().find(|p| !visible_uuids.contains(&p.uuid) || p.disk.is_empty()) {
        return Err(KitError::new("110025", &[("pv", &p.uuid)]));
    }
    if read.src.assembly.findings.iter().any(|f| matches!(f, Finding::DuplicatePv { pv_uuid, .. } if add.iter().any(|a| a.uuid == pv_uuid.to_string()))) {
        return read.duplicate().map_or(Ok(out.clone()), Err);
    }
    let mut nv = v.clone();
    nv.pvs.retain(|p| !del.iter().any(|d| d.uuid == p.uuid));
    nv.pvs.extend(add);
    let mut nr = r.clone();
    nr.kind = Kind::Lvmvg(nv);
    env.store.save(&nr)?;
    out.applied = true;
    Ok(out)
}
