//! Kernel values of an LV, as lvm2 2.03.16 derives them when device-mapper is there: which
//! device and which status line belong to an LV (`lv_info_with_seg_status` in
//! lib/activate/activate.c, `_info_run` and `_get_segment_status_from_target_params` in
//! lib/activate/dev_manager.c), RAID health and sync (`lv_raid_healthy`,
//! `lv_raid_image_in_sync`, `lv_mirror_percent`) and the percentages
//! (`lvseg_percent_with_info_and_seg_status`, `copy_percent`, libdm's `dm_make_percent` and
//! `dm_percent_to_round_float`). The values come from a [`Kernel`] snapshot the caller read
//! (or none: then every function here answers `None` and the fields keep lvm2's no-kernel
//! values).

use lvmkit_activation::live::{Kernel, KernelDevice};
use lvmkit_activation::names::dm_uuid;
use lvmkit_dm::status::{
    CacheStatus, IntegrityStatus, MirrorStatus, RaidStatus, SnapshotStatus, ThinPoolStatus, ThinStatus,
    WritecacheStatus,
};
use lvmkit_metadata::model::SegmentKind;

use super::view::{Role, VgView};

/// `struct lvinfo` of a device that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Info {
    pub suspended: bool,
    pub live_table: bool,
    pub inactive_table: bool,
    pub open_count: i32,
    pub major: u32,
    pub minor: u32,
    pub read_only: bool,
    /// Sectors.
    pub read_ahead: Option<u64>,
}

impl Info {
    fn of(d: &KernelDevice) -> Info {
        Info {
            suspended: d.info.suspended(),
            live_table: d.info.live_table(),
            inactive_table: d.info.inactive_table(),
            open_count: d.info.open_count,
            major: d.info.dev.major,
            minor: d.info.dev.minor,
            read_only: d.info.read_only(),
            read_ahead: d.read_ahead,
        }
    }
}

/// lvm2's `struct lv_seg_status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SegStatus {
    /// No status for this segment type (or no device).
    None,
    /// A device, but no matching line or an unreadable one.
    Unknown,
    Cache(CacheStatus),
    Raid(RaidStatus),
    Thin(ThinStatus),
    ThinPool(ThinPoolStatus),
    Snapshot(SnapshotStatus),
    Writecache(WritecacheStatus),
    Integrity(IntegrityStatus),
}

/// lvm2's `struct lv_with_info_and_seg_status` of one LV: `info` is `None` when its device
/// does not exist.
#[derive(Clone, Debug)]
pub(crate) struct Lvdm {
    pub info: Option<Info>,
    pub seg: SegStatus,
    /// The LV and segment the status belongs to.
    pub seg_of: Option<(usize, usize)>,
}

fn kernel<'a>(v: &VgView<'a>) -> Option<&'a Kernel> {
    v.kernel
}

/// The live device of LV `i` (or of its `layer`; without one, the LV's own device, whose
/// uuid carries lvm2's role suffix).
fn device<'a>(v: &VgView<'a>, i: usize, layer: Option<&str>) -> Option<&'a KernelDevice> {
    let k = kernel(v)?;
    let uuid = dm_uuid(&v.vg.id, &v.lv(i).id, layer.or_else(|| v.dm_uuid_suffix(i))).ok()?;
    k.device(uuid.as_str())
}

/// `lv_is_active`: the LV's own device exists (a new thin pool's `-tpool` when it has none).
pub(crate) fn is_active(v: &VgView, i: usize) -> Option<bool> {
    kernel(v)?;
    if device(v, i, None).is_some() {
        return Some(true);
    }
    let new_pool =
        matches!(v.first_seg(i).map(|s| &s.kind), Some(SegmentKind::ThinPool { transaction_id: 0, .. }));
    Some(new_pool && device(v, i, Some("tpool")).is_some())
}

/// The status of segment `s` of LV `lv` in device `d`'s status lines (`_info_run`).
fn seg_status(v: &VgView, lv: usize, s: usize, d: Option<&KernelDevice>) -> SegStatus {
    let Some(d) = d else { return SegStatus::None };
    let Some(seg) = v.lv(lv).segments.get(s) else { return SegStatus::None };
    let ext = v.vg.extent_size;
    let reshape = match &seg.kind {
        SegmentKind::Raid { areas, .. } => {
            let parity = raid_parity(&seg.segtype.name);
            (areas.len() as u64).saturating_sub(parity) * seg.reshape_count.unwrap_or(0)
        }
        _ => 0,
    };
    let start = ext * seg.start_extent;
    let length = ext * seg.extent_count.saturating_sub(reshape);
    let integrity = v.is_integrity(lv);
    // A thin pool's metadata LV is mapped at most DM_THIN_MAX_METADATA_SIZE long.
    let crop = v.is_thin_pool_meta(lv).then_some(255 * (1u64 << 14) * 8);
    let Some(line) = d.status.iter().find(|l| {
        l.start.0 == start && (integrity || l.length.0 == length || crop.is_some_and(|c| c == l.length.0))
    }) else {
        return SegStatus::Unknown;
    };
    let t = line.target_type.as_str();
    // A merging origin: `snapshot-origin` until the merge starts (no status), then the
    // `snapshot-merge` target's snapshot status.
    let merging = v.is_merging_origin(lv);
    if merging && t == "snapshot-origin" {
        return SegStatus::None;
    }
    let as_snapshot = merging && t == "snapshot-merge";
    let segtype = if as_snapshot { "snapshot" } else { seg.segtype.name.as_str() };
    // The segment types' `target_status_compatible`: striped runs as linear, raid as any
    // raid target, a snapshot as snapshot-merge.
    let compatible = t == segtype
        || (segtype == "striped" && t == "linear")
        || (segtype.starts_with("raid") && t.contains("raid"))
        || (segtype == "snapshot" && t == "snapshot-merge");
    if !v.is_locked(lv) && !compatible {
        return SegStatus::Unknown;
    }
    let p = line.status.as_str();
    if as_snapshot {
        return SnapshotStatus::parse(p).map_or(SegStatus::Unknown, SegStatus::Snapshot);
    }
    let parsed = match &seg.kind {
        SegmentKind::Raid { .. } => RaidStatus::parse(p).map(SegStatus::Raid),
        SegmentKind::Thin { .. } => ThinStatus::parse(p).map(SegStatus::Thin),
        SegmentKind::ThinPool { .. } => ThinPoolStatus::parse(p).map(SegStatus::ThinPool),
        SegmentKind::Snapshot { .. } => SnapshotStatus::parse(p).map(SegStatus::Snapshot),
        SegmentKind::Cache { .. } => CacheStatus::parse(p).map(SegStatus::Cache),
        SegmentKind::Writecache { .. } => WritecacheStatus::parse(p).map(SegStatus::Writecache),
        SegmentKind::Integrity { .. } => IntegrityStatus::parse(p).map(SegStatus::Integrity),
        _ => return SegStatus::None,
    };
    parsed.unwrap_or(SegStatus::Unknown)
}

