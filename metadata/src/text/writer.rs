//! Writer for the config grammar, in lvm2's `export.c` layout.
//!
//! Two forms: [`write_raw`] (the on-disk metadata text: no indentation) and [`write_file`]
//! (backup/archive files: one TAB per nesting level). Both are one item per line,
//! `key = value`, `name {` … `}`, arrays on one line as `["a", "b"]`, except the segment area
//! lists (`stripes`, `mirrors`, `raids`, `raid0_lvs`), which lvm2 writes one area per line:
//!
//! ```text
//! stripes = [
//! "pv0", 8,
//! "pv1", 0
//! ]
//! ```
//!
//! Blank lines and comments are not written; lvm2's parser ignores them.
//!
//! What the tree can hold but the grammar cannot say, and what is done about it:
//! - A [`Scalar::Bare`] that would not read back as the same bare word (empty, starts like a
//!   number or a quote, contains a delimiter) is written as a quoted string; it reads back as
//!   [`Scalar::Str`], which lvm2 does not distinguish from a bare word.
//! - A bare word inside an array is followed by a space, because lvm2 (unlike
//!   [`parse`](super::parser::parse)) does not end a bare word at `,` or `]`.
//! - A key that is not a plain identifier is written quoted, which lvm2 accepts for any key.
//!   Keys must be non-empty, as lvm2 requires.
//! - A [`Scalar::Float`] is written as spelled; it must be spelled as the parser reads one
//!   (`[+-]?digits.digits`, at least one digit).
//! - Strings and keys must not contain NUL: the on-disk text ends at the first NUL.

use std::fmt::Write as _;

use super::parser::{is_bare_word, is_plain_key};
use super::tree::{Item, Node, Scalar, Section, Value};

/// Keys whose arrays lvm2 writes one area per line (`out_areas` in `export.c`).
const AREA_KEYS: [&str; 4] = ["stripes", "mirrors", "raids", "raid0_lvs"];

/// The on-disk metadata form: no indentation, one item per line.
///
/// The caller appends the terminating NUL when writing it to a metadata area.
pub fn write_raw(root: &Section) -> String {
    Writer::new(root, false).finish()
}

/// The backup-file form (`/etc/lvm/backup`, `/etc/lvm/archive`): like [`write_raw`] with one
/// TAB of indentation per nesting level.
pub fn write_file(root: &Section) -> String {
    Writer::new(root, true).finish()
}

struct Writer {
    out: String,
    tabs: bool,
}

impl Writer {
    fn new(root: &Section, tabs: bool) -> Self {
        let mut w = Writer { out: String::with_capacity(4096), tabs };
        w.items(&root.items, 0);
        w
    }

    fn finish(self) -> String {
        self.out
    }

    fn indent(&mut self, depth: usize) {
        if self.tabs {
            self.out.extend(std::iter::repeat_n('\t', depth));
        }
    }

    fn items(&mut self, items: &[Item], depth: usize) {
        for item in items {
            self.indent(depth);
            self.key(&item.key);
            match &item.node {
                Node::Section(s) => {
                    self.out.push_str(" {\n");
                    self.items(&s.items, depth + 1);
                    self.indent(depth);
                    self.out.push_str("}\n");
                }
                Node::Value(v) => {
                    self.out.push_str(" = ");
                    self.value(&item.key, v, depth);
                    self.out.push('\n');
                }
            }
        }
    }

    fn key(&mut self, key: &str) {
        if is_plain_key(key) {
            self.out.push_str(key);
        } else {
            self.quoted(key);
        }
    }

    fn value(&mut self, key: &str, v: &Value, depth: usize) {
        match v {
            Value::Scalar(s) => self.scalar(s, false),
            Value::Array(a) if a.is_empty() => self.out.push_str("[]"),
            Value::Array(a) if AREA_KEYS.contains(&key) => self.area_array(key, a, depth),
            Value::Array(a) => {
                self.out.push('[');
                for (n, s) in a.iter().enumerate() {
                    if n > 0 {
                        self.out.push_str(", ");
                    }
                    self.scalar(s, true);
                }
                self.out.push(']');
            }
        }
    }

