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
use crate::topology::{
    self, BlockInfo, Component, ComponentDevice, MdSuperblock, Stack, StackOptions, SysBlock, Sysfs,
};

/// Bytes read from the start of every device in one go: the label sectors, mda1's header and
/// the start of its ring (where a young VG's text sits). A text elsewhere in the ring costs one
/// more read of exactly its sectors, cheaper than reading 128 KiB of every device as lvm2 does.
pub const PREFETCH: u64 = 16 * 1024;

/// What to scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Only these devices or image files (lvm2's `--devices`). `None`: every block device the
    /// kernel lists in /proc/partitions. Either way, components of other devices (multipath
    /// paths, md members, LVs unless `scan_lvs`) are skipped: see [`crate::topology`].
    pub devices: Option<Vec<PathBuf>>,
    /// lvm2's `devices/scan_lvs`: also look for PVs on LVs.
    pub scan_lvs: bool,
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
    /// Where the device sits in the kernel's stack (block devices of a kernel scan); `None` for
    /// image files and memory.
    pub block: Option<BlockInfo>,
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
    /// Devices not used because they are components of another device (multipath paths, md
    /// members, LVs), in scan order: they are never PVs.
    pub components: Vec<ComponentDevice>,
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

/// Scan according to `opts`, with the kernel's sysfs telling which devices are components.
pub fn scan(opts: &ScanOptions) -> Scan {
    scan_with(opts, &Sysfs::default())
}

/// [`scan`] with another view of sysfs and /proc/partitions (tests use a fake tree).
///
/// Block devices are classified from sysfs before any read ([`topology::Stack`]):
/// components are recorded in [`Scan::components`] and not read. Then every device is read
/// once at its start; one carrying an md superblock is an md component (at its end: 0.90 and
/// 1.0, looked for where the PV label's device size differs from the device's, as it always
/// does on a member). Finally, lvm2's last chance for components among duplicates: devices
/// with one PV id and one WWID are multipath paths without an assembled map, and md
/// components are found with the full superblock check.
pub fn scan_with(opts: &ScanOptions, sys: &dyn SysBlock) -> Scan {
    let mut out = Scan::default();
    let stack_opts = StackOptions { scan_lvs: opts.scan_lvs };
    let devices: Vec<Listed> = match &opts.devices {
        Some(list) => list.iter().map(|p| (p.clone(), None)).collect(),
        None => match topology::kernel_devices(sys) {
            Ok(l) => l.into_iter().map(|k| (sys.node(&k.name), Some((k.name, k.major, k.minor)))).collect(),
            Err(e) => {
                out.errors.push(Error::open("/proc/partitions", e));
                return out;
            }
        },
    };
    let stack = Stack::read(sys);
    let mut opened: Vec<Arc<dyn Device>> = Vec::new();
    let mut infos: HashMap<usize, BlockInfo> = HashMap::new();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for (path, known) in &devices {
        // A kernel device is classified before it is opened: a component is never touched.
        let known_info = match known {
            Some((name, major, minor)) => match stack.classify(*major, *minor, Some(name), stack_opts) {
                Err(why) => {
                    out.components.push(ComponentDevice { device: path.display().to_string(), why });
                    continue;
                }
                Ok(info) => Some(info),
            },
            None => None,
        };
        let file = match FileDevice::open(path, OpenOptionsLvm { direct: opts.direct }) {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        // One device under two names (the same path twice, a symlink, a /dev/disk/by-* alias) is
        // scanned once, under the first name, as lvm2 treats aliases: not a duplicate PV. The
        // identity comes from the descriptor's fstat, which the open does anyway;
        // /proc/partitions lists each device once.
        if known.is_none() {
            if seen.contains(&file.identity()) {
                continue;
            }
            seen.push(file.identity());
        }
        let devs = {
            let (devs, note) = partitioned(file);
            out.notes.extend(note.map(|n| (path.display().to_string(), n)));
            devs
        };
        for dev in devs {
            let info = match &known_info {
                Some(info) => Some(Ok(info.clone())),
                None => dev
                    .dev_t()
                    .map(|rdev| stack.classify(libc::major(rdev), libc::minor(rdev), None, stack_opts)),
            };
            match info {
                Some(Ok(info)) => {
                    infos.insert(arc_key(&dev), info);
                }
                Some(Err(why)) => {
                    out.components.push(ComponentDevice { device: dev.name().to_string(), why });
                    continue;
                }
                None => {}
            }
            opened.push(dev);
        }
    }
    let scanned = scan_devices(opened);
    out.devices_scanned = scanned.devices_scanned + out.components.len();
    out.pvs = scanned.pvs;
    for pv in &mut out.pvs {
        pv.block = infos.remove(&arc_key(&pv.device));
    }
    out.errors.extend(scanned.errors);
    out.notes.extend(scanned.notes);
    out.components.extend(scanned.components);
    components_among_duplicates(&mut out, sys, &stack);
    out
}

/// A device to scan: its path, and its kernel name and number when the kernel listed it.
type Listed = (PathBuf, Option<(String, u32, u32)>);

fn arc_key(d: &Arc<dyn Device>) -> usize {
    Arc::as_ptr(d) as *const () as usize
}

/// lvm2's `_all_multipath_components` and `_all_md_components` (lib/cache/lvmcache.c), run on
/// each set of devices that carry one PV id: when every device of the set has the same WWID,
/// they are paths of a multipath map that is not assembled; when every device but an md array
/// carries an md superblock (the full check: start and end), they are its members (or, with
/// no array, the members of a stopped one). Either way they are moved to the components;
/// what remains is a real duplicate for assembly to choose from.
fn components_among_duplicates(scan: &mut Scan, sys: &dyn SysBlock, stack: &Stack) {
    let mut groups: HashMap<crate::id::LvmId, Vec<usize>> = HashMap::new();
    for (i, pv) in scan.pvs.iter().enumerate() {
        groups.entry(pv.label.pv_header.pv_uuid).or_default().push(i);
    }
    // What the choice between duplicates needs and the scan did not look up: kernel names,
    // and whether an LV uses the device.
    for members in groups.values().filter(|m| m.len() > 1) {
        for &i in members {
            if let Some(b) = scan.pvs[i].block.as_mut() {
                if b.name.is_empty() {
                    b.name = sys.name_of(b.major, b.minor).unwrap_or_default();
                }
                b.used_by_lv = !b.name.is_empty() && stack.used_by_lv(sys, &b.name);
            }
        }
    }
    let mut moved: Vec<(usize, Component)> = Vec::new();
    for members in groups.values().filter(|m| m.len() > 1) {
        let pvs: Vec<&PvScan> = members.iter().map(|&i| &scan.pvs[i]).collect();
        // Multipath: the same WWID on every device (none of them a dm device).
        let wwids: Vec<Option<String>> = pvs
            .iter()
            .map(|p| p.block.as_ref().filter(|b| !b.is_dm()).and_then(|b| topology::wwid(sys, &b.name)))
            .collect();
        if let Some(Some(w)) = wwids.first() {
            if wwids.iter().all(|x| x.as_ref() == Some(w)) {
                for &i in members {
                    moved.push((i, Component::MultipathPath { map: None, wwid: Some(w.clone()) }));
                }
                continue;
            }
        }
        // md: every device that is not an md array carries a superblock.
        let mut found = Vec::new();
        for (&i, p) in members.iter().zip(&pvs) {
            if p.block.as_ref().is_some_and(|b| b.md_array) {
                continue;
            }
            let sb = crate::device::read(p.device.as_ref(), "device start", 0, p.dev_size.min(8192))
                .ok()
                .and_then(|h| topology::md_superblock_at_start(&h, p.dev_size))
                .or_else(|| topology::md_superblock_at_end(p.device.as_ref()).ok().flatten());
            found.push((i, sb));
        }
        if !found.is_empty() && found.iter().all(|(_, sb)| sb.is_some()) {
            moved.extend(found.into_iter().filter_map(|(i, sb)| Some((i, Component::MdSuperblock(sb?)))));
        }
    }
    if moved.is_empty() {
        return;
    }
    moved.sort_by_key(|(i, _)| *i);
    for (i, why) in moved.into_iter().rev() {
        let pv = scan.pvs.remove(i);
        scan.components.push(ComponentDevice { device: pv.name().to_string(), why });
    }
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
    Ok(partitioned(FileDevice::open(path, OpenOptionsLvm { direct: opts.direct })?))
}

/// [`open_partitioned`] for a device already opened.
fn partitioned(dev: FileDevice) -> Opened {
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
            return (devs, hidden);
        }
    }
    (vec![dev], None)
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
            DeviceResult::Md(sb) => out
                .components
                .push(ComponentDevice { device: dev.name().to_string(), why: Component::MdSuperblock(sb) }),
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

