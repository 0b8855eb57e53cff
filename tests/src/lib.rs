//! Test support: the lvm2-made image cases in `test-images/`, decompressed once per process.
//!
//! Each case folder holds `*.img.xz` (one per PV), `devices.txt` (`<loop device used when lvm2
//! reported> <image file> <partition start byte or 0> <logical sector size>`), and lvm2's own
//! reports and dumps. Tests may run helper programs (`xz`, `lvm`); the product never does.

pub mod r#gen;
pub mod host;
pub mod mutate;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repo").to_path_buf()
}

/// `test-images/`.
pub fn images_dir() -> PathBuf {
    repo_root().join("test-images")
}

/// Names of all cases (folders with a `devices.txt`), sorted.
pub fn case_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(images_dir())
        .expect("test-images/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("devices.txt").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// One line of `devices.txt`.
#[derive(Clone, Debug)]
pub struct DeviceLine {
    /// Device name lvm2 used in its reports (`/dev/loop3`, `/dev/loop3p1`).
    pub lvm_name: String,
    /// Image file name inside the case folder (without `.xz`).
    pub image: String,
    /// Byte offset of the partition holding the PV, 0 for a whole image.
    pub offset: u64,
    /// Logical sector size the loop device had.
    pub sector: u32,
}

/// A decompressed case.
pub struct Case {
    /// Case name.
    pub name: String,
    /// `test-images/<name>/`.
    pub dir: PathBuf,
    /// Decompressed image paths, in `devices.txt` order (deduplicated).
    pub images: Vec<PathBuf>,
    /// `devices.txt`.
    pub devices: Vec<DeviceLine>,
}

impl Case {
    /// Parse a JSON file of the case.
    pub fn json(&self, file: &str) -> serde_json::Value {
        let text = self.text(file);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}/{file}: {e}", self.dir.display()))
    }

    /// Whether the case has this file (plain or `.xz`).
    pub fn has(&self, file: &str) -> bool {
        self.dir.join(file).exists() || self.dir.join(format!("{file}.xz")).exists()
    }

    /// Read a text file of the case; files over 256 KiB are stored as `NAME.xz`.
    pub fn text(&self, file: &str) -> String {
        let p = self.dir.join(file);
        if let Ok(t) = std::fs::read_to_string(&p) {
            return t;
        }
        let xz = self.dir.join(format!("{file}.xz"));
        let out = Command::new("xz").arg("-dc").arg(&xz).output().expect("xz runs");
        assert!(out.status.success(), "{}: {}", xz.display(), String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8 text")
    }

    /// The name lvmkit gives the device lvm2 called `lvm_name`: the image path, with `:pN` for
    /// a PV inside partition N of an image (see `scan::open_with_partitions`).
    pub fn our_name(&self, lvm_name: &str) -> Option<String> {
        let d = self.devices.iter().find(|d| d.lvm_name == lvm_name)?;
        let path = self.images.iter().find(|p| p.file_name().is_some_and(|f| f == d.image.as_str()))?;
        let base = path.display().to_string();
        if d.offset == 0 {
            return Some(base);
        }
        let dev = lvmkit_metadata::device::FileDevice::open(path, Default::default()).ok()?;
        let parts = lvmkit_metadata::partition::partitions(&dev);
        let p = parts.iter().find(|p| p.start == d.offset)?;
        Some(format!("{base}:p{}", p.number))
    }
}

/// Decompress a case and describe it. Images are decompressed into `target/test-images/<case>/`
/// and reused by later runs while they are newer than their `.xz` (a static `TempDir` is never
/// dropped, so a per-process temporary copy would leak on every run). Tests must not modify
/// these files: copy them first (writers do).
pub fn case(name: &str) -> Case {
    static LOCK: Mutex<()> = Mutex::new(());
    let dir = images_dir().join(name);
    let devices: Vec<DeviceLine> = std::fs::read_to_string(dir.join("devices.txt"))
        .unwrap_or_else(|e| panic!("{name}/devices.txt: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            DeviceLine {
                lvm_name: c[0].to_string(),
                image: c[1].to_string(),
                offset: c.get(2).and_then(|s| s.parse().ok()).unwrap_or(0),
                sector: c.get(3).and_then(|s| s.parse().ok()).unwrap_or(512),
            }
        })
        .collect();
    let cache = repo_root().join("target/test-images").join(name);
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(&cache).expect("create target/test-images");
    let mut images: Vec<PathBuf> = Vec::new();
    for d in &devices {
        let out = cache.join(&d.image);
        if images.contains(&out) {
            continue;
        }
        let src = dir.join(format!("{}.xz", d.image));
        let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        if mtime(&out).is_none() || mtime(&out) < mtime(&src) {
            let data = Command::new("xz").arg("-dc").arg(&src).output().expect("xz runs");
            assert!(
                data.status.success(),
                "xz -dc {}: {}",
                src.display(),
                String::from_utf8_lossy(&data.stderr)
            );
            // Another test process may read the file meanwhile: write aside, then rename.
            let part = cache.join(format!("{}.{}.part", d.image, std::process::id()));
            std::fs::write(&part, &data.stdout).expect("write image");
            std::fs::rename(&part, &out).expect("rename image");
        }
        images.push(out);
    }
    Case { name: name.to_string(), dir, images, devices }
}

/// `../shared/images/lvm1` (real LVM1 images made by lvm2 2.02.177, beside the repository in
/// CI); `None`, with a visible note, when it is not there.
pub fn lvm1_shared() -> Option<PathBuf> {
    let d = repo_root().join("../shared/images/lvm1");
    if d.join("README.md").is_file() {
        Some(d)
    } else {
        eprintln!("SKIPPED: {} not found (the shared LVM1 images sit beside the repository)", d.display());
        None
    }
}

/// Decompress LVM1 images `names` (`NAME.img.xz` in `dir`) into `tmp` (the caller's own copies:
/// tests write to them); paths in the given order.
pub fn lvm1_images(dir: &Path, tmp: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| {
            let out =
                Command::new("xz").arg("-dc").arg(dir.join(format!("{n}.img.xz"))).output().expect("xz runs");
            assert!(out.status.success(), "xz {n}");
            let p = tmp.join(format!("{n}.img"));
            std::fs::write(&p, out.stdout).expect("write image");
            p
        })
        .collect()
}

/// The first place two config trees differ, as `path: left vs right`, or `None`.
pub fn tree_diff(a: &lvmkit_metadata::text::Section, b: &lvmkit_metadata::text::Section) -> Option<String> {
    fn go(
        a: &lvmkit_metadata::text::Section,
        b: &lvmkit_metadata::text::Section,
        path: &str,
    ) -> Option<String> {
        use lvmkit_metadata::text::Node;
        for i in 0..a.items.len().max(b.items.len()) {
            match (a.items.get(i), b.items.get(i)) {
                (Some(x), Some(y)) if x.key != y.key => {
                    return Some(format!("{path}: item {i} is {:?} vs {:?}", x.key, y.key));
                }
                (Some(x), Some(y)) => match (&x.node, &y.node) {
                    (Node::Section(s), Node::Section(t)) => {
                        if let Some(d) = go(s, t, &format!("{path}/{}", x.key)) {
                            return Some(d);
                        }
                    }
                    (l, r) if l != r => return Some(format!("{path}/{}: {l:?} vs {r:?}", x.key)),
                    _ => {}
                },
                (l, r) => {
                    return Some(format!(
                        "{path}: item {i}: {:?} vs {:?}",
                        l.map(|i| &i.key),
                        r.map(|i| &i.key)
                    ));
                }
            }
        }
        None
    }
    go(a, b, "")
}