    /// One area per line: `"pv0", 8,` for stripes and mirrors (name, extent), and
    /// `"lv_rmeta_0", "lv_rimage_0",` for raids with metadata images; a lone element otherwise.
    fn area_array(&mut self, key: &str, a: &[Scalar], depth: usize) {
        self.out.push_str("[\n");
        let mut n = 0;
        while n < a.len() {
            let pair = match (key, a.get(n + 1)) {
                (_, None) => false,
                ("stripes" | "mirrors", Some(next)) => matches!(next, Scalar::Int(_)),
                (_, Some(_)) => matches!(&a[n], Scalar::Str(s) if s.contains("_rmeta_")),
            };
            let take = if pair { 2 } else { 1 };
            self.indent(depth + 1);
            for (k, s) in a[n..n + take].iter().enumerate() {
                if k > 0 {
                    self.out.push_str(", ");
                }
                self.scalar(s, true);
            }
            n += take;
            if n < a.len() {
                self.out.push(',');
            }
            self.out.push('\n');
        }
        self.indent(depth);
        self.out.push(']');
    }

    fn scalar(&mut self, s: &Scalar, in_array: bool) {
        match s {
            Scalar::Int(v) => {
                // Writing to a String cannot fail.
                let _ = write!(self.out, "{v}");
            }
            Scalar::Float(f) => self.out.push_str(f),
            Scalar::Str(s) => self.quoted(s),
            Scalar::Bare(b) if is_bare_word(b, in_array) => {
                self.out.push_str(b);
                if in_array {
                    self.out.push(' ');
                }
            }
            Scalar::Bare(b) => self.quoted(b),
        }
    }

    /// `"…"` with exactly `"` and `\` escaped, as lvm2's `dm_escape_double_quotes`.
    fn quoted(&mut self, s: &str) {
        self.out.push('"');
        let mut rest = s;
        while let Some(p) = rest.find(['"', '\\']) {
            self.out.push_str(&rest[..p]);
            self.out.push('\\');
            self.out.push_str(&rest[p..p + 1]);
            rest = &rest[p + 1..];
        }
        self.out.push_str(rest);
        self.out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parser::parse;
    use crate::text::parser::tests::EXAMPLE;

    fn bare(s: &str) -> Scalar<'_> {
        Scalar::Bare(s.into())
    }

