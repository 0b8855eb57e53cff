//! The volume-group model: what one VG's metadata text says, typed.
//!
//! Field names follow the text metadata keys. Sizes in the text are 512-byte sectors and stay
//! sectors here (`u64`, documented per field); PE and LE numbers are extents. Keys this engine
//! does not interpret are kept per object in `extra`, in order, so a rewrite loses nothing.

pub mod roles;
mod segment;

pub use segment::{Area, AreaTarget, RaidArea, SegType, Segment, SegmentKind, ThinMessage};

use crate::flags::FlagSet;
use crate::id::LvmId;
use crate::text::Item;

/// The whole parsed text: the VG plus the root-level header fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// The VG (the first root-level section).
    pub vg: VolumeGroup,
    /// `contents`, `version`, `description`, `creation_host`, `creation_time`.
    pub header: TextHeader,
}

/// Root-level fields around the VG section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextHeader {
    /// `description`.
    pub description: Option<String>,
    /// `creation_host`.
    pub creation_host: Option<String>,
    /// `creation_host_system_id`.
    pub creation_host_system_id: Option<String>,
    /// `creation_time`, Unix seconds.
    pub creation_time: Option<i64>,
    /// Other root-level keys (not sections), kept verbatim.
    pub extra: Vec<Item<'static>>,
}

/// A volume group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeGroup {
    /// VG name (the section key).
    pub name: String,
    /// VG id.
    pub id: LvmId,
    /// Metadata sequence number.
    pub seqno: u64,
    /// `format` (`"lvm2"`, or `"lvm1"` for an imported LVM1 VG).
    pub format: Option<String>,
    /// STATUS words: `RESIZEABLE`, `READ`, `WRITE`, `EXPORTED`, `CLUSTERED`, `SHARED`, `PVMOVE`.
    pub status: FlagSet,
    /// COMPATIBLE words: `WRITE_LOCKED`, `NOAUTOACTIVATE`; `None` when the key is absent.
    pub flags: Option<FlagSet>,
    /// Tags.
    pub tags: Vec<String>,
    /// Owning host's system ID.
    pub system_id: Option<String>,
    /// lvmlockd lock type.
    pub lock_type: Option<String>,
    /// lvmlockd lock args.
    pub lock_args: Option<String>,
    /// Persistent-reservation settings.
    pub pr: Option<Vec<String>>,
    /// Extent size, sectors.
    pub extent_size: u64,
    /// Maximum LVs (0 = unlimited).
    pub max_lv: u64,
    /// Maximum PVs (0 = unlimited).
    pub max_pv: u64,
    /// `allocation_policy` unless normal.
    pub allocation_policy: Option<String>,
    /// Metadata profile.
    pub profile: Option<String>,
    /// `metadata_copies` (vgmetadatacopies; 0 = unmanaged).
    pub metadata_copies: Option<u64>,
    /// PVs in text order.
    pub pvs: Vec<PhysicalVolume>,
    /// LVs in text order.
    pub lvs: Vec<LogicalVolume>,
    /// Historical LVs (removed thin LVs with descendants).
    pub historical_lvs: Vec<HistoricalLv>,
    /// Uninterpreted keys of the VG section.
    pub extra: Vec<Item<'static>>,
}

/// A PV as the VG metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhysicalVolume {
    /// Section key (`pv0`…): how segments refer to this PV. Renumbered on every write.
    pub key: String,
    /// PV id.
    pub id: LvmId,
    /// Last known device path (hint only).
    pub device: Option<String>,
    /// devices-file id type.
    pub device_id_type: Option<String>,
    /// devices-file id.
    pub device_id: Option<String>,
    /// STATUS words: `ALLOCATABLE`, `EXPORTED`, `MISSING`.
    pub status: FlagSet,
    /// COMPATIBLE words (`MISSING`).
    pub flags: Option<FlagSet>,
    /// Tags.
    pub tags: Vec<String>,
    /// Device size, sectors.
    pub dev_size: Option<u64>,
    /// First PE, sectors (authoritative over the label).
    pub pe_start: u64,
    /// Number of PEs.
    pub pe_count: u64,
    /// Bootloader area start, sectors.
    pub ba_start: Option<u64>,
    /// Bootloader area size, sectors.
    pub ba_size: Option<u64>,
    /// Uninterpreted keys.
    pub extra: Vec<Item<'static>>,
}

