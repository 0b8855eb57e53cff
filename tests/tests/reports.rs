//! `pvs`/`vgs`/`lvs` reports against lvm2's own output for every case in test-images.
//!
//! For each case the reports are produced from the decompressed image files with the options
//! make-images.sh gave lvm2 (field lists read from the script itself), then compared field by
//! field with lvm2's JSON, and byte for byte with its default tables. lvm2's device names
//! (`/dev/loopN`) are replaced by ours (`Case::our_name`) first; rows whose order depends on the
//! device name (pvs) are re-sorted the way lvm2 sorts (by `pv_name`).
//!
//! Nothing is ignored: `lv_time` is comparable because make-images.sh ran lvm2 with `TZ=UTC`
//! and lvmkit prints UTC; every other field comes from the images.

use std::collections::HashMap;
use std::process::Command;

use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, report};
use lvmkit::source::Source;
use lvmkit_tests::{Case, case, case_names, images_dir};
use serde_json::Value;

/// `PVS_FIELDS=…` etc. from make-images.sh.
fn capture_fields() -> HashMap<String, String> {
    let script = std::fs::read_to_string(images_dir().join("make-images.sh")).expect("make-images.sh");
    script
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.ends_with("_FIELDS") && k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// A case file, transparently decompressing `NAME.xz`; `None` when neither exists (the script
/// deletes empty files: lvm2 printed nothing).
fn case_file(c: &Case, name: &str) -> Option<String> {
    let p = c.dir.join(name);
    if p.is_file() {
        return Some(c.text(name));
    }
    let xz = c.dir.join(format!("{name}.xz"));
    if xz.is_file() {
        let out = Command::new("xz").arg("-dc").arg(&xz).output().expect("xz runs");
        assert!(out.status.success(), "xz -dc {}", xz.display());
        return Some(String::from_utf8(out.stdout).expect("UTF-8"));
    }
    None
}

/// Replaces lvm2's device names by ours, whole names only (`/dev/loop1` must not match inside
/// `/dev/loop10`).
struct Names(Vec<(String, String)>);

impl Names {
    fn new(c: &Case) -> Names {
        let mut v: Vec<(String, String)> = c
            .devices
            .iter()
            .map(|d| {
                let ours = c
                    .our_name(&d.lvm_name)
                    .unwrap_or_else(|| panic!("{}: no name for {}", c.name, d.lvm_name));
                (d.lvm_name.clone(), ours)
            })
            .collect();
        v.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
        Names(v)
    }

    fn subst(&self, s: &str) -> String {
        let mut out = String::new();
        let mut i = 0;
        'outer: while i < s.len() {
            for (from, to) in &self.0 {
                if s[i..].starts_with(from.as_str()) {
                    let next = s[i + from.len()..].chars().next();
                    if !next.is_some_and(|c| c.is_ascii_alphanumeric()) {
                        out.push_str(to);
                        i += from.len();
                        continue 'outer;
                    }
                }
            }
            let ch = s[i..].chars().next().expect("in bounds");
            out.push(ch);
            i += ch.len_utf8();
        }
        out
    }
}

/// make-images.sh took this case's reports with `--foreign` (see `all-args.txt`).
fn foreign_args(c: &Case) -> bool {
    c.has("all-args.txt") && c.text("all-args.txt").split_whitespace().any(|a| a == "--foreign")
}

/// The system ID lvm2 had when it reported this case (`all-systemid.txt`), if any.
fn capture_system_id(c: &Case) -> Option<String> {
    c.has("all-systemid.txt").then(|| c.text("all-systemid.txt").trim().to_string())
}

fn load(c: &Case) -> Source {
    Source::load(&c.images, false)
}

/// One report invocation as make-images.sh ran it.
struct Invocation {
    file: &'static str,
    kind: ReportKind,
    fields_var: &'static str,
    all: bool,
    segments: bool,
}