fn raid_parity(segtype: &str) -> u64 {
    match segtype {
        s if s.starts_with("raid6") => 2,
        s if s.starts_with("raid4") || s.starts_with("raid5") => 1,
        _ => 0,
    }
}

/// The LV (and segment) whose segment uses LV `i` in `role`.
fn user(v: &VgView, i: usize, roles: &[Role]) -> Option<(usize, usize)> {
    v.lvs[i].uses.iter().find(|u| roles.contains(&u.role)).map(|u| (u.by, u.seg))
}

/// lvm2's kernel-info fields (`LVSINFO` in columns.h): a report with no other kernel field
/// reads them with the plain `lv_info`, not `lv_info_with_seg_status`.
pub(crate) const INFO_ONLY: [&str; 8] = [
    "lv_kernel_major",
    "lv_kernel_minor",
    "lv_kernel_read_ahead",
    "lv_permissions",
    "lv_suspended",
    "lv_live_table",
    "lv_inactive_table",
    "lv_device_open",
];

/// `lv_info_with_seg_status` for the LV's first segment (or, when the report needs no
/// segment status, reporter.c's info-only `lv_info` of the LV's own device); `None` without
/// a kernel snapshot.
pub(crate) fn lvdm(v: &VgView, i: usize) -> Option<Lvdm> {
    kernel(v)?;
    let info_of = |d: Option<&KernelDevice>| d.map(Info::of);
    if !v.kernel_status {
        let new_pool =
            matches!(v.first_seg(i).map(|s| &s.kind), Some(SegmentKind::ThinPool { transaction_id: 0, .. }));
        let d = device(v, i, None).or_else(|| if new_pool { device(v, i, Some("tpool")) } else { None });
        return Some(Lvdm { info: info_of(d), seg: SegStatus::None, seg_of: None });
    }
    // A cache pool in use has no device: the status is its cache LV's.
    if v.is_cache_pool(i) {
        if let Some((c, s)) = user(v, i, &[Role::CachePool]) {
            let seg = seg_status(v, c, s, device(v, c, None));
            return Some(Lvdm { info: None, seg, seg_of: Some((c, s)) });
        }
    }
    if v.is_thin_pool(i) {
        let d = device(v, i, Some("tpool"));
        // Asked without read-ahead: lvm2 shows DM_READ_AHEAD_NONE (0).
        let mut info = info_of(d).map(|x| Info { read_ahead: Some(0), ..x });
        let seg = seg_status(v, i, 0, d);
        if let SegStatus::ThinPool(p) = &seg {
            // The `-tpool` device exists; the pool itself is active only with its own device.
            if device(v, i, None).is_none() && !p.needs_check {
                info = None;
            }
        }
        return Some(Lvdm { info, seg, seg_of: Some((i, 0)) });
    }
    if v.is_external_origin(i) {
        let info = info_of(device(v, i, None));
        let seg = seg_status(v, i, 0, device(v, i, Some("real")));
        return Some(Lvdm { info, seg, seg_of: Some((i, 0)) });
    }
    if v.is_origin(i) {
        let d = device(v, i, None);
        let info = info_of(d);
        let mut seg = if v.is_merging_origin(i) { seg_status(v, i, 0, d) } else { SegStatus::None };
        if info.is_some() && !matches!(seg, SegStatus::Snapshot(_)) {
            seg = seg_status(v, i, 0, device(v, i, Some("real")));
        }
        return Some(Lvdm { info, seg, seg_of: Some((i, 0)) });
    }
    if let Some(glue) = v.lvs[i].cow_of {
        // A merging snapshot whose merge runs: the origin's device and status instead (the
        // COW is mapped as an error target then).
        if v.is_merging_cow(i) {
            if let Some(o) = v.snapshot_origin(glue) {
                let d = device(v, o, None);
                let seg = seg_status(v, o, 0, d);
                let running = matches!(seg, SegStatus::Snapshot(_))
                    || (v.is_thin_volume(o) && matches!(seg, SegStatus::Thin(_)));
                if running {
                    return Some(Lvdm { info: info_of(d), seg, seg_of: Some((o, 0)) });
                }
            }
        }
        // The COW LV's device runs the snapshot target of the glue LV's segment.
        let d = device(v, i, None);
        let s = v.vg.lvs[glue]
            .segments
            .iter()
            .position(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
            .unwrap_or(0);
        return Some(Lvdm { info: info_of(d), seg: seg_status(v, glue, s, d), seg_of: Some((glue, s)) });
    }
    let d = device(v, i, None);
    Some(Lvdm { info: info_of(d), seg: seg_status(v, i, 0, d), seg_of: Some((i, 0)) })
}

/// The `raid` status of RAID LV `i`'s own device (`lv_raid_status`).
fn raid_status(v: &VgView, i: usize) -> Option<RaidStatus> {
    let d = device(v, i, None)?;
    d.status.iter().find(|l| l.target_type == "raid").and_then(|l| RaidStatus::parse(&l.status).ok())
}

/// The RAID LV using image or metadata LV `i`, and `i`'s area index in it.
fn raid_user(v: &VgView, i: usize) -> Option<(usize, usize)> {
    let (by, s) = user(v, i, &[Role::RaidImage, Role::RaidMeta])?;
    let SegmentKind::Raid { areas, .. } = &v.lv(by).segments.get(s)?.kind else { return None };
    let name = &v.lv(i).name;
    let k = areas.iter().position(|a| &a.data == name || a.meta.as_ref() == Some(name))?;
    Some((by, k))
}

/// `lv_raid_healthy`: no `D` for the RAID LV (any leg) or for this image's leg; an inactive
/// RAID LV is not healthy (lvm2 cannot read its health).
pub(crate) fn raid_healthy(v: &VgView, i: usize) -> bool {
    if v.is_raid(i) {
        return raid_status(v, i).is_some_and(|r| !r.dev_health.contains('D'));
    }
    let Some((raid, k)) = raid_user(v, i) else { return false };
    raid_status(v, raid).is_some_and(|r| r.dev_health.as_bytes().get(k).is_some_and(|&c| c != b'D'))
}

/// `dm_make_percent`: `None` is DM_PERCENT_INVALID; whole numbers in millionths of a percent.
pub(crate) fn make_percent(numerator: u64, denominator: u64) -> i64 {
    const HUNDRED: i64 = 100_000_000;
    if denominator == 0 || numerator == denominator {
        return HUNDRED;
    }
    if numerator == 0 {
        return 0;
    }
    match (HUNDRED as f64 * (numerator as f64 / denominator as f64)) as i64 {
        HUNDRED => HUNDRED - 1,
        0 => 1,
        p => p,
    }
}

/// `dm_report_field_percent`: empty for DM_PERCENT_INVALID, else `%.2f` of
/// `dm_percent_to_round_float(p, 2)` (never 0.00 for a non-zero value nor 100.00 short of it).
pub(crate) fn show_percent(p: Option<i64>) -> String {
    let Some(p) = p else { return String::new() };
    let one = 1_000_000f32;
    let r = one * 0.01f32;
    let mut f = p as f32 / one + 0.0;
    if (p as f32) < r && p > 0 {
        f = 0.01;
    } else if (p as f32) > (100_000_000f32 - r) && p < 100_000_000 {
        f = (100_000_000f32 - r) / one;
    }
    format!("{:.2}", f)
}

/// Which percentage (`percent_get_t`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Get {
    Data,
    Metadata,
    Dirty,
}

