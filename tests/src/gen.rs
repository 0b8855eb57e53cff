//! Generated, internally consistent VGs for property tests (`model_roundtrip`) and for feeding
//! genuine lvm2 (`lvm2_accepts`).
//!
//! The generator builds VGs the way lvm2 lays them out: PVs with `pe_count`s, LVs allocated on
//! free PEs without overlaps (linear with several segments, multi-stripe on distinct PVs), thin
//! pools with `_tmeta`/`_tdata` and thin LVs (snapshots, external origins, merges, queued
//! messages), raid0…raid10 with `_rmeta_N`/`_rimage_N`, legacy mirrors with `_mimage_N`/`_mlog`,
//! COW snapshots with their `snapshotN` glue LV, attached and unattached cache pools, `error`,
//! `zero`, segments of unknown types kept verbatim, `lvol0_pmspare`, historical LVs, optional
//! fields present and absent and unknown extra keys everywhere the model keeps them.
//!
//! [`Opts::LVM2`] restricts the generator to what genuine lvm2 2.03.16 restores on a host without
//! lvmlockd, profiles or missing PVs; `lvm2_accepts::generated_vgs_are_accepted_by_lvm2` checks
//! that with `vgcfgrestore --test` onto PVs created with their UUIDs. The generator follows the
//! lvm2 rules noted where they apply (mirror region size not above the LV size, cache pools
//! always with a chunk size, a thin snapshot's `merge` naming its origin, no VG id starting with
//! `#`).

use std::collections::HashSet;

use lvmkit_metadata::flags::{FlagKind, FlagSet};
use lvmkit_metadata::id::LvmId;
use lvmkit_metadata::model::{
    Area, AreaTarget, HistoricalLv, LogicalVolume, Metadata, PhysicalVolume, RaidArea, SegType, Segment,
    SegmentKind, TextHeader, ThinMessage, VolumeGroup,
};
use lvmkit_metadata::text::{Item, Node, Scalar, Section, Value};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

// ------------------------------------------------------------------------------------------------
// Options

/// What the generator may produce.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    /// Only what lvm2 2.03.16 restores here: no lock_type/SHARED/CLUSTERED, no profiles, no
    /// missing PVs, no reshape fields, historical LVs with both times.
    pub lvm2: bool,
}

impl Opts {
    /// Everything the model can hold.
    pub const MODEL: Opts = Opts { lvm2: false };
    /// Only what genuine lvm2 restores (see the struct).
    pub const LVM2: Opts = Opts { lvm2: true };
}

// ------------------------------------------------------------------------------------------------
// Leaf strategies

/// Substrings that mark component LVs (lvm2's `apply_lvname_restrictions`).
const COMPONENT_MARKS: [&str; 17] = [
    "_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage", "_mlog", "_rimage", "_rmeta",
    "_tdata", "_tmeta", "_vdata", "_imeta", "_iorig", "_pmspare", "_vorigin",
];

/// A user-chosen LV name: `[A-Za-z0-9+_.-]`, not starting with `-`, no reserved prefix or
/// component suffix.
fn lv_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,11}".prop_filter("reserved LV name", |n| {
        n != "."
            && n != ".."
            && !n.starts_with("snapshot")
            && !n.starts_with("pvmove")
            && !COMPONENT_MARKS.iter().any(|m| n.contains(m))
    })
}

fn vg_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,15}".prop_filter("reserved VG name", |n| n != "." && n != "..")
}

/// lvm2's tag charset.
fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+./=!:&#-]{1,16}"
}

/// 0–2 distinct tags (lvm2 keeps tag lists free of duplicates).
fn tags() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![2 => Just(vec![]), 1 => vec(tag(), 1..=3).prop_map(dedup)]
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

/// Free text: printable ASCII (quotes, backslashes, `#`, `=`, braces), TAB, newline and some
/// non-ASCII UTF-8.
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\né€]{0,24}"
}

fn host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9.-]{0,12}"
}

fn scalar() -> impl Strategy<Value = Scalar<'static>> {
    prop_oneof![
        3 => any::<i64>().prop_map(Scalar::Int),
        3 => text().prop_map(|s: String| Scalar::Str(s.into())),
        1 => "[a-z][a-z_-]{0,8}".prop_map(|s: String| Scalar::Bare(s.into())),
        1 => (any::<u16>(), 0u32..1000).prop_map(|(a, b)| Scalar::Float(format!("{a}.{b}").into())),
    ]
}

fn value() -> impl Strategy<Value = Value<'static>> {
    prop_oneof![3 => scalar().prop_map(Value::Scalar), 1 => vec(scalar(), 0..4).prop_map(Value::Array)]
}

/// Keys no reader of this engine or of lvm2 interprets.
fn extra_key() -> impl Strategy<Value = String> {
    "x_[a-z0-9_]{0,8}"
}

fn extra_value_item() -> impl Strategy<Value = Item<'static>> {
    (extra_key(), value()).prop_map(|(key, v)| Item { key: key.into(), node: Node::Value(v) })
}

/// Unknown `key = value` items (where a sub-section would mean something else, e.g. a segment).
fn extra_values() -> impl Strategy<Value = Vec<Item<'static>>> {
    prop_oneof![3 => Just(vec![]), 1 => vec(extra_value_item(), 1..3)]
}

/// Unknown items including, sometimes, an unknown sub-section.
fn extra_items() -> impl Strategy<Value = Vec<Item<'static>>> {
    (extra_values(), option::weighted(0.15, (extra_key(), vec(extra_value_item(), 0..3)))).prop_map(
        |(mut items, sec)| {
            if let Some((key, inner)) = sec {
                items.push(Item { key: key.into(), node: Node::Section(Section { items: inner }) });
            }
            items
        },
    )
}

/// `1 << lo ..= 1 << hi`.
fn pow2(lo: u32, hi: u32) -> impl Strategy<Value = u64> {
    (lo..=hi).prop_map(|p| 1u64 << p)
}

// ------------------------------------------------------------------------------------------------
// Plans: what to build. `build` turns them into a consistent VG.

#[derive(Clone, Debug)]
struct LvAttrs {
    name: String,
    tags: Vec<String>,
    time: Option<(i64, String)>,
    writable: bool,
    compat: Option<Vec<&'static str>>,
    read_ahead: Option<i64>,
    minor: Option<(Option<i64>, i64)>,
    alloc: Option<&'static str>,
    profile: Option<String>,
    extra: Vec<Item<'static>>,
}

