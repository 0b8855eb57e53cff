//! Devices → what each one holds: label, pv_header, mda headers, committed metadata.
//! (cf. lvm2's label scan and lvmcache.) Nothing here decides VG membership; see `assemble`.
//!
//! Each device is read once at its start ([`PREFETCH`]: label, mda1 header, start of the
//! ring); other reads only for what lies beyond (the text, mda2). Parsed texts are shared between PVs carrying identical copies (same size and CRC).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::device::{self, Device, FileDevice, OpenOptionsLvm, Window};
use crate::disk_locn::DiskLocn;
use crate::error::{Error, Result};
use crate::import::import;
use crate::label::{self, Label, LabelNote};
use crate::mda_header::{MDA_HEADER_SIZE, MdaHeader};
use crate::model::Metadata;
use crate::partition;
use crate::raw_locn::RawLocn;
use crate::ring;

/// Bytes read from the start of every device in one go: the label sectors, mda1's header and
/// the start of its ring (where a young VG's text sits). A text elsewhere in the ring costs one
/// more read of exactly its sectors, cheaper than reading 128 KiB of every device as lvm2 does.
pub const PREFETCH: u64 = 16 * 1024;

/// What to scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Only these devices or image files (lvm2's `--devices`). `None`: every block device the
    /// kernel lists in /proc/partitions.
    pub devices: Option<Vec<PathBuf>>,
    /// Also scan device-mapper devices (skipped by default, like lvm2's own LVs).
    pub include_dm: bool,
    /// Read block devices with O_DIRECT.
    pub direct: bool,
}

/// One metadata area of a PV and what it holds.
#[derive(Debug)]
pub struct MdaScan {
    /// 0 for mda1, 1 for mda2.
    pub index: usize,
    /// Where the label says it is.
    pub locn: DiskLocn,
    /// The checked header, or why it is unusable.
    pub header: Result<MdaHeader>,
    /// The committed text and its parse, when the header is good, the slot is set and not
    /// ignored.
    pub committed: Option<Result<MdaCopy>>,
}

impl MdaScan {
    /// Slot 0 has `RAW_LOCN_IGNORED`.
    pub fn ignored(&self) -> bool {
        self.header.as_ref().is_ok_and(|h| h.committed.is_ignored())
    }
    /// The parsed committed copy, if good.
    pub fn copy(&self) -> Option<&MdaCopy> {
        self.committed.as_ref().and_then(|c| c.as_ref().ok())
    }
}

/// A metadata text read from an mda and parsed.
#[derive(Debug, Clone)]
pub struct MdaCopy {
    /// The slot it came from.
    pub locn: RawLocn,
    /// The text, NUL included.
    pub text: Arc<Vec<u8>>,
    /// Its parse (shared between identical copies).
    pub metadata: Arc<Metadata>,
    /// Keys the text gives twice in one section ([`Section::duplicate_keys`](crate::text::Section::duplicate_keys)).
    pub duplicate_keys: Arc<Vec<String>>,
}

/// A device carrying an LVM2 label.
pub struct PvScan {
    /// The device (for later reads: history, dumps).
    pub device: Arc<dyn Device>,
    /// Device size in bytes.
    pub dev_size: u64,
    /// The label and its pv_header.
    pub label: Label,
    /// Oddities in the label area.
    pub label_notes: Vec<LabelNote>,
    /// Metadata areas in label order.
    pub mdas: Vec<MdaScan>,
    /// Problems with the areas the label lists (outside the device, overlapping).
    pub area_errors: Vec<Error>,
    /// Set for an LVM1 (format1) PV: `label` is then synthesised from its `pv_disk` (UUID,
    /// size, pe_start; no metadata areas) and the VG comes from [`crate::lvm1`]. Never write
    /// an LVM2 label or metadata to such a device.
    pub lvm1: Option<Box<crate::lvm1::Lvm1Pv>>,
}

impl PvScan {
    /// Device name.
    pub fn name(&self) -> &str {
        self.device.name()
    }
}

