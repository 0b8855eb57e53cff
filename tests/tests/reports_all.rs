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
//! `test-images/all-fields-gaps.txt` lists the (case, report, field) triples still known to
//! differ, each under the reason it differs. The test fails on a difference not listed there and
//! on a listed one that no longer differs (so the list only ever shrinks with the fixes), and
//! prints the tally of identical fields.

use std::collections::{BTreeMap, BTreeSet};

use lvmkit::report::{ReportFormat, ReportKind, ReportOptions, is_field, report};
use lvmkit::source::Source;
use lvmkit_tests::{Case, DeviceLine, case, case_names, images_dir};
use serde_json::{Map, Value};

/// One `-o all` capture.
struct Capture {
    file: &'static str,
    kind: ReportKind,
    all: bool,
    segments: bool,
}

const CAPTURES: &[Capture] = &[
    Capture { file: "all-lvs.json", kind: ReportKind::Lv, all: true, segments: false },
    Capture { file: "all-segs.json", kind: ReportKind::Lv, all: true, segments: true },
    Capture { file: "all-pvs.json", kind: ReportKind::Pv, all: true, segments: false },
    Capture { file: "all-pvsegs.json", kind: ReportKind::Pv, all: true, segments: true },
    Capture { file: "all-vgs.json", kind: ReportKind::Vg, all: false, segments: false },
];

type Row = Map<String, Value>;

fn rows_of(v: &Value) -> Option<Vec<Row>> {
    let obj = v.get("report")?.as_array()?.first()?.as_object()?;
    let (_, rows) = obj.iter().next()?;
    Some(rows.as_array()?.iter().filter_map(|r| r.as_object().cloned()).collect())
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
        let theirs: Value = c.json(cap.file);
        let trows: Vec<Row> = rows_of(&theirs).unwrap_or_else(|| panic!("{name}/{}: JSON shape", cap.file));
        // The field list lvm2 printed; an empty report names none (the same capture of another
        // case names them: only the row count is compared then).
        let fields: Vec<String> = trows.first().map(|r| r.keys().cloned().collect()).unwrap_or_default();
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

/// `all-fields-gaps.txt`: `[reason]` headings, then `case file field` lines.
fn known_gaps() -> BTreeMap<(String, String, String), String> {
    let text = std::fs::read_to_string(images_dir().join("all-fields-gaps.txt")).unwrap_or_default();
    let mut reason = String::new();
    let mut m = BTreeMap::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(r) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            reason = r.to_string();
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(f.len(), 3, "all-fields-gaps.txt: `{l}` is not `case file field`");
        m.insert((f[0].to_string(), f[1].to_string(), f[2].to_string()), reason.clone());
    }
    m
}

#[test]
fn every_field_of_every_case_matches_lvm2() {
    let cases: Vec<String> = case_names().into_iter().filter(|n| case(n).has("all-devices.txt")).collect();
    assert!(cases.len() >= 20, "the -o all captures are missing: {cases:?}");
    let results: Vec<_> = cases.iter().flat_map(|n| compare_case(n)).collect();
    let gaps = known_gaps();
    let (mut same, mut unknown, mut differ) = (0, 0, 0);
    let mut fields: BTreeSet<&str> = BTreeSet::new();
    let mut new_gaps = Vec::new();
    let mut fixed = Vec::new();
    for (k, o) in &results {
        fields.insert(&k.2);
        match o {
            Outcome::Same => same += 1,
            Outcome::Unknown => unknown += 1,
            _ => differ += 1,
        }
        let listed = gaps.contains_key(k);
        match (o, listed) {
            (Outcome::Same, true) => fixed.push(format!("{} {} {}", k.0, k.1, k.2)),
            (Outcome::Same, false) | (_, true) => {}
            (o, false) => new_gaps.push(format!("{} {} {}: {o:?}", k.0, k.1, k.2)),
        }
    }
    // The whole tally, for reading the gaps (target/reports_all.txt).
    let listing: String = results.iter().map(|(k, o)| format!("{} {} {} {o:?}\n", k.0, k.1, k.2)).collect();
    let _ = std::fs::write(lvmkit_tests::repo_root().join("target/reports_all.txt"), listing);
    let stale: Vec<_> = gaps.keys().filter(|k| !results.iter().any(|(r, _)| r == *k)).collect();
    eprintln!(
        "lvm2 -o all: {} cases, {} distinct fields; {} (case, report, field) results: {same} identical, \
         {unknown} unknown to lvmkit, {differ} differing",
        cases.len(),
        fields.len(),
        results.len()
    );
    assert!(fields.len() > 200, "lvm2's -o all names more than 200 fields, saw {}", fields.len());
    assert!(
        new_gaps.is_empty(),
        "{} differences not in all-fields-gaps.txt:\n{}",
        new_gaps.len(),
        new_gaps.join("\n")
    );
    assert!(fixed.is_empty(), "now identical, remove from all-fields-gaps.txt:\n{}", fixed.join("\n"));
    assert!(stale.is_empty(), "all-fields-gaps.txt names results that do not exist: {stale:?}");
}
