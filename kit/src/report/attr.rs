//! The `pv_attr`, `vg_attr` and `lv_attr` strings (lvm2's `pvs(8)`/`vgs(8)`/`lvs(8)` "Attr"),
//! for an offline view: nothing is active and there is no device-mapper driver, so the
//! activation columns of `lv_attr` show `X` (unknown), as lvm2 prints them in that state.

use lvmkit_metadata::model::{SegmentKind, VolumeGroup};

use super::view::VgView;

/// lvm2's `alloc_policy_char`.
pub(crate) fn alloc_char(policy: Option<&str>) -> char {
    match policy {
        Some("contiguous") => 'c',
        Some("cling") => 'l',
        Some("cling_by_tags") => 't',
        Some("normal") => 'n',
        Some("anywhere") => 'a',
        _ => 'i',
    }
}

/// `pv_attr`: (a)llocatable or (u)sed in a VG but not allocatable, e(x)ported, (m)issing.
pub(crate) fn pv_attr(allocatable: bool, in_vg: bool, exported: bool, missing: bool) -> String {
    let first = if allocatable {
        'a'
    } else if in_vg {
        'u'
    } else {
        '-'
    };
    [first, if exported { 'x' } else { '-' }, if missing { 'm' } else { '-' }].iter().collect()
}

/// `vg_attr`: permissions, resi(z)eable, e(x)ported, (p)artial, allocation policy,
/// (c)lustered or (s)hared.
pub(crate) fn vg_attr(vg: &VolumeGroup, partial: bool) -> String {
    let st = &vg.status;
    let alloc = match vg.allocation_policy.as_deref() {
        // A VG cannot inherit; lvm2 shows its default as normal.
        None | Some("inherit") => 'n',
        p => alloc_char(p),
    };
    [
        if vg.is_writable() { 'w' } else { 'r' },
        if st.has("RESIZEABLE") { 'z' } else { '-' },
        if vg.is_exported() { 'x' } else { '-' },
        if partial { 'p' } else { '-' },
        alloc,
        if st.has("CLUSTERED") {
            'c'
        } else if st.has("SHARED") || vg.lock_type.as_deref().is_some_and(|t| t != "none") {
            's'
        } else {
            '-'
        },
    ]
    .iter()
    .collect()
}