const JSON_REPORTS: &[Invocation] = &[
    Invocation {
        file: "pvs.json",
        kind: ReportKind::Pv,
        fields_var: "PVS_FIELDS",
        all: true,
        segments: false,
    },
    Invocation {
        file: "vgs.json",
        kind: ReportKind::Vg,
        fields_var: "VGS_FIELDS",
        all: false,
        segments: false,
    },
    Invocation {
        file: "lvs.json",
        kind: ReportKind::Lv,
        fields_var: "LVS_FIELDS",
        all: true,
        segments: false,
    },
    Invocation {
        file: "segs.json",
        kind: ReportKind::Lv,
        fields_var: "SEGS_FIELDS",
        all: true,
        segments: true,
    },
];

/// The `[{…}, …]` rows and the key of lvm2's single report object.
fn rows_of(v: &Value) -> Option<(String, Vec<serde_json::Map<String, Value>>)> {
    let obj = v.get("report")?.as_array()?.first()?.as_object()?;
    let (key, rows) = obj.iter().next()?;
    let rows = rows.as_array()?.iter().filter_map(|r| r.as_object().cloned()).collect();
    Some((key.clone(), rows))
}

fn row_label(r: &serde_json::Map<String, Value>) -> String {
    ["pv_name", "vg_name", "lv_name", "seg_start"]
        .iter()
        .filter_map(|k| r.get(*k).and_then(Value::as_str).map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compare one JSON report; returns mismatch descriptions.
fn compare_json(
    c: &Case,
    src: &Source,
    names: &Names,
    fields: &HashMap<String, String>,
    inv: &Invocation,
) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(text) = case_file(c, inv.file) else {
        return vec![format!("{}/{}: lvm2's file is missing", c.name, inv.file)];
    };
    let theirs: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}/{}: {e}", c.name, inv.file));
    let opts = ReportOptions {
        fields: vec![fields[inv.fields_var].clone()],
        all: inv.all,
        segments: inv.segments,
        units: Some("b".into()),
        nosuffix: true,
        format: ReportFormat::Json,
        foreign: foreign_args(c),
        system_id: capture_system_id(c),
        ..ReportOptions::default()
    };
    let ours_text = match report(inv.kind, &opts, src) {
        Ok(t) => t,
        Err(e) => return vec![format!("{}/{}: our report failed: {e}", c.name, inv.file)],
    };
    let ours: Value = match serde_json::from_str(&ours_text) {
        Ok(v) => v,
        Err(e) => return vec![format!("{}/{}: our JSON does not parse: {e}\n{ours_text}", c.name, inv.file)],
    };
    let (Some((tkey, mut trows)), Some((okey, orows))) = (rows_of(&theirs), rows_of(&ours)) else {
        return vec![format!("{}/{}: unexpected JSON shape", c.name, inv.file)];
    };
    if tkey != okey {
        bad.push(format!("{}/{}: report key ours={okey} lvm2={tkey}", c.name, inv.file));
    }
    for r in &mut trows {
        for v in r.values_mut() {
            if let Value::String(s) = v {
                *s = names.subst(s);
            }
        }
    }
    if inv.kind == ReportKind::Pv {
        // lvm2 sorts pvs by pv_name, which changed with the substitution.
        trows.sort_by(|a, b| a["pv_name"].as_str().cmp(&b["pv_name"].as_str()));
    }
    if trows.len() != orows.len() {
        bad.push(format!(
            "{}/{}: {} rows, lvm2 has {}:\n  ours: {:?}\n  lvm2: {:?}",
            c.name,
            inv.file,
            orows.len(),
            trows.len(),
            orows.iter().map(row_label).collect::<Vec<_>>(),
            trows.iter().map(row_label).collect::<Vec<_>>()
        ));
        return bad;
    }
    for (n, (t, o)) in trows.iter().zip(&orows).enumerate() {
        let tk: Vec<&String> = t.keys().collect();
        let ok: Vec<&String> = o.keys().collect();
        if tk != ok {
            bad.push(format!("{}/{} row {n}: fields ours={ok:?} lvm2={tk:?}", c.name, inv.file));
            continue;
        }
        for (k, tv) in t {
            let ov = &o[k];
            if ov != tv {
                bad.push(format!(
                    "{}/{} row {n} ({}) {k}: ours={ov} lvm2={tv}",
                    c.name,
                    inv.file,
                    row_label(t)
                ));
            }
        }
    }
    bad
}

