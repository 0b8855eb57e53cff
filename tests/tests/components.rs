//! The default scan on a fake sysfs tree (`topology::FakeSysfs`) whose "devices" are copies of
//! an lvm2-made PV image: each PV found once, on the device at the top of the stack, as lvm2
//! does — multipath paths, md members (assembled or not) and LVs are components, never PVs —
//! and a PV on two unrelated devices is a duplicate that activation and writes refuse, naming
//! both. (The same cases on real multipath maps and md arrays, judged by lvm2: `vm_qemu.rs`
//! `vm_qemu_components`.)

use std::path::Path;

use lvmkit::activate::{ActivateError, plan};
use lvmkit::source::Source;
use lvmkit::target::Target;
use lvmkit_activation::{Error, PlanOptions};
use lvmkit_metadata::assemble::assemble;
use lvmkit_metadata::scan::{ScanOptions, scan_with};
use lvmkit_metadata::topology::{Component, FakeSysfs, MD_SB_MAGIC, md_superblock_offsets};
use lvmkit_tests::case;

/// The linear case's one PV image (VG `lk_linear`).
fn pv_image() -> Vec<u8> {
    std::fs::read(&case("linear").images[0]).unwrap()
}

/// Scan the fake tree's /proc/partitions the way `lvmkit` scans the kernel's.
fn load(t: &FakeSysfs, scan_lvs: bool) -> Source {
    let scan = scan_with(&ScanOptions { devices: None, scan_lvs, direct: false }, &t.sys());
    let assembly = assemble(&scan);
    Source { scan, assembly }
}

fn pv_names(src: &Source) -> Vec<String> {
    src.scan.pvs.iter().map(|p| p.name().to_string()).collect()
}

fn components(src: &Source) -> Vec<(String, Component)> {
    src.scan.components.iter().map(|c| (c.device.clone(), c.why.clone())).collect()
}

/// A disk `name` (`8:minor`) whose node is a copy of `image`.
fn disk(t: &FakeSysfs, name: &str, minor: u32, image: &[u8]) {
    t.dev(name, 8, minor, image.len() as u64 / 1024).unwrap();
    std::fs::write(t.dev_path(name), image).unwrap();
}

fn tree(dir: &Path) -> FakeSysfs {
    FakeSysfs::new(dir).unwrap()
}

#[test]
fn multipath_map_is_the_pv_its_paths_are_not() {
    let img = pv_image();
    let d = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    disk(&t, "sda", 0, &img);
    disk(&t, "sdb", 16, &img);
    t.dev("dm-0", 253, 0, img.len() as u64 / 1024).unwrap();
    t.attr("dm-0", "dm/uuid", "mpath-3600140512345").unwrap().attr("dm-0", "dm/name", "mpatha").unwrap();
    std::fs::write(t.dev_path("mapper/mpatha"), &img).unwrap();

    // Negative control: without the holder relation the three are duplicates, and lvm2's rule
    // "device is in dm subsystem" picks the map.
    let src = load(&t, false);
    assert_eq!(src.scan.pvs.len(), 3, "{:?}", pv_names(&src));
    let vg = src.assembly.vg("lk_linear").unwrap();
    let mapper = t.dev_path("mapper/mpatha").display().to_string();
    assert_eq!(vg.duplicates.len(), 1);
    assert_eq!(vg.duplicates[0].chosen, mapper);
    assert_eq!(vg.duplicates[0].why, "device is in dm subsystem");

    t.stack("sda", "dm-0").unwrap().stack("sdb", "dm-0").unwrap();
    let src = load(&t, false);
    assert_eq!(pv_names(&src), std::slice::from_ref(&mapper));
    let path = |n: &str| {
        (
            t.dev_path(n).display().to_string(),
            Component::MultipathPath { map: Some("dm-0".into()), wwid: None },
        )
    };
    assert_eq!(components(&src), [path("sda"), path("sdb")]);
    let vg = src.assembly.vg("lk_linear").unwrap();
    assert!(vg.duplicates.is_empty() && !vg.is_partial());
    assert_eq!(src.scan.pvs[0].block.as_ref().unwrap().slaves, ["sda", "sdb"]);
    plan(&src, &[Target::vg("lk_linear")], &PlanOptions::default()).expect("plannable");
}

#[test]
fn paths_of_a_map_not_assembled_are_components_by_wwid() {
    let img = pv_image();
    let d = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    disk(&t, "sda", 0, &img);
    disk(&t, "sdb", 16, &img);
    t.attr("sda", "device/wwid", "naa.5000c50000000001").unwrap();
    // Control: different WWIDs are a real duplicate.
    t.attr("sdb", "device/wwid", "naa.5000c50000000002").unwrap();
    let src = load(&t, false);
    assert_eq!(src.scan.pvs.len(), 2);
    assert_eq!(src.assembly.vg("lk_linear").unwrap().duplicates.len(), 1);
    // One WWID: lvm2's `_all_multipath_components` drops both, and with them the VG.
    t.attr("sdb", "device/wwid", "naa.5000c50000000001").unwrap();
    let src = load(&t, false);
    assert!(src.scan.pvs.is_empty(), "{:?}", pv_names(&src));
    assert!(src.assembly.vgs.is_empty());
    assert_eq!(src.scan.components.len(), 2);
    assert!(src.scan.components.iter().all(|c| matches!(&c.why, Component::MultipathPath { map: None, wwid: Some(w) } if w == "naa.5000c50000000001")));
}