impl std::fmt::Debug for PvScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PvScan")
            .field("device", &self.name())
            .field("label", &self.label)
            .field("mdas", &self.mdas)
            .finish()
    }
}

/// Everything a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Devices with an LVM2 label, in scan order.
    pub pvs: Vec<PvScan>,
    /// Devices that could not be read or whose label is malformed (error names the device).
    pub errors: Vec<Error>,
    /// Devices without a label that had label-area notes (e.g. skipped bad-CRC labels).
    pub notes: Vec<(String, LabelNote)>,
    /// Number of devices examined.
    pub devices_scanned: usize,
}

impl Scan {
    /// Devices were asked for but not one could be opened and read: a report of this scan
    /// shows nothing, and says so with its exit status (lvm2's `pvs`/`vgs` fail likewise).
    pub fn nothing_readable(&self) -> bool {
        self.devices_scanned == 0 && !self.errors.is_empty()
    }
}

/// Scan according to `opts`.
pub fn scan(opts: &ScanOptions) -> Scan {
    let mut out = Scan::default();
    let devices = match &opts.devices {
        Some(list) => list.clone(),
        None => match kernel_devices(opts.include_dm) {
            Ok(l) => l,
            Err(e) => {
                out.errors.push(Error::open("/proc/partitions", e));
                return out;
            }
        },
    };
    let mut opened: Vec<Arc<dyn Device>> = Vec::new();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for path in &devices {
        // One device under two names (the same path twice, a symlink, a /dev/disk/by-* alias) is
        // scanned once, under the first name, as lvm2 treats aliases: not a duplicate PV.
        if let Some(id) = identity(path) {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
        }
        match open_partitioned(path, opts) {
            Ok((mut devs, note)) => {
                opened.append(&mut devs);
                out.notes.extend(note.map(|n| (path.display().to_string(), n)));
            }
            Err(e) => out.errors.push(e),
        }
    }
    let scanned = scan_devices(opened);
    out.devices_scanned = scanned.devices_scanned;
    out.pvs = scanned.pvs;
    out.errors.extend(scanned.errors);
    out.notes.extend(scanned.notes);
    out
}

/// What makes two paths the same device: the device number of a block device, the
/// (filesystem, inode) pair of a file. `None` when the path cannot be stat'ed (its open fails
/// and says why).
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::metadata(path).ok()?;
    Some(if m.file_type().is_block_device() { (u64::MAX, m.rdev()) } else { (m.dev(), m.ino()) })
}

/// Open a path; an image file with a partition table yields its partitions (`IMAGE:pN`)
/// instead of itself, as lvm2 skips partitioned whole disks.
pub fn open_with_partitions(path: &Path, opts: &ScanOptions) -> Result<Vec<Arc<dyn Device>>> {
    open_partitioned(path, opts).map(|(d, _)| d)
}

/// The devices a path opens to, and a note about the whole image.
type Opened = (Vec<Arc<dyn Device>>, Option<LabelNote>);

/// [`open_with_partitions`], and a note when the whole image also carries an LVM2 label that
/// its partition table hides (a whole-disk PV whose sector 0 looks like an MBR): the
/// partitions are scanned, as lvm2 skips a partitioned disk, but not silently.
fn open_partitioned(path: &Path, opts: &ScanOptions) -> Result<Opened> {
    let dev = FileDevice::open(path, OpenOptionsLvm { direct: opts.direct })?;
    let is_file = dev.is_image();
    let dev: Arc<dyn Device> = Arc::new(dev);
    if is_file {
        let parts = partition::partitions(dev.as_ref());
        if !parts.is_empty() {
            let hidden =
                device::read(dev.as_ref(), "label sectors", 0, dev.size().min(label::LABEL_SCAN_SIZE as u64))
                    .ok()
                    .and_then(|head| label::find_label(&head).ok()?.label)
                    .map(|l| {
                        LabelNote::Skipped(Error::BadField {
                    what: "label",
                    at: l.sector * 512,
                    field: "sector 0",
                    expected:
                        "no partition table in front of a whole-disk PV (lvm2 skips a partitioned disk)"
                            .into(),
                    found: format!(
                        "a partition table with {} partition(s); those were scanned instead of the PV {}",
                        parts.len(),
                        l.pv_header.pv_uuid
                    ),
                })
                    });
            let devs = parts
                .into_iter()
                .map(|p| {
                    let name = format!("{}:p{}", dev.name(), p.number);
                    Arc::new(Window::new(name, dev.clone(), p.start, p.len)) as Arc<dyn Device>
                })
                .collect();
            return Ok((devs, hidden));
        }
    }
    Ok((vec![dev], None))
}

