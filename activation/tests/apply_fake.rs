//! `apply::activate`, `refresh` and `deactivate` against the in-memory device-mapper
//! (`lvmkit_dm::fake`: live and inactive tables, suspension, open counts and a log of every
//! call, with failures injectable at any call): which ioctls run, in which order, and what a
//! failure leaves behind. (The real kernel runs the same code in the VM tests.)

use lvmkit_activation::apply::{self, ApplyError, ApplyOptions, Outcome};
use lvmkit_activation::{Plan, PlanOptions, plan};
use lvmkit_dm::control::{CreateOptions, DmControl};
use lvmkit_dm::fake::FakeDm;
use lvmkit_dm::{DevId, DevNum, DevRef, DmName, DmUuid};
use lvmkit_metadata::import::parse_metadata;

/// test-images/raid's VG text (raid1 `r1`, raid5 `r5`, raid10 `r10`, linear `lin`…).
fn raid_text() -> String {
    std::fs::read_to_string(lvmkit_tests::repo_root().join("test-images/raid/vgcfgbackup.vg"))
        .expect("raid case backup file")
}

/// `text` with the first segment of each LV in `edits` given a new extent count.
fn resized(mut text: String, edits: &[(&str, u64)]) -> String {
    for (lv, count) in edits {
        let at = lv_block(&text, lv).start;
        let ec = at + text[at..].find("extent_count = ").unwrap() + "extent_count = ".len();
        let end = ec + text[ec..].find(|c: char| !c.is_ascii_digit()).unwrap();
        text.replace_range(ec..end, &count.to_string());
    }
    text
}

/// Where LV `lv`'s block is in the text (`\t\tNAME {` to its closing `\t\t}` line).
fn lv_block(text: &str, lv: &str) -> std::ops::Range<usize> {
    let at = text.find(&format!("\t\t{lv} {{\n")).unwrap_or_else(|| panic!("no LV {lv}"));
    let end = at + text[at..].find("\n\t\t}\n").unwrap() + "\n\t\t}\n".len();
    at..end
}

fn vg_of(text: &str) -> lvmkit_metadata::model::VolumeGroup {
    parse_metadata(text.as_bytes()).expect("parse").vg
}

fn raid_vg(edits: &[(&str, u64)]) -> lvmkit_metadata::model::VolumeGroup {
    vg_of(&resized(raid_text(), edits))
}

fn plan_of(vg: &lvmkit_metadata::model::VolumeGroup, lvs: &[&str]) -> Plan {
    let pvs: Vec<Option<DevRef>> =
        (0..vg.pvs.len()).map(|j| Some(DevRef::Num(DevNum::new(7, j as u32)))).collect();
    let opts = PlanOptions { lvs: Some(lvs.iter().map(|s| s.to_string()).collect()), ..Default::default() };
    plan(vg, &pvs, &opts).expect("plannable")
}

/// No device nodes: the fake has no /dev.
fn opts() -> ApplyOptions {
    ApplyOptions { make_nodes: false, jobs: 1, ..Default::default() }
}

#[test]
fn a_new_device_costs_create_load_resume_after_one_list() {
    let dm = FakeDm::default();
    let p = plan_of(&raid_vg(&[]), &["r1"]);
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    assert!(a.devices.iter().all(|(_, _, o)| *o == Outcome::Created));
    let log = dm.log();
    assert_eq!(log[0], "list");
    assert_eq!(log.len(), 1 + 3 * p.devices.len(), "{log:#?}");
    for (i, d) in p.devices.iter().enumerate() {
        assert_eq!(
            log[1 + 3 * i..4 + 3 * i],
            [format!("create {}", d.name), format!("load {}", d.name), format!("resume {}", d.name)]
        );
    }
    // Again: nothing changes, only lookups.
    dm.clear_log();
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    assert!(a.devices.iter().all(|(_, _, o)| *o == Outcome::Unchanged));
    assert!(dm.log().iter().all(|l| l == "list" || l.starts_with("lookup ")));
}

