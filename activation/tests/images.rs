//! Plans for every VG of the lvm2-made image cases (`test-images/`): structural invariants
//! checked against lvm2's own reports, and exact tables for the linear, striped, thin,
//! snapshot, raid, mirror and cache cases, computed by hand from each case's `metadata.txt`
//! (PV `pvN` of the VG is given as device `7:N`).

use std::collections::{HashMap, HashSet};

use lvmkit_activation::{ActivationMode, Error, Plan, PlanOptions, SkipReason, plan, plan_assembled};
use lvmkit_dm::{DevNum, DevRef, Target};
use lvmkit_metadata::assemble::{AssembledVg, Assembly, assemble};
use lvmkit_metadata::model::{SegmentKind, VolumeGroup};
use lvmkit_metadata::scan::{ScanOptions, scan};
use serde_json::Value;

fn assembly(images: &[std::path::PathBuf]) -> Assembly {
    let s = scan(&ScanOptions { devices: Some(images.to_vec()), ..Default::default() });
    assemble(&s)
}

/// PV `j` of the VG → `7:j`, missing PVs `None`.
fn pv_refs(vg: &AssembledVg) -> Vec<Option<DevRef>> {
    vg.pv_devices.iter().enumerate().map(|(j, d)| d.map(|_| DevRef::Num(DevNum::new(7, j as u32)))).collect()
}

fn rows<'v>(v: &'v Value, kind: &str) -> Vec<&'v Value> {
    v["report"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r[kind].as_array().into_iter().flatten())
        .collect()
}

fn field<'v>(row: &'v Value, f: &str) -> &'v str {
    row[f].as_str().unwrap_or_else(|| panic!("no {f} in {row}"))
}

/// What lvm2's reports say, independent of our model.
struct Reports {
    /// (VG pv index, sector offset) of every PV extent range start lvm2 reports
    /// (`pe_start + pe * extent_size`); `None` when lvm2 reported no segments (exported VG).
    pv_offsets: Option<HashSet<(u32, u64)>>,
    /// LV name → `lv_dm_path`.
    dm_paths: HashMap<String, String>,
    /// LV name → `lv_attr`.
    attrs: HashMap<String, String>,
}

fn reports(case: &lvmkit_tests::Case, vg: &VolumeGroup) -> Reports {
    let sectors = |s: &str| s.parse::<u64>().unwrap() / 512;
    let vgs = case.json("vgs.json");
    let ext = rows(&vgs, "vg")
        .into_iter()
        .find(|r| field(r, "vg_name") == vg.name)
        .map(|r| sectors(field(r, "vg_extent_size")));
    let mut by_dev: HashMap<String, (u32, u64)> = HashMap::new();
    for r in rows(&case.json("pvs.json"), "pv") {
        if field(r, "vg_name") != vg.name {
            continue;
        }
        let uuid = field(r, "pv_uuid");
        let j = vg.pvs.iter().position(|p| p.id.to_string() == uuid).expect("reported PV in metadata");
        by_dev.insert(field(r, "pv_name").to_string(), (j as u32, sectors(field(r, "pe_start"))));
    }
    let mut pv_offsets = HashSet::new();
    let segs = case.json("segs.json");
    let segs = rows(&segs, "seg");
    let reported = segs.iter().any(|r| field(r, "vg_name") == vg.name);
    for r in segs {
        if field(r, "vg_name") != vg.name {
            continue;
        }
        for d in field(r, "devices").split(',').filter(|d| d.starts_with("/dev/")) {
            let (dev, pe) = d.trim_end_matches(')').split_once('(').unwrap();
            let (j, pe_start) = by_dev[dev];
            pv_offsets.insert((j, pe_start + pe.parse::<u64>().unwrap() * ext.unwrap()));
        }
    }
    let mut dm_paths = HashMap::new();
    let mut attrs = HashMap::new();
    for r in rows(&case.json("lvs.json"), "lv") {
        if field(r, "vg_name") != vg.name {
            continue;
        }
        let name = field(r, "lv_name").trim_start_matches('[').trim_end_matches(']').to_string();
        dm_paths.insert(name.clone(), field(r, "lv_dm_path").to_string());
        attrs.insert(name, field(r, "lv_attr").to_string());
    }
    Reports { pv_offsets: reported.then_some(pv_offsets), dm_paths, attrs }
}

