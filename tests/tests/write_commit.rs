//! The commit protocol (issue 5, stage 1) on lvm2-made images.
//!
//! * Round trip on every image case: seqno + 1 with a new VG tag, read back by our scan; the
//!   ring still holds the old copy intact next to the new one.
//! * Power cut after every single write of the plan, and with that write torn: the VG still
//!   assembles — with lvmkit and with genuine lvm2 (`vgs -o vg_seqno` on read-only loop devices
//!   of the cut images) — at the old or the new seqno, the same for both, never a checksum error
//!   on the chosen copy. Cases: 1-mda PV (`linear`), 2-mda PV (`two-mdas`), two PVs
//!   (`spanning`), a wrapped ring (`wrapped-ring`: its next copy moves back to the ring start),
//!   and the same ring advanced by our own commits until the next copy itself wraps.
//! * Refusals (text too large, wrong seqno, other VG) write nothing: image bytes compared.

mod peer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lvmkit_metadata::assemble::{Assembly, Finding, assemble};
use lvmkit_metadata::error::Error;
use lvmkit_metadata::model::Metadata;
use lvmkit_metadata::ring;
use lvmkit_metadata::scan::{Scan, ScanOptions, scan};
use lvmkit_metadata::write::commit::{StepKind, execute, plan};
use lvmkit_metadata::write::fault::{FaultDevice, FaultPlan};
use lvmkit_metadata::write::{PvTarget, WriteDevice, WriteError, commit, open_scanned};
use lvmkit_tests::{case, case_names};

fn load(images: &[PathBuf]) -> (Scan, Assembly) {
    let s = scan(&ScanOptions { devices: Some(images.to_vec()), ..Default::default() });
    let a = assemble(&s);
    (s, a)
}

/// Targets for the first VG, every device optionally wrapped by a fault plan.
fn targets(s: &Scan, a: &Assembly, fault: Option<&Arc<FaultPlan>>) -> (Metadata, Vec<PvTarget>) {
    let vg = &a.vgs[0];
    let t = vg
        .pv_devices
        .iter()
        .flatten()
        .map(|&i| {
            let pv = &s.pvs[i];
            let mut dev: Arc<dyn WriteDevice> = open_scanned(pv.name()).expect("open for writing");
            if let Some(f) = fault {
                dev = Arc::new(FaultDevice::new(dev, f.clone()));
            }
            PvTarget::from_scan(s, i, dev)
        })
        .collect();
    ((*vg.metadata).clone(), t)
}

fn bumped(md: &Metadata, tag: &str) -> Metadata {
    let mut n = md.clone();
    n.vg.seqno += 1;
    n.vg.tags.push(tag.to_string());
    n.header.description = Some(format!("Write from lvmkit test ({tag})."));
    n
}

fn tmpdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().expect("tempdir")
}

#[test]
fn round_trip_on_every_case() {
    let mut done = 0;
    for name in case_names() {
        let c = case(&name);
        let tmp = tmpdir("lvmkit-commit-rt-");
        let images = peer::copy_images(&c.images, tmp.path());
        let (s, a) = load(&images);
        if a.vgs.is_empty() {
            continue;
        }
        let (old, t) = targets(&s, &a, None);
        let new = bumped(&old, "lk_written");
        let report = commit(&t, &old, &new).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!report.placements.is_empty(), "{name}");
        drop(t);
        let (s2, a2) = load(&images);
        let vg = a2.vg(&old.vg.name).unwrap_or_else(|| panic!("{name}: VG gone"));
        assert_eq!(vg.metadata.vg.seqno, old.vg.seqno + 1, "{name}");
        assert!(vg.metadata.vg.tags.iter().any(|t| t == "lk_written"), "{name}");
        assert_eq!(*vg.metadata, new_as_read(&new), "{name}: model differs after read-back");
        assert!(
            !a2.findings.iter().any(|f| matches!(f, Finding::Error(_) | Finding::Mismatch { .. })),
            "{name}: {:?}",
            a2.findings.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        // Every written mda: the new copy is committed, the old one still whole in the ring.
        for p in &report.placements {
            let pv = s2.pvs.iter().find(|pv| pv.name() == p.device).expect("device rescanned");
            let h = pv.mdas[p.mda].header.as_ref().expect("header");
            assert!(h.precommitted.is_empty(), "{name}: slot 1 left set");
            assert_eq!(h.committed, p.new, "{name}");
            let hist = ring::history(pv.device.as_ref(), h).expect("history");
            let newest = hist.iter().find(|e| e.committed).expect("committed copy in history");
            assert_eq!((newest.seqno, newest.damaged), (old.vg.seqno + 1, false), "{name}");
            if !p.old.committed.is_empty() && p.old.committed.size > 256 {
                let prev = hist.iter().find(|e| e.offset == p.old.committed.offset).unwrap_or_else(|| {
                    panic!("{name}: old copy at {} gone: {hist:?}", p.old.committed.offset)
                });
                assert_eq!(
                    (prev.checksum, prev.size, prev.damaged),
                    (p.old.committed.checksum, p.old.committed.size, false),
                    "{name}"
                );
            }
        }
        done += 1;
    }
    assert!(done >= 20, "only {done} cases with a VG");
}

