//! The report options scripts use — `-S/--select`, `-O/--sort`, `--rows`, `--nameprefixes`,
//! `--unquoted`, `--aligned`, `--binary`, `--separator`, `--noheadings`, the `selected` field,
//! and the refusal to mix LV and PV fields — judged by the host's genuine lvm2.
//!
//! Each case's images are attached read-only to loop devices and lvm2 runs limited to exactly
//! those devices (`lvmkit_tests::host`); lvmkit's report runs on the image files with the same
//! options. Standard output must be identical byte for byte once lvm2's device names are
//! replaced by ours; for a refused request, lvm2's error lines (its help listings and known
//! noise left out) must be ours. The selection tables cover every value type lvm2 has (string,
//! number, binary, size, percent, string list, time), regex, reserved values, logic and
//! grouping, each with expressions that select nothing and everything as controls.
//!
//! Without lvm2, without root, or when `losetup` is denied, each test prints `skipped: …` and
//! passes, except that with `CI=true` a missing lvm2 is a failure.

use std::path::PathBuf;
use std::process::Command;

use lvmkit::report::{ReportError, ReportFormat, ReportKind, ReportOptions, report};
use lvmkit::source::Source;
use lvmkit_tests::host::{Loops, attach, effective_uid, find_program, is_noise, lvm_config};
use lvmkit_tests::{Case, case, case_names};

struct Judge {
    lvm: PathBuf,
    losetup: PathBuf,
    etc: tempfile::TempDir,
}

fn judge() -> Result<Judge, String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(lvm) = find_program("lvm") else {
        assert!(!ci, "CI=true but lvm2 (`lvm`) is not installed");
        return Err("lvm2 (`lvm`) not found".into());
    };
    let Some(losetup) = find_program("losetup") else {
        assert!(!ci, "CI=true but `losetup` is not installed");
        return Err("`losetup` not found".into());
    };
    if effective_uid().is_some_and(|u| u != 0) {
        return Err("needs root (loop devices and lvm2 locking)".into());
    }
    let etc = tempfile::Builder::new().prefix("lvmkit-lvm2-etc-").tempdir().map_err(|e| e.to_string())?;
    Ok(Judge { lvm, losetup, etc })
}

/// A case attached for lvm2 and loaded for lvmkit.
struct Attached {
    case: Case,
    loops: Loops,
    src: Source,
    /// (lvm2's device name, ours), longest first.
    names: Vec<(String, String)>,
}

fn attached(j: &Judge, name: &str) -> Result<Attached, String> {
    let c = case(name);
    let loops = attach(&j.losetup, &c, None).map_err(|e| e.message())?;
    let mut names: Vec<(String, String)> = loops
        .devices
        .iter()
        .zip(&c.devices)
        .map(|(dev, d)| (dev.clone(), c.our_name(&d.lvm_name).expect("our name")))
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    let src = Source::load(&c.images, false);
    Ok(Attached { case: c, loops, src, names })
}

