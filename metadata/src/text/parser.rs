//! Parser for lvm2's config grammar (libdm `libdm-config.c`), shared by the on-disk metadata
//! text, backup/archive files and lvm.conf.
//!
//! ```text
//! file   := item*
//! item   := KEY '=' value  |  KEY '{' item* '}'
//! value  := scalar | '[' ']' | '[' scalar (','? scalar)* ','? ']'
//! scalar := INT | FLOAT | STRING | BARE
//! ```
//!
//! Token rules follow lvm2's tokenizer byte for byte, with these deliberate differences (each
//! only rejects or re-reads text that lvm2 itself would misread or that no lvm2 writes):
//!
//! - A bare word inside an array also ends at `,` and `]`, so `[a,b]` is two words. lvm2 would
//!   swallow `a,b]` as one word and then fail; lvm2's own writer always quotes strings.
//! - A number must be followed by a delimiter (whitespace, `#`, `,`, `]`, `{`, `}`, `=` or the
//!   end). lvm2's tokenizer ends `0x10` at the `x`, takes `x10` as the next key and fails
//!   later with a confusing message; here it is one error at the number.
//! - A number needs at least one digit (lvm2 reads a lone `-` as 0), and an octal number with
//!   an `8` or `9` is an error (C `strtoll` would silently stop there: `08` reads as 0).
//! - An unterminated quoted string is an error (lvm2 drops its last byte and carries on).
//! - Keys are kept literally; lvm2 would split a key containing `/` into a path.
//! - Duplicate keys are kept in order; lookups take the first (see [`Section::get`]).
//!
//! lvm2 accepts a trailing comma before `]` (`["a",]`), so this parser does too; `[,]` and
//! `[a,,b]` are errors. Without a comma, only a quoted string may follow an element (a number
//! or bare word is a value only directly after `=`, `[` or `,`), as in lvm2.
//!
//! The parser reads the byte slice in place and only allocates the resulting strings and
//! vectors. Every error is committed at the offending token, so one bad token gives exactly
//! one [`Error::Syntax`] with its line, column and what the grammar wanted there.

use std::borrow::Cow;

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while1;
use nom::combinator::map;
use nom::error::{ErrorKind, ParseError};

use super::tree::{Item, Node, Scalar, Section, Value};
use crate::error::{Error, Result, escape_bytes};

/// How deeply `{ … }` sections may nest. Real metadata uses 5 levels; the cap keeps garbage
/// input from exhausting the stack, since sections are parsed recursively.
pub const MAX_DEPTH: usize = 64;

const E_DEPTH: &str = "at most 64 nested sections";
const _: () = assert!(MAX_DEPTH == 64, "E_DEPTH spells out MAX_DEPTH");
const E_KEY_ROOT: &str = "key or end of input";
const E_KEY_SECTION: &str = "key or '}'";
const E_CLOSE_SECTION: &str = "'}'";
const E_AFTER_KEY: &str = "'=' or '{' after key";
const E_VALUE: &str = "value";
const E_ELEMENT: &str = "value or ']'";
const E_NESTED: &str = "scalar (arrays do not nest)";
const E_AFTER_ELEMENT: &str = "']' or ','";
const E_CLOSE_DQ: &str = "closing '\"'";
const E_CLOSE_SQ: &str = "closing \"'\"";
const E_NUMBER: &str = "number (decimal or octal integer, or float)";
const E_OCTAL: &str = "octal digits after a leading 0";
const E_RANGE: &str = "integer within 64-bit range";
const E_UTF8_STRING: &str = "UTF-8 string";
const E_UTF8_KEY: &str = "UTF-8 key";
const E_EMPTY_KEY: &str = "non-empty key";

// Byte classes, so the hot loops do one table lookup per byte.
/// C `isspace` in the C locale (includes `\v` and `\f`, unlike `u8::is_ascii_whitespace`).
const SPACE: u8 = 1;
/// Ends a key or bare word: whitespace, `#`, `=`, `{`, `}`.
const WORD_END: u8 = 2;
/// Additionally ends a bare word inside an array, and a number anywhere.
const LIST_END: u8 = 4;
/// Cannot start a bare word: punctuation, quotes, and what starts a number.
const NOT_BARE_START: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            c |= SPACE | WORD_END | NOT_BARE_START;
        }
        if matches!(b, b'#' | b'=' | b'{' | b'}') {
            c |= WORD_END | NOT_BARE_START;
        }
        if matches!(b, b',' | b']') {
            c |= LIST_END | NOT_BARE_START;
        }
        if matches!(b, b'[' | b'"' | b'\'' | b'+' | b'-' | b'.' | b'0'..=b'9') {
            c |= NOT_BARE_START;
        }
        t[i] = c;
        i += 1;
    }
    t
};

