//! The PVs of one LVM1 VG → the VG model, as lvm2 2.02.177's `format1` built it
//! (`_check_vgs`, `import_vg`, `import_pvs`, `import_lvs`, `import_extents`,
//! `import_snapshots`, `_fix_partial_vg`).
//!
//! * PVs with mixed exported/unexported state: the exported ones are dropped; a second device
//!   with the same PV UUID is dropped; every remaining `vg_disk` must be byte-identical.
//! * LVs are the union by name of every PV's records; ids are the VG id + `uuid_from_num(n)`.
//! * Segments come from the PE maps: maximal runs of consecutive PEs for linear LVs; for
//!   striped ones (numbered stripe by stripe in the map) the longest run over which every stripe
//!   continues on its PV.
//! * Each COW record gets an internal `snapshotN` LV with a `snapshot` segment, named and
//!   numbered the way lvm2 invents them at read time; the COW loses `VISIBLE`.
//! * Fewer PVs than `pv_cur`: the VG is partial and gets one `MISSING` PV holding the remaining
//!   extents; as in lvm2, an LV with extents on it is refused.
//!
//! Where lvm2 would index out of bounds or loop (LV numbers ≥ 256, PE map entries for LVs not
//! in the array) this returns a typed error naming the device and byte offset.

use std::collections::HashMap;

use super::lv_disk::{LV_CONTIGUOUS, LV_PERSISTENT_MINOR, LV_READ, LV_SNAPSHOT, LV_WRITE};
use super::vg_disk::{VG_CLUSTERED, VG_EXPORTED, VG_EXTENDABLE, VG_READ, VG_SHARED, VG_WRITE};
use super::{LvDisk, Lvm1Pv, MAX_LV, uuid_from_num};
use crate::error::{Error, Result};
use crate::flags::{FlagKind, FlagSet};
use crate::id::LvmId;
use crate::import::valid_name;
use crate::model::{
    Area, AreaTarget, LogicalVolume, Metadata, PhysicalVolume, SegType, Segment, SegmentKind, TextHeader,
    VolumeGroup,
};

/// A rebuilt LVM1 VG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lvm1Vg {
    /// The VG as lvm2 would have shown it (`format = "lvm1"`, seqno 0).
    pub metadata: Metadata,
    /// For each PV of `metadata.vg.pvs`, the index of the input PV it came from (`None` for
    /// the placeholder of missing PVs).
    pub pv_sources: Vec<Option<usize>>,
    /// Fewer PVs were found than `vg_disk.pv_cur` says.
    pub partial: bool,
    /// Input PVs left out, with the reason.
    pub ignored: Vec<(usize, &'static str)>,
}