/// Invariants every plan must satisfy.
fn check(case: &lvmkit_tests::Case, vg: &VolumeGroup, p: &Plan) {
    let ctx = format!("{}/{}", case.name, vg.name);
    let rep = reports(case, vg);
    let ext = vg.extent_size;
    let mut names = HashSet::new();
    let mut uuids = HashSet::new();
    for d in &p.devices {
        // Everything a device refers to is planned before it.
        for c in &d.children {
            assert!(names.contains(c.as_str()), "{ctx}: {} uses {c} before it is planned", d.name);
        }
        for r in d.table.dev_refs() {
            if let Some(l) = r.label() {
                assert!(names.contains(l), "{ctx}: {} refers to <{l}> before it is planned", d.name);
                assert!(d.children.iter().any(|c| c == l), "{ctx}: {} does not list {l} as a child", d.name);
            }
        }
        assert!(names.insert(d.name.to_string()), "{ctx}: name {} twice", d.name);
        assert!(uuids.insert(d.uuid.to_string()), "{ctx}: uuid {} twice", d.uuid);
        assert!(d.uuid.starts_with(&format!("LVM-{}", vg.id.as_str())), "{ctx}: {}", d.uuid);
        d.table.check_contiguous().unwrap_or_else(|e| panic!("{ctx}: {}: {e}", d.name));
        // Table length = LV size (for a snapshot's own device: the origin's size).
        let lv = vg.lv(&d.lv).unwrap();
        if !d.layer.as_deref().unwrap_or("").starts_with("missing_") {
            let want = match &d.table.lines[0].target {
                Target::Snapshot(_) => {
                    let glue = vg
                        .lvs
                        .iter()
                        .flat_map(|l| &l.segments)
                        .find_map(|s| match &s.kind {
                            SegmentKind::Snapshot { cow_store, origin, .. } if *cow_store == d.lv => {
                                Some(origin)
                            }
                            _ => None,
                        })
                        .unwrap();
                    vg.lv(glue).unwrap().le_count() * ext
                }
                _ => lv.le_count() * ext,
            };
            assert_eq!(d.table.length().0, want, "{ctx}: {} length", d.name);
        }
        // Every PV offset is the start of an extent range lvm2 reports for that PV.
        for l in &d.table.lines {
            let stripes: Vec<(&DevRef, u64)> = match &l.target {
                Target::Linear(x) => vec![(&x.dev, x.offset.0)],
                Target::Striped(x) => x.stripes.iter().map(|s| (&s.dev, s.offset.0)).collect(),
                _ => vec![],
            };
            for (dev, off) in stripes {
                if let (Some(n), Some(offsets)) = (dev.num(), &rep.pv_offsets) {
                    assert!(
                        offsets.contains(&(n.minor, off)),
                        "{ctx}: {}: pv{} offset {off} is no extent start lvm2 reports ({:?})",
                        d.name,
                        n.minor,
                        offsets
                    );
                }
            }
        }
        if d.layer.is_none() {
            // The name lvm2 reports as lv_dm_path.
            if let Some(path) = rep.dm_paths.get(&d.lv) {
                assert_eq!(format!("/dev/mapper/{}", d.name), *path, "{ctx}");
            }
            // Read-only exactly where lvm2 shows `r`, apart from a used thin pool's top device.
            if let Some(attr) = rep.attrs.get(&d.lv) {
                let is_pool_top = attr.starts_with('t');
                assert_eq!(
                    d.read_only,
                    attr.as_bytes()[1] == b'r' || is_pool_top,
                    "{ctx}: {} ro ({attr})",
                    d.name
                );
            }
        }
    }
}

fn listing(p: &Plan) -> String {
    p.devices.iter().map(|d| format!("{} {}\n", d.name, d.table)).collect()
}