#[test]
fn a_resized_stack_is_loaded_first_then_suspended_top_down_and_resumed_bottom_up() {
    let dm = FakeDm::default();
    apply::activate(&dm, &plan_of(&raid_vg(&[]), &["r1", "r10"]), &opts()).unwrap();
    let before_meta = dm.live_table("lk_raid-r1_rmeta_0");
    // Another node shrank r1 from 4 to 2 extents: both images and the raid device change.
    let vg = raid_vg(&[("r1", 2), ("r1_rimage_0", 2), ("r1_rimage_1", 2)]);
    let p = plan_of(&vg, &["r1", "r10"]);
    dm.clear_log();
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    let reloaded: Vec<&str> =
        a.devices.iter().filter(|(_, _, o)| *o == Outcome::Reloaded).map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(reloaded, ["lk_raid-r1_rimage_0", "lk_raid-r1_rimage_1", "lk_raid-r1"]);
    let changes: Vec<String> = dm
        .log()
        .into_iter()
        .filter(|l| ["load", "suspend", "resume"].iter().any(|w| l.starts_with(w)))
        .collect();
    assert_eq!(
        changes,
        [
            "load lk_raid-r1_rimage_0",
            "load lk_raid-r1_rimage_1",
            "load lk_raid-r1",
            "suspend lk_raid-r1",
            "suspend lk_raid-r1_rimage_1",
            "suspend lk_raid-r1_rimage_0",
            "resume lk_raid-r1_rimage_0",
            "resume lk_raid-r1_rimage_1",
            "resume lk_raid-r1",
        ]
    );
    assert_eq!(dm.live_table("lk_raid-r1_rmeta_0"), before_meta);
    assert!(dm.live_table("lk_raid-r1").starts_with("0 4096 raid raid1 "), "{}", dm.live_table("lk_raid-r1"));
    assert!(!dm.dev("lk_raid-r1").suspended && dm.dev("lk_raid-r1").inactive.is_none());
}

#[test]
fn a_failed_load_into_a_live_stack_clears_what_was_loaded_and_removes_what_was_created() {
    let dm = FakeDm::default();
    apply::activate(&dm, &plan_of(&raid_vg(&[]), &["r1"]), &opts()).unwrap();
    let before: Vec<(String, String)> =
        dm.names().into_iter().map(|n| (n.clone(), dm.live_table(&n))).collect();
    let vg = raid_vg(&[("r1", 2), ("r1_rimage_0", 2), ("r1_rimage_1", 2)]);
    // r1's images and r1 get new tables (loaded, inactive); r5 is new: its sub-devices are
    // created, then the load of its top device fails.
    let p = plan_of(&vg, &["r1", "r5"]);
    dm.fail_on("load lk_raid-r5");
    let e = apply::activate(&dm, &p, &opts()).unwrap_err();
    let ApplyError::Dm { device, rolled_back, rollback_failures, .. } = &e else { panic!("{e}") };
    assert_eq!(device, "lk_raid-r5");
    assert!(dm.log().contains(&"load lk_raid-r1".to_string()), "r1 was loaded before the failure");
    assert!(rollback_failures.is_empty(), "{rollback_failures:?}");
    assert_eq!(rolled_back.len(), 7, "r5's 6 sub-devices and its top: {rolled_back:?}");
    assert!(rolled_back.iter().all(|n| n.starts_with("lk_raid-r5")), "{rolled_back:?}");
    let after: Vec<(String, String)> =
        dm.names().into_iter().map(|n| (n.clone(), dm.live_table(&n))).collect();
    assert_eq!(after, before, "the live stack is as before");
    for n in dm.names() {
        let d = dm.dev(&n);
        assert!(d.inactive.is_none() && !d.suspended, "{n} left loaded or suspended");
    }
}

#[test]
fn a_failed_suspend_resumes_the_old_tables() {
    let dm = FakeDm::default();
    apply::activate(&dm, &plan_of(&raid_vg(&[]), &["r1"]), &opts()).unwrap();
    let before: Vec<(String, String)> =
        dm.names().into_iter().map(|n| (n.clone(), dm.live_table(&n))).collect();
    let p = plan_of(&raid_vg(&[("r1", 2), ("r1_rimage_0", 2), ("r1_rimage_1", 2)]), &["r1"]);
    // r1 and r1_rimage_1 are suspended by then.
    dm.fail_on("suspend lk_raid-r1_rimage_0");
    apply::activate(&dm, &p, &opts()).unwrap_err();
    let after: Vec<(String, String)> =
        dm.names().into_iter().map(|n| (n.clone(), dm.live_table(&n))).collect();
    assert_eq!(after, before);
    for n in dm.names() {
        let d = dm.dev(&n);
        assert!(d.inactive.is_none() && !d.suspended, "{n} left loaded or suspended");
    }
}

