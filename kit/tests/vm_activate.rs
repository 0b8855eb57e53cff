//! `activate` / `deactivate` against a real kernel and genuine lvm2. Runs inside the VM
//! harness's guest (`tests/tests/vm.rs` and `vm_qemu.rs` build this file as a static binary;
//! the scenario `tests/vm/scenarios/activate.sh` first has lvm2 build VG `vgt` on the first two
//! disks of `$VM_DISKS` — /dev/ubdb + /dev/ubdc under user-mode-linux, /dev/vdb + /dev/vdc
//! under qemu: a two-segment linear LV, a striped LV, an LV with a dash in its name — and
//! records what `lvm vgchange -ay` creates in `$LVMKIT_VM_LVM2_TABLE` / `$LVMKIT_VM_LVM2_INFO`).
//! Anywhere else it prints `skipped: …`.

mod guest;
#[path = "guest/args.rs"]
mod guest_args;
use guest::{disks, dm_empty, dm_state, pattern, sh};
use guest_args::args;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use lvmkit::activate::{ActivateError, activate, deactivate};
use lvmkit::source::Source;
use lvmkit_activation::PlanOptions;
use lvmkit_activation::apply::{ApplyError, ApplyOptions};
use lvmkit_dm::control::{CreateOptions, Dm, DmControl, RemoveOptions};
use lvmkit_dm::{DevId, DmName, DmUuid, Table};

/// VG `vgt`'s two PVs: the first two disks of `$VM_DISKS` (default /dev/ubdb, /dev/ubdc).
fn pvs() -> [String; 2] {
    let d = disks();
    assert!(d.len() >= 2, "vgt needs two disks, the guest has {d:?}");
    [d[0].clone(), d[1].clone()]
}

fn load() -> Source {
    Source::load(&pvs().map(PathBuf::from), false)
}

