//! `-O/--sort`: lvm2's sort keys (`_parse_keys`, `_key_match`, `_row_compare` in
//! `libdm/libdm-report.c`): a comma list of field names, each with an optional `+` (ascending,
//! the default) or `-` (descending); the keys replace the report's default order, and rows that
//! tie on every key keep the order lvm2 visits them in (glibc's `qsort` is a stable merge sort).

use std::cmp::Ordering;

use super::ReportError;
use super::fields::Field;
use super::select::{self, Lookup, Val};

/// One sort key.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    /// The field.
    pub field: &'static Field,
    /// `-`: descending.
    pub descending: bool,
}

/// Parse `-O`; `prefix` is the report's field prefix. A key named twice counts once (lvm2
/// warns "Ignoring duplicate sort field").
pub(crate) fn parse_keys(prefix: &str, spec: &str) -> Result<Vec<Key>, ReportError> {
    let mut keys: Vec<Key> = Vec::new();
    for word in spec.split(',').filter(|w| !w.is_empty()) {
        let (descending, name) = match word.as_bytes()[0] {
            b'+' => (false, &word[1..]),
            b'-' => (true, &word[1..]),
            _ => (false, word),
        };
        let mut log = Vec::new();
        if name.is_empty() {
            log.push("dm_report: Missing sort field name".to_string());
        }
        let field = match lookup_key(prefix, name) {
            Some(f) if !name.is_empty() => f,
            _ => {
                log.push(format!("dm_report: Unrecognised field: {word}"));
                return Err(ReportError::Lvm2(log));
            }
        };
        if !keys.iter().any(|k| std::ptr::eq(k.field, field)) {
            keys.push(Key { field, descending });
        }
    }
    Ok(keys)
}

fn lookup_key(prefix: &str, name: &str) -> Option<&'static Field> {
    match select::lookup(prefix, name) {
        Lookup::Field(f) => Some(f),
        Lookup::Help | Lookup::Unknown => None,
    }
}

/// lvm2's row order for typed key values: the first key that differs decides.
pub(crate) fn compare(keys: &[Key], a: &[Val], b: &[Val]) -> Ordering {
    for (k, (x, y)) in keys.iter().zip(a.iter().zip(b)) {
        match select::sort_cmp(x, y) {
            Ordering::Equal => continue,
            o if k.descending => return o.reverse(),
            o => return o,
        }
    }
    Ordering::Equal
}
