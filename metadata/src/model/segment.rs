//! LV segments: the common header and one variant per segment type.

use crate::text::{Item, Section};

/// A segment type as written: base name plus `+FLAG` suffixes (`cache-pool+METADATA_FORMAT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegType {
    /// Base name (`striped`, `raid5_ls`, `thin-pool`, …).
    pub name: String,
    /// `+FLAG` suffixes in written order.
    pub flags: Vec<String>,
}

impl SegType {
    /// Split `"name+F1+F2"`.
    pub fn parse(s: &str) -> SegType {
        let mut it = s.split('+');
        let name = it.next().unwrap_or_default().to_string();
        SegType { name, flags: it.map(str::to_string).collect() }
    }
    /// Plain type without flags.
    pub fn plain(name: &str) -> SegType {
        SegType { name: name.to_string(), flags: vec![] }
    }
    /// Written form.
    pub fn to_text(&self) -> String {
        let mut s = self.name.clone();
        for f in &self.flags {
            s.push('+');
            s.push_str(f);
        }
        s
    }
}

/// What an area of a striped or mirror segment maps onto.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AreaTarget {
    /// A PV, by index into `VolumeGroup::pvs`.
    Pv(usize),
    /// Another LV, by name (pvmove, mirror images).
    Lv(String),
}

/// One `(name, number)` pair of an area list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    /// PV or LV.
    pub target: AreaTarget,
    /// First PE (on a PV) or LE (in an LV).
    pub start: u64,
}

/// One image of a RAID segment: its metadata sub-LV (absent for raid0 without metadata) and its
/// data sub-LV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaidArea {
    /// `<lv>_rmeta_N`.
    pub meta: Option<String>,
    /// `<lv>_rimage_N`.
    pub data: String,
}

/// A queued thin-pool message (`messageN { create = "lv" }` / `{ delete = id }`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ThinMessage {
    /// Create the named thin LV's device.
    Create(String),
    /// Delete a device id.
    Delete(i64),
}

/// Per-type content of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// `striped` (linear when one area).
    Striped {
        /// Sectors; written only with more than one area.
        stripe_size: Option<u64>,
        /// `stripes` pairs.
        areas: Vec<Area>,
    },
    /// Legacy `mirror` (and pvmove).
    Mirror {
        /// Legs.
        mirror_count: u64,
        /// pvmove progress; its presence marks a pvmove segment.
        extents_moved: Option<u64>,
        /// `_mlog` LV, absent for a core log.
        mirror_log: Option<String>,
        /// Sectors.
        region_size: Option<u64>,
        /// `mirrors` pairs.
        areas: Vec<Area>,
    },
    /// `raid0`, `raid0_meta`, `raid1`, `raid4`, `raid5*`, `raid6*`, `raid10*`.
    Raid {
        /// Images (non-raid0).
        device_count: Option<u64>,
        /// Images (raid0 / raid0_meta).
        stripe_count: Option<u64>,
        /// Sectors.
        region_size: Option<u64>,
        /// Sectors.
        stripe_size: Option<u64>,
        /// raid1 write-behind.
        writebehind: Option<u64>,
        /// KiB/s.
        min_recovery_rate: Option<u64>,
        /// KiB/s.
        max_recovery_rate: Option<u64>,
        /// Reshape data offset.
        data_offset: Option<u64>,
        /// Images; written as `raids` (meta, data pairs) or `raid0_lvs` (data only).
        areas: Vec<RaidArea>,
    },
    /// `thin-pool`.
    ThinPool {
        /// `<pool>_tmeta`.
        metadata: String,
        /// `<pool>_tdata`.
        pool: String,
        /// Kernel pool transaction id.
        transaction_id: u64,
        /// Data block size, sectors.
        chunk_size: u64,
        /// `ignore`, `nopassdown`, `passdown`.
        discards: Option<String>,
        /// 1 if new blocks are zeroed.
        zero_new_blocks: Option<i64>,
        /// Crop metadata (≥ 2.03.12).
        crop_metadata: Option<i64>,
        /// Queued messages, with their section keys' order.
        messages: Vec<ThinMessage>,
    },
    /// `thin`.
    Thin {
        /// Pool LV.
        thin_pool: String,
        /// Pool transaction at creation.
        transaction_id: u64,
        /// Thin device id.
        device_id: u64,
        /// Thin snapshot origin.
        origin: Option<String>,
        /// External origin LV.
        external_origin: Option<String>,
        /// Set on a thin snapshot that is merging: names the origin it merges into.
        merge: Option<String>,
    },
    /// `cache-pool`.
    CachePool {
        /// `_cdata` LV.
        data: String,
        /// `_cmeta` LV.
        metadata: String,
        /// 1 or 2.
        metadata_format: Option<u64>,
        /// Sectors.
        chunk_size: Option<u64>,
        /// `writethrough`, `writeback`, `passthrough`.
        cache_mode: Option<String>,
        /// `smq`, `mq`, `cleaner`.
        policy: Option<String>,
        /// `policy_settings { … }`.
        policy_settings: Option<Section<'static>>,
    },
    /// `cache`: cached LV. Cache settings (with a cachevol) stay verbatim in `settings`.
    Cache {
        /// Cache pool or cachevol LV.
        cache_pool: String,
        /// `_corig` LV.
        origin: String,
        /// Remaining keys in order (`cleaner`, `metadata_format`, `chunk_size`, `cache_mode`,
        /// `policy`, `metadata_start`, … `policy_settings`).
        settings: Vec<Item<'static>>,
    },
    /// Old-style COW snapshot (the `snapshotN` glue LV's one segment).
    Snapshot {
        /// Sectors.
        chunk_size: u64,
        /// Origin LV.
        origin: String,
        /// COW store LV.
        cow_store: String,
        /// Written as `merging_store` instead of `cow_store`.
        merging: bool,
    },
    /// `writecache`.
    Writecache {
        /// Cachevol LV.
        writecache: String,
        /// `_wcorig` LV.
        origin: String,
        /// Remaining keys in order (`writecache_block_size`, watermarks, …).
        settings: Vec<Item<'static>>,
    },
    /// `integrity`.
    Integrity {
        /// `_iorig` LV.
        origin: String,
        /// `_imeta` LV (absent: internal metadata).
        meta_dev: Option<String>,
        /// Remaining keys in order (`data_sectors`, `mode`, `tag_size`, …).
        settings: Vec<Item<'static>>,
    },
    /// `vdo`: a virtual LV on a vdo pool.
    Vdo {
        /// vdo-pool LV.
        vdo_pool: String,
        /// Extent offset in the pool.
        vdo_offset: u64,
    },
    /// `vdo-pool`.
    VdoPool {
        /// `_vdata` LV.
        data: String,
        /// Remaining keys in order (`header_size`, `virtual_extents`, …, `write_policy`).
        settings: Vec<Item<'static>>,
    },
    /// `error`.
    Error,
    /// `zero`.
    Zero,
    /// `free` (virtual).
    Free,
    /// A type (or `+FLAG`) this engine does not know: kept verbatim, never activated.
    Unknown {
        /// All keys after the common ones, verbatim.
        section: Section<'static>,
    },
}

