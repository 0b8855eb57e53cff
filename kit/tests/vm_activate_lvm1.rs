//! `activate` / `deactivate` of LVM1 (format1) VGs against a real kernel. lvm2 2.03 cannot
//! read LVM1, so there is no peer: the ground truth is each image's `.vgcfg` (lvm2 2.02.177's
//! `vgcfgbackup`, see `README.md` beside the images), read here with the config grammar only
//! (not our LVM1 reader, model or planner). From it this file computes every dm device lvm2
//! builds (names, uuids, access, `linear`/`striped` lines at `pe_start + pe × extent_size`,
//! snapshot stacks) and where each LV byte lies on the PVs, then checks our devices against
//! both: tables, data written through each LV and read at the computed PV offsets, COW
//! headers and exceptions on disk, nothing left after deactivation, no metadata byte changed.
//!
//! Runs inside the user-mode-linux guest (`tests/tests/vm.rs`, scenario
//! `tests/vm/scenarios/activate-lvm1.sh`): the disks are copies of the images named, in disk
//! order, by `$LVMKIT_VM_LVM1_IMAGES`; `$LVMKIT_VM_LVM1_DIR` holds the `.vgcfg` files.
//! Anywhere else it prints `skipped: …`.

mod guest;
#[path = "guest/args.rs"]
mod guest_args;
use guest::{
    checksum, dev_num, disks, dm_empty, dm_read_ahead, dm_state, flush_bufs, pattern, read_at, read_disk_at,
    sh, write_at,
};
use guest_args::args;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use lvmkit::activate::{ActivateError, activate, deactivate, status};
use lvmkit::source::Source;
use lvmkit_activation::PlanOptions;
use lvmkit_activation::apply::ApplyOptions;
use lvmkit_metadata::text::{self, Scalar, Section, Value};

/// The VGs of the images and whether each is exported (`l1d`).
const VGS: [(&str, bool); 4] = [("l1a", false), ("l1b", false), ("l1c", false), ("l1d", true)];

/// A PV of the ground truth: the guest disk holding its image, and its first PE (sectors).
struct Pv {
    disk: String,
    pe_start: u64,
}

/// One segment: extents `start .. start + count` of the LV.
struct Seg {
    start: u64,
    count: u64,
    kind: SegKind,
}

enum SegKind {
    /// `striped` (1 area: linear): stripe size in sectors, areas as (PV key, first PE).
    Striped { stripe_size: u64, areas: Vec<(String, u64)> },
    /// lvm2's internal `snapshotN`: chunk size in sectors, origin and COW LV names.
    Snapshot { chunk: u64, origin: String, cow: String },
}

struct Lv {
    name: String,
    /// uuid without dashes.
    id: String,
    writable: bool,
    visible: bool,
    read_ahead: Option<u64>,
    segs: Vec<Seg>,
}

/// One VG's `.vgcfg`.
struct Vg {
    name: String,
    /// uuid without dashes.
    id: String,
    /// `system_id` (LVM1's `pv_disk.system_id`).
    system_id: String,
    extent: u64,
    pvs: BTreeMap<String, Pv>,
    lvs: Vec<Lv>,
}

fn int(s: &Section, key: &str) -> u64 {
    match s.value(key) {
        Some(Value::Scalar(Scalar::Int(i))) => u64::try_from(*i).expect("non-negative"),
        other => panic!("vgcfg: {key} is {other:?}"),
    }
}

fn string(s: &Section, key: &str) -> String {
    match s.value(key) {
        Some(Value::Scalar(Scalar::Str(v))) => v.to_string(),
        other => panic!("vgcfg: {key} is {other:?}"),
    }
}

fn words(s: &Section, key: &str) -> Vec<Scalar<'static>> {
    match s.value(key) {
        Some(Value::Array(a)) => a.iter().map(|x| x.clone().into_owned()).collect(),
        other => panic!("vgcfg: {key} is {other:?}"),
    }
}

