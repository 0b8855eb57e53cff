//! Config tree → VG model, with lvm2's checks (cf. `format_text/import_vsn1.c`).
//!
//! Two passes over `logical_volumes`, as lvm2 does: names first, so segments may refer to LVs
//! written after them. Keys a reader does not consume go to the object's `extra`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};
use crate::flags::{FlagKind, FlagSet, SEGTYPE_FLAGS, status_words};
use crate::id::LvmId;
use crate::model::*;
use crate::text::{Item, Node, Scalar, Section, Value};

/// Parse text (raw on-disk form or backup file) into the model.
pub fn parse_metadata(text: &[u8]) -> Result<Metadata> {
    let root = crate::text::parse(text)?;
    import(&root)
}

/// Interpret a parsed tree.
pub fn import(root: &Section) -> Result<Metadata> {
    let mut vg_section = None;
    let mut header = TextHeader::default();
    let mut contents = None;
    let mut version = None;
    for item in &root.items {
        match (&item.node, item.key.as_ref()) {
            (Node::Section(s), name) if vg_section.is_none() => vg_section = Some((name, s)),
            (Node::Section(_), _) => header.extra.push(item.clone().into_owned()),
            (Node::Value(v), "contents") if contents.is_none() => contents = Some(v),
            (Node::Value(v), "version") if version.is_none() => version = Some(v),
            (Node::Value(Value::Scalar(Scalar::Str(s))), "description") if header.description.is_none() => {
                header.description = Some(s.to_string())
            }
            (Node::Value(Value::Scalar(Scalar::Str(s))), "creation_host")
                if header.creation_host.is_none() =>
            {
                header.creation_host = Some(s.to_string())
            }
            (Node::Value(Value::Scalar(Scalar::Str(s))), "creation_host_system_id")
                if header.creation_host_system_id.is_none() =>
            {
                header.creation_host_system_id = Some(s.to_string())
            }
            (Node::Value(Value::Scalar(Scalar::Int(t))), "creation_time")
                if header.creation_time.is_none() =>
            {
                header.creation_time = Some(*t)
            }
            _ => header.extra.push(item.clone().into_owned()),
        }
    }
    // lvm2 checks these when present; backups and raw texts always carry them.
    if let Some(c) = contents {
        if *c != Value::Scalar(Scalar::Str("Text Format Volume Group".into())) {
            return Err(Error::semantic("contents", "\"Text Format Volume Group\"", show_value(c)));
        }
    }
    if let Some(v) = version {
        if *v != Value::Scalar(Scalar::Int(1)) {
            return Err(Error::semantic("version", "1", show_value(v)));
        }
    }
    let (name, vgs) = vg_section.ok_or_else(|| Error::semantic("/", "a volume group section", "none"))?;
    let vg = import_vg(name, vgs)?;
    Ok(Metadata { vg, header })
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Scalar(s) => show_scalar(s),
        Value::Array(a) => format!("[{}]", a.iter().map(show_scalar).collect::<Vec<_>>().join(", ")),
    }
}

fn show_scalar(s: &Scalar) -> String {
    match s {
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) | Scalar::Bare(f) => f.to_string(),
        Scalar::Str(s) => format!("{s:?}"),
    }
}

/// `[A-Za-z0-9+_.-]`, not starting with `-`, not `.`/`..`, at most 127 bytes.
pub fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 127
        && !n.starts_with('-')
        && n != "."
        && n != ".."
        && n.bytes().all(|c| c.is_ascii_alphanumeric() || b"+_.-".contains(&c))
}

/// Where a section sits in the tree (`vg/logical_volumes/lv1/segment1`), for messages. Built
/// as a chain of borrowed names and turned into text only when an error needs it.
#[derive(Clone, Copy)]
struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    name: &'p str,
}

impl<'p> Path<'p> {
    fn root(name: &'p str) -> Self {
        Path { parent: None, name }
    }
    fn child(&'p self, name: &'p str) -> Path<'p> {
        Path { parent: Some(self), name }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}/")?;
        }
        f.write_str(self.name)
    }
}

/// FNV-1a for the name sets: the keys are short trusted-length names from one text, and
/// SipHash was a tenth of importing a 1000-LV VG.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvBuild = BuildHasherDefault<Fnv>;