/// Rebuild the VG carried by `pvs` (all with the same VG name; orphans are refused).
pub fn rebuild_vg(pvs: &[Lvm1Pv]) -> Result<Lvm1Vg> {
    let Some(first) = pvs.first() else {
        return Err(Error::semantic("lvm1", "at least one PV", "none"));
    };
    let exported = |p: &Lvm1Pv| p.pv.exported || p.pv.pv_status & VG_EXPORTED != 0;
    let mut ignored = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    let mixed = pvs.iter().any(|p| exported(p) != exported(first));
    for (i, p) in pvs.iter().enumerate() {
        if p.vg.is_none() || p.pv.vg_name.is_empty() {
            return Err(Error::semantic("lvm1", "a PV in a VG", "an orphan PV").on_device(&p.device));
        }
        if p.pv.vg_name != first.pv.vg_name {
            return Err(Error::semantic(
                "lvm1",
                format!("a PV of VG {:?}", first.pv.vg_name),
                format!("VG {:?}", p.pv.vg_name),
            )
            .on_device(&p.device));
        }
        if mixed && exported(p) {
            ignored.push((i, "exported, while other PVs of the VG are not"));
        } else if used.iter().any(|&j| pvs[j].pv.pv_uuid == p.pv.pv_uuid) {
            ignored.push((i, "duplicate PV UUID"));
        } else {
            used.push(i);
        }
    }
    let vgd = pvs[used[0]].vg.as_ref().expect("checked");
    for &i in &used[1..] {
        let other = pvs[i].vg.as_ref().expect("checked");
        if other.raw != vgd.raw {
            let first_dev = &pvs[used[0]].device;
            return Err(Error::BadField {
                what: "vg_disk",
                at: u64::from(pvs[i].pv.vg_on_disk.base),
                field: "(whole struct)",
                expected: format!("the same 188 bytes as on {first_dev}"),
                found: "different bytes".into(),
            }
            .on_device(&pvs[i].device));
        }
    }
    if vgd.pe_size == 0 {
        return Err(Error::BadField {
            what: "vg_disk",
            at: u64::from(pvs[used[0]].pv.vg_on_disk.base),
            field: "pe_size",
            expected: "a positive number of sectors".into(),
            found: "0".into(),
        }
        .on_device(&pvs[used[0]].device));
    }
    let partial = used.len() as u64 != u64::from(vgd.pv_cur);

    // PV order: the VG's PV UUID list, then pv_number, then scan order.
    let list = &pvs[used[0]].pv_uuids;
    used.sort_by_key(|&i| {
        let p = &pvs[i].pv;
        let pos = list.iter().position(|u| u.as_bytes() == p.pv_uuid.as_bytes()).unwrap_or(usize::MAX);
        (pos, p.pv_number)
    });

    let name = first.pv.vg_name.clone();
    if !valid_name(&name) {
        return Err(Error::BadField {
            what: "pv_disk",
            at: 0xAC,
            field: "vg_name",
            expected: "a VG name of [A-Za-z0-9+_.-]".into(),
            found: format!("{name:?}"),
        }
        .on_device(&first.device));
    }
    let mut status = FlagSet::new();
    for (bit, word, field) in [
        (VG_EXPORTED, "EXPORTED", vgd.vg_status),
        (VG_EXTENDABLE, "RESIZEABLE", vgd.vg_status),
        (VG_READ, "READ", vgd.vg_access),
        (VG_WRITE, "WRITE", vgd.vg_access),
        (VG_CLUSTERED, "CLUSTERED", vgd.vg_access),
        (VG_SHARED, "SHARED", vgd.vg_access),
    ] {
        if field & bit != 0 {
            status.insert(FlagKind::Vg, word);
        }
    }
    let system_id = &pvs[used[0]].pv.system_id;
    let mut vg = VolumeGroup {
        name: name.clone(),
        id: vgd.vg_uuid,
        seqno: 0,
        format: Some("lvm1".into()),
        status,
        flags: Some(FlagSet::new()),
        tags: vec![],
        system_id: (!system_id.is_empty()).then(|| system_id.clone()),
        lock_type: None,
        lock_args: None,
        pr: None,
        extent_size: u64::from(vgd.pe_size),
        max_lv: u64::from(vgd.lv_max),
        max_pv: u64::from(vgd.pv_max),
        allocation_policy: None,
        profile: None,
        metadata_copies: Some(0),
        pvs: vec![],
        lvs: vec![],
        historical_lvs: vec![],
        extra: vec![],
    };

    let mut pv_sources = Vec::new();
    for (k, &i) in used.iter().enumerate() {
        let p = &pvs[i];
        let mut st = FlagSet::new();
        if p.pv.pv_allocatable != 0 {
            st.insert(FlagKind::Pv, "ALLOCATABLE");
        }
        if exported(p) {
            st.insert(FlagKind::Pv, "EXPORTED");
        }
        let size = u64::from(p.pv.pv_size);
        vg.pvs.push(PhysicalVolume {
            key: format!("pv{k}"),
            id: p.pv.pv_uuid,
            device: Some(p.device.clone()),
            device_id_type: None,
            device_id: None,
            status: st,
            flags: Some(FlagSet::new()),
            tags: vec![],
            dev_size: Some(if size == 0 { p.dev_size / 512 } else { size }),
            pe_start: p.pv.pe_start,
            pe_count: u64::from(p.pv.pe_total),
            ba_start: None,
            ba_size: None,
            extra: vec![],
        });
        pv_sources.push(Some(i));
    }

    // LVs: union by name over the PVs' records, in PV then slot order.
    let mut records: Vec<&LvDisk> = Vec::new();
    let mut by_number: HashMap<u32, usize> = HashMap::new();
    for &i in &used {
        for (_, lvd) in &pvs[i].lvs {
            let bad = |field, expected: &str, found: String| {
                Error::BadField { what: "lv_disk", at: lvd.at, field, expected: expected.into(), found }
                    .on_device(&pvs[i].device)
            };
            if lvd.lv_number >= MAX_LV {
                return Err(bad("lv_number", "below 256", lvd.lv_number.to_string()));
            }
            if !valid_name(lvd.name()) {
                return Err(bad("lv_name", "/dev/<vg>/<lv> with a valid LV name", format!("{:?}", lvd.path)));
            }
            if lvd.lv_allocated_le > 65536 {
                return Err(bad(
                    "lv_allocated_le",
                    "at most 65536 (le_num is 16 bits)",
                    lvd.lv_allocated_le.to_string(),
                ));
            }
            let stripes = lvd.lv_stripes.max(1);
            if lvd.lv_allocated_le % stripes != 0 {
                return Err(bad(
                    "lv_stripes",
                    &format!("a divisor of lv_allocated_le ({})", lvd.lv_allocated_le),
                    lvd.lv_stripes.to_string(),
                ));
            }
            match records.iter().position(|r| r.name() == lvd.name()) {
                Some(k) => {
                    if by_number.get(&lvd.lv_number).is_some_and(|&n| n != k) {
                        return Err(bad(
                            "lv_number",
                            "a number no other LV uses",
                            format!("{} (also {})", lvd.lv_number, records[by_number[&lvd.lv_number]].name()),
                        ));
                    }
                    by_number.entry(lvd.lv_number).or_insert(k);
                }
                None => {
                    if let Some(&k) = by_number.get(&lvd.lv_number) {
                        return Err(bad(
                            "lv_number",
                            "a number no other LV uses",
                            format!("{} (also {})", lvd.lv_number, records[k].name()),
                        ));
                    }
                    by_number.insert(lvd.lv_number, records.len());
                    records.push(lvd);
                }
            }
        }
    }

    // LE → (model PV index, PE) per LV.
    let mut maps: Vec<Vec<Option<(usize, u64)>>> =
        records.iter().map(|r| vec![None; r.lv_allocated_le as usize]).collect();
    for (pvk, &i) in used.iter().enumerate() {
        let p = &pvs[i];
        let mut local: HashMap<u32, usize> = HashMap::new();
        for (_, lvd) in &p.lvs {
            let k = records.iter().position(|r| r.name() == lvd.name()).expect("unioned above");
            local.insert(lvd.lv_number, k);
        }
        for (pe, e) in p.pe_map.iter().enumerate() {
            if e.is_free() {
                continue;
            }
            let at = u64::from(p.pv.pe_on_disk.base) + 4 * pe as u64;
            let bad = |field, expected: String, found: String| {
                Error::BadField { what: "pe_disk", at, field, expected, found }.on_device(&p.device)
            };
            let Some(&k) = local.get(&(u32::from(e.lv_num) - 1)) else {
                return Err(bad(
                    "lv_num",
                    "0 (free) or 1 + the number of an LV in this PV's LV array".into(),
                    format!("{} (PE {pe})", e.lv_num),
                ));
            };
            let le = usize::from(e.le_num);
            let Some(slot) = maps[k].get_mut(le) else {
                return Err(bad(
                    "le_num",
                    format!("below {} (LV {}'s LE count)", records[k].lv_allocated_le, records[k].name()),
                    format!("{le} (PE {pe})"),
                ));
            };
            if let Some((opv, ope)) = *slot {
                return Err(bad(
                    "le_num",
                    format!("an LE of LV {} not mapped already", records[k].name()),
                    format!("{le} (PE {pe}), already mapped by PE {ope} of {}", vg.pvs[opv].key),
                ));
            }
            *slot = Some((pvk, pe as u64));
        }
    }

    for (k, r) in records.iter().enumerate() {
        if let Some(le) = maps[k].iter().position(Option::is_none) {
            let why = if partial {
                "on a missing PV (partial LVM1 VGs: not supported, as in lvm2)"
            } else {
                "unmapped"
            };
            return Err(Error::semantic(
                format!("{name}/logical_volumes/{}", r.name()),
                "every LE mapped by some PV's PE map",
                format!("LE {le} {why}"),
            ));
        }
        let mut st = FlagSet::new();
        if r.lv_access & LV_READ != 0 {
            st.insert(FlagKind::Lv, "READ");
        }
        if r.lv_access & LV_WRITE != 0 {
            st.insert(FlagKind::Lv, "WRITE");
        }
        let fixed = r.lv_status & LV_PERSISTENT_MINOR != 0;
        if fixed {
            st.insert(FlagKind::Lv, "FIXED_MINOR");
        }
        st.insert(FlagKind::Lv, "VISIBLE");
        let map: Vec<(usize, u64)> = maps[k].iter().map(|m| m.expect("complete")).collect();
        vg.lvs.push(LogicalVolume {
            name: r.name().to_string(),
            id: uuid_from_num(r.lv_number),
            status: st,
            flags: Some(FlagSet::new()),
            tags: vec![],
            creation_time: None,
            creation_host: None,
            lock_args: None,
            allocation_policy: Some(
                if r.lv_allocation & LV_CONTIGUOUS != 0 { "contiguous" } else { "normal" }.into(),
            ),
            profile: None,
            read_ahead: (r.lv_read_ahead != 0).then_some(i64::from(r.lv_read_ahead)),
            major: fixed.then_some(i64::from(r.dev_major())),
            minor: fixed.then_some(i64::from(r.dev_minor())),
            segments: segments(&map, r.lv_stripes, u64::from(r.lv_stripesize)),
            extra: vec![],
        });
    }

    // Snapshots, in PV then slot order of the COW records.
    let mut is_cow = vec![false; records.len()];
    for &i in &used {
        for (_, lvd) in &pvs[i].lvs {
            if lvd.lv_access & LV_SNAPSHOT == 0 {
                continue;
            }
            let cow = by_number[&lvd.lv_number];
            let Some(&origin) = by_number.get(&lvd.lv_snapshot_minor) else {
                return Err(Error::BadField {
                    what: "lv_disk",
                    at: lvd.at + 0x124,
                    field: "lv_snapshot_minor",
                    expected: "the number of the origin LV".into(),
                    found: format!("{} (no such LV)", lvd.lv_snapshot_minor),
                }
                .on_device(&pvs[i].device));
            };
            if is_cow[cow] {
                continue;
            }
            if cow == origin {
                return Err(Error::BadField {
                    what: "lv_disk",
                    at: lvd.at + 0x124,
                    field: "lv_snapshot_minor",
                    expected: "another LV's number (snapshot and origin must differ)".into(),
                    found: lvd.lv_snapshot_minor.to_string(),
                }
                .on_device(&pvs[i].device));
            }
            is_cow[cow] = true;
            vg.lvs[cow].status.remove("VISIBLE");
            let snap_name = next_snapshot_name(&vg.lvs);
            let used_nums: Vec<u32> = vg.lvs.iter().filter_map(|l| lvnum_from_id(&l.id)).collect();
            let num = (0..).find(|n| !used_nums.contains(n)).expect("some number is free");
            let mut st = FlagSet::new();
            for w in ["READ", "WRITE", "VISIBLE"] {
                st.insert(FlagKind::Lv, w);
            }
            let origin_lv = &vg.lvs[origin];
            vg.lvs.push(LogicalVolume {
                name: snap_name,
                id: uuid_from_num(num),
                status: st,
                flags: Some(FlagSet::new()),
                tags: vec![],
                creation_time: None,
                creation_host: None,
                lock_args: None,
                allocation_policy: None,
                profile: None,
                read_ahead: None,
                major: None,
                minor: None,
                segments: vec![Segment {
                    start_extent: 0,
                    extent_count: origin_lv.le_count(),
                    segtype: SegType::plain("snapshot"),
                    reshape_count: None,
                    data_copies: None,
                    tags: vec![],
                    kind: SegmentKind::Snapshot {
                        chunk_size: u64::from(lvd.lv_chunk_size),
                        origin: origin_lv.name.clone(),
                        cow_store: records[cow].name().to_string(),
                        merging: false,
                    },
                    extra: vec![],
                }],
                extra: vec![],
            });
        }
    }

    if partial {
        let found: u64 = vg.pvs.iter().map(|p| p.pe_count).sum();
        let mut id = *vg.id.as_bytes();
        id[..7].copy_from_slice(b"missing");
        let mut flags = FlagSet::new();
        flags.insert(FlagKind::Pv, "MISSING");
        vg.pvs.push(PhysicalVolume {
            key: format!("pv{}", vg.pvs.len()),
            id: LvmId::from_array(id).expect("id characters"),
            device: None,
            device_id_type: None,
            device_id: None,
            status: FlagSet::new(),
            flags: Some(flags),
            tags: vec![],
            dev_size: Some(0),
            pe_start: 0,
            pe_count: u64::from(vgd.pe_total).saturating_sub(found),
            ba_start: None,
            ba_size: None,
            extra: vec![],
        });
        pv_sources.push(None);
    }

    Ok(Lvm1Vg { metadata: Metadata { vg, header: TextHeader::default() }, pv_sources, partial, ignored })
}