/// `lvseg_percent_with_info_and_seg_status`.
pub(crate) fn seg_percent(v: &VgView, d: &Lvdm, get: Get) -> Option<i64> {
    match &d.seg {
        SegStatus::Integrity(s) => match get {
            Get::Dirty if s.recalc_sector == 0 => None,
            Get::Dirty if s.recalc_sector == s.provided_data_sectors => Some(make_percent(1, 1)),
            Get::Dirty => Some(make_percent(s.recalc_sector, s.provided_data_sectors)),
            _ => None,
        },
        SegStatus::Cache(c) if c.fail || c.error => None,
        SegStatus::Cache(c) => Some(match get {
            Get::Dirty if c.used_blocks == 0 => 0,
            Get::Dirty => make_percent(c.dirty_blocks, c.used_blocks),
            Get::Metadata => make_percent(c.metadata_used_blocks, c.metadata_total_blocks),
            Get::Data => make_percent(c.used_blocks, c.total_blocks),
        }),
        SegStatus::Writecache(w) => (get == Get::Data)
            .then(|| make_percent(w.total_blocks.saturating_sub(w.free_blocks), w.total_blocks)),
        SegStatus::Raid(r) => (get == Get::Dirty).then(|| make_percent(r.insync_regions, r.total_regions)),
        SegStatus::Snapshot(s) if s.merge_failed => None,
        SegStatus::Snapshot(s) if s.invalid => Some(make_percent(1, 1)),
        SegStatus::Snapshot(s) if s.metadata_sectors == Some(s.used_sectors) => Some(0),
        SegStatus::Snapshot(s) => Some(make_percent(s.used_sectors, s.total_sectors)),
        SegStatus::ThinPool(p) if p.fail || p.error => None,
        SegStatus::ThinPool(p) if get == Get::Metadata => {
            Some(make_percent(p.used_metadata_blocks, p.total_metadata_blocks))
        }
        SegStatus::ThinPool(p) => Some(make_percent(p.used_data_blocks, p.total_data_blocks)),
        SegStatus::Thin(t) if t.fail || get != Get::Data => None,
        SegStatus::Thin(t) => {
            let (lv, _) = d.seg_of?;
            let pool = match v.first_seg(lv).map(|s| &s.kind) {
                Some(SegmentKind::Thin { thin_pool, .. }) => v.lv_index(thin_pool)?,
                _ => return None,
            };
            let chunk = match v.first_seg(pool).map(|s| &s.kind) {
                Some(SegmentKind::ThinPool { chunk_size, .. }) if *chunk_size > 0 => *chunk_size,
                _ => return None,
            };
            let size = v.lv(lv).segments.iter().map(|s| s.extent_count).sum::<u64>() * v.vg.extent_size;
            let csize = size.div_ceil(chunk) * chunk;
            Some(if t.mapped_sectors <= csize {
                make_percent(t.mapped_sectors, csize)
            } else {
                make_percent(1, 1)
            })
        }
        _ => None,
    }
}

