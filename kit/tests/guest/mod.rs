//! Helpers shared by the tests that run inside the VM harness's guest (tests/vm). Each test
//! file uses a part of them.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
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

/// Deterministic test data, different per `seed`.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed) ^ ((i >> 8) as u8)).collect()
}

/// The guest's disks in harness order: `$VM_DISKS` (space-separated) when the harness sets it,
/// else user-mode-linux's `/dev/ubdb`, `/dev/ubdc`, … as far as they exist.
pub fn disks() -> Vec<String> {
    match std::env::var("VM_DISKS") {
        Ok(d) if !d.trim().is_empty() => d.split_whitespace().map(str::to_string).collect(),
        _ => (b'b'..=b'p')
            .map(|c| format!("/dev/ubd{}", c as char))
            .take_while(|p| std::path::Path::new(p).exists())
            .collect(),
    }
}

/// `MAJOR:MINOR` of a block device node, as dm tables write it.
pub fn dev_num(path: &str) -> String {
    let rdev = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}")).rdev();
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    format!("{major}:{minor}")
}

/// FNV-1a, to print (and compare) what was written and read.
pub fn checksum(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3))
}

/// Writes `data` at byte `offset` of `path` and syncs it.
pub fn write_at(path: &str, offset: u64, data: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(data).unwrap_or_else(|e| panic!("write {path} at {offset}: {e}"));
    f.sync_all().unwrap_or_else(|e| panic!("sync {path}: {e}"));
}

/// Reads `len` bytes at byte `offset` of `path`.
pub fn try_read_at(path: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut b = vec![0u8; len];
    f.read_exact(&mut b)?;
    Ok(b)
}

/// [`try_read_at`]; an error fails the test.
pub fn read_at(path: &str, offset: u64, len: usize) -> Vec<u8> {
    try_read_at(path, offset, len).unwrap_or_else(|e| panic!("read {len} bytes at {offset} of {path}: {e}"))
}

/// Drops the page cache of a block device underneath device-mapper (it may hold what was read
/// before a dm device wrote there), so that reads see the disk.
pub fn flush_bufs(path: &str) {
    sh(&format!("blockdev --flushbufs '{path}'"));
}

/// Reads `len` bytes at `offset` of a block device underneath device-mapper, past its page
/// cache ([`flush_bufs`]).
pub fn read_disk_at(path: &str, offset: u64, len: usize) -> Vec<u8> {
    flush_bufs(path);
    read_at(path, offset, len)
}

/// Read-ahead (sectors, as `blockdev --getra` prints it) of every dm device, `NAME SECTORS`
/// lines sorted by name (as the scenarios record lvm2's), from sysfs: no process per device.
pub fn dm_read_ahead() -> String {
    let mut lines: Vec<String> = std::fs::read_dir("/sys/block")
        .expect("/sys/block")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = std::fs::read_to_string(p.join("dm/name")).ok()?;
            let kb: u64 = std::fs::read_to_string(p.join("queue/read_ahead_kb")).ok()?.trim().parse().ok()?;
            Some(format!("{} {}", name.trim(), kb * 2))
        })
        .collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}