fn lv_attrs(o: Opts) -> impl Strategy<Value = LvAttrs> {
    let profile = if o.lvm2 { Just(None).boxed() } else { option::weighted(0.1, "[a-z]{1,8}").boxed() };
    (
        lv_name(),
        tags(),
        option::weighted(0.7, (0i64..=4_000_000_000, host())),
        prop::bool::weighted(0.9),
        option::weighted(
            0.8,
            subsequence(&["ACTIVATION_SKIP", "NOAUTOACTIVATE", "X_FUTURE_COMPAT"][..], 0..=2),
        ),
        option::weighted(0.3, prop_oneof![Just(-1i64), 1i64..=65536]),
        option::weighted(0.15, (option::of(select(&[0i64, 253][..])), 0i64..=1_048_575)),
        option::weighted(0.2, select(&["normal", "contiguous", "cling", "cling_by_tags", "anywhere"][..])),
        profile,
        extra_values(),
    )
        .prop_map(|(name, tags, time, writable, compat, read_ahead, minor, alloc, profile, extra)| {
            LvAttrs { name, tags, time, writable, compat, read_ahead, minor, alloc, profile, extra }
        })
}

/// Tags and unknown keys for an LV's first segment.
#[derive(Clone, Debug)]
struct SegExtras {
    tags: Vec<String>,
    extra: Vec<Item<'static>>,
}

fn seg_extras() -> impl Strategy<Value = SegExtras> {
    (tags(), extra_values()).prop_map(|(tags, extra)| SegExtras { tags, extra })
}

#[derive(Clone, Debug)]
struct ThinPlan {
    attrs: LvAttrs,
    len: u64,
    /// Snapshot of an earlier thin LV of the pool (index modulo its position).
    snap_of: Option<usize>,
    /// Use the pool's external origin (when not a snapshot).
    external: bool,
    /// As a snapshot, merging into its origin.
    merging: bool,
}

fn thin_plan(o: Opts) -> impl Strategy<Value = ThinPlan> {
    (lv_attrs(o), 1u64..=64, option::weighted(0.3, 0usize..3), any::<bool>(), prop::bool::weighted(0.2))
        .prop_map(|(attrs, len, snap_of, external, merging)| ThinPlan {
            attrs,
            len,
            snap_of,
            external,
            merging,
        })
}

#[derive(Clone, Debug)]
struct ThinPoolPlan {
    data: u64,
    meta: u64,
    striped_data: bool,
    chunk: u64,
    discards: Option<&'static str>,
    zero: Option<i64>,
    crop: Option<i64>,
    tid_extra: u64,
    thins: Vec<ThinPlan>,
    deletes: Vec<u64>,
    create_msg: bool,
    error_when_full: bool,
    spare: bool,
    external_origin: bool,
    dev_base: u64,
}

fn thin_pool_plan(o: Opts) -> impl Strategy<Value = ThinPoolPlan> {
    (
        (
            1u64..=8,
            1u64..=2,
            prop::bool::weighted(0.2),
            select(&[128u64, 256, 512, 1024, 2048][..]),
            option::of(select(&["ignore", "nopassdown", "passdown"][..])),
            option::of(0i64..=1),
            option::weighted(0.3, 0i64..=1),
        ),
        (
            0u64..=3,
            vec(thin_plan(o), 0..=3),
            prop_oneof![3 => Just(vec![]), 1 => vec(0u64..=5, 1..=2)],
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.3),
            prop::bool::weighted(0.7),
            prop::bool::weighted(0.2),
            0u64..1000,
        ),
    )
        .prop_map(
            |(
                (data, meta, striped_data, chunk, discards, zero, crop),
                (tid_extra, thins, deletes, create_msg, error_when_full, spare, external_origin, dev_base),
            )| ThinPoolPlan {
                data,
                meta,
                striped_data,
                chunk,
                discards,
                zero,
                crop,
                tid_extra,
                thins,
                deletes,
                create_msg,
                error_when_full,
                spare,
                external_origin,
                dev_base,
            },
        )
}

#[derive(Clone, Debug)]
struct RaidPlan {
    level: &'static str,
    images: usize,
    /// Extents per image.
    per: u64,
    region: u64,
    stripe: u64,
    writebehind: Option<u64>,
    min_rate: Option<u64>,
    max_rate: Option<u64>,
    notsynced: bool,
    rebuild: Option<usize>,
    reshape: Option<(u64, u64)>,
}

fn raid_plan(o: Opts) -> impl Strategy<Value = RaidPlan> {
    let levels = prop_oneof![
        3 => (Just("raid1"), 2usize..=3),
        2 => (select(&["raid4", "raid5", "raid5_la", "raid5_ra", "raid5_ls", "raid5_rs", "raid5_n"][..]), 3usize..=4),
        1 => (
            select(
                &["raid6", "raid6_zr", "raid6_nr", "raid6_nc", "raid6_n_6", "raid6_la_6", "raid6_ls_6", "raid6_ra_6", "raid6_rs_6"][..],
            ),
            5usize..=6,
        ),
        1 => (Just("raid10"), Just(4usize)),
        1 => (select(&["raid0", "raid0_meta"][..]), 2usize..=3),
    ];
    let reshape =
        if o.lvm2 { Just(None).boxed() } else { option::weighted(0.1, (0u64..=2, 0u64..=4096)).boxed() };
    (
        levels,
        1u64..=4,
        select(&[1024u64, 2048, 4096, 8192][..]),
        select(&[16u64, 64, 128, 256][..]),
        option::weighted(0.2, 1u64..=512),
        option::weighted(0.2, 1u64..=100_000),
        option::weighted(0.2, 100_000u64..=1_000_000),
        prop::bool::weighted(0.2),
        option::weighted(0.1, 0usize..6),
        reshape,
    )
        .prop_map(
            |(
                (level, images),
                per,
                region,
                stripe,
                writebehind,
                min_rate,
                max_rate,
                notsynced,
                rebuild,
                reshape,
            )| {
                RaidPlan {
                    level,
                    images,
                    per,
                    region,
                    stripe,
                    writebehind,
                    min_rate,
                    max_rate,
                    notsynced,
                    rebuild,
                    reshape,
                }
            },
        )
}

#[derive(Clone, Debug)]
struct CachePlan {
    attached: bool,
    pool_name: String,
    origin: u64,
    data: u64,
    meta: u64,
    format: Option<u64>,
    chunk: Option<u64>,
    mode: Option<&'static str>,
    policy: Option<&'static str>,
    migration_threshold: Option<i64>,
    settings: Vec<Item<'static>>,
    spare: bool,
}

