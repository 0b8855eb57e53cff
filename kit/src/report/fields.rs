//! The field table: lvm2's name, the object it describes, the basic-table heading, the minimum
//! column width lvm2 declares, alignment, and how the value is computed.
//!
//! Headings, widths and alignment were read off lvm2 2.03.16's own output (`--separator '|'
//! --aligned` over images with short and long values); values follow lvm2's `*_disp` functions
//! for a system where nothing is active.

use lvmkit_metadata::model::{AreaTarget, PhysicalVolume, Segment, SegmentKind};
use lvmkit_metadata::scan::PvScan;
use lvmkit_metadata::text::{Node, Scalar, Value};

use super::attr;
use super::layout;
use super::live;
use super::units::Units;
use super::view::{PvSeg, VgView, mda_stats};

/// The kind of object a field describes (lvm2's report types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Obj {
    /// Label fields (device, uuid, format): PV reports.
    Label,
    /// PV fields.
    Pv,
    /// VG fields.
    Vg,
    /// LV fields.
    Lv,
    /// LV fields lvm2 takes from the kernel (its LVSINFO/LVSSTATUS types): LV fields, but not
    /// in `lvs --segments -o all`.
    LvStatus,
    /// LV segment fields.
    Seg,
    /// PV segment fields.
    PvSeg,
    /// Fields of every report (`selected`): they do not decide the kind of row.
    Any,
}

/// Shared formatting state.
#[derive(Clone)]
pub(crate) struct Ctx {
    /// `--units`/`--nosuffix`.
    pub units: Units,
}

/// A PV in a row: a device, a metadata PV, or both.
#[derive(Clone, Copy)]
pub(crate) struct PvRef<'a> {
    /// The device, when present.
    pub scan: Option<&'a PvScan>,
    /// Index into the VG's `pvs`, when in a VG.
    pub meta: Option<usize>,
}

/// One report row: the objects its fields read from.
#[derive(Clone, Copy)]
pub(crate) struct Row<'a> {
    /// The VG (absent for an orphan PV).
    pub vg: Option<&'a VgView<'a>>,
    /// The PV (PV and PV-segment rows).
    pub pv: Option<PvRef<'a>>,
    /// The LV (absent on a free PV segment).
    pub lv: Option<usize>,
    /// The LV segment.
    pub seg: Option<usize>,
    /// The PV segment (PV-segment rows).
    pub pvseg: Option<PvSeg>,
}

impl<'a> Row<'a> {
    fn pv_meta(&self) -> Option<(&'a VgView<'a>, usize, &'a PhysicalVolume)> {
        let v = self.vg?;
        let p = self.pv?.meta?;
        Some((v, p, &v.vg.pvs[p]))
    }
    fn pv_scan(&self) -> Option<&'a PvScan> {
        self.pv.and_then(|p| p.scan)
    }
    fn lv(&self) -> Option<(&'a VgView<'a>, usize)> {
        Some((self.vg?, self.lv?))
    }
    fn seg(&self) -> Option<(&'a VgView<'a>, usize, &'a Segment)> {
        let (v, i) = self.lv()?;
        let s = v.lv(i).segments.get(self.seg?)?;
        Some((v, i, s))
    }
}

/// The type of a field's value (lvm2's report sort types: `NUM`, `SIZ`, `STR`, …), for sorting
/// and selection: [`Field::typed`] gives the value in that type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A number (`-1` or empty: undefined).
    Num,
    /// A size (bytes through [`Field::typed`]).
    Size,
    /// A string.
    Str,
    /// A comma-separated list of strings.
    StrList,
    /// A percentage.
    Percent,
    /// A binary flag shown as a word or nothing.
    Bin,
    /// A time.
    Time,
}

/// A field's value in its type, as a sort or selection layer compares it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Typed {
    /// Numbers and sizes (sizes in bytes).
    Num(f64),
    /// Strings, times and words.
    Str(String),
    /// String lists.
    List(Vec<String>),
    /// No value (lvm2's undefined/reserved empty value).
    Undefined,
}

impl Field {
    /// The value of this field in `row` in its type: the getter evaluated with bytes and no
    /// suffix, then read back by [`Kind`] (so the rendering and the typed value never part).
    #[allow(dead_code)] // for the selection and sort layer
    pub(crate) fn typed(&self, row: &Row<'_>) -> Typed {
        let ctx = Ctx { units: Units::bytes_nosuffix() };
        let text = (self.get)(&ctx, row);
        match self.kind {
            _ if text.is_empty() => Typed::Undefined,
            Kind::Num | Kind::Size | Kind::Percent => text.parse().map_or(Typed::Str(text), Typed::Num),
            Kind::StrList => Typed::List(text.split(',').map(str::to_string).collect()),
            Kind::Str | Kind::Bin | Kind::Time => Typed::Str(text),
        }
    }
}

/// One field.
pub(crate) struct Field {
    /// lvm2's field name (also the JSON key).
    pub name: &'static str,
    /// The type of its value.
    pub kind: Kind,
    /// What it describes.
    pub obj: Obj,
    /// Basic-table heading.
    pub heading: &'static str,
    /// Minimum column width: what lvm2's columns.h declares, or the heading's length where it
    /// declares 0 (a longer heading is cut to the column's width).
    pub width: usize,
    /// Right-aligned (numbers, sizes, binary words).
    pub right: bool,
    /// The value.
    pub get: fn(&Ctx, &Row<'_>) -> String,
}

const L: bool = false;
const R: bool = true;

macro_rules! f {
    ($name:literal, $kind:ident, $obj:ident, $head:literal, $w:literal, $al:ident, $get:expr) => {
        Field {
            name: $name,
            kind: Kind::$kind,
            obj: Obj::$obj,
            heading: $head,
            width: $w,
            right: $al,
            get: $get,
        }
    };
}

fn word(on: bool, w: &str) -> String {
    if on { w.to_string() } else { String::new() }
}

/// Tags as lvm2 lists them: sorted, comma-separated.
fn tags(t: &[String]) -> String {
    let mut v: Vec<&str> = t.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(",")
}

fn size(c: &Ctx, bytes: u64) -> String {
    c.units.bytes(bytes)
}

/// `YYYY-MM-DD HH:MM:SS +0000` for Unix seconds, in UTC (lvm2 prints local time; lvmkit does
/// not read the time zone database).
pub(crate) fn format_time(secs: i64) -> String {
    let c = lvmkit_metadata::time::Civil::from_unix(secs);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000", c.year, c.month, c.day, c.hour, c.minute, c.second)
}

// ---------------------------------------------------------------- PV ----

fn pv_name(r: &Row) -> String {
    match (r.pv_scan(), r.pv_meta()) {
        (Some(s), _) => s.name().to_string(),
        (None, Some(_)) => "[unknown]".to_string(),
        (None, None) => String::new(),
    }
}

/// PV size: PEs × extent size in a VG (the device size recorded in the metadata when it has no
/// PEs), the label's device size for an orphan.
fn pv_size_bytes(r: &Row) -> u64 {
    match r.pv_meta() {
        Some((v, _, pv)) if pv.pe_count > 0 => pv.pe_count * v.extent_bytes(),
        Some((_, _, pv)) => pv.dev_size.map(|s| s * 512).or(r.pv_scan().map(|s| s.dev_size)).unwrap_or(0),
        None => r.pv_scan().map_or(0, |s| s.label.pv_header.device_size),
    }
}

fn pv_alloc(r: &Row) -> Option<(u64, u64)> {
    let (v, p, pv) = r.pv_meta()?;
    Some((pv.pe_count, v.pv_alloc[p]))
}

fn pv_free_bytes(r: &Row) -> u64 {
    match (pv_alloc(r), r.pv_meta()) {
        (Some((count, used)), Some((v, _, _))) if count > 0 => count.saturating_sub(used) * v.extent_bytes(),
        _ => pv_size_bytes(r),
    }
}

fn pv_used_bytes(r: &Row) -> u64 {
    match (pv_alloc(r), r.pv_meta()) {
        (Some((count, used)), Some((v, _, _))) if count > 0 => used * v.extent_bytes(),
        _ => 0,
    }
}

/// (allocatable, exported, missing).
fn pv_flags(r: &Row) -> (bool, bool, bool) {
    match r.pv_meta() {
        Some((v, p, pv)) => {
            (pv.status.has("ALLOCATABLE"), pv.status.has("EXPORTED") || v.vg.is_exported(), v.pv_missing(p))
        }
        // An LVM1 orphan keeps the flags of its PV struct (lvm2 2.02's format1 import_pv): a
        // PV vgreduce removed stays allocatable (`a--`), a pvcreate'd one is not (`---`).
        None => match r.pv_scan().and_then(|s| s.lvm1.as_deref()) {
            Some(l) => (
                l.pv.pv_allocatable != 0,
                l.pv.pv_status & lvmkit_metadata::lvm1::vg_disk::VG_EXPORTED != 0,
                false,
            ),
            None => (false, false, false),
        },
    }
}

fn pv_ba(r: &Row) -> (u64, u64) {
    if let Some((_, _, pv)) = r.pv_meta() {
        if let (Some(s), Some(z)) = (pv.ba_start, pv.ba_size) {
            return (s * 512, z * 512);
        }
    }
    r.pv_scan()
        .and_then(|s| s.label.pv_header.extension.as_ref())
        .and_then(|e| e.bootloader_areas.first())
        .map_or((0, 0), |b| (b.offset, b.size))
}

fn pv_mda(r: &Row) -> Option<super::view::MdaStats> {
    r.pv_scan().map(mda_stats)
}

// ---------------------------------------------------------------- VG ----

fn vg_num(r: &Row, f: impl Fn(&VgView) -> u64) -> String {
    r.vg.map_or(0, f).to_string()
}

fn vg_size(c: &Ctx, r: &Row, f: impl Fn(&VgView) -> u64) -> String {
    size(c, r.vg.map_or(0, f))
}

fn vg_free_count(v: &VgView) -> u64 {
    v.vg.extent_count().saturating_sub(v.pv_alloc.iter().sum::<u64>())
}

// ---------------------------------------------------------------- LV ----

/// A kernel value when the LV's VG has a kernel snapshot (`live::field`), else `no_kernel()`.
fn live_or(c: &Ctx, r: &Row, name: &str, no_kernel: impl FnOnce() -> String) -> String {
    r.lv().and_then(|(v, i)| live::field(&c.units, name, v, i)).unwrap_or_else(no_kernel)
}

/// `data_offset`/`new_data_offset`: the kernel's, or nothing without it.
fn seg_live_offset(r: &Row, new: bool) -> String {
    match (r.vg, r.lv, r.seg) {
        (Some(v), Some(i), Some(s)) => live::seg_data_offset(v, i, s, new).unwrap_or_default(),
        _ => String::new(),
    }
}

fn lv_str(r: &Row, f: impl Fn(&VgView, usize) -> String) -> String {
    r.lv().map_or_else(String::new, |(v, i)| f(v, i))
}

fn first_kind<'a>(v: &'a VgView, i: usize) -> Option<&'a SegmentKind> {
    v.first_seg(i).map(|s| &s.kind)
}

