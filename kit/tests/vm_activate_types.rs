//! `activate` / `deactivate` of every stacked LV type against a real kernel and genuine lvm2.
//! Runs inside the user-mode-linux guest: `tests/vm/scenarios/activate-types.sh` has lvm2
//! build VG `vgk` on /dev/ubdb, /dev/ubdc, /dev/ubdd (thin pool + thin LV + thin snapshots,
//! COW snapshot of a linear origin, raid1, raid5, mirror with a core log, cache pool + cached
//! LV), records what `lvm vgchange -ay` creates in `$LVMKIT_VM_LVM2_TABLE` /
//! `$LVMKIT_VM_LVM2_INFO` and takes it down; then this program (built static by
//! `tests/tests/vm.rs`) runs. Anywhere else it prints `skipped: …`.

mod guest;
use guest::{args, dm_empty, dm_state, pattern, sh};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use lvmkit::activate::{activate, deactivate, status};
use lvmkit::source::Source;
use lvmkit_activation::PlanOptions;
use lvmkit_activation::apply::ApplyOptions;

const VG: &str = "vgk";

fn load() -> Source {
    Source::load(&["/dev/ubdb", "/dev/ubdc", "/dev/ubdd"].map(PathBuf::from), false)
}

/// Which LV type a `vgk-…` device belongs to (the scenario's names).
fn kind(line: &str) -> &'static str {
    let name = line.split([':', ' ']).next().unwrap_or("");
    let lv = name.strip_prefix("vgk-").unwrap_or(name);
    let starts = |p: &str| lv == p || lv.starts_with(&format!("{p}_")) || lv.starts_with(&format!("{p}-"));
    if starts("pool") || starts("thin") || starts("tsnap") || starts("tskip") {
        "thin pool + thin + thin snapshot"
    } else if starts("orig") || starts("csnap") {
        "COW snapshot"
    } else if starts("r1") {
        "raid1"
    } else if starts("r5") {
        "raid5"
    } else if starts("mir") {
        "mirror (core log)"
    } else if starts("cached") || starts("cpool") {
        "cache"
    } else {
        "other"
    }
}

const KINDS: [&str; 6] =
    ["thin pool + thin + thin snapshot", "COW snapshot", "raid1", "raid5", "mirror (core log)", "cache"];

/// Compares `dmsetup` output line by line, per LV type; prints one verdict line per type and
/// returns the differences (`- lvm2` / `+ ours` lines), empty when equal.
fn compare(what: &str, lvm2: &str, ours: &str) -> String {
    let mut per: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for l in lvm2.lines() {
        if !ours.lines().any(|o| o == l) {
            per.entry(kind(l)).or_default().0.push(l);
        }
    }
    for l in ours.lines() {
        if !lvm2.lines().any(|o| o == l) {
            per.entry(kind(l)).or_default().1.push(l);
        }
    }
    let mut diff = String::new();
    for k in KINDS.iter().copied().chain(per.keys().copied().filter(|k| !KINDS.contains(k))) {
        let n = lvm2.lines().filter(|l| kind(l) == k).count();
        match per.get(k) {
            None => println!("{what}: {k}: equal ({n} lines)"),
            Some((theirs, mine)) => {
                println!("{what}: {k}: DIFFERS");
                diff.push_str(&format!("{what} of {k}:\n"));
                for l in theirs {
                    diff.push_str(&format!("  - lvm2: {l}\n"));
                }
                for l in mine {
                    diff.push_str(&format!("  + ours: {l}\n"));
                }
            }
        }
    }
    diff
}

fn assert_like_lvm2(lvm2: &(String, String), when: &str) {
    let (table, info) = dm_state();
    let mut diff = compare(&format!("{when}: dmsetup table"), &lvm2.0, &table);
    diff += &compare(&format!("{when}: dmsetup info"), &lvm2.1, &info);
    assert!(diff.is_empty(), "{when}: device-mapper state differs from lvm2's:\n{diff}");
}

/// FNV-1a, to print what was written and read.
fn checksum(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3))
}

fn write_at(path: &str, offset: u64, data: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(data).unwrap();
    f.sync_all().unwrap();
}

fn read_at(path: &str, offset: u64, len: usize) -> Vec<u8> {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut b = vec![0u8; len];
    f.read_exact(&mut b).unwrap();
    b
}

/// (LV, byte offset, data) written through our devices and read back through lvm2's.
fn payloads() -> Vec<(&'static str, u64, Vec<u8>)> {
    vec![
        ("thin", 5 << 20, pattern(192 << 10, 1)),
        ("tsnap", 1 << 20, pattern(64 << 10, 2)),
        ("orig", 2 << 20, pattern(64 << 10, 3)),
        ("csnap", 3 << 20, pattern(64 << 10, 4)),
        ("r1", 1 << 20, pattern(256 << 10, 5)),
        ("r5", (1 << 20) + (32 << 10), pattern(320 << 10, 6)),
        ("mir", 4 << 20, pattern(128 << 10, 7)),
        ("cached", 6 << 20, pattern(128 << 10, 8)),
    ]
}

