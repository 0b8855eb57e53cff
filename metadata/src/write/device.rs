//! Where metadata writes go: a [`WriteDevice`] is a readable [`Device`] plus positioned writes
//! and a durability barrier.
//!
//! How a write becomes durable:
//! - **Block devices** are opened `O_DIRECT | O_SYNC`. `O_DIRECT` bypasses the page cache, so
//!   what we read back (and what another host reads) is what is on the device, and an error is
//!   reported by the write that caused it, not by a later writeback. `O_SYNC` makes every
//!   `pwrite` return only once the data is on stable storage (the kernel issues FUA or a cache
//!   flush), which is what the commit protocol needs between steps: the text must be durable
//!   before a header points at it. Writes go through a bounce buffer aligned to 4096 bytes and
//!   cover whole logical blocks; a write smaller than a block (a 512-byte header on a 4Kn disk)
//!   is a read-modify-write of that block, as lvm2's bcache does.
//! - **Image files** use plain `pwrite` followed by `fdatasync` in [`WriteDevice::sync`]:
//!   `O_DIRECT` on regular files is refused by some filesystems (tmpfs) and buys nothing for an
//!   image, while `fdatasync` gives the same ordering guarantee.
//!
//! The commit code calls [`WriteDevice::sync`] after each device's writes of a phase and before
//! the next phase starts, so both kinds order their writes the same way. On a block device that
//! call is free: the `O_SYNC` write already waited for the flush, and a second `fdatasync` would
//! only issue another cache flush (it cost ~0.1 ms per write on loop devices, a third of the
//! device time of a commit).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::device::{Device, Window};
use crate::partition;

use super::WriteError;

/// A device metadata can be written to.
pub trait WriteDevice: Device {
    /// Write all of `data` at byte `at`. Callers keep writes inside the device.
    fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()>;
    /// Make every completed write durable before returning.
    fn sync(&self) -> io::Result<()>;
    /// Whether the commit may issue this device's writes concurrently with other devices'
    /// (one thread per device within a phase). Fault-injecting wrappers say no, so that their
    /// write count follows the plan's order and every cut point is deterministic.
    fn concurrent_writes(&self) -> bool {
        true
    }
}

/// In-memory device (tests): the bytes behind a mutex.
pub struct MemWriteDevice {
    name: String,
    data: Mutex<Vec<u8>>,
    size: u64,
}