fn lv_uuid_of(v: &VgView, name: Option<&str>) -> String {
    name.and_then(|n| v.lv_index(n)).map_or_else(String::new, |j| v.lv(j).id.to_string())
}

fn pool_lv_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    match first_kind(v, i)? {
        SegmentKind::Thin { thin_pool, .. } => Some(thin_pool),
        SegmentKind::Cache { cache_pool, .. } => Some(cache_pool),
        SegmentKind::Writecache { writecache, .. } => Some(writecache),
        SegmentKind::Vdo { vdo_pool, .. } => Some(vdo_pool),
        _ => None,
    }
}

fn data_lv_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    match first_kind(v, i)? {
        SegmentKind::ThinPool { pool, .. } => Some(pool),
        SegmentKind::CachePool { data, .. } => Some(data),
        SegmentKind::VdoPool { data, .. } => Some(data),
        _ => None,
    }
}

fn metadata_lv_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    match first_kind(v, i)? {
        SegmentKind::ThinPool { metadata, .. } => Some(metadata),
        SegmentKind::CachePool { metadata, .. } => Some(metadata),
        _ => None,
    }
}

fn origin_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    if let Some(g) = v.lvs[i].cow_of {
        return v.snapshot_origin(g).map(|o| v.lv(o).name.as_str());
    }
    match first_kind(v, i)? {
        SegmentKind::Cache { origin, .. } => Some(origin),
        SegmentKind::Writecache { origin, .. } => Some(origin),
        SegmentKind::Integrity { origin, .. } => Some(origin),
        SegmentKind::Thin { origin: Some(o), .. } => Some(o),
        SegmentKind::Thin { external_origin: Some(o), .. } => Some(o),
        _ => None,
    }
}

/// lvm2's `lv_origin_size`: a COW LV's snapshot size, a thin LV's external origin, an origin's
/// own size.
fn origin_size_bytes(v: &VgView, i: usize) -> u64 {
    if let Some(g) = v.lvs[i].cow_of {
        return v.glue_segment(g).map_or(0, |s| s.extent_count * v.extent_bytes());
    }
    if let Some(SegmentKind::Thin { external_origin: Some(e), .. }) = first_kind(v, i) {
        return v.lv_index(e).map_or(0, |j| lv_size_bytes(v, j));
    }
    if v.is_origin(i) { lv_size_bytes(v, i) } else { 0 }
}

fn mirror_log_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    if !v.is_mirror(i) {
        return None;
    }
    match first_kind(v, i)? {
        SegmentKind::Mirror { mirror_log: Some(l), .. } => Some(l),
        _ => None,
    }
}

/// lvm2's `lv_move_pv_dup`: the source PV of a pvmove LV.
fn move_pv_name(v: &VgView, i: usize) -> Option<String> {
    move_pv(v, i).map(|p| v.pv_name(p))
}

/// The source PV of a pvmove LV (index into the VG's PVs).
fn move_pv(v: &VgView, i: usize) -> Option<usize> {
    if !v.is_pvmove(i) {
        return None;
    }
    let seg = v.first_seg(i)?;
    let area = match &seg.kind {
        SegmentKind::Mirror { areas, .. } | SegmentKind::Striped { areas, .. } => areas.first()?,
        _ => return None,
    };
    match &area.target {
        AreaTarget::Pv(p) => Some(*p),
        // Atomic pvmove: the first leg's first area.
        AreaTarget::Lv(n) => {
            let j = v.lv_index(n)?;
            match &v.first_seg(j)?.kind {
                SegmentKind::Striped { areas, .. } => match areas.first()?.target {
                    AreaTarget::Pv(p) => Some(p),
                    AreaTarget::Lv(_) => None,
                },
                _ => None,
            }
        }
    }
}

/// lvm2's `lv_convert_lv_dup`: the temporary mirror layer of an LV being converted.
fn convert_lv_name<'a>(v: &'a VgView, i: usize) -> Option<&'a str> {
    match first_kind(v, i)? {
        SegmentKind::Mirror { areas, .. } => match &areas.first()?.target {
            AreaTarget::Lv(n) if n.contains("_mimagetmp_") => Some(n),
            _ => None,
        },
        _ => None,
    }
}

fn read_ahead(c: &Ctx, v: &VgView, i: usize) -> String {
    match v.lv(i).read_ahead {
        // Absent or 0: automatic; -1: none, which lvm2 shows as a zero size.
        None | Some(0) => "auto".to_string(),
        Some(n) if n < 0 => size(c, 0),
        Some(n) => c.units.sectors(n as u64),
    }
}

fn lv_size_bytes(v: &VgView, i: usize) -> u64 {
    v.lv(i).le_count() * v.extent_bytes()
}

fn dm_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

// --------------------------------------------------------------- SEG ----

/// An area of a segment as the device/range fields print it.
struct AreaText {
    /// Name without decoration (`/dev/sda`, `lv_rimage_0`, `[unknown]`).
    name: String,
    /// Name with brackets for a hidden LV.
    marked: String,
    /// First PE/LE.
    start: u64,
    /// Length in extents.
    len: u64,
}

fn lv_area(v: &VgView, name: &str, start: u64, len: u64) -> AreaText {
    AreaText { name: name.to_string(), marked: v.display_name_of(name), start, len }
}

/// Data stripes of a RAID segment type (for its area length).
fn raid_data_stripes(segtype: &str, images: u64, copies: Option<u64>) -> u64 {
    let n = images.max(1);
    let d = if segtype == "raid1" {
        1
    } else if segtype.starts_with("raid10") {
        (n / copies.unwrap_or(2).max(1)).max(1)
    } else if segtype.starts_with("raid4") || segtype.starts_with("raid5") {
        n - 1
    } else if segtype.starts_with("raid6") {
        n.saturating_sub(2)
    } else {
        n
    };
    d.max(1)
}

/// The areas of a segment (`metadata`: RAID metadata images instead).
fn seg_areas(v: &VgView, seg: &Segment, metadata: bool) -> Vec<AreaText> {
    let count = seg.extent_count;
    match &seg.kind {
        _ if metadata => match &seg.kind {
            SegmentKind::Raid { areas, .. } => areas
                .iter()
                .filter_map(|a| a.meta.as_deref())
                .map(|m| {
                    let len = v.lv_index(m).map_or(0, |j| v.lv(j).le_count());
                    lv_area(v, m, 0, len)
                })
                .collect(),
            _ => vec![],
        },
        SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => {
            let len = match &seg.kind {
                SegmentKind::Striped { .. } => count / (areas.len().max(1) as u64),
                _ => count,
            };
            areas
                .iter()
                .map(|a| match &a.target {
                    AreaTarget::Pv(p) => {
                        let n = v.pv_name(*p);
                        AreaText { marked: n.clone(), name: n, start: a.start, len }
                    }
                    AreaTarget::Lv(n) => lv_area(v, n, a.start, len),
                })
                .collect()
        }
        SegmentKind::Raid { areas, .. } => {
            let stripes = raid_data_stripes(&seg.segtype.name, areas.len() as u64, seg.data_copies);
            let len = if seg.segtype.name.starts_with("raid10") {
                count * seg.data_copies.unwrap_or(2) / (areas.len().max(1) as u64)
            } else {
                count / stripes
            };
            areas.iter().map(|a| lv_area(v, &a.data, 0, len)).collect()
        }
        SegmentKind::ThinPool { pool, .. } => vec![lv_area(v, pool, 0, count)],
        SegmentKind::CachePool { data, .. } => vec![lv_area(v, data, 0, count)],
        SegmentKind::Cache { origin, .. }
        | SegmentKind::Writecache { origin, .. }
        | SegmentKind::Integrity { origin, .. } => vec![lv_area(v, origin, 0, count)],
        SegmentKind::VdoPool { data, .. } => vec![lv_area(v, data, 0, count)],
        // lvm2's vdo segment has one area: the pool at the offset, as long as the pool.
        SegmentKind::Vdo { vdo_pool, vdo_offset } => {
            let len = v.lv_index(vdo_pool).map_or(0, |p| v.lv(p).le_count()).saturating_sub(*vdo_offset);
            vec![lv_area(v, vdo_pool, *vdo_offset, len)]
        }
        _ => vec![],
    }
}

fn area_count(seg: &Segment) -> u64 {
    match &seg.kind {
        SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => areas.len() as u64,
        SegmentKind::Raid { areas, .. } => areas.len() as u64,
        SegmentKind::ThinPool { .. }
        | SegmentKind::CachePool { .. }
        | SegmentKind::Cache { .. }
        | SegmentKind::Writecache { .. }
        | SegmentKind::Integrity { .. }
        | SegmentKind::VdoPool { .. }
        | SegmentKind::Vdo { .. } => 1,
        _ => 0,
    }
}

fn segtype_name(seg: &Segment) -> String {
    match &seg.kind {
        SegmentKind::Striped { areas, .. } if areas.len() == 1 => "linear".to_string(),
        SegmentKind::Striped { .. } => "striped".to_string(),
        _ => seg.segtype.name.clone(),
    }
}

/// lvm2's `lvseg_chunksize`, bytes: a COW LV's snapshot chunk, a pool's chunk, a cached LV's
/// pool's chunk.
fn chunk_bytes(v: &VgView, i: usize, seg: &Segment) -> u64 {
    if let Some(g) = v.lvs[i].cow_of {
        if let Some(SegmentKind::Snapshot { chunk_size, .. }) = v.glue_segment(g).map(|s| &s.kind) {
            return chunk_size * 512;
        }
    }
    seg_chunk_bytes(v, seg, 0)
}

fn seg_chunk_bytes(v: &VgView, seg: &Segment, depth: u32) -> u64 {
    match &seg.kind {
        SegmentKind::ThinPool { chunk_size, .. } => chunk_size * 512,
        SegmentKind::CachePool { chunk_size, .. } => chunk_size.unwrap_or(0) * 512,
        SegmentKind::Cache { cache_pool, settings, .. } => match setting_int(settings, "chunk_size") {
            Some(c) => c * 512,
            None if depth < 4 => v
                .lv_index(cache_pool)
                .and_then(|p| v.first_seg(p))
                .map_or(0, |s| seg_chunk_bytes(v, s, depth + 1)),
            None => 0,
        },
        _ => 0,
    }
}

fn setting<'a>(items: &'a [lvmkit_metadata::text::Item<'static>], key: &str) -> Option<&'a Scalar<'static>> {
    items.iter().find(|it| it.key == key).and_then(|it| match &it.node {
        Node::Value(Value::Scalar(s)) => Some(s),
        _ => None,
    })
}

