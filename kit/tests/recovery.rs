//! The recovery kit's actions end to end on lvm2-made images, with an in-memory
//! device-mapper (`lvmkit_dm::fake`): hierarchies, ownership (restore, takeover, refusal,
//! split brain), quickCheck at each level, recover, remove with a holder, missing PVs,
//! adddelpv, canextend/extend, boot-activate. Two "servers" are two kit directories and two
//! system IDs over the same image files. The real kernel runs the same code in the VM tests.

#[path = "support/servers.rs"]
mod servers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lvmkit::recovery::actions::{self, RestoreOptions, Severity};
use lvmkit::recovery::controlled::{self, BootOutcome};
use lvmkit::recovery::hierarchy::{self, PvSelection};
use lvmkit::recovery::resource::{ActivationPolicy, Kind, OwnershipPolicy, Policy};
use lvmkit::recovery::{Env, KitError};
use lvmkit_activation::apply::Outcome;
use lvmkit_dm::DevNum;
use lvmkit_dm::control::DmControl;
use lvmkit_dm::fake::FakeDm;
use servers::{images, on_disk, server, write_sparse};

/// Server "a" (system ID host-a) with the `linear` case's VG under kit control and restored
/// on a fresh fake device-mapper: the images, the server, the device-mapper.
fn linear_restored(tmp: &Path) -> (Vec<PathBuf>, Env, FakeDm) {
    let disks = images("linear", tmp);
    let a = server("a", Some("host-a"), &disks, tmp);
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    let dm = FakeDm::default();
    actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    (disks, a, dm)
}

fn code<T: std::fmt::Debug>(r: Result<T, KitError>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn create_list_show_delete_keep_the_hierarchy_and_the_controlled_list() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    assert!(
        on_disk(&disks, "lk_linear").flags.as_ref().is_none_or(|f| !f.has("NOAUTOACTIVATE")),
        "control: on"
    );
    let c = hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    assert_eq!(c.created, ["lvmvg-lk_linear", "lvmlv-lk_linear-lv0", "lvmlv-lk_linear-lv1"]);
    assert_eq!(c.autoactivation_off, ["lk_linear"]);
    assert!(c.warnings.is_empty());
    let md = on_disk(&disks, "lk_linear");
    assert!(md.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")), "autoactivation written off");
    assert_eq!(md.system_id, None, "create does not take ownership");
    let list = controlled::read(&a.controlled).unwrap();
    assert_eq!(list, [controlled::Controlled { vg: "lk_linear".into(), uuid: md.id.to_string() }]);

    let vg = a.store.find("lk_linear").unwrap();
    let Kind::Lvmvg(v) = &vg.kind else { panic!() };
    assert_eq!(v.vg_uuid, md.id.to_string());
    assert_eq!(v.vg_format, "lvm2");
    assert_eq!(v.pvs.len(), 1);
    assert_eq!(v.pvs[0].device, disks[0].display().to_string());
    assert_eq!(v.pvs[0].size, std::fs::metadata(&disks[0]).unwrap().len());
    assert_eq!(v.pvs[0].disk, v.pvs[0].device, "a whole-disk PV is its own disk");
    assert_eq!(v.servers.len(), 1);
    assert_eq!(v.policy.ownership, OwnershipPolicy::SystemId);

    let (all, bad) = a.store.list().unwrap();
    assert!(bad.is_empty());
    let tree = hierarchy::format_tree(&hierarchy::tree(&all, None));
    let d = disks[0].display();
    assert_eq!(
        tree,
        format!(
            "/dev/lk_linear/lv0 (lvmlv-lk_linear-lv0, lvmlv)\n└── lk_linear (lvmvg-lk_linear, lvmvg)\n    └── {d}\n\
             /dev/lk_linear/lv1 (lvmlv-lk_linear-lv1, lvmlv)\n└── lk_linear (lvmvg-lk_linear, lvmvg)\n    └── {d}\n"
        )
    );
    let one = hierarchy::tree(&all, Some(&vg));
    assert_eq!(one.len(), 2, "the VG's hierarchy: both LVs over it");

    // Duplicates and unknown names.
    assert_eq!(code(hierarchy::create(&a, &["lk_linear".into()], None)), "110004");
    assert_eq!(code(hierarchy::create(&a, &["/dev/lk_linear/lv0".into()], None)), "110004");
    assert_eq!(code(hierarchy::create(&a, &["nosuchvg".into()], None)), "110000");
    assert_eq!(code(hierarchy::create(&a, &["lk_linear/nolv".into()], None)), "110001");

    // delete: the VG with dependents is refused; the last resource takes it off the list.
    assert_eq!(code(hierarchy::delete(&a, "lk_linear", false)), "000002");
    let d0 = hierarchy::delete(&a, "/dev/lk_linear/lv0", false).unwrap();
    assert_eq!(d0.deleted, ["lvmlv-lk_linear-lv0"]);
    assert!(d0.uncontrolled.is_empty());
    let d1 = hierarchy::delete(&a, "lvmvg-lk_linear", true).unwrap();
    assert_eq!(d1.deleted, ["lvmlv-lk_linear-lv1", "lvmvg-lk_linear"]);
    assert_eq!(d1.uncontrolled, ["lk_linear"]);
    assert!(controlled::read(&a.controlled).unwrap().is_empty());
    assert_eq!(code(a.store.find("lk_linear")), "000019");
    assert_eq!(on_disk(&disks, "lk_linear").seqno, md.seqno, "delete never touches the VG");
    // An LV of a VG that already has its lvmvg: only the LV resource is new.
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    hierarchy::delete(&a, "/dev/lk_linear/lv1", false).unwrap();
    let again = hierarchy::create(&a, &["/dev/lk_linear/lv1".into()], None).unwrap();
    assert_eq!(again.created, ["lvmlv-lk_linear-lv1"]);
}

#[test]
fn restore_writes_our_system_id_activates_every_lv_and_is_idempotent_then_remove_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    let dm = FakeDm::default();
    // Not in service yet.
    let h = actions::quick_check(&a, &dm, "lk_linear", 0).unwrap();
    assert_eq!(h.status(), 7, "{h:?}");
    let r = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(r.wrote_system_id && r.took_over_from.is_none());
    assert_eq!(on_disk(&disks, "lk_linear").system_id.as_deref(), Some("host-a"));
    assert_eq!(dm.names(), ["lk_linear-lv0", "lk_linear-lv1"]);
    assert!(r.devices.iter().all(|(_, o)| *o == Outcome::Created));
    let seqno = on_disk(&disks, "lk_linear").seqno;
    // Again: nothing written, nothing changed.
    let r2 = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(!r2.wrote_system_id);
    assert!(r2.devices.iter().all(|(_, o)| *o == Outcome::Unchanged), "{:?}", r2.devices);
    assert_eq!(on_disk(&disks, "lk_linear").seqno, seqno);
    // lvmlv restore: its VG is in service: success at once.
    let rl = actions::restore(&a, &dm, "/dev/lk_linear/lv0", &RestoreOptions::default()).unwrap();
    assert_eq!(rl.id, "lvmlv-lk_linear-lv0");
    for lvl in [0, 10, 20] {
        let h = actions::quick_check(&a, &dm, "lk_linear", lvl).unwrap();
        assert_eq!(h.status(), 0, "level {lvl}: {:?}", h.problems);
    }
    let h = actions::quick_check(&a, &dm, "lvmlv-lk_linear-lv1", 10).unwrap();
    assert_eq!((h.status(), h.devices, h.pvs_read), (0, 1, 1));

    // lvmlv remove takes only its LV.
    let rm = actions::remove(&a, &dm, "/dev/lk_linear/lv1").unwrap();
    assert_eq!(rm.removed, ["lk_linear-lv1"]);
    assert_eq!(actions::quick_check(&a, &dm, "/dev/lk_linear/lv1", 0).unwrap().status(), 7);
    assert_eq!(actions::quick_check(&a, &dm, "/dev/lk_linear/lv0", 0).unwrap().status(), 0);
    // The VG's quickCheck sees the LV missing.
    let h = actions::quick_check(&a, &dm, "lk_linear", 0).unwrap();
    assert_eq!(h.status(), 1);
    assert_eq!(h.problems[0].line, "lk_linear-lv1: missing");
    // lvmlv restore brings it back.
    actions::restore(&a, &dm, "/dev/lk_linear/lv1", &RestoreOptions::default()).unwrap();
    assert_eq!(dm.names().len(), 2);

    let rm = actions::remove(&a, &dm, "lk_linear").unwrap();
    assert_eq!(rm.removed.len(), 2);
    assert!(dm.names().is_empty());
    assert!(!rm.released, "the system ID stays by default");
    assert_eq!(on_disk(&disks, "lk_linear").system_id.as_deref(), Some("host-a"));
    let rm2 = actions::remove(&a, &dm, "lk_linear").unwrap();
    assert!(rm2.removed.is_empty(), "idempotent");
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 0).unwrap().status(), 7);
}