/// A section being read: tracks which items were consumed and knows its path for messages.
struct Fields<'a, 'p> {
    sec: &'a Section<'a>,
    path: Path<'p>,
    /// Consumed items: a bit each for the first 64 (every LV and segment section), then `more`.
    used: u64,
    more: Vec<bool>,
}

impl<'a, 'p> Fields<'a, 'p> {
    fn new(sec: &'a Section<'a>, path: Path<'p>) -> Self {
        let more = if sec.items.len() > 64 { vec![false; sec.items.len() - 64] } else { Vec::new() };
        Fields { sec, path, used: 0, more }
    }

    fn mark(&mut self, i: usize) {
        if i < 64 { self.used |= 1 << i } else { self.more[i - 64] = true }
    }

    fn is_used(&self, i: usize) -> bool {
        if i < 64 { self.used & (1 << i) != 0 } else { self.more[i - 64] }
    }

    fn mark_all(&mut self) {
        self.used = u64::MAX;
        self.more.iter_mut().for_each(|u| *u = true);
    }

    fn at(&self, key: &str) -> String {
        format!("{}/{}", self.path, key)
    }

    fn take(&mut self, key: &str) -> Option<&'a Node<'a>> {
        // Most probes miss (optional keys are usually absent): length and first byte settle
        // nearly all of them without a memcmp call.
        let (len, first) = (key.len(), key.as_bytes().first());
        let same = |k: &str| k.len() == len && k.as_bytes().first() == first && k == key;
        let i = self.sec.items.iter().position(|it| same(&it.key))?;
        self.mark(i);
        Some(&self.sec.items[i].node)
    }

    fn value(&mut self, key: &str) -> Result<Option<&'a Value<'a>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Node::Value(v)) => Ok(Some(v)),
            Some(Node::Section(_)) => Err(Error::semantic(self.at(key), "a value", "a section")),
        }
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Int(i))) => Ok(Some(*i)),
            Some(v) => Err(Error::semantic(self.at(key), "an integer", show_value(v))),
        }
    }

    fn uint(&mut self, key: &str) -> Result<Option<u64>> {
        match self.int(key)? {
            None => Ok(None),
            Some(i) => u64::try_from(i)
                .map(Some)
                .map_err(|_| Error::semantic(self.at(key), "a non-negative integer", i.to_string())),
        }
    }

    fn req_uint(&mut self, key: &str) -> Result<u64> {
        self.uint(key)?
            .ok_or_else(|| Error::semantic(self.at(key), "a non-negative integer", "nothing (missing key)"))
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Str(s))) => Ok(Some(s.to_string())),
            Some(v) => Err(Error::semantic(self.at(key), "a string", show_value(v))),
        }
    }

    fn req_string(&mut self, key: &str) -> Result<String> {
        self.string(key)?.ok_or_else(|| Error::semantic(self.at(key), "a string", "nothing (missing key)"))
    }

    /// A list of strings. A lone string counts as a one-element list, as libdm's
    /// `dm_config_get_list` reads it (lvm2 accepts `tags = "t"` in hand-edited files).
    fn str_list(&mut self, key: &str) -> Result<Option<Vec<String>>> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Str(s))) => Ok(Some(vec![s.to_string()])),
            Some(Value::Array(a)) => a
                .iter()
                .map(|s| match s {
                    Scalar::Str(s) => Ok(s.to_string()),
                    other => Err(Error::semantic(self.at(key), "a list of strings", show_scalar(other))),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(Error::semantic(self.at(key), "a list of strings", show_value(v))),
        }
    }

    fn id(&mut self, key: &str) -> Result<LvmId> {
        let s = self.req_string(key)?;
        LvmId::parse(&s).map_err(|e| {
            Error::semantic(self.at(key), "an LVM id (32 characters of 0-9a-zA-Z!#)", format!("{s:?}: {e}"))
        })
    }

    fn section(&mut self, key: &str) -> Result<Option<&'a Section<'a>>> {
        match self.take(key) {
            None => Ok(None),
            Some(Node::Section(s)) => Ok(Some(s)),
            Some(Node::Value(_)) => Err(Error::semantic(self.at(key), "a section", "a value")),
        }
    }

    /// The strings of a list value (a lone string is a one-element list, as in libdm).
    fn str_slice(&mut self, key: &str) -> Result<Option<&'a [Scalar<'a>]>> {
        match self.value(key)? {
            None => Ok(None),
            Some(Value::Scalar(s @ Scalar::Str(_))) => Ok(Some(std::slice::from_ref(s))),
            Some(Value::Array(a)) => match a.iter().find(|s| !matches!(s, Scalar::Str(_))) {
                None => Ok(Some(a)),
                Some(other) => Err(Error::semantic(self.at(key), "a list of strings", show_scalar(other))),
            },
            Some(v) => Err(Error::semantic(self.at(key), "a list of strings", show_value(v))),
        }
    }

    /// STATUS words: unknown ones are fatal (lvm2: "Unknown status flag"). SEGTYPE flags and
    /// CACHE_VOL are also accepted in an LV's status, as lvm2 does.
    fn status(&mut self, kind: FlagKind, required: bool) -> Result<FlagSet> {
        let Some(words) = self.str_slice("status")? else {
            if required {
                return Err(Error::semantic(
                    self.at("status"),
                    "a list of status flags",
                    "nothing (missing key)",
                ));
            }
            return Ok(FlagSet::new());
        };
        let mut set = FlagSet::from_words::<&str>(kind, &[]);
        for w in words {
            let Scalar::Str(w) = w else { continue };
            let ok = status_words(kind).contains(&w.as_ref())
                || (kind == FlagKind::Lv && (SEGTYPE_FLAGS.contains(&w.as_ref()) || w == "CACHE_VOL"));
            if !ok {
                return Err(Error::semantic(
                    self.at("status"),
                    format!("status flags from {:?}", status_words(kind)),
                    format!("unknown flag {w:?}"),
                ));
            }
            set.insert(kind, w);
        }
        Ok(set)
    }

    /// COMPATIBLE words: unknown ones are kept (lvm2 ignores them).
    fn compat(&mut self, kind: FlagKind) -> Result<Option<FlagSet>> {
        Ok(self.str_slice("flags")?.map(|words| {
            let mut set = FlagSet::from_words::<&str>(kind, &[]);
            for w in words {
                if let Scalar::Str(w) = w {
                    set.insert(kind, w);
                }
            }
            set
        }))
    }

    fn tags(&mut self) -> Result<Vec<String>> {
        Ok(self.str_list("tags")?.unwrap_or_default())
    }

    /// Items not consumed, in order.
    fn rest(&self) -> Vec<Item<'static>> {
        let unused = self.sec.items.iter().enumerate().filter(|(i, _)| !self.is_used(*i));
        unused.map(|(_, item)| item.clone().into_owned()).collect()
    }
}

