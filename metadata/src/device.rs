//! Where bytes come from: block devices, image files and in-memory buffers behind one small
//! read-at trait, plus a window type for partitions inside an image.
//!
//! Everything here is safe code. Block-device size comes from `lseek(SEEK_END)` (what
//! `BLKGETSIZE64` returns, without an ioctl) and the logical sector size from sysfs. Image files
//! are read with `pread`, not mapped: the engine reads a few KiB per device, and a mapping turns a
//! file truncated underneath us into SIGBUS instead of an error.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

/// A readable device: anything with a size and positioned reads.
pub trait Device: Send + Sync {
    /// Name used in messages and reports (`/dev/sdb`, `disk.img`, `disk.img:p1`).
    fn name(&self) -> &str;
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Logical block size in bytes (512 or 4096). LVM's own units stay 512 regardless.
    fn logical_block_size(&self) -> u32 {
        512
    }
    /// Fill `buf` from byte `at`. Callers check bounds first (see [`read`]).
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()>;
    /// The whole device as memory, when it already is memory (zero-copy reads).
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }
    /// The block device's number (`st_rdev`), what device-mapper tables refer to; `None` for
    /// image files, memory and partitions inside images.
    fn dev_t(&self) -> Option<u64> {
        None
    }
    /// The first byte at or after `at` that may hold data, `None` when everything from `at` to
    /// the end is known to read as zeros. Sparse image files know their holes (`SEEK_DATA`);
    /// every other device answers `Some(at)`. Lets a walk over a large area skip what cannot
    /// hold anything.
    fn next_data(&self, at: u64) -> Option<u64> {
        (at < self.size()).then_some(at)
    }
}

/// Read `len` bytes at `at`, borrowing when the device is in memory. A read past the end is a
/// [`Error::Truncated`] naming `what`.
pub fn read<'d>(dev: &'d dyn Device, what: &'static str, at: u64, len: u64) -> Result<Cow<'d, [u8]>> {
    let size = dev.size();
    let end = at.checked_add(len);
    if end.is_none_or(|e| e > size) {
        return Err(Error::Truncated { what, at, len, size });
    }
    if let Some(s) = dev.as_slice() {
        return Ok(Cow::Borrowed(&s[at as usize..(at + len) as usize]));
    }
    let n = usize::try_from(len).map_err(|_| Error::Truncated { what, at, len, size })?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(n).map_err(|_| Error::io(at, len, io::ErrorKind::OutOfMemory.into()))?;
    buf.resize(n, 0);
    dev.read_at(at, &mut buf).map_err(|e| Error::io(at, len, e))?;
    Ok(Cow::Owned(buf))
}

/// [`read`] into a caller's buffer (replacing its contents), so a scan of many devices can
/// reuse one buffer instead of faulting in fresh memory per device.
pub fn read_into(dev: &dyn Device, what: &'static str, at: u64, len: u64, buf: &mut Vec<u8>) -> Result<()> {
    let size = dev.size();
    if at.checked_add(len).is_none_or(|e| e > size) {
        return Err(Error::Truncated { what, at, len, size });
    }
    let n = usize::try_from(len).map_err(|_| Error::Truncated { what, at, len, size })?;
    buf.clear();
    // An allocation that cannot be had is this read's error, not the process's abort.
    buf.try_reserve_exact(n).map_err(|_| Error::io(at, len, io::ErrorKind::OutOfMemory.into()))?;
    if let Some(s) = dev.as_slice() {
        buf.extend_from_slice(&s[at as usize..at as usize + n]);
        return Ok(());
    }
    buf.resize(n, 0);
    dev.read_at(at, buf).map_err(|e| Error::io(at, len, e))
}

/// A device held in memory: tests, fuzzing, decompressed images.
pub struct MemDevice {
    name: String,
    data: Vec<u8>,
    block: u32,
}

impl MemDevice {
    /// Wrap a buffer under a name.
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> Self {
        MemDevice { name: name.into(), data, block: 512 }
    }
    /// Same, reporting a different logical block size (4Kn images).
    pub fn with_block_size(mut self, block: u32) -> Self {
        self.block = block;
        self
    }
    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

impl Device for MemDevice {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn logical_block_size(&self) -> u32 {
        self.block
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        let at = usize::try_from(at).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = self.data.get(at..at + buf.len()).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.data)
    }
}

