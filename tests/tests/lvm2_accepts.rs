//! Genuine lvm2 accepts what we write.
//!
//! For every image case with a VG: scan the images with our engine, write the VG with our
//! writer in backup-file form (`write_file(export_file_tree(..))`), attach the images to loop
//! devices and run `lvm vgcfgrestore --test -f FILE VG` against exactly those devices. lvm2
//! parses the file with its own reader, runs `vg_validate` and goes through `vg_write` without
//! committing (`--test`), so exit status 0 means lvm2 takes our text as a valid VG for these PVs.
//! One more VG is edited through the model first (renamed, tagged, seqno bumped, a new LV on a
//! free PE), and a deliberately broken edit checks that `--test` really validates.
//!
//! Per-case behaviour of lvm2 2.03.16 (checked with lvm2's own `vgcfgbackup.vg` of each case):
//! * `orphan` has no VG: skipped.
//! * `thin`: lvm2 refuses without `--force` ("Consider using option --force to restore Volume
//!   Group … with thin volumes"); the test retries with `--force` only when lvm2 asks for it.
//! * `exported` (EXPORTED VG and PVs) and `system-id` (VG owned by `lk-hostA`, we run with
//!   `system_id_source="none"`) are restored without complaint in test mode, so they are
//!   required to pass like the rest.
//! * cache pools (2.03.16) need no `--force`.
//!
//! A second test does the same for VGs from the property-test generator (`lvmkit_tests::gen`,
//! `Opts::LVM2`; 24 with a deterministic runner, `LVMKIT_GEN_VGS=N` for more): per VG fresh
//! sparse files on fresh read-write loop devices, PVs made by genuine `pvcreate --uuid` with the
//! VG's PV ids and layout (`--dataalignment` = pe_start, or for a PV with a bootloader area
//! `--restorefile` + a `--metadatasize` ending where that area starts; `pvs` confirms pe_start
//! and the bootloader area), then `vgcfgrestore --test`. lvm2 2.03.16 does not itself compare
//! pe_start, bootloader area or device size with the text in test mode, and refuses devices
//! under `pv_min_size` (2 MiB), so small PVs sit on 2 MiB devices. lvm2 prints a PV id starting
//! with `#` without hyphens. Generated VG 0 plus an LV past the end of its PV is the negative
//! control. 400 generated VGs take about 130 s here and all pass.
//!
//! Hygiene: images are attached read-only (`losetup -f --show -r`, `-o/--sizelimit` for a PV in
//! a partition, `-b` for a non-512 logical sector size); exactly those devices are detached
//! again by a drop guard (also on panic). lvm2 runs with `LVM_SYSTEM_DIR` pointing at an empty
//! temporary directory (no host lvm.conf, no backups or archives), and a `--config` that accepts
//! only this case's loop devices, disables activation, udev, hints, the devices file, lvmlockd.
//!
//! Without lvm2, without root, or when `losetup` is denied, each test prints `skipped: …` and
//! passes, except that with `CI=true` a missing lvm2 is a failure.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use lvmkit::source::Source;
use lvmkit_metadata::export::export_file_tree;
use lvmkit_metadata::flags::{FlagKind, FlagSet};
use lvmkit_metadata::id::LvmId;
use lvmkit_metadata::import::parse_metadata;
use lvmkit_metadata::model::{Area, AreaTarget, LogicalVolume, Metadata, SegType, Segment, SegmentKind};
use lvmkit_metadata::text::write_file;
use lvmkit_tests::r#gen::{Opts, metadata};
use lvmkit_tests::host::{
    AttachError, Loops, attach, effective_uid, find_program, is_noise, lvm_config, run_losetup,
};
use lvmkit_tests::{Case, case, case_names};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

struct Lvm2 {
    lvm: PathBuf,
    losetup: PathBuf,
    system_dir: tempfile::TempDir,
}

struct Restore {
    ok: bool,
    forced: bool,
    /// lvm2's output without the known noise.
    output: String,
}

impl Lvm2 {
    /// Run `lvm ARGS --config …` limited to `devices`: (success, stdout, stdout + stderr without
    /// the known noise).
    fn run(&self, args: &[&OsStr], devices: &[String]) -> (bool, String, String) {
        let mut cmd = Command::new(&self.lvm);
        cmd.args(args).arg("--config").arg(lvm_config(devices));
        cmd.env("LVM_SYSTEM_DIR", self.system_dir.path()).env("LVM_SUPPRESS_FD_WARNINGS", "1");
        match cmd.output() {
            Ok(o) => {
                let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
                let text = format!("{stdout}{}", String::from_utf8_lossy(&o.stderr));
                let kept: Vec<&str> = text.lines().filter(|l| !is_noise(l)).map(str::trim).collect();
                (o.status.success(), stdout, kept.join("\n"))
            }
            Err(e) => (false, String::new(), format!("cannot run {}: {e}", self.lvm.display())),
        }
    }

