//! Tests in a real kernel with SMP and the real block layer: Debian's linux-image-amd64 under
//! qemu (TCG, `-smp 2`, images as virtio disks), driven by `tests/vm/run-qemu.sh` through
//! [`lvmkit_tests::vm`] (skipped without root unless `CI=true`). The same scenarios and static
//! test binaries as under user-mode-linux (`tests/tests/vm.rs`), batched into one boot
//! (`tests/vm/scenarios/smp-batch.sh`): TCG boots in 7–15 s and runs guest code several times
//! slower than UML.

use std::path::Path;
use std::time::Instant;

use lvmkit_tests::vm::{
    assert_guest_tests, build_static_lvmkit, build_static_test, qemu_available, run_qemu, run_qemu_multipath,
    scenario_with_env, sparse_image,
};

/// The sections of a batch's output: `=== NAME` opens one, `=== NAME: status N` closes it.
fn parts(output: &str) -> Vec<(String, i32, String)> {
    let mut done = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(head) = line.strip_prefix("=== ") {
            if let Some((name, st)) = head.rsplit_once(": status ") {
                let Some((n, text)) = open.take() else { panic!("status of {name} without its part") };
                assert_eq!(n, name, "parts interleaved");
                done.push((n, st.parse().expect("numeric status"), text));
                continue;
            }
            if open.is_none() {
                open = Some((head.to_string(), String::new()));
                continue;
            }
        }
        if let Some((_, text)) = open.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    done
}

#[test]
fn vm_qemu_smp_dm_batch() {
    if !qemu_available("vm_qemu_smp_dm_batch") {
        return;
    }
    let ioctl = build_static_test("lvmkit-dm", "vm_ioctl");
    let activate = build_static_test("lvmkit", "vm_activate");
    let refresh = build_static_test("lvmkit", "vm_refresh");
    let kit = build_static_test("lvmkit", "vm_kit");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    // The eighth holds the kit matrix's 30 partitions of 32 MiB.
    let images: Vec<_> = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .map(|n| sparse_image(tmp.path(), &format!("{n}.img"), if *n == "h" { 964 << 20 } else { 64 << 20 }))
        .collect();
    let refs: Vec<&Path> = images.iter().map(|p| p.as_path()).collect();
    // One boot: SMP facts, then the smoke scenario, the dm ioctl tests and the lvm2-compared
    // activation, each on its own disks (see the scenario).
    let batch = scenario_with_env(
        tmp.path(),
        "smp-batch.sh",
        &[
            ("LVMKIT_VM_IOCTL_TEST", &ioctl),
            ("LVMKIT_VM_ACTIVATE_TEST", &activate),
            ("LVMKIT_VM_REFRESH_TEST", &refresh),
            ("LVMKIT_VM_KIT_TEST", &kit),
            ("LVMKIT", &lvmkit),
        ],
    );

    let t0 = Instant::now();
    let out = run_qemu(&batch, &refs);
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let guest_time = |key: &str| stdout.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("?").to_string();
    println!(
        "qemu batch: boot {} (guest uptime at the scenario's start), done at {}, run-qemu.sh {:.1} s",
        guest_time("booted: "),
        guest_time("done: "),
        took.as_secs_f64()
    );
    stdout.lines().filter(|l| l.starts_with("part ")).for_each(|l| println!("{l}"));
    assert_eq!(out.status.code(), Some(7), "the batch's own status did not come back");

    let parts = parts(&stdout);
    let names: Vec<&str> = parts.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["smp", "dm-smoke", "dm-ioctl", "activate", "refresh", "kit"], "not every part ran");
    for (name, st, text) in &parts {
        assert_eq!(*st, 0, "part {name} failed in the guest:\n{text}");
    }
    let text = |name: &str| parts.iter().find(|(n, _, _)| n == name).map(|(_, _, t)| t.as_str()).unwrap();

    // SMP on the Debian kernel; the images are virtio disks, named in $VM_DISKS.
    let smp = text("smp");
    assert!(smp.contains("cpus: 2 online: 0-1"), "not two CPUs online:\n{smp}");
    assert!(
        smp.contains(
            "disks: /dev/vdb /dev/vdc /dev/vdd /dev/vde /dev/vdf /dev/vdg /dev/vdh /dev/vdi /dev/vdj\n"
        ),
        "{smp}"
    );
    // vda (scratch) and the nine images are bound to virtio_blk.
    assert_eq!(smp.lines().filter(|l| l.contains("/virtio_blk/virtio")).count(), 10, "{smp}");

    let smoke = text("dm-smoke");
    assert!(smoke.contains("Driver version:    4."), "no dm driver version in the output");
    assert!(smoke.lines().any(|l| l == "dm-smoke: ok"), "smoke scenario did not finish");
    assert!(smoke.contains("== disk /dev/vdb"), "the smoke scenario did not use vdb");

    assert_guest_tests("dm ioctls (qemu)", text("dm-ioctl"), 3);
    assert_guest_tests("activation (qemu)", text("activate"), 1);
    assert_guest_tests("refresh (qemu)", text("refresh"), 1);
    assert!(text("refresh").contains("static: ok"), "the static lvmkit command did not run");
    // The recovery kit's T1, T5 and T12 with two CPUs and the real block layer.
    assert_guest_tests("kit matrix (qemu)", text("kit"), 3);
}