/// Block devices from /proc/partitions (`/dev/NAME`), without dm devices unless asked, and
/// without empty loop devices.
pub fn kernel_devices(include_dm: bool) -> io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/partitions")?;
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [_, _, blocks, name] = cols[..] else { continue };
        if blocks == "0" || (!include_dm && name.starts_with("dm-")) {
            continue;
        }
        out.push(PathBuf::from(format!("/dev/{name}")));
    }
    Ok(out)
}

/// Scan already-opened devices, keeping input order in the result.
///
/// Reads and checksums run on up to 8 threads (a scan of many disks waits on I/O); parsing runs
/// afterwards on this thread, once per distinct text. A worker thread's malloc arena grows by
/// `mprotect` a step at a time, which made parsing a large text there markedly slower.
pub fn scan_devices(devices: Vec<Arc<dyn Device>>) -> Scan {
    let n = devices.len();
    let seen = SeenTexts::default();
    let results: Vec<DeviceResult> = if n <= 1 {
        devices.iter().map(|d| scan_device(d.clone(), &seen)).collect()
    } else {
        let slots: Vec<Mutex<Option<DeviceResult>>> = (0..n).map(|_| Mutex::new(None)).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..n.min(8) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let r = scan_device(devices[i].clone(), &seen);
                        *slots[i].lock().expect("no panics while held") = Some(r);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| m.into_inner().expect("no panics while held").expect("every index scanned"))
            .collect()
    };
    if let Some(hook) = BEFORE_PARSE.get() {
        let mut distinct: Vec<&Arc<Vec<u8>>> = Vec::new();
        for r in &results {
            if let DeviceResult::Pv(_, texts) = r {
                for (_, t) in texts.iter().flatten().flatten() {
                    if !distinct.iter().any(|d| Arc::ptr_eq(d, t)) {
                        distinct.push(t);
                    }
                }
            }
        }
        let bytes: usize = distinct.iter().map(|t| t.len()).sum();
        if bytes > 0 {
            hook(bytes);
        }
    }
    let mut cache = TextCache::default();
    let mut out = Scan { devices_scanned: n, ..Scan::default() };
    for (dev, r) in devices.iter().zip(results) {
        match r {
            DeviceResult::Pv(mut pv, texts) => {
                for (mda, text) in pv.mdas.iter_mut().zip(texts) {
                    mda.committed = text.map(|t| {
                        t.and_then(|(rl, text)| cache.parse(rl, text)).map_err(|e| e.on_device(dev.name()))
                    });
                }
                out.pvs.push(*pv)
            }
            DeviceResult::NotPv(notes) => {
                out.notes.extend(notes.into_iter().map(|n| (dev.name().to_string(), n)))
            }
            DeviceResult::Failed(e) => out.errors.push(e),
        }
    }
    out
}

/// A committed text read and checksummed, not yet parsed.
type RawText = Result<(RawLocn, Arc<Vec<u8>>)>;

/// Texts already read during this scan, by (size, CRC). The PVs of one VG carry identical
/// copies: each is read and checked, but only the first is kept — a hundred PVs no longer hold
/// a hundred copies until parsing.
#[derive(Default)]
struct SeenTexts(Mutex<HashMap<(u64, u32), Vec<SharedText>>>);

/// A text's bytes, shared by every PV carrying them.
type SharedText = Arc<Vec<u8>>;

