//! LVM1 `vgexport` / `vgimport` (`lvmkit_metadata::write::lvm1`) on the images lvm2 2.02.177
//! made (`../shared/images/lvm1`, decompressed into a temp dir; skipped with a message when the
//! shared images are not beside the repository).
//!
//! What is checked: only `pv_disk.vg_name`, `pv_disk.system_id` and `vg_disk.vg_status` change;
//! exporting `l1a` gives what lvm2's export of `l1d` holds (`<vg>PV_EXP`, `PV_EXP<host><time>`,
//! `vg_status | 2`); importing gives `PV_IMP<host><time>` and otherwise the bytes of a
//! never-exported VG; importing lvm2's own exported `l1d` rebuilds exactly `l1d.vgcfg`'s VG minus
//! EXPORTED; refusals write nothing; the LVM2 writer still refuses LVM1 PVs.
//!
//! No power-cut test: each PV gets one single-sector write of its `pv_disk` and one of its
//! `vg_disk` sector, so a cut leaves each sector old or new; the one mixed state of a PV (and the
//! mixed state of a multi-PV VG) is completed by running the command again, which
//! `interrupted_multi_pv_export_completes` checks by stopping after the first PV's writes.

use lvmkit_tests::{lvm1_images as images, lvm1_shared as shared};
use std::path::PathBuf;
use std::sync::Arc;

use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, report};
use lvmkit::source::Source;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::write::WriteError;
use lvmkit_metadata::write::device::{WriteDevice, open_scanned};
use lvmkit_metadata::write::lvm1::{Lvm1Change, Lvm1Context, Lvm1Plan, execute, execute_on, plan};
use lvmkit_metadata::write::ops::{Change, Context};
use serde_json::Value;

const HOST: &str = "testhost";

fn ctx(time: u64) -> Lvm1Context {
    Lvm1Context { hostname: HOST.into(), time }
}

const VG_NAME: std::ops::Range<usize> = 0xAC..0xAC + 128;
const SYSTEM_ID: std::ops::Range<usize> = 0x12C..0x12C + 128;
const VG_STATUS: std::ops::Range<usize> = 4096 + 0x88..4096 + 0x8C;

/// Byte offsets where `a` and `b` differ, outside `allowed` (must be empty).
fn differs_outside(a: &[u8], b: &[u8], allowed: &[std::ops::Range<usize>]) -> Vec<usize> {
    assert_eq!(a.len(), b.len());
    (0..a.len()).filter(|&i| a[i] != b[i] && !allowed.iter().any(|r| r.contains(&i))).collect()
}

fn name_field(img: &[u8], r: std::ops::Range<usize>) -> String {
    let f = &img[r.clone()];
    let n = f.iter().position(|&b| b == 0).unwrap();
    assert!(f[n..].iter().all(|&b| b == 0), "field at {} not NUL-padded", r.start);
    String::from_utf8(f[..n].to_vec()).unwrap()
}

fn status(img: &[u8]) -> u32 {
    u32::from_le_bytes(img[VG_STATUS].try_into().unwrap())
}

fn run(paths: &[PathBuf], vg: &str, change: Lvm1Change, time: u64) -> Result<Lvm1Plan, WriteError> {
    let src = Source::load(paths, false);
    let p = plan(&src.scan, vg, change, &ctx(time))?;
    execute(&p)?;
    Ok(p)
}

fn json(paths: &[PathBuf], kind: ReportKind, key: &str, fields: &str) -> Vec<Value> {
    let src = Source::load(paths, false);
    let opts =
        ReportOptions { fields: vec![fields.into()], format: ReportFormat::Json, ..ReportOptions::default() };
    let v: Value = serde_json::from_str(&report(kind, &opts, &src).unwrap()).unwrap();
    v["report"][0][key].as_array().cloned().unwrap_or_default()
}

fn vg_row(paths: &[PathBuf]) -> (String, String) {
    let r = json(paths, ReportKind::Vg, "vg", "vg_name,vg_attr,vg_systemid");
    assert_eq!(r.len(), 1, "{r:?}");
    (r[0]["vg_attr"].as_str().unwrap().into(), r[0]["vg_systemid"].as_str().unwrap().into())
}