#[test]
fn remove_works_by_uuid_prefix_when_the_pvs_are_gone_and_leaves_other_vgs() {
    let tmp = tempfile::tempdir().unwrap();
    let (disks, a, dm) = linear_restored(tmp.path());
    // A device another node left under a renamed name, and another VG's device.
    let vg_uuid = on_disk(&disks, "lk_linear").id.as_str().to_string();
    dm.add("renamed-old", &format!("LVM-{vg_uuid}{}", "x".repeat(32)), "0 8 zero");
    dm.add("other-lv", &format!("LVM-{}{}", "o".repeat(32), "y".repeat(32)), "0 8 zero");
    // quickCheck: the extra device under the VG's uuid is a problem.
    let h = actions::quick_check(&a, &dm, "lk_linear", 0).unwrap();
    assert_eq!(h.status(), 1);
    assert!(
        h.problems
            .iter()
            .any(|p| p.line.starts_with("renamed-old: active under the VG's uuid but not planned")),
        "{h:?}"
    );
    // The PV vanishes.
    std::fs::remove_file(&disks[0]).unwrap();
    let rm = actions::remove(&a, &dm, "lk_linear").unwrap();
    assert_eq!(rm.removed.len(), 3, "{:?}", rm.removed);
    assert_eq!(dm.names(), ["other-lv"]);
}

#[test]
fn remove_of_an_open_lv_is_retried_within_its_bound_then_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (_disks, a, dm) = linear_restored(tmp.path());
    dm.hold("lk_linear-lv0", 1);
    let t = Instant::now();
    let e = actions::remove(&a, &dm, "/dev/lk_linear/lv0").unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.code, "110005", "{e}");
    assert!(e.message.contains("lk_linear-lv0 is in use"), "{e}");
    // The bound, plus the holder search (every /proc/*/fd: slower on a loaded machine).
    assert!(took >= a.busy_timeout && took < a.busy_timeout + Duration::from_secs(10), "{took:?}");
    assert_eq!(e.status(), 1);
    // Released: the next remove succeeds.
    dm.hold("lk_linear-lv0", -1);
    assert_eq!(actions::remove(&a, &dm, "/dev/lk_linear/lv0").unwrap().removed, ["lk_linear-lv0"]);
}