#[test]
fn every_case_plans_with_invariants() {
    let mut planned = 0;
    for name in lvmkit_tests::case_names() {
        let case = lvmkit_tests::case(&name);
        let a = assembly(&case.images);
        for vg in &a.vgs {
            let md = &vg.metadata.vg;
            let pvs = pv_refs(vg);
            let default = plan(md, &pvs, &PlanOptions::default());
            let all = PlanOptions {
                ignore_activation_skip: true,
                allow_exported: true,
                allow_foreign: true,
                ..Default::default()
            };
            if name == "segtypes" {
                // Every segment type lvm2 restores, vdo among them (Debian's 6.1 kernel has no
                // dm-vdo): the whole VG is refused with the vdo LV and its type named, never a
                // partial plan…
                for p in [&default, &plan(md, &pvs, &all)] {
                    assert!(
                        matches!(p, Err(Error::Unsupported { lv, segtype, .. }) if lv.starts_with('v') && segtype.starts_with("vdo")),
                        "{name}: {p:?}"
                    );
                }
                // …and every other LV plans: writecache and cache over cachevols, raid with
                // integrity images, every raid layout, thin with an external origin.
                let others: Vec<String> = md
                    .lvs
                    .iter()
                    .filter(|l| l.is_visible() && !["vpool", "vlv"].contains(&l.name.as_str()))
                    .map(|l| l.name.clone())
                    .collect();
                let p = plan(md, &pvs, &PlanOptions { lvs: Some(others), ..all.clone() })
                    .unwrap_or_else(|e| panic!("{name} without vdo: {e}"));
                let text = p.to_string();
                for t in [
                    " writecache s ",
                    " cache ",
                    " integrity ",
                    "lk_segtypes-cc_cvol-cdata",
                    "lk_segtypes-cc_cvol-cmeta",
                ] {
                    assert!(text.contains(t), "{name}: no {t:?} in\n{text}");
                }
                planned += p.devices.len();
                continue;
            }
            match name.as_str() {
                "exported" => assert!(matches!(default, Err(Error::Exported { .. })), "{name}: {default:?}"),
                "system-id" | "foreign" => assert!(
                    matches!(&default, Err(Error::Foreign { vg_system_id, host: None, .. }) if vg_system_id == "lk-hostA"),
                    "{name}: {default:?}"
                ),
                _ => check(&case, md, &default.unwrap_or_else(|e| panic!("{name}: {e}"))),
            }
            let p = plan(md, &pvs, &all).unwrap_or_else(|e| panic!("{name}: {e}"));
            check(&case, md, &p);
            assert!(
                p.skipped.iter().all(|s| s.reason == SkipReason::UnusedCachePool),
                "{name}: {:?}",
                p.skipped
            );
            planned += 1;
        }
    }
    assert!(planned >= 20, "only {planned} VGs planned");
}

fn case_plan(name: &str, opts: &PlanOptions) -> Plan {
    let case = lvmkit_tests::case(name);
    let a = assembly(&case.images);
    assert_eq!(a.vgs.len(), 1, "{name}");
    let p = plan(&a.vgs[0].metadata.vg, &pv_refs(&a.vgs[0]), opts).unwrap();
    // plan_assembled gives the same plan when the caller maps scan indexes.
    let vg = &a.vgs[0];
    let by_scan: HashMap<usize, u32> =
        vg.pv_devices.iter().enumerate().filter_map(|(j, d)| d.map(|s| (s, j as u32))).collect();
    let q = plan_assembled(vg, |s| by_scan.get(&s).map(|&j| DevRef::Num(DevNum::new(7, j))), opts).unwrap();
    assert_eq!(p, q);
    p
}

#[test]
fn linear_tables() {
    // extent 8192, pe_start 2048: lv0 at PE 0 (2 extents), lv1 at PE 2 (1 extent).
    let p = case_plan("linear", &PlanOptions::default());
    assert_eq!(listing(&p), "lk_linear-lv0 0 16384 linear 7:0 2048\nlk_linear-lv1 0 8192 linear 7:0 18432\n");
    let d = &p.devices[0];
    assert_eq!(d.uuid, "LVM-XHZpNvLYHYVeBesxYb5xj5ZgCJQPLeQHon2fxKDYTF0rv7sTGwtpJnNeciJbcTPL");
    assert!(d.public && !d.read_only && d.layer.is_none());
}

