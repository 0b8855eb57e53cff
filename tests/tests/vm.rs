//! Tests in a real kernel: Debian's user-mode-linux, driven by `tests/vm/run-uml.sh` through
//! [`lvmkit_tests::vm`] (skipped without root unless `CI=true`).

use std::path::{Path, PathBuf};

use lvmkit_tests::repo_root;
use lvmkit_tests::vm::{build_static_lvmkit, build_static_test, guest_available, run_uml, sparse_image};

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

#[test]
fn vm_dm_ioctls() {
    if !guest_available("vm_dm_ioctls") {
        return;
    }
    let exe = build_static_test("lvmkit-dm", "vm_ioctl");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = sparse_image(tmp.path(), "a.img", 64 << 20);
    let b = sparse_image(tmp.path(), "b.img", 64 << 20);
    let scenario = tmp.path().join("dm-ioctls.sh");
    std::fs::write(
        &scenario,
        format!(
            "#!/bin/sh\n\
             LVMKIT_DM_TEST_DISKS='/dev/ubdb /dev/ubdc' '{}' --test-threads=1 --nocapture\n\
             st=$?\n\
             echo \"left: $(dmsetup ls)\"\n\
             exit $st\n",
            exe.display()
        ),
    )
    .unwrap();
    let out = run_uml(&scenario, &[&a, &b]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "dm ioctl tests failed in the guest: {}", out.status);
    assert!(stdout.contains("test result: ok. 3 passed; 0 failed"), "not every test ran");
    assert!(!stdout.contains("skipped:"), "tests skipped inside the guest");
    assert!(stdout.contains("left: No devices found"), "devices left behind");
}

#[test]
fn vm_activate_like_lvm2() {
    if !guest_available("vm_activate_like_lvm2") {
        return;
    }
    let exe = build_static_test("lvmkit", "vm_activate");
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = sparse_image(tmp.path(), "a.img", 64 << 20);
    let b = sparse_image(tmp.path(), "b.img", 64 << 20);
    let scenario = tmp.path().join("activate.sh");
    std::fs::write(
        &scenario,
        format!(
            "#!/bin/sh\n\
             set -e\n\
             . '{env}'\n\
             lvm pvcreate -q /dev/ubdb /dev/ubdc\n\
             lvm vgcreate -q vgt /dev/ubdb /dev/ubdc\n\
             lvm lvcreate -q -L 8M -n lin vgt /dev/ubdb\n\
             lvm lvextend -q -L +4M vgt/lin /dev/ubdc\n\
             lvm lvcreate -q -i 2 -I 64k -L 16M -n str vgt\n\
             lvm lvcreate -q -L 4M -n my-lv vgt\n\
             dmsetup table | sort >lvm2.table\n\
             dmsetup info -c --noheadings -o name,uuid,attr | sort >lvm2.info\n\
             cat lvm2.table lvm2.info\n\
             lvm vgchange -q -an vgt\n\
             LVMKIT_VM_LVM2_TABLE=$VM_RUN/lvm2.table LVMKIT_VM_LVM2_INFO=$VM_RUN/lvm2.info \
             '{exe}' --test-threads=1 --nocapture\n\
             echo \"left: $(dmsetup ls)\"\n",
            env = repo_root().join("tests/vm/scenarios/lvm2-env.sh").display(),
            exe = exe.display()
        ),
    )
    .unwrap();
    let out = run_uml(&scenario, &[&a, &b]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "activation tests failed in the guest: {}", out.status);
    assert!(stdout.contains("test result: ok. 1 passed; 0 failed"), "the activation test did not run");
    assert!(!stdout.contains("skipped:"), "skipped inside the guest");
    assert!(stdout.contains("left: No devices found"), "devices left behind");
}

#[test]
fn vm_activate_types_like_lvm2() {
    if !guest_available("vm_activate_types_like_lvm2") {
        return;
    }
    let exe = build_static_test("lvmkit", "vm_activate_types");
    let tmp = tempfile::tempdir().expect("tempdir");
    let images: Vec<PathBuf> =
        ["a.img", "b.img", "c.img"].iter().map(|n| sparse_image(tmp.path(), n, 96 << 20)).collect();
    let scenario = tmp.path().join("activate-types.sh");
    std::fs::write(
        &scenario,
        format!(
            "#!/bin/sh\nLVMKIT_VM_TEST='{}' exec /bin/sh '{}'\n",
            exe.display(),
            repo_root().join("tests/vm/scenarios/activate-types.sh").display()
        ),
    )
    .unwrap();
    let refs: Vec<&Path> = images.iter().map(PathBuf::as_path).collect();
    let out = run_uml(&scenario, &refs);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "type activation tests failed in the guest: {}", out.status);
    assert!(stdout.contains("test result: ok. 1 passed; 0 failed"), "the type activation test did not run");
    assert!(!stdout.contains("skipped:"), "skipped inside the guest");
    assert!(stdout.contains("left: No devices found"), "devices left behind");
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
    let scenario = tmp.path().join("refresh.sh");
    std::fs::write(
        &scenario,
        format!(
            "#!/bin/sh\nLVMKIT_VM_TEST='{}' LVMKIT='{}' exec /bin/sh '{}'\n",
            exe.display(),
            lvmkit.display(),
            repo_root().join("tests/vm/scenarios/refresh.sh").display()
        ),
    )
    .unwrap();
    let out = run_uml(&scenario, &[&a, &b]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "refresh test failed in the guest: {}", out.status);
    assert!(stdout.contains("test result: ok. 1 passed; 0 failed"), "the refresh test did not run");
    // The static command did the whole cycle.
    assert!(stdout.contains("static: ok"), "lvmkit is not static");
    for line in ["created vgr-lin ", "created vgr-r1 ", "unchanged vgr-r1 ", "removed vgr-r1_rimage_0"] {
        assert!(stdout.lines().any(|l| l.starts_with(line)), "static lvmkit printed no `{line}`");
    }
    assert!(!stdout.contains("skipped:"), "skipped inside the guest");
    assert!(stdout.contains("left: No devices found"), "devices left behind");
}