    fn str(s: &str) -> Scalar<'_> {
        Scalar::Str(s.into())
    }

    #[test]
    fn raw_form_matches_lvm2_layout() {
        let root = parse(EXAMPLE.as_bytes()).unwrap();
        // lvm2's text up to the end of the VG section, byte for byte; the trailer loses its
        // comments and blank lines.
        let vg_end = EXAMPLE.find("}\n# Generated").unwrap() + 2;
        let expected = format!(
            "{}{}",
            &EXAMPLE[..vg_end],
            "contents = \"Text Format Volume Group\"\nversion = 1\ndescription = \"Write from \
             vgcfgrestore.\"\ncreation_host = \"vm\"\ncreation_time = 1795292713\n"
        );
        assert_eq!(write_raw(&root), expected);
    }

    #[test]
    fn file_form_indents_with_tabs() {
        let root = parse(EXAMPLE.as_bytes()).unwrap();
        let text = write_file(&root);
        assert!(text.starts_with("vg0 {\n\tid = \"npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy\"\n\tseqno = 10\n"));
        assert!(text.contains("\n\tphysical_volumes {\n\t\tpv0 {\n\t\t\tid = "));
        assert!(text.contains(
            "\n\t\t\t\tstripe_size = 128\n\t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", 8,\n\t\t\t\t\t\"pv1\", 0\n\t\t\t\t]\n\t\t\t}\n"
        ));
        assert!(text.ends_with("}\ncontents = \"Text Format Volume Group\"\nversion = 1\ndescription = \"Write from vgcfgrestore.\"\ncreation_host = \"vm\"\ncreation_time = 1795292713\n"));
        assert_eq!(parse(text.as_bytes()).unwrap(), root);
    }

    #[test]
    fn area_arrays() {
        let mut seg = Section::new();
        seg.push_value(
            "mirrors",
            Value::Array(vec![str("m_mimage_0"), Scalar::Int(0), str("m_mimage_1"), Scalar::Int(0)]),
        );
        seg.push_str_array("raids", &["r_rmeta_0", "r_rimage_0", "r_rmeta_1", "r_rimage_1"]);
        seg.push_str_array("raid0_lvs", &["r0_rimage_0", "r0_rimage_1"]);
        seg.push_value("stripes", Value::Array(vec![]));
        let text = write_raw(&seg);
        assert_eq!(
            text,
            "mirrors = [\n\"m_mimage_0\", 0,\n\"m_mimage_1\", 0\n]\n\
             raids = [\n\"r_rmeta_0\", \"r_rimage_0\",\n\"r_rmeta_1\", \"r_rimage_1\"\n]\n\
             raid0_lvs = [\n\"r0_rimage_0\",\n\"r0_rimage_1\"\n]\n\
             stripes = []\n"
        );
        assert_eq!(parse(text.as_bytes()).unwrap(), seg);
    }

    #[test]
    fn scalars() {
        let mut root = Section::new();
        root.push_str("s", "a\"b\\c\\d é");
        root.push_int("min", i64::MIN);
        root.push_int("max", i64::MAX);
        root.push_value("f", Value::Scalar(Scalar::Float("-.5".into())));
        root.push_value("b", Value::Scalar(bare("auto")));
        root.push_value("list", Value::Array(vec![bare("x"), str("y"), Scalar::Int(-1), bare("z")]));
        let text = write_raw(&root);
        assert_eq!(
            text,
            "s = \"a\\\"b\\\\c\\\\d é\"\nmin = -9223372036854775808\nmax = 9223372036854775807\n\
             f = -.5\nb = auto\nlist = [x , \"y\", -1, z ]\n"
        );
        assert_eq!(parse(text.as_bytes()).unwrap(), root);
    }

    #[test]
    fn unwritable_bare_words_and_keys_are_quoted() {
        let mut root = Section::new();
        root.push_value("a", Value::Scalar(bare("12ab")));
        root.push_value("b", Value::Scalar(bare("has space")));
        root.push_value("c", Value::Scalar(bare("x,y")));
        root.push_value("d", Value::Array(vec![bare("x,y"), bare("")]));
        root.push_int("key with = sign", 1);
        root.push_section("[odd]", Section::new());
        root.push_int("1x", 2);
        let text = write_raw(&root);
        assert_eq!(
            text,
            "a = \"12ab\"\nb = \"has space\"\nc = x,y\nd = [\"x,y\", \"\"]\n\
             \"key with = sign\" = 1\n\"[odd]\" {\n}\n1x = 2\n"
        );
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(back.value("a"), Some(&Value::Scalar(str("12ab"))));
        assert_eq!(back.value("c"), Some(&Value::Scalar(bare("x,y"))));
        assert_eq!(back.value("d"), Some(&Value::Array(vec![str("x,y"), str("")])));
        assert_eq!(back.value("key with = sign"), Some(&Value::Scalar(Scalar::Int(1))));
        assert_eq!(back.section("[odd]"), Some(&Section::new()));
        assert_eq!(back.value("1x"), Some(&Value::Scalar(Scalar::Int(2))));
    }

    #[test]
    fn empty_tree() {
        assert_eq!(write_raw(&Section::new()), "");
        assert_eq!(write_file(&Section::new()), "");
    }
}