/// Lines of `text` starting with `prefix`, the prefix cut off, sorted.
fn lines(text: &str, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> =
        text.lines().filter_map(|l| l.strip_prefix(prefix)).map(str::to_string).collect();
    v.sort();
    v
}

/// The PV lists of lvm2 and lvmkit (`MAJ:MIN VG`) in one state of a part: equal, and not empty.
fn same_pvs(what: &str, text: &str) -> Vec<String> {
    let (lvm2, kit) = (lines(text, "lvm2-pvs: "), lines(text, "kit-pvs: "));
    assert!(!lvm2.is_empty(), "{what}: lvm2 listed no PV:\n{text}");
    assert_eq!(kit, lvm2, "{what}: lvmkit's PVs (left) are not lvm2's (right)");
    kit
}

/// lvmkit's tables are lvm2's, line for line (and there are some).
fn same_tables(what: &str, text: &str) -> Vec<String> {
    let (lvm2, kit) = (lines(text, "lvm2-table: "), lines(text, "kit-table: "));
    assert!(!lvm2.is_empty(), "{what}: lvm2 activated nothing:\n{text}");
    assert_eq!(kit, lvm2, "{what}: lvmkit's tables (left) are not lvm2's (right)");
    kit
}

/// Value of the first `key: value` line.
fn value<'t>(text: &'t str, key: &str) -> &'t str {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {key} line in:\n{text}"))
}

