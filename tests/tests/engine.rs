//! The metadata engine against every lvm2-made image: what we scan, assemble, dump and find in
//! the ring buffer must agree with lvm2's own reports and `pvck` dumps of the same images.

use lvmkit::inspect::{self, DumpForm};
use lvmkit::source::Source;
use lvmkit_metadata::export::{export_file_tree, export_raw_tree};
use lvmkit_metadata::import::{import, parse_metadata};
use lvmkit_metadata::text::{parse, write_file, write_raw};
use lvmkit_tests::{Case, case, case_names, tree_diff};

fn load(c: &Case) -> Source {
    Source::load(&c.images, false)
}

/// Rows of an lvm2 JSON report.
fn rows<'a>(v: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Map<String, serde_json::Value>> {
    v["report"][0][kind]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r.as_object()).collect())
        .unwrap_or_default()
}

#[test]
fn every_case_assembles_like_lvm2() {
    let mut checked = 0;
    for name in case_names() {
        let c = case(&name);
        let src = load(&c);
        assert!(src.scan.errors.is_empty(), "{name}: scan errors {:?}", src.scan.errors);
        let vgs = c.json("vgs.json");
        let lvm_vgs = rows(&vgs, "vg");
        assert_eq!(
            src.assembly.vgs.iter().map(|v| v.name().to_string()).collect::<Vec<_>>(),
            lvm_vgs.iter().map(|r| r["vg_name"].as_str().unwrap().to_string()).collect::<Vec<_>>(),
            "{name}: VG names"
        );
        for (ours, theirs) in src.assembly.vgs.iter().zip(&lvm_vgs) {
            let vg = &ours.metadata.vg;
            assert_eq!(vg.id.to_string(), theirs["vg_uuid"], "{name}: vg_uuid");
            assert_eq!(vg.seqno.to_string(), theirs["vg_seqno"], "{name}: vg_seqno");
            assert!(!ours.is_partial(), "{name}: VG {} partial", vg.name);
        }
        // Every PV lvm2 lists is one we found, with the same id and VG.
        let pvs = c.json("pvs.json");
        for r in rows(&pvs, "pv") {
            let uuid = r["pv_uuid"].as_str().unwrap();
            if uuid.is_empty() {
                continue; // `pvs -a` also lists devices that are not PVs
            }
            let pv = src
                .scan
                .pvs
                .iter()
                .find(|p| p.label.pv_header.pv_uuid.to_string() == uuid)
                .unwrap_or_else(|| panic!("{name}: PV {uuid} not found"));
            let our_dev = c.our_name(r["pv_name"].as_str().unwrap()).expect("device mapped");
            assert_eq!(pv.name(), our_dev, "{name}: device of PV {uuid}");
            assert_eq!(
                pv.label.pv_header.metadata_areas.len().to_string(),
                r["pv_mda_count"],
                "{name}: mda count"
            );
        }
        // Expected findings only where the case is about them: lvm2 warned about the outdated
        // PV of outdated-pv ("outdated PV … has been removed", "ignoring metadata seqno 2").
        let findings: Vec<String> = src.assembly.findings.iter().map(|f| f.to_string()).collect();
        if name == "outdated-pv" {
            let pv2 = c.images[1].display().to_string();
            assert_eq!(findings.len(), 2, "{name}: {findings:#?}");
            assert!(findings.iter().all(|f| f.starts_with(&pv2)), "{name}: {findings:#?}");
            assert!(findings.iter().any(|f| f.contains("outdated PV")), "{name}: {findings:#?}");
        } else {
            assert!(findings.is_empty(), "{name}: unexpected findings {findings:#?}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} cases");
}

#[test]
fn dump_equals_pvck_dump_metadata() {
    for name in case_names() {
        let c = case(&name);
        if !c.has("metadata.txt") {
            continue;
        }
        let src = load(&c);
        let Some(vg) = src.assembly.vgs.first() else { continue };
        let ours = inspect::dump(&src, vg.name(), DumpForm::Raw).unwrap();
        let theirs = c.text("metadata.txt");
        assert_eq!(ours.trim_end(), theirs.trim_end(), "{name}: dump differs from pvck --dump metadata");
    }
}

#[test]
fn history_equals_pvck_metadata_all() {
    let mut compared = 0;
    for name in case_names() {
        let c = case(&name);
        if !c.has("metadata_all.txt") {
            continue;
        }
        let theirs = c.text("metadata_all.txt");
        // pvck: "  metadata at 4608 length 1011 crc b1f543b7 vg lk_linear seqno 1 id …"
        let expected: Vec<(u64, u64, String, u64)> = theirs
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.first() == Some(&"metadata") && w.len() >= 11).then(|| {
                    (w[2].parse().unwrap(), w[4].parse().unwrap(), w[6].to_string(), w[10].parse().unwrap())
                })
            })
            .collect();
        if expected.is_empty() {
            continue;
        }
        // pvck dumped the first PV that has an mda, mda1.
        let src = load(&c);
        let pv = src.scan.pvs.iter().find(|p| !p.mdas.is_empty()).expect("a PV with an mda");
        let h = inspect::history(std::path::Path::new(pv.name().split(":p").next().unwrap()), &src).unwrap();
        let (_, mdas) = h.iter().find(|(d, _)| d == pv.name()).unwrap();
        let ours: Vec<(u64, u64, String, u64)> = mdas[0]
            .entries
            .iter()
            .map(|e| (e.abs_offset, e.size, format!("{:08x}", e.checksum), e.seqno))
            .collect();
        assert_eq!(ours, expected, "{name}: ring history differs from pvck --dump metadata_all");
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} cases had a history to compare");
}

