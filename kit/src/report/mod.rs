//! lvm2-compatible `pvs`, `vgs` and `lvs` reports.
//!
//! [`report`] returns what lvm2 2.03 prints on stdout for the same options on a system where
//! nothing is active and device-mapper is absent (activation columns show `X`/`unknown`).
//! Known differences from lvm2: every VG is shown, also foreign ones (lvm2 needs `--foreign`);
//! `pvs -a` lists only labelled PVs, not every scanned device; `lv_time` is printed in UTC.

mod attr;
mod fields;
mod layout;
mod output;
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
    /// Fields of objects that cannot share a row (lvm2: "Can't report LV and PV fields at the
    /// same time").
    #[error("can't report {0} at the same time")]
    IncompatibleFields(String),
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

fn resolve_list(base: Base, list: &str) -> Result<Vec<&'static Field>, ReportError> {
    list.split(',').filter(|s| !s.is_empty()).map(|n| find_field(base, n)).collect()
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

/// lvm2's report-type promotion: LV fields in pvs give PV-segment rows, segment fields in lvs
/// give segment rows, and so on.
fn row_kind(base: Base, cols: &[&Field]) -> Result<RowKind, ReportError> {
    let has = |o: Obj| cols.iter().any(|f| f.obj == o);
    let pv = has(Obj::Pv) || has(Obj::Label);
    let lv = has(Obj::Lv);
    let incompatible = || ReportError::IncompatibleFields("LV and PV fields".to_string());
    Ok(match base {
        Base::Pv => {
            if lv || has(Obj::Seg) || has(Obj::PvSeg) {
                RowKind::PvSeg
            } else {
                RowKind::Pv
            }
        }
        Base::PvSeg => RowKind::PvSeg,
        Base::Vg => {
            if has(Obj::PvSeg) {
                RowKind::PvSeg
            } else if lv && pv {
                return Err(incompatible());
            } else if has(Obj::Seg) {
                if pv { RowKind::PvSeg } else { RowKind::Seg }
            } else if lv {
                RowKind::Lv
            } else if pv {
                RowKind::Pv
            } else {
                RowKind::Vg
            }
        }
        Base::Lv | Base::Seg => {
            if pv || has(Obj::PvSeg) {
                return Err(incompatible());
            } else if has(Obj::Seg) || base == Base::Seg {
                RowKind::Seg
            } else {
                RowKind::Lv
            }
        }
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

/// Produce exactly what lvm2's `pvs`/`vgs`/`lvs` would print on stdout.
pub fn report(kind: ReportKind, opts: &ReportOptions, src: &Source) -> Result<String, ReportError> {
    let units = Units::parse(opts.units.as_deref(), opts.nosuffix)?;
    let base = Base::of(kind, opts.segments);
    let cols = columns(base, &opts.fields)?;
    let rk = row_kind(base, &cols)?;
    let views: Vec<VgView> = src.assembly.vgs.iter().map(|a| VgView::new(a, &src.scan)).collect();

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
            if by_pv_name {
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
            rows.sort_by(|a, b| vg_name(a).cmp(vg_name(b)));
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
            }
            if kind == ReportKind::Lv {
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
    let cells: Vec<Vec<String>> =
        rows.iter().map(|r| cols.iter().map(|f| (f.get)(&ctx, r)).collect()).collect();
    Ok(match opts.format {
        ReportFormat::Json => output::json(base.json_key(), &cols, &cells),
        ReportFormat::Basic => output::basic(&cols, &cells, !opts.noheadings, opts.separator.as_deref()),
    })
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
        assert!(kind(Base::Lv, "lv_name,pv_name").is_err());
        assert!(kind(Base::Vg, "lv_name,pv_name").is_err());
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
