//! The generic config tree that LVM text metadata, backup files and lvm.conf share.
//!
//! Lossless for what lvm2 reads: key order and duplicate keys are kept, integers keep their
//! value, floats keep their spelling, bare words stay bare. Comments and layout are not kept.
//! Interpretation (what a VG is) lives in `import.rs`; this is only the grammar's tree.

/// A list of `key = value` and `key { … }` items: the root of a text, or a section body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    /// Items in file order.
    pub items: Vec<Item>,
}

/// One `key = value` or `key { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The identifier (or the unquoted text of a quoted section name).
    pub key: String,
    /// What follows it.
    pub node: Node,
}

/// The right-hand side of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// `key = value`
    Value(Value),
    /// `key { … }`
    Section(Section),
}

/// A value: one scalar or a one-level array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `key = 1`, `key = "s"`.
    Scalar(Scalar),
    /// `key = [ … ]`; may be empty, which differs from a missing key.
    Array(Vec<Scalar>),
}

/// A single value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// Integer (C `strtoll(…, 0)` semantics on read: a leading 0 means octal).
    Int(i64),
    /// Floating-point number, spelled as written (lvm.conf only; the VG text never has one).
    Float(String),
    /// Quoted string, unescaped.
    Str(String),
    /// Unquoted word (VDO's `write_policy = auto`); written back without quotes.
    Bare(String),
}

impl Section {
    /// An empty section.
    pub fn new() -> Self {
        Section::default()
    }

    /// First item with this key, as lvm2's lookups do (duplicates are kept but not merged).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.items.iter().find(|i| i.key == key).map(|i| &i.node)
    }

    /// The sub-section `key`, if `key` names a section.
    pub fn section(&self, key: &str) -> Option<&Section> {
        match self.get(key)? {
            Node::Section(s) => Some(s),
            Node::Value(_) => None,
        }
    }

    /// The value `key`, if `key` names a value.
    pub fn value(&self, key: &str) -> Option<&Value> {
        match self.get(key)? {
            Node::Value(v) => Some(v),
            Node::Section(_) => None,
        }
    }

    /// Sub-sections in order, with their keys.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.items.iter().filter_map(|i| match &i.node {
            Node::Section(s) => Some((i.key.as_str(), s)),
            Node::Value(_) => None,
        })
    }

    /// Append `key = value`.
    pub fn push_value(&mut self, key: impl Into<String>, value: Value) {
        self.items.push(Item { key: key.into(), node: Node::Value(value) });
    }

    /// Append `key = int`.
    pub fn push_int(&mut self, key: impl Into<String>, v: i64) {
        self.push_value(key, Value::Scalar(Scalar::Int(v)));
    }

    /// Append `key = "string"`.
    pub fn push_str(&mut self, key: impl Into<String>, v: impl Into<String>) {
        self.push_value(key, Value::Scalar(Scalar::Str(v.into())));
    }

    /// Append `key = ["a", "b"]`.
    pub fn push_str_array<S: AsRef<str>>(&mut self, key: impl Into<String>, v: &[S]) {
        let a = v.iter().map(|s| Scalar::Str(s.as_ref().to_string())).collect();
        self.push_value(key, Value::Array(a));
    }

    /// Append `key { … }`.
    pub fn push_section(&mut self, key: impl Into<String>, s: Section) {
        self.items.push(Item { key: key.into(), node: Node::Section(s) });
    }
}
