//! Test servers over image files: a test-images case decompressed (sparse) into a temporary
//! folder, and a kit [`Env`] per "server" (its own kit directory, controlled list, lock
//! directory and system ID) whose disks are those files, numbered 7:N for device-mapper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use lvmkit::recovery::Env;
use lvmkit_dm::DevNum;

/// Decompress a test-images case into `dir` (the tests write to the copies).
pub fn images(case: &str, dir: &Path) -> Vec<PathBuf> {
    let cdir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-images").join(case);
    let list = std::fs::read_to_string(cdir.join("devices.txt")).unwrap();
    let mut out = Vec::new();
    for l in list.lines().filter(|l| !l.trim().is_empty()) {
        let img = l.split_whitespace().nth(1).unwrap();
        let o = Command::new("xz").arg("-dc").arg(cdir.join(format!("{img}.xz"))).output().expect("xz runs");
        assert!(o.status.success(), "xz {img}");
        let p = dir.join(img);
        write_sparse(&p, &o.stdout);
        out.push(p);
    }
    out
}

/// Write an image leaving its zero blocks as holes (the disk is shared with other builds).
pub fn write_sparse(p: &Path, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::create(p).unwrap();
    f.set_len(data.len() as u64).unwrap();
    for (i, chunk) in data.chunks(64 << 10).enumerate() {
        if chunk.iter().any(|&b| b != 0) {
            f.write_all_at(chunk, (i * (64 << 10)) as u64).unwrap();
        }
    }
}

/// A server: its own kit directory, controlled list and lock directory, a system ID, and
/// image files as its disks (numbered 7:N for device-mapper).
pub fn server(name: &str, sysid: Option<&str>, disks: &[PathBuf], tmp: &Path) -> Env {
    let base = tmp.join(name);
    let mut env = Env::new(base.join("kit"));
    env.controlled = base.join("lkvgs");
    env.lock_dir = base.join("lock");
    env.server = name.into();
    env.host_system_id = sysid.map(String::from);
    env.devices = disks.to_vec();
    let names: Vec<String> = disks.iter().map(|d| d.display().to_string()).collect();
    env.resolve =
        Arc::new(move |dev: &str, _| names.iter().position(|n| n == dev).map(|i| DevNum::new(7, i as u32)));
    env.apply.dev_dir = base.join("dev");
    env.apply.make_nodes = false;
    env.apply.jobs = 1;
    env.probe_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_lvmkit")));
    env.probe_timeout = Duration::from_secs(2);
    env.busy_timeout = Duration::from_millis(300);
    env
}

/// The VG as it is on the images now.
pub fn on_disk(disks: &[PathBuf], vg: &str) -> lvmkit_metadata::model::VolumeGroup {
    let src = lvmkit::source::Source::load(disks, false);
    src.assembly.vg(vg).unwrap_or_else(|| panic!("{vg} on {disks:?}")).metadata.vg.clone()
}