#[test]
fn vm_qemu_components() {
    if !qemu_available("vm_qemu_components") {
        return;
    }
    let health = build_static_test("lvmkit-activation", "vm_health");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    let images: Vec<_> = (1..=10).map(|n| sparse_image(tmp.path(), &format!("d{n}.img"), 64 << 20)).collect();
    let lun = sparse_image(tmp.path(), "lun.img", 64 << 20);
    let refs: Vec<&Path> = images.iter().map(|p| p.as_path()).collect();
    let batch = scenario_with_env(
        tmp.path(),
        "components.sh",
        &[("LVMKIT", &lvmkit), ("LVMKIT_VM_HEALTH_TEST", &health)],
    );
    let t0 = Instant::now();
    // lvm2 runs some forty times in this boot: slow under TCG (its steps took 3-10 min each on
    // a loaded 2-core host, 25 min for the whole boot), hence three times the harness's default bound.
    let out = run_qemu_multipath(&batch, &refs, &[&lun], 1800);
    println!("qemu components batch: run-qemu.sh {:.1} s", t0.elapsed().as_secs_f64());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "the batch's own status did not come back");
    let parts = parts(&stdout);
    let names: Vec<&str> = parts.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["multipath", "md", "replica", "whole", "dup"], "not every part ran");
    for (name, st, text) in &parts {
        assert_eq!(*st, 0, "part {name} failed in the guest:\n{text}");
        assert!(!text.contains(": FAILED"), "part {name}:\n{text}");
    }
    let text = |name: &str| parts.iter().find(|(n, _, _)| n == name).map(|(_, _, t)| t.as_str()).unwrap();

    // Multipath: the PV once, on the map; its paths named as such; tables on the map.
    let mp = text("multipath");
    let map = value(mp, "mpath-devno");
    let pvs = same_pvs("multipath", mp);
    assert_eq!(pvs, [format!("{map} vgmp")], "the PV is not on the map alone");
    assert!(lines(mp, "kit-paths-only: ").is_empty(), "a path named with --devices was used:\n{mp}");
    for path in ["/dev/sda", "/dev/sdb"] {
        assert!(
            mp.contains(&format!("check: info: {path}: not used: a path of multipath map dm-")),
            "{path} not reported as a path:\n{mp}"
        );
    }
    let tables = same_tables("multipath", mp);
    assert!(tables.iter().all(|t| t.contains(&format!(" linear {map} "))), "{tables:?}");
    let plan = lines(mp, "plan: ");
    assert!(plan.iter().any(|l| l.contains(&format!(" linear {map} "))), "plan not on the map: {plan:?}");
    let hints = lines(mp, "hints: ");
    assert!(hints.iter().any(|l| l.starts_with("vgmp ") && l.ends_with(" /dev/mapper/mpatha")), "{hints:?}");
    assert!(hints.iter().all(|l| !l.contains("/dev/sd")), "hints name a path: {hints:?}");
    let status = value(mp, "mpath-status");
    assert!(status.contains(" F ") && status.contains(" A "), "no failed and active path: {status}");
    assert!(mp.contains("io-after-fail-path: ok") && mp.contains("status-after-fail-path: ok"), "{mp}");
    assert!(mp.contains("health: failed-path: multipath map dm-"), "{mp}");
    assert_eq!(mp.matches("test result: ok. 1 passed; 0 failed").count(), 2, "{mp}");

    // md: the arrays, never a member — assembled (1.0 members carry the PV label) and stopped.
    let md = text("md");
    let (assembled, stopped) = md.split_once("md-state: stopped").expect("both md states");
    let pvs = same_pvs("md assembled", assembled);
    assert_eq!(pvs, ["9:0 vgmd10", "9:1 vgmd12"], "not on md0 and md1");
    let tables = same_tables("md", assembled);
    assert!(
        tables.iter().any(|t| t.contains(" linear 9:0 "))
            && tables.iter().any(|t| t.contains(" linear 9:1 "))
    );
    let hints = lines(assembled, "hints: ");
    assert!(hints.iter().any(|l| l.starts_with("vgmd10 ") && l.ends_with(" /dev/md0")), "{hints:?}");
    assert!(hints.iter().all(|l| !l.contains("/dev/vd")), "hints name a member: {hints:?}");
    assert_eq!(value(assembled, "md-degraded"), "1");
    assert!(assembled.contains("io-after-fail-leg: ok"), "{assembled}");
    assert!(
        assembled.contains("health: failed-leg: md array md0: degraded, 1 member(s) missing of 2"),
        "{assembled}"
    );
    assert_eq!(assembled.matches("test result: ok. 1 passed; 0 failed").count(), 2, "{assembled}");
    let stopped_pvs = lines(stopped, "kit-pvs: ");
    assert_eq!(stopped_pvs, lines(stopped, "lvm2-pvs: "), "stopped arrays: lvmkit and lvm2 differ");
    assert!(
        stopped_pvs.iter().all(|l| !l.contains("vgmd")),
        "a member of a stopped array is a PV: {stopped_pvs:?}"
    );
    for (dev, version) in [("/dev/vdb", "1.0"), ("/dev/vdc", "1.0"), ("/dev/vdd", "1.2"), ("/dev/vde", "1.2")]
    {
        let line = format!("check: info: {dev}: not used: an md component (md superblock {version} at byte ");
        assert!(stopped.contains(&line), "{dev} not an md component {version}:\n{stopped}");
    }
    assert!(stopped.contains("stopped-refused: ok"), "{stopped}");
    assert!(lines(stopped, "left-md: ").iter().all(|l| !l.contains("vgmd")), "{stopped}");

    replica(text("replica"));

    // A whole disk and a partition in one VG.
    let whole = text("whole");
    let pvs = same_pvs("whole", whole);
    assert_eq!(pvs.iter().filter(|l| l.ends_with(" vgwp")).count(), 2, "{pvs:?}");
    let tables = same_tables("whole", whole);
    assert!(
        tables.iter().any(|t| t.contains(&format!(" linear {} ", value(whole, "whole-devno")))),
        "{tables:?}"
    );
    assert!(
        tables.iter().any(|t| t.contains(&format!(" linear {} ", value(whole, "part-devno")))),
        "{tables:?}"
    );
    assert!(whole.contains("io-whole: ok"), "{whole}");

    // One PV on two unrelated devices: the same choice as lvm2, both refuse to act.
    let dup = text("dup");
    let pvs = same_pvs("dup", dup);
    assert_eq!(pvs.iter().filter(|l| l.ends_with(" vgdup")).count(), 1, "{pvs:?}");
    let lvm2 = lines(dup, "lvm2-activate: ").join("\n");
    assert!(lvm2.contains("while PVs appear on duplicate devices"), "lvm2 did not refuse:\n{dup}");
    let refused = lines(dup, "kit-activate: ").join("\n");
    assert!(
        refused.contains("duplicate devices") && refused.contains("/dev/vdh") && refused.contains("/dev/vdi"),
        "lvmkit did not refuse naming both devices: {refused}"
    );
    let write = lines(dup, "kit-write: ").join("\n");
    assert!(write.contains("duplicate PV devices") && write.contains("/dev/vdi"), "{write}");
    assert!(lines(dup, "left-dup: ").iter().all(|l| !l.contains("vgdup")), "{dup}");
}

