//! Bad input of every class gets a typed error naming the device, the offset and what was
//! expected — never a panic, never a silent skip. Each case mutates a real lvm2-made image.

use std::path::PathBuf;

use lvmkit::source::Source;
use lvmkit_metadata::Error;
use lvmkit_metadata::assemble::Finding;
use lvmkit_metadata::crc::lvm_crc;
use lvmkit_metadata::device::MemDevice;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::label::LabelNote;
use lvmkit_metadata::mda_header::MdaHeader;
use lvmkit_metadata::model::SegmentKind;
use lvmkit_metadata::raw_locn::RawLocn;
use lvmkit_tests::mutate;

/// The `linear` case's image bytes (one PV, mda1 at 4096).
fn linear_image() -> Vec<u8> {
    std::fs::read(&lvmkit_tests::case("linear").images[0]).unwrap()
}

/// Write `img` to a temp file and scan + assemble it; returns the path too.
fn load(img: &[u8]) -> (Source, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pv.img");
    std::fs::write(&p, img).unwrap();
    (Source::load(std::slice::from_ref(&p), false), p, dir)
}

/// All errors (scan errors and error findings), innermost kinds, with their device names.
fn errors(src: &Source) -> Vec<(String, Error)> {
    let mut v = Vec::new();
    let mut push = |e: &Error| match e {
        Error::OnDevice { device, source } => v.push((device.clone(), (**source).clone())),
        other => v.push((String::new(), other.clone())),
    };
    src.scan.errors.iter().for_each(&mut push);
    for f in &src.assembly.findings {
        if let Finding::Error(e) = f {
            push(e);
        }
    }
    v
}

fn header(img: &[u8]) -> MdaHeader {
    mutate::header(img, 4096)
}

/// Replace the committed text (placed at ring offset 512, which the large texts here need)
/// and fix slot 0 and the header CRC. Bytes need not be UTF-8.
fn with_text(mut img: Vec<u8>, text: &[u8]) -> Vec<u8> {
    let mut t = text.to_vec();
    t.push(0);
    let mut h = header(&img);
    img[4096 + 512..4096 + 512 + t.len()].copy_from_slice(&t);
    h.committed = RawLocn { offset: 512, size: t.len() as u64, checksum: lvm_crc(&t), flags: 0 };
    mutate::put_header(&mut img, &h);
    img
}

fn current_text(img: &[u8]) -> String {
    mutate::committed_text(img, 4096)
}

#[test]
fn truncated_device() {
    let img = linear_image();
    let (src, p, _d) = load(&img[..8192]);
    let errs = errors(&src);
    assert!(
        errs.iter().any(|(dev, e)| *dev == p.display().to_string()
            && matches!(e, Error::Truncated { what: "metadata area", at: 4096, size: 8192, .. })),
        "{errs:?}"
    );
    assert!(src.assembly.vgs.is_empty());
    // Cut inside the label sectors: no label, no panic, nothing reported as a PV.
    let (src, _, _d) = load(&img[..700]);
    assert!(src.scan.pvs.is_empty());
}

#[test]
fn bad_label_checksum() {
    let mut img = linear_image();
    img[512 + 200] ^= 0x40;
    let (src, p, _d) = load(&img);
    assert!(src.scan.pvs.is_empty());
    let (dev, note) = &src.scan.notes[0];
    assert_eq!(*dev, p.display().to_string());
    assert!(
        matches!(note, LabelNote::Skipped(Error::BadChecksum { what: "label_header", at: 512, .. })),
        "{note:?}"
    );
}

#[test]
fn bad_mda_magic_and_checksum() {
    let img = linear_image();
    let mut bad_crc = img.clone();
    bad_crc[4096 + 300] = 1;
    let (src, p, _d) = load(&bad_crc);
    let errs = errors(&src);
    assert!(
        errs.iter().any(|(d, e)| *d == p.display().to_string()
            && matches!(e, Error::BadChecksum { what: "mda_header", at: 4096, .. })),
        "{errs:?}"
    );
    // Magic damaged but CRC recomputed: the magic check names offset 4100.
    let mut bad_magic = img.clone();
    bad_magic[4096 + 5] = b'X';
    let crc = lvm_crc(&bad_magic[4100..4608]);
    bad_magic[4096..4100].copy_from_slice(&crc.to_le_bytes());
    let (src, _, _d) = load(&bad_magic);
    let errs = errors(&src);
    assert!(errs.iter().any(|(_, e)| matches!(e, Error::BadMagic { at: 4100, .. })), "{errs:?}");
    assert!(src.assembly.vgs.is_empty(), "no metadata from a bad mda");
}