/// A primary `a` (lk-hostA owns lk_sysid), `b` extended from its template and recorded back
/// on `a`, and `c` that only `a` knows of.
#[test]
fn ownership_peer_takeover_refusal_force_and_split_brain() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("system-id", tmp.path());
    let a = server("a", Some("lk-hostA"), &disks, tmp.path());
    let b = server("b", Some("hostB"), &disks, tmp.path());
    let c = server("c", Some("hostC"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_sysid".into()], None).unwrap();
    let t = hierarchy::export(&a, "lk_sysid").unwrap();
    assert_eq!(t.resources.len(), 2);
    assert!(hierarchy::canextend(&b, &t).reasons.is_empty());
    let e = hierarchy::extend(&b, &t).unwrap();
    assert_eq!(e.created, ["lvmvg-lk_sysid", "lvmlv-lk_sysid-lv0"]);
    // The primary records b through b's template.
    let tb = hierarchy::export(&b, "lk_sysid").unwrap();
    let back = hierarchy::extend(&a, &tb).unwrap();
    assert_eq!(back.updated, ["lvmvg-lk_sysid"]);
    assert!(back.created.is_empty());
    let Kind::Lvmvg(va) = a.store.find("lk_sysid").unwrap().kind else { panic!() };
    assert_eq!(va.servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(va.servers[1].system_id.as_deref(), Some("hostB"));
    assert!(hierarchy::extend(&a, &tb).unwrap().updated.is_empty(), "nothing new the second time");
    // c extends from a's first template: it knows a, not b.
    hierarchy::extend(&c, &t).unwrap();

    let dm = FakeDm::default();
    // T1: b restores a VG owned by its peer a: takeover.
    let r = actions::restore(&b, &dm, "lk_sysid", &RestoreOptions::default()).unwrap();
    assert_eq!(r.took_over_from.as_deref(), Some("lk-hostA"));
    assert_eq!(on_disk(&disks, "lk_sysid").system_id.as_deref(), Some("hostB"));
    assert_eq!(dm.names(), ["lk_sysid-lv0"]);
    // T2: c restores a VG owned by b, which is not its peer: refused, nothing written.
    let seqno = on_disk(&disks, "lk_sysid").seqno;
    let dm_c = FakeDm::default();
    let e = actions::restore(&c, &dm_c, "lk_sysid", &RestoreOptions::default()).unwrap_err();
    assert_eq!((e.code, e.status()), ("110003", 4), "{e}");
    assert!(e.message.contains("hostB"), "{e}");
    assert_eq!(on_disk(&disks, "lk_sysid").seqno, seqno, "nothing written");
    assert!(dm_c.names().is_empty(), "nothing activated");
    // Naming another owner does not help; naming it does.
    let wrong = RestoreOptions { force_takeover: Some("hostX".into()), ..Default::default() };
    assert_eq!(code(actions::restore(&c, &dm_c, "lk_sysid", &wrong)), "110003");
    // Meanwhile b's quickCheck 20 is healthy; after c's forced takeover it is the split brain.
    assert_eq!(actions::quick_check(&b, &dm, "lk_sysid", 20).unwrap().status(), 0);
    let force = RestoreOptions { force_takeover: Some("hostB".into()), ..Default::default() };
    let r = actions::restore(&c, &dm_c, "lk_sysid", &force).unwrap();
    assert_eq!(r.took_over_from.as_deref(), Some("hostB"));
    let h = actions::quick_check(&b, &dm, "lk_sysid", 20).unwrap();
    assert_eq!(h.status(), 4, "{h:?}");
    assert_eq!(h.problems[0].code, "110016");
    assert!(h.problems[0].line.contains("hostC"), "{h:?}");
    // Level 0 does not read the disk: it still sees healthy devices (negative control).
    assert_eq!(actions::quick_check(&b, &dm, "lk_sysid", 0).unwrap().status(), 0);
    // recover refuses to touch a VG someone else owns.
    assert_eq!(code(actions::recover(&b, &dm, "lk_sysid")), "110016");
}

#[test]
fn quick_check_finds_missing_suspended_and_changed_devices_and_recover_repairs_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (disks, a, dm) = linear_restored(tmp.path());
    let good_table = dm.state().devs["lk_linear-lv1"].live.clone().unwrap().to_string();
    dm.drop_dev("lk_linear-lv0");
    dm.suspend_dev("lk_linear-lv1");
    let h = actions::quick_check(&a, &dm, "lk_linear", 0).unwrap();
    let lines: Vec<&str> = h.problems.iter().map(|p| p.line.as_str()).collect();
    assert_eq!(lines, ["lk_linear-lv0: missing", "lk_linear-lv1: suspended"]);
    assert_eq!(h.status(), 1);
    let r = actions::recover(&a, &dm, "lk_linear").unwrap();
    assert_eq!(
        r.devices,
        [("lk_linear-lv0".to_string(), Outcome::Created), ("lk_linear-lv1".to_string(), Outcome::Resumed)]
    );
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 0).unwrap().status(), 0);
    // An error target where the plan has none.
    dm.set_table("lk_linear-lv1", "0 8192 error");
    let h = actions::quick_check(&a, &dm, "lk_linear", 0).unwrap();
    assert_eq!(
        h.problems.iter().map(|p| p.line.as_str()).collect::<Vec<_>>(),
        ["lk_linear-lv1: table differs from the plan"]
    );
    actions::recover(&a, &dm, "lk_linear").unwrap();
    assert_eq!(dm.state().devs["lk_linear-lv1"].live.clone().unwrap().to_string(), good_table);

    // Another node edits the VG (a tag): level 20 reports the new seqno, recover refreshes.
    let before = on_disk(&disks, "lk_linear").seqno;
    let src = lvmkit::source::Source::load(&disks, false);
    let ctx = a.context(None);
    lvmkit::write::change_vgs(
        &src,
        &["lk_linear".into()],
        &[lvmkit_metadata::write::ops::Change::AddVgTag("edited".into())],
        &ctx,
    )
    .unwrap();
    assert_eq!(
        actions::quick_check(&a, &dm, "lk_linear", 10).unwrap().status(),
        0,
        "level 10 does not read metadata"
    );
    let h = actions::quick_check(&a, &dm, "lk_linear", 20).unwrap();
    assert_eq!(h.status(), 1);
    assert_eq!(h.problems[0].code, "110018");
    assert!(h.problems[0].line.contains(&format!("seqno {before} -> {}", before + 1)), "{h:?}");
    let r = actions::recover(&a, &dm, "lk_linear").unwrap();
    assert_eq!(r.seqno, (before + 1, Some(before)));
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 20).unwrap().status(), 0);
}

