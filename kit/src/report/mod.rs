//! lvm2-compatible `pvs`, `vgs` and `lvs` reports.
//!
//! [`report`] returns what lvm2 2.03 prints on stdout for the same options on a system where
//! device-mapper is absent (activation columns show `X`/`unknown`); [`report_with_kernel`]
//! what it prints with device-mapper there, from a snapshot of the live devices
//! (`live.rs`: state, open count, kernel numbers, percentages, RAID/cache/thin/writecache
//! status).
//! Known differences from lvm2: `pvs -a` lists only labelled PVs, not every scanned device; `lv_time` is printed in UTC.
//! `-O` on a string-list field orders by its text (lvm2 compares pointer bytes there); lvm2's
//! warnings (a duplicate sort key) are not printed.

mod attr;
mod fields;
mod fuzzy_time;
mod history;
mod layout;
mod live;
mod output;
mod rows;
mod select;
mod sort;
mod types;
mod units;
mod view;

use fields::{Ctx, FIELDS, Field, Obj, PvRef, Row};
use view::VgView;

use crate::source::Source;
use crate::target::Target;

pub use units::Units;

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// `pvs`
    Pv,
    /// `vgs`
    Vg,
    /// `lvs`
    Lv,
}

/// Output format (`--reportformat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// Aligned columns (lvm2's default).
    #[default]
    Basic,
    /// lvm2's JSON shape, every value a string.
    Json,
}

/// Options shared by the three reports, named as lvm2 names them.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// `-o`, possibly repeated: each a comma list that replaces the columns, or with a leading
    /// `+` adds to them, or with a leading `-` removes from them.
    pub fields: Vec<String>,
    /// `-a`: include hidden LVs (lvs) / all devices (pvs).
    pub all: bool,
    /// `--segments` (lvs: one row per segment; pvs: one row per PV segment).
    pub segments: bool,
    /// `--units` (`r`, `R`, `h`, `H`, `b`, `s`, `k`, `m`, `g`, `t`, `p`, `e`; upper case = powers
    /// of 1000; lvm2's default `r`).
    pub units: Option<String>,
    /// `--nosuffix`.
    pub nosuffix: bool,
    /// `--reportformat`.
    pub format: ReportFormat,
    /// `--noheadings`.
    pub noheadings: bool,
    /// `--separator`.
    pub separator: Option<String>,
    /// VG (or VG/LV, or PV device) names to restrict to.
    pub names: Vec<String>,
    /// `-S/--select`: lvm2's selection expression.
    pub select: Option<String>,
    /// `-O/--sort`: sort keys (`-` before a field for descending), replacing the default order.
    pub sort: Option<String>,
    /// `--rows`: one output line per field.
    pub rows: bool,
    /// `--nameprefixes`: `LVM2_FIELD='value'`.
    pub nameprefixes: bool,
    /// `--unquoted`: no quotes with `--nameprefixes`.
    pub unquoted: bool,
    /// `--aligned`: aligned columns also with `--separator`.
    pub aligned: bool,
    /// `--binary`: binary fields as 0/1 (-1 when unknown) instead of a word or blank.
    pub binary: bool,
    /// `-H/--history` (lvs): also the historical LVs lvm2 keeps with `record_lvs_history`.
    pub history: bool,
    /// `--foreign`: also report VGs owned by another host (lvm2 hides them, their LVs and
    /// their PVs otherwise).
    pub foreign: bool,
    /// This host's system ID (lvm2's `global/system_id_source`); `None`: the host has none.
    pub system_id: Option<String>,
    /// "Now" for `-S`'s relative time words, seconds since the epoch; `None`: the clock.
    pub now: Option<i64>,
}

/// A report request that cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `-o` names a field this report does not have.
    #[error("unrecognised field: {0}")]
    UnknownField(String),
    /// `--units` value not understood.
    #[error("invalid units specification: {0}")]
    BadUnits(String),
    /// A named VG/LV/PV was not found.
    #[error("{0} not found")]
    NotFound(String),
    /// LV and PV fields in one report; the report type as lvm2 names it (`lv`, `vg`, `seg`).
    #[error("Can't report LV and PV fields at the same time in report type \"{0}\".")]
    IncompatibleFields(&'static str),
    /// A `-S`/`-O` problem, in the lines lvm2 logs for it.
    #[error("{}", .0.join("\n"))]
    Lvm2(Vec<String>),
}