#[test]
fn striped_tables() {
    // extent 2048, pe_start 2048 on both PVs; stripe64k at PE 0 of each, stripe4k at PE 4.
    let p = case_plan("striped", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_striped-stripe64k 0 16384 striped 2 128 7:0 2048 7:1 2048\n\
         lk_striped-stripe4k 0 8192 striped 2 8 7:0 10240 7:1 10240\n"
    );
}

#[test]
fn spanning_segments() {
    // `span`: pv1 PE 0-8, pv0 PE 7-14, pv0 PE 0-2; `keep`: pv0 PE 3-6, pv1 PE 9-10.
    let p = case_plan("spanning", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_spanning-keep 0 8192 linear 7:0 8192\n8192 4096 linear 7:1 20480\n\
         lk_spanning-span 0 18432 linear 7:1 2048\n18432 16384 linear 7:0 16384\n34816 6144 linear 7:0 2048\n"
    );
}

#[test]
fn thin_tables() {
    // tp: tdata PE 2-9, tmeta PE 10-11; chunk 128, zeroing, passdown: no features.
    let p = case_plan("thin", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_thin-tp_tmeta 0 4096 linear 7:0 22528\n\
         lk_thin-tp_tdata 0 16384 linear 7:0 6144\n\
         lk_thin-tp-tpool 0 16384 thin-pool <lk_thin-tp_tmeta> <lk_thin-tp_tdata> 128 0 0\n\
         lk_thin-tp 0 16384 linear <lk_thin-tp-tpool> 0\n\
         lk_thin-thin2 0 8192 thin <lk_thin-tp-tpool> 1\n"
    );
    let skipped: Vec<&str> = p.skipped.iter().map(|s| s.lv.as_str()).collect();
    assert_eq!(skipped, ["thin1", "tsnap"]);
    let pool = p.device("lk_thin-tp").unwrap();
    assert!(pool.read_only && !pool.public);
    assert!(pool.uuid.ends_with("-pool"));
    assert!(p.device("lk_thin-tp-tpool").unwrap().uuid.ends_with("kDWFMS6XHbFlSImGpHsSgXACEokC94Nh-tpool"));
    assert!(p.device("lk_thin-tp_tdata").unwrap().uuid.ends_with("-tdata"));

    let all = case_plan("thin", &PlanOptions { ignore_activation_skip: true, ..Default::default() });
    let tail: Vec<String> = all.devices[5..].iter().map(|d| format!("{} {}", d.name, d.table)).collect();
    assert_eq!(
        tail,
        [
            "lk_thin-thin1 0 32768 thin <lk_thin-tp-tpool> 3",
            "lk_thin-tsnap 0 32768 thin <lk_thin-tp-tpool> 4"
        ]
    );

    // Only a thin LV: its pool's -tpool stack, not the pool's public device.
    let one = case_plan("thin", &PlanOptions { lvs: Some(vec!["thin2".into()]), ..Default::default() });
    let names: Vec<&str> = one.devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["lk_thin-tp_tmeta", "lk_thin-tp_tdata", "lk_thin-tp-tpool", "lk_thin-thin2"]);

    // A low water mark from the autoextend threshold: 128 data blocks, 80% ⇒ 25.
    let lwm = case_plan("thin", &PlanOptions { thin_pool_autoextend_threshold: 80, ..Default::default() });
    assert_eq!(
        lwm.device("lk_thin-tp-tpool").unwrap().table.to_string(),
        "0 16384 thin-pool <lk_thin-tp_tmeta> <lk_thin-tp_tdata> 128 25 0"
    );
}

