//! Who holds a device open: mount points (`/proc/self/mountinfo`), processes (`/proc/*/fd`),
//! and device-mapper devices above it (`/sys/block/dm-N/holders`). Named in remove's refusal.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use lvmkit_dm::DevNum;

/// One line per holder of the device `dev` (empty when none is found).
pub fn holders(dev: DevNum) -> Vec<String> {
    let mut out = Vec::new();
    let mm = dev.to_string();
    if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
        for l in info.lines() {
            let f: Vec<&str> = l.split(' ').collect();
            if f.get(2) == Some(&mm.as_str()) {
                if let Some(point) = f.get(4) {
                    out.push(format!("mounted on {}", unescape(point)));
                }
            }
        }
    }
    let me = std::process::id().to_string();
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            let pid = p.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == me {
                continue;
            }
            let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else { continue };
            let opens = fds.flatten().any(|fd| {
                std::fs::metadata(fd.path())
                    .is_ok_and(|m| m.file_type().is_block_device() && DevNum::from_dev_t(m.rdev()) == dev)
            });
            if opens {
                let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
                out.push(format!("process {pid} ({})", comm.trim()));
            }
        }
    }
    let sys = format!("/sys/dev/block/{mm}/holders");
    if let Ok(h) = std::fs::read_dir(&sys) {
        for e in h.flatten() {
            let k = e.file_name().to_string_lossy().into_owned();
            let name = std::fs::read_to_string(e.path().join("dm/name")).unwrap_or_default();
            let name = name.trim();
            out.push(if name.is_empty() {
                format!("device {k}")
            } else {
                format!("device-mapper device {name} ({k})")
            });
        }
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/end\\04"), "/end\\04");
    }

    #[test]
    fn the_root_filesystem_device_is_held_by_its_mount() {
        // Whatever device / is on, its mountinfo line names "/" as a mount point.
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = info.lines().find(|l| l.split(' ').nth(4) == Some("/")).unwrap();
        let mm: DevNum = root.split(' ').nth(2).unwrap().parse().unwrap();
        assert!(holders(mm).iter().any(|h| h == "mounted on /"), "{:?}", holders(mm));
        // A device number nothing uses: no holders.
        assert!(holders(DevNum::new(4095, 1_000_000)).is_empty());
    }
}
