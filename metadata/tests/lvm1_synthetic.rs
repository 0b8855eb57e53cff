//! LVM1 cases the shared images do not show, built by a small test-only writer of the format1
//! structures (the layout lvm2's `_calc_simple_layout` produces), and one test per bad-input
//! class: each must be a typed error naming the device and byte offset, never a panic.

use lvmkit_metadata::device::MemDevice;
use lvmkit_metadata::error::Error;
use lvmkit_metadata::export::export_file_tree;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::lvm1::{Lvm1Pv, Lvm1Vg, read_pv, rebuild_vg};
use lvmkit_metadata::model::{AreaTarget, SegmentKind};
use lvmkit_metadata::text::write_file;

const VG_BASE: usize = 4096;
const UUIDS_BASE: usize = 8192;
const LV_BASE: usize = 40960;
const PE_BASE: usize = 126976;

/// One PV to write.
#[derive(Clone)]
struct SPv {
    uuid: Vec<u8>,
    pe_total: u32,
    version: u16,
    exported: bool,
    map: Vec<(u16, u16)>,
}

/// One LV record to write.
#[derive(Clone)]
struct SLv {
    path: Vec<u8>,
    number: u32,
    le: u32,
    stripes: u32,
    stripesize: u32,
    access: u32,
    status: u32,
    dev: u32,
    snap_minor: u32,
    chunk: u16,
    alloc: u32,
    read_ahead: u32,
}

fn lv(name: &str, number: u32, le: u32) -> SLv {
    SLv {
        path: format!("/dev/vg1/{name}").into_bytes(),
        number,
        le,
        stripes: 1,
        stripesize: 0,
        access: 3,
        status: 0,
        dev: 0x3a00 + number,
        snap_minor: 0,
        chunk: 0,
        alloc: 0,
        read_ahead: 0,
    }
}

/// A VG to write.
#[derive(Clone)]
struct SVg {
    name: Vec<u8>,
    uuid: Vec<u8>,
    pe_size: u32,
    lv_max: u32,
    lv_cur: Option<u32>,
    pv_cur: Option<u32>,
    pvs: Vec<SPv>,
    lvs: Vec<SLv>,
}

fn pv_uuid(i: usize) -> Vec<u8> {
    format!("PvUuid{i:02}xxxxxxxxxxxxxxxxxxxxxxxx").into_bytes()
}

impl SVg {
    fn new(pes: &[u32]) -> SVg {
        SVg {
            name: b"vg1".to_vec(),
            uuid: b"VgUuidAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec(),
            pe_size: 8192,
            lv_max: 255,
            lv_cur: None,
            pv_cur: None,
            pvs: pes
                .iter()
                .enumerate()
                .map(|(i, &n)| SPv {
                    uuid: pv_uuid(i),
                    pe_total: n,
                    version: 1,
                    exported: false,
                    map: vec![(0, 0); n as usize],
                })
                .collect(),
            lvs: vec![],
        }
    }

    /// Map `count` LEs of LV `number` from `le` on PV `pv` from PE `pe`.
    fn put(&mut self, pv: usize, pe: usize, number: u32, le: u32, count: u32) -> &mut Self {
        for k in 0..count {
            self.pvs[pv].map[pe + k as usize] = ((number + 1) as u16, (le + k) as u16);
        }
        self
    }

    fn pe_start(pe_total: u32) -> u32 {
        ((PE_BASE as u32 + 4 * pe_total).div_ceil(512)).div_ceil(128) * 128
    }