    /// `vgcfgrestore [--test] -f FILE VG`, with `--force` only when lvm2 asks for it.
    fn restore(&self, file: &Path, vg: &str, devices: &[String], test: bool) -> Restore {
        let attempt = |force: bool| {
            let mut args: Vec<&OsStr> = vec![OsStr::new("vgcfgrestore")];
            if test {
                args.push(OsStr::new("--test"));
            }
            if force {
                args.push(OsStr::new("--force"));
            }
            args.extend([OsStr::new("-f"), file.as_os_str(), OsStr::new(vg)]);
            let (ok, _, output) = self.run(&args, devices);
            (ok && output.contains(&format!("Restored volume group {vg}")), output)
        };
        let (ok, output) = attempt(false);
        if !ok && output.contains("Consider using option --force") {
            let (ok, output) = attempt(true);
            return Restore { ok, forced: true, output };
        }
        Restore { ok, forced: false, output }
    }

    /// `lvm CMD --noheadings --separator | -o FIELDS VG` rows.
    fn report(
        &self,
        cmd: &str,
        fields: &str,
        vg: &str,
        devices: &[String],
    ) -> Result<Vec<Vec<String>>, String> {
        let args = [cmd, "--noheadings", "--separator", "|", "-o", fields, vg].map(OsStr::new);
        let (ok, stdout, output) = self.run(&args, devices);
        if !ok {
            return Err(format!("lvm {cmd}: {output}"));
        }
        Ok(stdout.lines().map(|l| l.trim().split('|').map(str::to_string).collect()).collect())
    }
}

/// What to feed lvm2 for one case.
struct Job {
    label: String,
    case: String,
    md: Metadata,
    /// lvm2 must accept it (false: a negative control it must reject).
    expect_ok: bool,
    /// After `--test`, restore it for real onto private copies of the images and check what
    /// lvm2 reports.
    read_back: bool,
}

/// lvm2, root and loop devices, or the reason to skip.
fn environment() -> Result<Lvm2, String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(lvm) = find_program("lvm") else {
        assert!(!ci, "CI=true but lvm2 (`lvm`) is not installed: install the lvm2 package");
        return Err("lvm2 (`lvm`) not found on PATH or in /usr/sbin, /sbin".into());
    };
    let Some(losetup) = find_program("losetup") else {
        assert!(!ci, "CI=true but `losetup` (util-linux) is not installed");
        return Err("`losetup` not found".into());
    };
    if effective_uid().is_some_and(|u| u != 0) {
        return Err("needs root (loop devices and lvm2 locking)".into());
    }
    let system_dir =
        tempfile::Builder::new().prefix("lvmkit-lvm2-etc-").tempdir().map_err(|e| e.to_string())?;
    Ok(Lvm2 { lvm, losetup, system_dir })
}