fn import_vg(name: &str, sec: &Section) -> Result<VolumeGroup> {
    if !valid_name(name) {
        return Err(Error::semantic(
            name,
            "a VG name of [A-Za-z0-9+_.-] not starting with '-'",
            format!("{name:?}"),
        ));
    }
    let mut f = Fields::new(sec, Path::root(name));
    let id = f.id("id")?;
    let seqno = f.req_uint("seqno")?;
    let format = f.string("format")?;
    if let Some(fmt) = &format {
        if !["lvm2", "lvm1", "pool"].contains(&fmt.as_str()) {
            return Err(Error::semantic(
                f.at("format"),
                "\"lvm2\", \"lvm1\" or \"pool\"",
                format!("{fmt:?}"),
            ));
        }
    }
    let status = f.status(FlagKind::Vg, true)?;
    let flags = f.compat(FlagKind::Vg)?;
    let tags = f.tags()?;
    let system_id = f.string("system_id")?;
    let lock_type = f.string("lock_type")?;
    let lock_args = f.string("lock_args")?;
    let pr = f.str_list("pr")?;
    let extent_size = f.req_uint("extent_size")?;
    if extent_size == 0 {
        return Err(Error::semantic(f.at("extent_size"), "a positive number of sectors", "0"));
    }
    let max_lv = f.req_uint("max_lv")?;
    let max_pv = f.req_uint("max_pv")?;
    let allocation_policy = f.string("allocation_policy")?;
    let profile = f.string("profile")?;
    let metadata_copies = f.uint("metadata_copies")?;
    let pv_sec = f
        .section("physical_volumes")?
        .ok_or_else(|| Error::semantic(f.at("physical_volumes"), "a section", "nothing (missing key)"))?;
    let vg_path = Path::root(name);
    let pvs = import_pvs(pv_sec, vg_path.child("physical_volumes"), extent_size)?;
    let lv_sec = f.section("logical_volumes")?;
    let hlv_sec = f.section("historical_logical_volumes")?;
    let extra = f.rest();
    let mut vg = VolumeGroup {
        name: name.to_string(),
        id,
        seqno,
        format,
        status,
        flags,
        tags,
        system_id,
        lock_type,
        lock_args,
        pr,
        extent_size,
        max_lv,
        max_pv,
        allocation_policy,
        profile,
        metadata_copies,
        pvs,
        lvs: vec![],
        historical_lvs: vec![],
        extra,
    };
    if let Some(s) = lv_sec {
        vg.lvs = import_lvs(s, vg_path.child("logical_volumes"), &vg)?;
    }
    if let Some(s) = hlv_sec {
        vg.historical_lvs = import_hlvs(s, vg_path.child("historical_logical_volumes"))?;
    }
    check_pv_extents(&vg)?;
    Ok(vg)
}

