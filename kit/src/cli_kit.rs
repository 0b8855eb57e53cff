//! `lvmkit kit …`: the recovery kit's command line — parse, call [`lvmkit::recovery`], print,
//! exit status (the contract's table; see `README.md (the recovery kit)`). Failures print
//! `ERROR <code>: <message>` on stderr with the cause indented under it, or with `--json` a
//! `{"code","message","cause"}` object on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use lvmkit::recovery::actions::{self, RestoreOptions};
use lvmkit::recovery::catalog::{self, KitError};
use lvmkit::recovery::controlled::{self, BootOutcome};
use lvmkit::recovery::hierarchy::{self, PvSelection};
use lvmkit::recovery::resource::{ActivationPolicy, Kind, OwnershipPolicy, Policy};
use lvmkit::recovery::{Env, store};
use lvmkit_activation::apply::Outcome;

/// The `kit` subcommand's raw arguments (parsed here, so that a usage error is the catalog's
/// 000002 and not clap's own exit).
#[derive(Args)]
pub struct KitCmd {
    /// The kit action and its arguments (see `lvmkit kit --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

/// The recovery kit: lvmvg/lvmlv resources for cluster failover.
#[derive(Parser)]
#[command(name = "lvmkit kit", disable_version_flag = true)]
struct KitCli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    action: Action,
}

#[derive(Args)]
struct Global {
    /// The kit directory (default $LVMKIT_KIT_DIR or /var/lib/lvmkit/kit).
    #[arg(long = "kit-dir", value_name = "DIR", global = true)]
    kit_dir: Option<PathBuf>,
    /// The controlled-VG list (default $LVMKIT_CONTROLLED_VGS or /etc/lkvgs).
    #[arg(long = "controlled-vgs", value_name = "FILE", global = true)]
    controlled_vgs: Option<PathBuf>,
    /// This server's name in hierarchies (default $LVMKIT_SERVER or the host name).
    #[arg(long, value_name = "NAME", global = true)]
    server: Option<String>,
    /// Only scan these devices (comma-separated or repeated) when a scan is needed.
    #[arg(long = "devices", value_name = "PATH[,PATH…]", global = true)]
    devices: Vec<String>,
    /// Machine-readable output (JSON on stdout, errors included).
    #[arg(long, global = true)]
    json: bool,
    /// quickCheck level 10: seconds all PV reads together may take (default 5).
    #[arg(long = "probe-timeout", value_name = "SECONDS", global = true)]
    probe_timeout: Option<f64>,
    /// remove: seconds to retry a device that is in use before naming its holder (default 5).
    #[arg(long = "busy-timeout", value_name = "SECONDS", global = true)]
    busy_timeout: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Complete,
    Degraded,
    Partial,
}

#[derive(Clone, Copy, ValueEnum)]
enum OwnershipArg {
    #[value(name = "system_id")]
    SystemId,
    None,
}