impl Vg {
    /// Reads `dir/NAME.vgcfg`; PV `pvK` is the disk holding image `NAME-pvK` (or `NAME` for a
    /// one-PV VG), `images` naming the disks' images in order.
    fn load(dir: &str, name: &str, images: &[String], disks: &[String]) -> Vg {
        let path = format!("{dir}/{name}.vgcfg");
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let root = text::parse(&raw).unwrap_or_else(|e| panic!("{path}: {e}"));
        let vg = root.section(name).unwrap_or_else(|| panic!("{path}: no section {name}"));
        let extent = int(vg, "extent_size");
        let disk_of = |key: &str| {
            let multi = format!("{name}-{key}");
            let i = images
                .iter()
                .position(|n| *n == multi || (key == "pv0" && n == name))
                .unwrap_or_else(|| panic!("no image for {name}/{key} among {images:?}"));
            disks[i].clone()
        };
        let pvs = vg
            .section("physical_volumes")
            .unwrap()
            .sections()
            .map(|(k, p)| (k.to_string(), Pv { disk: disk_of(k), pe_start: int(p, "pe_start") }))
            .collect();
        let lvs = vg
            .section("logical_volumes")
            .unwrap()
            .sections()
            .map(|(lv_name, lv)| {
                let status: Vec<String> = words(lv, "status")
                    .into_iter()
                    .map(|w| match w {
                        Scalar::Str(s) => s.to_string(),
                        other => panic!("status word {other:?}"),
                    })
                    .collect();
                let segs = (1..=int(lv, "segment_count"))
                    .map(|i| {
                        let s = lv.section(&format!("segment{i}")).expect("segment");
                        let kind = match string(s, "type").as_str() {
                            "striped" => {
                                let flat = words(s, "stripes");
                                let areas = flat
                                    .chunks(2)
                                    .map(|a| match a {
                                        [Scalar::Str(pv), Scalar::Int(pe)] => (pv.to_string(), *pe as u64),
                                        other => panic!("stripes entry {other:?}"),
                                    })
                                    .collect::<Vec<_>>();
                                assert_eq!(areas.len() as u64, int(s, "stripe_count"));
                                let stripe_size = if areas.len() > 1 { int(s, "stripe_size") } else { 0 };
                                SegKind::Striped { stripe_size, areas }
                            }
                            "snapshot" => SegKind::Snapshot {
                                chunk: int(s, "chunk_size"),
                                origin: string(s, "origin"),
                                cow: string(s, "cow_store"),
                            },
                            other => panic!("{path}: segment type {other} not expected in LVM1"),
                        };
                        Seg { start: int(s, "start_extent"), count: int(s, "extent_count"), kind }
                    })
                    .collect();
                Lv {
                    name: lv_name.to_string(),
                    id: string(lv, "id").replace('-', ""),
                    writable: status.iter().any(|w| w == "WRITE"),
                    visible: status.iter().any(|w| w == "VISIBLE"),
                    read_ahead: lv.value("read_ahead").map(|_| int(lv, "read_ahead")),
                    segs,
                }
            })
            .collect();
        Vg {
            name: name.to_string(),
            id: string(vg, "id").replace('-', ""),
            system_id: string(vg, "system_id"),
            extent,
            pvs,
            lvs,
        }
    }

    fn lv(&self, name: &str) -> &Lv {
        self.lvs.iter().find(|l| l.name == name).unwrap_or_else(|| panic!("{}: no LV {name}", self.name))
    }

    /// (origin, COW, chunk size) of each of lvm2's internal `snapshotN` LVs.
    fn snapshots(&self) -> Vec<(&str, &str, u64)> {
        self.lvs
            .iter()
            .flat_map(|l| &l.segs)
            .filter_map(|s| match &s.kind {
                SegKind::Snapshot { chunk, origin, cow } => Some((origin.as_str(), cow.as_str(), *chunk)),
                SegKind::Striped { .. } => None,
            })
            .collect()
    }

    fn size(&self, lv: &Lv) -> u64 {
        lv.segs.iter().map(|s| s.count).sum::<u64>() * self.extent
    }