/// `lv_mirror_percent` of a mirror or RAID LV's own device: the regions of every line of
/// its type summed, and per segment the extents copied (`seg->extents_copied`) for
/// `copy_percent`. `None` when the LV is not active or its status is unreadable.
fn mirror_percent(v: &VgView, i: usize, target: &str) -> Option<(i64, u64)> {
    let lv = v.lv(i);
    if lv.segments.len() == 1 && area_count(&lv.segments[0].kind) == 1 {
        return Some((make_percent(1, 1), lv.segments[0].extent_count));
    }
    let d = device(v, i, None)?;
    let (mut num, mut den, mut copied) = (0u64, 0u64, 0u64);
    for (l, seg) in d.status.iter().filter(|l| l.target_type == target).zip(&lv.segments) {
        let (a, b) = match target {
            "raid" => RaidStatus::parse(&l.status).ok().map(|r| (r.insync_regions, r.total_regions))?,
            _ => MirrorStatus::parse(&l.status).ok().map(|m| (m.insync_regions, m.total_regions))?,
        };
        num += a;
        den += b;
        let area_len = seg.extent_count;
        copied += (area_len * a).checked_div(b).unwrap_or(area_len);
    }
    Some((make_percent(num, den), copied))
}

fn area_count(k: &SegmentKind) -> usize {
    match k {
        SegmentKind::Mirror { areas, .. } | SegmentKind::Striped { areas, .. } => areas.len(),
        SegmentKind::Raid { areas, .. } => areas.len(),
        _ => 1,
    }
}

/// `copy_percent` / `sync_percent` (`_copypercent_disp`).
pub(crate) fn copy_percent(v: &VgView, i: usize, d: &Lvdm) -> Option<i64> {
    let raid0 = v.first_seg(i).is_some_and(|s| s.segtype.name.starts_with("raid0"));
    if v.is_integrity(i) || v.is_cache(i) || (v.is_raid(i) && !raid0 && !v.is_merging_origin(i)) {
        return seg_percent(v, d, Get::Dirty);
    }
    if v.is_cache_pool(i) && user(v, i, &[Role::CachePool]).is_some() {
        return seg_percent(v, d, Get::Dirty);
    }
    if v.is_raid(i) && !raid0 {
        return mirror_percent(v, i, "raid").map(|p| p.0);
    }
    if v.is_mirror(i) {
        let (p, copied) = mirror_percent(v, i, "mirror")?;
        // `copy_percent(lv)`: extents copied over the LV's extents.
        let total: u64 = v.lv(i).segments.iter().map(|s| s.extent_count).sum();
        return Some(if total == 0 { make_percent(1, 1) } else { make_percent(copied.min(total), total) })
            .filter(|_| p >= 0);
    }
    None
}

/// `lv_raid_image_in_sync` / `lv_mirror_image_in_sync`.
pub(crate) fn image_in_sync(v: &VgView, i: usize) -> bool {
    if v.is_raid_image(i) {
        // An image that is not active is taken as not in sync.
        if device(v, i, None).is_none() {
            return false;
        }
        // 2.03.16 reads the leg's health only (no shortcut for a fully synced array).
        let Some((raid, k)) = raid_user(v, i) else { return false };
        return raid_status(v, raid).is_some_and(|r| r.dev_health.as_bytes().get(k) == Some(&b'A'));
    }
    if v.is_mirror_image(i) {
        let Some((by, _)) = user(v, i, &[Role::MirrorImage]) else { return false };
        return mirror_percent(v, by, "mirror").is_some_and(|(p, _)| p == make_percent(1, 1));
    }
    false
}

/// RAID `sync_action` and `mismatch_count` of RAID LV `i` (`lv_raid_sync_action`,
/// `lv_raid_mismatch_count`).
pub(crate) fn raid_sync(v: &VgView, i: usize) -> Option<(Option<String>, u64)> {
    if !v.is_raid(i) {
        return None;
    }
    raid_status(v, i).map(|r| (r.sync_action, r.mismatch_count))
}

/// `lv_integrity_mismatches` of integrity LV `i`, or the sum over a RAID LV's integrity images.
pub(crate) fn integrity_mismatches(v: &VgView, i: usize) -> Option<u64> {
    let own = |j: usize| -> Option<u64> {
        let d = device(v, j, None)?;
        d.status
            .iter()
            .find(|l| l.target_type == "integrity")
            .and_then(|l| IntegrityStatus::parse(&l.status).ok())
            .map(|s| s.mismatches)
    };
    if v.is_integrity(i) {
        return own(i);
    }
    if v.is_raid(i) {
        let SegmentKind::Raid { areas, .. } = &v.first_seg(i)?.kind else { return None };
        let images: Vec<usize> = areas.iter().filter_map(|a| v.lv_index(&a.data)).collect();
        if images.is_empty() || !images.iter().all(|&j| v.is_integrity(j)) {
            return None;
        }
        return images.iter().map(|&j| own(j)).sum();
    }
    None
}