#[derive(Subcommand)]
#[command(defer = true)]
enum Action {
    /// Create the lvmvg resource of VG and lvmlv resources (all LVs when only VG is named);
    /// the VG goes on the controlled list and its autoactivation off.
    Create {
        /// Activation mode at restore when PVs are missing.
        #[arg(long = "activation-mode", value_enum)]
        mode: Option<ModeArg>,
        /// Ownership: system_id (write this host's lvm2 system ID at restore) or none.
        #[arg(long, value_enum)]
        ownership: Option<OwnershipArg>,
        /// Clear the system ID when the VG is removed from service.
        #[arg(long = "release-on-remove")]
        release_on_remove: bool,
        /// VG, VG/LV or /dev/VG/LV.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Bring a resource in service.
    Restore {
        /// Take the VG over from exactly this system ID although it is not a peer.
        #[arg(long = "force-takeover", value_name = "OWNER")]
        force_takeover: Option<String>,
        /// Turn a controlled VG's autoactivation off again.
        #[arg(long)]
        fix: bool,
        /// Tag or ID.
        what: String,
    },
    /// Take a resource out of service.
    Remove {
        /// Tag or ID.
        what: String,
    },
    /// Local recovery: recreate, reload, resume the resource's devices.
    Recover {
        /// Tag or ID.
        what: String,
    },
    /// Delete a resource from the kit (never touches the VG).
    Delete {
        /// Also delete the resources that depend on it.
        #[arg(long)]
        hierarchy: bool,
        /// Tag or ID.
        what: String,
    },
    /// Health check: 0 devices, 10 + a direct read of every PV, 20 + metadata and owner.
    #[command(name = "quickCheck", alias = "quickcheck")]
    QuickCheck {
        /// 0, 10 or 20.
        #[arg(long, default_value = "0", value_parser = ["0", "10", "20"])]
        level: String,
        /// Tag or ID.
        what: String,
    },
    /// Print the hierarchy of TAG's VG as a template (for canextend / extend elsewhere).
    Export {
        /// Tag or ID.
        what: String,
    },
    /// Can this server take the template's hierarchy?
    Canextend {
        /// A template from `export`.
        file: PathBuf,
    },
    /// Create the template's resources here (or record its servers as peers).
    Extend {
        /// A template from `export`.
        file: PathBuf,
    },
    /// Compare the VG's PVs on disk with the resource; with lists or --yes, record them.
    Adddelpv {
        /// Accept the detected changes.
        #[arg(long)]
        yes: bool,
        /// VGTAG [ADDLIST DELLIST] (comma-separated devices or PV UUIDs, '-' for none).
        #[arg(num_args = 0..)]
        args: Vec<String>,
    },
    /// List resources as hierarchies.
    List {
        /// Only this resource's hierarchy.
        what: Option<String>,
    },
    /// Show a resource (or all) with its hierarchy.
    Show {
        /// Tag or ID.
        what: Option<String>,
    },
    /// Activate every VG not on the controlled list (boot time).
    #[command(name = "boot-activate")]
    BootActivate,
    /// Print cause and action of a catalog code, or the whole catalog.
    Explain {
        /// The catalog as a Markdown table.
        #[arg(long)]
        markdown: bool,
        /// A 6-digit code.
        code: Option<String>,
    },
    /// (internal) quickCheck's probe: one O_DIRECT read of DEVICE at OFFSET.
    #[command(name = "__probe", hide = true)]
    Probe { device: PathBuf, offset: u64 },
}

/// What a run prints: stdout text and an exit status (stderr is written as it goes).
struct Printed {
    out: String,
    status: u8,
}

fn env_path(opt: Option<PathBuf>, var: &str, default: &str) -> PathBuf {
    opt.or_else(|| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(default))
}

fn seconds(v: Option<f64>, default: Duration, what: &str) -> Result<Duration, KitError> {
    match v {
        None => Ok(default),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(KitError::new("000002", &[("what", &format!("{what} {s}: expected seconds >= 0"))])),
    }
}

fn make_env(g: &Global) -> Result<Env, KitError> {
    use lvmkit_metadata::write::backup::{self, Backups, FileInfo};
    let mut env = Env::new(env_path(g.kit_dir.clone(), "LVMKIT_KIT_DIR", store::DEFAULT_KIT_DIR));
    env.controlled = env_path(g.controlled_vgs.clone(), "LVMKIT_CONTROLLED_VGS", controlled::DEFAULT_PATH);
    if let Some(s) =
        g.server.clone().or_else(|| std::env::var("LVMKIT_SERVER").ok().filter(|s| !s.is_empty()))
    {
        env.server = s;
    }
    let sysdir = lvmkit_metadata::host::system_dir();
    let id = lvmkit_metadata::host::identity(&sysdir).map_err(|e| {
        KitError::new("110028", &[("dir", &sysdir.display().to_string()), ("why", &e.to_string())])
            .detail(e.to_string())
    })?;
    for w in &id.warnings {
        eprintln!("  WARNING: {w}");
    }
    env.host_system_id = id.system_id;
    env.devices = lvmkit::source::split_devices(&g.devices);
    env.lock_dir = env_path(None, "LVMKIT_LOCK_DIR", lvmkit_metadata::write::lock::DEFAULT_LOCK_DIR);
    let args: Vec<String> = std::env::args().collect();
    env.cmdline = args.join(" ");
    let ctx = env.context(None);
    env.backups = Backups {
        archive_dir: Some(env_path(None, "LVMKIT_ARCHIVE_DIR", backup::DEFAULT_ARCHIVE_DIR)),
        backup_dir: Some(env_path(None, "LVMKIT_BACKUP_DIR", backup::DEFAULT_BACKUP_DIR)),
        info: FileInfo {
            command: args.iter().skip(1).fold("lvmkit".to_string(), |a, b| format!("{a} {b}")),
            host: ctx.hostname.clone(),
            host_system_id: ctx.host_system_id.clone(),
            time: ctx.time,
        },
    };
    env.probe_exe = std::env::current_exe().ok();
    env.probe_timeout = seconds(g.probe_timeout, env.probe_timeout, "--probe-timeout")?;
    env.busy_timeout = seconds(g.busy_timeout, env.busy_timeout, "--busy-timeout")?;
    Ok(env)
}

fn open_dm() -> Result<lvmkit_dm::control::Dm, KitError> {
    lvmkit_dm::control::Dm::open().map_err(|e| {
        KitError::from_dm(e, || KitError::new("110020", &[("why", "cannot open device-mapper")]))
    })
}

fn word(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Reloaded => "reloaded",
        Outcome::Unchanged => "unchanged",
        Outcome::Resumed => "resumed",
    }
}