#[test]
fn bad_text_checksum() {
    let mut img = linear_image();
    let h = header(&img);
    img[(4096 + h.committed.offset + 10) as usize] ^= 1;
    let (src, _, _d) = load(&img);
    let errs = errors(&src);
    let at = 4096 + h.committed.offset;
    assert!(errs.iter().any(|(_, e)| matches!(e, Error::BadChecksum { what: "metadata text", at: a, stored, .. } if *a == at && *stored == h.committed.checksum)), "{errs:?}");
}

/// Rewrite the label with `f` applied to its pv_header.
fn with_label(mut img: Vec<u8>, f: impl FnOnce(&mut lvmkit_metadata::pv_header::PvHeader)) -> Vec<u8> {
    mutate::edit_label(&mut img, f);
    img
}

#[test]
fn areas_past_the_device_end() {
    let img = with_label(linear_image(), |pv| {
        pv.metadata_areas.push(lvmkit_metadata::disk_locn::DiskLocn { offset: 1 << 40, size: 1 << 20 })
    });
    let (src, _, _d) = load(&img);
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|(_, e)| matches!(e, Error::Truncated { what: "metadata area", at, .. } if *at == 1 << 40)),
        "{errs:?}"
    );
    // The good mda1 still gives the VG.
    assert_eq!(src.assembly.vgs.len(), 1);
}

#[test]
fn overlapping_areas() {
    let img = with_label(linear_image(), |pv| {
        let m = pv.metadata_areas[0];
        pv.metadata_areas.push(lvmkit_metadata::disk_locn::DiskLocn { offset: m.offset + 4096, size: 8192 })
    });
    let (src, _, _d) = load(&img);
    let errs = errors(&src);
    assert!(
        errs.iter().any(|(_, e)| matches!(e, Error::Overlap { a_name: "mda1", b_name: "mda2", .. })),
        "{errs:?}"
    );
}

#[test]
fn garbage_text_gets_line_and_column() {
    let img = with_text(linear_image(), b"lk_linear {\nid = \"x\"\nseqno = = 3\n}\n");
    let (src, _, _d) = load(&img);
    let errs = errors(&src);
    assert!(errs.iter().any(|(_, e)| matches!(e, Error::Syntax { line: 3, column: 9, .. })), "{errs:?}");
}

#[test]
fn deeply_nested_text() {
    // 100 000 nested sections: the parser's depth limit answers, not the stack.
    let img = with_text(linear_image(), "a {\n".repeat(100_000).as_bytes());
    let (src, _, _d) = load(&img);
    let errs = errors(&src);
    assert!(errs.iter().any(|(_, e)| matches!(e, Error::Syntax { .. })), "{errs:?}");
}

#[test]
fn numbers_over_64_bits() {
    let t = current_text(&linear_image());
    let bad = t.replacen("seqno = ", "seqno = 99999999999999999999999", 1);
    let e = parse_metadata(bad.as_bytes()).unwrap_err();
    assert!(matches!(e, Error::Syntax { line: 3, .. }), "{e}");
    // Negative where lvm2 wants a count: a semantic error naming the key path.
    let neg = t.replacen("extent_size = ", "extent_size = -", 1);
    let e = parse_metadata(neg.as_bytes()).unwrap_err();
    assert!(matches!(&e, Error::Semantic { path, .. } if path == "lk_linear/extent_size"), "{e}");
}

#[test]
fn unknown_segment_type_is_kept_and_unknown_status_is_refused() {
    let t = current_text(&linear_image());
    let unknown = t.replacen("type = \"striped\"", "type = \"frobnicate\"", 1);
    let md = parse_metadata(unknown.as_bytes()).unwrap();
    let seg = &md.vg.lvs[0].segments[0];
    assert_eq!(seg.segtype.name, "frobnicate");
    assert!(matches!(&seg.kind, SegmentKind::Unknown { section } if section.get("stripes").is_some()));
    let flagged = t.replacen("type = \"striped\"", "type = \"striped+NEWFLAG\"", 1);
    assert!(matches!(
        parse_metadata(flagged.as_bytes()).unwrap().vg.lvs[0].segments[0].kind,
        SegmentKind::Unknown { .. }
    ));
    let status = t.replacen("\"VISIBLE\"", "\"VISIBLE\", \"FROB\"", 1);
    let e = parse_metadata(status.as_bytes()).unwrap_err();
    assert!(
        matches!(&e, Error::Semantic { path, found, .. } if path.ends_with("/status") && found.contains("FROB")),
        "{e}"
    );
}