/// What our reader makes of `md` after a write (the header's `extra` order etc. as parsed).
fn new_as_read(md: &Metadata) -> Metadata {
    lvmkit_metadata::import::parse_metadata(&lvmkit_metadata::write::commit::serialise(md)).expect("parses")
}

#[test]
fn refusals_write_nothing() {
    for name in ["wrapped-ring", "linear", "two-mdas"] {
        let c = case(name);
        let tmp = tmpdir("lvmkit-commit-refuse-");
        let images = peer::copy_images(&c.images, tmp.path());
        let before: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let (s, a) = load(&images);
        let (old, t) = targets(&s, &a, None);
        let mda_size = s.pvs[0].mdas[0].header.as_ref().unwrap().size;
        let room = (mda_size - 512) / 2 - 512;
        // Enough 100-character tags to exceed one copy's room.
        let mut big = bumped(&old, "x");
        big.vg.tags = (0..room / 100 + 10).map(|i| format!("t{i:0>98}")).collect();
        match commit(&t, &old, &big) {
            Err(WriteError::TooLarge { needs, room: r, mda_start, .. }) => {
                assert_eq!((r, mda_start), (room, 4096), "{name}");
                assert!(needs > room);
                let msg = commit(&t, &old, &big).unwrap_err().to_string();
                assert!(msg.contains(&format!("room for {room}")) && msg.contains("at byte 4096"), "{msg}");
            }
            other => panic!("{name}: expected TooLarge, got {other:?}"),
        }
        let mut skip = bumped(&old, "x");
        skip.vg.seqno += 1;
        assert!(matches!(commit(&t, &old, &skip), Err(WriteError::Seqno { .. })), "{name}");
        let mut other = bumped(&old, "x");
        other.vg.name = "lk_other".into();
        assert!(matches!(commit(&t, &old, &other), Err(WriteError::WrongVg { .. })), "{name}");
        // Stale view: the disk moved on since the scan.
        let (old2, t2) = targets(&s, &a, None);
        commit(&t2, &old2, &bumped(&old2, "moved")).unwrap();
        let after_one: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert!(matches!(commit(&t, &old, &bumped(&old, "late")), Err(WriteError::Changed { .. })), "{name}");
        let now: Vec<Vec<u8>> = images.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert!(now == after_one, "{name}: a refused write changed bytes");
        assert!(after_one != before);
    }
    // Same check for the first three refusals on untouched images.
    let c = case("linear");
    let tmp = tmpdir("lvmkit-commit-refuse2-");
    let images = peer::copy_images(&c.images, tmp.path());
    let before = std::fs::read(&images[0]).unwrap();
    let (s, a) = load(&images);
    let (old, t) = targets(&s, &a, None);
    let mut big = bumped(&old, "x");
    big.vg.tags = (0..6000).map(|i| format!("t{i:0>98}")).collect();
    assert!(matches!(commit(&t, &old, &big), Err(WriteError::TooLarge { .. })));
    assert!(std::fs::read(&images[0]).unwrap() == before, "TooLarge wrote bytes");
}

/// Advance `images`' VG with our own commits until the next copy would wrap in some mda.
fn advance_until_wrap(images: &[PathBuf]) -> usize {
    for i in 0..200 {
        let (s, a) = load(images);
        let (old, t) = targets(&s, &a, None);
        let new = bumped(&old, &format!("adv{i}"));
        let p = plan(&t, &old, &new).expect("plan");
        if p.placements.iter().any(|p| p.wrapped) {
            return i;
        }
        execute(&p, &t).expect("advance");
    }
    panic!("the ring never wrapped");
}

struct CutResult {
    label: String,
    seqno: u64,
}