/// lvm2's `lvnum_from_lvid` for the ids this module makes (`uuid_from_num(n)`, n < 256).
fn lvnum_from_id(id: &LvmId) -> Option<u32> {
    let mut n: u64 = 0;
    for &c in id.as_bytes() {
        let d = super::ID_CHARS.iter().position(|&x| x == c)? as u64;
        n = n.checked_mul(64)?.checked_add(d)?;
    }
    u32::try_from(n).ok().filter(|&n| n < MAX_LV)
}

/// `generate_lv_name(vg, "snapshot%d")`: one more than the highest N that `sscanf` reads from
/// any LV name starting `snapshot`.
fn next_snapshot_name(lvs: &[LogicalVolume]) -> String {
    let high =
        lvs.iter().filter_map(|l| l.name.strip_prefix("snapshot")).filter_map(scanf_int).max().unwrap_or(-1);
    format!("snapshot{}", high.saturating_add(1))
}

/// `sscanf("%d")`: optional white space, optional sign, at least one digit.
fn scanf_int(s: &str) -> Option<i64> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let v = digits.bytes().fold(0i64, |a, d| a.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    let v = v.clamp(0, i64::from(i32::MAX));
    Some(if neg { -v } else { v })
}

fn pv_area(pv: usize, start: u64) -> Area {
    Area { target: AreaTarget::Pv(pv), start }
}