#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

type In<'a> = &'a [u8];
type PResult<'a, T> = IResult<In<'a>, T, PErr<'a>>;

/// A parse error before it is turned into [`Error::Syntax`]: where (a suffix of the input),
/// how many bytes to show, and what was expected.
#[derive(Clone, Copy, Debug)]
struct PErr<'a> {
    at: In<'a>,
    /// Bytes of `at` to quote as "found"; `None` means "the token starting there".
    len: Option<usize>,
    expected: &'static str,
}

impl<'a> PErr<'a> {
    fn new(at: In<'a>, expected: &'static str) -> Self {
        PErr { at, len: None, expected }
    }
}

impl<'a> ParseError<In<'a>> for PErr<'a> {
    fn from_error_kind(input: In<'a>, _kind: ErrorKind) -> Self {
        PErr::new(input, E_VALUE)
    }

    fn append(_input: In<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// A committed error: no alternative is tried after it.
fn fail<'a, T>(at: In<'a>, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr::new(at, expected)))
}

fn fail_len<'a, T>(at: In<'a>, len: usize, expected: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PErr { at, len: Some(len), expected }))
}

/// A soft error: "this alternative does not start here"; [`expect`] turns it into a
/// committed one naming the rule.
fn no_match<'a, T>(at: In<'a>) -> PResult<'a, T> {
    Err(nom::Err::Error(PErr::new(at, E_VALUE)))
}

/// Commits to `p`: if no alternative of it matched, fail at the start saying what was wanted
/// (nom's `cut` plus a fixed message, so the error names the grammar rule, not a sub-parser).
fn expect<'a, O>(
    expected: &'static str,
    mut p: impl Parser<In<'a>, Output = O, Error = PErr<'a>>,
) -> impl FnMut(In<'a>) -> PResult<'a, O> {
    move |i| match p.parse(i) {
        Err(nom::Err::Error(_)) => fail(i, expected),
        r => r,
    }
}

/// Parse a config text into its root section.
///
/// Accepts the on-disk metadata text, backup/archive files and lvm.conf alike. The input ends
/// at the first NUL byte (the on-disk text is NUL-terminated) or at the end of the slice.
/// Errors are [`Error::Syntax`] with the 1-based line and byte column of the offending token.
pub fn parse(text: &[u8]) -> Result<Section<'_>> {
    let input = &text[..nul_position(text)];
    // Validating everything at once is much cheaper than token by token; only a text with a
    // bad byte somewhere (perhaps in a comment) falls back to checking each token.
    let src = Src { input, text: std::str::from_utf8(input).ok() };
    // One stack for all levels; each section's items move out of it into an exact Vec.
    let mut stack = Vec::with_capacity(64);
    match items(src, input, 0, &mut stack) {
        Ok((_, items)) => Ok(Section { items }),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(syntax_error(input, e)),
        // Only streaming parsers ask for more input; all of ours are complete.
        Err(nom::Err::Incomplete(_)) => Err(syntax_error(input, PErr::new(&input[input.len()..], E_VALUE))),
    }
}

/// Where the text ends: the first NUL, or the end of the buffer.
fn nul_position(text: &[u8]) -> usize {
    // `contains` on bytes is a vectorized memchr; `position` goes byte by byte.
    let mut start = 0;
    for chunk in text.chunks(4096) {
        if chunk.contains(&0) {
            return start + chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
        }
        start += chunk.len();
    }
    text.len()
}

/// The input being parsed, for turning token bytes into text.
#[derive(Clone, Copy)]
struct Src<'a> {
    input: &'a [u8],
    /// All of `input`, when it is valid UTF-8 (the usual case).
    text: Option<&'a str>,
}

impl<'a> Src<'a> {
    /// The token `tok` (a sub-slice of the input) as text, or an error at its first bad byte.
    fn str(self, tok: In<'a>, expected: &'static str) -> std::result::Result<&'a str, nom::Err<PErr<'a>>> {
        if let Some(text) = self.text {
            let off = (tok.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize);
            // Tokens end at ASCII delimiters, so this never misses a char boundary.
            if let Some(s) = off.checked_add(tok.len()).and_then(|end| text.get(off..end)) {
                return Ok(s);
            }
        }
        utf8(tok, expected)
    }
}

