//! Status and flag words per object kind, in the order lvm2's `flags.c` writes them.
//!
//! `status = [...]` words are STATUS flags: an unknown one is a hard error, as in lvm2.
//! `flags = [...]` words are COMPATIBLE flags: unknown ones are ignored by lvm2; we keep them so
//! a rewrite loses nothing. `WRITE_LOCKED` is read back as `WRITE` (lvmlockd writes it instead
//! of `WRITE` so that old tools see the object read-only).

/// Which object a flag set belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagKind {
    /// Volume group.
    Vg,
    /// Physical volume.
    Pv,
    /// Logical volume.
    Lv,
}

/// STATUS words, lvm2's table order.
pub fn status_words(kind: FlagKind) -> &'static [&'static str] {
    match kind {
        FlagKind::Vg => {
            &["EXPORTED", "RESIZEABLE", "PVMOVE", "READ", "WRITE", "CLUSTERED", "SHARED", "PARTIAL"]
        }
        FlagKind::Pv => &["ALLOCATABLE", "EXPORTED", "MISSING"],
        FlagKind::Lv => &[
            "READ",
            "WRITE",
            "FIXED_MINOR",
            "VISIBLE",
            "PVMOVE",
            "LOCKED",
            "NOTSYNCED",
            "REBUILD",
            "WRITEMOSTLY",
            "CACHE_VOL",
        ],
    }
}

/// COMPATIBLE words, lvm2's table order.
pub fn compat_words(kind: FlagKind) -> &'static [&'static str] {
    match kind {
        FlagKind::Vg => &["WRITE_LOCKED", "NOAUTOACTIVATE"],
        FlagKind::Pv => &["MISSING"],
        FlagKind::Lv => {
            &["WRITE_LOCKED", "ACTIVATION_SKIP", "NOAUTOACTIVATE", "ERROR_WHEN_FULL", "CACHE_VOL"]
        }
    }
}

/// SEGTYPE flags that may follow a segment type as `+FLAG`.
pub const SEGTYPE_FLAGS: &[&str] = &[
    "RESHAPE",
    "RESHAPE_DATA_OFFSET",
    "RESHAPE_DELTA_DISKS_PLUS",
    "RESHAPE_DELTA_DISKS_MINUS",
    "REMOVE_AFTER_RESHAPE",
    "METADATA_FORMAT",
    "CROP_METADATA",
    "CACHE_USES_CACHEVOL",
];

/// Words of `kind` in lvm2's written order: STATUS, then COMPATIBLE, then (LVs) SEGTYPE flags.
fn canonical(kind: FlagKind) -> impl Iterator<Item = &'static str> {
    let seg: &[&str] = if kind == FlagKind::Lv { SEGTYPE_FLAGS } else { &[] };
    status_words(kind).iter().chain(compat_words(kind)).chain(seg).copied()
}

/// [`canonical`] collected once per kind: flag lookups run for every LV of every report.
fn vocabulary(kind: FlagKind) -> &'static [&'static str] {
    use std::sync::LazyLock;
    static VG: LazyLock<Vec<&str>> = LazyLock::new(|| canonical(FlagKind::Vg).collect());
    static PV: LazyLock<Vec<&str>> = LazyLock::new(|| canonical(FlagKind::Pv).collect());
    static LV: LazyLock<Vec<&str>> = LazyLock::new(|| canonical(FlagKind::Lv).collect());
    match kind {
        FlagKind::Vg => &VG,
        FlagKind::Pv => &PV,
        FlagKind::Lv => &LV,
    }
}

/// A set of flag words of one kind, written in lvm2's canonical order: known words as bits
/// (bit `i` = the `i`-th word of the kind's vocabulary; no allocation while importing thousands
/// of LVs), unknown words kept after them in their given order.
#[derive(Clone, Debug, Default)]
pub struct FlagSet {
    kind: Option<FlagKind>,
    bits: u64,
    unknown: Vec<String>,
}

impl PartialEq for FlagSet {
    /// Same words. Bits mean words of the set's kind; a set without one has no bits.
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
            && (self.bits == 0 || self.kind == other.kind)
            && self.unknown == other.unknown
    }
}

impl Eq for FlagSet {}

impl FlagSet {
    /// An empty set.
    pub fn new() -> Self {
        FlagSet::default()
    }
    /// Build from words; duplicates dropped.
    pub fn from_words<S: AsRef<str>>(kind: FlagKind, words: &[S]) -> FlagSet {
        let mut s = FlagSet { kind: Some(kind), ..FlagSet::default() };
        for w in words {
            s.insert(kind, w.as_ref());
        }
        s
    }
    fn bit(&self, w: &str) -> Option<u64> {
        let words = vocabulary(self.kind?);
        words.iter().position(|x| x.len() == w.len() && *x == w).map(|i| 1 << i)
    }
    /// Contains this word.
    pub fn has(&self, w: &str) -> bool {
        match self.bit(w) {
            Some(b) => self.bits & b != 0,
            None => self.unknown.iter().any(|x| x == w),
        }
    }
    /// Add a word (of `kind`'s vocabulary, or kept as unknown).
    pub fn insert(&mut self, kind: FlagKind, w: &str) {
        self.kind.get_or_insert(kind);
        match self.bit(w) {
            Some(b) => self.bits |= b,
            None if self.unknown.iter().any(|x| x == w) => {}
            None => self.unknown.push(w.to_string()),
        }
    }
    /// Remove a word.
    pub fn remove(&mut self, w: &str) {
        match self.bit(w) {
            Some(b) => self.bits &= !b,
            None => self.unknown.retain(|x| x != w),
        }
    }
    /// The words in written order.
    pub fn words(&self) -> Vec<&str> {
        let mut v: Vec<&str> = match self.kind {
            Some(k) => {
                canonical(k).enumerate().filter(|(i, _)| self.bits & (1 << i) != 0).map(|(_, w)| w).collect()
            }
            None => Vec::new(),
        };
        v.extend(self.unknown.iter().map(String::as_str));
        v
    }
    /// No words.
    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.unknown.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_order_unknown_last_and_equality_by_content() {
        let f = FlagSet::from_words(FlagKind::Lv, &["VISIBLE", "FROB", "READ", "WRITE", "READ"]);
        assert_eq!(f.words(), ["READ", "WRITE", "VISIBLE", "FROB"]);
        assert!(f.has("FROB") && f.has("WRITE") && !f.has("LOCKED"));
        let mut g = FlagSet::new();
        for w in ["FROB", "WRITE", "VISIBLE", "READ"] {
            g.insert(FlagKind::Lv, w);
        }
        assert_eq!(f, g);
        g.remove("FROB");
        g.remove("READ");
        assert_eq!(g.words(), ["WRITE", "VISIBLE"]);
        assert_eq!(FlagSet::new(), FlagSet::from_words::<&str>(FlagKind::Vg, &[]));
        // A word of another kind's vocabulary is kept as given, not as a known bit.
        let p = FlagSet::from_words(FlagKind::Pv, &["VISIBLE"]);
        assert_eq!(p.words(), ["VISIBLE"]);
        assert!([FlagKind::Vg, FlagKind::Pv, FlagKind::Lv].into_iter().all(|k| canonical(k).count() <= 64));
    }
}
