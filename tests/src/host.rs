//! The host's genuine lvm2 as a judge: loop devices for the image cases (read-only, detached
//! again by a drop guard) and the `--config` that limits lvm2 to exactly those devices with
//! activation, udev, hints, the devices file and lvmlockd off. Tests use it to compare; the
//! product never runs lvm2.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Case;

/// Find a program on PATH, then in the sbin directories (often not on a user's PATH).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The effective uid of this process.
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Loop devices this test attached; detached (only these, in reverse order) on drop.
pub struct Loops {
    /// `losetup`.
    pub losetup: PathBuf,
    /// The attached devices, in the case's device order.
    pub devices: Vec<String>,
}

impl Drop for Loops {
    fn drop(&mut self) {
        for d in self.devices.drain(..).rev() {
            match Command::new(&self.losetup).arg("-d").arg(&d).output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => eprintln!("warning: losetup -d {d}: {}", String::from_utf8_lossy(&o.stderr).trim()),
                Err(e) => eprintln!("warning: losetup -d {d}: {e}"),
            }
        }
    }
}

pub enum AttachError {
    /// Not allowed to set up loop devices here.
    Denied(String),
    /// Anything else.
    Failed(String),
}

impl AttachError {
    /// The reason.
    pub fn message(self) -> String {
        match self {
            AttachError::Denied(s) | AttachError::Failed(s) => s,
        }
    }
}

/// Attach every PV of the case as lvm2 saw it when the case was made: the shared decompressed
/// images read-only, or (`rw_copy`) private copies in that directory read-write.
pub fn attach(losetup: &Path, c: &Case, rw_copy: Option<&Path>) -> Result<Loops, AttachError> {
    let mut loops = Loops { losetup: losetup.to_path_buf(), devices: Vec::new() };
    for d in &c.devices {
        let mut image = c
            .images
            .iter()
            .find(|p| p.file_name().is_some_and(|f| f == d.image.as_str()))
            .ok_or_else(|| AttachError::Failed(format!("image {} not decompressed", d.image)))?
            .clone();
        let mut cmd = Command::new(losetup);
        cmd.args(["-f", "--show"]);
        match rw_copy {
            Some(dir) => {
                let copy = dir.join(&d.image);
                if !copy.exists() {
                    std::fs::copy(&image, &copy)
                        .map_err(|e| AttachError::Failed(format!("copy {}: {e}", image.display())))?;
                }
                image = copy;
            }
            None => {
                cmd.arg("-r");
            }
        }
        if d.offset != 0 {
            cmd.arg("-o").arg(d.offset.to_string());
            cmd.arg("--sizelimit").arg(partition_len(&image, d.offset).to_string());
        }
        if d.sector != 512 {
            cmd.arg("-b").arg(d.sector.to_string());
        }
        loops.devices.push(run_losetup(cmd, &image)?);
    }
    Ok(loops)
}

/// Run a prepared `losetup -f --show …` on `image`; the device it attached.
pub fn run_losetup(mut cmd: Command, image: &Path) -> Result<String, AttachError> {
    cmd.arg(image);
    let out = cmd.output().map_err(|e| AttachError::Failed(format!("losetup: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        let denied = ["Permission denied", "Operation not permitted", "must be root"];
        return Err(if denied.iter().any(|m| stderr.contains(m)) {
            AttachError::Denied(stderr)
        } else {
            AttachError::Failed(format!("losetup {}: {stderr}", image.display()))
        });
    }
    let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !dev.starts_with("/dev/loop") {
        return Err(AttachError::Failed(format!("losetup printed {dev:?}")));
    }
    Ok(dev)
}

/// Length of the partition starting at byte `offset` (from our partition-table reader), or the
/// rest of the image.
pub fn partition_len(image: &Path, offset: u64) -> u64 {
    let size = std::fs::metadata(image).map(|m| m.len()).unwrap_or(0);
    lvmkit_metadata::device::FileDevice::open(image, Default::default())
        .ok()
        .and_then(|dev| lvmkit_metadata::partition::partitions(&dev).into_iter().find(|p| p.start == offset))
        .map_or(size.saturating_sub(offset), |p| p.len)
}

/// make-images.sh's config: only these devices, no activation/udev/hints/devices file/lvmlockd.
pub fn lvm_config(devices: &[String]) -> String {
    let accept: String = devices.iter().map(|d| format!("\"a|^{d}$|\", ")).collect();
    format!(
        "global{{activation=0 use_lvmlockd=0 system_id_source=\"none\"}} \
         devices{{use_devicesfile=0 hints=\"none\" obtain_device_list_from_udev=0 scan_lvs=0 \
         global_filter=[ {accept}\"r|.*|\" ] filter=[ {accept}\"r|.*|\" ] }} \
         activation{{udev_sync=0 udev_rules=0 monitoring=0}} backup{{backup=0 archive=0}}"
    )
}

/// Known lvm2 noise when running without device-mapper.
pub fn is_noise(line: &str) -> bool {
    [
        "Activation disabled",
        "TEST MODE",
        "/dev/mapper/control",
        "kernel device-mapper",
        "device-mapper is available",
        "Incompatible libdevmapper",
        "Failed to check for active volumes",
        "leaked on lvm invocation",
    ]
    .iter()
    .any(|n| line.contains(n))
}