/// `img` as an md member with a superblock of `version` (1.0 or 0.90: at the end, the member
/// one MiB larger than the array the PV was made on).
fn md_member(img: &[u8], version: &str) -> Vec<u8> {
    let mut m = img.to_vec();
    m.resize(img.len() + (1 << 20), 0);
    let (_, at) = md_superblock_offsets(m.len() as u64).into_iter().find(|(v, _)| *v == version).unwrap();
    m[at as usize..at as usize + 4].copy_from_slice(&MD_SB_MAGIC.to_le_bytes());
    m
}

#[test]
fn md_members_are_components_assembled_or_not() {
    let img = pv_image();
    for version in ["1.0", "0.90"] {
        let d = tempfile::tempdir().unwrap();
        let t = tree(d.path());
        let member = md_member(&img, version);
        disk(&t, "vdb", 0, &member);
        disk(&t, "vdc", 16, &member);
        // The array stopped: both members are md components (their size differs from the
        // label's, so their end is read), no VG.
        let src = load(&t, false);
        assert!(src.scan.pvs.is_empty(), "{version}: {:?}", pv_names(&src));
        assert!(src.assembly.vgs.is_empty());
        let sb: Vec<&str> = src
            .scan
            .components
            .iter()
            .map(|c| match &c.why {
                Component::MdSuperblock(s) => s.version,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sb, [version, version]);
        // Assembled: md0 holds them and is the PV.
        t.dev("md0", 9, 0, img.len() as u64 / 1024).unwrap();
        t.attr("md0", "md/level", "raid1").unwrap();
        std::fs::write(t.dev_path("md0"), &img).unwrap();
        t.stack("vdb", "md0").unwrap().stack("vdc", "md0").unwrap();
        let src = load(&t, false);
        assert_eq!(pv_names(&src), [t.dev_path("md0").display().to_string()]);
        assert_eq!(
            components(&src).into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
            [Component::MdMember { array: "md0".into() }, Component::MdMember { array: "md0".into() }]
        );
        assert!(src.assembly.vg("lk_linear").is_some_and(|v| v.duplicates.is_empty()));
    }
    // Control: a grown disk without a superblock (its end is read too) stays a PV.
    let d = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    let mut grown = img.clone();
    grown.resize(img.len() + (1 << 20), 0);
    disk(&t, "vdb", 0, &grown);
    let src = load(&t, false);
    assert_eq!(src.scan.pvs.len(), 1);
    assert!(src.scan.components.is_empty());
}

#[test]
fn lvs_only_with_scan_lvs() {
    let img = pv_image();
    let d = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    t.dev("dm-1", 253, 1, img.len() as u64 / 1024).unwrap();
    let uuid = format!("LVM-{}{}", "a".repeat(32), "b".repeat(32));
    t.attr("dm-1", "dm/uuid", &uuid).unwrap();
    std::fs::write(t.dev_path("dm-1"), &img).unwrap();
    let src = load(&t, false);
    assert!(src.scan.pvs.is_empty());
    assert_eq!(components(&src)[0].1, Component::Lv { uuid: uuid.clone() });
    let src = load(&t, true);
    assert_eq!(pv_names(&src), [t.dev_path("dm-1").display().to_string()]);
}

#[test]
fn unrelated_duplicates_are_refused_naming_both() {
    let img = pv_image();
    let d = tempfile::tempdir().unwrap();
    let t = tree(d.path());
    disk(&t, "sdb", 16, &img);
    disk(&t, "sdc", 32, &img);
    // sdc is used by an active LV: lvm2's first applicable rule prefers it.
    t.dev("dm-5", 253, 5, 4096).unwrap();
    t.attr("dm-5", "dm/uuid", &format!("LVM-{}", "c".repeat(64))).unwrap();
    t.stack("sdc", "dm-5").unwrap();
    let src = load(&t, false);
    let vg = src.assembly.vg("lk_linear").unwrap();
    let (b, c) = (t.dev_path("sdb").display().to_string(), t.dev_path("sdc").display().to_string());
    assert_eq!(vg.duplicates.len(), 1);
    assert_eq!(
        (vg.duplicates[0].chosen.as_str(), vg.duplicates[0].why),
        (c.as_str(), "device is used by LV")
    );
    assert_eq!(vg.duplicates[0].ignored, std::slice::from_ref(&b));
    let e = plan(&src, &[Target::vg("lk_linear")], &PlanOptions::default()).unwrap_err();
    let ActivateError::Plan { source, .. } = &e else { panic!("{e}") };
    assert!(matches!(**source, Error::DuplicatePvs { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&b) && msg.contains(&c) && msg.contains("duplicate devices"), "{msg}");
    // Writes refuse too, in the writer itself (lvm2: "Cannot update volume group … with
    // duplicate PV devices"): tests/tests/write_refusals.rs, every write, bytes compared.
    // Control: with one device gone, the same VG plans.
    std::fs::remove_file(t.dev_path("sdb")).unwrap();
    let src = load(&t, false);
    assert!(src.assembly.vg("lk_linear").unwrap().duplicates.is_empty());
    plan(&src, &[Target::vg("lk_linear")], &PlanOptions::default()).expect("plannable");
}