fn syntax_error(input: &[u8], e: PErr<'_>) -> Error {
    // `at` is always a suffix of `input`; the pointer difference is its offset.
    let offset = (e.at.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize).min(input.len());
    let before = &input[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let found = if e.at.is_empty() {
        "end of input".to_string()
    } else {
        let len = e.len.unwrap_or_else(|| token_len(e.at)).clamp(1, e.at.len());
        escape_bytes(&e.at[..len])
    };
    Error::Syntax { line, column: offset - line_start + 1, offset, expected: e.expected.to_string(), found }
}

/// Length of the token starting at `at`, for the "found" part of an error.
fn token_len(at: &[u8]) -> usize {
    match at.first() {
        None => 0,
        Some(b'{' | b'}' | b'[' | b']' | b',' | b'=') => 1,
        // A quoted string may be the runaway one; show up to the end of its line.
        Some(b'"' | b'\'') => at.iter().position(|&b| b == b'\n').unwrap_or(at.len()),
        Some(_) => at.iter().position(|&b| class(b) & (WORD_END | LIST_END) != 0).unwrap_or(at.len()),
    }
}

/// Skip whitespace and `#` comments.
#[inline]
fn ws(mut i: In<'_>) -> In<'_> {
    loop {
        let n = i.iter().position(|&b| class(b) & SPACE == 0).unwrap_or(i.len());
        i = &i[n..];
        if i.first() != Some(&b'#') {
            return i;
        }
        i = &i[i.iter().position(|&b| b == b'\n').unwrap_or(i.len())..];
    }
}

/// The items of the root (`depth == 0`, ends at end of input) or of a section body (ends at
/// its `}`, which is consumed).
///
/// Items collect on `stack`, shared by all levels, and move into an exactly sized `Vec` when
/// the section ends: one allocation per section instead of one per doubling.
fn items<'a>(
    src: Src<'a>,
    mut i: In<'a>,
    depth: usize,
    stack: &mut Vec<Item<'a>>,
) -> PResult<'a, Vec<Item<'a>>> {
    let base = stack.len();
    loop {
        i = ws(i);
        match i.first() {
            None if depth == 0 => return Ok((i, stack.split_off(base))),
            None => return fail(i, E_CLOSE_SECTION),
            Some(b'}') if depth > 0 => return Ok((&i[1..], stack.split_off(base))),
            Some(b'{' | b'}' | b'[' | b']' | b',' | b'=') => {
                return fail(i, if depth == 0 { E_KEY_ROOT } else { E_KEY_SECTION });
            }
            Some(_) => {}
        }
        let (rest, key) = key(src, i)?;
        let rest = ws(rest);
        match rest.first() {
            Some(b'=') => {
                let (rest, value) = value(src, ws(&rest[1..]))?;
                stack.push(Item { key, node: Node::Value(value) });
                i = rest;
            }
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return fail(rest, E_DEPTH);
                }
                let (rest, sub) = items(src, &rest[1..], depth + 1, stack)?;
                stack.push(Item { key, node: Node::Section(Section { items: sub }) });
                i = rest;
            }
            _ => return fail(rest, E_AFTER_KEY),
        }
    }
}

/// A key: an identifier, or a quoted string (lvm2 allows quoting any key).
fn key<'a>(src: Src<'a>, i: In<'a>) -> PResult<'a, Cow<'a, str>> {
    if let Some(b'"' | b'\'') = i.first() {
        let (rest, s) = quoted(src, i, E_UTF8_KEY)?;
        if s.is_empty() {
            return fail_len(i, 2, E_EMPTY_KEY);
        }
        return Ok((rest, s));
    }
    let (rest, word) = take_while1::<_, _, PErr<'_>>(|b| class(b) & WORD_END == 0).parse(i)?;
    Ok((rest, Cow::Borrowed(src.str(word, E_UTF8_KEY)?)))
}

/// What follows `=`.
fn value<'a>(src: Src<'a>, i: In<'a>) -> PResult<'a, Value<'a>> {
    match i.first() {
        Some(b'[') => map(|i| array(src, i), Value::Array).parse(i),
        _ => map(expect(E_VALUE, |i| scalar(src, i, false)), Value::Scalar).parse(i),
    }
}

/// A scalar, chosen by its first byte; `in_array` makes `,` and `]` end a bare word.
fn scalar<'a>(src: Src<'a>, i: In<'a>, in_array: bool) -> PResult<'a, Scalar<'a>> {
    match i.first() {
        Some(b'"' | b'\'') => map(|i| quoted(src, i, E_UTF8_STRING), Scalar::Str).parse(i),
        Some(b'0'..=b'9' | b'+' | b'-' | b'.') => number(i),
        _ => map(|i| bare(src, i, in_array), Scalar::Bare).parse(i),
    }
}