fn cache_plan(o: Opts) -> impl Strategy<Value = CachePlan> {
    // lvm2 rejects a cache pool without a chunk size ("Cache chunk size 0 is not in the range").
    let chunk = select(&[64u64, 128, 256, 512, 1024][..]);
    let chunk = if o.lvm2 { chunk.prop_map(Some).boxed() } else { option::of(chunk).boxed() };
    (
        (prop::bool::weighted(0.8), lv_name(), 1u64..=6, 1u64..=4, 1u64..=3),
        (
            option::of(1u64..=2),
            chunk,
            option::of(select(&["writethrough", "writeback", "passthrough"][..])),
            option::of(select(&["smq", "mq", "cleaner"][..])),
            option::weighted(0.3, 0i64..=1_000_000),
            extra_values(),
            prop::bool::weighted(0.7),
        ),
    )
        .prop_map(
            |(
                (attached, pool_name, origin, data, meta),
                (format, chunk, mode, policy, migration_threshold, settings, spare),
            )| CachePlan {
                attached,
                pool_name,
                origin,
                data,
                meta,
                format,
                chunk,
                mode,
                policy,
                migration_threshold,
                settings,
                spare,
            },
        )
}

#[derive(Clone, Debug)]
enum Kind {
    /// Linear, one segment per piece (placed on PVs by preference, so possibly spanning).
    Linear {
        pieces: Vec<u64>,
    },
    /// One multi-stripe segment, each stripe on its own PV.
    Striped {
        stripes: usize,
        per: u64,
        stripe_size: u64,
    },
    /// `zero` or `error`.
    Virtual {
        zero: bool,
        len: u64,
    },
    /// A type this engine does not know, kept verbatim.
    Unknown {
        segtype: &'static str,
        len: u64,
        section: Vec<Item<'static>>,
    },
    ThinPool(ThinPoolPlan),
    Raid(RaidPlan),
    Mirror {
        legs: usize,
        per: u64,
        log: bool,
        region: u64,
        notsynced: bool,
    },
    /// Origin + COW store + `snapshotN` glue LV.
    Snapshot {
        origin: u64,
        cow: u64,
        chunk: u64,
        merging: bool,
        cow_attrs: LvAttrs,
    },
    Cache(CachePlan),
}

fn unknown_section() -> impl Strategy<Value = Vec<Item<'static>>> {
    (vec(extra_value_item(), 0..4), option::weighted(0.3, (extra_key(), vec(extra_value_item(), 0..3))))
        .prop_map(|(mut items, sec)| {
            if let Some((key, inner)) = sec {
                items.push(Item { key: key.into(), node: Node::Section(Section { items: inner }) });
            }
            items
        })
}

fn kind(o: Opts) -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => vec(1u64..=6, 1..=3).prop_map(|pieces| Kind::Linear { pieces }),
        2 => (2usize..=4, 1u64..=4, pow2(3, 11))
            .prop_map(|(stripes, per, stripe_size)| Kind::Striped { stripes, per, stripe_size }),
        1 => (any::<bool>(), 1u64..=16).prop_map(|(zero, len)| Kind::Virtual { zero, len }),
        1 => (
            select(&["future_segtype", "striped+X_FUTURE_FLAG", "raid7", "thin-pool+X_NEW"][..]),
            1u64..=8,
            unknown_section(),
        )
            .prop_map(|(segtype, len, section)| Kind::Unknown { segtype, len, section }),
        2 => thin_pool_plan(o).prop_map(Kind::ThinPool),
        2 => raid_plan(o).prop_map(Kind::Raid),
        1 => (2usize..=3, 1u64..=4, any::<bool>(), select(&[512u64, 1024, 2048, 4096][..]), prop::bool::weighted(0.2))
            .prop_map(|(legs, per, log, region, notsynced)| Kind::Mirror { legs, per, log, region, notsynced }),
        1 => (1u64..=6, 1u64..=4, pow2(3, 10), prop::bool::weighted(0.2), lv_attrs(o))
            .prop_map(|(origin, cow, chunk, merging, cow_attrs)| Kind::Snapshot { origin, cow, chunk, merging, cow_attrs }),
        2 => cache_plan(o).prop_map(Kind::Cache),
    ]
}

#[derive(Clone, Debug)]
struct LvPlan {
    attrs: LvAttrs,
    seg: SegExtras,
    kind: Kind,
    /// Preferred PV (index modulo the PV count).
    pref: usize,
    /// Free PEs left before a top-level allocation (holes).
    gap: u64,
}

fn lv_plan(o: Opts) -> impl Strategy<Value = LvPlan> {
    (lv_attrs(o), seg_extras(), kind(o), 0usize..6, prop_oneof![3 => Just(0u64), 1 => 1u64..=3])
        .prop_map(|(attrs, seg, kind, pref, gap)| LvPlan { attrs, seg, kind, pref, gap })
}