#[test]
fn quick_check_10_returns_within_its_deadline_when_a_pv_read_hangs() {
    let tmp = tempfile::tempdir().unwrap();
    let (disks, a, dm) = linear_restored(tmp.path());
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 10).unwrap().status(), 0, "control: readable");
    // A dead path: the probe's read never returns (uninterruptible sleep in the kernel). Here a
    // stand-in probe program that never answers — lvmkit refuses to open a FIFO, so none can
    // hang it any more; the real thing, a read under a suspended dm device, is the VM matrix's
    // T5.
    let stuck = tmp.path().join("stuck-probe");
    std::fs::write(&stuck, "#!/bin/sh\nexec sleep 60\n").unwrap();
    std::fs::set_permissions(&stuck, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut a = a;
    a.probe_exe = Some(stuck);
    let t = Instant::now();
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    let took = t.elapsed();
    assert_eq!(h.status(), 1, "{h:?}");
    assert_eq!(h.problems.len(), 1);
    assert_eq!(h.problems[0].code, "110021");
    assert!(h.problems[0].line.contains("no answer within"), "{h:?}");
    assert!(took >= a.probe_timeout && took < a.probe_timeout + Duration::from_secs(2), "{took:?}");
    // Level 20 reads the metadata of the PVs that answered only: with none, nothing (no scan
    // of every device, which would read the dead path too).
    let t = Instant::now();
    let h = actions::quick_check(&a, &dm, "lk_linear", 20).unwrap();
    assert!(t.elapsed() < a.probe_timeout + Duration::from_secs(2));
    assert_eq!(h.status(), 1, "{h:?}");
    let codes: Vec<&str> = h.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["110021", "110011"], "{h:?}");
    assert!(h.problems[1].line.ends_with("metadata not re-read: none of its PVs answered"), "{h:?}");
    // recover probes before it reads: the same bound, and the PV's code.
    let t = Instant::now();
    let e = actions::recover(&a, &dm, "lk_linear").unwrap_err();
    assert_eq!(e.code, "110002", "{e}");
    assert!(e.cause_text().contains("no answer within"), "{e}");
    assert!(t.elapsed() < a.probe_timeout + Duration::from_secs(2));
    // restore probes before it reads, too: a PV that does not answer fails it within the
    // bound with the PV's code, before anything is written or activated.
    actions::remove(&a, &dm, "lk_linear").unwrap();
    let before = std::fs::read(&disks[0]).unwrap();
    let t = Instant::now();
    let e = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap_err();
    assert_eq!(e.code, "110002", "{e}");
    assert!(e.cause_text().contains("no answer within"), "{e}");
    assert!(t.elapsed() < a.probe_timeout + Duration::from_secs(2));
    assert_eq!(std::fs::read(&disks[0]).unwrap(), before, "nothing written");
    assert!(dm.list().unwrap().is_empty(), "nothing activated");
    a.probe_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_lvmkit")));
    actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    // A PV path that is gone fails at once (the real probe again).
    a.probe_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_lvmkit")));
    std::fs::remove_file(&disks[0]).unwrap();
    let t = Instant::now();
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert!(t.elapsed() < a.probe_timeout);
    assert!(h.problems[0].line.contains("cannot open"), "{h:?}");
    // recover fails with the PV's code, so the cluster moves the hierarchy.
    assert_eq!(code(actions::recover(&a, &dm, "lk_linear")), "110002");
}