impl SeenTexts {
    /// The first copy of a text is kept as read (no copy); a later identical one is dropped.
    fn share(&self, rl: &RawLocn, text: Vec<u8>) -> Arc<Vec<u8>> {
        let mut m = self.0.lock().expect("no panics while held");
        let same = m.entry((rl.size, rl.checksum)).or_default();
        // Bytes compared too, so that a CRC collision cannot mix two texts.
        if let Some(t) = same.iter().find(|t| t.as_slice() == text.as_slice()) {
            return t.clone();
        }
        let t = Arc::new(text);
        same.push(t.clone());
        t
    }
}

/// Called once per scan, on the thread that parses, with the bytes of the distinct texts about
/// to be parsed (when there are any), before the first parse: a program can prepare memory for
/// the parse trees (lvmkit reserves heap in bulk, see its `startup` module).
static BEFORE_PARSE: std::sync::OnceLock<fn(usize)> = std::sync::OnceLock::new();

/// Sets the hook called once per scan before parsing, with the bytes of the distinct texts
/// about to be parsed; `false` when one was already set.
pub fn set_before_parse(hook: fn(usize)) -> bool {
    BEFORE_PARSE.set(hook).is_ok()
}

enum DeviceResult {
    /// The PV (its mdas' `committed` still unset) and each mda's text to parse.
    Pv(Box<PvScan>, Vec<Option<RawText>>),
    NotPv(Vec<LabelNote>),
    Failed(Error),
}

/// Serves reads inside the prefetched start of a device from memory.
struct Prefetched<'a> {
    dev: &'a dyn Device,
    head: Cow<'a, [u8]>,
}

impl Device for Prefetched<'_> {
    fn name(&self) -> &str {
        self.dev.name()
    }
    fn size(&self) -> u64 {
        self.dev.size()
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = at as usize + buf.len();
        if end <= self.head.len() {
            buf.copy_from_slice(&self.head[at as usize..end]);
            Ok(())
        } else {
            self.dev.read_at(at, buf)
        }
    }
    fn as_slice(&self) -> Option<&[u8]> {
        self.dev.as_slice()
    }
    fn next_data(&self, at: u64) -> Option<u64> {
        self.dev.next_data(at)
    }
}

fn scan_device(dev: Arc<dyn Device>, seen: &SeenTexts) -> DeviceResult {
    let name = dev.name().to_string();
    let size = dev.size();
    let head = match device::read(dev.as_ref(), "device start", 0, size.min(PREFETCH)) {
        Ok(h) => h,
        Err(e) => return DeviceResult::Failed(e.on_device(&name)),
    };
    let label_scan = match label::find_label(&head) {
        Ok(l) => l,
        Err(e) => return DeviceResult::Failed(e.on_device(&name)),
    };
    let lvm1_sig = crate::lvm1::is_lvm1(&head);
    let Some(label) = label_scan.label else {
        if lvm1_sig {
            return crate::lvm1::scan_device(
                dev.clone(),
                &Prefetched { dev: dev.as_ref(), head },
                label_scan.notes,
            )
            .map_or_else(DeviceResult::Failed, |pv| DeviceResult::Pv(Box::new(pv), vec![]));
        }
        return DeviceResult::NotPv(label_scan.notes);
    };
    let pre = Prefetched { dev: dev.as_ref(), head };
    let mut area_errors: Vec<Error> =
        check_areas(&label, size).into_iter().map(|e| e.on_device(&name)).collect();
    if lvm1_sig {
        area_errors.push(crate::lvm1::conflict_error(&label).on_device(&name));
    }
    let mut mdas = Vec::new();
    let mut texts = Vec::new();
    for (index, locn) in label.pv_header.metadata_areas.iter().enumerate() {
        let (mda, text) = scan_mda(&pre, index, *locn, &name, seen);
        mdas.push(mda);
        texts.push(text);
    }
    drop(pre);
    DeviceResult::Pv(
        Box::new(PvScan {
            device: dev,
            dev_size: size,
            label,
            label_notes: label_scan.notes,
            mdas,
            area_errors,
            lvm1: None,
        }),
        texts,
    )
}