#[derive(Clone, Debug)]
struct PvPlan {
    pe_count: u64,
    pe_start: u64,
    bootloader: bool,
    device: Option<String>,
    device_id: Option<(&'static str, String)>,
    dev_size_slack: Option<u64>,
    allocatable: bool,
    missing: Option<bool>,
    tags: Vec<String>,
    flags: bool,
    extra: Vec<Item<'static>>,
}

fn pv_plan(o: Opts) -> impl Strategy<Value = PvPlan> {
    let missing = if o.lvm2 { Just(None).boxed() } else { option::weighted(0.1, any::<bool>()).boxed() };
    // pvcreate's default metadata area ends at sector 2048; a smaller pe_start (lvm2 makes one
    // with a small --metadatasize) would overlap the area of the PVs made to restore onto.
    let pe_start =
        if o.lvm2 { select(&[2048u64, 2048, 8192][..]) } else { select(&[384u64, 2048, 2048, 8192][..]) };
    (
        16u64..=256,
        pe_start,
        prop::bool::weighted(0.15),
        option::weighted(0.8, "/dev/[a-z]{3}[0-9]{1,2}"),
        option::weighted(
            0.2,
            (select(&["sys_wwid", "sys_serial", "devname", "loop_file"][..]), "[!-~]{1,20}"),
        ),
        option::weighted(0.9, 0u64..4096),
        prop::bool::weighted(0.9),
        missing,
        tags(),
        prop::bool::weighted(0.9),
        extra_items(),
    )
        .prop_map(
            |(
                pe_count,
                pe_start,
                bootloader,
                device,
                device_id,
                dev_size_slack,
                allocatable,
                missing,
                tags,
                flags,
                extra,
            )| {
                PvPlan {
                    pe_count,
                    pe_start,
                    bootloader,
                    device,
                    device_id,
                    dev_size_slack,
                    allocatable,
                    missing,
                    tags,
                    flags,
                    extra,
                }
            },
        )
}

#[derive(Clone, Debug)]
struct VgPlan {
    format: bool,
    write: bool,
    resizeable: bool,
    exported: bool,
    /// `SHARED` + lock_type/lock_args (model only).
    shared: Option<&'static str>,
    clustered: bool,
    compat: Option<Vec<&'static str>>,
    tags: Vec<String>,
    system_id: Option<String>,
    pr: Option<Vec<&'static str>>,
    max_lv: u64,
    max_pv: u64,
    alloc: Option<&'static str>,
    profile: Option<String>,
    metadata_copies: Option<u64>,
    extra: Vec<Item<'static>>,
}

fn vg_plan(o: Opts) -> impl Strategy<Value = VgPlan> {
    let (shared, clustered, profile) = if o.lvm2 {
        (Just(None).boxed(), Just(false).boxed(), Just(None).boxed())
    } else {
        (
            option::weighted(0.1, select(&["sanlock", "dlm"][..])).boxed(),
            prop::bool::weighted(0.05).boxed(),
            option::weighted(0.1, "[a-z]{1,8}").boxed(),
        )
    };
    (
        (
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.1),
            shared,
            clustered,
            option::weighted(
                0.9,
                subsequence(&["WRITE_LOCKED", "NOAUTOACTIVATE", "X_FUTURE_COMPAT"][..], 0..=2),
            ),
            tags(),
        ),
        (
            option::weighted(0.2, "[a-z][a-z0-9_.-]{0,10}"),
            option::weighted(0.1, subsequence(&["require", "autostart", "ptpl"][..], 0..=3)),
            select(&[0u64, 255][..]),
            select(&[0u64, 255][..]),
            option::weighted(0.2, select(&["contiguous", "cling", "cling_by_tags", "anywhere"][..])),
            profile,
            option::weighted(0.8, 0u64..=3),
            extra_items(),
        ),
    )
        .prop_map(
            |(
                (format, write, resizeable, exported, shared, clustered, compat, tags),
                (system_id, pr, max_lv, max_pv, alloc, profile, metadata_copies, extra),
            )| VgPlan {
                format,
                write,
                resizeable,
                exported,
                shared,
                clustered,
                compat,
                tags,
                system_id,
                pr,
                max_lv,
                max_pv,
                alloc,
                profile,
                metadata_copies,
                extra,
            },
        )
}

#[derive(Clone, Debug)]
struct HistPlan {
    name: String,
    creation: Option<i64>,
    removal: Option<i64>,
    origin: Option<usize>,
    descendant: usize,
    extra: Vec<Item<'static>>,
}

fn hist_plan(o: Opts) -> impl Strategy<Value = HistPlan> {
    // lvm2 requires both times of a historical LV.
    let time = move || {
        if o.lvm2 {
            (0i64..=2_000_000_000).prop_map(Some).boxed()
        } else {
            option::weighted(0.8, 0i64..=2_000_000_000).boxed()
        }
    };
    (lv_name(), time(), time(), option::weighted(0.3, 0usize..8), 0usize..8, extra_values()).prop_map(
        |(name, creation, removal, origin, descendant, extra)| HistPlan {
            name,
            creation,
            removal,
            origin,
            descendant,
            extra,
        },
    )
}

fn header() -> impl Strategy<Value = TextHeader> {
    (
        option::weighted(0.9, text()),
        option::weighted(0.9, host()),
        option::weighted(0.2, "[a-z][a-z0-9_.-]{0,10}"),
        option::weighted(0.9, 0i64..=4_000_000_000),
        extra_values(),
    )
        .prop_map(|(description, creation_host, creation_host_system_id, creation_time, extra)| {
            TextHeader { description, creation_host, creation_host_system_id, creation_time, extra }
        })
}

#[derive(Clone, Debug)]
struct Recipe {
    seed: u64,
    vg_name: String,
    extent_size: u64,
    seqno: u64,
    vg: VgPlan,
    pvs: Vec<PvPlan>,
    lvs: Vec<LvPlan>,
    hist: Option<HistPlan>,
    header: TextHeader,
}

fn recipe(o: Opts) -> impl Strategy<Value = Recipe> {
    (
        any::<u64>(),
        vg_name(),
        pow2(3, 14),
        1u64..=100_000,
        vg_plan(o),
        vec(pv_plan(o), 1..=6),
        vec(lv_plan(o), 0..=6),
        option::weighted(0.5, hist_plan(o)),
        header(),
    )
        .prop_map(|(seed, vg_name, extent_size, seqno, vg, pvs, lvs, hist, header)| Recipe {
            seed,
            vg_name,
            extent_size,
            seqno,
            vg,
            pvs,
            lvs,
            hist,
            header,
        })
}

/// Consistent VGs.
pub fn metadata(o: Opts) -> impl Strategy<Value = Metadata> {
    recipe(o).prop_map(move |r| build(&r, o))
}

// ------------------------------------------------------------------------------------------------
// Building

/// LVM ids from a seed (xorshift64*), over the whole id alphabet including `!` and `#`.
#[derive(Clone)]
struct IdGen(u64);

impl IdGen {
    fn next(&mut self) -> LvmId {
        const ALPHABET: &[u8; 64] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#";
        let mut raw = [0u8; 32];
        for c in &mut raw {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *c = ALPHABET[(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58) as usize];
        }
        LvmId::from_array(raw).expect("alphabet is valid")
    }
}

#[derive(Clone)]
struct Builder {
    extent_size: u64,
    ids: IdGen,
    pvs: Vec<PhysicalVolume>,
    /// Next free PE per PV.
    next: Vec<u64>,
    names: HashSet<String>,
    lvs: Vec<LogicalVolume>,
    /// Size the `lvol0_pmspare` must have (0: none).
    spare: u64,
    thin_lvs: Vec<String>,
    lock_args: bool,
}

const RW: &[&str] = &["READ", "WRITE"];

fn flags(kind: FlagKind, words: &[&str]) -> FlagSet {
    FlagSet::from_words(kind, words)
}

fn segment(
    start_extent: u64,
    extent_count: u64,
    segtype: &str,
    flags: &[&str],
    kind: SegmentKind,
) -> Segment {
    Segment {
        start_extent,
        extent_count,
        segtype: SegType { name: segtype.to_string(), flags: flags.iter().map(|f| f.to_string()).collect() },
        reshape_count: None,
        data_copies: None,
        tags: vec![],
        kind,
        extra: vec![],
    }
}