#[test]
fn json_reports_match_lvm2_field_by_field() {
    let fields = capture_fields();
    for v in ["PVS_FIELDS", "VGS_FIELDS", "LVS_FIELDS", "SEGS_FIELDS"] {
        assert!(fields.contains_key(v), "make-images.sh defines {v}");
    }
    let mut bad = Vec::new();
    let cases = case_names();
    assert!(!cases.is_empty());
    for name in &cases {
        let c = case(name);
        let src = load(&c);
        let names = Names::new(&c);
        for inv in JSON_REPORTS {
            bad.extend(compare_json(&c, &src, &names, &fields, inv));
        }
    }
    assert!(bad.is_empty(), "{} mismatches:\n{}", bad.len(), bad.join("\n"));
}

/// Start columns of a default table's headings (default headings have no spaces).
fn column_starts(heading: &str) -> Vec<usize> {
    let b = heading.as_bytes();
    (0..b.len()).filter(|&i| b[i] != b' ' && (i == 0 || b[i - 1] == b' ')).collect()
}

/// lvm2's pvs table with its device names replaced: the PV column (first, left-aligned) is
/// re-padded to the width our names need and rows are re-sorted by name, as lvm2 would print
/// them for our names.
fn expected_pvs_table(lvm: &str, names: &Names) -> String {
    let mut lines = lvm.lines();
    let Some(head) = lines.next() else { return String::new() };
    let starts = column_starts(head);
    let old_w = starts[1] - starts[0] - 1;
    let rows: Vec<(String, String)> = lines
        .map(|l| {
            let (first, rest) = l.split_at(starts[1].min(l.len()));
            (names.subst(first[2..].trim_end()), rest.to_string())
        })
        .collect();
    let heading_w = head[2..2 + old_w].trim_end().len();
    let w = rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0).max(10).max(heading_w);
    let mut sorted = rows;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!("  {:<w$} {}\n", &head[2..2 + old_w].trim_end(), &head[starts[1]..]);
    for (n, rest) in sorted {
        out.push_str(&format!("  {n:<w$} {rest}\n"));
    }
    out
}

fn diff_lines(ours: &str, theirs: &str) -> String {
    let mut s = String::new();
    let (o, t): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    for i in 0..o.len().max(t.len()) {
        let (a, b) = (o.get(i).copied().unwrap_or("<none>"), t.get(i).copied().unwrap_or("<none>"));
        if a != b {
            s.push_str(&format!("    line {i}:\n      ours: {a:?}\n      lvm2: {b:?}\n"));
        }
    }
    if s.is_empty() && ours != theirs {
        s.push_str("    (trailing newline differs)\n");
    }
    s
}

#[test]
fn default_tables_match_lvm2_byte_for_byte() {
    let mut bad = Vec::new();
    for name in case_names() {
        let c = case(&name);
        let src = load(&c);
        let names = Names::new(&c);
        for (file, kind, all) in [
            ("pvs-default.txt", ReportKind::Pv, false),
            ("vgs-default.txt", ReportKind::Vg, false),
            ("lvs-default.txt", ReportKind::Lv, true),
        ] {
            // A missing file: lvm2 printed nothing (make-images.sh drops empty files).
            let theirs = case_file(&c, file).unwrap_or_default();
            let theirs = if kind == ReportKind::Pv { expected_pvs_table(&theirs, &names) } else { theirs };
            let opts = ReportOptions {
                all,
                foreign: foreign_args(&c),
                system_id: capture_system_id(&c),
                ..ReportOptions::default()
            };
            match report(kind, &opts, &src) {
                Ok(ours) if ours == theirs => {}
                Ok(ours) => bad.push(format!("{name}/{file}:\n{}", diff_lines(&ours, &theirs))),
                Err(e) => bad.push(format!("{name}/{file}: our report failed: {e}")),
            }
        }
    }
    assert!(bad.is_empty(), "{} tables differ:\n{}", bad.len(), bad.join("\n"));
}