#[test]
fn snapshot_tables() {
    // base PE 0-7; snap1 (COW) PE 8-11, chunk 8; snap2 PE 12-13, chunk 16.
    let p = case_plan("snapshot", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_snapshot-base-real 0 16384 linear 7:0 2048\n\
         lk_snapshot-snap1-cow 0 8192 linear 7:0 18432\n\
         lk_snapshot-snap1 0 16384 snapshot <lk_snapshot-base-real> <lk_snapshot-snap1-cow> P 8\n\
         lk_snapshot-snap2-cow 0 4096 linear 7:0 26624\n\
         lk_snapshot-snap2 0 16384 snapshot <lk_snapshot-base-real> <lk_snapshot-snap2-cow> P 16\n\
         lk_snapshot-base 0 16384 snapshot-origin <lk_snapshot-base-real>\n"
    );
    let public: Vec<&str> = p.devices.iter().filter(|d| d.public).map(|d| d.name.as_str()).collect();
    assert_eq!(public, ["lk_snapshot-snap1", "lk_snapshot-snap2", "lk_snapshot-base"]);
    // Asking for a snapshot activates its origin group.
    let one = case_plan("snapshot", &PlanOptions { lvs: Some(vec!["snap2".into()]), ..Default::default() });
    assert_eq!(one, p);
    // The glue LV cannot be asked for.
    let case = lvmkit_tests::case("snapshot");
    let a = assembly(&case.images);
    let e = plan(
        &a.vgs[0].metadata.vg,
        &pv_refs(&a.vgs[0]),
        &PlanOptions { lvs: Some(vec!["snapshot0".into()]), ..Default::default() },
    );
    assert!(matches!(e, Err(Error::NotActivatable { .. })), "{e:?}");
}

#[test]
fn raid_tables() {
    // Four PVs, pe_start 2048, extent 2048. r1: rmeta/rimage at PE 0/1 of pv0 and pv1;
    // r5: PE 5/6 on pv0 and pv1, PE 0/1 on pv2; r10: PE 8/9 on pv0, pv1, 3/4 on pv2, 0/1 on pv3.
    let p = case_plan("raid", &PlanOptions::default());
    let r = |n: &str| format!("<lk_raid-{n}>");
    let expected = format!(
        "lk_raid-r1_rmeta_0 0 2048 linear 7:0 2048\n\
         lk_raid-r1_rimage_0 0 8192 linear 7:0 4096\n\
         lk_raid-r1_rmeta_1 0 2048 linear 7:1 2048\n\
         lk_raid-r1_rimage_1 0 8192 linear 7:1 4096\n\
         lk_raid-r1 0 8192 raid raid1 3 0 region_size 4096 2 {} {} {} {}\n\
         lk_raid-r5_rmeta_0 0 2048 linear 7:0 12288\n\
         lk_raid-r5_rimage_0 0 4096 linear 7:0 14336\n\
         lk_raid-r5_rmeta_1 0 2048 linear 7:1 12288\n\
         lk_raid-r5_rimage_1 0 4096 linear 7:1 14336\n\
         lk_raid-r5_rmeta_2 0 2048 linear 7:2 2048\n\
         lk_raid-r5_rimage_2 0 4096 linear 7:2 4096\n\
         lk_raid-r5 0 8192 raid raid5_ls 3 128 region_size 4096 3 {} {} {} {} {} {}\n\
         lk_raid-r10_rmeta_0 0 2048 linear 7:0 18432\n\
         lk_raid-r10_rimage_0 0 4096 linear 7:0 20480\n\
         lk_raid-r10_rmeta_1 0 2048 linear 7:1 18432\n\
         lk_raid-r10_rimage_1 0 4096 linear 7:1 20480\n\
         lk_raid-r10_rmeta_2 0 2048 linear 7:2 8192\n\
         lk_raid-r10_rimage_2 0 4096 linear 7:2 10240\n\
         lk_raid-r10_rmeta_3 0 2048 linear 7:3 2048\n\
         lk_raid-r10_rimage_3 0 4096 linear 7:3 4096\n\
         lk_raid-r10 0 8192 raid raid10 5 128 region_size 4096 raid10_copies 2 4 {} {} {} {} {} {} {} {}\n",
        r("r1_rmeta_0"),
        r("r1_rimage_0"),
        r("r1_rmeta_1"),
        r("r1_rimage_1"),
        r("r5_rmeta_0"),
        r("r5_rimage_0"),
        r("r5_rmeta_1"),
        r("r5_rimage_1"),
        r("r5_rmeta_2"),
        r("r5_rimage_2"),
        r("r10_rmeta_0"),
        r("r10_rimage_0"),
        r("r10_rmeta_1"),
        r("r10_rimage_1"),
        r("r10_rmeta_2"),
        r("r10_rimage_2"),
        r("r10_rmeta_3"),
        r("r10_rimage_3"),
    );
    assert_eq!(listing(&p), expected);
    // 2.03.16: raid sub-LVs carry no uuid suffix, and are writable.
    let img = p.device("lk_raid-r1_rimage_0").unwrap();
    assert_eq!(img.uuid, "LVM-xgeWg2ZD8AdWKarVD77rfqFfUeANK2NRMeDgj2Whi191KnTF2Fnas82pDPiNPcx6");
    assert!(!img.read_only && !img.public);
}