fn linear(start_extent: u64, extent_count: u64, pv: usize, pe: u64) -> Segment {
    segment(
        start_extent,
        extent_count,
        "striped",
        &[],
        SegmentKind::Striped {
            stripe_size: None,
            areas: vec![Area { target: AreaTarget::Pv(pv), start: pe }],
        },
    )
}

/// The largest power of two not above `n` (n > 0).
fn prev_pow2(n: u64) -> u64 {
    1 << n.ilog2()
}

/// Tags (and, where the segment kind keeps unknown keys apart, extra keys) on a first segment.
fn decorate(s: &mut Segment, e: &SegExtras, extra: bool) {
    s.tags = e.tags.clone();
    if extra {
        s.extra = e.extra.clone();
    }
}

impl Builder {
    /// `len` free PEs on one PV, trying `pref` first and never the PVs in `avoid`.
    fn alloc(&mut self, len: u64, pref: usize, avoid: &[usize], gap: u64) -> Option<(usize, u64)> {
        let n = self.pvs.len();
        (0..n).map(|k| (pref + k) % n).filter(|i| !avoid.contains(i)).find_map(|i| {
            let free = self.pvs[i].pe_count - self.next[i];
            (free >= len).then(|| {
                let start = self.next[i] + gap.min(free - len);
                self.next[i] = start + len;
                (i, start)
            })
        })
    }

    /// Like `alloc`, falling back to any PV when the others are full.
    fn alloc_spread(&mut self, len: u64, pref: usize, avoid: &[usize]) -> Option<(usize, u64)> {
        self.alloc(len, pref, avoid, 0).or_else(|| self.alloc(len, pref, &[], 0))
    }

    /// A free name `base`, `base1`, … such that it and `base` + each suffix are unused.
    fn claim<S: AsRef<str>>(&mut self, base: &str, suffixes: &[S]) -> String {
        (0..)
            .map(|k| if k == 0 { base.to_string() } else { format!("{base}{k}") })
            .find_map(|b| {
                let all: Vec<String> = std::iter::once(b.clone())
                    .chain(suffixes.iter().map(|s| format!("{b}{}", s.as_ref())))
                    .collect();
                all.iter().all(|n| !self.names.contains(n)).then(|| {
                    self.names.extend(all);
                    b
                })
            })
            .expect("some suffix is free")
    }

    /// A user-visible (or user-named but hidden) LV carrying `a`'s attributes.
    fn top_lv(&mut self, name: String, a: &LvAttrs, visible: bool, segments: Vec<Segment>, compat: &[&str]) {
        // In a lockd VG lvm2 writes WRITE_LOCKED (compatible) instead of WRITE.
        let write_locked = a.writable && self.lock_args;
        let mut status = vec!["READ"];
        if a.writable && !write_locked {
            status.push("WRITE");
        }
        if visible {
            status.push("VISIBLE");
        }
        if a.minor.is_some() {
            status.push("FIXED_MINOR");
        }
        let mut fl = a.compat.as_ref().map(|w| flags(FlagKind::Lv, w));
        let compat = compat.iter().chain(write_locked.then_some(&"WRITE_LOCKED"));
        for w in compat {
            fl.get_or_insert_with(FlagSet::new).insert(FlagKind::Lv, w);
        }
        let lv = LogicalVolume {
            name,
            id: self.ids.next(),
            status: flags(FlagKind::Lv, &status),
            flags: fl,
            tags: a.tags.clone(),
            creation_time: a.time.as_ref().map(|t| t.0),
            creation_host: a.time.as_ref().map(|t| t.1.clone()),
            lock_args: self.lock_args.then(|| "1.0.0:70254592".to_string()),
            allocation_policy: a.alloc.map(str::to_string),
            profile: a.profile.clone(),
            read_ahead: a.read_ahead,
            major: a.minor.and_then(|m| m.0),
            minor: a.minor.map(|m| m.1),
            segments,
            extra: a.extra.clone(),
        };
        self.lvs.push(lv);
    }

    /// A component LV (or glue LV) as lvm2 writes it: plain status, `flags = []`, no tags.
    fn sub_lv(
        &mut self,
        name: String,
        time: Option<&(i64, String)>,
        status: &[&str],
        segments: Vec<Segment>,
    ) {
        let lv = LogicalVolume {
            name,
            id: self.ids.next(),
            status: flags(FlagKind::Lv, status),
            flags: Some(FlagSet::new()),
            tags: vec![],
            creation_time: time.map(|t| t.0),
            creation_host: time.map(|t| t.1.clone()),
            lock_args: None,
            allocation_policy: None,
            profile: None,
            read_ahead: None,
            major: None,
            minor: None,
            segments,
            extra: vec![],
        };
        self.lvs.push(lv);
    }

    /// A hidden linear component LV on free PEs; returns its PV.
    fn linear_sub(
        &mut self,
        name: String,
        parent: &LvAttrs,
        len: u64,
        pref: usize,
        avoid: &[usize],
    ) -> Option<usize> {
        let (pv, pe) = self.alloc_spread(len, pref, avoid)?;
        self.sub_lv(name, parent.time.as_ref(), RW, vec![linear(0, len, pv, pe)]);
        Some(pv)
    }