fn pv_attrs(paths: &[PathBuf]) -> Vec<String> {
    json(paths, ReportKind::Pv, "pv", "pv_name,pv_attr")
        .iter()
        .map(|r| r["pv_attr"].as_str().unwrap().into())
        .collect()
}

#[test]
fn export_then_import_l1a() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1a"]);
    let orig = std::fs::read(&p[0]).unwrap();
    assert_eq!(status(&orig), 4);

    let plan = run(&p, "l1a", Lvm1Change::Export, 1_800_000_000).unwrap();
    // One sector of pv_disk, then the sector of vg_disk holding vg_status.
    let at: Vec<(u64, usize)> = plan.writes.iter().map(|w| (w.at, w.new.len())).collect();
    assert_eq!(at, [(0, 512), (4096, 512)]);
    let exp = std::fs::read(&p[0]).unwrap();
    assert_eq!(differs_outside(&orig, &exp, &[VG_NAME, SYSTEM_ID, VG_STATUS]), Vec::<usize>::new());
    assert_eq!(name_field(&exp, VG_NAME), "l1aPV_EXP");
    assert_eq!(name_field(&exp, SYSTEM_ID), format!("PV_EXP{HOST}1800000000"));
    assert_eq!(status(&exp), 6, "EXPORTED|EXTENDABLE, as lvm2 left l1d");
    assert_eq!(vg_row(&p), ("wzx-n-".into(), format!("PV_EXP{HOST}1800000000")));
    assert_eq!(pv_attrs(&p), ["ax-"]);

    run(&p, "l1a", Lvm1Change::Import, 1_800_000_001).unwrap();
    let imp = std::fs::read(&p[0]).unwrap();
    // Everything but system_id is back to the never-exported bytes.
    assert_eq!(differs_outside(&orig, &imp, &[SYSTEM_ID]), Vec::<usize>::new());
    assert_eq!(name_field(&imp, SYSTEM_ID), format!("PV_IMP{HOST}1800000001"));
    assert_eq!(vg_row(&p), ("wz--n-".into(), format!("PV_IMP{HOST}1800000001")));
    assert_eq!(pv_attrs(&p), ["a--"]);
}

#[test]
fn import_of_lvm2_exported_l1d() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1d"]);
    let orig = std::fs::read(&p[0]).unwrap();
    assert_eq!(name_field(&orig, VG_NAME), "l1dPV_EXP");
    assert_eq!(name_field(&orig, SYSTEM_ID), "PV_EXPvm1795293224");
    assert_eq!(status(&orig), 6);

    run(&p, "l1d", Lvm1Change::Import, 1_795_293_300).unwrap();
    let imp = std::fs::read(&p[0]).unwrap();
    assert_eq!(differs_outside(&orig, &imp, &[VG_NAME, SYSTEM_ID, VG_STATUS]), Vec::<usize>::new());
    // What a never-exported lvm2 VG holds: the plain name, NUL-padded, and EXTENDABLE only.
    assert_eq!(name_field(&imp, VG_NAME), "l1d");
    assert_eq!(status(&imp), 4);
    assert_eq!(name_field(&imp, SYSTEM_ID), format!("PV_IMP{HOST}1795293300"));
    assert_eq!(vg_row(&p), ("wz--n-".into(), format!("PV_IMP{HOST}1795293300")));
    assert_eq!(pv_attrs(&p), ["a--"]);

    // The rebuilt VG is lvm2's vgcfgbackup of l1d without EXPORTED.
    let src = Source::load(&p, false);
    let ours = &src.assembly.vg("l1d").unwrap().metadata.vg;
    let mut want = parse_metadata(&std::fs::read(dir.join("l1d.vgcfg")).unwrap()).unwrap().vg;
    want.status.remove("EXPORTED");
    want.system_id = Some(format!("PV_IMP{HOST}1795293300"));
    for pv in &mut want.pvs {
        pv.status.remove("EXPORTED");
        pv.device = Some(p[0].display().to_string());
    }
    assert_eq!(ours, &want);

    // And exporting it again gives lvm2's export bytes back, up to the host and time.
    run(&p, "l1d", Lvm1Change::Export, 1_795_293_224).unwrap();
    let again = std::fs::read(&p[0]).unwrap();
    assert_eq!(differs_outside(&orig, &again, &[SYSTEM_ID]), Vec::<usize>::new());
    assert_eq!(name_field(&again, SYSTEM_ID), format!("PV_EXP{HOST}1795293224"));
}