/// Cut the commit after every write (and with that write torn); check each cut image set with
/// lvmkit and lvm2.
fn power_cuts(
    label: &str,
    base: &[PathBuf],
    peer: Option<&peer::Peer>,
    expect_wrap: Option<bool>,
) -> Vec<CutResult> {
    let (s, a) = load(base);
    let (old, t) = targets(&s, &a, None);
    let new = bumped(&old, "lk_cut");
    let p = plan(&t, &old, &new).expect("plan");
    if let Some(w) = expect_wrap {
        assert_eq!(p.placements.iter().any(|p| p.wrapped), w, "{label}: wrapping");
        assert_eq!(p.steps.iter().any(|s| s.kind == StepKind::Text { piece: 1 }), w);
    }
    let first_commit = p.steps.iter().position(|s| s.kind == StepKind::Commit).expect("commit steps");
    let n_steps = p.steps.len();
    drop(t);
    let vgname = old.vg.name.clone();
    let mut out = Vec::new();
    for allow in 0..=n_steps {
        for tear in [false, true] {
            if tear && allow == 0 {
                continue;
            }
            let what = format!(
                "{label}: cut after {allow}/{n_steps} writes{}",
                if tear { ", last torn" } else { "" }
            );
            let tmp = tmpdir("lvmkit-cut-");
            let images = peer::copy_images(base, tmp.path());
            let (s, a) = load(&images);
            let fp = FaultPlan::new(allow, tear);
            let (old_now, t) = targets(&s, &a, Some(&fp));
            assert_eq!(old_now.vg.seqno, old.vg.seqno);
            let r = commit(&t, &old_now, &new);
            assert_eq!(r.is_ok(), allow == n_steps && !tear, "{what}: {r:?}");
            drop(t);
            let (_, a2) = load(&images);
            let vg = a2.vg(&vgname).unwrap_or_else(|| panic!("{what}: lvmkit finds no VG {vgname}"));
            let seqno = vg.metadata.vg.seqno;
            assert!(seqno == old.vg.seqno || seqno == new.vg.seqno, "{what}: seqno {seqno}");
            if allow <= first_commit {
                assert_eq!(seqno, old.vg.seqno, "{what}");
            } else if !tear || allow > first_commit + 1 {
                assert_eq!(seqno, new.vg.seqno, "{what}");
            }
            let bad: Vec<String> = a2
                .findings
                .iter()
                .filter(|f| matches!(f, Finding::Error(e) if matches!(e.kind(), Error::BadChecksum { .. })))
                .map(ToString::to_string)
                .collect();
            assert!(bad.is_empty(), "{what}: {bad:?}");
            if let Some(peer) = peer {
                let _g = peer::LOOP_LOCK.lock().unwrap_or_else(|e| e.into_inner());
                let loops = peer.attach(&images, true).expect("attach");
                let r = peer.run(&["vgs", "--noheadings", "-o", "vg_seqno", &vgname], &loops.devices);
                drop(loops);
                assert!(r.ok, "{what}: lvm2 vgs failed: {}", r.output);
                let lvm_seqno: u64 =
                    r.stdout.trim().parse().unwrap_or_else(|_| panic!("{what}: lvm2 said {}", r.output));
                assert_eq!(lvm_seqno, seqno, "{what}: lvm2 and lvmkit disagree; lvm2: {}", r.output);
                assert!(!r.output.to_lowercase().contains("checksum"), "{what}: lvm2: {}", r.output);
            }
            out.push(CutResult { label: what, seqno });
        }
    }
    out
}

fn case_images(name: &str, dir: &Path) -> Vec<PathBuf> {
    peer::copy_images(&case(name).images, dir)
}

#[test]
fn power_cut_after_every_write() {
    let peer = match peer::Peer::new() {
        Ok(p) => Some(p),
        Err(why) => {
            println!("lvm2 part skipped: {why}");
            None
        }
    };
    let tmp = tmpdir("lvmkit-cut-base-");
    let mut all = Vec::new();
    for (name, wrap) in [
        ("linear", Some(false)),
        ("two-mdas", Some(false)),
        ("spanning", Some(false)),
        ("wrapped-ring", Some(false)),
    ] {
        let base = case_images(name, &tmp.path().join(name));
        all.extend(power_cuts(name, &base, peer.as_ref(), wrap));
    }
    // The wrapped-ring case advanced until the new copy itself wraps (two text pieces).
    let base = case_images("wrapped-ring", &tmp.path().join("wrapping"));
    let n = advance_until_wrap(&base);
    all.extend(power_cuts(&format!("wrapped-ring + {n} commits"), &base, peer.as_ref(), Some(true)));
    for r in &all {
        println!("{}: seqno {}", r.label, r.seqno);
    }
    assert!(all.len() >= 40, "{}", all.len());
}
