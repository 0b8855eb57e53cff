//! VG assembly across PVs, on real multi-PV images edited the way lvm2 itself leaves disks
//! after interrupted writes, vgreduce, cloning and device loss: highest seqno wins, stale and
//! mismatching copies, missing, duplicate, outdated and orphan PVs are reported, and no
//! problem in one VG stops the others.

use std::path::PathBuf;

use lvmkit::source::Source;
use lvmkit_metadata::assemble::Finding;
use lvmkit_metadata::export::export_raw_tree;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::model::AreaTarget;
use lvmkit_metadata::ring;
use lvmkit_metadata::text::write_raw;
use lvmkit_tests::case;
use lvmkit_tests::mutate::*;

/// Write images into a temp dir and scan + assemble exactly those.
fn load(images: &[(&str, Vec<u8>)]) -> (Source, Vec<PathBuf>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = images
        .iter()
        .map(|(n, b)| {
            let p = dir.path().join(n);
            std::fs::write(&p, b).unwrap();
            p
        })
        .collect();
    (Source::load(&paths, false), paths, dir)
}

fn images(name: &str) -> Vec<Vec<u8>> {
    case(name).images.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn findings(src: &Source) -> Vec<String> {
    src.assembly.findings.iter().map(|f| f.to_string()).collect()
}

#[test]
fn missing_pv_is_reported_and_other_vgs_still_assemble() {
    let striped = images("striped");
    let linear = images("linear");
    let (src, _, _d) = load(&[("s0.img", striped[0].clone()), ("lin.img", linear[0].clone())]);
    assert_eq!(src.assembly.vgs.len(), 2, "{:?}", findings(&src));
    let vg = src.assembly.vg("lk_striped").unwrap();
    assert!(vg.is_partial());
    assert_eq!(vg.pv_devices.iter().filter(|d| d.is_none()).count(), 1);
    let missing = &vg.metadata.vg.pvs[vg.pv_devices.iter().position(|d| d.is_none()).unwrap()];
    assert!(
        src.assembly.findings.iter().any(|f| matches!(f, Finding::MissingPv { vg, pv_uuid, hint: Some(_) } if vg == "lk_striped" && *pv_uuid == missing.id)),
        "{:?}",
        findings(&src)
    );
    assert!(!src.assembly.vg("lk_linear").unwrap().is_partial());
}

#[test]
fn duplicate_pv_prefers_matching_size_then_first() {
    let lin = images("linear").remove(0);
    let (src, p, _d) = load(&[("a.img", lin.clone()), ("b.img", lin.clone())]);
    assert_eq!(src.assembly.vgs.len(), 1);
    assert_eq!(src.assembly.duplicates.len(), 1);
    assert!(
        matches!(&src.assembly.findings[..], [Finding::DuplicatePv { chosen, why: "device was seen first", .. }] if *chosen == p[0].display().to_string()),
        "{:?}",
        findings(&src)
    );
    // A grown copy no longer matches the size in the metadata: the other one is chosen.
    let mut grown = lin.clone();
    grown.extend(vec![0u8; 1 << 20]);
    let (src, p, _d) = load(&[("grown.img", grown), ("exact.img", lin)]);
    assert!(
        matches!(&src.assembly.findings[..], [Finding::DuplicatePv { chosen, why: "device size is correct", .. }] if *chosen == p[1].display().to_string()),
        "{:?}",
        findings(&src)
    );
}

#[test]
fn highest_seqno_wins_and_stale_copy_is_reported() {
    // An interrupted update leaves pv1 on an older copy: point its slot 0 back at one.
    let mut imgs = images("striped");
    let start = mda_start(&imgs[1], 0);
    let mut h = header(&imgs[1], start);
    let dev = lvmkit_metadata::device::MemDevice::new("pv1", imgs[1].clone());
    let hist = ring::history(&dev, &h).unwrap();
    let current = hist.iter().find(|e| e.committed).unwrap().seqno;
    let old = hist.iter().rfind(|e| e.seqno < current).expect("an older copy in the ring");
    h.committed.offset = old.offset;
    h.committed.size = old.size;
    h.committed.checksum = old.checksum;
    put_header(&mut imgs[1], &h);
    // Order matters for nothing: put the stale PV first.
    let (src, p, _d) = load(&[("pv1.img", imgs[1].clone()), ("pv0.img", imgs[0].clone())]);
    let vg = src.assembly.vg("lk_striped").unwrap();
    assert_eq!(vg.metadata.vg.seqno, current);
    assert!(!vg.is_partial());
    assert!(
        src.assembly
            .findings
            .iter()
            .any(|f| matches!(f, Finding::StaleCopy { device, seqno, current: c, mda: 1, .. }
            if *device == p[0].display().to_string() && *seqno == old.seqno && *c == current)),
        "{:?}",
        findings(&src)
    );
}

#[test]
fn same_seqno_different_text_is_a_mismatch() {
    let mut imgs = images("striped");
    let start = mda_start(&imgs[1], 0);
    let text = committed_text(&imgs[1], start).replacen("creation_host = \"", "creation_host = \"other-", 1);
    commit_text(&mut imgs[1], start, &text);
    let (src, p, _d) = load(&[("pv0.img", imgs[0].clone()), ("pv1.img", imgs[1].clone())]);
    assert!(
        matches!(&src.assembly.findings[..], [Finding::Mismatch { device, .. }] if *device == p[1].display().to_string()),
        "{:?}",
        findings(&src)
    );
}

#[test]
fn outdated_pv_after_vgreduce_is_an_orphan_with_a_warning() {
    // vgreduce committed a new seqno on pv0 without pv1; pv1 keeps the old text naming the VG.
    let mut imgs = images("striped");
    let start = mda_start(&imgs[0], 0);
    let mut md = parse_metadata(committed_text(&imgs[0], start).as_bytes()).unwrap();
    md.vg.seqno += 1;
    md.vg.lvs.retain(|lv| !lv.segments.iter().any(|s| s.pv_extents().iter().any(|(pv, _, _)| *pv == 1)));
    md.vg.pvs.truncate(1);
    for lv in &md.vg.lvs {
        for s in &lv.segments {
            if let lvmkit_metadata::model::SegmentKind::Striped { areas, .. } = &s.kind {
                assert!(areas.iter().all(|a| a.target == AreaTarget::Pv(0)));
            }
        }
    }
    commit_text(&mut imgs[0], start, &write_raw(&export_raw_tree(&md)));
    let (src, p, _d) = load(&[("pv0.img", imgs[0].clone()), ("pv1.img", imgs[1].clone())]);
    let vg = src.assembly.vg("lk_striped").unwrap();
    assert_eq!(vg.metadata.vg.seqno, md.vg.seqno);
    assert_eq!(vg.metadata.vg.pvs.len(), 1);
    assert_eq!(src.assembly.orphans, vec![1]);
    let f = findings(&src);
    assert!(src.assembly.findings.iter().any(|f| matches!(f, Finding::OutdatedPv { device, vg } if *device == p[1].display().to_string() && vg == "lk_striped")), "{f:?}");
    assert!(src.assembly.findings.iter().any(|f| matches!(f, Finding::StaleCopy { .. })), "{f:?}");
}

#[test]
fn orphan_pv_is_clean() {
    let (src, _, _d) = load(&[("o.img", images("orphan").remove(0))]);
    assert!(src.assembly.vgs.is_empty());
    assert_eq!(src.assembly.orphans, vec![0]);
    assert!(src.assembly.findings.is_empty(), "{:?}", findings(&src));
}

#[test]
fn zero_mda_pv_gets_membership_from_the_other_pv() {
    let imgs = images("zero-mda");
    let (src, _, _d) = load(&[("a.img", imgs[0].clone()), ("b.img", imgs[1].clone())]);
    assert_eq!(src.assembly.vgs.len(), 1, "{:?}", findings(&src));
    assert!(!src.assembly.vgs[0].is_partial());
    assert!(src.assembly.orphans.is_empty());
}

#[test]
fn label_and_metadata_disagree_on_pe_start() {
    let mut img = images("linear").remove(0);
    edit_label(&mut img, |pv| pv.data_areas[0].offset += 512 * 8);
    let (src, _, _d) = load(&[("l.img", img)]);
    assert!(
        matches!(&src.assembly.findings[..], [Finding::LabelMetadataDisagree { field: "pe_start", .. }]),
        "{:?}",
        findings(&src)
    );
}

#[test]
fn two_vgs_with_one_name() {
    // A clone whose VG and PV ids were changed (like vgimportclone without the rename).
    let lin = images("linear").remove(0);
    let mut clone = lin.clone();
    let start = mda_start(&clone, 0);
    let mut md = parse_metadata(committed_text(&clone, start).as_bytes()).unwrap();
    md.vg.id = lvmkit_metadata::id::LvmId::parse("cloneV-GIdx-xxxx-xxxx-xxxx-xxxx-xxxxxx").unwrap();
    let new_pv = lvmkit_metadata::id::LvmId::parse("cloneP-VIdx-xxxx-xxxx-xxxx-xxxx-xxxxxx").unwrap();
    md.vg.pvs[0].id = new_pv;
    commit_text(&mut clone, start, &write_raw(&export_raw_tree(&md)));
    edit_label(&mut clone, |pv| pv.pv_uuid = new_pv);
    let (src, _, _d) = load(&[("orig.img", lin), ("clone.img", clone)]);
    assert_eq!(src.assembly.vgs.len(), 2);
    assert!(
        matches!(&src.assembly.findings[..], [Finding::DuplicateVgName { other_id, .. }] if *other_id == md.vg.id),
        "{:?}",
        findings(&src)
    );
}

#[test]
fn garbage_device_among_good_ones() {
    let mut junk = vec![0u8; 4 << 20];
    junk[512..520].copy_from_slice(b"LABELONE");
    junk[536..544].copy_from_slice(b"LVM2 001"); // wrong CRC: skipped with a note
    let (src, _, _d) = load(&[("junk.img", junk), ("lin.img", images("linear").remove(0))]);
    assert_eq!(src.assembly.vgs.len(), 1);
    assert_eq!(src.scan.notes.len(), 1);
}
