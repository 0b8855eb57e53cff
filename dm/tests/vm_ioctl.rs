//! Device-mapper ioctls against a real kernel. These run inside the user-mode-linux guest
//! (`tests/tests/vm.rs` builds this file as a static binary and runs it there with
//! `LVMKIT_DM_TEST_DISKS="/dev/ubdb /dev/ubdc"`); anywhere else they print `skipped: …`.
//! Run them one at a time (`--test-threads=1`): they share the kernel's device list. Every
//! device they make is named `lvmkit-t-*` and removed at the end, also on failure.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use lvmkit_dm::control::{self, CreateOptions, Dm, DmControl, Error, RemoveOptions};
use lvmkit_dm::{DevId, DevNum, DmName, DmUuid, Sectors, Table};

const PREFIX: &str = "lvmkit-t-";

fn disks() -> Option<Vec<(String, DevNum)>> {
    let v = std::env::var("LVMKIT_DM_TEST_DISKS").ok()?;
    let d = v
        .split_whitespace()
        .map(|p| {
            let m = std::fs::metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert!(m.file_type().is_block_device(), "{p} is not a block device");
            (p.to_string(), DevNum::from_dev_t(m.rdev()))
        })
        .collect();
    Some(d)
}

/// The disks, or `None` after printing why the test is skipped.
fn setup(test: &str) -> Option<(Dm, Vec<(String, DevNum)>)> {
    let Some(d) = disks() else {
        println!("skipped: {test}: LVMKIT_DM_TEST_DISKS not set (runs inside the VM harness)");
        return None;
    };
    let dm = Dm::open().expect("open /dev/mapper/control");
    Some((dm, d))
}

fn name(s: &str) -> DmName {
    DmName::new(format!("{PREFIX}{s}")).unwrap()
}

fn by_name(s: &str) -> DevId {
    DevId::Name(name(s))
}

/// Removes every `lvmkit-t-*` device, top-most first (retrying while others hold them).
fn cleanup(dm: &Dm) {
    for _ in 0..4 {
        let ours: Vec<_> = dm.list().unwrap().into_iter().filter(|d| d.name.starts_with(PREFIX)).collect();
        if ours.is_empty() {
            return;
        }
        for d in ours {
            let n = DmName::new(d.name.clone()).unwrap();
            let _ =
                dm.remove(&DevId::Name(n.clone()), &RemoveOptions { busy_retries: 0, ..Default::default() });
            let _ = control::remove_node(Path::new("/dev"), &n);
        }
    }
}

struct Cleanup<'a>(&'a Dm);
impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        cleanup(self.0);
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 9) as u8)).collect()
}

fn write_at(path: &str, at: u64, data: &[u8]) {
    let mut f = OpenOptions::new().write(true).custom_flags(libc::O_DIRECT).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let mut buf = AlignedBuf::new(data.len());
    buf.as_mut().copy_from_slice(data);
    f.write_all(buf.as_ref()).unwrap();
    f.sync_all().unwrap();
}

fn read_at(path: &str, at: u64, len: usize) -> Vec<u8> {
    let mut f = OpenOptions::new().read(true).custom_flags(libc::O_DIRECT).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    let mut buf = AlignedBuf::new(len);
    f.read_exact(buf.as_mut()).unwrap();
    buf.as_ref().to_vec()
}

/// A 4096-aligned buffer for O_DIRECT (no unsafe: over-allocate and slice).
struct AlignedBuf {
    raw: Vec<u8>,
    off: usize,
    len: usize,
}
impl AlignedBuf {
    fn new(len: usize) -> AlignedBuf {
        let raw = vec![0u8; len + 4096];
        let off = (4096 - (raw.as_ptr() as usize % 4096)) % 4096;
        AlignedBuf { raw, off, len }
    }
    fn as_ref(&self) -> &[u8] {
        &self.raw[self.off..self.off + self.len]
    }
    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.off..self.off + self.len]
    }
}

