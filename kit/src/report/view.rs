//! One VG seen the way lvm2's reporting code sees it: the in-memory LV status flags lvm2 derives
//! while importing (mirror image, raid metadata, pool data, COW, origin, …) recomputed from who
//! references whom, plus per-PV allocation and metadata-area figures.

use std::collections::HashMap;

use lvmkit_metadata::assemble::AssembledVg;
use lvmkit_metadata::model::{LogicalVolume, Segment, SegmentKind, VolumeGroup};
use lvmkit_metadata::scan::{PvScan, Scan};

pub(crate) use lvmkit_metadata::model::roles::{LvRoles, Role, Use};

/// A run of PEs of one PV: allocated to an LV segment or free.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PvSeg {
    /// First PE.
    pub start: u64,
    /// Length in PEs.
    pub len: u64,
    /// `(lv, segment)` using it, `None` when free.
    pub owner: Option<(usize, usize)>,
}

/// Per-PV metadata area figures, as lvm2's pv_mda_* fields compute them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MdaStats {
    /// Areas in the label.
    pub count: u64,
    /// Areas not marked ignored.
    pub used: u64,
    /// Smallest area, bytes.
    pub min_size: u64,
    /// Smallest free space over all areas, bytes (an ignored area counts as 0).
    pub min_free: u64,
    /// Smallest area among the used ones, bytes.
    pub used_min_size: Option<u64>,
    /// Smallest free space among the used ones, bytes.
    pub used_min_free: Option<u64>,
}

/// Free space lvm2 reports for one metadata area: half of what is left after the current
/// text, less a sector of slack, rounded down to sectors
/// (`((mda_size - 512 - 2 × (text_size + 512)) / 2) >> 9`, 0 when that is negative).
/// Checked against every case in test-images (e.g. 1044480-byte area, 1599-byte text → 519680).
pub(crate) fn mda_free_bytes(mda_size: u64, text_size: u64) -> u64 {
    let buffer = mda_size.saturating_sub(512);
    let usage = 2 * (text_size + 512);
    if usage >= buffer { 0 } else { ((buffer - usage) / 2) >> 9 << 9 }
}

/// Metadata-area figures of a scanned PV.
pub(crate) fn mda_stats(pv: &PvScan) -> MdaStats {
    let mut st = MdaStats { count: pv.mdas.len() as u64, ..MdaStats::default() };
    let mut min_size: Option<u64> = None;
    let mut min_free: Option<u64> = None;
    for m in &pv.mdas {
        let size = m.locn.size;
        min_size = Some(min_size.map_or(size, |s| s.min(size)));
        let free = match &m.header {
            Ok(h) if !m.ignored() => mda_free_bytes(h.size, h.committed.size),
            _ => 0,
        };
        min_free = Some(min_free.map_or(free, |s| s.min(free)));
        if !m.ignored() {
            st.used += 1;
            st.used_min_size = Some(st.used_min_size.map_or(size, |s| s.min(size)));
            st.used_min_free = Some(st.used_min_free.map_or(free, |s| s.min(free)));
        }
    }
    st.min_size = min_size.unwrap_or(0);
    st.min_free = min_free.unwrap_or(0);
    st
}

/// Derived facts about one LV.
#[derive(Clone, Debug, Default)]
pub(crate) struct LvInfo {
    /// Every reference to this LV from a segment of another.
    pub uses: Vec<Use>,
    /// This LV is a `snapshotN` glue LV (its segment is `snapshot`); never listed.
    pub glue: bool,
    /// Glue LVs naming this LV as their COW store.
    pub cow_of: Option<usize>,
    /// Glue LVs naming this LV as their origin.
    pub origin_of: Vec<usize>,
    /// Thin LVs naming this LV as their thin origin.
    pub thin_snapshots: usize,
    /// Thin LVs naming this LV as their external origin.
    pub external_users: usize,
    /// lvm2's pool metadata spare (hidden, name containing `_pmspare`).
    pub pmspare: bool,
    /// Maps (directly or through sub-LVs) onto a missing PV.
    pub partial: bool,
}

