//! `activate` / `deactivate` of every stacked LV type, and of a VG with a missing PV, against a
//! real kernel and genuine lvm2. Runs inside the user-mode-linux guest:
//! `tests/vm/scenarios/activate-types.sh` has lvm2 build VG `vgk` on the first five disks
//! (thin pool + thin LV + thin snapshots, COW snapshot of a linear origin, raid1, raid5,
//! raid6, raid10, mirror with a core log, cache pool + cached LV, a cache and a writecache over
//! cachevols), records what
//! `lvm vgchange -ay` creates in `$LVMKIT_VM_LVM2_TABLE` / `$LVMKIT_VM_LVM2_INFO` (read-ahead
//! in `$LVMKIT_VM_LVM2_RA`) and takes it down; it builds VG `vgm` on disks 6-8, loses the 7th
//! disk's PV and records lvm2's partial and degraded activations in `$LVMKIT_VM_MISSING`; it
//! builds VG `vgx` on disks 9-13 with every further segment type and variant and records
//! lvm2's activation of it in `$LVMKIT_VM_MORE`; then this program (built static by `tests/tests/vm.rs`) runs. Anywhere else it prints
//! `skipped: …`.

mod guest;
#[path = "guest/args.rs"]
mod guest_args;
use guest::{
    checksum, disks, dm_empty, dm_read_ahead, dm_state, pattern, read_at, read_disk_at, sh, try_read_at,
    write_at,
};
use guest_args::args;
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lvmkit::activate::{ActivateError, Activation, activate, deactivate, status};
use lvmkit::source::Source;
use lvmkit_activation::apply::ApplyOptions;
use lvmkit_activation::{ActivationMode, PlanOptions};

const VG: &str = "vgk";

fn load() -> Source {
    let d = disks();
    assert!(d.len() >= 5, "vgk needs five disks, the guest has {d:?}");
    Source::load(&d[..5].iter().map(PathBuf::from).collect::<Vec<_>>(), false)
}

/// Which LV type a `vgk-…` device belongs to (the scenario's names); `vgm`'s all count as one.
fn kind(line: &str) -> &'static str {
    let name = line.split([':', ' ']).next().unwrap_or("");
    if name.starts_with("vgm-") {
        return "vgm (a PV missing)";
    }
    if let Some(lv) = name.strip_prefix("vgx-") {
        return more_kind(lv);
    }
    let lv = name.strip_prefix("vgk-").unwrap_or(name);
    let starts = |p: &str| lv == p || lv.starts_with(&format!("{p}_")) || lv.starts_with(&format!("{p}-"));
    if starts("pool") || starts("thin") || starts("tsnap") || starts("tskip") {
        "thin pool + thin + thin snapshot"
    } else if starts("orig") || starts("csnap") {
        "COW snapshot"
    } else if starts("ri") {
        "raid1 + integrity"
    } else if starts("r1") {
        "raid1"
    } else if starts("r5") {
        "raid5"
    } else if starts("r6") {
        "raid6"
    } else if starts("r10") {
        "raid10"
    } else if starts("mir") {
        "mirror (core log)"
    } else if starts("cached") || starts("cpool") {
        "cache"
    } else if starts("cvc") || starts("fastc") {
        "cache (cachevol)"
    } else if starts("wcc") || starts("fastw") {
        "writecache (cachevol)"
    } else {
        "other"
    }
}

/// `vgx`'s LVs (`activate-types.sh`) by name prefix: the further segment types and variants.
const MORE_KINDS: &[(&str, &str)] = &[
    ("x0m", "raid0_meta"),
    ("x0", "raid0"),
    ("xraid4", "raid4"),
    ("xraid5_n", "raid5_n"),
    ("xraid5_la", "raid5_la"),
    ("xraid5_ra", "raid5_ra"),
    ("xraid5_rs", "raid5_rs"),
    ("xraid6_zr", "raid6_zr"),
    ("xraid6_nr", "raid6_nr"),
    ("xraid6_nc", "raid6_nc"),
    ("xraid6_n_6", "raid6_n_6"),
    ("xraid6_la_6", "raid6_la_6"),
    ("xraid6_ra_6", "raid6_ra_6"),
    ("xraid6_ls_6", "raid6_ls_6"),
    ("xraid6_rs_6", "raid6_rs_6"),
    ("xwm", "raid1 (writemostly, writebehind)"),
    ("xr10", "raid10 (4 images)"),
    ("xmd", "mirror (disk log)"),
    ("xtp", "thin pool on raid1 (zero off, nopassdown, error when full)"),
    ("xt", "thin merging a thin snapshot"),
    ("xts", "thin merging a thin snapshot"),
    ("xext", "thin with an external origin"),
    ("xeo", "thin with an external origin"),
    ("xtc", "thin pool on a cache"),
    ("xtcpool", "thin pool on a cache"),
    ("xtct", "thin pool on a cache"),
    ("xcw", "cache (writethrough)"),
    ("xcwpool", "cache (writethrough)"),
    ("xcp", "cache (passthrough, cache pool on raid1)"),
    ("xcppool", "cache (passthrough, cache pool on raid1)"),
    ("xz", "zero"),
    ("xe", "error"),
    ("xmo", "COW snapshot merging on activation"),
    ("xpm", "pvmove in progress"),
];

