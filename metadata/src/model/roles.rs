//! The roles LVs play for each other, derived from who references whom: the in-memory status
//! lvm2 sets while importing a VG (mirror image, raid metadata, pool data, COW, origin, …),
//! recomputed from the segments. One home for the planner (dm uuid suffixes, read-only and
//! public devices) and the reports (`lv_role`, attributes, related LVs).
//!
//! lvm2's rules kept here: [`LvRoles::is_visible`] is `lv_is_visible` (lib/metadata/
//! snapshot_manip.c): a snapshot's glue LV never, a COW store as its origin — always for a
//! virtual origin, never while merging — and every other LV by its `VISIBLE` flag.
//! [`LvRoles::dm_uuid_suffix`] is `build_dm_uuid`'s role suffix (lib/misc/lvm-string.c), in
//! its order of precedence.

use std::collections::HashMap;

use super::{LogicalVolume, SegmentKind, VolumeGroup};
use crate::model::AreaTarget;

/// How one LV is used by a segment of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// An area of a striped/linear segment.
    StripedArea,
    /// A leg of a `mirror` segment (also pvmove's atomic legs).
    MirrorImage,
    /// The `mirror_log` of a mirror.
    MirrorLog,
    /// A RAID data image (`_rimage_N`).
    RaidImage,
    /// A RAID metadata image (`_rmeta_N`).
    RaidMeta,
    /// Thin pool data (`_tdata`).
    ThinPoolData,
    /// Thin pool metadata (`_tmeta`).
    ThinPoolMeta,
    /// The pool of a thin LV.
    ThinPool,
    /// The origin of a thin snapshot.
    ThinOrigin,
    /// The external origin of a thin LV.
    ExternalOrigin,
    /// Cache pool data (`_cdata`).
    CachePoolData,
    /// Cache pool metadata (`_cmeta`).
    CachePoolMeta,
    /// The cache pool (or cachevol) of a cached LV.
    CachePool,
    /// The cached origin (`_corig`).
    CacheOrigin,
    /// The cachevol of a writecache LV.
    WritecacheVol,
    /// The origin of a writecache LV (`_wcorig`).
    WritecacheOrigin,
    /// The origin of an integrity LV (`_iorig`).
    IntegrityOrigin,
    /// The metadata of an integrity LV (`_imeta`).
    IntegrityMeta,
    /// The vdo pool of a vdo LV.
    VdoPool,
    /// VDO pool data (`_vdata`).
    VdoPoolData,
    /// The origin of an old-style snapshot.
    SnapOrigin,
    /// The COW store of an old-style snapshot.
    CowStore,
}

/// One reference to an LV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Use {
    /// The referencing LV (index into `vg.lvs`).
    pub by: usize,
    /// Its segment.
    pub seg: usize,
    /// What for.
    pub role: Role,
}

/// Every LV's users and roles in one VG.
#[derive(Clone, Debug, Default)]
pub struct LvRoles {
    /// Per LV (parallel to `vg.lvs`), its references from segments of other LVs, in
    /// metadata order.
    uses: Vec<Vec<Use>>,
    by_name: HashMap<String, usize>,
}

impl LvRoles {
    /// Derives the roles of `vg`'s LVs from its segments (references to LVs that do not
    /// exist are left out).
    pub fn of(vg: &VolumeGroup) -> LvRoles {
        let by_name: HashMap<String, usize> =
            vg.lvs.iter().enumerate().map(|(i, l)| (l.name.clone(), i)).collect();
        let mut uses: Vec<Vec<Use>> = vec![Vec::new(); vg.lvs.len()];
        for (i, lv) in vg.lvs.iter().enumerate() {
            for (si, seg) in lv.segments.iter().enumerate() {
                let mut add = |name: &str, role: Role| {
                    if let Some(&t) = by_name.get(name) {
                        uses[t].push(Use { by: i, seg: si, role });
                    }
                };
                match &seg.kind {
                    SegmentKind::Striped { areas, .. } => {
                        for a in areas {
                            if let AreaTarget::Lv(n) = &a.target {
                                add(n, Role::StripedArea);
                            }
                        }
                    }
                    SegmentKind::Mirror { areas, mirror_log, .. } => {
                        for a in areas {
                            if let AreaTarget::Lv(n) = &a.target {
                                add(n, Role::MirrorImage);
                            }
                        }
                        if let Some(l) = mirror_log {
                            add(l, Role::MirrorLog);
                        }
                    }
                    SegmentKind::Raid { areas, .. } => {
                        for a in areas {
                            if let Some(m) = &a.meta {
                                add(m, Role::RaidMeta);
                            }
                            add(&a.data, Role::RaidImage);
                        }
                    }
                    SegmentKind::ThinPool { metadata, pool, .. } => {
                        add(metadata, Role::ThinPoolMeta);
                        add(pool, Role::ThinPoolData);
                    }
                    SegmentKind::Thin { thin_pool, origin, external_origin, .. } => {
                        add(thin_pool, Role::ThinPool);
                        if let Some(o) = origin {
                            add(o, Role::ThinOrigin);
                        }
                        if let Some(o) = external_origin {
                            add(o, Role::ExternalOrigin);
                        }
                    }
                    SegmentKind::CachePool { data, metadata, .. } => {
                        add(data, Role::CachePoolData);
                        add(metadata, Role::CachePoolMeta);
                    }
                    SegmentKind::Cache { cache_pool, origin, .. } => {
                        add(cache_pool, Role::CachePool);
                        add(origin, Role::CacheOrigin);
                    }
                    SegmentKind::Snapshot { origin, cow_store, .. } => {
                        add(origin, Role::SnapOrigin);
                        add(cow_store, Role::CowStore);
                    }
                    SegmentKind::Writecache { writecache, origin, .. } => {
                        add(writecache, Role::WritecacheVol);
                        add(origin, Role::WritecacheOrigin);
                    }
                    SegmentKind::Integrity { origin, meta_dev, .. } => {
                        add(origin, Role::IntegrityOrigin);
                        if let Some(m) = meta_dev {
                            add(m, Role::IntegrityMeta);
                        }
                    }
                    SegmentKind::Vdo { vdo_pool, .. } => add(vdo_pool, Role::VdoPool),
                    SegmentKind::VdoPool { data, .. } => add(data, Role::VdoPoolData),
                    SegmentKind::Error
                    | SegmentKind::Zero
                    | SegmentKind::Free
                    | SegmentKind::Unknown { .. } => {}
                }
            }
        }
        LvRoles { uses, by_name }
    }

