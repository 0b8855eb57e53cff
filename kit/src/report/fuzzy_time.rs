//! lvm2's fuzzy time words for `lv_time` / `lv_time_removed` in `-S` (`yesterday`,
//! `2 weeks ago`, `Feb 24`, `noon`, `Monday`…): a port of lib/report/report.c 2.03.16
//! (`_lv_time_handler_parse_fuzzy_name`: `_preparse_fuzzy_time`, `_recognize_time_items`,
//! `_check_time_items`, `_translate_time_items` with its `_time_props`/`_time_reg` tables).
//! The result is a range of seconds `[t1, t2]` that `=` matches inside and `since`/`until`
//! compare against, as lvm2's reserved range value is. Times are UTC (lvm2 uses the local
//! zone; lvmkit prints UTC); "now" is given by the caller, so tests can fix it.

use super::select::{Tm, days_in_month, is_space, mktime_utc, strtol};

// The ids in lvm2's `time_id_t` order: granularities are compared by this order.
type Tid = u8;
const NULL: Tid = 0;
const NUM: Tid = 1;
const STR: Tid = 2;
const NUM_START: Tid = 3;
const NUM_MULTIPLIER: Tid = 4;
const NUM_MULTIPLIER_NEGATIVE: Tid = 5;
const NUM_DAY: Tid = 6;
const NUM_YEAR: Tid = 7;
const NUM_END: Tid = 8;
const FRAME_AGO: Tid = 11;
const LABEL_DATE_START: Tid = 13;
const TODAY: Tid = 14;
const YESTERDAY: Tid = 15;
const WEEKDAY_START: Tid = 16;
const SUNDAY: Tid = 17;
const WEEKDAY_END: Tid = 24;
const LABEL_DATE_END: Tid = 25;
const LABEL_TIME_START: Tid = 26;
const NOON: Tid = 27;
const MIDNIGHT: Tid = 28;
const LABEL_TIME_END: Tid = 29;
const UNIT_START: Tid = 30;
const U_SECOND: Tid = 31;
const U_SECOND_REL: Tid = 32;
const U_MINUTE: Tid = 33;
const U_MINUTE_REL: Tid = 34;
const U_HOUR: Tid = 35;
const U_HOUR_REL: Tid = 36;
const U_AM: Tid = 37;
const U_PM: Tid = 38;
const U_DAY: Tid = 39;
const U_WEEK: Tid = 40;
const U_MONTH: Tid = 41;
const U_YEAR: Tid = 42;
const U_TZ_MINUTE: Tid = 43;
const U_TZ_HOUR: Tid = 44;
const UNIT_END: Tid = 45;
const MONTH_START: Tid = 46;
const MONTH_END: Tid = 59;

const P_DATE: u32 = 1;
const P_TIME: u32 = 2;
const P_ABS: u32 = 4;
const P_REL: u32 = 8;

/// `_time_props`: flags and granularity of an id.
fn prop(id: Tid) -> (u32, Tid) {
    match id {
        NUM_DAY => (P_DATE | P_ABS, U_DAY),
        NUM_YEAR => (P_DATE | P_ABS, U_YEAR),
        9 => (P_TIME | P_ABS, NULL), // TIME_STR_TIMEZONE
        FRAME_AGO => (P_DATE | P_TIME | P_REL, NULL),
        TODAY | YESTERDAY => (P_DATE | P_ABS, U_DAY),
        SUNDAY..=23 => (P_DATE | P_ABS, U_DAY),
        NOON | MIDNIGHT => (P_TIME | P_ABS, U_SECOND),
        U_SECOND | U_MINUTE | U_HOUR => (P_TIME | P_ABS, id),
        U_SECOND_REL => (P_TIME | P_REL, U_SECOND),
        U_MINUTE_REL => (P_TIME | P_REL, U_MINUTE),
        U_HOUR_REL => (P_TIME | P_REL, U_HOUR),
        U_AM | U_PM => (P_TIME | P_ABS, U_HOUR),
        U_DAY | U_WEEK | U_MONTH | U_YEAR => (P_DATE | P_REL, id),
        U_TZ_MINUTE | U_TZ_HOUR => (P_TIME | P_ABS, NULL),
        47..=58 => (P_DATE | P_ABS, U_MONTH),
        _ => (0, NULL),
    }
}

