//! The OCF agent's parts that need no kernel: meta-data against resource-agents'
//! `ra-api-1.dtd` (what ocf-tester validates with; `xmllint --valid`), the parameter table,
//! the environment parsing and the exit-code mapping; the cluster's membership (`crm_node -l`,
//! faked) and the first start on a node that does not own the VG, over an image file with an
//! in-memory device-mapper. The agent's actions on a real VG run in the UML guest
//! (`tests/tests/vm_ocf.rs`: ocf-tester, the ocft cases, bad configuration) and in the
//! two-node cluster (`tests/tests/vm_cluster.rs`).

#[path = "support/servers.rs"]
mod servers;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use lvmkit::ocf::meta::{ACTIONS, meta_data};
use lvmkit::ocf::params::{ParamType, parse_time};
use lvmkit::ocf::{
    Action, Agent, CrmNode, Membership, Outcome, PARAMS, Paths, Request, Status, Values, check_level,
    monitor_status,
};
use lvmkit::recovery::{Kind, Store};
use lvmkit_dm::fake::FakeDm;

const DTD_DIR: &str = "/usr/share/resource-agents";

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k: &str| m.get(k).cloned()
}

/// `xmllint --noout --valid -` in the DTD's folder (as ocf-tester runs it): Ok, Err(output),
/// or None when xmllint or the DTD is missing.
fn xmllint_valid(xml: &str) -> Option<Result<(), String>> {
    if !Path::new(DTD_DIR).join("ra-api-1.dtd").exists() {
        return None;
    }
    let mut child = Command::new("xmllint")
        .args(["--noout", "--valid", "-"])
        .current_dir(DTD_DIR)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child.stdin.take()?.write_all(xml.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

#[test]
fn meta_data_is_valid_against_ra_api_1_dtd() {
    let xml = meta_data();
    let Some(r) = xmllint_valid(&xml) else {
        assert!(
            !in_ci(),
            "CI=true but xmllint or {DTD_DIR}/ra-api-1.dtd is missing (tests/vm/setup.sh installs them)"
        );
        println!(
            "skipped: meta_data_is_valid_against_ra_api_1_dtd: xmllint or {DTD_DIR}/ra-api-1.dtd missing"
        );
        return;
    };
    r.unwrap_or_else(|e| panic!("meta-data does not validate:\n{e}\n{xml}"));
    // The negative controls: what the DTD must reject, so the check can fail.
    let select = xml.replacen("<content type=\"string\"", "<content type=\"select\"", 1);
    assert!(xmllint_valid(&select).unwrap().is_err(), "type=\"select\" was accepted");
    let reload_agent = xml.replacen("<action name=\"stop\"", "<action name=\"reload-agent\"", 1);
    assert!(xmllint_valid(&reload_agent).unwrap().is_err(), "a reload-agent action was accepted");
}

#[test]
fn meta_data_comes_from_the_parameter_table() {
    let xml = meta_data();
    for p in PARAMS {
        let head = format!(
            "<parameter name=\"{}\" unique=\"{}\" required=\"{}\">",
            p.name,
            u8::from(p.unique),
            u8::from(p.required)
        );
        assert!(xml.contains(&head), "{} missing: {head}", p.name);
        let content = match p.default {
            Some(d) => format!("<content type=\"{}\" default=\"{d}\" />", p.kind.name()),
            None => format!("<content type=\"{}\" />", p.kind.name()),
        };
        assert!(xml.contains(&content), "{}: {content}", p.name);
        for c in p.choices {
            assert!(p.longdesc.contains(c), "{}: choice {c} not documented", p.name);
        }
    }
    assert_eq!(xml.matches("<parameter ").count(), PARAMS.len());
    for a in ACTIONS {
        assert!(xml.contains(&format!("<action name=\"{}\" timeout=\"{}\"", a.name, a.timeout)));
        assert!(Action::parse(a.name).is_some(), "meta-data lists {} but it is not implemented", a.name);
    }
    for name in ["volgrpname", "lvname", "activation_mode", "ownership", "devices", "monitor_read_timeout"] {
        assert!(PARAMS.iter().any(|p| p.name == name), "no parameter {name}");
    }
    assert!(!xml.contains("reload"), "no parameter changes without a restart: no reload action");
}

#[test]
fn parameters_parse_with_defaults_and_checks() {
    let v = Values::from_env(&env_of(&[("OCF_RESKEY_volgrpname", "vg0")])).unwrap();
    assert_eq!(v.get("volgrpname"), "vg0");
    assert_eq!(v.get("activation_mode"), "complete");
    assert_eq!(v.get("ownership"), "system_id");
    assert_eq!(v.opt("lvname"), None);
    assert_eq!(v.get("monitor_read_timeout"), "5s");

    let missing = Values::from_env(&env_of(&[])).unwrap_err();
    assert_eq!(missing.status, Status::NotConfigured);
    assert!(missing.reason().contains("volgrpname"), "{}", missing.reason());
    // Empty counts as unset (Pacemaker passes empty values).
    assert!(Values::from_env(&env_of(&[("OCF_RESKEY_volgrpname", "")])).is_err());

    for (k, bad) in [
        ("OCF_RESKEY_activation_mode", "exclusive"),
        ("OCF_RESKEY_ownership", "tagging"),
        ("OCF_RESKEY_monitor_read_timeout", "soon"),
        ("OCF_RESKEY_monitor_read_timeout", "0"),
    ] {
        let e = Values::from_env(&env_of(&[("OCF_RESKEY_volgrpname", "vg0"), (k, bad)])).unwrap_err();
        assert_eq!(e.status, Status::NotConfigured, "{k}={bad}");
        assert!(e.reason().starts_with("000002 "), "{}", e.reason());
        assert!(e.reason().contains(bad), "{}", e.reason());
    }
    let ok = Values::from_env(&env_of(&[
        ("OCF_RESKEY_volgrpname", "vg0"),
        ("OCF_RESKEY_activation_mode", "degraded"),
        ("OCF_RESKEY_monitor_read_timeout", "500ms"),
        ("OCF_RESKEY_CRM_meta_timeout", "20000"),
        ("OCF_RESKEY_unknown", "ignored"),
    ]))
    .unwrap();
    assert_eq!(ok.get("activation_mode"), "degraded");
    assert_eq!(parse_time("500ms").unwrap().as_millis(), 500);
    assert_eq!(parse_time("2min").unwrap().as_secs(), 120);
    assert_eq!(parse_time("7").unwrap().as_secs(), 7);
    assert!(parse_time("5x").is_none());
    assert!(PARAMS.iter().all(|p| p.kind != ParamType::Integer || p.check("12").is_ok()));
}

#[test]
fn check_levels_fall_back_to_the_next_lower() {
    assert_eq!(check_level(None).unwrap(), (0, None));
    assert_eq!(check_level(Some("")).unwrap(), (0, None));
    assert_eq!(check_level(Some("10")).unwrap(), (10, None));
    assert_eq!(check_level(Some("20")).unwrap(), (20, None));
    let (l, note) = check_level(Some("15")).unwrap();
    assert_eq!(l, 10);
    assert!(note.unwrap().contains("15"));
    assert_eq!(check_level(Some("99")).unwrap().0, 20);
    assert_eq!(check_level(Some("5")).unwrap().0, 0);
    let e = check_level(Some("deep")).unwrap_err();
    assert_eq!(e.status, Status::NotConfigured);
    assert!(e.reason().contains("OCF_CHECK_LEVEL"));
    assert_eq!(check_level(Some("-1")).unwrap_err().status, Status::NotConfigured);
}

#[test]
fn requests_know_probes_and_ocf_versions() {
    let probe = Request::from_env(
        Action::Monitor,
        &env_of(&[("OCF_RESKEY_CRM_meta_interval", "0"), ("OCF_RESOURCE_INSTANCE", "vg:1")]),
    )
    .unwrap();
    assert!(probe.probe);
    assert_eq!(probe.instance, "vg_1");
    assert!(!probe.ocf_1_1);
    let recurring = Request::from_env(
        Action::Monitor,
        &env_of(&[
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
            ("OCF_RA_VERSION_MAJOR", "1"),
            ("OCF_RA_VERSION_MINOR", "1"),
            ("OCF_CHECK_LEVEL", "10"),
        ]),
    )
    .unwrap();
    assert!(!recurring.probe && recurring.ocf_1_1);
    assert_eq!(recurring.level, 10);
    // Only a monitor is a probe; an unset interval is one (ocf-shellfuncs defaults it to 0
    // before ocf_is_probe, and Pacemaker 2.1 passes none to a probe: its probe's whole
    // CRM_meta set in the cluster guests was on_node, on_node_uuid and timeout).
    assert!(
        !Request::from_env(Action::Start, &env_of(&[("OCF_RESKEY_CRM_meta_interval", "0")])).unwrap().probe
    );
    let pacemaker_probe =
        [("OCF_RESKEY_CRM_meta_on_node", "node2"), ("OCF_RESKEY_CRM_meta_timeout", "30000")];
    assert!(Request::from_env(Action::Monitor, &env_of(&pacemaker_probe)).unwrap().probe);
    assert!(Request::from_env(Action::Monitor, &env_of(&[])).unwrap().probe);
    assert!(
        Request::from_env(Action::Monitor, &env_of(&[("OCF_RESOURCE_INSTANCE", "../x")])).unwrap().instance
            == "_.._x"
    );
    for unknown in ["reload", "reload-agent", "promote", "notify", "migrate_to", ""] {
        assert_eq!(Action::parse(unknown), None, "{unknown}");
    }
}

#[test]
fn monitor_exit_codes() {
    use Status::*;
    // (kit status, probe, started here, OCF 1.1) → OCF status.
    let table = [
        (0, false, true, false, Success),
        (7, true, false, false, NotRunning),
        (7, true, true, false, NotRunning),
        (7, false, false, false, NotRunning),
        (7, false, true, false, Generic),
        (3, false, true, true, Degraded),
        (3, false, true, false, Success),
        (4, false, true, true, Generic),
        (1, false, true, true, Generic),
        (5, false, true, true, NotInstalled),
        (6, false, true, true, NotConfigured),
        (2, false, true, true, Args),
    ];
    for (kit, probe, started, v11, want) in table {
        assert_eq!(
            monitor_status(kit, probe, started, v11),
            want,
            "kit {kit} probe {probe} started {started}"
        );
    }
    assert_eq!(Degraded.code(), 190);
    assert_eq!(NotRunning.code(), 7);
    assert_eq!(Unimplemented.code(), 3);
}

/// A shell script standing in for `crm_node` in `dir`.
fn fake_crm_node(dir: &Path, body: &str) -> CrmNode {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("crm_node");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    CrmNode { program: p, ..Default::default() }
}

#[test]
fn crm_node_lists_every_node_and_its_failures_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // Pacemaker 2.1's `crm_node -l`: "ID NAME STATE", lost nodes included.
    let c =
        fake_crm_node(tmp.path(), "[ \"$1\" = -l ] || exit 64\necho '1 node1 member'\necho '2 node2 lost'");
    assert_eq!(c.nodes().unwrap(), ["node1", "node2"]);
    let c = fake_crm_node(tmp.path(), "echo 'error: Could not connect to cluster' >&2; exit 69");
    let e = c.nodes().unwrap_err();
    assert!(e.contains("Could not connect"), "{e}");
    let c = fake_crm_node(tmp.path(), "exit 0");
    assert!(c.nodes().unwrap_err().contains("listed no node"));
    let mut c = fake_crm_node(tmp.path(), "sleep 30; echo '1 node1 member'");
    c.timeout = std::time::Duration::from_millis(300);
    let t = std::time::Instant::now();
    assert!(c.nodes().unwrap_err().contains("no answer"));
    assert!(t.elapsed() < std::time::Duration::from_secs(10), "bounded: {:?}", t.elapsed());
    let c = CrmNode { program: tmp.path().join("absent"), ..Default::default() };
    assert!(c.nodes().is_err());
}

struct Nodes(Result<Vec<&'static str>, &'static str>);

impl Membership for Nodes {
    fn nodes(&self) -> Result<Vec<String>, String> {
        self.0.clone().map(|v| v.into_iter().map(String::from).collect()).map_err(String::from)
    }
}

/// `action` (with `vars` besides the instance `vg` and VG lk_sysid) on server hostB (system ID
/// hostB) with `nodes` as the cluster; lk_sysid is owned by system ID lk-hostA on the image.
fn run_on_b(
    tmp: &Path,
    disks: &[std::path::PathBuf],
    nodes: &Nodes,
    dm: &FakeDm,
    action: Action,
    vars: &[(&str, &str)],
) -> (Outcome, Paths) {
    let base = tmp.join("b");
    let paths = Paths {
        state_root: base.join("ocf"),
        run_root: base.join("run"),
        controlled: base.join("lkvgs"),
        lvm_system_dir: base.join("lvm"),
        dm_control: base.join("control"),
    };
    let mut all = vec![("OCF_RESOURCE_INSTANCE", "vg"), ("OCF_RESKEY_volgrpname", "lk_sysid")];
    all.extend_from_slice(vars);
    let req = Request::from_env(action, &env_of(&all)).unwrap();
    let values = Values::from_env(&env_of(&all)).unwrap();
    let agent =
        Agent { req, values, paths: paths.clone(), membership: nodes, dm: Some(dm), server: "hostB".into() };
    let mut env = servers::server("b", Some("hostB"), disks, tmp);
    env.store = Store::new(agent.kit_dir());
    env.controlled = paths.controlled.clone();
    env.server = agent.server.clone();
    (agent.run_with(&|| Ok(env.clone())), paths)
}

fn start_on_b(tmp: &Path, disks: &[std::path::PathBuf], nodes: &Nodes, dm: &FakeDm) -> (Outcome, Paths) {
    run_on_b(tmp, disks, nodes, dm, Action::Start, &[])
}

#[test]
fn a_probe_prepares_the_first_start_without_writing_the_vg_and_a_stale_membership_is_read_again() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = servers::images("system-id", tmp.path());
    let before = servers::on_disk(&disks, "lk_sysid");
    let dm = FakeDm::default();
    let probe = [("OCF_RESKEY_CRM_meta_interval", "0")];
    let (out, paths) =
        run_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["lk-hostA", "hostB"])), &dm, Action::Monitor, &probe);
    assert_eq!(out.status, Status::NotRunning, "{out:?}");
    let cache = paths.run_root.join("vg.nodes");
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), "lk-hostA\nhostB\n");
    // The owner is a member: the probe records the kit resource (the scan for the VG and the
    // PV records leave the failover's start) and writes nothing to the VG.
    assert!(out.log.iter().any(|l| l.contains("prepared the first start here")), "{:?}", out.log);
    let store = Store::new(paths.state_root.join("vg"));
    let ids: Vec<String> = store.list().unwrap().0.into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["lvmvg-lk_sysid"]);
    let after_probe = servers::on_disk(&disks, "lk_sysid");
    assert_eq!((after_probe.seqno, after_probe.system_id.as_deref()), (before.seqno, Some("lk-hostA")));
    assert!(dm.names().is_empty(), "nothing activated");
    // A second probe finds the resource and says not running here.
    let (out, _) =
        run_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["lk-hostA", "hostB"])), &dm, Action::Monitor, &probe);
    assert_eq!(out.status, Status::NotRunning, "{out:?}");
    assert_eq!(servers::on_disk(&disks, "lk_sysid").seqno, before.seqno);
    // The start uses what the probe prepared: the membership is not read again (it would
    // fail), the takeover's one write also turns autoactivation off.
    let (out, _) = start_on_b(tmp.path(), &disks, &Nodes(Err("must not be read")), &dm);
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert!(!out.log.iter().any(|l| l.contains("must not be read")), "{:?}", out.log);
    let after = servers::on_disk(&disks, "lk_sysid");
    assert_eq!(after.system_id.as_deref(), Some("hostB"));
    assert_eq!(after.seqno, before.seqno + 1, "one write");
    assert!(after.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")), "{:?}", after.flags);
    assert_eq!(dm.names(), ["lk_sysid-lv0"]);

    // A VG this node owns is left to the start (creating it here writes the VG): another
    // node's probe state on the same disks, now owned by hostB.
    let tmp2 = tempfile::tempdir().unwrap();
    let (out, paths) = run_on_b(
        tmp2.path(),
        &disks,
        &Nodes(Ok(vec!["lk-hostA", "hostB"])),
        &FakeDm::default(),
        Action::Monitor,
        &probe,
    );
    assert_eq!(out.status, Status::NotRunning, "{out:?}");
    assert!(!paths.state_root.exists(), "nothing recorded: {:?}", out.log);
    assert_eq!(servers::on_disk(&disks, "lk_sysid").seqno, after.seqno, "the probe wrote nothing");

    // A cache that does not name the owner (a node added since the probe) is read again once.
    let tmp = tempfile::tempdir().unwrap();
    let disks = servers::images("system-id", tmp.path());
    let dm = FakeDm::default();
    let (_, paths) =
        run_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["hostB", "hostC"])), &dm, Action::Monitor, &probe);
    assert!(paths.run_root.join("vg.nodes").exists());
    let (out, _) = start_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["lk-hostA", "hostB"])), &dm);
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert!(out.log.iter().any(|l| l.contains("reading the cluster's nodes again")), "{:?}", out.log);
    // …and still refused when the owner is not a member after all.
    let tmp = tempfile::tempdir().unwrap();
    let disks = servers::images("system-id", tmp.path());
    let (_, _) =
        run_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["hostB", "hostC"])), &dm, Action::Monitor, &probe);
    let (out, paths) = start_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["hostB", "hostD"])), &dm);
    assert_eq!(
        (out.status, out.error.as_ref().map(|e| e.code)),
        (Status::Generic, Some("110003")),
        "{out:?}"
    );
    assert!(!paths.state_root.exists(), "nothing recorded");
}

