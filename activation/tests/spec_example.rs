//! The spec's §4.12 VG, completed with the LVs §4.12 leaves out, planned with pv0 = 7:0 and
//! pv1 = 7:1 and checked against §8's "Computed tables" (references to planned devices print as
//! `<name>`).

use lvmkit_activation::{Plan, PlanOptions, SkipReason, plan};
use lvmkit_dm::{DevNum, DevRef};
use lvmkit_metadata::id::LvmId;
use lvmkit_metadata::import::parse_metadata;

/// A hidden single-segment linear LV on `pv` at `pe`.
fn hidden(name: &str, id: &str, pv: &str, pe: u64, extents: u64) -> String {
    format!(
        "{name} {{\nid = \"{id}\"\nstatus = [\"READ\", \"WRITE\"]\nflags = []\nsegment_count = 1\n\
         segment1 {{\nstart_extent = 0\nextent_count = {extents}\ntype = \"striped\"\nstripe_count = 1\n\
         stripes = [\n\"{pv}\", {pe}\n]\n}}\n}}\n"
    )
}

/// A visible LV with one segment whose body is `seg`.
fn visible(name: &str, id: &str, extents: u64, seg: &str) -> String {
    format!(
        "{name} {{\nid = \"{id}\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\nsegment_count = 1\n\
         segment1 {{\nstart_extent = 0\nextent_count = {extents}\n{seg}\n}}\n}}\n"
    )
}