/// A block device or regular file opened read-only.
pub struct FileDevice {
    name: String,
    file: File,
    size: u64,
    /// `st_rdev` for block devices (for the sysfs lookup of the logical block size).
    rdev: Option<u64>,
    block: std::sync::OnceLock<u32>,
    /// Opened with O_DIRECT: reads go through an aligned scratch buffer.
    direct: bool,
    /// What makes two paths this device: see [`FileDevice::identity`].
    identity: (u64, u64),
}

/// How to open a path.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenOptionsLvm {
    /// Try O_DIRECT on block devices (falls back to buffered reads if refused). Direct reads do
    /// not pollute or depend on the page cache, which matters when another node just wrote.
    pub direct: bool,
}

/// O_DIRECT alignment: a multiple of every logical block size in use (512 and 4096), so reads
/// never need the device's own value.
const DIRECT_ALIGN: usize = 4096;

impl FileDevice {
    /// Open a block device or image file read-only: one open and one fstat (a scan opens
    /// hundreds of devices; everything else is asked for lazily).
    ///
    /// Only a block device or a regular file is accepted; anything else (a FIFO, a character
    /// device such as `/dev/zero`, a directory, a socket) is [`Error::NotADevice`]. Every open is
    /// `O_NONBLOCK`, so that a FIFO never blocks the open, and the type is checked on the opened
    /// descriptor (`fstat`), not on the path, so that nothing can be swapped in between. For
    /// block devices and regular files `O_NONBLOCK` changes nothing about reads.
    pub fn open(path: &Path, opts: OpenOptionsLvm) -> Result<FileDevice> {
        let name = path.display().to_string();
        let oerr = |e| Error::open(name.clone(), e);
        let open = |flags: i32| {
            OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | flags).open(path)
        };
        let mut direct = false;
        let mut file = None;
        if opts.direct {
            // Regular files on some filesystems (tmpfs) refuse O_DIRECT; they are reopened below.
            if let Ok(f) = open(libc::O_DIRECT) {
                file = Some(f);
                direct = true;
            }
        }
        let mut file = match file {
            Some(f) => f,
            None => open(0).map_err(oerr)?,
        };
        let meta = file.metadata().map_err(oerr)?;
        let ft = meta.file_type();
        let is_block = ft.is_block_device();
        if !is_block && !ft.is_file() {
            return Err(Error::NotADevice { path: name, found: file_kind(&ft) });
        }
        if direct && !is_block {
            // O_DIRECT is for devices; an image file is read through the page cache.
            let again = open(0).map_err(oerr)?;
            let m = again.metadata().map_err(oerr)?;
            if (m.dev(), m.ino()) != (meta.dev(), meta.ino()) || !m.file_type().is_file() {
                return Err(oerr(io::Error::other("the path was replaced while it was being opened")));
            }
            file = again;
            direct = false;
        }
        let size = if is_block { file.seek(SeekFrom::End(0)).map_err(oerr)? } else { meta.len() };
        let rdev = is_block.then(|| meta.rdev());
        let identity = if is_block { (u64::MAX, meta.rdev()) } else { (meta.dev(), meta.ino()) };
        Ok(FileDevice { name, file, size, rdev, block: std::sync::OnceLock::new(), direct, identity })
    }

    /// What makes two paths the same device, from the opened descriptor: the device number of
    /// a block device, the (filesystem, inode) pair of an image file. One device under two
    /// names (a symlink, a `/dev/disk/by-*` alias) has one identity.
    pub fn identity(&self) -> (u64, u64) {
        self.identity
    }

    /// A regular file (an image), not a block device.
    pub fn is_image(&self) -> bool {
        self.rdev.is_none()
    }
}

/// What a path that is neither a block device nor a regular file is, for messages.
fn file_kind(ft: &std::fs::FileType) -> &'static str {
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// `/sys/dev/block/MAJ:MIN/queue/logical_block_size` (partitions: the parent's queue).
fn block_size_from_sysfs(rdev: u64) -> Option<u32> {
    let (maj, min) = (libc::major(rdev), libc::minor(rdev));
    let base = format!("/sys/dev/block/{maj}:{min}");
    for p in [format!("{base}/queue/logical_block_size"), format!("{base}/../queue/logical_block_size")] {
        if let Ok(s) = std::fs::read_to_string(&p) {
            if let Ok(v) = s.trim().parse() {
                return Some(v);
            }
        }
    }
    None
}