/// `[ … ]`, one level deep.
fn array<'a>(src: Src<'a>, i: In<'a>) -> PResult<'a, Vec<Scalar<'a>>> {
    let Some(b'[') = i.first() else { return no_match(i) };
    let mut i = ws(&i[1..]);
    let mut out = Vec::new();
    let mut element = expect(E_ELEMENT, |i| scalar(src, i, true));
    loop {
        // After `[` or `,`: an element or the end (lvm2 allows a trailing comma).
        match i.first() {
            Some(b']') => return Ok((&i[1..], out)),
            Some(b'[') => return fail(i, E_NESTED),
            _ => {}
        }
        let (rest, s) = element(i)?;
        out.push(s);
        i = ws(rest);
        // After an element: `,`, `]`, or (as in lvm2) a quoted string without a comma.
        loop {
            match i.first() {
                Some(b',') => {
                    i = ws(&i[1..]);
                    break;
                }
                Some(b']') => return Ok((&i[1..], out)),
                Some(b'"' | b'\'') => {
                    let (rest, s) = quoted(src, i, E_UTF8_STRING)?;
                    out.push(Scalar::Str(s));
                    i = ws(rest);
                }
                _ => return fail(i, E_AFTER_ELEMENT),
            }
        }
    }
}

/// `"…"` (only `\"` and `\\` are escapes; any other backslash stays, with its next byte) or
/// `'…'` (no escapes at all).
fn quoted<'a>(src: Src<'a>, i: In<'a>, utf8_expected: &'static str) -> PResult<'a, Cow<'a, str>> {
    let (quote, unterminated) = match i.first() {
        Some(b'"') => (b'"', E_CLOSE_DQ),
        Some(b'\'') => (b'\'', E_CLOSE_SQ),
        _ => return no_match(i),
    };
    let body = &i[1..];
    let Some(mut n) = body.iter().position(|&b| b == quote) else { return fail(i, unterminated) };
    // Escapes are rare: only a string with a backslash needs the careful scan.
    let escaped = quote == b'"' && body[..n].contains(&b'\\');
    if escaped {
        n = 0;
        loop {
            let Some(p) = body[n..].iter().position(|&b| b == b'"' || b == b'\\') else {
                return fail(i, unterminated);
            };
            n += p;
            if body[n] == b'"' {
                break;
            }
            // A backslash always takes the next byte with it, so `\"` never ends the string.
            if n + 1 >= body.len() {
                return fail(i, unterminated);
            }
            n += 2;
        }
    }
    let s = src.str(&body[..n], utf8_expected)?;
    let s = if escaped { Cow::Owned(unescape(s)) } else { Cow::Borrowed(s) };
    Ok((&body[n + 1..], s))
}

/// lvm2's `dm_unescape_double_quotes`: `\"` → `"`, `\\` → `\`, anything else kept.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('\\') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        match after.as_bytes().first() {
            Some(b'"' | b'\\') => {
                out.push_str(&after[..1]);
                rest = &after[1..];
            }
            _ => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks a token's bytes are UTF-8, pointing the error at the first bad byte.
fn utf8<'a>(b: In<'a>, expected: &'static str) -> std::result::Result<&'a str, nom::Err<PErr<'a>>> {
    std::str::from_utf8(b).map_err(|e| {
        let bad = &b[e.valid_up_to()..];
        let len = e.error_len().unwrap_or(bad.len());
        nom::Err::Failure(PErr { at: bad, len: Some(len), expected })
    })
}