fn yes(on: bool, w: &str) -> String {
    if on { w.to_string() } else { String::new() }
}

/// The kernel value of LV field `name` of LV `i`, as lvm2 shows it with device-mapper there;
/// `None` without a kernel snapshot or for a field this module does not derive (the caller
/// keeps lvm2's no-kernel value).
pub(crate) fn field(units: &super::units::Units, name: &str, v: &VgView, i: usize) -> Option<String> {
    let d = lvdm(v, i)?;
    let info = d.info;
    let undef = || "unknown".to_string();
    let num_or_empty = |n: Option<u64>| n.map_or_else(String::new, |n| n.to_string());
    Some(match name {
        "lv_active" => if is_active(v, i)? { "active" } else { "" }.to_string(),
        "lv_active_locally" => yes(is_active(v, i)?, "active locally"),
        "lv_active_remotely" => String::new(),
        "lv_active_exclusively" => yes(is_active(v, i)?, "active exclusively"),
        "lv_kernel_major" => info.map_or(-1, |x| i64::from(x.major)).to_string(),
        "lv_kernel_minor" => info.map_or(-1, |x| i64::from(x.minor)).to_string(),
        "lv_kernel_read_ahead" => match info.and_then(|x| x.read_ahead) {
            Some(ra) => units.sectors(ra),
            None => "-1".to_string(),
        },
        "lv_permissions" => {
            let lv = v.lv(i);
            if v.is_pvmove(i) {
                String::new()
            } else if lv.is_writable() {
                match info {
                    None => undef(),
                    Some(x) if x.read_only => "read-only-override".to_string(),
                    Some(_) => "writeable".to_string(),
                }
            } else {
                "read-only".to_string()
            }
        }
        "lv_suspended" => info.map_or_else(undef, |x| yes(x.suspended, "suspended")),
        "lv_live_table" => info.map_or_else(undef, |x| yes(x.live_table, "live table present")),
        "lv_inactive_table" => info.map_or_else(undef, |x| yes(x.inactive_table, "inactive table present")),
        "lv_device_open" => info.map_or_else(undef, |x| yes(x.open_count > 0, "open")),
        "data_percent" | "snap_percent" => show_percent(seg_percent(v, &d, Get::Data)),
        "metadata_percent" => match d.seg {
            SegStatus::Cache(_) | SegStatus::ThinPool(_) => show_percent(seg_percent(v, &d, Get::Metadata)),
            _ => String::new(),
        },
        "copy_percent" | "sync_percent" => show_percent(copy_percent(v, i, &d)),
        "raid_sync_action" => raid_sync(v, i).and_then(|s| s.0).unwrap_or_default(),
        "raid_mismatch_count" => num_or_empty(raid_sync(v, i).map(|s| s.1)),
        "integritymismatches" => num_or_empty(integrity_mismatches(v, i)),
        "lv_image_synced" => yes(image_in_sync(v, i), "image synced"),
        "cache_total_blocks" | "cache_used_blocks" | "cache_dirty_blocks" | "cache_read_hits"
        | "cache_read_misses" | "cache_write_hits" | "cache_write_misses" => match &d.seg {
            SegStatus::Cache(c) => match name {
                "cache_total_blocks" => c.total_blocks,
                "cache_used_blocks" => c.used_blocks,
                "cache_dirty_blocks" => c.dirty_blocks,
                "cache_read_hits" => c.read_hits,
                "cache_read_misses" => c.read_misses,
                "cache_write_hits" => c.write_hits,
                _ => c.write_misses,
            }
            .to_string(),
            _ => String::new(),
        },
        "kernel_cache_settings" => match &d.seg {
            SegStatus::Cache(c) => c
                .core_args
                .chunks_exact(2)
                .chain(c.policy_args.chunks_exact(2))
                .map(|kv| format!("{}={}", kv[0], kv[1]))
                .collect::<Vec<_>>()
                .join(","),
            _ => String::new(),
        },
        "kernel_cache_policy" => match &d.seg {
            SegStatus::Cache(c) => c.policy_name.clone(),
            _ => String::new(),
        },
        "kernel_metadata_format" => match &d.seg {
            SegStatus::Cache(c) => {
                if c.features.iter().any(|f| f == "metadata2") { "2" } else { "1" }.to_string()
            }
            _ => String::new(),
        },
        "kernel_discards" => match &d.seg {
            SegStatus::ThinPool(p) => match p.discards {
                lvmkit_dm::status::ThinDiscards::Ignore => "ignore",
                lvmkit_dm::status::ThinDiscards::NoPassdown => "nopassdown",
                lvmkit_dm::status::ThinDiscards::Passdown => "passdown",
            }
            .to_string(),
            SegStatus::Cache(c) => yes(c.features.iter().any(|f| f == "no_discard_passdown"), "nopassdown"),
            _ => String::new(),
        },
        "lv_health_status" => health(v, i, &d),
        "lv_check_needed" => match &d.seg {
            SegStatus::ThinPool(p) if v.is_thin_pool(i) => yes(p.needs_check, "check needed"),
            SegStatus::Cache(c) if v.is_cache(i) => yes(c.needs_check, "check needed"),
            _ => undef(),
        },
        "lv_merge_failed" => match &d.seg {
            SegStatus::Snapshot(s) => yes(s.merge_failed, "merge failed"),
            _ => undef(),
        },
        "lv_snapshot_invalid" => match &d.seg {
            SegStatus::Snapshot(s) => yes(s.invalid, "snapshot invalid"),
            _ => undef(),
        },
        "writecache_total_blocks"
        | "writecache_free_blocks"
        | "writecache_writeback_blocks"
        | "writecache_error" => match &d.seg {
            SegStatus::Writecache(w) => match name {
                "writecache_total_blocks" => w.total_blocks,
                "writecache_free_blocks" => w.free_blocks,
                "writecache_writeback_blocks" => w.writeback_blocks,
                _ => w.error,
            }
            .to_string(),
            _ => String::new(),
        },
        _ => return None,
    })
}

