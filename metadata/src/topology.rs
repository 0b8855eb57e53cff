//! Where a block device sits in the kernel's stack, so that a PV is found once, on the device
//! at the top: lvm2's `scan_lvs=0`, `multipath_component_detection` and
//! `md_component_detection` (lib/filters/filter-mpath.c, filter-md.c, lib/device/dev-md.c,
//! lib/activate/dev_manager.c `_is_usable_uuid`).
//!
//! Everything comes from sysfs (a dm device's uuid from `dm/uuid`, who holds a device from
//! `holders/`), read through the small [`SysBlock`] trait so that the rules can be tested on a
//! fake tree; nothing here talks to device-mapper. md superblocks are recognised from bytes
//! ([`md_superblock`]).
//!
//! | device | scanned? |
//! |---|---|
//! | dm device with uuid `LVM-…` (an LV) | no, unless `scan_lvs`; an LV's private layers (uuid with a suffix) never |
//! | dm device with uuid `CRYPT-TEMP-…`, `CRYPT-SUBDEV-…`, `stratis-…` | never (private devices) |
//! | suspended dm device (`dm/suspended` = 1) | never: a read would block |
//! | a device (or the disk of a partition) held by a dm device with uuid `mpath-…` | no: a multipath path |
//! | a device held by an md array (`mdN` in `holders/`) | no: a member of an assembled array |
//! | a device carrying an md superblock | no: a member of an array that is not assembled |
//! | anything else, including the multipath map and the md array | yes |

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Read access to the kernel's block-device tree (`/sys/class/block`, `/sys/dev/block`,
/// `/proc/partitions`). [`Sysfs`] reads the real one, or a copy rooted anywhere (tests).
pub trait SysBlock: Send + Sync {
    /// `/sys/class/block/NAME/REL` without the trailing newline; `None` when absent or
    /// unreadable.
    fn attr(&self, name: &str, rel: &str) -> Option<String>;
    /// The entries of the directory `/sys/class/block/NAME/REL` (`holders`, `slaves`), sorted;
    /// empty when absent.
    fn entries(&self, name: &str, rel: &str) -> Vec<String>;
    /// The kernel name of block device `major:minor` (`/sys/dev/block/MAJ:MIN`).
    fn name_of(&self, major: u32, minor: u32) -> Option<String>;
    /// For a partition, the kernel name of its disk; `None` for a whole device.
    fn parent(&self, name: &str) -> Option<String>;
    /// The whole devices (`/sys/block`) that can sit above others: device-mapper devices
    /// (`dm-N`) and md arrays (`mdN`, `md_dN`). A host may list hundreds of disks and loop
    /// devices there; only these few are kept.
    fn stacking_devices(&self) -> Vec<String>;
    /// The text of `/proc/partitions`.
    fn proc_partitions(&self) -> io::Result<String>;
    /// The device node to open for kernel name `name`: `/dev/mapper/DM_NAME` for a
    /// device-mapper device when that node exists (the name lvm2 reports), else `/dev/NAME`.
    fn node(&self, name: &str) -> PathBuf;
}

/// The real tree (`/sys`, `/proc`, `/dev`), or one under another root.
#[derive(Clone, Debug)]
pub struct Sysfs {
    sys: PathBuf,
    proc_dir: PathBuf,
    dev_dir: PathBuf,
}

impl Default for Sysfs {
    fn default() -> Self {
        Sysfs::rooted(Path::new("/"))
    }
}

impl Sysfs {
    /// `ROOT/sys`, `ROOT/proc` and `ROOT/dev` instead of `/sys`, `/proc` and `/dev`.
    pub fn rooted(root: &Path) -> Sysfs {
        Sysfs { sys: root.join("sys"), proc_dir: root.join("proc"), dev_dir: root.join("dev") }
    }

    fn class(&self, name: &str) -> PathBuf {
        self.sys.join("class/block").join(name)
    }
}