    /// `START LENGTH linear|striped …` of an LV's own segments.
    fn data_lines(&self, lv: &Lv) -> Vec<String> {
        lv.segs
            .iter()
            .map(|s| {
                let SegKind::Striped { stripe_size, areas } = &s.kind else {
                    panic!("{}: not striped", lv.name)
                };
                let devs: Vec<String> = areas
                    .iter()
                    .map(|(pv, pe)| {
                        let p = &self.pvs[pv];
                        format!("{} {}", dev_num(&p.disk), p.pe_start + pe * self.extent)
                    })
                    .collect();
                let (start, len) = (s.start * self.extent, s.count * self.extent);
                match devs.len() {
                    1 => format!("{start} {len} linear {}", devs[0]),
                    n => format!("{start} {len} striped {n} {stripe_size} {}", devs.join(" ")),
                }
            })
            .collect()
    }

    /// The devices lvm2 builds for this VG (spec §7.4, §8): table lines with `<dm name>`
    /// references to other devices.
    fn wanted(&self) -> Vec<Want> {
        let snaps = self.snapshots();
        let name = |lv: &str, layer: Option<&str>| {
            let base = format!("{}-{}", self.name.replace('-', "--"), lv.replace('-', "--"));
            layer.map_or(base.clone(), |l| format!("{base}-{l}"))
        };
        let uuid = |lv: &Lv, layer: Option<&str>| {
            let base = format!("LVM-{}{}", self.id, lv.id);
            layer.map_or(base.clone(), |l| format!("{base}-{l}"))
        };
        let mut out = Vec::new();
        for lv in self.lvs.iter().filter(|l| l.segs.iter().all(|s| matches!(s.kind, SegKind::Striped { .. })))
        {
            let origin_of = snaps.iter().find(|(_, cow, _)| *cow == lv.name);
            let is_origin = snaps.iter().any(|(o, _, _)| *o == lv.name);
            if let Some((origin, _, chunk)) = origin_of {
                let o = self.lv(origin);
                out.push(Want::new(
                    name(&lv.name, Some("cow")),
                    uuid(lv, Some("cow")),
                    false,
                    self.data_lines(lv),
                ));
                let line = format!(
                    "0 {} snapshot <{}> <{}> P {chunk}",
                    self.size(o),
                    name(origin, Some("real")),
                    name(&lv.name, Some("cow"))
                );
                // lvm2: a COW LV is as visible as its origin.
                let mut w = Want::new(name(&lv.name, None), uuid(lv, None), !lv.writable, vec![line]);
                w.link = o.visible.then(|| lv.name.clone());
                out.push(w);
            } else if is_origin {
                out.push(Want::new(
                    name(&lv.name, Some("real")),
                    uuid(lv, Some("real")),
                    false,
                    self.data_lines(lv),
                ));
                let line = format!("0 {} snapshot-origin <{}>", self.size(lv), name(&lv.name, Some("real")));
                let mut w = Want::new(name(&lv.name, None), uuid(lv, None), !lv.writable, vec![line]);
                w.link = lv.visible.then(|| lv.name.clone());
                out.push(w);
            } else {
                let mut w =
                    Want::new(name(&lv.name, None), uuid(lv, None), !lv.writable, self.data_lines(lv));
                w.link = lv.visible.then(|| lv.name.clone());
                out.push(w);
            }
        }
        out
    }

