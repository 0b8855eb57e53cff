//! lvm2's `-S/--select` and the typed values `-O/--sort` orders by, ported from lvm2 2.03.16's
//! `libdm/libdm-report.c` (selection parser `_parse_or_ex` … `_tok_value*`, matcher
//! `_compare_selection_field`, row order `_row_compare`) and the reserved values of
//! `lib/report/values.h`.
//!
//! Every field has lvm2's value type ([`Ty`], from `columns.h`): a selection compares the typed
//! value lvm2 keeps beside the printed text (sizes in 512-byte sectors, `-1`/blank numbers as the
//! reserved "undefined" value, the bare name of a hidden LV, sorted string lists), and the
//! parser accepts exactly lvm2's grammar, logging lvm2's words for each error.
//!
//! Not ported: lvm2's fuzzy time words for `lv_time` (`yesterday`, `2 hours ago`); formatted
//! dates and `@seconds` are. Times are UTC (lvmkit prints UTC; lvm2 uses the local zone).

use std::cmp::Ordering;

use super::fields::{Ctx, FIELDS, Field, Row};
use super::types::TYPES;
use super::units::Units;

/// lvm2's field value types (`DM_REPORT_FIELD_TYPE_*`); `Bin` is lvm2's `BIN`, a number shown
/// as a word or blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    /// String.
    Str,
    /// Number (`NUM`, `SNUM`).
    Num,
    /// Binary (a number 0/1, shown as a word; -1 = undefined).
    Bin,
    /// Size (sectors, a double).
    Size,
    /// Percent.
    Pct,
    /// Time (seconds since the epoch).
    Time,
    /// String list.
    List,
}

const T_STR: u32 = 1;
const T_NUM: u32 = 2;
const T_SIZE: u32 = 4;
const T_PCT: u32 = 8;
const T_LIST: u32 = 16;
const T_TIME: u32 = 32;

impl Ty {
    fn mask(self) -> u32 {
        match self {
            Ty::Str => T_STR,
            Ty::Num | Ty::Bin => T_NUM,
            Ty::Size => T_SIZE,
            Ty::Pct => T_PCT,
            Ty::List => T_LIST,
            Ty::Time => T_TIME,
        }
    }
}

/// The value type lvm2 gives field `name` (`selected` is a number).
pub(crate) fn ty_of(name: &str) -> Ty {
    if name == "selected" {
        return Ty::Num;
    }
    TYPES.iter().find(|(n, _)| *n == name).map_or(Ty::Str, |t| t.1)
}

/// lvm2's implicit `selected` field (in the table as `selected`): 1 when the row passes `-S`,
/// 0 when it does not (the row is then still shown).
pub(crate) fn is_selected(f: &Field) -> bool {
    f.name == "selected"
}

/// What a field name resolves to (lvm2's `_get_field`).
pub(crate) enum Lookup {
    /// A field lvmkit reports.
    Field(&'static Field),
    /// `help` / `?`.
    Help,
    /// No such field (or one lvmkit does not have).
    Unknown,
}

/// lvm2's `_get_field`: underscores ignored, case-insensitive, the report's prefix optional,
/// the implicit fields first and then lvm2's fields in lvm2's order, first match wins.
pub(crate) fn lookup(prefix: &str, name: &str) -> Lookup {
    let want: String = name.chars().filter(|&c| c != '_').collect();
    if want.is_empty() {
        return Lookup::Unknown;
    }
    let pfx = prefix.strip_suffix('_').unwrap_or(prefix);
    let same = |id: &str| {
        let id: String = id.chars().filter(|&c| c != '_').collect();
        id.eq_ignore_ascii_case(&want)
            || (id.len() >= pfx.len()
                && id.is_char_boundary(pfx.len())
                && id[..pfx.len()].eq_ignore_ascii_case(pfx)
                && id[pfx.len()..].eq_ignore_ascii_case(&want))
    };
    if same("selected") {
        return FIELDS.iter().find(|f| is_selected(f)).map_or(Lookup::Unknown, Lookup::Field);
    }
    if same("help") || same("?") {
        return Lookup::Help;
    }
    for (id, _) in TYPES {
        if same(id) {
            return FIELDS.iter().find(|f| f.name == *id).map_or(Lookup::Unknown, Lookup::Field);
        }
    }
    // A field lvmkit has that lvm2 2.03.16 does not list.
    FIELDS.iter().find(|f| same(f.name)).map_or(Lookup::Unknown, Lookup::Field)
}

/// The typed value lvm2 keeps beside a field's text (its `sort_value`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    /// A string (a hidden LV's bare name for `lv_name`).
    Str(String),
    /// A number; `u64::MAX` is lvm2's "undefined" (`-1`, blank).
    Num(u64),
    /// Sectors; blank is the "undefined" bit pattern (all ones, a NaN), `auto` is `f64::MAX`.
    Size(f64),
    /// Percent × 1 000 000; `u64::MAX` when blank.
    Pct(u64),
    /// Items, sorted.
    List(Vec<String>),
    /// Seconds since the epoch.
    Time(i64),
}

const UNDEF: u64 = u64::MAX;
const PERCENT_1: f64 = 1_000_000.0;
const PERCENT_100: u64 = 100_000_000;

