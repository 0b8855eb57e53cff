//! Device-mapper names and uuids of LVM devices, as lvm2 builds them (`dm_build_dm_name`,
//! `build_dm_uuid`; spec §7.1–7.2).
//!
//! * name = `esc(vg) "-" esc(lv) ["-" esc(layer)]`, where `esc` doubles every `-`; a layer
//!   starting with `_` gets no separating `-` (legacy);
//! * uuid = `"LVM-" vg_id lv_id ["-" suffix]`, ids in their 32-character form.

use lvmkit_dm::{DmName, DmUuid};
use lvmkit_metadata::id::LvmId;

/// Prefix of every uuid lvm2 gives its devices.
pub const UUID_PREFIX: &str = "LVM-";

/// Double every `-`.
pub fn escape(part: &str) -> String {
    part.replace('-', "--")
}

/// The dm name of an LV, or of one of its layers.
pub fn dm_name(vg: &str, lv: &str, layer: Option<&str>) -> lvmkit_dm::Result<DmName> {
    let mut s = format!("{}-{}", escape(vg), escape(lv));
    if let Some(layer) = layer.filter(|l| !l.is_empty()) {
        if !layer.starts_with('_') {
            s.push('-');
        }
        s.push_str(&escape(layer));
    }
    DmName::new(s)
}

/// The dm uuid of an LV (VG id + LV id), with an optional layer/role suffix.
pub fn dm_uuid(vg_id: &LvmId, lv_id: &LvmId, suffix: Option<&str>) -> lvmkit_dm::Result<DmUuid> {
    let mut s = format!("{UUID_PREFIX}{}{}", vg_id.as_str(), lv_id.as_str());
    if let Some(suffix) = suffix.filter(|l| !l.is_empty()) {
        s.push('-');
        s.push_str(suffix);
    }
    DmUuid::new(s)
}

/// Split a dm name into VG, LV and layer, undoing the escaping (cf. `dm_split_lvm_name`).
/// `None` when the name has no unescaped `-` (not an LVM name).
pub fn split_dm_name(name: &str) -> Option<(String, String, String)> {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '-' {
            if chars.peek() == Some(&'-') {
                chars.next();
                parts.last_mut().expect("non-empty").push('-');
            } else if parts.len() < 3 {
                parts.push(String::new());
            } else {
                parts.last_mut().expect("non-empty").push('-');
            }
        } else {
            parts.last_mut().expect("non-empty").push(c);
        }
    }
    let mut it = parts.into_iter();
    let vg = it.next()?;
    let lv = it.next()?;
    Some((vg, lv, it.next().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> LvmId {
        LvmId::parse(s).unwrap()
    }

    #[test]
    fn spec_names() {
        assert_eq!(dm_name("my-vg", "data-1", None).unwrap(), "my--vg-data--1");
        assert_eq!(dm_name("my-vg", "data-1", Some("real")).unwrap(), "my--vg-data--1-real");
        assert_eq!(dm_name("vg0", "lin", Some("real")).unwrap(), "vg0-lin-real");
        assert_eq!(dm_name("vg0", "tpool", Some("tpool")).unwrap(), "vg0-tpool-tpool");
        assert_eq!(dm_name("vg0", "r1_rimage_0", None).unwrap(), "vg0-r1_rimage_0");
        assert_eq!(dm_name("vg0", "lv", Some("_mlog")).unwrap(), "vg0-lv_mlog");
        assert_eq!(dm_name("vg0", "lv", Some("missing_0_1")).unwrap(), "vg0-lv-missing_0_1");
        assert_eq!(dm_name("vg0", "lv", Some("")).unwrap(), "vg0-lv");
        // The odd-names image case, as lvm2 reported lv_dm_path.
        assert_eq!(dm_name("my-vg.1_x+y", "_x--y__", None).unwrap(), "my--vg.1_x+y-_x----y__");
        assert_eq!(dm_name("my-vg.1_x+y", "+lead.plus", None).unwrap(), "my--vg.1_x+y-+lead.plus");
        assert_eq!(dm_name("my-vg.1_x+y", "data-1.a_b+c", None).unwrap(), "my--vg.1_x+y-data--1.a_b+c");
        // 127 bytes at most.
        assert!(dm_name(&"v".repeat(63), &"l".repeat(63), None).is_ok());
        assert!(dm_name(&"v".repeat(64), &"l".repeat(63), None).is_err());
        assert!(dm_name("a-", &"l".repeat(123), None).is_ok());
        assert!(dm_name("a-", &"l".repeat(124), None).is_err(), "escaping counts");
    }

    #[test]
    fn spec_uuids() {
        let vg = id("npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy");
        let lin = id("ySiCHK-KRBV-3W7M-FxR4-4T32-C1XF-JdHdTG");
        let u = dm_uuid(&vg, &lin, None).unwrap();
        assert_eq!(u, "LVM-npsDNUzJAqnXX66zQjM22xtv5DtaqdqyySiCHKKRBV3W7MFxR44T32C1XFJdHdTG");
        assert_eq!(u.len(), 68);
        assert_eq!(
            dm_uuid(&vg, &lin, Some("real")).unwrap(),
            "LVM-npsDNUzJAqnXX66zQjM22xtv5DtaqdqyySiCHKKRBV3W7MFxR44T32C1XFJdHdTG-real"
        );
        assert!(dm_uuid(&vg, &lin, Some("missing_12_3")).unwrap().ends_with("-missing_12_3"));
    }

    #[test]
    fn split() {
        for (vg, lv, layer) in [
            ("my-vg", "data-1", "real"),
            ("vg0", "lin", ""),
            ("my-vg.1_x+y", "_x--y__", ""),
            ("a", "b", "missing_0_1"),
        ] {
            let name = dm_name(vg, lv, Some(layer)).unwrap();
            assert_eq!(split_dm_name(&name).unwrap(), (vg.to_string(), lv.to_string(), layer.to_string()));
        }
        assert_eq!(split_dm_name("nodash"), None);
    }
}