impl Attached {
    /// lvm2's text with its device names replaced by ours (whole names only).
    fn subst(&self, s: &str) -> String {
        let mut out = String::new();
        let mut i = 0;
        'outer: while i < s.len() {
            for (from, to) in &self.names {
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

    /// `lvm ARGS`: (stdout, error lines). The error lines are lvm2's stderr without the known
    /// noise, without the field and operator listings lvm2 prints before a selection error
    /// (they end in a line of blanks), and without warnings.
    fn lvm2(&self, j: &Judge, args: &[&str]) -> (String, Vec<String>) {
        let out = Command::new(&j.lvm)
            .args(args)
            .arg("--config")
            .arg(lvm_config(&self.loops.devices))
            .env("LVM_SYSTEM_DIR", j.etc.path())
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .env("TZ", "UTC")
            .output()
            .expect("lvm runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let lines: Vec<&str> = stderr.lines().collect();
        let listing = |i: usize| {
            let l = lines[i];
            let dashes = |s: &str| !s.trim().is_empty() && s.trim().chars().all(|c| c == '-');
            l.trim().is_empty()
                || l.starts_with("    ")
                || dashes(l)
                || lines.get(i + 1).is_some_and(|n| dashes(n))
        };
        let errors = (0..lines.len())
            .filter(|&i| !listing(i))
            .map(|i| lines[i])
            // Warnings (lvm2's log_warn) are not errors; lvmkit does not print them.
            .filter(|l| {
                !is_noise(l) && !l.contains("WARNING") && !l.contains("Ignoring duplicate sort field")
            })
            // What lvm2 says about VGs it will not show (foreign, outdated PVs) is not about
            // these options; the reports themselves are still compared.
            .filter(|l| !l.contains("Cannot access VG") && !l.contains("See vgck --updatemetadata"))
            .map(|l| l.strip_prefix("  ").unwrap_or(l).to_string())
            .collect();
        (self.subst(&String::from_utf8_lossy(&out.stdout)), errors)
    }

    /// lvmkit's report for the same arguments: (stdout, error lines).
    fn ours(&self, args: &[&str]) -> (String, Vec<String>) {
        let (kind, opts) = options(args);
        match report(kind, &opts, &self.src) {
            Ok(s) => (s, vec![]),
            Err(ReportError::Lvm2(lines)) => (String::new(), lines),
            Err(e) => (String::new(), vec![e.to_string()]),
        }
    }
}

/// The report command and options lvm2 would get from `args`.
fn options(args: &[&str]) -> (ReportKind, ReportOptions) {
    let kind = match args[0] {
        "lvs" => ReportKind::Lv,
        "vgs" => ReportKind::Vg,
        "pvs" => ReportKind::Pv,
        c => panic!("not a report command: {c}"),
    };
    let mut o = ReportOptions::default();
    let mut it = args[1..].iter();
    while let Some(&a) = it.next() {
        let mut val = || it.next().expect("option value").to_string();
        match a {
            "-o" => o.fields.push(val()),
            "-S" => o.select = Some(val()),
            "-O" => o.sort = Some(val()),
            "--separator" => o.separator = Some(val()),
            "--units" => o.units = Some(val()),
            "--reportformat" => {
                o.format = if val() == "json" { ReportFormat::Json } else { ReportFormat::Basic };
            }
            "-a" => o.all = true,
            "--segments" => o.segments = true,
            "--noheadings" => o.noheadings = true,
            "--nosuffix" => o.nosuffix = true,
            "--rows" => o.rows = true,
            "--nameprefixes" => o.nameprefixes = true,
            "--unquoted" => o.unquoted = true,
            "--aligned" => o.aligned = true,
            "--binary" => o.binary = true,
            "-H" => o.history = true,
            n if !n.starts_with('-') => o.names.push(n.to_string()),
            x => panic!("option {x} not handled by this test"),
        }
    }
    (kind, o)
}

/// Run every invocation on a case; returns (checked, mismatch descriptions).
fn judge_case(j: &Judge, name: &str, runs: &[Vec<String>]) -> (usize, Vec<String>) {
    let a = match attached(j, name) {
        Ok(a) => a,
        Err(e) => return (0, vec![format!("{name}: cannot attach: {e}")]),
    };
    let mut bad = Vec::new();
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ls, le) = a.lvm2(j, &args);
        let (os, oe) = a.ours(&args);
        if ls != os || le != oe {
            bad.push(format!(
                "{}: {:?}\n  lvm2 stdout:\n{ls}  lvm2 errors: {le:?}\n  ours stdout:\n{os}  our errors: {oe:?}",
                a.case.name, args
            ));
        }
    }
    (runs.len(), bad)
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// `CMD -a -o FIELDS -S EXPR` for each expression.
fn selections(cmd: &str, fields: &str, exprs: &[&str]) -> Vec<Vec<String>> {
    exprs
        .iter()
        .map(|e| {
            let mut v = args(&[cmd, "-o", fields, "-S", e]);
            if cmd != "vgs" {
                v.insert(1, "-a".into());
            }
            v
        })
        .collect()
}

/// Invocations for one case: (case name, argument lists).
type Plan<'a> = (&'a str, Vec<Vec<String>>);

fn run_all(plan: &[Plan]) {
    let j = match judge() {
        Ok(j) => j,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    // Two cases at a time: each has its own loop devices and VG names.
    let (left, right): (Vec<_>, Vec<_>) = plan.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let run = |part: Vec<(usize, &Plan)>| {
        part.into_iter().map(|(_, (name, runs))| judge_case(&j, name, runs)).collect::<Vec<_>>()
    };
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let a = s.spawn(|| run(left));
        let mut all = run(right);
        all.extend(a.join().expect("judge thread"));
        all
    });
    let total: usize = results.iter().map(|r| r.0).sum();
    let bad: Vec<String> = results.into_iter().flat_map(|r| r.1).collect();
    println!("{} of {total} invocations print what lvm2 prints", total - bad.len());
    assert!(bad.is_empty(), "{} of {total} differ from lvm2:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn selection_matches_lvm2() {
    let thin_lv = selections(
        "lvs",
        "lv_name,lv_size,origin",
        &[
            // Controls: everything, nothing.
            "lv_name=~.",
            "all",
            "lv_name=nosuch",
            "vg_name=lk_thin",
            "vg_name!=lk_thin",
            // Strings (a hidden LV's name without brackets), quotes.
            "lv_name=thin1",
            "lv_name!=thin1",
            "lv_name=tp_tdata",
            "lv_name=[tp_tdata]",
            "lv_name='thin2'",
            "lv_name=\"tsnap\"",
            "origin=thin1",
            "pool_lv=tp",
            "pool_lv=\"\"",
            "lv_attr=Vwi-XXtz-k",
            // Regex.
            "lv_name=~thin",
            "lv_name!~thin",
            "lv_name=~^t",
            "lv_name=~'^t.*[0-9]$'",
            "lv_name=~(hin|sna)",
            "lv_name=~\"_t(data|meta)$\"",
            "lv_attr=~^V",
            "lv_name=~\"\"",
            "lv_name=~'[^a-z0-9_]'",
            "lv_name=~'[a-c]'",
            // Sizes: MiB by default, units, fractions, comparisons.
            "lv_size=16",
            "lv_size=16m",
            "lv_size>=8",
            "lv_size<8m",
            "lv_size>4194304b",
            "lv_size=16384k",
            "lv_size=0.015625g",
            "lv_size>1.5m",
            "lv_size<=2m",
            "lv_size!=16m",
            "lv_size=8192s",
            "lv_size>4M",
            "lv_size>0",
            "lv_size<0",
            "lv_read_ahead=auto",
            "lv_read_ahead>0",
            "lv_metadata_size=undefined",
            "origin_size=0",
            "origin_size>0",
            // Numbers and reserved values.
            "seg_count=1",
            "seg_count>1",
            "seg_count>=1",
            "lv_major=-1",
            "lv_major=undefined",
            "lv_major=unknown",
            "lv_major>0",
            "lv_major<10",
            "lv_major!=-1",
            "lv_kernel_major=-1",
            "vg_extent_count>0",
            "lv_count=4",
            // Binary.
            "lv_merging=0",
            "lv_merging=1",
            "lv_merging=merging",
            "lv_merging=no",
            "lv_merging=yes",
            "lv_skip_activation=skip",
            "lv_skip_activation=0",
            "lv_active_locally=unknown",
            "lv_active_locally=-1",
            "lv_active_locally=0",
            "lv_historical=0",
            // Percent.
            "data_percent=0",
            "data_percent>50%",
            "data_percent<=100",
            "data_percent!=10%",
            // Named reserved strings.
            "lv_when_full=queue",
            "lv_when_full='queue if no space'",
            "lv_when_full=undefined",
            "lv_when_full=\"\"",
            "lv_when_full=error",
            "lv_health_status=undefined",
            "lv_permissions=unknown",
            "lv_permissions=rw",
            // String lists: [] exact, {} subset, || any, blank.
            "lv_layout=thin",
            "lv_layout=[thin,sparse]",
            "lv_layout=[sparse,thin]",
            "lv_layout=[thin]",
            "lv_layout={thin}",
            "lv_layout={thin,pool}",
            "lv_layout=[thin||linear]",
            "lv_layout={pool||sparse}",
            "lv_layout!=[thin,sparse]",
            "lv_role=[public]",
            "lv_role=public",
            "lv_role={private,data}",
            "lv_role=[private,thin,pool,data]",
            "lv_role={public,snapshot,thinsnapshot}",
            "lv_role=[private && thin && pool && metadata]",
            "lv_tags=[]",
            "lv_tags=\"\"",
            "lv_tags={}",
            "lv_tags=x",
            // Times (UTC), epoch seconds, ranges.
            "lv_time>=2026-11-21",
            "lv_time<2026-11-21",
            "lv_time=2026-11-21",
            "lv_time=2026-11",
            "lv_time=2026",
            "lv_time=\"2026-11-21 22:16:39\"",
            "lv_time=\"2026-11-21 22:16\"",
            "lv_time!=\"2026-11-21 22:16\"",
            "lv_time>\"2026-11-21 22:16:38\"",
            "lv_time since 2026-01-01",
            "lv_time after 2026-11-22",
            "lv_time until 2026-12",
            "lv_time before 2027",
            "lv_time>@1795299399",
            "lv_time=@1795299399",
            "lv_time>=20261121",
            "lv_time<\"2026-11-21 23:16:39 +01:00\"",
            // Logic and grouping.
            "lv_name=thin1 && lv_size=16m",
            "lv_name=thin1,lv_size=16m",
            "lv_name=thin1 || lv_name=tp",
            "lv_name=thin1#lv_name=tp",
            "!(lv_name=thin1)",
            "!(lv_name=thin1 || lv_name=tp)",
            "lv_name=thin1 || lv_name=tp && lv_size=16m",
            "(lv_name=thin1 || lv_name=tp) && lv_size=16m",
            "lv_size>4 && !(lv_layout={pool}) && (origin=thin1 || lv_name=~^th)",
            "  lv_name = thin2  ",
            "lv_name=thin1 || (lv_size>=8m && (pool_lv=tp || lv_name=~data))",
            // Field names as lvm2 resolves them.
            "name=thin1",
            "LV_NAME=thin1",
            "lvname=thin1",
            "size>8",
            "size_=16",
        ],
    );
    let mut thin = thin_lv;
    thin.extend(selections("lvs", "lv_name,lv_size,selected", &["lv_size>4m", "lv_name=nosuch", "all"]));
    thin.extend(selections("lvs", "lv_name,segtype,seg_size", &["seg_size>4", "segtype=thin", "thin_id>1"]));
    thin.extend(selections(
        "vgs",
        "vg_name,vg_size",
        &["vg_free>0", "vg_attr=~^wz", "vg_name=x", "lv_count>1"],
    ));
    thin.extend(selections(
        "pvs",
        "pv_fmt,pv_size,vg_name",
        &["pv_free>0", "pv_size>=16", "pv_attr=~^a", "pv_tags=[]"],
    ));
    let tags = [
        selections(
            "lvs",
            "lv_name,lv_tags",
            &[
                "lv_tags=lvtag1",
                "lv_tags=[lvtag1,lvtag2]",
                "lv_tags=[lvtag2,lvtag1]",
                "lv_tags=[lvtag1]",
                "lv_tags={lvtag1}",
                "lv_tags={lvtag2,lvtag1}",
                "lv_tags={lvtag1,nosuch}",
                "lv_tags=[lvtag1||later]",
                "lv_tags={later||nosuch}",
                "lv_tags!={lvtag1}",
                "lv_tags=later",
                "lv_tags=[]",
                "lv_tags=\"\"",
                "lv_tags=~lvtag",
                "vg_tags=vgtag1",
                "vg_tags={vgtag1,\"odd/tag=x:y&z#1!_+.-\"}",
            ],
        ),
        selections("vgs", "vg_name,vg_tags", &["vg_tags=vgtag1", "vg_tags=[vgtag1]", "vg_tags={vgtag1}"]),
        selections(
            "pvs",
            "pv_fmt,pv_tags",
            &["pv_tags=pvtag1", "pv_tags=[pvtag2,pvtag1]", "pv_tags=[]", "pv_tags!=[]"],
        ),
    ]
    .concat();
    let lv_attrs = selections(
        "lvs",
        "lv_name,lv_attr,lv_read_ahead,lv_minor",
        &[
            "lv_read_ahead=auto",
            "lv_read_ahead!=auto",
            "lv_read_ahead>0",
            "lv_read_ahead=0",
            "lv_read_ahead=128k",
            "lv_minor>=0",
            "lv_minor=-1",
            "lv_fixed_minor=fixed",
            "lv_skip_activation=1",
            "lv_permissions=read-only",
            "lv_permissions=ro",
            "lv_permissions=unknown",
            "lv_allocation_policy=contiguous",
            "lv_layout=[unknown]",
            "segtype=error || segtype=zero",
        ],
    );
    let snapshot = selections(
        "lvs",
        "lv_name,origin,origin_size,snap_percent",
        &["origin=base", "origin_size>2m", "origin_size=0", "lv_role={snapshot}", "snap_percent=undefined"],
    );
    run_all(&[("thin", thin), ("tags", tags), ("lv-attrs", lv_attrs), ("snapshot", snapshot)]);
}

#[test]
fn selection_errors_in_lvm2_words() {
    let bad = selections(
        "lvs",
        "lv_name",
        &[
            "bogus=1",
            "lv_name>1",
            "lv_name since 2020",
            "lv_size=~x",
            "lv_tags=~x",
            "lv_name=a &&",
            "&& lv_name=a",
            "!lv_name=a",
            "(lv_name=a",
            "lv_name=a)",
            "lv_name=\"a",
            "lv_name='a",
            "lv_size=1%",
            "seg_count=1m",
            "data_percent=5m",
            "data_percent=101",
            "lv_size=-1",
            "lv_size=x",
            "seg_count=abc",
            "lv_tags=[a,b",
            "lv_tags=[a,b||c]",
            "lv_tags=[a,b}",
            "lv_name=a b",
            "lv_name",
            "lv_name==a",
            "lv_time=2026-13",
            "lv_time=2026-02-30",
            "lv_time=\"2026-11-21 25:00\"",
            "lv_time=2026-1",
            "lv_time=\"22:16\"",
            "lv_name=~",
            "lv_name=~'(a'",
            "help=1",
            "lv_major=18446744073709551615",
            "seg_count=99999999999999999999",
        ],
    );
    let mut runs = bad;
    runs.push(args(&["lvs", "-O", "bogus"]));
    runs.push(args(&["lvs", "-O", "-"]));
    runs.push(args(&["lvs", "-O", "lv_name,+nosuch"]));
    runs.push(args(&["lvs", "-o", "lv_name,pv_name"]));
    runs.push(args(&["vgs", "-o", "lv_name,pv_name"]));
    runs.push(args(&["lvs", "--segments", "-S", "pv_name=x"]));
    runs.push(args(&["lvs", "-S", "pv_size>0"]));
    runs.push(args(&["lvs", "-O", "pv_name"]));
    // Field mixing per report type, allowed and refused.
    for o in [
        "vg_name,pv_name,seg_size",
        "vg_name,pvseg_start,lv_name",
        "vg_name,pvseg_start",
        "vg_name,seg_size",
        "vg_name,pv_fmt",
        "vg_name,lv_name,seg_start",
    ] {
        runs.push(args(&["vgs", "-o", o]));
    }
    runs.push(args(&["vgs", "-o", "vg_name", "-S", "seg_size>0 && pv_size>0"]));
    runs.push(args(&["vgs", "-o", "vg_name", "-O", "pvseg_start"]));
    runs.push(args(&["pvs", "-o", "pv_fmt,lv_name,seg_size", "-S", "lv_name=~thin"]));
    runs.push(args(&["pvs", "-o", "pv_fmt,vg_name", "-S", "lv_size>4m"]));
    runs.push(args(&["lvs", "--segments", "-o", "lv_name", "-O", "pv_uuid"]));
    run_all(&[("thin", runs)]);
}

#[test]
fn sorting_matches_lvm2() {
    let thin = vec![
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "lv_size"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "-lv_size"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "lv_size,-lv_name"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "+lv_size,+lv_name"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_attr", "-O", "lv_attr"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_attr", "-O", "-lv_attr,lv_name"]),
        // Ties keep lvm2's visiting order (thin pools first).
        args(&["lvs", "-a", "-o", "lv_name,vg_name", "-O", "vg_name"]),
        args(&["lvs", "-a", "-o", "lv_name,seg_count", "-O", "-seg_count"]),
        args(&["lvs", "-a", "-o", "lv_name", "-O", "lv_size"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_time", "-O", "-lv_time,lv_name"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_major", "-O", "lv_major"]),
        args(&["lvs", "-a", "-o", "lv_name,origin", "-O", "origin"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "size,name"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "lv_size,lv_size"]),
        args(&["lvs", "--segments", "-a", "-o", "lv_name,seg_start,seg_size", "-O", "-seg_size"]),
        args(&["lvs", "-a", "-o", "lv_name", "-O", "seg_size"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "-lv_size", "-S", "lv_size<16m"]),
    ];
    let spanning = vec![
        args(&["lvs", "--segments", "-o", "lv_name,seg_start,seg_size", "-O", "-seg_start"]),
        args(&["lvs", "--segments", "-o", "lv_name,seg_start,seg_size", "-O", "seg_size,lv_name"]),
        args(&["pvs", "-o", "pv_size,pv_free,pv_used", "-O", "-pv_free"]),
        args(&["pvs", "--segments", "-o", "pvseg_start,pvseg_size,lv_name", "-O", "-pvseg_size"]),
        args(&["vgs", "-o", "vg_name,lv_name,lv_size", "-O", "-lv_size"]),
    ];
    let raid = vec![
        args(&["lvs", "-a", "-o", "lv_name,lv_size,lv_role", "-O", "lv_size,lv_name"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_size", "-O", "-lv_size"]),
        args(&["lvs", "-a", "-o", "lv_name,lv_attr,lv_size", "-O", "lv_attr,-lv_size"]),
    ];
    run_all(&[("thin", thin), ("spanning", spanning), ("raid", raid)]);
}

#[test]
fn output_shapes_match_lvm2() {
    let o = |extra: &[&str]| {
        let mut v = args(&["lvs", "-a"]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let thin = vec![
        o(&["--rows"]),
        o(&["--rows", "--noheadings"]),
        o(&["--rows", "--separator", ","]),
        o(&["--rows", "--nameprefixes", "-o", "lv_name,lv_size"]),
        o(&["--nameprefixes", "-o", "lv_name,lv_size,lv_attr"]),
        o(&["--nameprefixes", "--unquoted", "-o", "lv_name,lv_size"]),
        o(&["--nameprefixes", "--noheadings", "-o", "lv_name,pool_lv"]),
        o(&["--nameprefixes", "--separator", ";", "-o", "lv_name,pool_lv"]),
        o(&["--nameprefixes", "--aligned", "-o", "lv_name,lv_size"]),
        o(&["--separator", "|", "--aligned"]),
        o(&["--separator", "::", "--aligned", "--noheadings", "-o", "lv_name,lv_size,origin"]),
        o(&["--separator", "|"]),
        o(&["--aligned"]),
        o(&[
            "--binary",
            "-o",
            "lv_name,lv_merging,lv_active_locally,zero,lv_skip_activation,lv_autoactivation",
        ]),
        o(&["--binary", "--reportformat", "json", "-o", "lv_name,lv_merging,lv_active"]),
        o(&["--binary", "--rows", "-o", "lv_name,lv_merging"]),
        o(&["-o", "lv_name,selected"]),
        o(&["-o", "selected,lv_name", "-S", "lv_size>=16m"]),
        o(&["-o", "lv_name,selected", "--reportformat", "json", "-S", "lv_name=~^t"]),
        o(&["--reportformat", "json", "-S", "lv_size>4m", "-O", "-lv_name", "-o", "lv_name,lv_size"]),
        o(&["--units", "s", "--nosuffix", "-S", "lv_size>8192s", "-o", "lv_name,lv_size"]),
    ];
    let lv_attrs = vec![
        o(&["--binary", "-o", "lv_name,lv_fixed_minor,lv_skip_activation,lv_allocation_locked"]),
        o(&["--nameprefixes", "-o", "lv_name,lv_read_ahead,lv_minor"]),
    ];
    let spanning = vec![
        args(&["pvs", "--nameprefixes", "-o", "pv_name,pv_free"]),
        args(&["pvs", "--rows", "--separator", ",", "-o", "pv_name,vg_name"]),
        args(&[
            "pvs",
            "--segments",
            "--separator",
            "|",
            "-o",
            "pv_name,pvseg_start,lv_name",
            "-S",
            "lv_name=span",
        ]),
        args(&["vgs", "--rows"]),
    ];
    run_all(&[("thin", thin), ("lv-attrs", lv_attrs), ("spanning", spanning)]);
}

/// Negative control: the comparison notices a report that differs from lvm2's (ours asked for
/// one LV, lvm2 for another) and an error lvm2 does not print.
#[test]
fn the_judge_notices_differences() {
    let j = match judge() {
        Ok(j) => j,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let a = attached(&j, "thin").expect("attach thin");
    let (theirs, _) = a.lvm2(&j, &["lvs", "-o", "lv_name", "-S", "lv_name=thin2"]);
    let (ours, _) = a.ours(&["lvs", "-o", "lv_name", "-S", "lv_name=thin1"]);
    assert_ne!(theirs, ours);
    assert_eq!(theirs, "  LV   \n  thin2\n");
    let (_, theirs) = a.lvm2(&j, &["lvs", "-S", "lv_name=~thin"]);
    let (_, ours) = a.ours(&["lvs", "-S", "lv_name=~(thin"]);
    assert!(theirs.is_empty() && !ours.is_empty(), "{theirs:?} {ours:?}");
}

/// The same selections, sort keys and shapes over every lvm2-made case (PV rows sorted by the
/// PV uuid, which does not depend on device names).
#[test]
fn every_case_matches_lvm2() {
    let mut runs = selections(
        "lvs",
        "lv_name,lv_attr,lv_size",
        &[
            "all",
            "lv_name=nosuch",
            "lv_size>2m",
            "lv_attr=~^-",
            "lv_layout={linear}",
            "lv_role={private}",
            "seg_count>1",
            "lv_name=~_",
            "lv_size<=2m || lv_role={public}",
            "!(lv_layout=[linear])",
            "origin!=\"\"",
        ],
    );
    runs.extend(selections("lvs", "lv_name,lv_size,selected", &["lv_size>=4m"]));
    for e in ["seg_size>=2m", "segtype!=linear && seg_start>0"] {
        runs.push(args(&["lvs", "--segments", "-a", "-o", "lv_name,segtype,seg_start,seg_size", "-S", e]));
    }
    runs.push(args(&[
        "lvs",
        "--segments",
        "-a",
        "-o",
        "lv_name,seg_start,seg_size",
        "-O",
        "-seg_size,lv_name,seg_start",
    ]));
    runs.push(args(&["lvs", "-a", "-o", "lv_name,lv_size,lv_attr", "-O", "-lv_size,lv_attr"]));
    runs.push(args(&[
        "lvs",
        "-a",
        "--binary",
        "--nameprefixes",
        "-o",
        "lv_name,lv_merging,lv_image_synced,lv_skip_activation",
    ]));
    for e in ["all", "vg_free>0 && pv_count>1", "lv_count=0 || vg_attr=~^r"] {
        runs.push(args(&["vgs", "-o", "vg_name,vg_size,vg_free", "-S", e]));
    }
    runs.push(args(&["vgs", "--rows", "-o", "vg_name,vg_attr,vg_extent_size"]));
    for e in ["all", "pv_free>0", "vg_name=\"\"", "pv_attr=~^a && pv_size>10m"] {
        runs.push(args(&["pvs", "-o", "pv_fmt,pv_size,pv_free,vg_name", "-O", "pv_uuid", "-S", e]));
    }
    for e in ["lv_name=\"\"", "pvseg_size>2"] {
        runs.push(args(&[
            "pvs",
            "--segments",
            "-o",
            "pvseg_start,pvseg_size,lv_name",
            "-O",
            "pv_uuid,pvseg_start",
            "-S",
            e,
        ]));
    }
    runs.push(args(&["pvs", "-o", "pv_uuid,pv_free", "-O", "-pv_free,pv_uuid"]));
    let plan: Vec<(String, Vec<Vec<String>>)> = case_names().into_iter().map(|c| (c, runs.clone())).collect();
    let plan: Vec<(&str, Vec<Vec<String>>)> = plan.iter().map(|(c, r)| (c.as_str(), r.clone())).collect();
    run_all(&plan);
}

/// `lvs -H`: historical LVs, with every LV, segment and VG field lvmkit has (the thin case keeps
/// one: `thin0`, removed with `record_lvs_history`), in selections and sort keys too.
#[test]
fn history_matches_lvm2() {
    let src = Source::load(&case("thin").images, false);
    // Fields an lvs report accepts (PV fields are refused), except lv_modules: lvm2 2.03.16
    // dies on it for a historical LV and prints nothing.
    let fields: Vec<&str> = lvmkit::report::field_names()
        .into_iter()
        .filter(|f| *f != "lv_modules")
        // Known gap: with -H lvm2 links the full ancestry through historical LVs (a live LV's
        // lv_full_ancestors names `-thin0`, the historical LV's lv_full_descendants follows its
        // descendants through the live thin snapshots); lvmkit does not derive these yet.
        .filter(|f| *f != "lv_full_descendants" && *f != "lv_full_ancestors")
        .filter(|f| {
            let o = ReportOptions { fields: vec![f.to_string()], history: true, ..ReportOptions::default() };
            report(ReportKind::Lv, &o, &src).is_ok()
        })
        .collect();
    assert!(fields.len() > 100, "{} fields", fields.len());
    let mut runs: Vec<Vec<String>> = fields
        .chunks(12)
        .map(|c| {
            args(&["lvs", "-H", "-a", "--reportformat", "json", "-o", &format!("lv_name,{}", c.join(","))])
        })
        .collect();
    runs.push(args(&["lvs", "-H"]));
    runs.push(args(&["lvs", "-H", "--segments", "-a"]));
    runs.push(args(&["lvs", "-H", "lk_thin/-thin0"]));
    runs.push(args(&["lvs", "-H", "-O", "-lv_time,lv_name", "-o", "lv_name,lv_time"]));
    for e in [
        "lv_historical=1",
        "lv_name=thin0",
        "lv_name=-thin0",
        "lv_time_removed>0",
        "lv_role={history}",
        "segtype=historical",
    ] {
        runs.push(args(&["lvs", "-H", "-a", "-o", "lv_name,lv_historical", "-S", e]));
    }
    run_all(&[("thin", runs)]);
}

/// lvm2's fuzzy time words in `-S` (`today`, `yesterday`, weekdays, months, `N units ago`,
/// `noon`, `AM`/`PM`) against the host's lvm2, on a copy of `lv-attrs` whose nine LVs get
/// creation times spread from minutes to years before now (written with lvmkit's
/// `vgcfgrestore`; each time away from the words' range edges, so lvm2's clock and ours may
/// differ by seconds). The answers must differ between words: at least six distinct LV sets,
/// and none of the expressions selects all nine or none unless meant to.
#[test]
fn fuzzy_time_words_match_lvm2() {
    let j = match judge() {
        Ok(j) => j,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let c = case("lv-attrs");
    let tmp = tempfile::tempdir().expect("tempdir");
    let images: Vec<PathBuf> = c
        .images
        .iter()
        .map(|p| {
            let to = tmp.path().join(p.file_name().expect("image name"));
            std::fs::copy(p, &to).expect("copy the image");
            to
        })
        .collect();
    let c = lvmkit_tests::Case { images, ..c };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let day = 86_400;
    let midnight = now - now.rem_euclid(day);
    // Minutes, hours, yesterday noon, days, a week and more, months, years ago.
    let times = [
        now - 5 * 60,
        now - 3 * 3600 - 1800,
        midnight - 12 * 3600,
        midnight - 3 * day + 9 * 3600,
        midnight - 9 * day + 15 * 3600,
        midnight - 45 * day,
        midnight - 200 * day,
        midnight - 420 * day,
        midnight - 3 * 365 * day,
    ];
    let text = std::fs::read_to_string(c.dir.join("vgcfgbackup.vg")).expect("lv-attrs vgcfgbackup.vg");
    let mut k = 0;
    let text: String = text
        .lines()
        .map(|l| {
            // The LVs' lines (three tabs), not the file header's.
            if l.starts_with("\t\t\tcreation_time = ") {
                let t = times[k.min(times.len() - 1)];
                k += 1;
                format!("\t\t\tcreation_time = {t}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_eq!(k, times.len(), "lv-attrs has {k} LVs, the test dates {}", times.len());
    let file = tmp.path().join("lv-attrs.vg");
    std::fs::write(&file, text).expect("write the VG file");
    let vg = lvmkit_metadata::import::parse_metadata(std::fs::read(&file).unwrap().as_slice())
        .map(|m| m.vg.name.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let src = Source::load(&c.images, false);
    let ctx = lvmkit::write::context(None, None, "fuzzy_time_words_match_lvm2");
    lvmkit::write::vgcfgrestore(&src, &vg, &file, true, &ctx, &Default::default())
        .expect("restore the dated VG");
    drop(src);
    let loops = match attach(&j.losetup, &c, None) {
        Ok(l) => l,
        Err(e) => {
            println!("skipped: {}", e.message());
            return;
        }
    };
    let mut names: Vec<(String, String)> = loops
        .devices
        .iter()
        .zip(&c.devices)
        .map(|(dev, d)| (dev.clone(), c.our_name(&d.lvm_name).expect("our name")))
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
    let a = Attached { src: Source::load(&c.images, false), case: c, loops, names };
    let words = [
        "lv_time = today",
        "lv_time = yesterday",
        "lv_time since yesterday",
        "lv_time before yesterday",
        "lv_time since \"10 minutes ago\"",
        "lv_time = \"3 hours ago\"",
        "lv_time since \"4 hours ago\"",
        "lv_time until \"2 days ago\"",
        "lv_time after \"1 week ago\"",
        "lv_time before \"2 weeks ago\"",
        "lv_time since \"1 year 3 months ago\"",
        "lv_time < \"2 years ago\"",
        "lv_time since \"6 months ago\" && lv_time until \"1 week ago\"",
        "lv_time since noon",
        "lv_time since \"yesterday noon\"",
        "lv_time since Mon",
        "lv_time since Sunday",
        "lv_time = \"3 days ago\"",
        "lv_time > \"2 PM\"",
        "lv_time since \"Jan 2020\"",
        "lv_time until \"Jan 2020\"",
        "lv_time != yesterday",
    ];
    let refused = ["lv_time since now", "lv_time = \"last month\"", "lv_time since \"today yesterday\""];
    let mut bad = Vec::new();
    let mut answers: Vec<String> = Vec::new();
    for w in words.iter().chain(&refused) {
        let args = ["lvs", "-o", "lv_name", "--noheadings", "-S", w];
        let (ls, le) = a.lvm2(&j, &args);
        let (os, oe) = a.ours(&args);
        if ls != os || le != oe {
            bad.push(format!("{w}\n  lvm2: {ls:?} {le:?}\n  ours: {os:?} {oe:?}"));
        }
        if words.contains(w) {
            answers.push(ls);
        } else {
            assert!(!le.is_empty(), "lvm2 accepts {w}: the refusal control proves nothing");
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ from lvm2:\n{}",
        bad.len(),
        words.len() + refused.len(),
        bad.join("\n")
    );
    let mut distinct = answers.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() >= 6,
        "only {} distinct answers: the words do not tell the LVs apart",
        distinct.len()
    );
    println!(
        "{} fuzzy time selections as lvm2, {} distinct answers",
        words.len() + refused.len(),
        distinct.len()
    );
}