/// An integer (C `strtoll(s, 0)`: a leading 0 means octal) or a float (kept as spelled).
fn number(i: In<'_>) -> PResult<'_, Scalar<'_>> {
    let Some(&first) = i.first() else { return no_match(i) };
    if !matches!(first, b'0'..=b'9' | b'+' | b'-' | b'.') {
        return no_match(i);
    }
    let sign = usize::from(matches!(first, b'+' | b'-'));
    let digits = |from: usize| i[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_len = digits(sign);
    let mut end = sign + int_len;
    let mut frac_len = None;
    if i.get(end) == Some(&b'.') {
        let f = digits(end + 1);
        frac_len = Some(f);
        end += 1 + f;
    }
    let delimited = i.get(end).is_none_or(|&b| class(b) & (WORD_END | LIST_END) != 0);
    if int_len + frac_len.unwrap_or(0) == 0 || !delimited {
        return fail(i, E_NUMBER);
    }
    let rest = &i[end..];
    if frac_len.is_some() {
        // ASCII only, so each byte is one char.
        return Ok((rest, Scalar::Float(i[..end].iter().map(|&b| b as char).collect::<String>().into())));
    }
    let mut ds = &i[sign..end];
    let radix = if ds.len() > 1 && ds[0] == b'0' {
        ds = &ds[1..];
        if ds.iter().any(|&d| d > b'7') {
            return fail_len(i, end, E_OCTAL);
        }
        8
    } else {
        10
    };
    // Accumulate negatively so that i64::MIN is reachable.
    let mut v: i64 = 0;
    for &d in ds {
        match v.checked_mul(radix).and_then(|v| v.checked_sub(i64::from(d - b'0'))) {
            Some(n) => v = n,
            None => return fail_len(i, end, E_RANGE),
        }
    }
    if first != b'-' {
        match v.checked_neg() {
            Some(n) => v = n,
            None => return fail_len(i, end, E_RANGE),
        }
    }
    Ok((rest, Scalar::Int(v)))
}

/// An unquoted word in value position (`write_policy = auto`).
fn bare<'a>(src: Src<'a>, i: In<'a>, in_array: bool) -> PResult<'a, Cow<'a, str>> {
    let Some(&first) = i.first() else { return no_match(i) };
    if class(first) & NOT_BARE_START != 0 {
        return no_match(i);
    }
    let stop = if in_array { WORD_END | LIST_END } else { WORD_END };
    let (rest, word) = take_while1::<_, _, PErr<'_>>(|b| class(b) & stop == 0).parse(i)?;
    Ok((rest, Cow::Borrowed(src.str(word, E_UTF8_STRING)?)))
}

/// Whether `s` reads back as the same bare word (in an array if `in_array`); used by the
/// writer to decide between writing a [`Scalar::Bare`] unquoted or quoted.
pub(crate) fn is_bare_word(s: &str, in_array: bool) -> bool {
    let stop = if in_array { WORD_END | LIST_END } else { WORD_END };
    match s.as_bytes().split_first() {
        None => false,
        Some((&first, rest)) => {
            class(first) & NOT_BARE_START == 0
                && first != 0
                && rest.iter().all(|&b| b != 0 && class(b) & stop == 0)
        }
    }
}

