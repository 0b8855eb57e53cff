//! The generic config tree that LVM text metadata, backup files and lvm.conf share.
//!
//! Lossless for what lvm2 reads: key order and duplicate keys are kept, integers keep their
//! value, floats keep their spelling, bare words stay bare. Comments and layout are not kept.
//! Interpretation (what a VG is) lives in `import.rs`; this is only the grammar's tree.
//!
//! A parsed tree borrows its keys and strings from the input text (`Cow::Borrowed`); only
//! strings with escapes own their bytes. A text is parsed far more often than it is kept, and
//! the per-string allocations were most of the parse. [`Section::into_owned`] detaches a tree
//! from its text; trees built in code (export) own everything.

use std::borrow::Cow;

/// A list of `key = value` and `key { … }` items: the root of a text, or a section body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section<'a> {
    /// Items in file order.
    pub items: Vec<Item<'a>>,
}

/// One `key = value` or `key { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item<'a> {
    /// The identifier (or the unquoted text of a quoted section name).
    pub key: Cow<'a, str>,
    /// What follows it.
    pub node: Node<'a>,
}

/// The right-hand side of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node<'a> {
    /// `key = value`
    Value(Value<'a>),
    /// `key { … }`
    Section(Section<'a>),
}

/// A value: one scalar or a one-level array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// `key = 1`, `key = "s"`.
    Scalar(Scalar<'a>),
    /// `key = [ … ]`; may be empty, which differs from a missing key.
    Array(Vec<Scalar<'a>>),
}

/// A single value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// Integer (C `strtoll(…, 0)` semantics on read: a leading 0 means octal).
    Int(i64),
    /// Floating-point number, spelled as written (lvm.conf only; the VG text never has one).
    Float(Cow<'a, str>),
    /// Quoted string, unescaped.
    Str(Cow<'a, str>),
    /// Unquoted word (VDO's `write_policy = auto`); written back without quotes.
    Bare(Cow<'a, str>),
}

fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

impl Scalar<'_> {
    /// The same scalar, independent of the text it was parsed from.
    pub fn into_owned(self) -> Scalar<'static> {
        match self {
            Scalar::Int(i) => Scalar::Int(i),
            Scalar::Float(f) => Scalar::Float(own(f)),
            Scalar::Str(s) => Scalar::Str(own(s)),
            Scalar::Bare(b) => Scalar::Bare(own(b)),
        }
    }
}

impl Value<'_> {
    /// The same value, independent of the text it was parsed from.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Scalar(s) => Value::Scalar(s.into_owned()),
            Value::Array(a) => Value::Array(a.into_iter().map(Scalar::into_owned).collect()),
        }
    }
}

impl Item<'_> {
    /// The same item, independent of the text it was parsed from.
    pub fn into_owned(self) -> Item<'static> {
        Item {
            key: own(self.key),
            node: match self.node {
                Node::Value(v) => Node::Value(v.into_owned()),
                Node::Section(s) => Node::Section(s.into_owned()),
            },
        }
    }
}

impl<'a> Section<'a> {
    /// An empty section.
    pub fn new() -> Self {
        Section::default()
    }