impl SysBlock for Sysfs {
    fn attr(&self, name: &str, rel: &str) -> Option<String> {
        let mut s = std::fs::read_to_string(self.class(name).join(rel)).ok()?;
        while s.ends_with('\n') {
            s.pop();
        }
        Some(s)
    }
    fn entries(&self, name: &str, rel: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.class(name).join(rel)) else { return Vec::new() };
        let mut v: Vec<String> = rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }
    fn name_of(&self, major: u32, minor: u32) -> Option<String> {
        let link = std::fs::read_link(self.sys.join(format!("dev/block/{major}:{minor}"))).ok()?;
        Some(link.file_name()?.to_string_lossy().into_owned())
    }
    fn parent(&self, name: &str) -> Option<String> {
        // One failed open for a whole device; the path walk only for a partition.
        std::fs::metadata(self.class(name).join("partition")).ok()?;
        let dir = std::fs::canonicalize(self.class(name)).ok()?;
        Some(dir.parent()?.file_name()?.to_string_lossy().into_owned())
    }
    fn stacking_devices(&self) -> Vec<String> {
        use std::os::unix::ffi::OsStrExt;
        let Ok(rd) = std::fs::read_dir(self.sys.join("block")) else { return Vec::new() };
        rd.flatten()
            .filter(|e| {
                let n = e.file_name();
                n.as_bytes().starts_with(b"dm-") || n.as_bytes().starts_with(b"md")
            })
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
    fn proc_partitions(&self) -> io::Result<String> {
        std::fs::read_to_string(self.proc_dir.join("partitions"))
    }
    fn node(&self, name: &str) -> PathBuf {
        if name.starts_with("dm-") {
            if let Some(dm_name) = self.attr(name, "dm/name").filter(|n| !n.is_empty() && !n.contains('/')) {
                let p = self.dev_dir.join("mapper").join(dm_name);
                if p.exists() {
                    return p;
                }
            }
        }
        self.dev_dir.join(name)
    }
}

/// lvm2's `UUID_PREFIX`: the dm uuid of every LV and LV layer.
pub const LV_UUID_PREFIX: &str = "LVM-";
/// The dm uuid prefix multipath-tools gives a multipath map (`mpath-<wwid>`).
pub const MPATH_UUID_PREFIX: &str = "mpath-";
/// `LVM-` + VG id + LV id (32 characters each): a longer uuid is an LV's private layer.
const LV_UUID_LEN: usize = LV_UUID_PREFIX.len() + 64;

/// Why a device is not scanned for a PV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    /// A logical volume (dm uuid `LVM-…`): lvm2's `scan_lvs=0`.
    Lv {
        /// Its dm uuid.
        uuid: String,
    },
    /// A private device-mapper device: an LV's layer (`LVM-…-suffix`), cryptsetup's temporary
    /// and sub-devices, Stratis.
    PrivateDm {
        /// Its dm uuid.
        uuid: String,
    },
    /// A suspended device-mapper device: reading it would block.
    Suspended,
    /// A path of a multipath map: the device, or the disk of this partition, is held by the
    /// map (its `holders/`).
    MultipathPath {
        /// The map's kernel name (`dm-N`), or, when no map is assembled, `None` (found as one
        /// of several devices with one PV id and one WWID, as lvm2's duplicate handling does).
        map: Option<String>,
        /// The device's WWID when that is how it was found.
        wwid: Option<String>,
    },
    /// A member of an assembled md array (held by it).
    MdMember {
        /// The array's kernel name (`mdN`).
        array: String,
    },
    /// A device carrying an md superblock whose array is not assembled.
    MdSuperblock(MdSuperblock),
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Component::Lv { uuid } => write!(f, "a logical volume (dm uuid {uuid}; LVs are not scanned)"),
            Component::PrivateDm { uuid } => write!(f, "a private device-mapper device (dm uuid {uuid})"),
            Component::Suspended => write!(f, "a suspended device-mapper device"),
            Component::MultipathPath { map: Some(m), .. } => write!(f, "a path of multipath map {m}"),
            Component::MultipathPath { map: None, wwid } => write!(
                f,
                "a multipath component (WWID {}; its PV is on several devices with this WWID and no multipath map is assembled)",
                wwid.as_deref().unwrap_or("?")
            ),
            Component::MdMember { array } => write!(f, "a member of md array {array}"),
            Component::MdSuperblock(sb) => write!(
                f,
                "an md component (md superblock {} at byte {}; its array is not assembled)",
                sb.version, sb.offset
            ),
        }
    }
}

