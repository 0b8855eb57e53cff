//! Sizes read from disk and paths that are not devices (issue 10, items 1 and 2).
//!
//! Sizes: every case is a *sparse* 2 TiB image made here (a real lvm2-made PV at its start, the
//! headers then edited), scanned together with a second, untouched PV. A size beyond lvm2's
//! limits is a typed error for that device, naming it and the offset, while the other device is
//! still reported; a large size lvm2 allows still works, read in chunks. Paths: a FIFO, a
//! character device and a directory given as devices are refused with a message, and the FIFO
//! never blocks the open.
//!
//! Each case runs on a thread with a deadline, so that a regression (a multi-GiB read, an open
//! that blocks) fails the test instead of hanging it; the deadline guards against a hang and is
//! not a performance target (those live in `bench/`).

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use lvmkit::source::Source;
use lvmkit_metadata::Error;
use lvmkit_metadata::assemble::Finding;
use lvmkit_metadata::crc::lvm_crc;
use lvmkit_metadata::mda_header::MdaHeader;
use lvmkit_metadata::raw_locn::RawLocn;
use lvmkit_tests::mutate;

const TIB: u64 = 1 << 40;
const MDA: u64 = 4096;

/// Run `f` on a thread; panic if it has not finished within `secs` (the thread is left behind).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// The `linear` case's PV at the start of a sparse 2 TiB file, its mda1 header edited by `edit`
/// (re-checksummed); `extra` bytes written at absolute offsets afterwards.
fn sparse_pv(dir: &Path, edit: impl FnOnce(&mut MdaHeader), extra: &[(u64, &[u8])]) -> PathBuf {
    let mut img = std::fs::read(&lvmkit_tests::case("linear").images[0]).unwrap();
    let mut h = mutate::header(&img, MDA);
    edit(&mut h);
    mutate::put_header(&mut img, &h);
    let p = dir.join("big.img");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&img).unwrap();
    f.set_len(2 * TIB).unwrap();
    for (at, b) in extra {
        f.write_all_at(b, *at).unwrap();
    }
    p
}

/// A second, untouched PV of another VG (the `tags` case's first image).
fn other_pv() -> (PathBuf, String) {
    let c = lvmkit_tests::case("tags");
    (c.images[0].clone(), c.images[0].display().to_string())
}

/// The committed text of the `linear` PV (no NUL).
fn linear_text() -> String {
    mutate::committed_text(&std::fs::read(&lvmkit_tests::case("linear").images[0]).unwrap(), MDA)
}

/// Errors reported for `device` (scan errors and error findings), innermost kinds.
fn errors_on(src: &Source, device: &str) -> Vec<Error> {
    let mut v: Vec<Error> = src
        .scan
        .errors
        .iter()
        .filter(|e| e.to_string().starts_with(&format!("{device}: ")))
        .cloned()
        .collect();
    for f in &src.assembly.findings {
        if let Finding::Error(e) = f {
            if e.to_string().starts_with(&format!("{device}: ")) {
                v.push(e.clone());
            }
        }
    }
    v.into_iter().map(|e| e.kind().clone()).collect()
}

/// VG names assembled.
fn vg_names(src: &Source) -> Vec<String> {
    src.assembly.vgs.iter().map(|v| v.name().to_string()).collect()
}

#[test]
fn a_text_size_over_lvm2s_limit_is_an_error_for_that_device_only() {
    let dir = tempfile::tempdir().unwrap();
    // A 1 TiB metadata area (lvm2 puts no bound on it) whose committed slot claims 40 GiB:
    // more than the UINT32_MAX lvm2 reads.
    let big = sparse_pv(
        dir.path(),
        |h| {
            h.size = TIB;
            h.committed.size = 40 << 30;
        },
        &[],
    );
    let (other, other_name) = other_pv();
    let paths = vec![big.clone(), other];
    let src = within(60, "scan", move || Source::load(&paths, false));
    let name = big.display().to_string();
    let errs = errors_on(&src, &name);
    assert!(
        errs.iter()
            .any(|e| matches!(e, Error::BadField { what: "raw_locn", field: "size", at: MDA, found, .. }
            if *found == (40u64 << 30).to_string())),
        "{errs:?}"
    );
    // The PV itself is still listed, and the other device's VG is reported.
    assert!(src.scan.pvs.iter().any(|p| p.name() == name));
    assert!(src.scan.pvs.iter().any(|p| p.name() == other_name));
    assert!(vg_names(&src).iter().any(|n| n == "lk_tags"), "{:?}", vg_names(&src));
    assert!(!vg_names(&src).iter().any(|n| n == "lk_linear"));
}