#[test]
fn a_first_start_takes_over_from_a_cluster_member_and_refuses_an_outsider_writing_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = servers::images("system-id", tmp.path());
    let before = servers::on_disk(&disks, "lk_sysid");
    assert_eq!(before.system_id.as_deref(), Some("lk-hostA"));
    let nothing_written = |paths: &Paths, dm: &FakeDm| {
        assert!(!paths.state_root.exists(), "no kit directory: {:?}", paths.state_root);
        assert!(!paths.run_root.exists(), "no started marker");
        assert!(!paths.controlled.exists(), "no controlled-list entry");
        let now = servers::on_disk(&disks, "lk_sysid");
        assert_eq!(
            (now.seqno, now.system_id.as_deref()),
            (before.seqno, Some("lk-hostA")),
            "no metadata write"
        );
        assert!(dm.names().is_empty(), "nothing activated");
    };

    // The owner is outside the cluster: refused, exit 1 with the ownership code.
    let dm = FakeDm::default();
    let (out, paths) = start_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["hostB", "hostC"])), &dm);
    assert_eq!(out.status, Status::Generic, "{out:?}");
    let e = out.error.as_ref().unwrap();
    assert_eq!(e.code, "110003", "{e:?}");
    assert!(e.reason().contains("lk-hostA") && e.cause.contains("hostC"), "{e:?}");
    nothing_written(&paths, &dm);
    // The membership cannot be read: no peers, the same refusal (with a warning).
    let (out, paths) = start_on_b(tmp.path(), &disks, &Nodes(Err("crm_node -l: not found")), &dm);
    assert_eq!(
        (out.status, out.error.as_ref().map(|e| e.code)),
        (Status::Generic, Some("110003")),
        "{out:?}"
    );
    assert!(out.log.iter().any(|l| l.contains("crm_node -l: not found")), "{:?}", out.log);
    nothing_written(&paths, &dm);

    // The owner is a cluster member: the first start here takes the VG over, turns its
    // autoactivation off and records the cluster's nodes as the hierarchy's servers.
    let (out, paths) = start_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["lk-hostA", "hostB"])), &dm);
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert!(
        out.log.iter().any(|l| l.contains("took lk_sysid over from system ID lk-hostA")),
        "{:?}",
        out.log
    );
    let after = servers::on_disk(&disks, "lk_sysid");
    assert_eq!(after.system_id.as_deref(), Some("hostB"));
    assert!(
        after.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")),
        "autoactivation off: {:?}",
        after.flags
    );
    assert_eq!(dm.names(), ["lk_sysid-lv0"]);
    let store = Store::new(paths.state_root.join("vg"));
    let ids: Vec<String> = store.list().unwrap().0.into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["lvmvg-lk_sysid"], "the VG's resource only (no lvmlv per LV)");
    let r = store.find("lk_sysid").unwrap();
    let Kind::Lvmvg(v) = r.kind else { panic!("{r:?}") };
    let servers: Vec<(&str, Option<&str>)> =
        v.servers.iter().map(|s| (s.name.as_str(), s.system_id.as_deref())).collect();
    assert_eq!(servers, [("hostB", Some("hostB")), ("lk-hostA", Some("lk-hostA"))]);
    // Again: started already, nothing more written.
    let seqno = after.seqno;
    let (out, _) = start_on_b(tmp.path(), &disks, &Nodes(Ok(vec!["lk-hostA", "hostB"])), &dm);
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert_eq!(servers::on_disk(&disks, "lk_sysid").seqno, seqno);
}