const PLURAL: bool = true;

/// `_time_reg`, in lvm2's order (the first match wins).
const REG: &[(&str, Tid, bool)] = &[
    ("ago", FRAME_AGO, false),
    ("today", TODAY, false),
    ("yesterday", YESTERDAY, false),
    ("Sunday", SUNDAY, PLURAL),
    ("Sun", SUNDAY, false),
    ("Monday", SUNDAY + 1, PLURAL),
    ("Mon", SUNDAY + 1, false),
    ("Tuesday", SUNDAY + 2, PLURAL),
    ("Tue", SUNDAY + 2, false),
    ("Wednesday", SUNDAY + 3, PLURAL),
    ("Wed", SUNDAY + 3, false),
    ("Thursday", SUNDAY + 4, PLURAL),
    ("Thu", SUNDAY + 4, false),
    ("Friday", SUNDAY + 5, PLURAL),
    ("Fri", SUNDAY + 5, false),
    ("Saturday", SUNDAY + 6, PLURAL),
    ("Sat", SUNDAY + 6, false),
    ("noon", NOON, PLURAL),
    ("midnight", MIDNIGHT, PLURAL),
    ("second", U_SECOND, PLURAL),
    ("sec", U_SECOND, PLURAL),
    ("s", U_SECOND, false),
    ("minute", U_MINUTE, PLURAL),
    ("min", U_MINUTE, PLURAL),
    ("m", U_MINUTE, false),
    ("hour", U_HOUR, PLURAL),
    ("hr", U_HOUR, PLURAL),
    ("h", U_HOUR, false),
    ("AM", U_AM, false),
    ("PM", U_PM, false),
    ("day", U_DAY, PLURAL),
    ("week", U_WEEK, PLURAL),
    ("month", U_MONTH, PLURAL),
    ("year", U_YEAR, PLURAL),
    ("yr", U_YEAR, PLURAL),
    ("January", 47, false),
    ("Jan", 47, false),
    ("February", 48, false),
    ("Feb", 48, false),
    ("March", 49, false),
    ("Mar", 49, false),
    ("April", 50, false),
    ("Apr", 50, false),
    ("May", 51, false),
    ("June", 52, false),
    ("Jun", 52, false),
    ("July", 53, false),
    ("Jul", 53, false),
    ("August", 54, false),
    ("Aug", 54, false),
    ("September", 55, false),
    ("Sep", 55, false),
    ("October", 56, false),
    ("Oct", 56, false),
    ("November", 57, false),
    ("Nov", 57, false),
    ("December", 58, false),
    ("Dec", 58, false),
];

fn is_num(id: Tid) -> bool {
    id > NUM_START && id < NUM_END
}
fn is_label_date(id: Tid) -> bool {
    id > LABEL_DATE_START && id < LABEL_DATE_END
}
fn is_label_time(id: Tid) -> bool {
    id > LABEL_TIME_START && id < LABEL_TIME_END
}
fn is_unit(id: Tid) -> bool {
    id > UNIT_START && id < UNIT_END
}
fn is_weekday(id: Tid) -> bool {
    id > WEEKDAY_START && id < WEEKDAY_END
}
fn is_month(id: Tid) -> bool {
    id > MONTH_START && id < MONTH_END
}

/// One `struct time_item`: an id and the text it stands for (`s..s+len` of the input).
#[derive(Clone, Copy, Debug)]
struct Item {
    id: Tid,
    s: usize,
    len: usize,
}

/// `_move_till_item_end`: to the next space; a number ends where its digits do.
fn item_end(b: &[u8], mut i: usize) -> usize {
    let Some(&c) = b.get(i) else { return i };
    let mut num = c.is_ascii_digit();
    while let Some(&c) = b.get(i) {
        if is_space(c) {
            break;
        }
        if num {
            num = c.is_ascii_digit();
            if !num {
                break;
            }
        }
        i += 1;
    }
    i
}

/// `_add_time_part_to_list`: a multiplier and the unit after it.
fn add_part(list: &mut Vec<Item>, id: Tid, minus: bool, s: usize, len: usize) {
    list.push(Item { id: if minus { NUM_MULTIPLIER_NEGATIVE } else { NUM_MULTIPLIER }, s, len });
    list.push(Item { id, s: s + len, len: 0 });
}

