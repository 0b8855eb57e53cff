//! The OCF agent `ocf:lvmkit:lvmvg` on a real VG in one user-mode-linux guest
//! (`tests/vm/scenarios/ocf.sh`): resource-agents' ocf-tester passes against it and fails
//! against a deliberately broken agent; the ocft LVM case matrix; bad configuration (each the
//! right OCF code with an `ocf-exit-reason:`); ownership (system ID written, autoactivation
//! off, a foreign owner refused); monitor levels 10 and 20 catching a dead PV path and a
//! changed system ID. Skipped (one line) without root or without ocf-tester, except under
//! `CI=true`.

use std::path::Path;

use lvmkit_tests::vm::{
    build_static_lvmkit, guest_available, in_ci, run_uml, scenario_with_env, sparse_image,
};

/// Every check the scenario must report as passed.
const CHECKS: &[&str] = &[
    "ocf-tester rc=0",
    "after-tester-nothing-live",
    "ocf-tester-broken-agent-fails",
    "ocft-start",
    "ocft-monitor-running",
    "ocft-double-start",
    "ocft-stop",
    "ocft-stop-leaves-nothing",
    "ocft-monitor-stopped",
    "ocft-double-stop",
    "ocft-bad-volgrpname",
    "ocft-unset-volgrpname",
    "ocft-unknown-action",
    "validate-good",
    "validate-vg-nowhere",
    "probe-vg-nowhere",
    "validate-lv-nowhere",
    "bad-activation-mode",
    "bad-check-level",
    "check-level-15-falls-back",
    "stop-unconfigured",
    "meta-data",
    "start rc",
    "systemid-written",
    "autoactivation-off",
    "monitor-level-10 ",
    "monitor-level-20 ",
    "systemid-changed",
    "monitor-level-0-blind-to-owner",
    "monitor-level-20-owner-changed",
    "stop-after-owner-change",
    "start-foreign-owner-refused",
    "foreign-owner-kept",
    "nothing-activated",
    "start-again",
    "monitor-level-10-healthy",
    "monitor-level-10-dead-path",
    "monitor-level-0-blind-to-path",
    "final-stop",
    "final-nothing-live",
];

#[test]
fn vm_ocf_agent() {
    if !guest_available("vm_ocf_agent") {
        return;
    }
    if !Path::new("/usr/sbin/ocf-tester").exists() {
        assert!(
            !in_ci(),
            "vm_ocf_agent: CI=true but ocf-tester is missing (tests/vm/setup.sh installs resource-agents)"
        );
        println!("skipped: vm_ocf_agent: ocf-tester missing (resource-agents not installed)");
        return;
    }
    // Mount points of the guest's private tmpfs (the guest's root is the host's).
    for d in ["/var/lib/lvmkit", "/usr/lib/ocf/resource.d/lvmkit"] {
        std::fs::create_dir_all(d).expect("create the mount point");
    }
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    let img = sparse_image(tmp.path(), "pv.img", 64 << 20);
    let scenario = scenario_with_env(tmp.path(), "ocf.sh", &[("LVMKIT", &lvmkit)]);
    let out = run_uml(&scenario, &[&img]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failed: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("CHECK ") && l.ends_with(" FAIL")).collect();
    assert!(failed.is_empty(), "failed checks:\n{}", failed.join("\n"));
    for c in CHECKS {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("CHECK {c}")) && l.ends_with(" ok")),
            "check {c:?} did not run or pass"
        );
    }
    assert!(stdout.contains("ocf-tester: passed all tests"));
    assert!(stdout.contains("left: No devices found"), "devices left behind");
    assert!(out.status.success(), "the scenario failed: {}", out.status);
}