/// A logical volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalVolume {
    /// LV name.
    pub name: String,
    /// LV part of the id (the full lvid is VG id + this).
    pub id: LvmId,
    /// STATUS words.
    pub status: FlagSet,
    /// COMPATIBLE words; `None` when the key is absent.
    pub flags: Option<FlagSet>,
    /// Tags.
    pub tags: Vec<String>,
    /// Unix seconds.
    pub creation_time: Option<i64>,
    /// Creating host.
    pub creation_host: Option<String>,
    /// lvmlockd lock args.
    pub lock_args: Option<String>,
    /// `allocation_policy` unless inherit.
    pub allocation_policy: Option<String>,
    /// Metadata profile.
    pub profile: Option<String>,
    /// Read-ahead, sectors; `None` or `Some(0)` = auto, `Some(-1)` = none.
    pub read_ahead: Option<i64>,
    /// Persistent major (with `FIXED_MINOR`).
    pub major: Option<i64>,
    /// Persistent minor (with `FIXED_MINOR`).
    pub minor: Option<i64>,
    /// Segments sorted by `start_extent`, tiling `[0, le_count)`.
    pub segments: Vec<Segment>,
    /// Uninterpreted keys.
    pub extra: Vec<Item<'static>>,
}

/// A historical LV (`historical_logical_volumes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoricalLv {
    /// Section key.
    pub name: String,
    /// Its former LV id.
    pub id: LvmId,
    /// Unix seconds.
    pub creation_time: Option<i64>,
    /// Unix seconds.
    pub removal_time: Option<i64>,
    /// Origin LV name (`-name` for a historical one).
    pub origin: Option<String>,
    /// Descendant LV names.
    pub descendants: Vec<String>,
    /// Uninterpreted keys (e.g. `name`).
    pub extra: Vec<Item<'static>>,
}

impl VolumeGroup {
    /// Total PEs over all PVs.
    pub fn extent_count(&self) -> u64 {
        self.pvs.iter().map(|p| p.pe_count).sum()
    }

    /// Extents used by LV segments on PVs.
    pub fn allocated_extents(&self) -> u64 {
        self.pvs.iter().enumerate().map(|(i, _)| self.pv_allocated(i)).sum()
    }

    /// Extents of PV `pv` (index into `pvs`) allocated to segments.
    pub fn pv_allocated(&self, pv: usize) -> u64 {
        self.lvs
            .iter()
            .flat_map(|lv| &lv.segments)
            .flat_map(|s| s.pv_extents())
            .filter(|(idx, _, _)| *idx == pv)
            .map(|(_, _, len)| len)
            .sum()
    }

    /// Look an LV up by name.
    pub fn lv(&self, name: &str) -> Option<&LogicalVolume> {
        self.lvs.iter().find(|l| l.name == name)
    }

    /// Index of the PV with this id.
    pub fn pv_index(&self, id: &LvmId) -> Option<usize> {
        self.pvs.iter().position(|p| &p.id == id)
    }

    /// The system ID that owns the VG (lvm2's `vg->system_id`), if any. An LVM1 VG's system ID
    /// (`pv_disk.system_id`: host name + creation time) is only a record of who made it: lvm2
    /// keeps it apart (`vg->lvm1_system_id`) and never treats it as an owner.
    pub fn owner_system_id(&self) -> Option<&str> {
        self.system_id.as_deref().filter(|s| !s.is_empty() && self.format.as_deref() != Some("lvm1"))
    }

    /// Foreign to a host with system ID `host` (lvm2's `!is_system_id_allowed`): owned by
    /// another system ID. A host without a system ID may use only VGs without one.
    pub fn is_foreign_to(&self, host: Option<&str>) -> bool {
        self.owner_system_id().is_some_and(|sid| host != Some(sid))
    }

    /// VG is exported.
    pub fn is_exported(&self) -> bool {
        self.status.has("EXPORTED")
    }

    /// Writable (`WRITE`, or `WRITE_LOCKED` in flags, which lvmlockd writes instead of `WRITE`).
    pub fn is_writable(&self) -> bool {
        self.status.has("WRITE") || self.flags.as_ref().is_some_and(|f| f.has("WRITE_LOCKED"))
    }
}

impl LogicalVolume {
    /// Length in extents.
    pub fn le_count(&self) -> u64 {
        self.segments.iter().map(|s| s.extent_count).sum()
    }
    /// Has `VISIBLE`.
    pub fn is_visible(&self) -> bool {
        self.status.has("VISIBLE")
    }
    /// Writable (`WRITE`, or `WRITE_LOCKED` in flags).
    pub fn is_writable(&self) -> bool {
        self.status.has("WRITE") || self.flags.as_ref().is_some_and(|f| f.has("WRITE_LOCKED"))
    }
    /// A COMPATIBLE flag is set.
    pub fn has_flag(&self, w: &str) -> bool {
        self.flags.as_ref().is_some_and(|f| f.has(w))
    }
    /// A cachevol: one LV holding a cache's or writecache's metadata and data (lvm2's
    /// `lv_is_cache_vol`; `CACHE_VOL` is a flag, and was briefly a status word).
    pub fn is_cachevol(&self) -> bool {
        self.has_flag("CACHE_VOL") || self.status.has("CACHE_VOL")
    }
}