/// The report lvm2 starts from (the command, and `--segments`): decides the default columns,
/// the field-name prefix, the sort order and the JSON key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Pv,
    PvSeg,
    Vg,
    Lv,
    Seg,
}

impl Base {
    fn of(kind: ReportKind, segments: bool) -> Base {
        match (kind, segments) {
            (ReportKind::Pv, false) => Base::Pv,
            (ReportKind::Pv, true) => Base::PvSeg,
            (ReportKind::Vg, _) => Base::Vg,
            (ReportKind::Lv, false) => Base::Lv,
            (ReportKind::Lv, true) => Base::Seg,
        }
    }
    fn defaults(self) -> &'static str {
        match self {
            Base::Pv => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free",
            Base::PvSeg => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free,pvseg_start,pvseg_size",
            Base::Vg => "vg_name,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free",
            Base::Lv => {
                "lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent,metadata_percent,move_pv,mirror_log,copy_percent,convert_lv"
            }
            Base::Seg => "lv_name,vg_name,lv_attr,stripes,segtype,seg_size",
        }
    }
    /// lvm2 also accepts a field name without this prefix (`-o size` for `lv_size` in lvs).
    fn prefix(self) -> &'static str {
        match self {
            Base::Pv => "pv_",
            Base::PvSeg => "pvseg_",
            Base::Vg => "vg_",
            Base::Lv => "lv_",
            Base::Seg => "seg_",
        }
    }
    fn json_key(self) -> &'static str {
        match self {
            Base::Pv => "pv",
            Base::PvSeg => "pvseg",
            Base::Vg => "vg",
            Base::Lv => "lv",
            Base::Seg => "seg",
        }
    }
}

/// What one row stands for, after looking at the requested fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowKind {
    Pv,
    PvSeg,
    Vg,
    Lv,
    Seg,
}

/// lvm2's field-name matching: case-insensitive, underscores ignored, the report's prefix
/// optional.
fn find_field(base: Base, name: &str) -> Result<&'static Field, ReportError> {
    // Compared as canonical character streams: no string built per table entry.
    let chars = |s: &'static str| s.chars().filter(|&c| c != '_').flat_map(char::to_lowercase);
    let want = || name.chars().filter(|&c| c != '_').flat_map(char::to_lowercase);
    let prefix = base.prefix();
    FIELDS
        .iter()
        .find(|f| chars(f.name).eq(want()))
        .or_else(|| FIELDS.iter().find(|f| chars(f.name).eq(chars(prefix).chain(want()))))
        .ok_or_else(|| ReportError::UnknownField(name.to_string()))
}

/// lvm2's field groups: `all` (every field of the report's own types) and `lv_all`,
/// `vg_all`, `seg_all`, `pv_all`, `pvseg_all`; each in lvm2's field order.
fn aggregate(base: Base, name: &str) -> Option<Vec<&'static Field>> {
    let canon: String = name.chars().filter(|&c| c != '_').flat_map(char::to_lowercase).collect();
    let groups: &[&[Obj]] = match canon.as_str() {
        "all" => match base {
            Base::Lv => &[&[Obj::Lv, Obj::LvStatus], &[Obj::Vg]],
            // lvm2 leaves the kernel-status LV fields out of a segment report's `all`.
            Base::Seg => &[&[Obj::Lv], &[Obj::Vg], &[Obj::Seg]],
            Base::Pv => &[&[Obj::Label, Obj::Pv]],
            // lvm2's `pvs --segments -o all`: the label fields and the PV segment's.
            Base::PvSeg => &[&[Obj::Label], &[Obj::PvSeg]],
            Base::Vg => &[&[Obj::Vg]],
        },
        "lvall" => &[&[Obj::Lv, Obj::LvStatus]],
        "vgall" => &[&[Obj::Vg]],
        "segall" => &[&[Obj::Seg]],
        "pvall" => &[&[Obj::Label, Obj::Pv]],
        "pvsegall" => &[&[Obj::PvSeg]],
        _ => return None,
    };
    Some(groups.iter().flat_map(|g| FIELDS.iter().filter(move |f| g.contains(&f.obj))).collect())
}