#[test]
fn lvm2_vgcfgrestore_accepts_our_backup_files() {
    let lvm2 = match environment() {
        Ok(l) => l,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::Builder::new().prefix("lvmkit-lvm2-accepts-").tempdir().expect("tempdir");

    let mut jobs = Vec::new();
    for name in case_names() {
        let c = case(&name);
        let src = Source::load(&c.images, false);
        let Some(vg) = src.assembly.vgs.first() else {
            println!("{name}: no VG, skipped");
            continue;
        };
        let md = (*vg.metadata).clone();
        if name == "linear" {
            jobs.push(Job {
                label: "linear (edited)".into(),
                case: name.clone(),
                md: edited(&md),
                expect_ok: true,
                read_back: true,
            });
            jobs.push(Job {
                label: "linear (broken edit)".into(),
                case: name.clone(),
                md: broken(&md),
                expect_ok: false,
                read_back: false,
            });
        }
        jobs.push(Job { label: name.clone(), case: name, md, expect_ok: true, read_back: false });
    }
    jobs.sort_by_key(|j| j.label.clone());

    let mut failures = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let c = case(&job.case);
        let text = write_file(&export_file_tree(&job.md));
        if job.expect_ok {
            // Our own reader must take it too, or the comparison means little.
            if let Err(e) = parse_metadata(text.as_bytes()) {
                failures.push(format!("{}: our import rejects our own text: {e}", job.label));
                println!("{}: FAILED (our import: {e})", job.label);
                continue;
            }
        }
        let file = tmp.path().join(format!("{i}.vg"));
        std::fs::write(&file, &text).expect("write backup file");
        let loops = match attach(&lvm2.losetup, &c, None) {
            Ok(l) => l,
            Err(AttachError::Denied(e)) => {
                println!("skipped: losetup denied ({e})");
                return;
            }
            Err(AttachError::Failed(e)) => {
                failures.push(format!("{}: {e}", job.label));
                println!("{}: FAILED to attach: {e}", job.label);
                continue;
            }
        };
        let r = lvm2.restore(&file, &job.md.vg.name, &loops.devices, true);
        drop(loops);
        let forced = if r.forced { " with --force (lvm2 asked for it)" } else { "" };
        let what = format!("{} PVs, {} LVs", job.md.vg.pvs.len(), job.md.vg.lvs.len());
        match (job.expect_ok, r.ok) {
            (true, true) if job.read_back => {
                match read_back(&lvm2, &c, &file, &job.md, &tmp.path().join(format!("rw{i}"))) {
                    Ok(seen) => {
                        println!("{}: ok{forced} ({what}); restored for real on a copy: {seen}", job.label)
                    }
                    Err(e) => {
                        println!("{}: --test ok, but FAILED after a real restore: {e}", job.label);
                        failures.push(format!("{}: {e}", job.label));
                    }
                }
            }
            (true, true) => println!("{}: ok{forced} ({what})", job.label),
            (false, false) => {
                println!("{}: rejected as expected: {}", job.label, r.output.replace('\n', " | "))
            }
            (true, false) => {
                println!("{}: FAILED{forced}:\n{}", job.label, indent(&r.output));
                failures.push(format!("{}{forced}: {}", job.label, r.output.replace('\n', " | ")));
            }
            (false, true) => {
                println!("{}: FAILED: lvm2 accepted a broken VG", job.label);
                failures.push(format!("{}: lvm2 accepted a VG it must reject", job.label));
            }
        }
    }
    let expected_ok = jobs.iter().filter(|j| j.expect_ok).count();
    println!(
        "{} of {expected_ok} VGs accepted by lvm2; negative controls rejected",
        expected_ok - failures.len()
    );
    assert!(jobs.len() >= 20, "only {} jobs: are the image cases there?", jobs.len());
    assert!(failures.is_empty(), "lvm2 vgcfgrestore --test failed for:\n{}", failures.join("\n"));
}

/// Restore `file` for real onto private read-write copies of the case's images, then compare
/// lvm2's `vgs`/`lvs` with the model: what lvm2 made of our text.
fn read_back(lvm2: &Lvm2, c: &Case, file: &Path, md: &Metadata, dir: &Path) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let loops = attach(&lvm2.losetup, c, Some(dir)).map_err(AttachError::message)?;
    let vg = &md.vg.name;
    let r = lvm2.restore(file, vg, &loops.devices, false);
    if !r.ok {
        return Err(format!("vgcfgrestore: {}", r.output.replace('\n', " | ")));
    }
    let vgs = lvm2.report("vgs", "vg_name,vg_seqno,vg_tags", vg, &loops.devices)?;
    let lvs = lvm2.report("lvs", "lv_name,lv_tags,seg_pe_ranges", vg, &loops.devices)?;
    drop(loops);
    // vgcfgrestore commits the file's seqno + 1.
    let want_vg = vec![vec![vg.clone(), (md.vg.seqno + 1).to_string(), md.vg.tags.join(",")]];
    if vgs != want_vg {
        return Err(format!("lvm2 vgs {vgs:?}, expected {want_vg:?}"));
    }
    let mut got: Vec<(String, String)> = lvs.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let mut want: Vec<(String, String)> =
        md.vg.lvs.iter().filter(|l| l.is_visible()).map(|l| (l.name.clone(), l.tags.join(","))).collect();
    got.sort();
    got.dedup();
    want.sort();
    if got != want {
        return Err(format!("lvm2 lvs (name, tags) {got:?}, expected {want:?}"));
    }
    let new = md.vg.lvs.last().expect("the added LV");
    let pe = new.segments[0].pv_extents()[0].1;
    let ranges = lvs.iter().find(|r| r[0] == new.name).map(|r| r[2].clone()).unwrap_or_default();
    if !ranges.ends_with(&format!(":{pe}-{pe}")) {
        return Err(format!("lvm2 puts {} at {ranges:?}, expected PE {pe}", new.name));
    }
    Ok(format!("vgs {:?}, lvs {:?}", vgs[0], lvs))
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// The first `len` free PEs of PV `pv`, if any.
fn free_pe(md: &Metadata, pv: usize, len: u64) -> Option<u64> {
    let mut used: Vec<(u64, u64)> = md
        .vg
        .lvs
        .iter()
        .flat_map(|l| &l.segments)
        .flat_map(|s| s.pv_extents())
        .filter(|(p, _, _)| *p == pv)
        .map(|(_, start, n)| (start, start + n))
        .collect();
    used.sort();
    let mut next = 0;
    for (s, e) in used {
        if s >= next + len {
            return Some(next);
        }
        next = next.max(e);
    }
    (next + len <= md.vg.pvs[pv].pe_count).then_some(next)
}

