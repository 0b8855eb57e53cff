//! `ocf:lvmkit:lvmvg`: a Pacemaker (OCF 1.0/1.1) resource agent over the recovery kit.
//!
//! The agent is the `lvmkit` binary itself, invoked as `lvmvg ACTION` (an installed symlink or
//! wrapper, `lvmkit ocf install`) or `lvmkit ocf agent ACTION`. Everything is here, in the
//! library: the parameters ([`params::PARAMS`], one table for meta-data, validation and the
//! `OCF_RESKEY_*` parsing), the action dispatch ([`run`]) and the mapping of the kit's exit
//! statuses and catalog codes to OCF exit codes ([`Status`]). `cli_ocf.rs` only collects the
//! environment and prints.
//!
//! | action | what the kit does |
//! |---|---|
//! | start | creates the kit resource of this instance when absent (VG or VG/LV, policy from the parameters, the cluster's node names as peers; autoactivation off — by the takeover when a peer owns the VG, refused when an outsider does), fills in those peers when an existing resource has none, then `restore` |
//! | stop | `remove` (with no resource recorded: the VG's live devices are removed by name, reading no disk) |
//! | monitor | `quickCheck` at `OCF_CHECK_LEVEL` 0, 10 or 20 |
//! | validate-all | parameters, device-mapper present, the VG visible with its LV |
//!
//! Exit codes (`OCF_*`): see [`Status`] and `README.md (the OCF agent)`.

pub mod meta;
pub mod params;

use std::path::{Path, PathBuf};
use std::time::Duration;

use lvmkit_dm::control::DmControl;

use crate::recovery::actions::{self, RestoreOptions, Severity};
use crate::recovery::catalog::status as kst;
use crate::recovery::resource::{ActivationPolicy, Kind, OwnershipPolicy, Policy, Server};
use crate::recovery::{Env, KitError, hierarchy};

pub use params::{PARAMS, Values};

/// OCF exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0 `OCF_SUCCESS`: done; monitor: running.
    Success,
    /// 1 `OCF_ERR_GENERIC`: failed, soft (the cluster retries or moves the resource).
    Generic,
    /// 2 `OCF_ERR_ARGS`: bad configuration on this node.
    Args,
    /// 3 `OCF_ERR_UNIMPLEMENTED`: no such action.
    Unimplemented,
    /// 5 `OCF_ERR_INSTALLED`: something this node lacks (device-mapper, a dm target).
    NotInstalled,
    /// 6 `OCF_ERR_CONFIGURED`: the configuration is wrong everywhere.
    NotConfigured,
    /// 7 `OCF_NOT_RUNNING`: cleanly not running (monitor only).
    NotRunning,
    /// 190 `OCF_DEGRADED` (OCF 1.1): running, but degraded (RAID with a leg missing).
    Degraded,
}

impl Status {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Generic => 1,
            Status::Args => 2,
            Status::Unimplemented => 3,
            Status::NotInstalled => 5,
            Status::NotConfigured => 6,
            Status::NotRunning => 7,
            Status::Degraded => 190,
        }
    }
}

/// A failed action: the OCF status, the kit's catalog code and the message printed as
/// `ocf-exit-reason:`.
#[derive(Debug, PartialEq, Eq)]
pub struct OcfError {
    /// OCF status.
    pub status: Status,
    /// Catalog code (`000002` for the agent's own parameter errors).
    pub code: &'static str,
    /// Message (the catalog's, filled in).
    pub message: String,
    /// The typed cause below, as text (may be empty).
    pub cause: String,
}

impl OcfError {
    /// A configuration error (`OCF_ERR_CONFIGURED`, catalog 000002).
    pub fn configured(message: String) -> OcfError {
        let k = KitError::new("000002", &[("what", &message)]);
        OcfError { status: Status::NotConfigured, code: k.code, message: k.message, cause: String::new() }
    }

    /// The `ocf-exit-reason:` line (without the prefix).
    pub fn reason(&self) -> String {
        format!("{} {}", self.code, self.message)
    }
}