/// `_lvhealthstatus_disp`.
fn health(v: &VgView, i: usize, d: &Lvdm) -> String {
    let lv = v.lv(i);
    if v.lvs[i].partial {
        return "partial".to_string();
    }
    if v.is_raid_type(i) {
        return if !raid_healthy(v, i) {
            "refresh needed"
        } else if v.is_raid(i) {
            if raid_sync(v, i).is_some_and(|s| s.1 > 0) { "mismatches exist" } else { "" }
        } else if lv.status.has("WRITEMOSTLY") {
            "writemostly"
        } else {
            ""
        }
        .to_string();
    }
    let s = match (&d.seg, v.is_cache(i), v.is_writecache(i), v.is_thin_pool(i)) {
        (SegStatus::None, ..) => "",
        (SegStatus::Cache(c), true, ..) => {
            if c.fail {
                "failed"
            } else if c.read_only {
                "metadata_read_only"
            } else {
                ""
            }
        }
        (SegStatus::Writecache(w), _, true, _) => yes_str(w.error != 0, "error"),
        (SegStatus::ThinPool(p), _, _, true) => {
            if p.fail {
                "failed"
            } else if p.out_of_data_space {
                "out_of_data"
            } else if p.read_only {
                "metadata_read_only"
            } else {
                ""
            }
        }
        (_, true, ..) | (_, _, true, _) | (_, _, _, true) => "",
        _ => "",
    };
    s.to_string()
}