fn rw(path: &str) -> File {
    OpenOptions::new().read(true).write(true).open(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn vm_activate_linear_striped_like_lvm2() {
    let (Ok(table_file), Ok(info_file)) =
        (std::env::var("LVMKIT_VM_LVM2_TABLE"), std::env::var("LVMKIT_VM_LVM2_INFO"))
    else {
        println!("skipped: vm_activate_linear_striped_like_lvm2: runs inside the VM harness");
        return;
    };
    let lvm2_table = std::fs::read_to_string(table_file).unwrap();
    let lvm2_info = std::fs::read_to_string(info_file).unwrap();
    assert!(lvm2_table.contains("vgt-str: 0 32768 striped 2 128"), "scenario did not record lvm2's tables");
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let opts = ApplyOptions::default();
    assert!(opts.make_nodes, "no udev in the guest: we make the nodes");
    let plan_opts = PlanOptions::default();
    let src = load();

    // 1. Ours up: the same tables, names, uuids as lvm2's; nodes and links.
    let out = activate(&src, &args(&["vgt"]), &plan_opts, &opts).unwrap().to_string();
    println!("{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("created ")).count(), 3, "{out}");
    let (table, info) = dm_state();
    assert_eq!(table, lvm2_table, "dmsetup table differs from lvm2's");
    assert_eq!(info, lvm2_info, "names/uuids/attributes differ from lvm2's");
    for (lv, dm) in [("lin", "vgt-lin"), ("str", "vgt-str"), ("my-lv", "vgt-my--lv")] {
        let link = std::fs::read_link(format!("/dev/vgt/{lv}")).unwrap();
        assert_eq!(link, Path::new("/dev/mapper").join(dm));
        assert!(std::fs::metadata(&link).unwrap().file_type().is_block_device(), "{link:?}");
    }

    // 2. Idempotent.
    let again = activate(&src, &args(&["vgt"]), &plan_opts, &opts).unwrap().to_string();
    assert_eq!(again.lines().filter(|l| l.starts_with("unchanged ")).count(), 3, "{again}");

    // 3. Data across lin's segment boundary (8 MiB on the first PV, then the second) and
    //    across stripes.
    let lin_data = pattern(64 << 10, 3);
    let mut f = rw("/dev/vgt/lin");
    f.seek(SeekFrom::Start((8 << 20) - (32 << 10))).unwrap();
    f.write_all(&lin_data).unwrap();
    f.sync_all().unwrap();
    drop(f);
    let str_data = pattern(256 << 10, 9);
    let mut f = rw("/dev/vgt/str");
    f.write_all(&str_data).unwrap();
    f.sync_all().unwrap();
    drop(f);
    // The PV side: lin's segments start at sector 2048 of the first PV and of the second.
    let [_, second] = pvs();
    let mut b = vec![0u8; 32 << 10];
    let mut pv = File::open(&second).unwrap();
    pv.seek(SeekFrom::Start(2048 * 512)).unwrap();
    pv.read_exact(&mut b).unwrap();
    assert_eq!(b, lin_data[32 << 10..], "lin's second segment is not at sector 2048 of {second}");

    // 4. Ours down; lvm2 up reads the same data; ours takes lvm2's down.
    let removed = deactivate(&src, &args(&["vgt"]), &opts).unwrap().to_string();
    assert_eq!(removed.lines().count(), 3, "{removed}");
    assert!(dm_empty());
    assert!(!Path::new("/dev/vgt").exists(), "/dev/vgt left behind");
    assert!(!Path::new("/dev/mapper/vgt-lin").exists(), "node left behind");
    sh("lvm vgchange -q -ay vgt");
    assert_eq!(dm_state(), (lvm2_table.clone(), lvm2_info.clone()));
    let mut got = vec![0u8; str_data.len()];
    File::open("/dev/vgt/str").unwrap().read_exact(&mut got).unwrap();
    assert_eq!(got, str_data, "lvm2's vgt-str reads other data than ours wrote");
    let removed = deactivate(&src, &args(&["vgt"]), &opts).unwrap().to_string();
    assert_eq!(removed.lines().count(), 3, "{removed}");
    assert!(dm_empty());
    assert!(!Path::new("/dev/vgt").exists(), "lvm2's /dev/vgt links left behind");

    // 5. Ours up, lvm2 takes it down.
    activate(&src, &args(&["vgt"]), &plan_opts, &opts).unwrap();
    sh("lvm vgchange -q -an vgt");
    assert!(dm_empty(), "lvm2 did not take our devices down");

    // 6. One LV; an open LV is refused by name; the rest still goes.
    let one = activate(&src, &args(&["vgt/my-lv"]), &plan_opts, &opts).unwrap().to_string();
    assert!(one.starts_with("created vgt-my--lv ") && one.lines().count() == 1, "{one}");
    activate(&src, &args(&["vgt"]), &plan_opts, &opts).unwrap();
    let held = File::open("/dev/vgt/lin").unwrap();
    match deactivate(&src, &args(&["vgt"]), &opts) {
        Err(ActivateError::Apply { source, .. }) => match *source {
            ApplyError::InUse { device, open_count, .. } => {
                assert_eq!((device.as_str(), open_count), ("vgt-lin", 1))
            }
            other => panic!("expected InUse, got {other}"),
        },
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sh("dmsetup ls | cut -f1").trim(), "vgt-lin");
    drop(held);
    deactivate(&src, &args(&["vgt/lin"]), &opts).unwrap();
    assert!(dm_empty());

    // 7. Rollback: vgt-str's name is taken by a foreign device, so the run fails there and
    //    removes vgt-lin, which it had created; the foreign device stays.
    let dm = Dm::open().unwrap();
    let foreign = DmName::new("vgt-str").unwrap();
    dm.create(&foreign, Some(&DmUuid::new("LVMKIT-TEST-foreign").unwrap()), &CreateOptions::default())
        .unwrap();
    dm.table_load(&DevId::Name(foreign.clone()), &"0 8 zero".parse::<Table>().unwrap(), false).unwrap();
    dm.resume(&DevId::Name(foreign.clone()), 0).unwrap();
    let err = activate(&src, &args(&["vgt"]), &plan_opts, &opts).unwrap_err();
    println!("expected failure: {err}");
    assert!(err.to_string().contains("rolled back vgt-lin"), "{err}");
    assert_eq!(sh("dmsetup ls | cut -f1").trim(), "vgt-str");
    assert!(!Path::new("/dev/vgt/lin").exists() && !Path::new("/dev/mapper/vgt-lin").exists());
    dm.remove(&DevId::Name(foreign), &RemoveOptions::default()).unwrap();
    assert!(dm_empty());
}