#[test]
fn mirror_tables() {
    // mcore legs at PE 0 of pv0/pv1; mdisk legs at PE 4 of pv0/pv1, log at PE 0 of pv2.
    let p = case_plan("mirror", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_mirror-mcore_mimage_0 0 8192 linear 7:0 2048\n\
         lk_mirror-mcore_mimage_1 0 8192 linear 7:1 2048\n\
         lk_mirror-mcore 0 8192 mirror core 1 1024 2 <lk_mirror-mcore_mimage_0> 0 <lk_mirror-mcore_mimage_1> 0 1 handle_errors\n\
         lk_mirror-mdisk_mlog 0 2048 linear 7:2 2048\n\
         lk_mirror-mdisk_mimage_0 0 8192 linear 7:0 10240\n\
         lk_mirror-mdisk_mimage_1 0 8192 linear 7:1 10240\n\
         lk_mirror-mdisk 0 8192 mirror disk 2 <lk_mirror-mdisk_mlog> 1024 2 <lk_mirror-mdisk_mimage_0> 0 <lk_mirror-mdisk_mimage_1> 0 1 handle_errors\n"
    );
    let quiet = case_plan("mirror", &PlanOptions { mirror_handle_errors: false, ..Default::default() });
    assert_eq!(
        quiet.device("lk_mirror-mcore").unwrap().table.to_string(),
        "0 8192 mirror core 1 1024 2 <lk_mirror-mcore_mimage_0> 0 <lk_mirror-mcore_mimage_1> 0"
    );
}

#[test]
fn cache_tables() {
    // cached: corig PE 12-19, cpool (format 2, writethrough, smq, chunk 128) cdata PE 20-21,
    // cmeta PE 22-26. cached2: corig PE 27-30, cpool2 (format 1, writeback, smq, chunk 256,
    // migration_threshold 4096) cdata PE 31-32, cmeta PE 33-37. cpool_free is unused.
    let p = case_plan("cache", &PlanOptions::default());
    assert_eq!(
        listing(&p),
        "lk_cache-cpool_cdata 0 4096 linear 7:0 43008\n\
         lk_cache-cpool_cmeta 0 10240 linear 7:0 47104\n\
         lk_cache-cached_corig 0 16384 linear 7:0 26624\n\
         lk_cache-cached 0 16384 cache <lk_cache-cpool_cmeta> <lk_cache-cpool_cdata> <lk_cache-cached_corig> 128 2 metadata2 writethrough smq 0\n\
         lk_cache-cpool2_cdata 0 4096 linear 7:0 65536\n\
         lk_cache-cpool2_cmeta 0 10240 linear 7:0 69632\n\
         lk_cache-cached2_corig 0 8192 linear 7:0 57344\n\
         lk_cache-cached2 0 8192 cache <lk_cache-cpool2_cmeta> <lk_cache-cpool2_cdata> <lk_cache-cached2_corig> 256 1 writeback smq 2 migration_threshold 4096\n"
    );
    assert_eq!(p.skipped.len(), 1);
    assert_eq!((p.skipped[0].lv.as_str(), p.skipped[0].reason), ("cpool_free", SkipReason::UnusedCachePool));
    for (n, suffix) in [
        ("lk_cache-cpool_cdata", "-cdata"),
        ("lk_cache-cpool_cmeta", "-cmeta"),
        ("lk_cache-cached_corig", "-real"),
    ] {
        assert!(p.device(n).unwrap().uuid.ends_with(suffix), "{n}");
    }
}