#[test]
fn an_interrupted_activation_is_completed() {
    let dm = FakeDm::default();
    let p = plan_of(&raid_vg(&[]), &["r1"]);
    // A failure at the very last step: everything this run made is removed again.
    let top = p.devices.last().unwrap().name.to_string();
    dm.fail_on(&format!("resume {top}"));
    apply::activate(&dm, &p, &opts()).unwrap_err();
    assert!(dm.names().is_empty(), "rolled back: {:?}", dm.names());
    // A crash (no rollback) leaves a created, loaded, not resumed top device and a suspended
    // image: the next run finishes both.
    apply::activate(&dm, &p, &opts()).unwrap();
    dm.state().devs.get_mut("lk_raid-r1_rimage_0").unwrap().suspended = true;
    {
        let mut s = dm.state();
        let d = s.devs.get_mut(&top).unwrap();
        d.inactive = d.live.take().map(|t| (t, false));
        d.suspended = true;
    }
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    let outcome = |n: &str| a.devices.iter().find(|(d, _, _)| d == n).unwrap().2;
    assert_eq!(outcome("lk_raid-r1_rimage_0"), Outcome::Resumed);
    assert_eq!(outcome(&top), Outcome::Created);
    assert!(dm.names().iter().all(|n| !dm.dev(n).suspended && dm.dev(n).live.is_some()));
}

#[test]
fn refresh_removes_layers_the_new_metadata_dropped_and_reports_unknown_lvs() {
    let dm = FakeDm::default();
    let text = raid_text();
    let vg = vg_of(&text);
    apply::activate(&dm, &plan_of(&vg, &["r1", "r10"]), &opts()).unwrap();
    // An LV that is not in the metadata any more, still mounted here.
    let gone = DmName::new("lk_raid-gone").unwrap();
    let stray_uuid = format!("LVM-{}{}", vg.id.as_str(), "x".repeat(32));
    dm.create(&gone, Some(&DmUuid::new(stray_uuid).unwrap()), &Default::default()).unwrap();
    dm.table_load(&DevId::Name(gone.clone()), &"0 8 zero".parse().unwrap(), false).unwrap();
    dm.resume(&DevId::Name(gone.clone()), 0).unwrap();
    dm.hold("lk_raid-gone", 1);

    // Another node converted r1 to a linear LV (lvconvert -m0): its images and metadata
    // sub-LVs are gone from the metadata.
    let mut new_text = text.clone();
    for sub in ["r1_rimage_0", "r1_rmeta_0", "r1_rimage_1", "r1_rmeta_1"] {
        let r = lv_block(&new_text, sub);
        new_text.replace_range(r, "");
    }
    let r1 = lv_block(&new_text, "r1");
    let block = new_text[r1.clone()].to_string();
    let seg = block.find("\t\t\tsegment1 {").unwrap();
    let linear = "\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = 4\n\n\
                  \t\t\t\ttype = \"striped\"\n\t\t\t\tstripe_count = 1\n\n\
                  \t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", 1\n\t\t\t\t]\n\t\t\t}\n\t\t}\n";
    new_text.replace_range(r1.start + seg..r1.end, linear);
    let vg2 = vg_of(&new_text);
    let p = plan_of(&vg2, &["r1", "r10"]);
    assert_eq!(p.devices.iter().filter(|d| d.lv == "r1").count(), 1);
    let all = plan_of(
        &vg2,
        &vg2.lvs.iter().filter(|l| l.is_visible()).map(|l| l.name.as_str()).collect::<Vec<_>>(),
    );
    let known: Vec<String> = all.devices.iter().map(|d| d.uuid.to_string()).collect();
    let prefix = format!("LVM-{}", vg.id.as_str());
    dm.clear_log();
    let r = apply::refresh(&dm, &p, |u| known.iter().any(|k| k == u), &prefix, &opts()).unwrap();
    // One list before (the activation observes from it), one for removing the layers dropped.
    assert_eq!(dm.log().iter().filter(|l| *l == "list").count(), 2, "{:#?}", dm.log());

    let mut removed = r.removed.clone();
    removed.sort();
    assert_eq!(
        removed,
        ["lk_raid-r1_rimage_0", "lk_raid-r1_rimage_1", "lk_raid-r1_rmeta_0", "lk_raid-r1_rmeta_1"]
    );
    assert_eq!(r.left, [("lk_raid-gone".to_string(), 1)]);
    assert!(dm.names().contains(&"lk_raid-gone".to_string()), "an unknown, open LV is never removed");
    let outcome = |n: &str| r.activated.devices.iter().find(|(d, _, _)| d == n).unwrap().2;
    assert_eq!(outcome("lk_raid-r1"), Outcome::Reloaded);
    assert_eq!(outcome("lk_raid-r10"), Outcome::Unchanged);
    assert!(dm.live_table("lk_raid-r1").starts_with("0 8192 linear 7:0 "), "{}", dm.live_table("lk_raid-r1"));
    let r1_left: Vec<String> = dm.names().into_iter().filter(|n| n.starts_with("lk_raid-r1_")).collect();
    assert!(r1_left.is_empty(), "{r1_left:?}");
}