    fn image(&self, i: usize) -> Vec<u8> {
        let p = &self.pvs[i];
        let pe_start = Self::pe_start(p.pe_total);
        let mut d = vec![0u8; pe_start as usize * 512];
        let put32 = |d: &mut Vec<u8>, at: usize, v: u32| d[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let put = |d: &mut Vec<u8>, at: usize, b: &[u8]| d[at..at + b.len()].copy_from_slice(b);
        // pv_disk
        put(&mut d, 0, b"HM");
        d[2..4].copy_from_slice(&p.version.to_le_bytes());
        for (k, (b, s)) in [
            (0u32, 1024u32),
            (VG_BASE as u32, 4096),
            (UUIDS_BASE as u32, 32768),
            (LV_BASE as u32, 83968),
            (PE_BASE as u32, if p.version == 1 { pe_start * 512 - PE_BASE as u32 } else { 7 }),
        ]
        .into_iter()
        .enumerate()
        {
            put32(&mut d, 4 + 8 * k, b);
            put32(&mut d, 8 + 8 * k, s);
        }
        put(&mut d, 0x2c, &p.uuid);
        let mut name = self.name.clone();
        if p.exported {
            name.extend(b"PV_EXP");
        }
        put(&mut d, 0xac, &name);
        put(&mut d, 0x12c, b"host1795293143");
        put32(&mut d, 0x1b0, i as u32 + 1);
        put32(&mut d, 0x1b8, 2);
        put32(&mut d, 0x1bc, pe_start + p.pe_total * self.pe_size);
        put32(&mut d, 0x1c0, self.lvs.len() as u32);
        put32(&mut d, 0x1c4, self.pe_size);
        put32(&mut d, 0x1c8, p.pe_total);
        put32(&mut d, 0x1cc, p.map.iter().filter(|e| e.0 != 0).count() as u32);
        put32(&mut d, 0x1d0, pe_start);
        // vg_disk
        put(&mut d, VG_BASE, &self.uuid);
        let status = if self.pvs.iter().all(|p| p.exported) { 6 } else { 4 };
        let total: u32 = self.pvs.iter().map(|p| p.pe_total).sum();
        for (off, v) in [
            (0x84, 3),
            (0x88, status),
            (0x8c, self.lv_max),
            (0x90, self.lv_cur.unwrap_or(self.lvs.len() as u32)),
            (0x98, 255),
            (0x9c, self.pv_cur.unwrap_or(self.pvs.len() as u32)),
            (0xac, self.pe_size),
            (0xb0, total),
        ] {
            put32(&mut d, VG_BASE + off, v);
        }
        for (k, q) in self.pvs.iter().enumerate() {
            put(&mut d, UUIDS_BASE + 128 * k, &q.uuid);
        }
        for l in &self.lvs {
            let at = LV_BASE + 328 * l.number.min(255) as usize;
            put(&mut d, at, &l.path);
            put(&mut d, at + 0x80, &self.name);
            for (off, v) in [
                (0x100, l.access),
                (0x104, l.status),
                (0x10c, l.dev),
                (0x110, l.number),
                (0x120, l.le * self.pe_size),
                (0x124, l.snap_minor),
                (0x12c, l.le),
                (0x130, l.stripes),
                (0x134, l.stripesize),
                (0x13c, l.alloc),
                (0x144, l.read_ahead),
            ] {
                put32(&mut d, at + off, v);
            }
            d[at + 0x128..at + 0x12a].copy_from_slice(&l.chunk.to_le_bytes());
        }
        for (k, &(n, le)) in p.map.iter().enumerate() {
            d[PE_BASE + 4 * k..][..2].copy_from_slice(&n.to_le_bytes());
            d[PE_BASE + 4 * k + 2..][..2].copy_from_slice(&le.to_le_bytes());
        }
        d
    }

    fn read(&self, i: usize) -> Result<Lvm1Pv, Error> {
        read_bytes(&format!("/dev/sd{}", (b'a' + i as u8) as char), self.image(i))
    }

    fn rebuild(&self) -> Result<Lvm1Vg, Error> {
        let pvs = (0..self.pvs.len()).map(|i| self.read(i)).collect::<Result<Vec<_>, _>>()?;
        rebuild_vg(&pvs)
    }
}

fn read_bytes(name: &str, data: Vec<u8>) -> Result<Lvm1Pv, Error> {
    read_pv(&MemDevice::new(name, data)).map(|p| p.expect("an LVM1 PV"))
}

/// The text our writer makes from the rebuilt VG parses back to the same model.
fn round_trip(v: &Lvm1Vg) {
    let text = write_file(&export_file_tree(&v.metadata));
    let back = parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back.vg, v.metadata.vg, "{text}");
}