/// `KEY: status N` of the part's kit command `KEY`, and its stdout and stderr lines.
fn kit_run(text: &str, key: &str) -> (i32, String, String) {
    let st = value(text, key)
        .strip_prefix("status ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key}: no status in:\n{text}"));
    let out = lines_in_order(text, &format!("{key}-out: ")).join("\n");
    let err = lines_in_order(text, &format!("{key}-err: ")).join("\n");
    (st, out, err)
}

fn lines_in_order<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.lines().filter_map(|l| l.strip_prefix(prefix)).collect()
}

/// The replicated case (scenario part `replica`): RAID1 md2 of the "local" disk vdj and the
/// replica vdk under VG vgrep; the kit's hierarchy on servers nodeA and nodeB.
fn replica(rep: &str) {
    let md_a = value(rep, "replica-devno-a");
    let md_b = value(rep, "replica-devno-b");
    assert_ne!(md_a, md_b, "B's array is a new md device");
    assert!(md_a.starts_with("9:") && md_b.starts_with("9:"), "{md_a} {md_b}");
    assert_eq!(value(rep, "a-systemid"), "nodeA");
    for key in ["create", "canextend", "extend-b", "extend-a", "restore-a"] {
        let (st, out, err) = kit_run(rep, key);
        assert_eq!(st, 0, "{key}: {out}\n{err}");
    }
    // The kit records the array as the PV's device and disk, its members under it.
    let show = lines_in_order(rep, "a-show: ").join("\n");
    assert!(show.contains("/dev/md2 ") && show.contains("(disk /dev/md2 over /dev/vdj, /dev/vdk)"), "{show}");
    let tree = lines_in_order(rep, "a-tree: ").join("\n");
    assert!(
        tree.contains("── /dev/md2\n") && tree.contains("── /dev/vdj\n") && tree.contains("── /dev/vdk"),
        "{tree}"
    );
    // A's restore: lvm2's tables (as A), on md2.
    let (a_lvm2, a_kit) = (lines(rep, "a-lvm2-table: "), lines(rep, "a-kit-table: "));
    assert_eq!(a_lvm2.len(), 2, "{rep}");
    assert_eq!(a_kit, a_lvm2, "A: lvmkit's tables (left) are not lvm2's (right)");
    assert!(a_kit.iter().all(|t| t.contains(&format!(" linear {md_a} "))), "{a_kit:?}");
    // Healthy, then the replica's leg fails: degraded (3) with the array named, I/O goes on;
    // level 0 reads no health; resynced: healthy again.
    let (st, out, err) = kit_run(rep, "qc10-healthy");
    assert_eq!(st, 0, "{out}\n{err}");
    assert_eq!(value(rep, "rep-degraded"), "1");
    assert!(rep.contains("rep-io-after-fail-leg: ok"), "{rep}");
    let (st, out, err) = kit_run(rep, "qc10-degraded");
    assert_eq!(st, 3, "quickCheck 10 of a degraded array:\n{out}\n{err}");
    assert!(out.contains("(/dev/md2): md array md2: degraded, 1 member(s) missing of 2"), "{out}");
    assert!(err.contains("ERROR 110014: lvmvg-vgrep is in service but degraded"), "{err}");
    assert_eq!(kit_run(rep, "qc0-degraded").0, 0, "level 0 reads no health");
    assert!(value(rep, "rep-resynced").starts_with("0 "), "the leg did not rejoin");
    let (st, out, err) = kit_run(rep, "qc10-resynced");
    assert_eq!(st, 0, "{out}\n{err}");

    // A crashed, its array stopped: the members are md components; nothing comes up from one.
    let (_, rest) = rep.split_once("replica-state: stopped").expect("the stopped state");
    let (stopped, on_b) = rest.split_once("replica-state: B").expect("B's state");
    let vgrep =
        |t: &str, p: &str| lines(t, p).into_iter().filter(|l| l.ends_with(" vgrep")).collect::<Vec<_>>();
    assert!(vgrep(stopped, "kit-pvs: ").is_empty() && vgrep(stopped, "lvm2-pvs: ").is_empty(), "{stopped}");
    for dev in ["/dev/vdj", "/dev/vdk"] {
        let line = format!("check: info: {dev}: not used: an md component (md superblock 1.0 at byte ");
        assert!(stopped.contains(&line), "{dev} not an md component:\n{stopped}");
    }
    let (st, out, err) = kit_run(stopped, "stopped-restore");
    assert_eq!(st, 6, "B restored with the array stopped:\n{out}\n{err}");
    assert!(err.contains("ERROR 110000"), "{err}");
    assert_eq!(kit_run(stopped, "stopped-qc").0, 7);
    assert!(lines(stopped, "left-stopped: ").iter().all(|l| !l.contains("vgrep")), "{stopped}");

    // B's own array from its leg: B takes the VG over from its peer A, tables on B's array
    // (lvm2's, as B), A's marker read; B's array runs on one leg: degraded.
    assert_eq!(value(on_b, "b-degraded"), "1");
    let (st, out, err) = kit_run(on_b, "takeover");
    assert_eq!(st, 0, "B's takeover:\n{out}\n{err}");
    assert!(out.contains("from system ID nodeA"), "the previous owner is not logged:\n{out}");
    assert_eq!(value(on_b, "b-systemid"), "nodeB");
    let (b_kit, b_lvm2) = (lines(on_b, "b-kit-table: "), lines(on_b, "b-lvm2-table: "));
    assert_eq!(b_lvm2.len(), 2, "{on_b}");
    assert_eq!(b_kit, b_lvm2, "B: lvmkit's tables (left) are not lvm2's (right)");
    assert!(b_kit.iter().all(|t| t.contains(&format!(" linear {md_b} "))), "{b_kit:?}");
    assert!(on_b.contains("marker-on-b: ok"), "{on_b}");
    let (st, out, _) = kit_run(on_b, "qc10-b");
    assert_eq!(st, 3, "{out}");
    assert!(out.contains("md array md3: degraded, 1 member(s) missing of 2"), "{out}");
    // Same device chosen by both tools: the PV on B's array.
    assert_eq!(vgrep(on_b, "kit-pvs: "), [format!("{md_b} vgrep")], "{on_b}");
    assert_eq!(vgrep(on_b, "kit-pvs: "), vgrep(on_b, "lvm2-pvs: "));
    let show = lines_in_order(on_b, "b-show: ").join("\n");
    assert!(
        show.contains(&format!("{} ", "/dev/md3")) && show.contains("over /dev/vdk)"),
        "B records its array: {show}"
    );
    // A (back from the dead, same kernel here): its recorded PV device is gone with its array,
    // B's devices under the VG's uuid are not A's plan. Not healthy, and no scan of every
    // device to find the metadata elsewhere.
    let (st, out, _) = kit_run(on_b, "qc-a-after");
    assert_eq!(st, 1, "{out}");
    assert!(out.contains("(/dev/md2): cannot be read") && out.contains("metadata not re-read"), "{out}");
    assert_eq!(kit_run(on_b, "remove-b").0, 0);
    assert!(lines(on_b, "left-replica: ").iter().all(|l| !l.contains("vgrep")), "{on_b}");
}