/// The actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// start
    Start,
    /// stop
    Stop,
    /// monitor (and its legacy name `status`)
    Monitor,
    /// validate-all
    ValidateAll,
    /// meta-data
    MetaData,
}

impl Action {
    /// The action named `name`; `None` for anything else (`OCF_ERR_UNIMPLEMENTED`).
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "monitor" | "status" => Action::Monitor,
            "validate-all" => Action::ValidateAll,
            "meta-data" => Action::MetaData,
            _ => return None,
        })
    }
}

/// What one invocation was asked: the action and everything the environment says about it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The action.
    pub action: Action,
    /// `OCF_RESOURCE_INSTANCE`, made safe as a file name.
    pub instance: String,
    /// A probe: a monitor whose `OCF_RESKEY_CRM_meta_interval` is 0 or unset.
    pub probe: bool,
    /// `OCF_CHECK_LEVEL` mapped to a supported level (0, 10, 20).
    pub level: u8,
    /// Notes about the request for stderr (an unsupported level mapped down).
    pub notes: Vec<String>,
    /// The caller speaks OCF 1.1 (`OCF_RA_VERSION_MAJOR.MINOR` >= 1.1): degraded is 190.
    pub ocf_1_1: bool,
}

/// The monitor depth `OCF_CHECK_LEVEL` asks for: empty is 0; an unsupported number falls back
/// to the next lower supported level (OCF 1.1: 15 → 10, 30 → 20) with a note; anything else
/// is a configuration error.
pub fn check_level(v: Option<&str>) -> Result<(u8, Option<String>), OcfError> {
    let v = v.map(str::trim).unwrap_or("");
    if v.is_empty() {
        return Ok((0, None));
    }
    let n: u32 = v
        .parse()
        .map_err(|_| OcfError::configured(format!("OCF_CHECK_LEVEL={v:?} is not a number (0, 10 or 20)")))?;
    let level = match n {
        0..=9 => 0,
        10..=19 => 10,
        _ => 20,
    };
    let note = (n != u32::from(level)).then(|| {
        format!("OCF_CHECK_LEVEL {n} is not a supported level (0, 10, 20): checking at level {level}")
    });
    Ok((level, note))
}

impl Request {
    /// Reads the request from `env` (the process environment in the agent).
    pub fn from_env(action: Action, env: &dyn Fn(&str) -> Option<String>) -> Result<Request, OcfError> {
        let instance = env("OCF_RESOURCE_INSTANCE")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| meta::AGENT.to_string())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
            .collect::<String>();
        let instance = if instance.starts_with('.') { format!("_{instance}") } else { instance };
        // resource-agents' `ocf_is_probe` after ocf-shellfuncs' `: ${OCF_RESKEY_CRM_meta_interval=0}`:
        // Pacemaker 2.1 passes no interval at all to a probe (seen in the cluster guests: only
        // CRM_meta_on_node, _on_node_uuid and _timeout), so an unset interval is a probe too.
        let probe = action == Action::Monitor
            && env("OCF_RESKEY_CRM_meta_interval").is_none_or(|i| i.trim().is_empty() || i.trim() == "0");
        let mut notes = Vec::new();
        let level = if action == Action::Monitor {
            let (l, note) = check_level(env("OCF_CHECK_LEVEL").as_deref())?;
            notes.extend(note);
            l
        } else {
            0
        };
        let num = |k: &str| env(k).and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(0);
        let ocf_1_1 = (num("OCF_RA_VERSION_MAJOR"), num("OCF_RA_VERSION_MINOR")) >= (1, 1);
        Ok(Request { action, instance, probe, level, notes, ocf_1_1 })
    }
}

/// Where the agent keeps things and how it reaches the cluster.
#[derive(Clone, Debug)]
pub struct Paths {
    /// Parent of the per-instance kit directories (`/var/lib/lvmkit/ocf`).
    pub state_root: PathBuf,
    /// Parent of the per-instance "started here" markers (`/run/lvmkit/ocf`: gone at boot).
    pub run_root: PathBuf,
    /// The controlled-VG list.
    pub controlled: PathBuf,
    /// lvm2's configuration directory (the host's system ID).
    pub lvm_system_dir: PathBuf,
    /// The device-mapper control node.
    pub dm_control: PathBuf,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            state_root: PathBuf::from("/var/lib/lvmkit/ocf"),
            run_root: PathBuf::from("/run/lvmkit/ocf"),
            controlled: PathBuf::from(crate::recovery::controlled::DEFAULT_PATH),
            lvm_system_dir: PathBuf::from("/etc/lvm"),
            dm_control: PathBuf::from("/dev/mapper/control"),
        }
    }
}