/// The typed value of field `f` on `row`; `shown` is its text as printed without `--binary`.
pub(crate) fn value(f: &Field, ctx: &Ctx, row: &Row, shown: &str) -> Val {
    match ty_of(f.name) {
        Ty::Str => {
            if f.name == "lv_name" {
                if let Some(bare) = shown.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                    return Val::Str(bare.to_string());
                }
            }
            Val::Str(shown.to_string())
        }
        Ty::Num => Val::Num(if shown.is_empty() {
            UNDEF
        } else if let Ok(n) = shown.parse::<u64>() {
            n
        } else {
            // "-1", "unknown", "unmanaged": lvm2's reserved "undefined".
            shown.parse::<i64>().map_or(UNDEF, |n| n as u64)
        }),
        Ty::Bin => Val::Num(match shown {
            "" => 0,
            "unknown" | "-1" => UNDEF,
            "0" => 0,
            _ => 1,
        }),
        Ty::Size => Val::Size(match shown {
            "" if f.name == "origin_size" => 0.0,
            "" => f64::from_bits(UNDEF),
            "auto" => f64::MAX,
            _ => {
                let mut c = ctx.clone();
                c.units = Units::parse(Some("b"), true).unwrap_or_default();
                (f.get)(&c, row).trim().parse::<u64>().map_or(f64::from_bits(UNDEF), |b| b as f64 / 512.0)
            }
        }),
        Ty::Pct => Val::Pct(shown.parse::<f64>().map_or(UNDEF, |p| (p * PERCENT_1) as u64)),
        Ty::Time => Val::Time(parse_shown_time(shown).unwrap_or(0)),
        Ty::List => {
            let delim = if f.name == "seg_pe_ranges" { ' ' } else { ',' };
            let mut items: Vec<String> =
                if shown.is_empty() { vec![] } else { shown.split(delim).map(str::to_string).collect() };
            items.sort();
            Val::List(items)
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS +0000` (how lvmkit prints times) back to seconds.
fn parse_shown_time(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once(' ')?;
    let (time, _) = rest.split_once(' ')?;
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let days =
        lvmkit_metadata::time::days_from_civil(d[0], u32::try_from(d[1]).ok()?, u32::try_from(d[2]).ok()?);
    Some(days * 86400 + t[0] * 3600 + t[1] * 60 + t[2])
}

/// lvm2's `_row_compare` for one key: numbers, sizes (their bit patterns) and times as
/// unsigned 64-bit values, strings byte-wise. (lvm2 compares string lists by the bytes of a
/// pointer, an order it cannot repeat; lvmkit orders them by their text.)
pub(crate) fn sort_cmp(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.cmp(y),
        (Val::Size(x), Val::Size(y)) => x.to_bits().cmp(&y.to_bits()),
        (Val::Time(x), Val::Time(y)) => (*x as u64).cmp(&(*y as u64)),
        (Val::Str(x), Val::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        // `strcmp` over the value's bytes, up to the first zero byte.
        (Val::Pct(x), Val::Pct(y)) => {
            let cut = |v: &u64| {
                let b = v.to_le_bytes();
                let n = b.iter().position(|&c| c == 0).unwrap_or(8);
                b[..n].to_vec()
            };
            cut(x).cmp(&cut(y))
        }
        (Val::List(x), Val::List(y)) => x.join(",").cmp(&y.join(",")),
        _ => Ordering::Equal,
    }
}

// ------------------------------------------------------------ parser ----

// Comparison flags (`FLD_CMP_*`).
const CMP_EQUAL: u32 = 0x0020_0000;
const CMP_NOT: u32 = 0x0040_0000;
const CMP_GT: u32 = 0x0080_0000;
const CMP_LT: u32 = 0x0100_0000;
const CMP_REGEX: u32 = 0x0200_0000;
const CMP_NUMBER: u32 = 0x0400_0000;
const CMP_TIME: u32 = 0x0800_0000;

/// `_op_cmp`: longer operators before their prefixes.
const OP_CMP: &[(&str, u32)] = &[
    ("=~", CMP_REGEX),
    ("!~", CMP_REGEX | CMP_NOT),
    ("=", CMP_EQUAL),
    ("!=", CMP_NOT | CMP_EQUAL),
    (">=", CMP_NUMBER | CMP_TIME | CMP_GT | CMP_EQUAL),
    (">", CMP_NUMBER | CMP_TIME | CMP_GT),
    ("<=", CMP_NUMBER | CMP_TIME | CMP_LT | CMP_EQUAL),
    ("<", CMP_NUMBER | CMP_TIME | CMP_LT),
    ("since", CMP_TIME | CMP_GT | CMP_EQUAL),
    ("after", CMP_TIME | CMP_GT),
    ("until", CMP_TIME | CMP_LT | CMP_EQUAL),
    ("before", CMP_TIME | CMP_LT),
];

// Logical operators (`SEL_*`).
const SEL_AND: u32 = 0x2;
const SEL_OR: u32 = 0x4;
const SEL_NOT: u32 = 0x100;
const SEL_PS: u32 = 0x1000;
const SEL_PE: u32 = 0x2000;
const SEL_LS: u32 = 0x1_0000;
const SEL_LE: u32 = 0x2_0000;
const SEL_SLS: u32 = 0x4_0000;
const SEL_SLE: u32 = 0x8_0000;

const OP_LOG: &[(&str, u32)] = &[
    ("&&", SEL_AND),
    (",", SEL_AND),
    ("||", SEL_OR),
    ("#", SEL_OR),
    ("!", SEL_NOT),
    ("(", SEL_PS),
    (")", SEL_PE),
    ("[", SEL_LS),
    ("]", SEL_LE),
    ("{", SEL_SLS),
    ("}", SEL_SLE),
];

/// A parsed `-S` expression.
pub(crate) struct Selection {
    root: Node,
    /// Every field the expression names (they decide the row type, as lvm2's hidden fields do).
    pub fields: Vec<&'static Field>,
}

enum Node {
    Item(Box<Item>),
    And(Vec<Node>, bool),
    Or(Vec<Node>, bool),
}

impl std::fmt::Debug for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|x| x.name).collect();
        write!(f, "Selection({names:?})")
    }
}

impl Node {
    fn negate(&mut self) {
        match self {
            Node::Item(i) => i.not = true,
            Node::And(_, n) | Node::Or(_, n) => *n = true,
        }
    }
}

struct Item {
    field: &'static Field,
    flags: u32,
    v: Operand,
    /// Upper end of a range (a time given to the minute, day, …).
    v2: Option<Operand>,
    not: bool,
}

#[derive(Debug, Clone)]
enum Operand {
    Str(String),
    Num(u64),
    Size(f64),
    Time(i64),
    List(SelList),
    Regex(Rx),
}

#[derive(Debug, Clone)]
struct SelList {
    items: Vec<String>,
    /// `SEL_AND` or `SEL_OR`.
    kind: u32,
    /// `{…}`: a subset match.
    subset: bool,
}

/// A reserved value found in the selection (values.h).
#[derive(Clone, Copy)]
enum Reserved {
    Num(u64),
    Size(f64),
    Str(&'static str),
}

/// `(field or "" for the number type, strict, value, names)`, in values.h order.
struct ReservedDef {
    field: &'static str,
    strict: bool,
    value: Reserved,
    names: &'static [&'static str],
}

macro_rules! bin {
    ($f:literal, $($n:literal),+) => {
        [
            ReservedDef { field: $f, strict: false, value: Reserved::Num(1), names: &[$($n),+, "yes"] },
            ReservedDef { field: $f, strict: false, value: Reserved::Num(0), names: &[$($n),+, "no"] },
        ]
    };
}

fn reserved_defs() -> &'static [ReservedDef] {
    static DEFS: std::sync::OnceLock<Vec<ReservedDef>> = std::sync::OnceLock::new();
    DEFS.get_or_init(build_reserved)
}

fn build_reserved() -> Vec<ReservedDef> {
    let mut v = vec![ReservedDef {
        field: "",
        strict: true,
        value: Reserved::Num(UNDEF),
        names: &["-1", "unknown", "undefined", "undef"],
    }];
    let named =
        |field, value, names| ReservedDef { field, strict: false, value: Reserved::Str(value), names };
    let undef_str =
        |field| ReservedDef { field, strict: true, value: Reserved::Str(""), names: &["", "undefined"] };
    v.extend(bin!("pv_allocatable", "allocatable"));
    v.extend(bin!("pv_exported", "exported"));
    v.extend(bin!("pv_missing", "missing"));
    v.extend(bin!("pv_in_use", "used", "in use"));
    v.extend(bin!("pv_duplicate", "duplicate"));
    v.extend(bin!("vg_extendable", "extendable"));
    v.extend(bin!("vg_exported", "exported"));
    v.extend(bin!("vg_partial", "partial"));
    v.extend(bin!("vg_clustered", "clustered"));
    v.extend(bin!("vg_shared", "shared"));
    v.push(named("vg_permissions", "writeable", &["writeable", "rw", "read-write"]));
    v.push(named("vg_permissions", "read-only", &["read-only", "r", "ro"]));
    v.push(ReservedDef {
        field: "vg_mda_copies",
        strict: true,
        value: Reserved::Num(UNDEF),
        names: &["unmanaged"],
    });
    v.extend(bin!("lv_initial_image_sync", "initial image sync", "sync"));
    v.extend(bin!("lv_image_synced", "image synced", "synced"));
    v.extend(bin!("lv_merging", "merging"));
    v.extend(bin!("lv_converting", "converting"));
    v.extend(bin!("lv_allocation_locked", "allocation locked", "locked"));
    v.extend(bin!("lv_fixed_minor", "fixed minor", "fixed"));
    v.extend(bin!("lv_active_locally", "active locally", "active", "locally"));
    v.extend(bin!("lv_active_remotely", "active remotely", "active", "remotely"));
    v.extend(bin!("lv_active_exclusively", "active exclusively", "active", "exclusively"));
    v.extend(bin!("lv_merge_failed", "merge failed", "failed"));
    v.extend(bin!("lv_snapshot_invalid", "snapshot invalid", "invalid"));
    v.extend(bin!("lv_suspended", "suspended"));
    v.extend(bin!("lv_live_table", "live table present", "live table", "live"));
    v.extend(bin!("lv_inactive_table", "inactive table present", "inactive table", "inactive"));
    v.extend(bin!("lv_device_open", "open"));
    v.extend(bin!("lv_skip_activation", "skip activation", "skip"));
    v.extend(bin!("zero", "zero"));
    v.extend(bin!("lv_check_needed", "check needed", "needed"));
    v.extend(bin!("vdo_compression", "enabled"));
    v.extend(bin!("vdo_deduplication", "enabled"));
    v.extend(bin!("vdo_use_metadata_hints", "enabled"));
    v.extend(bin!("vdo_use_sparse_index", "enabled"));
    v.push(named("lv_permissions", "writeable", &["writeable", "rw", "read-write"]));
    v.push(named("lv_permissions", "read-only", &["read-only", "r", "ro"]));
    v.push(named(
        "lv_permissions",
        "read-only-override",
        &["read-only-override", "ro-override", "r-override", "R"],
    ));
    v.push(ReservedDef {
        field: "lv_read_ahead",
        strict: true,
        value: Reserved::Size(f64::MAX),
        names: &["auto"],
    });
    v.push(named("lv_when_full", "error", &["error", "error when full", "error if no space"]));
    v.push(named("lv_when_full", "queue", &["queue", "queue when full", "queue if no space"]));
    v.push(undef_str("lv_when_full"));
    v.push(undef_str("cache_policy"));
    v.push(undef_str("seg_monitor"));
    v.push(undef_str("lv_health_status"));
    v.push(undef_str("kernel_discards"));
    v.push(undef_str("vdo_write_policy"));
    v
}

/// A value to test against the strict reserved values.
#[derive(Clone, Copy)]
enum Probe<'a> {
    Num(u64),
    Size(f64),
    Str(&'a str),
}

/// Is `v` a strict (not "named") reserved value of `field` for a comparison of type `mask`
/// (lvm2's `_check_value_is_strictly_reserved`, without ranges: lvmkit has no range values)?
fn strictly_reserved(field: &str, mask: u32, v: Probe) -> bool {
    reserved_defs().iter().filter(|d| d.strict).any(|d| {
        let applies = if d.field.is_empty() { mask & T_NUM != 0 } else { d.field == field };
        applies
            && match (d.value, v) {
                (Reserved::Num(a), Probe::Num(b)) => mask == T_NUM && a == b,
                (Reserved::Size(a), Probe::Size(b)) => mask == T_SIZE && dbl_eq(a, b),
                (Reserved::Str(a), Probe::Str(b)) => mask == T_STR && a == b,
                _ => false,
            }
    })
}

struct Parser<'a> {
    s: &'a [u8],
    prefix: &'a str,
    /// "Now" for relative time words (seconds since the epoch).
    now: i64,
    log: Vec<String>,
    fields: Vec<&'static Field>,
}

/// C's `isspace` in the C locale.
pub(super) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }
    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.s[from.min(self.s.len())..]).into_owned()
    }
    fn slice(&self, a: usize, b: usize) -> String {
        String::from_utf8_lossy(&self.s[a..b]).into_owned()
    }
    fn skip_space(&self, mut i: usize) -> usize {
        while i < self.s.len() && is_space(self.s[i]) {
            i += 1;
        }
        i
    }
    fn err(&mut self, m: String) {
        self.log.push(m);
    }

    /// `_tok_op`: the first operator of `table` allowed by `expect` (0: any) at `i` after
    /// spaces; `(flags, end)`.
    fn tok_op(&self, table: &[(&str, u32)], i: usize, expect: u32) -> Option<(u32, usize)> {
        let i = self.skip_space(i);
        table
            .iter()
            .filter(|(_, f)| expect == 0 || f & expect != 0)
            .find(|(op, _)| self.s[i..].starts_with(op.as_bytes()))
            .map(|(op, f)| (*f, i + op.len()))
    }
    fn tok_log(&self, i: usize, expect: u32) -> Option<(u32, usize)> {
        self.tok_op(OP_LOG, i, expect)
    }

    /// `_get_and_skip_quote_char`.
    fn quote(&self, i: &mut usize) -> u8 {
        let c = self.at(*i);
        if c == b'"' || c == b'\'' {
            *i += 1;
            c
        } else {
            0
        }
    }

    /// `_tok_value_string`: `(begin, end, next)`; `None` after "Missing end quote.".
    fn tok_string(&mut self, mut i: usize, endchar: u8, end_flags: u32) -> Option<(usize, usize, usize)> {
        let begin = i;
        if endchar != 0 {
            while i < self.s.len() && self.s[i] != endchar {
                i += 1;
            }
            if i >= self.s.len() {
                self.err("Missing end quote.".into());
                return None;
            }
            return Some((begin, i, i + 1));
        }
        while i < self.s.len() {
            if self.tok_log(i, end_flags).is_some() || self.s[i] == b' ' {
                break;
            }
            i += 1;
        }
        Some((begin, i, i))
    }

    /// `_tok_value_number`: digits with at most one dot.
    fn tok_number(&self, mut i: usize) -> Option<(usize, usize)> {
        let begin = i;
        let mut dot = false;
        while i < self.s.len() {
            let c = self.s[i];
            if !dot && c == b'.' {
                dot = true;
            } else if !c.is_ascii_digit() {
                break;
            }
            i += 1;
        }
        if i == begin { None } else { Some((begin, i)) }
    }

    /// `_tok_field_name`.
    fn tok_field_name(&self, i: usize) -> Option<(usize, usize)> {
        let begin = self.skip_space(i);
        let mut e = begin;
        while e < self.s.len()
            && (self.s[e].is_ascii_alphanumeric() || self.s[e] == b'_' || self.s[e] == b'-')
        {
            e += 1;
        }
        if e == begin { None } else { Some((begin, e)) }
    }

    /// `_get_reserved`: a reserved name of this field or its type at `i`.
    fn get_reserved(&mut self, field: &str, mask: u32, i: usize) -> Option<(Reserved, usize)> {
        let mut j = i;
        let c = self.quote(&mut j);
        let (b, e, next) = self.tok_string(j, c, SEL_AND | SEL_OR | SEL_PE)?;
        let tok = &self.s[b..e];
        reserved_defs()
            .iter()
            .filter(|d| if d.field.is_empty() { mask & T_NUM != 0 } else { d.field == field })
            .find(|d| d.names.iter().any(|n| n.as_bytes() == tok))
            .map(|d| (d.value, next))
    }

    /// The value at `i` as lvm2's fuzzy time words (`yesterday`, `2 weeks ago`): the range and
    /// where the value ends; `None` for a formatted date or `@seconds` (its words' error
    /// logged, as lvm2 does before trying the formatted forms).
    fn fuzzy_time(&mut self, i: usize) -> Option<(i64, i64, usize)> {
        let logged = self.log.len();
        let mut j = i;
        let c = self.quote(&mut j);
        let tok = self.tok_string(j, c, SEL_AND | SEL_OR | SEL_PE);
        // Tokenising errors are the formatted path's to log.
        self.log.truncate(logged);
        let (b, e, next) = tok?;
        match super::fuzzy_time::parse(&self.s[b..e], self.now) {
            Ok(Some((t1, t2))) => Some((t1, t2, next)),
            Ok(None) => None,
            Err(m) => {
                self.err(m);
                None
            }
        }
    }

    fn syntax_error(&mut self, at: usize) {
        let t = self.text(at);
        self.err(format!("Selection syntax error at '{t}'."));
        self.err("Use 'help' for selection to get more help.".into());
    }

    /// `_parse_selection`: FIELD OP VALUE.
    fn selection(&mut self, s: usize) -> Option<(Node, usize)> {
        let Some((ws, we)) = self.tok_field_name(s) else {
            self.err("Expecting field name".into());
            self.syntax_error(s);
            return None;
        };
        let name = self.slice(ws, we);
        let field = match lookup(self.prefix, &name) {
            Lookup::Field(f) => f,
            Lookup::Help => {
                self.err(format!("Selection field is uncomparable: {name}."));
                self.syntax_error(s);
                return None;
            }
            Lookup::Unknown => {
                self.err(format!("Unrecognised selection field: {name}"));
                self.syntax_error(s);
                return None;
            }
        };
        let ty = ty_of(field.name);
        let tmask = ty.mask();
        let Some((mut flags, mut last)) = self.tok_op(OP_CMP, we, 0) else {
            let rest = self.text(we);
            self.err(format!("Unrecognised comparison operator: {rest}"));
            self.syntax_error(s);
            return None;
        };
        let mut reserved = None;
        let mut tval = TimeValue::default();
        let mut list = None;
        let mut factor: u64 = 0;
        let (vs, ve);
        if flags & CMP_REGEX != 0 {
            let i = self.skip_space(last);
            if i >= self.s.len() {
                self.err(format!("Regular expression expected for selection field {}", field.name));
                self.syntax_error(s);
                return None;
            }
            let c = match self.s[i] {
                b'(' => b')',
                b'{' => b'}',
                b'[' => b']',
                b'"' | b'\'' => self.s[i],
                _ => 0,
            };
            let Some((b, e, n)) =
                self.tok_string(if c != 0 { i + 1 } else { i }, c, SEL_AND | SEL_OR | SEL_PE)
            else {
                self.err(format!("Failed to parse regex value for selection field {}.", field.name));
                self.syntax_error(s);
                return None;
            };
            (vs, ve, last) = (b, e, n);
            flags |= T_STR;
        } else {
            if flags & CMP_NUMBER != 0 {
                if tmask & (T_NUM | T_SIZE | T_PCT | T_TIME) == 0 {
                    let rest = self.text(ws);
                    self.err(format!(
                        "Operator can be used only with number, size, time or percent fields: {rest}"
                    ));
                    self.syntax_error(s);
                    return None;
                }
            } else if flags & CMP_TIME != 0 && tmask & T_TIME == 0 {
                let rest = self.text(ws);
                self.err(format!("Operator can be used only with time fields: {rest}"));
                self.syntax_error(s);
                return None;
            }
            // `_tok_value`.
            let i = self.skip_space(last);
            // lv_time's reserved range value: lvm2's fuzzy time words (`_lv_time_handler`).
            let fuzzy = if ty == Ty::Time { self.fuzzy_time(i) } else { None };
            if let Some((t1, t2, next)) = fuzzy {
                tval = TimeValue { range: true, t1, t2 };
                flags &= !CMP_NUMBER;
                flags |= tmask;
                (vs, ve, last) = (i, next, next);
            } else if let Some((r, next)) = self.get_reserved(field.name, tmask, i) {
                reserved = Some(r);
                if tmask == T_TIME {
                    flags &= !CMP_NUMBER;
                } else if tmask == T_NUM {
                    flags &= !CMP_TIME;
                }
                flags |= tmask;
                (vs, ve, last) = (i, next, next);
            } else {
                match self.tok_value(field, ty, i, &mut flags, &mut factor, &mut tval, &mut list) {
                    Some((b, e, n)) => (vs, ve, last) = (b, e, n),
                    None => {
                        self.syntax_error(s);
                        return None;
                    }
                }
            }
        }
        let next = self.skip_space(last);
        let item = self.create(field, ty, self.slice(vs, ve), flags, reserved, factor, tval, list)?;
        if !self.fields.iter().any(|f| std::ptr::eq(*f, field)) {
            self.fields.push(field);
        }
        Some((Node::Item(Box::new(item)), next))
    }

    /// `_tok_value` for a value that is not reserved: `(begin, end, next)`.
    #[allow(clippy::too_many_arguments)]
    fn tok_value(
        &mut self,
        field: &Field,
        ty: Ty,
        i: usize,
        flags: &mut u32,
        factor: &mut u64,
        tval: &mut TimeValue,
        list: &mut Option<SelList>,
    ) -> Option<(usize, usize, usize)> {
        let id = field.name;
        match ty {
            Ty::Str => {
                let mut j = i;
                let c = self.quote(&mut j);
                let Some(r) = self.tok_string(j, c, SEL_AND | SEL_OR | SEL_PE) else {
                    self.err(format!("Failed to parse string value for selection field {id}."));
                    return None;
                };
                *flags |= T_STR;
                Some(r)
            }
            Ty::List => {
                let (next, l) = self.tok_list(id, i);
                let Some(l) = l else {
                    self.err(format!("Failed to parse string list value for selection field {id}."));
                    return None;
                };
                *list = Some(l);
                *flags |= T_LIST;
                Some((i, next, next))
            }
            Ty::Num | Ty::Bin | Ty::Size | Ty::Pct => {
                let Some((b, e)) = self.tok_number(i) else {
                    self.err(format!("Failed to parse numeric value for selection field {id}."));
                    return None;
                };
                let mut next = e;
                if self.at(e) == b'%' {
                    next += 1;
                    if ty != Ty::Pct {
                        let what = if ty == Ty::Size { "size" } else { "numeric" };
                        self.err(format!(
                            "Found percent value but {what} value expected for selection field {id}."
                        ));
                        return None;
                    }
                } else if let Some(f) = unit_factor(self.at(e)) {
                    *factor = f;
                    next = e + 1;
                    if ty != Ty::Size {
                        let what = if ty == Ty::Pct { "percent" } else { "numeric" };
                        self.err(format!(
                            "Found size unit specifier but {what} value expected for selection field {id}."
                        ));
                        return None;
                    }
                } else if ty == Ty::Size {
                    *factor = 1024 * 1024;
                }
                *flags |= ty.mask();
                *flags &= !CMP_TIME;
                Some((b, e, next))
            }
            Ty::Time => {
                let Some(r) = self.tok_time(i, tval) else {
                    self.err(format!("Failed to parse time value for selection field {id}."));
                    return None;
                };
                *flags |= T_TIME;
                *flags &= !CMP_NUMBER;
                Some(r)
            }
        }
    }

    /// `_tok_value_string_list`: `(next, list)`.
    fn tok_list(&mut self, id: &str, s: usize) -> (usize, Option<SelList>) {
        let failed =
            |p: &mut Self| p.err(format!("Failed to parse string list value for selection field {id}."));
        let Some((open, _)) = self.tok_log(s, SEL_LS | SEL_SLS) else {
            let mut j = s;
            let c = self.quote(&mut j);
            let Some((b, e, n)) = self.tok_string(j, c, SEL_AND | SEL_OR | SEL_PE) else {
                failed(self);
                return (s, None);
            };
            return (n, Some(SelList { items: vec![self.slice(b, e)], kind: SEL_OR, subset: false }));
        };
        let expected = if open == SEL_LS { SEL_LE } else { SEL_SLE };
        let ops = SEL_LE | SEL_SLE | SEL_AND | SEL_OR;
        let mut kind = 0;
        let mut items = Vec::new();
        let mut hit = 0;
        let mut i = s + 1;
        while i < self.s.len() {
            i = self.skip_space(i);
            let c = self.quote(&mut i);
            let Some((b, e, n)) = self.tok_string(i, c, ops) else {
                failed(self);
                return (i, None);
            };
            i = self.skip_space(n);
            let Some((h, tmp)) = self.tok_log(i, ops) else {
                self.err("Invalid operator in selection list.".into());
                return (i, None);
            };
            hit = h;
            let end = h & (SEL_LE | SEL_SLE) != 0;
            if end && h != expected {
                let want = if expected == SEL_LE { "]" } else { "}" };
                self.err(format!("List ended with incorrect character, expecting '{want}'."));
                return (i, None);
            }
            if kind != 0 {
                if !end && kind & h == 0 {
                    self.err("Only one type of logical operator allowed in selection list at a time.".into());
                    return (i, None);
                }
            } else if end {
                kind = if expected == SEL_LE { SEL_AND } else { SEL_OR };
            } else {
                kind = h;
            }
            items.push(self.slice(b, e));
            i = tmp;
            if end {
                break;
            }
        }
        if hit & (SEL_LE | SEL_SLE) == 0 {
            self.err(format!("Missing list end for selection field {id}"));
            return (i, None);
        }
        items.sort();
        (i, Some(SelList { items, kind, subset: expected == SEL_SLE }))
    }

    /// `_tok_value_time`: `(begin, end, next)`.
    fn tok_time(&mut self, i: usize, tval: &mut TimeValue) -> Option<(usize, usize, usize)> {
        let i = self.skip_space(i);
        if self.at(i) == b'@' {
            let (b, e) = self.tok_number(i + 1)?;
            let digits: String = self.slice(b, e).chars().take_while(char::is_ascii_digit).collect();
            let t = digits.parse::<u64>().ok()?;
            *tval = TimeValue { range: false, t1: t as i64, t2: 0 };
            return Some((b, e, e));
        }
        let mut j = i;
        let c = self.quote(&mut j);
        let (b, e, n) = self.tok_string(j, c, SEL_AND | SEL_OR | SEL_PE)?;
        let text = self.s[b..e].to_vec();
        let (t, msgs) = parse_formatted_date_time(&text);
        self.log.extend(msgs);
        *tval = t?;
        Some((b, e, n))
    }

    /// `_create_field_selection`.
    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        field: &'static Field,
        ty: Ty,
        text: String,
        flags: u32,
        reserved: Option<Reserved>,
        factor: u64,
        tval: TimeValue,
        list: Option<SelList>,
    ) -> Option<Item> {
        let id = field.name;
        let tmask = ty.mask();
        if tmask & flags & 0x3f == 0 {
            self.err(format!("dm_report: incompatible comparison type for selection field {id}"));
            return None;
        }
        let mut v2 = None;
        let v = if flags & CMP_REGEX != 0 {
            match Rx::compile(text.as_bytes()) {
                Ok(r) => Operand::Regex(r),
                Err(m) => {
                    self.log.extend(m);
                    self.err(format!("dm_report: failed to create regex matcher for selection field {id}"));
                    return None;
                }
            }
        } else {
            match tmask {
                T_STR => match reserved {
                    Some(Reserved::Str(r)) => Operand::Str(r.to_string()),
                    _ => {
                        if strictly_reserved(id, T_STR, Probe::Str(&text)) {
                            self.err(format!("String value {text} found in selection is reserved."));
                            return None;
                        }
                        Operand::Str(text)
                    }
                },
                T_NUM => match reserved {
                    Some(Reserved::Num(n)) => Operand::Num(n),
                    _ => {
                        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
                        let n = if digits.is_empty() {
                            0
                        } else {
                            match digits.parse::<u64>() {
                                Ok(n) => n,
                                Err(_) => {
                                    self.err(format!(
                                        "Field selection value {text} out of supported range for field {id}."
                                    ));
                                    return None;
                                }
                            }
                        };
                        if strictly_reserved(id, T_NUM, Probe::Num(n)) {
                            self.err(format!("Numeric value {n} found in selection is reserved."));
                            return None;
                        }
                        Operand::Num(n)
                    }
                },
                T_SIZE => match reserved {
                    Some(Reserved::Size(d)) => Operand::Size(d),
                    _ => {
                        let mut d: f64 = text.parse().unwrap_or(0.0);
                        if factor != 0 {
                            d *= factor as f64;
                        }
                        d /= 512.0;
                        if strictly_reserved(id, T_SIZE, Probe::Size(d)) {
                            self.err(format!("Size value {d:.6} found in selection is reserved."));
                            return None;
                        }
                        Operand::Size(d)
                    }
                },
                T_PCT => match reserved {
                    Some(Reserved::Num(n)) => Operand::Num(n),
                    _ => {
                        let d: f64 = text.parse().unwrap_or(0.0);
                        if !(0.0..=100.0).contains(&d) {
                            self.err(format!(
                                "Field selection value {text} out of supported range for field {id}."
                            ));
                            return None;
                        }
                        Operand::Num((PERCENT_1 * d) as i32 as u64)
                    }
                },
                T_LIST => {
                    Operand::List(list.unwrap_or(SelList { items: vec![], kind: SEL_OR, subset: false }))
                }
                _ => {
                    if tval.range {
                        v2 = Some(Operand::Time(tval.t2));
                    }
                    Operand::Time(tval.t1)
                }
            }
        };
        Some(Item { field, flags, v, v2, not: false })
    }

    /// `_parse_ex`.
    fn ex(&mut self, s: usize) -> Option<(Node, usize)> {
        match self.tok_log(s, SEL_NOT | SEL_PS) {
            Some((SEL_NOT, next)) => {
                let Some((_, tmp)) = self.tok_log(next, SEL_PS) else {
                    let t = self.text(next);
                    self.err(format!("Syntax error: left parenthesis expected at '{t}'"));
                    return None;
                };
                let (mut n, next) = self.or_ex(tmp)?;
                n.negate();
                let Some((_, tmp)) = self.tok_log(next, SEL_PE) else {
                    let t = self.text(next);
                    self.err(format!("Syntax error: right parenthesis expected at '{t}'"));
                    return None;
                };
                Some((n, tmp))
            }
            Some((_, next)) => {
                let (n, tmp) = self.or_ex(next)?;
                let Some((_, next)) = self.tok_log(tmp, SEL_PE) else {
                    let t = self.text(self.skip_space(tmp));
                    self.err(format!("Syntax error: right parenthesis expected at '{t}'"));
                    return None;
                };
                Some((n, next))
            }
            None => {
                let s = self.skip_space(s);
                self.selection(s)
            }
        }
    }

    /// `_parse_and_ex`.
    fn and_ex(&mut self, s: usize) -> Option<(Node, usize)> {
        let mut set = Vec::new();
        let mut at = s;
        loop {
            let (n, next) = self.ex(at)?;
            set.push(n);
            match self.tok_log(next, SEL_AND) {
                Some((_, tmp)) => at = tmp,
                None if set.len() == 1 => return Some((set.pop().expect("one"), next)),
                None => return Some((Node::And(set, false), next)),
            }
        }
    }

    /// `_parse_or_ex`.
    fn or_ex(&mut self, s: usize) -> Option<(Node, usize)> {
        let mut set = Vec::new();
        let mut at = s;
        loop {
            let (n, next) = self.and_ex(at)?;
            set.push(n);
            match self.tok_log(next, SEL_OR) {
                Some((_, tmp)) => at = tmp,
                None if set.len() == 1 => return Some((set.pop().expect("one"), next)),
                None => return Some((Node::Or(set, false), next)),
            }
        }
    }
}

/// A unit letter after a number (`dm_units_to_factor` without a leading number): bytes per
/// unit; `h`/`r` count as bytes, as in lvm2.
fn unit_factor(c: u8) -> Option<u64> {
    let k: u64 = 1024;
    let d: u64 = 1000;
    Some(match c {
        b'h' | b'H' | b'r' | b'R' | b'b' | b'B' => 1,
        b's' | b'S' => 512,
        b'k' => k,
        b'm' => k.pow(2),
        b'g' => k.pow(3),
        b't' => k.pow(4),
        b'p' => k.pow(5),
        b'e' => k.pow(6),
        b'K' => d,
        b'M' => d.pow(2),
        b'G' => d.pow(3),
        b'T' => d.pow(4),
        b'P' => d.pow(5),
        b'E' => d.pow(6),
        _ => return None,
    })
}

/// Parse `-S`: lvm2's selection, or the lines lvm2 logs for it. `prefix` is the report's field
/// prefix (`lv_` for lvs). Empty and `all` select everything.
pub(crate) fn parse(prefix: &str, text: &str, now: i64) -> Result<Option<Selection>, Vec<String>> {
    if text.is_empty() || text.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let mut p = Parser { s: text.as_bytes(), prefix, now, log: Vec::new(), fields: Vec::new() };
    let Some((root, fin)) = p.or_ex(0) else { return Err(p.log) };
    let next = p.skip_space(fin);
    if next < p.s.len() {
        let t = p.text(next);
        p.err("Expecting logical operator".into());
        p.err(format!("Selection syntax error at '{t}'."));
        p.err("Use 'help' for selection to get more help.".into());
        return Err(p.log);
    }
    Ok(Some(Selection { root, fields: p.fields }))
}

// ------------------------------------------------------------ matcher ----

fn dbl_eq(a: f64, b: f64) -> bool {
    (a - b).abs() < f64::EPSILON
}
fn dbl_gt(a: f64, b: f64) -> bool {
    a > b && !dbl_eq(a, b)
}
fn dbl_lt(a: f64, b: f64) -> bool {
    a < b && !dbl_eq(a, b)
}

impl Selection {
    /// Does the row pass? `val` gives a field's typed value on the row.
    pub(crate) fn matches(&self, val: &mut dyn FnMut(&'static Field) -> Val) -> bool {
        check(&self.root, val)
    }
}

fn check(n: &Node, val: &mut dyn FnMut(&'static Field) -> Val) -> bool {
    match n {
        Node::Item(i) => {
            let r = compare(i, &val(i.field));
            if i.not { !r } else { r }
        }
        Node::And(set, not) => {
            let r = set.iter().all(|n| check(n, val));
            if *not { !r } else { r }
        }
        Node::Or(set, not) => {
            let r = set.iter().any(|n| check(n, val));
            if *not { !r } else { r }
        }
    }
}

const CMP_MASK: u32 = 0x0FF0_0000;

fn compare(i: &Item, v: &Val) -> bool {
    if let Operand::Regex(rx) = &i.v {
        let s = match v {
            Val::Str(s) => s.as_str(),
            _ => "",
        };
        let m = rx.is_match(s.as_bytes());
        return if i.flags & CMP_NOT != 0 { !m } else { m };
    }
    let op = i.flags & CMP_MASK;
    match (v, &i.v) {
        (Val::Pct(x), Operand::Num(_)) => *x <= PERCENT_100 && cmp_int(i, *x, op),
        (Val::Num(x), Operand::Num(_)) => cmp_int(i, *x, op),
        (Val::Size(x), Operand::Size(_)) => cmp_double(i, *x, op),
        (Val::Str(x), Operand::Str(s)) => match op {
            CMP_EQUAL => x == s,
            _ => x != s,
        },
        (Val::List(x), Operand::List(l)) => {
            let r = if l.kind & SEL_AND != 0 {
                if l.subset { list_subset_all(x, &l.items) } else { list_strict_all(x, &l.items) }
            } else {
                list_any(x, &l.items)
            };
            if i.flags & CMP_NOT != 0 { !r } else { r }
        }
        (Val::Time(x), Operand::Time(t1)) => {
            let t2 = match i.v2 {
                Some(Operand::Time(t)) => Some(t),
                _ => None,
            };
            cmp_time(i, *x, *t1, t2, op)
        }
        _ => false,
    }
}

fn sel_num(o: &Operand) -> u64 {
    match o {
        Operand::Num(n) => *n,
        _ => 0,
    }
}

fn num_reserved(i: &Item, val: u64) -> bool {
    let mask = T_NUM;
    strictly_reserved(i.field.name, mask, Probe::Num(val))
        || strictly_reserved(i.field.name, mask, Probe::Num(sel_num(&i.v)))
}

/// `_cmp_field_int`.
fn cmp_int(i: &Item, val: u64, op: u32) -> bool {
    let sel1 = sel_num(&i.v);
    let range = i.v2.is_some();
    let sel2 = i.v2.as_ref().map_or(0, sel_num);
    match op {
        CMP_EQUAL => {
            if range {
                val >= sel1 && val <= sel2
            } else {
                val == sel1
            }
        }
        x if x == CMP_NOT | CMP_EQUAL => {
            if range {
                !(val >= sel1 && val <= sel2)
            } else {
                val != sel1
            }
        }
        x if x == CMP_NUMBER | CMP_GT => !num_reserved(i, val) && if range { val > sel2 } else { val > sel1 },
        x if x == CMP_NUMBER | CMP_GT | CMP_EQUAL => !num_reserved(i, val) && val >= sel1,
        x if x == CMP_NUMBER | CMP_LT => !num_reserved(i, val) && val < sel1,
        x if x == CMP_NUMBER | CMP_LT | CMP_EQUAL => {
            !num_reserved(i, val) && if range { val <= sel2 } else { val <= sel1 }
        }
        _ => false,
    }
}

/// `_cmp_field_double`.
fn cmp_double(i: &Item, val: f64, op: u32) -> bool {
    let sel1 = match i.v {
        Operand::Size(d) => d,
        _ => 0.0,
    };
    let reserved = || {
        strictly_reserved(i.field.name, T_SIZE, Probe::Size(val))
            || strictly_reserved(i.field.name, T_SIZE, Probe::Size(sel1))
    };
    match op {
        CMP_EQUAL => dbl_eq(val, sel1),
        x if x == CMP_NOT | CMP_EQUAL => !dbl_eq(val, sel1),
        x if x == CMP_NUMBER | CMP_GT => !reserved() && dbl_gt(val, sel1),
        x if x == CMP_NUMBER | CMP_GT | CMP_EQUAL => !reserved() && (dbl_gt(val, sel1) || dbl_eq(val, sel1)),
        x if x == CMP_NUMBER | CMP_LT => !reserved() && dbl_lt(val, sel1),
        x if x == CMP_NUMBER | CMP_LT | CMP_EQUAL => !reserved() && (dbl_lt(val, sel1) || dbl_eq(val, sel1)),
        _ => false,
    }
}

/// `_cmp_field_time` (with lvm2's `!=` on a range: true inside the range).
fn cmp_time(_i: &Item, val: i64, sel1: i64, sel2: Option<i64>, op: u32) -> bool {
    let range = sel2.is_some();
    let sel2 = sel2.unwrap_or(0);
    match op {
        CMP_EQUAL => {
            if range {
                val >= sel1 && val <= sel2
            } else {
                val == sel1
            }
        }
        x if x == CMP_NOT | CMP_EQUAL => {
            if range {
                val >= sel1 && val <= sel2
            } else {
                val != sel1
            }
        }
        x if x == CMP_TIME | CMP_GT => {
            if range {
                val > sel2
            } else {
                val > sel1
            }
        }
        x if x == CMP_TIME | CMP_GT | CMP_EQUAL => val >= sel1,
        x if x == CMP_TIME | CMP_LT => val < sel1,
        x if x == CMP_TIME | CMP_LT | CMP_EQUAL => {
            if range {
                val <= sel2
            } else {
                val <= sel1
            }
        }
        _ => false,
    }
}

/// `[a,b]`: the same items.
fn list_strict_all(val: &[String], sel: &[String]) -> bool {
    if val.is_empty() {
        return sel.len() == 1 && sel[0].is_empty();
    }
    val == sel
}

/// `{a,b}`: every selected item is among the value's.
fn list_subset_all(val: &[String], sel: &[String]) -> bool {
    if val.is_empty() {
        return sel.len() == 1 && sel[0].is_empty();
    }
    let mut last_found = 0;
    let mut r = false;
    for s in sel {
        r = false;
        for (i, v) in val.iter().enumerate().skip(last_found) {
            if v == s {
                last_found = i;
                r = true;
            }
        }
        if !r {
            break;
        }
    }
    r
}

/// `[a||b]`, `{a}` or a bare item: any selected item is among the value's.
fn list_any(val: &[String], sel: &[String]) -> bool {
    if val.is_empty() {
        return sel.iter().any(String::is_empty);
    }
    sel.iter().any(|s| val.contains(s))
}

// ------------------------------------------------------------ times ----

#[derive(Clone, Copy, Debug, Default)]
struct TimeValue {
    range: bool,
    t1: i64,
    t2: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Range {
    None,
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Year,
}

/// `struct tm` with the fields lvm2 fills (`year` since 1900, `mon` 0-based; `wday` 0 =
/// Sunday). Shared with the fuzzy time words (`fuzzy_time.rs`).
#[derive(Clone, Copy)]
pub(super) struct Tm {
    pub(super) year: i64,
    pub(super) mon: i64,
    pub(super) mday: i64,
    pub(super) hour: i64,
    pub(super) min: i64,
    pub(super) sec: i64,
    pub(super) wday: i64,
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// lvm2's `_get_days_in_month(month, year)` (1-based month). The fuzzy time words call it
/// with `tm_year` (years since 1900), as lvm2 does.
pub(super) fn days_in_month(month: i64, year: i64) -> i64 {
    const DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    match month {
        2 if is_leap(year) => 29,
        1..=12 => DAYS[(month - 1) as usize],
        // lvm2 calls it with a 0-based month and reads before its table for January.
        _ => 31,
    }
}

/// `strtol(s, &end, 10)`: `(value, end)`; `end == i` when nothing was converted.
pub(super) fn strtol(s: &[u8], i: usize) -> (i64, usize) {
    let mut j = i;
    while j < s.len() && is_space(s[j]) {
        j += 1;
    }
    let mut neg = false;
    if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
        neg = s[j] == b'-';
        j += 1;
    }
    let d0 = j;
    let mut v: i64 = 0;
    while j < s.len() && s[j].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add(i64::from(s[j] - b'0'));
        j += 1;
    }
    if j == d0 { (0, i) } else { (if neg { -v } else { v }, j) }
}

fn skip_sp(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    i
}

/// `_parse_formatted_date_time` (ISO 8601 date, optional time and zone), in UTC; lvm2's log
/// lines come back too.
fn parse_formatted_date_time(s: &[u8]) -> (Option<TimeValue>, Vec<String>) {
    let mut log = Vec::new();
    let r = (|| {
        let mut tm = Tm { year: -1, mon: -1, mday: -1, hour: -1, min: -1, sec: -1, wday: -1 };
        let mut range = Range::None;
        // _get_date
        let mut i = 0;
        if !s.first().is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (mut n1, mut end) = strtol(s, i);
        let (mut n2, mut n3) = (-1i64, -1i64);
        let mut len: i64 = 0;
        if s.get(end) == Some(&b'-') {
            len += 4 - (end - i) as i64;
            i = end + 1;
            if s.get(i).is_some_and(u8::is_ascii_digit) {
                (n2, end) = strtol(s, i);
                len += 2 - (end - i) as i64;
                if s.get(end) == Some(&b'-') {
                    i = end + 1;
                    (n3, end) = strtol(s, i);
                    len += 2 - (end as i64 - i as i64);
                }
            }
        }
        len += end as i64;
        if n3 == -1 {
            if n2 == -1 {
                match len {
                    4 => {
                        range = Range::Year;
                        n2 = 1;
                        n3 = 1;
                    }
                    6 => {
                        range = Range::Month;
                        n3 = 1;
                        n2 = n1 % 100;
                        n1 /= 100;
                    }
                    8 => {
                        range = Range::Day;
                        n3 = n1 % 100;
                        n2 = (n1 / 100) % 100;
                        n1 /= 10000;
                    }
                    _ => {
                        log.push("Incorrect date format.".to_string());
                        return None;
                    }
                }
            } else if len == 7 {
                range = Range::Month;
                n3 = 1;
            } else {
                log.push("Incorrect date format.".to_string());
                return None;
            }
        }
        if !(1..=12).contains(&n2) {
            log.push("Specified month out of range.".to_string());
            return None;
        }
        if n3 < 1 || n3 > days_in_month(n2, n1) {
            log.push("Specified day out of range.".to_string());
            return None;
        }
        if range == Range::None {
            range = Range::Day;
        }
        tm.year = n1 - 1900;
        tm.mon = n2 - 1;
        tm.mday = n3;
        let mut p = skip_sp(s, end);

        // _get_time
        if !s.get(p).is_some_and(u8::is_ascii_digit) {
            tm.hour = 0;
            tm.min = 0;
            tm.sec = 0;
            p = skip_sp(s, p);
        } else {
            let start = p;
            let mut i = p;
            let (mut n1, mut end) = strtol(s, i);
            let (mut n2, mut n3) = (-1i64, -1i64);
            let mut len: i64 = 0;
            if s.get(end) == Some(&b':') {
                len += 2 - (end - i) as i64;
                i = end + 1;
                if s.get(i).is_some_and(u8::is_ascii_digit) {
                    (n2, end) = strtol(s, i);
                    len += 2 - (end - i) as i64;
                    if s.get(end) == Some(&b':') {
                        i = end + 1;
                        (n3, end) = strtol(s, i);
                        len += 2 - (end as i64 - i as i64);
                    }
                }
            }
            len += (end - start) as i64;
            let mut tr = Range::None;
            if n3 == -1 {
                if n2 == -1 {
                    match len {
                        2 => {
                            tr = Range::Hour;
                            n2 = 0;
                            n3 = 0;
                        }
                        4 => {
                            tr = Range::Minute;
                            n3 = 0;
                            n2 = n1 % 100;
                            n1 /= 100;
                        }
                        6 => {
                            tr = Range::Second;
                            n3 = n1 % 100;
                            n2 = (n1 / 100) % 100;
                            n1 /= 10000;
                        }
                        _ => {
                            log.push("Incorrect time format.".to_string());
                            return None;
                        }
                    }
                } else if len == 5 {
                    tr = Range::Minute;
                    n3 = 0;
                } else {
                    log.push("Incorrect time format.".to_string());
                    return None;
                }
            }
            if !(0..=23).contains(&n1) {
                log.push("Specified hours out of range.".to_string());
                return None;
            }
            if !(0..=60).contains(&n2) {
                log.push("Specified minutes out of range.".to_string());
                return None;
            }
            if !(0..=60).contains(&n3) {
                log.push("Specified seconds out of range.".to_string());
                return None;
            }
            if range != Range::Day {
                log.push("Full date specification needed.".to_string());
                return None;
            }
            tm.hour = n1;
            tm.min = n2;
            tm.sec = n3;
            range = tr;
            p = skip_sp(s, end);
        }

        // _get_tz
        let mut offset: i64 = 0;
        let mut tz = false;
        let mut q = p;
        let mut sign = 1;
        let mut has_tz = true;
        if !s.get(q).is_some_and(u8::is_ascii_digit) {
            match s.get(q) {
                Some(b'+') => q += 1,
                Some(b'-') => {
                    sign = -1;
                    q += 1;
                }
                _ => has_tz = false,
            }
        }
        if has_tz {
            let (mut n1, mut end) = strtol(s, q);
            let mut n2 = -1i64;
            let mut len: i64 = 0;
            let mut i = q;
            if s.get(end) == Some(&b':') {
                len = 2 - (end - i) as i64;
                i = end + 1;
                if s.get(i).is_some_and(u8::is_ascii_digit) {
                    (n2, end) = strtol(s, i);
                    len = 2 - (end - i) as i64;
                }
            }
            len += end as i64 - i as i64;
            if n2 == -1 {
                match len {
                    2 => n2 = 0,
                    4 => {
                        n2 = n1 % 100;
                        n1 /= 100;
                    }
                    _ => return None,
                }
            }
            if !(0..=60).contains(&n2) || !(0..=14).contains(&n1) {
                return None;
            }
            offset = sign * (n1 * 3600 + n2 * 60);
            tz = true;
            p = skip_sp(s, end);
        } else {
            p = skip_sp(s, q);
        }
        if p < s.len() {
            return None;
        }

        // _get_final_time
        let mut up = tm;
        let mut step = range;
        loop {
            match step {
                Range::Second if up.sec < 59 => up.sec += 1,
                Range::Second => {
                    step = Range::Minute;
                    continue;
                }
                Range::Minute if up.min < 59 => up.min += 1,
                Range::Minute => {
                    step = Range::Hour;
                    continue;
                }
                Range::Hour if up.hour < 23 => up.hour += 1,
                Range::Hour => {
                    step = Range::Day;
                    continue;
                }
                // lvm2 passes the 0-based month and the year - 1900 here.
                Range::Day if up.mday < days_in_month(up.mon, up.year) => up.mday += 1,
                Range::Day => {
                    step = Range::Month;
                    continue;
                }
                Range::Month if up.mon < 11 => up.mon += 1,
                Range::Month => {
                    step = Range::Year;
                    continue;
                }
                Range::Year => up.year += 1,
                Range::None => {}
            }
            break;
        }
        let mut t1 = mktime_utc(&tm);
        let mut t2 = mktime_utc(&up) - 1;
        if tz {
            t1 -= offset;
            t2 -= offset;
        }
        Some(TimeValue { range: range != Range::None, t1, t2 })
    })();
    (r, log)
}

/// `mktime` in UTC, normalising out-of-range fields as mktime does (`wday` is ignored).
pub(super) fn mktime_utc(tm: &Tm) -> i64 {
    let year = 1900 + tm.year + tm.mon.div_euclid(12);
    let mon = tm.mon.rem_euclid(12);
    let days = lvmkit_metadata::time::days_from_civil(year, (mon + 1) as u32, 1) + tm.mday - 1;
    days * 86400 + tm.hour * 3600 + tm.min * 60 + tm.sec
}

// ------------------------------------------------------------ regex ----

/// lvm2's own regular expressions (`libdm/regex`): `.`, `[…]`, `[^…]`, `*`, `+`, `?`, `|`,
/// `(…)`, `^`, `$`, `\` escapes; unanchored, matched against the string between a start and
/// an end marker.
#[derive(Debug, Clone)]
pub(crate) enum Rx {
    Set(Box<[bool; 256]>),
    Cat(Box<Rx>, Box<Rx>),
    Or(Box<Rx>, Box<Rx>),
    Star(Box<Rx>),
    Plus(Box<Rx>),
    Quest(Box<Rx>),
}

const HAT: u8 = 0x2;
const DOLLAR: u8 = 0x3;

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    Set,
    Sym(u8),
    End,
    Err,
}

struct RxParser<'a> {
    s: &'a [u8],
    at: usize,
    tok: Tok,
    set: [bool; 256],
    log: Vec<String>,
}

impl RxParser<'_> {
    /// `_rx_get_token`.
    fn next(&mut self) {
        let s = self.s;
        let mut p = self.at;
        if p >= s.len() {
            self.tok = Tok::End;
            return;
        }
        match s[p] {
            b'[' => {
                p += 1;
                let neg = s.get(p) == Some(&b'^');
                if neg {
                    self.set = [true; 256];
                    self.set[0] = false;
                    p += 1;
                } else {
                    self.set = [false; 256];
                }
                let mut lc: u8 = 0;
                let mut range = false;
                while p < s.len() && s[p] != b']' {
                    let c;
                    if s[p] == b'\\' {
                        p += 1;
                        c = match s.get(p) {
                            Some(b'n') => b'\n',
                            Some(b'r') => b'\r',
                            Some(b't') => b'\t',
                            Some(&x) => x,
                            None => 0,
                        };
                    } else if s[p] == b'-' && lc != 0 {
                        range = true;
                        p += 1;
                        if p >= s.len() {
                            self.log.push("Incomplete rangespecification".into());
                            self.tok = Tok::Err;
                            return;
                        }
                        c = s[p];
                    } else {
                        c = s[p];
                    }
                    if range {
                        let (a, b) = if lc > c { (c, lc) } else { (lc, c) };
                        for x in a..=b {
                            self.set[x as usize] = !neg;
                        }
                        range = false;
                    } else {
                        self.set[c as usize] = !neg;
                    }
                    p += 1;
                    lc = c;
                }
                if p >= s.len() {
                    self.tok = Tok::Err;
                    return;
                }
                self.tok = Tok::Set;
                self.at = p + 1;
            }
            c @ (b'(' | b')' | b'*' | b'+' | b'?' | b'|') => {
                self.tok = Tok::Sym(c);
                self.at = p + 1;
            }
            b'^' => self.single(HAT, p),
            b'$' => self.single(DOLLAR, p),
            b'.' => {
                self.set = [true; 256];
                self.set[b'\n' as usize] = false;
                self.set[b'\r' as usize] = false;
                self.set[0] = false;
                self.tok = Tok::Set;
                self.at = p + 1;
            }
            b'\\' => {
                p += 1;
                let Some(&c) = s.get(p) else {
                    self.log.push("Badly quoted character at end of expression".into());
                    self.tok = Tok::Err;
                    return;
                };
                let c = match c {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    x => x,
                };
                self.single(c, p);
            }
            c => self.single(c, p),
        }
    }
    fn single(&mut self, c: u8, p: usize) {
        self.set = [false; 256];
        self.set[c as usize] = true;
        self.tok = Tok::Set;
        self.at = p + 1;
    }
    /// `_term`: `None` both for "no term here" and after an error (lvm2 does the same; only
    /// the log tells them apart).
    fn term(&mut self) -> Option<Rx> {
        match self.tok {
            Tok::Set => {
                let n = Rx::Set(Box::new(self.set));
                self.next();
                Some(n)
            }
            Tok::Sym(b'(') => {
                self.next();
                let n = self.or_term();
                if self.tok != Tok::Sym(b')') {
                    self.log.push("missing ')' in regular expression".into());
                    return None;
                }
                self.next();
                n
            }
            _ => None,
        }
    }
    fn closure(&mut self) -> Option<Rx> {
        let mut l = self.term()?;
        loop {
            l = match self.tok {
                Tok::Sym(b'*') => Rx::Star(Box::new(l)),
                Tok::Sym(b'+') => Rx::Plus(Box::new(l)),
                Tok::Sym(b'?') => Rx::Quest(Box::new(l)),
                _ => return Some(l),
            };
            self.next();
        }
    }
    fn cat(&mut self) -> Option<Rx> {
        let l = self.closure()?;
        if self.tok == Tok::Sym(b'|') {
            return Some(l);
        }
        match self.cat() {
            Some(r) => Some(Rx::Cat(Box::new(l), Box::new(r))),
            None => Some(l),
        }
    }
    fn or_term(&mut self) -> Option<Rx> {
        let l = self.cat()?;
        if self.tok != Tok::Sym(b'|') {
            return Some(l);
        }
        self.next();
        match self.or_term() {
            Some(r) => Some(Rx::Or(Box::new(l), Box::new(r))),
            None => {
                self.log.push("Badly formed 'or' expression".into());
                None
            }
        }
    }
}

impl Rx {
    /// Compile a pattern as `dm_regex_create` does: wrapped into `(.*(PATTERN)T)` where `T` is
    /// the accepting transition (byte 0), parsed with lvm2's parser (which ignores what follows
    /// a complete expression). The error is lvm2's log lines.
    pub(crate) fn compile(pat: &[u8]) -> Result<Rx, Vec<String>> {
        let mut wrapped = b"(.*(".to_vec();
        wrapped.extend_from_slice(pat);
        wrapped.extend_from_slice(b")\0)");
        let mut p = RxParser { s: &wrapped, at: 0, tok: Tok::End, set: [false; 256], log: Vec::new() };
        p.next();
        match p.or_term() {
            Some(r) => Ok(r),
            None => {
                p.log.push("Parse error in regex".into());
                p.log.push("Couldn't parse regex".into());
                Err(p.log)
            }
        }
    }

    /// Positions reachable after matching `self` from any of `from` in `t`.
    fn step(&self, t: &[u8], from: &[bool]) -> Vec<bool> {
        let n = t.len() + 1;
        let mut out = vec![false; n];
        match self {
            Rx::Set(set) => {
                for (i, _) in from.iter().enumerate().filter(|(i, f)| **f && *i < t.len()) {
                    if set[t[i] as usize] {
                        out[i + 1] = true;
                    }
                }
            }
            Rx::Cat(a, b) => out = b.step(t, &a.step(t, from)),
            Rx::Or(a, b) => {
                let (x, y) = (a.step(t, from), b.step(t, from));
                for i in 0..n {
                    out[i] = x[i] || y[i];
                }
            }
            Rx::Quest(a) => {
                let x = a.step(t, from);
                for i in 0..n {
                    out[i] = x[i] || from[i];
                }
            }
            Rx::Star(a) | Rx::Plus(a) => {
                let mut reach: Vec<bool> =
                    if matches!(self, Rx::Star(_)) { from.to_vec() } else { vec![false; n] };
                let mut frontier = a.step(t, from);
                loop {
                    let mut grew = false;
                    for i in 0..n {
                        if frontier[i] && !reach[i] {
                            reach[i] = true;
                            grew = true;
                        }
                    }
                    if !grew {
                        break;
                    }
                    frontier = a.step(t, &reach);
                }
                out = reach;
            }
        }
        out
    }

    /// lvm2's `dm_regex_match`: after the start marker, each character and the end marker,
    /// can the compiled expression take its accepting transition?
    pub(crate) fn is_match(&self, s: &[u8]) -> bool {
        let mut t = Vec::with_capacity(s.len() + 3);
        t.push(HAT);
        t.extend_from_slice(s);
        t.push(DOLLAR);
        (1..=t.len()).any(|k| {
            let mut probe = t[..k].to_vec();
            probe.push(0);
            let mut from = vec![false; probe.len() + 1];
            from[0] = true;
            self.step(&probe, &from)[k + 1]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(p: &str, s: &str) -> bool {
        Rx::compile(p.as_bytes()).unwrap().is_match(s.as_bytes())
    }

    #[test]
    fn regex_like_libdm() {
        assert!(rx("thin", "lvthin2"));
        assert!(rx("^thin", "thin2"));
        assert!(!rx("^thin", "lvthin2"));
        assert!(rx("1$", "thin1"));
        assert!(!rx("1$", "thin12"));
        assert!(rx("^t(hin|p)[0-9]*$", "tp"));
        assert!(rx("^t(hin|p)[0-9]*$", "thin22"));
        assert!(!rx("^t(hin|p)[0-9]*$", "tsnap"));
        assert!(rx("a+b?c", "xaac"));
        assert!(rx("[^a-z]", "ab3"));
        // A negated set also holds lvm2's start and end markers: it matches any string.
        assert!(rx("[^a-z]", "abc"));
        assert!(!rx("[a-z]", "123"));
        assert!(rx("x*", ""));
        // lvm2 refuses an empty pattern and unbalanced parentheses.
        assert!(Rx::compile(b"").is_err());
        assert_eq!(
            Rx::compile(b"(ab").unwrap_err(),
            ["missing ')' in regular expression", "Parse error in regex", "Couldn't parse regex"]
        );
        assert!(rx("\\.", "a.b"));
        assert!(!rx("\\.", "ab"));
        assert!(Rx::compile(b"a\\").is_err());
    }

    #[test]
    fn lists_like_libdm() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(list_strict_all(&v(&["a", "b"]), &v(&["a", "b"])));
        assert!(!list_strict_all(&v(&["a", "b", "c"]), &v(&["a", "b"])));
        assert!(list_subset_all(&v(&["a", "b", "c"]), &v(&["a", "c"])));
        assert!(!list_subset_all(&v(&["a", "b"]), &v(&["a", "d"])));
        assert!(list_any(&v(&["a", "b"]), &v(&["d", "b"])));
        assert!(list_strict_all(&v(&[]), &v(&[""])));
        assert!(list_any(&v(&[]), &v(&["x", ""])));
        assert!(!list_any(&v(&[]), &v(&["x"])));
    }

    #[test]
    fn formatted_times() {
        let t = |s: &str| parse_formatted_date_time(s.as_bytes()).0.map(|v| (v.range, v.t1, v.t2));
        // 2026-11-21 22:16:39 UTC = 1795299399.
        // A full time is no range (lvm2 leaves RANGE_NONE when seconds are given).
        assert_eq!(t("2026-11-21 22:16:39"), Some((false, 1795299399, 1795299398)));
        assert_eq!(t("2026-11-21 22:16"), Some((true, 1795299360, 1795299419)));
        assert_eq!(t("2026-11-21"), Some((true, 1795219200, 1795305599)));
        assert_eq!(t("2026-11-21 22:16:39 +01:00").map(|v| v.1), Some(1795295799));
        assert_eq!(t("20261121"), Some((true, 1795219200, 1795305599)));
        assert!(t("2026-13").is_none());
        assert_eq!(parse_formatted_date_time(b"2026-13").1, ["Specified month out of range."]);
        assert!(t("22:16").is_none());
    }

    #[test]
    fn every_field_has_its_lvm2_type() {
        use super::super::fields::Kind;
        for f in FIELDS.iter().filter(|f| !is_selected(f)) {
            let Some((_, ty)) = TYPES.iter().find(|(n, _)| *n == f.name) else {
                panic!("{} is not an lvm2 2.03.16 field", f.name)
            };
            // The table's kind and lvm2's type are one fact.
            let kind = match ty {
                Ty::Str => Kind::Str,
                Ty::Num => Kind::Num,
                Ty::Bin => Kind::Bin,
                Ty::Size => Kind::Size,
                Ty::Pct => Kind::Percent,
                Ty::Time => Kind::Time,
                Ty::List => Kind::StrList,
            };
            assert_eq!(f.kind, kind, "{}", f.name);
        }
    }

    #[test]
    fn parse_errors_in_lvm2_words() {
        let e = |s: &str| parse("lv_", s, 0).unwrap_err();
        assert_eq!(
            e("bogus=1"),
            [
                "Unrecognised selection field: bogus",
                "Selection syntax error at 'bogus=1'.",
                "Use 'help' for selection to get more help."
            ]
        );
        assert_eq!(e("lv_size=~x"), ["dm_report: incompatible comparison type for selection field lv_size"]);
        assert_eq!(e("!lv_name=a"), ["Syntax error: left parenthesis expected at 'lv_name=a'"]);
        assert_eq!(e("lv_name=a b")[0], "Expecting logical operator");
        assert!(parse("lv_", "all", 0).unwrap().is_none());
        assert!(parse("lv_", "name=x && (size>1 || !(tags={a,b}))", 0).unwrap().is_some());
    }
}