/// §4.12's text (blank lines and creation fields dropped) with the omitted LVs written out.
/// Placement of the omitted hidden LVs (not given by the spec): pv0 18.. and pv1 20.., free.
fn spec_vg_text() -> String {
    let mut lvs = String::new();
    lvs += &visible(
        "lin",
        "ySiCHK-KRBV-3W7M-FxR4-4T32-C1XF-JdHdTG",
        8,
        "type = \"striped\"\nstripe_count = 1\nstripes = [\n\"pv0\", 0\n]",
    );
    lvs += &visible(
        "str",
        "H7XsqH-PSKt-g5kY-C0sJ-l4vZ-oW1i-R4WPgd",
        8,
        "type = \"striped\"\nstripe_count = 2\nstripe_size = 128\nstripes = [\n\"pv0\", 8,\n\"pv1\", 0\n]",
    );
    lvs += &visible("z", "zzzzzz-zzzz-zzzz-zzzz-zzzz-zzzz-zzzzz1", 4, "type = \"zero\"");
    lvs += &visible("e", "eeeeee-eeee-eeee-eeee-eeee-eeee-eeeee1", 2, "type = \"error\"");
    // The COW store: no VISIBLE in the text.
    lvs += &hidden("snap1", "kY9pF3-4Qy6-nB3W-wd25-rq4f-5zr3-QA7YeE", "pv0", 12, 4);
    lvs += &visible(
        "tpool",
        "J4A3Dd-vHyr-NktB-Xtnj-fObI-Nf5A-jxvUlK",
        16,
        "type = \"thin-pool\"\nmetadata = \"tpool_tmeta\"\npool = \"tpool_tdata\"\ntransaction_id = 2\n\
         chunk_size = 128\ndiscards = \"passdown\"\nzero_new_blocks = 1",
    );
    lvs += &visible(
        "thin1",
        "Ze95b9-eGe0-vRBb-gi09-qynD-AkY8-ISwYDF",
        32,
        "type = \"thin\"\nthin_pool = \"tpool\"\ntransaction_id = 0\ndevice_id = 1",
    );
    lvs += "tsnap {\nid = \"HL3tVT-NYTH-Pzpp-pp6u-Ep3c-4dsa-7lC360\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\
            flags = [\"ACTIVATION_SKIP\"]\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 32\n\
            type = \"thin\"\nthin_pool = \"tpool\"\ntransaction_id = 1\ndevice_id = 2\norigin = \"thin1\"\n}\n}\n";
    lvs += &visible(
        "r1",
        "A9y6Yn-D14T-dDo9-EgZm-Cnu7-7Svt-uuj596",
        4,
        "type = \"raid1\"\ndevice_count = 2\nregion_size = 4096\nraids = [\n\"r1_rmeta_0\", \"r1_rimage_0\",\n\
         \"r1_rmeta_1\", \"r1_rimage_1\"\n]",
    );
    lvs += &visible(
        "m1",
        "M1m1M1-m1M1-m1M1-m1M1-m1M1-m1M1-m1M1m1",
        4,
        "type = \"mirror\"\nmirror_count = 2\nregion_size = 1024\nmirrors = [\n\"m1_mimage_0\", 0,\n\"m1_mimage_1\", 0\n]",
    );
    lvs += &visible(
        "cached",
        "Cached-cach-edca-ched-cach-edca-cached",
        4,
        "type = \"cache\"\ncache_pool = \"cpool\"\norigin = \"cached_corig\"",
    );
    lvs += "snapshot0 {\nid = \"EBY3AB-p3e2-zS8i-q9y7-AjzQ-Hb6B-AEcn6z\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\
            flags = []\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 8\ntype = \"snapshot\"\n\
            chunk_size = 8\norigin = \"lin\"\ncow_store = \"snap1\"\n}\n}\n";
    lvs += &hidden("tpool_tmeta", "t4R5Yh-uIG4-3KIj-FAHQ-siJo-UGm1-YtmaD7", "pv0", 16, 2);
    lvs += &hidden("tpool_tdata", "tdatat-dat1-tdat-atda-tdat-atda-tdatat", "pv1", 4, 16);
    lvs += &hidden("lvol0_pmspare", "pmspar-epms-pare-pmsp-arep-mspa-repmsp", "pv0", 18, 2);
    lvs += &hidden("r1_rmeta_0", "rmeta0-rmet-a0rm-eta0-rmet-a0rm-eta0rm", "pv0", 20, 1);
    lvs += &hidden("r1_rimage_0", "rimag0-rima-ge0r-imag-e0ri-mage-0rimag", "pv0", 21, 4);
    lvs += &hidden("r1_rmeta_1", "rmeta1-rmet-a1rm-eta1-rmet-a1rm-eta1rm", "pv1", 20, 1);
    lvs += &hidden("r1_rimage_1", "rimag1-rima-ge1r-imag-e1ri-mage-1rimag", "pv1", 21, 4);
    lvs += &hidden("m1_mimage_0", "mimag0-mima-ge0m-imag-e0mi-mage-0mimag", "pv0", 25, 4);
    lvs += &hidden("m1_mimage_1", "mimag1-mima-ge1m-imag-e1mi-mage-1mimag", "pv1", 25, 4);
    lvs += &hidden("cached_corig", "corigc-orig-cori-gcor-igco-rigc-origco", "pv0", 29, 4);
    lvs += "cpool {\nid = \"jO7VN9-YJFG-n9gU-8Zte-LY6p-UvaG-ReaJrw\"\nstatus = [\"READ\", \"WRITE\"]\nflags = []\n\
            segment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 2\ntype = \"cache-pool+METADATA_FORMAT\"\n\
            data = \"cpool_cdata\"\nmetadata = \"cpool_cmeta\"\nmetadata_format = 2\nchunk_size = 128\n\
            cache_mode = \"writethrough\"\npolicy = \"smq\"\n}\n}\n";
    lvs += &hidden("cpool_cdata", "cdatac-data-cdat-acda-tacd-atac-datacd", "pv0", 33, 2);
    lvs += &hidden("cpool_cmeta", "cmetac-meta-cmet-acme-tacm-etac-metacm", "pv1", 29, 2);
    format!(
        "vg0 {{\nid = \"npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy\"\nseqno = 10\nformat = \"lvm2\"\n\
         status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\nextent_size = 2048\nmax_lv = 0\nmax_pv = 0\n\
         metadata_copies = 0\nphysical_volumes {{\n\
         pv0 {{\nid = \"CDKxz4-IOHl-dXLa-dX3I-7cCn-T7Yd-N9sgpR\"\ndevice = \"/dev/loop0\"\nstatus = [\"ALLOCATABLE\"]\n\
         flags = []\ndev_size = 131072\npe_start = 2048\npe_count = 63\n}}\n\
         pv1 {{\nid = \"ZlhRFo-YhwK-CBVg-t0OB-sNA1-T36z-V5iJ7I\"\ndevice = \"/dev/loop1\"\nstatus = [\"ALLOCATABLE\"]\n\
         flags = []\ndev_size = 131072\npe_start = 2048\npe_count = 63\n}}\n}}\n\
         logical_volumes {{\n{lvs}}}\n}}\n\
         contents = \"Text Format Volume Group\"\nversion = 1\n"
    )
}

fn spec_plan() -> Plan {
    let md = parse_metadata(spec_vg_text().as_bytes()).expect("spec VG parses");
    let pvs = [Some(DevRef::Num(DevNum::new(7, 0))), Some(DevRef::Num(DevNum::new(7, 1)))];
    plan(&md.vg, &pvs, &PlanOptions::default()).expect("plannable")
}

