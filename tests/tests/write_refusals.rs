//! Writes that must be refused before anything is written (issue 10, items 3 and 4):
//! a VG whose PV is on two devices (lvm2: "Cannot update volume group … with duplicate PV
//! devices"), and `restore-metadata` on a VG owned by another system ID or exported (the same
//! rules as every other writer). Every refusal leaves every byte of every image unchanged; each
//! case has a control where the same write goes through.

use std::path::{Path, PathBuf};

use lvmkit::source::Source;
use lvmkit::write::{change_vgs, change_vgs_with, context, export_import, restore_metadata, vgcfgrestore};
use lvmkit_metadata::ring;
use lvmkit_metadata::write::WriteError;
use lvmkit_metadata::write::backup::Backups;
use lvmkit_metadata::write::ops::{Change, Context};
use lvmkit_tests::case;

/// Copies of a case's first image: `n` files with the same bytes (the same PV on `n` devices).
fn copies(dir: &Path, name: &str, n: usize) -> Vec<PathBuf> {
    let src = &case(name).images[0];
    (0..n)
        .map(|i| {
            let p = dir.join(format!("{name}-{i}.img"));
            std::fs::copy(src, &p).unwrap();
            p
        })
        .collect()
}

fn bytes(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn ctx(host: Option<&str>, takeover: Option<&str>) -> Context {
    context(host.map(str::to_string), takeover.map(str::to_string), "lvmkit test")
}

/// The lowest intact seqno older than the current one in the first mda of `device`.
fn older_seqno(src: &Source, device: &Path) -> u64 {
    let pv = src.scan.pvs.iter().find(|p| p.name() == device.display().to_string()).unwrap();
    let h = pv.mdas[0].header.as_ref().unwrap();
    let current = src.assembly.vgs[0].metadata.vg.seqno;
    ring::history(pv.device.as_ref(), h)
        .unwrap()
        .iter()
        .filter(|e| !e.damaged && e.seqno < current)
        .map(|e| e.seqno)
        .min()
        .expect("an older copy in the ring")
}

fn seqno(paths: &[PathBuf]) -> u64 {
    Source::load(paths, false).assembly.vgs[0].metadata.vg.seqno
}

/// A write's outcome as its printed text.
fn text<T: ToString>(r: Result<T, WriteError>) -> Result<String, WriteError> {
    r.map(|w| w.to_string())
}

fn is_duplicate_refusal(r: &Result<String, WriteError>, devices: &[PathBuf]) -> bool {
    match r {
        Err(WriteError::DuplicatePv { devices: d, .. }) => {
            devices.iter().all(|p| d.contains(&p.display().to_string()))
        }
        _ => false,
    }
}

#[test]
fn every_write_refuses_a_vg_with_a_duplicate_pv_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let imgs = copies(dir.path(), "linear", 2);
    let before = bytes(&imgs);
    let src = Source::load(&imgs, false);
    let vg = src.assembly.vgs[0].name().to_string();
    let lv = src.assembly.vgs[0].metadata.vg.lvs[0].name.clone();
    let old = older_seqno(&src, &imgs[0]);
    let c = ctx(None, None);
    let archive = dir.path().join("archive");
    let backups = Backups { archive_dir: Some(archive.clone()), ..Backups::default() };
    let one = |ch: Change| text(change_vgs_with(&src, std::slice::from_ref(&vg), &[ch], &c, &backups));
    let attempts: Vec<(&str, Result<String, WriteError>)> = vec![
        ("vgchange --addtag", one(Change::AddVgTag("t".into()))),
        ("vgchange --deltag", one(Change::DelVgTag("t".into()))),
        ("lvchange --addtag", one(Change::AddLvTag { lv: lv.clone(), tag: "t".into() })),
        ("vgchange --systemid", one(Change::SetSystemId(Some("host-b".into())))),
        ("vgchange --setautoactivation n", one(Change::SetAutoactivation(false))),
        ("vgexport", text(export_import(&src, std::slice::from_ref(&vg), true, &c, &backups))),
        ("restore-metadata", text(restore_metadata(&src, &imgs[0], old, &c))),
        (
            "vgcfgrestore",
            text(vgcfgrestore(&src, &vg, &case("linear").dir.join("vgcfgbackup.vg"), false, &c, &backups)),
        ),
    ];
    for (what, r) in &attempts {
        assert!(is_duplicate_refusal(r, &imgs), "{what}: {r:?}");
    }
    let msg = attempts[0].1.as_ref().unwrap_err().to_string();
    assert!(msg.contains(&format!("cannot update volume group {vg} with duplicate PV devices")), "{msg}");
    assert!(bytes(&imgs) == before, "an image changed");
    assert!(
        !archive.exists() || std::fs::read_dir(&archive).unwrap().next().is_none(),
        "an archive was written"
    );

    // vgimport of an exported VG on two devices: refused as well.
    let exp = copies(dir.path(), "exported", 2);
    let exp_before = bytes(&exp);
    let esrc = Source::load(&exp, false);
    let evg = esrc.assembly.vgs[0].name().to_string();
    let r = text(export_import(&esrc, std::slice::from_ref(&evg), false, &c, &Backups::default()));
    assert!(is_duplicate_refusal(&r, &exp), "vgimport: {r:?}");
    assert!(bytes(&exp) == exp_before, "an exported image changed");

    // Control: the same write with one copy given goes through.
    let first = vec![imgs[0].clone()];
    let src1 = Source::load(&first, false);
    let s0 = seqno(&first);
    change_vgs(&src1, std::slice::from_ref(&vg), &[Change::AddVgTag("t".into())], &c).unwrap();
    assert_eq!(seqno(&first), s0 + 1);
}