/// Run one report on a case with lvm2-style options.
fn run(c: &Case, kind: ReportKind, opts: ReportOptions) -> String {
    report(kind, &opts, &load(c)).unwrap_or_else(|e| panic!("{}: {e}", c.name))
}

fn opts(fields: &[&str]) -> ReportOptions {
    ReportOptions { fields: fields.iter().map(|s| s.to_string()).collect(), ..ReportOptions::default() }
}

// The expected texts below were printed by lvm2 2.03.16 for the same images (only device
// names differ, and are substituted).

#[test]
fn units_and_suffixes_like_lvm2() {
    let c = case("spanning");
    let o = |units: &str, nosuffix: bool| ReportOptions {
        fields: vec!["lv_name,lv_size".into()],
        segments: false,
        units: Some(units.into()),
        nosuffix,
        ..ReportOptions::default()
    };
    assert_eq!(
        run(&c, ReportKind::Lv, o("k", false)),
        "  LV   LSize    \n  keep  6144.00k\n  span 20480.00k\n"
    );
    assert_eq!(
        run(&c, ReportKind::Lv, o("b", false)),
        "  LV   LSize    \n  keep  6291456B\n  span 20971520B\n"
    );
    assert_eq!(run(&c, ReportKind::Lv, o("s", true)), "  LV   LSize\n  keep 12288\n  span 40960\n");
    // --nosuffix does not apply to human-readable units.
    assert_eq!(run(&c, ReportKind::Lv, o("h", true)), "  LV   LSize \n  keep  6.00m\n  span 20.00m\n");
    assert_eq!(run(&c, ReportKind::Lv, o("H", false)), "  LV   LSize \n  keep  6.29M\n  span 20.97M\n");
    assert!(report(ReportKind::Lv, &o("x", false), &load(&c)).is_err());
}

#[test]
fn segments_separator_and_noheadings_like_lvm2() {
    let c = case("spanning");
    let seg = ReportOptions { segments: true, ..ReportOptions::default() };
    assert_eq!(
        run(&c, ReportKind::Lv, seg),
        "  LV   VG          Attr       #Str Type   SSize\n  \
         keep lk_spanning -wi-XX----    1 linear 4.00m\n  \
         keep lk_spanning -wi-XX----    1 linear 2.00m\n  \
         span lk_spanning -wi-XX----    1 linear 9.00m\n  \
         span lk_spanning -wi-XX----    1 linear 8.00m\n  \
         span lk_spanning -wi-XX----    1 linear 3.00m\n"
    );
    let sep = ReportOptions { separator: Some(":".into()), ..ReportOptions::default() };
    assert_eq!(
        run(&c, ReportKind::Lv, sep),
        "  LV:VG:Attr:LSize:Pool:Origin:Data%:Meta%:Move:Log:Cpy%Sync:Convert\n  \
         keep:lk_spanning:-wi-XX----:6.00m::::::::\n  \
         span:lk_spanning:-wi-XX----:20.00m::::::::\n"
    );
    let noh = ReportOptions {
        noheadings: true,
        fields: vec!["vg_name,pv_count,lv_count,vg_seqno,max_lv".into()],
        ..ReportOptions::default()
    };
    let seqno = case_file(&c, "vgs.json").and_then(|t| {
        let v: Value = serde_json::from_str(&t).ok()?;
        Some(rows_of(&v)?.1[0]["vg_seqno"].as_str()?.to_string())
    });
    assert_eq!(run(&c, ReportKind::Vg, noh), format!("  lk_spanning   2   2 {:>3}     0\n", seqno.unwrap()));
    // Removing and adding columns, as `-o+… -o-…`.
    let pm = opts(&[
        "+lv_size",
        "-lv_attr,pool_lv,origin,data_percent,metadata_percent,move_pv,mirror_log,copy_percent,convert_lv",
    ]);
    assert_eq!(
        run(&c, ReportKind::Lv, pm),
        "  LV   VG          LSize  LSize \n  keep lk_spanning  6.00m  6.00m\n  span lk_spanning 20.00m 20.00m\n"
    );
}