#[test]
fn missing_pvs_follow_the_activation_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("spanning", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_spanning".into()], None).unwrap();
    // pv2 disappears from this server.
    let gone = tmp.path().join("gone.img");
    std::fs::rename(&disks[1], &gone).unwrap();
    let a = Env { devices: vec![disks[0].clone()], ..a };
    let dm = FakeDm::default();
    let e = actions::restore(&a, &dm, "lk_spanning", &RestoreOptions::default()).unwrap_err();
    assert_eq!(e.code, "110002", "{e}");
    assert!(dm.names().is_empty());
    // Partial: missing areas become error targets — but our system ID cannot be written
    // with half of the PVs (lvm2's majority rule).
    let mut r = a.store.find("lk_spanning").unwrap();
    let Kind::Lvmvg(v) = &mut r.kind else { panic!() };
    v.policy = Policy { activation: ActivationPolicy::Partial, ..v.policy };
    a.store.save(&r).unwrap();
    let e = actions::restore(&a, &dm, "lk_spanning", &RestoreOptions::default()).unwrap_err();
    assert_eq!(e.code, "110012", "{e}");
    assert!(e.message.contains("majority"), "{e}");
    assert!(dm.names().is_empty());
    // Owned by us already (restored with both PVs, removed): the partial restore activates.
    std::fs::rename(&gone, &disks[1]).unwrap();
    actions::restore(&a, &dm, "lk_spanning", &RestoreOptions::default()).unwrap();
    actions::remove(&a, &dm, "lk_spanning").unwrap();
    std::fs::rename(&disks[1], &gone).unwrap();
    actions::restore(&a, &dm, "lk_spanning", &RestoreOptions::default()).unwrap();
    // lvm2's partial activation: an error-target device per missing area.
    assert_eq!(
        dm.names(),
        [
            "lk_spanning-keep",
            "lk_spanning-keep-missing_1_0",
            "lk_spanning-span",
            "lk_spanning-span-missing_0_0"
        ]
    );
    let h = actions::quick_check(&a, &dm, "lk_spanning", 0).unwrap();
    assert_eq!(h.status(), 3, "{h:?}");
    assert!(h.problems.iter().all(|p| p.severity == Severity::Degraded));
    // The metadata was not changed to drop the PV.
    std::fs::rename(&gone, &disks[1]).unwrap();
    assert_eq!(on_disk(&disks, "lk_spanning").pvs.len(), 2);
}

#[test]
fn a_failed_raid_leg_is_degraded() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("raid", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_raid".into()], None).unwrap();
    let dm = FakeDm::default();
    actions::restore(&a, &dm, "lk_raid", &RestoreOptions::default()).unwrap();
    assert_eq!(actions::quick_check(&a, &dm, "lk_raid", 0).unwrap().status(), 0, "control: all legs alive");
    dm.state().raid_health = Some("AD".into());
    let h = actions::quick_check(&a, &dm, "/dev/lk_raid/r1", 0).unwrap();
    assert_eq!(h.status(), 3, "{h:?}");
    assert!(h.problems[0].line.contains("RAID leg failed or missing (health AD)"), "{h:?}");
}

/// A PV on an md array (RAID1 of a local disk and the replica's leg) or on a multipath map:
/// the kit records the array / map as the PV's device and disk, its members / paths as the
/// components under it; quickCheck level 10 reads the PV through that top device (the
/// members' nodes do not even exist here) and reports a failed member or path, from the
/// kernel's state, as degraded (3), a map with no usable path left as unhealthy (1). Level 0
/// reads no health: healthy throughout (the negative control).
#[test]
fn storage_under_a_pv_md_members_and_multipath_paths_recorded_and_degraded_at_level_10() {
    use lvmkit::recovery::actions::Problem;
    use lvmkit_metadata::topology::FakeSysfs;
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let d = disks[0].display().to_string();
    // The image is md0 (7:0 for device-mapper, as `server` numbers it) over vdb and vdc.
    let md_root = tmp.path().join("sys-md");
    std::fs::create_dir(&md_root).unwrap();
    let md = FakeSysfs::new(&md_root).unwrap();
    md.dev("vdb", 254, 16, 65536)
        .unwrap()
        .dev("vdc", 254, 32, 65536)
        .unwrap()
        .dev("md0", 7, 0, 65536)
        .unwrap();
    md.stack("vdb", "md0").unwrap().stack("vdc", "md0").unwrap();
    md.attr("md0", "md/raid_disks", "2").unwrap().attr("md0", "md/degraded", "0").unwrap();
    let mut a = server("a", Some("host-a"), &disks, tmp.path());
    a.sysfs = Arc::new(md.sys());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    let r = a.store.find("lk_linear").unwrap();
    let Kind::Lvmvg(v) = &r.kind else { panic!() };
    let members: Vec<String> = ["vdb", "vdc"].iter().map(|m| md.dev_path(m).display().to_string()).collect();
    assert_eq!(
        (v.pvs[0].device.as_str(), v.pvs[0].disk.as_str()),
        (d.as_str(), d.as_str()),
        "the top device"
    );
    assert_eq!(v.pvs[0].components, members, "the array's members are the disks under it");
    let (all, _) = a.store.list().unwrap();
    let tree = hierarchy::format_tree(&hierarchy::tree(&all, Some(&r)));
    assert!(
        tree.contains(&format!("    └── {d}\n        ├── {}\n        └── {}\n", members[0], members[1])),
        "the array over its members:\n{tree}"
    );
    let pv = v.pvs[0].uuid.clone();
    let dm = FakeDm::default();
    actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!((h.status(), h.pvs_read), (0, 1), "{h:?}");
    // The replica's leg fails: I/O goes on through md0; level 10 says degraded, naming it.
    md.attr("md0", "md/degraded", "1").unwrap();
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!((h.status(), h.pvs_read), (3, 1), "{h:?}");
    assert_eq!(
        h.problems,
        [Problem {
            severity: Severity::Degraded,
            code: "110014",
            line: format!("PV {pv} ({d}): md array md0: degraded, 1 member(s) missing of 2"),
        }]
    );
    // An lvmlv's check looks at its VG's PVs too; level 0 reads no health.
    assert_eq!(actions::quick_check(&a, &dm, "/dev/lk_linear/lv0", 10).unwrap().status(), 3);
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 0).unwrap().status(), 0);
    actions::remove(&a, &dm, "lk_linear").unwrap();
    hierarchy::delete(&a, "lvmvg-lk_linear", true).unwrap();

    // The same disk as multipath map dm-5 over the paths sda and sdb.
    let mp_root = tmp.path().join("sys-mp");
    std::fs::create_dir(&mp_root).unwrap();
    let mp = FakeSysfs::new(&mp_root).unwrap();
    let wwid = "mpath-3600a0b800012345678";
    mp.dev("sda", 8, 0, 65536).unwrap().dev("sdb", 8, 16, 65536).unwrap().dev("dm-5", 7, 0, 65536).unwrap();
    mp.stack("sda", "dm-5").unwrap().stack("sdb", "dm-5").unwrap();
    mp.attr("dm-5", "dm/uuid", wwid).unwrap();
    a.sysfs = Arc::new(mp.sys());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    let Kind::Lvmvg(v) = a.store.find("lk_linear").unwrap().kind else { panic!() };
    let paths: Vec<String> = ["sda", "sdb"].iter().map(|m| mp.dev_path(m).display().to_string()).collect();
    assert_eq!((v.pvs[0].device.as_str(), v.pvs[0].components.clone()), (d.as_str(), paths));
    dm.add("mpatha", wwid, "0 131072 multipath 0 0 1 1 round-robin 0 2 1 8:0 1 8:16 1");
    let paths = |s: &str| {
        dm.state().status_of.insert("mpatha".into(), ("multipath".into(), s.into()));
    };
    paths("2 0 0 0 1 1 A 0 2 0 8:0 A 0 8:16 A 0");
    actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!((h.status(), h.pvs_read), (0, 1), "{h:?}");
    // `fail_path 8:0`: degraded, the failed path named.
    paths("2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 A 0");
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!(h.status(), 3, "{h:?}");
    assert_eq!(h.problems.len(), 1, "{h:?}");
    assert_eq!(
        h.problems[0].line,
        format!("PV {pv} ({d}): multipath map dm-5: 1 failed path(s) (8:0), 1 active")
    );
    // No usable path left: a failure, not a warning.
    paths("2 0 0 0 1 1 E 0 2 0 8:0 F 1 8:16 F 1");
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!(h.status(), 1, "{h:?}");
    assert_eq!((h.problems[0].severity, h.problems[0].code), (Severity::Failed, "110009"));
    assert!(h.problems[0].line.contains("no active path (failed: 8:0, 8:16)"), "{h:?}");
    // A status the kernel would never print: a failure naming it, not a panic or a pass.
    paths("2 0 0 0 1 1 A 0 2 0 8:0 X 1");
    let h = actions::quick_check(&a, &dm, "lk_linear", 10).unwrap();
    assert_eq!(h.status(), 1, "{h:?}");
    assert!(h.problems[0].line.contains("cannot be read") && h.problems[0].line.contains("dm-5"), "{h:?}");
    assert_eq!(actions::quick_check(&a, &dm, "lk_linear", 0).unwrap().status(), 0);
}

