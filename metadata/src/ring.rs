//! The metadata area's circular buffer: reading the text a `raw_locn` points at (wrapping past
//! the area's end back to just after the header), and finding every older copy still there.

use std::borrow::Cow;

use crate::crc::LvmCrc;
use crate::device::{self, Device};
use crate::error::{Error, Result};
use crate::mda_header::{MDA_HEADER_SIZE, MdaHeader};
use crate::raw_locn::RawLocn;

/// Reads of a large area or text go in pieces of this many bytes: memory stays bounded by it,
/// whatever sizes the headers claim.
pub const CHUNK: u64 = 1 << 20;

/// lvm2 reads a text of at most `UINT32_MAX` bytes (`rlocn->size > UINT32_MAX` is refused as
/// "Metadata location out of bounds" in `lib/format_text/format-text.c`,
/// `_read_metadata_location_vg` and `read_metadata_location_summary`, before its `uint32_t`
/// casts); with `rlocn->offset >= mdah->size` and `rlocn->size > mdah->size - MDA_HEADER_SIZE`
/// these are the only bounds it puts on a slot.
pub const MAX_TEXT_SIZE: u64 = u32::MAX as u64;

/// Read and check the text `rl` points at in `mda`. The returned bytes include the trailing NUL.
///
/// Checks (lvm2's `_read_metadata_location_vg`): offset inside the ring, size at most the ring
/// and at most [`MAX_TEXT_SIZE`], CRC of the (possibly two-piece) text equal to `rl.checksum`.
pub fn read_text<'d>(dev: &'d dyn Device, mda: &MdaHeader, rl: &RawLocn) -> Result<Cow<'d, [u8]>> {
    check_slot(mda, rl)?;
    if rl.offset + rl.size <= mda.size && dev.as_slice().is_some() {
        // In memory and not wrapped: borrow instead of copying.
        let abs = mda.start.saturating_add(rl.offset);
        let t = device::read(dev, "metadata text", abs, rl.size)?;
        check_crc(&t, abs, rl)?;
        return Ok(t);
    }
    let mut out = Vec::new();
    read_text_into(dev, mda, rl, &mut out)?;
    Ok(Cow::Owned(out))
}

/// The one or two device ranges (absolute offset, length) of the text `rl` points at.
fn pieces(mda: &MdaHeader, rl: &RawLocn) -> [(u64, u64); 2] {
    let abs = mda.start.saturating_add(rl.offset);
    if rl.offset + rl.size <= mda.size {
        [(abs, rl.size), (0, 0)]
    } else {
        let first = mda.size - rl.offset;
        [(abs, first), (mda.start.saturating_add(MDA_HEADER_SIZE), rl.size - first)]
    }
}

/// [`read_text`] into a reusable buffer. A text larger than [`CHUNK`] is checksummed piece by
/// piece first and only read whole when its CRC holds, so a slot claiming gigabytes of garbage
/// costs a bounded buffer, not an allocation of its size.
pub fn read_text_into(dev: &dyn Device, mda: &MdaHeader, rl: &RawLocn, out: &mut Vec<u8>) -> Result<()> {
    check_slot(mda, rl)?;
    let abs = mda.start.saturating_add(rl.offset);
    let parts = pieces(mda, rl);
    let names = ["metadata text", "wrapped metadata text"];
    if rl.size > CHUNK {
        let mut crc = LvmCrc::new();
        for ((at, len), what) in parts.into_iter().zip(names) {
            let mut done = 0;
            while done < len {
                let n = (len - done).min(CHUNK);
                device::read_into(dev, what, at + done, n, out)?;
                crc.update(out);
                done += n;
            }
        }
        let computed = crc.finish();
        if computed != rl.checksum {
            out.clear();
            return Err(Error::BadChecksum { what: "metadata text", at: abs, stored: rl.checksum, computed });
        }
    }
    device::read_into(dev, names[0], parts[0].0, parts[0].1, out)?;
    if parts[1].1 > 0 {
        let wrap = device::read(dev, names[1], parts[1].0, parts[1].1)?;
        out.try_reserve_exact(wrap.len())
            .map_err(|_| Error::io(parts[1].0, parts[1].1, std::io::ErrorKind::OutOfMemory.into()))?;
        out.extend_from_slice(&wrap);
    }
    check_crc(out, abs, rl)
}