#[test]
fn a_renamed_lv_keeps_its_device_under_the_new_name_and_a_failure_renames_it_back() {
    let dm = FakeDm::default();
    apply::activate(&dm, &plan_of(&raid_vg(&[]), &["r1"]), &opts()).unwrap();
    let minors: Vec<DevNum> = dm.names().iter().map(|n| dm.dev(n).dev).collect();
    // Another node renamed r1 to r1new (its sub-LVs follow: r1new_rimage_0, …).
    let mut text = raid_text();
    text =
        text.replace("\t\tr1 {", "\t\tr1new {").replace("\t\tr1_", "\t\tr1new_").replace("\"r1_", "\"r1new_");
    let p = plan_of(&vg_of(&text), &["r1new"]);
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    let mut renamed: Vec<String> = a.renamed.iter().map(|(o, n)| format!("{o} {n}")).collect();
    renamed.sort();
    assert_eq!(
        renamed,
        [
            "lk_raid-r1 lk_raid-r1new",
            "lk_raid-r1_rimage_0 lk_raid-r1new_rimage_0",
            "lk_raid-r1_rimage_1 lk_raid-r1new_rimage_1",
            "lk_raid-r1_rmeta_0 lk_raid-r1new_rmeta_0",
            "lk_raid-r1_rmeta_1 lk_raid-r1new_rmeta_1",
        ]
    );
    assert!(a.devices.iter().all(|(_, _, o)| *o == Outcome::Unchanged), "{:?}", a.devices);
    assert_eq!(dm.names().iter().map(|n| dm.dev(n).dev).collect::<Vec<_>>().len(), minors.len());
    assert!(dm.names().iter().all(|n| n.starts_with("lk_raid-r1new")));
    // Back to r1, failing at the top device: every rename is undone.
    let p = plan_of(&raid_vg(&[]), &["r1"]);
    dm.fail_on("rename lk_raid-r1new lk_raid-r1");
    apply::activate(&dm, &p, &opts()).unwrap_err();
    assert!(dm.names().iter().all(|n| n.starts_with("lk_raid-r1new")), "{:?}", dm.names());
}

#[test]
fn a_planned_deactivation_costs_one_remove_per_device_and_still_refuses_open_lvs() {
    let dm = FakeDm::default();
    let vg = raid_vg(&[]);
    let p = plan_of(&vg, &["r1", "r5"]);
    apply::activate(&dm, &p, &opts()).unwrap();
    let prefix = format!("LVM-{}", vg.id.as_str());
    // r5 is open (mounted): it and what it sits on stay, r1 goes; the refusal names r5.
    dm.hold("lk_raid-r5", 1);
    dm.clear_log();
    let e =
        apply::deactivate_planned(&dm, Some(&p), |u| u.starts_with(&prefix), |_| true, &opts()).unwrap_err();
    assert!(matches!(&e, ApplyError::InUse { device, open_count: 1, .. } if device == "lk_raid-r5"), "{e}");
    let left = dm.names();
    assert!(left.iter().all(|n| n.starts_with("lk_raid-r5")) && left.len() == 7, "{left:?}");
    // Not held any more: one list and exactly one remove per device, users first.
    dm.hold("lk_raid-r5", -1);
    dm.clear_log();
    let d = apply::deactivate_planned(&dm, Some(&p), |u| u.starts_with(&prefix), |_| true, &opts()).unwrap();
    assert!(dm.names().is_empty());
    let log = dm.log();
    assert_eq!(log[0], "list");
    assert_eq!(log.len(), 1 + 7, "{log:#?}");
    assert_eq!(d.removed[0], "lk_raid-r5", "the top device first");
}