#[test]
fn version_and_targets() {
    let Some((dm, _)) = setup("version_and_targets") else { return };
    let v = dm.version().unwrap();
    println!("dm interface {}.{}.{}", v[0], v[1], v[2]);
    assert_eq!(v[0], 4);
    let t = dm.target_versions().unwrap();
    for want in
        ["linear", "striped", "error", "zero", "snapshot", "thin-pool", "thin", "mirror", "raid", "cache"]
    {
        assert!(t.iter().any(|x| x.name == want), "target {want} not loaded: {t:?}");
    }
}

#[test]
fn linear_and_striped_lifecycle() {
    let Some((dm, disks)) = setup("linear_and_striped_lifecycle") else { return };
    assert!(disks.len() >= 2, "needs two disks");
    cleanup(&dm);
    let _guard = Cleanup(&dm);
    let (d0, d1) = (disks[0].1, disks[1].1);

    // Linear: create, load, resume.
    let lin = name("lin");
    let lin_uuid = DmUuid::new("LVMKIT-TEST-lin").unwrap();
    let created = dm.create(&lin, Some(&lin_uuid), &CreateOptions::default()).unwrap();
    assert_eq!(created.name, lin.as_str());
    assert_eq!(created.uuid.as_deref(), Some("LVMKIT-TEST-lin"));
    assert!(!created.live_table() && !created.inactive_table());
    // lookup (one DM_TABLE_STATUS) answers what info + table answer, at every stage.
    let lookup = |id: &DevId| {
        let one = dm.lookup(id).unwrap();
        let two = dm.info(id).unwrap().map(|i| {
            let t = i.live_table().then(|| dm.table(id, false).unwrap());
            (i, t)
        });
        assert_eq!(one, two, "lookup of {id} differs from info + table");
        one
    };
    let (i, t) = lookup(&by_name("lin")).unwrap();
    assert!(!i.live_table() && t.is_none(), "{i:?} {t:?}");
    let lin_table: Table = format!("0 8192 linear {d0} 2048").parse().unwrap();
    let loaded = dm.table_load(&by_name("lin"), &lin_table, false).unwrap();
    assert!(loaded.inactive_table() && !loaded.live_table());
    let (i, t) = lookup(&by_name("lin")).unwrap();
    assert!(i.inactive_table() && !i.live_table() && t.is_none(), "the inactive table is not the live one");
    let resumed = dm.resume(&by_name("lin"), 0).unwrap();
    assert!(resumed.live_table() && !resumed.suspended());
    assert_eq!(dm.table(&by_name("lin"), false).unwrap(), lin_table);
    let (i, t) = lookup(&DevId::Uuid(lin_uuid.clone())).unwrap();
    assert_eq!((i.name.as_str(), i.dev, t), (lin.as_str(), created.dev, Some(lin_table.clone())));
    assert_eq!(dm.lookup(&by_name("absent")).unwrap(), None);
    // Addressing by uuid reaches the same device.
    let by_uuid = dm.info(&DevId::Uuid(lin_uuid.clone())).unwrap().unwrap();
    assert_eq!((by_uuid.name.as_str(), by_uuid.dev), (lin.as_str(), created.dev));
    assert_eq!(dm.deps(&by_name("lin")).unwrap(), vec![d0]);
    assert_eq!(dm.status(&by_name("lin")).unwrap()[0].target_type, "linear");

    // Our own node (no udev here), then data through it lands at the right place.
    let node = control::make_node(Path::new("/dev"), &lin, created.dev).unwrap();
    assert_eq!(node, Path::new("/dev/mapper").join(lin.as_str()));
    let node = node.to_str().unwrap().to_string();
    let data = pattern(64 << 10, 1);
    write_at(&node, 4096, &data);
    assert_eq!(read_at(&disks[0].0, 2048 * 512 + 4096, data.len()), data);

    // Striped over both disks, 128-sector (64 KiB) chunks.
    let str_name = name("str");
    let str_info = dm
        .create(&str_name, Some(&DmUuid::new("LVMKIT-TEST-str").unwrap()), &CreateOptions::default())
        .unwrap();
    let str_table: Table = format!("0 16384 striped 2 128 {d0} 20480 {d1} 2048").parse().unwrap();
    dm.table_load(&by_name("str"), &str_table, false).unwrap();
    dm.resume(&by_name("str"), 0).unwrap();
    assert_eq!(dm.table(&by_name("str"), false).unwrap(), str_table);
    let mut deps = dm.deps(&by_name("str")).unwrap();
    deps.sort();
    assert_eq!(deps, {
        let mut v = vec![d0, d1];
        v.sort();
        v
    });
    let status = dm.status(&by_name("str")).unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].target_type, "striped");
    assert!(status[0].status.starts_with(&format!("2 {d0} {d1} ")), "{:?}", status[0].status);
    let snode = control::make_node(Path::new("/dev"), &str_name, str_info.dev).unwrap();
    let snode = snode.to_str().unwrap().to_string();
    let two_chunks = pattern(128 << 10, 7);
    write_at(&snode, 0, &two_chunks);
    assert_eq!(read_at(&disks[0].0, 20480 * 512, 64 << 10), two_chunks[..64 << 10]);
    assert_eq!(read_at(&disks[1].0, 2048 * 512, 64 << 10), two_chunks[64 << 10..]);

    // Suspend and resume.
    let s = dm.suspend(&by_name("str"), 0).unwrap();
    assert!(s.suspended());
    assert!(dm.info(&by_name("str")).unwrap().unwrap().suspended());
    let (i, t) = dm.lookup(&by_name("str")).unwrap().unwrap();
    assert!(i.suspended() && t == Some(str_table.clone()), "{i:?} {t:?}");
    let r = dm.resume(&by_name("str"), 0).unwrap();
    assert!(!r.suspended());

    // Reload: the new table waits in the inactive slot; clearing drops it.
    let bigger: Table = format!("0 16384 linear {d0} 2048").parse().unwrap();
    dm.table_load(&by_name("lin"), &bigger, true).unwrap();
    assert_eq!(dm.table(&by_name("lin"), true).unwrap(), bigger);
    assert_eq!(dm.table(&by_name("lin"), false).unwrap(), lin_table);
    assert!(dm.info(&by_name("lin")).unwrap().unwrap().inactive_table());
    dm.table_clear(&by_name("lin")).unwrap();
    assert!(!dm.info(&by_name("lin")).unwrap().unwrap().inactive_table());

    // Stacked: a device on top of lin holds it open.
    let top = name("top");
    let top_info = dm.create(&top, None, &CreateOptions::default()).unwrap();
    assert_eq!(top_info.uuid, None);
    let top_table: Table = format!("0 4096 linear {} 0", created.dev).parse().unwrap();
    dm.table_load(&by_name("top"), &top_table, false).unwrap();
    dm.resume(&by_name("top"), 0).unwrap();
    assert_eq!(dm.deps(&by_name("top")).unwrap(), vec![created.dev]);
    assert_eq!(dm.info(&by_name("lin")).unwrap().unwrap().open_count, 1);
    let quick =
        RemoveOptions { busy_retries: 2, busy_delay: Duration::from_millis(10), ..Default::default() };
    let busy = dm.remove(&by_name("lin"), &quick).unwrap_err();
    assert_eq!(busy.errno(), Some(libc::EBUSY), "{busy}");
    assert!(busy.to_string().contains("DM_DEV_REMOVE"), "{busy}");

    // List shows all three with their uuids.
    let listed = dm.list().unwrap();
    let ours: Vec<_> = listed.iter().filter(|d| d.name.starts_with(PREFIX)).collect();
    assert_eq!(ours.len(), 3, "{listed:?}");
    let l = ours.iter().find(|d| d.name == lin.as_str()).unwrap();
    assert_eq!((l.uuid.as_deref(), l.dev), (Some("LVMKIT-TEST-lin"), created.dev));
    assert_eq!(ours.iter().find(|d| d.name == top.as_str()).unwrap().uuid, None);

    // Deferred removal of an open device: pending while open, gone when closed.
    let held = File::open(&node).unwrap();
    dm.remove(&by_name("top"), &RemoveOptions::default()).unwrap();
    dm.remove(&by_name("lin"), &RemoveOptions { deferred: true, ..quick.clone() }).unwrap();
    assert!(dm.info(&by_name("lin")).unwrap().unwrap().deferred_remove());
    drop(held);
    // The kernel removes it from a work queue after the last close.
    let mut gone = false;
    for _ in 0..100 {
        if dm.info(&by_name("lin")).unwrap().is_none() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone, "deferred removal did not happen");
    control::remove_node(Path::new("/dev"), &lin).unwrap();

    dm.remove(&by_name("str"), &RemoveOptions::default()).unwrap();
    control::remove_node(Path::new("/dev"), &str_name).unwrap();
    assert!(!Path::new(&snode).exists());
    assert!(dm.list().unwrap().iter().all(|d| !d.name.starts_with(PREFIX)));
}