fn check_slot(mda: &MdaHeader, rl: &RawLocn) -> Result<()> {
    let at = mda.start;
    let bad = |field, expected: String, found: String| Error::BadField {
        what: "raw_locn",
        at,
        field,
        expected,
        found,
    };
    if rl.offset < MDA_HEADER_SIZE || rl.offset >= mda.size {
        return Err(bad(
            "offset",
            format!("in [512, {}) (inside the metadata area)", mda.size),
            rl.offset.to_string(),
        ));
    }
    let max = (mda.size - MDA_HEADER_SIZE).min(MAX_TEXT_SIZE);
    if rl.size == 0 || rl.size > max {
        return Err(bad(
            "size",
            format!("1 to {max} bytes (the ring size, and at most lvm2's UINT32_MAX)"),
            rl.size.to_string(),
        ));
    }
    Ok(())
}

fn check_crc(text: &[u8], abs: u64, rl: &RawLocn) -> Result<()> {
    let mut crc = LvmCrc::new();
    crc.update(text);
    let computed = crc.finish();
    if computed != rl.checksum {
        return Err(Error::BadChecksum { what: "metadata text", at: abs, stored: rl.checksum, computed });
    }
    Ok(())
}

/// One metadata copy found in the ring buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Offset relative to the mda start.
    pub offset: u64,
    /// Absolute byte offset on the device.
    pub abs_offset: u64,
    /// Length including the NUL (what `raw_locn.size` would say).
    pub size: u64,
    /// LVM CRC over those bytes (what `raw_locn.checksum` would say).
    pub checksum: u32,
    /// VG name from the first line.
    pub vg_name: String,
    /// `seqno` value.
    pub seqno: u64,
    /// The copy continues at the ring's start.
    pub wrapped: bool,
    /// The copy does not end in `"\n\n\0"` (overwritten by a later copy or torn).
    pub damaged: bool,
    /// Slot 0 of the header points here (offset, size and checksum all agree).
    pub committed: bool,
    /// Slot 1 points here.
    pub precommitted: bool,
}

/// Shorter candidates are ignored, as in `pvck --dump metadata_all`.
const MIN_COPY: usize = 256;

/// Bytes after a 512-byte boundary that [`copy_start`] looks at.
const START_LOOK: u64 = 4096;

/// Walk every 512-byte boundary of the ring and list each metadata copy found, oldest offsets
/// first. Like `pvck --dump metadata_all`, this does not trust `raw_locn`; entries the header
/// points at are marked.
///
/// The ring is read [`CHUNK`] bytes at a time (plus a look-ahead of 4 KiB), so memory stays
/// bounded whatever size the header gives the area (lvm2 puts no upper bound on it; `pvck`
/// allocates it whole). Where the device says a range holds no data (a hole of a sparse image
/// file, see [`Device::next_data`]) it is skipped: zeros start no copy.
pub fn history(dev: &dyn Device, mda: &MdaHeader) -> Result<Vec<HistoryEntry>> {
    let ring = Ring::new(dev, mda)?;
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut pos = 0u64;
    while pos < ring.len {
        match dev.next_data(ring.start + pos) {
            None => break,
            Some(d) if d > ring.start + pos => {
                pos = (d - ring.start) / MDA_HEADER_SIZE * MDA_HEADER_SIZE;
                if pos >= ring.len {
                    break;
                }
            }
            Some(_) => {}
        }
        let chunk_end = (pos + CHUNK).min(ring.len);
        let look_end = (chunk_end + START_LOOK).min(ring.len);
        device::read_into(dev, "metadata area", ring.start + pos, look_end - pos, &mut buf)?;
        let mut p = pos;
        while p < chunk_end {
            let rel = (p - pos) as usize;
            if let Some((vg_name, seqno)) = copy_start(&buf[rel..]) {
                let e = match buf[rel..].iter().position(|&c| c == 0) {
                    Some(n) => {
                        let body = &buf[rel..rel + n + 1];
                        let mut crc = LvmCrc::new();
                        crc.update(body);
                        Extent {
                            size: n as u64 + 1,
                            wrapped: false,
                            tail: last3(body),
                            checksum: crc.finish(),
                        }
                    }
                    None => ring.extent(p)?,
                };
                if e.size >= MIN_COPY as u64 {
                    let offset = p + MDA_HEADER_SIZE;
                    let matches =
                        |rl: &RawLocn| rl.offset == offset && rl.size == e.size && rl.checksum == e.checksum;
                    out.push(HistoryEntry {
                        offset,
                        abs_offset: mda.start.saturating_add(offset),
                        size: e.size,
                        checksum: e.checksum,
                        vg_name,
                        seqno,
                        wrapped: e.wrapped,
                        damaged: e.tail != *b"\n\n\0",
                        committed: matches(&mda.committed),
                        precommitted: matches(&mda.precommitted),
                    });
                }
            }
            p += MDA_HEADER_SIZE;
        }
        pos = chunk_end;
    }
    Ok(out)
}