    /// Index of an LV by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The references to LV `i`.
    pub fn uses(&self, i: usize) -> &[Use] {
        self.uses.get(i).map_or(&[], Vec::as_slice)
    }

    /// LV `i` is used in `role`.
    pub fn has(&self, i: usize, role: Role) -> bool {
        self.uses(i).iter().any(|u| u.role == role)
    }

    /// [`has`](Self::has) by name (`false` for an LV that does not exist).
    pub fn named_has(&self, name: &str, role: Role) -> bool {
        self.index(name).is_some_and(|i| self.has(i, role))
    }

    /// The first LV using LV `i` in one of `roles`.
    pub fn user_with(&self, i: usize, roles: &[Role]) -> Option<usize> {
        self.uses(i).iter().find(|u| roles.contains(&u.role)).map(|u| u.by)
    }

    /// The snapshot glue LV using LV `i` as its COW store (the last, should several).
    pub fn cow_of(&self, i: usize) -> Option<usize> {
        self.uses(i).iter().rev().find(|u| u.role == Role::CowStore).map(|u| u.by)
    }

    /// lvm2's `lv_is_visible` (see the module documentation).
    pub fn is_visible(&self, vg: &VolumeGroup, i: usize) -> bool {
        self.visible_depth(vg, i, 0)
    }

    fn visible_depth(&self, vg: &VolumeGroup, i: usize, depth: u32) -> bool {
        let lv = &vg.lvs[i];
        if is_glue(lv) {
            return false;
        }
        if let Some(g) = self.cow_of(i) {
            let glue = &vg.lvs[g];
            let snap = glue.segments.iter().find_map(|s| match &s.kind {
                SegmentKind::Snapshot { origin, merging, .. } => Some((origin.as_str(), *merging)),
                _ => None,
            });
            let Some((origin, merging)) = snap else { return lv.is_visible() };
            let Some(o) = self.index(origin) else { return lv.is_visible() };
            if matches!(vg.lvs[o].segments.first().map(|s| &s.kind), Some(SegmentKind::Zero)) {
                return true; // a virtual origin (`--virtualsize`)
            }
            if merging {
                return false;
            }
            return depth < 8 && self.visible_depth(vg, o, depth + 1);
        }
        lv.is_visible()
    }

    /// The suffix lvm2's `build_dm_uuid` gives LV `i`'s uuid when it is built without a
    /// layer: `real` for a cache or writecache origin, `cdata`/`cmeta` for cache pool data and
    /// metadata, `cvol` for a cachevol, `pool` for a thin or VDO pool, `tdata`/`tmeta` for
    /// thin pool data and metadata, `vdata` for VDO pool data — in that order of precedence.
    pub fn dm_uuid_suffix(&self, vg: &VolumeGroup, i: usize) -> Option<&'static str> {
        let lv = &vg.lvs[i];
        let has_kind = |f: fn(&SegmentKind) -> bool| lv.segments.iter().any(|s| f(&s.kind));
        if self.has(i, Role::CacheOrigin) || self.has(i, Role::WritecacheOrigin) {
            Some("real")
        } else if self.has(i, Role::CachePoolData) {
            Some("cdata")
        } else if self.has(i, Role::CachePoolMeta) {
            Some("cmeta")
        } else if lv.is_cachevol() {
            Some("cvol")
        } else if has_kind(|k| matches!(k, SegmentKind::ThinPool { .. })) {
            Some("pool")
        } else if self.has(i, Role::ThinPoolData) {
            Some("tdata")
        } else if self.has(i, Role::ThinPoolMeta) {
            Some("tmeta")
        } else if has_kind(|k| matches!(k, SegmentKind::VdoPool { .. })) {
            Some("pool")
        } else if self.has(i, Role::VdoPoolData) {
            Some("vdata")
        } else {
            None
        }
    }
}