#[test]
fn texts_round_trip_and_backup_file_matches_raw() {
    for name in case_names() {
        let c = case(&name);
        let src = load(&c);
        for vg in &src.assembly.vgs {
            let md = &vg.metadata;
            // write(parse(text)) is stable: parse(write(model)) gives the same model, and the
            // tree of the raw text equals the tree we write.
            let raw_tree = parse(&vg.text).unwrap();
            let d = tree_diff(&export_raw_tree(md), &raw_tree);
            assert!(d.is_none(), "{name}: export of the parsed model differs from lvm2's tree at {d:?}");
            let written = write_raw(&raw_tree);
            let d = tree_diff(&parse(written.as_bytes()).unwrap(), &raw_tree);
            assert!(d.is_none(), "{name}: write_raw not stable at {d:?}");
            let file = write_file(&export_file_tree(md));
            assert!(parse_metadata(file.as_bytes()).unwrap() == **md, "{name}: backup form round trip");
            // lvm2's own vgcfgbackup file describes the same VG.
            if c.has("vgcfgbackup.vg") {
                let theirs = import(&parse(c.text("vgcfgbackup.vg").as_bytes()).unwrap()).unwrap();
                let d = tree_diff(&export_file_tree(&theirs), &export_file_tree(md));
                assert!(theirs.vg == md.vg, "{name}: vgcfgbackup.vg differs from the on-disk text at {d:?}");
            }
        }
    }
}

/// The copy a header's committed slot points at is called committed only when lvm2 uses it:
/// not on an ignored metadata area (`ignored-mda`: PV2's area, flagged ignored, still points at
/// the seqno from before), not on an outdated PV its VG dropped (`outdated-pv`: PV2), and not
/// when the VG has moved on. pvck prints nothing there; we show the copies, as old.
#[test]
fn history_never_calls_a_stale_copy_committed() {
    let lines = |c: &Case, i: usize, context: &Source| {
        let h = inspect::history(&c.images[i], context).unwrap();
        inspect::format_history(&h)
    };
    let slot_line = |text: &str| -> String {
        text.lines()
            .find(|l| l.contains("slot still points here") || l.ends_with(" committed"))
            .unwrap_or("")
            .to_string()
    };

    let c = case("ignored-mda");
    let src = load(&c);
    let vg_seqno = src.assembly.vgs[0].metadata.vg.seqno;
    // PV1's area is in use: its slot copy is the VG's current metadata (control).
    let pv1 = lines(&c, 0, &src);
    assert!(pv1.lines().any(|l| l.ends_with(&format!("seqno {vg_seqno} committed"))), "{pv1}");
    let pv2 = lines(&c, 1, &src);
    let l = slot_line(&pv2);
    assert!(l.contains("old (ignored mda"), "{pv2}");
    assert!(!pv2.lines().any(|l| l.ends_with(" committed")), "{pv2}");

    let c = case("outdated-pv");
    let both = load(&c);
    let alone = Source::load(&c.images[1..2], false);
    // Seen alone, PV2's own metadata lists it: its slot copy is that VG's current one.
    let pv2_alone = lines(&c, 1, &alone);
    assert!(slot_line(&pv2_alone).ends_with(" committed"), "{pv2_alone}");
    // With PV1 present the VG no longer lists PV2: an orphan, its copy old.
    let pv2 = lines(&c, 1, &both);
    assert!(slot_line(&pv2).contains("old (orphan PV"), "{pv2}");
    assert!(!pv2.lines().any(|l| l.ends_with(" committed")), "{pv2}");
    let pv1 = lines(&c, 0, &both);
    assert!(pv1.lines().any(|l| l.ends_with(" committed")), "{pv1}");
}