#[test]
fn errors_name_the_command_device_and_missing_target() {
    let Some((dm, disks)) = setup("errors_name_the_command_device_and_missing_target") else { return };
    cleanup(&dm);
    let _guard = Cleanup(&dm);
    let d0 = disks[0].1;

    assert_eq!(dm.info(&by_name("absent")).unwrap(), None);
    let e = dm.remove(&by_name("absent"), &RemoveOptions::default()).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENXIO));

    let n = name("err");
    dm.create(&n, None, &CreateOptions::default()).unwrap();
    let dup = dm.create(&n, None, &CreateOptions::default()).unwrap_err();
    assert_eq!(dup.errno(), Some(libc::EBUSY), "{dup}"); // the kernel says EBUSY for a taken name

    // A target no kernel has (whatever modules a distribution builds in or loads): the
    // error names the target and the module that would provide it.
    let absent: Table = format!("0 8 lvmkit-absent {d0} 0").parse().unwrap();
    match dm.table_load(&by_name("err"), &absent, false) {
        Err(Error::MissingTarget { target, module, .. }) => {
            assert_eq!((target.as_str(), module.as_str()), ("lvmkit-absent", "dm-lvmkit-absent"))
        }
        other => panic!("expected MissingTarget, got {other:?}"),
    }
    // Negative control: a loaded target's line over the same disk is accepted, so the refusal
    // above is the target's, not the device's or the line's.
    let linear: Table = format!("0 8 linear {d0} 0").parse().unwrap();
    dm.table_load(&by_name("err"), &linear, false).unwrap();
    dm.table_clear(&by_name("err")).unwrap();
    // A table the kernel refuses with EINVAL (a gap between its targets: every kernel since
    // 2.6 says "Gap in table") is reported as the ioctl's error without blaming a target. (A
    // linear line past the end of the disk is no test of this: whether the load or only the
    // resume refuses it changed within Debian's 6.1 kernels.)
    let gap: Table = "0 8 zero\n16 8 zero".parse().unwrap();
    match dm.table_load(&by_name("err"), &gap, false) {
        Err(Error::Ioctl { cmd, source, .. }) => {
            assert_eq!(cmd, "DM_TABLE_LOAD");
            assert_eq!(source.raw_os_error(), Some(libc::EINVAL));
        }
        other => panic!("expected an EINVAL ioctl error, got {other:?}"),
    }
    // Messages: a linear target takes none.
    dm.table_load(&by_name("err"), &"0 8 zero".parse().unwrap(), false).unwrap();
    dm.resume(&by_name("err"), 0).unwrap();
    assert!(dm.message(&by_name("err"), Sectors(0), "hello").is_err());
    dm.remove(&by_name("err"), &RemoveOptions::default()).unwrap();
}