/// `(what, field, at)` of an error, and its device.
fn where_(e: &Error) -> (String, &'static str, &'static str, u64) {
    let Error::OnDevice { device, source } = e else { panic!("no device named: {e}") };
    match **source {
        Error::BadField { what, field, at, .. } => (device.clone(), what, field, at),
        Error::Truncated { what, at, .. } => (device.clone(), what, "", at),
        ref other => panic!("unexpected error kind: {other}"),
    }
}

fn one_lv() -> SVg {
    let mut v = SVg::new(&[10]);
    v.lvs.push(lv("a", 0, 4));
    v.put(0, 0, 0, 0, 4);
    v
}

#[test]
fn version_2_takes_pe_start_from_its_field() {
    let mut v = one_lv();
    v.pvs[0].version = 2;
    let pv = v.read(0).unwrap();
    assert_eq!(pv.pv.version, 2);
    assert_eq!(pv.pv.pe_start, 256);
    assert_eq!(pv.pv.pe_on_disk.size, 256 * 512 - PE_BASE as u32, "recomputed from pe_start");
    let vg = v.rebuild().unwrap();
    assert_eq!(vg.metadata.vg.pvs[0].pe_start, 256);
    // Version 1 ignores the field: a wrong value there changes nothing.
    let mut img = one_lv().image(0);
    img[0x1d0..0x1d4].copy_from_slice(&999u32.to_le_bytes());
    assert_eq!(read_bytes("x", img).unwrap().pv.pe_start, 256);
    round_trip(&vg);
}

#[test]
fn maximum_lv_count() {
    let mut v = SVg::new(&[300]);
    v.lv_max = 256;
    for n in 0..256 {
        v.lvs.push(lv(&format!("lv{n}"), n, 1));
        v.put(0, n as usize, n, 0, 1);
    }
    let vg = v.rebuild().unwrap();
    let lvs = &vg.metadata.vg.lvs;
    assert_eq!(lvs.len(), 256);
    assert_eq!(lvs[255].name, "lv255");
    assert_eq!(lvs[255].id.as_str(), "0000000000000000000000000000003#");
    assert_eq!(lvs[255].segments[0].pv_extents(), vec![(0, 255, 1)]);
    assert_eq!(vg.metadata.vg.max_lv, 256);
    round_trip(&vg);
}

#[test]
fn odd_pe_sizes() {
    for pe_size in [16u32, 24, 1000, 1 << 25] {
        let mut v = one_lv();
        v.pe_size = pe_size;
        let vg = v.rebuild().unwrap();
        assert_eq!(vg.metadata.vg.extent_size, u64::from(pe_size));
        round_trip(&vg);
    }
}

#[test]
fn stripes_runs_gaps_and_flags() {
    let mut v = SVg::new(&[20, 20, 20]);
    // LV 0: 3 stripes × 4 extents; stripe 1 breaks after 2 extents → two segments.
    let mut s = lv("striped", 0, 12);
    s.stripes = 3;
    s.stripesize = 128;
    v.lvs.push(s);
    v.put(0, 0, 0, 0, 4).put(1, 0, 0, 4, 2).put(1, 10, 0, 6, 2).put(2, 0, 0, 8, 4);
    // LV 5 (numbers 1-4 unused): linear, three runs, read-only, contiguous, read-ahead, fixed minor.
    let mut l = lv("linear", 5, 6);
    l.access = 1;
    l.alloc = 2;
    l.read_ahead = 8;
    l.status = 4;
    l.dev = (253 << 8) | 7;
    v.lvs.push(l);
    v.put(0, 5, 5, 0, 2).put(0, 8, 5, 2, 2).put(2, 4, 5, 4, 2);
    let vg = v.rebuild().unwrap();
    let lvs = &vg.metadata.vg.lvs;
    let st = &lvs[0].segments;
    assert_eq!(st.len(), 2);
    assert_eq!(
        (st[0].start_extent, st[0].extent_count, st[1].start_extent, st[1].extent_count),
        (0, 6, 6, 6)
    );
    let SegmentKind::Striped { stripe_size: Some(128), areas } = &st[1].kind else { panic!("{st:?}") };
    let at: Vec<_> = areas.iter().map(|a| (a.target.clone(), a.start)).collect();
    assert_eq!(at, vec![(AreaTarget::Pv(0), 2), (AreaTarget::Pv(1), 10), (AreaTarget::Pv(2), 2)]);
    let lin = &lvs[1];
    assert_eq!(lin.id.as_str(), "00000000000000000000000000000005");
    assert_eq!(
        lin.segments.iter().map(|s| s.pv_extents()[0]).collect::<Vec<_>>(),
        vec![(0, 5, 2), (0, 8, 2), (2, 4, 2)]
    );
    assert_eq!(lin.status.words(), vec!["READ", "FIXED_MINOR", "VISIBLE"]);
    assert_eq!((lin.major, lin.minor, lin.read_ahead), (Some(253), Some(7), Some(8)));
    assert_eq!(lin.allocation_policy.as_deref(), Some("contiguous"));
    round_trip(&vg);
}