/// `_get_time`: `HH:MM[:SS]` (or a zone `HH:MM` after `+`/`-`); the new position, or `None`.
fn get_time(b: &[u8], s: usize, list: &mut Vec<Item>, tz: i32) -> Option<usize> {
    let end = item_end(b, s);
    add_part(list, if tz != 0 { U_TZ_HOUR } else { U_HOUR }, tz == -1, s, end - s);
    if b.get(end) != Some(&b':') {
        return None;
    }
    let s = end + 1;
    let end = item_end(b, s);
    add_part(list, if tz != 0 { U_TZ_MINUTE } else { U_MINUTE }, tz == -1, s, end - s);
    if b.get(end) != Some(&b':') {
        // lvm2 steps over the character after the minutes (the end of the string too).
        return Some(end + 1);
    }
    if tz != 0 {
        return None;
    }
    let s = end + 1;
    let end = item_end(b, s);
    add_part(list, U_SECOND, false, s, end - s);
    Some(end + 1)
}

/// `_preparse_fuzzy_time`: the items, or `None` when the text is not fuzzy (digits, `-`,
/// `:`, `+` and spaces only: a formatted date) or not tokenisable.
fn preparse(b: &[u8]) -> Option<Vec<Item>> {
    let mut list = Vec::new();
    let mut fuzzy = false;
    let mut s = b.iter().position(|&c| !is_space(c)).unwrap_or(b.len());
    while let Some(&c) = b.get(s) {
        if !(c.is_ascii_digit() || c == b'-' || c == b':' || c == b'+') {
            fuzzy = true;
        }
        let end = item_end(b, s);
        let id = if c.is_ascii_alphabetic() {
            STR
        } else if c.is_ascii_digit() {
            if b.get(end) == Some(&b':') {
                s = get_time(b, s, &mut list, 0)?;
                continue;
            }
            NUM
        } else if c == b'-' || c == b'+' {
            s = get_time(b, s + 1, &mut list, if c == b'-' { -1 } else { 1 })?;
            continue;
        } else {
            return None;
        };
        list.push(Item { id, s, len: end - s });
        s = end;
        while b.get(s).is_some_and(|&c| is_space(c)) {
            s += 1;
        }
    }
    fuzzy.then_some(list)
}

/// The text from item `s` on, as lvm2's messages quote it.
fn rest(b: &[u8], s: usize) -> String {
    String::from_utf8_lossy(b.get(s..).unwrap_or_default()).into_owned()
}

/// `_match_time_str`.
fn match_str(b: &[u8], list: &mut [Item], k: usize) -> Tid {
    let ti = list[k];
    list[k].id = NULL;
    let text = &b[ti.s..ti.s + ti.len];
    for &(name, id, plural) in REG {
        let n = name.len();
        if ti.len != n && !(plural && ti.len == n + 1 && text[n] == b's') {
            continue;
        }
        if text[..n].eq_ignore_ascii_case(name.as_bytes()) {
            list[k].id = id;
            if is_unit(id) && k > 0 && list[k - 1].id == NUM {
                list[k - 1].id = NUM_MULTIPLIER;
            }
            break;
        }
    }
    list[k].id
}

/// `_match_time_num`: a day or a year, by the month name next to it and the digits.
fn match_num(list: &mut [Item], k: usize) -> Tid {
    let len = list[k].len;
    let next = list.get(k + 1).map(|t| t.id);
    let prev = k.checked_sub(1).map(|p| list[p].id);
    if next.is_some_and(is_month) {
        if list.get(k + 2).is_some_and(|t| t.id == NUM) {
            if len < list[k + 2].len {
                list[k].id = NUM_DAY;
                list[k + 2].id = NUM_YEAR;
            } else {
                list[k].id = NUM_YEAR;
                list[k + 2].id = NUM_DAY;
            }
        } else {
            list[k].id = if len <= 2 { NUM_DAY } else { NUM_YEAR };
        }
    } else if prev.is_some_and(is_month) {
        list[k].id = if len <= 2 { NUM_DAY } else { NUM_YEAR };
    } else {
        list[k].id = NUM_YEAR;
    }
    list[k].id
}

