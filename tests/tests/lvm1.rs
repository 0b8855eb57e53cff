//! LVM1 (format1) PVs through the whole pipeline: scan, assembly, reports, dump, history,
//! check, on the images lvm2 2.02.177 made (`../shared/images/lvm1`). Each report is compared
//! with lvm2's JSON field by field, lvm2's `/dev/loopN` replaced by our image names. Skipped,
//! with a message, when the shared images are not beside the repository.

use lvmkit_tests::{lvm1_images as images, lvm1_shared as shared};

use lvmkit::inspect::{DumpForm, check, dump, format_history, history};
use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, report};
use lvmkit::source::Source;
use lvmkit_metadata::import::parse_metadata;
use serde_json::Value;

const SCENARIOS: &[(&str, &[&str])] = &[
    ("l1a", &["l1a"]),
    ("l1b", &["l1b-pv0", "l1b-pv1"]),
    ("l1c", &["l1c"]),
    ("l1d", &["l1d"]),
    ("l1g", &["l1g"]),
];

fn fields_of(kind: ReportKind) -> (&'static str, Vec<String>, bool) {
    let (key, f, all) = match kind {
        ReportKind::Pv => ("pv", "+pv_uuid,pe_start,pv_pe_count,pv_pe_alloc_count", false),
        ReportKind::Vg => (
            "vg",
            "+vg_uuid,vg_extent_size,vg_extent_count,vg_free_count,vg_attr,max_lv,max_pv,vg_systemid",
            false,
        ),
        ReportKind::Lv => (
            "lv",
            "+lv_uuid,seg_start_pe,seg_size_pe,segtype,stripes,stripe_size,devices,seg_pe_ranges,lv_attr,origin,chunk_size,lv_read_ahead,lv_kernel_major,lv_kernel_minor,lv_major,lv_minor",
            true,
        ),
    };
    (key, vec![f.to_string()], all)
}

fn rows(v: &Value, key: &str) -> Vec<Value> {
    v["report"][0][key].as_array().cloned().unwrap_or_default()
}

#[test]
fn reports_match_lvm2_field_by_field() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (scenario, names) in SCENARIOS {
        let paths = images(&dir, tmp.path(), names);
        let src = Source::load(&paths, false);
        for kind in [ReportKind::Pv, ReportKind::Vg, ReportKind::Lv] {
            let (key, fields, all) = fields_of(kind);
            let opts = ReportOptions {
                fields,
                all,
                units: Some("b".into()),
                format: ReportFormat::Json,
                ..ReportOptions::default()
            };
            let ours: Value = serde_json::from_str(&report(kind, &opts, &src).unwrap()).unwrap();
            let mut theirs_text =
                std::fs::read_to_string(dir.join(format!("{scenario}.{key}s.json"))).unwrap();
            // lvm2's device names → ours (longest first: /dev/loop1 is not inside /dev/loop10 here).
            for (i, p) in paths.iter().enumerate().rev() {
                theirs_text = theirs_text.replace(&format!("/dev/loop{i}"), &p.display().to_string());
            }
            let theirs: Value = serde_json::from_str(&theirs_text).unwrap();
            let (a, b) = (rows(&ours, key), rows(&theirs, key));
            assert_eq!(a.len(), b.len(), "{scenario} {key}s: row count\nours {a:#?}\ntheirs {b:#?}");
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                for (f, want) in y.as_object().unwrap() {
                    assert_eq!(x.get(f), Some(want), "{scenario} {key}s row {i} field {f}");
                }
            }
        }
    }
}

#[test]
fn dump_history_and_check() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for (_, names) in SCENARIOS {
        all.extend(images(&dir, tmp.path(), names));
    }
    let src = Source::load(&all, false);
    let c = check(&src);
    let (lines, clean) = (&c.problems, c.clean());
    assert!(clean, "{lines:?}");
    for vg in ["l1a", "l1b", "l1c", "l1d"] {
        for form in [DumpForm::Raw, DumpForm::Backup] {
            let text = dump(&src, vg, form).unwrap();
            let md = parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{vg}: {e}\n{text}"));
            assert_eq!(md.vg.format.as_deref(), Some("lvm1"));
            assert_eq!(md.vg, src.assembly.vg(vg).unwrap().metadata.vg);
        }
    }
    let h = format_history(&history(&all[0], &src).unwrap());
    assert!(h.contains("LVM1 PV") && h.contains("no metadata areas"), "{h}");
    // The orphan is an orphan.
    assert_eq!(src.assembly.orphans.len(), 1);
}