fn import_pvs(sec: &Section, path: Path, extent_size: u64) -> Result<Vec<PhysicalVolume>> {
    let mut pvs: Vec<PhysicalVolume> = Vec::with_capacity(sec.items.len());
    for (key, s) in sec.sections() {
        let mut f = Fields::new(s, path.child(key));
        let id = f.id("id")?;
        if pvs.iter().any(|p| p.id == id) {
            return Err(Error::semantic(f.at("id"), "a PV id not used by another PV", id.to_string()));
        }
        let device = f.string("device")?;
        let device_id_type = f.string("device_id_type")?;
        let device_id = f.string("device_id")?;
        let status = f.status(FlagKind::Pv, true)?;
        let flags = f.compat(FlagKind::Pv)?;
        let tags = f.tags()?;
        let dev_size = f.uint("dev_size")?;
        let pe_start = f.req_uint("pe_start")?;
        let pe_count = f.req_uint("pe_count")?;
        let ba_start = f.uint("ba_start")?;
        let ba_size = f.uint("ba_size")?;
        if ba_start.is_some() != ba_size.is_some() {
            return Err(Error::semantic(
                f.at("ba_start"),
                "ba_start and ba_size together",
                "only one of them",
            ));
        }
        if pe_count.checked_mul(extent_size).and_then(|x| x.checked_add(pe_start)).is_none() {
            return Err(Error::semantic(
                f.at("pe_count"),
                "a PE area that fits in 64 bits",
                pe_count.to_string(),
            ));
        }
        let extra = f.rest();
        pvs.push(PhysicalVolume {
            key: key.to_string(),
            id,
            device,
            device_id_type,
            device_id,
            status,
            flags,
            tags,
            dev_size,
            pe_start,
            pe_count,
            ba_start,
            ba_size,
            extra,
        });
    }
    Ok(pvs)
}

fn import_lvs(sec: &Section, path: Path, vg: &VolumeGroup) -> Result<Vec<LogicalVolume>> {
    // Pass 1: names (segments may name LVs defined later).
    let mut names: HashSet<&str, FnvBuild> =
        HashSet::with_capacity_and_hasher(sec.items.len(), FnvBuild::default());
    for (name, _) in sec.sections() {
        if !valid_name(name) {
            return Err(Error::semantic(
                format!("{path}/{name}"),
                "an LV name of [A-Za-z0-9+_.-]",
                format!("{name:?}"),
            ));
        }
        if !names.insert(name) {
            return Err(Error::semantic(
                format!("{path}/{name}"),
                "a unique LV name",
                "a second LV of that name",
            ));
        }
    }
    let pv_keys: HashMap<&str, usize, FnvBuild> =
        vg.pvs.iter().enumerate().map(|(i, p)| (p.key.as_str(), i)).collect();
    let ctx = SegCtx { pv_keys: &pv_keys, lv_names: &names };
    let mut lvs = Vec::with_capacity(sec.items.len());
    for (name, s) in sec.sections() {
        lvs.push(import_lv(name, s, path.child(name), &ctx)?);
    }
    Ok(lvs)
}

struct SegCtx<'a> {
    pv_keys: &'a HashMap<&'a str, usize, FnvBuild>,
    lv_names: &'a HashSet<&'a str, FnvBuild>,
}

