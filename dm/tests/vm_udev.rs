//! udev synchronisation against a real kernel and a real systemd-udevd running the standard
//! dm/lvm2 rules. Runs inside the user-mode-linux guest: `tests/tests/vm_udev.rs` builds this
//! file as a static binary, starts systemd-udevd (Debian's `udev`, unpacked by
//! `tests/vm/setup.sh` into `$LVMKIT_VM_UDEV`) and runs it with `LVMKIT_DM_TEST_DISKS=/dev/ubdb`;
//! anywhere else it prints `skipped: …`. One at a time (`--test-threads=1`): they share the
//! kernel's device list and udevd, and one stops and restarts udevd. Every device is named
//! `lvmkitudev-*` and removed at the end, also on failure.

#[path = "../../kit/tests/guest/mod.rs"]
mod guest;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use guest::sh;
use lvmkit_dm::control::{self, CreateOptions, Dm, DmControl, RemoveOptions};
use lvmkit_dm::udev::{self, Outcome, UdevSync, flags};
use lvmkit_dm::{DevId, DevNum, DmName, DmUuid, Table};

const VG: &str = "lvmkitudev";
/// lvm2's hidden-LV flags (`_get_udev_flags`: not visible → SUBSYSTEM | DISK | OTHER).
const HIDDEN: u16 = flags::DISABLE_SUBSYSTEM_RULES | flags::DISABLE_DISK_RULES | flags::DISABLE_OTHER_RULES;

struct Guest {
    disk: DevNum,
    /// `$LVMKIT_VM_UDEV`: holds `udevadm` and `systemd-udevd`.
    udev: PathBuf,
}

fn setup(test: &str) -> Option<Guest> {
    let (Ok(disks), Ok(udev)) = (std::env::var("LVMKIT_DM_TEST_DISKS"), std::env::var("LVMKIT_VM_UDEV"))
    else {
        println!("skipped: {test}: runs inside the VM harness with udevd (tests/tests/vm_udev.rs)");
        return None;
    };
    let path = disks.split_whitespace().next().expect("a disk");
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(m.file_type().is_block_device(), "{path} is not a block device");
    let g = Guest { disk: DevNum::from_dev_t(m.rdev()), udev: PathBuf::from(udev) };
    g.ensure_udevd();
    cleanup();
    Some(g)
}

impl Guest {
    fn udevadm(&self, args: &str) -> String {
        sh(&format!("'{}' {args}", self.udev.join("udevadm").display()))
    }

    /// udevd answers on its control socket (start it if not).
    fn ensure_udevd(&self) {
        let ping = format!("'{}' control --ping >/dev/null 2>&1", self.udev.join("udevadm").display());
        if sh(&format!("{ping} && echo up || true")).trim() == "up" {
            return;
        }
        sh(&format!("'{}' --daemon", self.udev.join("systemd-udevd").display()));
        sh(&format!("i=0; until {ping}; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done"));
    }

    fn stop_udevd(&self) {
        self.udevadm("control --exit");
        let ping = format!("'{}' control --ping >/dev/null 2>&1", self.udev.join("udevadm").display());
        sh(&format!("i=0; while {ping}; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done"));
    }
}

fn name(s: &str) -> DmName {
    DmName::new(format!("{VG}-{s}")).unwrap()
}

/// An lvm2-style uuid (`LVM-<vg id><lv id>`, 32 + 32 characters): `56-lvm.rules` acts on it.
fn lvm_uuid(lv: &str) -> DmUuid {
    let lv_id = format!("{:x<32}", lv.replace(['-', '_'], "x"));
    DmUuid::new(format!("LVM-{}{}", "u".repeat(32), &lv_id[..32])).unwrap()
}

fn linear(disk: DevNum, offset: u64) -> Table {
    format!("0 2048 linear {disk} {offset}").parse().unwrap()
}

/// Create, load, resume one device; returns its number.
fn up(dm: &Dm, disk: DevNum, lv: &str, offset: u64, udev_flags: u16) -> DevNum {
    let n = name(lv);
    let info = dm.create(&n, Some(&lvm_uuid(lv)), &CreateOptions::default()).unwrap();
    dm.table_load(&DevId::Name(n.clone()), &linear(disk, offset), false).unwrap();
    let r = dm.resume(&DevId::Name(n), udev_flags).unwrap();
    assert!(r.live_table() && !r.suspended());
    info.dev
}