#[test]
fn restore_metadata_refuses_a_vg_owned_by_another_system_id() {
    let dir = tempfile::tempdir().unwrap();
    let imgs = copies(dir.path(), "system-id", 1);
    let before = bytes(&imgs);
    let src = Source::load(&imgs, false);
    let owner = src.assembly.vgs[0].metadata.vg.system_id.clone().expect("an owned VG");
    let old = older_seqno(&src, &imgs[0]);
    for (host, takeover) in [(None, None), (Some("other-host"), None), (None, Some("not-the-owner"))] {
        let r = restore_metadata(&src, &imgs[0], old, &ctx(host, takeover));
        assert!(
            matches!(&r, Err(WriteError::Refused { why, .. }) if why.contains(&format!("owned by system ID {owner}"))),
            "{host:?} {takeover:?}: {r:?}"
        );
        assert!(bytes(&imgs) == before, "the image changed");
    }
    // Control: with the takeover from the owner (or as the owner) it is written.
    let s0 = seqno(&imgs);
    restore_metadata(&src, &imgs[0], old, &ctx(None, Some(&owner))).unwrap();
    assert_eq!(seqno(&imgs), s0 + 1);
    let src = Source::load(&imgs, false);
    restore_metadata(&src, &imgs[0], old, &ctx(Some(&owner), None)).unwrap();
    assert_eq!(seqno(&imgs), s0 + 2);
}

#[test]
fn restore_metadata_does_not_unexport_an_exported_vg() {
    let dir = tempfile::tempdir().unwrap();
    let imgs = copies(dir.path(), "exported", 1);
    let before = bytes(&imgs);
    let src = Source::load(&imgs, false);
    assert!(src.assembly.vgs[0].metadata.vg.is_exported());
    let vg = src.assembly.vgs[0].name().to_string();
    let old = older_seqno(&src, &imgs[0]);
    let r = restore_metadata(&src, &imgs[0], old, &ctx(None, None));
    assert!(matches!(&r, Err(WriteError::Refused { why, .. }) if why.contains("is exported")), "{r:?}");
    assert!(bytes(&imgs) == before, "the image changed");
    // Control: imported first, the restore goes through.
    export_import(&src, std::slice::from_ref(&vg), false, &ctx(None, None), &Backups::default()).unwrap();
    let src = Source::load(&imgs, false);
    let s0 = src.assembly.vgs[0].metadata.vg.seqno;
    restore_metadata(&src, &imgs[0], old, &ctx(None, None)).unwrap();
    assert_eq!(seqno(&imgs), s0 + 1);
}

/// A write allowed on an inconsistent VG (the restore is the repair) overwrites the stale copy
/// and says so, as lvm2 does ("WARNING: Updating old metadata to N on DEV for VG V."); a write
/// over consistent copies says nothing of the kind.
#[test]
fn a_write_that_repairs_a_stale_copy_warns() {
    let dir = tempfile::tempdir().unwrap();
    let imgs: Vec<PathBuf> = case("spanning")
        .images
        .iter()
        .map(|p| {
            let d = dir.path().join(p.file_name().unwrap());
            std::fs::copy(p, &d).unwrap();
            d
        })
        .collect();
    let src = Source::load(&imgs, false);
    let vg = src.assembly.vgs[0].name().to_string();
    let s0 = src.assembly.vgs[0].metadata.vg.seqno;
    let pv2 = std::fs::read(&imgs[1]).unwrap();
    let out = change_vgs(&src, std::slice::from_ref(&vg), &[Change::AddVgTag("t".into())], &ctx(None, None))
        .unwrap()
        .to_string();
    assert!(!out.contains("WARNING"), "{out}");
    std::fs::write(&imgs[1], &pv2).unwrap();
    let src = Source::load(&imgs, false);
    let out = restore_metadata(&src, &imgs[1], s0, &ctx(None, None)).unwrap().to_string();
    let want = format!("WARNING: Updating old metadata to {} on {} for VG {vg}", s0 + 2, imgs[1].display());
    assert!(out.contains(&want), "{out}");
    assert!(!out.contains(&format!("on {} for VG", imgs[0].display())), "{out}");
}

/// Not a refusal: a device smaller than its PV's `dev_size` (a shrunk LUN, a truncated image).
/// lvm2's `check_pv_dev_sizes` only warns ("Was device resized?") and writes on; so do we.
#[test]
fn a_device_smaller_than_its_pv_is_written_with_a_warning_as_lvm2_does() {
    use lvmkit_metadata::assemble::Finding;
    let dir = tempfile::tempdir().unwrap();
    let imgs = copies(dir.path(), "linear", 1);
    let full = std::fs::metadata(&imgs[0]).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&imgs[0]).unwrap();
    f.set_len(full / 2).unwrap();
    drop(f);
    let src = Source::load(&imgs, false);
    assert!(
        src.assembly.findings.iter().any(|f| matches!(f, Finding::DeviceSmallerThanPv { .. })),
        "control: the short device is noticed: {:?}",
        src.assembly.findings
    );
    let vg = src.assembly.vgs[0].name().to_string();
    let s0 = seqno(&imgs);
    let w = change_vgs(&src, std::slice::from_ref(&vg), &[Change::AddVgTag("t".into())], &ctx(None, None));
    assert!(w.is_ok(), "{w:?}");
    assert_eq!(seqno(&imgs), s0 + 1);
    let after = Source::load(&imgs, false);
    assert!(after.assembly.vgs[0].metadata.vg.tags.iter().any(|t| t == "t"));
}