/// A device skipped as a component, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDevice {
    /// The device's name as scanned (`/dev/sdb`, an image path).
    pub device: String,
    /// Why.
    pub why: Component,
}

/// What sysfs says about a block device that is scanned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    /// Kernel name (`sdb`, `dm-3`, `md0`, `sdc1`); empty when not looked up (a plain device
    /// named with `--devices`: see [`SysBlock::name_of`]).
    pub name: String,
    /// Device number.
    pub major: u32,
    /// Device number.
    pub minor: u32,
    /// The dm uuid, for a device-mapper device (empty string: a dm device without one).
    pub dm_uuid: Option<String>,
    /// An md array (`md/` in sysfs).
    pub md_array: bool,
    /// Devices it is built from (`slaves/`): a multipath map's paths, an array's members.
    pub slaves: Vec<String>,
    /// Some holder is an LV (dm uuid `LVM-…`): lvm2's "device is used by LV" when choosing
    /// between duplicates (looked up only for devices with duplicates).
    pub used_by_lv: bool,
}

impl BlockInfo {
    /// A device-mapper device.
    pub fn is_dm(&self) -> bool {
        self.dm_uuid.is_some()
    }
    /// A multipath map (dm uuid `mpath-…`).
    pub fn is_multipath(&self) -> bool {
        self.dm_uuid.as_deref().is_some_and(|u| u.starts_with(MPATH_UUID_PREFIX))
    }
    /// lvm2's `dev_subsystem_part_major`: md, drbd (or a partition of one) — a device that is
    /// itself made from others.
    pub fn in_subsystem(&self) -> bool {
        self.md_array || self.name.starts_with("drbd")
    }
}

/// Scan options that concern the device stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct StackOptions {
    /// lvm2's `devices/scan_lvs`: also scan LVs for PVs (their private layers never).
    pub scan_lvs: bool,
}

/// The kernel's device stack, read once per scan from the top down: every device-mapper device
/// and md array (`/sys/block`), and what each multipath map and md array is built from. A
/// device is then classified by its number without any further read — a scan of a hundred
/// disks on a machine without maps or arrays costs one directory listing.
#[derive(Clone, Debug, Default)]
pub struct Stack {
    /// Components by device number: multipath paths (and their partitions), md members.
    components: HashMap<(u32, u32), Component>,
    /// Device-mapper devices and md arrays by number.
    tops: HashMap<(u32, u32), Top>,
    /// dm uuids by kernel name (`dm-N`), for "used by an LV" among duplicates.
    dm_uuids: HashMap<String, String>,
}

#[derive(Clone, Debug)]
struct Top {
    name: String,
    dm_uuid: Option<String>,
    suspended: bool,
    slaves: Vec<String>,
}