#[test]
fn a_large_text_lvm2_allows_is_read_in_pieces_and_wrapped() {
    // Control: a committed text of ~3 MiB (three read chunks), placed 1 MiB before the end of a
    // 1 TiB ring so that it wraps to the ring's start; its CRC is right, so the VG assembles.
    let mut text = linear_text();
    text.push('\n');
    for _ in 0..(3 << 20) / 64 {
        text.push_str("# padding to make the text larger than one read chunk ........\n");
    }
    let mut t = text.into_bytes();
    t.push(0);
    let offset = TIB - (1 << 20);
    let first = (TIB - offset) as usize;
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_pv(
        dir.path(),
        |h| {
            h.size = TIB;
            h.committed = RawLocn { offset, size: t.len() as u64, checksum: lvm_crc(&t), flags: 0 };
        },
        &[(MDA + offset, &t[..first]), (MDA + 512, &t[first..])],
    );
    let (other, _) = other_pv();
    let paths = vec![big.clone(), other];
    let src = within(60, "scan", move || Source::load(&paths, false));
    assert!(errors_on(&src, &big.display().to_string()).is_empty());
    let vg = src.assembly.vg("lk_linear").expect("the VG from the wrapped 3 MiB text");
    assert_eq!(vg.text.len(), t.len());
    assert!(src.assembly.vg("lk_tags").is_some());
}

#[test]
fn history_walks_a_1_tib_area_with_bounded_memory() {
    // `history` reads the whole ring. A 1 TiB area on a sparse image: read a chunk at a time,
    // holes skipped; a copy near the end of the ring is found as well as the ones at its start.
    let mut far = linear_text().replacen("seqno = ", "seqno = 9", 1).into_bytes();
    far.push(0);
    let far_off = TIB - (64 << 20);
    let dir = tempfile::tempdir().unwrap();
    let big = sparse_pv(dir.path(), |h| h.size = TIB, &[(MDA + far_off, &far)]);
    let p = big.clone();
    let hist = within(60, "history", move || {
        lvmkit::inspect::history(&p, &Source::load(std::slice::from_ref(&p), false))
    })
    .expect("history");
    let entries = &hist[0].1[0].entries;
    assert!(entries.iter().any(|e| e.committed && e.offset < 1 << 20), "{:?}", entries.len());
    let e = entries.iter().find(|e| e.offset == far_off).expect("the copy near the ring's end");
    assert_eq!((e.checksum, e.size, e.damaged), (lvm_crc(&far), far.len() as u64, false));
    // The same image with a truncated area is still a typed error, not a read past the end.
    // (Cut in place: a copy of a sparse file need not stay sparse.)
    std::fs::OpenOptions::new().write(true).open(&big).unwrap().set_len(TIB / 2).unwrap();
    let r = within(60, "history", move || {
        lvmkit::inspect::history(&big, &Source::load(std::slice::from_ref(&big), false))
    });
    assert!(r.is_err() || r.as_ref().unwrap()[0].1[0].header.is_err(), "a 1 TiB area on a 512 GiB file");
}

// --- paths that are not devices ------------------------------------------------------------

/// Scan `bad` with a good PV; the bad path must be refused as `found`, the good one reported.
fn refused_beside_a_good_pv(bad: PathBuf, found: &'static str) {
    let (other, other_name) = other_pv();
    let name = bad.display().to_string();
    let paths = vec![bad, other];
    let src = within(20, "scan", move || Source::load(&paths, false));
    let e = src.scan.errors.iter().find(|e| matches!(e, Error::NotADevice { path, .. } if *path == name));
    assert!(
        matches!(e, Some(Error::NotADevice { found: f, .. }) if *f == found),
        "{name}: {:?}",
        src.scan.errors
    );
    assert!(e.unwrap().to_string().contains("expected a block device or an image file"));
    assert!(src.scan.pvs.iter().any(|p| p.name() == other_name));
    assert!(src.assembly.vg("lk_tags").is_some());
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    refused_beside_a_good_pv(fifo, "a FIFO");
}

#[test]
fn a_character_device_is_refused() {
    refused_beside_a_good_pv(PathBuf::from("/dev/zero"), "a character device");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    refused_beside_a_good_pv(dir.path().to_path_buf(), "a directory");
}

#[test]
fn a_scan_where_nothing_could_be_read_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let none = vec![PathBuf::from("/dev/zero"), dir.path().join("missing.img")];
    let src = Source::load(&none, false);
    assert!(src.scan.nothing_readable() && src.scan.errors.len() == 2, "{:?}", src.scan.errors);
    // Control: one readable device among them and the scan has something to report.
    let (other, _) = other_pv();
    let src = Source::load(&[none, vec![other]].concat(), false);
    assert!(!src.scan.nothing_readable());
}

#[test]
fn one_device_under_two_names_is_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    let (p, name) = other_pv();
    let link = dir.path().join("alias.img");
    std::os::unix::fs::symlink(&p, &link).unwrap();
    let src = Source::load(&[p.clone(), p.clone(), link], false);
    assert_eq!((src.scan.devices_scanned, src.scan.pvs.len()), (1, 1));
    assert_eq!(src.scan.pvs[0].name(), name);
    assert!(!src.assembly.findings.iter().any(|f| matches!(f, Finding::DuplicatePv { .. })));
    // Control: a copy of the image is another device carrying the same PV: a duplicate.
    let copy = dir.path().join("copy.img");
    std::fs::copy(&p, &copy).unwrap();
    let src = Source::load(&[p, copy], false);
    assert!(src.assembly.findings.iter().any(|f| matches!(f, Finding::DuplicatePv { .. })));
}