fn scan_mda(
    dev: &dyn Device,
    index: usize,
    locn: DiskLocn,
    name: &str,
    seen: &SeenTexts,
) -> (MdaScan, Option<RawText>) {
    let header = device::read(dev, "mda_header", locn.offset, MDA_HEADER_SIZE)
        .and_then(|b| MdaHeader::parse(&b, locn.offset))
        .and_then(|h| {
            if h.start.checked_add(h.size).is_none_or(|e| e > dev.size()) {
                Err(Error::Truncated { what: "metadata area", at: h.start, len: h.size, size: dev.size() })
            } else {
                Ok(h)
            }
        })
        .map_err(|e| e.on_device(name));
    let text = match &header {
        Ok(h) if !h.committed.is_empty() && !h.committed.is_ignored() => {
            let mut buf = Vec::new();
            Some(
                ring::read_text_into(dev, h, &h.committed, &mut buf)
                    .map(|()| (h.committed, seen.share(&h.committed, buf))),
            )
        }
        _ => None,
    };
    (MdaScan { index, locn, header, committed: None }, text)
}

/// Parsed texts by (size, CRC); the bytes are compared too, so a CRC collision cannot mix VGs.
/// The PVs of one VG carry the same text: it is parsed once.
#[derive(Default)]
pub struct TextCache(HashMap<(u64, u32), MdaCopy>);

impl TextCache {
    /// Parse `text` (read from the slot `rl`), or share an identical earlier parse.
    pub fn parse(&mut self, rl: RawLocn, text: Arc<Vec<u8>>) -> Result<MdaCopy> {
        let key = (rl.size, rl.checksum);
        if let Some(c) = self.0.get(&key).filter(|c| Arc::ptr_eq(&c.text, &text) || c.text == text) {
            return Ok(MdaCopy { locn: rl, ..c.clone() });
        }
        let root = crate::text::parse(&text)?;
        let metadata = Arc::new(import(&root)?);
        let duplicate_keys = Arc::new(root.duplicate_keys());
        drop(root);
        let copy = MdaCopy { locn: rl, text, metadata, duplicate_keys };
        self.0.insert(key, copy.clone());
        Ok(copy)
    }
}

/// Areas listed in the label must lie on the device and not overlap each other or the label
/// sectors.
fn check_areas(label: &Label, size: u64) -> Vec<Error> {
    let mut errs = Vec::new();
    let mut areas: Vec<(&'static str, u64, u64)> = vec![("label sectors", 0, label::LABEL_SCAN_SIZE as u64)];
    let pv = &label.pv_header;
    for (i, m) in pv.metadata_areas.iter().enumerate() {
        let n = if i == 0 { "mda1" } else { "mda2" };
        if m.end() > size || m.offset.checked_add(m.size).is_none() {
            errs.push(Error::Truncated { what: "metadata area", at: m.offset, len: m.size, size });
        }
        areas.push((n, m.offset, m.end()));
    }
    if let Some(ext) = &pv.extension {
        for b in &ext.bootloader_areas {
            if b.end() > size {
                errs.push(Error::Truncated { what: "bootloader area", at: b.offset, len: b.size, size });
            }
            areas.push(("bootloader area", b.offset, b.end()));
        }
    }
    if let Some(d) = pv.data_areas.first() {
        if d.offset > size {
            errs.push(Error::Truncated { what: "data area", at: d.offset, len: 0, size });
        }
    }
    for i in 0..areas.len() {
        for j in i + 1..areas.len() {
            let (a, b) = (areas[i], areas[j]);
            if a.1 < b.2 && b.1 < a.2 {
                errs.push(Error::Overlap {
                    what: "pv_header areas",
                    a_name: a.0,
                    a_start: a.1,
                    a_end: a.2,
                    b_name: b.0,
                    b_start: b.1,
                    b_end: b.2,
                });
            }
        }
    }
    errs
}