    /// Add one planned LV (with its components); `None` when it does not fit.
    fn add(&mut self, p: &LvPlan) -> Option<()> {
        let a = &p.attrs;
        let decorate = |s: &mut Segment, extra: bool| decorate(s, &p.seg, extra);
        match &p.kind {
            Kind::Linear { pieces } => {
                let name = self.claim::<&str>(&a.name, &[]);
                let mut segs = Vec::new();
                let mut le = 0;
                for (i, &len) in pieces.iter().enumerate() {
                    let (pv, pe) = self.alloc(len, p.pref + i, &[], p.gap)?;
                    segs.push(linear(le, len, pv, pe));
                    le += len;
                }
                decorate(&mut segs[0], true);
                self.top_lv(name, a, true, segs, &[]);
            }
            Kind::Striped { stripes, per, stripe_size } => {
                let name = self.claim::<&str>(&a.name, &[]);
                let mut used = Vec::new();
                let mut areas = Vec::new();
                for i in 0..*stripes {
                    let (pv, pe) = self.alloc(*per, p.pref + i, &used, p.gap)?;
                    used.push(pv);
                    areas.push(Area { target: AreaTarget::Pv(pv), start: pe });
                }
                let stripe_size = Some((*stripe_size).min(self.extent_size));
                let mut s = segment(
                    0,
                    per * *stripes as u64,
                    "striped",
                    &[],
                    SegmentKind::Striped { stripe_size, areas },
                );
                decorate(&mut s, true);
                self.top_lv(name, a, true, vec![s], &[]);
            }
            Kind::Virtual { zero, len } => {
                let name = self.claim::<&str>(&a.name, &[]);
                let (t, k) = if *zero { ("zero", SegmentKind::Zero) } else { ("error", SegmentKind::Error) };
                let mut s = segment(0, *len, t, &[], k);
                decorate(&mut s, true);
                self.top_lv(name, a, true, vec![s], &[]);
            }
            Kind::Unknown { segtype, len, section } => {
                let name = self.claim::<&str>(&a.name, &[]);
                let st = SegType::parse(segtype);
                let flags: Vec<&str> = st.flags.iter().map(String::as_str).collect();
                let mut s = segment(
                    0,
                    *len,
                    &st.name,
                    &flags,
                    SegmentKind::Unknown { section: Section { items: section.clone() } },
                );
                decorate(&mut s, false);
                self.top_lv(name, a, true, vec![s], &[]);
            }
            Kind::ThinPool(tp) => self.add_thin_pool(p, tp)?,
            Kind::Raid(r) => self.add_raid(p, r)?,
            Kind::Mirror { legs, per, log, region, notsynced } => {
                let mut sfx: Vec<String> = (0..*legs).map(|i| format!("_mimage_{i}")).collect();
                if *log {
                    sfx.push("_mlog".into());
                }
                let name = self.claim(&a.name, &sfx);
                let mut used = Vec::new();
                let mut areas = Vec::new();
                for i in 0..*legs {
                    let img = format!("{name}_mimage_{i}");
                    used.push(self.linear_sub(img.clone(), a, *per, p.pref + i, &used)?);
                    areas.push(Area { target: AreaTarget::Lv(img), start: 0 });
                }
                let mirror_log = if *log {
                    self.linear_sub(format!("{name}_mlog"), a, 1, p.pref + legs, &used)?;
                    Some(format!("{name}_mlog"))
                } else {
                    None
                };
                // lvm2: "region size is bigger then LV itself for mirror segment".
                let region = (*region).min(prev_pow2(per * self.extent_size));
                let kind = SegmentKind::Mirror {
                    mirror_count: *legs as u64,
                    extents_moved: None,
                    mirror_log,
                    region_size: Some(region),
                    areas,
                };
                let mut s = segment(0, *per, "mirror", &[], kind);
                decorate(&mut s, true);
                self.top_lv(name, a, true, vec![s], &[]);
                if *notsynced {
                    self.last_status("NOTSYNCED");
                }
            }
            Kind::Snapshot { origin, cow, chunk, merging, cow_attrs } => {
                let oname = self.claim::<&str>(&a.name, &[]);
                let (pv, pe) = self.alloc(*origin, p.pref, &[], p.gap)?;
                let mut s = linear(0, *origin, pv, pe);
                decorate(&mut s, true);
                self.top_lv(oname.clone(), a, true, vec![s], &[]);
                let cname = self.claim::<&str>(&cow_attrs.name, &[]);
                let (pv, pe) = self.alloc(*cow, p.pref + 1, &[], 0)?;
                self.top_lv(cname.clone(), cow_attrs, false, vec![linear(0, *cow, pv, pe)], &[]);
                let glue =
                    (0..).map(|k| format!("snapshot{k}")).find(|n| !self.names.contains(n)).expect("free");
                self.names.insert(glue.clone());
                let kind = SegmentKind::Snapshot {
                    chunk_size: *chunk,
                    origin: oname,
                    cow_store: cname,
                    merging: *merging,
                };
                self.sub_lv(
                    glue,
                    a.time.as_ref(),
                    &["READ", "WRITE", "VISIBLE"],
                    vec![segment(0, *origin, "snapshot", &[], kind)],
                );
            }
            Kind::Cache(c) => self.add_cache(p, c)?,
        }
        Some(())
    }

    fn last_status(&mut self, w: &str) {
        self.lvs.last_mut().expect("an LV was just added").status.insert(FlagKind::Lv, w);
    }

    fn add_thin_pool(&mut self, p: &LvPlan, tp: &ThinPoolPlan) -> Option<()> {
        let a = &p.attrs;
        let pool = self.claim(&a.name, &["_tmeta", "_tdata"]);
        let (tdata, tmeta) = (format!("{pool}_tdata"), format!("{pool}_tmeta"));
        let data_len = if tp.striped_data {
            let mut used = Vec::new();
            let mut areas = Vec::new();
            for i in 0..2 {
                let (pv, pe) = self.alloc(tp.data, p.pref + i, &used, p.gap)?;
                used.push(pv);
                areas.push(Area { target: AreaTarget::Pv(pv), start: pe });
            }
            let kind = SegmentKind::Striped { stripe_size: Some(128.min(self.extent_size)), areas };
            self.sub_lv(
                tdata.clone(),
                a.time.as_ref(),
                RW,
                vec![segment(0, 2 * tp.data, "striped", &[], kind)],
            );
            2 * tp.data
        } else {
            let (pv, pe) = self.alloc(tp.data, p.pref, &[], p.gap)?;
            self.sub_lv(tdata.clone(), a.time.as_ref(), RW, vec![linear(0, tp.data, pv, pe)]);
            tp.data
        };
        self.linear_sub(tmeta.clone(), a, tp.meta, p.pref + 1, &[])?;
        // A read-only LV for thin LVs with an external origin.
        let external = if tp.external_origin {
            let n = self.claim::<&str>(&format!("{pool}.ext"), &[]);
            let (pv, pe) = self.alloc_spread(1, p.pref, &[])?;
            self.sub_lv(n.clone(), a.time.as_ref(), &["READ", "VISIBLE"], vec![linear(0, 1, pv, pe)]);
            Some(n)
        } else {
            None
        };
        let mut names: Vec<String> = Vec::new();
        let mut segs: Vec<Segment> = Vec::new();
        for (i, t) in tp.thins.iter().enumerate() {
            let n = self.claim::<&str>(&t.attrs.name, &[]);
            let origin = t.snap_of.filter(|_| i > 0).map(|j| names[j % i].clone());
            let external_origin = if origin.is_none() && t.external { external.clone() } else { None };
            let kind = SegmentKind::Thin {
                thin_pool: pool.clone(),
                transaction_id: i as u64,
                device_id: tp.dev_base + i as u64 + 1,
                origin,
                external_origin,
                merge: None,
            };
            names.push(n);
            segs.push(segment(0, t.len, "thin", &[], kind));
        }
        // A merging thin snapshot names its origin in `merge` (lvm2's `init_snapshot_merge` sets
        // the snapshot segment's `merge_lv` to the origin; `attach_pool_lv` reads it back).
        for (t, s) in tp.thins.iter().zip(&mut segs) {
            if let SegmentKind::Thin { origin: Some(o), merge, .. } = &mut s.kind {
                if t.merging {
                    *merge = Some(o.clone());
                }
            }
        }
        let first_free_id = tp.dev_base + tp.thins.len() as u64 + 1;
        let mut deletes: Vec<u64> = tp.deletes.iter().map(|d| first_free_id + d).collect();
        deletes.dedup();
        let mut messages: Vec<ThinMessage> =
            deletes.into_iter().map(|d| ThinMessage::Delete(d as i64)).collect();
        if let (true, Some(last)) = (tp.create_msg, names.last()) {
            messages.push(ThinMessage::Create(last.clone()));
        }
        let transaction_id = tp.thins.len() as u64 + tp.tid_extra;
        let kind = SegmentKind::ThinPool {
            metadata: tmeta,
            pool: tdata,
            transaction_id,
            chunk_size: tp.chunk,
            discards: tp.discards.map(str::to_string),
            zero_new_blocks: tp.zero,
            crop_metadata: tp.crop,
            messages,
        };
        let seg_flags: &[&str] = if tp.crop == Some(1) { &["CROP_METADATA"] } else { &[] };
        let mut s = segment(0, data_len, "thin-pool", seg_flags, kind);
        decorate(&mut s, &p.seg, true);
        let compat: &[&str] = if tp.error_when_full { &["ERROR_WHEN_FULL"] } else { &[] };
        self.top_lv(pool, a, true, vec![s], compat);
        for ((t, n), s) in tp.thins.iter().zip(&names).zip(segs) {
            self.top_lv(n.clone(), &t.attrs, true, vec![s], &[]);
        }
        self.thin_lvs.extend(names);
        if tp.spare {
            self.spare = self.spare.max(tp.meta);
        }
        Some(())
    }