#[test]
fn pv_segments_like_lvm2() {
    let c = case("spanning");
    let n1 = c.our_name(&c.devices[0].lvm_name).unwrap();
    let n2 = c.our_name(&c.devices[1].lvm_name).unwrap();
    let o = ReportOptions {
        segments: true,
        fields: vec!["pv_name,pvseg_start,pvseg_size,lv_name,seg_start".into()],
        ..ReportOptions::default()
    };
    let w = n1.len().max(n2.len());
    let line = |n: &str, rest: &str| format!("  {n:<w$} {rest}\n");
    let expected = format!(
        "{}{}{}{}{}{}{}",
        line("PV", "Start SSize LV   Start "),
        line(&n1, "    0     3 span 17.00m"),
        line(&n1, "    3     4 keep     0 "),
        line(&n1, "    7     8 span  9.00m"),
        line(&n2, "    0     9 span     0 "),
        line(&n2, "    9     2 keep  4.00m"),
        line(&n2, "   11     4          0 "),
    );
    assert_eq!(run(&c, ReportKind::Pv, o), expected);
}

#[test]
fn names_select_like_lvm2() {
    let c = case("thin");
    let src = load(&c);
    let o = |names: &[&str]| ReportOptions {
        fields: vec!["lv_name".into()],
        names: names.iter().map(|s| s.to_string()).collect(),
        ..ReportOptions::default()
    };
    assert_eq!(report(ReportKind::Lv, &o(&["lk_thin/thin2"]), &src).unwrap(), "  LV   \n  thin2\n");
    // A hidden LV named explicitly is shown, in brackets.
    assert_eq!(
        report(ReportKind::Lv, &o(&["lk_thin/tp_tdata"]), &src).unwrap(),
        "  LV        \n  [tp_tdata]\n"
    );
    assert!(matches!(
        report(ReportKind::Lv, &o(&["nosuchvg"]), &src),
        Err(lvmkit::report::ReportError::NotFound(_))
    ));
    let vg = ReportOptions {
        fields: vec!["vg_name".into()],
        names: vec!["lk_thin".into()],
        ..ReportOptions::default()
    };
    assert_eq!(report(ReportKind::Vg, &vg, &src).unwrap(), "  VG     \n  lk_thin\n");
    let pv = ReportOptions {
        fields: vec!["vg_name".into()],
        names: vec![c.images[0].display().to_string()],
        ..ReportOptions::default()
    };
    assert_eq!(report(ReportKind::Pv, &pv, &src).unwrap(), "  VG     \n  lk_thin\n");
}

#[test]
fn missing_pv_reported_as_unknown() {
    // Only the first PV of the spanning VG: the second is missing, as lvm2 shows it with just
    // one of the two loop devices attached.
    let c = case("spanning");
    let src = Source::load(&c.images[..1], false);
    let n1 = c.our_name(&c.devices[0].lvm_name).unwrap();
    let w = n1.len();
    let pvs = report(ReportKind::Pv, &ReportOptions::default(), &src).unwrap();
    assert_eq!(
        pvs,
        format!(
            "  {:<w$} VG          Fmt  Attr PSize  PFree\n  {n1:<w$} lk_spanning lvm2 a--  15.00m    0 \n  {:<w$} lk_spanning lvm2 a-m  15.00m 4.00m\n",
            "PV", "[unknown]"
        )
    );
    let vgs =
        report(ReportKind::Vg, &opts(&["vg_name,vg_attr,vg_mda_count,pv_count,vg_missing_pv_count"]), &src)
            .unwrap();
    assert_eq!(
        vgs,
        "  VG          Attr   #VMda #PV #PV Missing\n  lk_spanning wz-pn-     1   2           1\n"
    );
    let lvs = report(
        ReportKind::Lv,
        &ReportOptions {
            fields: vec!["lv_name,lv_attr,devices,lv_health_status".into()],
            all: true,
            ..ReportOptions::default()
        },
        &src,
    )
    .unwrap();
    let dw = format!("{n1}(3)").len().max(12);
    let l = |n: &str, d: &str| format!("  {n} -wi-XX--p- {d:<dw$} partial        \n");
    assert_eq!(
        lvs,
        format!(
            "  LV   Attr       {:<dw$} Health         \n{}{}{}{}{}",
            "Devices",
            l("keep", &format!("{n1}(3)")),
            l("keep", "[unknown](9)"),
            l("span", "[unknown](0)"),
            l("span", &format!("{n1}(7)")),
            l("span", &format!("{n1}(0)"))
        )
    );
}