fn more_kind(lv: &str) -> &'static str {
    if lv.contains("_vorigin") || lv == "xsp" || lv.starts_with("xsp-") {
        return "sparse snapshot (--virtualsize)";
    }
    if lv.starts_with("pvmove") {
        return "pvmove in progress";
    }
    if lv.starts_with("xms") {
        return "COW snapshot merging on activation";
    }
    let starts = |p: &str| lv == p || lv.starts_with(&format!("{p}_")) || lv.starts_with(&format!("{p}-"));
    MORE_KINDS.iter().find(|(p, _)| starts(p)).map_or("other", |k| k.1)
}

const KINDS: [&str; 11] = [
    "thin pool + thin + thin snapshot",
    "COW snapshot",
    "raid1",
    "raid5",
    "raid6",
    "raid10",
    "mirror (core log)",
    "cache",
    "cache (cachevol)",
    "writecache (cachevol)",
    "raid1 + integrity",
];

/// `dmsetup table` lines with an integrity target's transient `recalculate` (the kernel prints it
/// while the first recalculation runs, which may end between lvm2's record and ours) and its
/// argument count left out; every other line as it is.
fn without_recalculation(text: &str) -> String {
    let mut out = String::new();
    for l in text.lines() {
        let w: Vec<&str> = l.split(' ').collect();
        match w.iter().position(|t| *t == "integrity") {
            // `integrity <dev> <start> <tag size> <mode> <#args> <args…>`
            Some(i) if w.len() > i + 5 => {
                let kept: Vec<&str> = w[..i + 5]
                    .iter()
                    .chain(w[i + 6..].iter().filter(|t| **t != "recalculate"))
                    .copied()
                    .collect();
                out.push_str(&kept.join(" "));
            }
            _ => out.push_str(l),
        }
        out.push('\n');
    }
    out
}