fn counts(devs: &[(String, Outcome)]) -> String {
    let n = |o| devs.iter().filter(|(_, x)| *x == o).count();
    format!(
        "{} devices ({} created, {} reloaded, {} resumed, {} unchanged)",
        devs.len(),
        n(Outcome::Created),
        n(Outcome::Reloaded),
        n(Outcome::Resumed),
        n(Outcome::Unchanged)
    )
}

fn warn_all(json: bool, w: &[KitError]) {
    if !json {
        for e in w {
            eprintln!("{e}");
        }
    }
}

fn warnings_json(w: &[KitError]) -> serde_json::Value {
    json!(w.iter().map(KitError::to_json).collect::<Vec<_>>())
}

fn ok(out: String) -> Result<Printed, KitError> {
    Ok(Printed { out, status: 0 })
}

fn pretty(v: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).expect("JSON values serialise"))
}

fn run_action(g: &Global, action: Action) -> Result<Printed, KitError> {
    let j = g.json;
    match action {
        Action::Probe { device, offset } => {
            return match lvmkit::recovery::probe::probe_read(&device, offset) {
                Ok(()) => ok(String::new()),
                Err(e) => {
                    eprintln!("{e}");
                    Ok(Printed { out: String::new(), status: 1 })
                }
            };
        }
        Action::Explain { markdown: true, .. } => return ok(catalog::markdown_table()),
        Action::Explain { code: None, .. } => {
            if j {
                let all: Vec<_> = catalog::CATALOG
                    .iter()
                    .map(|e| json!({"code": e.code, "status": e.status, "warning": e.warning, "message": e.message, "cause": e.cause, "action": e.action}))
                    .collect();
                return ok(pretty(&json!(all)));
            }
            return ok(catalog::explain_all());
        }
        Action::Explain { code: Some(c), .. } => {
            return match catalog::entry(&c) {
                Some(e) if j => ok(pretty(
                    &json!({"code": e.code, "status": e.status, "warning": e.warning, "message": e.message, "cause": e.cause, "action": e.action}),
                )),
                Some(_) => ok(catalog::explain(&c).unwrap_or_default()),
                None => Err(KitError::new(
                    "000002",
                    &[("what", &format!("no catalog code {c}; `lvmkit kit explain` lists them"))],
                )),
            };
        }
        _ => {}
    }
    let env = make_env(g)?;
    match action {
        Action::Create { mode, ownership, release_on_remove, names } => {
            let policy = (mode.is_some() || ownership.is_some() || release_on_remove).then(|| Policy {
                activation: match mode {
                    Some(ModeArg::Degraded) => ActivationPolicy::Degraded,
                    Some(ModeArg::Partial) => ActivationPolicy::Partial,
                    _ => ActivationPolicy::Complete,
                },
                ownership: match ownership {
                    Some(OwnershipArg::None) => OwnershipPolicy::None,
                    Some(OwnershipArg::SystemId) => OwnershipPolicy::SystemId,
                    None if env.host_system_id.is_some() => OwnershipPolicy::SystemId,
                    None => OwnershipPolicy::None,
                },
                release_on_remove,
            });
            let c = hierarchy::create(&env, &names, policy)?;
            warn_all(j, &c.warnings);
            if j {
                return ok(pretty(
                    &json!({"created": c.created, "autoactivation_off": c.autoactivation_off, "warnings": warnings_json(&c.warnings)}),
                ));
            }
            let mut s = String::new();
            for v in &c.autoactivation_off {
                s.push_str(&format!("autoactivation off: {v}\n"));
            }
            for id in &c.created {
                s.push_str(&format!("created {id}\n"));
            }
            ok(s)
        }
        Action::Restore { force_takeover, fix, what } => {
            env.store.find(&what)?;
            let dm = open_dm()?;
            let r = actions::restore(&env, &dm, &what, &RestoreOptions { force_takeover, fix })?;
            warn_all(j, &r.warnings);
            if j {
                return ok(pretty(&json!({
                    "id": r.id, "vg": r.vg, "took_over_from": r.took_over_from, "wrote_system_id": r.wrote_system_id,
                    "imported": r.imported, "fixed_autoactivation": r.fixed_autoactivation,
                    "devices": r.devices.iter().map(|(n, o)| json!({"name": n, "outcome": word(*o)})).collect::<Vec<_>>(),
                    "notes": r.notes, "warnings": warnings_json(&r.warnings),
                })));
            }
            let mut s = String::new();
            for n in &r.notes {
                s.push_str(&format!("# {n}\n"));
            }
            if r.imported {
                s.push_str(&format!("imported {}\n", r.vg));
            }
            match (&r.took_over_from, r.wrote_system_id) {
                (Some(prev), _) => s.push_str(&format!(
                    "took over {} from system ID {prev} (now {})\n",
                    r.vg,
                    env.host_system_id.as_deref().unwrap_or("")
                )),
                (None, true) => s.push_str(&format!(
                    "wrote system ID {} to {}\n",
                    env.host_system_id.as_deref().unwrap_or(""),
                    r.vg
                )),
                _ => {}
            }
            if r.fixed_autoactivation {
                s.push_str(&format!("autoactivation off: {}\n", r.vg));
            }
            s.push_str(&format!("restored {}: {}\n", r.id, counts(&r.devices)));
            ok(s)
        }
        Action::Remove { what } => {
            env.store.find(&what)?;
            let dm = open_dm()?;
            let r = actions::remove(&env, &dm, &what)?;
            warn_all(j, &r.warnings);
            if j {
                return ok(pretty(
                    &json!({"id": r.id, "removed": r.removed, "released": r.released, "notes": r.notes}),
                ));
            }
            let mut s = String::new();
            for n in &r.notes {
                s.push_str(&format!("# {n}\n"));
            }
            for d in &r.removed {
                s.push_str(&format!("removed {d}\n"));
            }
            if r.released {
                s.push_str("released ownership\n");
            }
            s.push_str(&format!("removed {} from service: {} devices\n", r.id, r.removed.len()));
            ok(s)
        }
        Action::Recover { what } => {
            env.store.find(&what)?;
            let dm = open_dm()?;
            let r = actions::recover(&env, &dm, &what)?;
            if j {
                return ok(pretty(&json!({
                    "id": r.id, "seqno": r.seqno.0, "previous_seqno": r.seqno.1,
                    "devices": r.devices.iter().map(|(n, o)| json!({"name": n, "outcome": word(*o)})).collect::<Vec<_>>(),
                    "removed": r.removed, "notes": r.notes,
                })));
            }
            let mut s = String::new();
            for n in &r.notes {
                s.push_str(&format!("# {n}\n"));
            }
            if let Some(old) = r.seqno.1 {
                s.push_str(&format!("refreshed from metadata seqno {} (was {old})\n", r.seqno.0));
            }
            for (n, o) in r.devices.iter().filter(|(_, o)| *o != Outcome::Unchanged) {
                s.push_str(&format!("{} {n}\n", word(*o)));
            }
            for d in &r.removed {
                s.push_str(&format!("removed {d}\n"));
            }
            s.push_str(&format!("recovered {}: {}\n", r.id, counts(&r.devices)));
            ok(s)
        }
        Action::Delete { hierarchy: h, what } => {
            let d = hierarchy::delete(&env, &what, h)?;
            warn_all(j, &d.warnings);
            if j {
                return ok(pretty(
                    &json!({"deleted": d.deleted, "uncontrolled": d.uncontrolled, "warnings": warnings_json(&d.warnings)}),
                ));
            }
            let mut s: String = d.deleted.iter().map(|id| format!("deleted {id}\n")).collect();
            for v in &d.uncontrolled {
                s.push_str(&format!("no longer controlled: {v}\n"));
            }
            ok(s)
        }
        Action::QuickCheck { level, what } => {
            let level: u8 = level.parse().expect("clap checked the level");
            env.store.find(&what)?;
            let dm = open_dm()?;
            let h = actions::quick_check(&env, &dm, &what, level)?;
            let status = h.status();
            if j {
                let probs: Vec<_> = h
                    .problems
                    .iter()
                    .map(|p| json!({"code": p.code, "severity": p.severity.name(), "line": p.line}))
                    .collect();
                return Ok(Printed {
                    out: pretty(
                        &json!({"id": h.id, "level": h.level, "status": status, "devices": h.devices, "pvs_read": h.pvs_read, "problems": probs}),
                    ),
                    status,
                });
            }
            let mut s = String::new();
            for p in &h.problems {
                s.push_str(&format!("{}\n", p.line));
            }
            match h.problems.iter().map(|p| p.severity).max() {
                None => s.push_str(&format!(
                    "{}: healthy (level {}, {} devices, {} PVs read)\n",
                    h.id, h.level, h.devices, h.pvs_read
                )),
                Some(sev) => {
                    let worst = h.problems.iter().find(|p| p.severity == sev).expect("max is one of them");
                    let e = match worst.code {
                        "110016" => KitError::new("110016", &[]).detail(worst.line.clone()),
                        c @ ("110014" | "110015") => KitError::new(c, &[("what", &h.id)]),
                        _ => KitError::new("110009", &[("what", &h.id)]),
                    };
                    let mut e = e;
                    if worst.code == "110016" {
                        e.message = worst.line.clone();
                        e.cause = None;
                    }
                    eprintln!("{e}");
                }
            }
            Ok(Printed { out: s, status })
        }
        Action::Export { what } => {
            ok(pretty(&serde_json::to_value(hierarchy::export(&env, &what)?).expect("templates serialise")))
        }
        Action::Canextend { file } => {
            let t = hierarchy::read_template(&file)?;
            let c = hierarchy::canextend(&env, &t);
            if j {
                return Ok(Printed {
                    out: pretty(
                        &json!({"vg": c.vg, "can_extend": c.reasons.is_empty(), "reasons": c.reasons}),
                    ),
                    status: if c.reasons.is_empty() { 0 } else { 1 },
                });
            }
            if c.reasons.is_empty() {
                return ok(format!("yes: {} can take the hierarchy of {}\n", env.server, c.vg));
            }
            let s: String = c.reasons.iter().map(|r| format!("no: {r}\n")).collect();
            eprintln!(
                "{}",
                KitError::new(
                    "110023",
                    &[("vg", &c.vg), ("why", &format!("{} problem(s)", c.reasons.len()))]
                )
            );
            Ok(Printed { out: s, status: 1 })
        }
        Action::Extend { file } => {
            let t = hierarchy::read_template(&file)?;
            let c = hierarchy::extend(&env, &t)?;
            warn_all(j, &c.warnings);
            if j {
                return ok(pretty(
                    &json!({"created": c.created, "updated": c.updated, "warnings": warnings_json(&c.warnings)}),
                ));
            }
            let mut s: String = c.created.iter().map(|id| format!("created {id}\n")).collect();
            s.extend(c.updated.iter().map(|id| format!("updated {id} (peers recorded)\n")));
            if c.created.is_empty() && c.updated.is_empty() {
                s.push_str("nothing to do: every resource and peer is recorded\n");
            }
            ok(s)
        }
        Action::Adddelpv { yes, args } => {
            let list = |s: &str| -> Vec<String> {
                s.split(',').filter(|x| !x.is_empty() && *x != "-").map(String::from).collect()
            };
            let (tag, sel) = match (&args[..], yes) {
                ([t], false) => (t, PvSelection::Report),
                ([t], true) => (t, PvSelection::Yes),
                ([t, a, d], false) => (t, PvSelection::Lists(list(a), list(d))),
                _ => return Err(hierarchy::adddelpv_usage()),
            };
            let c = hierarchy::adddelpv(&env, tag, &sel)?;
            if j {
                return ok(pretty(&json!({
                    "id": c.id, "added": c.added, "removed": c.removed, "applied": c.applied, "confirm_on": c.confirm_on,
                })));
            }
            let mut s = String::new();
            for p in &c.added {
                s.push_str(&format!("added PV {} {}\n", p.uuid, p.device));
            }
            for p in &c.removed {
                s.push_str(&format!("removed PV {} {}\n", p.uuid, p.device));
            }
            if c.added.is_empty() && c.removed.is_empty() {
                s.push_str("no change: the recorded PVs are the VG's PVs\n");
            }
            if c.applied {
                s.push_str(&format!("updated {}\n", c.id));
            }
            if !c.added.is_empty() && !c.confirm_on.is_empty() {
                s.push_str(&format!("confirm the new PVs with canextend on: {}\n", c.confirm_on.join(", ")));
            }
            ok(s)
        }
        Action::List { what } => list_show(&env, what.as_deref(), j, false),
        Action::Show { what } => list_show(&env, what.as_deref(), j, true),
        Action::BootActivate => {
            let dm = open_dm()?;
            let done = controlled::boot_activate(&env, &dm)?;
            let failed = done.iter().any(|(_, o)| matches!(o, BootOutcome::Failed(_)));
            let status = if failed { 1 } else { 0 };
            if j {
                let v: Vec<_> =
                    done.iter().map(|(vg, o)| json!({"vg": vg, "outcome": format!("{o:?}")})).collect();
                return Ok(Printed { out: pretty(&json!(v)), status });
            }
            let mut s = String::new();
            for (vg, o) in &done {
                s.push_str(&match o {
                    BootOutcome::Activated(n) => format!("activated {vg}: {n} devices\n"),
                    BootOutcome::Controlled => format!("skipped {vg}: under kit control\n"),
                    BootOutcome::AutoactivationOff => format!("skipped {vg}: autoactivation off\n"),
                    BootOutcome::Skipped(w) => format!("skipped {vg}: {w}\n"),
                    BootOutcome::Failed(w) => {
                        eprintln!(
                            "{}",
                            KitError::new("110013", &[("vg", vg), ("why", &format!("because {w}"))])
                        );
                        format!("failed {vg}\n")
                    }
                });
            }
            Ok(Printed { out: s, status })
        }
        Action::Explain { .. } | Action::Probe { .. } => unreachable!("handled before the environment"),
    }
}