/// A new visible linear LV on PV 0 at `pe`.
fn new_lv(name: &str, pe: u64) -> LogicalVolume {
    // 32 id characters, unique per run.
    let id = LvmId::parse(&format!("LvmkitEditTestLv{:016}", std::process::id())).expect("valid id");
    LogicalVolume {
        name: name.to_string(),
        id,
        status: FlagSet::from_words(FlagKind::Lv, &["READ", "WRITE", "VISIBLE"]),
        flags: Some(FlagSet::new()),
        tags: vec!["made_by=lvmkit".into()],
        creation_time: None,
        creation_host: None,
        lock_args: None,
        allocation_policy: None,
        profile: None,
        read_ahead: None,
        major: None,
        minor: None,
        segments: vec![Segment {
            start_extent: 0,
            extent_count: 1,
            segtype: SegType::plain("striped"),
            reshape_count: None,
            data_copies: None,
            tags: vec![],
            kind: SegmentKind::Striped {
                stripe_size: None,
                areas: vec![Area { target: AreaTarget::Pv(0), start: pe }],
            },
            extra: vec![],
        }],
        extra: vec![],
    }
}

/// Edits through the model: a per-run VG name, seqno + 1, VG and LV tags, a new LV on a free PE.
fn edited(md: &Metadata) -> Metadata {
    let mut md = md.clone();
    md.vg.name = format!("lk_edit_{}", std::process::id());
    md.vg.seqno += 1;
    md.vg.tags.push("lvmkit-edit".into());
    md.vg.lvs[0].tags.push("edited_by=lvmkit".into());
    let pe = free_pe(&md, 0, 1).expect("linear case has free PEs");
    md.vg.lvs.push(new_lv("lvmkit_new", pe));
    md.header.description = Some("lvmkit lvm2_accepts test: edited through the model".into());
    md
}

/// Negative control: a new LV on a PE past the end of PV 0 (our import rejects it too, so it
/// is not re-read before lvm2 sees it).
fn broken(md: &Metadata) -> Metadata {
    let mut md = md.clone();
    md.vg.name = format!("lk_broken_{}", std::process::id());
    let past_end = md.vg.pvs[0].pe_count;
    md.vg.lvs.push(new_lv("lvmkit_bad", past_end));
    md
}

// ------------------------------------------------------------------------------------------------
// Generated VGs

/// lvm2's default `devices/pv_min_size` (2 MiB): pvcreate refuses smaller devices.
const PV_MIN_SECTORS: u64 = 4096;

/// Where lvm2 puts the first metadata area (4 KiB), in sectors.
const MDA_START_SECTORS: u64 = 8;

/// One generated VG for lvm2.
struct GenJob {
    label: String,
    md: Metadata,
    /// lvm2 must accept it (false: the negative control).
    expect_ok: bool,
    /// The VG whose PVs these are when not `md` (the negative control's valid twin): a
    /// `pvcreate --restorefile` must read a file lvm2 accepts.
    pvs_of: Option<usize>,
}