    fn add_raid(&mut self, p: &LvPlan, r: &RaidPlan) -> Option<()> {
        let a = &p.attrs;
        let n = r.images;
        let raid0 = r.level.starts_with("raid0");
        let with_meta = r.level != "raid0";
        let mut sfx = Vec::new();
        for i in 0..n {
            if with_meta {
                sfx.push(format!("_rmeta_{i}"));
            }
            sfx.push(format!("_rimage_{i}"));
        }
        let name = self.claim(&a.name, &sfx);
        let mut used = Vec::new();
        let mut areas = Vec::new();
        for i in 0..n {
            let (pv, pe) = self.alloc_spread(r.per + u64::from(with_meta), p.pref + i, &used)?;
            used.push(pv);
            let meta = if with_meta {
                let m = format!("{name}_rmeta_{i}");
                self.sub_lv(m.clone(), a.time.as_ref(), RW, vec![linear(0, 1, pv, pe)]);
                Some(m)
            } else {
                None
            };
            let data = format!("{name}_rimage_{i}");
            let mut st = RW.to_vec();
            if r.rebuild == Some(i) {
                st.push("REBUILD");
            }
            if r.level == "raid1" && r.writebehind.is_some() && i == n - 1 {
                st.push("WRITEMOSTLY");
            }
            self.sub_lv(
                data.clone(),
                a.time.as_ref(),
                &st,
                vec![linear(0, r.per, pv, pe + u64::from(with_meta))],
            );
            areas.push(RaidArea { meta, data });
        }
        let n64 = n as u64;
        let extent_count = match r.level {
            "raid1" => r.per,
            "raid10" => r.per * n64 / 2,
            l if l.starts_with("raid0") => r.per * n64,
            l if l.starts_with("raid6") => r.per * (n64 - 2),
            _ => r.per * (n64 - 1),
        };
        let raid1 = r.level == "raid1";
        let kind = SegmentKind::Raid {
            device_count: (!raid0).then_some(n64),
            stripe_count: raid0.then_some(n64),
            region_size: (!raid0).then_some(r.region),
            stripe_size: (!raid1).then_some(r.stripe.min(self.extent_size)),
            writebehind: r.writebehind.filter(|_| raid1),
            min_recovery_rate: r.min_rate.filter(|_| !raid0),
            max_recovery_rate: r.max_rate.filter(|_| !raid0),
            data_offset: r.reshape.map(|x| x.1),
            areas,
        };
        let mut s = segment(0, extent_count, r.level, &[], kind);
        if r.level == "raid10" {
            s.data_copies = Some(2);
        }
        s.reshape_count = r.reshape.map(|x| x.0);
        decorate(&mut s, &p.seg, true);
        self.top_lv(name, a, true, vec![s], &[]);
        if r.notsynced {
            self.last_status("NOTSYNCED");
        }
        Some(())
    }

    fn add_cache(&mut self, p: &LvPlan, c: &CachePlan) -> Option<()> {
        let a = &p.attrs;
        let seg_flags: &[&str] = if c.format == Some(2) { &["METADATA_FORMAT"] } else { &[] };
        let settings_for = |policy: Option<&str>| {
            c.migration_threshold.filter(|_| policy.is_some()).map(|t| {
                let mut s = Section::new();
                s.push_int("migration_threshold", t);
                s
            })
        };
        if c.attached {
            let cached = self.claim(&a.name, &["_corig"]);
            let pool = self.claim(&c.pool_name, &["_cdata", "_cmeta"]);
            let (corig, cdata, cmeta) =
                (format!("{cached}_corig"), format!("{pool}_cdata"), format!("{pool}_cmeta"));
            self.linear_sub(corig.clone(), a, c.origin, p.pref, &[])?;
            self.linear_sub(cdata.clone(), a, c.data, p.pref + 1, &[])?;
            self.linear_sub(cmeta.clone(), a, c.meta, p.pref + 1, &[])?;
            // An attached pool always has its chunk size, mode and policy set.
            let policy = c.policy.unwrap_or("smq");
            let kind = SegmentKind::CachePool {
                data: cdata,
                metadata: cmeta,
                metadata_format: c.format,
                chunk_size: Some(c.chunk.unwrap_or(128)),
                cache_mode: Some(c.mode.unwrap_or("writethrough").to_string()),
                policy: Some(policy.to_string()),
                policy_settings: settings_for(Some(policy)),
            };
            self.sub_lv(
                pool.clone(),
                a.time.as_ref(),
                RW,
                vec![segment(0, c.data, "cache-pool", seg_flags, kind)],
            );
            let kind = SegmentKind::Cache { cache_pool: pool, origin: corig, settings: c.settings.clone() };
            let mut s = segment(0, c.origin, "cache", &[], kind);
            decorate(&mut s, &p.seg, false);
            self.top_lv(cached, a, true, vec![s], &[]);
        } else {
            let pool = self.claim(&a.name, &["_cdata", "_cmeta"]);
            let (cdata, cmeta) = (format!("{pool}_cdata"), format!("{pool}_cmeta"));
            self.linear_sub(cdata.clone(), a, c.data, p.pref, &[])?;
            self.linear_sub(cmeta.clone(), a, c.meta, p.pref + 1, &[])?;
            let kind = SegmentKind::CachePool {
                data: cdata,
                metadata: cmeta,
                metadata_format: c.format,
                chunk_size: c.chunk,
                cache_mode: c.mode.map(str::to_string),
                policy: c.policy.map(str::to_string),
                policy_settings: settings_for(c.policy),
            };
            let mut s = segment(0, c.data, "cache-pool", seg_flags, kind);
            decorate(&mut s, &p.seg, true);
            self.top_lv(pool, a, true, vec![s], &[]);
        }
        if c.spare {
            self.spare = self.spare.max(c.meta);
        }
        Some(())
    }
}

