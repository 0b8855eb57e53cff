//! A real two-node Pacemaker cluster (`tests/vm/cluster/`): two user-mode-linux guests running
//! corosync 3 + pacemaker 2.1 with `stonith-enabled=true` and host-watched fence devices over
//! one shared PV image. Node 1 builds VG `vgc` and writes a marker into its first LV; the
//! resource under test fails it over:
//!
//! - ours, `ocf:lvmkit:lvmvg` (the static lvmkit, `lvmkit ocf install` in each guest):
//!   `crm_resource --move` (clean stop: no device of the VG left; start on the other node),
//!   then the node running it killed (fenced, taken over, marker read back); a second cluster:
//!   the PV's path turned to dm `error` under the running VG (the level-10 monitor fails, the
//!   VG starts on the other node), then its system ID changed behind the cluster's back (the
//!   level-20 monitor fails, the VG ends stopped and refused everywhere); a third: the node
//!   running it frozen; a fourth: the link cut (split brain: exactly one node is fenced and the
//!   other runs the VG — usually node 2, whose fence device is delayed);
//! - the anchor, `ocf:heartbeat:LVM-activate` (`vg_access_mode=system_id`), in the same harness:
//!   move, then kill.
//!
//! Each scenario prints a `RESULT` line (host times: event → fenced, event → `Started` on the
//! survivor, the agent's own start/stop times from the CIB). Five cluster boots: about 5
//! minutes on an idle 2-core host (a boot ≈ 15–35 s, each scenario 10–50 s). Skipped (one line) without
//! root or the cluster packages, except under `CI=true`.

use std::process::Command;

use lvmkit_tests::repo_root;
use lvmkit_tests::vm::{build_static_lvmkit, guest_available, in_ci};

fn cluster(agent: &str, scenarios: &[&str], lvmkit: &std::path::Path) -> Vec<String> {
    let out = Command::new(repo_root().join("tests/vm/cluster/run.sh"))
        .arg(agent)
        .args(scenarios)
        .env("LVMKIT", lvmkit)
        .output()
        .expect("run tests/vm/cluster/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("--- cluster {agent} {scenarios:?} ---\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cluster run {agent} {scenarios:?} failed: {}", out.status);
    let results: Vec<String> =
        stdout.lines().filter(|l| l.starts_with("RESULT ")).map(str::to_string).collect();
    for s in scenarios {
        assert!(
            results.iter().any(|r| r.contains(&format!("scenario={s} "))),
            "no RESULT for scenario {s} of {agent}"
        );
    }
    results
}

#[test]
fn vm_cluster_failover() {
    if !guest_available("vm_cluster_failover") {
        return;
    }
    let missing: Vec<&str> = [
        "/usr/sbin/corosync",
        "/usr/sbin/pacemakerd",
        "/usr/sbin/fence_dummy",
        "/usr/lib/ocf/resource.d/heartbeat/LVM-activate",
    ]
    .into_iter()
    .filter(|p| !std::path::Path::new(p).exists())
    .collect();
    if !missing.is_empty() {
        assert!(
            !in_ci(),
            "vm_cluster_failover: CI=true but {missing:?} missing (tests/vm/setup.sh installs them)"
        );
        println!("skipped: vm_cluster_failover: {missing:?} missing (cluster packages not installed)");
        return;
    }
    let lvmkit = build_static_lvmkit();
    let mut all = Vec::new();
    all.extend(cluster("lvmvg", &["move", "kill"], &lvmkit));
    all.extend(cluster("lvmvg", &["pvdies", "sysid"], &lvmkit));
    all.extend(cluster("lvmvg", &["freeze"], &lvmkit));
    all.extend(cluster("lvmvg", &["split"], &lvmkit));
    all.extend(cluster("lvm-activate", &["move", "kill"], &lvmkit));
    println!("{}", all.join("\n"));
}