    /// Where byte `at` of `lv` lies: (disk, byte offset on it, bytes until the mapping changes).
    fn locate(&self, lv: &Lv, at: u64) -> (String, u64, u64) {
        let sector = at / 512;
        let seg = lv
            .segs
            .iter()
            .find(|s| sector >= s.start * self.extent && sector < (s.start + s.count) * self.extent)
            .unwrap_or_else(|| panic!("{}/{}: byte {at} beyond the LV", self.name, lv.name));
        let SegKind::Striped { stripe_size, areas } = &seg.kind else { panic!("{}: not striped", lv.name) };
        let rel = at - seg.start * self.extent * 512;
        let seg_left = (seg.start + seg.count) * self.extent * 512 - at;
        let (area, within, left) = if areas.len() == 1 {
            (0, rel, seg_left)
        } else {
            let (chunk, n) = (stripe_size * 512, areas.len() as u64);
            let idx = rel / chunk;
            ((idx % n) as usize, (idx / n) * chunk + rel % chunk, (chunk - rel % chunk).min(seg_left))
        };
        let (pv, pe) = &areas[area];
        let p = &self.pvs[pv];
        (p.disk.clone(), (p.pe_start + pe * self.extent) * 512 + within, left)
    }

    /// `data` is at LV byte `at` of `lv` on the PVs, where [`Vg::locate`] puts it.
    fn assert_on_disks(&self, lv: &Lv, at: u64, data: &[u8]) {
        for p in self.pvs.values() {
            flush_bufs(&p.disk);
        }
        let mut done = 0;
        while done < data.len() {
            let (disk, off, left) = self.locate(lv, at + done as u64);
            let n = usize::try_from(left).unwrap().min(data.len() - done);
            let got = read_at(&disk, off, n);
            assert!(
                got == data[done..done + n],
                "{}/{}: LV bytes {}..{} are not at {disk} byte {off}",
                self.name,
                lv.name,
                at + done as u64,
                at + (done + n) as u64
            );
            done += n;
        }
        println!(
            "{}/{}: {} bytes at {at} found on the PVs: fnv {:016x}",
            self.name,
            lv.name,
            data.len(),
            checksum(data)
        );
    }
}

/// A dm device lvm2 would build.
struct Want {
    name: String,
    uuid: String,
    read_only: bool,
    lines: Vec<String>,
    /// `/dev/VG/<link>` points at it.
    link: Option<String>,
}

impl Want {
    fn new(name: String, uuid: String, read_only: bool, lines: Vec<String>) -> Want {
        Want { name, uuid, read_only, lines, link: None }
    }
}