/// VGs from the property-test generator (`lvmkit_tests::gen`, restricted to what lvm2 restores),
/// each on fresh PVs made by genuine `pvcreate` with the VG's PV UUIDs and layout, must pass
/// `vgcfgrestore --test`; the first one with an LV running past the end of its PV must not.
#[test]
fn generated_vgs_are_accepted_by_lvm2() {
    let lvm2 = match environment() {
        Ok(l) => l,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let started = Instant::now();
    let n: usize = std::env::var("LVMKIT_GEN_VGS").ok().and_then(|s| s.parse().ok()).unwrap_or(24).max(1);
    let mut runner = TestRunner::deterministic();
    let strategy = metadata(Opts::LVM2);
    let mut jobs: Vec<GenJob> = (0..n)
        .map(|i| GenJob {
            label: format!("generated VG {i}"),
            md: strategy.new_tree(&mut runner).expect("generate").current(),
            expect_ok: true,
            pvs_of: None,
        })
        .collect();
    jobs.push(GenJob {
        label: "generated VG 0 + an LV past the end of its PV (negative control)".into(),
        md: past_pv_end(&jobs[0].md),
        expect_ok: false,
        pvs_of: Some(0),
    });
    let tmp = tempfile::Builder::new().prefix("lvmkit-lvm2-gen-").tempdir().expect("tempdir");

    let (mut failures, mut accepted, mut forced_count) = (Vec::new(), 0, 0);
    for (i, job) in jobs.iter().enumerate() {
        let md = &job.md;
        let text = write_file(&export_file_tree(md));
        let what = format!(
            "VG {:?}: {} PVs, {} LVs ({})",
            md.vg.name,
            md.vg.pvs.len(),
            md.vg.lvs.len(),
            segtypes(md)
        );
        if job.expect_ok {
            if let Err(e) = parse_metadata(text.as_bytes()) {
                println!("{}: FAILED (our import rejects our own text: {e})\n{}", job.label, indent(&text));
                failures.push(format!("{}: our import rejects our own text: {e}", job.label));
                continue;
            }
        }
        // Fresh files, loop devices and PVs per VG; the PVs of the negative control are those of
        // its valid twin.
        let dir = tmp.path().join(format!("vg{i}"));
        let pv_text = job.pvs_of.map(|j| write_file(&export_file_tree(&jobs[j].md)));
        let r = match restore_generated(&lvm2, md, &text, pv_text.as_deref().unwrap_or(&text), &dir) {
            Ok(r) => r,
            Err(AttachError::Denied(e)) => {
                println!("skipped: losetup denied ({e})");
                return;
            }
            Err(AttachError::Failed(e)) => {
                println!("{}: FAILED to set up PVs ({what}): {e}\n{}", job.label, indent(&text));
                failures.push(format!("{}: PV setup: {e}", job.label));
                continue;
            }
        };
        let _ = std::fs::remove_dir_all(&dir);
        let forced = if r.forced { " with --force (lvm2 asked for it)" } else { "" };
        match (job.expect_ok, r.ok) {
            (true, true) => {
                accepted += 1;
                forced_count += usize::from(r.forced);
                println!("{}: ok{forced} ({what})", job.label)
            }
            (false, false) => {
                println!("{}: rejected as expected: {}", job.label, r.output.replace('\n', " | "))
            }
            (true, false) => {
                println!(
                    "{}: FAILED{forced} ({what})\nlvm2 says:\n{}\nthe VG text:\n{}",
                    job.label,
                    indent(&r.output),
                    indent(&text)
                );
                failures.push(format!("{}{forced}: {}", job.label, r.output.replace('\n', " | ")));
            }
            (false, true) => {
                println!("{}: FAILED: lvm2 accepted a broken VG\n{}", job.label, indent(&text));
                failures.push(format!("{}: lvm2 accepted a VG it must reject", job.label));
            }
        }
    }
    let pvs = jobs[..n].iter().flat_map(|j| &j.md.vg.pvs);
    let (pv_count, ba_count) = (pvs.clone().count(), pvs.filter(|p| p.ba_size.is_some()).count());
    println!(
        "{accepted} of {n} generated VGs accepted by lvm2 ({forced_count} with --force; {pv_count} PVs, \
         {ba_count} with a bootloader area), in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "generated VGs and lvm2 vgcfgrestore --test:\n{}", failures.join("\n"));
}

/// The segment types of a VG, for the log.
fn segtypes(md: &Metadata) -> String {
    let set: std::collections::BTreeSet<&str> =
        md.vg.lvs.iter().flat_map(|l| &l.segments).map(|s| s.segtype.name.as_str()).collect();
    set.into_iter().collect::<Vec<_>>().join(" ")
}

/// Negative control: a new LV whose 2 extents start on the last PE of PV 0.
fn past_pv_end(md: &Metadata) -> Metadata {
    let mut md = md.clone();
    let name = (0..).map(|k| format!("lvmkit_bad{k}")).find(|n| md.vg.lv(n).is_none()).expect("a free name");
    let mut lv = new_lv(&name, md.vg.pvs[0].pe_count - 1);
    lv.segments[0].extent_count = 2;
    md.vg.lvs.insert(0, lv);
    md
}

/// Sectors of the device for a PV: its `dev_size` (or what its extents need), at least lvm2's
/// minimum PV size. lvm2 keeps one metadata area at the start, inside `pe_start`.
fn pv_sectors(pv: &lvmkit_metadata::model::PhysicalVolume, extent_size: u64) -> u64 {
    let needed = pv.pe_start + pv.pe_count * extent_size;
    pv.dev_size.unwrap_or(needed).max(needed).max(PV_MIN_SECTORS)
}

/// Make the VG's PVs on fresh sparse files behind fresh loop devices in `dir` (detached again
/// before returning, also on panic), check their layout with `pvs`, and run `vgcfgrestore --test`
/// with `text`. `pv_text` is a VG file with the same PVs that lvm2 reads (`text` itself, or the
/// negative control's valid twin).
fn restore_generated(
    lvm2: &Lvm2,
    md: &Metadata,
    text: &str,
    pv_text: &str,
    dir: &Path,
) -> Result<Restore, AttachError> {
    let fail = |what: &str, e: std::io::Error| AttachError::Failed(format!("{what}: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| fail("mkdir", e))?;
    let file = dir.join("vg.txt");
    std::fs::write(&file, text).map_err(|e| fail("write the VG file", e))?;
    let pv_file = dir.join("pvs.txt");
    std::fs::write(&pv_file, pv_text).map_err(|e| fail("write the PV file", e))?;
    let mut loops = Loops { losetup: lvm2.losetup.clone(), devices: Vec::new() };
    for (k, pv) in md.vg.pvs.iter().enumerate() {
        let image = dir.join(format!("pv{k}.img"));
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(pv_sectors(pv, md.vg.extent_size) * 512))
            .map_err(|e| fail("create a PV image", e))?;
        let mut cmd = Command::new(&lvm2.losetup);
        cmd.args(["-f", "--show"]);
        loops.devices.push(run_losetup(cmd, &image)?);
    }
    for (pv, dev) in md.vg.pvs.iter().zip(&loops.devices) {
        let mut args: Vec<OsString> = ["pvcreate", "--uuid"].map(OsString::from).into();
        args.push(pv.id.to_string().into());
        match (pv.ba_start, pv.ba_size) {
            (Some(ba_start), Some(ba_size)) if ba_size > 0 && ba_start > MDA_START_SECTORS => {
                // pvcreate's alignment options cannot put a 1 MiB bootloader area at 1 MiB with
                // the data at 4 MiB: take pe_start and the bootloader area from a VG file, with a
                // metadata area that ends where the bootloader area starts.
                args.extend(["--restorefile".into(), pv_file.clone().into_os_string()]);
                args.extend(["--metadatasize".into(), format!("{}s", ba_start - MDA_START_SECTORS).into()]);
            }
            _ => {
                args.extend(["--norestorefile", "--dataalignment"].map(OsString::from));
                args.push(format!("{}s", pv.pe_start).into());
            }
        }
        args.push(dev.into());
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        let (ok, _, output) = lvm2.run(&args, &loops.devices);
        if !ok {
            return Err(AttachError::Failed(format!("pvcreate {dev} (PV {}): {output}", pv.id)));
        }
    }
    let fields = "pv_uuid,pe_start,pv_ba_start,pv_ba_size";
    let args = ["pvs", "--noheadings", "--separator", "|", "--units", "s", "--nosuffix", "-o", fields];
    let (ok, stdout, output) = lvm2.run(&args.map(OsStr::new), &loops.devices);
    if !ok {
        return Err(AttachError::Failed(format!("pvs: {output}")));
    }
    for pv in &md.vg.pvs {
        let want = [
            pv.id.to_string(),
            pv.pe_start.to_string(),
            pv.ba_start.unwrap_or(0).to_string(),
            pv.ba_size.unwrap_or(0).to_string(),
        ];
        // lvm2 prints an id starting with `#` without hyphens (`id_write_format`).
        let unhyphen = |s: &str| s.replace('-', "");
        if !stdout.lines().any(|l| l.trim().split('|').map(unhyphen).eq(want.iter().map(|w| unhyphen(w)))) {
            return Err(AttachError::Failed(format!("no PV with {fields} = {want:?} in pvs:\n{stdout}")));
        }
    }
    let r = lvm2.restore(&file, &md.vg.name, &loops.devices, true);
    drop(loops);
    Ok(r)
}