/// The ring of an mda on a device: absolute start and length.
struct Ring<'d> {
    dev: &'d dyn Device,
    start: u64,
    len: u64,
}

/// A copy's extent: bytes including the NUL, whether it wraps, its last three bytes, its CRC.
struct Extent {
    size: u64,
    wrapped: bool,
    tail: [u8; 3],
    checksum: u32,
}

impl<'d> Ring<'d> {
    fn new(dev: &'d dyn Device, mda: &MdaHeader) -> Result<Ring<'d>> {
        let start = mda.start.saturating_add(MDA_HEADER_SIZE);
        let len = mda.size - MDA_HEADER_SIZE;
        if start.checked_add(len).is_none_or(|e| e > dev.size()) {
            return Err(Error::Truncated { what: "metadata area", at: start, len, size: dev.size() });
        }
        Ok(Ring { dev, start, len })
    }

    /// The copy starting at ring offset `pos` runs to the first NUL after it, wrapping to the
    /// ring's start; without one it is the whole ring. Read a chunk at a time.
    fn extent(&self, pos: u64) -> Result<Extent> {
        let mut crc = LvmCrc::new();
        let mut tail = Vec::with_capacity(6);
        let mut buf = Vec::new();
        let mut size = 0u64;
        for (from, to, wrapped) in [(pos, self.len, false), (0, pos, true)] {
            let mut at = from;
            while at < to {
                let n = (to - at).min(CHUNK);
                device::read_into(self.dev, "metadata area", self.start + at, n, &mut buf)?;
                let (body, end) = match buf.iter().position(|&c| c == 0) {
                    Some(k) => (&buf[..=k], true),
                    None => (&buf[..], false),
                };
                crc.update(body);
                size += body.len() as u64;
                tail.extend_from_slice(&body[body.len().saturating_sub(3)..]);
                tail.drain(..tail.len().saturating_sub(3));
                if end {
                    return Ok(Extent { size, wrapped, tail: last3(&tail), checksum: crc.finish() });
                }
                at += n;
            }
        }
        Ok(Extent { size, wrapped: true, tail: last3(&tail), checksum: crc.finish() })
    }
}

/// The last three bytes (zeros when there are fewer).
fn last3(b: &[u8]) -> [u8; 3] {
    match b {
        [.., x, y, z] => [*x, *y, *z],
        _ => [0; 3],
    }
}

/// `NAME {\n` followed (within a few lines) by `id = ` and `seqno = N`: a VG text starts here.
fn copy_start(b: &[u8]) -> Option<(String, u64)> {
    let head = &b[..b.len().min(4096)];
    let nl = head.iter().position(|&c| c == b'\n')?;
    let first = &head[..nl];
    let name = first.strip_suffix(b" {")?;
    if name.is_empty() || !name.iter().all(|&c| c.is_ascii_alphanumeric() || b"._+-".contains(&c)) {
        return None;
    }
    let mut lines = head[nl + 1..].split(|&c| c == b'\n');
    if !lines.next()?.starts_with(b"id = ") {
        return None;
    }
    let seq_line = lines.next()?.strip_prefix(b"seqno = ")?;
    let seqno = std::str::from_utf8(seq_line).ok()?.trim().parse().ok()?;
    Some((String::from_utf8_lossy(name).into_owned(), seqno))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc::lvm_crc;
    use crate::device::MemDevice;

    fn vg_text(seqno: u64, pad: usize) -> Vec<u8> {
        let mut t = format!("vg0 {{\nid = \"npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy\"\nseqno = {seqno}\n")
            .into_bytes();
        t.extend(std::iter::repeat_n(b'#', pad));
        t.extend_from_slice(b"\n}\n\n\0");
        t
    }

    /// A 4 KiB mda at byte 4096 of an 8 KiB device, with `texts` placed at (relative) offsets.
    fn device_with(texts: &[(u64, &[u8])]) -> (MemDevice, MdaHeader) {
        let size = 4096u64;
        let mut dev = vec![0u8; 8192];
        for (off, t) in texts {
            for (i, b) in t.iter().enumerate() {
                let rel = off + i as u64;
                let rel = if rel >= size { rel - size + 512 } else { rel };
                dev[(4096 + rel) as usize] = *b;
            }
        }
        let hdr = MdaHeader {
            checksum: 0,
            start: 4096,
            size,
            committed: RawLocn::default(),
            precommitted: RawLocn::default(),
        };
        (MemDevice::new("t", dev), hdr)
    }

    #[test]
    fn reads_plain_and_wrapped_text() {
        let a = vg_text(1, 300);
        let b = vg_text(2, 600);
        let (dev, mut h) = device_with(&[(512, &a), (3584, &b)]);
        h.committed = RawLocn { offset: 3584, size: b.len() as u64, checksum: lvm_crc(&b), flags: 0 };
        assert_eq!(&*read_text(&dev, &h, &h.committed).unwrap(), &b[..]);
        let plain = RawLocn { offset: 512, size: a.len() as u64, checksum: lvm_crc(&a), flags: 0 };
        // The wrapped copy overwrote the start of the older one, whose CRC no longer holds.
        assert!(matches!(read_text(&dev, &h, &plain), Err(Error::BadChecksum { at: 4608, .. })));
        // History sees the new copy whole (wrapped, committed) and nothing valid at 512.
        let hist = history(&dev, &h).unwrap();
        assert_eq!(hist.len(), 1, "{hist:?}");
        assert!(hist[0].wrapped && hist[0].committed && !hist[0].damaged);
        assert_eq!((hist[0].seqno, hist[0].offset, hist[0].size), (2, 3584, b.len() as u64));
    }

    #[test]
    fn history_lists_old_copies() {
        let a = vg_text(1, 300);
        let b = vg_text(2, 300);
        let (dev, mut h) = device_with(&[(512, &a), (1536, &b)]);
        h.committed = RawLocn { offset: 1536, size: b.len() as u64, checksum: lvm_crc(&b), flags: 0 };
        let hist = history(&dev, &h).unwrap();
        assert_eq!(
            hist.iter().map(|e| (e.seqno, e.committed)).collect::<Vec<_>>(),
            vec![(1, false), (2, true)]
        );
        assert_eq!(hist[0].checksum, lvm_crc(&a));
    }

    #[test]
    fn bad_slots_are_typed_errors() {
        let a = vg_text(1, 300);
        let (dev, h) = device_with(&[(512, &a)]);
        let ok = RawLocn { offset: 512, size: a.len() as u64, checksum: lvm_crc(&a), flags: 0 };
        let e = read_text(&dev, &h, &RawLocn { checksum: 1, ..ok }).unwrap_err();
        assert!(matches!(e, Error::BadChecksum { at: 4608, .. }), "{e}");
        let e = read_text(&dev, &h, &RawLocn { offset: 100, ..ok }).unwrap_err();
        assert!(matches!(e, Error::BadField { field: "offset", .. }), "{e}");
        let e = read_text(&dev, &h, &RawLocn { size: 5000, ..ok }).unwrap_err();
        assert!(matches!(e, Error::BadField { field: "size", .. }), "{e}");
        // An mda header claiming an area past the device end.
        let big = MdaHeader { size: 1 << 40, ..h };
        let e = read_text(&dev, &big, &RawLocn { offset: 8192, ..ok }).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }), "{e}");
    }
}