#[test]
fn snapshots_get_lvm2s_invented_names_and_numbers() {
    let mut v = SVg::new(&[40]);
    v.lvs.push(lv("snapshot7", 0, 4)); // an ordinary LV whose name counts for the next snapshotN
    let mut cow = lv("cow", 1, 2);
    cow.access = 7;
    cow.snap_minor = 0;
    cow.chunk = 16;
    v.lvs.push(cow);
    v.lv_cur = Some(3);
    v.put(0, 0, 0, 0, 4).put(0, 4, 1, 0, 2);
    let vg = v.rebuild().unwrap();
    let lvs = &vg.metadata.vg.lvs;
    assert_eq!(lvs.len(), 3);
    assert_eq!(lvs[2].name, "snapshot8");
    assert_eq!(lvs[2].id.as_str(), "00000000000000000000000000000002");
    assert!(!lvs[1].is_visible());
    let SegmentKind::Snapshot { chunk_size: 16, origin, cow_store, .. } = &lvs[2].segments[0].kind else {
        panic!()
    };
    assert_eq!(
        (origin.as_str(), cow_store.as_str(), lvs[2].segments[0].extent_count),
        ("snapshot7", "cow", 4)
    );
    round_trip(&vg);
}

#[test]
fn uuid_fixups() {
    let mut v = one_lv();
    v.pvs[0].uuid = b"legacy/prefix/ABCDEFGHIJKLMNOPQRSTUVWXYZ/abcde".to_vec();
    v.uuid = vec![];
    let vg = v.rebuild().unwrap().metadata.vg;
    assert_eq!(vg.pvs[0].id.as_str(), "ABCDEFGHIJKLMNOPQRSTUVWXYZ#abcde");
    assert_eq!(vg.id.as_str(), "00000000000000000000000000000000");
    let mut v = one_lv();
    v.pvs[0].uuid = vec![];
    assert_eq!(v.rebuild().unwrap().metadata.vg.pvs[0].id.as_str(), "00000000000000000000000000000001");
}