/// §8 "Computed tables", `<tmeta>`-style placeholders spelled as dm names, `[1 handle_errors]`
/// present (lvm2's default monitoring), and `e` added (a visible error LV §8 does not list).
const SPEC_TABLES: &[(&str, &str)] = &[
    ("vg0-lin-real", "0 16384 linear 7:0 2048"),
    ("vg0-lin", "0 16384 snapshot-origin <vg0-lin-real>"),
    ("vg0-str", "0 16384 striped 2 128 7:0 18432 7:1 2048"),
    ("vg0-snap1-cow", "0 8192 linear 7:0 26624"),
    ("vg0-snap1", "0 16384 snapshot <vg0-lin-real> <vg0-snap1-cow> P 8"),
    ("vg0-tpool_tmeta", "0 4096 linear 7:0 34816"),
    ("vg0-tpool_tdata", "0 32768 linear 7:1 10240"),
    ("vg0-tpool-tpool", "0 32768 thin-pool <vg0-tpool_tmeta> <vg0-tpool_tdata> 128 0 0"),
    ("vg0-tpool", "0 32768 linear <vg0-tpool-tpool> 0"),
    ("vg0-thin1", "0 65536 thin <vg0-tpool-tpool> 1"),
    (
        "vg0-r1",
        "0 8192 raid raid1 3 0 region_size 4096 2 <vg0-r1_rmeta_0> <vg0-r1_rimage_0> <vg0-r1_rmeta_1> <vg0-r1_rimage_1>",
    ),
    ("vg0-m1", "0 8192 mirror core 1 1024 2 <vg0-m1_mimage_0> 0 <vg0-m1_mimage_1> 0 1 handle_errors"),
    (
        "vg0-cached",
        "0 8192 cache <vg0-cpool_cmeta> <vg0-cpool_cdata> <vg0-cached_corig> 128 2 metadata2 writethrough smq 0",
    ),
    ("vg0-z", "0 8192 zero"),
    ("vg0-e", "0 4096 error"),
];

#[test]
fn computed_tables_match_section_8() {
    let p = spec_plan();
    for (name, line) in SPEC_TABLES {
        let d = p.device(name).unwrap_or_else(|| panic!("{name} not planned:\n{p}"));
        assert_eq!(d.table.to_string(), *line, "{name}");
    }
}

#[test]
fn sub_lv_tables_and_the_whole_plan() {
    let p = spec_plan();
    let expected = "\
vg0-lin-real 0 16384 linear 7:0 2048
vg0-snap1-cow 0 8192 linear 7:0 26624
vg0-snap1 0 16384 snapshot <vg0-lin-real> <vg0-snap1-cow> P 8
vg0-lin 0 16384 snapshot-origin <vg0-lin-real>
vg0-str 0 16384 striped 2 128 7:0 18432 7:1 2048
vg0-z 0 8192 zero
vg0-e 0 4096 error
vg0-tpool_tmeta 0 4096 linear 7:0 34816
vg0-tpool_tdata 0 32768 linear 7:1 10240
vg0-tpool-tpool 0 32768 thin-pool <vg0-tpool_tmeta> <vg0-tpool_tdata> 128 0 0
vg0-tpool 0 32768 linear <vg0-tpool-tpool> 0
vg0-thin1 0 65536 thin <vg0-tpool-tpool> 1
vg0-r1_rmeta_0 0 2048 linear 7:0 43008
vg0-r1_rimage_0 0 8192 linear 7:0 45056
vg0-r1_rmeta_1 0 2048 linear 7:1 43008
vg0-r1_rimage_1 0 8192 linear 7:1 45056
vg0-r1 0 8192 raid raid1 3 0 region_size 4096 2 <vg0-r1_rmeta_0> <vg0-r1_rimage_0> <vg0-r1_rmeta_1> <vg0-r1_rimage_1>
vg0-m1_mimage_0 0 8192 linear 7:0 53248
vg0-m1_mimage_1 0 8192 linear 7:1 53248
vg0-m1 0 8192 mirror core 1 1024 2 <vg0-m1_mimage_0> 0 <vg0-m1_mimage_1> 0 1 handle_errors
vg0-cpool_cdata 0 4096 linear 7:0 69632
vg0-cpool_cmeta 0 4096 linear 7:1 61440
vg0-cached_corig 0 8192 linear 7:0 61440
vg0-cached 0 8192 cache <vg0-cpool_cmeta> <vg0-cpool_cdata> <vg0-cached_corig> 128 2 metadata2 writethrough smq 0
";
    let got: String = p.devices.iter().map(|d| format!("{} {}\n", d.name, d.table)).collect();
    assert_eq!(got, expected);
    assert_eq!(p.skipped.len(), 1);
    assert_eq!((p.skipped[0].lv.as_str(), p.skipped[0].reason), ("tsnap", SkipReason::ActivationSkip));
}