/// Every LV of a test image's VG, planned.
fn plan_all(image: &str) -> Plan {
    let text = std::fs::read_to_string(
        lvmkit_tests::repo_root().join(format!("test-images/{image}/vgcfgbackup.vg")),
    )
    .expect("test image text");
    let vg = vg_of(&text);
    let pvs: Vec<Option<DevRef>> =
        (0..vg.pvs.len()).map(|j| Some(DevRef::Num(DevNum::new(7, j as u32)))).collect();
    plan(&vg, &pvs, &PlanOptions::default()).expect("plannable")
}

/// Every device of `p` was removed before the devices it uses.
fn users_removed_first(image: &str, p: &Plan, log: &[String]) {
    for u in &p.devices {
        for c in &u.children {
            assert!(
                position(log, &format!("remove {}", u.name)) < position(log, &format!("remove {c}")),
                "{image}: {} before {c}",
                u.name
            );
        }
    }
}

/// A fake with every device of `image`'s plan active, its log cleared; and the VG's uuid
/// prefix `LVM-<vg id>`.
fn active(image: &str, p: &Plan) -> (FakeDm, String) {
    let dm = FakeDm::default();
    apply::activate(&dm, p, &opts()).unwrap_or_else(|e| panic!("{image}: {e}"));
    dm.clear_log();
    (dm, p.devices[0].uuid.as_str()[..4 + 32].to_string())
}

fn position(log: &[String], line: &str) -> usize {
    log.iter().position(|l| l == line).unwrap_or_else(|| panic!("no {line:?} in {log:#?}"))
}

#[test]
fn a_fresh_activation_on_several_threads_ends_as_the_serial_one_with_children_live_first() {
    for image in ["raid", "thin", "snapshot", "cache", "mirror"] {
        let p = plan_all(image);
        let serial = FakeDm::default();
        let one = apply::activate(&serial, &p, &opts()).unwrap();
        let dm = FakeDm::default();
        let many = apply::activate(&dm, &p, &ApplyOptions { jobs: 8, ..opts() }).unwrap();
        // The same devices with the same numbers and tables: creates go first, in the
        // serial run's order.
        assert_eq!(many, one, "{image}");
        for n in serial.names() {
            assert_eq!(dm.live_table(&n), serial.live_table(&n), "{image}: {n}");
            assert!(!dm.dev(&n).suspended, "{image}: {n}");
        }
        let log = dm.log();
        let creates: Vec<&String> = log.iter().filter(|l| l.starts_with("create ")).collect();
        let serial_log = serial.log();
        let serial_creates: Vec<&String> = serial_log.iter().filter(|l| l.starts_with("create ")).collect();
        assert_eq!(creates, serial_creates, "{image}");
        assert!(log[1..=creates.len()].iter().all(|l| l.starts_with("create ")), "{image}: {log:#?}");
        // Each device is loaded only after everything it uses was resumed (the fake refuses
        // such a load, as the kernel does), and a thin pool's messages come before its thin
        // LVs are loaded.
        for d in &p.devices {
            let load = position(&log, &format!("load {}", d.name));
            for c in &d.children {
                assert!(position(&log, &format!("resume {c}")) < load, "{image}: {c} before {}", d.name);
            }
            assert_eq!(log.iter().filter(|l| **l == format!("resume {}", d.name)).count(), 1);
        }
        // A snapshot origin's top device goes live after its snapshots, as in lvm2.
        for d in p.devices.iter().filter(|d| !d.create_early.is_empty()) {
            let at = p.devices.iter().position(|x| x.name == d.name).unwrap();
            for early in &d.create_early {
                let e = p.devices.iter().position(|x| x.name == *early).unwrap();
                for between in &p.devices[at..e] {
                    assert!(
                        position(&log, &format!("resume {}", between.name))
                            < position(&log, &format!("resume {early}")),
                        "{image}: {} before {early}",
                        between.name
                    );
                }
            }
        }
    }
}