    /// The same tree, independent of the text it was parsed from.
    pub fn into_owned(self) -> Section<'static> {
        Section { items: self.items.into_iter().map(Item::into_owned).collect() }
    }

    /// First item with this key, as lvm2's lookups do (duplicates are kept but not merged).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.items.iter().find(|i| i.key == key).map(|i| &i.node)
    }

    /// The tree as lvm2 reads a *file* (`vgcfgrestore -f`, a backup: libdm's `_section` with
    /// its duplicate-node check): a key given again in one section names the same node — a
    /// section's items are merged into the first one's, by the same rule; a value replaces the
    /// earlier one in the first one's place ("Ignoring duplicate config value", the last is
    /// kept). Metadata read from a disk is parsed without that check (`import.c`), so there
    /// the first of duplicate keys is the one looked up, as [`get`](Self::get) does.
    pub fn merge_duplicates(self) -> Section<'a> {
        let mut out: Vec<Item<'a>> = Vec::with_capacity(self.items.len());
        for item in self.items {
            match out.iter_mut().position(|o| o.key == item.key) {
                None => out.push(item),
                Some(i) => match (&mut out[i].node, item.node) {
                    (Node::Section(first), Node::Section(more)) => {
                        let mut merged = std::mem::take(first);
                        merged.items.extend(more.items);
                        *first = merged;
                    }
                    // libdm keeps the node's kind from its first appearance and sets its value;
                    // a value after a section (or the reverse) is a parse error there, so the
                    // later item simply takes the place.
                    (node, later) => *node = later,
                },
            }
        }
        for item in &mut out {
            if let Node::Section(sec) = &mut item.node {
                *sec = std::mem::take(sec).merge_duplicates();
            }
        }
        Section { items: out }
    }

    /// Paths (`vg0/logical_volumes/lv0/status`) of keys given more than once in one section,
    /// each once, in text order. lvm2 warns about these ("Ignoring duplicate config value",
    /// libdm/libdm-config.c) and keeps reading; [`get`](Self::get) sees the first.
    pub fn duplicate_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_duplicates(&mut Vec::new(), &mut out);
        out
    }

    /// Every parse of on-disk metadata asks (thousands of small sections for a large VG), so
    /// nothing is allocated unless a key repeats: a small section compares keys pairwise, a
    /// large one (`logical_volumes`) sorts them; the path is formatted only for a duplicate.
    fn collect_duplicates<'s>(&'s self, path: &mut Vec<&'s str>, out: &mut Vec<String>) {
        const PAIRWISE: usize = 24;
        let key = |n: usize| self.items[n].key.as_ref();
        // The positions of keys' second appearances (each key reported once).
        let seconds: Vec<usize> = if self.surely_distinct() {
            Vec::new()
        } else if self.items.len() <= PAIRWISE {
            (0..self.items.len()).filter(|&n| (0..n).filter(|&m| key(m) == key(n)).count() == 1).collect()
        } else {
            let mut order: Vec<usize> = (0..self.items.len()).collect();
            order.sort_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
            let mut v: Vec<usize> = (1..order.len())
                .filter(|&w| {
                    key(order[w - 1]) == key(order[w]) && (w < 2 || key(order[w - 2]) != key(order[w]))
                })
                .map(|w| order[w])
                .collect();
            v.sort_unstable();
            v
        };
        let mut next = seconds.iter().peekable();
        for (n, i) in self.items.iter().enumerate() {
            if next.next_if_eq(&&n).is_some() {
                let mut p = String::new();
                for part in path.iter() {
                    p.push_str(part);
                    p.push('/');
                }
                p.push_str(&i.key);
                out.push(p);
            }
            if let Node::Section(s) = &i.node {
                path.push(i.key.as_ref());
                s.collect_duplicates(path, out);
                path.pop();
            }
        }
    }

    /// True when no two keys can be equal: none shares a signature (length and end bytes, in
    /// 128 buckets) with another. Most sections of VG metadata pass with one look at each key;
    /// a false answer only means that the keys are compared.
    fn surely_distinct(&self) -> bool {
        let mut seen = 0u128;
        for i in &self.items {
            let b = i.key.as_bytes();
            let (first, last) =
                (b.first().copied().unwrap_or(0) as usize, b.last().copied().unwrap_or(0) as usize);
            let bit = 1u128 << ((b.len() * 31 + first * 7 + last) % 128);
            if seen & bit != 0 {
                return false;
            }
            seen |= bit;
        }
        true
    }

    /// The sub-section `key`, if `key` names a section.
    pub fn section(&self, key: &str) -> Option<&Section<'a>> {
        match self.get(key)? {
            Node::Section(s) => Some(s),
            Node::Value(_) => None,
        }
    }

    /// The value `key`, if `key` names a value.
    pub fn value(&self, key: &str) -> Option<&Value<'a>> {
        match self.get(key)? {
            Node::Value(v) => Some(v),
            Node::Section(_) => None,
        }
    }

    /// Sub-sections in order, with their keys.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section<'a>)> {
        self.items.iter().filter_map(|i| match &i.node {
            Node::Section(s) => Some((i.key.as_ref(), s)),
            Node::Value(_) => None,
        })
    }

    /// Append `key = value`.
    pub fn push_value(&mut self, key: impl Into<Cow<'a, str>>, value: Value<'a>) {
        self.items.push(Item { key: key.into(), node: Node::Value(value) });
    }

    /// Append `key = int`.
    pub fn push_int(&mut self, key: impl Into<Cow<'a, str>>, v: i64) {
        self.push_value(key, Value::Scalar(Scalar::Int(v)));
    }

    /// Append `key = "string"`.
    pub fn push_str(&mut self, key: impl Into<Cow<'a, str>>, v: impl Into<Cow<'a, str>>) {
        self.push_value(key, Value::Scalar(Scalar::Str(v.into())));
    }

    /// Append `key = ["a", "b"]`.
    pub fn push_str_array<S: AsRef<str>>(&mut self, key: impl Into<Cow<'a, str>>, v: &[S]) {
        let a = v.iter().map(|s| Scalar::Str(Cow::Owned(s.as_ref().to_string()))).collect();
        self.push_value(key, Value::Array(a));
    }

    /// Append `key { … }`.
    pub fn push_section(&mut self, key: impl Into<Cow<'a, str>>, s: Section<'a>) {
        self.items.push(Item { key: key.into(), node: Node::Section(s) });
    }
}