#[test]
fn uuids_read_only_and_public() {
    let p = spec_plan();
    let vg = LvmId::parse("npsDNU-zJAq-nXX6-6zQj-M22x-tv5D-taqdqy").unwrap();
    let expect = [
        ("vg0-lin-real", "ySiCHK-KRBV-3W7M-FxR4-4T32-C1XF-JdHdTG", "-real", false, false),
        ("vg0-lin", "ySiCHK-KRBV-3W7M-FxR4-4T32-C1XF-JdHdTG", "", false, true),
        ("vg0-snap1-cow", "kY9pF3-4Qy6-nB3W-wd25-rq4f-5zr3-QA7YeE", "-cow", false, false),
        ("vg0-snap1", "kY9pF3-4Qy6-nB3W-wd25-rq4f-5zr3-QA7YeE", "", false, true),
        ("vg0-tpool_tmeta", "t4R5Yh-uIG4-3KIj-FAHQ-siJo-UGm1-YtmaD7", "-tmeta", false, false),
        ("vg0-tpool_tdata", "tdatat-dat1-tdat-atda-tdat-atda-tdatat", "-tdata", false, false),
        ("vg0-tpool-tpool", "J4A3Dd-vHyr-NktB-Xtnj-fObI-Nf5A-jxvUlK", "-tpool", false, false),
        ("vg0-tpool", "J4A3Dd-vHyr-NktB-Xtnj-fObI-Nf5A-jxvUlK", "-pool", true, false),
        ("vg0-thin1", "Ze95b9-eGe0-vRBb-gi09-qynD-AkY8-ISwYDF", "", false, true),
        // 2.03.16: no suffix on raid and mirror sub-LVs.
        ("vg0-r1_rmeta_0", "rmeta0-rmet-a0rm-eta0-rmet-a0rm-eta0rm", "", false, false),
        ("vg0-r1_rimage_0", "rimag0-rima-ge0r-imag-e0ri-mage-0rimag", "", false, false),
        ("vg0-m1_mimage_1", "mimag1-mima-ge1m-imag-e1mi-mage-1mimag", "", false, false),
        ("vg0-cpool_cdata", "cdatac-data-cdat-acda-tacd-atac-datacd", "-cdata", false, false),
        ("vg0-cpool_cmeta", "cmetac-meta-cmet-acme-tacm-etac-metacm", "-cmeta", false, false),
        ("vg0-cached_corig", "corigc-orig-cori-gcor-igco-rigc-origco", "-real", false, false),
        ("vg0-cached", "Cached-cach-edca-ched-cach-edca-cached", "", false, true),
        ("vg0-z", "zzzzzz-zzzz-zzzz-zzzz-zzzz-zzzz-zzzzz1", "", false, true),
    ];
    for (name, lv_id, suffix, ro, public) in expect {
        let d = p.device(name).unwrap_or_else(|| panic!("{name} not planned"));
        let want = format!("LVM-{}{}{suffix}", vg.as_str(), LvmId::parse(lv_id).unwrap().as_str());
        assert_eq!(d.uuid, want.as_str(), "{name}");
        assert_eq!(d.read_only, ro, "{name} read-only");
        assert_eq!(d.public, public, "{name} public");
    }
    // §7.2's example.
    assert_eq!(
        p.device("vg0-lin").unwrap().uuid,
        "LVM-npsDNUzJAqnXX66zQjM22xtv5DtaqdqyySiCHKKRBV3W7MFxR44T32C1XFJdHdTG"
    );
}

#[test]
fn display_is_dmsetup_like() {
    let p = spec_plan();
    let text = p.to_string();
    assert!(text.contains(
        "# vg0-tpool uuid=LVM-npsDNUzJAqnXX66zQjM22xtv5DtaqdqyJ4A3DdvHyrNktBXtnjfObINf5AjxvUlK-pool ro\n\
         vg0-tpool: 0 32768 linear <vg0-tpool-tpool> 0\n"
    ));
    assert!(text.contains("vg0-str: 0 16384 striped 2 128 7:0 18432 7:1 2048\n"));
    assert!(text.ends_with("# skipped tsnap: activation skip flag set\n"));
    // Every table line parses back.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, table) = line.split_once(": ").unwrap();
        assert_eq!(table.parse::<lvmkit_dm::TableLine>().unwrap().to_string(), table);
    }
}