/// `lv_attr`, the ten characters of lvm2's `lv_attr_dup_with_info_and_seg_status` with no
/// activation information.
pub(crate) fn lv_attr(v: &VgView, i: usize) -> String {
    let lv = v.lv(i);
    let mut a = ['-'; 10];
    // lvm2's order (lv_attr_dup_with_info_and_seg_status): the first rule that matches wins.
    a[0] = if v.is_pvmove(i) {
        'p'
    } else if lv.status.has("CONVERTING") {
        'c'
    } else if v.is_origin(i) || v.is_external_origin(i) {
        // Origin takes precedence over mirror and thin volume.
        if v.is_merging_origin(i) { 'O' } else { 'o' }
    } else if v.is_thin_pool_meta(i)
        || v.is_cache_pool_meta(i)
        || v.is_pmspare(i)
        || v.is_raid_meta(i)
        || v.is_integrity_meta(i)
    {
        'e'
    } else if v.is_cache_type(i) || v.is_writecache(i) {
        'C'
    } else if v.is_integrity(i) {
        'g'
    } else if v.is_raid(i) {
        if lv.status.has("NOTSYNCED") { 'R' } else { 'r' }
    } else if v.is_mirror(i) {
        if lv.status.has("NOTSYNCED") { 'M' } else { 'm' }
    } else if v.is_thin_volume(i) {
        if v.is_merging_origin(i) {
            'O'
        } else if v.is_merging_thin_snapshot(i) {
            'S'
        } else {
            'V'
        }
    } else if v.is_vdo_pool(i) {
        'd'
    } else if v.is_vdo_pool_data(i) {
        'D'
    } else if v.is_virtual(i) {
        'v'
    } else if v.is_thin_pool(i) {
        't'
    } else if v.is_thin_pool_data(i) {
        'T'
    } else if v.is_mirror_image(i) || v.is_raid_image(i) {
        // Sync state needs the kernel; lvm2 then reports the image as not in sync.
        'I'
    } else if v.is_mirror_log(i) {
        'l'
    } else if v.is_cow(i) {
        if v.is_merging_cow(i) { 'S' } else { 's' }
    } else if v.is_cache_origin(i) || v.is_writecache_origin(i) {
        'o'
    } else {
        '-'
    };
    a[1] = if v.is_pvmove(i) {
        '-'
    } else if lv.is_writable() {
        'w'
    } else {
        'r'
    };
    let mut alloc = alloc_char(lv.allocation_policy.as_deref());
    if v.is_locked(i) {
        alloc = alloc.to_ascii_uppercase();
    }
    a[2] = alloc;
    if lv.status.has("FIXED_MINOR") {
        a[3] = 'm';
    }
    // State and open: unknown without device-mapper.
    a[4] = 'X';
    a[5] = 'X';
    a[6] = if v.is_thin_pool(i) || v.is_thin_volume(i) {
        't'
    } else if v.is_cache_pool(i)
        || v.is_cache_vol(i)
        || v.is_cache(i)
        || v.is_cache_origin(i)
        || v.is_writecache(i)
        || v.is_writecache_origin(i)
    {
        'C'
    } else if v.is_raid_type(i) {
        'r'
    } else if v.is_mirror_type(i) || v.is_pvmove(i) {
        'm'
    } else if v.is_cow(i) || v.is_origin(i) {
        's'
    } else if v.has_unknown_segments(i) {
        'u'
    } else if v.is_virtual(i) {
        'v'
    } else {
        '-'
    };
    let zeroing = |pool: usize| matches!(v.first_seg(pool).map(|s| &s.kind), Some(SegmentKind::ThinPool { zero_new_blocks: Some(z), .. }) if *z != 0);
    a[7] = match v.first_seg(i).map(|s| &s.kind) {
        Some(SegmentKind::ThinPool { .. }) if zeroing(i) => 'z',
        Some(SegmentKind::Thin { thin_pool, .. }) if v.lv_index(thin_pool).is_some_and(zeroing) => 'z',
        _ => '-',
    };
    a[8] = if v.lvs[i].partial {
        'p'
    } else if v.is_raid_type(i) {
        // RAID health needs the kernel: unknown.
        'X'
    } else {
        '-'
    };
    if lv.has_flag("ACTIVATION_SKIP") {
        a[9] = 'k';
    }
    a.iter().collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use lvmkit_metadata::assemble::AssembledVg;
    use lvmkit_metadata::import::parse_metadata;
    use lvmkit_metadata::scan::Scan;

    use super::*;

    /// A VG text with one PV (absent: `pv_devices` is `None`) and these LV sections.
    pub(crate) fn vg_text(vg_extra: &str, lvs: &str) -> String {
        format!(
            "vg {{\nid = \"aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa\"\nseqno = 1\nformat = \"lvm2\"\n\
             status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\n{vg_extra}extent_size = 8192\n\
             max_lv = 0\nmax_pv = 0\nmetadata_copies = 0\nphysical_volumes {{\npv0 {{\n\
             id = \"bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb\"\nstatus = [\"ALLOCATABLE\"]\nflags = []\n\
             dev_size = 65536\npe_start = 2048\npe_count = 64\n}}\n}}\nlogical_volumes {{\n{lvs}}}\n}}\n"
        )
    }

    /// One LV section; `seg` is the body of its single segment.
    pub(crate) fn lv(name: &str, status: &str, flags: &str, seg: &str) -> String {
        format!(
            "{name} {{\nid = \"cccccc-cccc-cccc-cccc-cccc-cccc-cccccc\"\nstatus = [{status}]\nflags = [{flags}]\n\
             segment_count = 1\nsegment1 {{\nstart_extent = 0\nextent_count = 2\n{seg}\n}}\n}}\n"
        )
    }

    pub(crate) const RWV: &str = "\"READ\", \"WRITE\", \"VISIBLE\"";
    pub(crate) const RW: &str = "\"READ\", \"WRITE\"";
    pub(crate) const ZERO: &str = "type = \"zero\"";
    /// A linear segment body on pv0 at `pe`.
    pub(crate) fn lin(pe: u64) -> String {
        format!("type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", {pe}]")
    }

    /// Run `f` on the view of a VG text. `present`: pretend the PVs are on scan entry 0 (the
    /// scan is empty, so only what does not read devices may be asked); otherwise they are
    /// missing.
    pub(crate) fn with_view(text: &str, present: bool, f: impl FnOnce(&VgView)) {
        let md = parse_metadata(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let n = md.vg.pvs.len();
        let asm = AssembledVg {
            metadata: Arc::new(md),
            text: Arc::new(Vec::new()),
            source: (0, 0),
            pv_devices: vec![if present { Some(0) } else { None }; n],
            copies: vec![],
            duplicates: vec![],
        };
        let scan = Scan::default();
        f(&VgView::new(&asm, &scan));
    }

    fn attrs(text: &str, present: bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        with_view(text, present, |v| {
            for i in 0..v.vg.lvs.len() {
                out.push((v.lv(i).name.clone(), lv_attr(v, i)));
            }
        });
        out
    }

    fn attr_of<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
        &all.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn lv_attr_per_type() {
        let lvs = [
            lv("m", RWV, "", "type = \"mirror\"\nmirror_count = 2\nmirror_log = \"m_mlog\"\nregion_size = 1024\nmirrors = [\"m_mimage_0\", 0, \"m_mimage_1\", 0]"),
            lv("m_mimage_0", RW, "", &lin(0)),
            lv("m_mimage_1", RW, "", &lin(2)),
            lv("m_mlog", RW, "", &lin(4)),
            lv("tp", RWV, "", "type = \"thin-pool\"\nmetadata = \"tp_tmeta\"\npool = \"tp_tdata\"\ntransaction_id = 1\nchunk_size = 128\nzero_new_blocks = 1"),
            lv("tp_tmeta", RW, "", &lin(6)),
            lv("tp_tdata", RW, "", &lin(8)),
            lv("th", RWV, "\"ACTIVATION_SKIP\"", "type = \"thin\"\nthin_pool = \"tp\"\ntransaction_id = 0\ndevice_id = 1"),
            lv("base", RWV, "", &lin(10)),
            lv("cow", RW, "", &lin(12)),
            lv("snapshot0", RWV, "", "type = \"snapshot\"\nchunk_size = 8\norigin = \"base\"\ncow_store = \"cow\""),
            lv("r", "\"READ\", \"WRITE\", \"VISIBLE\", \"NOTSYNCED\"", "", "type = \"raid1\"\ndevice_count = 1\nregion_size = 1024\nraids = [\"r_rmeta_0\", \"r_rimage_0\"]"),
            lv("r_rmeta_0", RW, "", &lin(14)),
            lv("r_rimage_0", RW, "", &lin(16)),
            lv("fixed", "\"READ\", \"VISIBLE\", \"FIXED_MINOR\"", "", ZERO),
            lv("lin", RWV, "", &lin(18)),
        ]
        .concat();
        let a = attrs(&vg_text("", &lvs), true);
        for (name, want) in [
            ("m", "mwi-XXm---"),
            ("m_mimage_0", "Iwi-XXm---"),
            ("m_mlog", "lwi-XXm---"),
            ("tp", "twi-XXtz--"),
            ("tp_tmeta", "ewi-XX----"),
            ("tp_tdata", "Twi-XX----"),
            ("th", "Vwi-XXtz-k"),
            ("base", "owi-XXs---"),
            ("cow", "swi-XXs---"),
            ("r", "Rwi-XXr-X-"),
            ("r_rmeta_0", "ewi-XXr-X-"),
            ("r_rimage_0", "Iwi-XXr-X-"),
            ("fixed", "vrimXXv---"),
            ("lin", "-wi-XX----"),
        ] {
            assert_eq!(attr_of(&a, name), want, "{name}");
        }
        // With the PV missing, everything on it (and above it) is partial.
        let a = attrs(&vg_text("", &lvs), false);
        assert_eq!(attr_of(&a, "lin"), "-wi-XX--p-");
        assert_eq!(attr_of(&a, "m"), "mwi-XXm-p-");
        assert_eq!(attr_of(&a, "r"), "Rwi-XXr-p-");
        assert_eq!(attr_of(&a, "fixed"), "vrimXXv---");
    }

    #[test]
    fn vg_attr_letters() {
        let t = vg_text("allocation_policy = \"cling\"\n", "");
        with_view(&t, true, |v| assert_eq!(vg_attr(v.vg, false), "wz--l-"));
        let t = vg_text("", "").replace("\"WRITE\"]", "\"WRITE\", \"EXPORTED\"]");
        with_view(&t, true, |v| assert_eq!(vg_attr(v.vg, true), "wzxpn-"));
        // A VG with a system ID is written read-only with WRITE_LOCKED, yet writable.
        let t = vg_text("", "").replace(", \"WRITE\"]\nflags = []", "]\nflags = [\"WRITE_LOCKED\"]");
        with_view(&t, true, |v| assert_eq!(vg_attr(v.vg, false), "wz--n-"));
    }

    #[test]
    fn pv_attr_letters() {
        assert_eq!(pv_attr(true, true, false, false), "a--");
        assert_eq!(pv_attr(true, true, true, false), "ax-");
        assert_eq!(pv_attr(true, true, false, true), "a-m");
        assert_eq!(pv_attr(false, true, false, false), "u--");
        assert_eq!(pv_attr(false, false, false, false), "---");
    }

    #[test]
    fn alloc_letters() {
        assert_eq!(alloc_char(Some("cling")), 'l');
        assert_eq!(alloc_char(Some("contiguous")), 'c');
        assert_eq!(alloc_char(Some("anywhere")), 'a');
        assert_eq!(alloc_char(None), 'i');
    }
}