fn import_lv(name: &str, sec: &Section, path: Path, ctx: &SegCtx) -> Result<LogicalVolume> {
    let mut f = Fields::new(sec, path);
    let id = f.id("id")?;
    let status = f.status(FlagKind::Lv, true)?;
    let flags = f.compat(FlagKind::Lv)?;
    let tags = f.tags()?;
    let creation_time = f.int("creation_time")?;
    let creation_host = f.string("creation_host")?;
    let lock_args = f.string("lock_args")?;
    let allocation_policy = f.string("allocation_policy")?;
    let profile = f.string("profile")?;
    let read_ahead = f.int("read_ahead")?;
    let major = f.int("major")?;
    let minor = f.int("minor")?;
    let segment_count = f.req_uint("segment_count")?;
    // Every sub-section of an LV is a segment, whatever its name (lvm2 does the same).
    let mut segments = Vec::with_capacity(segment_count.min(64) as usize);
    for (i, item) in sec.items.iter().enumerate() {
        if let Node::Section(s) = &item.node {
            f.mark(i);
            segments.push(import_segment(s, path.child(&item.key), ctx)?);
        }
    }
    if segments.len() as u64 != segment_count {
        return Err(Error::semantic(
            f.at("segment_count"),
            format!("{} (the number of segment sections)", segments.len()),
            segment_count.to_string(),
        ));
    }
    segments.sort_by_key(|s| s.start_extent);
    let mut le = 0u64;
    for s in &segments {
        if s.start_extent != le {
            return Err(Error::semantic(
                path.to_string(),
                format!("segments tiling the LV without gaps or overlaps (next at LE {le})"),
                format!("a segment starting at LE {}", s.start_extent),
            ));
        }
        le = le.checked_add(s.extent_count).ok_or_else(|| {
            Error::semantic(path.to_string(), "an LV length that fits in 64 bits", "an overflow")
        })?;
    }
    let extra = f.rest();
    Ok(LogicalVolume {
        name: name.to_string(),
        id,
        status,
        flags,
        tags,
        creation_time,
        creation_host,
        lock_args,
        allocation_policy,
        profile,
        read_ahead,
        major,
        minor,
        segments,
        extra,
    })
}

/// Known base type names.
fn known_segtype(name: &str) -> bool {
    matches!(
        name,
        "striped"
            | "linear"
            | "mirror"
            | "thin-pool"
            | "thin"
            | "cache-pool"
            | "cache"
            | "snapshot"
            | "writecache"
            | "integrity"
            | "vdo"
            | "vdo-pool"
            | "error"
            | "zero"
            | "free"
    ) || is_raid(name)
}

/// RAID segment type names lvm2 knows.
pub fn is_raid(name: &str) -> bool {
    matches!(
        name,
        "raid0"
            | "raid0_meta"
            | "raid1"
            | "raid10"
            | "raid10_near"
            | "raid4"
            | "raid5"
            | "raid5_la"
            | "raid5_ra"
            | "raid5_ls"
            | "raid5_rs"
            | "raid5_n"
            | "raid6"
            | "raid6_zr"
            | "raid6_nr"
            | "raid6_nc"
            | "raid6_n_6"
            | "raid6_la_6"
            | "raid6_ls_6"
            | "raid6_ra_6"
            | "raid6_rs_6"
    )
}

fn import_segment(sec: &Section, path: Path, ctx: &SegCtx) -> Result<Segment> {
    let mut f = Fields::new(sec, path);
    let start_extent = f.req_uint("start_extent")?;
    let extent_count = f.req_uint("extent_count")?;
    let reshape_count = f.uint("reshape_count")?;
    let data_copies = f.uint("data_copies")?;
    // lvm2 defaults a missing type to striped.
    let segtype = SegType::parse(&f.string("type")?.unwrap_or_else(|| "striped".into()));
    let tags = f.tags()?;
    let known =
        known_segtype(&segtype.name) && segtype.flags.iter().all(|fl| SEGTYPE_FLAGS.contains(&fl.as_str()));
    let kind = if !known {
        let mut section = Section::new();
        section.items = f.rest();
        f.mark_all();
        SegmentKind::Unknown { section }
    } else {
        import_kind(&segtype.name, extent_count, &mut f, ctx)?
    };
    let extra = f.rest();
    Ok(Segment { start_extent, extent_count, segtype, reshape_count, data_copies, tags, kind, extra })
}