fn yes_str(on: bool, w: &'static str) -> &'static str {
    if on { w } else { "" }
}

/// The characters of `lv_attr` that need the kernel (0 for images, 1, 4, 5 and 8), put into
/// the no-kernel attribute `a` (`lv_attr_dup_with_info_and_seg_status`).
pub(crate) fn patch_attr(v: &VgView, i: usize, a: &mut [char; 10]) {
    let Some(d) = lvdm(v, i) else { return };
    let lv = v.lv(i);
    if a[0] == 'I'
        && (v.is_mirror_image(i) || (v.is_raid_image(i) && !v.is_visible(i)))
        && image_in_sync(v, i)
    {
        a[0] = 'i';
    }
    if matches!(d.seg, SegStatus::Unknown) {
        a[4] = 'X';
        a[5] = 'X';
    } else if let Some(x) = d.info {
        a[4] = if x.suspended {
            's'
        } else if x.live_table {
            'a'
        } else if x.inactive_table {
            'i'
        } else {
            'd'
        };
        if x.live_table {
            if let SegStatus::Snapshot(s) = &d.seg {
                if s.invalid {
                    a[4] = if x.suspended { 'S' } else { 'I' };
                } else if s.merge_failed {
                    a[4] = if x.suspended { 'M' } else { 'm' };
                }
            }
        }
        let needs_check = match &d.seg {
            SegStatus::ThinPool(p) => v.is_thin_pool(i) && p.needs_check,
            SegStatus::Cache(c) => v.is_cache(i) && c.needs_check,
            _ => false,
        };
        if needs_check {
            a[4] = if x.suspended { 'C' } else { 'c' };
        }
        if a[1] != 'r' && x.read_only {
            a[1] = 'R';
        }
        a[5] = if x.open_count > 0 { 'o' } else { '-' };
    } else {
        a[4] = '-';
        a[5] = '-';
    }
    a[8] = if v.lvs[i].partial {
        'p'
    } else if v.is_raid_type(i) {
        if !raid_healthy(v, i) {
            'r'
        } else if v.is_raid(i) {
            let sync = raid_sync(v, i);
            if sync.as_ref().is_some_and(|s| s.1 > 0) {
                'm'
            } else if sync.as_ref().is_some_and(|s| s.0.as_deref() == Some("reshape")) {
                's'
            } else if removed_after_reshape(v, i) {
                'R'
            } else {
                '-'
            }
        } else if lv.status.has("WRITEMOSTLY") {
            'w'
        } else if lv.status.has("REMOVE_AFTER_RESHAPE") {
            'R'
        } else {
            '-'
        }
    } else {
        match &d.seg {
            SegStatus::Cache(c) if c.fail => 'F',
            SegStatus::Cache(c) if c.read_only => 'M',
            SegStatus::ThinPool(p) if p.fail => 'F',
            SegStatus::ThinPool(p) if p.out_of_data_space => 'D',
            SegStatus::ThinPool(p) if p.read_only => 'M',
            SegStatus::Thin(t) if t.fail => 'F',
            SegStatus::Writecache(w) if w.error != 0 => 'E',
            SegStatus::Unknown => 'X',
            _ => '-',
        }
    };
}

/// `_sublvs_remove_after_reshape`: an image after the first flagged for removal.
fn removed_after_reshape(v: &VgView, i: usize) -> bool {
    let Some(SegmentKind::Raid { areas, .. }) = v.first_seg(i).map(|s| &s.kind) else { return false };
    areas
        .iter()
        .skip(1)
        .filter_map(|a| v.lv_index(&a.data))
        .any(|j| v.lv(j).status.has("REMOVE_AFTER_RESHAPE"))
}

/// `segtype_is_reshapable_raid`: raid4/5/6 (any layout) and raid10.
fn reshapable_raid(segtype: &str) -> bool {
    ["raid4", "raid5", "raid6", "raid10"].iter().any(|p| segtype.starts_with(p))
}

/// `_lv_for_raid_image_seg`: a reshapable RAID LV's segment is its own; the first segment of
/// an image belongs to the RAID LV named by the image's name up to its first `_`.
fn raid_for_seg(v: &VgView, i: usize, s: usize) -> Option<usize> {
    let seg = v.lv(i).segments.get(s)?;
    if reshapable_raid(&seg.segtype.name) {
        return Some(i);
    }
    if !v.is_raid_image(i) || seg.start_extent != 0 {
        return None;
    }
    let name = &v.lv(i).name;
    let mut cut = name.find('_')?;
    if name[cut..].contains("_dup_") {
        cut = cut + 5 + name[cut + 5..].find('_')?;
    }
    let raid = v.lv_index(&name[..cut])?;
    v.first_seg(raid).is_some_and(|f| reshapable_raid(&f.segtype.name)).then_some(raid)
}

/// `data_offset` / `new_data_offset` of segment `s` of LV `i` (`_segdata_offset`): the RAID
/// LV's kernel data offset; for `new`, on an image not in sync, the other end of the reshape
/// space. `None` without a kernel snapshot (the caller keeps the no-kernel value).
pub(crate) fn seg_data_offset(v: &VgView, i: usize, s: usize, new: bool) -> Option<String> {
    kernel(v)?;
    let Some(raid) = raid_for_seg(v, i, s) else { return Some(String::new()) };
    let Some(st) = raid_status(v, raid) else { return Some(String::new()) };
    let mut off = st.data_offset;
    if new && v.is_raid_image(i) && !image_in_sync(v, i) {
        let reshape = v.lv(i).segments[s].reshape_count.unwrap_or(0);
        off = if off != 0 { 0 } else { reshape * v.vg.extent_size };
    }
    Some(off.to_string())
}

#[cfg(test)]
mod tests {
    use lvmkit_dm::control::{DeviceInfo, StatusLine, flags};
    use lvmkit_dm::{DevNum, Sectors};

    use super::super::attr::tests::with_view;
    use super::super::units::Units;
    use super::*;

    const VG_ID: &str = "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa";

    /// An LV section with its own id (`n` repeated) and one segment of two extents.
    fn lv(name: &str, n: char, status: &str, seg: &str) -> String {
        let id = format!(
            "{0}{0}{0}{0}{0}{0}-{0}{0}{0}{0}-{0}{0}{0}{0}-{0}{0}{0}{0}-{0}{0}{0}{0}-{0}{0}{0}{0}-{0}{0}{0}{0}{0}{0}",
            n
        );
        format!(
            "{name} {{\nid = \"{id}\"\nstatus = [{status}]\nflags = []\nsegment_count = 1\n\
             segment1 {{\nstart_extent = 0\nextent_count = 2\n{seg}\n}}\n}}\n"
        )
    }

    fn dev(v: &VgView, lv: &str, flags: u32, open: i32, status: &[(&str, &str)]) -> KernelDevice {
        let i = v.lv_index(lv).unwrap();
        let uuid = dm_uuid(&v.vg.id, &v.lv(i).id, None).unwrap();
        KernelDevice {
            info: DeviceInfo {
                name: format!("vg-{lv}"),
                uuid: Some(uuid.as_str().to_string()),
                dev: DevNum { major: 253, minor: i as u32 },
                open_count: open,
                event_nr: 0,
                target_count: status.len() as u32,
                flags,
            },
            read_ahead: Some(256),
            status: status
                .iter()
                .map(|(t, p)| StatusLine {
                    start: Sectors(0),
                    length: Sectors(2 * 8192),
                    target_type: t.to_string(),
                    status: p.to_string(),
                })
                .collect(),
        }
    }

    fn vg() -> String {
        let rw = "\"READ\", \"WRITE\"";
        let rwv = "\"READ\", \"WRITE\", \"VISIBLE\"";
        let lin = |pe: u64| format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {pe}]");
        let raid = "type = \"raid1\"\ndevice_count = 2\nregion_size = 1024\n\
                    raids = [\"r_rmeta_0\", \"r_rimage_0\", \"r_rmeta_1\", \"r_rimage_1\"]";
        let lvs = [
            lv("lin", 'c', rwv, &lin(0)),
            lv("off", 'd', rwv, &lin(2)),
            lv("r", 'e', rwv, raid),
            lv("r_rimage_0", 'f', rw, &lin(4)),
            lv("r_rmeta_0", 'g', rw, &lin(6)),
            lv("r_rimage_1", 'h', rw, &lin(8)),
            lv("r_rmeta_1", 'i', rw, &lin(10)),
        ]
        .concat();
        super::super::attr::tests::vg_text("", &lvs).replace("aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa", VG_ID)
    }

    #[test]
    fn percentages_as_libdm_rounds_them() {
        assert_eq!(show_percent(None), "");
        assert_eq!(show_percent(Some(make_percent(0, 10))), "0.00");
        assert_eq!(show_percent(Some(make_percent(10, 10))), "100.00");
        assert_eq!(show_percent(Some(make_percent(1, 3))), "33.33");
        // Never 0.00 for something, never 100.00 for not everything.
        assert_eq!(show_percent(Some(make_percent(1, 1_000_000))), "0.01");
        assert_eq!(show_percent(Some(make_percent(999_999, 1_000_000))), "99.99");
        assert_eq!(show_percent(Some(make_percent(5, 0))), "100.00");
    }

    #[test]
    fn a_merging_snapshot_reads_its_origin() {
        let rwv = "\"READ\", \"WRITE\", \"VISIBLE\"";
        let rw = "\"READ\", \"WRITE\"";
        let lin = |pe: u64| format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {pe}]");
        let glue = "type = \"snapshot\"\nchunk_size = 8\norigin = \"o\"\nmerging_store = \"c\"";
        let lvs =
            [lv("o", 'c', rwv, &lin(0)), lv("c", 'd', rwv, &lin(2)), lv("snapshot0", 'e', rw, glue)].concat();
        let text = super::super::attr::tests::vg_text("", &lvs)
            .replace("aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa", VG_ID);
        with_view(&text, true, |plain| {
            let u = Units::bytes_nosuffix();
            for (origin_target, origin_status, merging) in
                [("snapshot-origin", "", false), ("snapshot-merge", "16/16384 16", true)]
            {
                let live = [
                    dev(plain, "o", flags::ACTIVE_PRESENT, 0, &[(origin_target, origin_status)]),
                    dev(plain, "c", flags::ACTIVE_PRESENT, 0, &[("snapshot", "800/16384 16")]),
                ];
                let kernel = Kernel::from_devices(live);
                let v = VgView::new(plain.asm, plain.scan).with_kernel(Some(&kernel), true);
                let (o, c) = (v.lv_index("o").unwrap(), v.lv_index("c").unwrap());
                let od = lvdm(&v, o).unwrap();
                let cd = lvdm(&v, c).unwrap();
                if merging {
                    // The merge runs: both read the origin's snapshot-merge status.
                    assert!(matches!(od.seg, SegStatus::Snapshot(_)));
                    assert_eq!(cd.seg_of, Some((o, 0)));
                    assert_eq!(field(&u, "snap_percent", &v, c).unwrap(), "0.00");
                } else {
                    // Not started: the origin has no status, the COW is still a snapshot.
                    assert_eq!(od.seg, SegStatus::None);
                    assert_eq!(field(&u, "snap_percent", &v, c).unwrap(), "4.88");
                }
            }
        });
    }

    #[test]
    fn kernel_values_of_a_snapshot() {
        let text = vg();
        with_view(&text, true, |plain| {
            // No kernel: nothing live, the fields keep lvm2's no-kernel values.
            assert!(lvdm(plain, 0).is_none());
            assert_eq!(field(&Units::bytes_nosuffix(), "lv_active", plain, 0), None);
            let live = [
                dev(plain, "lin", flags::ACTIVE_PRESENT | flags::SUSPEND, 2, &[("linear", "")]),
                dev(plain, "r", flags::ACTIVE_PRESENT, 0, &[("raid", "raid1 2 AD 20/40 recover 0 0")]),
                dev(plain, "r_rimage_0", flags::ACTIVE_PRESENT, 1, &[("linear", "")]),
                dev(plain, "r_rimage_1", flags::ACTIVE_PRESENT, 1, &[("linear", "")]),
            ];
            let kernel = Kernel::from_devices(live);
            let v = VgView::new(plain.asm, plain.scan).with_kernel(Some(&kernel), true);
            let u = Units::bytes_nosuffix();
            let f = |name: &str, lv: &str| field(&u, name, &v, v.lv_index(lv).unwrap()).unwrap();
            let attr = |lv: &str| {
                let i = v.lv_index(lv).unwrap();
                let mut a: [char; 10] = ['-'; 10];
                for (k, ch) in super::super::attr::lv_attr(&v, i).chars().enumerate() {
                    a[k] = ch;
                }
                patch_attr(&v, i, &mut a);
                a.iter().collect::<String>()
            };
            assert_eq!(f("lv_active", "lin"), "active");
            assert_eq!(f("lv_active", "off"), "");
            assert_eq!(f("lv_suspended", "lin"), "suspended");
            assert_eq!(f("lv_device_open", "lin"), "open");
            assert_eq!(f("lv_device_open", "off"), "unknown");
            assert_eq!(f("lv_kernel_minor", "off"), "-1");
            assert_eq!(f("lv_kernel_major", "lin"), "253");
            assert_eq!(f("lv_kernel_read_ahead", "lin"), "131072");
            assert_eq!(f("lv_permissions", "lin"), "writeable");
            assert_eq!(attr("lin"), "-wi-so----");
            assert_eq!(attr("off"), "-wi-------");
            // The second leg is dead: the raid LV and that image need a refresh, the first
            // image does not; half the regions are in sync.
            assert_eq!(f("sync_percent", "r"), "50.00");
            assert_eq!(f("raid_sync_action", "r"), "recover");
            assert_eq!(f("raid_mismatch_count", "r"), "0");
            assert_eq!(f("lv_health_status", "r"), "refresh needed");
            assert_eq!(attr("r"), "rwi-a-r-r-");
            assert_eq!(attr("r_rimage_0"), "iwi-aor---");
            assert_eq!(attr("r_rimage_1"), "Iwi-aor-r-");
            // The raid's metadata images have no device: not active, and lvm2's 'r' still.
            assert_eq!(attr("r_rmeta_0"), "ewi---r---");
        });
    }
}