fn setting_int(items: &[lvmkit_metadata::text::Item<'static>], key: &str) -> Option<u64> {
    match setting(items, key)? {
        Scalar::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn setting_str(items: &[lvmkit_metadata::text::Item<'static>], key: &str) -> Option<String> {
    match setting(items, key)? {
        Scalar::Str(s) | Scalar::Bare(s) => Some(s.to_string()),
        _ => None,
    }
}

/// The segment whose cache settings apply (lvm2: a cachevol's cache segment itself, otherwise
/// the cache pool's segment): (mode, policy, metadata format).
fn cache_settings(v: &VgView, seg: &Segment) -> Option<(Option<String>, Option<String>, Option<u64>)> {
    match &seg.kind {
        SegmentKind::CachePool { cache_mode, policy, metadata_format, .. } => {
            Some((cache_mode.clone(), policy.clone(), *metadata_format))
        }
        SegmentKind::Cache { cache_pool, settings, .. } => {
            let pool = v.lv_index(cache_pool);
            if pool.is_some_and(|p| v.is_cache_vol(p)) {
                Some((
                    setting_str(settings, "cache_mode"),
                    setting_str(settings, "policy"),
                    setting_int(settings, "metadata_format"),
                ))
            } else {
                let ps = pool.and_then(|p| v.first_seg(p))?;
                match &ps.kind {
                    SegmentKind::CachePool { .. } => cache_settings(v, ps),
                    _ => None,
                }
            }
        }
        _ => None,
    }
}

/// The thin-pool segment relevant to a thin or thin-pool segment.
fn thin_pool_seg<'a>(v: &'a VgView, seg: &'a Segment) -> Option<&'a Segment> {
    match &seg.kind {
        SegmentKind::ThinPool { .. } => Some(seg),
        SegmentKind::Thin { thin_pool, .. } => v
            .lv_index(thin_pool)
            .and_then(|p| v.first_seg(p))
            .filter(|s| matches!(s.kind, SegmentKind::ThinPool { .. })),
        _ => None,
    }
}

/// Out-of-place reshape space lvm2 shows for a reshapable RAID (raid4/5/6/10) and its data
/// images, in extents; nothing for other segments.
fn reshape_len(v: &VgView, i: usize, seg: &Segment) -> Option<u64> {
    let reshapable = |s: &Segment| {
        matches!(s.kind, SegmentKind::Raid { .. })
            && ["raid4", "raid5", "raid6", "raid10"].iter().any(|p| s.segtype.name.starts_with(p))
    };
    if reshapable(seg) {
        return Some(seg.reshape_count.unwrap_or(0));
    }
    let parent = v.lvs[i].uses.iter().find(|u| u.role == super::view::Role::RaidImage)?;
    let pseg = &v.lv(parent.by).segments[parent.seg];
    reshapable(pseg).then(|| pseg.reshape_count.unwrap_or(0))
}

fn seg_str(r: &Row, f: impl Fn(&VgView, usize, &Segment) -> String) -> String {
    r.seg().map_or_else(String::new, |(v, i, s)| f(v, i, s))
}

fn join_areas(areas: &[AreaText], sep: &str, f: impl Fn(&AreaText) -> String) -> String {
    areas.iter().map(f).collect::<Vec<_>>().join(sep)
}

/// Extent counts of the row's segment: `(start, size)` in extents, the PV segment's size for a
/// free PV segment.
fn seg_extents(r: &Row) -> (u64, u64) {
    match r.seg() {
        Some((_, _, s)) => (s.start_extent, s.extent_count),
        None => (0, r.pvseg.map_or(0, |p| p.len)),
    }
}

fn extent_bytes(r: &Row) -> u64 {
    r.vg.map_or(0, |v| v.extent_bytes())
}

// ------------------------------------------------ derived LV facts ----

/// lvm2's `list_lv_modules`: the kernel modules (targets) the LV's segments need, through the
/// LVs their areas use, a COW LV's snapshot and an origin's COW LVs; sorted, no duplicates.
fn lv_modules(v: &VgView, i: usize) -> String {
    let mut out: Vec<&'static str> = Vec::new();
    lv_modules_into(v, i, &mut out, 0);
    out.sort_unstable();
    out.dedup();
    out.join(",")
}

fn lv_modules_into(v: &VgView, i: usize, out: &mut Vec<&'static str>, depth: u32) {
    for seg in &v.lv(i).segments {
        seg_modules_into(v, i, seg, out, depth);
    }
}

/// lvm2's `list_segment_modules` (depth-bounded: broken metadata may have cycles).
fn seg_modules_into(v: &VgView, i: usize, seg: &Segment, out: &mut Vec<&'static str>, depth: u32) {
    if depth > 16 {
        return;
    }
    match &seg.kind {
        SegmentKind::Mirror { mirror_log, .. } => {
            if let Some(l) = mirror_log.as_deref().and_then(|l| v.lv_index(l)) {
                if let Some(ls) = v.first_seg(l) {
                    seg_modules_into(v, l, ls, out, depth + 1);
                }
            }
            out.push("mirror");
        }
        SegmentKind::Raid { .. } => out.push("raid"),
        SegmentKind::ThinPool { .. } => out.push("thin-pool"),
        SegmentKind::Thin { .. } => out.extend(["thin-pool", "thin"]),
        SegmentKind::CachePool { .. } | SegmentKind::Cache { .. } => out.push("cache"),
        SegmentKind::Writecache { .. } => out.push("writecache"),
        SegmentKind::Integrity { .. } => out.push("integrity"),
        SegmentKind::Vdo { .. } | SegmentKind::VdoPool { .. } => out.push("kvdo"),
        SegmentKind::Snapshot { .. } => out.push("snapshot"),
        SegmentKind::Error => out.push("error"),
        SegmentKind::Zero => out.push("zero"),
        SegmentKind::Striped { .. } | SegmentKind::Free | SegmentKind::Unknown { .. } => {}
    }
    if v.is_origin(i) {
        for &g in &v.lvs[i].origin_of {
            if let Some(cow) = v.glue_segment(g).and_then(|s| match &s.kind {
                SegmentKind::Snapshot { cow_store, .. } => v.lv_index(cow_store),
                _ => None,
            }) {
                lv_modules_into(v, cow, out, depth + 1);
            }
        }
    }
    if v.lvs[i].cow_of.is_some() {
        out.push("snapshot");
    }
    for (name, le) in lv_areas(seg) {
        if let Some(j) = v.lv_index(name) {
            let hit = v
                .lv(j)
                .segments
                .iter()
                .find(|s| s.start_extent <= le && le < s.start_extent + s.extent_count);
            if let Some(s2) = hit {
                seg_modules_into(v, j, s2, out, depth + 1);
            }
        }
    }
}

/// The LV areas of a segment as lvm2 holds them (`seg_lv(seg, s)`, `seg_le(seg, s)`): data
/// areas only (RAID metadata images, pool metadata, logs and cache pools are not areas).
fn lv_areas(seg: &Segment) -> Vec<(&str, u64)> {
    match &seg.kind {
        SegmentKind::Striped { areas, .. } | SegmentKind::Mirror { areas, .. } => areas
            .iter()
            .filter_map(|a| match &a.target {
                AreaTarget::Lv(n) => Some((n.as_str(), a.start)),
                AreaTarget::Pv(_) => None,
            })
            .collect(),
        SegmentKind::Raid { areas, .. } => areas.iter().map(|a| (a.data.as_str(), 0)).collect(),
        SegmentKind::ThinPool { pool, .. } => vec![(pool.as_str(), 0)],
        SegmentKind::CachePool { data, .. } | SegmentKind::VdoPool { data, .. } => vec![(data.as_str(), 0)],
        SegmentKind::Cache { origin, .. }
        | SegmentKind::Writecache { origin, .. }
        | SegmentKind::Integrity { origin, .. } => vec![(origin.as_str(), 0)],
        SegmentKind::Vdo { vdo_pool, vdo_offset } => vec![(vdo_pool.as_str(), *vdo_offset)],
        _ => vec![],
    }
}

/// One step of lvm2's `_find_ancestors`: a COW LV's origin, a thin LV's origin or external
/// origin; with `full`, a thin LV without either continues through the historical LV that
/// lists it as a descendant, and a historical LV through its origin. Names of historical LVs
/// carry lvm2's `-` prefix.
fn ancestor_step(v: &VgView, name: &str, full: bool) -> Option<String> {
    if let Some(h) = name.strip_prefix('-') {
        let hist = v.vg.historical_lvs.iter().find(|x| x.name == h)?;
        return if full { hist.origin.clone() } else { None };
    }
    let i = v.lv_index(name)?;
    if v.lvs[i].cow_of.is_some() {
        return origin_name(v, i).map(str::to_string);
    }
    if let Some(SegmentKind::Thin { origin, external_origin, .. }) = first_kind(v, i) {
        if let Some(o) = origin.as_ref().or(external_origin.as_ref()) {
            return Some(o.clone());
        }
        if full {
            return v
                .vg
                .historical_lvs
                .iter()
                .find(|x| x.descendants.iter().any(|d| d == name))
                .map(|x| format!("-{}", x.name));
        }
    }
    None
}

/// lvm2's `lv_ancestors`/`lv_full_ancestors` without `--history`: historical LVs are walked
/// through but not listed.
fn ancestors(v: &VgView, i: usize, full: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut cur = v.lv(i).name.clone();
    for _ in 0..v.vg.lvs.len() + v.vg.historical_lvs.len() {
        let Some(next) = ancestor_step(v, &cur, full) else { break };
        if !next.starts_with('-') {
            out.push(next.clone());
        }
        cur = next;
    }
    out.join(",")
}

/// lvm2's `_find_descendants` without `--history`: an origin's COW LVs, a thin origin's (or
/// external origin's) thin LVs, each followed by its own; with `full`, also through the
/// historical LVs whose origin this is.
fn descendants_into(v: &VgView, name: &str, full: bool, out: &mut Vec<String>, depth: usize) {
    if depth > v.vg.lvs.len() + v.vg.historical_lvs.len() {
        return;
    }
    let mut next: Vec<String> = Vec::new();
    if let Some(h) = name.strip_prefix('-') {
        if full {
            if let Some(hist) = v.vg.historical_lvs.iter().find(|x| x.name == h) {
                next.extend(hist.descendants.iter().cloned());
            }
        }
    } else if let Some(i) = v.lv_index(name) {
        if v.is_origin(i) {
            for &g in &v.lvs[i].origin_of {
                if let Some(SegmentKind::Snapshot { cow_store, .. }) = v.glue_segment(g).map(|s| &s.kind) {
                    next.push(cow_store.clone());
                }
            }
        } else {
            for (j, lv) in v.vg.lvs.iter().enumerate() {
                if let Some(SegmentKind::Thin { origin, external_origin, .. }) = first_kind(v, j) {
                    if origin.as_deref() == Some(name) || external_origin.as_deref() == Some(name) {
                        next.push(lv.name.clone());
                    }
                }
            }
            if full {
                next.extend(
                    v.vg.historical_lvs
                        .iter()
                        .filter(|x| x.origin.as_deref() == Some(name))
                        .map(|x| format!("-{}", x.name)),
                );
            }
        }
    }
    for n in next {
        if !n.starts_with('-') {
            out.push(n.clone());
        }
        descendants_into(v, &n, full, out, depth + 1);
    }
}

fn descendants(v: &VgView, i: usize, full: bool) -> String {
    let mut out = Vec::new();
    descendants_into(v, &v.lv(i).name, full, &mut out, 0);
    out.join(",")
}

/// The integrity settings lvm2 reports for an LV (`lv_raid_has_integrity`: a RAID LV whose
/// first image is an integrity LV; or an integrity LV itself).
fn integrity_settings<'a>(v: &'a VgView, i: usize) -> Option<&'a [lvmkit_metadata::text::Item<'static>]> {
    let own = |j: usize| match first_kind(v, j) {
        Some(SegmentKind::Integrity { settings, .. }) => Some(settings.as_slice()),
        _ => None,
    };
    if let Some(SegmentKind::Raid { areas, .. }) = first_kind(v, i) {
        return areas.first().and_then(|a| v.lv_index(&a.data)).and_then(own);
    }
    own(i)
}

/// lvm2's `seg->data_copies` as text import sets it: a raid1's images, a raid10's copies,
/// parity devices + 1 for raid4/5/6, 1 for everything else.
fn data_copies(seg: &Segment) -> u64 {
    match &seg.kind {
        SegmentKind::Raid { areas, .. } => {
            let t = seg.segtype.name.as_str();
            if t == "raid1" {
                areas.len() as u64
            } else if t.starts_with("raid10") {
                seg.data_copies.unwrap_or(2)
            } else {
                parity_devs(t) + 1
            }
        }
        _ => 1,
    }
}

/// `segtype->parity_devs`.
fn parity_devs(segtype: &str) -> u64 {
    if segtype.starts_with("raid4") || segtype.starts_with("raid5") {
        1
    } else if segtype.starts_with("raid6") {
        2
    } else {
        0
    }
}

/// lvm2's `_seg_parity_chunks_disp`: parity devices, or data copies - 1, one more when every
/// area is itself resilient; `None` for none.
fn parity_chunks(v: &VgView, seg: &Segment) -> Option<u64> {
    let p = match parity_devs(&seg.segtype.name) {
        0 => data_copies(seg) - 1,
        n => n,
    };
    if p == 0 {
        return None;
    }
    let areas = lv_areas(seg);
    let resilient = areas
        .iter()
        .filter(|(n, _)| {
            v.lv_index(n)
                .and_then(|j| v.first_seg(j))
                .is_some_and(|s| parity_devs(&s.segtype.name) > 0 || data_copies(s) > 1)
        })
        .count();
    let total = area_count(seg) as usize;
    Some(if resilient > 0 && resilient == total { p + 1 } else { p })
}

/// `key=value` as lvm2's `dm_config_write_one_node` writes a setting.
fn setting_text(it: &lvmkit_metadata::text::Item<'static>) -> Option<String> {
    match &it.node {
        Node::Value(Value::Scalar(Scalar::Int(n))) => Some(format!("{}={n}", it.key)),
        Node::Value(Value::Scalar(Scalar::Str(s))) => Some(format!("{}=\"{s}\"", it.key)),
        Node::Value(Value::Scalar(Scalar::Bare(s) | Scalar::Float(s))) => Some(format!("{}={s}", it.key)),
        _ => None,
    }
}

/// lvm2's `cache_settings`: a writecache's settings, or the policy settings of the segment
/// whose cache settings apply (the cachevol's cache segment, the cache pool).
fn cache_settings_list(v: &VgView, seg: &Segment) -> String {
    let items: Vec<String> = match &seg.kind {
        SegmentKind::Writecache { settings, .. } => {
            // writecache_settings_to_str_list's order.
            const KEYS: [&str; 11] = [
                "high_watermark",
                "low_watermark",
                "writeback_jobs",
                "autocommit_blocks",
                "autocommit_time",
                "fua",
                "nofua",
                "cleaner",
                "max_age",
                "metadata_only",
                "pause_writeback",
            ];
            let mut out: Vec<String> = KEYS
                .iter()
                .filter_map(|k| settings.iter().find(|it| it.key == *k))
                .filter_map(setting_text)
                .collect();
            if let (Some(k), Some(val)) = (
                setting_str(settings, "writecache_setting_key"),
                setting_str(settings, "writecache_setting_val"),
            ) {
                out.push(format!("{k}={val}"));
            }
            out
        }
        SegmentKind::CachePool { policy_settings, .. } => {
            policy_settings.iter().flat_map(|s| s.items.iter()).filter_map(setting_text).collect()
        }
        SegmentKind::Cache { cache_pool, settings, .. } => {
            let pool = v.lv_index(cache_pool);
            if pool.is_some_and(|p| v.is_cache_vol(p)) {
                settings
                    .iter()
                    .filter(|it| it.key == "policy_settings")
                    .flat_map(|it| match &it.node {
                        Node::Section(s) => s.items.iter().filter_map(setting_text).collect(),
                        _ => vec![],
                    })
                    .collect()
            } else {
                match pool.and_then(|p| v.first_seg(p)) {
                    Some(ps) if matches!(ps.kind, SegmentKind::CachePool { .. }) => {
                        return cache_settings_list(v, ps);
                    }
                    _ => vec![],
                }
            }
        }
        _ => vec![],
    };
    items.join(",")
}

/// The vdo-pool segment's settings for a vdo or vdo-pool segment.
fn vdo_settings<'a>(v: &'a VgView, seg: &'a Segment) -> Option<&'a [lvmkit_metadata::text::Item<'static>]> {
    let pool = match &seg.kind {
        SegmentKind::Vdo { vdo_pool, .. } => v.lv_index(vdo_pool).and_then(|p| v.first_seg(p))?,
        _ => seg,
    };
    match &pool.kind {
        SegmentKind::VdoPool { settings, .. } => Some(settings),
        _ => None,
    }
}

fn vdo_num(r: &Row, key: &str) -> String {
    seg_str(r, |v, _, s| {
        vdo_settings(v, s).and_then(|st| setting_int(st, key)).map_or_else(String::new, |n| n.to_string())
    })
}

fn vdo_bool(r: &Row, key: &str, word_on: &str) -> String {
    seg_str(r, |v, _, s| {
        vdo_settings(v, s)
            .map_or_else(String::new, |st| word(setting_int(st, key).is_some_and(|n| n != 0), word_on))
    })
}

/// A vdo size setting in MiB (`*_mb`), shown as a size.
fn vdo_mib(c: &Ctx, r: &Row, key: &str) -> String {
    seg_str(r, |v, _, s| {
        vdo_settings(v, s).and_then(|st| setting_int(st, key)).map_or_else(String::new, |n| size(c, n << 20))
    })
}

/// A PV's device number, as lvm2's `pv_major`/`pv_minor` print it: the block device's, `0` for
/// a missing PV (lvm2's placeholder device), `-1` for an image file (no device number).
fn pv_devnum(r: &Row, minor: bool) -> String {
    match (r.pv_scan(), r.pv_meta()) {
        (Some(s), _) => match s.device.dev_t() {
            Some(d) => {
                let n = lvmkit_dm::DevNum::from_dev_t(d);
                (if minor { n.minor } else { n.major }).to_string()
            }
            None => "-1".to_string(),
        },
        (None, Some(_)) => "0".to_string(),
        (None, None) => String::new(),
    }
}

// ------------------------------------------------------------- table ----

/// Every field lvmkit reports.
pub(crate) static FIELDS: &[Field] = &[
    // Label and PV (lvm2's pv_all, in its order: LABEL fields, then PVS).
    f!("pv_fmt", Str, Label, "Fmt", 3, L, |_, r| if r.pv_scan().is_some_and(|s| s.lvm1.is_some()) {
        "lvm1".to_string()
    } else {
        word(r.pv.is_some(), "lvm2")
    }),
    f!("pv_uuid", Str, Label, "PV UUID", 38, L, |_, r| match (r.pv_meta(), r.pv_scan()) {
        (Some((_, _, pv)), _) => pv.id.to_string(),
        (None, Some(s)) => s.label.pv_header.pv_uuid.to_string(),
        _ => String::new(),
    }),
    f!("dev_size", Size, Label, "DevSize", 7, R, |c, r| size(c, r.pv_scan().map_or(0, |s| s.dev_size))),
    f!("pv_name", Str, Label, "PV", 10, L, |_, r| pv_name(r)),
    f!("pv_major", Str, Label, "Maj", 3, L, |_, r| pv_devnum(r, false)),
    f!("pv_minor", Str, Label, "Min", 3, L, |_, r| pv_devnum(r, true)),
    f!("pv_mda_free", Size, Label, "PMdaFree", 9, R, |c, r| size(c, pv_mda(r).map_or(0, |m| m.min_free))),
    f!("pv_mda_size", Size, Label, "PMdaSize", 9, R, |c, r| size(c, pv_mda(r).map_or(0, |m| m.min_size))),
    f!("pv_ext_vsn", Num, Label, "PExtVsn", 7, R, |_, r| match r.pv_scan() {
        Some(s) => s.label.pv_header.extension.as_ref().map_or(0, |e| e.version).to_string(),
        None => String::new(),
    }),
    f!("pe_start", Num, Pv, "1st PE", 7, R, |c, r| size(
        c,
        match (r.pv_meta(), r.pv_scan()) {
            (Some((_, _, pv)), _) => pv.pe_start * 512,
            (None, Some(s)) => s.label.pv_header.pe_start().unwrap_or(0),
            _ => 0,
        }
    )),
    f!("pv_size", Size, Pv, "PSize", 5, R, |c, r| size(c, pv_size_bytes(r))),
    f!("pv_free", Size, Pv, "PFree", 5, R, |c, r| size(c, pv_free_bytes(r))),
    f!("pv_used", Size, Pv, "Used", 4, R, |c, r| size(c, pv_used_bytes(r))),
    f!("pv_attr", Str, Pv, "Attr", 4, L, |_, r| {
        let (a, x, m) = pv_flags(r);
        attr::pv_attr(a, r.pv_meta().is_some(), x, m)
    }),
    f!("pv_allocatable", Bin, Pv, "Allocatable", 11, R, |_, r| word(pv_flags(r).0, "allocatable")),
    f!("pv_exported", Bin, Pv, "Exported", 10, R, |_, r| word(pv_flags(r).1, "exported")),
    f!("pv_missing", Bin, Pv, "Missing", 10, R, |_, r| word(pv_flags(r).2, "missing")),
    f!("pv_pe_count", Num, Pv, "PE", 3, R, |_, r| pv_alloc(r).map_or(0, |a| a.0).to_string()),
    f!("pv_pe_alloc_count", Num, Pv, "Alloc", 5, R, |_, r| pv_alloc(r).map_or(0, |a| a.1).to_string()),
    f!("pv_tags", StrList, Pv, "PV Tags", 7, L, |_, r| r
        .pv_meta()
        .map_or_else(String::new, |(_, _, pv)| tags(&pv.tags))),
    f!("pv_mda_count", Num, Pv, "#PMda", 5, R, |_, r| pv_mda(r).map_or(0, |m| m.count).to_string()),
    f!("pv_mda_used_count", Num, Pv, "#PMdaUse", 8, R, |_, r| pv_mda(r).map_or(0, |m| m.used).to_string()),
    f!("pv_ba_start", Size, Pv, "BA Start", 8, R, |c, r| size(c, pv_ba(r).0)),
    f!("pv_ba_size", Size, Pv, "BA Size", 7, R, |c, r| size(c, pv_ba(r).1)),
    f!("pv_in_use", Bin, Pv, "PInUse", 6, R, |_, r| word(
        r.pv_meta().is_some() || r.pv_scan().is_some_and(|s| s.label.pv_header.ext_used()),
        "used"
    )),
    f!("pv_duplicate", Bin, Pv, "Duplicate", 9, R, |_, _| String::new()),
    // lvmkit keeps no devices file (lvm2's use_devicesfile=0 shows these empty too).
    f!("pv_device_id", Str, Pv, "DeviceID", 8, L, |_, _| String::new()),
    f!("pv_device_id_type", Str, Pv, "DeviceIDType", 12, L, |_, _| String::new()),
    // PV segments (pvseg_all).
    f!("pvseg_start", Num, PvSeg, "Start", 5, R, |_, r| r.pvseg.map_or(0, |p| p.start).to_string()),
    f!("pvseg_size", Num, PvSeg, "SSize", 5, R, |_, r| r.pvseg.map_or(0, |p| p.len).to_string()),
    // VG (vg_all).
    f!("vg_fmt", Str, Vg, "Fmt", 3, L, |_, r| match r.vg.map(|v| v.vg.format.as_deref()) {
        Some(Some("lvm1")) => "lvm1".to_string(),
        Some(_) => "lvm2".to_string(),
        // An orphan PV's row: lvm2's orphan VG has no format name.
        None => String::new(),
    }),
    f!("vg_uuid", Str, Vg, "VG UUID", 38, L, |_, r| r.vg.map_or_else(String::new, |v| v.vg.id.to_string())),
    f!("vg_name", Str, Vg, "VG", 2, L, |_, r| r.vg.map_or_else(String::new, |v| v.vg.name.clone())),
    f!("vg_attr", Str, Vg, "Attr", 5, L, |_, r| match r.vg {
        Some(v) => attr::vg_attr(v.vg, v.missing_count() > 0),
        None => "r-----".to_string(),
    }),
    f!("vg_permissions", Str, Vg, "VPerms", 10, L, |_, r| match r.vg {
        Some(v) if v.vg.is_writable() => "writeable".to_string(),
        _ => "read-only".to_string(),
    }),
    f!("vg_extendable", Bin, Vg, "Extendable", 10, R, |_, r| word(
        r.vg.is_some_and(|v| v.vg.status.has("RESIZEABLE")),
        "extendable"
    )),
    f!("vg_exported", Bin, Vg, "Exported", 10, R, |_, r| word(
        r.vg.is_some_and(|v| v.vg.is_exported()),
        "exported"
    )),
    f!("vg_autoactivation", Bin, Vg, "AutoAct", 7, R, |_, r| word(
        !r.vg.is_some_and(|v| v.vg.flags.as_ref().is_some_and(|f| f.has("NOAUTOACTIVATE"))),
        "enabled"
    )),
    f!("vg_partial", Bin, Vg, "Partial", 10, R, |_, r| word(
        r.vg.is_some_and(|v| v.missing_count() > 0),
        "partial"
    )),
    f!("vg_allocation_policy", Str, Vg, "AllocPol", 10, L, |_, r| match r.vg {
        Some(v) => v.vg.allocation_policy.clone().unwrap_or_else(|| "normal".to_string()),
        None => "unknown".to_string(),
    }),
    f!("vg_clustered", Bin, Vg, "Clustered", 10, R, |_, r| word(
        r.vg.is_some_and(|v| v.vg.status.has("CLUSTERED")),
        "clustered"
    )),
    f!("vg_shared", Bin, Vg, "Shared", 7, R, |_, r| word(
        r.vg.is_some_and(|v| v.vg.lock_type.as_deref().is_some_and(|t| t != "none")),
        "shared"
    )),
    f!("vg_size", Size, Vg, "VSize", 5, R, |c, r| vg_size(c, r, |v| v.vg.extent_count() * v.extent_bytes())),
    f!("vg_free", Size, Vg, "VFree", 5, R, |c, r| vg_size(c, r, |v| vg_free_count(v) * v.extent_bytes())),
    f!("vg_sysid", Str, Vg, "SYS ID", 6, L, |_, r| r
        .vg
        .and_then(|v| v.vg.system_id.clone())
        .unwrap_or_default()),
    f!("vg_systemid", Str, Vg, "System ID", 9, L, |_, r| r
        .vg
        .and_then(|v| v.vg.system_id.clone())
        .unwrap_or_default()),
    f!("vg_lock_type", Str, Vg, "LockType", 8, L, |_, r| r
        .vg
        .and_then(|v| v.vg.lock_type.clone())
        .unwrap_or_default()),
    f!("vg_lock_args", Str, Vg, "VLockArgs", 9, L, |_, r| r
        .vg
        .and_then(|v| v.vg.lock_args.clone())
        .unwrap_or_default()),
    f!("vg_extent_size", Size, Vg, "Ext", 3, R, |c, r| vg_size(c, r, |v| v.extent_bytes())),
    f!("vg_extent_count", Num, Vg, "#Ext", 4, R, |_, r| vg_num(r, |v| v.vg.extent_count())),
    f!("vg_free_count", Num, Vg, "Free", 4, R, |_, r| vg_num(r, vg_free_count)),
    f!("max_lv", Num, Vg, "MaxLV", 5, R, |_, r| vg_num(r, |v| v.vg.max_lv)),
    f!("max_pv", Num, Vg, "MaxPV", 5, R, |_, r| vg_num(r, |v| v.vg.max_pv)),
    f!("pv_count", Num, Vg, "#PV", 3, R, |_, r| vg_num(r, |v| v.vg.pvs.len() as u64)),
    f!("vg_missing_pv_count", Num, Vg, "#PV Missing", 11, R, |_, r| vg_num(r, |v| v.missing_count() as u64)),
    f!("lv_count", Num, Vg, "#LV", 3, R, |_, r| vg_num(r, |v| v.visible_count() as u64)),
    f!("snap_count", Num, Vg, "#SN", 3, R, |_, r| vg_num(r, |v| v.snapshot_count() as u64)),
    f!("vg_seqno", Num, Vg, "Seq", 3, R, |_, r| vg_num(r, |v| v.vg.seqno)),
    f!("vg_tags", StrList, Vg, "VG Tags", 7, L, |_, r| r.vg.map_or_else(String::new, |v| tags(&v.vg.tags))),
    f!("vg_profile", Str, Vg, "VProfile", 8, L, |_, r| r
        .vg
        .and_then(|v| v.vg.profile.clone())
        .unwrap_or_default()),
    f!("vg_mda_count", Num, Vg, "#VMda", 5, R, |_, r| vg_num(r, |v| v.vg_mda().0)),
    f!("vg_mda_used_count", Num, Vg, "#VMdaUse", 8, R, |_, r| vg_num(r, |v| v.vg_mda().1)),
    f!("vg_mda_free", Size, Vg, "VMdaFree", 9, R, |c, r| vg_size(c, r, |v| v.vg_mda().3)),
    f!("vg_mda_size", Size, Vg, "VMdaSize", 9, R, |c, r| vg_size(c, r, |v| v.vg_mda().2)),
    f!("vg_mda_copies", Num, Vg, "#VMdaCps", 8, R, |_, r| match r.vg.and_then(|v| v.vg.metadata_copies) {
        Some(n) if n > 0 => n.to_string(),
        _ => "unmanaged".to_string(),
    }),
    // LV (lv_all). LvStatus: lvm2's LVSINFO/LVSSTATUS fields, left out of `lvs --segments -o all`.
    f!("lv_uuid", Str, Lv, "LV UUID", 38, L, |_, r| lv_str(r, |v, i| v.lv(i).id.to_string())),
    f!("lv_name", Str, Lv, "LV", 4, L, |_, r| lv_str(r, |v, i| v.display_name(i))),
    f!("lv_full_name", Str, Lv, "LV", 4, L, |_, r| match (r.vg, r.lv) {
        (Some(v), Some(i)) => format!("{}/{}", v.vg.name, v.lv(i).name),
        (Some(v), None) => format!("{}/", v.vg.name),
        // An orphan PV's row: lvm2 joins the orphan VG's empty name and no LV.
        (None, _) => "/".to_string(),
    }),
    f!("lv_path", Str, Lv, "Path", 4, L, |_, r| match (r.vg, r.lv) {
        // Only LVs that get a /dev/VG/LV link: visible, not thin pools.
        (Some(v), Some(i)) if v.is_visible(i) && !v.is_thin_pool(i) => {
            format!("/dev/{}/{}", v.vg.name, v.lv(i).name)
        }
        (Some(v), None) => format!("/dev/{}/", v.vg.name),
        _ => String::new(),
    }),
    f!("lv_dm_path", Str, Lv, "DMPath", 6, L, |_, r| match (r.vg, r.lv) {
        (Some(v), Some(i)) => format!("/dev/mapper/{}", dm_name(&v.vg.name, &v.lv(i).name)),
        (Some(v), None) => format!("/dev/mapper/{}", dm_name(&v.vg.name, "")),
        _ => String::new(),
    }),
    f!("lv_parent", Str, Lv, "Parent", 6, L, |_, r| lv_str(r, |v, i| v
        .parent(i)
        .map_or_else(String::new, |p| v.display_name(p)))),
    f!("lv_layout", StrList, Lv, "Layout", 10, L, |_, r| match r.lv() {
        Some((v, i)) => layout::layout_and_role(v, i).0,
        None => "unknown".to_string(),
    }),
    f!("lv_role", StrList, Lv, "Role", 10, L, |_, r| match r.lv() {
        Some((v, i)) => layout::layout_and_role(v, i).1,
        None => "public".to_string(),
    }),
    f!("lv_initial_image_sync", Bin, Lv, "InitImgSync", 10, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| {
            let mirrored = v.is_mirror(i)
                || (v.is_pvmove(i)
                    && v.first_seg(i).is_some_and(|s| matches!(s.kind, SegmentKind::Mirror { .. })));
            (v.is_raid(i) || mirrored) && !v.lv(i).status.has("NOTSYNCED")
        }),
        "initial image sync"
    )),
    f!("lv_image_synced", Bin, Lv, "ImgSynced", 10, R, |c, r| live_or(c, r, "lv_image_synced", String::new)),
    f!("lv_merging", Bin, Lv, "Merging", 10, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| v.is_merging_origin(i) || v.is_merging_cow(i)),
        "merging"
    )),
    f!("lv_converting", Bin, Lv, "Converting", 10, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| v.lv(i).status.has("CONVERTING")),
        "converting"
    )),
    f!("lv_allocation_policy", Str, Lv, "AllocPol", 10, L, |_, r| match r.lv() {
        Some((v, i)) => v.lv(i).allocation_policy.clone().unwrap_or_else(|| "inherit".to_string()),
        None => "unknown".to_string(),
    }),
    f!("lv_allocation_locked", Bin, Lv, "AllocLock", 10, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| v.is_locked(i)),
        "allocation locked"
    )),
    f!("lv_fixed_minor", Bin, Lv, "FixMin", 10, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| v.lv(i).status.has("FIXED_MINOR")),
        "fixed minor"
    )),
    f!("lv_skip_activation", Bin, Lv, "SkipAct", 15, R, |_, r| word(
        r.lv().is_some_and(|(v, i)| v.lv(i).has_flag("ACTIVATION_SKIP")),
        "skip activation"
    )),
    f!("lv_autoactivation", Bin, Lv, "AutoAct", 7, R, |_, r| word(
        !r.lv().is_some_and(|(v, i)| v.lv(i).has_flag("NOAUTOACTIVATE")),
        "enabled"
    )),
    f!("lv_when_full", Str, Lv, "WhenFull", 15, L, |_, r| match r.lv() {
        Some((v, i)) if v.is_thin_pool(i) => {
            if v.lv(i).has_flag("ERROR_WHEN_FULL") { "error" } else { "queue" }.to_string()
        }
        _ => String::new(),
    }),
    f!("lv_active", Str, Lv, "Active", 6, L, |c, r| live_or(c, r, "lv_active", || "unknown".to_string())),
    f!("lv_active_locally", Bin, Lv, "ActLocal", 10, R, |c, r| live_or(c, r, "lv_active_locally", || {
        "unknown".to_string()
    })),
    f!("lv_active_remotely", Bin, Lv, "ActRemote", 10, R, |c, r| live_or(c, r, "lv_active_remotely", || {
        "unknown".to_string()
    })),
    f!("lv_active_exclusively", Bin, Lv, "ActExcl", 10, R, |c, r| live_or(
        c,
        r,
        "lv_active_exclusively",
        || "unknown".to_string()
    )),
    f!("lv_major", Num, Lv, "Maj", 3, R, |_, r| r
        .lv()
        .and_then(|(v, i)| v.lv(i).major)
        .unwrap_or(-1)
        .to_string()),
    f!("lv_minor", Num, Lv, "Min", 3, R, |_, r| r
        .lv()
        .and_then(|(v, i)| v.lv(i).minor)
        .unwrap_or(-1)
        .to_string()),
    f!("lv_read_ahead", Size, Lv, "Rahead", 6, R, |c, r| match r.lv() {
        Some((v, i)) => read_ahead(c, v, i),
        None => size(c, 0),
    }),
    f!("lv_size", Size, Lv, "LSize", 5, R, |c, r| size(c, r.lv().map_or(0, |(v, i)| lv_size_bytes(v, i)))),
    f!("lv_metadata_size", Size, Lv, "MSize", 5, R, |c, r| match r.lv() {
        // A cache on a cachevol keeps its metadata inside the cachevol.
        Some((v, i)) if v.is_cache(i) => match first_kind(v, i) {
            Some(SegmentKind::Cache { cache_pool, settings, .. })
                if v.lv_index(cache_pool).is_some_and(|p| v.is_cache_vol(p)) =>
            {
                setting_int(settings, "metadata_len").map_or_else(String::new, |n| c.units.sectors(n))
            }
            _ => String::new(),
        },
        Some((v, i)) => metadata_lv_name(v, i)
            .and_then(|m| v.lv_index(m))
            .map_or_else(String::new, |m| size(c, lv_size_bytes(v, m))),
        None => String::new(),
    }),
    f!("seg_count", Num, Lv, "#Seg", 4, R, |_, r| r
        .lv()
        .map_or(0, |(v, i)| v.lv(i).segments.len())
        .to_string()),
    f!("origin", Str, Lv, "Origin", 6, L, |_, r| lv_str(r, |v, i| {
        origin_name(v, i).map_or_else(String::new, |o| v.display_name_of(o))
    })),
    f!("origin_uuid", Str, Lv, "Origin UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        origin_name(v, i)
    ))),
    f!("origin_size", Size, Lv, "OSize", 5, R, |c, r| {
        let bytes = r.lv().map_or(0, |(v, i)| origin_size_bytes(v, i));
        if bytes == 0 { String::new() } else { size(c, bytes) }
    }),
    f!("lv_ancestors", StrList, Lv, "Ancestors", 9, L, |_, r| lv_str(r, |v, i| ancestors(v, i, false))),
    f!("lv_full_ancestors", StrList, Lv, "FAncestors", 10, L, |_, r| lv_str(r, |v, i| ancestors(v, i, true))),
    f!("lv_descendants", StrList, Lv, "Descendants", 11, L, |_, r| lv_str(r, |v, i| descendants(
        v, i, false
    ))),
    f!("lv_full_descendants", StrList, Lv, "FDescendants", 12, L, |_, r| lv_str(r, |v, i| descendants(
        v, i, true
    ))),
    // Kernel state of a RAID: unknown without device-mapper (lvm2 prints nothing).
    f!("raid_mismatch_count", Num, Lv, "Mismatches", 10, R, |c, r| live_or(
        c,
        r,
        "raid_mismatch_count",
        String::new
    )),
    f!("raid_sync_action", Str, Lv, "SyncAction", 10, L, |c, r| live_or(
        c,
        r,
        "raid_sync_action",
        String::new
    )),
    f!("raid_write_behind", Num, Lv, "WBehind", 7, R, |_, r| lv_str(r, |v, i| match first_kind(v, i) {
        Some(SegmentKind::Raid { writebehind: Some(n), .. }) if *n > 0 => n.to_string(),
        _ => String::new(),
    })),
    f!("raid_min_recovery_rate", Num, Lv, "MinSync", 7, R, |_, r| lv_str(r, |v, i| match first_kind(v, i) {
        Some(SegmentKind::Raid { min_recovery_rate: Some(n), .. }) if *n > 0 => n.to_string(),
        _ => String::new(),
    })),
    f!("raid_max_recovery_rate", Num, Lv, "MaxSync", 7, R, |_, r| lv_str(r, |v, i| match first_kind(v, i) {
        Some(SegmentKind::Raid { max_recovery_rate: Some(n), .. }) if *n > 0 => n.to_string(),
        _ => String::new(),
    })),
    f!("raidintegritymode", Str, Lv, "IntegMode", 9, L, |_, r| lv_str(r, |v, i| {
        match integrity_settings(v, i).and_then(|st| setting_str(st, "mode")).as_deref() {
            Some(m) if m.starts_with('B') => "bitmap".to_string(),
            Some(m) if m.starts_with('J') => "journal".to_string(),
            _ => String::new(),
        }
    })),
    f!("raidintegrityblocksize", Num, Lv, "IntegBlkSize", 12, R, |_, r| match r.lv() {
        Some((v, i)) => match integrity_settings(v, i) {
            Some(st) => setting_int(st, "block_size").unwrap_or(0).to_string(),
            None => "-1".to_string(),
        },
        None => "-1".to_string(),
    }),
    f!("integritymismatches", Num, Lv, "IntegMismatches", 15, R, |c, r| live_or(
        c,
        r,
        "integritymismatches",
        String::new
    )),
    f!("move_pv", Str, Lv, "Move", 4, L, |_, r| lv_str(r, |v, i| move_pv_name(v, i).unwrap_or_default())),
    f!("move_pv_uuid", Str, Lv, "Move UUID", 38, L, |_, r| lv_str(r, |v, i| move_pv(v, i)
        .map_or_else(String::new, |p| v.vg.pvs[p].id.to_string()))),
    f!("convert_lv", Str, Lv, "Convert", 7, L, |_, r| lv_str(r, |v, i| {
        convert_lv_name(v, i).map_or_else(String::new, |n| v.display_name_of(n))
    })),
    f!("convert_lv_uuid", Str, Lv, "Convert UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        convert_lv_name(v, i)
    ))),
    f!("mirror_log", Str, Lv, "Log", 3, L, |_, r| lv_str(r, |v, i| {
        mirror_log_name(v, i).map_or_else(String::new, |n| v.display_name_of(n))
    })),
    f!("mirror_log_uuid", Str, Lv, "Log UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        mirror_log_name(v, i)
    ))),
    f!("data_lv", Str, Lv, "Data", 4, L, |_, r| lv_str(r, |v, i| {
        data_lv_name(v, i).map_or_else(String::new, |n| v.display_name_of(n))
    })),
    f!("data_lv_uuid", Str, Lv, "Data UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        data_lv_name(v, i)
    ))),
    f!("metadata_lv", Str, Lv, "Meta", 4, L, |_, r| lv_str(r, |v, i| {
        metadata_lv_name(v, i).map_or_else(String::new, |n| v.display_name_of(n))
    })),
    f!("metadata_lv_uuid", Str, Lv, "Meta UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        metadata_lv_name(v, i)
    ))),
    f!("pool_lv", Str, Lv, "Pool", 4, L, |_, r| lv_str(r, |v, i| {
        pool_lv_name(v, i).map_or_else(String::new, |n| v.display_name_of(n))
    })),
    f!("pool_lv_uuid", Str, Lv, "Pool UUID", 38, L, |_, r| lv_str(r, |v, i| lv_uuid_of(
        v,
        pool_lv_name(v, i)
    ))),
    f!("lv_tags", StrList, Lv, "LV Tags", 7, L, |_, r| lv_str(r, |v, i| tags(&v.lv(i).tags))),
    f!("lv_profile", Str, Lv, "LProfile", 8, L, |_, r| lv_str(r, |v, i| v
        .lv(i)
        .profile
        .clone()
        .unwrap_or_default())),
    f!("lv_lockargs", Str, Lv, "LLockArgs", 9, L, |_, r| lv_str(r, |v, i| v
        .lv(i)
        .lock_args
        .clone()
        .unwrap_or_default())),
    f!("lv_time", Time, Lv, "CTime", 26, L, |_, r| lv_str(r, |v, i| v
        .lv(i)
        .creation_time
        .map(format_time)
        .unwrap_or_default())),
    f!("lv_time_removed", Time, Lv, "RTime", 26, L, |_, _| String::new()),
    f!("lv_host", Str, Lv, "Host", 10, L, |_, r| lv_str(r, |v, i| v
        .lv(i)
        .creation_host
        .clone()
        .unwrap_or_default())),
    f!("lv_modules", StrList, Lv, "Modules", 7, L, |_, r| lv_str(r, lv_modules)),
    f!("lv_historical", Bin, Lv, "Historical", 10, R, |_, _| String::new()),
    f!("writecache_block_size", Num, Lv, "WCacheBlkSize", 13, R, |_, r| match r.lv() {
        Some((v, i)) => match first_kind(v, i) {
            Some(SegmentKind::Writecache { settings, .. }) => {
                setting_int(settings, "writecache_block_size")
                    .filter(|n| *n > 0)
                    .map_or(-1, |n| n as i64)
                    .to_string()
            }
            _ => "-1".to_string(),
        },
        None => "-1".to_string(),
    }),
    f!("lv_kernel_major", Num, LvStatus, "KMaj", 4, R, |c, r| live_or(c, r, "lv_kernel_major", || "-1"
        .to_string())),
    f!("lv_kernel_minor", Num, LvStatus, "KMin", 4, R, |c, r| live_or(c, r, "lv_kernel_minor", || "-1"
        .to_string())),
    f!("lv_kernel_read_ahead", Size, LvStatus, "KRahead", 7, R, |c, r| live_or(
        c,
        r,
        "lv_kernel_read_ahead",
        || "-1".to_string()
    )),
    f!("lv_permissions", Str, LvStatus, "LPerms", 8, L, |c, r| live_or(c, r, "lv_permissions", || {
        match r.lv() {
            Some((v, i)) if v.is_pvmove(i) => String::new(),
            // Without device-mapper only a read-only LV is known for sure.
            Some((v, i)) if !v.lv(i).is_writable() => "read-only".to_string(),
            _ => "unknown".to_string(),
        }
    })),
    f!("lv_suspended", Bin, LvStatus, "Suspended", 10, R, |c, r| live_or(c, r, "lv_suspended", || "unknown"
        .to_string())),
    f!("lv_live_table", Bin, LvStatus, "LiveTable", 20, R, |c, r| live_or(c, r, "lv_live_table", || {
        "unknown".to_string()
    })),
    f!("lv_inactive_table", Bin, LvStatus, "InactiveTable", 20, R, |c, r| live_or(
        c,
        r,
        "lv_inactive_table",
        || "unknown".to_string()
    )),
    f!("lv_device_open", Bin, LvStatus, "DevOpen", 10, R, |c, r| live_or(c, r, "lv_device_open", || {
        "unknown".to_string()
    })),
    f!("data_percent", Percent, LvStatus, "Data%", 6, R, |c, r| live_or(c, r, "data_percent", String::new)),
    f!("snap_percent", Percent, LvStatus, "Snap%", 6, R, |c, r| live_or(c, r, "snap_percent", String::new)),
    f!("metadata_percent", Percent, LvStatus, "Meta%", 6, R, |c, r| live_or(
        c,
        r,
        "metadata_percent",
        String::new
    )),
    f!("copy_percent", Percent, LvStatus, "Cpy%Sync", 8, R, |c, r| live_or(
        c,
        r,
        "copy_percent",
        String::new
    )),
    f!("sync_percent", Percent, LvStatus, "Cpy%Sync", 8, R, |c, r| live_or(
        c,
        r,
        "sync_percent",
        String::new
    )),
    // Cache, VDO and writecache kernel status: unknown without device-mapper (lvm2 prints
    // nothing).
    f!("cache_total_blocks", Num, LvStatus, "CacheTotalBlocks", 16, R, |c, r| live_or(
        c,
        r,
        "cache_total_blocks",
        String::new
    )),
    f!("cache_used_blocks", Num, LvStatus, "CacheUsedBlocks", 16, R, |c, r| live_or(
        c,
        r,
        "cache_used_blocks",
        String::new
    )),
    f!("cache_dirty_blocks", Num, LvStatus, "CacheDirtyBlocks", 16, R, |c, r| live_or(
        c,
        r,
        "cache_dirty_blocks",
        String::new
    )),
    f!("cache_read_hits", Num, LvStatus, "CacheReadHits", 16, R, |c, r| live_or(
        c,
        r,
        "cache_read_hits",
        String::new
    )),
    f!("cache_read_misses", Num, LvStatus, "CacheReadMisses", 16, R, |c, r| live_or(
        c,
        r,
        "cache_read_misses",
        String::new
    )),
    f!("cache_write_hits", Num, LvStatus, "CacheWriteHits", 16, R, |c, r| live_or(
        c,
        r,
        "cache_write_hits",
        String::new
    )),
    f!("cache_write_misses", Num, LvStatus, "CacheWriteMisses", 16, R, |c, r| live_or(
        c,
        r,
        "cache_write_misses",
        String::new
    )),
    f!("kernel_cache_settings", StrList, LvStatus, "KCacheSettings", 18, L, |c, r| live_or(
        c,
        r,
        "kernel_cache_settings",
        String::new
    )),
    f!("kernel_cache_policy", Str, LvStatus, "KCachePolicy", 18, L, |c, r| live_or(
        c,
        r,
        "kernel_cache_policy",
        String::new
    )),
    f!("kernel_metadata_format", Num, LvStatus, "KMFmt", 5, R, |c, r| live_or(
        c,
        r,
        "kernel_metadata_format",
        String::new
    )),
    f!("lv_health_status", Str, LvStatus, "Health", 15, L, |c, r| live_or(
        c,
        r,
        "lv_health_status",
        || match r.lv() {
            Some((v, i)) if v.lvs[i].partial => "partial".to_string(),
            // RAID health needs the kernel.
            Some((v, i)) if v.is_raid_type(i) => "unknown".to_string(),
            _ => String::new(),
        }
    )),
    f!("kernel_discards", Str, LvStatus, "KDiscards", 9, L, |c, r| live_or(
        c,
        r,
        "kernel_discards",
        String::new
    )),
    f!("lv_check_needed", Bin, LvStatus, "CheckNeeded", 15, R, |c, r| live_or(
        c,
        r,
        "lv_check_needed",
        || "unknown".to_string()
    )),
    f!("lv_merge_failed", Bin, LvStatus, "MergeFailed", 15, R, |c, r| live_or(
        c,
        r,
        "lv_merge_failed",
        || "unknown".to_string()
    )),
    f!("lv_snapshot_invalid", Bin, LvStatus, "SnapInvalid", 15, R, |c, r| live_or(
        c,
        r,
        "lv_snapshot_invalid",
        || "unknown".to_string()
    )),
    f!("vdo_operating_mode", Str, LvStatus, "VDOOperatingMode", 16, L, |_, _| String::new()),
    f!("vdo_compression_state", Str, LvStatus, "VDOCompressionState", 19, L, |_, _| String::new()),
    f!("vdo_index_state", Str, LvStatus, "VDOIndexState", 13, L, |_, _| String::new()),
    f!("vdo_used_size", Num, LvStatus, "VDOUsedSize", 11, R, |_, _| String::new()),
    f!("vdo_saving_percent", Num, LvStatus, "VDOSaving%", 10, R, |_, _| String::new()),
    f!("writecache_total_blocks", Num, LvStatus, "WCacheTotalBlocks", 17, R, |c, r| live_or(
        c,
        r,
        "writecache_total_blocks",
        String::new
    )),
    f!("writecache_free_blocks", Num, LvStatus, "WCacheFreeBlocks", 16, R, |c, r| live_or(
        c,
        r,
        "writecache_free_blocks",
        String::new
    )),
    f!("writecache_writeback_blocks", Num, LvStatus, "WCacheWritebackBlocks", 21, R, |c, r| live_or(
        c,
        r,
        "writecache_writeback_blocks",
        String::new
    )),
    f!("writecache_error", Num, LvStatus, "WCacheErrors", 12, R, |c, r| live_or(
        c,
        r,
        "writecache_error",
        String::new
    )),
    f!("lv_attr", Str, LvStatus, "Attr", 4, L, |_, r| lv_str(r, |v, i| {
        let mut a: [char; 10] = [' '; 10];
        for (k, ch) in attr::lv_attr(v, i).chars().take(10).enumerate() {
            a[k] = ch;
        }
        live::patch_attr(v, i, &mut a);
        a.iter().collect::<String>().trim_end().to_string()
    })),
    // LV segments (seg_all).
    f!("segtype", Str, Seg, "Type", 4, L, |_, r| r
        .seg()
        .map_or_else(|| "free".to_string(), |(_, _, s)| segtype_name(s))),
    f!("stripes", Num, Seg, "#Str", 4, R, |_, r| r.seg().map_or(0, |(_, _, s)| area_count(s)).to_string()),
    f!("data_stripes", Num, Seg, "#DStr", 5, R, |_, r| match r.seg() {
        Some((_, _, s)) => match &s.kind {
            SegmentKind::Raid { areas, .. } if s.segtype.name != "raid1" => {
                raid_data_stripes(&s.segtype.name, areas.len() as u64, s.data_copies).to_string()
            }
            _ => area_count(s).to_string(),
        },
        None => "0".to_string(),
    }),
    f!("reshape_len", Size, Seg, "RSize", 5, R, |c, r| seg_str(r, |v, i, s| {
        reshape_len(v, i, s).map_or_else(String::new, |n| size(c, n * v.extent_bytes()))
    })),
    f!("reshape_len_le", Num, Seg, "RSize", 5, R, |_, r| seg_str(r, |v, i, s| {
        reshape_len(v, i, s).map_or_else(String::new, |n| n.to_string())
    })),
    f!("data_copies", Num, Seg, "#Cpy", 4, R, |_, r| seg_str(r, |_, _, s| data_copies(s).to_string())),
    // Reshape data offsets need the kernel's raid status: lvm2 prints nothing without it.
    f!("data_offset", Num, Seg, "DOff", 4, R, |_, r| seg_live_offset(r, false)),
    f!("new_data_offset", Num, Seg, "NOff", 4, R, |_, r| seg_live_offset(r, true)),
    // A free PV segment has data_copies 0: lvm2 prints data_copies - 1 as an unsigned number.
    f!("parity_chunks", Num, Seg, "#Par", 4, R, |_, r| match r.seg() {
        Some((v, _, s)) => parity_chunks(v, s).map_or_else(String::new, |n| n.to_string()),
        None => u32::MAX.to_string(),
    }),
    f!("stripe_size", Size, Seg, "Stripe", 6, R, |c, r| size(
        c,
        match r.seg().map(|(_, _, s)| &s.kind) {
            Some(SegmentKind::Striped { stripe_size: Some(z), areas }) if areas.len() > 1 => z * 512,
            Some(SegmentKind::Raid { stripe_size: Some(z), .. }) => z * 512,
            _ => 0,
        }
    )),
    f!("region_size", Size, Seg, "Region", 6, R, |c, r| size(
        c,
        match r.seg().map(|(_, _, s)| &s.kind) {
            Some(
                SegmentKind::Mirror { region_size: Some(z), .. }
                | SegmentKind::Raid { region_size: Some(z), .. },
            ) => {
                z * 512
            }
            _ => 0,
        }
    )),
    f!("chunk_size", Size, Seg, "Chunk", 5, R, |c, r| size(
        c,
        r.seg().map_or(0, |(v, i, s)| chunk_bytes(v, i, s))
    )),
    f!("thin_count", Num, Seg, "#Thins", 6, R, |_, r| seg_str(r, |v, i, s| match &s.kind {
        SegmentKind::ThinPool { .. } => {
            let name = &v.lv(i).name;
            v.vg.lvs
                .iter()
                .filter(|l| {
                    l.segments.first().is_some_and(
                        |t| matches!(&t.kind, SegmentKind::Thin { thin_pool, .. } if thin_pool == name),
                    )
                })
                .count()
                .to_string()
        }
        _ => String::new(),
    })),
    f!("discards", Str, Seg, "Discards", 8, L, |_, r| seg_str(r, |v, _, s| {
        match thin_pool_seg(v, s).map(|p| &p.kind) {
            Some(SegmentKind::ThinPool { discards, .. }) => {
                discards.clone().unwrap_or_else(|| "passdown".to_string())
            }
            _ => String::new(),
        }
    })),
    f!("cache_metadata_format", Num, Seg, "CMFmt", 5, R, |_, r| seg_str(r, |v, _, s| {
        cache_settings(v, s).and_then(|c| c.2).map_or_else(String::new, |n| n.to_string())
    })),
    f!("cache_mode", Str, Seg, "CacheMode", 9, L, |_, r| seg_str(r, |v, _, s| {
        cache_settings(v, s).and_then(|c| c.0).unwrap_or_default()
    })),
    f!("zero", Bin, Seg, "Zero", 4, R, |_, r| match r.seg() {
        Some((v, _, s)) => match thin_pool_seg(v, s).map(|p| &p.kind) {
            Some(SegmentKind::ThinPool { zero_new_blocks, .. }) =>
                word(zero_new_blocks.is_some_and(|z| z != 0), "zero"),
            _ => "unknown".to_string(),
        },
        None => "unknown".to_string(),
    }),
    f!("transaction_id", Num, Seg, "TransId", 7, R, |_, r| seg_str(r, |_, _, s| match &s.kind {
        SegmentKind::ThinPool { transaction_id, .. } | SegmentKind::Thin { transaction_id, .. } => {
            transaction_id.to_string()
        }
        _ => String::new(),
    })),
    f!("thin_id", Num, Seg, "ThId", 4, R, |_, r| seg_str(r, |_, _, s| match &s.kind {
        SegmentKind::Thin { device_id, .. } => device_id.to_string(),
        _ => String::new(),
    })),
    f!("seg_start", Size, Seg, "Start", 5, R, |c, r| size(c, seg_extents(r).0 * extent_bytes(r))),
    f!("seg_start_pe", Num, Seg, "Start", 5, R, |_, r| seg_extents(r).0.to_string()),
    f!("seg_size", Size, Seg, "SSize", 5, R, |c, r| size(c, seg_extents(r).1 * extent_bytes(r))),
    f!("seg_size_pe", Size, Seg, "SSize", 5, R, |_, r| seg_extents(r).1.to_string()),
    f!("seg_tags", StrList, Seg, "Seg Tags", 8, L, |_, r| seg_str(r, |_, _, s| tags(&s.tags))),
    f!("seg_pe_ranges", StrList, Seg, "PE Ranges", 9, L, |_, r| seg_str(r, |v, _, s| {
        join_areas(&seg_areas(v, s, false), " ", |a| {
            format!("{}:{}-{}", a.name, a.start, (a.start + a.len).saturating_sub(1))
        })
    })),
    f!("seg_le_ranges", StrList, Seg, "LE Ranges", 9, L, |_, r| seg_str(r, |v, _, s| {
        join_areas(&seg_areas(v, s, false), ",", |a| {
            format!("{}:{}-{}", a.marked, a.start, (a.start + a.len).saturating_sub(1))
        })
    })),
    f!("seg_metadata_le_ranges", StrList, Seg, "Metadata LE Ranges", 18, L, |_, r| seg_str(r, |v, _, s| {
        join_areas(&seg_areas(v, s, true), ",", |a| {
            format!("{}:{}-{}", a.marked, a.start, (a.start + a.len).saturating_sub(1))
        })
    })),
    f!("devices", StrList, Seg, "Devices", 7, L, |_, r| seg_str(r, |v, _, s| {
        join_areas(&seg_areas(v, s, false), ",", |a| format!("{}({})", a.name, a.start))
    })),
    f!("metadata_devices", StrList, Seg, "Metadata Devs", 13, L, |_, r| seg_str(r, |v, _, s| {
        join_areas(&seg_areas(v, s, true), ",", |a| format!("{}({})", a.name, a.start))
    })),
    f!("seg_monitor", Str, Seg, "Monitor", 7, L, |_, _| String::new()),
    f!("cache_policy", Str, Seg, "CachePolicy", 11, L, |_, r| seg_str(r, |v, _, s| {
        cache_settings(v, s).and_then(|c| c.1).unwrap_or_default()
    })),
    f!("cache_settings", StrList, Seg, "CacheSettings", 13, L, |_, r| seg_str(r, |v, _, s| {
        cache_settings_list(v, s)
    })),
    f!("vdo_compression", Bin, Seg, "VDOCompression", 14, R, |_, r| vdo_bool(
        r,
        "use_compression",
        "enabled"
    )),
    f!("vdo_deduplication", Bin, Seg, "VDODeduplication", 16, R, |_, r| vdo_bool(
        r,
        "use_deduplication",
        "enabled"
    )),
    f!("vdo_use_metadata_hints", Bin, Seg, "VDOMetadataHints", 16, R, |_, r| vdo_bool(
        r,
        "use_metadata_hints",
        "enabled"
    )),
    f!("vdo_minimum_io_size", Num, Seg, "VDOMinimumIOSize", 16, R, |c, r| seg_str(r, |v, _, s| {
        vdo_settings(v, s)
            .and_then(|st| setting_int(st, "minimum_io_size"))
            .map_or_else(String::new, |b| size(c, b))
    })),
    f!("vdo_block_map_cache_size", Size, Seg, "VDOBlockMapCacheSize", 20, R, |c, r| vdo_mib(
        c,
        r,
        "block_map_cache_size_mb"
    )),
    f!("vdo_block_map_era_length", Num, Seg, "VDOBlockMapEraLength", 20, R, |_, r| vdo_num(
        r,
        "block_map_era_length"
    )),
    f!("vdo_use_sparse_index", Bin, Seg, "VDOSparseIndex", 14, R, |_, r| vdo_bool(
        r,
        "use_sparse_index",
        "enabled"
    )),
    f!("vdo_index_memory_size", Size, Seg, "VDOIndexMemorySize", 18, R, |c, r| vdo_mib(
        c,
        r,
        "index_memory_size_mb"
    )),
    f!("vdo_slab_size", Size, Seg, "VDOSlabSize", 11, R, |c, r| vdo_mib(c, r, "slab_size_mb")),
    f!("vdo_ack_threads", Num, Seg, "VDOAckThreads", 13, R, |_, r| vdo_num(r, "ack_threads")),
    f!("vdo_bio_threads", Num, Seg, "VDOBioThreads", 13, R, |_, r| vdo_num(r, "bio_threads")),
    f!("vdo_bio_rotation", Num, Seg, "VDOBioRotation", 14, R, |_, r| vdo_num(r, "bio_rotation")),
    f!("vdo_cpu_threads", Num, Seg, "VDOCPUThreads", 13, R, |_, r| vdo_num(r, "cpu_threads")),
    f!("vdo_hash_zone_threads", Num, Seg, "VDOHashZoneThreads", 18, R, |_, r| vdo_num(
        r,
        "hash_zone_threads"
    )),
    f!("vdo_logical_threads", Num, Seg, "VDOLogicalThreads", 17, R, |_, r| vdo_num(r, "logical_threads")),
    f!("vdo_physical_threads", Num, Seg, "VDOPhysicalThreads", 18, R, |_, r| vdo_num(r, "physical_threads")),
    f!("vdo_max_discard", Num, Seg, "VDOMaxDiscard", 13, R, |_, r| vdo_num(r, "max_discard")),
    // Absent from the text: lvm2's default, auto.
    f!("vdo_write_policy", Str, Seg, "VDOWritePolicy", 14, L, |_, r| seg_str(r, |v, _, s| {
        match vdo_settings(v, s) {
            Some(st) => setting_str(st, "write_policy").unwrap_or_else(|| "auto".to_string()),
            None => String::new(),
        }
    })),
    f!("vdo_header_size", Size, Seg, "VDOHeaderSize", 13, R, |c, r| seg_str(r, |v, _, s| vdo_settings(v, s)
        .and_then(|st| setting_int(st, "header_size"))
        .map_or_else(String::new, |n| size(c, n * 512)))),
    // Every report.
    // Selection (-S) is not implemented here: every row shown is selected.
    f!("selected", Num, Any, "Selected", 8, R, |_, _| "1".to_string()),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_utc_civil() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 +0000");
        assert_eq!(format_time(1795299362), "2026-11-21 22:16:02 +0000");
        assert_eq!(format_time(951782400), "2000-02-29 00:00:00 +0000");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59 +0000");
    }

    #[test]
    fn typed_values_follow_the_kind() {
        let f = |n: &str| FIELDS.iter().find(|f| f.name == n).unwrap();
        assert_eq!(f("lv_size").kind, Kind::Size);
        assert_eq!(f("lv_tags").kind, Kind::StrList);
        assert_eq!(f("pv_allocatable").kind, Kind::Bin);
        // A row without objects: numbers read back, empty strings are undefined.
        let row = Row { vg: None, pv: None, lv: None, seg: None, pvseg: None };
        assert_eq!(f("lv_size").typed(&row), Typed::Num(0.0));
        assert_eq!(f("raidintegrityblocksize").typed(&row), Typed::Num(-1.0));
        assert_eq!(f("lv_tags").typed(&row), Typed::Undefined);
        assert_eq!(f("selected").typed(&row), Typed::Num(1.0));
    }

    #[test]
    fn field_names_are_unique() {
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}