#[test]
fn policy_names_are_the_parameters_choices_and_the_files_words() {
    use lvmkit::ocf::params::PARAMS;
    use lvmkit::recovery::resource::{ActivationPolicy, OwnershipPolicy};
    let choices = |name: &str| PARAMS.iter().find(|p| p.name == name).unwrap().choices.to_vec();
    let a: Vec<&str> = ActivationPolicy::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(a, choices("activation_mode"));
    let o: Vec<&str> = OwnershipPolicy::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(o, choices("ownership"));
    for p in ActivationPolicy::ALL {
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.name()));
    }
    for p in OwnershipPolicy::ALL {
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.name()));
    }
}

#[test]
fn a_start_brings_the_record_in_line_with_changed_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = servers::images("system-id", tmp.path());
    let dm = FakeDm::default();
    let nodes = Nodes(Ok(vec!["lk-hostA", "hostB"]));
    let (out, paths) = start_on_b(tmp.path(), &disks, &nodes, &dm);
    assert_eq!(out.status, Status::Success, "{out:?}");
    let policy = || {
        let r = Store::new(paths.state_root.join("vg")).find("lk_sysid").unwrap();
        let Kind::Lvmvg(v) = r.kind else { panic!("{r:?}") };
        (v.policy.activation.name(), v.policy.ownership.name())
    };
    assert_eq!(policy(), ("complete", "system_id"));
    // The same parameters again: nothing to bring in line (negative control).
    let (out, _) = start_on_b(tmp.path(), &disks, &nodes, &dm);
    assert!(!out.log.iter().any(|l| l.contains("follows the parameters")), "{:?}", out.log);
    // `pcs resource update vg activation_mode=partial` restarts it with the new value.
    let (out, _) = run_on_b(
        tmp.path(),
        &disks,
        &nodes,
        &dm,
        Action::Start,
        &[("OCF_RESKEY_activation_mode", "partial")],
    );
    assert_eq!(out.status, Status::Success, "{out:?}");
    assert!(
        out.log
            .iter()
            .any(|l| l.contains("activation_mode complete → partial, ownership system_id → system_id")),
        "{:?}",
        out.log
    );
    assert_eq!(policy(), ("partial", "system_id"));
}
