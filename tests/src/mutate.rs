//! Edits of real PV images for tests, done the way lvm2 would write them: label re-encoded with
//! its CRC, new text placed after the committed copy in the ring, mda header re-checksummed.

use lvmkit_metadata::crc::lvm_crc;
use lvmkit_metadata::label::{encode_label, find_label};
use lvmkit_metadata::mda_header::MdaHeader;
use lvmkit_metadata::pv_header::PvHeader;
use lvmkit_metadata::raw_locn::RawLocn;

/// The label's pv_header (sector 1).
pub fn pv_header(img: &[u8]) -> PvHeader {
    find_label(&img[..2048]).expect("label decodes").label.expect("a label").pv_header
}

/// Rewrite the label (sector 1) after applying `f` to its pv_header.
pub fn edit_label(img: &mut [u8], f: impl FnOnce(&mut PvHeader)) {
    let mut pv = pv_header(img);
    f(&mut pv);
    img[512..1024].copy_from_slice(&encode_label(1, &pv));
}

/// Start of mda `n` (0-based) according to the label.
pub fn mda_start(img: &[u8], n: usize) -> u64 {
    pv_header(img).metadata_areas[n].offset
}

/// The mda header at `start`.
pub fn header(img: &[u8], start: u64) -> MdaHeader {
    MdaHeader::parse(&img[start as usize..start as usize + 512], start).expect("mda header decodes")
}

/// Write the header at its start.
pub fn put_header(img: &mut [u8], h: &MdaHeader) {
    img[h.start as usize..h.start as usize + 512].copy_from_slice(&h.encode());
}

/// The committed text (without NUL) of the mda at `start` (unwrapped copies only).
pub fn committed_text(img: &[u8], start: u64) -> String {
    let h = header(img, start);
    let at = (start + h.committed.offset) as usize;
    String::from_utf8(img[at..at + h.committed.size as usize - 1].to_vec()).expect("UTF-8")
}

/// Commit `text` into the mda at `start` as lvm2 would: after the current copy (or at 512),
/// slot 0 updated, header re-checksummed. Returns the new slot.
pub fn commit_text(img: &mut [u8], start: u64, text: &str) -> RawLocn {
    let mut t = text.as_bytes().to_vec();
    t.push(0);
    let mut h = header(img, start);
    let mut off = if h.committed.is_empty() {
        512
    } else {
        (h.committed.offset + h.committed.size).div_ceil(512) * 512
    };
    if off + t.len() as u64 > h.size {
        off = 512;
    }
    let at = (start + off) as usize;
    img[at..at + t.len()].copy_from_slice(&t);
    h.committed = RawLocn { offset: off, size: t.len() as u64, checksum: lvm_crc(&t), flags: 0 };
    put_header(img, &h);
    h.committed
}