#[test]
fn partial_vg_with_lvs_on_present_pvs() {
    let mut v = SVg::new(&[10, 10]);
    v.lvs.push(lv("a", 0, 4));
    v.put(0, 0, 0, 0, 4);
    let pv0 = v.read(0).unwrap();
    let vg = rebuild_vg(&[pv0]).unwrap();
    assert!(vg.partial);
    let pvs = &vg.metadata.vg.pvs;
    assert_eq!(pvs.len(), 2);
    assert_eq!(pvs[1].id.as_str(), "missingAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(pvs[1].pe_count, 10);
    assert_eq!(vg.pv_sources, vec![Some(0), None]);
}

#[test]
fn mixed_export_and_duplicates_are_ignored() {
    let mut v = SVg::new(&[10, 10]);
    v.pvs[1].exported = true;
    let pvs = vec![v.read(0).unwrap(), v.read(1).unwrap(), v.read(0).unwrap()];
    let vg = rebuild_vg(&pvs).unwrap();
    assert_eq!(vg.ignored.iter().map(|i| i.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(vg.partial);
    // All exported: the VG is exported, its PVs too.
    let mut v = SVg::new(&[10]);
    v.pvs[0].exported = true;
    let vg = v.rebuild().unwrap().metadata.vg;
    assert!(vg.is_exported() && vg.pvs[0].status.has("EXPORTED") && vg.name == "vg1");
}

// --- bad input, one class per test ------------------------------------------------------

#[test]
fn bad_areas_past_the_device_end() {
    for (off, what) in [(0x0c, "vg_disk"), (0x14, "PV UUID list"), (0x1c, "lv_disk"), (0x24, "pe_disk map")] {
        let mut img = one_lv().image(0);
        img[off..off + 4].copy_from_slice(&0xffff_0000u32.to_le_bytes());
        let e = read_bytes("/dev/sdz", img).unwrap_err();
        let (dev, w, _, at) = where_(&e);
        assert_eq!((dev.as_str(), w, at), ("/dev/sdz", what, 0xffff_0000), "{e}");
    }
    let mut img = one_lv().image(0);
    img[0x1c8..0x1cc].copy_from_slice(&u32::MAX.to_le_bytes()); // pe_total
    // Refused from the PV struct's own bounds, before any read or allocation of the map.
    let e = read_bytes("/dev/sdz", img).unwrap_err();
    assert!(matches!(e.kind(), Error::BadField { what: "pv_disk", field: "pe_total", at: 0x1c8, .. }), "{e}");
    let e = read_bytes("/dev/sdz", one_lv().image(0)[..300].to_vec()).unwrap_err();
    assert_eq!(where_(&e).1, "pv_disk");
}

#[test]
fn bad_counts() {
    let mut img = one_lv().image(0);
    img[VG_BASE + 0x8c..][..4].copy_from_slice(&257u32.to_le_bytes());
    assert_eq!(where_(&read_bytes("d", img).unwrap_err()).2, "lv_max");
    let mut img = one_lv().image(0);
    img[VG_BASE + 0x98..][..4].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(where_(&read_bytes("d", img).unwrap_err()).2, "pv_max");
    let mut v = one_lv();
    v.lvs[0].stripes = 3; // 4 LEs in 3 stripes
    assert_eq!(where_(&v.rebuild().unwrap_err()).2, "lv_stripes");
}

#[test]
fn bad_lv_numbers() {
    let mut img = one_lv().image(0);
    img[LV_BASE + 0x110..][..4].copy_from_slice(&300u32.to_le_bytes());
    let e = rebuild_vg(&[read_bytes("/dev/sdq", img).unwrap()]).unwrap_err();
    assert_eq!(where_(&e), ("/dev/sdq".into(), "lv_disk", "lv_number", LV_BASE as u64), "{e}");
    let mut v = one_lv();
    v.lvs[0].access = 7;
    v.lvs[0].snap_minor = 9999;
    let e = v.rebuild().unwrap_err();
    assert_eq!(where_(&e).2, "lv_snapshot_minor", "{e}");
    let mut v = one_lv();
    v.lvs[0].access = 7; // its own origin
    assert_eq!(where_(&v.rebuild().unwrap_err()).2, "lv_snapshot_minor");
    let mut v = one_lv();
    let mut b = lv("b", 1, 1);
    b.number = 0; // two LVs claim number 0 (written to the same slot: use a second PV)
    v.pvs.push(SPv { uuid: pv_uuid(1), pe_total: 5, version: 1, exported: false, map: vec![(0, 0); 5] });
    let a_img = v.image(0);
    v.lvs = vec![b];
    let b_img = v.image(1);
    let pvs = vec![read_bytes("a", a_img).unwrap(), read_bytes("b", b_img).unwrap()];
    assert_eq!(where_(&rebuild_vg(&pvs).unwrap_err()).2, "lv_number");
}

#[test]
fn bad_pe_map_pointing_at_missing_lvs() {
    let mut v = one_lv();
    v.pvs[0].map[7] = (9, 0);
    let e = v.rebuild().unwrap_err();
    assert_eq!(where_(&e), ("/dev/sda".into(), "pe_disk", "lv_num", PE_BASE as u64 + 28), "{e}");
    let mut v = one_lv();
    v.pvs[0].map[7] = (1, 4); // LE 4 of a 4-LE LV
    assert_eq!(where_(&v.rebuild().unwrap_err()).2, "le_num");
}

#[test]
fn bad_doubly_mapped_les() {
    let mut v = one_lv();
    v.pvs[0].map[7] = (1, 2);
    let e = v.rebuild().unwrap_err();
    assert_eq!(where_(&e), ("/dev/sda".into(), "pe_disk", "le_num", PE_BASE as u64 + 28), "{e}");
    assert!(e.to_string().contains("already mapped by PE 2"), "{e}");
}

#[test]
fn bad_incomplete_map() {
    let mut v = one_lv();
    v.pvs[0].map[3] = (0, 0);
    let e = v.rebuild().unwrap_err();
    assert!(matches!(e, Error::Semantic { .. }) && e.to_string().contains("LE 3 unmapped"), "{e}");
}

#[test]
fn bad_names_without_nul() {
    let mut v = one_lv();
    v.lvs[0].path = vec![b'x'; 128];
    assert_eq!(where_(&v.read(0).unwrap_err()), ("/dev/sda".into(), "lv_disk", "lv_name", LV_BASE as u64));
    let mut v = one_lv();
    v.name = vec![b'v'; 128];
    assert_eq!(where_(&v.read(0).unwrap_err()).2, "vg_name");
    let mut img = one_lv().image(0);
    img[0x12c..0x1ac].fill(b's');
    assert_eq!(where_(&read_bytes("d", img).unwrap_err()).2, "system_id");
    let mut img = one_lv().image(0);
    img[0x2c..0xac].fill(b'u');
    assert_eq!(where_(&read_bytes("d", img).unwrap_err()).2, "pv_uuid");
    let mut v = one_lv();
    v.lvs[0].path = b"/dev/vg1/".to_vec(); // empty LV name
    assert_eq!(where_(&v.rebuild().unwrap_err()).2, "lv_name");
}

#[test]
fn bad_vg_structs_that_differ() {
    let v = SVg::new(&[10, 10]);
    let mut img = v.image(1);
    img[VG_BASE + 0xb8] = 1; // pvg_total
    let pvs = vec![v.read(0).unwrap(), read_bytes("/dev/sdb", img).unwrap()];
    let e = rebuild_vg(&pvs).unwrap_err();
    assert_eq!(where_(&e), ("/dev/sdb".into(), "vg_disk", "(whole struct)", VG_BASE as u64), "{e}");
}

#[test]
fn not_lvm1() {
    let mut img = one_lv().image(0);
    img[2] = 3;
    assert!(read_pv(&MemDevice::new("d", img)).unwrap().is_none());
    assert!(read_pv(&MemDevice::new("d", vec![])).unwrap().is_none());
    assert!(read_pv(&MemDevice::new("d", b"HM\x01".to_vec())).unwrap().is_none());
}

/// The fuzz entry point over deterministic mutations of synthetic VGs (every structure's
/// bytes): never a panic, and whatever rebuilds round-trips through our text.
#[test]
fn mutated_images_never_panic() {
    let mut v = SVg::new(&[20]);
    let mut s = lv("s", 0, 4);
    s.stripes = 2;
    v.lvs.push(s);
    let mut cow = lv("c", 2, 2);
    cow.access = 7;
    cow.chunk = 8;
    v.lvs.push(cow);
    v.put(0, 0, 0, 0, 2).put(0, 5, 0, 2, 2).put(0, 9, 2, 0, 2);
    let base = v.image(0);
    lvmkit_metadata::fuzzing::lvm1(&base);
    let hot: Vec<usize> = (0..0x1d4)
        .chain(VG_BASE..VG_BASE + 188)
        .chain(UUIDS_BASE..UUIDS_BASE + 40)
        .chain(LV_BASE..LV_BASE + 3 * 328)
        .chain(PE_BASE..PE_BASE + 80)
        .collect();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for _ in 0..4000 {
        let mut img = base.clone();
        for _ in 0..1 + next() % 4 {
            let at = hot[(next() % hot.len() as u64) as usize];
            img[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => img[at] ^ (1 << (next() % 8)),
                _ => next() as u8,
            };
        }
        lvmkit_metadata::fuzzing::lvm1(&img);
    }
}

#[test]
fn zero_extent_lv_does_not_break_the_fuzz_invariant() {
    let mut v = one_lv();
    v.lvs.push(lv("empty", 1, 0));
    lvmkit_metadata::fuzzing::lvm1(&v.image(0));
}

/// Issue 10: an LVM1 `pe_total` of 0xffffffff on a sparse 2 TiB image file is an error for that
/// device before any read of the map (lvm2 would read and allocate 16 GiB), while another
/// device in the same scan is still reported; a large map lvm2 allows (300 000 PEs, more than
/// one read chunk) on the same kind of image still reads.
#[test]
fn pe_total_beyond_lvm2s_bounds_on_a_sparse_image_fails_that_device_only() {
    use lvmkit_metadata::scan::{ScanOptions, scan};
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let sparse = |name: &str, img: &[u8]| {
        let p = dir.path().join(name);
        let f = std::fs::File::create(&p).unwrap();
        f.write_all_at(img, 0).unwrap();
        f.set_len(2 << 40).unwrap();
        p
    };
    let mut bad = one_lv().image(0);
    bad[0x1c8..0x1cc].copy_from_slice(&u32::MAX.to_le_bytes());
    let bad = sparse("bad.img", &bad);
    let mut big = SVg::new(&[300_000]);
    big.name = b"vg2".to_vec();
    big.pvs[0].uuid = pv_uuid(7);
    let good = sparse("good.img", &big.image(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let devices = vec![bad.clone(), good.clone()];
    std::thread::spawn(move || {
        let _ = tx.send(scan(&ScanOptions { devices: Some(devices), ..ScanOptions::default() }));
    });
    // A guard against a hang (a multi-GiB read), not a performance target.
    let s = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the scan returns");
    let name = bad.display().to_string();
    let e = s.errors.iter().find(|e| matches!(e, Error::OnDevice { device, .. } if *device == name));
    assert!(
        matches!(
            e.map(Error::kind),
            Some(Error::BadField { what: "pv_disk", field: "pe_total", at: 0x1c8, .. })
        ),
        "{:?}",
        s.errors
    );
    let pv = s.pvs.iter().find(|p| p.name() == good.display().to_string()).expect("the other device");
    assert_eq!(pv.lvm1.as_ref().unwrap().pe_map.len(), 300_000);
}

/// Issue 10: an LVM1 VG whose PV is on two devices is not written (vgexport), and nothing on
/// either device changes; with one copy the same export is planned.
#[test]
fn an_lvm1_vg_with_a_duplicate_pv_is_not_written() {
    use lvmkit_metadata::scan::{ScanOptions, scan};
    use lvmkit_metadata::write::WriteError;
    use lvmkit_metadata::write::lvm1::{Lvm1Change, Lvm1Context, execute, plan};
    let dir = tempfile::tempdir().unwrap();
    let img = one_lv().image(0);
    let paths: Vec<_> = (0..2)
        .map(|i| {
            let p = dir.path().join(format!("pv{i}.img"));
            std::fs::write(&p, &img).unwrap();
            p
        })
        .collect();
    let ctx = Lvm1Context { hostname: "h".into(), time: 1 };
    let s = scan(&ScanOptions { devices: Some(paths.clone()), ..ScanOptions::default() });
    let r = plan(&s, "vg1", Lvm1Change::Export, &ctx);
    assert!(
        matches!(&r, Err(WriteError::Inconsistent { why, .. }) if why.contains("carry the same PV UUID")),
        "{:?}",
        r.map(|_| ())
    );
    assert!(paths.iter().all(|p| std::fs::read(p).unwrap() == img));
    // Control: one copy alone is exported.
    let s = scan(&ScanOptions { devices: Some(vec![paths[0].clone()]), ..ScanOptions::default() });
    execute(&plan(&s, "vg1", Lvm1Change::Export, &ctx).unwrap()).unwrap();
    assert!(std::fs::read(&paths[0]).unwrap() != img);
}