/// The cluster's node names (the peers for system ID ownership).
pub trait Membership {
    /// The names, or why they cannot be read.
    fn nodes(&self) -> Result<Vec<String>, String>;
}

/// The membership as `crm_node -l` lists it ("ID NAME STATE" lines; every configured node,
/// lost ones included: a fenced node is the peer a takeover comes from).
#[derive(Clone, Debug)]
pub struct CrmNode {
    /// The program run with `-l` (`crm_node` from `PATH`).
    pub program: PathBuf,
    /// How long it may take before it is killed and the membership is unknown (10 s).
    pub timeout: Duration,
}

impl Default for CrmNode {
    fn default() -> CrmNode {
        CrmNode { program: PathBuf::from("crm_node"), timeout: Duration::from_secs(10) }
    }
}

impl CrmNode {
    /// The node names of `crm_node -l`'s output (the second field of each line with one).
    pub fn parse(out: &str) -> Vec<String> {
        out.lines().filter_map(|l| l.split_whitespace().nth(1).map(str::to_string)).collect()
    }
}

impl Membership for CrmNode {
    fn nodes(&self) -> Result<Vec<String>, String> {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let what = format!("{} -l", self.program.display());
        let mut child = Command::new(&self.program)
            .arg("-l")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let deadline = std::time::Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{what}: no answer within {:?}", self.timeout));
                }
                Err(e) => return Err(format!("{what}: {e}")),
            }
        };
        let (mut out, mut err) = (String::new(), String::new());
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        if !status.success() {
            return Err(format!("{what}: {status}: {}", err.trim()));
        }
        let names = Self::parse(&out);
        if names.is_empty() {
            return Err(format!("{what} listed no node"));
        }
        Ok(names)
    }
}

/// What an action ended with: the status, lines for stdout (meta-data) and for stderr.
#[derive(Debug)]
pub struct Outcome {
    /// OCF status.
    pub status: Status,
    /// stdout.
    pub out: String,
    /// stderr lines (the exit reason comes separately).
    pub log: Vec<String>,
    /// The failure, printed as `ocf-exit-reason:`.
    pub error: Option<OcfError>,
}

impl Outcome {
    fn ok(log: Vec<String>) -> Outcome {
        Outcome { status: Status::Success, out: String::new(), log, error: None }
    }

    fn status(status: Status, log: Vec<String>) -> Outcome {
        Outcome { status, out: String::new(), log, error: None }
    }

    fn fail(e: OcfError, log: Vec<String>) -> Outcome {
        Outcome { status: e.status, out: String::new(), log, error: Some(e) }
    }
}

/// The OCF status of a kit failure in `action` (not a monitor's health: see
/// [`monitor_status`]). The kit's statuses: 1 failed → generic; 2 usage → args; 4 ownership
/// (owner not a peer, lost race) → generic: the cluster tries elsewhere, where the same owner
/// is refused too; 5 environment → not installed; 6 configuration → not configured; 7 → not
/// running; 3 (degraded) is no failure.
pub fn kit_status(e: &KitError) -> Status {
    match e.status() {
        kst::OK | kst::DEGRADED => Status::Success,
        kst::USAGE => Status::Args,
        kst::ENVIRONMENT => Status::NotInstalled,
        kst::CONFIGURATION => Status::NotConfigured,
        kst::NOT_RUNNING => Status::NotRunning,
        _ => Status::Generic,
    }
}

fn ocf_error(e: KitError, status: Status) -> OcfError {
    let cause = e.cause_text();
    OcfError { status, code: e.code, message: e.message, cause }
}

/// The catalog codes that mean "the VG's storage is not here": a probe reports them as not
/// running; start as a generic failure (the cluster moves on to a node that sees it).
const NOT_HERE: &[&str] = &["110000", "110001", "110002"];