fn resolve_list(base: Base, list: &str) -> Result<Vec<&'static Field>, ReportError> {
    let mut out = Vec::new();
    for n in list.split(',').filter(|s| !s.is_empty()) {
        match aggregate(base, n) {
            Some(fields) => out.extend(fields),
            None => out.push(find_field(base, n)?),
        }
    }
    Ok(out)
}

/// The columns after applying every `-o` in order.
fn columns(base: Base, specs: &[String]) -> Result<Vec<&'static Field>, ReportError> {
    let mut cols = resolve_list(base, base.defaults())?;
    for spec in specs {
        if let Some(add) = spec.strip_prefix('+') {
            cols.extend(resolve_list(base, add)?);
        } else if let Some(remove) = spec.strip_prefix('-') {
            let gone = resolve_list(base, remove)?;
            cols.retain(|f| !gone.iter().any(|g| std::ptr::eq(*g, *f)));
        } else {
            cols = resolve_list(base, spec)?;
        }
    }
    Ok(cols)
}

/// lvm2's report-type promotion (`_get_final_report_type` in tools/reporter.c): the command's
/// own type plus the types of every field shown, sorted by or selected on; segment fields
/// bring LV ones and PV-segment fields PV ones; LV with PV fields is refused unless the
/// command reports PVs (then the rows are PV segments); PV (or label with VG) fields give PV
/// rows, segment fields segment rows, LV fields LV rows.
fn row_kind(base: Base, cols: &[&Field]) -> Result<RowKind, ReportError> {
    let has = |o: Obj| cols.iter().any(|f| f.obj == o);
    let pvsegs = base == Base::PvSeg || has(Obj::PvSeg);
    let segs = base == Base::Seg || has(Obj::Seg);
    let pvs = base == Base::PvSeg || has(Obj::Pv) || pvsegs;
    let label = base == Base::Pv || has(Obj::Label);
    let lvs = base == Base::Lv || has(Obj::Lv) || has(Obj::LvStatus) || segs;
    let args_are_pvs = matches!(base, Base::Pv | Base::PvSeg);
    if lvs && (pvs || label) && !args_are_pvs {
        return Err(ReportError::IncompatibleFields(base.json_key()));
    }
    Ok(if pvsegs || ((pvs || label) && lvs) {
        RowKind::PvSeg
    } else if pvs || label {
        // PV fields, label with VG fields (PVS), or label fields alone (LABEL): PV rows.
        RowKind::Pv
    } else if segs {
        RowKind::Seg
    } else if lvs {
        RowKind::Lv
    } else {
        RowKind::Vg
    })
}

/// Which VG/LV/PV names were asked for and which of them matched something.
struct Names<'n> {
    list: &'n [String],
    hit: Vec<bool>,
}

impl<'n> Names<'n> {
    fn new(list: &'n [String]) -> Self {
        Names { list, hit: vec![false; list.len()] }
    }
    /// True when no names were given or one of them satisfies `f`.
    fn accept(&mut self, f: impl Fn(&str) -> bool) -> bool {
        if self.list.is_empty() {
            return true;
        }
        let mut ok = false;
        for (i, n) in self.list.iter().enumerate() {
            if f(n) {
                self.hit[i] = true;
                ok = true;
            }
        }
        ok
    }
    fn check(&self) -> Result<(), ReportError> {
        match self.hit.iter().position(|h| !h) {
            Some(i) => Err(ReportError::NotFound(self.list[i].clone())),
            None => Ok(()),
        }
    }
}

/// `VG`, `VG/LV`, `/dev/VG/LV` or `/dev/mapper/VG-LV` ([`Target`]); `None` for a name of
/// none of these forms (it matches nothing, and is reported as not found).
fn split_lv_name(n: &str) -> Option<Target> {
    Target::parse(n).ok()
}

/// Whether `-o NAME` names a field in this report (`--segments` as given).
pub fn is_field(kind: ReportKind, segments: bool, name: &str) -> bool {
    let base = Base::of(kind, segments);
    find_field(base, name).is_ok() || aggregate(base, name).is_some()
}