fn build(r: &Recipe, o: Opts) -> Metadata {
    let es = r.extent_size;
    let v = &r.vg;
    let mut ids = IdGen(r.seed | 1);
    let mut vg_id = ids.next();
    if o.lvm2 && vg_id.as_str().starts_with('#') {
        // lvm2 2.03.16 reads such a VG but cannot write it ("Too many characters to be uuid",
        // "Couldn't read uuid for volume group"); its own ids never contain `!` or `#`.
        let mut raw = *vg_id.as_bytes();
        raw[0] = b'A';
        vg_id = LvmId::from_array(raw).expect("valid");
    }
    let mut pvs = Vec::new();
    for (i, p) in r.pvs.iter().enumerate() {
        let (ba_start, ba_size, pe_start) = if p.bootloader {
            (Some(2048), Some(2048), p.pe_start.max(4096))
        } else {
            (None, None, p.pe_start)
        };
        let mut status = Vec::new();
        if p.allocatable {
            status.push("ALLOCATABLE");
        }
        if v.exported {
            status.push("EXPORTED");
        }
        let mut fl = p.flags.then(FlagSet::new);
        match p.missing {
            Some(true) => status.push("MISSING"),
            Some(false) => fl.get_or_insert_with(FlagSet::new).insert(FlagKind::Pv, "MISSING"),
            None => {}
        }
        pvs.push(PhysicalVolume {
            key: format!("pv{i}"),
            id: ids.next(),
            device: p.device.clone(),
            device_id_type: p.device_id.as_ref().map(|d| d.0.to_string()),
            device_id: p.device_id.as_ref().map(|d| d.1.clone()),
            status: flags(FlagKind::Pv, &status),
            flags: fl,
            tags: p.tags.clone(),
            dev_size: p.dev_size_slack.map(|s| pe_start + p.pe_count * es + s),
            pe_start,
            pe_count: p.pe_count,
            ba_start,
            ba_size,
            extra: p.extra.clone(),
        });
    }
    let mut b = Builder {
        extent_size: es,
        ids,
        next: vec![0; pvs.len()],
        pvs,
        names: HashSet::from(["lvol0_pmspare".to_string()]),
        lvs: Vec::new(),
        spare: 0,
        thin_lvs: Vec::new(),
        lock_args: v.shared.is_some(),
    };
    for plan in &r.lvs {
        let before = b.clone();
        if b.add(plan).is_none() {
            b = before; // does not fit: leave it out
        }
    }
    if b.spare > 0 {
        if let Some((pv, pe)) = b.alloc(b.spare, 0, &[], 0) {
            let len = b.spare;
            b.sub_lv("lvol0_pmspare".into(), None, RW, vec![linear(0, len, pv, pe)]);
        }
    }
    let mut historical_lvs = Vec::new();
    if let (Some(h), false) = (&r.hist, b.thin_lvs.is_empty()) {
        let name = b.claim::<&str>(&h.name, &[]);
        let t = &b.thin_lvs;
        let descendant = t[h.descendant % t.len()].clone();
        let origin = h.origin.map(|i| t[i % t.len()].clone()).filter(|o| *o != descendant);
        historical_lvs.push(HistoricalLv {
            name,
            id: b.ids.next(),
            creation_time: h.creation,
            removal_time: h.removal.map(|r| r.max(h.creation.unwrap_or(0))),
            origin,
            descendants: vec![descendant],
            extra: h.extra.clone(),
        });
    }
    let mut status = Vec::new();
    if v.resizeable {
        status.push("RESIZEABLE");
    }
    status.push("READ");
    if v.write {
        status.push("WRITE");
    }
    if v.exported {
        status.push("EXPORTED");
    }
    if v.shared.is_some() {
        status.push("SHARED");
    }
    if v.clustered {
        status.push("CLUSTERED");
    }
    // lvm2 writes visible LVs first, then hidden ones.
    let (mut lvs, hidden): (Vec<_>, Vec<_>) = b.lvs.into_iter().partition(|l| l.is_visible());
    lvs.extend(hidden);
    let vg = VolumeGroup {
        name: r.vg_name.clone(),
        id: vg_id,
        seqno: r.seqno,
        format: v.format.then(|| "lvm2".to_string()),
        status: flags(FlagKind::Vg, &status),
        flags: v.compat.as_ref().map(|w| flags(FlagKind::Vg, w)),
        tags: v.tags.clone(),
        system_id: v.system_id.clone(),
        lock_type: v.shared.map(str::to_string),
        lock_args: v.shared.map(|_| "1.0.0:lvmlock".to_string()),
        pr: v.pr.as_ref().map(|w| w.iter().map(|s| s.to_string()).collect()),
        extent_size: es,
        max_lv: v.max_lv,
        max_pv: v.max_pv,
        allocation_policy: v.alloc.map(str::to_string),
        profile: v.profile.clone(),
        metadata_copies: v.metadata_copies,
        pvs: b.pvs,
        lvs,
        historical_lvs,
        extra: v.extra.clone(),
    };
    Metadata { vg, header: r.header.clone() }
}