fn remove(dm: &Dm, lv: &str) {
    dm.remove(&DevId::Name(name(lv)), &RemoveOptions::default()).unwrap();
}

/// Removes every `lvmkitudev-*` device and node (no sync: leftovers of a failed run).
fn cleanup() {
    let dm = Dm::open_at(Path::new(control::CONTROL_PATH)).unwrap();
    for d in dm.list().unwrap().into_iter().filter(|d| d.name.starts_with(VG)) {
        let n = DmName::new(d.name).unwrap();
        let _ = dm.remove(&DevId::Name(n.clone()), &RemoveOptions { busy_retries: 0, ..Default::default() });
        let _ = control::remove_node(Path::new("/dev"), &n);
    }
    let _ = std::fs::remove_dir_all(Path::new("/dev").join(VG));
}

struct Cleanup;
impl Drop for Cleanup {
    fn drop(&mut self) {
        cleanup();
    }
}

/// Keys of every libdm-style notification semaphore (`0x0d4d....`) in the system.
fn cookie_semaphores() -> Vec<u32> {
    std::fs::read_to_string("/proc/sysvipc/sem")
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next()?.parse::<i64>().ok())
        .map(|k| k as u32)
        .filter(|k| k >> 16 == u32::from(udev::DM_COOKIE_MAGIC))
        .collect()
}

/// `/dev/mapper/NAME` is udev's symlink to the kernel's `dm-MINOR`, for `dev`.
fn assert_udev_link(path: &Path, dev: DevNum) {
    let target =
        std::fs::read_link(path).unwrap_or_else(|e| panic!("{}: not a symlink: {e}", path.display()));
    assert_eq!(target, Path::new("..").join(format!("dm-{}", dev.minor)), "{}", path.display());
    let m = std::fs::metadata(path).unwrap();
    assert!(m.file_type().is_block_device() && DevNum::from_dev_t(m.rdev()) == dev, "{}", path.display());
}

/// `/dev/VG/LV` resolves to `dev`.
fn assert_lv_link(lv: &str, dev: DevNum) {
    let p = Path::new("/dev").join(VG).join(lv);
    let m = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(DevNum::from_dev_t(m.rdev()) == dev, "{} points elsewhere", p.display());
}

fn gone(path: impl AsRef<Path>) -> bool {
    std::fs::symlink_metadata(path.as_ref()).is_err()
}

