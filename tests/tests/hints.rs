//! The activation hints (`lvmkit::hints`): where a VG's PVs were last seen is used only while
//! `/proc/partitions` is unchanged and every wanted VG assembles complete from the hinted
//! devices; anything else falls back to a full scan.

use lvmkit::hints;

fn hint_file(dir: &std::path::Path, fingerprint: u64, line: &str) -> std::path::PathBuf {
    let p = dir.join("hints");
    std::fs::write(&p, format!("lvmkit-hints 1\npartitions {fingerprint}\n{line}\n")).unwrap();
    p
}

#[test]
fn hinted_devices_are_used_only_when_fresh_and_complete() {
    let case = lvmkit_tests::case("raid");
    let tmp = tempfile::tempdir().unwrap();
    let fp = hints::partitions_fingerprint().expect("/proc/partitions");
    let all: Vec<String> = case.images.iter().map(|p| p.display().to_string()).collect();
    let vgs = vec!["lk_raid".to_string()];

    // Fresh and complete: only the hinted images are read.
    let path = hint_file(tmp.path(), fp, &format!("lk_raid x {}", all.join(" ")));
    assert_eq!(hints::devices_for(&path, &vgs), Some(case.images.clone()));
    let (src, used) = hints::load(&path, &vgs, false);
    assert!(used, "fresh, complete hints must be used");
    assert_eq!(src.scan.devices_scanned, case.images.len());
    assert!(src.assembly.vg("lk_raid").is_some_and(|v| !v.is_partial()));

    // A VG the hints do not know, or stale hints (another /proc/partitions): no devices.
    assert_eq!(hints::devices_for(&path, &["other".to_string()]), None);
    let stale = hint_file(tmp.path(), fp ^ 1, &format!("lk_raid x {}", all.join(" ")));
    assert_eq!(hints::devices_for(&stale, &vgs), None);
    let bad = tmp.path().join("bad");
    std::fs::write(&bad, "not hints\n").unwrap();
    assert_eq!(hints::devices_for(&bad, &vgs), None);

    // A PV missing from the hinted devices (the VG grew elsewhere): full scan instead, and the
    // hints are rewritten from it (this host's kernel devices do not hold lk_raid).
    let path = hint_file(tmp.path(), fp, &format!("lk_raid x {}", all[..all.len() - 1].join(" ")));
    let (src, used) = hints::load(&path, &vgs, false);
    assert!(!used, "a partial VG from hints must fall back to a full scan");
    assert!(src.scan.devices_scanned != case.images.len() - 1 || src.assembly.vg("lk_raid").is_none());
    let rewritten = std::fs::read_to_string(&path).unwrap();
    assert!(rewritten.starts_with(&format!("lvmkit-hints 1\npartitions {fp}\n")), "{rewritten}");
    assert!(!rewritten.contains(" x "), "old hint line kept: {rewritten}");
}

#[test]
fn hints_written_from_a_scan_name_each_complete_vg_and_its_devices() {
    let case = lvmkit_tests::case("raid");
    let tmp = tempfile::tempdir().unwrap();
    let src = lvmkit::source::Source::load(&case.images, false);
    let path = tmp.path().join("sub/hints");
    hints::write(&path, &src);
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.starts_with("lk_raid ")).expect("lk_raid hinted");
    let vg = src.assembly.vg("lk_raid").unwrap();
    assert!(line.contains(vg.metadata.vg.id.as_str()));
    for img in &case.images {
        assert!(line.contains(&img.display().to_string()), "{line}");
    }
    // Only the VG's own PVs: a partial VG gets no line.
    let partial = lvmkit::source::Source::load(&case.images[..1], false);
    hints::write(&path, &partial);
    assert!(!std::fs::read_to_string(&path).unwrap().contains("lk_raid "));
}