/// Whether `s` reads back as the same unquoted key.
pub(crate) fn is_plain_key(s: &str) -> bool {
    match s.as_bytes().split_first() {
        None => false,
        Some((&first, rest)) => {
            !matches!(first, b'"' | b'\'' | b'[' | b']' | b',' | 0)
                && class(first) & WORD_END == 0
                && rest.iter().all(|&b| b != 0 && class(b) & WORD_END == 0)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// lvm2 2.03.16's on-disk text for a VG with one 2-stripe LV.
    pub(crate) const EXAMPLE: &str = r#"vg0 {
id = "npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy"
seqno = 10
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 2048
physical_volumes {
pv0 {
id = "CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgpR"
device = "/dev/loop0"
status = ["ALLOCATABLE"]
flags = []
dev_size = 131072
pe_start = 2048
pe_count = 63
}
}
logical_volumes {
str {
id = "H7XsqH-PSKt-g5kY-C0sJ-l4vZ-oW1i-R4WPgd"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1795292627
creation_host = "vm"
segment_count = 1
segment1 {
start_extent = 0
extent_count = 8
type = "striped"
stripe_count = 2
stripe_size = 128
stripes = [
"pv0", 8,
"pv1", 0
]
}
}
}
}
# Generated by LVM2 version 2.03.16(2) (2022-05-18): Sat Nov 21 20:25:13 2026

contents = "Text Format Volume Group"
version = 1

description = "Write from vgcfgrestore."

creation_host = "vm"	# Linux vm 6.18.44 #1 SMP x86_64
creation_time = 1795292713	# Sat Nov 21 20:25:13 2026
"#;

    fn int(v: i64) -> Value<'static> {
        Value::Scalar(Scalar::Int(v))
    }

    fn string(s: &str) -> Value<'static> {
        Value::Scalar(Scalar::Str(s.to_string().into()))
    }

    /// The single value of a one-item text `a = …`.
    fn one(text: &[u8]) -> Value<'_> {
        let root = parse(text).unwrap();
        assert_eq!(root.items.len(), 1, "{root:?}");
        root.value("a").unwrap().clone()
    }

    /// (line, column, expected, found) of a syntax error.
    fn err(text: &[u8]) -> (usize, usize, String, String) {
        match parse(text) {
            Err(Error::Syntax { line, column, offset, expected, found }) => {
                // The offset and line:column must agree.
                let before = &text[..offset];
                assert_eq!(line, 1 + before.iter().filter(|&&b| b == b'\n').count());
                (line, column, expected, found)
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    fn e(line: usize, column: usize, expected: &str, found: &str) -> (usize, usize, String, String) {
        (line, column, expected.to_string(), found.to_string())
    }

    #[test]
    fn example_parses() {
        let root = parse(EXAMPLE.as_bytes()).unwrap();
        let keys: Vec<&str> = root.items.iter().map(|i| i.key.as_ref()).collect();
        // The trailing comments are ignored; `creation_host`'s comment does not leak into it.
        assert_eq!(keys, ["vg0", "contents", "version", "description", "creation_host", "creation_time"]);
        assert_eq!(root.value("creation_host"), Some(&string("vm")));
        assert_eq!(root.value("creation_time"), Some(&int(1795292713)));

        let vg = root.section("vg0").unwrap();
        assert_eq!(vg.value("seqno"), Some(&int(10)));
        assert_eq!(vg.value("flags"), Some(&Value::Array(vec![])));
        assert_eq!(
            vg.value("status"),
            Some(&Value::Array(["RESIZEABLE", "READ", "WRITE"].map(|s| Scalar::Str(s.into())).to_vec()))
        );
        let pv0 = vg.section("physical_volumes").unwrap().section("pv0").unwrap();
        assert_eq!(pv0.value("device"), Some(&string("/dev/loop0")));
        assert_eq!(pv0.value("pe_count"), Some(&int(63)));

        let seg = vg.section("logical_volumes").unwrap().section("str").unwrap().section("segment1").unwrap();
        assert_eq!(
            seg.value("stripes"),
            Some(&Value::Array(vec![
                Scalar::Str("pv0".into()),
                Scalar::Int(8),
                Scalar::Str("pv1".into()),
                Scalar::Int(0),
            ]))
        );
    }

    #[test]
    fn duplicates_kept_in_order() {
        let root = parse(b"a = 1\nb { }\na = 2\nb { c = 3 }\n").unwrap();
        let keys: Vec<&str> = root.items.iter().map(|i| i.key.as_ref()).collect();
        assert_eq!(keys, ["a", "b", "a", "b"]);
        assert_eq!(root.items[2].node, Node::Value(int(2)));
        // Lookups take the first, as lvm2 does.
        assert_eq!(root.value("a"), Some(&int(1)));
        assert_eq!(root.section("b"), Some(&Section::new()));
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(one(br#"a = "a\"b\\c\d""#), string(r#"a"b\c\d"#));
        // A backslash before a newline or a multi-byte char is kept with it.
        assert_eq!(one("a = \"x\\\ny\\é\"".as_bytes()), string("x\\\ny\\é"));
        assert_eq!(one(br#"a = "\\""#), string("\\"));
        assert_eq!(one(br#"a = """#), string(""));
    }

    #[test]
    fn single_quotes_have_no_escapes() {
        assert_eq!(one(br"a = 'x\y\'"), string(r"x\y\"));
        assert_eq!(one(br#"a = 'say "hi" # not a comment'"#), string(r#"say "hi" # not a comment"#));
    }

    #[test]
    fn integers() {
        assert_eq!(one(b"a = 010"), int(8));
        assert_eq!(one(b"a = -010"), int(-8));
        assert_eq!(one(b"a = 0"), int(0));
        assert_eq!(one(b"a = 00"), int(0));
        assert_eq!(one(b"a = -1"), int(-1));
        assert_eq!(one(b"a = +7"), int(7));
        assert_eq!(one(b"a = 9223372036854775807"), int(i64::MAX));
        assert_eq!(one(b"a = -9223372036854775808"), int(i64::MIN));
        assert_eq!(one(b"a = 0777777777777777777777"), int(i64::MAX));
        assert_eq!(one(b"a = -01000000000000000000000"), int(i64::MIN));
    }

    #[test]
    fn floats_keep_their_spelling() {
        let float = |s: &str| Value::Scalar(Scalar::Float(s.to_string().into()));
        assert_eq!(one(b"a = 0.5"), float("0.5"));
        assert_eq!(one(b"a = -.5"), float("-.5"));
        assert_eq!(one(b"a = 1."), float("1."));
        assert_eq!(one(b"a = 010.50"), float("010.50"));
    }

    #[test]
    fn bare_words() {
        assert_eq!(one(b"a = auto"), Value::Scalar(Scalar::Bare("auto".into())));
        // Outside an array `,` and `]` do not end a bare word (as in lvm2).
        assert_eq!(one(b"a = x,y]\n"), Value::Scalar(Scalar::Bare("x,y]".into())));
        // Inside one they do.
        assert_eq!(
            one(b"a = [x,y , \"z\"]"),
            Value::Array(vec![Scalar::Bare("x".into()), Scalar::Bare("y".into()), Scalar::Str("z".into())])
        );
        // Words end at `}`, `#`, `=` and whitespace.
        let root = parse(b"s { a = on}b = off#c\n").unwrap();
        assert_eq!(root.section("s").unwrap().value("a"), Some(&Value::Scalar(Scalar::Bare("on".into()))));
        assert_eq!(root.value("b"), Some(&Value::Scalar(Scalar::Bare("off".into()))));
    }

    #[test]
    fn arrays() {
        let root = parse(b"empty = []\nspaced = [ ]\n").unwrap();
        assert_eq!(root.value("empty"), Some(&Value::Array(vec![])));
        assert_eq!(root.value("spaced"), Some(&Value::Array(vec![])));
        // An empty array is not a missing key.
        assert_eq!(root.value("missing"), None);
        // lvm2 accepts a trailing comma, and quoted strings without commas.
        let strs = |v: &[&str]| Value::Array(v.iter().map(|s| Scalar::Str(s.to_string().into())).collect());
        assert_eq!(one(br#"a = ["x",]"#), strs(&["x"]));
        assert_eq!(one(br#"a = ["x" 'y' "z"]"#), strs(&["x", "y", "z"]));
        assert_eq!(
            one(b"a = [1,-2 , 0.5,# comment\n\"s\"]"),
            Value::Array(vec![
                Scalar::Int(1),
                Scalar::Int(-2),
                Scalar::Float("0.5".into()),
                Scalar::Str("s".into())
            ])
        );
    }

    #[test]
    fn layout_is_free() {
        let root = parse(b"a=1 b=\"x\"c{d=[1]}'quoted key'=2\r\n\x0b\x0c\"k\" { }").unwrap();
        let keys: Vec<&str> = root.items.iter().map(|i| i.key.as_ref()).collect();
        assert_eq!(keys, ["a", "b", "c", "quoted key", "k"]);
        // A key may start with a digit: only values are numbers.
        assert_eq!(parse(b"1x = 2").unwrap().value("1x"), Some(&int(2)));
    }

    #[test]
    fn nul_ends_input() {
        let root = parse(b"a = 1\n\0b = garbage \xff [[[").unwrap();
        assert_eq!(root.items.len(), 1);
        assert_eq!(
            parse(b"a = \"x\0y\"").map_err(|e| e.to_string()).unwrap_err(),
            "metadata text line 1, column 5: expected closing '\"', found \"\\x22x\""
        );
        assert_eq!(parse(b"\0a = 1").unwrap(), Section::new());
        assert_eq!(parse(b"").unwrap(), Section::new());
    }

    #[test]
    fn error_missing_equals() {
        assert_eq!(err(b"a = 1\nb 2\n"), e(2, 3, "'=' or '{' after key", "\"2\""));
        assert_eq!(err(b"a"), e(1, 2, "'=' or '{' after key", "end of input"));
    }

    #[test]
    fn error_missing_value() {
        assert_eq!(err(b"s {\na = }\n"), e(2, 5, "value", "\"}\""));
        assert_eq!(err(b"a ="), e(1, 4, "value", "end of input"));
        assert_eq!(err(b"a = [1,,2]"), e(1, 8, "value or ']'", "\",\""));
    }

    #[test]
    fn error_unterminated_string() {
        assert_eq!(err(b"a = 1\nb = \"abc\nc = 2\n"), e(2, 5, "closing '\"'", "\"\\x22abc\""));
        assert_eq!(err(b"a = 'abc"), e(1, 5, "closing \"'\"", "\"'abc\""));
        // An escaped quote does not close the string.
        assert_eq!(err(br#"a = "abc\""#), e(1, 5, "closing '\"'", "\"\\x22abc\\x5c\\x22\""));
    }

    #[test]
    fn error_hex() {
        let number = "number (decimal or octal integer, or float)";
        assert_eq!(err(b"a = 0x10\n"), e(1, 5, number, "\"0x10\""));
        assert_eq!(err(b"a = -\n"), e(1, 5, number, "\"-\""));
        assert_eq!(err(b"a = 1.2.3\n"), e(1, 5, number, "\"1.2.3\""));
        assert_eq!(err(b"a = 08\n"), e(1, 5, "octal digits after a leading 0", "\"08\""));
    }

    #[test]
    fn error_integer_overflow() {
        let range = "integer within 64-bit range";
        assert_eq!(err(b"x = 1\na = 99999999999999999999\n"), e(2, 5, range, "\"99999999999999999999\""));
        assert_eq!(err(b"a = 9223372036854775808"), e(1, 5, range, "\"9223372036854775808\""));
        assert_eq!(err(b"a = [-9223372036854775809]"), e(1, 6, range, "\"-9223372036854775809\""));
        assert_eq!(err(b"a = 01000000000000000000000"), e(1, 5, range, "\"01000000000000000000000\""));
    }

    #[test]
    fn error_nested_array() {
        assert_eq!(err(b"a = [1, [2]]"), e(1, 9, "scalar (arrays do not nest)", "\"[\""));
        assert_eq!(err(b"a = [[]]"), e(1, 6, "scalar (arrays do not nest)", "\"[\""));
    }

    #[test]
    fn error_array_separator() {
        // A number or bare word may only follow `[` or `,` (lvm2 reads it as a key).
        assert_eq!(err(b"a = [1 2]"), e(1, 8, "']' or ','", "\"2\""));
        assert_eq!(err(b"a = [\"x\" y]"), e(1, 10, "']' or ','", "\"y\""));
        assert_eq!(err(b"a = [1\nb = 2"), e(2, 1, "']' or ','", "\"b\""));
        assert_eq!(err(b"a = [1,"), e(1, 8, "value or ']'", "end of input"));
    }

    #[test]
    fn error_depth_limit() {
        let text = "a { ".repeat(10_000);
        // The 65th `{` is the first one too many: unit 64 starts at byte 256.
        assert_eq!(err(text.as_bytes()), e(1, 259, "at most 64 nested sections", "\"{\""));
        // Exactly the limit is fine.
        let ok = format!("{}{}", "a {\n".repeat(MAX_DEPTH), "}\n".repeat(MAX_DEPTH));
        let mut s = &parse(ok.as_bytes()).unwrap();
        for _ in 0..MAX_DEPTH {
            s = s.section("a").unwrap();
        }
        assert!(s.items.is_empty());
    }

    #[test]
    fn error_unbalanced_braces() {
        assert_eq!(err(b"a = 1\n}\n"), e(2, 1, "key or end of input", "\"}\""));
        assert_eq!(err(b"s {\nb = 1\n"), e(3, 1, "'}'", "end of input"));
        assert_eq!(err(b"s {\n{\n"), e(2, 1, "key or '}'", "\"{\""));
    }

    #[test]
    fn error_non_utf8() {
        assert_eq!(err(b"a = \"x\xffy\""), e(1, 7, "UTF-8 string", "\"\\xff\""));
        assert_eq!(err(b"a = 'x\xe2\x82'"), e(1, 7, "UTF-8 string", "\"\\xe2\\x82\""));
        assert_eq!(err(b"a = x\xc0"), e(1, 6, "UTF-8 string", "\"\\xc0\""));
        assert_eq!(err(b"ok = 1\nb\xfe = 1"), e(2, 2, "UTF-8 key", "\"\\xfe\""));
        assert_eq!(err(b"\"k\xfe\" = 1"), e(1, 3, "UTF-8 key", "\"\\xfe\""));
    }

    #[test]
    fn error_empty_key() {
        assert_eq!(err(b"\"\" = 1"), e(1, 1, "non-empty key", "\"\\x22\\x22\""));
    }

    #[test]
    fn error_garbage() {
        assert_eq!(err(b"= 5"), e(1, 1, "key or end of input", "\"=\""));
        assert_eq!(err(b"a = 1 ]]]"), e(1, 7, "key or end of input", "\"]\""));
        assert_eq!(err(b"\xff\xfe\x01"), e(1, 1, "UTF-8 key", "\"\\xff\""));
        assert_eq!(err(b"\x01\x02 {{"), e(1, 5, "key or '}'", "\"{\""));
    }

    #[test]
    fn error_message_format() {
        let msg = parse(b"a = 1\nb 2\n").unwrap_err().to_string();
        assert_eq!(msg, "metadata text line 2, column 3: expected '=' or '{' after key, found \"2\"");
    }
}