struct Info {
    min_abs_date: Tid,
    max_abs_date: Tid,
    min_abs_time: Tid,
    min_rel_time: Tid,
}

/// `_detect_time_granularity`.
fn granularity(info: &mut Info, id: Tid) {
    let (flags, gran) = prop(id);
    if gran == NULL {
        return;
    }
    let (date, abs, rel) = (flags & P_DATE != 0, flags & P_ABS != 0, flags & P_REL != 0);
    if date && abs {
        info.max_abs_date = info.max_abs_date.max(gran);
        info.min_abs_date = info.min_abs_date.min(gran);
    } else if abs && gran < info.min_abs_time {
        info.min_abs_time = gran;
    } else if rel && gran < info.min_rel_time {
        info.min_rel_time = gran;
    }
}

/// `_recognize_time_items` and `_check_time_items`.
fn recognize(b: &[u8], list: &mut [Item], info: &mut Info) -> Result<(), String> {
    for k in 0..list.len() {
        if list[k].id == STR && match_str(b, list, k) == NULL {
            return Err(format!(
                "Unrecognized string in date/time specification at \"{}\".",
                rest(b, list[k].s)
            ));
        }
        if list[k].id == FRAME_AGO {
            // `_change_to_relative`: absolute units before "ago" (back to the previous one).
            for p in (0..k).rev() {
                match list[p].id {
                    FRAME_AGO => break,
                    U_SECOND => list[p].id = U_SECOND_REL,
                    U_MINUTE => list[p].id = U_MINUTE_REL,
                    U_HOUR => list[p].id = U_HOUR_REL,
                    _ => {}
                }
            }
        }
    }
    for k in 0..list.len() {
        if list[k].id == NUM && match_num(list, k) == NULL {
            return Err(format!(
                "Unrecognized number in date/time specification at \"{}\".",
                rest(b, list[k].s)
            ));
        }
        granularity(info, list[k].id);
    }
    let (mut date_rel, mut time_rel): (Option<bool>, Option<bool>) = (None, None);
    let (mut label_time, mut label_date) = (false, false);
    for ti in list.iter() {
        let (flags, _) = prop(ti.id);
        let rel = flags & P_REL != 0;
        if flags & P_DATE != 0 {
            match date_rel {
                None => date_rel = Some(rel),
                Some(r) if r != rel && info.max_abs_date >= info.min_rel_time => {
                    return Err(format!(
                        "Mixed absolute and relative date specification found at \"{}\".",
                        rest(b, ti.s)
                    ));
                }
                _ => {}
            }
            if label_date {
                return Err(format!("Ambiguous date specification found at \"{}\".", rest(b, ti.s)));
            }
            label_date |= is_label_date(ti.id);
        } else if flags & P_TIME != 0 {
            match time_rel {
                None => time_rel = Some(rel),
                Some(r) if r != rel => {
                    return Err(format!(
                        "Mixed absolute and relative time specification found at \"{}\".",
                        rest(b, ti.s)
                    ));
                }
                _ => {}
            }
            if label_time {
                return Err(format!("Ambiguous time specification found at \"{}\".", rest(b, ti.s)));
            }
            label_time |= is_label_time(ti.id);
        }
    }
    Ok(())
}

fn tm_of(t: i64) -> Tm {
    let c = lvmkit_metadata::time::Civil::from_unix(t);
    Tm {
        year: c.year - 1900,
        mon: i64::from(c.month) - 1,
        mday: i64::from(c.day),
        hour: i64::from(c.hour),
        min: i64::from(c.minute),
        sec: i64::from(c.second),
        wday: i64::from(c.weekday),
    }
}