#[test]
fn adddelpv_reports_records_and_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("spanning", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_spanning".into()], None).unwrap();
    let none = hierarchy::adddelpv(&a, "lk_spanning", &PvSelection::Report).unwrap();
    assert!(none.added.is_empty() && none.removed.is_empty());
    // As if the VG had been extended since: the resource lacks pv2 and records a PV now gone.
    let mut r = a.store.find("lk_spanning").unwrap();
    let Kind::Lvmvg(v) = &mut r.kind else { panic!() };
    let pv2 = v.pvs.remove(1);
    let mut old = v.pvs[0].clone();
    old.uuid = "OLDPV0-0000-0000-0000-0000-0000-000000".into();
    old.device = "/dev/old".into();
    v.pvs.push(old.clone());
    v.servers.push(lvmkit::recovery::resource::Server { name: "b".into(), system_id: Some("hostB".into()) });
    a.store.save(&r).unwrap();
    let rep = hierarchy::adddelpv(&a, "lk_spanning", &PvSelection::Report).unwrap();
    assert_eq!(rep.added, std::slice::from_ref(&pv2));
    assert_eq!(rep.removed, std::slice::from_ref(&old));
    assert_eq!(rep.confirm_on, ["b"]);
    assert!(!rep.applied);
    // Lists naming a PV that is not there: refused, nothing recorded.
    let wrong = PvSelection::Lists(vec!["NOSUCH".into()], vec![]);
    assert_eq!(code(hierarchy::adddelpv(&a, "lk_spanning", &wrong)), "110025");
    assert_eq!(code(hierarchy::adddelpv(&a, "/dev/lk_spanning/keep", &PvSelection::Yes)), "110006");
    let by_list = PvSelection::Lists(vec![pv2.device.clone()], vec![old.uuid.clone()]);
    let done = hierarchy::adddelpv(&a, "lk_spanning", &by_list).unwrap();
    assert!(done.applied);
    let Kind::Lvmvg(v) = a.store.find("lk_spanning").unwrap().kind else { panic!() };
    assert_eq!(v.pvs.iter().map(|p| p.uuid.as_str()).collect::<Vec<_>>().len(), 2);
    assert!(v.pvs.contains(&pv2) && !v.pvs.contains(&old));
    assert!(hierarchy::adddelpv(&a, "lk_spanning", &PvSelection::Report).unwrap().added.is_empty());
}