#[test]
fn l1b_both_pvs_get_the_same_fields() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1b-pv0", "l1b-pv1"]);
    let orig: Vec<Vec<u8>> = p.iter().map(|x| std::fs::read(x).unwrap()).collect();
    run(&p, "l1b", Lvm1Change::Export, 42).unwrap();
    for (x, o) in p.iter().zip(&orig) {
        let b = std::fs::read(x).unwrap();
        assert_eq!(differs_outside(o, &b, &[VG_NAME, SYSTEM_ID, VG_STATUS]), Vec::<usize>::new());
        assert_eq!(name_field(&b, VG_NAME), "l1bPV_EXP");
        assert_eq!(name_field(&b, SYSTEM_ID), format!("PV_EXP{HOST}42"));
    }
    assert_eq!(vg_row(&p).0, "wzx-n-");
    assert_eq!(pv_attrs(&p), ["ax-", "ax-"]);
    run(&p, "l1b", Lvm1Change::Import, 43).unwrap();
    for (x, o) in p.iter().zip(&orig) {
        let b = std::fs::read(x).unwrap();
        assert_eq!(differs_outside(o, &b, &[SYSTEM_ID]), Vec::<usize>::new());
        assert_eq!(name_field(&b, SYSTEM_ID), format!("PV_IMP{HOST}43"));
    }
    assert_eq!(vg_row(&p).0, "wz--n-");
}

#[test]
fn interrupted_multi_pv_export_completes() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1b-pv0", "l1b-pv1"]);
    let src = Source::load(&p, false);
    let mut full = plan(&src.scan, "l1b", Lvm1Change::Export, &ctx(7)).unwrap();
    // Cut after the first PV's two writes: pv0 exported, pv1 not.
    full.writes.retain(|w| w.pv == 0);
    execute(&full).unwrap();
    let src = Source::load(&p, false);
    // The reader drops the exported PV and cannot build the rest (LVs on a missing PV)…
    assert!(src.assembly.vg("l1b").is_none());
    assert!(
        src.assembly.findings.iter().any(|f| f.to_string().contains("missing PV")),
        "mixed state not seen"
    );
    // …but the planner gathers both PVs by name and finishes the export…
    let p2 = run(&p, "l1b", Lvm1Change::Export, 8).unwrap();
    assert_eq!(p2.system_id, format!("PV_EXP{HOST}7"), "kept the PV_EXP system ID already written");
    assert_eq!(vg_row(&p).0, "wzx-n-");
    assert_eq!(pv_attrs(&p), ["ax-", "ax-"]);
    // …and the same from the other direction: cut an import after one PV, then import again.
    let src = Source::load(&p, false);
    let mut imp = plan(&src.scan, "l1b", Lvm1Change::Import, &ctx(9)).unwrap();
    imp.writes.retain(|w| w.pv == 0);
    execute(&imp).unwrap();
    run(&p, "l1b", Lvm1Change::Import, 10).unwrap();
    assert_eq!(vg_row(&p).0, "wz--n-");
    assert_eq!(pv_attrs(&p), ["a--", "a--"]);
}

fn refused(paths: &[PathBuf], vg: &str, change: Lvm1Change) -> WriteError {
    let before: Vec<Vec<u8>> = paths.iter().map(|x| std::fs::read(x).unwrap()).collect();
    let e = run(paths, vg, change, 1).unwrap_err();
    let after: Vec<Vec<u8>> = paths.iter().map(|x| std::fs::read(x).unwrap()).collect();
    assert!(before == after, "{vg}: refused ({e}) but bytes changed");
    e
}