/// The OCF status of quickCheck's exit status `kit` in a monitor. Not in service (kit 7): a
/// probe, or a node where this instance was not started (or was stopped) → 7; on a node where
/// start succeeded and stop has not run → 1: the devices vanished behind the cluster's back, a
/// failure (LVM-activate's 2022 fix: with 7 an `on-fail=fence` never fires; the "started here"
/// marker keeps ocf-tester's monitor-after-stop at 7). Degraded (kit 3) → 190 for an OCF 1.1
/// caller, else 0 (logged). Ownership (kit 4: another system ID owns the VG now) → 1.
pub fn monitor_status(kit: u8, probe: bool, started_here: bool, ocf_1_1: bool) -> Status {
    match kit {
        kst::OK => Status::Success,
        kst::DEGRADED if ocf_1_1 => Status::Degraded,
        kst::DEGRADED => Status::Success,
        kst::NOT_RUNNING if probe || !started_here => Status::NotRunning,
        kst::NOT_RUNNING => Status::Generic,
        kst::USAGE => Status::Args,
        kst::ENVIRONMENT => Status::NotInstalled,
        kst::CONFIGURATION => Status::NotConfigured,
        _ => Status::Generic,
    }
}

/// Everything an action needs.
pub struct Agent<'a> {
    /// The request.
    pub req: Request,
    /// The parameters (checked).
    pub values: Values,
    /// Paths.
    pub paths: Paths,
    /// The cluster's members.
    pub membership: &'a dyn Membership,
    /// Device-mapper (opened by the caller; `None` when it cannot be: no control node).
    pub dm: Option<&'a dyn DmControl>,
    /// This node's name in the kit's hierarchies (the cluster node name: the host name).
    pub server: String,
}

