//! Tests in a real kernel: Debian's user-mode-linux, driven by `tests/vm/run-uml.sh` through
//! [`lvmkit_tests::vm`] (skipped without root unless `CI=true`).

use std::path::{Path, PathBuf};

use lvmkit_tests::repo_root;
use lvmkit_tests::vm::{
    assert_guest_tests, build_static_lvmkit, build_static_test, guest_available, run_uml, scenario_with_env,
    sparse_image, test_scenario,
};
use lvmkit_tests::{lvm1_images, lvm1_shared};

#[test]
fn vm_harness_boots_and_runs_dm() {
    if !guest_available("vm_harness_boots_and_runs_dm") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let img = sparse_image(tmp.path(), "disk.img", 32 << 20);

    // Boot 1: every step of the smoke scenario (targets, linear create, I/O both ways, remove).
    let out = run_uml(&repo_root().join("tests/vm/scenarios/dm-smoke.sh"), &[&img]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smoke scenario failed: {}", out.status);
    assert!(stdout.contains("Driver version:    4."), "no dm driver version in the output");
    assert!(stdout.lines().any(|l| l == "dm-smoke: ok"), "smoke scenario did not finish");

    // Boot 2: the scenario's exit status and output travel back although UML exits 0.
    let fail = tmp.path().join("fail.sh");
    std::fs::write(&fail, "echo about to fail\nexit 7\n").unwrap();
    let out = run_uml(&fail, &[]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "about to fail\n");
}

/// One boot running the static integration test `test` of `package` through `scenario` on two
/// 64 MiB disks; all `passed` tests must pass in the guest.
fn two_disk_guest_test(name: &str, package: &str, test: &str, scenario: &str, passed: usize) {
    if !guest_available(name) {
        return;
    }
    let exe = build_static_test(package, test);
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = sparse_image(tmp.path(), "a.img", 64 << 20);
    let b = sparse_image(tmp.path(), "b.img", 64 << 20);
    let out = run_uml(&test_scenario(tmp.path(), scenario, &exe), &[&a, &b]);
    assert!(out.status.success(), "{name} failed in the guest: {}", out.status);
    assert_guest_tests(name, &String::from_utf8_lossy(&out.stdout), passed);
}

#[test]
fn vm_dm_ioctls() {
    two_disk_guest_test("vm_dm_ioctls", "lvmkit-dm", "vm_ioctl", "dm-ioctl.sh", 3);
}

#[test]
fn vm_activate_like_lvm2() {
    two_disk_guest_test("vm_activate_like_lvm2", "lvmkit", "vm_activate", "activate.sh", 1);
}

#[test]
fn vm_activate_types_like_lvm2() {
    if !guest_available("vm_activate_types_like_lvm2") {
        return;
    }
    let exe = build_static_test("lvmkit", "vm_activate_types");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    // vgk on five disks (three large, two for raid6/raid10), vgm on three (one goes missing),
    // vgx (the further types) on five.
    let images: Vec<PathBuf> = (0..13)
        .map(|i| {
            let size = match i {
                0..3 | 8.. => 96 << 20,
                _ => 32 << 20,
            };
            sparse_image(tmp.path(), &format!("{}.img", (b'a' + i) as char), size)
        })
        .collect();
    let scenario =
        scenario_with_env(tmp.path(), "activate-types.sh", &[("LVMKIT_VM_TEST", &exe), ("LVMKIT", &lvmkit)]);
    let stdout = run_guest_batch("type activation", &scenario, &images, 4);
    // The live report comparison ran on its own, with vgk still active.
    assert!(
        stdout.contains("test result: ok. 1 passed; 0 failed") && stdout.contains("live report fields: "),
        "the live report comparison did not pass in the guest"
    );
}

#[test]
fn vm_refresh() {
    if !guest_available("vm_refresh") {
        return;
    }
    let exe = build_static_test("lvmkit", "vm_refresh");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = sparse_image(tmp.path(), "a.img", 64 << 20);
    let b = sparse_image(tmp.path(), "b.img", 64 << 20);
    let scenario =
        scenario_with_env(tmp.path(), "refresh.sh", &[("LVMKIT_VM_TEST", &exe), ("LVMKIT", &lvmkit)]);
    let out = run_uml(&scenario, &[&a, &b]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "refresh test failed in the guest: {}", out.status);
    assert_guest_tests("refresh", &stdout, 1);
    // The static command did the whole cycle.
    assert!(stdout.contains("static: ok"), "lvmkit is not static");
    for line in ["created vgr-lin ", "created vgr-r1 ", "unchanged vgr-r1 ", "removed vgr-r1_rimage_0"] {
        assert!(stdout.lines().any(|l| l.starts_with(line)), "static lvmkit printed no `{line}`");
    }
}

#[test]
fn vm_activate_lvm1() {
    if !guest_available("vm_activate_lvm1") {
        return;
    }
    let Some(shared) = lvm1_shared() else {
        println!("skipped: vm_activate_lvm1: the shared LVM1 images are not beside the repository");
        return;
    };
    let exe = build_static_test("lvmkit", "vm_activate_lvm1");
    let tmp = tempfile::tempdir().expect("tempdir");
    // Copies: the guest writes to them.
    let names = ["l1a", "l1b-pv0", "l1b-pv1", "l1c", "l1d"];
    let images = lvm1_images(&shared, tmp.path(), &names);
    let list = names.join(" ");
    let scenario = scenario_with_env(
        tmp.path(),
        "activate-lvm1.sh",
        &[
            ("LVMKIT_VM_TEST", &exe),
            ("LVMKIT_VM_LVM1_DIR", &shared),
            ("LVMKIT_VM_LVM1_IMAGES", Path::new(&list)),
        ],
    );
    let _ = run_guest_batch("LVM1 activation", &scenario, &images, 3);
}

/// One boot of `scenario` with `images`: the guest's status, and `passed` in-guest tests
/// passed (naming the failed ones otherwise), none skipped, no device left.
fn run_guest_batch(what: &str, scenario: &Path, images: &[PathBuf], passed: usize) -> String {
    let refs: Vec<&Path> = images.iter().map(PathBuf::as_path).collect();
    let out = run_uml(scenario, &refs);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} tests failed in the guest ({}): {}",
        out.status,
        guest_failures(&stdout)
    );
    assert_guest_tests(what, &stdout, passed);
    stdout.into_owned()
}

/// The in-guest tests that failed (libtest's `failures:` list), for the host's assertion message.
fn guest_failures(stdout: &str) -> String {
    let names: Vec<&str> = stdout
        .split("\nfailures:\n")
        .nth(2)
        .unwrap_or("")
        .lines()
        .map_while(|l| l.strip_prefix("    "))
        .collect();
    names.join(", ")
}