/// The names of every field lvmkit reports, in its table's order.
pub fn field_names() -> Vec<&'static str> {
    FIELDS.iter().map(|f| f.name).collect()
}

/// What a report asks for: the fields it shows, its sort keys and its selection.
struct Wanted {
    base: Base,
    cols: Vec<&'static Field>,
    keys: Option<Vec<sort::Key>>,
    selection: Option<select::Selection>,
    /// Every field shown, sorted by or selected on: together they decide the row type, as
    /// lvm2's hidden fields do.
    typed: Vec<&'static Field>,
}

impl Wanted {
    fn of(kind: ReportKind, opts: &ReportOptions) -> Result<Wanted, ReportError> {
        let base = Base::of(kind, opts.segments);
        let cols = columns(base, &opts.fields)?;
        let keys = match &opts.sort {
            Some(spec) => Some(sort::parse_keys(base.prefix(), spec)?),
            None => None,
        };
        let now = opts.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
        let selection = select::parse(base.prefix(), opts.select.as_deref().unwrap_or(""), now)
            .map_err(ReportError::Lvm2)?;
        let mut typed = cols.clone();
        typed.extend(keys.iter().flatten().map(|k| k.field));
        typed.extend(selection.iter().flat_map(|s| s.fields.iter().copied()));
        Ok(Wanted { base, cols, keys, selection, typed })
    }
}

/// Whether a report shows, sorts by or selects on a field the kernel can change (an LV's or
/// a segment's): `vgs` and `pvs` with their own fields do not, and like lvm2 they leave
/// device-mapper alone. An invalid request answers `false`: the report itself says why.
pub fn needs_kernel(kind: ReportKind, opts: &ReportOptions) -> bool {
    Wanted::of(kind, opts).is_ok_and(|w| w.needs_kernel())
}

impl Wanted {
    fn needs_kernel(&self) -> bool {
        self.typed.iter().any(|f| matches!(f.obj, Obj::Lv | Obj::LvStatus | Obj::Seg))
    }
}

/// [`report_with_kernel`] that asks device-mapper (`read`) only when the report needs the
/// kernel's values ([`needs_kernel`]), with the request parsed once.
pub fn report_reading_kernel(
    kind: ReportKind,
    opts: &ReportOptions,
    src: &Source,
    read: &dyn Fn() -> Option<lvmkit_activation::live::Kernel>,
) -> Result<String, ReportError> {
    let wanted = Wanted::of(kind, opts)?;
    let kernel = if wanted.needs_kernel() { read() } else { None };
    render(kind, opts, src, wanted, kernel.as_ref())
}

/// Produce exactly what lvm2's `pvs`/`vgs`/`lvs` would print on stdout on a system without
/// device-mapper.
pub fn report(kind: ReportKind, opts: &ReportOptions, src: &Source) -> Result<String, ReportError> {
    report_with_kernel(kind, opts, src, None)
}

/// [`report`] with the kernel's values for active LVs (lvm2's output with device-mapper
/// there): `kernel` is what device-mapper had ([`lvmkit_activation::live::Kernel::read`]);
/// `None` gives lvm2's no-kernel values.
pub fn report_with_kernel(
    kind: ReportKind,
    opts: &ReportOptions,
    src: &Source,
    kernel: Option<&lvmkit_activation::live::Kernel>,
) -> Result<String, ReportError> {
    render(kind, opts, src, Wanted::of(kind, opts)?, kernel)
}