/// The wanted `dmsetup table` and `dmsetup info` (name, uuid, attr) lines, sorted, with `<name>`
/// references resolved to the live device numbers.
fn expected(wants: &[Want]) -> (Vec<String>, Vec<String>) {
    let live: BTreeMap<String, String> = sh("dmsetup info -c --noheadings -o name,major,minor")
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            Some((f.next()?.to_string(), format!("{}:{}", f.next()?, f.next()?)))
        })
        .collect();
    let resolve = |line: &str| {
        line.split(' ')
            .map(|w| match w.strip_prefix('<').and_then(|w| w.strip_suffix('>')) {
                Some(n) => live.get(n).cloned().unwrap_or_else(|| format!("<{n} not live>")),
                None => w.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut table: Vec<String> =
        wants.iter().flat_map(|w| w.lines.iter().map(|l| format!("{}: {}", w.name, resolve(l)))).collect();
    let mut info: Vec<String> = wants
        .iter()
        .map(|w| format!("{}:{}:L--{}", w.name, w.uuid, if w.read_only { 'r' } else { 'w' }))
        .collect();
    table.sort();
    info.sort();
    (table, info)
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

fn assert_lines(what: &str, want: &[String], got: &[String]) {
    let mut diff = String::new();
    for l in want.iter().filter(|l| !got.contains(l)) {
        diff.push_str(&format!("  - vgcfg: {l}\n"));
    }
    for l in got.iter().filter(|l| !want.contains(l)) {
        diff.push_str(&format!("  + ours:  {l}\n"));
    }
    assert!(diff.is_empty(), "{what} differs from the ground truth:\n{diff}");
    println!("{what}: {} lines as the ground truth says", got.len());
}

/// The images, the disks and the ground truth, or `None` outside the guest.
fn setup(test: &str) -> Option<(Vec<String>, Vec<Vg>)> {
    let (Ok(dir), Ok(names)) = (std::env::var("LVMKIT_VM_LVM1_DIR"), std::env::var("LVMKIT_VM_LVM1_IMAGES"))
    else {
        println!("skipped: {test}: runs inside the VM harness");
        return None;
    };
    let images: Vec<String> = names.split_whitespace().map(str::to_string).collect();
    let disks: Vec<String> = disks().into_iter().take(images.len()).collect();
    assert_eq!(disks.len(), images.len(), "a disk per image: {images:?}");
    let vgs = VGS.iter().map(|(vg, _)| Vg::load(&dir, vg, &images, &disks)).collect();
    Some((disks, vgs))
}

fn load(disks: &[String]) -> Source {
    Source::load(&disks.iter().map(PathBuf::from).collect::<Vec<_>>(), false)
}

/// Our plan options for the LVM1 VGs here: the defaults (an LVM1 system ID is no owner, see
/// `vm_lvm1_system_id_is_not_a_foreign_owner`), the exported VG only when asked.
fn opts(exported: bool) -> PlanOptions {
    PlanOptions { allow_exported: exported, ..PlanOptions::default() }
}

#[test]
fn vm_activate_lvm1_like_vgcfg() {
    let Some((disks, vgs)) = setup("vm_activate_lvm1_like_vgcfg") else { return };
    assert!(dm_empty(), "devices before the test: {}", sh("dmsetup ls"));
    let started = std::time::Instant::now();
    let apply = ApplyOptions::default();
    let src = load(&disks);
    let by_name = |n: &str| vgs.iter().find(|v| v.name == n).unwrap();
    // Labels, VG/PV structs, UUID lists, LV arrays and PE maps: everything before the first PE.
    let metadata_bytes = || {
        vgs.iter()
            .flat_map(|v| v.pvs.values())
            .map(|p| (p.disk.clone(), checksum(&read_disk_at(&p.disk, 0, p.pe_start as usize * 512))))
            .collect::<Vec<_>>()
    };
    let before = metadata_bytes();

    // 1. The exported VG is refused unless allowed, and nothing is created.
    match activate(&src, &args(&["l1d"]), &opts(false), &apply) {
        Err(ActivateError::Plan { source, .. })
            if matches!(*source, lvmkit_activation::Error::Exported { .. }) =>
        {
            println!("l1d refused: {source}")
        }
        other => panic!("l1d is exported, expected a refusal: {other:?}"),
    }
    assert!(dm_empty(), "refused but created {}", sh("dmsetup ls"));

    // 2. The read-only LV (l1a/lv_big, no WRITE): its data goes onto the PV first.
    let (l1a, big) = (by_name("l1a"), by_name("l1a").lv("lv_big"));
    let big_at = (3 << 20) + (4 << 10);
    let big_data = pattern(64 << 10, 40);
    {
        let (disk, off, left) = l1a.locate(big, big_at);
        assert!(left >= big_data.len() as u64);
        write_at(&disk, off, &big_data);
    }

    // 3. Ours up: exactly the devices lvm2 would build, nodes and links.
    for (vg, exported) in VGS {
        let out = activate(&src, &args(&[vg]), &opts(exported), &apply).unwrap().to_string();
        println!("{out}");
    }
    let wants: Vec<Want> = vgs.iter().flat_map(Vg::wanted).collect();
    assert_eq!(wants.len(), 13, "devices the ground truth asks for");
    let (want_table, want_info) = expected(&wants);
    let (table, info) = dm_state();
    assert_lines("dmsetup table", &want_table, &sorted_lines(&table));
    assert_lines("dmsetup info", &want_info, &sorted_lines(&info));
    for vg in &vgs {
        let mut links: Vec<String> = std::fs::read_dir(format!("/dev/{}", vg.name))
            .unwrap_or_else(|e| panic!("/dev/{}: {e}", vg.name))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        links.sort();
        let mut want_links: Vec<String> = vg.wanted().iter().filter_map(|w| w.link.clone()).collect();
        want_links.sort();
        assert_eq!(links, want_links, "/dev/{}", vg.name);
        for w in vg.wanted().iter().filter(|w| w.link.is_some()) {
            let link = std::fs::read_link(format!("/dev/{}/{}", vg.name, w.link.as_ref().unwrap())).unwrap();
            assert_eq!(link, Path::new("/dev/mapper").join(&w.name));
        }
    }
    for (vg, exported) in VGS {
        let (report, ok) =
            status(&src, &args(&[vg]), &opts(exported)).map(|s| (s.to_string(), s.ok())).unwrap();
        assert!(ok, "status {vg}:\n{report}");
    }

    // 4. Data through each plain LV lands where the .vgcfg says: across lv_span's two segments
    //    (two PVs), across lv_striped's chunks (both PVs), in the middle of the others.
    let mut seed = 50;
    for (vg, _) in VGS {
        let vg = by_name(vg);
        let snaps = vg.snapshots();
        for lv in vg.lvs.iter().filter(|l| {
            l.writable
                && l.segs.iter().all(|s| matches!(s.kind, SegKind::Striped { .. }))
                && !snaps.iter().any(|(o, c, _)| *o == l.name || *c == l.name)
        }) {
            let striped =
                lv.segs.iter().any(|s| matches!(&s.kind, SegKind::Striped { areas, .. } if areas.len() > 1));
            let at = match lv.segs.get(1) {
                Some(second) => second.start * vg.extent * 512 - (32 << 10),
                None => (vg.size(lv) * 512 / 2) & !4095,
            };
            let data = pattern(if striped { 320 << 10 } else { 64 << 10 }, seed);
            seed += 1;
            write_at(&format!("/dev/mapper/{}-{}", vg.name, lv.name), at, &data);
            vg.assert_on_disks(lv, at, &data);
        }
    }
    // The read-only LV reads what is on its PV and refuses writes.
    assert!(read_at("/dev/mapper/l1a-lv_big", big_at, big_data.len()) == big_data, "l1a/lv_big data");
    let w = OpenOptions::new()
        .write(true)
        .open("/dev/mapper/l1a-lv_big")
        .and_then(|mut f| f.write_all(&[1u8; 4096]).and_then(|()| f.sync_all()));
    println!("write to read-only l1a/lv_big: {w:?}");
    assert!(w.is_err(), "l1a/lv_big is read-only (no WRITE in its status) but took a write");

    // 5. Snapshots (l1c): COW headers at the COW LVs' PV areas with the .vgcfg's chunk sizes; a
    //    write to a snapshot lands in its COW area as the first exception; a write to the
    //    origin lands on the origin's PV area and the snapshots keep the old data.
    let l1c = by_name("l1c");
    for (origin, cow, chunk) in l1c.snapshots() {
        assert_eq!(origin, "lv_origin");
        let (disk, off, _) = l1c.locate(l1c.lv(cow), 0);
        let h = read_disk_at(&disk, off, 16);
        let word = |i: usize| u32::from_le_bytes(h[i * 4..i * 4 + 4].try_into().unwrap());
        println!("l1c/{cow}: COW header at {disk} byte {off}: {:?}", (0..4).map(word).collect::<Vec<_>>());
        assert_eq!(&h[..4], b"SnAp", "l1c/{cow}: no snapshot header at {disk} byte {off}");
        assert_eq!(
            (word(1), word(2), u64::from(word(3))),
            (1, 1, chunk),
            "l1c/{cow}: valid, version, chunk size"
        );
    }
    let snap_chunk = l1c.snapshots().iter().find(|s| s.1 == "lv_snap").unwrap().2 as usize * 512;
    let snap_data = pattern(snap_chunk, 60);
    write_at("/dev/mapper/l1c-lv_snap", 4 * snap_chunk as u64, &snap_data);
    assert!(read_at("/dev/mapper/l1c-lv_snap", 4 * snap_chunk as u64, snap_chunk) == snap_data);
    let (disk, cow_off, _) = l1c.locate(l1c.lv("lv_snap"), 0);
    assert!(
        read_disk_at(&disk, cow_off + 2 * snap_chunk as u64, snap_chunk) == snap_data,
        "l1c/lv_snap: the first exception is not in COW chunk 2 at {disk} byte {}",
        cow_off + 2 * snap_chunk as u64
    );
    let zeros = vec![0u8; 64 << 10];
    assert!(read_at("/dev/mapper/l1c-lv_origin", 4 * snap_chunk as u64, snap_chunk) == zeros[..snap_chunk]);
    let origin_data = pattern(64 << 10, 61);
    write_at("/dev/mapper/l1c-lv_origin", 1 << 20, &origin_data);
    l1c.assert_on_disks(l1c.lv("lv_origin"), 1 << 20, &origin_data);
    for snap in ["lv_snap", "lv_snap2"] {
        assert!(
            read_at(&format!("/dev/mapper/l1c-{snap}"), 1 << 20, 64 << 10) == zeros,
            "l1c/{snap} changed"
        );
    }

    // 6. Down: nothing left, and not one byte before the first PE changed.
    let removed = deactivate(&src, &args(&VGS.map(|(vg, _)| vg)), &apply).unwrap().to_string();
    assert_eq!(removed.lines().count(), wants.len(), "{removed}");
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    for (vg, _) in VGS {
        assert!(!Path::new(&format!("/dev/{vg}")).exists(), "/dev/{vg} left behind");
    }
    assert_eq!(metadata_bytes(), before, "activation changed LVM1 metadata bytes");
    println!("vm_activate_lvm1_like_vgcfg: {:.2?}", started.elapsed());
}

/// lvm2 2.02.177 keeps an LVM1 VG's `pv_disk.system_id` apart from the LVM2 system ID
/// (`vg->lvm1_system_id`; `vg->system_id` stays empty), so a host without a system ID
/// activates LVM1 VGs without any foreign-VG override — the images were made that way: their
/// `lvcreate`s ran on a VG whose `system_id` was already set.
#[test]
fn vm_lvm1_system_id_is_not_a_foreign_owner() {
    let Some((disks, vgs)) = setup("vm_lvm1_system_id_is_not_a_foreign_owner") else { return };
    assert!(dm_empty());
    let src = load(&disks);
    let r = activate(&src, &args(&["l1a"]), &PlanOptions::default(), &ApplyOptions::default());
    let created = r.as_ref().map(|o| o.to_string().lines().count()).unwrap_or(0);
    deactivate(&src, &args(&["l1a"]), &ApplyOptions::default()).unwrap();
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    let want = vgs[0].wanted().len();
    assert!(
        r.is_ok() && created == want,
        "l1a (LVM1, system_id {:?} in its .vgcfg) with default options: lvm2 activates its {want} \
         devices, ours: {r:?}",
        vgs[0].system_id
    );
}

/// lvm2 loads an LV with a `read_ahead` of its own (l1a/lv_big: 64 sectors, LVM1's
/// `lv_read_ahead`) with that read-ahead.
#[test]
fn vm_lvm1_read_ahead_from_metadata() {
    let Some((disks, vgs)) = setup("vm_lvm1_read_ahead_from_metadata") else { return };
    assert!(dm_empty());
    let src = load(&disks);
    activate(&src, &args(&["l1a"]), &opts(false), &ApplyOptions::default()).unwrap();
    let ra = dm_read_ahead();
    deactivate(&src, &args(&["l1a"]), &ApplyOptions::default()).unwrap();
    assert!(dm_empty(), "left: {}", sh("dmsetup ls"));
    println!("read-ahead:\n{ra}");
    let big = vgs[0].lv("lv_big");
    assert_eq!(big.read_ahead, Some(64), "the .vgcfg's read_ahead");
    assert!(
        ra.lines().any(|l| l == "l1a-lv_big 64"),
        "l1a/lv_big has read_ahead = 64 in its metadata; lvm2 sets it on the device, ours:\n{ra}"
    );
}
