//! The LVM1 images made by lvm2 2.02.177 (`../shared/images/lvm1`): every VG rebuilt from
//! the disks and written by our writer must equal lvm2's own `vgcfgbackup` of it, field by
//! field (only the invented creation time/host of `snapshotN` LVs and device hints ignored).
//! Skipped, with a message, when the shared images are not beside the repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use lvmkit_metadata::device::MemDevice;
use lvmkit_metadata::export::export_file_tree;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::lvm1::{Lvm1Pv, read_pv, rebuild_vg};
use lvmkit_metadata::model::VolumeGroup;
use lvmkit_metadata::text::write_file;

fn images_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/images/lvm1");
    if d.join("README.md").is_file() {
        Some(d)
    } else {
        eprintln!("SKIPPED: {} not found (the shared LVM1 images sit beside the repository)", d.display());
        None
    }
}

fn load(dir: &Path, image: &str, name: &str) -> Lvm1Pv {
    let p = dir.join(format!("{image}.img.xz"));
    let out = Command::new("xz").arg("-dc").arg(&p).output().expect("xz runs");
    assert!(out.status.success(), "xz -dc {}", p.display());
    let dev = MemDevice::new(name, out.stdout);
    read_pv(&dev).unwrap_or_else(|e| panic!("{image}: {e}")).unwrap_or_else(|| panic!("{image}: no LVM1 PV"))
}

/// Drop what lvm2 invents at read time and what is only a hint.
fn normalise(vg: &mut VolumeGroup) {
    for pv in &mut vg.pvs {
        pv.device = None;
    }
    for lv in &mut vg.lvs {
        if lv.name.starts_with("snapshot") {
            lv.creation_time = None;
            lv.creation_host = None;
        }
    }
}

fn check(scenario: &str, images: &[&str]) {
    let Some(dir) = images_dir() else { return };
    let pvs: Vec<Lvm1Pv> =
        images.iter().enumerate().map(|(i, im)| load(&dir, im, &format!("/dev/loop{i}"))).collect();
    let rebuilt = rebuild_vg(&pvs).unwrap_or_else(|e| panic!("{scenario}: {e}"));
    assert!(!rebuilt.partial && rebuilt.ignored.is_empty(), "{scenario}: {rebuilt:?}");
    let text = write_file(&export_file_tree(&rebuilt.metadata));
    let ours =
        parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{scenario}: our text: {e}\n{text}"));
    let cfg = std::fs::read(dir.join(format!("{scenario}.vgcfg"))).expect("vgcfg");
    let theirs = parse_metadata(&cfg).unwrap_or_else(|e| panic!("{scenario}.vgcfg: {e}"));
    let (mut a, mut b, mut c) = (ours.vg, theirs.vg, rebuilt.metadata.vg.clone());
    normalise(&mut a);
    normalise(&mut b);
    normalise(&mut c);
    // Field by field, so that a failure names the field.
    macro_rules! same {
        ($($f:ident),*) => {$(
            assert_eq!(a.$f, b.$f, "{scenario}: VG field {}\n{text}", stringify!($f));
            assert_eq!(c.$f, b.$f, "{scenario}: VG field {} (model before writing)", stringify!($f));
        )*};
    }
    same!(name, id, seqno, format, status, flags, tags, system_id, extent_size, max_lv, max_pv);
    same!(allocation_policy, metadata_copies, extra);
    assert_eq!(a.pvs.len(), b.pvs.len(), "{scenario}: PV count");
    for (x, y) in a.pvs.iter().zip(&b.pvs) {
        assert_eq!(x, y, "{scenario}: PV {}", y.key);
    }
    let names = |v: &VolumeGroup| v.lvs.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{scenario}: LV names and order");
    for (x, y) in a.lvs.iter().zip(&b.lvs) {
        assert_eq!(x, y, "{scenario}: LV {}", y.name);
    }
    assert_eq!(a, b, "{scenario}: whole VG");
    assert_eq!(c, b, "{scenario}: whole VG before writing");
}

#[test]
fn l1a_three_linear_lvs_with_flags() {
    check("l1a", &["l1a"]);
}

#[test]
fn l1b_striped_and_spanning() {
    check("l1b", &["l1b-pv0", "l1b-pv1"]);
}

#[test]
fn l1c_origin_with_two_snapshots() {
    check("l1c", &["l1c"]);
}

#[test]
fn l1d_exported() {
    check("l1d", &["l1d"]);
}

#[test]
fn l1b_in_reverse_scan_order_is_the_same_vg() {
    let Some(dir) = images_dir() else { return };
    let pvs = vec![load(&dir, "l1b-pv1", "/dev/loop1"), load(&dir, "l1b-pv0", "/dev/loop0")];
    let vg = rebuild_vg(&pvs).unwrap().metadata.vg;
    assert_eq!(vg.pvs[0].device.as_deref(), Some("/dev/loop0"));
    assert_eq!(vg.pvs[1].device.as_deref(), Some("/dev/loop1"));
}

#[test]
fn l1b_one_pv_alone_is_partial_and_refused_like_lvm2() {
    let Some(dir) = images_dir() else { return };
    let e = rebuild_vg(&[load(&dir, "l1b-pv0", "/dev/loop0")]).unwrap_err();
    assert!(e.to_string().contains("missing PV"), "{e}");
}

#[test]
fn l1g_orphan() {
    let Some(dir) = images_dir() else { return };
    let pv = load(&dir, "l1g", "/dev/loop0");
    assert!(pv.vg_name().is_none() && pv.vg.is_none() && pv.lvs.is_empty());
    assert_eq!(pv.pv.pv_uuid.to_string(), "scBJUg-C2q1-puh6-ga2N-xWLL-E6B1-6iAGqd");
    assert_eq!(pv.pv.pe_start, 128);
    assert_eq!((pv.pv.pe_size, pv.pv.pe_total, pv.pv.pv_allocatable), (0, 0, 0));
    assert_eq!(u64::from(pv.pv.pv_size) * 512, 8388608);
    assert!(rebuild_vg(&[pv]).is_err());
}