#[test]
fn a_failure_on_one_thread_removes_everything_the_parallel_run_created() {
    let p = plan_all("raid");
    let dm = FakeDm::default();
    dm.fail_on("resume lk_raid-r5_rimage_2");
    let e = apply::activate(&dm, &p, &ApplyOptions { jobs: 4, ..opts() }).unwrap_err();
    let ApplyError::Dm { device, rolled_back, rollback_failures, .. } = &e else { panic!("{e}") };
    assert_eq!(device, "lk_raid-r5_rimage_2");
    assert!(rollback_failures.is_empty(), "{rollback_failures:?}");
    assert_eq!(rolled_back.len(), p.devices.len(), "every device was created first: {rolled_back:?}");
    assert!(dm.names().is_empty(), "left behind: {:?}", dm.names());
    // Nothing that uses the failed device was loaded.
    let log = dm.log();
    assert!(!log.contains(&"load lk_raid-r5".to_string()), "{log:#?}");
}

#[test]
fn a_planned_deactivation_on_several_threads_removes_users_before_what_they_use() {
    for image in ["raid", "thin", "snapshot", "cache"] {
        let p = plan_all(image);
        let (dm, prefix) = active(image, &p);
        let d = apply::deactivate_planned(
            &dm,
            Some(&p),
            |u| u.starts_with(&prefix),
            |_| true,
            &ApplyOptions { jobs: 8, ..opts() },
        )
        .unwrap();
        assert!(dm.names().is_empty(), "{image}: left {:?}", dm.names());
        let log = dm.log();
        // One list and one remove per device: none was refused as still in use.
        assert_eq!(log.len(), 1 + p.devices.len(), "{image}: {log:#?}");
        assert_eq!(d.removed.len(), p.devices.len());
        users_removed_first(image, &p, &log);
    }
}

#[test]
fn without_a_plan_a_vg_goes_newest_first_with_one_remove_each() {
    let p = plan_all("raid");
    let (dm, prefix) = active("raid", &p);
    let d = apply::deactivate(&dm, &prefix, &opts()).unwrap();
    assert!(dm.names().is_empty(), "left {:?}", dm.names());
    let log = dm.log();
    assert_eq!(log.len(), 1 + p.devices.len(), "no deps or info asked: {log:#?}");
    let mut newest_first: Vec<String> = p.devices.iter().map(|d| d.name.to_string()).collect();
    newest_first.reverse();
    assert_eq!(d.removed, newest_first);
}

#[test]
fn without_a_plan_a_layer_newer_than_its_user_is_still_taken_down() {
    // r1 made first, its images and metadata after it (as when a layer is inserted under an
    // active LV): newest-first tries a child before its user, which the careful pass mends.
    let p = plan_of(&raid_vg(&[]), &["r1"]);
    let dm = FakeDm::default();
    let top = p.devices.last().unwrap();
    let copts = CreateOptions::default();
    dm.create(&top.name, Some(&top.uuid), &copts).unwrap();
    let mut nums = std::collections::HashMap::new();
    for d in &p.devices {
        let info = if d.name == top.name {
            dm.info(&DevId::Name(d.name.clone())).unwrap().unwrap()
        } else {
            dm.create(&d.name, Some(&d.uuid), &copts).unwrap()
        };
        nums.insert(d.name.to_string(), info.dev);
        let mut t = d.table.clone();
        t.resolve(&mut |l| nums.get(l).copied()).unwrap();
        dm.table_load(&DevId::Name(d.name.clone()), &t, false).unwrap();
        dm.resume(&DevId::Name(d.name.clone()), 0).unwrap();
    }
    let prefix = top.uuid.as_str()[..4 + 32].to_string();
    dm.clear_log();
    let d = apply::deactivate(&dm, &prefix, &opts()).unwrap();
    assert!(dm.names().is_empty(), "left {:?}", dm.names());
    assert_eq!(d.removed.len(), p.devices.len());
    let log = dm.log();
    // The newest child failed once (in use by r1), then went after r1 in the careful pass.
    let child = &p.devices[p.devices.len() - 2].name;
    assert_eq!(log.iter().filter(|l| **l == format!("remove {child}")).count(), 2, "{log:#?}");
    assert!(
        position(&log, &format!("remove {}", top.name))
            < log.iter().rposition(|l| *l == format!("remove {child}")).unwrap()
    );
}

