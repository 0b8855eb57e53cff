//! The metadata area's circular buffer: reading the text a `raw_locn` points at (wrapping past
//! the area's end back to just after the header), and finding every older copy still there.

use std::borrow::Cow;

use crate::crc::LvmCrc;
use crate::device::{self, Device};
use crate::error::{Error, Result};
use crate::mda_header::{MDA_HEADER_SIZE, MdaHeader};
use crate::raw_locn::RawLocn;

/// Read and check the text `rl` points at in `mda`. The returned bytes include the trailing NUL.
///
/// Checks (lvm2's `_read_metadata_location_vg`): offset inside the ring, size at most the ring,
/// CRC of the (possibly two-piece) text equal to `rl.checksum`.
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

/// [`read_text`] into a reusable buffer.
pub fn read_text_into(dev: &dyn Device, mda: &MdaHeader, rl: &RawLocn, out: &mut Vec<u8>) -> Result<()> {
    check_slot(mda, rl)?;
    let abs = mda.start.saturating_add(rl.offset);
    if rl.offset + rl.size <= mda.size {
        device::read_into(dev, "metadata text", abs, rl.size, out)?;
    } else {
        let first = mda.size - rl.offset;
        let wrap = rl.size - first;
        device::read_into(dev, "metadata text", abs, first, out)?;
        out.extend_from_slice(&device::read(
            dev,
            "wrapped metadata text",
            mda.start.saturating_add(MDA_HEADER_SIZE),
            wrap,
        )?);
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
    if rl.size == 0 || rl.size > mda.size - MDA_HEADER_SIZE {
        return Err(bad(
            "size",
            format!("1 to {} bytes (the ring size)", mda.size - MDA_HEADER_SIZE),
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

/// Walk every 512-byte boundary of the ring and list each metadata copy found, oldest offsets
/// first. Like `pvck --dump metadata_all`, this does not trust `raw_locn`; entries the header
/// points at are marked.
pub fn history(dev: &dyn Device, mda: &MdaHeader) -> Result<Vec<HistoryEntry>> {
    let ring = device::read(
        dev,
        "metadata area",
        mda.start.saturating_add(MDA_HEADER_SIZE),
        mda.size - MDA_HEADER_SIZE,
    )?;
    Ok(scan_ring(&ring, mda))
}

/// [`history`] over ring bytes already read (the area minus its header).
pub fn scan_ring(ring: &[u8], mda: &MdaHeader) -> Vec<HistoryEntry> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < ring.len() {
        if let Some((vg_name, seqno)) = copy_start(&ring[pos..]) {
            let (size, wrapped, tail) = copy_extent(ring, pos);
            if size >= MIN_COPY {
                let mut crc = LvmCrc::new();
                let first = size.min(ring.len() - pos);
                crc.update(&ring[pos..pos + first]);
                if size > first {
                    crc.update(&ring[..size - first]);
                }
                let checksum = crc.finish();
                let offset = pos as u64 + MDA_HEADER_SIZE;
                let matches =
                    |rl: &RawLocn| rl.offset == offset && rl.size == size as u64 && rl.checksum == checksum;
                out.push(HistoryEntry {
                    offset,
                    abs_offset: mda.start.saturating_add(offset),
                    size: size as u64,
                    checksum,
                    vg_name,
                    seqno,
                    wrapped,
                    damaged: tail != *b"\n\n\0",
                    committed: matches(&mda.committed),
                    precommitted: matches(&mda.precommitted),
                });
            }
        }
        pos += MDA_HEADER_SIZE as usize;
    }
    out
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

/// Length (including the NUL) of the copy starting at `pos`, whether it wraps, and its last
/// three bytes. Without a NUL the copy runs to `pos` again (the whole ring).
fn copy_extent(ring: &[u8], pos: usize) -> (usize, bool, [u8; 3]) {
    let (size, wrapped) = match ring[pos..].iter().position(|&c| c == 0) {
        Some(n) => (n + 1, false),
        None => match ring[..pos].iter().position(|&c| c == 0) {
            Some(n) => (ring.len() - pos + n + 1, true),
            None => (ring.len(), true),
        },
    };
    let byte = |i: usize| ring[(pos + i) % ring.len()];
    let tail = if size >= 3 { [byte(size - 3), byte(size - 2), byte(size - 1)] } else { [0; 3] };
    (size, wrapped, tail)
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
