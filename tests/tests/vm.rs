//! Tests in a real kernel: Debian's user-mode-linux, driven by `tests/vm/run-uml.sh`.
//!
//! The host has no device-mapper, so these boot a guest (about 2 s a boot) with the host's
//! filesystem as root and image files as `/dev/ubdb`, `/dev/ubdc`, …; each boot runs a whole
//! batch of steps. They need root (for `tests/vm/setup.sh` to install `dmsetup`/`lvm2` when
//! missing, and for UML to reach the images): otherwise, or when the guest cannot be set up,
//! they print a `skipped: …` line and pass — unless `CI=true`, where they must run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repo").to_path_buf()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").ok().is_some_and(|s| {
        s.lines().any(|l| l.strip_prefix("Uid:").and_then(|r| r.split_whitespace().nth(1)) == Some("0"))
    })
}

/// `Ok(())` when the guest can boot; otherwise why not (the caller skips, or fails in CI).
fn setup() -> Result<(), String> {
    if !is_root() {
        return Err("needs root".into());
    }
    let out = Command::new(repo_root().join("tests/vm/setup.sh"))
        .output()
        .map_err(|e| format!("cannot run tests/vm/setup.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/vm/setup.sh failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Sets the guest up or returns `false` after printing why the test is skipped.
fn guest_available(test: &str) -> bool {
    match setup() {
        Ok(()) => true,
        Err(why) if !in_ci() => {
            println!("skipped: {test}: {why}");
            false
        }
        Err(why) => panic!("{test}: CI=true but the VM harness is not available: {why}"),
    }
}

/// Boots once, running `scenario` with `images` as /dev/ubdb, …
fn run_uml(scenario: &Path, images: &[&Path]) -> Output {
    let out = Command::new(repo_root().join("tests/vm/run-uml.sh"))
        .arg(scenario)
        .args(images)
        .output()
        .expect("run tests/vm/run-uml.sh");
    eprintln!("--- guest output ---\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("--- harness ---\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn sparse_image(dir: &Path, name: &str, bytes: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).and_then(|f| f.set_len(bytes)).expect("create image");
    p
}

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

/// Builds `dm/tests/vm_ioctl.rs` as a fully static binary (`crt-static` on the explicit gnu
/// target, so proc macros stay dynamic; own target dir, so the outer cargo's lock is not
/// contended) and returns its path.
fn build_static_test(package: &str, test: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args(["test", "-q", "-p", package, "--test", test, "--no-run", "--message-format=json"])
        .args(["--target", "x86_64-unknown-linux-gnu", "--target-dir"])
        .arg(repo_root().join("target/vm-build"))
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "static build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8_lossy(&out.stdout);
    let exe = json
        .lines()
        .filter(|l| {
            l.contains("\"reason\":\"compiler-artifact\"") && l.contains(&format!("\"name\":\"{test}\""))
        })
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            Some(l[at..].split('"').next()?.to_string())
        })
        .expect("cargo names the test executable");
    PathBuf::from(exe)
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