#[cfg(test)]
mod tests {
    use super::{Scalar, Value};
    use crate::text::parse;

    fn int(v: Option<&Value<'_>>) -> i64 {
        match v {
            Some(Value::Scalar(Scalar::Int(i))) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }

    #[test]
    fn a_file_merges_duplicate_sections_and_keeps_the_last_value_as_libdm() {
        let text = b"a = 1\ns {\nx = 1\ny = 2\n}\nb = 2\na = 3\ns {\nx = 5\nz = 6\n}\n";
        let root = parse(text).unwrap();
        // As read from a disk: both kept, the first looked up.
        assert_eq!(int(root.value("a")), 1);
        assert_eq!(root.duplicate_keys(), ["a", "s"]);
        let merged = root.merge_duplicates();
        let keys: Vec<&str> = merged.items.iter().map(|i| i.key.as_ref()).collect();
        assert_eq!(keys, ["a", "s", "b"], "first positions kept");
        assert_eq!(int(merged.value("a")), 3, "the last value");
        let s = merged.section("s").unwrap();
        let inner: Vec<(&str, i64)> =
            s.items.iter().map(|i| (i.key.as_ref(), int(s.value(&i.key)))).collect();
        assert_eq!(inner, [("x", 5), ("y", 2), ("z", 6)]);
        assert!(merged.duplicate_keys().is_empty());
    }

    #[test]
    fn duplicate_keys_are_named_by_path_once_in_text_order_in_small_and_large_sections() {
        // A large section (sorted, not compared pairwise): k7 repeats before k3's second and
        // third appearance; a nested section has its own duplicate, named where it is met;
        // two sections named alike are a duplicate of the parent, not of each other's keys.
        let mut text = String::from("big {\n");
        for n in 0..30 {
            text.push_str(&format!("k{n} = {n}\n"));
            if n == 10 {
                text.push_str("k7 = 0\nk3 = 0\nk3 = 1\n");
            }
        }
        text.push_str("inner {\nx = 1\ny = 2\nx = 3\n}\ninner {\nx = 1\n}\n}\nsmall {\na = 1\nb = 2\n}\n");
        let root = parse(text.as_bytes()).unwrap();
        assert_eq!(root.duplicate_keys(), ["big/k7", "big/k3", "big/inner/x", "big/inner"]);
        // Negative control: the same text without the repeats has none.
        let clean = text.replace("k7 = 0\nk3 = 0\nk3 = 1\n", "").replace("x = 3\n}\ninner {\nx = 1\n", "");
        assert!(parse(clean.as_bytes()).unwrap().duplicate_keys().is_empty());
    }
}