thread_local! {
    /// Aligned O_DIRECT bounce buffer, reused by every read on this thread: a fresh buffer per
    /// device meant zeroing and faulting in its pages each time.
    static BOUNCE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Device for FileDevice {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn logical_block_size(&self) -> u32 {
        *self.block.get_or_init(|| self.rdev.and_then(block_size_from_sysfs).unwrap_or(512))
    }
    fn dev_t(&self) -> Option<u64> {
        self.rdev
    }
    fn next_data(&self, at: u64) -> Option<u64> {
        if at >= self.size {
            return None;
        }
        if self.rdev.is_some() {
            return Some(at);
        }
        let Ok(off) = i64::try_from(at) else { return Some(at) };
        match nix::unistd::lseek(&self.file, off, nix::unistd::Whence::SeekData) {
            Ok(d) => Some((d as u64).max(at)),
            // No data at or after `at`: the rest is a hole.
            Err(nix::errno::Errno::ENXIO) => None,
            // A filesystem without SEEK_DATA support: assume data everywhere.
            Err(_) => Some(at),
        }
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        if !self.direct {
            return self.file.read_exact_at(buf, at);
        }
        let align = DIRECT_ALIGN as u64;
        let start = at / align * align;
        let end = (at + buf.len() as u64).div_ceil(align) * align;
        let len = (end - start) as usize;
        BOUNCE.with_borrow_mut(|bounce| {
            if bounce.len() < len + DIRECT_ALIGN {
                bounce.resize(len + DIRECT_ALIGN, 0);
            }
            let skew = bounce.as_ptr().align_offset(DIRECT_ALIGN);
            let aligned = &mut bounce[skew..skew + len];
            let got = read_full_at(&self.file, aligned, start)?;
            let want_end = (at - start) as usize + buf.len();
            if got < want_end {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf.copy_from_slice(&aligned[(at - start) as usize..want_end]);
            Ok(())
        })
    }
}

/// Read until `buf` is full or EOF; returns bytes read (the last block of a device may be short).
fn read_full_at(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], at + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// A byte range of another device: a partition inside an image file. Generic over the inner
/// device so that the writer's windows (`Window<dyn WriteDevice>`) share this read side.
pub struct Window<D: ?Sized = dyn Device> {
    name: String,
    inner: Arc<D>,
    start: u64,
    len: u64,
}

impl<D: Device + ?Sized> Window<D> {
    /// `[start, start+len)` of `inner`, clamped to its size, under `name`.
    pub fn new(name: impl Into<String>, inner: Arc<D>, start: u64, len: u64) -> Window<D> {
        let size = inner.size();
        let start = start.min(size);
        let len = len.min(size - start);
        Window { name: name.into(), inner, start, len }
    }
    /// Offset of this window in the underlying device.
    pub fn start(&self) -> u64 {
        self.start
    }
    /// The device the window is cut from.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

impl<D: Device + ?Sized> Device for Window<D> {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.len
    }
    fn logical_block_size(&self) -> u32 {
        self.inner.logical_block_size()
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        if at + buf.len() as u64 > self.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.inner.read_at(self.start + at, buf)
    }
    fn as_slice(&self) -> Option<&[u8]> {
        self.inner.as_slice().map(|s| &s[self.start as usize..(self.start + self.len) as usize])
    }
    fn next_data(&self, at: u64) -> Option<u64> {
        let d = self.inner.next_data(self.start.checked_add(at)?)?;
        (d < self.start + self.len).then(|| d - self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_past_end_is_truncated_error() {
        let d = MemDevice::new("m", vec![1, 2, 3, 4]);
        assert_eq!(&*read(&d, "x", 1, 2).unwrap(), &[2, 3]);
        let e = read(&d, "label", 3, 2).unwrap_err();
        assert!(matches!(e, Error::Truncated { what: "label", at: 3, len: 2, size: 4 }), "{e}");
        assert!(matches!(read(&d, "x", u64::MAX, 2), Err(Error::Truncated { .. })));
    }

    #[test]
    fn window_and_file() {
        let mut data = vec![0u8; 8192];
        data[4096..4100].copy_from_slice(b"abcd");
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), &data).unwrap();
        let f: Arc<dyn Device> = Arc::new(FileDevice::open(tmp.path(), OpenOptionsLvm::default()).unwrap());
        assert_eq!(f.size(), 8192);
        let w = Window::new("w", f, 4096, 100_000);
        assert_eq!(w.size(), 4096);
        assert_eq!(&*read(&w, "x", 0, 4).unwrap(), b"abcd");
        assert!(read(&w, "x", 4094, 4).is_err());
    }
}
