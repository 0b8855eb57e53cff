//! Every field lvm2 knows, every case: lvmkit's reports against lvm2's `-o all` JSON.
//!
//! make-images.sh's `capture_all` saved, for every case, lvm2 2.03.16's
//! `lvs -a -o all`, `lvs -a --segments -o all`, `pvs -a -o all`,
//! `pvs -a --segments -o pv_all,pvseg_all,lv_all,seg_all,vg_all` and `vgs -o all`
//! (`--units b --nosuffix --reportformat json`, plus the arguments in `all-args.txt`), with the
//! loop devices it used in `all-devices.txt`. Here each report is made again from the images with
//! the very field list lvm2 printed, and compared cell by cell.
//!
//! Device-dependent values are mapped like the device names: lvm2's `/dev/loopN` becomes our
//! image path, and a PV's `pv_major`/`pv_minor` (the loop device's numbers) become `-1`, which is
//! what lvmkit reports for an image file (it has no device number).
//!
//! lvm2's own `-o` (`all`, `lv_all,…`) is also given to lvmkit: the same fields must come out in
//! the same order. The test prints the tally of identical (case, report, field) results and
//! writes every result to `target/reports_all.txt`.

use std::collections::BTreeSet;

use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, is_field, report};
use lvmkit::source::Source;
use lvmkit_tests::{Case, DeviceLine, case, case_names};
use serde_json::{Map, Value};

/// One `-o all` capture.
struct Capture {
    file: &'static str,
    kind: ReportKind,
    all: bool,
    segments: bool,
    /// The `-o` make-images.sh gave lvm2.
    spec: &'static str,
}

const CAPTURES: &[Capture] = &[
    Capture { file: "all-lvs.json", kind: ReportKind::Lv, all: true, segments: false, spec: "all" },
    Capture { file: "all-segs.json", kind: ReportKind::Lv, all: true, segments: true, spec: "all" },
    Capture { file: "all-pvs.json", kind: ReportKind::Pv, all: true, segments: false, spec: "all" },
    Capture {
        file: "all-pvsegs.json",
        kind: ReportKind::Pv,
        all: true,
        segments: true,
        spec: "pv_all,pvseg_all,lv_all,seg_all,vg_all",
    },
    Capture { file: "all-vgs.json", kind: ReportKind::Vg, all: false, segments: false, spec: "all" },
];

type Row = Map<String, Value>;

fn rows_of(v: &Value) -> Option<Vec<Row>> {
    let obj = v.get("report")?.as_array()?.first()?.as_object()?;
    let (_, rows) = obj.iter().next()?;
    Some(rows.as_array()?.iter().filter_map(|r| r.as_object().cloned()).collect())
}

/// The keys of a report's first row, in the order written (serde_json's map sorts them):
/// every string followed by `:`, after the `report` key and the report's own key, up to the
/// first key seen again.
fn first_row_keys(json: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    s.push(c);
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                }
                '"' => break,
                c => s.push(c),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&':') {
            if keys.len() > 2 && keys[2] == s {
                break;
            }
            keys.push(s);
        }
    }
    keys.into_iter().skip(2).collect()
}

/// lvm2's device names of this capture → ours.
fn device_map(c: &Case) -> Vec<(String, String)> {
    let lines: Vec<DeviceLine> = c
        .text("all-devices.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            DeviceLine {
                lvm_name: f[0].to_string(),
                image: f[1].to_string(),
                offset: f.get(2).and_then(|s| s.parse().ok()).unwrap_or(0),
                sector: f.get(3).and_then(|s| s.parse().ok()).unwrap_or(512),
            }
        })
        .collect();
    let view = Case { name: c.name.clone(), dir: c.dir.clone(), images: c.images.clone(), devices: lines };
    let mut v: Vec<(String, String)> = view
        .devices
        .iter()
        .map(|d| (d.lvm_name.clone(), view.our_name(&d.lvm_name).expect("device of the case")))
        .collect();
    v.sort_by_key(|b| std::cmp::Reverse(b.0.len()));
    v
}