/// `_translate_time_items`, `_adjust_time_for_granularity`, `_get_resulting_time_span`.
fn translate(b: &[u8], list: &[Item], info: &Info, now: i64) -> (i64, i64) {
    const DAY: i64 = 86400;
    let now_tm = tm_of(now);
    let mut tm = now_tm;
    let mut t: i64 = 0;
    let mut multiplier: i64 = 1;
    let mut prev: Option<Tid> = None;
    for ti in list {
        let id = ti.id;
        if is_num(id) {
            let num = strtol(b, ti.s).0;
            match id {
                NUM_MULTIPLIER_NEGATIVE => multiplier = -num,
                NUM_MULTIPLIER => multiplier = num,
                NUM_DAY => tm.mday = num,
                NUM_YEAR => tm.year = num - 1900,
                _ => {}
            }
        } else if is_month(id) {
            tm.mon = i64::from(id - MONTH_START - 1);
        } else if is_label_date(id) {
            if is_weekday(id) {
                let num = i64::from(id - WEEKDAY_START - 1);
                let back = if now_tm.wday < num { 7 - num + now_tm.wday } else { now_tm.wday - num };
                t += back * DAY;
            } else if id == YESTERDAY {
                t += DAY;
            }
        } else if is_label_time(id) {
            tm.hour = if id == NOON { 12 } else { 0 };
            tm.min = 0;
            tm.sec = 0;
        } else if is_unit(id) {
            match id {
                U_SECOND => tm.sec = multiplier,
                U_SECOND_REL => t += multiplier,
                U_MINUTE => tm.min = multiplier,
                U_MINUTE_REL => t += multiplier * 60,
                U_HOUR => tm.hour = multiplier,
                U_HOUR_REL => t += multiplier * 3600,
                U_AM if prev == Some(NUM_MULTIPLIER) => tm.hour = multiplier,
                U_PM => {
                    if prev.is_some_and(is_unit) {
                        t -= 12 * 3600;
                    } else if prev == Some(NUM_MULTIPLIER) {
                        tm.hour = multiplier + 12;
                    }
                }
                U_DAY => t += multiplier * DAY,
                U_WEEK => t += multiplier * 7 * DAY,
                U_MONTH => {
                    tm.year -= multiplier / 12;
                    let num = multiplier % 12;
                    if num > tm.mon + 1 {
                        tm.year -= 1;
                        tm.mon += 12 - num;
                    } else {
                        tm.mon -= num;
                    }
                }
                U_YEAR => tm.year -= multiplier,
                _ => {}
            }
        }
        prev = Some(id);
    }
    // `_adjust_time_for_granularity`.
    match info.min_abs_date {
        U_YEAR => {
            tm.mon = 0;
            tm.mday = 1;
        }
        U_MONTH => tm.mday = 1,
        _ => {}
    }
    match info.min_abs_time {
        U_HOUR => {
            tm.min = 0;
            tm.sec = 0;
        }
        U_MINUTE => tm.sec = 0,
        UNIT_END if info.min_rel_time == UNIT_END => {
            tm.hour = 0;
            tm.min = 0;
            tm.sec = 0;
        }
        _ => {}
    }
    if info.min_abs_time == UNIT_END && (U_DAY..=U_YEAR).contains(&info.min_rel_time) {
        tm.hour = 0;
        tm.min = 0;
        tm.sec = 0;
    }
    // `_get_resulting_time_span` (UTC: no daylight saving adjustment).
    let mut t1 = mktime_utc(&tm) - t;
    let mut t2 = t1;
    if info.min_abs_time != UNIT_END {
        if info.min_abs_time == U_MINUTE {
            t2 += 59;
        } else if info.min_abs_time == U_HOUR {
            t2 += 3599;
        }
    } else if info.min_rel_time != UNIT_END {
        if info.min_rel_time == U_MINUTE {
            t1 -= 61;
        } else if info.min_rel_time == U_HOUR {
            t1 -= 3601;
        } else if (U_DAY..=U_YEAR).contains(&info.min_rel_time) {
            t2 += DAY - 1;
        }
    } else if info.min_abs_date == U_MONTH {
        t2 += DAY * days_in_month(tm.mon + 1, tm.year) - 1;
    } else if info.min_abs_date != UNIT_END {
        t2 += DAY - 1;
    }
    (t1, t2)
}

