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

/// A set of flag words of one kind, kept in lvm2's canonical order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSet {
    words: Vec<String>,
}

impl FlagSet {
    /// An empty set.
    pub fn new() -> Self {
        FlagSet::default()
    }
    /// Build from words; duplicates dropped, canonical order for known words, unknown words
    /// after them in their given order.
    pub fn from_words<S: AsRef<str>>(kind: FlagKind, words: &[S]) -> FlagSet {
        let mut s = FlagSet::new();
        for w in words {
            s.insert(kind, w.as_ref());
        }
        s
    }
    /// Contains this word.
    pub fn has(&self, w: &str) -> bool {
        self.words.iter().any(|x| x == w)
    }
    /// Add a word at its canonical position.
    pub fn insert(&mut self, kind: FlagKind, w: &str) {
        if self.has(w) {
            return;
        }
        let order = |x: &str| {
            status_words(kind).iter().chain(compat_words(kind)).position(|k| *k == x).unwrap_or(usize::MAX)
        };
        let rank = order(w);
        let pos = self.words.iter().position(|x| order(x) > rank).unwrap_or(self.words.len());
        self.words.insert(pos, w.to_string());
    }
    /// Remove a word.
    pub fn remove(&mut self, w: &str) {
        self.words.retain(|x| x != w);
    }
    /// The words in order.
    pub fn words(&self) -> &[String] {
        &self.words
    }
    /// No words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}