#[test]
fn refusals_write_nothing() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let a = images(&dir, tmp.path(), &["l1a"]);
    let d = images(&dir, tmp.path(), &["l1d"]);
    let b0 = images(&dir, tmp.path(), &["l1b-pv0"]);
    let e = refused(&a, "l1a", Lvm1Change::Import);
    assert!(e.to_string().contains("is not exported"), "{e}");
    let e = refused(&d, "l1d", Lvm1Change::Export);
    assert!(e.to_string().contains("already exported"), "{e}");
    let e = refused(&b0, "l1b", Lvm1Change::Export);
    assert!(matches!(e, WriteError::Inconsistent { .. }) && e.to_string().contains("partial"), "{e}");
    let e = refused(&a, "nosuch", Lvm1Change::Export);
    assert!(matches!(e, WriteError::Refused { .. }), "{e}");

    // Changed between scan and plan: the PV struct no longer decodes to what was scanned.
    let src = Source::load(&a, false);
    let mut img = std::fs::read(&a[0]).unwrap();
    img[0x1B8] ^= 0x02; // pv_allocatable
    std::fs::write(&a[0], &img).unwrap();
    let e = plan(&src.scan, "l1a", Lvm1Change::Export, &ctx(1)).unwrap_err();
    assert!(e.to_string().contains("changed since it was scanned"), "{e}");
    assert!(std::fs::read(&a[0]).unwrap() == img);

    // Changed between plan and execution (in the second PV): nothing is written to either PV.
    let b = images(&dir, tmp.path(), &["l1b-pv0", "l1b-pv1"]);
    let src = Source::load(&b, false);
    let pl = plan(&src.scan, "l1b", Lvm1Change::Export, &ctx(1)).unwrap();
    let mut img1 = std::fs::read(&b[1]).unwrap();
    img1[4096 + 0x90] ^= 1; // vg_disk.lv_cur, in the sector vg_status is written to
    std::fs::write(&b[1], &img1).unwrap();
    let before0 = std::fs::read(&b[0]).unwrap();
    let devs: Vec<Arc<dyn WriteDevice>> = pl.devices.iter().map(|n| open_scanned(n).unwrap()).collect();
    let e = execute_on(&pl, &devs).unwrap_err();
    assert!(e.to_string().contains("changed since it was scanned"), "{e}");
    assert!(std::fs::read(&b[0]).unwrap() == before0);
    assert!(std::fs::read(&b[1]).unwrap() == img1);
}

#[test]
fn kit_dispatches_lvm1_and_the_lvm2_writer_still_refuses() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1a"]);
    let orig = std::fs::read(&p[0]).unwrap();
    // Even with a "takeover" of the LVM1 system_id (a host+time stamp, not an owner): refused as LVM1.
    let c = Context {
        hostname: Some("kithost".into()),
        time: Some(5),
        takeover_from: Some("vm1795293143".into()),
        ..Context::default()
    };
    let b = Default::default();

    // The LVM2 path (tags) refuses, nothing written.
    let src = Source::load(&p, false);
    let e = lvmkit::write::change_vgs_with(&src, &["l1a".into()], &[Change::AddVgTag("t".into())], &c, &b)
        .unwrap_err();
    assert!(e.to_string().contains("never over an LVM1 PV"), "{e}");
    assert!(std::fs::read(&p[0]).unwrap() == orig);

    let out = lvmkit::write::export_import(&src, &["l1a".into()], true, &c, &b).unwrap().to_string();
    assert!(out.contains("successfully exported"), "{out}");
    assert_eq!(vg_row(&p), ("wzx-n-".into(), "PV_EXPkithost5".into()));
    let src = Source::load(&p, false);
    let out = lvmkit::write::export_import(&src, &["l1a".into()], false, &c, &b).unwrap().to_string();
    assert!(out.contains("successfully imported"), "{out}");
    assert_eq!(vg_row(&p), ("wz--n-".into(), "PV_IMPkithost5".into()));
}