fn devno(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

impl Stack {
    /// Reads the stack: for each dm device its uuid (an LV's nothing more), for the others
    /// whether it is suspended and its slaves; for each md array its members.
    pub fn read(sys: &dyn SysBlock) -> Stack {
        let mut st = Stack::default();
        for name in sys.stacking_devices() {
            let is_dm = name.starts_with("dm-");
            let Some(num) = sys.attr(&name, "dev").as_deref().and_then(devno) else { continue };
            let dm_uuid = if is_dm { Some(sys.attr(&name, "dm/uuid").unwrap_or_default()) } else { None };
            if let Some(u) = &dm_uuid {
                st.dm_uuids.insert(name.clone(), u.clone());
                if u.starts_with(LV_UUID_PREFIX) {
                    st.tops.insert(num, Top { name, dm_uuid, suspended: false, slaves: Vec::new() });
                    continue;
                }
            } else if sys.attr(&name, "md/level").is_none() {
                continue;
            }
            let suspended = is_dm && sys.attr(&name, "dm/suspended").as_deref() == Some("1");
            let slaves = sys.entries(&name, "slaves");
            let mpath = dm_uuid.as_deref().is_some_and(|u| u.starts_with(MPATH_UUID_PREFIX));
            for sl in &slaves {
                let why = if mpath {
                    Component::MultipathPath { map: Some(name.clone()), wwid: None }
                } else if !is_dm {
                    Component::MdMember { array: name.clone() }
                } else {
                    continue;
                };
                if let Some(n) = sys.attr(sl, "dev").as_deref().and_then(devno) {
                    st.components.insert(n, why.clone());
                }
                // A partition of a path is a path too (lvm2 checks the disk's holders).
                if mpath {
                    for part in sys.entries(sl, ".").into_iter().filter(|p| p.starts_with(sl.as_str())) {
                        if let Some(n) = sys.attr(&part, "dev").as_deref().and_then(devno) {
                            st.components.insert(n, why.clone());
                        }
                    }
                }
            }
            st.tops.insert(num, Top { name, dm_uuid, suspended, slaves });
        }
        st
    }

    /// What to do with block device `major:minor` (kernel name `name` when known):
    /// `Ok(info)` to scan it, `Err(why)` to skip it as a component.
    pub fn classify(
        &self,
        major: u32,
        minor: u32,
        name: Option<&str>,
        opts: StackOptions,
    ) -> Result<BlockInfo, Component> {
        if let Some(c) = self.components.get(&(major, minor)) {
            return Err(c.clone());
        }
        let Some(top) = self.tops.get(&(major, minor)) else {
            return Ok(BlockInfo {
                name: name.unwrap_or_default().to_string(),
                major,
                minor,
                ..BlockInfo::default()
            });
        };
        if let Some(u) = &top.dm_uuid {
            if let Some(why) = dm_skip(u, opts) {
                return Err(why);
            }
            if top.suspended {
                return Err(Component::Suspended);
            }
        }
        Ok(BlockInfo {
            name: top.name.clone(),
            major,
            minor,
            dm_uuid: top.dm_uuid.clone(),
            md_array: top.dm_uuid.is_none(),
            slaves: top.slaves.clone(),
            used_by_lv: false,
        })
    }

    /// Whether some holder of device `name` is an LV (lvm2's "device is used by LV").
    pub fn used_by_lv(&self, sys: &dyn SysBlock, name: &str) -> bool {
        sys.entries(name, "holders")
            .iter()
            .any(|h| self.dm_uuids.get(h).is_some_and(|u| u.starts_with(LV_UUID_PREFIX)))
    }
}

/// [`Stack::read`] and [`Stack::classify`] for one device by kernel name (tests, tools).
pub fn classify(sys: &dyn SysBlock, name: &str, opts: StackOptions) -> Result<BlockInfo, Component> {
    let st = Stack::read(sys);
    let (major, minor) = sys.attr(name, "dev").as_deref().and_then(devno).unwrap_or((0, 0));
    let mut info = st.classify(major, minor, Some(name), opts)?;
    info.used_by_lv = st.used_by_lv(sys, name);
    Ok(info)
}

/// lvm2's `_is_usable_uuid` with `check_lv = !scan_lvs` and `check_reserved`.
fn dm_skip(uuid: &str, opts: StackOptions) -> Option<Component> {
    if uuid.starts_with(LV_UUID_PREFIX) {
        if uuid.len() > LV_UUID_LEN {
            return Some(Component::PrivateDm { uuid: uuid.to_string() });
        }
        if !opts.scan_lvs {
            return Some(Component::Lv { uuid: uuid.to_string() });
        }
        return None;
    }
    ["CRYPT-TEMP-", "CRYPT-SUBDEV-", "stratis-"]
        .iter()
        .any(|p| uuid.starts_with(p))
        .then(|| Component::PrivateDm { uuid: uuid.to_string() })
}

/// A disk's WWID as the kernel reports it (`device/wwid`; a partition: its disk's), for lvm2's
/// rule that duplicates on devices with one WWID are multipath paths.
pub fn wwid(sys: &dyn SysBlock, name: &str) -> Option<String> {
    let disk = sys.parent(name).unwrap_or_else(|| name.to_string());
    sys.attr(&disk, "device/wwid").map(|w| w.trim().to_string()).filter(|w| !w.is_empty())
}

/// A block device from `/proc/partitions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelDevice {
    /// Kernel name.
    pub name: String,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

/// The non-empty block devices `/proc/partitions` lists.
pub fn kernel_devices(sys: &dyn SysBlock) -> io::Result<Vec<KernelDevice>> {
    let text = sys.proc_partitions()?;
    let mut out = Vec::new();
    for line in text.lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [major, minor, blocks, name] = cols[..] else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        if blocks == "0" {
            continue;
        }
        out.push(KernelDevice { name: name.to_string(), major, minor });
    }
    Ok(out)
}