#[test]
fn lv_attrs_case() {
    let p = case_plan("lv-attrs", &PlanOptions::default());
    assert!(p.device("lk_attrs-readonly").unwrap().read_only);
    assert_eq!(p.skipped.iter().map(|s| s.lv.as_str()).collect::<Vec<_>>(), ["skip"]);
    let fixed = p.device("lk_attrs-fixedminor").unwrap();
    assert_eq!(fixed.persistent, Some(lvmkit_activation::PersistentDevNum { major: None, minor: 123 }));
    // extent 2048: zero has 8 extents, error 4.
    assert_eq!(p.device("lk_attrs-zero").unwrap().table.to_string(), "0 16384 zero");
    assert_eq!(p.device("lk_attrs-error").unwrap().table.to_string(), "0 8192 error");
}

#[test]
fn missing_pv_in_a_striped_lv() {
    let case = lvmkit_tests::case("striped");
    // Scan only the first PV's image: pv1 is missing.
    let a = assembly(&case.images[..1]);
    let vg = &a.vgs[0];
    assert_eq!(vg.pv_devices.iter().filter(|d| d.is_none()).count(), 1);
    let pvs = pv_refs(vg);
    let md = &vg.metadata.vg;
    match plan(md, &pvs, &PlanOptions::default()) {
        Err(Error::MissingPv(d)) => {
            assert_eq!((d.lv.as_str(), d.root.as_str(), d.pv.as_str()), ("stripe64k", "stripe64k", "pv1"));
            assert_eq!(d.pv_uuid.to_string(), "Rbb5om-00k2-TxJy-5c8W-Aug1-NwrQ-9beFnu");
        }
        other => panic!("{other:?}"),
    }
    let degraded = plan(md, &pvs, &PlanOptions { mode: ActivationMode::Degraded, ..Default::default() });
    assert!(matches!(degraded, Err(Error::MissingPv(_))), "not raid: {degraded:?}");
    let p = plan(md, &pvs, &PlanOptions { mode: ActivationMode::Partial, ..Default::default() }).unwrap();
    assert_eq!(
        listing(&p),
        "lk_striped-stripe64k-missing_0_1 0 16384 error\n\
         lk_striped-stripe64k 0 16384 striped 2 128 7:0 2048 <lk_striped-stripe64k-missing_0_1> 0\n\
         lk_striped-stripe4k-missing_0_1 0 8192 error\n\
         lk_striped-stripe4k 0 8192 striped 2 8 7:0 10240 <lk_striped-stripe4k-missing_0_1> 0\n"
    );
    let filler = &p.devices[0];
    assert!(filler.uuid.ends_with("-missing_0_1") && !filler.public && !filler.read_only);
}

#[test]
fn missing_pv_in_raid_lvs() {
    let case = lvmkit_tests::case("raid");
    // Drop the second PV (pv1): one image of each raid LV.
    let images: Vec<_> =
        case.images.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, p)| p.clone()).collect();
    let a = assembly(&images);
    let vg = &a.vgs[0];
    let pvs = pv_refs(vg);
    assert!(pvs[1].is_none());
    let md = &vg.metadata.vg;
    assert!(matches!(plan(md, &pvs, &PlanOptions::default()), Err(Error::MissingPv(_))));
    let p = plan(md, &pvs, &PlanOptions { mode: ActivationMode::Degraded, ..Default::default() }).unwrap();
    check_order(&p);
    assert_eq!(p.device("lk_raid-r1_rmeta_1-missing_0_0").unwrap().table.to_string(), "0 2048 error");
    assert_eq!(
        p.device("lk_raid-r1_rimage_1").unwrap().table.to_string(),
        "0 8192 linear <lk_raid-r1_rimage_1-missing_0_0> 0"
    );
    // The raid tables themselves are unchanged.
    assert!(
        p.device("lk_raid-r5")
            .unwrap()
            .table
            .to_string()
            .starts_with("0 8192 raid raid5_ls 3 128 region_size 4096 3 ")
    );

    // Two of r1's images gone is too many, even degraded; partial still plans it.
    let pvs2: Vec<Option<DevRef>> =
        pvs.iter().enumerate().map(|(j, r)| if j == 0 { None } else { r.clone() }).collect();
    let e = plan(md, &pvs2, &PlanOptions { mode: ActivationMode::Degraded, ..Default::default() });
    assert!(matches!(&e, Err(Error::TooDegraded { lv, failed: 2, images: 2, .. }) if lv == "r1"), "{e:?}");
    plan(md, &pvs2, &PlanOptions { mode: ActivationMode::Partial, ..Default::default() }).unwrap();
}