fn render(
    kind: ReportKind,
    opts: &ReportOptions,
    src: &Source,
    wanted: Wanted,
    kernel: Option<&lvmkit_activation::live::Kernel>,
) -> Result<String, ReportError> {
    let units = Units::parse(opts.units.as_deref(), opts.nosuffix)?;
    let Wanted { base, cols, keys, selection, typed } = wanted;
    let rk = row_kind(base, &typed)?;
    // lvm2 reads segment status only for the fields that need it (reporter.c: LVSSTATUS and
    // LVSINFOSTATUS report types); the kernel-info fields alone take the plain `lv_info`.
    let kernel_status = typed.iter().any(|f| f.obj == Obj::LvStatus && !live::INFO_ONLY.contains(&f.name));
    let default_order = keys.is_none();
    // lvm2 leaves out a VG owned by another system ID, with its LVs and PVs (also in `pvs
    // -a`), unless --foreign.
    let views: Vec<VgView> = src
        .assembly
        .vgs
        .iter()
        .filter(|a| opts.foreign || !a.metadata.vg.is_foreign_to(opts.system_id.as_deref()))
        .map(|a| VgView::new(a, &src.scan).with_kernel(kernel, kernel_status))
        .collect();
    // An outdated PV (its VG dropped it while it was away) is neither in its VG nor an orphan
    // for lvm2: it only warns about it.
    let outdated: Vec<&str> = src
        .assembly
        .findings
        .iter()
        .filter_map(|f| match f {
            lvmkit_metadata::assemble::Finding::OutdatedPv { device, .. } => Some(device.as_str()),
            _ => None,
        })
        .collect();

    // `lvs -H`: each VG with historical LVs also as a copy holding lvm2's dummy LV per record.
    let hist_asm: Vec<lvmkit_metadata::assemble::AssembledVg> = if opts.history && kind == ReportKind::Lv {
        views.iter().filter_map(|v| history::with_dummies(v.asm)).collect()
    } else {
        vec![]
    };
    let hist_views: Vec<VgView> = hist_asm.iter().map(|a| VgView::new(a, &src.scan)).collect();
    let mut names = Names::new(&opts.names);
    let mut rows: Vec<Row> = Vec::new();
    match rk {
        RowKind::Pv | RowKind::PvSeg => {
            let mut pv_rows: Vec<Row> = Vec::new();
            let by_pv_name = kind == ReportKind::Pv;
            for v in &views {
                if !by_pv_name && !names.accept(|n| n == v.vg.name) {
                    continue;
                }
                for p in 0..v.vg.pvs.len() {
                    let r = Row {
                        vg: Some(v),
                        pv: Some(PvRef { scan: v.pv_scan(p), meta: Some(p) }),
                        lv: None,
                        seg: None,
                        pvseg: None,
                    };
                    pv_rows.push(r);
                }
            }
            if kind == ReportKind::Pv {
                for &i in &src.assembly.orphans {
                    if outdated.contains(&src.scan.pvs[i].name()) {
                        continue;
                    }
                    let pv = Some(PvRef { scan: Some(&src.scan.pvs[i]), meta: None });
                    pv_rows.push(Row { vg: None, pv, lv: None, seg: None, pvseg: None });
                }
                pv_rows.retain(|r| {
                    let name = pv_display_name(r);
                    names.accept(|n| n == name)
                });
            }
            for r in pv_rows {
                if rk == RowKind::Pv {
                    rows.push(r);
                    continue;
                }
                match (r.vg, r.pv.and_then(|p| p.meta)) {
                    (Some(v), Some(p)) => {
                        for s in v.pv_segments(p) {
                            let (lv, seg) = s.owner.map_or((None, None), |(l, sg)| (Some(l), Some(sg)));
                            rows.push(Row { lv, seg, pvseg: Some(s), ..r });
                        }
                    }
                    _ => rows.push(Row { pvseg: Some(view::PvSeg { start: 0, len: 0, owner: None }), ..r }),
                }
            }
            if !default_order {
            } else if by_pv_name {
                // lvm2 sorts pvs by pv_name (and pvs --segments also by PE start).
                rows.sort_by(|a, b| {
                    let k = pv_display_name(a).cmp(&pv_display_name(b));
                    if base == Base::PvSeg {
                        k.then(a.pvseg.map(|s| s.start).cmp(&b.pvseg.map(|s| s.start)))
                    } else {
                        k
                    }
                });
            } else {
                rows.sort_by(|a, b| vg_name(a).cmp(vg_name(b)));
            }
        }
        RowKind::Vg => {
            for v in &views {
                if names.accept(|n| split_lv_name(n).is_some_and(|t| t.lv.is_none() && t.vg == v.vg.name)) {
                    rows.push(Row { vg: Some(v), pv: None, lv: None, seg: None, pvseg: None });
                }
            }
            if default_order {
                rows.sort_by(|a, b| vg_name(a).cmp(vg_name(b)));
            }
        }
        RowKind::Lv | RowKind::Seg => {
            for v in &views {
                // lvm2's lvs does not report LVs of an exported VG (vgs -o lv_name does).
                let exported = kind == ReportKind::Lv && v.vg.is_exported();
                for i in v.lvm2_order() {
                    if kind == ReportKind::Lv {
                        let lvname = &v.vg.lvs[i].name;
                        let hit = names.accept(|n| match split_lv_name(n) {
                            Some(t) => t.vg == v.vg.name && t.lv.as_ref().is_none_or(|lv| lv == lvname),
                            None => false,
                        });
                        // A VG/LV name shows that LV even when hidden, as lvm2 does.
                        let named = !opts.names.is_empty()
                            && opts.names.iter().any(|n| {
                                split_lv_name(n)
                                    .is_some_and(|t| t.vg == v.vg.name && t.lv.as_ref() == Some(lvname))
                            });
                        if !hit || exported || !(v.listed(i, opts.all) || (named && !v.lvs[i].glue)) {
                            continue;
                        }
                    } else {
                        let hit = names.accept(|n| split_lv_name(n).is_some_and(|t| t.vg == v.vg.name));
                        if !hit || exported || !v.listed(i, opts.all) {
                            continue;
                        }
                    }
                    let base_row = Row { vg: Some(v), pv: None, lv: Some(i), seg: None, pvseg: None };
                    if rk == RowKind::Seg {
                        for s in 0..v.vg.lvs[i].segments.len() {
                            rows.push(Row { seg: Some(s), ..base_row });
                        }
                    } else {
                        rows.push(base_row);
                    }
                }
                // Historical LVs after the live ones, as lvm2 visits them (`VG/-NAME` names one).
                let Some(hv) = hist_views.iter().find(|h| h.vg.name == v.vg.name && h.vg.id == v.vg.id)
                else {
                    continue;
                };
                let first = hv.vg.lvs.len() - hv.vg.historical_lvs.len();
                for (k, h) in hv.vg.historical_lvs.iter().enumerate() {
                    // `VG/-NAME` is no valid LV name, so it is matched here by hand.
                    let hit = names.accept(|n| match n.strip_prefix("/dev/").unwrap_or(n).split_once('/') {
                        Some((vg, lv)) => vg == hv.vg.name && lv.strip_prefix('-') == Some(h.name.as_str()),
                        None => split_lv_name(n).is_some_and(|t| t.vg == hv.vg.name && t.lv.is_none()),
                    });
                    if !hit || exported {
                        continue;
                    }
                    let row = Row { vg: Some(hv), pv: None, lv: Some(first + k), seg: None, pvseg: None };
                    rows.push(if rk == RowKind::Seg { Row { seg: Some(0), ..row } } else { row });
                }
            }
            if !default_order {
            } else if kind == ReportKind::Lv {
                // lvm2's lvs sort keys: vg_name, lv_name (the bare name), and for --segments the
                // segment start; segments of one LV otherwise keep their order.
                rows.sort_by(|a, b| {
                    vg_name(a).cmp(vg_name(b)).then_with(|| lv_bare_name(a).cmp(lv_bare_name(b))).then_with(
                        || {
                            if base == Base::Seg {
                                seg_start(a).cmp(&seg_start(b))
                            } else {
                                std::cmp::Ordering::Equal
                            }
                        },
                    )
                });
            } else {
                rows.sort_by(|a, b| vg_name(a).cmp(vg_name(b)));
            }
        }
    }
    names.check()?;

    let ctx = Ctx { units };
    // A field's text: lvm2's historical record where it reads one, else the getter.
    let text = |f: &'static Field, r: &Row| {
        hist_record(&hist_views, r)
            .and_then(|h| history::text(f.name, vg_name(r), h))
            .unwrap_or_else(|| (f.get)(&ctx, r))
    };
    let typed_value = |f: &'static Field, r: &Row| match hist_record(&hist_views, r) {
        // lvm2 sorts and selects a historical LV by its bare name.
        Some(h) if f.name == "lv_name" => select::Val::Str(h.name.clone()),
        _ => select::value(f, &ctx, r, &text(f, r)),
    };
    // `-S`: lvm2 drops the rows that do not pass, unless the `selected` column shows them.
    let show_selected = cols.iter().any(|f| select::is_selected(f));
    let mut passed: Vec<bool> = vec![true; rows.len()];
    if let Some(sel) = &selection {
        for (r, p) in rows.iter().zip(passed.iter_mut()) {
            *p = sel.matches(&mut |f| typed_value(f, r));
        }
        if !show_selected {
            let mut keep = passed.iter();
            rows.retain(|_| *keep.next().expect("one flag per row"));
            passed.retain(|p| *p);
        }
    }
    if let Some(keys) = &keys {
        let values: Vec<Vec<select::Val>> =
            rows.iter().map(|r| keys.iter().map(|k| typed_value(k.field, r)).collect()).collect();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|&a, &b| sort::compare(keys, &values[a], &values[b]));
        rows = order.iter().map(|&i| rows[i]).collect();
        passed = order.iter().map(|&i| passed[i]).collect();
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .zip(&passed)
        .map(|(r, &p)| {
            cols.iter()
                .map(|f| {
                    if select::is_selected(f) {
                        return if p { "1" } else { "0" }.to_string();
                    }
                    let v = text(f, r);
                    if opts.binary && select::ty_of(f.name) == select::Ty::Bin {
                        return match v.as_str() {
                            "" => "0",
                            "unknown" => "-1",
                            _ => "1",
                        }
                        .to_string();
                    }
                    v
                })
                .collect()
        })
        .collect();
    Ok(match opts.format {
        ReportFormat::Json => output::json(base.json_key(), &cols, &cells),
        ReportFormat::Basic => {
            let layout = rows::Layout::from_options(
                opts.separator.as_deref(),
                opts.aligned,
                opts.noheadings,
                opts.nameprefixes,
                opts.unquoted,
                opts.rows,
            );
            rows::render(&layout, &cols, &cells)
        }
    })
}