/// `MD_SB_MAGIC`, first field of every md superblock (linux/raid/md_p.h).
pub const MD_SB_MAGIC: u32 = 0xa92b_4efc;
/// `MD_RESERVED_BYTES`: the 0.90 superblock's reserved area at the end of a member.
const MD_RESERVED: u64 = 64 * 1024;

/// An md superblock found on a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MdSuperblock {
    /// "0.90", "1.0", "1.1" or "1.2": what the position says.
    pub version: &'static str,
    /// Byte offset of the superblock.
    pub offset: u64,
}

/// Where md superblocks sit on a device of `size` bytes, as (version, offset): 1.1 at the
/// start, 1.2 at 4 KiB, 0.90 in the last 64 KiB-aligned 64 KiB, 1.0 8 KiB before the end
/// (4 KiB aligned) — lvm2's `_dev_is_md_component_native`, mdadm's super0/super1. Devices
/// smaller than 128 KiB have none (lvm2: `MD_RESERVED_SECTORS * 2`).
pub fn md_superblock_offsets(size: u64) -> Vec<(&'static str, u64)> {
    if size < 2 * MD_RESERVED {
        return Vec::new();
    }
    let sectors = size / 512;
    let v090 = ((sectors & !(MD_RESERVED / 512 - 1)) - MD_RESERVED / 512) * 512;
    let v10 = ((sectors - 16) & !7) * 512;
    vec![("1.1", 0), ("1.2", 4096), ("0.90", v090), ("1.0", v10)]
}

/// Whether the 4 bytes at `at` of `bytes` (a read starting at device byte `base`) are the md
/// magic, in either byte order (version 1 is little endian, 0.90 host endian).
fn magic_at(bytes: &[u8], base: u64, at: u64) -> Option<bool> {
    let i = usize::try_from(at.checked_sub(base)?).ok()?;
    let b: [u8; 4] = bytes.get(i..i + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b) == MD_SB_MAGIC || u32::from_be_bytes(b) == MD_SB_MAGIC)
}

/// The md superblock in `head` (the device's first bytes) — 1.1 or 1.2 — if any.
pub fn md_superblock_at_start(head: &[u8], size: u64) -> Option<MdSuperblock> {
    md_superblock_offsets(size)
        .into_iter()
        .filter(|(_, o)| *o < 8192)
        .find(|(_, o)| magic_at(head, 0, *o) == Some(true))
        .map(|(version, offset)| MdSuperblock { version, offset })
}

/// The md superblock at the end of `dev` — 0.90 or 1.0 — if any (two small reads).
pub fn md_superblock_at_end(dev: &dyn crate::device::Device) -> crate::error::Result<Option<MdSuperblock>> {
    for (version, offset) in md_superblock_offsets(dev.size()).into_iter().filter(|(_, o)| *o >= 8192) {
        let b = crate::device::read(dev, "md superblock", offset, 4)?;
        if magic_at(&b, offset, offset) == Some(true) {
            return Ok(Some(MdSuperblock { version, offset }));
        }
    }
    Ok(None)
}