/// `lvmkit status vgk`: the report, after checking its verdict line and exit verdict.
fn status_report(src: &Source, plan_opts: &PlanOptions, want_ok: bool) -> String {
    let (report, ok) = status(src, &args(&[VG]), plan_opts).unwrap();
    println!("status:\n{report}");
    assert_eq!(ok, want_ok, "status verdict; report:\n{report}");
    assert!(report.contains("# not planned: LV tskip: activation skip flag set"), "{report}");
    report
}

fn line_of<'a>(report: &'a str, device: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{device} ")))
        .unwrap_or_else(|| panic!("no {device} in\n{report}"))
}

#[test]
fn vm_activate_types_like_lvm2() {
    let (Ok(table_file), Ok(info_file)) =
        (std::env::var("LVMKIT_VM_LVM2_TABLE"), std::env::var("LVMKIT_VM_LVM2_INFO"))
    else {
        println!("skipped: vm_activate_types_like_lvm2: runs inside the VM harness");
        return;
    };
    let lvm2 = (std::fs::read_to_string(table_file).unwrap(), std::fs::read_to_string(info_file).unwrap());
    for t in [" thin-pool ", " thin ", " snapshot ", " snapshot-origin ", " raid raid1 ", " raid raid5_ls "] {
        assert!(lvm2.0.contains(t), "scenario did not record lvm2's {t:?} device");
    }
    assert!(
        lvm2.0.contains(" mirror core ") && lvm2.0.contains(" cache "),
        "no mirror/cache in lvm2's record"
    );
    assert!(!lvm2.0.contains("vgk-tskip"), "lvm2 should skip tskip (activation skip)");
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let opts = ApplyOptions::default();
    assert!(opts.make_nodes, "no udev in the guest: we make the nodes");
    let plan_opts = PlanOptions::default();
    let src = load();
    let devices = lvm2.0.lines().count();
    let all_live = format!("vgk: {devices} of {devices} planned devices live and equal");

    // 0. Nothing active: status reports every planned device missing.
    let report = status_report(&src, &plan_opts, false);
    assert_eq!(report.lines().filter(|l| l.ends_with(" - missing")).count(), devices, "{report}");
    assert!(report.contains(&format!("vgk: 0 of {devices} planned devices")), "{report}");

    // 1. Ours up: tables (device numbers included), names, uuids, attributes as lvm2's.
    let out = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap();
    println!("{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("created ")).count(), devices, "{out}");
    assert_like_lvm2(&lvm2, "our activation");
    for lv in ["thin", "tsnap", "orig", "csnap", "r1", "r5", "mir", "cached"] {
        let link =
            std::fs::read_link(format!("/dev/{VG}/{lv}")).unwrap_or_else(|e| panic!("/dev/{VG}/{lv}: {e}"));
        assert!(std::fs::metadata(&link).unwrap().file_type().is_block_device(), "{link:?}");
    }
    for lv in ["pool", "tskip", "cpool"] {
        assert!(!Path::new(&format!("/dev/{VG}/{lv}")).exists(), "/dev/{VG}/{lv} should not exist");
    }

    let report = status_report(&src, &plan_opts, true);
    assert!(report.contains(&all_live), "{report}");

    // 2. Idempotent.
    let again = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap();
    assert_eq!(again.lines().filter(|l| l.starts_with("unchanged ")).count(), devices, "{again}");

    // 3. Data through our devices. raid1's copies land on both images.
    let data = payloads();
    for (lv, off, d) in &data {
        write_at(&format!("/dev/{VG}/{lv}"), *off, d);
        println!("wrote {} bytes at {off} through our {VG}/{lv}: fnv {:016x}", d.len(), checksum(d));
    }
    for img in ["r1_rimage_0", "r1_rimage_1"] {
        let (_, off, d) = &data[4];
        let got = read_at(&format!("/dev/mapper/{VG}-{img}"), *off, d.len());
        assert_eq!(checksum(&got), checksum(d), "raid1 data is not on {img}");
    }

    // 4. Ours down; lvm2 up (the same state it recorded) reads the data; ours takes lvm2's down.
    let removed = deactivate(&src, &args(&[VG]), &opts).unwrap();
    assert_eq!(removed.lines().count(), devices, "{removed}");
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    assert!(!Path::new(&format!("/dev/{VG}")).exists(), "/dev/{VG} left behind");
    sh(&format!("lvm vgchange -q -ay {VG}"));
    assert_like_lvm2(&lvm2, "lvm2's second activation");
    assert!(status_report(&src, &plan_opts, true).contains(&all_live), "lvm2's devices are our plan");
    for (lv, off, d) in &data {
        let got = read_at(&format!("/dev/{VG}/{lv}"), *off, d.len());
        println!("read {} bytes at {off} through lvm2's {VG}/{lv}: fnv {:016x}", got.len(), checksum(&got));
        assert!(got == *d, "lvm2's {VG}/{lv} reads other data than ours wrote");
    }
    let removed = deactivate(&src, &args(&[VG]), &opts).unwrap();
    assert_eq!(removed.lines().count(), devices, "{removed}");
    assert!(dm_empty(), "lvm2's devices left: {}", sh("dmsetup ls"));
    assert!(!Path::new(&format!("/dev/{VG}")).exists(), "lvm2's /dev/{VG} links left behind");

    // 5. Ours up again (thin pool, raid, mirror and cache metadata as lvm2 left it), lvm2 takes
    //    it down.
    activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap();
    assert_like_lvm2(&lvm2, "our second activation");
    sh(&format!("lvm vgchange -q -an {VG}"));
    assert!(dm_empty(), "lvm2 did not take our devices down: {}", sh("dmsetup ls"));

    // 6. status against a changed live state.
    activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap();
    let held = File::open(format!("/dev/{VG}/r1")).unwrap();
    let report = status_report(&src, &plan_opts, true);
    assert!(line_of(&report, "vgk-r1").ends_with(" ok open=1"), "{report}");
    assert!(line_of(&report, "vgk-r1_rimage_0").ends_with(" ok open=1"), "held by vgk-r1: {report}");
    drop(held);
    // Suspended.
    sh("dmsetup suspend vgk-r5");
    let report = status_report(&src, &plan_opts, false);
    assert!(line_of(&report, "vgk-r5").contains(" suspended "), "{report}");
    sh("dmsetup resume --noudevsync vgk-r5");
    // Another table (an error target) in a thin LV; activate reloads the planned one.
    sh("dmsetup reload vgk-tsnap --table '0 49152 error' && dmsetup resume --noudevsync vgk-tsnap");
    let report = status_report(&src, &plan_opts, false);
    let tsnap = line_of(&report, "vgk-tsnap");
    assert!(tsnap.contains(" table differs from the plan open=0 error-targets=1"), "{report}");
    let pool = line_of(&report, "vgk-pool-tpool").split(' ').nth(1).unwrap().to_string();
    assert!(
        report.contains(&format!("  planned: 0 49152 thin {pool} 2\n  live:    0 49152 error\n")),
        "{report}"
    );
    let out = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap();
    assert!(out.contains("reloaded vgk-tsnap "), "{out}");
    assert!(status_report(&src, &plan_opts, true).contains(&all_live));
    // A device of the VG's uuid space that the plan does not have: reported, not an error.
    let vg_uuid = &lvm2.1.lines().next().unwrap().split(':').nth(1).unwrap()[..36];
    sh(&format!("dmsetup create --noudevsync vgk-stale -u {vg_uuid}STALE --table '0 8 zero'"));
    let report = status_report(&src, &plan_opts, true);
    assert!(report.contains(&format!("# not planned: vgk-stale 254:{devices} {vg_uuid}STALE\n")), "{report}");
    sh("dmsetup remove --noudevsync vgk-stale");
    // A device gone: missing.
    sh("dmsetup remove --noudevsync vgk-thin");
    let report = status_report(&src, &plan_opts, false);
    let missing: Vec<&str> = report.lines().filter(|l| l.ends_with(" - missing")).collect();
    assert_eq!(missing, ["vgk-thin - missing"], "{report}");
    assert!(report.contains(&format!("vgk: {} of {devices} planned devices", devices - 1)), "{report}");
    // One LV's whole stack goes with it: the mirror's images have uuids of their own.
    let removed = deactivate(&src, &args(&[&format!("{VG}/mir")]), &opts).unwrap();
    for dev in ["vgk-mir", "vgk-mir_mimage_0", "vgk-mir_mimage_1"] {
        assert!(removed.contains(&format!("removed {dev}\n")), "{removed}");
    }
    assert!(!sh("dmsetup ls").contains("vgk-mir"), "mirror stack left: {}", sh("dmsetup ls"));
    // A thin snapshot leaves its pool, which the pool's own LV still holds.
    let removed = deactivate(&src, &args(&[&format!("{VG}/tsnap")]), &opts).unwrap();
    assert_eq!(removed, "removed vgk-tsnap\n");
    assert!(sh("dmsetup ls").contains("vgk-pool-tpool"), "pool taken down: {}", sh("dmsetup ls"));
    deactivate(&src, &args(&[VG]), &opts).unwrap();
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
}
