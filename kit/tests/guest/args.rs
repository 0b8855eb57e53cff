//! `VG[/LV]` arguments for the kit's guest tests (apart from `mod.rs`, which the dm crate's
//! guest tests include too and which so cannot name lvmkit).

/// `VG[/LV]` arguments.
pub fn args(a: &[&str]) -> Vec<lvmkit::target::Target> {
    lvmkit::target::Target::parse_all(a).expect("VG[/LV] arguments")
}