#[test]
fn non_utf8_names() {
    let t = current_text(&linear_image());
    let mut bad = t.into_bytes();
    let pos = bad.windows(3).position(|w| w == b"lv0").expect("an LV named lv0");
    bad[pos + 1] = 0xff;
    let e = parse_metadata(&bad).unwrap_err();
    assert!(matches!(e, Error::Syntax { .. }), "{e}");
    // And through a device, the error names it.
    let img = with_text(linear_image(), &bad);
    let (src, p, _d) = load(&img);
    let errs = errors(&src);
    assert!(
        errs.iter().any(|(d, e)| *d == p.display().to_string() && matches!(e, Error::Syntax { .. })),
        "{errs:?}"
    );
}

#[test]
fn in_memory_device_gets_same_errors() {
    let mut img = linear_image();
    img[4096 + 300] = 1;
    let scan = lvmkit_metadata::scan::scan_devices(vec![std::sync::Arc::new(MemDevice::new("mem0", img))]);
    let e = scan.pvs[0].mdas[0].header.as_ref().unwrap_err();
    assert!(
        matches!(e, Error::OnDevice { device, source } if device == "mem0" && matches!(**source, Error::BadChecksum { .. })),
        "{e}"
    );
    assert!(e.to_string().starts_with("mem0: mda_header at byte 4096: checksum mismatch"), "{e}");
}

#[test]
fn a_key_given_twice_is_reported() {
    // lvm2 reads on with "WARNING: Ignoring duplicate config value"; `check` must not call it
    // clean. (Control: the untouched text has no such finding.)
    let t = current_text(&linear_image());
    let (src, _, _d) = load(&linear_image());
    assert!(!errors(&src).iter().any(|(_, e)| matches!(e, Error::Semantic { .. })));
    let twice = t.replacen("extent_size = ", "extent_size = 8192\nextent_size = ", 1);
    let (src, p, _d) = load(&with_text(linear_image(), twice.as_bytes()));
    let errs = errors(&src);
    assert!(
        errs.iter().any(|(d, e)| *d == p.display().to_string()
            && matches!(e, Error::Semantic { path, .. } if path == "lk_linear/extent_size")),
        "{errs:?}"
    );
    // Still read (as lvm2 does): the VG is there.
    assert!(src.assembly.vg("lk_linear").is_some());
}

#[test]
fn a_device_smaller_than_its_pv_is_reported() {
    // lvm2 warns "Device … has size of … sectors which is smaller than corresponding PV size".
    // lvm2 only warns there, and reads (and writes) on: a warning finding, not an error.
    let img = linear_image();
    let short = |src: &Source| {
        src.assembly
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::DeviceSmallerThanPv { device, dev_sectors, pv_sectors } => {
                    Some((device.clone(), *dev_sectors, *pv_sectors, f.to_string()))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let (src, _, _d) = load(&img);
    assert!(short(&src).is_empty(), "control: the whole image");
    let half = img.len() / 2;
    let (src, p, _d) = load(&img[..half]);
    let found = short(&src);
    assert_eq!(found.len(), 1, "{:?}", src.assembly.findings);
    let (device, dev_sectors, pv_sectors, text) = &found[0];
    assert_eq!((device.as_str(), *dev_sectors), (p.display().to_string().as_str(), half as u64 / 512));
    assert!(*pv_sectors > *dev_sectors);
    assert!(text.ends_with("sectors. Was device resized?") && text.starts_with("Device "), "{text}");
    assert!(errors(&src).is_empty(), "not an error: {:?}", errors(&src));
    assert!(src.assembly.vg("lk_linear").is_some());
}

#[test]
fn a_whole_disk_pv_behind_a_partition_table_is_not_hidden_silently() {
    let is_hidden = |n: &LabelNote| {
        matches!(n, LabelNote::Skipped(Error::BadField { what: "label", field: "sector 0", at: 512, .. }))
    };
    let (src, _, _d) = load(&linear_image());
    assert!(!src.scan.notes.iter().any(|(_, n)| is_hidden(n)), "control: no partition table");
    // A valid-looking MBR in sector 0 of the whole-disk PV: one partition at 1 MiB.
    let mut img = linear_image();
    img[446 + 4] = 0x83;
    img[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
    img[446 + 12..446 + 16].copy_from_slice(&4096u32.to_le_bytes());
    img[510..512].copy_from_slice(&[0x55, 0xaa]);
    let (src, p, _d) = load(&img);
    // The partition is what lvm2 would look at; the hidden PV is said.
    assert!(src.scan.pvs.is_empty());
    assert!(
        src.scan.notes.iter().any(|(d, n)| *d == p.display().to_string() && is_hidden(n)),
        "{:?}",
        src.scan.notes
    );
}
