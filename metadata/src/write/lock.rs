//! Per-VG exclusive locks compatible with lvm2's file locking (`lib/locking/flock.c`).
//!
//! lvm2 (with `use_lvmlockd = 0`) takes `flock(LOCK_EX)` on `<locking_dir>/V_<vgname>` around
//! every change of a VG (`LOCK_SH` to read it); `locking_dir` defaults to `/run/lock/lvm`.
//! lvmkit takes the same lock, so an lvm2 command and an lvmkit write on one host never
//! interleave. Details copied from lvm2 so the two agree on which file is "the" lock:
//!
//! - The file is opened `O_CREAT | O_APPEND | O_RDWR` (mode 0777 before umask, as lvm2) and
//!   then `flock`ed. A missing lock directory is created 0700 (root's `/run/lock/lvm` is).
//! - lvm2 **unlinks** the file when it releases an exclusive lock and no one else holds it. A
//!   process that opened the old file before the unlink could then hold a lock on a file no
//!   longer in the directory; so after `flock` succeeds, the path is `stat`ed and compared with
//!   the open file's inode, and on a mismatch the lock is taken again on the new file.
//! - On release lvmkit does what lvm2 does for an exclusive lock: if the path still names the
//!   locked inode, unlink it, then unlock by closing.
//!
//! Observed with lvm2 2.03.16: after `vgchange --addtag` the directory `/run/lock/lvm` is empty
//! again (the lock file was removed on release).
//!
//! `flock` does not say who holds a lock; when a non-blocking or timed attempt fails,
//! `/proc/locks` is searched for the inode to name the holder's pid and command line.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Where lvm2 keeps its lock files by default (`global/locking_dir`).
pub const DEFAULT_LOCK_DIR: &str = "/run/lock/lvm";

/// How long to wait for a lock another process holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LockWait {
    /// Wait as long as it takes (lvm2's default, `global/wait_for_locks = 1`).
    #[default]
    Forever,
    /// Give up after this long (zero: a single non-blocking attempt).
    For(Duration),
}

/// A lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock directory cannot be created.
    #[error("cannot create lock directory {path}: {source}")]
    Dir {
        /// Directory.
        path: String,
        /// OS error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The lock file cannot be opened, locked or checked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// Lock file.
        path: String,
        /// OS error.
        #[source]
        source: Arc<io::Error>,
    },
    /// Another process holds the lock and the wait ran out.
    #[error("VG {vg} is locked by {holder} ({path}); gave up after {waited:?}")]
    Busy {
        /// VG.
        vg: String,
        /// Lock file.
        path: String,
        /// `pid N (command line)` from /proc/locks, or "another process" when not found.
        holder: String,
        /// How long was waited.
        waited: Duration,
    },
    /// The VG name cannot name a lock file.
    #[error("invalid VG name {0:?} for a lock file")]
    BadName(String),
}

/// An exclusive lock on one VG, released (and its file removed as lvm2 does) on drop.
#[derive(Debug)]
pub struct VgLock {
    path: PathBuf,
    file: Option<Flock<File>>,
}

impl VgLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `<dir>/V_<vg>`, lvm2's lock file name for a VG.
pub fn lock_path(dir: &Path, vg: &str) -> Result<PathBuf, LockError> {
    if vg.is_empty() || vg.contains('/') || vg.contains('\0') || vg == "." || vg == ".." {
        return Err(LockError::BadName(vg.to_string()));
    }
    Ok(dir.join(format!("V_{vg}")))
}

/// Take the exclusive lock on `vg` in `dir` (created when missing), waiting as `wait` says.
pub fn lock_vg(dir: &Path, vg: &str, wait: LockWait) -> Result<VgLock, LockError> {
    let path = lock_path(dir, vg)?;
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| LockError::Dir { path: dir.display().to_string(), source: Arc::new(e) })?;
    }
    let io_err = |e: io::Error| LockError::Io { path: path.display().to_string(), source: Arc::new(e) };
    let start = Instant::now();
    loop {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o777)
            .open(&path)
            .map_err(io_err)?;
        let mut file = file;
        let file = match wait {
            LockWait::Forever => {
                Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| io_err(e.into()))?
            }
            LockWait::For(limit) => loop {
                match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                    Ok(l) => break l,
                    Err((f, Errno::EWOULDBLOCK)) => {
                        file = f;
                        let waited = start.elapsed();
                        if waited >= limit {
                            let ino = file.metadata().map(|m| (m.dev(), m.ino())).ok();
                            return Err(LockError::Busy {
                                vg: vg.to_string(),
                                path: path.display().to_string(),
                                holder: ino
                                    .and_then(|(d, i)| holder(d, i))
                                    .unwrap_or_else(|| "another process".into()),
                                waited,
                            });
                        }
                        std::thread::sleep(Duration::from_millis(5).min(limit - waited));
                    }
                    Err((_, e)) => return Err(io_err(e.into())),
                }
            },
        };
        // lvm2 may have unlinked the file between our open and our flock: only a lock on the
        // inode the path names now counts.
        let ours = file.metadata().map_err(io_err)?;
        match std::fs::metadata(&path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                return Ok(VgLock { path, file: Some(file) });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(e)),
        }
    }
}

impl Drop for VgLock {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else { return };
        // lvm2's _undo_flock: remove the file while still holding the (exclusive) lock, if the
        // path still names it; a waiter that opened it meanwhile notices and locks anew.
        if let (Ok(a), Ok(b)) = (std::fs::metadata(&self.path), file.metadata()) {
            if a.dev() == b.dev() && a.ino() == b.ino() {
                let _ = std::fs::remove_file(&self.path);
            }
        }
        drop(file);
    }
}

/// `pid N (cmdline)` of the process holding a FLOCK on device `dev`, inode `ino`, from
/// `/proc/locks` (`1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`).
fn holder(dev: u64, ino: u64) -> Option<String> {
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let (major, minor) = ((dev >> 8) & 0xfff | ((dev >> 32) & !0xfff), (dev & 0xff) | ((dev >> 12) & !0xff));
    for line in locks.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // A blocked waiter's line starts "1: -> FLOCK …"; skip those.
        if f.len() < 8 || f[1] != "FLOCK" {
            continue;
        }
        let mut id = f[5].split(':');
        let (Some(ma), Some(mi), Some(i)) = (id.next(), id.next(), id.next()) else { continue };
        let same = u64::from_str_radix(ma, 16).ok() == Some(major)
            && u64::from_str_radix(mi, 16).ok() == Some(minor)
            && i.parse::<u64>().ok() == Some(ino);
        if same {
            let pid = f[4];
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    b.split(|&c| c == 0)
                        .filter(|s| !s.is_empty())
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            return Some(if cmd.is_empty() { format!("pid {pid}") } else { format!("pid {pid} ({cmd})") });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_and_removed_on_release() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("lock");
        let a = lock_vg(&dir, "vg0", LockWait::Forever).unwrap();
        assert!(dir.join("V_vg0").exists());
        let e = lock_vg(&dir, "vg0", LockWait::For(Duration::ZERO)).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, LockError::Busy { .. }), "{msg}");
        assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert!(msg.contains("V_vg0"), "{msg}");
        // Another VG is independent.
        let b = lock_vg(&dir, "vg1", LockWait::For(Duration::ZERO)).unwrap();
        drop(a);
        assert!(!dir.join("V_vg0").exists());
        drop(lock_vg(&dir, "vg0", LockWait::For(Duration::ZERO)).unwrap());
        drop(b);
        assert!(matches!(lock_path(&dir, "a/b"), Err(LockError::BadName(_))));
    }
}