impl MemWriteDevice {
    /// Wrap a buffer under a name.
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> Self {
        let size = data.len() as u64;
        MemWriteDevice { name: name.into(), data: Mutex::new(data), size }
    }
    /// A copy of the current bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.data.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Device for MemWriteDevice {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        let d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let at = usize::try_from(at).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = d.get(at..at + buf.len()).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl WriteDevice for MemWriteDevice {
    fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()> {
        let mut d = self.data.lock().unwrap_or_else(|e| e.into_inner());
        let at = usize::try_from(at).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let dst = d.get_mut(at..at + data.len()).ok_or(io::ErrorKind::UnexpectedEof)?;
        dst.copy_from_slice(data);
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Alignment of the O_DIRECT bounce buffer.
const DIRECT_ALIGN: usize = 4096;

/// A block device (`O_DIRECT | O_SYNC`) or image file (`pwrite` + `fdatasync`) opened
/// read-write.
pub struct FileWriteDevice {
    name: String,
    file: File,
    size: u64,
    /// Block device: direct I/O in units of `block` bytes.
    direct: bool,
    block: u32,
}

impl FileWriteDevice {
    /// Open `path` read-write.
    pub fn open(path: &Path) -> Result<FileWriteDevice, WriteError> {
        let name = path.display().to_string();
        let oerr = |e: io::Error| WriteError::Open { path: name.clone(), source: Arc::new(e) };
        let meta = std::fs::metadata(path).map_err(oerr)?;
        let is_block = meta.file_type().is_block_device();
        let mut opts = OpenOptions::new();
        opts.read(true).write(true);
        // O_NONBLOCK: a FIFO swapped in after the stat must not block the open; the type is
        // checked again on the descriptor below (as the scan's reader does).
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        opts.custom_flags(if is_block { flags | libc::O_DIRECT | libc::O_SYNC } else { flags });
        let mut file = opts.open(path).map_err(oerr)?;
        let now = file.metadata().map_err(oerr)?;
        if (now.dev(), now.ino()) != (meta.dev(), meta.ino())
            || !(now.file_type().is_block_device() || now.file_type().is_file())
        {
            return Err(oerr(io::Error::other(
                "not the block device or image file that was scanned (changed, or neither kind)",
            )));
        }
        let size = if is_block { file.seek(SeekFrom::End(0)).map_err(oerr)? } else { meta.len() };
        let block = if is_block { block_size(meta.rdev()).unwrap_or(512).max(512) } else { 512 };
        Ok(FileWriteDevice { name, file, size, direct: is_block, block })
    }

    /// Run `f` on an aligned buffer holding the whole logical blocks around `[at, at+len)`,
    /// read from the device first when `fill` is set; returns the block-aligned start.
    fn with_blocks<R>(
        &self,
        at: u64,
        len: usize,
        fill: bool,
        f: impl FnOnce(&mut [u8], u64) -> io::Result<R>,
    ) -> io::Result<R> {
        let b = self.block as u64;
        let start = at / b * b;
        let end = (at + len as u64).div_ceil(b) * b;
        let n = (end - start) as usize;
        let mut raw = vec![0u8; n + DIRECT_ALIGN];
        let skew = raw.as_ptr().align_offset(DIRECT_ALIGN);
        let buf = &mut raw[skew..skew + n];
        if fill {
            self.file.read_exact_at(buf, start)?;
        }
        f(buf, start)
    }
}

/// `/sys/dev/block/MAJ:MIN/queue/logical_block_size` (partitions: the parent's queue).
fn block_size(rdev: u64) -> Option<u32> {
    let base = format!("/sys/dev/block/{}:{}", libc::major(rdev), libc::minor(rdev));
    [format!("{base}/queue/logical_block_size"), format!("{base}/../queue/logical_block_size")]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse().ok())
}

impl Device for FileWriteDevice {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn logical_block_size(&self) -> u32 {
        self.block
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        if !self.direct {
            return self.file.read_exact_at(buf, at);
        }
        self.with_blocks(at, buf.len(), true, |blocks, start| {
            let off = (at - start) as usize;
            buf.copy_from_slice(&blocks[off..off + buf.len()]);
            Ok(())
        })
    }
}

impl WriteDevice for FileWriteDevice {
    fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()> {
        if !self.direct {
            return self.file.write_all_at(data, at);
        }
        let b = self.block as u64;
        let whole = at.is_multiple_of(b) && (data.len() as u64).is_multiple_of(b);
        self.with_blocks(at, data.len(), !whole, |blocks, start| {
            let off = (at - start) as usize;
            blocks[off..off + data.len()].copy_from_slice(data);
            self.file.write_all_at(blocks, start)
        })
    }
    fn sync(&self) -> io::Result<()> {
        // Block devices: O_SYNC made each write durable before `write_at` returned (the kernel
        // sent it with FUA or followed it by a cache flush), so there is nothing left to flush.
        if self.direct { Ok(()) } else { self.file.sync_data() }
    }
}

/// A partition of an image opened for writing: the read side is [`Window`]'s.
pub type WriteWindow = Window<dyn WriteDevice>;

impl WriteDevice for WriteWindow {
    fn write_at(&self, at: u64, data: &[u8]) -> io::Result<()> {
        if at + data.len() as u64 > self.size() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "write past the end of the partition"));
        }
        self.inner().write_at(self.start() + at, data)
    }
    fn sync(&self) -> io::Result<()> {
        self.inner().sync()
    }
    fn concurrent_writes(&self) -> bool {
        self.inner().concurrent_writes()
    }
}

/// Open for writing the device a scan named `name`: a path, or `IMAGE:pN` for partition N of an
/// image file (the names `scan::open_with_partitions` gives).
pub fn open_scanned(name: &str) -> Result<Arc<dyn WriteDevice>, WriteError> {
    let path = Path::new(name);
    if path.exists() {
        return Ok(Arc::new(FileWriteDevice::open(path)?));
    }
    let part = name.rsplit_once(":p").and_then(|(img, n)| Some((img, n.parse::<u32>().ok()?)));
    let Some((img, number)) = part else {
        return Err(WriteError::Open {
            path: name.to_string(),
            source: Arc::new(io::ErrorKind::NotFound.into()),
        });
    };
    let inner: Arc<dyn WriteDevice> = Arc::new(FileWriteDevice::open(Path::new(img))?);
    let p =
        partition::partitions(inner.as_ref()).into_iter().find(|p| p.number == number).ok_or_else(|| {
            WriteError::Open {
                path: name.to_string(),
                source: Arc::new(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no partition {number} in {img}"),
                )),
            }
        })?;
    Ok(Arc::new(WriteWindow::new(name, inner, p.start, p.len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_window_write_read_back() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), vec![0u8; 8192]).unwrap();
        let f: Arc<dyn WriteDevice> = Arc::new(FileWriteDevice::open(tmp.path()).unwrap());
        f.write_at(100, b"abc").unwrap();
        f.sync().unwrap();
        let w = WriteWindow::new("w", f.clone(), 4096, 1 << 20);
        assert_eq!(w.size(), 4096);
        w.write_at(1, b"xy").unwrap();
        assert!(w.write_at(4095, b"xy").is_err());
        let data = std::fs::read(tmp.path()).unwrap();
        assert_eq!(&data[100..103], b"abc");
        assert_eq!(&data[4097..4099], b"xy");
        let m = MemWriteDevice::new("m", vec![0; 16]);
        m.write_at(14, b"zz").unwrap();
        assert!(m.write_at(15, b"zz").is_err());
        assert_eq!(&m.bytes()[14..], b"zz");
    }
}
