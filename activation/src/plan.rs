//! The pure half of activation: from a VG's metadata and where its PVs are, the device-mapper
//! devices lvm2 would create, in dependency order (children first), with their tables.
//!
//! Nothing here does I/O. Devices a table refers to that do not exist yet are
//! [`DevRef::Pending`] labels carrying the dm name of a device planned earlier in the same plan;
//! the apply step resolves them to `major:minor` as it creates the devices. PV references are
//! whatever the caller passes for each PV (a number, or a label of its own).
//!
//! The stacks follow lvm2 2.03.16's `dev_manager.c` (`_add_new_lv_to_dtree`,
//! `_add_segment_to_dtree`, `add_areas_line`) and the table lines its `libdm-deptree.c`
//! (spec §7.4 and §8):
//!
//! | LV | devices, children first |
//! |---|---|
//! | linear / striped / error / zero | `vg-lv` |
//! | COW origin with snapshots | `vg-lv-real` (its segments), each snapshot (`vg-snap-cow`, `vg-snap`), then `vg-lv` (`snapshot-origin`) |
//! | used thin pool | `vg-pool_tmeta`, `vg-pool_tdata`, `vg-pool-tpool` (`thin-pool`, uuid `-tpool`), `vg-pool` (read-only `linear` over `-tpool`, uuid `-pool`) |
//! | new thin pool (`transaction_id` 0) | `vg-pool_tmeta`, `vg-pool_tdata`, `vg-pool` (`thin-pool`, uuid `-tpool`) |
//! | thin LV | the pool's `-tpool` stack, `vg-thin` (`thin`) |
//! | raid | `vg-lv_rmeta_N`, `vg-lv_rimage_N` (in table order), `vg-lv` (`raid`) |
//! | mirror | `vg-lv_mlog`, `vg-lv_mimage_N`, `vg-lv` (`mirror`) |
//! | cache (cache pool) | `vg-pool_cdata` (`-cdata`), `vg-pool_cmeta` (`-cmeta`), `vg-lv_corig` (`-real`), `vg-lv` (`cache`) |
//! | LV being moved (`pvmove`) | `vg-pvmove0` (done segments `linear` to the destination, the first one not done a core-log `mirror`, later ones `linear` to the source), every LV on it, `vg-lv` |
//! | sparse snapshot | `vg-lvolN_vorigin-real` (`zero`), the snapshot (`-cow`, `snapshot`), `vg-lvolN_vorigin` (`snapshot-origin`) |
//!
//! lvm2 version choices (2.03.16, Debian 12, which the VM tests compare against): raid and
//! mirror sub-LVs get **no** uuid suffix (2.03.36 added `-real` for hidden raid sub-LVs); the
//! raid option order is the kernel's (target ≥ 1.11).

use std::collections::{HashMap, HashSet};
use std::fmt;

use lvmkit_dm::target::{
    Cache, CacheFeatures, CacheMode, ErrorTarget, Integrity, IntegrityArg, Linear, Mirror, MirrorFeatures,
    MirrorLeg, MirrorLog, MirrorLogKind, PoolMessage, Raid, RaidDevice, RaidType, Snapshot, SnapshotMerge,
    SnapshotOrigin, SnapshotStore, Stripe, Striped, Thin, ThinPool, ThinPoolFeatures, Writecache,
    WritecacheOptions, Zero,
};
use lvmkit_dm::{DevNum, DevRef, DmName, DmUuid, Sectors, Table, Target};
use lvmkit_metadata::assemble::AssembledVg;
use lvmkit_metadata::model::roles::{LvRoles, Role};
use lvmkit_metadata::model::{
    Area, AreaTarget, LogicalVolume, Segment, SegmentKind, ThinMessage, VolumeGroup,
};
use lvmkit_metadata::text::{Node, Scalar, Value};

use crate::error::{Error, MissingPvDetail, Result};
use crate::names;

/// What to do when an LV lies (partly) on a missing PV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ActivationMode {
    /// Refuse ([`Error::MissingPv`]). (lvm2's `complete`; lvm2's default is `degraded`.)
    #[default]
    Complete,
    /// Like lvm2's `degraded`: a raid LV activated directly may have images on missing PVs, as
    /// long as enough remain; those pieces become `error` devices. Everything else is refused.
    Degraded,
    /// Like lvm2's `partial`: every missing area becomes an `error` device named
    /// `<vg>-<lv>-missing_<segment>_<area>`; only thin pools are still refused.
    Partial,
}

/// What to plan and how.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// LVs to activate. `None`: every visible LV, as `vgchange -ay` does. Naming a COW snapshot
    /// activates its origin with all its snapshots (lvm2 does the same).
    pub lvs: Option<Vec<String>>,
    /// Missing-PV handling.
    pub mode: ActivationMode,
    /// This host's system ID (`None`: the host has none).
    pub host_system_id: Option<String>,
    /// Plan a VG whose system ID is set and differs from the host's.
    pub allow_foreign: bool,
    /// Plan an exported VG.
    pub allow_exported: bool,
    /// Also activate LVs flagged `ACTIVATION_SKIP` (`-K`).
    pub ignore_activation_skip: bool,
    /// Load every device read-only that lvm2 would otherwise load writable, except COW layers
    /// and raid sub-LVs (`lvchange -p r` style activation).
    pub read_only: bool,
    /// `activation/thin_pool_autoextend_threshold` (percent; 100 = off): sets the pool's low
    /// water mark.
    pub thin_pool_autoextend_threshold: u32,
    /// Append `1 handle_errors` to mirror tables, as lvm2 does with its default
    /// (`activation/monitoring = 1`) settings.
    pub mirror_handle_errors: bool,
    /// Plan a VG whose PVs appear on duplicate devices ([`plan_assembled`] refuses otherwise;
    /// lvm2's `devices/allow_changes_with_duplicate_pvs`). For looking at a VG's devices,
    /// never for activating it.
    pub allow_duplicates: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            lvs: None,
            mode: ActivationMode::Complete,
            host_system_id: None,
            allow_foreign: false,
            allow_exported: false,
            ignore_activation_skip: false,
            read_only: false,
            thin_pool_autoextend_threshold: 100,
            mirror_handle_errors: true,
            allow_duplicates: false,
        }
    }
}

/// A requested device number (`FIXED_MINOR` LVs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersistentDevNum {
    /// Major from the metadata; `None` (metadata says 0) means device-mapper's own major.
    pub major: Option<u32>,
    /// Minor.
    pub minor: u32,
}

/// Messages to send to a thin pool after it is loaded, when its kernel transaction id is still
/// `from_transaction_id` (then `set_transaction_id from to` goes last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolMessages {
    /// Transaction id the kernel pool should have before the messages.
    pub from_transaction_id: u64,
    /// Transaction id after them (the metadata's).
    pub to_transaction_id: u64,
    /// The messages, in metadata order, ending with `set_transaction_id`.
    pub messages: Vec<PoolMessage>,
}

/// One device to create (or find already active, by uuid) and load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedDevice {
    /// dm name.
    pub name: DmName,
    /// dm uuid (the identity lvm2 matches on).
    pub uuid: DmUuid,
    /// Load the table read-only.
    pub read_only: bool,
    /// The table; references to earlier devices are `<name>` labels.
    pub table: Table,
    /// Devices of this plan the table refers to (all earlier in the plan), in table order.
    pub children: Vec<DmName>,
    /// The LV this device belongs to.
    pub lv: String,
    /// The layer in the name (`real`, `cow`, `tpool`, `missing_0_1`), if any.
    pub layer: Option<String>,
    /// Gets `/dev/<vg>/<lv>` (a visible LV's top device; not a used thin pool's).
    pub public: bool,
    /// Device number to request, if the LV has a persistent one.
    pub persistent: Option<PersistentDevNum>,
    /// Thin-pool messages to deliver after loading.
    pub messages: Option<PoolMessages>,
    /// Read-ahead to set once the device is resumed (lvm2's `dm_tree_node_set_read_ahead`).
    pub read_ahead: ReadAhead,
    /// Later devices of this plan to create right after this one, still without a table (they
    /// are loaded and resumed at their own place): creation order decides the device numbers,
    /// and lvm2 creates a snapshot origin's top device after its `-real` layer but before its
    /// snapshots, while resuming it after them.
    pub create_early: Vec<DmName>,
}

/// A device's read-ahead, in sectors, as lvm2 asks libdevmapper for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReadAhead {
    /// Leave the kernel's value (auto, and no PV to take a minimum from).
    #[default]
    Auto,
    /// Raise to at least this (`DM_READ_AHEAD_MINIMUM_FLAG`): auto on a striped or raid LV,
    /// twice the widest full stripe (`stripe_size × areas`, "see the comment in md/raid0.c").
    AtLeast(u32),
    /// Raise to at least the largest read-ahead of these PVs (auto with nothing striped:
    /// lvm2's `lv_calculate_readahead`, the first PV area of the LV and of every LV under it).
    /// Read from the PVs when applied: the plan itself does no I/O.
    AtLeastPvs(Vec<DevNum>),
    /// Exactly this: the LV's `read_ahead` from the metadata (`-1` = none = 0).
    Exactly(u32),
}

/// lvm2's `_add_new_lv_to_dtree` rule for a device of `lv` whose table is built from the LV's
/// own segments (`from_segments`; a snapshot origin's, COW's or used pool's top device is not).
fn read_ahead(lv: &LogicalVolume, from_segments: bool) -> ReadAhead {
    match lv.read_ahead {
        Some(-1) => ReadAhead::Exactly(0),
        Some(n) if n > 0 => ReadAhead::Exactly(u32::try_from(n).unwrap_or(u32::MAX)),
        _ => {
            let widest = if from_segments {
                lv.segments
                    .iter()
                    .map(|seg| match &seg.kind {
                        SegmentKind::Striped { stripe_size, areas } => {
                            stripe_size.unwrap_or(0) * areas.len() as u64
                        }
                        SegmentKind::Raid { stripe_size, areas, .. } => {
                            stripe_size.unwrap_or(0) * areas.len() as u64
                        }
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0)
            } else {
                0
            };
            match u32::try_from(widest * 2) {
                Ok(0) => ReadAhead::Auto,
                Ok(n) => ReadAhead::AtLeast(n),
                Err(_) => ReadAhead::AtLeast(u32::MAX),
            }
        }
    }
}

/// Why a selected LV is not in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Flagged `ACTIVATION_SKIP` (thin snapshots by default).
    ActivationSkip,
    /// A cache pool not attached to any LV has nothing to activate.
    UnusedCachePool,
}

/// A selected LV left out of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLv {
    /// LV.
    pub lv: String,
    /// Why.
    pub reason: SkipReason,
}

/// The devices to activate one VG's LVs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// VG name.
    pub vg: String,
    /// Devices in creation order: every device after all devices it refers to.
    pub devices: Vec<PlannedDevice>,
    /// Selected LVs not planned, and why.
    pub skipped: Vec<SkippedLv>,
}

impl Plan {
    /// A device by dm name.
    pub fn device(&self, name: &str) -> Option<&PlannedDevice> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// Per device, the plan indexes of the devices its table uses (`children`, all earlier).
    pub fn child_indexes(&self) -> Vec<Vec<usize>> {
        let index: HashMap<&str, usize> =
            self.devices.iter().enumerate().map(|(i, d)| (d.name.as_str(), i)).collect();
        self.devices
            .iter()
            .map(|d| d.children.iter().filter_map(|c| index.get(c.as_str()).copied()).collect())
            .collect()
    }
}

impl fmt::Display for Plan {
    /// Per device a `# NAME uuid=UUID ro|rw [public] [minor=…] [messages=…]` header, then its
    /// table in `dmsetup table` form, `NAME: START LENGTH TARGET PARAMS`; then one
    /// `# skipped LV: reason` line per skipped LV.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.devices {
            write!(f, "# {} uuid={} {}", d.name, d.uuid, if d.read_only { "ro" } else { "rw" })?;
            if d.public {
                f.write_str(" public")?;
            }
            if let Some(p) = d.persistent {
                match p.major {
                    Some(m) => write!(f, " devnum={m}:{}", p.minor)?,
                    None => write!(f, " minor={}", p.minor)?,
                }
            }
            if let Some(m) = &d.messages {
                let list: Vec<String> = m.messages.iter().map(ToString::to_string).collect();
                write!(f, " messages(at transaction {})=[{}]", m.from_transaction_id, list.join(", "))?;
            }
            writeln!(f)?;
            for l in &d.table.lines {
                writeln!(f, "{}: {l}", d.name)?;
            }
        }
        for s in &self.skipped {
            let why = match s.reason {
                SkipReason::ActivationSkip => "activation skip flag set",
                SkipReason::UnusedCachePool => "unused cache pool",
            };
            writeln!(f, "# skipped {}: {why}", s.lv)?;
        }
        Ok(())
    }
}

/// Plan the activation of an assembled VG; `pv_ref` maps a scan index (the values of
/// [`AssembledVg::pv_devices`]) to the reference tables should use for that device. A VG with
/// PVs on duplicate devices is refused ([`Error::DuplicatePvs`], naming them) unless
/// `opts.allow_duplicates`.
pub fn plan_assembled(
    vg: &AssembledVg,
    mut pv_ref: impl FnMut(usize) -> Option<DevRef>,
    opts: &PlanOptions,
) -> Result<Plan> {
    if !vg.duplicates.is_empty() && !opts.allow_duplicates {
        return Err(Error::DuplicatePvs { vg: vg.name().to_string(), duplicates: vg.duplicates.clone() });
    }
    let pvs: Vec<Option<DevRef>> = vg.pv_devices.iter().map(|d| d.and_then(&mut pv_ref)).collect();
    plan(&vg.metadata.vg, &pvs, opts)
}

/// Plan the activation of `vg`'s LVs. `pvs[i]` is the device of `vg.pvs[i]`, `None` if missing.
pub fn plan(vg: &VolumeGroup, pvs: &[Option<DevRef>], opts: &PlanOptions) -> Result<Plan> {
    if vg.is_exported() && !opts.allow_exported {
        return Err(Error::Exported { vg: vg.name.clone() });
    }
    if let Some(sid) = vg.owner_system_id() {
        if vg.is_foreign_to(opts.host_system_id.as_deref()) && !opts.allow_foreign {
            return Err(Error::Foreign {
                vg: vg.name.clone(),
                vg_system_id: sid.to_string(),
                host: opts.host_system_id.clone(),
            });
        }
    }
    if pvs.len() != vg.pvs.len() {
        return Err(Error::PvCount { vg: vg.name.clone(), expected: vg.pvs.len(), got: pvs.len() });
    }
    let mut p = Planner::new(vg, pvs, opts);
    let (roots, skipped) = p.roots()?;
    for root in roots {
        p.root = Some(root);
        p.add_lv(root, None)?;
    }
    let mut seen = HashSet::new();
    for d in &p.devices {
        if !seen.insert(d.name.as_str()) {
            return Err(p.invalid(&d.lv, format!("two planned devices would be named {}", d.name)));
        }
    }
    Ok(Plan { vg: vg.name.clone(), devices: p.devices, skipped })
}

