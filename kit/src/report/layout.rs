//! `lv_layout` and `lv_role`, following lvm2's `lv_layout_and_role` (lib/metadata/lv.c): each
//! family of LV types adds its words, and `public`/`private` goes in front of the roles.

use lvmkit_metadata::model::SegmentKind;

use super::view::VgView;

/// Word lists without duplicates, in insertion order.
#[derive(Default)]
struct Words(Vec<&'static str>);

impl Words {
    fn add(&mut self, w: &'static str) {
        if !self.0.contains(&w) {
            self.0.push(w);
        }
    }
    fn extend(&mut self, ws: &[&'static str]) {
        for w in ws {
            self.add(w);
        }
    }
}

/// `(lv_layout, lv_role)` of LV `i`, comma-separated.
pub(crate) fn layout_and_role(v: &VgView, i: usize) -> (String, String) {
    let mut layout = Words::default();
    let mut role = Words::default();
    let mut public = true;

    // Mirrors and pvmove.
    if v.is_mirror_type(i) || v.is_pvmove(i) {
        if v.is_mirror_image(i) {
            role.extend(&["mirror", "image"]);
            public = false;
        } else if v.is_mirror_log(i) {
            role.extend(&["mirror", "log"]);
            if v.is_mirror(i) {
                layout.add("mirror");
            }
            public = false;
        } else if v.is_pvmove(i) {
            role.add("pvmove");
            layout.add("mirror");
            public = false;
        } else {
            layout.add("mirror");
        }
    }

    // RAID.
    if v.is_raid_type(i) {
        if v.is_raid_image(i) {
            role.extend(&["raid", "image"]);
            public = false;
        } else if v.is_raid_meta(i) {
            role.extend(&["raid", "metadata"]);
            public = false;
        } else if v.is_pvmove(i) {
            role.add("pvmove");
            layout.add("raid");
            public = false;
        } else {
            layout.add("raid");
            let name = v.first_seg(i).map(|s| s.segtype.name.as_str()).unwrap_or_default();
            layout.extend(&raid_words(name));
        }
    }

    // Thin.
    if v.is_thin_type(i) || v.is_external_origin(i) {
        if v.is_thin_pool_meta(i) {
            role.extend(&["thin", "pool", "metadata"]);
            public = false;
        } else if v.is_thin_pool_data(i) {
            role.extend(&["thin", "pool", "data"]);
            public = false;
        } else {
            if v.is_thin_volume(i) {
                layout.extend(&["thin", "sparse"]);
                let snaps = v.thin_snapshot_count(i);
                if snaps > 0 {
                    role.extend(&["origin", "thinorigin"]);
                    if snaps > 1 {
                        role.add("multithinorigin");
                    }
                }
                if matches!(
                    v.first_seg(i).map(|s| &s.kind),
                    Some(
                        SegmentKind::Thin { origin: Some(_), .. }
                            | SegmentKind::Thin { external_origin: Some(_), .. }
                    )
                ) {
                    role.extend(&["snapshot", "thinsnapshot"]);
                }
            } else if v.is_thin_pool(i) {
                layout.extend(&["thin", "pool"]);
                public = false;
            }
            if v.is_external_origin(i) {
                role.extend(&["origin", "extthinorigin"]);
                if v.lvs[i].external_users > 1 {
                    role.add("multiextthinorigin");
                }
            }
        }
    }

    // Cache and writecache.
    if v.is_cache_type(i) || v.is_cache_origin(i) || v.is_writecache(i) || v.is_writecache_origin(i) {
        if v.is_cache_pool_meta(i) {
            role.extend(&["cache", "pool", "metadata"]);
            public = false;
        } else if v.is_cache_pool_data(i) {
            role.extend(&["cache", "pool", "data"]);
            if v.is_cache(i) {
                layout.add("cache");
            }
            public = false;
        } else if v.is_cache_origin(i) {
            role.extend(&["cache", "origin", "cacheorigin"]);
            if v.is_cache(i) {
                layout.add("cache");
            }
            public = false;
        } else if v.is_writecache_origin(i) {
            role.extend(&["writecache", "origin", "writecacheorigin"]);
            if v.is_writecache(i) {
                layout.add("writecache");
            }
            public = false;
        } else if v.is_cache(i) {
            layout.add("cache");
        } else if v.is_writecache(i) {
            layout.add("writecache");
        } else if v.is_cache_pool(i) {
            layout.extend(&["cache", "pool"]);
            public = false;
        } else if v.is_cache_vol(i) {
            layout.extend(&[if v.is_writecache_vol(i) { "writecache" } else { "cache" }, "cachevol"]);
            public = false;
        }
    }

    // Integrity.
    if v.is_integrity_meta(i) {
        role.extend(&["integrity", "metadata"]);
        public = false;
    } else if v.is_integrity_origin(i) {
        role.extend(&["integrity", "origin", "integrityorigin"]);
        public = false;
    } else if v.is_integrity(i) {
        layout.add("integrity");
    }

    // VDO.
    if v.is_vdo_type(i) {
        if v.is_vdo_pool_data(i) {
            role.extend(&["vdo", "pool", "data"]);
            public = false;
        } else if v.is_vdo_pool(i) {
            layout.extend(&["vdo", "pool"]);
            public = false;
        } else if v.is_vdo(i) {
            layout.extend(&["vdo", "sparse"]);
        }
    }

    if v.is_pmspare(i) {
        role.extend(&["pool", "spare"]);
        public = false;
    }

    // Old-style snapshots and virtual origins (a sparse snapshot's `_vorigin`); thin LVs are
    // virtual too but have their own layout word.
    if v.is_origin(i) {
        role.extend(&["origin", "thickorigin"]);
        if v.is_virtual(i) && !v.is_thin_volume(i) {
            layout.add("virtual");
            public = false;
        }
        if v.lvs[i].origin_of.len() > 1 {
            role.add("multithickorigin");
        }
    } else if v.is_cow(i) {
        role.extend(&["snapshot", "thicksnapshot"]);
    }

    if layout.0.is_empty() {
        // Linear, striped or a mixture; anything else is a type lvm2 has no word for.
        let (mut linear, mut striped) = (false, false);
        for s in &v.lv(i).segments {
            if let SegmentKind::Striped { areas, .. } = &s.kind {
                if areas.len() == 1 {
                    linear = true;
                } else {
                    striped = true;
                }
            }
        }
        if linear {
            layout.add("linear");
        }
        if striped {
            layout.add("striped");
        }
        if !linear && !striped {
            layout.add("unknown");
        }
    }

    let mut roles = vec![if public { "public" } else { "private" }];
    roles.extend(role.0.iter().copied().filter(|w| !matches!(*w, "public" | "private")));
    (layout.0.join(","), roles.join(","))
}

/// Layout words after `raid` for a RAID segment type, as lvm2's `_lv_layout_and_role_raid`
/// adds them: a family word (`segtype_is_raid0`, `_raid1`, `_raid10`, `_raid4`,
/// `_any_raid5`, `_any_raid6`), then a second word only for the rotating-parity layouts it
/// names (raid5 la/ra/ls/rs, raid6 zr/nr/nc) — not for `raid5_n`, the `raid6_*_6` layouts or
/// `raid6_n_6` — and nothing for `raid0_meta`. `raid5` is lvm2's alias of `raid5_ls`, `raid6`
/// of `raid6_zr`.
fn raid_words(segtype: &str) -> Vec<&'static str> {
    match segtype {
        "raid0" => vec!["raid0"],
        "raid1" => vec!["raid1"],
        "raid10" | "raid10_near" | "raid10_far" => vec!["raid10"],
        "raid4" => vec!["raid4"],
        "raid5" | "raid5_ls" => vec!["raid5", "raid5_ls"],
        "raid5_rs" => vec!["raid5", "raid5_rs"],
        "raid5_la" => vec!["raid5", "raid5_la"],
        "raid5_ra" => vec!["raid5", "raid5_ra"],
        "raid6" | "raid6_zr" => vec!["raid6", "raid6_zr"],
        "raid6_nr" => vec!["raid6", "raid6_nr"],
        "raid6_nc" => vec!["raid6", "raid6_nc"],
        t if t.starts_with("raid5_") => vec!["raid5"],
        t if t.starts_with("raid6_") => vec!["raid6"],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::super::attr::tests::{RW, RWV, lin, lv, vg_text, with_view};
    use super::*;

    #[test]
    fn layout_and_role_words() {
        let lvs = [
            lv("tp", RWV, "", "type = \"thin-pool\"\nmetadata = \"tp_tmeta\"\npool = \"tp_tdata\"\ntransaction_id = 1\nchunk_size = 128"),
            lv("tp_tmeta", RW, "", &lin(0)),
            lv("tp_tdata", RW, "", &lin(2)),
            lv("o", RWV, "", "type = \"thin\"\nthin_pool = \"tp\"\ntransaction_id = 0\ndevice_id = 1"),
            lv("s1", RWV, "", "type = \"thin\"\nthin_pool = \"tp\"\ntransaction_id = 0\ndevice_id = 2\norigin = \"o\""),
            lv("s2", RWV, "", "type = \"thin\"\nthin_pool = \"tp\"\ntransaction_id = 0\ndevice_id = 3\norigin = \"o\""),
            lv("base", RWV, "", &lin(4)),
            lv("cow", RW, "", &lin(6)),
            lv("snapshot0", RWV, "", "type = \"snapshot\"\nchunk_size = 8\norigin = \"base\"\ncow_store = \"cow\""),
            lv("lvol0_pmspare", RW, "", &lin(8)),
            lv("r5", RWV, "", "type = \"raid5\"\ndevice_count = 2\nregion_size = 1024\nraids = [\"r5_rmeta_0\", \"r5_rimage_0\", \"r5_rmeta_1\", \"r5_rimage_1\"]"),
            lv("r5_rmeta_0", RW, "", &lin(10)),
            lv("r5_rimage_0", RW, "", &lin(12)),
            lv("r5_rmeta_1", RW, "", &lin(14)),
            lv("r5_rimage_1", RW, "", &lin(16)),
        ]
        .concat();
        with_view(&vg_text("", &lvs), true, |v| {
            let lr = |n: &str| layout_and_role(v, v.lv_index(n).unwrap());
            let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
            assert_eq!(lr("tp"), pair("thin,pool", "private"));
            assert_eq!(lr("tp_tdata"), pair("linear", "private,thin,pool,data"));
            assert_eq!(lr("o"), pair("thin,sparse", "public,origin,thinorigin,multithinorigin"));
            assert_eq!(lr("s1"), pair("thin,sparse", "public,snapshot,thinsnapshot"));
            assert_eq!(lr("base"), pair("linear", "public,origin,thickorigin"));
            assert_eq!(lr("cow"), pair("linear", "public,snapshot,thicksnapshot"));
            assert_eq!(lr("lvol0_pmspare"), pair("linear", "private,pool,spare"));
            assert_eq!(lr("r5"), pair("raid,raid5,raid5_ls", "public"));
            assert_eq!(lr("r5_rmeta_1"), pair("linear", "private,raid,metadata"));
        });
    }

    #[test]
    fn raid_aliases() {
        assert_eq!(raid_words("raid5"), ["raid5", "raid5_ls"]);
        assert_eq!(raid_words("raid6"), ["raid6", "raid6_zr"]);
        assert_eq!(raid_words("raid1"), ["raid1"]);
        assert_eq!(raid_words("raid5_n"), ["raid5"]);
        assert_eq!(raid_words("raid6_ls_6"), ["raid6"]);
        assert!(raid_words("raid0_meta").is_empty());
    }
}