#[test]
fn merging_thin_snapshot_and_its_origin() {
    // `merge = "thin1"` on tsnap (a thin snapshot of thin1), restored with genuine lvm2 2.03.16:
    // its lvs showed `thin1 Owi-XXtz-k` and `tsnap Swi-XXtz-k`.
    let c = case("thin");
    let src = Source::load(&c.images, false);
    let mut md = (*src.assembly.vgs[0].metadata).clone();
    let tsnap = md.vg.lvs.iter_mut().find(|l| l.name == "tsnap").unwrap();
    match &mut tsnap.segments[0].kind {
        lvmkit_metadata::model::SegmentKind::Thin { merge, .. } => *merge = Some("thin1".into()),
        k => panic!("tsnap is not thin: {k:?}"),
    }
    let text = lvmkit_metadata::text::write_file(&lvmkit_metadata::export::export_file_tree(&md));
    let mut src = src;
    src.assembly.vgs[0].metadata =
        std::sync::Arc::new(lvmkit_metadata::import::parse_metadata(text.as_bytes()).unwrap());
    let out = report(ReportKind::Lv, &opts(&["lv_name,lv_attr"]), &src).unwrap();
    assert!(out.contains("  thin1 Owi-XXtz-k\n"), "{out}");
    assert!(out.contains("  tsnap Swi-XXtz-k\n"), "{out}");
}

/// A VG owned by system ID `lk-hostA`, reported by lvm2 as a host without a system ID, as the
/// owner and as `lk-hostB`, each with and without `--foreign` (make-images.sh `case_foreign`:
/// `view-<host>[-foreign]-<report>.json`): lvm2 hides a foreign VG with its LVs and PVs, also
/// from `pvs -a`, unless `--foreign`.
#[test]
fn foreign_vgs_hidden_like_lvm2() {
    let c = case("foreign");
    let src = load(&c);
    let names = Names::new(&c);
    let mut shown = 0;
    for host in ["none", "lk-hostA", "lk-hostB"] {
        for foreign in [false, true] {
            for (report_name, kind, all, fields) in [
                ("pvs", ReportKind::Pv, false, "pv_name,vg_name,vg_systemid"),
                ("pvs-a", ReportKind::Pv, true, "pv_name,vg_name,vg_systemid"),
                ("vgs", ReportKind::Vg, false, "vg_name,vg_systemid,vg_attr"),
                ("lvs", ReportKind::Lv, true, "lv_name,vg_name,lv_attr"),
            ] {
                let file = format!("view-{host}{}-{report_name}.json", if foreign { "-foreign" } else { "" });
                let mut theirs = c.json(&file);
                if let Some(rows) = theirs["report"][0].as_object_mut().and_then(|o| o.values_mut().next()) {
                    for r in rows.as_array_mut().into_iter().flatten() {
                        if let Some(Value::String(n)) = r.get_mut("pv_name") {
                            *n = names.subst(n);
                        }
                    }
                }
                let opts = ReportOptions {
                    fields: vec![fields.into()],
                    all,
                    format: ReportFormat::Json,
                    foreign,
                    system_id: (host != "none").then(|| host.to_string()),
                    ..ReportOptions::default()
                };
                let ours: Value = serde_json::from_str(&report(kind, &opts, &src).unwrap()).unwrap();
                assert_eq!(ours, theirs, "{file}");
                shown += rows_of(&theirs).map_or(0, |r| r.1.len());
            }
        }
    }
    // Negative control: the views are not all empty (owner and --foreign show the VG) and not
    // all full (lk-hostB and the host without an ID hide it): 4 of 6 views show 4 rows each.
    assert_eq!(shown, 16);
}
