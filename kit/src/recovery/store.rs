//! The kit directory: one human-readable JSON file per resource (`<ID>.json`), written
//! atomically (temporary file, fsync, rename, directory fsync); a per-resource lock
//! (`locks/V_<ID>`, flock) so that two actions on one resource never interleave; and the
//! activation state of resources in service (`state/<ID>.json`: the metadata the devices were
//! made from, which quickCheck level 0 compares with the kernel without reading a disk).
//!
//! A corrupt, truncated or future-version file is a [`KitError`] 000010 naming the file;
//! nothing else is touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lvmkit_metadata::write::backup::write_atomic;
use lvmkit_metadata::write::lock::{LockError, LockWait, VgLock, lock_vg};
use serde::{Deserialize, Serialize};

use super::catalog::{Cause, KitError};
use super::resource::{FORMAT, Resource, VERSION};

/// Default kit directory.
pub const DEFAULT_KIT_DIR: &str = "/var/lib/lvmkit/kit";

/// How long an action waits for another action on the same resource.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The kit directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
    /// How many times [`Store::list`] read the directory (shared by clones): commands that
    /// create many resources must read the store once, not once per resource.
    lists: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// A held resource lock (released on drop).
#[derive(Debug)]
pub struct ResourceLock(#[allow(dead_code)] VgLock);

/// The metadata the devices of an in-service resource were made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// `lvmkit-kit-state`.
    pub format: String,
    /// 1.
    pub version: u32,
    /// The VG's seqno then.
    pub seqno: u64,
    /// Its metadata text (as read from disk).
    pub metadata: String,
    /// Per PV of the metadata (in its order): device path and `MAJOR:MINOR` (None: missing).
    pub pvs: Vec<StatePv>,
    /// The activation mode used.
    pub mode: super::resource::ActivationPolicy,
}

/// One PV in [`State`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatePv {
    /// PV UUID.
    pub uuid: String,
    /// Device path, if present.
    pub device: Option<String>,
    /// `MAJOR:MINOR` the tables refer to, if present.
    pub dev: Option<String>,
}

/// `format` of state files.
pub const STATE_FORMAT: &str = "lvmkit-kit-state";

fn info_error(path: &Path, why: impl Into<String>) -> KitError {
    KitError::new("000010", &[("file", &path.display().to_string()), ("why", &why.into())])
}

fn write_error(id: &str, e: lvmkit_metadata::write::backup::BackupError) -> KitError {
    KitError::new("110027", &[("id", id), ("why", &e.to_string())]).detail(e.to_string())
}

impl Store {
    /// The store in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into(), lists: Default::default() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many times this store (or a clone) was listed.
    pub fn list_count(&self) -> usize {
        self.lists.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The file of resource `id`.
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn state_path(&self, id: &str) -> PathBuf {
        self.dir.join("state").join(format!("{id}.json"))
    }

    /// Take resource `id`'s lock, waiting up to `wait`.
    pub fn lock(&self, id: &str, wait: Duration) -> Result<ResourceLock, KitError> {
        lock_vg(&self.dir.join("locks"), id, LockWait::For(wait)).map(ResourceLock).map_err(|e| {
            let why = match &e {
                LockError::Busy { holder, .. } => format!("locked by {holder}"),
                other => other.to_string(),
            };
            KitError::new("000011", &[("id", id), ("why", &why)]).detail(e.to_string())
        })
    }

    /// Read one resource file. Missing: `Ok(None)`.
    pub fn load(&self, id: &str) -> Result<Option<Resource>, KitError> {
        if id.is_empty() || id.contains('/') || id.starts_with('.') {
            return Ok(None);
        }
        read_resource(&self.path(id))
    }

    /// Every resource, sorted by ID, and the files that could not be read (each an error
    /// naming the file).
    pub fn list(&self) -> Result<(Vec<Resource>, Vec<KitError>), KitError> {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
            Err(e) => {
                return Err(info_error(&self.dir, e.to_string())
                    .caused(Cause::Io { path: self.dir.display().to_string(), source: e }));
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.'))
                    && p.is_file()
            })
            .collect();
        paths.sort();
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for p in paths {
            match read_resource(&p) {
                Ok(Some(r)) => good.push(r),
                Ok(None) => {}
                Err(e) => bad.push(e),
            }
        }
        Ok((good, bad))
    }

    /// The resource with this ID or tag (`/dev/VG/LV` also as `VG/LV`). Not found: 000019 — or
    /// the first unreadable file's 000010, since it might have been the one.
    pub fn find(&self, what: &str) -> Result<Resource, KitError> {
        if let Some(r) = self.load(what)? {
            return Ok(r);
        }
        let (all, mut bad) = self.list()?;
        // Any form lvm2 accepts for the VG or LV (`VG/LV`, `/dev/mapper/VG-LV`, …).
        let alt = match crate::target::Target::parse(what) {
            Ok(crate::target::Target { vg, lv: Some(lv) }) => super::resource::lv_tag(&vg, &lv),
            Ok(crate::target::Target { vg, lv: None }) => vg,
            Err(_) => what.to_string(),
        };
        if let Some(r) = all.into_iter().find(|r| r.tag == what || r.tag == alt) {
            return Ok(r);
        }
        if !bad.is_empty() {
            return Err(bad.remove(0));
        }
        Err(KitError::new("000019", &[("what", what)]))
    }