/// What lvm2's fuzzy time handler makes of `text`: `Ok(None)` when the text is not fuzzy (a
/// formatted date or `@seconds`, parsed elsewhere), `Ok(Some((t1, t2)))` the range, `Err` the
/// line lvm2 logs when the words make no date.
pub(crate) fn parse(text: &[u8], now: i64) -> Result<Option<(i64, i64)>, String> {
    let Some(mut list) = preparse(text) else { return Ok(None) };
    let mut info = Info {
        min_abs_date: UNIT_END,
        max_abs_date: UNIT_START,
        min_abs_time: UNIT_END,
        min_rel_time: UNIT_END,
    };
    recognize(text, &mut list, &mut info)?;
    Ok(Some(translate(text, &list, &info, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 10:30:15 UTC, a Monday.
    const NOW: i64 = 1_796_639_415;

    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        lvmkit_metadata::time::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    }

    fn range(s: &str) -> (i64, i64) {
        parse(s.as_bytes(), NOW)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .unwrap_or_else(|| panic!("{s}: not fuzzy"))
    }

    #[test]
    fn words_as_lvm2_reads_them() {
        assert_eq!(tm_of(NOW).wday, 1, "the fixed now is a Monday");
        assert_eq!(at(2026, 12, 7, 10, 30, 15), NOW);
        assert_eq!(range("today"), (at(2026, 12, 7, 0, 0, 0), at(2026, 12, 7, 23, 59, 59)));
        assert_eq!(range("yesterday"), (at(2026, 12, 6, 0, 0, 0), at(2026, 12, 6, 23, 59, 59)));
        // A weekday is the last one, today included.
        assert_eq!(range("Monday"), range("today"));
        assert_eq!(range("Saturday"), (at(2026, 12, 5, 0, 0, 0), at(2026, 12, 5, 23, 59, 59)));
        assert_eq!(range("Tue").0, at(2026, 12, 1, 0, 0, 0));
        // N units ago: a day span for days and more; from an hour (plus a second) before for hours.
        assert_eq!(range("2 days ago"), (at(2026, 12, 5, 0, 0, 0), at(2026, 12, 5, 23, 59, 59)));
        assert_eq!(range("1 week ago").0, at(2026, 11, 30, 0, 0, 0));
        assert_eq!(range("3 hours ago"), (NOW - 3 * 3600 - 3601, NOW - 3 * 3600));
        assert_eq!(range("10 minutes ago"), (NOW - 600 - 61, NOW - 600));
        assert_eq!(range("1 year 3 months ago").0, at(2025, 9, 7, 0, 0, 0));
        assert_eq!(range("14 months ago").0, at(2025, 10, 7, 0, 0, 0));
        // Month names: the whole month (lvm2 reads the leap year from tm_year).
        assert_eq!(range("Feb 2024"), (at(2024, 2, 1, 0, 0, 0), at(2024, 2, 29, 23, 59, 59)));
        assert_eq!(range("24 Feb 2015"), (at(2015, 2, 24, 0, 0, 0), at(2015, 2, 24, 23, 59, 59)));
        assert_eq!(range("2015 Feb 24"), range("24 Feb 2015"));
        assert_eq!(range("Mar").0, at(2026, 3, 1, 0, 0, 0));
        // Times of day.
        assert_eq!(range("yesterday noon"), (at(2026, 12, 6, 12, 0, 0), at(2026, 12, 6, 12, 0, 0)));
        assert_eq!(range("today 14:30"), (at(2026, 12, 7, 14, 30, 0), at(2026, 12, 7, 14, 30, 59)));
        assert_eq!(range("5 PM"), (at(2026, 12, 7, 17, 0, 0), at(2026, 12, 7, 17, 59, 59)));
        assert_eq!(range("Mondays"), range("Monday"));
        assert!(parse(b"MONDAYS", NOW).is_err(), "lvm2 takes only a lower-case plural s");
    }

    #[test]
    fn not_fuzzy_and_refused() {
        for formatted in ["2026-12-07", "2026-12-07 10:00", "  2026-12-07 +01:00", "@1796639415"] {
            assert_eq!(parse(formatted.as_bytes(), NOW), Ok(None), "{formatted}");
        }
        assert_eq!(
            parse(b"now", NOW),
            Err("Unrecognized string in date/time specification at \"now\".".into())
        );
        assert_eq!(
            parse(b"last month", NOW),
            Err("Unrecognized string in date/time specification at \"last month\".".into())
        );
        assert!(parse(b"today yesterday", NOW).unwrap_err().starts_with("Ambiguous date"));
        assert!(parse(b"noon midnight", NOW).unwrap_err().starts_with("Ambiguous time"));
        assert!(
            parse(b"2 hours ago 14:00", NOW).unwrap_err().starts_with("Mixed absolute and relative time")
        );
    }
}