/// A snapshot's glue LV (its segment is `snapshot`).
fn is_glue(lv: &LogicalVolume) -> bool {
    lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_metadata;

    fn lv(name: &str, visible: bool, flags: &str, body: &str) -> String {
        let id: String =
            name.chars().filter(char::is_ascii_alphanumeric).chain(std::iter::repeat('x')).take(32).collect();
        let status = if visible { "\"READ\", \"WRITE\", \"VISIBLE\"" } else { "\"READ\", \"WRITE\"" };
        format!(
            "{name} {{\nid = \"{id}\"\nstatus = [{status}]\nflags = [{flags}]\nsegment_count = 1\n\
             segment1 {{\nstart_extent = 0\nextent_count = 4\n{body}\n}}\n}}\n"
        )
    }

    fn linear(pe: u64) -> String {
        format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {pe}]")
    }

    fn vg(lvs: &str) -> VolumeGroup {
        let text = format!(
            "vg {{\nid = \"aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa\"\nseqno = 1\nstatus = [\"READ\", \"WRITE\"]\n\
             extent_size = 2048\nmax_lv = 0\nmax_pv = 0\nphysical_volumes {{\npv0 {{\n\
             id = \"bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb\"\nstatus = [\"ALLOCATABLE\"]\npe_start = 2048\n\
             pe_count = 1000\n}}\n}}\nlogical_volumes {{\n{lvs}}}\n}}\n"
        );
        parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}")).vg
    }

    fn snapshot(origin_visible: bool, store: &str, origin_kind: &str) -> VolumeGroup {
        vg(&(lv("o", origin_visible, "", origin_kind)
            + &lv("c", false, "", &linear(4))
            + &lv(
                "snapshot0",
                true,
                "",
                &format!("type = \"snapshot\"\nchunk_size = 16\norigin = \"o\"\n{store} = \"c\""),
            )))
    }

    #[test]
    fn a_cow_store_is_as_visible_as_lvm2_says() {
        // (origin visible, cow_store or merging_store, origin's segment) → COW visible.
        for (origin_visible, store, kind, want) in [
            (true, "cow_store", linear(8), true),
            (false, "cow_store", linear(8), false),
            (true, "merging_store", linear(8), false),
            (false, "cow_store", "type = \"zero\"".to_string(), true),
            (true, "merging_store", "type = \"zero\"".to_string(), true),
        ] {
            let v = snapshot(origin_visible, store, &kind);
            let r = LvRoles::of(&v);
            let c = r.index("c").unwrap();
            assert_eq!(r.is_visible(&v, c), want, "origin visible {origin_visible}, {store}, {kind}");
            assert_eq!(r.cow_of(c), r.index("snapshot0"));
            assert!(!r.is_visible(&v, r.index("snapshot0").unwrap()), "glue LVs never");
            assert_eq!(r.is_visible(&v, r.index("o").unwrap()), origin_visible);
        }
    }

    #[test]
    fn dm_uuid_suffixes_follow_build_dm_uuid() {
        let v = vg(&(lv(
            "pool",
            true,
            "",
            "type = \"thin-pool\"\nmetadata = \"pool_tmeta\"\npool = \"pool_tdata\"\ntransaction_id = 0\nchunk_size = 128",
        ) + &lv("pool_tmeta", false, "", &linear(20))
            + &lv(
                "pool_tdata",
                false,
                "",
                "type = \"cache\"\ncache_pool = \"cp\"\norigin = \"pool_tdata_corig\"",
            )
            + &lv("pool_tdata_corig", false, "", &linear(24))
            + &lv(
                "cp",
                false,
                "",
                "type = \"cache-pool\"\ndata = \"cp_cdata\"\nmetadata = \"cp_cmeta\"\nchunk_size = 128",
            )
            + &lv("cp_cdata", false, "", &linear(28))
            + &lv("cp_cmeta", false, "", &linear(32))
            + &lv("cv", false, "\"CACHE_VOL\"", &linear(36))
            + &lv("plain", true, "", &linear(40))));
        let r = LvRoles::of(&v);
        let suffix = |n: &str| r.dm_uuid_suffix(&v, r.index(n).unwrap());
        assert_eq!(suffix("pool"), Some("pool"));
        assert_eq!(suffix("pool_tmeta"), Some("tmeta"));
        // A cached thin pool data LV: `tdata` itself; the LV under its cache is the cache
        // origin (`real`, which build_dm_uuid asks first).
        assert_eq!(suffix("pool_tdata"), Some("tdata"));
        assert_eq!(suffix("pool_tdata_corig"), Some("real"));
        assert_eq!(suffix("cp_cdata"), Some("cdata"));
        assert_eq!(suffix("cp_cmeta"), Some("cmeta"));
        assert_eq!(suffix("cv"), Some("cvol"));
        assert_eq!(suffix("cp"), None);
        assert_eq!(suffix("plain"), None);
        assert!(r.named_has("cp", Role::CachePool) && !r.named_has("nosuch", Role::CachePool));
    }
}