/// udev's database entry of a device: its `E:` properties and `S:` links.
fn udev_db(dev: DevNum) -> Vec<String> {
    let p = format!("/run/udev/data/b{}:{}", dev.major, dev.minor);
    let mut v: Vec<String> = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .lines()
        .filter(|l| l.starts_with("E:") || l.starts_with("S:"))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn has(db: &[String], line: &str) -> bool {
    db.iter().any(|l| l == line)
}

fn wait(dm: &Dm, what: &str) -> udev::UdevReport {
    let t = Instant::now();
    let r = dm.udev_wait().unwrap();
    let cookie = r.cookie.map_or("none".to_string(), |c| c.to_string());
    println!("udev wait ({what}): {:.3} s, {:?}, cookie {cookie}", t.elapsed().as_secs_f64(), r.outcome);
    for w in r.warnings() {
        println!("  warning: {w}");
    }
    r
}

#[test]
fn udev_makes_renames_and_removes_nodes_and_links() {
    let Some(g) = setup("udev_makes_renames_and_removes_nodes_and_links") else { return };
    let _guard = Cleanup;
    assert!(control::udev_running(), "udevd runs: /run/udev/control");
    let dm = Dm::open().unwrap();
    assert!(dm.udev_sync_enabled(), "Dm::open syncs with a running udev");
    assert_eq!(dm.udev_sync().unwrap().timeout(), udev::DEFAULT_TIMEOUT);

    // Up: a public LV and a hidden one, two cookies' worth in one transaction.
    let lv1 = up(&dm, g.disk, "lv1", 2048, 0);
    let hid = up(&dm, g.disk, "lv1_rimage_0", 4096, HIDDEN);
    let cookie = dm.udev_sync().unwrap().cookie().expect("a cookie was made");
    assert!(cookie_semaphores().contains(&cookie.value()), "semaphore {cookie} exists while armed");
    let r = wait(&dm, "2 resumes");
    assert_eq!((r.outcome.clone(), r.cookie), (Outcome::Confirmed, Some(cookie)));
    assert!(r.waited < Duration::from_secs(5), "udev confirmed promptly: {:?}", r.waited);
    assert_eq!(r.fixed_for_udev().count(), 0, "udev made every node: {:?}", r.nodes);
    assert!(r.warnings().is_empty());
    assert!(cookie_semaphores().is_empty(), "semaphore removed");
    assert_udev_link(&Path::new("/dev/mapper").join(name("lv1").as_str()), lv1);
    assert_udev_link(&Path::new("/dev/mapper").join(name("lv1_rimage_0").as_str()), hid);
    assert_lv_link("lv1", lv1);
    assert!(gone(Path::new("/dev").join(VG).join("lv1_rimage_0")), "no /dev/VG link for a hidden LV");

    // Our flags reached the rules, decoded by `dmsetup udevflags`: primary source on both,
    // the hidden LV's three DISABLE flags only on it; lvm2's rules split the name.
    let db = udev_db(lv1);
    for want in [
        "E:DM_UDEV_PRIMARY_SOURCE_FLAG=1",
        "E:DM_ACTIVATION=1",
        "E:DM_VG_NAME=lvmkitudev",
        "E:DM_LV_NAME=lv1",
    ] {
        assert!(has(&db, want), "{want} missing: {db:?}");
    }
    assert!(!db.iter().any(|l| l.starts_with("E:DM_UDEV_DISABLE_")), "{db:?}");
    let db = udev_db(hid);
    for want in [
        "E:DM_UDEV_PRIMARY_SOURCE_FLAG=1",
        "E:DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG=1",
        "E:DM_UDEV_DISABLE_DISK_RULES_FLAG=1",
        "E:DM_UDEV_DISABLE_OTHER_RULES_FLAG=1",
    ] {
        assert!(has(&db, want), "{want} missing: {db:?}");
    }
    assert!(!has(&db, "E:DM_UDEV_DISABLE_DM_RULES_FLAG=1"), "{db:?}");

    // Rename: udev moves both links.
    dm.rename(&DevId::Name(name("lv1")), &name("lv2"), 0).unwrap();
    let r = wait(&dm, "rename");
    assert_eq!(r.outcome, Outcome::Confirmed);
    assert_eq!(r.fixed_for_udev().count(), 0, "{:?}", r.nodes);
    assert_udev_link(&Path::new("/dev/mapper").join(name("lv2").as_str()), lv1);
    assert!(gone(Path::new("/dev/mapper").join(name("lv1").as_str())));
    assert_lv_link("lv2", lv1);
    assert!(gone(Path::new("/dev").join(VG).join("lv1")));

    // A resume that changes nothing sends no uevent: its count is taken back, no hang.
    let info = dm.resume(&DevId::Name(name("lv2")), 0).unwrap();
    assert!(info.live_table());
    let r = wait(&dm, "resume without uevent");
    assert_eq!(r.outcome, Outcome::Confirmed);
    assert!(r.waited < Duration::from_millis(500), "no wait for a uevent that never comes: {:?}", r.waited);
    assert!(cookie_semaphores().is_empty());

    // Down: remove syncs too, udev removes the links.
    remove(&dm, "lv2");
    remove(&dm, "lv1_rimage_0");
    let r = wait(&dm, "2 removes");
    assert_eq!(r.outcome, Outcome::Confirmed);
    assert_eq!(r.fixed_for_udev().count(), 0, "udev removed every node: {:?}", r.nodes);
    assert!(r.nodes.iter().all(|n| !n.present && n.by_udev) && r.nodes.len() == 2, "{:?}", r.nodes);
    for lv in ["lv1", "lv2", "lv1_rimage_0"] {
        assert!(gone(Path::new("/dev/mapper").join(name(lv).as_str())), "{lv}");
        assert!(gone(Path::new("/dev").join(VG).join(lv)), "{lv}");
    }
    assert!(cookie_semaphores().is_empty());
    assert_eq!(sh("dmsetup udevcookies").lines().count(), 1, "dmsetup sees no cookie left");
}

#[test]
fn dmsetup_under_the_same_udev_behaves_alike() {
    let Some(g) = setup("dmsetup_under_the_same_udev_behaves_alike") else { return };
    let _guard = Cleanup;
    let dm = Dm::open().unwrap();
    // libdm: dmsetup create with its default flags (DISABLE_LIBRARY_FALLBACK, udev rules on).
    let t = Instant::now();
    sh(&format!(
        "echo '0 2048 linear {} 8192' | dmsetup create {VG}-theirs -u {}",
        g.disk,
        lvm_uuid("theirs")
    ));
    println!("dmsetup create (with its udev wait): {:.3} s", t.elapsed().as_secs_f64());
    let theirs = dm.info(&DevId::Name(name("theirs"))).unwrap().unwrap().dev;
    assert_eq!(sh("dmsetup udevcookies").lines().count(), 1, "dmsetup left no cookie");
    assert!(cookie_semaphores().is_empty());
    // Ours, with the same flags as dmsetup's.
    let ours = up(&dm, g.disk, "ours", 10240, flags::DISABLE_LIBRARY_FALLBACK);
    let r = wait(&dm, "1 resume, dmsetup's flags");
    assert_eq!(r.outcome, Outcome::Confirmed);
    // The same links, the same properties (names aside): udev cannot tell us apart.
    assert_udev_link(&Path::new("/dev/mapper").join(name("theirs").as_str()), theirs);
    assert_udev_link(&Path::new("/dev/mapper").join(name("ours").as_str()), ours);
    assert_lv_link("theirs", theirs);
    assert_lv_link("ours", ours);
    let normalise = |db: Vec<String>, lv: &str| -> Vec<String> {
        let uuid = lvm_uuid(lv).to_string();
        db.into_iter()
            .filter(|l| !l.starts_with("E:DM_COOKIE="))
            .map(|l| l.replace(&uuid, "<uuid>").replace(lv, "<lv>"))
            .collect()
    };
    let (a, b) = (normalise(udev_db(theirs), "theirs"), normalise(udev_db(ours), "ours"));
    println!("udev db (dmsetup's, normalised): {a:?}");
    assert_eq!(b, a, "udev's record of our device differs from dmsetup's");
    // Down: dmsetup's and ours.
    let t = Instant::now();
    sh(&format!("dmsetup remove {VG}-theirs"));
    println!("dmsetup remove (with its udev wait): {:.3} s", t.elapsed().as_secs_f64());
    remove(&dm, "ours");
    assert_eq!(wait(&dm, "1 remove").outcome, Outcome::Confirmed);
    for lv in ["theirs", "ours"] {
        assert!(gone(Path::new("/dev/mapper").join(name(lv).as_str())), "{lv}");
        assert!(gone(Path::new("/dev").join(VG).join(lv)), "{lv}");
    }
    assert_eq!(sh("dmsetup udevcookies").lines().count(), 1);
    assert!(cookie_semaphores().is_empty());
}

#[test]
fn deadline_when_udev_does_not_confirm() {
    let Some(g) = setup("deadline_when_udev_does_not_confirm") else { return };
    let _guard = Cleanup;
    let timeout = Duration::from_secs(1);
    let dm = Dm::open().unwrap().with_udev_sync(Some(UdevSync::new(timeout)));

    // 1. udev runs its rules but the notify rule is masked (same name in /run/udev/rules.d):
    //    nodes appear, the confirmation never comes.
    std::fs::create_dir_all("/run/udev/rules.d").unwrap();
    std::fs::write("/run/udev/rules.d/95-dm-notify.rules", "# masked by vm_udev\n").unwrap();
    g.udevadm("control --reload");
    let dev = up(&dm, g.disk, "slow", 2048, 0);
    let cookie = dm.udev_sync().unwrap().cookie().unwrap();
    let t = Instant::now();
    let r = wait(&dm, "notify masked");
    let took = t.elapsed();
    assert!(took >= timeout && took < timeout + Duration::from_secs(2), "bounded by the deadline: {took:?}");
    assert_eq!(r.outcome, Outcome::TimedOut { outstanding: Some(1) });
    assert!(!cookie_semaphores().contains(&cookie.value()), "semaphore removed after the timeout");
    assert_eq!(r.fixed_for_udev().count(), 0, "udev's rules still made the node: {:?}", r.nodes);
    assert_eq!(r.warnings().len(), 1, "{:?}", r.warnings());
    assert!(r.warnings()[0].starts_with("udev did not confirm 1 uevent(s) within 1.0 s (cookie 0x0d4d"));
    g.udevadm("settle");
    assert_udev_link(&Path::new("/dev/mapper").join(name("slow").as_str()), dev);
    remove(&dm, "slow");
    let r = wait(&dm, "notify masked, remove");
    assert_eq!(r.outcome, Outcome::TimedOut { outstanding: Some(1) });
    std::fs::remove_file("/run/udev/rules.d/95-dm-notify.rules").unwrap();
    g.udevadm("control --reload");

    // 2. udevd stopped: no node at all after the deadline; we make it (a udev-style link to
    //    dm-MINOR), the device is usable through it, and the remove cleans it up.
    g.stop_udevd();
    let dev = up(&dm, g.disk, "nobody", 2048, 0);
    let r = wait(&dm, "udevd stopped");
    assert_eq!(r.outcome, Outcome::TimedOut { outstanding: Some(1) });
    let node = Path::new("/dev/mapper").join(name("nobody").as_str());
    assert_eq!(r.made_directly().map(|n| n.path.as_path()).collect::<Vec<_>>(), [node.as_path()]);
    assert_udev_link(&node, dev);
    assert!(
        r.warnings().iter().any(|w| w.ends_with("not set up by udev: made directly")),
        "{:?}",
        r.warnings()
    );
    sh(&format!("dd if='{}' of=/dev/null bs=512 count=8 2>/dev/null", node.display()));
    remove(&dm, "nobody");
    let r = wait(&dm, "udevd stopped, remove");
    assert_eq!(r.outcome, Outcome::TimedOut { outstanding: Some(1) });
    assert_eq!(r.fixed_for_udev().count(), 1, "{:?}", r.nodes);
    assert!(gone(&node));
    assert!(cookie_semaphores().is_empty(), "no semaphore left behind");
    g.ensure_udevd();
}

#[test]
fn without_sync_udev_keeps_off_our_nodes() {
    let Some(g) = setup("without_sync_udev_keeps_off_our_nodes") else { return };
    let _guard = Cleanup;
    let dm = Dm::open_at(Path::new(control::CONTROL_PATH)).unwrap();
    assert!(!dm.udev_sync_enabled());
    let dev = up(&dm, g.disk, "direct", 2048, 0);
    g.udevadm("settle");
    // libdm's rule for an uncookied ioctl while udev runs: dm and subsystem rules off.
    let db = udev_db(dev);
    for want in ["E:DM_UDEV_DISABLE_DM_RULES_FLAG=1", "E:DM_UDEV_DISABLE_SUBSYSTEM_RULES_FLAG=1"] {
        assert!(has(&db, want), "{want} missing: {db:?}");
    }
    let node = Path::new("/dev/mapper").join(name("direct").as_str());
    assert!(gone(&node), "udev made no /dev/mapper link");
    assert!(gone(Path::new("/dev").join(VG).join("direct")));
    control::make_node(Path::new("/dev"), &name("direct"), dev).unwrap();
    assert!(std::fs::symlink_metadata(&node).unwrap().file_type().is_block_device());
    assert_eq!(dm.udev_wait().unwrap(), udev::UdevReport::default(), "nothing to wait for");
    remove(&dm, "direct");
    g.udevadm("settle");
    assert!(std::fs::symlink_metadata(&node).is_ok(), "udev leaves our node alone");
    control::remove_node(Path::new("/dev"), &name("direct")).unwrap();
    assert!(cookie_semaphores().is_empty());
}