/// A VG with the derived facts the reports need.
pub(crate) struct VgView<'a> {
    /// The assembled VG.
    pub asm: &'a AssembledVg,
    /// Its metadata.
    pub vg: &'a VolumeGroup,
    /// The scan the PVs are in.
    pub scan: &'a Scan,
    /// Per-LV facts, parallel to `vg.lvs`.
    pub lvs: Vec<LvInfo>,
    /// PEs allocated per PV, parallel to `vg.pvs`.
    pub pv_alloc: Vec<u64>,
    by_name: HashMap<&'a str, usize>,
    /// Who uses whom (shared with the planner).
    roles: LvRoles,
    /// What device-mapper has (`None`: no kernel, lvm2's no-activation values).
    pub kernel: Option<&'a lvmkit_activation::live::Kernel>,
    /// The report shows, sorts or selects a field that needs a segment's status (lvm2's
    /// LVSSTATUS/LVSINFOSTATUS): kernel values come from `lv_info_with_seg_status`; otherwise
    /// from the plain `lv_info` of the LV's own device.
    pub kernel_status: bool,
}

impl<'a> VgView<'a> {
    /// Derive everything from the VG's metadata.
    pub fn new(asm: &'a AssembledVg, scan: &'a Scan) -> VgView<'a> {
        let vg = &asm.metadata.vg;
        let by_name: HashMap<&str, usize> =
            vg.lvs.iter().enumerate().map(|(i, l)| (l.name.as_str(), i)).collect();
        let mut lvs: Vec<LvInfo> = vec![LvInfo::default(); vg.lvs.len()];
        let roles = LvRoles::of(vg);
        for (i, lv) in vg.lvs.iter().enumerate() {
            lvs[i].pmspare = !lv.is_visible() && lv.name.contains("_pmspare");
            lvs[i].uses = roles.uses(i).to_vec();
        }
        for (info, lv) in lvs.iter_mut().zip(&vg.lvs) {
            for u in info.uses.clone() {
                match u.role {
                    Role::CowStore => info.cow_of = Some(u.by),
                    Role::SnapOrigin => info.origin_of.push(u.by),
                    Role::ThinOrigin => info.thin_snapshots += 1,
                    Role::ExternalOrigin => info.external_users += 1,
                    _ => {}
                }
            }
            info.glue = lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }));
        }
        let pv_alloc = (0..vg.pvs.len()).map(|p| vg.pv_allocated(p)).collect();
        let mut view =
            VgView { asm, vg, scan, lvs, pv_alloc, by_name, roles, kernel: None, kernel_status: true };
        // Nothing can be partial when every PV is there (the usual case): skip the walk.
        if (0..view.vg.pvs.len()).any(|p| view.pv_missing(p)) {
            let mut state = vec![0u8; view.vg.lvs.len()];
            for i in 0..view.vg.lvs.len() {
                view.mark_partial(i, &mut state);
            }
        }
        view
    }

    /// The uuid suffix lvm2 gives the device of LV `i` when no layer is asked for
    /// (`build_dm_uuid`: `real`, `cdata`, `cmeta`, `cvol`, `pool`, `tdata`, `tmeta`, `vdata`).
    pub fn dm_uuid_suffix(&self, i: usize) -> Option<&'static str> {
        self.roles.dm_uuid_suffix(self.vg, i)
    }

    /// The same view reading kernel values from `kernel` (with segment status when `status`:
    /// see [`VgView::kernel_status`]).
    pub fn with_kernel(
        mut self,
        kernel: Option<&'a lvmkit_activation::live::Kernel>,
        status: bool,
    ) -> VgView<'a> {
        self.kernel = kernel;
        self.kernel_status = status;
        self
    }

    /// lvm2's `_lv_mark_if_partial`: a missing PV under any area, or a partial dependency.
    fn mark_partial(&mut self, i: usize, state: &mut [u8]) -> bool {
        match state[i] {
            1 => return false, // a cycle in broken metadata: stop
            2 => return self.lvs[i].partial,
            _ => {}
        }
        state[i] = 1;
        let vg = self.vg;
        let lv = &vg.lvs[i];
        let mut partial = lv.segments.iter().flat_map(|s| s.pv_extents()).any(|(p, _, _)| self.pv_missing(p));
        let mut deps: Vec<usize> = Vec::new();
        for s in &lv.segments {
            let refs = s.lv_refs();
            // A thin snapshot's origin is not a dependency in lvm2's sense.
            let skip: Vec<&str> = match &s.kind {
                SegmentKind::Thin { origin, merge, .. } => {
                    origin.iter().chain(merge.iter()).map(String::as_str).collect()
                }
                _ => vec![],
            };
            deps.extend(refs.into_iter().filter(|r| !skip.contains(r)).filter_map(|r| self.lv_index(r)));
        }
        if let Some(g) = self.lvs[i].cow_of {
            deps.extend(self.snapshot_origin(g));
        }
        for d in deps {
            partial |= self.mark_partial(d, state);
        }
        self.lvs[i].partial = partial;
        state[i] = 2;
        partial
    }

    /// Index of an LV by name.
    pub fn lv_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The LV at `i`.
    pub fn lv(&self, i: usize) -> &'a LogicalVolume {
        &self.vg.lvs[i]
    }

    /// The first segment of an LV.
    pub fn first_seg(&self, i: usize) -> Option<&'a Segment> {
        self.vg.lvs[i].segments.first()
    }

    fn first_kind(&self, i: usize) -> Option<&'a SegmentKind> {
        self.first_seg(i).map(|s| &s.kind)
    }

    /// The PV at `p` has no device or is flagged missing.
    pub fn pv_missing(&self, p: usize) -> bool {
        self.asm.pv_devices.get(p).is_none_or(Option::is_none)
            || self.vg.pvs.get(p).is_some_and(|pv| {
                pv.status.has("MISSING") || pv.flags.as_ref().is_some_and(|f| f.has("MISSING"))
            })
    }

    /// Scan entry of the PV at `p`, when present.
    pub fn pv_scan(&self, p: usize) -> Option<&'a PvScan> {
        self.asm.pv_devices.get(p).copied().flatten().map(|i| &self.scan.pvs[i])
    }

    /// Device name of the PV at `p`, `[unknown]` when missing (as lvm2 prints it).
    pub fn pv_name(&self, p: usize) -> String {
        self.pv_scan(p).map_or_else(|| "[unknown]".to_string(), |s| s.name().to_string())
    }

    /// Extent size in bytes.
    pub fn extent_bytes(&self) -> u64 {
        self.vg.extent_size * 512
    }

    fn has_role(&self, i: usize, role: Role) -> bool {
        self.lvs[i].uses.iter().any(|u| u.role == role)
    }

    fn user_with(&self, i: usize, roles: &[Role]) -> Option<usize> {
        self.lvs[i].uses.iter().find(|u| roles.contains(&u.role)).map(|u| u.by)
    }

    /// lvm2's `lv_is_visible` ([`LvRoles::is_visible`]): glue LVs never, COW stores as their
    /// origin (hidden while merging), others by their flag.
    pub fn is_visible(&self, i: usize) -> bool {
        self.roles.is_visible(self.vg, i)
    }

    /// Name as lvm2 shows a related LV: in brackets when hidden.
    pub fn display_name(&self, i: usize) -> String {
        let n = &self.vg.lvs[i].name;
        if self.is_visible(i) { n.clone() } else { format!("[{n}]") }
    }

    /// Display name of an LV given by name (plain name if it does not exist).
    pub fn display_name_of(&self, name: &str) -> String {
        self.lv_index(name).map_or_else(|| name.to_string(), |i| self.display_name(i))
    }

    /// Origin LV of a snapshot glue LV.
    pub fn snapshot_origin(&self, glue: usize) -> Option<usize> {
        self.vg.lvs[glue].segments.iter().find_map(|s| match &s.kind {
            SegmentKind::Snapshot { origin, .. } => self.lv_index(origin),
            _ => None,
        })
    }

    /// The snapshot segment of a glue LV.
    pub fn glue_segment(&self, glue: usize) -> Option<&'a Segment> {
        self.vg.lvs[glue].segments.iter().find(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
    }

    fn glue_merging(&self, glue: usize) -> bool {
        matches!(self.glue_segment(glue).map(|s| &s.kind), Some(SegmentKind::Snapshot { merging: true, .. }))
    }

    /// `lv_is_cow`.
    pub fn is_cow(&self, i: usize) -> bool {
        self.lvs[i].cow_of.is_some()
    }
    /// `lv_is_merging_cow`.
    pub fn is_merging_cow(&self, i: usize) -> bool {
        self.lvs[i].cow_of.is_some_and(|g| self.glue_merging(g))
    }
    /// `lv_is_origin`: has old-style snapshots.
    pub fn is_origin(&self, i: usize) -> bool {
        !self.lvs[i].origin_of.is_empty()
    }
    /// `lv_is_merging_origin`: an old-style origin whose snapshot merges, or a thin LV that a
    /// thin snapshot's `merge = "<this LV>"` names.
    pub fn is_merging_origin(&self, i: usize) -> bool {
        self.lvs[i].origin_of.iter().any(|&g| self.glue_merging(g))
            || self.lvs[i].uses.iter().any(|u| {
                matches!(&self.vg.lvs[u.by].segments[u.seg].kind,
                    SegmentKind::Thin { merge: Some(m), .. } if *m == self.vg.lvs[i].name)
            })
    }
    /// A thin snapshot being merged into its origin: its own segment carries `merge = "<origin>"`.
    pub fn is_merging_thin_snapshot(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Thin { merge: Some(_), .. }))
    }
    /// `lv_is_pvmove`.
    pub fn is_pvmove(&self, i: usize) -> bool {
        self.vg.lvs[i].status.has("PVMOVE")
    }
    /// `lv_is_locked` (held by pvmove).
    pub fn is_locked(&self, i: usize) -> bool {
        self.vg.lvs[i].status.has("LOCKED")
    }
    /// Mirror segment type (not pvmove).
    pub fn is_mirror(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Mirror { .. })) && !self.is_pvmove(i)
    }
    /// `lv_is_mirror_image`.
    pub fn is_mirror_image(&self, i: usize) -> bool {
        self.has_role(i, Role::MirrorImage)
    }
    /// `lv_is_mirror_log`.
    pub fn is_mirror_log(&self, i: usize) -> bool {
        self.has_role(i, Role::MirrorLog)
    }
    /// `lv_is_mirror_type`.
    pub fn is_mirror_type(&self, i: usize) -> bool {
        self.is_mirror(i) || self.is_mirror_image(i) || self.is_mirror_log(i)
    }
    /// Top-level RAID LV.
    pub fn is_raid(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Raid { .. }))
    }
    /// `lv_is_raid_image`.
    pub fn is_raid_image(&self, i: usize) -> bool {
        self.has_role(i, Role::RaidImage)
    }
    /// `lv_is_raid_metadata`.
    pub fn is_raid_meta(&self, i: usize) -> bool {
        self.has_role(i, Role::RaidMeta)
    }
    /// `lv_is_raid_type`.
    pub fn is_raid_type(&self, i: usize) -> bool {
        self.is_raid(i) || self.is_raid_image(i) || self.is_raid_meta(i)
    }
    /// `lv_is_thin_pool`.
    pub fn is_thin_pool(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::ThinPool { .. }))
    }
    /// `lv_is_thin_volume`.
    pub fn is_thin_volume(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Thin { .. }))
    }
    /// `lv_is_thin_pool_data`.
    pub fn is_thin_pool_data(&self, i: usize) -> bool {
        self.has_role(i, Role::ThinPoolData)
    }
    /// `lv_is_thin_pool_metadata`.
    pub fn is_thin_pool_meta(&self, i: usize) -> bool {
        self.has_role(i, Role::ThinPoolMeta)
    }
    /// `lv_is_thin_type`.
    pub fn is_thin_type(&self, i: usize) -> bool {
        self.is_thin_pool(i)
            || self.is_thin_volume(i)
            || self.is_thin_pool_data(i)
            || self.is_thin_pool_meta(i)
    }
    /// Thin LV that is the origin of thin snapshots: the count.
    pub fn thin_snapshot_count(&self, i: usize) -> usize {
        self.lvs[i].thin_snapshots
    }
    /// `lv_is_external_origin`.
    pub fn is_external_origin(&self, i: usize) -> bool {
        self.lvs[i].external_users > 0
    }
    /// `lv_is_cache_pool`.
    pub fn is_cache_pool(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::CachePool { .. }))
    }
    /// `lv_is_cache` (a cached LV).
    pub fn is_cache(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Cache { .. }))
    }
    /// `lv_is_cache_pool_data`.
    pub fn is_cache_pool_data(&self, i: usize) -> bool {
        self.has_role(i, Role::CachePoolData)
    }
    /// `lv_is_cache_pool_metadata`.
    pub fn is_cache_pool_meta(&self, i: usize) -> bool {
        self.has_role(i, Role::CachePoolMeta)
    }
    /// `lv_is_cache_origin`.
    pub fn is_cache_origin(&self, i: usize) -> bool {
        self.has_role(i, Role::CacheOrigin)
    }
    /// `lv_is_cache_vol` (a cachevol rather than a cache pool).
    pub fn is_cache_vol(&self, i: usize) -> bool {
        self.vg.lvs[i].is_cachevol()
    }
    /// `lv_is_cache_type`.
    pub fn is_cache_type(&self, i: usize) -> bool {
        self.is_cache(i)
            || self.is_cache_pool(i)
            || self.is_cache_pool_data(i)
            || self.is_cache_pool_meta(i)
            || self.is_cache_vol(i)
    }
    /// A cachevol attached to a writecache LV.
    pub fn is_writecache_vol(&self, i: usize) -> bool {
        self.has_role(i, Role::WritecacheVol)
    }
    /// `lv_is_writecache`.
    pub fn is_writecache(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Writecache { .. }))
    }
    /// `lv_is_writecache_origin`.
    pub fn is_writecache_origin(&self, i: usize) -> bool {
        self.has_role(i, Role::WritecacheOrigin)
    }
    /// `lv_is_integrity`.
    pub fn is_integrity(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Integrity { .. }))
    }
    /// `lv_is_integrity_origin`.
    pub fn is_integrity_origin(&self, i: usize) -> bool {
        self.has_role(i, Role::IntegrityOrigin)
    }
    /// `lv_is_integrity_metadata`.
    pub fn is_integrity_meta(&self, i: usize) -> bool {
        self.has_role(i, Role::IntegrityMeta)
    }
    /// `lv_is_vdo` (a virtual LV on a vdo pool).
    pub fn is_vdo(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::Vdo { .. }))
    }
    /// `lv_is_vdo_pool`.
    pub fn is_vdo_pool(&self, i: usize) -> bool {
        matches!(self.first_kind(i), Some(SegmentKind::VdoPool { .. }))
    }
    /// `lv_is_vdo_pool_data`.
    pub fn is_vdo_pool_data(&self, i: usize) -> bool {
        self.has_role(i, Role::VdoPoolData)
    }
    /// `lv_is_vdo_type`.
    pub fn is_vdo_type(&self, i: usize) -> bool {
        self.is_vdo(i) || self.is_vdo_pool(i) || self.is_vdo_pool_data(i)
    }
    /// `lv_is_virtual`: the `VIRTUAL` status lvm2 gives an LV whose segment type is virtual
    /// (`SEG_VIRTUAL`: `zero`, `error`, `thin`, `vdo`).
    pub fn is_virtual(&self, i: usize) -> bool {
        matches!(
            self.first_kind(i),
            Some(SegmentKind::Zero | SegmentKind::Error | SegmentKind::Thin { .. } | SegmentKind::Vdo { .. })
        )
    }
    /// `lv_has_unknown_segments`: a segment of a type lvm2 does not know.
    pub fn has_unknown_segments(&self, i: usize) -> bool {
        self.lv(i).segments.iter().any(|s| matches!(s.kind, SegmentKind::Unknown { .. }))
    }
    /// `lv_is_pool_metadata_spare`.
    pub fn is_pmspare(&self, i: usize) -> bool {
        self.lvs[i].pmspare
    }

    /// lvm2's `lv_parent`: the LV a hidden mirror, raid, cache-pool or thin-pool component
    /// belongs to (not vdo-pool data, integrity metadata or origins: lvm2 leaves those out).
    pub fn parent(&self, i: usize) -> Option<usize> {
        if self.is_visible(i) {
            return None;
        }
        self.user_with(
            i,
            &[
                Role::MirrorImage,
                Role::MirrorLog,
                Role::RaidImage,
                Role::RaidMeta,
                Role::CachePoolData,
                Role::CachePoolMeta,
                Role::ThinPoolData,
                Role::ThinPoolMeta,
            ],
        )
    }

    /// LVs listed by `lvs` (`all`: hidden ones too); glue LVs never.
    pub fn listed(&self, i: usize, all: bool) -> bool {
        !self.lvs[i].glue && (all || self.is_visible(i))
    }

    /// LV indexes in lvm2's in-memory order, which reports keep when their sort keys tie (e.g.
    /// `vgs -o lv_name`): reading the metadata moves every thin pool to the front of the list,
    /// so thin pools come first in reverse text order, then the other LVs in text order.
    pub fn lvm2_order(&self) -> Vec<usize> {
        let n = self.vg.lvs.len();
        let mut order: Vec<usize> = (0..n).rev().filter(|&i| self.is_thin_pool(i)).collect();
        order.extend((0..n).filter(|&i| !self.is_thin_pool(i)));
        order
    }

    /// lvm2's `lv_count`: visible LVs (COW snapshots included).
    pub fn visible_count(&self) -> usize {
        (0..self.vg.lvs.len()).filter(|&i| self.is_visible(i)).count()
    }

    /// lvm2's `snap_count`: COW snapshots.
    pub fn snapshot_count(&self) -> usize {
        (0..self.vg.lvs.len()).filter(|&i| self.is_cow(i)).count()
    }

    /// Missing PVs.
    pub fn missing_count(&self) -> usize {
        (0..self.vg.pvs.len()).filter(|&p| self.pv_missing(p)).count()
    }

    /// Allocated and free runs of PV `p`, in PE order.
    pub fn pv_segments(&self, p: usize) -> Vec<PvSeg> {
        let mut used: Vec<PvSeg> = Vec::new();
        for (li, lv) in self.vg.lvs.iter().enumerate() {
            for (si, s) in lv.segments.iter().enumerate() {
                for (pi, start, len) in s.pv_extents() {
                    if pi == p && len > 0 {
                        used.push(PvSeg { start, len, owner: Some((li, si)) });
                    }
                }
            }
        }
        used.sort_by_key(|s| s.start);
        let count = self.vg.pvs[p].pe_count;
        let mut out = Vec::new();
        let mut at = 0;
        for s in used {
            if s.start > at {
                out.push(PvSeg { start: at, len: s.start - at, owner: None });
            }
            at = at.max(s.start + s.len);
            out.push(s);
        }
        if at < count || out.is_empty() {
            out.push(PvSeg { start: at, len: count.saturating_sub(at), owner: None });
        }
        out
    }

    /// Metadata-area figures summed over the VG's present PVs: (count, used, min size of used,
    /// min free of used).
    pub fn vg_mda(&self) -> (u64, u64, u64, u64) {
        let (mut count, mut used) = (0, 0);
        let (mut size, mut free): (Option<u64>, Option<u64>) = (None, None);
        for p in 0..self.vg.pvs.len() {
            let Some(pv) = self.pv_scan(p) else { continue };
            let st = mda_stats(pv);
            count += st.count;
            used += st.used;
            if let Some(s) = st.used_min_size {
                size = Some(size.map_or(s, |x| x.min(s)));
            }
            if let Some(f) = st.used_min_free {
                free = Some(free.map_or(f, |x| x.min(f)));
            }
        }
        (count, used, size.unwrap_or(0), free.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mda_free_matches_lvm2() {
        // (mda size, text size, lvm2's pv_mda_free) from test-images.
        for (mda, text, want) in [
            (1044480, 1599, 519680),
            (1044480, 0, 521216),
            (1044480, 1809, 519168),
            (1044480, 5234, 516096),
            (1044480, 282971, 238080),
            (1044480, 7784, 513536),
            (61440, 2420, 27136),
            (1044480, 3558, 517632),
        ] {
            assert_eq!(mda_free_bytes(mda, text), want, "mda {mda} text {text}");
        }
        assert_eq!(mda_free_bytes(4096, 4000), 0);
    }
}