/// `DM_THIN_MAX_METADATA_SIZE`: a pool's metadata device is cropped to this (sectors) when the
/// pool has `crop_metadata = 1`.
const THIN_MAX_METADATA_SECTORS: u64 = 255 * (1 << 14) * 8;
/// The region size of a pvmove's mirror (sectors): lvm2's default (`activation/raid_region_size`,
/// 2 MiB), cut to the largest power of two within a shorter segment.
const PVMOVE_REGION_SECTORS: u64 = 4096;
/// Default dm-cache `migration_threshold` (sectors), not passed to the kernel.
const CACHE_DEFAULT_MIGRATION_THRESHOLD: u64 = 2048;

/// A COW snapshot: its `snapshotN` glue segment's content.
#[derive(Clone, Copy)]
struct SnapInfo<'a> {
    cow: &'a LogicalVolume,
    origin: &'a LogicalVolume,
    chunk_size: u64,
    extents: u64,
    merging: bool,
}

/// Table being built plus the planned devices it refers to.
#[derive(Default)]
struct Builder {
    table: Table,
    children: Vec<DmName>,
    /// pvmove segments that are neither done nor the one being copied (lvm2's
    /// `pvmove_mirror_count`: one RUNNING mirror segment per table).
    pvmove_mirrors: u32,
}

impl Builder {
    fn child(&mut self, name: &DmName) -> DevRef {
        if !self.children.contains(name) {
            self.children.push(name.clone());
        }
        DevRef::Pending(name.to_string())
    }
}

struct Planner<'a> {
    vg: &'a VolumeGroup,
    pvs: &'a [Option<DevRef>],
    opts: &'a PlanOptions,
    lvs: HashMap<&'a str, &'a LogicalVolume>,
    /// origin → its snapshots, in metadata order.
    snaps_of: HashMap<&'a str, Vec<SnapInfo<'a>>>,
    /// COW LV → its snapshot.
    cow_of: HashMap<&'a str, SnapInfo<'a>>,
    /// Who uses whom: dm uuid suffixes, raid sub-LVs, external origins, used cache pools,
    /// visibility (shared with the reports).
    roles: LvRoles,
    thin_parts: HashSet<&'a str>,
    /// The top-level LV being planned.
    root: Option<&'a LogicalVolume>,
    devices: Vec<PlannedDevice>,
    by_uuid: HashMap<String, usize>,
    in_progress: HashSet<String>,
    /// The LVs whose devices are being planned, outermost first.
    in_progress_lvs: Vec<&'a str>,
}

fn is_thin_pool(lv: &LogicalVolume) -> bool {
    lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::ThinPool { .. }))
}

fn is_new_thin_pool(lv: &LogicalVolume) -> bool {
    lv.segments.first().is_some_and(|s| matches!(s.kind, SegmentKind::ThinPool { transaction_id: 0, .. }))
}

fn is_cache_pool(lv: &LogicalVolume) -> bool {
    lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::CachePool { .. }))
}

fn is_glue(lv: &LogicalVolume) -> bool {
    lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
}

fn is_raid(lv: &LogicalVolume) -> bool {
    lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::Raid { .. }))
}

/// A STATUS word, or the same word as a segment-type flag of any segment (lvm2 accepts both).
fn has_status_or_segflag(lv: &LogicalVolume, w: &str) -> bool {
    lv.status.has(w) || lv.segments.iter().any(|s| s.segtype.flags.iter().any(|f| f == w))
}

/// dm-raid type and parity devices for an lvm2 raid segment type.
fn raid_type(segtype: &str) -> Option<(RaidType, u64)> {
    Some(match segtype {
        "raid0" | "raid0_meta" => (RaidType::Raid0, 0),
        "raid1" => (RaidType::Raid1, 0),
        "raid10" | "raid10_near" => (RaidType::Raid10, 0),
        "raid4" => (RaidType::Raid4, 1),
        "raid5_n" => (RaidType::Raid5N, 1),
        "raid5_la" => (RaidType::Raid5La, 1),
        "raid5_ra" => (RaidType::Raid5Ra, 1),
        "raid5" | "raid5_ls" => (RaidType::Raid5Ls, 1),
        "raid5_rs" => (RaidType::Raid5Rs, 1),
        "raid6" | "raid6_zr" => (RaidType::Raid6Zr, 2),
        "raid6_nr" => (RaidType::Raid6Nr, 2),
        "raid6_nc" => (RaidType::Raid6Nc, 2),
        "raid6_n_6" => (RaidType::Raid6N6, 2),
        "raid6_la_6" => (RaidType::Raid6La6, 2),
        "raid6_ra_6" => (RaidType::Raid6Ra6, 2),
        "raid6_ls_6" => (RaidType::Raid6Ls6, 2),
        "raid6_rs_6" => (RaidType::Raid6Rs6, 2),
        _ => return None,
    })
}

/// Segment length in extents as lvm2 loads it (`_seg_len`: raid reshape space excluded).
fn seg_len(seg: &Segment) -> u64 {
    if let SegmentKind::Raid { areas, .. } = &seg.kind {
        let parity = raid_type(&seg.segtype.name).map_or(0, |t| t.1);
        let data = (areas.len() as u64).saturating_sub(parity);
        return seg.extent_count.saturating_sub(seg.reshape_count.unwrap_or(0) * data);
    }
    seg.extent_count
}

/// The LV's segments after lvm2's `lv_merge_segments` (done when metadata is read): adjacent
/// striped segments with the same stripe count and size whose PV areas continue each other
/// become one (and so one table line). Not for LVs locked by pvmove.
fn merged_segments(lv: &LogicalVolume) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mergeable = !lv.status.has("LOCKED") && !lv.status.has("PVMOVE");
    for seg in &lv.segments {
        match out.last_mut() {
            Some(prev) if mergeable && striped_continues(prev, seg) => prev.extent_count += seg.extent_count,
            _ => out.push(seg.clone()),
        }
    }
    out
}

fn striped_continues(first: &Segment, second: &Segment) -> bool {
    // lvm2 compares segtype objects; `linear` (never written) is a different one.
    if first.segtype.name != second.segtype.name
        || first.segtype.flags != second.segtype.flags
        || first.tags != second.tags
    {
        return false;
    }
    let (
        SegmentKind::Striped { stripe_size: s1, areas: a1 },
        SegmentKind::Striped { stripe_size: s2, areas: a2 },
    ) = (&first.kind, &second.kind)
    else {
        return false;
    };
    if a1.len() != a2.len() || a1.is_empty() || s1.unwrap_or(0) != s2.unwrap_or(0) {
        return false;
    }
    let width = first.extent_count / a1.len() as u64;
    a1.iter().zip(a2).all(|(x, y)| match (&x.target, &y.target) {
        (AreaTarget::Pv(p), AreaTarget::Pv(q)) => p == q && x.start + width == y.start,
        _ => false,
    })
}

/// Integer value of a verbatim `key = n` item.
fn int_item(items: &[lvmkit_metadata::text::Item<'_>], key: &str) -> Option<i64> {
    items.iter().find(|i| i.key == key).and_then(|i| match &i.node {
        Node::Value(Value::Scalar(Scalar::Int(n))) => Some(*n),
        _ => None,
    })
}

fn str_item<'s>(items: &'s [lvmkit_metadata::text::Item<'_>], key: &str) -> Option<&'s str> {
    items.iter().find(|i| i.key == key).and_then(|i| match &i.node {
        Node::Value(Value::Scalar(Scalar::Str(v) | Scalar::Bare(v))) => Some(v.as_ref()),
        _ => None,
    })
}

fn section_item<'s>(
    items: &'s [lvmkit_metadata::text::Item<'static>],
    key: &str,
) -> Option<&'s lvmkit_metadata::text::Section<'static>> {
    items.iter().find(|i| i.key == key).and_then(|i| match &i.node {
        Node::Section(s) => Some(s),
        _ => None,
    })
}

/// The settings a `cache` target is built from: a cache pool's own, or — with a cachevol —
/// the cache segment's (lvm2's `setting_seg`).
struct CacheSettings<'s> {
    chunk_size: Option<u64>,
    metadata_format: Option<u64>,
    cache_mode: Option<&'s str>,
    policy: Option<&'s str>,
    policy_settings: Option<&'s lvmkit_metadata::text::Section<'static>>,
}

/// Where a cachevol's metadata and data areas lie (sectors) and the ids of their devices.
struct CachevolAreas {
    metadata: (u64, u64),
    data: (u64, u64),
    metadata_id: Option<lvmkit_metadata::id::LvmId>,
    data_id: Option<lvmkit_metadata::id::LvmId>,
}

impl<'a> Planner<'a> {
    fn new(vg: &'a VolumeGroup, pvs: &'a [Option<DevRef>], opts: &'a PlanOptions) -> Self {
        let lvs: HashMap<&str, &LogicalVolume> = vg.lvs.iter().map(|l| (l.name.as_str(), l)).collect();
        let mut snaps_of: HashMap<&str, Vec<SnapInfo>> = HashMap::new();
        let mut cow_of = HashMap::new();
        let roles = LvRoles::of(vg);
        let mut thin_parts = HashSet::new();
        for lv in &vg.lvs {
            for seg in &lv.segments {
                match &seg.kind {
                    SegmentKind::ThinPool { metadata, pool, .. } => {
                        thin_parts.extend([lv.name.as_str(), pool.as_str(), metadata.as_str()]);
                    }
                    SegmentKind::Thin { .. } => {
                        thin_parts.insert(lv.name.as_str());
                    }
                    SegmentKind::Snapshot { chunk_size, origin, cow_store, merging } => {
                        if let (Some(o), Some(c)) = (lvs.get(origin.as_str()), lvs.get(cow_store.as_str())) {
                            let info = SnapInfo {
                                cow: c,
                                origin: o,
                                chunk_size: *chunk_size,
                                extents: seg.extent_count,
                                merging: *merging,
                            };
                            snaps_of.entry(origin.as_str()).or_default().push(info);
                            cow_of.insert(cow_store.as_str(), info);
                        }
                    }
                    _ => {}
                }
            }
        }
        Planner {
            vg,
            pvs,
            opts,
            root: None,
            lvs,
            snaps_of,
            cow_of,
            roles,
            thin_parts,
            devices: Vec::new(),
            by_uuid: HashMap::new(),
            in_progress: HashSet::new(),
            in_progress_lvs: Vec::new(),
        }
    }

    fn invalid(&self, lv: &str, what: impl Into<String>) -> Error {
        Error::Invalid { vg: self.vg.name.clone(), lv: lv.to_string(), what: what.into() }
    }

    fn unsupported(&self, lv: &LogicalVolume, segtype: impl Into<String>) -> Error {
        Error::Unsupported { vg: self.vg.name.clone(), lv: lv.name.clone(), segtype: segtype.into() }
    }

