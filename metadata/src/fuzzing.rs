//! Entry points shared by the libFuzzer targets in `fuzz/` and the robustness tests that run in
//! the normal suite. Each takes arbitrary bytes, must never panic, and asserts the invariants a
//! fuzzer should check beyond "no crash" (round trips).

use std::sync::Arc;

use crate::assemble::assemble;
use crate::device::{Device, MemDevice};
use crate::import::import;
use crate::label::find_label;
use crate::mda_header::{MDA_HEADER_SIZE, MdaHeader};
use crate::raw_locn::RawLocn;
use crate::ring;
use crate::scan::scan_devices;
use crate::text::{parse, write_file, write_raw};

/// Label + pv_header decoding of the first 2 KiB; a decoded header re-encodes to a label that
/// decodes to the same header.
pub fn label(data: &[u8]) {
    if let Ok(scan) = find_label(data) {
        if let Some(l) = scan.label {
            let sector = crate::label::encode_label(l.sector, &l.pv_header);
            let mut area = vec![0u8; crate::label::LABEL_SCAN_SIZE];
            area[l.sector as usize * 512..][..512].copy_from_slice(&sector);
            let again = find_label(&area).expect("re-encoded label decodes").label.expect("a label");
            assert_eq!(again.pv_header, l.pv_header);
        }
    }
}

/// mda header decoding: first 8 bytes are the expected start, the rest the header sector.
/// A header that decodes re-encodes to the same bytes' meaning.
pub fn mda_header(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let start = u64::from_le_bytes(data[..8].try_into().expect("8 bytes"));
    if let Ok(h) = MdaHeader::parse(&data[8..], start) {
        assert_eq!(MdaHeader::parse(&h.encode(), start).expect("re-encoded header decodes"), h);
    }
}

/// Ring-buffer reads: the first 40 bytes choose an mda (size) and a slot (offset, size, crc);
/// the rest is the device. Exercises wrap-around, bounds and the history walk.
pub fn ring(data: &[u8]) {
    if data.len() < 40 {
        return;
    }
    let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().expect("8 bytes"));
    let dev = MemDevice::new("fuzz", data[40..].to_vec());
    let size = u64_at(0) % (dev.size() + 1);
    if size < MDA_HEADER_SIZE {
        return;
    }
    let rl = RawLocn { offset: u64_at(8), size: u64_at(16), checksum: u64_at(24) as u32, flags: 0 };
    let h = MdaHeader { checksum: 0, start: 0, size, committed: rl, precommitted: RawLocn::default() };
    if let Ok(t) = ring::read_text(&dev, &h, &rl) {
        assert_eq!(t.len() as u64, rl.size);
    }
    if let Ok(entries) = ring::history(&dev, &h) {
        for e in entries {
            assert!(e.offset >= MDA_HEADER_SIZE && e.offset < size && e.size <= size - MDA_HEADER_SIZE);
        }
    }
}

/// Text parser and VG import: whatever parses must print and re-parse to the same tree, in
/// both layouts; whatever imports must not panic.
pub fn text(data: &[u8]) {
    let Ok(root) = parse(data) else { return };
    assert_eq!(parse(write_raw(&root).as_bytes()).expect("written raw text parses"), root);
    assert_eq!(parse(write_file(&root).as_bytes()).expect("written file text parses"), root);
    let _ = import(&root);
}

/// The whole offline pipeline on one or two devices cut from the input.
pub fn device(data: &[u8]) {
    let half = data.len() / 2;
    let devs: Vec<Arc<dyn Device>> = vec![
        Arc::new(MemDevice::new("fuzz0", data.to_vec())),
        Arc::new(MemDevice::new("fuzz1", data[half..].to_vec())),
    ];
    let scan = scan_devices(devs);
    let a = assemble(&scan);
    for f in &a.findings {
        let _ = f.to_string();
    }
}

/// The LVM1 decoder and VG rebuild over one device: never a panic; a VG that rebuilds must
/// write as text that imports back to the same model.
pub fn lvm1(data: &[u8]) {
    let dev = MemDevice::new("fuzz", data.to_vec());
    let Ok(Some(pv)) = crate::lvm1::read_pv(&dev) else { return };
    if pv.vg.is_none() {
        return;
    }
    if let Ok(vg) = crate::lvm1::rebuild_vg(&[pv]) {
        let text = write_file(&crate::export::export_file_tree(&vg.metadata));
        let back = crate::import::parse_metadata(text.as_bytes()).expect("rebuilt LVM1 VG text imports");
        assert_eq!(back.vg, vg.metadata.vg);
    }
}