/// A sysfs tree in a directory, as [`Sysfs::rooted`] reads it: for tests of the scan rules
/// without the devices (here and in the workspace's integration tests). Devices are
/// `sys/devices/PATH` directories (a partition below its disk) with `sys/class/block/NAME` and
/// `sys/dev/block/MAJ:MIN` symlinks to them; `proc/partitions` lists them; `dev/` is for the
/// nodes (any file: an image stands in for a disk).
pub struct FakeSysfs {
    root: PathBuf,
    partitions: std::sync::Mutex<String>,
}

impl FakeSysfs {
    /// An empty tree under `root` (an existing, empty directory).
    pub fn new(root: &Path) -> io::Result<FakeSysfs> {
        for d in ["sys/block", "sys/class/block", "sys/dev/block", "proc", "dev/mapper"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        let t = FakeSysfs { root: root.to_path_buf(), partitions: std::sync::Mutex::new(String::new()) };
        t.write_partitions()?;
        Ok(t)
    }
    /// The reader of this tree.
    pub fn sys(&self) -> Sysfs {
        Sysfs::rooted(&self.root)
    }
    /// Where node `dev/REL` of the tree is.
    pub fn dev_path(&self, rel: &str) -> PathBuf {
        self.root.join("dev").join(rel)
    }
    fn write_partitions(&self) -> io::Result<()> {
        let lines = self.partitions.lock().expect("no panics while held").clone();
        std::fs::write(self.root.join("proc/partitions"), format!("major minor  #blocks  name\n\n{lines}"))
    }
    /// Adds a device at `devices/PATH` (PATH ends in its kernel name; `sdc/sdc1` is a
    /// partition of `sdc`) with number `major:minor`, listed in `proc/partitions` with `kib`
    /// KiB.
    pub fn dev(&self, path: &str, major: u32, minor: u32, kib: u64) -> io::Result<&FakeSysfs> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let dir = self.root.join("sys/devices").join(path);
        std::fs::create_dir_all(dir.join("holders"))?;
        std::fs::write(dir.join("dev"), format!("{major}:{minor}\n"))?;
        if path.contains('/') {
            std::fs::write(dir.join("partition"), "1\n")?;
        } else {
            std::os::unix::fs::symlink(&dir, self.root.join("sys/block").join(name))?;
        }
        std::os::unix::fs::symlink(&dir, self.root.join("sys/class/block").join(name))?;
        std::os::unix::fs::symlink(&dir, self.root.join(format!("sys/dev/block/{major}:{minor}")))?;
        self.partitions
            .lock()
            .expect("no panics while held")
            .push_str(&format!("{major:4} {minor:7} {kib:9} {name}\n"));
        self.write_partitions()?;
        Ok(self)
    }
    /// Writes attribute `REL` of device `name` (`dm/uuid`, `device/wwid`, …).
    pub fn attr(&self, name: &str, rel: &str, value: &str) -> io::Result<&FakeSysfs> {
        let p = self.root.join("sys/class/block").join(name).join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, format!("{value}\n"))?;
        Ok(self)
    }
    /// `upper` is built on `lower`: `lower/holders/upper`, `upper/slaves/lower`.
    pub fn stack(&self, lower: &str, upper: &str) -> io::Result<&FakeSysfs> {
        let c = self.root.join("sys/class/block");
        std::fs::create_dir_all(c.join(upper).join("slaves"))?;
        std::os::unix::fs::symlink(c.join(upper), c.join(lower).join("holders").join(upper))?;
        std::os::unix::fs::symlink(c.join(lower), c.join(upper).join("slaves").join(lower))?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::MemDevice;

    /// The tree, and the directory holding it (removed when dropped).
    struct Tree(FakeSysfs, #[allow(dead_code)] tempfile::TempDir);

    impl Tree {
        fn new() -> Tree {
            let d = tempfile::tempdir().unwrap();
            Tree(FakeSysfs::new(d.path()).unwrap(), d)
        }
        fn sys(&self) -> Sysfs {
            self.0.sys()
        }
        fn dev(&self, path: &str, devno: (u32, u32)) -> &Tree {
            self.0.dev(path, devno.0, devno.1, 65536).unwrap();
            self
        }
        fn attr(&self, name: &str, rel: &str, value: &str) -> &Tree {
            self.0.attr(name, rel, value).unwrap();
            self
        }
        fn stack(&self, lower: &str, upper: &str) -> &Tree {
            self.0.stack(lower, upper).unwrap();
            self
        }
    }

    const LV: &str = "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn tree() -> Tree {
        let t = Tree::new();
        t.dev("sda", (8, 0))
            .dev("sdb", (8, 16))
            .dev("sdc", (8, 32))
            .dev("sdc/sdc1", (8, 33))
            .dev("sdd", (8, 48))
            .dev("vdb", (254, 16))
            .dev("vdc", (254, 32))
            .dev("dm-0", (253, 0))
            .dev("dm-1", (253, 1))
            .dev("dm-2", (253, 2))
            .dev("dm-3", (253, 3))
            .dev("dm-4", (253, 4))
            .dev("md0", (9, 0));
        // dm-0: multipath map over sda and sdb; dm-1: an LV on it; dm-2: a raid LV's private
        // layer; dm-3: suspended; dm-4: a multipath map over sdc (partitioned: sdc1 is a path
        // too); md0 over vdb + vdc.
        t.attr("dm-0", "dm/uuid", "mpath-3600140512345")
            .stack("sda", "dm-0")
            .stack("sdb", "dm-0")
            .attr("dm-1", "dm/uuid", LV)
            .stack("dm-0", "dm-1")
            .attr("dm-2", "dm/uuid", &format!("{LV}-rimage_0"))
            .attr("dm-3", "dm/uuid", "CRYPT-LUKS2-x")
            .attr("dm-3", "dm/suspended", "1")
            .attr("dm-4", "dm/uuid", "mpath-3600140599999")
            .stack("sdc", "dm-4")
            .attr("md0", "md/level", "raid1")
            .stack("vdb", "md0")
            .stack("vdc", "md0");
        t
    }

    #[test]
    fn lvm2_rules_on_a_fake_tree() {
        let t = tree();
        let sys = t.sys();
        let o = StackOptions::default();
        // The top devices are scanned, and know what they are made of.
        let mp = classify(&sys, "dm-0", o).unwrap();
        assert!(mp.is_multipath() && mp.is_dm() && mp.used_by_lv, "{mp:?}");
        assert_eq!(mp.slaves, ["sda", "sdb"]);
        let md = classify(&sys, "md0", o).unwrap();
        assert!(md.md_array && md.in_subsystem() && !md.is_dm(), "{md:?}");
        assert_eq!(md.slaves, ["vdb", "vdc"]);
        // Their components are not.
        for path in ["sda", "sdb"] {
            assert_eq!(
                classify(&sys, path, o),
                Err(Component::MultipathPath { map: Some("dm-0".into()), wwid: None })
            );
        }
        assert_eq!(
            classify(&sys, "sdc1", o),
            Err(Component::MultipathPath { map: Some("dm-4".into()), wwid: None })
        );
        assert_eq!(classify(&sys, "vdb", o), Err(Component::MdMember { array: "md0".into() }));
        // LVs only with scan_lvs; private layers and suspended devices never.
        assert_eq!(classify(&sys, "dm-1", o), Err(Component::Lv { uuid: LV.into() }));
        assert!(classify(&sys, "dm-1", StackOptions { scan_lvs: true }).is_ok());
        let layer = Err(Component::PrivateDm { uuid: format!("{LV}-rimage_0") });
        assert_eq!(classify(&sys, "dm-2", StackOptions { scan_lvs: true }), layer);
        assert_eq!(classify(&sys, "dm-3", o), Err(Component::Suspended));
        // Negative controls: a plain disk, a plain partition.
        let plain = classify(&sys, "sdd", o).unwrap();
        assert!(!plain.is_dm() && !plain.md_array && !plain.used_by_lv && plain.slaves.is_empty());
        assert_eq!(sys.parent("sdc1").as_deref(), Some("sdc"));
        assert_eq!(sys.parent("sdc"), None);
        assert_eq!(sys.name_of(253, 0).as_deref(), Some("dm-0"));
    }

    #[test]
    fn wwid_and_proc_partitions() {
        let t = tree();
        t.attr("sdc", "device/wwid", "naa.600140599999 ");
        let sys = t.sys();
        assert_eq!(wwid(&sys, "sdc1").as_deref(), Some("naa.600140599999"));
        assert_eq!(wwid(&sys, "sdd"), None);
        t.0.dev("loop0", 7, 0, 0).unwrap();
        let d = kernel_devices(&sys).unwrap();
        let names: Vec<&str> = d.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            ["sda", "sdb", "sdc", "sdc1", "sdd", "vdb", "vdc", "dm-0", "dm-1", "dm-2", "dm-3", "dm-4", "md0"]
        );
        assert!(!names.contains(&"loop0"), "empty devices are left out");
        assert_eq!((d[7].major, d[7].minor), (253, 0));
        // dm devices are opened by their /dev/mapper name when that node exists.
        assert_eq!(sys.node("dm-0"), t.0.dev_path("dm-0"));
        t.attr("dm-0", "dm/name", "mpatha");
        assert_eq!(sys.node("dm-0"), t.0.dev_path("dm-0"), "no /dev/mapper/mpatha node yet");
        std::fs::write(t.0.dev_path("mapper/mpatha"), b"").unwrap();
        assert_eq!(sys.node("dm-0"), t.0.dev_path("mapper/mpatha"));
        assert_eq!(sys.node("sda"), t.0.dev_path("sda"));
    }

    #[test]
    fn md_superblocks_where_mdadm_puts_them() {
        let size = 10 << 20;
        let offs = md_superblock_offsets(size);
        // 0.90: 64 KiB-aligned end minus 64 KiB; 1.0: end minus 8 KiB, 4 KiB aligned.
        assert_eq!(offs, [("1.1", 0), ("1.2", 4096), ("0.90", size - 65536), ("1.0", size - 8192)]);
        // An odd size: 1.0 is 8–12 KiB before the end, 0.90 64–128 KiB.
        let odd = size + 5000;
        let o = md_superblock_offsets(odd);
        assert_eq!(o[2].1, size - 65536);
        assert_eq!(o[3].1, ((odd / 512 - 16) & !7) * 512);
        assert!(md_superblock_offsets(100 * 1024).is_empty());
        for (version, offset) in offs {
            let mut data = vec![0u8; size as usize];
            data[offset as usize..offset as usize + 4].copy_from_slice(&MD_SB_MAGIC.to_le_bytes());
            let dev = MemDevice::new("m", data);
            let start = md_superblock_at_start(&dev.data()[..16384], size);
            let end = md_superblock_at_end(&dev).unwrap();
            let found = start.or(end).expect("found");
            assert_eq!(found, MdSuperblock { version, offset });
            assert_eq!(start.is_some(), offset < 8192, "{version}");
        }
        // Big-endian 0.90 (a superblock written by a big-endian host) too; nothing on zeros.
        let mut data = vec![0u8; size as usize];
        let o = (size - 65536) as usize;
        data[o..o + 4].copy_from_slice(&MD_SB_MAGIC.to_be_bytes());
        assert!(md_superblock_at_end(&MemDevice::new("m", data)).unwrap().is_some());
        let zeros = MemDevice::new("z", vec![0u8; size as usize]);
        assert_eq!(md_superblock_at_end(&zeros).unwrap(), None);
        assert_eq!(md_superblock_at_start(&zeros.data()[..16384], size), None);
    }
}