impl Agent<'_> {
    /// The kit directory of this instance.
    pub fn kit_dir(&self) -> PathBuf {
        self.paths.state_root.join(&self.req.instance)
    }

    fn marker(&self) -> PathBuf {
        self.paths.run_root.join(format!("{}.started", self.req.instance))
    }

    fn started_here(&self) -> bool {
        self.marker().exists()
    }

    /// The kit's environment for this instance.
    pub fn env(&self) -> Result<Env, OcfError> {
        let mut env = Env::new(self.kit_dir());
        env.controlled = self.paths.controlled.clone();
        env.server = self.server.clone();
        env.host_system_id = lvmkit_metadata::host::system_id(&self.paths.lvm_system_dir).map_err(|e| {
            let dir = self.paths.lvm_system_dir.display().to_string();
            ocf_error(
                KitError::new("110028", &[("dir", &dir), ("why", &e.to_string())]).detail(e.to_string()),
                Status::NotInstalled,
            )
        })?;
        env.devices = crate::source::split_devices(&[self.values.get("devices").to_string()]);
        env.cmdline = format!("lvmkit ocf agent {:?} ({})", self.req.action, self.req.instance);
        env.probe_exe = std::env::current_exe().ok();
        env.probe_timeout =
            params::parse_time(self.values.get("monitor_read_timeout")).unwrap_or(Duration::from_secs(5));
        Ok(env)
    }

    /// The kit's tag of this resource: `VG` or `/dev/VG/LV`.
    pub fn tag(&self) -> String {
        let vg = self.values.get("volgrpname");
        match self.values.opt("lvname") {
            Some(lv) => crate::recovery::resource::lv_tag(vg, lv),
            None => vg.to_string(),
        }
    }

    fn policy(&self) -> Policy {
        Policy {
            // The values were checked against the parameter's choices (the same names).
            activation: ActivationPolicy::ALL
                .into_iter()
                .find(|a| a.name() == self.values.get("activation_mode"))
                .unwrap_or_default(),
            ownership: OwnershipPolicy::ALL
                .into_iter()
                .find(|o| o.name() == self.values.get("ownership"))
                .unwrap_or_default(),
            release_on_remove: false,
        }
    }

    fn dm(&self) -> Result<&dyn DmControl, OcfError> {
        self.dm.ok_or_else(|| {
            let why = format!("{} cannot be opened", self.paths.dm_control.display());
            ocf_error(KitError::new("110020", &[("why", &why)]), Status::NotInstalled)
        })
    }

    /// Runs the action.
    pub fn run(&self) -> Outcome {
        self.run_with(&|| self.env())
    }

    /// Runs the action in the kit environment `env` makes (instead of [`Agent::env`]'s:
    /// tests give image files and their device numbers).
    pub fn run_with(&self, env: &dyn Fn() -> Result<Env, OcfError>) -> Outcome {
        let mut log = self.req.notes.clone();
        let r = match self.req.action {
            Action::MetaData => {
                return Outcome { status: Status::Success, out: meta::meta_data(), log, error: None };
            }
            Action::Start => self.start(env, &mut log),
            Action::Stop => self.stop(env, &mut log),
            Action::Monitor => self.monitor(env, &mut log),
            Action::ValidateAll => self.validate(env, &mut log),
        };
        match r {
            Ok(Status::Success) => Outcome::ok(log),
            Ok(s) => Outcome::status(s, log),
            Err(e) => Outcome::fail(e, log),
        }
    }

    /// The cluster's other nodes (`nodes`, this one left out) as servers of the hierarchy,
    /// each with its node name as its lvm2 system ID (`system_id_source = "uname"`, or
    /// lvmlocal.conf's `system_id` set to the node name).
    fn as_peers(nodes: Vec<String>, env: &Env) -> Vec<Server> {
        let mut peers: Vec<Server> = Vec::new();
        for n in nodes {
            if n != env.server && !peers.iter().any(|p| p.name == n) {
                peers.push(Server { system_id: Some(n.clone()), name: n });
            }
        }
        peers
    }

    /// The cluster's other nodes as peers, read now. Empty, with a warning, when the
    /// membership cannot be read (a VG owned by another node is then refused).
    fn cluster_peers(&self, env: &Env, log: &mut Vec<String>) -> Vec<Server> {
        match self.membership.nodes() {
            Ok(nodes) => Self::as_peers(nodes, env),
            Err(why) => {
                log.push(format!(
                    "WARNING: the cluster's nodes cannot be read ({why}): no peers, a VG owned by another node will be refused"
                ));
                Vec::new()
            }
        }
    }

    /// Where a probe leaves the membership it read for this instance's first start here
    /// (`RUN_ROOT/INSTANCE.nodes`, one name a line; gone at boot).
    pub fn nodes_cache(&self) -> PathBuf {
        self.paths.run_root.join(format!("{}.nodes", self.req.instance))
    }

    /// The membership a probe cached, if any.
    fn cached_nodes(&self) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(self.nodes_cache()).ok()?;
        let nodes: Vec<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
        (!nodes.is_empty()).then_some(nodes)
    }

    /// A probe on a node where this instance has no kit resource yet prepares its first start
    /// here, so that a failover does only what every start does: it reads the membership
    /// (`crm_node -l`) and caches it, and, when one of those nodes owns the VG, creates the kit
    /// resource (the scan for the VG, the PV records: [`hierarchy::prepare_with_peers`], which
    /// never writes the VG). A VG this node or nobody owns is left to the start, which writes
    /// it. Failures only cost the start that follows.
    fn prepare_first_start(&self, env: &Env, log: &mut Vec<String>) {
        if self.policy().ownership != OwnershipPolicy::SystemId {
            return;
        }
        let nodes = match self.membership.nodes() {
            Ok(nodes) => nodes,
            Err(why) => return log.push(format!("WARNING: the cluster's nodes cannot be read ({why})")),
        };
        let mut text = nodes.join("\n");
        text.push('\n');
        if let Err(e) =
            lvmkit_metadata::write::backup::write_atomic(&self.nodes_cache(), text.as_bytes(), true)
        {
            log.push(format!("WARNING: cannot cache the cluster's nodes: {e}"));
        }
        let peers = Self::as_peers(nodes, env);
        match hierarchy::prepare_with_peers(
            env,
            std::slice::from_ref(&self.tag()),
            Some(self.policy()),
            &peers,
        ) {
            Ok(c) if !c.created.is_empty() => {
                log.push(format!("prepared the first start here: kit resource(s) {}", c.created.join(", ")))
            }
            Ok(_) => {}
            Err(e) => {
                log.push(format!("WARNING: the first start here is not prepared: {} {}", e.code, e.message))
            }
        }
    }

    /// Makes sure this instance's kit resource exists: created from the VG on first use, with
    /// the cluster's nodes as its peers (system ID ownership), so that the first start of all
    /// may be on a node that does not own the VG when a cluster member does (its
    /// autoactivation is then left to this start's takeover to turn off).
    fn ensure_resource(&self, env: &Env, log: &mut Vec<String>) -> Result<(), OcfError> {
        let tag = self.tag();
        match env.store.find(&tag) {
            Ok(_) => return Ok(()),
            Err(e) if e.code == "000019" => {}
            Err(e) => {
                let s = kit_status(&e);
                return Err(ocf_error(e, s));
            }
        }
        // The membership a probe cached, else read now; an owner the cache does not name is
        // looked up live once (a node added since the probe).
        let cached = match self.policy().ownership {
            OwnershipPolicy::SystemId => self.cached_nodes(),
            OwnershipPolicy::None => None,
        };
        let mut peers = match (self.policy().ownership, cached.clone()) {
            (OwnershipPolicy::None, _) => Vec::new(),
            (_, Some(nodes)) => Self::as_peers(nodes, env),
            (_, None) => self.cluster_peers(env, log),
        };
        let create = |peers: &[Server]| {
            hierarchy::create_with_peers(env, std::slice::from_ref(&tag), Some(self.policy()), peers)
        };
        let created = match create(&peers) {
            Err(e) if cached.is_some() && e.code == "110003" => {
                log.push(
                    "the VG's owner is none of the nodes the probe saw: reading the cluster's nodes again"
                        .into(),
                );
                peers = self.cluster_peers(env, log);
                create(&peers)
            }
            r => r,
        }
        .map_err(|e| {
            let s = if NOT_HERE.contains(&e.code) { Status::Generic } else { kit_status(&e) };
            ocf_error(e, s)
        })?;
        log.push(format!(
            "created kit resource(s) {} in {}{}",
            created.created.join(", "),
            self.kit_dir().display(),
            if peers.is_empty() {
                String::new()
            } else {
                format!(
                    " (peers from the cluster: {})",
                    peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                )
            }
        ));
        for w in created.warnings {
            log.push(format!("WARNING {}: {}", w.code, w.message));
        }
        Ok(())
    }

    /// Brings the VG's kit record in line with the cluster's configuration before a start: the
    /// parameters' activation mode and ownership (a `pcs resource update` restarts the
    /// resource; the record, made by an earlier start or a probe, must follow it — the record's
    /// `release_on_remove`, which no parameter sets, is kept), and, when the record names no
    /// peer (created by `lvmkit kit create` before the cluster knew it), the cluster's nodes as
    /// its servers.
    fn sync_record(&self, env: &Env, log: &mut Vec<String>) -> Result<(), OcfError> {
        let vg_id = crate::recovery::resource::vg_id(self.values.get("volgrpname"));
        let mut r = match env.store.load(&vg_id) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(()),
            Err(e) => {
                let s = kit_status(&e);
                return Err(ocf_error(e, s));
            }
        };
        let Kind::Lvmvg(v) = &mut r.kind else { return Ok(()) };
        let want = self.policy();
        let mut changed = false;
        if (v.policy.activation, v.policy.ownership) != (want.activation, want.ownership) {
            log.push(format!(
                "the record follows the parameters: activation_mode {} → {}, ownership {} → {}",
                v.policy.activation.name(),
                want.activation.name(),
                v.policy.ownership.name(),
                want.ownership.name(),
            ));
            v.policy.activation = want.activation;
            v.policy.ownership = want.ownership;
            changed = true;
        }
        if want.ownership == OwnershipPolicy::SystemId && v.peers(&env.server).is_empty() {
            let peers = self.cluster_peers(env, log);
            if !peers.is_empty() {
                v.servers.extend(
                    peers
                        .into_iter()
                        .filter(|p| !v.servers.iter().any(|s| s.name == p.name))
                        .collect::<Vec<_>>(),
                );
                log.push(format!(
                    "peers from the cluster: {}",
                    v.servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                ));
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        env.store.save(&r).map_err(|e| {
            let s = kit_status(&e);
            ocf_error(e, s)
        })
    }

    fn start(
        &self,
        env: &dyn Fn() -> Result<Env, OcfError>,
        log: &mut Vec<String>,
    ) -> Result<Status, OcfError> {
        let dm = self.dm()?;
        let env = env()?;
        self.ensure_resource(&env, log)?;
        self.sync_record(&env, log)?;
        // The cluster manages the VG: a start leaves its autoactivation off. Where a peer owned
        // the VG (a resource created by this start or by a probe) the takeover's one write
        // does it; where it is off already, nothing is written for it.
        let opts = RestoreOptions { fix: true, ..Default::default() };
        let done = actions::restore(&env, dm, &self.tag(), &opts).map_err(|e| {
            let s = if NOT_HERE.contains(&e.code) { Status::Generic } else { kit_status(&e) };
            ocf_error(e, s)
        })?;
        if let Some(from) = &done.took_over_from {
            log.push(format!("took {} over from system ID {from}", done.vg));
        }
        if done.fixed_autoactivation {
            log.push(format!("turned {}'s autoactivation off", done.vg));
        }
        for w in &done.warnings {
            log.push(format!("WARNING {}: {}", w.code, w.message));
        }
        log.extend(done.notes.iter().cloned());
        if let Some(p) = self.marker().parent() {
            let _ = std::fs::create_dir_all(p);
        }
        std::fs::write(self.marker(), b"").map_err(|e| {
            let why = format!("cannot write {}", self.marker().display());
            ocf_error(
                KitError::new("110027", &[("id", &self.tag()), ("why", &why)]).detail(e.to_string()),
                Status::Generic,
            )
        })?;
        Ok(Status::Success)
    }

    fn stop(
        &self,
        env: &dyn Fn() -> Result<Env, OcfError>,
        log: &mut Vec<String>,
    ) -> Result<Status, OcfError> {
        // Without device-mapper nothing can be active.
        let Ok(dm) = self.dm() else {
            let _ = std::fs::remove_file(self.marker());
            return Ok(Status::Success);
        };
        let env = env()?;
        let tag = self.tag();
        match env.store.find(&tag) {
            Ok(_) => {
                let done = actions::remove(&env, dm, &tag).map_err(|e| {
                    let s = kit_status(&e);
                    // Stop never reports "not running" or "not configured": either nothing is
                    // left active (0) or it failed (1: the cluster fences).
                    ocf_error(e, if s == Status::NotInstalled { s } else { Status::Generic })
                })?;
                if !done.removed.is_empty() {
                    log.push(format!("removed {} devices", done.removed.len()));
                }
            }
            Err(e) if e.code == "000019" => {
                // Never started here through the kit: remove what is live under the VG's name
                // (autoactivated at boot, or by hand), reading no disk.
                if self.values.opt("lvname").is_none() {
                    let opts = lvmkit_activation::apply::ApplyOptions::default();
                    let vg = crate::target::Target::vg(self.values.get("volgrpname"));
                    match crate::activate::deactivate_live(&[vg], &opts) {
                        Ok(Some(d)) => {
                            let n = d.removed().count();
                            if n > 0 {
                                log.push(format!(
                                    "removed {n} live devices of the VG (not started here through the kit)"
                                ));
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let vg = self.values.get("volgrpname");
                            return Err(ocf_error(
                                KitError::new("110008", &[("vg", vg), ("why", &e.to_string())]),
                                Status::Generic,
                            ));
                        }
                    }
                }
            }
            Err(e) => {
                let s = kit_status(&e);
                return Err(ocf_error(e, if s == Status::NotInstalled { s } else { Status::Generic }));
            }
        }
        let _ = std::fs::remove_file(self.marker());
        Ok(Status::Success)
    }

    fn monitor(
        &self,
        env: &dyn Fn() -> Result<Env, OcfError>,
        log: &mut Vec<String>,
    ) -> Result<Status, OcfError> {
        let started = self.started_here();
        let Ok(dm) = self.dm() else {
            // No device-mapper: nothing can be running here.
            return if self.req.probe || !started {
                Ok(Status::NotRunning)
            } else {
                self.dm().map(|_| Status::Generic)
            };
        };
        let env = env()?;
        let tag = self.tag();
        if let Err(e) = env.store.find(&tag) {
            if e.code != "000019" {
                let s = kit_status(&e);
                return Err(ocf_error(e, s));
            }
            if self.req.probe {
                self.prepare_first_start(&env, log);
            }
            // Never started through the kit here: running only if devices of the VG are live
            // (autoactivated, or started by hand) — the cluster then stops them.
            let live = dm.list().map_err(|e| {
                ocf_error(
                    KitError::from_dm(e, || KitError::new("110009", &[("what", &tag)])),
                    Status::Generic,
                )
            })?;
            let vg = self.values.get("volgrpname");
            let mine = live.iter().any(|d| {
                lvmkit_activation::names::split_dm_name(d.name.as_str())
                    .is_some_and(|(v, lv, _)| v == vg && self.values.opt("lvname").is_none_or(|l| l == lv))
            });
            return Ok(if mine { Status::Success } else { Status::NotRunning });
        }
        let h = match actions::quick_check(&env, dm, &tag, self.req.level) {
            Ok(h) => h,
            Err(e) if self.req.probe && NOT_HERE.contains(&e.code) => return Ok(Status::NotRunning),
            Err(e) => {
                let s = monitor_status(e.status(), self.req.probe, started, self.req.ocf_1_1);
                return Err(ocf_error(e, s));
            }
        };
        let status = monitor_status(h.status(), self.req.probe, started, self.req.ocf_1_1);
        for p in &h.problems {
            log.push(format!("{} {}", p.code, p.line));
        }
        match status {
            Status::Success | Status::NotRunning | Status::Degraded => {
                if h.status() == kst::DEGRADED && status == Status::Success {
                    log.push(
                        "WARNING: degraded (the cluster does not speak OCF 1.1: reported as running)".into(),
                    );
                }
                Ok(status)
            }
            s => {
                let worst = h.problems.iter().max_by_key(|p| p.severity).cloned();
                let (code, message) = match worst {
                    Some(p) if p.severity == Severity::NotInService => (
                        p.code,
                        format!("{tag}: its devices vanished while it was started here ({})", p.line),
                    ),
                    Some(p) => (p.code, p.line),
                    None => ("110009", format!("{tag} is not healthy")),
                };
                Err(OcfError { status: s, code, message, cause: String::new() })
            }
        }
    }

    fn validate(
        &self,
        env: &dyn Fn() -> Result<Env, OcfError>,
        log: &mut Vec<String>,
    ) -> Result<Status, OcfError> {
        let _ = log;
        self.dm()?;
        let env = env()?;
        let vg = self.values.get("volgrpname");
        let read = crate::recovery::read_vg_by_name(&env, vg).map_err(|e| {
            let s = if e.code == "110000" { Status::NotConfigured } else { kit_status(&e) };
            ocf_error(e, s)
        })?;
        if let Some(lv) = self.values.opt("lvname") {
            if read.vg().metadata.vg.lv(lv).is_none() {
                return Err(ocf_error(
                    KitError::new("110001", &[("lv", lv), ("vg", vg)]),
                    Status::NotConfigured,
                ));
            }
        }
        if self.policy().ownership == OwnershipPolicy::SystemId && env.host_system_id.is_none() {
            let k = KitError::new(
                "110012",
                &[
                    ("vg", vg),
                    ("why", "this host has no system ID (set global/system_id_source in lvm.conf)"),
                ],
            );
            return Err(ocf_error(k, Status::Args));
        }
        Ok(Status::Success)
    }
}

/// `Path` of the installed agent under `ocf_root`.
pub fn agent_path(ocf_root: &Path) -> PathBuf {
    ocf_root.join("resource.d").join(meta::PROVIDER).join(meta::AGENT)
}