#[test]
fn without_a_plan_an_open_lv_is_refused_and_what_it_sits_on_stays() {
    let p = plan_all("raid");
    let (dm, prefix) = active("raid", &p);
    dm.hold("lk_raid-r5", 1);
    let e = apply::deactivate(&dm, &prefix, &opts()).unwrap_err();
    assert!(matches!(&e, ApplyError::InUse { device, open_count: 1, .. } if device == "lk_raid-r5"), "{e}");
    let left = dm.names();
    assert!(left.iter().all(|n| n.starts_with("lk_raid-r5")) && left.len() == 7, "{left:?}");
}

#[test]
fn without_a_plan_several_threads_ask_the_kernel_who_uses_whom() {
    for image in ["raid", "thin", "snapshot", "cache"] {
        let p = plan_all(image);
        let (dm, prefix) = active(image, &p);
        let d = apply::deactivate(&dm, &prefix, &ApplyOptions { jobs: 8, ..opts() }).unwrap();
        assert!(dm.names().is_empty(), "{image}: left {:?}", dm.names());
        assert_eq!(d.removed.len(), p.devices.len());
        let log = dm.log();
        let n = p.devices.len();
        assert_eq!(log.len(), 1 + 2 * n, "{image}: one deps and one remove each: {log:#?}");
        users_removed_first(image, &p, &log);
    }
}

/// Activation and status observe once and decide from that: one list, then for each planned
/// device that exists one lookup (state and live table in one call) — no second look per
/// device (the activation benchmark's and quickCheck's budget), and nothing at all for devices
/// that do not exist.
#[test]
fn activation_and_status_cost_one_list_and_one_lookup_per_existing_device() {
    use lvmkit_activation::status;
    let dm = FakeDm::default();
    let p = plan_of(&raid_vg(&[]), &["r1"]);
    let n = p.devices.len();
    let prefix = p.devices[0].uuid.as_str()[..36].to_string();
    // Nothing there: status lists once and asks nothing else.
    let s = status::status(&dm, &p, Some(&prefix)).unwrap();
    assert!(s.devices.iter().all(|d| d.problems == [status::Problem::Missing]));
    assert_eq!(dm.log(), ["list"]);
    apply::activate(&dm, &p, &opts()).unwrap();
    let lookups = |log: &[String]| {
        assert_eq!(log[0], "list", "{log:#?}");
        assert_eq!(log.iter().filter(|l| *l == "list").count(), 1, "{log:#?}");
        for d in &p.devices {
            let line = format!("lookup uuid {}", d.uuid);
            assert_eq!(log.iter().filter(|l| **l == line).count(), 1, "{line}: {log:#?}");
        }
    };
    dm.clear_log();
    let a = apply::activate(&dm, &p, &opts()).unwrap();
    assert!(a.devices.iter().all(|(_, _, o)| *o == Outcome::Unchanged));
    let log = dm.log();
    assert_eq!(log.len(), 1 + n, "{log:#?}");
    lookups(&log);
    dm.clear_log();
    let s = status::status(&dm, &p, Some(&prefix)).unwrap();
    assert!(s.ok() && s.unplanned.is_empty(), "{s}");
    let log = dm.log();
    assert_eq!(log.len(), 1 + n, "{log:#?}");
    lookups(&log);
    // One device gone: the others are looked at, it is not.
    let gone = p.devices[0].name.to_string();
    dm.state().devs.remove(&gone);
    dm.clear_log();
    let s = status::status(&dm, &p, Some(&prefix)).unwrap();
    assert_eq!(s.devices[0].problems, [status::Problem::Missing]);
    assert_eq!(dm.log().len(), 1 + (n - 1), "{:#?}", dm.log());
}