    fn lv(&self, from: &LogicalVolume, name: &str) -> Result<&'a LogicalVolume> {
        self.lvs
            .get(name)
            .copied()
            .ok_or_else(|| self.invalid(&from.name, format!("refers to unknown LV {name}")))
    }

    fn ext(&self) -> u64 {
        self.vg.extent_size
    }

    fn lv_size(&self, lv: &LogicalVolume) -> Sectors {
        Sectors(lv.le_count() * self.ext())
    }

    /// Index of `lv` in the VG.
    fn lv_index(&self, lv: &LogicalVolume) -> Option<usize> {
        self.roles.index(&lv.name)
    }

    /// A RAID data or metadata image.
    fn is_raid_sub(&self, lv: &LogicalVolume) -> bool {
        self.lv_index(lv)
            .is_some_and(|i| self.roles.has(i, Role::RaidImage) || self.roles.has(i, Role::RaidMeta))
    }

    fn is_raid_type(&self, lv: &LogicalVolume) -> bool {
        is_raid(lv) || self.is_raid_sub(lv)
    }

    /// The LVs to activate, in metadata order, and the selected ones left out.
    fn roots(&self) -> Result<(Vec<&'a LogicalVolume>, Vec<SkippedLv>)> {
        let mut wanted: Vec<&'a LogicalVolume> = Vec::new();
        match &self.opts.lvs {
            None => {
                // `vgchange -ay` (`_activate_lvs_in_vg`): every visible LV in metadata order; a
                // sparse snapshot (its origin a hidden virtual one) activates its origin in its
                // place, other snapshots come with their (visible) origins.
                for (i, lv) in self.vg.lvs.iter().enumerate() {
                    // lvm2's lv_is_visible: a snapshot's COW store (hidden in the metadata) is
                    // as visible as its origin, always when that is virtual.
                    if !self.roles.is_visible(self.vg, i) || is_glue(lv) {
                        continue;
                    }
                    let lv = match self.cow_of.get(lv.name.as_str()) {
                        Some(s) if !s.origin.is_visible() => s.origin,
                        Some(_) => continue,
                        None => lv,
                    };
                    // A VDO pool comes with its VDO LVs (and is refused with them).
                    if lv.segments.iter().any(|s| matches!(s.kind, SegmentKind::VdoPool { .. })) {
                        continue;
                    }
                    if !wanted.iter().any(|w| w.name == lv.name) {
                        wanted.push(lv);
                    }
                }
            }
            Some(list) => {
                let mut set: HashSet<&str> = HashSet::new();
                for name in list {
                    let lv = self
                        .lvs
                        .get(name.as_str())
                        .ok_or_else(|| Error::NoSuchLv { vg: self.vg.name.clone(), lv: name.clone() })?;
                    let not = |why| Error::NotActivatable { vg: self.vg.name.clone(), lv: name.clone(), why };
                    if is_glue(lv) {
                        return Err(not(
                            "it is a snapshot's internal glue LV; activate the snapshot or its origin",
                        ));
                    }
                    if let Some(s) = self.cow_of.get(name.as_str()) {
                        set.insert(&s.origin.name);
                    } else if !lv.is_visible() {
                        return Err(not("it is a hidden component, activated by the LV that uses it"));
                    } else {
                        set.insert(&lv.name);
                    }
                }
                wanted = self.vg.lvs.iter().filter(|lv| set.contains(lv.name.as_str())).collect();
            }
        }
        let mut roots = Vec::new();
        let mut skipped = Vec::new();
        for lv in wanted {
            if lv.has_flag("ACTIVATION_SKIP") && !self.opts.ignore_activation_skip {
                skipped.push(SkippedLv { lv: lv.name.clone(), reason: SkipReason::ActivationSkip });
            } else if is_cache_pool(lv) && !self.roles.named_has(&lv.name, Role::CachePool) {
                skipped.push(SkippedLv { lv: lv.name.clone(), reason: SkipReason::UnusedCachePool });
            } else {
                roots.push(lv);
            }
        }
        Ok((roots, skipped))
    }

    fn name_uuid(
        &self,
        lv: &LogicalVolume,
        name_layer: Option<&str>,
        suffix: Option<&str>,
    ) -> Result<(DmName, DmUuid)> {
        let wrap = |source| Error::Name { vg: self.vg.name.clone(), lv: lv.name.clone(), source };
        let name = names::dm_name(&self.vg.name, &lv.name, name_layer).map_err(wrap)?;
        let uuid = names::dm_uuid(&self.vg.id, &lv.id, suffix).map_err(wrap)?;
        Ok((name, uuid))
    }

    /// A cache segment's cachevol areas (`metadata_start`/`_len`, `data_start`/`_len`, sectors)
    /// and their device ids (`metadata_id`/`data_id`; absent: the cachevol's own), checked as
    /// lvm2's `_cache_add_target_line` does and against the cachevol's size.
    fn cachevol_areas(
        &self,
        lv: &LogicalVolume,
        cvol: &LogicalVolume,
        settings: &[lvmkit_metadata::text::Item<'static>],
    ) -> Result<CachevolAreas> {
        let num = |key: &str| -> Result<u64> {
            let v = int_item(settings, key)
                .ok_or_else(|| self.invalid(&lv.name, format!("a cache with a cachevol without {key}")))?;
            u64::try_from(v).map_err(|_| self.invalid(&lv.name, format!("cache {key} {v}")))
        };
        let id = |key: &str| -> Result<Option<lvmkit_metadata::id::LvmId>> {
            match str_item(settings, key) {
                None => Ok(None),
                Some(s) => lvmkit_metadata::id::LvmId::parse(s)
                    .map(Some)
                    .map_err(|_| self.invalid(&lv.name, format!("cache {key} {s:?} is not an lvm2 id"))),
            }
        };
        let metadata = (num("metadata_start")?, num("metadata_len")?);
        let data = (num("data_start")?, num("data_len")?);
        if metadata.1 == 0 || data.1 == 0 || metadata.0 == data.0 {
            return Err(self.invalid(
                &lv.name,
                format!("cachevol ranges metadata {} {} data {} {}", metadata.0, metadata.1, data.0, data.1),
            ));
        }
        let size = self.lv_size(cvol).0;
        for (what, (start, len)) in [("metadata", metadata), ("data", data)] {
            if start.checked_add(len).is_none_or(|end| end > size) {
                return Err(self.invalid(
                    &lv.name,
                    format!(
                        "cachevol {what} area {start}+{len} sectors past the end of {} ({size} sectors)",
                        cvol.name
                    ),
                ));
            }
        }
        Ok(CachevolAreas { metadata, data, metadata_id: id("metadata_id")?, data_id: id("data_id")? })
    }

    /// An optional setting of a segment that must be a non-negative number when given.
    fn optional_number(
        &self,
        lv: &LogicalVolume,
        what: &str,
        settings: &[lvmkit_metadata::text::Item<'static>],
        key: &str,
    ) -> Result<Option<u64>> {
        if !settings.iter().any(|i| i.key == key) {
            return Ok(None);
        }
        int_item(settings, key)
            .and_then(|v| u64::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| self.invalid(&lv.name, format!("{what} {key} is not a number")))
    }

    /// A writecache segment's settings (lvm2's `_writecache_text_import`): each key present
    /// is passed on (`fua`, `nofua` and `metadata_only` whatever their value, `cleaner` when
    /// not 0), and `writecache_setting_key`/`_val` for one more numeric option.
    fn writecache_options(
        &self,
        lv: &LogicalVolume,
        settings: &[lvmkit_metadata::text::Item<'static>],
    ) -> Result<WritecacheOptions> {
        let mut o = WritecacheOptions::default();
        for key in [
            "high_watermark",
            "low_watermark",
            "writeback_jobs",
            "autocommit_blocks",
            "autocommit_time",
            "max_age",
            "pause_writeback",
        ] {
            if let Some(v) = self.optional_number(lv, "writecache", settings, key)? {
                o.set_number(key, v);
            }
        }
        let has = |k: &str| settings.iter().any(|i| i.key == k);
        match (has("fua"), has("nofua")) {
            (true, true) => return Err(self.invalid(&lv.name, "writecache with both fua and nofua")),
            (true, false) => o.fua = Some(true),
            (false, true) => o.fua = Some(false),
            (false, false) => {}
        }
        o.cleaner = int_item(settings, "cleaner").is_some_and(|v| v != 0);
        o.metadata_only = has("metadata_only");
        if let Some(key) = str_item(settings, "writecache_setting_key") {
            let val = str_item(settings, "writecache_setting_val").ok_or_else(|| {
                self.invalid(&lv.name, "writecache_setting_key without writecache_setting_val")
            })?;
            let n = val.parse::<u64>().ok().filter(|&n| o.set_number(key, n));
            if n.is_none() {
                return Err(self.invalid(&lv.name, format!("writecache setting {key} = {val:?}")));
            }
        }
        Ok(o)
    }

    /// An integrity segment's target (lvm2's `_integrity_text_import` and libdm's
    /// `_integrity_emit_segment_line`): `fix_padding`, `block_size`, `internal_hash` always,
    /// then the metadata device, `recalculate` and each setting the metadata has. The metadata
    /// device is linked (so created) before the origin.
    fn integrity(
        &mut self,
        lv: &'a LogicalVolume,
        origin: &str,
        meta_dev: Option<&str>,
        settings: &[lvmkit_metadata::text::Item<'static>],
        b: &mut Builder,
    ) -> Result<Integrity> {
        let need_str = |k: &str| {
            str_item(settings, k).ok_or_else(|| self.invalid(&lv.name, format!("integrity without {k}")))
        };
        let need_u32 = |k: &str| {
            int_item(settings, k)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| self.invalid(&lv.name, format!("integrity {k} missing or out of range")))
        };
        let mode = match need_str("mode")? {
            m @ ("J" | "B" | "D" | "R") => m.chars().next().unwrap_or('J'),
            other => return Err(self.invalid(&lv.name, format!("integrity mode {other:?}"))),
        };
        let tag_size = need_u32("tag_size")?;
        let block_size = need_u32("block_size")?;
        let hash = need_str("internal_hash")?.to_string();
        let Some(meta_dev) = meta_dev else {
            // libdm refuses it too ("No integrity meta uuid").
            return Err(self.unsupported(lv, "integrity with internal metadata"));
        };
        let meta = self.add_lv(self.lv(lv, meta_dev)?, None)?;
        let data = self.add_lv(self.lv(lv, origin)?, None)?;
        let (meta, dev) = (b.child(&meta), b.child(&data));
        let mut args = vec![
            IntegrityArg::Flag("fix_padding".into()),
            IntegrityArg::Value("block_size".into(), block_size.to_string()),
            IntegrityArg::Value("internal_hash".into(), hash),
            IntegrityArg::MetaDevice(meta),
        ];
        if int_item(settings, "recalculate").is_some_and(|v| v != 0) {
            args.push(IntegrityArg::Flag("recalculate".into()));
        }
        for k in [
            "journal_sectors",
            "interleave_sectors",
            "buffer_sectors",
            "journal_watermark",
            "commit_time",
            "bitmap_flush_interval",
            "sectors_per_bit",
        ] {
            if let Some(v) = self.optional_number(lv, "integrity", settings, k)? {
                args.push(IntegrityArg::Value(k.into(), v.to_string()));
            }
        }
        if int_item(settings, "allow_discards").is_some_and(|v| v != 0) {
            args.push(IntegrityArg::Flag("allow_discards".into()));
        }
        Ok(Integrity { dev, start: Sectors(0), tag_size, mode, args })
    }

    /// `<cvol>-cdata` / `<cvol>-cmeta`: a linear device over one area of a cachevol, named after
    /// the cachevol, with the uuid of the VG and `id` (else the cachevol's) and the part as
    /// suffix — lvm2's `_add_new_cvol_subdev_to_dtree`.
    fn add_cvol_part(
        &mut self,
        cache_lv: &LogicalVolume,
        cvol: &LogicalVolume,
        cvol_dev: &DmName,
        part: &str,
        (start, len): (u64, u64),
        id: Option<lvmkit_metadata::id::LvmId>,
    ) -> Result<DmName> {
        let wrap = |source| Error::Name { vg: self.vg.name.clone(), lv: cvol.name.clone(), source };
        let name = names::dm_name(&self.vg.name, &cvol.name, Some(part)).map_err(wrap)?;
        let uuid = names::dm_uuid(&self.vg.id, id.as_ref().unwrap_or(&cvol.id), Some(part)).map_err(wrap)?;
        if self.by_uuid.contains_key(uuid.as_str()) {
            return Ok(name);
        }
        let mut b = Builder::default();
        let dev = b.child(cvol_dev);
        b.table.push(Sectors(len), Target::Linear(Linear { dev, offset: Sectors(start) }));
        self.by_uuid.insert(uuid.to_string(), self.devices.len());
        self.devices.push(PlannedDevice {
            name: name.clone(),
            uuid,
            read_only: self.read_only(cache_lv, Some(part)),
            table: b.table,
            children: b.children,
            lv: cvol.name.clone(),
            layer: Some(part.to_string()),
            public: false,
            persistent: None,
            messages: None,
            read_ahead: ReadAhead::Auto,
            create_early: Vec::new(),
        });
        Ok(name)
    }

    /// The thin snapshot merging into `lv` and its device id (a thin segment whose `merge`
    /// names `lv`).
    fn merging_thin_snapshot(&self, lv: &LogicalVolume) -> Option<(&'a LogicalVolume, u64)> {
        self.vg.lvs.iter().find_map(|snap| {
            snap.segments.iter().find_map(|seg| match &seg.kind {
                SegmentKind::Thin { merge: Some(m), device_id, .. } if *m == lv.name => {
                    Some((snap, *device_id))
                }
                _ => None,
            })
        })
    }

    /// lvm2's `read_only_lv`.
    fn read_only(&self, lv: &LogicalVolume, layer: Option<&str>) -> bool {
        if layer.is_some() && self.cow_of.contains_key(lv.name.as_str()) {
            return false; // a snapshot's COW store stays writable
        }
        if self.is_raid_sub(lv) {
            return false; // raid sub-LVs stay writable
        }
        if layer.is_none() && is_thin_pool(lv) {
            return true; // the pool's public device
        }
        self.opts.read_only || !lv.is_writable()
    }

    /// Plan `lv` (or one of its layers) and everything below it; the device's name.
    fn add_lv(&mut self, lv: &'a LogicalVolume, layer: Option<&str>) -> Result<DmName> {
        // "Even unused thin-pool still needs to get layered UUID -suffix": name without layer,
        // uuid (and the read-only rule) with `tpool`.
        let uuid_layer = match layer {
            Some(l) => Some(l),
            None if is_new_thin_pool(lv) => Some("tpool"),
            None => None,
        };
        let suffix =
            uuid_layer.or_else(|| self.lv_index(lv).and_then(|i| self.roles.dm_uuid_suffix(self.vg, i)));
        let (name, uuid) = self.name_uuid(lv, layer, suffix)?;
        if let Some(&i) = self.by_uuid.get(uuid.as_str()) {
            return Ok(self.devices[i].name.clone());
        }
        if !self.in_progress.insert(uuid.to_string()) {
            return Err(self.invalid(&lv.name, "its LVs refer to each other in a cycle"));
        }
        self.in_progress_lvs.push(&lv.name);
        let read_only = self.read_only(lv, uuid_layer);
        let mut b = Builder::default();
        let mut messages = None;
        // The table comes from the LV's own segments (not a layer's top over them).
        let mut from_segments = false;
        if layer.is_none() && self.snaps_of.contains_key(lv.name.as_str()) {
            // Snapshot origin: its own segments go to `-real`.
            let real_name = self.add_lv(lv, Some("real"))?;
            let real = b.child(&real_name);
            let snaps = self.snaps_of[lv.name.as_str()].clone();
            // The origin's last child: lvm2 creates the origin's device right after it.
            let mut last_child = real_name.clone();
            if let Some(m) = snaps.iter().find(|s| s.merging) {
                let cow_name = self.add_lv(m.cow, Some("cow"))?;
                let cow = b.child(&cow_name);
                last_child = cow_name;
                let s = Snapshot {
                    origin: real,
                    cow,
                    store: SnapshotStore::Persistent,
                    chunk_size: Sectors(m.chunk_size),
                    discard_zeroes_cow: false,
                    discard_passdown_origin: false,
                };
                b.table.push(self.lv_size(lv), Target::SnapshotMerge(SnapshotMerge(s)));
            } else {
                b.table.push(self.lv_size(lv), Target::SnapshotOrigin(SnapshotOrigin { origin: real }));
            }
            // lvm2 resumes the origin after its snapshots (activation priority 1): plan them first.
            // It creates the origin's device before them, though (libdm's preload walk: the
            // children of its table, then it), so its number comes right after `-real`'s, or
            // after the merging snapshot's `-cow` (seen in the guest: real, cow, origin).
            if let Some(d) = self.devices.iter_mut().find(|d| d.name == last_child) {
                d.create_early.push(name.clone());
            }
            for s in &snaps {
                self.add_lv(s.cow, None)?;
            }
        } else if layer.is_none() && self.cow_of.contains_key(lv.name.as_str()) {
            let s = self.cow_of[lv.name.as_str()];
            let cow = self.add_lv(lv, Some("cow"))?;
            let real = self.add_lv(s.origin, Some("real"))?;
            let size = Sectors(s.extents * self.ext());
            if s.merging {
                // Being merged into the origin: the snapshot itself shows an error device.
                b.table.push(size, Target::Error(ErrorTarget));
            } else {
                let origin = b.child(&real);
                let cow = b.child(&cow);
                let t = Snapshot {
                    origin,
                    cow,
                    store: SnapshotStore::Persistent,
                    chunk_size: Sectors(s.chunk_size),
                    discard_zeroes_cow: false,
                    discard_passdown_origin: false,
                };
                b.table.push(size, Target::Snapshot(t));
            }
        } else if layer.is_none()
            && ((is_thin_pool(lv) && !is_new_thin_pool(lv))
                || self.roles.named_has(&lv.name, Role::ExternalOrigin))
        {
            // A used thin pool's public device, or an external origin's: linear over the layer.
            let l = if is_thin_pool(lv) { "tpool" } else { "real" };
            let dev = self.add_lv(lv, Some(l))?;
            let dev = b.child(&dev);
            b.table.push(self.lv_size(lv), Target::Linear(Linear { dev, offset: Sectors(0) }));
        } else {
            from_segments = true;
            for (segno, seg) in merged_segments(lv).iter().enumerate() {
                self.add_segment(lv, segno, seg, &mut b, &mut messages)?;
            }
        }
        self.in_progress.remove(uuid.as_str());
        self.in_progress_lvs.pop();
        // lvm2's lv_is_visible: a COW store as its origin (hidden while merging).
        let visible = self.lv_index(lv).is_some_and(|i| self.roles.is_visible(self.vg, i));
        let public = layer.is_none() && visible && (!is_thin_pool(lv) || is_new_thin_pool(lv));
        let persistent = match (layer, lv.status.has("FIXED_MINOR"), lv.minor) {
            (None, true, Some(minor)) => u32::try_from(minor).ok().map(|minor| PersistentDevNum {
                major: lv.major.and_then(|m| u32::try_from(m).ok()).filter(|&m| m > 0),
                minor,
            }),
            _ => None,
        };
        self.by_uuid.insert(uuid.to_string(), self.devices.len());
        self.devices.push(PlannedDevice {
            name: name.clone(),
            uuid,
            read_only,
            table: b.table,
            children: b.children,
            lv: lv.name.clone(),
            layer: layer.map(str::to_string),
            public,
            persistent,
            messages,
            read_ahead: match read_ahead(lv, from_segments) {
                ReadAhead::Auto => self.pv_read_ahead(lv),
                r => r,
            },
            create_early: Vec::new(),
        });
        // "Add any LVs referencing a PVMOVE LV": activating one LV being moved activates every
        // LV with a segment on the same pvmove (those already being planned are on their way).
        if layer.is_none() && lv.status.has("PVMOVE") {
            let vg = self.vg;
            for user in &vg.lvs {
                let uses = user.segments.iter().any(|seg| seg.lv_refs().iter().any(|n| *n == lv.name));
                if uses && !self.in_progress_lvs.contains(&user.name.as_str()) {
                    self.add_lv(user, None)?;
                }
            }
        }
        Ok(name)
    }

    /// Auto read-ahead with nothing striped: lvm2's `lv_calculate_readahead`, at least the
    /// read-ahead of the first PV area of `lv` and of every LV it depends on
    /// (`_lv_each_dependency`: a COW's origin, sub-LVs in areas, mirror logs, pools and their
    /// metadata, external origins, an origin's COWs — not raid metadata or thin origins).
    fn pv_read_ahead(&self, lv: &'a LogicalVolume) -> ReadAhead {
        let mut seen = HashSet::new();
        let mut pvs = Vec::new();
        self.first_pv_areas(lv, &mut seen, &mut pvs);
        let mut nums: Vec<DevNum> =
            pvs.into_iter().filter_map(|i| self.pvs.get(i)?.as_ref()?.num()).collect();
        nums.sort();
        nums.dedup();
        if nums.is_empty() { ReadAhead::Auto } else { ReadAhead::AtLeastPvs(nums) }
    }

    fn first_pv_areas(&self, lv: &'a LogicalVolume, seen: &mut HashSet<&'a str>, pvs: &mut Vec<usize>) {
        if !seen.insert(lv.name.as_str()) {
            return;
        }
        let mut deps: Vec<&'a str> = Vec::new();
        if let Some(s) = self.cow_of.get(lv.name.as_str()) {
            deps.push(s.origin.name.as_str());
        }
        for seg in &lv.segments {
            match &seg.kind {
                SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => {
                    deps.extend(areas.iter().filter_map(|a| match &a.target {
                        AreaTarget::Lv(n) => Some(n.as_str()),
                        AreaTarget::Pv(_) => None,
                    }));
                    if let SegmentKind::Mirror { mirror_log: Some(l), .. } = &seg.kind {
                        deps.push(l);
                    }
                }
                SegmentKind::Raid { areas, .. } => deps.extend(areas.iter().map(|a| a.data.as_str())),
                SegmentKind::ThinPool { metadata, pool, .. } => {
                    deps.extend([metadata.as_str(), pool.as_str()])
                }
                SegmentKind::Thin { thin_pool, external_origin, .. } => {
                    deps.push(thin_pool);
                    deps.extend(external_origin.as_deref());
                }
                SegmentKind::CachePool { data, metadata, .. } => {
                    deps.extend([data.as_str(), metadata.as_str()])
                }
                SegmentKind::Cache { cache_pool, origin, .. } => {
                    deps.extend([cache_pool.as_str(), origin.as_str()])
                }
                // `seg->writecache` and `seg->integrity_meta_dev`, then the area (the origin).
                SegmentKind::Writecache { writecache, origin, .. } => {
                    deps.extend([writecache.as_str(), origin.as_str()])
                }
                SegmentKind::Integrity { origin, meta_dev, .. } => {
                    deps.extend(meta_dev.as_deref());
                    deps.push(origin)
                }
                SegmentKind::Vdo { vdo_pool, .. } => deps.push(vdo_pool),
                SegmentKind::VdoPool { data, .. } => deps.push(data),
                _ => {}
            }
        }
        if let Some(snaps) = self.snaps_of.get(lv.name.as_str()) {
            deps.extend(snaps.iter().map(|s| s.cow.name.as_str()));
        }
        for d in deps {
            if let Some(l) = self.lvs.get(d) {
                self.first_pv_areas(l, seen, pvs);
            }
        }
        let first = lv.segments.first().and_then(|seg| match &seg.kind {
            SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => areas.first(),
            _ => None,
        });
        if let Some(Area { target: AreaTarget::Pv(i), .. }) = first {
            pvs.push(*i);
        }
    }

    /// An area of a striped or mirror segment: a PV's (see [`Self::pv_area`]) or an LV's.
    fn area(
        &mut self,
        lv: &'a LogicalVolume,
        (segno, s): (usize, usize),
        a: &Area,
        seg: &Segment,
        b: &mut Builder,
    ) -> Result<(DevRef, Sectors)> {
        match &a.target {
            AreaTarget::Pv(pv) => self.pv_area(lv, (segno, s), (*pv, a.start), seg, b),
            AreaTarget::Lv(n) => self.lv_area(lv, n, a.start, b),
        }
    }

    /// An LV area: the LV's device (planned first) and the offset in it.
    fn lv_area(
        &mut self,
        lv: &'a LogicalVolume,
        name: &str,
        le: u64,
        b: &mut Builder,
    ) -> Result<(DevRef, Sectors)> {
        let child = self.lv(lv, name)?;
        let d = self.add_lv(child, None)?;
        Ok((b.child(&d), Sectors(le * self.ext())))
    }

    /// A PV area: the PV's reference and offset, or (mode permitting) an error device.
    fn pv_area(
        &mut self,
        lv: &'a LogicalVolume,
        (segno, s): (usize, usize),
        (pv, pe): (usize, u64),
        seg: &Segment,
        b: &mut Builder,
    ) -> Result<(DevRef, Sectors)> {
        let p =
            self.vg.pvs.get(pv).ok_or_else(|| self.invalid(&lv.name, format!("refers to PV index {pv}")))?;
        if let Some(r) = &self.pvs[pv] {
            return Ok((r.clone(), Sectors(p.pe_start + pe * self.ext())));
        }
        let allowed = match self.opts.mode {
            ActivationMode::Complete => false,
            // lvm2 lets a raid LV (activated directly) run with failed images; for any other
            // LV a missing piece makes the whole LV partial and it is refused.
            ActivationMode::Degraded => self.is_raid_type(lv) && self.root.is_some_and(is_raid),
            ActivationMode::Partial => true,
        };
        let root = self.root.map_or_else(|| lv.name.clone(), |r| r.name.clone());
        let (vg, lvn) = (self.vg.name.clone(), lv.name.clone());
        let detail = || Box::new(MissingPvDetail { vg, lv: lvn, root, pv: p.key.clone(), pv_uuid: p.id });
        if !allowed {
            return Err(Error::MissingPv(detail()));
        }
        if self.thin_parts.contains(lv.name.as_str()) {
            return Err(Error::IncompletePool(detail()));
        }
        // `_add_error_or_zero_device`: one error device per missing area, as long as the whole
        // segment; a PV area maps it from offset 0.
        let layer = format!("missing_{segno}_{s}");
        let (name, uuid) = self.name_uuid(lv, Some(&layer), Some(&layer))?;
        if !self.by_uuid.contains_key(uuid.as_str()) {
            let mut table = Table::new();
            table.push(Sectors(seg_len(seg) * self.ext()), Target::Error(ErrorTarget));
            self.by_uuid.insert(uuid.to_string(), self.devices.len());
            self.devices.push(PlannedDevice {
                name: name.clone(),
                uuid,
                read_only: false,
                table,
                children: Vec::new(),
                lv: lv.name.clone(),
                layer: Some(layer),
                public: false,
                persistent: None,
                messages: None,
                read_ahead: ReadAhead::Auto,
                create_early: Vec::new(),
            });
        }
        Ok((b.child(&name), Sectors(0)))
    }

    /// Does `lv` (or anything below it) have an area on a missing PV?
    fn touches_missing(&self, lv: &LogicalVolume, depth: usize) -> bool {
        depth < 64
            && lv.segments.iter().any(|seg| {
                seg.pv_extents().iter().any(|(pv, _, _)| self.pvs.get(*pv).is_some_and(Option::is_none))
                    || seg
                        .lv_refs()
                        .iter()
                        .any(|n| self.lvs.get(n).is_some_and(|l| self.touches_missing(l, depth + 1)))
            })
    }

    /// lvm2's `_partial_raid_lv_is_redundant`.
    fn check_redundancy(&self, lv: &LogicalVolume, seg: &Segment) -> Result<()> {
        let SegmentKind::Raid { areas, .. } = &seg.kind else { return Ok(()) };
        let failed: Vec<bool> = areas
            .iter()
            .map(|a| {
                std::iter::once(&a.data)
                    .chain(a.meta.as_ref())
                    .any(|n| self.lvs.get(n.as_str()).is_some_and(|l| self.touches_missing(l, 0)))
            })
            .collect();
        let nfailed = failed.iter().filter(|&&f| f).count();
        if nfailed == 0 {
            return Ok(());
        }
        let parity = raid_type(&seg.segtype.name).map_or(0, |t| t.1) as usize;
        let ok = if matches!(seg.segtype.name.as_str(), "raid10" | "raid10_near") {
            // Only 2-way mirror groups, as lvm2 ("FIXME: We only support 2-way mirrors").
            let copies = 2;
            let mut per_group = 0;
            let mut ok = true;
            for i in 0..areas.len() * copies {
                if i % copies == 0 {
                    per_group = 0;
                }
                if failed[i % areas.len()] {
                    per_group += 1;
                }
                if per_group >= copies {
                    ok = false;
                    break;
                }
            }
            ok
        } else {
            nfailed < areas.len() && (parity == 0 || nfailed <= parity)
        };
        if ok {
            Ok(())
        } else {
            Err(Error::TooDegraded {
                vg: self.vg.name.clone(),
                lv: lv.name.clone(),
                failed: nfailed,
                images: areas.len(),
            })
        }
    }

    fn add_segment(
        &mut self,
        lv: &'a LogicalVolume,
        segno: usize,
        seg: &Segment,
        b: &mut Builder,
        messages: &mut Option<PoolMessages>,
    ) -> Result<()> {
        let ext = self.ext();
        let len = Sectors(seg_len(seg) * ext);
        match &seg.kind {
            SegmentKind::Striped { stripe_size, areas } => {
                let mut stripes = Vec::with_capacity(areas.len());
                for (s, a) in areas.iter().enumerate() {
                    let (dev, offset) = match &a.target {
                        AreaTarget::Pv(pv) => self.pv_area(lv, (segno, s), (*pv, a.start), seg, b)?,
                        AreaTarget::Lv(n) => self.lv_area(lv, n, a.start, b)?,
                    };
                    stripes.push(Stripe { dev, offset });
                }
                let target = match stripes.len() {
                    0 => return Err(self.invalid(&lv.name, "a striped segment without areas")),
                    1 => {
                        let s = stripes.remove(0);
                        Target::Linear(Linear { dev: s.dev, offset: s.offset })
                    }
                    _ => Target::Striped(Striped { chunk_size: Sectors(stripe_size.unwrap_or(0)), stripes }),
                };
                b.table.push(len, target);
            }
            SegmentKind::Mirror { extents_moved, mirror_log, region_size, areas, .. } => {
                // lvm2's `_mirrored_add_target_line`. A pvmove segment (`extents_moved` set):
                // done ones map the destination (area 1), the first one not done is the running
                // mirror, later ones map the source (area 0); a segment of one area (under
                // conversion) maps it.
                let (mut first, mut count) = (0, areas.len());
                let mut running = areas.len() > 1;
                if let Some(moved) = extents_moved {
                    if *moved == seg.extent_count {
                        (first, running) = (1, false);
                    } else {
                        if b.pvmove_mirrors > 0 {
                            (count, running) = (1, false);
                        }
                        b.pvmove_mirrors += 1;
                    }
                }
                if !running {
                    let a = areas.get(first).ok_or_else(|| {
                        self.invalid(&lv.name, format!("a pvmove segment with {} area(s)", areas.len()))
                    })?;
                    let (dev, offset) = self.area(lv, (segno, first), a, seg, b)?;
                    b.table.push(len, Target::Linear(Linear { dev, offset }));
                    return Ok(());
                }
                let (region, kind) = if extents_moved.is_some() {
                    // pvmove: a core log, lvm2's default region size cut to the segment.
                    let max = seg.extent_count * ext;
                    let region = if PVMOVE_REGION_SECTORS > max && max > 0 {
                        1 << (63 - max.leading_zeros())
                    } else {
                        PVMOVE_REGION_SECTORS
                    };
                    (region, MirrorLogKind::Core)
                } else {
                    let region = region_size
                        .ok_or_else(|| self.invalid(&lv.name, "a mirror segment without region_size"))?;
                    let kind = match mirror_log {
                        Some(l) => {
                            let d = self.add_lv(self.lv(lv, l)?, None)?;
                            MirrorLogKind::Disk(b.child(&d))
                        }
                        None => MirrorLogKind::Core,
                    };
                    (region, kind)
                };
                let mut legs = Vec::with_capacity(count);
                for (s, a) in areas.iter().enumerate().take(count) {
                    let (dev, offset) = self.area(lv, (segno, s), a, seg, b)?;
                    legs.push(MirrorLeg { dev, offset });
                }
                let m = Mirror {
                    log: MirrorLog { kind, region_size: Sectors(region), sync: None },
                    legs,
                    features: MirrorFeatures {
                        // Never on a pvmove (lvm2's `_add_log`).
                        handle_errors: self.opts.mirror_handle_errors && extents_moved.is_none(),
                        keep_log: false,
                    },
                };
                b.table.push(len, Target::Mirror(m));
            }
            SegmentKind::Raid {
                region_size,
                stripe_size,
                writebehind,
                min_recovery_rate,
                max_recovery_rate,
                data_offset,
                areas,
                ..
            } => {
                let t = seg.segtype.name.as_str();
                let (raid_type, _) = raid_type(t).ok_or_else(|| self.unsupported(lv, t))?;
                if self.opts.mode == ActivationMode::Degraded {
                    self.check_redundancy(lv, seg)?;
                }
                let raid0 = raid_type == RaidType::Raid0;
                let mut r = Raid::new(raid_type, Sectors(stripe_size.unwrap_or(0)), Vec::new());
                let mut delta: i64 = 0;
                for (s, a) in areas.iter().enumerate() {
                    let data_lv = self.lv(lv, &a.data)?;
                    if data_lv.status.has("REBUILD") {
                        r.rebuild.push(s as u32);
                    }
                    if has_status_or_segflag(data_lv, "RESHAPE_DELTA_DISKS_PLUS") {
                        delta += 1;
                    } else if has_status_or_segflag(data_lv, "RESHAPE_DELTA_DISKS_MINUS") {
                        delta -= 1;
                    }
                    if raid_type == RaidType::Raid1 && data_lv.status.has("WRITEMOSTLY") {
                        r.write_mostly.push(s as u32);
                    }
                    // An image split off with --trackchanges (visible, not writable) is `- -`.
                    if data_lv.is_visible() && !data_lv.is_writable() {
                        r.devices.push(RaidDevice { meta: None, data: None });
                        continue;
                    }
                    let meta = match &a.meta {
                        Some(m) => {
                            let d = self.add_lv(self.lv(lv, m)?, None)?;
                            Some(b.child(&d))
                        }
                        None => None,
                    };
                    let d = self.add_lv(data_lv, None)?;
                    r.devices.push(RaidDevice { meta, data: Some(b.child(&d)) });
                }
                if raid0 {
                    r.rebuild.clear();
                } else {
                    r.region_size = region_size.filter(|&v| v > 0).map(Sectors);
                    r.min_recovery_rate = min_recovery_rate.filter(|&v| v > 0);
                    r.max_recovery_rate = max_recovery_rate.filter(|&v| v > 0);
                    r.delta_disks = (delta != 0).then_some(delta);
                    // lvm2 keeps a written 0 as 1 internally and passes 1 as 0.
                    r.data_offset = data_offset.map(|v| Sectors(if v <= 1 { 0 } else { v }));
                }
                if raid_type == RaidType::Raid1 {
                    r.max_write_behind = writebehind.filter(|&v| v > 0);
                } else {
                    r.write_mostly.clear();
                }
                if raid_type == RaidType::Raid10 {
                    let copies = seg.data_copies.unwrap_or(2);
                    r.raid10_copies = (copies > 1).then(|| u32::try_from(copies).unwrap_or(u32::MAX));
                }
                b.table.push(len, Target::Raid(r));
            }
            SegmentKind::ThinPool {
                metadata,
                pool,
                transaction_id,
                chunk_size,
                discards,
                zero_new_blocks,
                crop_metadata,
                messages: msgs,
            } => {
                if *chunk_size < 128 || *chunk_size > 2_097_152 || !chunk_size.is_multiple_of(128) {
                    return Err(self.invalid(&lv.name, format!("thin pool chunk size {chunk_size} sectors")));
                }
                let meta_lv = self.lv(lv, metadata)?;
                let data_lv = self.lv(lv, pool)?;
                let m = self.add_lv(meta_lv, None)?;
                if *crop_metadata == Some(1) {
                    self.crop(&m, THIN_MAX_METADATA_SECTORS);
                }
                let d = self.add_lv(data_lv, None)?;
                let (metadata, data) = (b.child(&m), b.child(&d));
                let features = ThinPoolFeatures {
                    skip_block_zeroing: zero_new_blocks.unwrap_or(0) == 0,
                    ignore_discard: match discards.as_deref() {
                        None | Some("ignore") => true,
                        Some("nopassdown") | Some("passdown") => false,
                        Some(other) => {
                            return Err(self.invalid(&lv.name, format!("thin pool discards {other:?}")));
                        }
                    },
                    no_discard_passdown: discards.as_deref() == Some("nopassdown"),
                    read_only: false,
                    error_if_no_space: lv.has_flag("ERROR_WHEN_FULL") || lv.status.has("ERROR_WHEN_FULL"),
                };
                let threshold = u64::from(self.opts.thin_pool_autoextend_threshold.max(50));
                let low_water_mark = if threshold < 100 {
                    self.lv_size(data_lv).0 / chunk_size * (100 - threshold) / 100
                } else {
                    0
                };
                *messages = self.pool_messages(lv, *transaction_id, msgs)?;
                let t =
                    ThinPool { metadata, data, block_size: Sectors(*chunk_size), low_water_mark, features };
                b.table.push(len, Target::ThinPool(t));
            }
            SegmentKind::Thin { thin_pool, device_id, external_origin, merge, .. } => {
                if merge.is_some() {
                    // lvm2 hides a merging thin snapshot; its origin takes its device id.
                    return Err(Error::NotActivatable {
                        vg: self.vg.name.clone(),
                        lv: lv.name.clone(),
                        why: "it is a thin snapshot being merged; activate its origin",
                    });
                }
                let pool_lv = self.lv(lv, thin_pool)?;
                if !is_thin_pool(pool_lv) {
                    return Err(self.invalid(&lv.name, format!("thin_pool {thin_pool} is not a thin pool")));
                }
                // A thin origin with a thin snapshot merging into it (`lvconvert --merge`
                // deferred to this activation): "merge support for thinp snapshots is
                // implemented by simply swapping the thinp device_id of the snapshot and origin".
                let device_id = self.merging_thin_snapshot(lv).map_or(*device_id, |(_, id)| id);
                let device_id = u32::try_from(device_id)
                    .ok()
                    .filter(|&d| d <= lvmkit_dm::target::MAX_THIN_DEVICE_ID)
                    .ok_or_else(|| self.invalid(&lv.name, format!("thin device_id {device_id}")))?;
                let p = self.add_lv(pool_lv, Some("tpool"))?;
                let pool = b.child(&p);
                let external_origin = match external_origin {
                    Some(e) => {
                        let d = self.add_lv(self.lv(lv, e)?, Some("real"))?;
                        Some(b.child(&d))
                    }
                    None => None,
                };
                b.table.push(len, Target::Thin(Thin { pool, device_id, external_origin }));
            }
            SegmentKind::Cache { cache_pool, origin, settings } => {
                let pool_lv = self.lv(lv, cache_pool)?;
                let cachevol =
                    pool_lv.is_cachevol() || seg.segtype.flags.iter().any(|f| f == "CACHE_USES_CACHEVOL");
                // With a cachevol the settings are the cache segment's (lvm2's `setting_seg`) —
                // the policy name too, as newer lvm2 has it; 2.03.16 took the policy
                // from the cachevol's linear segment, which has none, and so always loaded "mq"
                // (an alias of smq in every kernel since 4.6).
                let (set, pool_parts) = if cachevol {
                    let set = CacheSettings {
                        chunk_size: int_item(settings, "chunk_size").and_then(|v| u64::try_from(v).ok()),
                        metadata_format: int_item(settings, "metadata_format")
                            .and_then(|v| u64::try_from(v).ok()),
                        cache_mode: str_item(settings, "cache_mode"),
                        policy: str_item(settings, "policy"),
                        policy_settings: section_item(settings, "policy_settings"),
                    };
                    (set, None)
                } else {
                    let Some(SegmentKind::CachePool {
                        data,
                        metadata,
                        metadata_format,
                        chunk_size,
                        cache_mode,
                        policy,
                        policy_settings,
                    }) = pool_lv.segments.first().map(|s| &s.kind)
                    else {
                        return Err(
                            self.invalid(&lv.name, format!("cache_pool {cache_pool} is not a cache pool"))
                        );
                    };
                    let set = CacheSettings {
                        chunk_size: *chunk_size,
                        metadata_format: *metadata_format,
                        cache_mode: cache_mode.as_deref(),
                        policy: policy.as_deref(),
                        policy_settings: policy_settings.as_ref(),
                    };
                    (set, Some((data, metadata)))
                };
                let what = if cachevol { "a cache with a cachevol" } else { "a cache pool" };
                let chunk = set
                    .chunk_size
                    .ok_or_else(|| self.invalid(cache_pool, format!("{what} without chunk_size")))?;
                if !(64..=2_097_152).contains(&chunk) {
                    return Err(self.invalid(cache_pool, format!("cache chunk size {chunk} sectors")));
                }
                let cleaner = int_item(settings, "cleaner").is_some_and(|v| v != 0);
                let metadata2 = match set.metadata_format.unwrap_or(1) {
                    1 => false,
                    2 => true,
                    other => return Err(self.invalid(cache_pool, format!("cache metadata_format {other}"))),
                };
                let mode = if cleaner {
                    CacheMode::Writethrough
                } else {
                    match set.cache_mode {
                        None | Some("writethrough") => CacheMode::Writethrough,
                        Some("writeback") => CacheMode::Writeback,
                        Some("passthrough") => CacheMode::Passthrough,
                        Some(other) => return Err(self.invalid(cache_pool, format!("cache_mode {other:?}"))),
                    }
                };
                // An undefined policy name is an old "mq" pool.
                let policy =
                    if cleaner { "cleaner".to_string() } else { set.policy.unwrap_or("mq").to_string() };
                let mut migration_threshold = CACHE_DEFAULT_MIGRATION_THRESHOLD;
                let mut policy_args = Vec::new();
                if let (false, Some(ps)) = (cleaner, set.policy_settings) {
                    for item in &ps.items {
                        let Node::Value(Value::Scalar(Scalar::Int(v))) = &item.node else {
                            return Err(self.invalid(
                                cache_pool,
                                format!("cache policy setting {} is not an integer", item.key),
                            ));
                        };
                        if item.key == "migration_threshold" {
                            migration_threshold = u64::try_from(*v).unwrap_or(0);
                        } else {
                            policy_args.push((item.key.to_string(), v.to_string()));
                        }
                    }
                }
                // "Always some throughput available for cache to proceed".
                migration_threshold = migration_threshold.max(chunk * 8);
                if migration_threshold != CACHE_DEFAULT_MIGRATION_THRESHOLD {
                    policy_args
                        .insert(0, ("migration_threshold".to_string(), migration_threshold.to_string()));
                }
                // lvm2 links data, metadata, then origin: that is the creation order.
                let (cdata, cmeta) = match pool_parts {
                    Some((data, metadata)) => (
                        self.add_lv(self.lv(pool_lv, data)?, None)?,
                        self.add_lv(self.lv(pool_lv, metadata)?, None)?,
                    ),
                    None => {
                        let areas = self.cachevol_areas(lv, pool_lv, settings)?;
                        // The cachevol's own device, then `-cdata` and `-cmeta`: linear over its
                        // data and metadata areas (lvm2's `_add_new_cvol_subdev_to_dtree`).
                        let cvol = self.add_lv(pool_lv, None)?;
                        let cdata =
                            self.add_cvol_part(lv, pool_lv, &cvol, "cdata", areas.data, areas.data_id)?;
                        let cmeta = self.add_cvol_part(
                            lv,
                            pool_lv,
                            &cvol,
                            "cmeta",
                            areas.metadata,
                            areas.metadata_id,
                        )?;
                        (cdata, cmeta)
                    }
                };
                let corig = self.add_lv(self.lv(lv, origin)?, None)?;
                let (metadata, cache, origin) = (b.child(&cmeta), b.child(&cdata), b.child(&corig));
                let c = Cache {
                    metadata,
                    cache,
                    origin,
                    block_size: Sectors(chunk),
                    features: CacheFeatures { metadata2, mode: Some(mode), no_discard_passdown: false },
                    policy,
                    policy_args,
                };
                b.table.push(len, Target::Cache(c));
            }
            SegmentKind::Error => b.table.push(len, Target::Error(ErrorTarget)),
            SegmentKind::Zero => b.table.push(len, Target::Zero(Zero)),
            SegmentKind::CachePool { .. } => {
                return Err(Error::NotActivatable {
                    vg: self.vg.name.clone(),
                    lv: lv.name.clone(),
                    why: "a cache pool has no device of its own",
                });
            }
            SegmentKind::Snapshot { .. } => {
                return Err(Error::NotActivatable {
                    vg: self.vg.name.clone(),
                    lv: lv.name.clone(),
                    why: "it is a snapshot's internal glue LV",
                });
            }
            SegmentKind::Writecache { writecache, origin, settings } => {
                let cvol_lv = self.lv(lv, writecache)?;
                let block_size = int_item(settings, "writecache_block_size")
                    .and_then(|v| u32::try_from(v).ok())
                    .filter(|v| *v == 512 || *v == 4096)
                    .ok_or_else(|| self.invalid(&lv.name, "writecache_block_size must be 512 or 4096"))?;
                let options = self.writecache_options(lv, settings)?;
                // lvm2 links the cache device, then the origin: that is the creation order.
                let cvol = self.add_lv(cvol_lv, None)?;
                let worig = self.add_lv(self.lv(lv, origin)?, None)?;
                let (cache, origin) = (b.child(&cvol), b.child(&worig));
                // `p` only on persistent memory (lvm2's `lv_on_pmem`, a sysfs `dax` check this
                // pure planner cannot make): an SSD cachevol, as everywhere else.
                let w = Writecache { pmem: false, origin, cache, block_size, options };
                b.table.push(len, Target::Writecache(w));
            }
            SegmentKind::Integrity { origin, meta_dev, settings } => {
                let t = self.integrity(lv, origin, meta_dev.as_deref(), settings, b)?;
                // The table is `data_sectors` long (lvm2's `_integrity_add_target_line`).
                let data_sectors = int_item(settings, "data_sectors")
                    .and_then(|v| u64::try_from(v).ok())
                    .filter(|&v| v > 0)
                    .ok_or_else(|| self.invalid(&lv.name, "integrity without data_sectors"))?;
                b.table.push(Sectors(data_sectors), Target::Integrity(t));
            }
            SegmentKind::Vdo { .. }
            | SegmentKind::VdoPool { .. }
            | SegmentKind::Free
            | SegmentKind::Unknown { .. } => return Err(self.unsupported(lv, seg.segtype.to_text())),
        }
        Ok(())
    }

    /// `crop_metadata`: the pool's metadata device is cut to what the kernel can use. (lvm2
    /// shrinks later segments to length 0, a FIXME there; here they are dropped.)
    fn crop(&mut self, name: &DmName, max: u64) {
        let Some(d) = self.devices.iter_mut().find(|d| &d.name == name) else { return };
        let mut kept = Vec::new();
        for mut l in std::mem::take(&mut d.table.lines) {
            if l.start.0 >= max {
                break;
            }
            l.length = Sectors(l.length.0.min(max - l.start.0));
            kept.push(l);
        }
        d.table.lines = kept;
    }

    /// Queued pool messages → kernel messages (`_thin_pool_add_target_line`).
    fn pool_messages(
        &self,
        pool: &LogicalVolume,
        tid: u64,
        msgs: &[ThinMessage],
    ) -> Result<Option<PoolMessages>> {
        if msgs.is_empty() {
            return Ok(None);
        }
        // (device id, thin-snapshot origin) of a thin LV named by a message.
        let thin_id = |name: &str| -> Result<(u32, Option<&'a str>)> {
            let t = self.lv(pool, name)?;
            let Some(SegmentKind::Thin { device_id, origin, .. }) = t.segments.first().map(|s| &s.kind)
            else {
                return Err(
                    self.invalid(&pool.name, format!("pool message creates {name}, which is not a thin LV"))
                );
            };
            let id =
                u32::try_from(*device_id).map_err(|_| self.invalid(&t.name, "device_id out of range"))?;
            Ok((id, origin.as_deref()))
        };
        let mut out = Vec::new();
        for m in msgs {
            out.push(match m {
                ThinMessage::Create(name) => {
                    let (id, origin) = thin_id(name)?;
                    match origin {
                        Some(o) => PoolMessage::CreateSnap(id, thin_id(o)?.0),
                        None => PoolMessage::CreateThin(id),
                    }
                }
                ThinMessage::Delete(id) => PoolMessage::Delete(
                    u32::try_from(*id)
                        .map_err(|_| self.invalid(&pool.name, format!("pool message deletes {id}")))?,
                ),
            });
        }
        let from = tid
            .checked_sub(1)
            .ok_or_else(|| self.invalid(&pool.name, "queued pool messages with transaction_id 0"))?;
        out.push(PoolMessage::SetTransactionId(from, tid));
        Ok(Some(PoolMessages { from_transaction_id: from, to_transaction_id: tid, messages: out }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvmkit_dm::DevNum;
    use lvmkit_metadata::import::parse_metadata;

    const VGID: &str = "Vgidvg-idvg-idvg-idvg-idvg-idvg-idvgid";

    /// An id from an LV name (alphanumerics, padded).
    fn id_for(name: &str) -> String {
        let mut s: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
        while s.len() < 32 {
            s.push('x');
        }
        s.truncate(32);
        s
    }

    /// An LV section: `status` words, optional `flags`, one segment per `segs` entry (each the
    /// lines after `extent_count`, with its length first).
    fn lv_text(name: &str, status: &str, flags: &str, segs: &[(u64, &str)]) -> String {
        let mut t = format!(
            "{name} {{\nid = \"{}\"\nstatus = [{status}]\nflags = [{flags}]\nsegment_count = {}\n",
            id_for(name),
            segs.len()
        );
        let mut le = 0;
        for (i, (n, body)) in segs.iter().enumerate() {
            t += &format!("segment{} {{\nstart_extent = {le}\nextent_count = {n}\n{body}\n}}\n", i + 1);
            le += n;
        }
        t + "}\n"
    }

    const V: &str = "\"READ\", \"WRITE\", \"VISIBLE\"";
    const H: &str = "\"READ\", \"WRITE\"";

    fn linear_on(pv: u32, pe: u64) -> String {
        format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pv{pv}\", {pe}]")
    }

    fn hidden(name: &str, pv: u32, pe: u64, n: u64) -> String {
        lv_text(name, H, "", &[(n, &linear_on(pv, pe))])
    }

    fn vg_with(extra_vg: &str, lvs: &str) -> VolumeGroup {
        let pv = |k: u32| {
            format!(
                "pv{k} {{\nid = \"PVid{k}x-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx\"\nstatus = [\"ALLOCATABLE\"]\n\
                 pe_start = 2048\npe_count = 100000\n}}\n"
            )
        };
        let text = format!(
            "vg {{\nid = \"{VGID}\"\nseqno = 1\nstatus = [\"READ\", \"WRITE\"{extra_vg}]\nextent_size = 2048\n\
             max_lv = 0\nmax_pv = 0\nphysical_volumes {{\n{}{}}}\nlogical_volumes {{\n{lvs}}}\n}}\n",
            pv(0),
            pv(1)
        );
        parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}")).vg
    }

    fn vg(lvs: &str) -> VolumeGroup {
        vg_with("", lvs)
    }

    fn both() -> [Option<DevRef>; 2] {
        [Some(DevRef::Num(DevNum::new(8, 0))), Some(DevRef::Num(DevNum::new(8, 16)))]
    }

    fn tables(p: &Plan) -> String {
        p.devices.iter().map(|d| format!("{} {}\n", d.name, d.table)).collect()
    }

    fn plan_all(v: &VolumeGroup) -> Plan {
        plan(v, &both(), &PlanOptions::default()).unwrap()
    }

    #[test]
    fn adjacent_segments_merge_like_lvm2() {
        let v = vg(&(lv_text(
            "a",
            V,
            "",
            &[(4, &linear_on(0, 0)), (4, &linear_on(0, 4)), (2, &linear_on(1, 0))],
        ) + &lv_text(
            "s",
            V,
            "",
            &[
                (
                    4,
                    "type = \"striped\"\nstripe_count = 2\nstripe_size = 16\nstripes = [\"pv0\", 10, \"pv1\", 10]",
                ),
                (
                    2,
                    "type = \"striped\"\nstripe_count = 2\nstripe_size = 16\nstripes = [\"pv0\", 12, \"pv1\", 12]",
                ),
            ],
        )));
        assert_eq!(
            tables(&plan_all(&v)),
            "vg-a 0 16384 linear 8:0 2048\n16384 4096 linear 8:16 2048\n\
             vg-s 0 12288 striped 2 16 8:0 22528 8:16 22528\n"
        );
    }

    #[test]
    fn merging_snapshot() {
        let v = vg(&(lv_text("o", V, "", &[(4, &linear_on(0, 0))])
            + &hidden("c", 0, 10, 2)
            + &lv_text(
                "snapshot0",
                V,
                "",
                &[(4, "type = \"snapshot\"\nchunk_size = 16\norigin = \"o\"\nmerging_store = \"c\"")],
            )));
        assert_eq!(
            tables(&plan_all(&v)),
            "vg-o-real 0 8192 linear 8:0 2048\n\
             vg-c-cow 0 4096 linear 8:0 22528\n\
             vg-c 0 8192 error\n\
             vg-o 0 8192 snapshot-merge <vg-o-real> <vg-c-cow> P 16\n"
        );
        // lvm2 creates the origin's device right after its children `-real` and the merging
        // `-cow` (its number), resumes it last.
        let p = plan_all(&v);
        let early: Vec<(&str, Vec<&str>)> = p
            .devices
            .iter()
            .filter(|d| !d.create_early.is_empty())
            .map(|d| (d.name.as_str(), d.create_early.iter().map(|n| n.as_str()).collect()))
            .collect();
        assert_eq!(early, [("vg-c-cow", vec!["vg-o"])]);
        // lvm2's lv_is_visible: a merging snapshot's COW is hidden (no /dev/vg/c, udev rules
        // off); one that does not merge is as visible as its origin, hidden or not.
        assert!(!p.device("vg-c").unwrap().public);
        for (origin_status, public) in [(V, true), (H, false)] {
            let v = vg(&(lv_text("o", origin_status, "", &[(4, &linear_on(0, 0))])
                + &hidden("c", 0, 10, 2)
                + &lv_text(
                    "snapshot0",
                    V,
                    "",
                    &[(4, "type = \"snapshot\"\nchunk_size = 16\norigin = \"o\"\ncow_store = \"c\"")],
                )));
            let p = plan(&v, &both(), &PlanOptions { lvs: Some(vec!["c".into()]), ..Default::default() })
                .unwrap();
            assert_eq!(p.device("vg-c").unwrap().public, public, "origin {origin_status}");
        }
    }

    fn pool(name: &str, tid: u64, extra: &str) -> String {
        lv_text(
            name,
            V,
            "",
            &[(
                4,
                &format!(
                    "type = \"thin-pool\"\nmetadata = \"{name}_tmeta\"\npool = \"{name}_tdata\"\ntransaction_id = {tid}\n\
                 chunk_size = 128\n{extra}"
                ),
            )],
        ) + &hidden(&format!("{name}_tmeta"), 0, 50, 1)
            + &hidden(&format!("{name}_tdata"), 1, 50, 4)
    }

    fn thin(name: &str, pool: &str, id: u64, extra: &str) -> String {
        lv_text(
            name,
            V,
            "",
            &[(
                8,
                &format!(
                    "type = \"thin\"\nthin_pool = \"{pool}\"\ntransaction_id = 0\ndevice_id = {id}\n{extra}"
                ),
            )],
        )
    }

    #[test]
    fn new_thin_pool_is_one_writable_device() {
        let v = vg(&pool("p", 0, "zero_new_blocks = 0\ndiscards = \"ignore\""));
        let p = plan_all(&v);
        assert_eq!(
            tables(&p),
            "vg-p_tmeta 0 2048 linear 8:0 104448\n\
             vg-p_tdata 0 8192 linear 8:16 104448\n\
             vg-p 0 8192 thin-pool <vg-p_tmeta> <vg-p_tdata> 128 0 2 skip_block_zeroing ignore_discard\n"
        );
        let d = p.device("vg-p").unwrap();
        assert!(d.uuid.ends_with("-tpool") && !d.read_only && d.public);
        assert_eq!(d.layer, None);
    }

    #[test]
    fn pool_messages_and_features() {
        let lvs = pool(
            "p",
            5,
            "zero_new_blocks = 1\ndiscards = \"nopassdown\"\nmessage1 {\ncreate = \"t2\"\n}\nmessage2 {\ndelete = 7\n}",
        ) + &thin("t1", "p", 3, "")
            + &thin("t2", "p", 4, "origin = \"t1\"")
            + &thin("t3", "p", 5, "");
        let lvs = lvs.replacen("flags = []\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"thin-pool\"",
            "flags = [\"ERROR_WHEN_FULL\"]\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"thin-pool\"", 1);
        let v = vg(&lvs);
        let p = plan_all(&v);
        let tp = p.device("vg-p-tpool").unwrap();
        assert_eq!(
            tp.table.to_string(),
            "0 8192 thin-pool <vg-p_tmeta> <vg-p_tdata> 128 0 2 no_discard_passdown error_if_no_space"
        );
        let m = tp.messages.as_ref().unwrap();
        assert_eq!((m.from_transaction_id, m.to_transaction_id), (4, 5));
        let text: Vec<String> = m.messages.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["create_snap 4 3", "delete 7", "set_transaction_id 4 5"]);
        assert!(
            p.to_string()
                .contains("messages(at transaction 4)=[create_snap 4 3, delete 7, set_transaction_id 4 5]")
        );
        assert_eq!(p.device("vg-t2").unwrap().table.to_string(), "0 16384 thin <vg-p-tpool> 4");
    }

    #[test]
    fn external_origin() {
        let v = vg(&(pool("p", 1, "zero_new_blocks = 1\ndiscards = \"passdown\"")
            + &lv_text("ext", "\"READ\", \"VISIBLE\"", "", &[(8, &linear_on(0, 0))])
            + &thin("t", "p", 1, "external_origin = \"ext\"")));
        let p = plan_all(&v);
        assert_eq!(
            tables(&p),
            "vg-p_tmeta 0 2048 linear 8:0 104448\n\
             vg-p_tdata 0 8192 linear 8:16 104448\n\
             vg-p-tpool 0 8192 thin-pool <vg-p_tmeta> <vg-p_tdata> 128 0 0\n\
             vg-p 0 8192 linear <vg-p-tpool> 0\n\
             vg-ext-real 0 16384 linear 8:0 2048\n\
             vg-ext 0 16384 linear <vg-ext-real> 0\n\
             vg-t 0 16384 thin <vg-p-tpool> 1 <vg-ext-real>\n"
        );
        assert!(p.device("vg-ext-real").unwrap().read_only, "no WRITE");
        assert!(p.device("vg-ext").unwrap().public);
    }

    /// A pvmove in progress (lvm2 2.03.16's metadata after `pvmove` was stopped midway): the
    /// moved LVs map the `pvmove0` LV, whose done segments map the destination, the first one not
    /// done is a core-log mirror (region cut to the segment) and later ones map the source.
    #[test]
    fn pvmove_in_progress() {
        let locked = "\"READ\", \"WRITE\", \"VISIBLE\", \"LOCKED\"";
        let on_pvmove =
            |le: u64| format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pvmove0\", {le}]");
        let moving = |from: u64, to: u64, moved: u64| {
            format!(
                "type = \"mirror\"\nmirror_count = 2\nextents_moved = {moved}\nmirrors = [\"pv0\", {from}, \"pv1\", {to}]"
            )
        };
        let v = vg(&(lv_text("a", locked, "", &[(2, &on_pvmove(0)), (1, &on_pvmove(2))])
            + &lv_text("b", locked, "", &[(1, &on_pvmove(3))])
            + &lv_text(
                "pvmove0",
                "\"READ\", \"WRITE\", \"PVMOVE\", \"LOCKED\"",
                "",
                &[(2, &moving(10, 0, 2)), (1, &moving(20, 2, 0)), (1, &moving(30, 4, 0))],
            )));
        let only_a = PlanOptions { lvs: Some(vec!["a".into()]), ..Default::default() };
        let p = plan(&v, &both(), &only_a).unwrap();
        // Activating `a` activates `b` too: both are on pvmove0.
        assert_eq!(
            tables(&p),
            "vg-pvmove0 0 4096 linear 8:16 2048\n\
             4096 2048 mirror core 1 2048 2 8:0 43008 8:16 6144\n\
             6144 2048 linear 8:0 63488\n\
             vg-b 0 2048 linear <vg-pvmove0> 6144\n\
             vg-a 0 4096 linear <vg-pvmove0> 0\n\
             4096 2048 linear <vg-pvmove0> 4096\n"
        );
        assert!(!p.device("vg-pvmove0").unwrap().public && p.device("vg-a").unwrap().public);
        // The whole VG: the same devices; the pvmove LV is no root of its own.
        assert_eq!(tables(&plan_all(&v)), tables(&p));
        // Nothing copied yet: the first segment is the running mirror (the default region
        // within a longer segment), the others map the source.
        let fresh = v.clone();
        let mut fresh = fresh;
        if let SegmentKind::Mirror { extents_moved, .. } =
            &mut fresh.lvs.iter_mut().find(|l| l.name == "pvmove0").unwrap().segments[0].kind
        {
            *extents_moved = Some(1);
        }
        assert_eq!(
            plan_all(&fresh).device("vg-pvmove0").unwrap().table.to_string(),
            "0 4096 mirror core 1 4096 2 8:0 22528 8:16 2048\n\
             4096 2048 linear 8:0 43008\n\
             6144 2048 linear 8:0 63488"
        );
        // The source PV missing: refused naming the pvmove LV (complete mode).
        match plan(&v, &[None, both()[1].clone()], &PlanOptions::default()) {
            Err(Error::MissingPv(d)) => assert_eq!((d.lv.as_str(), d.pv.as_str()), ("pvmove0", "pv0")),
            other => panic!("{other:?}"),
        }
    }

    /// A mirror whose log is itself a mirror (`--mirrorlog mirrored`): the log's legs and its
    /// core-log mirror first, then the legs, then the mirror over the log device.
    #[test]
    fn mirror_with_a_mirrored_log() {
        let mirror = |legs: [&str; 2], log: &str| {
            format!(
                "type = \"mirror\"\nmirror_count = 2\n{log}region_size = 1024\nmirrors = [\"{}\", 0, \"{}\", 0]",
                legs[0], legs[1]
            )
        };
        let v =
            vg(&(lv_text(
                "m",
                V,
                "",
                &[(4, &mirror(["m_mimage_0", "m_mimage_1"], "mirror_log = \"m_mlog\"\n"))],
            ) + &lv_text("m_mlog", H, "", &[(1, &mirror(["m_mlog_mimage_0", "m_mlog_mimage_1"], ""))])
                + &hidden("m_mlog_mimage_0", 0, 20, 1)
                + &hidden("m_mlog_mimage_1", 1, 20, 1)
                + &hidden("m_mimage_0", 0, 0, 4)
                + &hidden("m_mimage_1", 1, 0, 4)));
        assert_eq!(
            tables(&plan_all(&v)),
            "vg-m_mlog_mimage_0 0 2048 linear 8:0 43008\n\
             vg-m_mlog_mimage_1 0 2048 linear 8:16 43008\n\
             vg-m_mlog 0 2048 mirror core 1 1024 2 <vg-m_mlog_mimage_0> 0 <vg-m_mlog_mimage_1> 0 1 handle_errors\n\
             vg-m_mimage_0 0 8192 linear 8:0 2048\n\
             vg-m_mimage_1 0 8192 linear 8:16 2048\n\
             vg-m 0 8192 mirror disk 2 <vg-m_mlog> 1024 2 <vg-m_mimage_0> 0 <vg-m_mimage_1> 0 1 handle_errors\n"
        );
    }

    /// `lvconvert --merge` of a thin snapshot whose origin was inactive: the merge starts at the
    /// origin's next activation, which loads the origin with the snapshot's device id; the
    /// snapshot (hidden) is not activated.
    #[test]
    fn thin_snapshot_merging_into_its_origin() {
        let v = vg(&(pool("p", 2, "zero_new_blocks = 1")
            + &thin("t", "p", 1, "")
            + &lv_text(
                "s",
                H,
                "",
                &[(
                    8,
                    "type = \"thin\"\nthin_pool = \"p\"\ntransaction_id = 1\ndevice_id = 2\norigin = \"t\"\nmerge = \"t\"",
                )],
            )));
        let p = plan_all(&v);
        assert_eq!(p.device("vg-t").unwrap().table.to_string(), "0 16384 thin <vg-p-tpool> 2");
        assert!(p.device("vg-s").is_none(), "{p}");
        let only_s = PlanOptions { lvs: Some(vec!["s".into()]), ..Default::default() };
        assert!(matches!(plan(&v, &both(), &only_s), Err(Error::NotActivatable { .. })));
        // Without the merge the origin keeps its own id (negative control).
        let v = vg(&(pool("p", 2, "zero_new_blocks = 1")
            + &thin("t", "p", 1, "")
            + &thin("s", "p", 2, "origin = \"t\"")));
        assert_eq!(plan_all(&v).device("vg-t").unwrap().table.to_string(), "0 16384 thin <vg-p-tpool> 1");
    }

    /// A sparse snapshot (`lvcreate -s --virtualsize`): `vgchange -ay` activates its hidden
    /// zero-backed origin in the snapshot's place, with the snapshot.
    #[test]
    fn sparse_snapshot() {
        let v = vg(&(lv_text("first", V, "", &[(1, &linear_on(0, 0))])
            + &hidden("s", 0, 10, 2)
            + &lv_text("last", V, "", &[(1, &linear_on(0, 1))])
            + &lv_text("lvol0_vorigin", H, "", &[(8, "type = \"zero\"")])
            + &lv_text(
                "snapshot0",
                V,
                "",
                &[(8, "type = \"snapshot\"\nchunk_size = 8\norigin = \"lvol0_vorigin\"\ncow_store = \"s\"")],
            )));
        let p = plan_all(&v);
        let names: Vec<&str> = p.devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["vg-first", "vg-lvol0_vorigin-real", "vg-s-cow", "vg-s", "vg-lvol0_vorigin", "vg-last"]
        );
        assert_eq!(p.device("vg-lvol0_vorigin-real").unwrap().table.to_string(), "0 16384 zero");
        assert_eq!(
            p.device("vg-lvol0_vorigin").unwrap().table.to_string(),
            "0 16384 snapshot-origin <vg-lvol0_vorigin-real>"
        );
        assert!(p.device("vg-s").unwrap().public && !p.device("vg-lvol0_vorigin").unwrap().public);
    }

    #[test]
    fn unsupported_types_are_refused() {
        for (seg, what) in [
            ("type = \"vdo\"\nvdo_pool = \"h\"\nvdo_offset = 0", "vdo"),
            ("type = \"frobnicate\"\nx = 1", "frobnicate"),
            ("type = \"striped+NEWFLAG\"\nstripe_count = 1\nstripes = [\"pv0\", 0]", "striped+NEWFLAG"),
        ] {
            let v =
                vg(&(lv_text("u", V, "", &[(2, seg)]) + &hidden("h", 0, 10, 2) + &hidden("h2", 0, 20, 2)));
            match plan(&v, &both(), &PlanOptions::default()) {
                Err(Error::Unsupported { lv, segtype, .. }) => {
                    assert_eq!((lv.as_str(), segtype.as_str()), ("u", what))
                }
                other => panic!("{what}: {other:?}"),
            }
            // Not asking for it plans the rest.
            let other = PlanOptions { lvs: Some(vec![]), ..Default::default() };
            assert!(plan(&v, &both(), &other).unwrap().devices.is_empty());
        }
    }

    /// `vgchange -ay` skips a VDO pool (its VDO LVs activate it); the VDO LV is refused by name
    /// (no dm-vdo target line: Debian's 6.1 kernels lack the target); the rest is planned.
    #[test]
    fn vdo_is_refused_by_its_lv() {
        let v = vg(&(lv_text("a", V, "", &[(1, &linear_on(0, 0))])
            + &lv_text(
                "vpool",
                V,
                "",
                &[(4, "type = \"vdo-pool\"\ndata = \"vpool_vdata\"\nheader_size = 512")],
            )
            + &hidden("vpool_vdata", 0, 10, 4)
            + &lv_text("vlv", V, "", &[(8, "type = \"vdo\"\nvdo_pool = \"vpool\"\nvdo_offset = 0")])));
        match plan(&v, &both(), &PlanOptions::default()) {
            Err(e @ Error::Unsupported { .. }) => {
                assert_eq!(e.to_string(), "LV vg/vlv: segment type vdo is not supported by lvmkit activation")
            }
            other => panic!("{other:?}"),
        }
        let only_a = PlanOptions { lvs: Some(vec!["a".into()]), ..Default::default() };
        assert_eq!(tables(&plan(&v, &both(), &only_a).unwrap()), "vg-a 0 2048 linear 8:0 2048\n");
        // Naming the pool itself is refused by name too.
        let only_pool = PlanOptions { lvs: Some(vec!["vpool".into()]), ..Default::default() };
        match plan(&v, &both(), &only_pool) {
            Err(Error::Unsupported { lv, segtype, .. }) => {
                assert_eq!((lv.as_str(), segtype.as_str()), ("vpool", "vdo-pool"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cachevol_and_cache_settings() {
        let cache = |pool_seg: &str, cache_extra: &str| {
            vg(&(lv_text(
                "c",
                V,
                "",
                &[(
                    4,
                    &format!("type = \"cache\"\ncache_pool = \"cp\"\norigin = \"c_corig\"\n{cache_extra}"),
                )],
            ) + &lv_text("cp", H, "", &[(2, pool_seg)])
                + &hidden("cp_cdata", 0, 10, 2)
                + &hidden("cp_cmeta", 0, 20, 1)
                + &hidden("c_corig", 1, 0, 4)))
        };
        let seg = |extra: &str| {
            format!(
                "type = \"cache-pool\"\ndata = \"cp_cdata\"\nmetadata = \"cp_cmeta\"\nchunk_size = 512\n{extra}"
            )
        };
        // No mode, no policy, no format: writethrough, "mq", format 1; migration_threshold raised to
        // 8 chunks (4096) and so passed.
        let p = plan_all(&cache(&seg(""), ""));
        assert_eq!(
            p.device("vg-c").unwrap().table.to_string(),
            "0 8192 cache <vg-cp_cmeta> <vg-cp_cdata> <vg-c_corig> 512 1 writethrough mq 2 migration_threshold 4096"
        );
        let p = plan_all(&cache(
            &seg(
                "cache_mode = \"passthrough\"\npolicy = \"smq\"\npolicy_settings {\nmigration_threshold = 2048\nrandom_threshold = 4\n}",
            ),
            "",
        ));
        assert_eq!(
            p.device("vg-c").unwrap().table.to_string(),
            "0 8192 cache <vg-cp_cmeta> <vg-cp_cdata> <vg-c_corig> 512 1 passthrough smq 4 migration_threshold 4096 random_threshold 4"
        );
        // The cleaner policy forces writethrough and drops the settings.
        let p = plan_all(&cache(
            &seg("cache_mode = \"writeback\"\npolicy = \"smq\"\npolicy_settings {\nx = 1\n}"),
            "cleaner = 1",
        ));
        assert_eq!(
            p.device("vg-c").unwrap().table.to_string(),
            "0 8192 cache <vg-cp_cmeta> <vg-cp_cdata> <vg-c_corig> 512 1 writethrough cleaner 2 migration_threshold 4096"
        );
    }

    /// A cache whose cache is a cachevol (`lvconvert --type cache --cachevol`): the settings are
    /// the cache segment's; `<cvol>-cdata` and `<cvol>-cmeta` are linear devices over the
    /// cachevol's areas, with the VG's and `data_id`/`metadata_id`'s uuid (else the cvol's).
    #[test]
    fn cache_with_a_cachevol() {
        let cache = |extra: &str| {
            vg(&(lv_text(
                "main",
                V,
                "",
                &[(
                    4,
                    &format!(
                        "type = \"cache+CACHE_USES_CACHEVOL\"\ncache_pool = \"fast_cvol\"\norigin = \"main_corig\"\n\
                         metadata_format = 2\nchunk_size = 128\ncache_mode = \"writeback\"\npolicy = \"smq\"\n\
                         metadata_start = 0\nmetadata_len = 1024\ndata_start = 1024\ndata_len = 3072\n{extra}"
                    ),
                )],
            ) + &lv_text("fast_cvol", H, "\"CACHE_VOL\"", &[(2, &linear_on(1, 7))])
                + &hidden("main_corig", 0, 0, 4)))
        };
        let p = plan_all(&cache(""));
        assert_eq!(
            tables(&p),
            "vg-fast_cvol 0 4096 linear <pv1> 16384\n\
             vg-fast_cvol-cdata 0 3072 linear <vg-fast_cvol> 1024\n\
             vg-fast_cvol-cmeta 0 1024 linear <vg-fast_cvol> 0\n\
             vg-main_corig 0 8192 linear <pv0> 2048\n\
             vg-main 0 8192 cache <vg-fast_cvol-cmeta> <vg-fast_cvol-cdata> <vg-main_corig> 128 2 metadata2 writeback smq 0\n"
                .replace("<pv0>", "8:0")
                .replace("<pv1>", "8:16")
        );
        let uuid = |n: &str| p.device(n).unwrap().uuid.to_string();
        let (vgid, cvol) = (VGID.replace('-', ""), id_for("fast_cvol"));
        assert_eq!(uuid("vg-fast_cvol"), format!("LVM-{vgid}{cvol}-cvol"));
        assert_eq!(uuid("vg-fast_cvol-cdata"), format!("LVM-{vgid}{cvol}-cdata"));
        assert_eq!(uuid("vg-fast_cvol-cmeta"), format!("LVM-{vgid}{cvol}-cmeta"));
        assert_eq!(uuid("vg-main_corig"), format!("LVM-{vgid}{}-real", id_for("main_corig")));
        assert!(p.devices.iter().all(|d| d.public == (d.name.as_str() == "vg-main")));
        // Own ids for the parts.
        let p = plan_all(&cache(
            "metadata_id = \"Metaid-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx\"\ndata_id = \"Dataid-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx\"",
        ));
        let uuid = |n: &str| p.device(n).unwrap().uuid.to_string();
        assert_eq!(uuid("vg-fast_cvol-cdata"), format!("LVM-{vgid}Dataidxxxxxxxxxxxxxxxxxxxxxxxxxx-cdata"));
        assert_eq!(uuid("vg-fast_cvol-cmeta"), format!("LVM-{vgid}Metaidxxxxxxxxxxxxxxxxxxxxxxxxxx-cmeta"));
        // lvm2's checks: both areas given, not at one start, inside the cachevol.
        for bad in [
            "metadata_start = 0\nmetadata_len = 0\ndata_start = 1024\ndata_len = 3072",
            "metadata_start = 0\nmetadata_len = 1024\ndata_start = 0\ndata_len = 3072",
            "metadata_start = 0\nmetadata_len = 1024\ndata_start = 1024\ndata_len = 3073",
            "metadata_start = 0\nmetadata_len = 1024",
        ] {
            let t = lv_text(
                "main",
                V,
                "",
                &[(
                    4,
                    &format!(
                        "type = \"cache+CACHE_USES_CACHEVOL\"\ncache_pool = \"fast_cvol\"\norigin = \"main_corig\"\n\
                         chunk_size = 128\n{bad}"
                    ),
                )],
            ) + &lv_text("fast_cvol", H, "\"CACHE_VOL\"", &[(2, &linear_on(1, 7))])
                + &hidden("main_corig", 0, 0, 4);
            let e = plan(&vg(&t), &both(), &PlanOptions::default()).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{bad}: {e}");
        }
    }

    /// `lvconvert --type writecache --cachevol`: the cachevol, then the origin as `-real`, under a
    /// writecache table with the segment's settings in the kernel's order.
    #[test]
    fn writecache_with_a_cachevol() {
        let wc = |extra: &str| {
            vg(&(lv_text(
                "main",
                V,
                "",
                &[(
                    4,
                    &format!(
                        "type = \"writecache\"\nwritecache = \"fast_cvol\"\norigin = \"main_wcorig\"\n\
                         writecache_block_size = 4096\n{extra}"
                    ),
                )],
            ) + &lv_text("fast_cvol", H, "\"CACHE_VOL\"", &[(2, &linear_on(1, 7))])
                + &hidden("main_wcorig", 0, 0, 4)))
        };
        let p = plan_all(&wc(""));
        assert_eq!(
            tables(&p),
            "vg-fast_cvol 0 4096 linear 8:16 16384\n\
             vg-main_wcorig 0 8192 linear 8:0 2048\n\
             vg-main 0 8192 writecache s <vg-main_wcorig> <vg-fast_cvol> 4096 0\n"
        );
        let (vgid, uuid) = (VGID.replace('-', ""), |n: &str| p.device(n).unwrap().uuid.to_string());
        assert_eq!(uuid("vg-fast_cvol"), format!("LVM-{vgid}{}-cvol", id_for("fast_cvol")));
        assert_eq!(uuid("vg-main_wcorig"), format!("LVM-{vgid}{}-real", id_for("main_wcorig")));
        let p = plan_all(&wc(
            "nofua = 1\nhigh_watermark = 60\ncleaner = 0\nwritecache_setting_key = \"max_age\"\n\
             writecache_setting_val = \"7\"",
        ));
        assert_eq!(
            p.device("vg-main").unwrap().table.to_string(),
            "0 8192 writecache s <vg-main_wcorig> <vg-fast_cvol> 4096 5 high_watermark 60 max_age 7 nofua"
        );
        for bad in [
            "fua = 1\nnofua = 1",
            "high_watermark = \"x\"",
            "writecache_setting_key = \"colour\"\nwritecache_setting_val = \"1\"",
        ] {
            let e = plan(&wc(bad), &both(), &PlanOptions::default()).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{bad}: {e}");
        }
        let no_block = wc("").clone();
        let mut t = no_block;
        if let SegmentKind::Writecache { settings, .. } =
            &mut t.lvs.iter_mut().find(|l| l.name == "main").unwrap().segments[0].kind
        {
            settings.retain(|i| i.key != "writecache_block_size");
        }
        assert!(matches!(plan(&t, &both(), &PlanOptions::default()), Err(Error::Invalid { .. })));
    }

    /// An integrity layer (a raid image's with `--raidintegrity`): the metadata device, then the
    /// origin, under lvm2's load form of the integrity line, `data_sectors` long.
    #[test]
    fn integrity_layer() {
        let t = |extra: &str| {
            vg(&(lv_text(
                "img",
                H,
                "",
                &[(
                    4,
                    &format!(
                        "type = \"integrity\"\norigin = \"img_iorig\"\ndata_sectors = 8000\nmode = \"J\"\n\
                         tag_size = 4\nblock_size = 512\ninternal_hash = \"crc32c\"\nmeta_dev = \"img_imeta\"\n{extra}"
                    ),
                )],
            ) + &hidden("img_iorig", 0, 0, 4)
                + &hidden("img_imeta", 1, 0, 1)
                + &lv_text(
                    "top",
                    V,
                    "",
                    &[(4, "type = \"striped\"\nstripe_count = 1\nstripes = [\"img\", 0]")],
                )))
        };
        let p = plan_all(&t("recalculate = 1\njournal_sectors = 1024\nallow_discards = 1"));
        assert_eq!(
            tables(&p),
            "vg-img_imeta 0 2048 linear 8:16 2048\n\
             vg-img_iorig 0 8192 linear 8:0 2048\n\
             vg-img 0 8000 integrity <vg-img_iorig> 0 4 J 7 fix_padding block_size:512 internal_hash:crc32c \
             meta_device:<vg-img_imeta> recalculate journal_sectors:1024 allow_discards\n\
             vg-top 0 8192 linear <vg-img> 0\n"
        );
        for bad in ["mode = \"X\"", "internal_hash = 5"] {
            let text = format!(
                "img {{\nid = \"{}\"\nstatus = [{H}]\nflags = []\nsegment_count = 1\nsegment1 {{\nstart_extent = 0\n\
                 extent_count = 4\ntype = \"integrity\"\norigin = \"img_iorig\"\ndata_sectors = 8000\n{bad}\ntag_size = 4\n\
                 block_size = 512\nmeta_dev = \"img_imeta\"\n}}\n}}\n",
                id_for("img")
            ) + &hidden("img_iorig", 0, 0, 4)
                + &hidden("img_imeta", 1, 0, 1)
                + &lv_text(
                    "top",
                    V,
                    "",
                    &[(4, "type = \"striped\"\nstripe_count = 1\nstripes = [\"img\", 0]")],
                );
            let e = plan(&vg(&text), &both(), &PlanOptions::default()).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn ownership() {
        let lvs = lv_text("a", V, "", &[(1, &linear_on(0, 0))]);
        let exported = vg_with(", \"EXPORTED\"", &lvs);
        assert!(matches!(plan(&exported, &both(), &PlanOptions::default()), Err(Error::Exported { .. })));
        assert!(
            plan(&exported, &both(), &PlanOptions { allow_exported: true, ..Default::default() }).is_ok()
        );
        let mut foreign = vg(&lvs);
        foreign.system_id = Some("hostA".into());
        let e = plan(
            &foreign,
            &both(),
            &PlanOptions { host_system_id: Some("hostB".into()), ..Default::default() },
        );
        assert_eq!(
            e.unwrap_err().to_string(),
            "VG vg belongs to system ID \"hostA\", and this host's is \"hostB\"; not activating a foreign VG"
        );
        assert!(plan(&foreign, &both(), &PlanOptions::default()).is_err());
        assert!(
            plan(
                &foreign,
                &both(),
                &PlanOptions { host_system_id: Some("hostA".into()), ..Default::default() }
            )
            .is_ok()
        );
        assert!(plan(&foreign, &both(), &PlanOptions { allow_foreign: true, ..Default::default() }).is_ok());
        // LVM1's system ID records the creating host and time; lvm2 never treats it as an owner.
        foreign.format = Some("lvm1".into());
        assert!(plan(&foreign, &both(), &PlanOptions::default()).is_ok(), "LVM1 system_id is no owner");
        foreign.format = None;
        foreign.system_id = Some(String::new());
        assert!(plan(&foreign, &both(), &PlanOptions::default()).is_ok(), "empty system_id = none");
    }

    #[test]
    fn selection_errors() {
        let v = vg(&(lv_text("a", V, "", &[(1, &linear_on(0, 0))]) + &hidden("h", 0, 5, 1)));
        let only = |n: &str| PlanOptions { lvs: Some(vec![n.to_string()]), ..Default::default() };
        assert!(matches!(plan(&v, &both(), &only("nope")), Err(Error::NoSuchLv { .. })));
        assert!(matches!(plan(&v, &both(), &only("h")), Err(Error::NotActivatable { .. })));
        assert!(matches!(
            plan(&v, &both()[..1], &PlanOptions::default()),
            Err(Error::PvCount { expected: 2, got: 1, .. })
        ));
        assert_eq!(tables(&plan(&v, &both(), &only("a")).unwrap()), "vg-a 0 2048 linear 8:0 2048\n");
    }

    fn raid_lvs(kind: &str, n: usize, extra: &str, image_extents: u64) -> String {
        let pairs: Vec<String> = (0..n).map(|i| format!("\"r_rmeta_{i}\", \"r_rimage_{i}\"")).collect();
        let mut t = lv_text(
            "r",
            V,
            "",
            &[(
                4,
                &format!("type = \"{kind}\"\ndevice_count = {n}\n{extra}\nraids = [{}]", pairs.join(", ")),
            )],
        );
        for i in 0..n {
            t += &hidden(&format!("r_rmeta_{i}"), (i % 2) as u32, 100 * i as u64, 1);
            t += &hidden(&format!("r_rimage_{i}"), (i % 2) as u32, 100 * i as u64 + 1, image_extents);
        }
        t
    }

    #[test]
    fn raid_options() {
        let mut v = vg(&raid_lvs(
            "raid1",
            3,
            "region_size = 1024\nwritebehind = 256\nmin_recovery_rate = 10\nmax_recovery_rate = 100\ndata_offset = 0",
            4,
        ));
        v.lvs
            .iter_mut()
            .find(|l| l.name == "r_rimage_1")
            .unwrap()
            .status
            .insert(lvmkit_metadata::flags::FlagKind::Lv, "REBUILD");
        v.lvs
            .iter_mut()
            .find(|l| l.name == "r_rimage_2")
            .unwrap()
            .status
            .insert(lvmkit_metadata::flags::FlagKind::Lv, "WRITEMOSTLY");
        let p = plan_all(&v);
        assert_eq!(
            p.device("vg-r").unwrap().table.to_string(),
            "0 8192 raid raid1 15 0 rebuild 1 min_recovery_rate 10 max_recovery_rate 100 write_mostly 2 \
             max_write_behind 256 region_size 1024 data_offset 0 3 <vg-r_rmeta_0> <vg-r_rimage_0> \
             <vg-r_rmeta_1> <vg-r_rimage_1> <vg-r_rmeta_2> <vg-r_rimage_2>"
        );
        // An image split off with --trackchanges (visible, read-only) is "- -" and not activated.
        let img = v.lvs.iter_mut().find(|l| l.name == "r_rimage_2").unwrap();
        img.status = lvmkit_metadata::flags::FlagSet::from_words(
            lvmkit_metadata::flags::FlagKind::Lv,
            &["READ", "VISIBLE"],
        );
        let p =
            plan(&v, &both(), &PlanOptions { lvs: Some(vec!["r".into()]), ..Default::default() }).unwrap();
        assert!(
            p.device("vg-r")
                .unwrap()
                .table
                .to_string()
                .ends_with(" 3 <vg-r_rmeta_0> <vg-r_rimage_0> <vg-r_rmeta_1> <vg-r_rimage_1> - -")
        );
        assert!(p.device("vg-r_rimage_2").is_none() && p.device("vg-r_rmeta_2").is_none());
    }

    #[test]
    fn raid_types_and_reshape_space() {
        let v = vg(&raid_lvs("raid6", 5, "stripe_size = 64\nregion_size = 4096\nreshape_count = 1", 2));
        // 4 LV extents, minus 1 extent of reshape space on each of the 3 data images.
        assert_eq!(
            plan_all(&v).device("vg-r").unwrap().table.lines[0].to_string(),
            format!(
                "0 2048 raid raid6_zr 3 64 region_size 4096 5 {}",
                (0..5).map(|i| format!("<vg-r_rmeta_{i}> <vg-r_rimage_{i}>")).collect::<Vec<_>>().join(" ")
            )
        );
        let mut t = lv_text(
            "z",
            V,
            "",
            &[(
                4,
                "type = \"raid0\"\nstripe_count = 2\nstripe_size = 128\nregion_size = 1024\nraid0_lvs = [\"z_rimage_0\", \"z_rimage_1\"]",
            )],
        );
        t += &hidden("z_rimage_0", 0, 0, 2);
        t += &hidden("z_rimage_1", 1, 0, 2);
        assert_eq!(
            plan_all(&vg(&t)).device("vg-z").unwrap().table.to_string(),
            "0 8192 raid raid0 1 128 2 - <vg-z_rimage_0> - <vg-z_rimage_1>"
        );
    }

    #[test]
    fn degraded_raid10_needs_each_mirror_group() {
        let v = vg(&raid_lvs("raid10", 4, "stripe_size = 64\nregion_size = 4096\ndata_copies = 2", 2));
        let degraded = PlanOptions { mode: ActivationMode::Degraded, ..Default::default() };
        // pv1 holds images 1 and 3: one per mirror group (0,1) and (2,3): fine.
        let p = plan(&v, &[both()[0].clone(), None], &degraded).unwrap();
        assert!(p.device("vg-r_rimage_1-missing_0_0").is_some());
        assert!(p.device("vg-r").unwrap().table.to_string().contains(" raid10_copies 2 4 "));
        // pv0 holds images 0 and 2 — also one per group; losing both PVs is not.
        assert!(plan(&v, &[None, both()[1].clone()], &degraded).is_ok());
        assert!(matches!(plan(&v, &[None, None], &degraded), Err(Error::TooDegraded { failed: 4, .. })));
    }

    #[test]
    fn thin_pools_are_never_partial() {
        let v = vg(&(pool("p", 1, "zero_new_blocks = 1") + &thin("t", "p", 1, "")));
        let partial = PlanOptions { mode: ActivationMode::Partial, ..Default::default() };
        match plan(&v, &[both()[0].clone(), None], &partial) {
            Err(Error::IncompletePool(d)) => {
                assert_eq!((d.lv.as_str(), d.root.as_str(), d.pv.as_str()), ("p_tdata", "p", "pv1"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crop_thin_metadata() {
        let max = THIN_MAX_METADATA_SECTORS / 2048; // 16320 extents
        let lvs = pool("p", 1, "crop_metadata = 1")
            .replace("p_tmeta {", "old_tmeta {")
            .replace("metadata = \"p_tmeta\"", "metadata = \"big\"")
            + &lv_text(
                "big",
                H,
                "",
                &[(max - 20, &linear_on(0, 1000)), (30, &linear_on(1, 1000)), (5, &linear_on(1, 2000))],
            );
        let p = plan_all(&vg(&lvs));
        assert_eq!(
            p.device("vg-big").unwrap().table.to_string(),
            format!(
                "0 {} linear 8:0 {}\n{} 40960 linear 8:16 {}",
                (max - 20) * 2048,
                2048 + 1000 * 2048,
                (max - 20) * 2048,
                2048 + 1000 * 2048
            )
        );
        assert_eq!(p.device("vg-big").unwrap().table.length().0, THIN_MAX_METADATA_SECTORS);
    }

    #[test]
    fn read_only_rules() {
        let v = vg(&(lv_text("o", V, "", &[(4, &linear_on(0, 500))])
            + &hidden("c", 0, 510, 2)
            + &lv_text(
                "snapshot0",
                V,
                "",
                &[(4, "type = \"snapshot\"\nchunk_size = 8\norigin = \"o\"\ncow_store = \"c\"")],
            )
            + &raid_lvs("raid1", 2, "region_size = 1024", 4)));
        let p = plan(&v, &both(), &PlanOptions { read_only: true, ..Default::default() }).unwrap();
        let ro: Vec<(&str, bool)> = p.devices.iter().map(|d| (d.name.as_str(), d.read_only)).collect();
        assert_eq!(
            ro,
            [
                ("vg-o-real", true),
                ("vg-c-cow", false),
                ("vg-c", true),
                ("vg-o", true),
                ("vg-r_rmeta_0", false),
                ("vg-r_rimage_0", false),
                ("vg-r_rmeta_1", false),
                ("vg-r_rimage_1", false),
                ("vg-r", true),
            ]
        );
    }

    #[test]
    fn persistent_minor_and_names() {
        let t =
            lv_text("m", "\"READ\", \"WRITE\", \"VISIBLE\", \"FIXED_MINOR\"", "", &[(1, &linear_on(0, 0))])
                .replace("segment_count", "major = 253\nminor = 7\nsegment_count");
        let p = plan_all(&vg(&t));
        assert_eq!(p.devices[0].persistent, Some(PersistentDevNum { major: Some(253), minor: 7 }));
        assert!(p.to_string().starts_with("# vg-m uuid=LVM-Vgidvgidvgidvgidvgidvgidvgidvgidmxxxxxxx"));
        assert!(p.to_string().contains(" rw public devnum=253:7\nvg-m: 0 2048 linear 8:0 2048\n"));
        // A name past 127 bytes once escaped.
        let long = "l-".repeat(50);
        let v = vg(&lv_text(&long, V, "", &[(1, &linear_on(0, 0))]));
        assert!(matches!(plan(&v, &both(), &PlanOptions::default()), Err(Error::Name { .. })));
    }

    #[test]
    fn reference_cycles_are_refused() {
        let v =
            vg(&(lv_text("a", V, "", &[(1, "type = \"striped\"\nstripe_count = 1\nstripes = [\"b\", 0]")])
                + &lv_text(
                    "b",
                    H,
                    "",
                    &[(1, "type = \"striped\"\nstripe_count = 1\nstripes = [\"a\", 0]")],
                )));
        assert!(matches!(plan(&v, &both(), &PlanOptions::default()), Err(Error::Invalid { .. })));
    }

    #[test]
    fn empty_vg() {
        let p = plan_all(&vg(""));
        assert!(p.devices.is_empty() && p.skipped.is_empty());
        assert_eq!(p.to_string(), "");
    }
}