/// One segment of an LV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First LE.
    pub start_extent: u64,
    /// Length in LEs (for raid4/5/6/10 the LV length).
    pub extent_count: u64,
    /// Type as written.
    pub segtype: SegType,
    /// RAID reshape space, extents.
    pub reshape_count: Option<u64>,
    /// raid10 copies.
    pub data_copies: Option<u64>,
    /// Segment tags.
    pub tags: Vec<String>,
    /// Type-specific content.
    pub kind: SegmentKind,
    /// Uninterpreted keys.
    pub extra: Vec<Item<'static>>,
}

impl Segment {
    /// `(pv index, first PE, length)` for every PV extent range this segment occupies directly.
    pub fn pv_extents(&self) -> Vec<(usize, u64, u64)> {
        let (areas, per_area) = match &self.kind {
            SegmentKind::Striped { areas, .. } if !areas.is_empty() => {
                (areas, self.extent_count / areas.len() as u64)
            }
            SegmentKind::Mirror { areas, .. } => (areas, self.extent_count),
            _ => return vec![],
        };
        areas
            .iter()
            .filter_map(|a| match a.target {
                AreaTarget::Pv(i) => Some((i, a.start, per_area)),
                AreaTarget::Lv(_) => None,
            })
            .collect()
    }

    /// Names of LVs this segment refers to (sub-LVs, pools, origins), in area order.
    pub fn lv_refs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        match &self.kind {
            SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => {
                v.extend(areas.iter().filter_map(|a| match &a.target {
                    AreaTarget::Lv(n) => Some(n.as_str()),
                    AreaTarget::Pv(_) => None,
                }));
                if let SegmentKind::Mirror { mirror_log: Some(l), .. } = &self.kind {
                    v.push(l);
                }
            }
            SegmentKind::Raid { areas, .. } => {
                for a in areas {
                    v.extend(a.meta.as_deref());
                    v.push(&a.data);
                }
            }
            SegmentKind::ThinPool { metadata, pool, .. } => v.extend([metadata.as_str(), pool.as_str()]),
            SegmentKind::Thin { thin_pool, origin, external_origin, merge, .. } => {
                v.push(thin_pool);
                v.extend(origin.as_deref());
                v.extend(external_origin.as_deref());
                v.extend(merge.as_deref());
            }
            SegmentKind::CachePool { data, metadata, .. } => v.extend([data.as_str(), metadata.as_str()]),
            SegmentKind::Cache { cache_pool, origin, .. } => v.extend([cache_pool.as_str(), origin.as_str()]),
            SegmentKind::Snapshot { origin, cow_store, .. } => {
                v.extend([origin.as_str(), cow_store.as_str()])
            }
            SegmentKind::Writecache { writecache, origin, .. } => {
                v.extend([writecache.as_str(), origin.as_str()])
            }
            SegmentKind::Integrity { origin, meta_dev, .. } => {
                v.push(origin);
                v.extend(meta_dev.as_deref());
            }
            SegmentKind::Vdo { vdo_pool, .. } => v.push(vdo_pool),
            SegmentKind::VdoPool { data, .. } => v.push(data),
            SegmentKind::Error | SegmentKind::Zero | SegmentKind::Free | SegmentKind::Unknown { .. } => {}
        }
        v
    }
}