#[test]
fn canextend_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("spanning", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_spanning".into()], None).unwrap();
    let t = hierarchy::export(&a, "lk_spanning").unwrap();
    // b sees only pv1; c sees pv1 twice (a copy); d sees a resized pv2.
    let b = server("b", Some("hostB"), &disks[..1], tmp.path());
    let why = hierarchy::canextend(&b, &t).reasons;
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("is not visible here"), "{why:?}");
    assert_eq!(code(hierarchy::extend(&b, &t)), "110023");
    assert!(b.store.list().unwrap().0.is_empty(), "nothing created");
    let copy = tmp.path().join("copy.img");
    std::fs::copy(&disks[0], &copy).unwrap();
    let c = server("c", Some("hostC"), &[disks[0].clone(), disks[1].clone(), copy], tmp.path());
    let why = hierarchy::canextend(&c, &t).reasons;
    assert!(why.iter().any(|w| w.contains("is seen on more than one device")), "{why:?}");
    let mut t2 = t.clone();
    let Kind::Lvmvg(v) = &mut t2.resources[0].kind else { panic!() };
    v.pvs[1].size += 512;
    let why = hierarchy::canextend(&a, &t2).reasons;
    assert!(why.iter().any(|w| w.contains("bytes here")), "{why:?}");
    assert!(hierarchy::canextend(&a, &t).reasons.is_empty(), "control");
}

#[test]
fn boot_activate_skips_controlled_vgs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut disks = images("linear", tmp.path());
    disks.extend(images("tags", tmp.path()));
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_tags".into()], None).unwrap();
    let dm = FakeDm::default();
    let done = controlled::boot_activate(&a, &dm).unwrap();
    assert_eq!(
        done,
        [
            ("lk_linear".to_string(), BootOutcome::Activated(2)),
            ("lk_tags".to_string(), BootOutcome::Controlled)
        ]
    );
    assert_eq!(dm.names(), ["lk_linear-lv0", "lk_linear-lv1"]);
    // Off the list (deleted) but with autoactivation off: still not activated.
    hierarchy::delete(&a, "lk_tags", true).unwrap();
    let done = controlled::boot_activate(&a, &dm).unwrap();
    assert_eq!(done[1], ("lk_tags".to_string(), BootOutcome::AutoactivationOff));
}

#[test]
fn restore_reports_autoactivation_drift_and_fix_turns_it_off() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    let dm = FakeDm::default();
    let r = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(r.warnings.is_empty(), "control: off after create");
    let src = lvmkit::source::Source::load(&disks, false);
    lvmkit::write::change_vgs(
        &src,
        &["lk_linear".into()],
        &[lvmkit_metadata::write::ops::Change::SetAutoactivation(true)],
        &a.context(None),
    )
    .unwrap();
    let r = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert_eq!(r.warnings.iter().map(|w| w.code).collect::<Vec<_>>(), ["110019"]);
    let r =
        actions::restore(&a, &dm, "lk_linear", &RestoreOptions { fix: true, ..Default::default() }).unwrap();
    assert!(r.fixed_autoactivation && r.warnings.is_empty());
    assert!(on_disk(&disks, "lk_linear").flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE")));
}

#[test]
fn a_stale_metadata_copy_is_reported_and_the_newest_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("spanning", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_spanning".into()], None).unwrap();
    // Roll pv2's metadata area back: save it before a change, write it back after.
    let before = std::fs::read(&disks[1]).unwrap();
    let src = lvmkit::source::Source::load(&disks, false);
    lvmkit::write::change_vgs(
        &src,
        &["lk_spanning".into()],
        &[lvmkit_metadata::write::ops::Change::AddVgTag("new".into())],
        &a.context(None),
    )
    .unwrap();
    std::fs::write(&disks[1], &before).unwrap();
    let dm = FakeDm::default();
    let r = actions::restore(&a, &dm, "lk_spanning", &RestoreOptions::default()).unwrap();
    assert!(r.notes.iter().any(|n| n.contains("stale metadata copy")), "{:?}", r.notes);
    let md = on_disk(&disks, "lk_spanning");
    assert!(md.tags.contains(&"new".to_string()), "the newest copy won");
    assert_eq!(md.system_id.as_deref(), Some("host-a"));
}

/// The shared LVM1 images (`../shared/images/lvm1` beside the repository, as in CI, or
/// `$LVMKIT_LVM1_IMAGES`), decompressed into `dir`; `None`, with a visible note, when absent.
fn lvm1_images(names: &[&str], dir: &Path) -> Option<Vec<PathBuf>> {
    let src = std::env::var_os("LVMKIT_LVM1_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/images/lvm1"));
    if !src.join("README.md").is_file() {
        eprintln!("SKIPPED: {} not found (the shared LVM1 images sit beside the repository)", src.display());
        return None;
    }
    Some(
        names
            .iter()
            .map(|n| {
                let o = Command::new("xz").arg("-dc").arg(src.join(format!("{n}.img.xz"))).output().unwrap();
                assert!(o.status.success(), "xz {n}");
                let p = dir.join(format!("{n}.img"));
                write_sparse(&p, &o.stdout);
                p
            })
            .collect(),
    )
}