/// Replace whole device names (`/dev/loop1` never inside `/dev/loop10`).
fn subst(map: &[(String, String)], s: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < s.len() {
        for (from, to) in map {
            if s[i..].starts_with(from.as_str())
                && !s[i + from.len()..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            {
                out.push_str(to);
                i += from.len();
                continue 'outer;
            }
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// lvm2's row with device-dependent values turned into what lvmkit shows for image files.
fn expected_row(map: &[(String, String)], row: &Row) -> Row {
    let mut r = Row::new();
    let has_device = row.get("pv_name").and_then(Value::as_str).is_some_and(|n| n.starts_with("/dev/"));
    for (k, v) in row {
        let v = match v {
            Value::String(s) if has_device && (k == "pv_major" || k == "pv_minor") => {
                Value::String("-1".into())
            }
            Value::String(s) => Value::String(subst(map, s)),
            v => v.clone(),
        };
        r.insert(k.clone(), v);
    }
    r
}

/// How one field fared in one capture of one case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Same,
    Unknown,
    Differs(String),
    Rows(String),
}

/// (case, capture file, field) → outcome, and the number of rows compared.
fn compare_case(name: &str) -> Vec<((String, String, String), Outcome)> {
    let c = case(name);
    let src = Source::load(&c.images, false);
    let map = device_map(&c);
    let foreign =
        c.has("all-args.txt") && c.text("all-args.txt").split_whitespace().any(|a| a == "--foreign");
    let system_id = c.has("all-systemid.txt").then(|| c.text("all-systemid.txt").trim().to_string());
    let mut out = Vec::new();
    for cap in CAPTURES {
        let text = c.text(cap.file);
        let theirs: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/{}: {e}", cap.file));
        let trows: Vec<Row> = rows_of(&theirs).unwrap_or_else(|| panic!("{name}/{}: JSON shape", cap.file));
        // The field list lvm2 printed, in its order; an empty report names none (the same
        // capture of another case names them: only the row count is compared then).
        let fields: Vec<String> = first_row_keys(&text);
        assert_eq!(fields.len(), trows.first().map_or(0, |r| r.len()), "{name}/{}: key scan", cap.file);
        let mut trows: Vec<Row> = trows.iter().map(|r| expected_row(&map, r)).collect();
        if cap.kind == ReportKind::Pv {
            // lvm2 sorts pvs by pv_name (and PV segments by start), names that changed with the
            // substitution.
            let start =
                |r: &Row| r.get("pvseg_start").and_then(Value::as_str).and_then(|s| s.parse::<u64>().ok());
            trows.sort_by(|a, b| {
                a.get("pv_name")
                    .and_then(Value::as_str)
                    .cmp(&b.get("pv_name").and_then(Value::as_str))
                    .then(start(a).cmp(&start(b)))
            });
        }
        let opts = |fields: Vec<String>| ReportOptions {
            fields: vec![fields.join(",")],
            all: cap.all,
            segments: cap.segments,
            units: Some("b".into()),
            nosuffix: true,
            format: ReportFormat::Json,
            foreign,
            system_id: system_id.clone(),
            ..ReportOptions::default()
        };
        let key = |f: &str| (name.to_string(), cap.file.to_string(), f.to_string());
        let known: Vec<String> =
            fields.iter().filter(|f| is_field(cap.kind, cap.segments, f)).cloned().collect();
        for f in fields.iter().filter(|f| !known.contains(f)) {
            out.push((key(f), Outcome::Unknown));
        }
        let list = if known.is_empty() { vec!["vg_name".to_string()] } else { known.clone() };
        let ours_text =
            report(cap.kind, &opts(list), &src).unwrap_or_else(|e| panic!("{name}/{}: {e}", cap.file));
        let ours: Value = serde_json::from_str(&ours_text).expect("our JSON parses");
        let orows = rows_of(&ours).expect("our JSON shape");
        if orows.len() != trows.len() {
            let label = |r: &Row| {
                ["pv_name", "vg_name", "lv_name", "seg_start", "pvseg_start"]
                    .iter()
                    .filter_map(|k| r.get(*k).and_then(Value::as_str).map(|v| format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let why = format!(
                "{} rows, lvm2 {}: ours {:?} lvm2 {:?}",
                orows.len(),
                trows.len(),
                orows.iter().map(label).collect::<Vec<_>>(),
                trows.iter().map(label).collect::<Vec<_>>()
            );
            out.push((key("(rows)"), Outcome::Rows(why)));
            continue;
        }
        out.push((key("(rows)"), Outcome::Same));
        // lvm2's own `-o` (`all`, `lv_all`, …) names the same fields in the same order.
        let agg_text = report(cap.kind, &opts(vec![cap.spec.to_string()]), &src)
            .unwrap_or_else(|e| panic!("{name}/{}: -o {}: {e}", cap.file, cap.spec));
        let agg: Value = serde_json::from_str(&agg_text).expect("our JSON parses");
        let agg_keys = first_row_keys(&agg_text);
        let agg_rows = rows_of(&agg).map_or(0, |r| r.len());
        let spec_key = key(&format!("(-o {})", cap.spec));
        if agg_rows == trows.len() && (trows.is_empty() || agg_keys == fields) {
            out.push((spec_key, Outcome::Same));
        } else {
            out.push((spec_key, Outcome::Differs(format!("ours {agg_keys:?}\nlvm2 {fields:?}"))));
        }
        for f in &known {
            let mut diffs = Vec::new();
            for (n, (t, o)) in trows.iter().zip(&orows).enumerate() {
                if t.get(f) != o.get(f) {
                    let lv = t.get("lv_name").or(t.get("pv_name")).and_then(Value::as_str).unwrap_or("");
                    diffs.push(format!(
                        "row {n} ({lv}): ours {} lvm2 {}",
                        o.get(f).unwrap_or(&Value::Null),
                        t.get(f).unwrap_or(&Value::Null)
                    ));
                }
            }
            let o = if diffs.is_empty() { Outcome::Same } else { Outcome::Differs(diffs.join("; ")) };
            out.push((key(f), o));
        }
    }
    out
}

#[test]
fn every_field_of_every_case_matches_lvm2() {
    let cases: Vec<String> = case_names().into_iter().filter(|n| case(n).has("all-devices.txt")).collect();
    assert!(cases.len() >= 20, "the -o all captures are missing: {cases:?}");
    let results: Vec<_> = cases.iter().flat_map(|n| compare_case(n)).collect();
    let (mut same, mut unknown, mut differ) = (0, 0, 0);
    let mut fields: BTreeSet<&str> = BTreeSet::new();
    let mut bad = Vec::new();
    for (k, o) in &results {
        fields.insert(&k.2);
        match o {
            Outcome::Same => same += 1,
            Outcome::Unknown => unknown += 1,
            _ => differ += 1,
        }
        if *o != Outcome::Same {
            bad.push(format!("{} {} {}: {o:?}", k.0, k.1, k.2));
        }
    }
    // The whole tally, for reading the differences (target/reports_all.txt).
    let listing: String = results.iter().map(|(k, o)| format!("{} {} {} {o:?}\n", k.0, k.1, k.2)).collect();
    let _ = std::fs::write(lvmkit_tests::repo_root().join("target/reports_all.txt"), listing);
    eprintln!(
        "lvm2 -o all: {} cases, {} distinct fields; {} (case, report, field) results: {same} identical, \
         {unknown} unknown to lvmkit, {differ} differing",
        cases.len(),
        fields.len(),
        results.len()
    );
    // lvm2 2.03.16 has 218 fields besides its groups (`lv_all`, …) and `selected`.
    assert!(fields.len() > 218, "lvm2's -o all names 218 fields, saw {}", fields.len() - 3);
    assert!(bad.is_empty(), "{} differences from lvm2:\n{}", bad.len(), bad.join("\n"));
}

/// `lvs -a -o all` and `vgs -o all` as aligned tables, byte for byte (headings, column widths,
/// alignment of every field; these two reports hold no device names).
#[test]
fn all_fields_tables_match_lvm2_byte_for_byte() {
    let mut bad = Vec::new();
    let mut compared = 0;
    for name in case_names() {
        let c = case(&name);
        if !c.has("all-lvs.txt") {
            continue;
        }
        let src = Source::load(&c.images, false);
        let foreign =
            c.has("all-args.txt") && c.text("all-args.txt").split_whitespace().any(|a| a == "--foreign");
        let system_id = c.has("all-systemid.txt").then(|| c.text("all-systemid.txt").trim().to_string());
        for (file, kind, all) in
            [("all-lvs.txt", ReportKind::Lv, true), ("all-vgs.txt", ReportKind::Vg, false)]
        {
            let theirs = if c.has(file) { c.text(file) } else { String::new() };
            let opts = ReportOptions {
                fields: vec!["all".into()],
                all,
                foreign,
                system_id: system_id.clone(),
                ..ReportOptions::default()
            };
            let ours = report(kind, &opts, &src).unwrap_or_else(|e| panic!("{name}/{file}: {e}"));
            compared += theirs.lines().count();
            if ours != theirs {
                let line = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
                bad.push(format!(
                    "{name}/{file}: first differing line {line:?}\nours:\n{ours}\nlvm2:\n{theirs}"
                ));
            }
        }
    }
    assert!(compared > 100, "only {compared} lines compared");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