/// The historical record behind a row of one of `hist_views`' dummy LVs.
fn hist_record<'a>(hist_views: &[VgView], r: &Row<'a>) -> Option<&'a lvmkit_metadata::model::HistoricalLv> {
    let v = r.vg?;
    if !hist_views.iter().any(|h| std::ptr::eq(h, v)) {
        return None;
    }
    let first = v.vg.lvs.len() - v.vg.historical_lvs.len();
    r.lv?.checked_sub(first).and_then(|k| v.vg.historical_lvs.get(k))
}

fn pv_display_name(r: &Row) -> String {
    match r.pv {
        Some(PvRef { scan: Some(s), .. }) => s.name().to_string(),
        Some(PvRef { scan: None, meta: Some(_) }) => "[unknown]".to_string(),
        _ => String::new(),
    }
}

fn vg_name<'a>(r: &Row<'a>) -> &'a str {
    r.vg.map_or("", |v| v.vg.name.as_str())
}

fn lv_bare_name<'a>(r: &Row<'a>) -> &'a str {
    match (r.vg, r.lv) {
        (Some(v), Some(i)) => v.vg.lvs[i].name.as_str(),
        _ => "",
    }
}

fn seg_start(r: &Row) -> u64 {
    match (r.vg, r.lv, r.seg) {
        (Some(v), Some(i), Some(s)) => v.vg.lvs[i].segments[s].start_extent,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(base: Base, spec: &[&str]) -> Vec<&'static str> {
        let specs: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        columns(base, &specs).unwrap().iter().map(|f| f.name).collect()
    }

    #[test]
    fn only_reports_with_lv_or_segment_fields_ask_the_kernel() {
        let opts = |fields: &[&str], sort: Option<&str>, select: Option<&str>| ReportOptions {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            sort: sort.map(str::to_string),
            select: select.map(str::to_string),
            ..ReportOptions::default()
        };
        let none = opts(&[], None, None);
        assert!(!needs_kernel(ReportKind::Vg, &none), "vgs");
        assert!(!needs_kernel(ReportKind::Pv, &none), "pvs");
        assert!(needs_kernel(ReportKind::Lv, &none), "lvs: lv_attr shows the kernel's state");
        assert!(needs_kernel(ReportKind::Pv, &opts(&["+lv_name"], None, None)), "pvs with an LV field");
        assert!(needs_kernel(ReportKind::Vg, &opts(&[], Some("lv_name"), None)), "vgs sorted by an LV field");
        assert!(
            needs_kernel(ReportKind::Pv, &opts(&[], None, Some("seg_size>0"))),
            "pvs selecting on a segment"
        );
        assert!(!needs_kernel(
            ReportKind::Vg,
            &opts(&["vg_name,vg_attr"], Some("vg_size"), Some("vg_name=x"))
        ));
    }

    #[test]
    fn field_aliases_follow_lvm2() {
        assert_eq!(
            names(Base::Lv, &["uuid,lvuuid,LV_UUID,lv_s_ize,name"]),
            ["lv_uuid", "lv_uuid", "lv_uuid", "lv_size", "lv_name"]
        );
        assert_eq!(
            names(Base::Pv, &["uuid,size,attr,free,fmt,name"]),
            ["pv_uuid", "pv_size", "pv_attr", "pv_free", "pv_fmt", "pv_name"]
        );
        assert_eq!(
            names(Base::Vg, &["extentsize,seqno,mda_free,VGNAME"]),
            ["vg_extent_size", "vg_seqno", "vg_mda_free", "vg_name"]
        );
        assert_eq!(names(Base::Seg, &["start,size"]), ["seg_start", "seg_size"]);
        assert_eq!(names(Base::PvSeg, &["start,size"]), ["pvseg_start", "pvseg_size"]);
        assert!(columns(Base::Lv, &["start".to_string()]).is_err());
        assert!(columns(Base::Lv, &["bogus".to_string()]).is_err());
    }

    #[test]
    fn plus_minus_and_replace() {
        assert_eq!(
            names(Base::Vg, &["+vg_uuid", "-pv_count,lv_count,snap_count"]),
            ["vg_name", "vg_attr", "vg_size", "vg_free", "vg_uuid"]
        );
        assert_eq!(names(Base::Lv, &["lv_name", "+lv_size"]), ["lv_name", "lv_size"]);
        assert_eq!(names(Base::Lv, &["lv_name", "lv_size"]), ["lv_size"]);
    }

    #[test]
    fn report_type_promotion() {
        let kind = |base: Base, s: &str| row_kind(base, &columns(base, &[s.to_string()]).unwrap());
        assert_eq!(kind(Base::Lv, "lv_name,chunk_size").unwrap(), RowKind::Seg);
        assert_eq!(kind(Base::Lv, "lv_name").unwrap(), RowKind::Lv);
        assert_eq!(kind(Base::Pv, "pv_name,lv_name").unwrap(), RowKind::PvSeg);
        assert_eq!(kind(Base::Vg, "vg_name,lv_name").unwrap(), RowKind::Lv);
        assert_eq!(kind(Base::Vg, "vg_name,pv_name").unwrap(), RowKind::Pv);
        assert_eq!(kind(Base::Vg, "vg_name,seg_size").unwrap(), RowKind::Seg);
        assert_eq!(kind(Base::Vg, "vg_name,pvseg_start").unwrap(), RowKind::PvSeg);
        assert_eq!(kind(Base::Pv, "pv_name,seg_size").unwrap(), RowKind::PvSeg);
        assert!(kind(Base::Lv, "lv_name,pv_name").is_err());
        assert!(kind(Base::Vg, "lv_name,pv_name").is_err());
        assert!(kind(Base::Vg, "pv_name,seg_size").is_err());
        assert!(kind(Base::Vg, "pvseg_start,lv_name").is_err());
        assert!(kind(Base::Seg, "pv_uuid").is_err());
    }

    #[test]
    fn lv_names() {
        assert_eq!(split_lv_name("vg"), Some(Target::vg("vg")));
        assert_eq!(split_lv_name("vg/lv"), Some(Target::lv("vg", "lv")));
        assert_eq!(split_lv_name("/dev/vg/lv"), Some(Target::lv("vg", "lv")));
        assert_eq!(split_lv_name("/dev/mapper/vg-lv"), Some(Target::lv("vg", "lv")));
        assert_eq!(split_lv_name("vg/lv/x"), None);
    }
}