fn check_order(p: &Plan) {
    let mut seen = HashSet::new();
    for d in &p.devices {
        for c in &d.children {
            assert!(seen.contains(c.as_str()), "{} before {c}", d.name);
        }
        seen.insert(d.name.as_str());
    }
}

#[test]
fn odd_names_match_lvm2() {
    let p = case_plan("odd-names", &PlanOptions::default());
    let names: HashSet<&str> = p.devices.iter().map(|d| d.name.as_str()).collect();
    for n in ["my--vg.1_x+y-+lead.plus", "my--vg.1_x+y-_x----y__", "my--vg.1_x+y-data--1.a_b+c"] {
        assert!(names.contains(n), "{n} in {names:?}");
    }
}

/// lvm2's auto read-ahead (`_add_new_lv_to_dtree`): twice the widest full stripe for striped
/// and raid LVs with a stripe size; otherwise at least the read-ahead of the first PV area of
/// the LV and of every LV under it (`lv_calculate_readahead`), looked up when applied.
#[test]
fn read_ahead_follows_lvm2s_auto_rule() {
    use lvmkit_activation::ReadAhead;
    let pv = |j: u32| DevNum::new(7, j);
    let ra = |p: &Plan, name: &str| p.device(name).unwrap_or_else(|| panic!("no {name}")).read_ahead.clone();

    let raid = case_plan("raid", &PlanOptions::default());
    // raid1 has no stripe size: its images' PVs (pv0, pv1); raid metadata LVs do not count
    // for the raid device, but each is a device of its own on its PV.
    assert_eq!(ra(&raid, "lk_raid-r1"), ReadAhead::AtLeastPvs(vec![pv(0), pv(1)]));
    assert_eq!(ra(&raid, "lk_raid-r1_rmeta_1"), ReadAhead::AtLeastPvs(vec![pv(1)]));
    assert_eq!(ra(&raid, "lk_raid-r1_rimage_0"), ReadAhead::AtLeastPvs(vec![pv(0)]));
    // raid5, 3 images of 128-sector stripes: 2 × 384.
    assert_eq!(ra(&raid, "lk_raid-r5"), ReadAhead::AtLeast(768));

    // A thin LV: its pool's metadata and data LVs' PVs; the pool's layers the same.
    let thin = case_plan("thin", &PlanOptions::default());
    for d in ["lk_thin-thin2", "lk_thin-tp-tpool", "lk_thin-tp", "lk_thin-tp_tdata"] {
        assert_eq!(ra(&thin, d), ReadAhead::AtLeastPvs(vec![pv(0)]), "{d}");
    }

    // A snapshot origin's top device (not built from its segments) still takes its PVs'.
    let snap = case_plan("snapshot", &PlanOptions::default());
    assert_eq!(ra(&snap, "lk_snapshot-base"), ReadAhead::AtLeastPvs(vec![pv(0)]));

    // Every other case: a PV list only ever names the VG's PVs, and only for LVs with auto
    // read-ahead.
    for name in lvmkit_tests::case_names() {
        let case = lvmkit_tests::case(&name);
        let a = assembly(&case.images);
        for vg in &a.vgs {
            let Ok(p) = plan(&vg.metadata.vg, &pv_refs(vg), &PlanOptions::default()) else { continue };
            let refs = pv_refs(vg);
            for d in &p.devices {
                if let ReadAhead::AtLeastPvs(pvs) = &d.read_ahead {
                    assert!(!pvs.is_empty(), "{}: {}", case.name, d.name);
                    assert!(
                        pvs.iter().all(|n| refs.iter().flatten().any(|r| r.num() == Some(*n))),
                        "{}: {} names a PV the VG does not have: {pvs:?}",
                        case.name,
                        d.name
                    );
                    let lv = vg.metadata.vg.lv(&d.lv).unwrap();
                    assert!(lv.read_ahead.is_none_or(|r| r == 0), "{}: {} has its own", case.name, d.name);
                }
            }
        }
    }
}
