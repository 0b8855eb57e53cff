//! Helpers shared by the tests that run inside the VM harness's guest (tests/vm). Each test
//! file uses a part of them.
#![allow(dead_code)]

use std::process::Command;

/// Run `cmd` with /bin/sh; its stdout. A failing command fails the test, with its output.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("/bin/sh").arg("-c").arg(cmd).output().expect("run /bin/sh");
    assert!(
        out.status.success(),
        "{cmd}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `dmsetup table` and `dmsetup info` (name, uuid, attributes), sorted — as the scenarios
/// record lvm2's.
pub fn dm_state() -> (String, String) {
    (
        sh("dmsetup table | sort"),
        sh(
            "dmsetup info -c --noheadings -o name,uuid,attr 2>/dev/null | grep -v '^No devices' | sort || true",
        ),
    )
}

/// No device-mapper device is left.
pub fn dm_empty() -> bool {
    sh("dmsetup ls").trim() == "No devices found"
}

/// Owned argument strings.
pub fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Deterministic test data, different per `seed`.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed) ^ ((i >> 8) as u8)).collect()
}