/// Compares `dmsetup` output line by line, per LV type; prints one verdict line per type and
/// returns the differences (`- lvm2` / `+ ours` lines), empty when equal.
fn compare(what: &str, lvm2: &str, ours: &str) -> String {
    let (lvm2, ours) = (&without_recalculation(lvm2), &without_recalculation(ours));
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
    let mut kinds = KINDS.to_vec();
    for k in lvm2.lines().chain(ours.lines()).map(kind) {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    let mut diff = String::new();
    for k in kinds {
        let n = lvm2.lines().filter(|l| kind(l) == k).count();
        match per.get(k) {
            None if n == 0 => {}
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

/// (LV, byte offset, data) written through our devices and read back through lvm2's.
fn payloads() -> Vec<(&'static str, u64, Vec<u8>)> {
    vec![
        ("thin", 5 << 20, pattern(192 << 10, 1)),
        ("tsnap", 1 << 20, pattern(64 << 10, 2)),
        ("orig", 2 << 20, pattern(64 << 10, 3)),
        ("csnap", 3 << 20, pattern(64 << 10, 4)),
        ("r1", 1 << 20, pattern(256 << 10, 5)),
        ("r5", (1 << 20) + (32 << 10), pattern(320 << 10, 6)),
        ("r6", (1 << 20) + (16 << 10), pattern(448 << 10, 9)),
        ("r10", (2 << 20) + (8 << 10), pattern(320 << 10, 10)),
        ("mir", 4 << 20, pattern(128 << 10, 7)),
        ("cached", 6 << 20, pattern(128 << 10, 8)),
        ("cvc", 3 << 20, pattern(192 << 10, 11)),
        ("wcc", 5 << 20, pattern(160 << 10, 12)),
        ("ri", 2 << 20, pattern(224 << 10, 13)),
    ]
}

/// `lvmkit status vgk`: the report, after checking its verdict line and exit verdict.
fn status_report(src: &Source, plan_opts: &PlanOptions, want_ok: bool) -> String {
    let (report, ok) = status(src, &args(&[VG]), plan_opts).map(|s| (s.to_string(), s.ok())).unwrap();
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
    for t in [
        " thin-pool ",
        " thin ",
        " snapshot ",
        " snapshot-origin ",
        " raid raid1 ",
        " raid raid5_ls ",
        " raid raid6_zr ",
        " raid raid10 ",
    ] {
        assert!(lvm2.0.contains(t), "scenario did not record lvm2's {t:?} device");
    }
    assert!(
        lvm2.0.contains(" mirror core ") && lvm2.0.contains(" cache "),
        "no mirror/cache in lvm2's record"
    );
    for dev in ["vgk-fastc_cvol: ", "vgk-fastc_cvol-cdata: ", "vgk-fastc_cvol-cmeta: ", "vgk-fastw_cvol: "] {
        assert!(lvm2.0.contains(dev), "no {dev:?} in lvm2's record");
    }
    assert!(lvm2.0.contains(" writecache s "), "no writecache in lvm2's record");
    assert!(
        lvm2.0.contains("vgk-ri_rimage_0: ") && lvm2.0.contains(" integrity "),
        "no integrity in lvm2's record"
    );
    assert!(!lvm2.0.contains("vgk-tskip"), "lvm2 should skip tskip (activation skip)");
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let opts = ApplyOptions::default();
    assert!(opts.make_nodes, "no udev in the guest: we make the nodes");
    let plan_opts = PlanOptions::default();
    let started = Instant::now();
    let src = load();
    let devices = lvm2.0.lines().count();
    let all_live = format!("vgk: {devices} of {devices} planned devices live and equal");

    // 0. Nothing active: status reports every planned device missing.
    let report = status_report(&src, &plan_opts, false);
    assert_eq!(report.lines().filter(|l| l.ends_with(" - missing")).count(), devices, "{report}");
    assert!(report.contains(&format!("vgk: 0 of {devices} planned devices")), "{report}");

    // 1. Ours up: tables (device numbers included), names, uuids, attributes as lvm2's.
    let t = Instant::now();
    let out = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap().to_string();
    println!("{out}our activation of {devices} devices: {:.2?}", t.elapsed());
    assert_eq!(out.lines().filter(|l| l.starts_with("created ")).count(), devices, "{out}");
    assert_like_lvm2(&lvm2, "our activation");
    for lv in ["thin", "tsnap", "orig", "csnap", "r1", "r5", "r6", "r10", "mir", "cached", "cvc", "wcc", "ri"]
    {
        let link =
            std::fs::read_link(format!("/dev/{VG}/{lv}")).unwrap_or_else(|e| panic!("/dev/{VG}/{lv}: {e}"));
        assert!(std::fs::metadata(&link).unwrap().file_type().is_block_device(), "{link:?}");
    }
    for lv in ["pool", "tskip", "cpool", "fastc_cvol", "fastw_cvol"] {
        assert!(!Path::new(&format!("/dev/{VG}/{lv}")).exists(), "/dev/{VG}/{lv} should not exist");
    }

    let report = status_report(&src, &plan_opts, true);
    assert!(report.contains(&all_live), "{report}");

    // 2. Idempotent.
    let again = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap().to_string();
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
    let removed = deactivate(&src, &args(&[VG]), &opts).unwrap().to_string();
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
    let removed = deactivate(&src, &args(&[VG]), &opts).unwrap().to_string();
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
    let out = activate(&src, &args(&[VG]), &plan_opts, &opts).unwrap().to_string();
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
    let removed = deactivate(&src, &args(&[&format!("{VG}/mir")]), &opts).unwrap().to_string();
    for dev in ["vgk-mir", "vgk-mir_mimage_0", "vgk-mir_mimage_1"] {
        assert!(removed.contains(&format!("removed {dev}\n")), "{removed}");
    }
    assert!(!sh("dmsetup ls").contains("vgk-mir"), "mirror stack left: {}", sh("dmsetup ls"));
    // A thin snapshot leaves its pool, which the pool's own LV still holds.
    let removed = deactivate(&src, &args(&[&format!("{VG}/tsnap")]), &opts).unwrap().to_string();
    assert_eq!(removed, "removed vgk-tsnap\n");
    assert!(sh("dmsetup ls").contains("vgk-pool-tpool"), "pool taken down: {}", sh("dmsetup ls"));
    deactivate(&src, &args(&[VG]), &opts).unwrap();
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    println!("vm_activate_types_like_lvm2: {:.2?}", started.elapsed());
}

/// `vgx`: every further segment type and variant lvm2 2.03.16 activates (see the scenario),
/// activated by us from scratch: tables, names, uuids, attributes and read-ahead as lvm2's own
/// activation of the same metadata (`vgchange -ay --poll n`: a pvmove stopped midway, a COW and
/// a thin snapshot merge pending); lvm2 then takes our devices down.
#[test]
fn vm_activate_more_types_like_lvm2() {
    let Ok(dir) = std::env::var("LVMKIT_VM_MORE") else {
        println!("skipped: vm_activate_more_types_like_lvm2: runs inside the VM harness");
        return;
    };
    let rec =
        |n: &str| std::fs::read_to_string(format!("{dir}/{n}")).unwrap_or_else(|e| panic!("{dir}/{n}: {e}"));
    let lvm2 = (rec("lvm2.table"), rec("lvm2.info"));
    // Each kind is in lvm2's record (the scenario built what it should).
    for k in MORE_KINDS.iter().map(|k| k.1).chain(["sparse snapshot (--virtualsize)"]) {
        assert!(lvm2.0.lines().any(|l| kind(l) == k), "no {k} device in lvm2's record:\n{}", lvm2.0);
    }
    for t in [
        " raid raid0 ",
        " raid raid4 ",
        " raid raid5_n ",
        " raid raid6_n_6 ",
        " mirror disk ",
        " snapshot-merge ",
        " zero",
        " error",
        " passthrough ",
        " writethrough ",
        "vgx-pvmove0: ",
        " mirror core ",
        " write_mostly ",
        " max_write_behind ",
        " error_if_no_space",
    ] {
        assert!(lvm2.0.contains(t), "no {t:?} in lvm2's record");
    }
    assert!(lvm2.0.lines().all(|l| kind(l) != "other"), "unclassified devices:\n{}", lvm2.0);
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let d = disks();
    assert!(d.len() >= 13, "vgx needs disks 9-13, the guest has {d:?}");
    let src = Source::load(&d[8..13].iter().map(PathBuf::from).collect::<Vec<_>>(), false);
    let opts = ApplyOptions::default();
    let out = activate(&src, &args(&["vgx"]), &PlanOptions::default(), &opts).unwrap().to_string();
    let devices =
        lvm2.0.lines().map(|l| l.split(':').next().unwrap_or("")).collect::<std::collections::BTreeSet<_>>();
    println!("{out}");
    let ours_ra = dm_read_ahead();
    assert_like_lvm2(&lvm2, "vgx: our activation");
    assert_eq!(out.lines().filter(|l| l.starts_with("created ")).count(), devices.len(), "{out}");
    let differs = read_ahead_differences(&rec("lvm2.ra"), &ours_ra);
    assert!(differs.is_empty(), "vgx: read-ahead (sectors) differs from lvm2's:\n{differs}");
    // lvm2 recognises our devices as its own: it takes them down.
    sh("lvm vgchange -q -an vgx");
    assert!(dm_empty(), "lvm2 did not take our vgx devices down: {}", sh("dmsetup ls"));
}

/// The lines of lvm2's read-ahead record ours differ from (`- lvm2` / `+ ours`), empty when equal.
fn read_ahead_differences(lvm2: &str, ours: &str) -> String {
    lvm2.lines()
        .filter(|l| !ours.lines().any(|o| o == *l))
        .map(|l| {
            let name = l.split(' ').next().unwrap_or("");
            let mine = ours.lines().find(|o| o.split(' ').next() == Some(name)).unwrap_or("(none)");
            format!("  - lvm2: {l}\n  + ours: {mine}\n")
        })
        .collect()
}

/// lvm2's read-ahead (`blockdev --getra`, sectors) on every device of the VG is what ours get.
/// lvm2 sets it on the devices it loads (`lv_read_ahead` "auto"; measured here: raid5 with 3
/// images of 64 KiB stripes 768, raid6 with 5 images 1280), where the kernel alone gives 2 ×
/// the optimal I/O size (512, 768).
#[test]
fn vm_read_ahead_like_lvm2() {
    let Ok(ra_file) = std::env::var("LVMKIT_VM_LVM2_RA") else {
        println!("skipped: vm_read_ahead_like_lvm2: runs inside the VM harness");
        return;
    };
    let lvm2 = std::fs::read_to_string(ra_file).unwrap();
    assert!(lvm2.lines().any(|l| l.starts_with("vgk-r6 ")), "no lvm2 read-ahead record: {lvm2}");
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let src = load();
    let opts = ApplyOptions::default();
    activate(&src, &args(&[VG]), &PlanOptions::default(), &opts).unwrap();
    let ours = dm_read_ahead();
    deactivate(&src, &args(&[VG]), &opts).unwrap();
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    let differs: Vec<String> = lvm2
        .lines()
        .filter(|l| !ours.lines().any(|o| o == *l))
        .map(|l| {
            let name = l.split(' ').next().unwrap_or("");
            let mine = ours.lines().find(|o| o.split(' ').next() == Some(name)).unwrap_or("(none)");
            format!("  - lvm2: {l}\n  + ours: {mine}")
        })
        .collect();
    println!(
        "read-ahead: {} of {} devices as lvm2's",
        lvm2.lines().count() - differs.len(),
        lvm2.lines().count()
    );
    assert!(differs.is_empty(), "read-ahead (sectors) differs from lvm2's:\n{}", differs.join("\n"));
}

/// The planner's refusal for a missing PV, as the error says it.
fn refused_missing(r: Result<Activation, ActivateError>, what: &str) -> String {
    match r {
        Err(ActivateError::Plan { source, .. })
            if matches!(*source, lvmkit_activation::Error::MissingPv(_)) =>
        {
            let msg = source.to_string();
            println!("{what}: refused: {msg}");
            msg
        }
        other => panic!("{what}: expected a missing-PV refusal, got {other:?}"),
    }
}

const VGM: &str = "vgm";

#[test]
fn vm_activate_missing_pv_like_lvm2() {
    let Ok(dir) = std::env::var("LVMKIT_VM_MISSING") else {
        println!("skipped: vm_activate_missing_pv_like_lvm2: runs inside the VM harness");
        return;
    };
    let rec =
        |n: &str| std::fs::read_to_string(format!("{dir}/{n}")).unwrap_or_else(|e| panic!("{dir}/{n}: {e}"));
    let state = |n: &str| (rec(&format!("{n}.table")), rec(&format!("{n}.info")));
    let (partial, degraded, degraded_r1) = (state("partial"), state("degraded"), state("degraded-r1"));
    let pv_uuid = rec("pv.uuid").trim().to_string();
    let seqno: u64 = rec("seqno").trim().parse().expect("seqno record");
    let data = std::fs::read(format!("{dir}/data")).unwrap();
    assert_eq!(data.len(), 1 << 20);

    // lvm2's answers, which the comparisons below stand on. Partial: an error device per
    // missing area (a whole linear LV, a segment, a stripe, raid images and their metadata).
    for l in [
        "vgm-lin-missing_0_0: 0 8192 error",
        "vgm-span-missing_1_0: 0 8192 error",
        "vgm-str-missing_0_1: 0 16384 error",
        "vgm-r1_rimage_1-missing_0_0: 0 16384 error",
        "vgm-r5_rmeta_1-missing_0_0: 0 2048 error",
    ] {
        assert!(partial.0.lines().any(|x| x.trim_end() == l), "lvm2's partial activation has no {l:?}");
    }
    // Degraded (lvm2's default mode): the VG's raid LVs and the LV untouched by the loss come
    // up, the others are refused and vgchange exits 5; an LV on the missing PV alone: refused.
    let tops = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .lines()
            .filter_map(|l| l.split(':').next())
            .filter(|n| !n.contains('_') && !n.contains("-missing"))
            .map(str::to_string)
            .collect();
        v.dedup();
        v
    };
    assert_eq!(tops(&degraded.0), ["vgm-keep", "vgm-r1", "vgm-r5"], "lvm2's degraded vgchange");
    assert_eq!(rec("degraded.rc").trim(), "5", "lvm2's degraded vgchange exit status");
    assert_eq!(tops(&degraded_r1.0), ["vgm-r1"], "lvm2's degraded lvchange of vgm/r1");
    assert_eq!(rec("degraded-lin.rc").trim(), "5", "lvm2's degraded lvchange of vgm/lin");
    assert_eq!(rec("degraded-lin.left").trim(), "No devices found", "lvm2 refused vgm/lin but left devices");
    assert!(dm_empty(), "lvm2's devices should be down before we start");

    let started = Instant::now();
    let d = disks();
    assert!(d.len() >= 8, "vgm is on disks 6-8, the guest has {d:?}");
    let pvs = [d[5].as_str(), d[6].as_str(), d[7].as_str()];
    let src = Source::load(&pvs.map(PathBuf::from), false);
    let vg = src.assembly.vg(VGM).expect("vgm assembles from the PVs left");
    assert_eq!(vg.pv_devices.iter().map(Option::is_some).collect::<Vec<_>>(), [true, false, true]);
    let model = &vg.metadata.vg;
    assert_eq!(model.seqno, seqno, "the VG's seqno as lvm2 left it");
    assert_eq!(model.pvs[1].id.to_string(), pv_uuid, "the missing PV is the zeroed disk's");
    // Everything up to the first PE of every disk (labels, metadata areas; the zeroed disk's
    // old place), to prove activation writes no metadata.
    let mda_end = model.pvs.iter().map(|p| p.pe_start).max().unwrap() * 512;
    let metadata_bytes = || pvs.map(|p| checksum(&read_disk_at(p, 0, mda_end as usize)));
    let before = metadata_bytes();
    let opts = ApplyOptions::default();
    let mode = |mode| PlanOptions { mode, ..PlanOptions::default() };
    let complete = PlanOptions::default();
    assert_eq!(complete.mode, ActivationMode::Complete, "our default");
    let read_lv = |lv: &str, off: u64, len: usize| read_at(&format!("/dev/{VGM}/{lv}"), off, len);

    // 1. Default (complete): its partial LVs are refused, naming the LV and the missing PV;
    //    nothing is created. An LV off the missing PV comes up as lvm2's; so does the whole VG,
    //    with the others refused (lvm2's vgchange: exit 5).
    for target in ["vgm/lin", "vgm/r1", "vgm/span"] {
        let msg = refused_missing(
            activate(&src, &args(&[target]), &complete, &opts),
            &format!("{target} (complete)"),
        );
        assert!(msg.contains(&format!("needs missing PV pv1 ({pv_uuid})")), "{msg}");
        if let Some(lv) = target.strip_prefix("vgm/") {
            assert!(msg.contains(&format!("(activating {lv})")), "{msg}");
        }
        assert!(dm_empty(), "{target}: refused but created {}", sh("dmsetup ls"));
    }
    let refused_lvs = |r: Result<Activation, ActivateError>, what: &str| match r {
        Ok(done) if !done.complete() => {
            println!("{what}: activated:\n{done}refused: {:?}", done.refused);
            for r in &done.refused {
                let why = r.why.to_string();
                assert!(why.contains(&format!("needs missing PV pv1 ({pv_uuid})")), "{why}");
            }
            done.refused.into_iter().map(|r| r.lv).collect::<Vec<_>>()
        }
        other => panic!("{what}: expected some LVs refused, got {other:?}"),
    };
    let refused = refused_lvs(activate(&src, &args(&[VGM]), &complete, &opts), "vgm (complete)");
    assert_eq!(refused, ["lin", "span", "str", "r1", "r5"]);
    assert_eq!(
        sh("dmsetup ls").lines().filter(|l| !l.starts_with("vgm-keep")).count(),
        0,
        "{}",
        sh("dmsetup ls")
    );
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    activate(&src, &args(&["vgm/keep"]), &complete, &opts).unwrap();
    let keep_lines =
        |t: &str| t.lines().filter(|l| l.starts_with("vgm-keep:")).map(|l| format!("{l}\n")).collect();
    assert_like_lvm2(&(keep_lines(&degraded.0), keep_lines(&degraded.1)), "complete vgm/keep");
    assert_eq!(read_lv("keep", 0, data.len()), data, "keep's data");
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    assert!(dm_empty());

    // 2. Partial: lvm2's devices, names, uuids, tables; what is left reads back (raid1 from its
    //    remaining leg, raid5 through parity); what was on the missing PV fails with an error.
    let out = activate(&src, &args(&[VGM]), &mode(ActivationMode::Partial), &opts).unwrap().to_string();
    println!("{out}");
    assert_like_lvm2(&partial, "partial");
    for lv in ["keep", "span", "r1", "r5"] {
        let got = read_lv(lv, 0, data.len());
        println!(
            "partial: read 1 MiB of {VGM}/{lv}: fnv {:016x} (lvm2 wrote {:016x})",
            checksum(&got),
            checksum(&data)
        );
        assert!(got == data, "partial {VGM}/{lv} reads other data than lvm2 wrote");
    }
    for (lv, off) in [("lin", 0), ("span", 4 << 20), ("str", 64 << 10)] {
        let r = try_read_at(&format!("/dev/{VGM}/{lv}"), off, 4096);
        println!("partial: {VGM}/{lv} at {off} on the missing PV: {:?}", r.as_ref().map(|_| "read"));
        assert!(r.is_err(), "{VGM}/{lv} at {off} lies on the missing PV and should fail");
    }
    let (report, ok) =
        status(&src, &args(&[VGM]), &mode(ActivationMode::Partial)).map(|s| (s.to_string(), s.ok())).unwrap();
    println!("status (partial):\n{report}");
    assert!(ok, "partial activation is the partial plan: {report}");
    let removed = deactivate(&src, &args(&[VGM]), &opts).unwrap().to_string();
    assert_eq!(removed.lines().count(), partial.1.lines().count(), "{removed}");
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    assert!(!Path::new("/dev/vgm").exists(), "/dev/vgm left behind");

    // 3. Degraded: the whole VG comes up as lvm2's degraded vgchange (keep, r1, r5; the others
    //    refused); vgm/lin alone is refused as lvm2 did; a raid1 with a missing leg comes up as
    //    lvm2's.
    let dg = mode(ActivationMode::Degraded);
    let refused = refused_lvs(activate(&src, &args(&[VGM]), &dg, &opts), "vgm (degraded)");
    assert_eq!(refused, ["lin", "span", "str"]);
    assert_like_lvm2(&degraded, "degraded vgm");
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    assert!(dm_empty());
    let msg = refused_missing(activate(&src, &args(&["vgm/lin"]), &dg, &opts), "vgm/lin (degraded)");
    assert!(msg.starts_with("LV vgm/lin ") && msg.contains(&format!("({pv_uuid})")), "{msg}");
    assert!(dm_empty(), "refused but created {}", sh("dmsetup ls"));
    activate(&src, &args(&["vgm/r1"]), &dg, &opts).unwrap();
    assert_like_lvm2(&degraded_r1, "degraded vgm/r1");
    assert!(read_lv("r1", 0, data.len()) == data, "degraded r1 reads other data than lvm2 wrote");
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    assert!(dm_empty());
    // What lvm2's degraded vgchange made, named LV by LV.
    activate(&src, &args(&["vgm/keep", "vgm/r1", "vgm/r5"]), &dg, &opts).unwrap();
    assert_like_lvm2(&degraded, "degraded keep, r1, r5");
    let ours =
        [("r1", 2 << 20, pattern(256 << 10, 21)), ("r5", (3 << 20) + (16 << 10), pattern(320 << 10, 22))];
    for (lv, off, d) in &ours {
        write_at(&format!("/dev/{VGM}/{lv}"), *off, d);
        println!(
            "wrote {} bytes at {off} through our degraded {VGM}/{lv}: fnv {:016x}",
            d.len(),
            checksum(d)
        );
    }
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    assert!(dm_empty());
    assert_eq!(metadata_bytes(), before, "our activations changed bytes before the first PE (metadata)");
    let again = Source::load(&pvs.map(PathBuf::from), false);
    assert_eq!(again.assembly.vg(VGM).unwrap().metadata.vg.seqno, seqno, "seqno changed");

    // 4. lvm2's degraded activation reads what ours wrote; ours takes lvm2's down.
    sh("lvm vgchange -q -ay --activationmode degraded vgm || test $? = 5");
    assert_like_lvm2(&degraded, "lvm2's degraded activation again");
    for (lv, off, d) in &ours {
        let got = read_lv(lv, *off, d.len());
        println!(
            "read {} bytes at {off} through lvm2's degraded {VGM}/{lv}: fnv {:016x}",
            got.len(),
            checksum(&got)
        );
        assert!(got == *d, "lvm2's {VGM}/{lv} reads other data than ours wrote");
    }
    deactivate(&src, &args(&[VGM]), &opts).unwrap();
    assert!(dm_empty(), "lvm2's devices left: {}", sh("dmsetup ls"));
    assert!(!Path::new("/dev/vgm").exists(), "lvm2's /dev/vgm links left behind");
    assert_eq!(metadata_bytes(), before, "bytes before the first PE changed after lvm2's activation");
    println!("vm_activate_missing_pv_like_lvm2: {:.2?}", started.elapsed());
}

/// One report's rows as lvm2's JSON holds them (`{"report":[{KEY:[{field: value}]}]}`).
fn json_rows(text: &str, key: &str) -> Vec<BTreeMap<String, String>> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("JSON: {e}\n{text}"));
    v["report"][0][key]
        .as_array()
        .unwrap_or_else(|| panic!("no report.{key} in {text}"))
        .iter()
        .map(|row| {
            row.as_object()
                .expect("a row is an object")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .collect()
}

/// `field: lvm2 … lvmkit …` for every cell that differs (rows in order), plus row-count and
/// field-set differences.
fn json_diff(lvm2: &str, ours: &str, key: &str) -> Vec<String> {
    let (a, b) = (json_rows(lvm2, key), json_rows(ours, key));
    let mut out = Vec::new();
    if a.len() != b.len() {
        out.push(format!("{key}: lvm2 has {} rows, lvmkit {}", a.len(), b.len()));
    }
    for (ra, rb) in a.iter().zip(&b) {
        let row = ra
            .get("lv_name")
            .or_else(|| ra.get("pv_name"))
            .or_else(|| ra.get("vg_name"))
            .cloned()
            .unwrap_or_default();
        for (k, va) in ra {
            match rb.get(k) {
                Some(vb) if vb == va => {}
                Some(vb) => out.push(format!("{key} {row} {k}: lvm2 {va:?}, lvmkit {vb:?}")),
                None => out.push(format!("{key} {row} {k}: lvm2 {va:?}, lvmkit has no such field")),
            }
        }
    }
    out
}

/// lvm2's reports of `vgk` while active (raids in sync but `rf` with a failed leg, `vgk-orig`
/// held open, `vgk-r10` suspended: `$LVMKIT_VM_LIVE`, recorded by the scenario with the state still in place)
/// against lvmkit's from the same kernel state, every field; and the negative control: the
/// no-kernel report differs in the live fields.
#[test]
fn live_report_fields() {
    use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, report, report_with_kernel};
    use lvmkit_activation::live::{Kernel, sysfs_read_ahead};
    let Ok(dir) = std::env::var("LVMKIT_VM_LIVE") else {
        println!("skipped: live_report_fields: not in the guest");
        return;
    };
    let dir = PathBuf::from(dir);
    let dm = lvmkit_dm::control::Dm::open().expect("device-mapper");
    let kernel = Kernel::read(&dm, &sysfs_read_ahead).expect("read device-mapper");
    assert!(kernel.len() > 20, "vgk's devices are not active: {} LVM devices", kernel.len());
    let src = load();
    let pvs: Vec<String> = disks()[..5].to_vec();
    let info = "lv_name,lv_kernel_major,lv_kernel_minor,lv_kernel_read_ahead,lv_permissions,lv_suspended,\
                lv_live_table,lv_inactive_table,lv_device_open";
    // (lvm2's file, report, --segments, names, JSON key, -o).
    type LiveCase<'a> = (&'a str, ReportKind, bool, Vec<String>, &'a str, &'a str);
    let cases: [LiveCase; 5] = [
        ("lvs.json", ReportKind::Lv, false, vec![VG.to_string()], "lv", "all"),
        ("lvs-info.json", ReportKind::Lv, false, vec![VG.to_string()], "lv", info),
        ("lvs-segments.json", ReportKind::Lv, true, vec![VG.to_string()], "seg", "all"),
        ("vgs.json", ReportKind::Vg, false, vec![VG.to_string()], "vg", "all"),
        ("pvs.json", ReportKind::Pv, false, pvs, "pv", "all"),
    ];
    let mut diffs = Vec::new();
    let mut no_kernel_diffs = Vec::new();
    let mut cells = 0;
    for (file, kind, segments, names, key, fields) in cases {
        let lvm2 = std::fs::read_to_string(dir.join(file)).expect("lvm2's report");
        let opts = ReportOptions {
            fields: vec![fields.to_string()],
            all: true,
            segments,
            format: ReportFormat::Json,
            names,
            ..Default::default()
        };
        let ours = report_with_kernel(kind, &opts, &src, Some(&kernel)).expect("lvmkit report");
        cells += json_rows(&lvm2, key).iter().map(BTreeMap::len).sum::<usize>();
        diffs.extend(json_diff(&lvm2, &ours, key));
        let plain = report(kind, &opts, &src).expect("lvmkit report without a kernel");
        no_kernel_diffs.extend(json_diff(&lvm2, &plain, key));
    }
    // The command's own output (its device-mapper read) against lvm2's too.
    for (file, ours, key) in
        [("lvs.json", "lvmkit-lvs.json", "lv"), ("lvs-segments.json", "lvmkit-lvs-segments.json", "seg")]
    {
        let lvm2 = std::fs::read_to_string(dir.join(file)).expect("lvm2's report");
        let ours = std::fs::read_to_string(dir.join(ours)).expect("the lvmkit command's report");
        cells += json_rows(&lvm2, key).iter().map(BTreeMap::len).sum::<usize>();
        diffs.extend(json_diff(&lvm2, &ours, key).into_iter().map(|d| format!("command: {d}")));
    }
    for d in &diffs {
        println!("DIFF {d}");
    }
    // The states the comparison is about are there (else it would prove less than it says).
    let lvs = json_rows(&std::fs::read_to_string(dir.join("lvs.json")).expect("lvm2's lvs"), "lv");
    let row = |name: &str| lvs.iter().find(|r| r["lv_name"] == name).unwrap_or_else(|| panic!("no {name}"));
    assert_eq!(row("rf")["lv_health_status"], "refresh needed", "rf's leg is not failed");
    assert_eq!(row("r10")["lv_suspended"], "suspended");
    assert_eq!(row("orig")["lv_device_open"], "open");
    assert_eq!(row("r1")["sync_percent"], "100.00");
    // lvm2 reads a thin pool's kernel info from `-tpool` with segment status (read-ahead
    // "none") and from the pool's own device without: the info-only report tells them apart.
    let info = json_rows(&std::fs::read_to_string(dir.join("lvs-info.json")).expect("lvm2's lvs"), "lv");
    let pool_ra = info.iter().find(|r| r["lv_name"] == "pool").expect("pool")["lv_kernel_read_ahead"].clone();
    assert_ne!(pool_ra, row("pool")["lv_kernel_read_ahead"], "the info-only read is not exercised");
    assert!(diffs.is_empty(), "{} of {cells} cells differ from lvm2's live report", diffs.len());
    // Negative control: without the kernel's values the comparison must fail, in the fields
    // that need it.
    for field in ["lv_attr", "lv_active", "lv_device_open", "lv_suspended", "sync_percent", "data_percent"] {
        assert!(
            no_kernel_diffs.iter().any(|d| d.contains(&format!(" {field}: "))),
            "the no-kernel report matches lvm2's live {field}: the comparison proves nothing"
        );
    }
    println!(
        "live report fields: {cells} cells equal to lvm2's; {} differ without the kernel",
        no_kernel_diffs.len()
    );
}