fn lv_ref(f: &Fields, key: &str, name: String, ctx: &SegCtx) -> Result<String> {
    if ctx.lv_names.contains(name.as_str()) {
        Ok(name)
    } else {
        Err(Error::semantic(f.at(key), "the name of an LV in this VG", format!("{name:?}")))
    }
}

fn req_lv(f: &mut Fields, key: &str, ctx: &SegCtx) -> Result<String> {
    let n = f.req_string(key)?;
    lv_ref(f, key, n, ctx)
}

fn opt_lv(f: &mut Fields, key: &str, ctx: &SegCtx) -> Result<Option<String>> {
    match f.string(key)? {
        None => Ok(None),
        Some(n) => lv_ref(f, key, n, ctx).map(Some),
    }
}

/// `["pv0", 0, "lv", 5, …]` → areas.
fn areas(f: &mut Fields, key: &str, ctx: &SegCtx) -> Result<Vec<Area>> {
    let Some(v) = f.value(key)? else {
        return Err(Error::semantic(f.at(key), "an area list", "nothing (missing key)"));
    };
    let Value::Array(a) = v else {
        return Err(Error::semantic(f.at(key), "an area list", show_value(v)));
    };
    if a.len() % 2 != 0 {
        return Err(Error::semantic(f.at(key), "(name, extent) pairs", format!("{} elements", a.len())));
    }
    let mut out = Vec::with_capacity(a.len() / 2);
    for pair in a.chunks(2) {
        let (Scalar::Str(name), Scalar::Int(start)) = (&pair[0], &pair[1]) else {
            return Err(Error::semantic(
                f.at(key),
                "a (\"name\", extent) pair",
                format!("({}, {})", show_scalar(&pair[0]), show_scalar(&pair[1])),
            ));
        };
        let start = u64::try_from(*start)
            .map_err(|_| Error::semantic(f.at(key), "a non-negative extent", start.to_string()))?;
        let target = if let Some(&i) = ctx.pv_keys.get(name.as_ref()) {
            AreaTarget::Pv(i)
        } else if ctx.lv_names.contains(name.as_ref()) {
            AreaTarget::Lv(name.to_string())
        } else {
            return Err(Error::semantic(f.at(key), "a PV key or LV name of this VG", format!("{name:?}")));
        };
        out.push(Area { target, start });
    }
    Ok(out)
}