    /// Write a resource (atomically).
    pub fn save(&self, r: &Resource) -> Result<(), KitError> {
        let mut text = serde_json::to_string_pretty(r).expect("resources serialise");
        text.push('\n');
        write_atomic(&self.path(&r.id), text.as_bytes(), true).map_err(|e| write_error(&r.id, e))
    }

    /// Write a new resource: refused (110004) when the ID exists, also when the file is there
    /// but unreadable.
    pub fn create(&self, r: &Resource) -> Result<(), KitError> {
        if self.path(&r.id).exists() {
            return Err(KitError::new("110004", &[("id", &r.id)]));
        }
        self.save(r)
    }

    /// Remove a resource file and its state.
    pub fn delete(&self, id: &str) -> Result<(), KitError> {
        let _ = std::fs::remove_file(self.state_path(id));
        let p = self.path(id);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(KitError::new("110027", &[("id", id), ("why", &e.to_string())])
                    .caused(Cause::Io { path: p.display().to_string(), source: e }));
            }
        }
        let _ = std::fs::File::open(&self.dir).and_then(|d| d.sync_all());
        Ok(())
    }

    /// The state of an in-service resource (`None`: out of service, or a state file that
    /// cannot be used: then the live devices decide).
    pub fn state(&self, id: &str) -> Result<Option<State>, KitError> {
        let p = self.state_path(id);
        let text = match std::fs::read(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(info_error(&p, e.to_string())),
        };
        let s: State = serde_json::from_slice(&text).map_err(|e| info_error(&p, e.to_string()))?;
        if s.format != STATE_FORMAT || s.version > VERSION {
            return Err(info_error(
                &p,
                format!("not a state file of this lvmkit ({} version {})", s.format, s.version),
            ));
        }
        Ok(Some(s))
    }

    /// Record the state of an in-service resource.
    pub fn set_state(&self, id: &str, s: &State) -> Result<(), KitError> {
        let text = serde_json::to_vec(s).expect("state serialises");
        write_atomic(&self.state_path(id), &text, true).map_err(|e| write_error(id, e))
    }

    /// Forget the state (out of service).
    pub fn clear_state(&self, id: &str) {
        let _ = std::fs::remove_file(self.state_path(id));
    }
}