#[test]
fn partial_vg_is_a_finding_not_a_crash() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1b-pv0"]);
    let src = Source::load(&p, false);
    let c = check(&src);
    let (lines, clean) = (&c.problems, c.clean());
    assert!(!clean && lines.iter().any(|l| l.contains("missing PV")), "{lines:?}");
}

#[test]
fn lvm1_and_lvm2_on_one_device_is_a_conflict() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let p = images(&dir, tmp.path(), &["l1a"]);
    // Put an LVM2 label of a test-images case into sector 1 of the LVM1 image.
    let case = lvmkit_tests::case(&lvmkit_tests::case_names()[0]);
    let lvm2 = std::fs::read(&case.images[0]).unwrap();
    let off = case.devices[0].offset as usize;
    let mut img = std::fs::read(&p[0]).unwrap();
    img[512..1024].copy_from_slice(&lvm2[off + 512..off + 1024]);
    std::fs::write(&p[0], img).unwrap();
    let src = Source::load(&p, false);
    let c = check(&src);
    let (lines, clean) = (&c.problems, c.clean());
    assert!(!clean, "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("LVM1 pv_disk") && l.contains("LVM2 label")), "{lines:?}");
}

#[test]
fn writes_to_lvm1_vgs_are_refused_and_nothing_is_written() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let imgs = images(&dir, tmp.path(), &["l1a"]);
    let before = std::fs::read(&imgs[0]).unwrap();
    let src = Source::load(&imgs, false);
    let vg = src.assembly.vg("l1a").unwrap();
    let i = vg.pv_devices[0].unwrap();
    let dev = lvmkit_metadata::write::device::open_scanned(src.scan.pvs[i].name()).unwrap();
    let t = vec![lvmkit_metadata::write::commit::PvTarget::from_scan(&src.scan, i, dev)];
    assert!(t[0].format1);
    let mut new = (*vg.metadata).clone();
    new.vg.seqno += 1;
    new.vg.tags.push("x".into());
    let e = lvmkit_metadata::write::commit::commit(&t, &vg.metadata, &new).unwrap_err();
    assert!(e.to_string().contains("never over an LVM1 PV"), "{e}");
    assert!(std::fs::read(&imgs[0]).unwrap() == before, "the LVM1 image was modified");
}

/// An LVM1 PV vgreduce removed is an orphan whose PV struct keeps `pv_allocatable` (lvm2
/// 2.02's vgreduce sets ALLOCATABLE_PV on the PV it orphans and format1's export writes
/// PV_ALLOCATABLE); format1's import_pv turns it back into ALLOCATABLE_PV, so lvm2 2.02.177
/// shows it `a--`. The pvcreate'd orphan l1g has it 0 and shows `---` (l1g.pvs.json).
#[test]
fn lvm1_orphan_attr_follows_its_pv_struct() {
    let Some(dir) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let img = images(&dir, tmp.path(), &["l1g"]);
    let attr = |img: &[std::path::PathBuf]| {
        let opts = ReportOptions {
            fields: vec!["pv_attr,pv_allocatable,pv_fmt".into()],
            noheadings: true,
            ..ReportOptions::default()
        };
        report(ReportKind::Pv, &opts, &Source::load(img, false)).unwrap()
    };
    let theirs: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("l1g.pvs.json")).unwrap()).unwrap();
    assert_eq!(rows(&theirs, "pv")[0]["pv_attr"], "---");
    assert_eq!(attr(&img).split_whitespace().collect::<Vec<_>>(), ["---", "lvm1"]);
    // pv_allocatable = PV_ALLOCATABLE (0x02) at 0x1B8, as vgreduce leaves it.
    let mut bytes = std::fs::read(&img[0]).unwrap();
    bytes[0x1B8..0x1BC].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&img[0], bytes).unwrap();
    assert_eq!(attr(&img).split_whitespace().collect::<Vec<_>>(), ["a--", "allocatable", "lvm1"]);
}