#[test]
fn an_lvm1_vg_is_exported_on_remove_and_imported_on_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(disks) = lvm1_images(&["l1a", "l1d"], tmp.path()) else { return };
    let a = server("a", Some("host-a"), &disks, tmp.path());
    let c = hierarchy::create(&a, &["l1a".into()], None).unwrap();
    assert!(c.autoactivation_off.is_empty(), "LVM1 has no autoactivation flag");
    let Kind::Lvmvg(v) = a.store.find("l1a").unwrap().kind else { panic!() };
    assert_eq!((v.vg_format.as_str(), v.policy.ownership), ("lvm1", OwnershipPolicy::None));
    let dm = FakeDm::default();
    let r = actions::restore(&a, &dm, "l1a", &RestoreOptions::default()).unwrap();
    assert!(!r.imported && !r.wrote_system_id);
    assert_eq!(dm.names().len(), 3);
    let h = actions::quick_check(&a, &dm, "l1a", 20).unwrap();
    assert_eq!(h.status(), 0, "{h:?}");
    let rm = actions::remove(&a, &dm, "l1a").unwrap();
    assert!(rm.released);
    assert!(dm.names().is_empty());
    let exported = |name: &str| {
        let src = lvmkit::source::Source::load(&disks, false);
        src.assembly.vgs.iter().find(|g| g.metadata.vg.id.to_string() == v.vg_uuid).map(|g| {
            assert!(g.name().starts_with(name), "{}", g.name());
            g.metadata.vg.is_exported()
        })
    };
    assert_eq!(exported("l1a"), Some(true));
    let r = actions::restore(&a, &dm, "l1a", &RestoreOptions::default()).unwrap();
    assert!(r.imported);
    assert_eq!(exported("l1a"), Some(false));
    assert_eq!(dm.names().len(), 3);
    // A VG exported elsewhere: imported by its first restore here.
    hierarchy::create(&a, &["l1d".into()], None).unwrap_or_else(|e| panic!("{e}"));
    let r = actions::restore(&a, &dm, "l1d", &RestoreOptions::default()).unwrap();
    assert!(r.imported);
}

#[test]
fn a_pv_found_elsewhere_by_the_full_scan_is_recorded_there() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    // The disk comes back under another name (a reboot renumbered it).
    let renamed = tmp.path().join("renamed.img");
    std::fs::rename(&disks[0], &renamed).unwrap();
    let a = Env { devices: vec![renamed.clone()], resolve: Arc::new(|_, _| Some(DevNum::new(7, 0))), ..a };
    let dm = FakeDm::default();
    let r = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(r.notes.iter().any(|n| n.contains("found by a full scan")), "{:?}", r.notes);
    let Kind::Lvmvg(v) = a.store.find("lk_linear").unwrap().kind else { panic!() };
    assert_eq!(v.pvs[0].device, renamed.display().to_string());
    // The next restore reads only the recorded device.
    let r = actions::restore(&a, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn restore_refuses_a_pv_copied_to_a_device_it_did_not_record_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("linear", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    hierarchy::create(&a, &["lk_linear".into()], None).unwrap();
    // The PV cloned to a second device: the recorded path still reads alone as the VG.
    let copy = tmp.path().join("copy.img");
    std::fs::copy(&disks[0], &copy).unwrap();
    let mut both = disks.clone();
    both.push(copy.clone());
    let b = server("a", Some("host-a"), &both, tmp.path());
    let before: Vec<Vec<u8>> = both.iter().map(|d| std::fs::read(d).unwrap()).collect();
    let dm = FakeDm::default();
    let e = actions::restore(&b, &dm, "lk_linear", &RestoreOptions::default()).unwrap_err();
    assert_eq!(e.code, "110024", "{e}");
    assert!(e.message.contains(&copy.display().to_string()), "names the copy: {e}");
    assert!(dm.names().is_empty(), "nothing activated");
    for (d, b) in both.iter().zip(&before) {
        assert!(std::fs::read(d).unwrap() == *b, "{} was written", d.display());
    }
    assert_eq!(b.store.state("lvmvg-lk_linear").unwrap(), None);
    // The lvmlv restore goes through its VG's and is refused the same way.
    let e = actions::restore(&b, &dm, "/dev/lk_linear/lv0", &RestoreOptions::default()).unwrap_err();
    assert_eq!(e.code, "110024", "{e}");
    // Control: without the copy the same restore takes the VG over.
    std::fs::remove_file(&copy).unwrap();
    let r = actions::restore(&b, &dm, "lk_linear", &RestoreOptions::default()).unwrap();
    assert!(r.wrote_system_id);
    assert_eq!(on_disk(&disks, "lk_linear").system_id.as_deref(), Some("host-a"));
    assert_eq!(dm.names(), ["lk_linear-lv0", "lk_linear-lv1"]);
}

#[test]
fn create_and_extend_of_a_thousand_lvs_read_the_store_once() {
    let tmp = tempfile::tempdir().unwrap();
    let disks = images("many-lvs", tmp.path());
    let a = server("a", Some("host-a"), &disks, tmp.path());
    let before = a.store.list_count();
    let c = hierarchy::create(&a, &["lk_many".into()], None).unwrap();
    assert_eq!(c.created.len(), 1001);
    assert_eq!(a.store.list_count() - before, 1, "create lists the store once, not once per resource");
    let (all, bad) = a.store.list().unwrap();
    assert_eq!((all.len(), bad.len()), (1001, 0));
    // extend on a second server: every resource checked against one listing, then written.
    let t = hierarchy::export(&a, "lk_many").unwrap();
    let b = server("b", Some("host-b"), &disks, tmp.path());
    let before = b.store.list_count();
    let x = hierarchy::extend(&b, &t).unwrap();
    assert_eq!(x.created.len(), 1001);
    assert_eq!(b.store.list_count() - before, 1, "extend lists the store once");
    // A tag taken by another resource is still refused — and before anything is written.
    let c = server("c", Some("host-c"), &disks, tmp.path());
    let mut clash = t.resources[500].clone();
    clash.id = "lvmlv-other-x".into();
    c.store.create(&clash).unwrap();
    assert_eq!(code(hierarchy::extend(&c, &t)), "000014");
    assert_eq!(c.store.list().unwrap().0.len(), 1, "nothing written");
}