/// Parse a resource file: `Ok(None)` when it does not exist; 000010 naming the file when it is
/// not valid JSON of [`FORMAT`], is from a newer version, or its ID does not match its name.
pub fn read_resource(path: &Path) -> Result<Option<Resource>, KitError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(info_error(path, e.to_string())
                .caused(Cause::Io { path: path.display().to_string(), source: e }));
        }
    };
    // The header first: a future version may change everything else.
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u64>,
    }
    let jerr = |e: serde_json::Error| {
        info_error(path, format!("not valid resource JSON ({e})"))
            .caused(Cause::Json { path: path.display().to_string(), source: e })
    };
    let h: Header = serde_json::from_slice(&bytes).map_err(jerr)?;
    if h.format.as_deref() != Some(FORMAT) {
        return Err(info_error(
            path,
            format!("format is {:?}, expected \"{FORMAT}\"", h.format.as_deref().unwrap_or("missing")),
        ));
    }
    match h.version {
        Some(v) if v >= 1 && v <= u64::from(VERSION) => {}
        Some(v) if v > u64::from(VERSION) => {
            return Err(info_error(
                path,
                format!("version {v} is newer than this lvmkit reads ({VERSION}); upgrade lvmkit"),
            ));
        }
        v => return Err(info_error(path, format!("bad version {v:?}"))),
    }
    let r: Resource = serde_json::from_slice(&bytes).map_err(jerr)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem != r.id {
        return Err(info_error(path, format!("holds resource {}, but the file is named for {stem}", r.id)));
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recovery::resource::{LvResource, Policy, PvRecord, Server, VgResource};

    fn vg(name: &str) -> Resource {
        Resource::vg(VgResource {
            vg: name.into(),
            vg_uuid: "u".into(),
            vg_format: "lvm2".into(),
            pvs: vec![PvRecord {
                uuid: "p".into(),
                device: "/dev/x".into(),
                size: 1,
                disk: "/dev/x".into(),
                components: Vec::new(),
            }],
            servers: vec![Server { name: "a".into(), system_id: None }],
            policy: Policy::default(),
        })
    }

    #[test]
    fn save_find_list_delete() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path().join("kit"));
        assert!(s.list().unwrap().0.is_empty(), "a missing directory is an empty store");
        let r = vg("vg1");
        s.create(&r).unwrap();
        assert_eq!(s.create(&r).unwrap_err().code, "110004");
        let l = Resource::lv(LvResource {
            vg: "vg1".into(),
            vg_uuid: "u".into(),
            lv: "lv".into(),
            lv_uuid: "w".into(),
        });
        s.create(&l).unwrap();
        assert_eq!(s.find("vg1").unwrap(), r);
        assert_eq!(s.find("lvmvg-vg1").unwrap(), r);
        assert_eq!(s.find("/dev/vg1/lv").unwrap(), l);
        assert_eq!(s.find("vg1/lv").unwrap(), l);
        assert_eq!(s.find("/dev/mapper/vg1-lv").unwrap(), l);
        assert_eq!(s.find("nope").unwrap_err().code, "000019");
        assert_eq!(s.list().unwrap().0.len(), 2);
        // Human-readable: pretty JSON with the header first.
        let text = std::fs::read_to_string(s.path("lvmvg-vg1")).unwrap();
        assert!(text.starts_with("{\n  \"format\": \"lvmkit-kit-resource\",\n  \"version\": 1,"), "{text}");
        // No temporary files left behind.
        let names: Vec<String> = std::fs::read_dir(s.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
        s.delete("lvmlv-vg1-lv").unwrap();
        assert_eq!(s.find("/dev/vg1/lv").unwrap_err().code, "000019");
    }

    #[test]
    fn corrupt_truncated_and_future_files_are_000010_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path());
        s.create(&vg("good")).unwrap();
        let full = std::fs::read_to_string(s.path("lvmvg-good")).unwrap();
        let cases = [
            (
                "lvmvg-trunc",
                full.replace("lvmvg-good", "lvmvg-trunc")[..full.len() / 2].to_string(),
                "not valid resource JSON",
            ),
            ("lvmvg-garbage", "\u{0}\u{1}binary".to_string(), "not valid resource JSON"),
            (
                "lvmvg-future",
                full.replace("lvmvg-good", "lvmvg-future").replace("\"version\": 1", "\"version\": 2"),
                "newer",
            ),
            ("lvmvg-other", full.replace("lvmkit-kit-resource", "something-else"), "format is"),
            ("lvmvg-renamed", full.clone(), "named for lvmvg-renamed"),
            ("lvmvg-noversion", full.replace("\"version\": 1,", ""), "bad version"),
        ];
        for (id, text, why) in &cases {
            std::fs::write(s.path(id), text).unwrap();
            let before = std::fs::read(s.path(id)).unwrap();
            let e = s.find(id).unwrap_err();
            assert_eq!(e.code, "000010", "{id}: {e}");
            assert!(e.message.contains(&s.path(id).display().to_string()), "{id}: names the file: {e}");
            assert!(e.message.contains(why), "{id}: {e}");
            assert_eq!(std::fs::read(s.path(id)).unwrap(), before, "{id}: untouched");
        }
        // The good one is still found, and listing reports each bad file.
        assert_eq!(s.find("good").unwrap().id, "lvmvg-good");
        let (good, bad) = s.list().unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), cases.len());
        // An unknown tag with unreadable files around: the unreadable file is reported.
        assert_eq!(s.find("unknown").unwrap_err().code, "000010");
    }

    #[test]
    fn a_resource_lock_excludes_a_second_holder() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path());
        let held = s.lock("lvmvg-vg1", Duration::ZERO).unwrap();
        // flock locks belong to the open file: a second open in this process conflicts too.
        let e = s.lock("lvmvg-vg1", Duration::from_millis(50)).unwrap_err();
        assert_eq!(e.code, "000011", "{e}");
        assert!(s.lock("lvmvg-vg2", Duration::ZERO).is_ok(), "other resources are independent");
        drop(held);
        assert!(s.lock("lvmvg-vg1", Duration::ZERO).is_ok());
    }

    #[test]
    fn state_round_trip_and_a_bad_state_file() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::new(d.path());
        assert_eq!(s.state("lvmvg-a").unwrap(), None);
        let st = State {
            format: STATE_FORMAT.into(),
            version: 1,
            seqno: 3,
            metadata: "vg {}".into(),
            pvs: vec![StatePv { uuid: "p".into(), device: Some("/dev/x".into()), dev: Some("7:0".into()) }],
            mode: Default::default(),
        };
        s.set_state("lvmvg-a", &st).unwrap();
        assert_eq!(s.state("lvmvg-a").unwrap(), Some(st));
        std::fs::write(d.path().join("state/lvmvg-a.json"), "{").unwrap();
        assert_eq!(s.state("lvmvg-a").unwrap_err().code, "000010");
        s.clear_state("lvmvg-a");
        assert_eq!(s.state("lvmvg-a").unwrap(), None);
    }
}
