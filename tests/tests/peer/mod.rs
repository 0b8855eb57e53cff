//! Genuine lvm2 as a peer for the write tests: private image copies on loop devices this test
//! attaches itself (detached again by a drop guard, also on panic), lvm2 limited to exactly
//! those devices by `--config` filters, with an empty `LVM_SYSTEM_DIR`, no activation, udev,
//! hints, devices file, lvmlockd, backups or archives.
//!
//! Without lvm2, root or loop devices, [`Peer::new`] says why and the caller skips (except with
//! `CI=true`, where a missing lvm2 fails).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Serialises loop-device use inside one test binary.
pub static LOOP_LOCK: Mutex<()> = Mutex::new(());

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// lvm2 and losetup.
pub struct Peer {
    lvm: PathBuf,
    losetup: PathBuf,
    system_dir: tempfile::TempDir,
}

/// Loop devices attached by this test; detached on drop (only these).
pub struct Loops<'p> {
    peer: &'p Peer,
    /// `/dev/loopN`, in image order.
    pub devices: Vec<String>,
}

impl Drop for Loops<'_> {
    fn drop(&mut self) {
        for d in self.devices.drain(..).rev() {
            let _ = Command::new(&self.peer.losetup).arg("-d").arg(&d).output();
        }
    }
}

/// What an lvm2 command did.
pub struct Run {
    /// Exit status 0.
    pub ok: bool,
    /// stdout.
    pub stdout: String,
    /// stdout + stderr without known noise.
    pub output: String,
}

fn is_noise(line: &str) -> bool {
    [
        "Activation disabled",
        "leaked on lvm invocation",
        "NOT backed up",
        "/dev/mapper/control",
        "device-mapper",
    ]
    .iter()
    .any(|n| line.contains(n))
}

impl Peer {
    /// lvm2, root and loop devices, or why not.
    pub fn new() -> Result<Peer, String> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let Some(lvm) = find_program("lvm") else {
            assert!(!ci, "CI=true but lvm2 is not installed");
            return Err("lvm2 not found".into());
        };
        let losetup = find_program("losetup").ok_or("losetup not found")?;
        let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:"))?.split_whitespace().nth(2)?.parse::<u32>().ok()
        });
        if uid != Some(0) {
            return Err("needs root".into());
        }
        let system_dir =
            tempfile::Builder::new().prefix("lvmkit-peer-etc-").tempdir().map_err(|e| e.to_string())?;
        Ok(Peer { lvm, losetup, system_dir })
    }

    /// Attach whole image files (read-only when `ro`).
    pub fn attach(&self, images: &[PathBuf], ro: bool) -> Result<Loops<'_>, String> {
        let mut loops = Loops { peer: self, devices: Vec::new() };
        for img in images {
            let mut cmd = Command::new(&self.losetup);
            cmd.args(["-f", "--show"]);
            if ro {
                cmd.arg("-r");
            }
            let out = cmd.arg(img).output().map_err(|e| e.to_string())?;
            let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !out.status.success() || !dev.starts_with("/dev/loop") {
                return Err(format!("losetup {}: {}", img.display(), String::from_utf8_lossy(&out.stderr)));
            }
            loops.devices.push(dev);
        }
        Ok(loops)
    }

    fn config(devices: &[String], system_id: Option<&str>) -> String {
        let accept: String = devices.iter().map(|d| format!("\"a|^{d}$|\", ")).collect();
        let global = match system_id {
            Some(s) => format!(
                "global{{activation=0 use_lvmlockd=0 system_id_source=\"lvmlocal\"}} local{{system_id=\"{s}\"}}"
            ),
            None => "global{activation=0 use_lvmlockd=0 system_id_source=\"none\"}".to_string(),
        };
        format!(
            "{global} devices{{use_devicesfile=0 hints=\"none\" obtain_device_list_from_udev=0 scan_lvs=0 \
             global_filter=[ {accept}\"r|.*|\" ] filter=[ {accept}\"r|.*|\" ] }} \
             activation{{udev_sync=0 udev_rules=0 monitoring=0}} backup{{backup=0 archive=0}}"
        )
    }

    /// `lvm ARGS` on `devices` (host system ID `system_id`, or none).
    pub fn run_as(&self, args: &[&str], devices: &[String], system_id: Option<&str>) -> Run {
        let out = Command::new(&self.lvm)
            .args(args)
            .arg("--config")
            .arg(Self::config(devices, system_id))
            .env("LVM_SYSTEM_DIR", self.system_dir.path())
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output();
        match out {
            Ok(o) => {
                let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
                let text = format!("{stdout}{}", String::from_utf8_lossy(&o.stderr));
                let kept: Vec<&str> = text.lines().filter(|l| !is_noise(l)).map(str::trim).collect();
                Run { ok: o.status.success(), stdout, output: kept.join("\n") }
            }
            Err(e) => Run { ok: false, stdout: String::new(), output: e.to_string() },
        }
    }

    /// [`Peer::run_as`] without a host system ID.
    pub fn run(&self, args: &[&str], devices: &[String]) -> Run {
        self.run_as(args, devices, None)
    }

    /// `lvm CMD --noheadings --separator | -o FIELDS NAMES…` rows.
    pub fn report(
        &self,
        cmd: &str,
        fields: &str,
        names: &[&str],
        devices: &[String],
    ) -> Result<Vec<Vec<String>>, String> {
        let mut args = vec![cmd, "--noheadings", "--separator", "|", "-o", fields];
        args.extend_from_slice(names);
        let r = self.run(&args, devices);
        if !r.ok {
            return Err(format!("lvm {cmd}: {}", r.output));
        }
        Ok(r.stdout.lines().map(|l| l.trim().split('|').map(str::to_string).collect()).collect())
    }
}

/// Copy `images` into `dir`; the copies' paths.
pub fn copy_images(images: &[PathBuf], dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("mkdir");
    images
        .iter()
        .map(|p| {
            let dst = dir.join(p.file_name().expect("file name"));
            std::fs::copy(p, &dst).expect("copy image");
            dst
        })
        .collect()
}
