//! Booting a real kernel for device-mapper tests: Debian's user-mode-linux, driven by
//! `tests/vm/run-uml.sh` (see `tests/vm/README.md`).
//!
//! The host has no device-mapper, so VM tests boot a guest (about 2 s a boot) with the host's
//! filesystem as root and image files as `/dev/ubdb`, `/dev/ubdc`, …; each boot runs a whole
//! batch of steps. They need root (for `tests/vm/setup.sh` to install `dmsetup`/`lvm2` when
//! missing, and for UML to reach the images): otherwise, or when the guest cannot be set up,
//! [`guest_available`] prints a `skipped: …` line and the test passes — unless `CI=true`, where
//! they must run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::repo_root;

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").ok().is_some_and(|s| {
        s.lines().any(|l| l.strip_prefix("Uid:").and_then(|r| r.split_whitespace().nth(1)) == Some("0"))
    })
}

/// `Ok(())` when the guest can boot; otherwise why not (the caller skips, or fails in CI).
pub fn setup() -> Result<(), String> {
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
pub fn guest_available(test: &str) -> bool {
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
pub fn run_uml(scenario: &Path, images: &[&Path]) -> Output {
    let out = Command::new(repo_root().join("tests/vm/run-uml.sh"))
        .arg(scenario)
        .args(images)
        .output()
        .expect("run tests/vm/run-uml.sh");
    eprintln!("--- guest output ---\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("--- harness ---\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn sparse_image(dir: &Path, name: &str, bytes: u64) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).and_then(|f| f.set_len(bytes)).expect("create image");
    p
}

/// Builds the integration test `test` of `package` as a fully static binary (see
/// [`build_static`]) and returns its path.
pub fn build_static_test(package: &str, test: &str) -> PathBuf {
    build_static(&["test", "-p", package, "--test", test, "--no-run"], test)
}

/// Builds the `lvmkit` command as the fully static binary the guests run (and an initramfs or
/// a minimal failover node would: it needs nothing but the kernel) and returns its path.
pub fn build_static_lvmkit() -> PathBuf {
    build_static(&["build", "-p", "lvmkit", "--bin", "lvmkit"], "lvmkit")
}

/// Runs cargo with `args` for a fully static result (`crt-static` on the explicit gnu target,
/// so proc macros stay dynamic; own target dir, so the outer cargo's lock is not contended)
/// and returns the executable of artifact `name`.
fn build_static(args: &[&str], name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args(args)
        .args(["-q", "--message-format=json", "--target", "x86_64-unknown-linux-gnu", "--target-dir"])
        .arg(repo_root().join("target/vm-build"))
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "static build failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8_lossy(&out.stdout);
    let exe = json
        .lines()
        .filter(|l| {
            l.contains("\"reason\":\"compiler-artifact\"") && l.contains(&format!("\"name\":\"{name}\""))
        })
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            Some(l[at..].split('"').next()?.to_string())
        })
        .expect("cargo names the executable");
    PathBuf::from(exe)
}