fn import_kind(name: &str, extent_count: u64, f: &mut Fields, ctx: &SegCtx) -> Result<SegmentKind> {
    Ok(match name {
        "striped" | "linear" => {
            let stripe_count = f.req_uint("stripe_count")?;
            let stripe_size = f.uint("stripe_size")?;
            let areas = areas(f, "stripes", ctx)?;
            if stripe_count == 0 || areas.len() as u64 != stripe_count {
                return Err(Error::semantic(
                    f.at("stripes"),
                    format!("{stripe_count} areas (stripe_count)"),
                    format!("{} areas", areas.len()),
                ));
            }
            if !extent_count.is_multiple_of(stripe_count) {
                return Err(Error::semantic(
                    f.at("extent_count"),
                    format!("a multiple of stripe_count {stripe_count}"),
                    extent_count.to_string(),
                ));
            }
            // lvm2 requires the key with more than one stripe but accepts 0 (seen: vgcfgrestore).
            if stripe_count > 1 && stripe_size.is_none() {
                return Err(Error::semantic(
                    f.at("stripe_size"),
                    "a stripe size for a segment of more than one stripe",
                    "nothing (missing key)",
                ));
            }
            SegmentKind::Striped { stripe_size, areas }
        }
        "mirror" => {
            let mirror_count = f.req_uint("mirror_count")?;
            let extents_moved = f.uint("extents_moved")?;
            let region_size = f.uint("region_size")?;
            let mirror_log = opt_lv(f, "mirror_log", ctx)?;
            if mirror_log.is_some() && region_size.is_none() {
                return Err(Error::semantic(f.at("region_size"), "a region size with a mirror log", "none"));
            }
            let areas = areas(f, "mirrors", ctx)?;
            if areas.len() as u64 != mirror_count {
                return Err(Error::semantic(
                    f.at("mirrors"),
                    format!("{mirror_count} legs"),
                    format!("{}", areas.len()),
                ));
            }
            SegmentKind::Mirror { mirror_count, extents_moved, mirror_log, region_size, areas }
        }
        n if is_raid(n) => {
            let device_count = f.uint("device_count")?;
            let stripe_count = f.uint("stripe_count")?;
            let region_size = f.uint("region_size")?;
            let stripe_size = f.uint("stripe_size")?;
            let writebehind = f.uint("writebehind")?;
            let min_recovery_rate = f.uint("min_recovery_rate")?;
            let max_recovery_rate = f.uint("max_recovery_rate")?;
            let data_offset = f.uint("data_offset")?;
            let count = device_count.or(stripe_count).ok_or_else(|| {
                Error::semantic(f.at("device_count"), "device_count or stripe_count", "neither")
            })?;
            let mut raid_areas = Vec::new();
            if let Some(list) = f.str_list("raids")? {
                // A `_rmeta_` name is a metadata LV and must be followed by its data image.
                let mut it = list.into_iter().peekable();
                while let Some(n) = it.next() {
                    let n = lv_ref(f, "raids", n, ctx)?;
                    if n.contains("_rmeta_") {
                        let data = it.next().ok_or_else(|| {
                            Error::semantic(f.at("raids"), format!("a data image after {n:?}"), "end of list")
                        })?;
                        raid_areas.push(RaidArea { meta: Some(n), data: lv_ref(f, "raids", data, ctx)? });
                    } else {
                        raid_areas.push(RaidArea { meta: None, data: n });
                    }
                }
            } else if let Some(list) = f.str_list("raid0_lvs")? {
                for n in list {
                    raid_areas.push(RaidArea { meta: None, data: lv_ref(f, "raid0_lvs", n, ctx)? });
                }
            } else {
                return Err(Error::semantic(f.at("raids"), "a list of RAID images", "nothing (missing key)"));
            }
            if raid_areas.len() as u64 != count {
                return Err(Error::semantic(
                    f.at("raids"),
                    format!("{count} images (device_count/stripe_count)"),
                    raid_areas.len().to_string(),
                ));
            }
            SegmentKind::Raid {
                device_count,
                stripe_count,
                region_size,
                stripe_size,
                writebehind,
                min_recovery_rate,
                max_recovery_rate,
                data_offset,
                areas: raid_areas,
            }
        }
        "thin-pool" => {
            let metadata = req_lv(f, "metadata", ctx)?;
            let pool = req_lv(f, "pool", ctx)?;
            let transaction_id = f.req_uint("transaction_id")?;
            let chunk_size = f.req_uint("chunk_size")?;
            let discards = f.string("discards")?;
            let zero_new_blocks = f.int("zero_new_blocks")?;
            let crop_metadata = f.int("crop_metadata")?;
            let mut messages = Vec::new();
            for (i, item) in f.sec.items.iter().enumerate() {
                if let Node::Section(m) = &item.node {
                    f.mark(i);
                    let mut mf = Fields::new(m, f.path.child(&item.key));
                    if let Some(c) = mf.string("create")? {
                        messages.push(ThinMessage::Create(c));
                    } else if let Some(d) = mf.int("delete")? {
                        messages.push(ThinMessage::Delete(d));
                    } else {
                        return Err(Error::semantic(
                            mf.path.to_string(),
                            "create = \"lv\" or delete = id",
                            "neither",
                        ));
                    }
                }
            }
            SegmentKind::ThinPool {
                metadata,
                pool,
                transaction_id,
                chunk_size,
                discards,
                zero_new_blocks,
                crop_metadata,
                messages,
            }
        }
        "thin" => SegmentKind::Thin {
            thin_pool: req_lv(f, "thin_pool", ctx)?,
            transaction_id: f.req_uint("transaction_id")?,
            device_id: f.req_uint("device_id")?,
            origin: opt_lv(f, "origin", ctx)?,
            external_origin: opt_lv(f, "external_origin", ctx)?,
            merge: opt_lv(f, "merge", ctx)?,
        },
        "cache-pool" => SegmentKind::CachePool {
            data: req_lv(f, "data", ctx)?,
            metadata: req_lv(f, "metadata", ctx)?,
            metadata_format: f.uint("metadata_format")?,
            chunk_size: f.uint("chunk_size")?,
            cache_mode: f.string("cache_mode")?,
            policy: f.string("policy")?,
            policy_settings: f.section("policy_settings")?.map(|s| s.clone().into_owned()),
        },
        "cache" => {
            let cache_pool = req_lv(f, "cache_pool", ctx)?;
            let origin = req_lv(f, "origin", ctx)?;
            let settings = f.rest();
            f.mark_all();
            SegmentKind::Cache { cache_pool, origin, settings }
        }
        "snapshot" => {
            let chunk_size = f.req_uint("chunk_size")?;
            let origin = req_lv(f, "origin", ctx)?;
            let (cow_store, merging) = match f.string("merging_store")? {
                Some(m) => (lv_ref(f, "merging_store", m, ctx)?, true),
                None => (req_lv(f, "cow_store", ctx)?, false),
            };
            SegmentKind::Snapshot { chunk_size, origin, cow_store, merging }
        }
        "writecache" => {
            let writecache = req_lv(f, "writecache", ctx)?;
            let origin = req_lv(f, "origin", ctx)?;
            let settings = f.rest();
            f.mark_all();
            SegmentKind::Writecache { writecache, origin, settings }
        }
        "integrity" => {
            let origin = req_lv(f, "origin", ctx)?;
            let meta_dev = opt_lv(f, "meta_dev", ctx)?;
            let settings = f.rest();
            f.mark_all();
            SegmentKind::Integrity { origin, meta_dev, settings }
        }
        "vdo" => {
            SegmentKind::Vdo { vdo_pool: req_lv(f, "vdo_pool", ctx)?, vdo_offset: f.req_uint("vdo_offset")? }
        }
        "vdo-pool" => {
            let data = req_lv(f, "data", ctx)?;
            let settings = f.rest();
            f.mark_all();
            SegmentKind::VdoPool { data, settings }
        }
        "error" => SegmentKind::Error,
        "zero" => SegmentKind::Zero,
        "free" => SegmentKind::Free,
        other => unreachable!("known_segtype admitted {other}"),
    })
}