fn list_show(env: &Env, what: Option<&str>, j: bool, detail: bool) -> Result<Printed, KitError> {
    let (all, bad) = env.store.list()?;
    for b in &bad {
        eprintln!("{b}");
    }
    let one = match what {
        Some(w) => Some(env.store.find(w)?),
        None => None,
    };
    let nodes = hierarchy::tree(&all, one.as_ref());
    let status = if bad.is_empty() { 0 } else { catalog::status::CONFIGURATION };
    if j {
        let resources: Vec<_> = match &one {
            Some(r) => vec![r.clone()],
            None => all.clone(),
        };
        let mut v = json!({"resources": resources, "hierarchy": nodes});
        if detail {
            let states: serde_json::Map<String, serde_json::Value> = resources
                .iter()
                .map(|r| (r.id.clone(), json!(env.store.state(&r.id).ok().flatten().map(|s| s.seqno))))
                .collect();
            v["in_service_seqno"] = json!(states);
        }
        if !bad.is_empty() {
            v["errors"] = json!(bad.iter().map(KitError::to_json).collect::<Vec<_>>());
        }
        return Ok(Printed { out: pretty(&v), status });
    }
    let mut s = hierarchy::format_tree(&nodes);
    if detail {
        let shown: Vec<&lvmkit::recovery::Resource> = match &one {
            Some(r) => vec![r],
            None => all.iter().collect(),
        };
        for r in shown {
            s.push_str(&format!("\n{} ({})\n", r.id, r.type_name()));
            s.push_str(&format!("  tag: {}\n", r.tag));
            match &r.kind {
                Kind::Lvmvg(v) => {
                    s.push_str(&format!("  vg: {} uuid {} format {}\n", v.vg, v.vg_uuid, v.vg_format));
                    for p in &v.pvs {
                        let under = if p.components.is_empty() {
                            String::new()
                        } else {
                            format!(" over {}", p.components.join(", "))
                        };
                        s.push_str(&format!(
                            "  pv: {} {} {} bytes (disk {}{under})\n",
                            p.uuid, p.device, p.size, p.disk
                        ));
                    }
                    for sv in &v.servers {
                        s.push_str(&format!(
                            "  server: {}{} system ID {}\n",
                            sv.name,
                            if sv.name == env.server { " (this server)" } else { "" },
                            sv.system_id.as_deref().unwrap_or("(none)")
                        ));
                    }
                    s.push_str(&format!(
                        "  policy: activation {:?}, ownership {:?}{}\n",
                        v.policy.activation,
                        v.policy.ownership,
                        if v.policy.release_on_remove { ", release on remove" } else { "" }
                    ));
                    let state = env.store.state(&r.id).ok().flatten();
                    s.push_str(&match state {
                        Some(st) => format!("  in service here (activated from seqno {})\n", st.seqno),
                        None => "  not in service here\n".to_string(),
                    });
                }
                Kind::Lvmlv(l) => {
                    s.push_str(&format!("  lv: {}/{} uuid {}\n", l.vg, l.lv, l.lv_uuid));
                    s.push_str(&format!("  depends on: {}\n", r.depends_on.join(", ")));
                }
            }
        }
    }
    if nodes.is_empty() && one.is_none() {
        s.push_str("no resources\n");
    }
    Ok(Printed { out: s, status })
}

fn fail(json: bool, e: &KitError) -> (String, ExitCode) {
    if json {
        (pretty(&e.to_json()), ExitCode::from(e.status()))
    } else {
        eprintln!("{e}");
        (String::new(), ExitCode::from(e.status()))
    }
}

/// Run `lvmkit kit ARGS…`: stdout text and exit status.
pub fn run(cmd: KitCmd) -> (String, ExitCode) {
    let json = cmd.args.iter().any(|a| a == "--json");
    let argv = std::iter::once("lvmkit kit".to_string()).chain(cmd.args);
    let cli = match KitCli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                return (e.render().to_string(), ExitCode::SUCCESS);
            }
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
            let rest: Vec<&str> = rendered.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
            let err = KitError::new("000002", &[("what", &first)]).detail(rest.join("\n"));
            return fail(json, &err);
        }
    };
    let json = cli.global.json;
    match run_action(&cli.global, cli.action) {
        Ok(p) => (p.out, ExitCode::from(p.status)),
        Err(e) => fail(json, &e),
    }
}