/// Calls the hook [`set_before_parse`] set, for a text parsed outside a scan (a copy kept in
/// a file: the kit's recorded state).
pub fn before_parse(text_bytes: usize) {
    if let Some(hook) = BEFORE_PARSE.get() {
        hook(text_bytes);
    }
}

enum DeviceResult {
    /// The PV (its mdas' `committed` still unset) and each mda's text to parse.
    Pv(Box<PvScan>, Vec<Option<RawText>>),
    NotPv(Vec<LabelNote>),
    Failed(Error),
    /// An md component: never a PV, whatever its first sectors say.
    Md(MdSuperblock),
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
    if let Some(sb) = topology::md_superblock_at_start(&head, size) {
        return DeviceResult::Md(sb);
    }
    let lvm1_sig = crate::lvm1::is_lvm1(&head);
    // A member of an md array with its superblock at the end (0.90, 1.0) starts with the
    // array's first sectors: the PV label of a PV on the array, whose recorded device size is
    // the array's, always smaller than the member. Only such devices (and LVM1 PVs, which
    // record none) get the two reads at the end.
    let label_size = label_scan.label.as_ref().map(|l| l.pv_header.device_size);
    if (lvm1_sig && label_size.is_none()) || label_size.is_some_and(|s| s != size) {
        match topology::md_superblock_at_end(dev.as_ref()) {
            Ok(Some(sb)) => return DeviceResult::Md(sb),
            Ok(None) => {}
            Err(e) => return DeviceResult::Failed(e.on_device(&name)),
        }
    }
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
            block: None,
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
