//! Booting a real kernel for device-mapper tests: Debian's user-mode-linux, driven by
//! `tests/vm/run-uml.sh`, or Debian's linux-image-amd64 under qemu (TCG, 2 vCPUs, virtio
//! disks), driven by `tests/vm/run-qemu.sh` (see `tests/vm/README.md`).
//!
//! The host has no device-mapper, so VM tests boot a guest (about 2 s a boot with UML, 10–20 s
//! with qemu) with the host's filesystem as root and image files as `/dev/ubdb`, `/dev/ubdc`, …
//! (UML) or `/dev/vdb`, `/dev/vdc`, … (qemu), listed for the scenario in `$VM_DISKS`; each boot
//! runs a whole batch of steps. They need root (for `tests/vm/setup.sh` to install
//! `dmsetup`/`lvm2`/qemu when missing, and for the guest to reach the images): otherwise, or when
//! the guest cannot be set up, [`guest_available`] / [`qemu_available`] print a `skipped: …`
//! line and the test passes — unless `CI=true`, where they must run.

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

/// `Ok(())` when the qemu guest can boot too (`tests/vm/setup-qemu.sh`, which `setup.sh` runs
/// but does not fail on); otherwise why not.
pub fn setup_qemu() -> Result<(), String> {
    setup()?;
    let out = Command::new(repo_root().join("tests/vm/setup-qemu.sh"))
        .output()
        .map_err(|e| format!("cannot run tests/vm/setup-qemu.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/vm/setup-qemu.sh failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Sets the guest up or returns `false` after printing why the test is skipped.
pub fn guest_available(test: &str) -> bool {
    available(test, setup())
}

/// [`guest_available`] for the qemu guest.
pub fn qemu_available(test: &str) -> bool {
    available(test, setup_qemu())
}

fn available(test: &str, setup: Result<(), String>) -> bool {
    match setup {
        Ok(()) => true,
        Err(why) if !in_ci() => {
            println!("skipped: {test}: {why}");
            false
        }
        Err(why) => panic!("{test}: CI=true but the VM harness is not available: {why}"),
    }
}

/// Boots user-mode-linux once, running `scenario` with `images` as /dev/ubdb, …
pub fn run_uml(scenario: &Path, images: &[&Path]) -> Output {
    run_vm("tests/vm/run-uml.sh", scenario, images)
}

/// Boots the qemu guest (2 vCPUs) once, running `scenario` with `images` as /dev/vdb, …
pub fn run_qemu(scenario: &Path, images: &[&Path]) -> Output {
    run_vm("tests/vm/run-qemu.sh", scenario, images)
}

/// [`run_qemu`] with `multipath` images attached as two SCSI paths each (/dev/sda + /dev/sdb for
/// the first; `LVMKIT_VM_MULTIPATH`, see tests/vm/run-qemu.sh), bounded by `timeout` seconds
/// unless `LVMKIT_VM_TIMEOUT` says otherwise.
pub fn run_qemu_multipath(scenario: &Path, images: &[&Path], multipath: &[&Path], timeout: u32) -> Output {
    let list: Vec<String> = multipath.iter().map(|p| p.display().to_string()).collect();
    let timeout = std::env::var("LVMKIT_VM_TIMEOUT").unwrap_or_else(|_| timeout.to_string());
    run_vm_env(
        "tests/vm/run-qemu.sh",
        scenario,
        images,
        &[("LVMKIT_VM_MULTIPATH", list.join(" ")), ("LVMKIT_VM_TIMEOUT", timeout)],
    )
}

fn run_vm(runner: &str, scenario: &Path, images: &[&Path]) -> Output {
    run_vm_env(runner, scenario, images, &[])
}

fn run_vm_env(runner: &str, scenario: &Path, images: &[&Path], env: &[(&str, String)]) -> Output {
    let out = Command::new(repo_root().join(runner))
        .arg(scenario)
        .args(images)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap_or_else(|e| panic!("run {runner}: {e}"));
    eprintln!("--- guest output ---\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("--- harness ---\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Writes `dir/NAME` (NAME = `scenario`), a scenario that runs `tests/vm/scenarios/NAME` with
/// `$LVMKIT_VM_TEST` = `exe` (a static test binary from [`build_static_test`]).
pub fn test_scenario(dir: &Path, scenario: &str, exe: &Path) -> PathBuf {
    scenario_with_env(dir, scenario, &[("LVMKIT_VM_TEST", exe)])
}

/// Writes `dir/NAME` (NAME = `scenario`), a scenario that runs `tests/vm/scenarios/NAME` with
/// the variables `env` (paths, such as static test binaries) set.
pub fn scenario_with_env(dir: &Path, scenario: &str, env: &[(&str, &Path)]) -> PathBuf {
    let p = dir.join(scenario);
    let vars: String = env.iter().map(|(k, v)| format!("{k}='{}' ", v.display())).collect();
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n{vars}exec /bin/sh '{}'\n",
            repo_root().join("tests/vm/scenarios").join(scenario).display()
        ),
    )
    .expect("write the scenario");
    p
}

/// What a scenario running an in-guest test binary printed shows that all `passed` tests ran
/// and passed, none skipped, and no dm device was left (`left: …`, the scenarios' last line).
pub fn assert_guest_tests(what: &str, output: &str, passed: usize) {
    let result = format!("test result: ok. {passed} passed; 0 failed");
    assert!(output.contains(&result), "{what}: no \"{result}\" in the guest's output");
    assert!(!output.contains("skipped:"), "{what}: tests skipped inside the guest");
    assert!(output.contains("left: No devices found"), "{what}: devices left behind");
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