fn import_hlvs(sec: &Section, path: Path) -> Result<Vec<HistoricalLv>> {
    let mut out = Vec::new();
    for (name, s) in sec.sections() {
        let mut f = Fields::new(s, path.child(name));
        let id = f.id("id")?;
        let creation_time = f.int("creation_time")?;
        let removal_time = f.int("removal_time")?;
        let origin = f.string("origin")?;
        let descendants = f.str_list("descendants")?.unwrap_or_default();
        if f.sec.get("descendants").is_some() && descendants.is_empty() {
            return Err(Error::semantic(f.at("descendants"), "at least one descendant", "[]"));
        }
        out.push(HistoricalLv {
            name: name.to_string(),
            id,
            creation_time,
            removal_time,
            origin,
            descendants,
            extra: f.rest(),
        });
    }
    Ok(out)
}

/// Every PV extent range lies inside its PV and no PE is used twice.
fn check_pv_extents(vg: &VolumeGroup) -> Result<()> {
    let mut used: Vec<Vec<(u64, u64, &str)>> = vec![Vec::new(); vg.pvs.len()];
    for lv in &vg.lvs {
        for s in &lv.segments {
            for (pv, start, len) in s.pv_extents() {
                let p = &vg.pvs[pv];
                if start.checked_add(len).is_none_or(|e| e > p.pe_count) {
                    return Err(Error::semantic(
                        format!("{}/logical_volumes/{}", vg.name, lv.name),
                        format!("extents inside {} (pe_count {})", p.key, p.pe_count),
                        format!("PEs {start}..{}", start.saturating_add(len)),
                    ));
                }
                used[pv].push((start, start + len, &lv.name));
            }
        }
    }
    for (pv, ranges) in used.iter_mut().enumerate() {
        ranges.sort();
        for w in ranges.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(Error::semantic(
                    format!("{}/physical_volumes/{}", vg.name, vg.pvs[pv].key),
                    "each PE allocated to one LV segment".to_string(),
                    format!("PE {} used by both {} and {}", w[1].0, w[0].2, w[1].2),
                ));
            }
        }
    }
    Ok(())
}