/// Segments from a complete LE map (`_read_linear` / `_read_stripes`).
fn segments(map: &[(usize, u64)], stripes: u32, stripe_size: u64) -> Vec<Segment> {
    let seg = |start: u64, count: u64, stripe_size: Option<u64>, areas: Vec<Area>| Segment {
        start_extent: start,
        extent_count: count,
        segtype: SegType::plain("striped"),
        reshape_count: None,
        data_copies: None,
        tags: vec![],
        kind: SegmentKind::Striped { stripe_size, areas },
        extra: vec![],
    };
    let contiguous = |a: usize, len: usize| {
        let (pv, pe) = map[a];
        map.get(a + len).is_some_and(|&(p, e)| p == pv && e == pe + len as u64)
    };
    let mut out = Vec::new();
    if stripes <= 1 {
        let mut le = 0;
        while le < map.len() {
            let mut len = 1;
            while contiguous(le, len) {
                len += 1;
            }
            out.push(seg(le as u64, len as u64, None, vec![pv_area(map[le].0, map[le].1)]));
            le += len;
        }
    } else {
        let s = stripes as usize;
        let total = map.len() / s;
        let mut first = 0;
        while first < total {
            let mut len = 1;
            while first + len < total && (0..s).all(|st| contiguous(first + st * total, len)) {
                len += 1;
            }
            let areas =
                (0..s).map(|st| pv_area(map[first + st * total].0, map[first + st * total].1)).collect();
            out.push(seg((s * first) as u64, (s * len) as u64, Some(stripe_size), areas));
            first += len;
        }
    }
    out
}
