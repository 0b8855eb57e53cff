//! The `lvmkit` binary end to end on lvm2-made images: output and exit status of `dump`,
//! `history` and `check`, and the device-naming rule for partitioned images.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lvmkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvmkit")).args(args).output().expect("lvmkit runs")
}

fn image(case: &str) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-images")
        .join(case)
        .join(format!("{case}.img.xz"));
    let out = Command::new("xz").arg("-dc").arg(&src).output().expect("xz runs");
    assert!(out.status.success(), "{}", src.display());
    let p = dir.path().join(format!("{case}.img"));
    std::fs::write(&p, out.stdout).unwrap();
    (p, dir)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn dump_prints_the_stored_text() {
    let (img, _d) = image("thin");
    let o = lvmkit(&["dump", "--devices", img.to_str().unwrap(), "lk_thin"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-images/thin/metadata.txt"),
    )
    .unwrap();
    assert_eq!(stdout(&o).trim_end(), want.trim_end());
    let o = lvmkit(&["dump", "--backup", "--devices", img.to_str().unwrap(), "lk_thin"]);
    assert!(stdout(&o).starts_with("contents = \"Text Format Volume Group\""), "{}", stdout(&o));
    let o = lvmkit(&["dump", "--devices", img.to_str().unwrap(), "nosuchvg"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("volume group \"nosuchvg\" not found"));
}

#[test]
fn history_lists_copies_and_shows_one() {
    let (img, _d) = image("wrapped-ring");
    let o = lvmkit(&["history", img.to_str().unwrap()]);
    assert!(o.status.success());
    let out = stdout(&o);
    let committed: Vec<&str> = out.lines().filter(|l| l.ends_with(" committed")).collect();
    assert_eq!(committed.len(), 1, "{out}");
    assert!(committed[0].contains(" wrapped "), "the current copy of this case wraps: {out}");
    // An older copy's text can be printed by seqno.
    let old: u64 = out
        .lines()
        .find(|l| l.ends_with(" old"))
        .unwrap()
        .split_whitespace()
        .nth(10)
        .unwrap()
        .parse()
        .unwrap();
    let o = lvmkit(&["history", "--show", &old.to_string(), img.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(stdout(&o).contains(&format!("seqno = {old}\n")));
    let o = lvmkit(&["history", "--show", "999999", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn check_exit_status_tells_clean_from_damaged() {
    let (img, _d) = image("linear");
    let o = lvmkit(&["check", "--devices", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("1 devices scanned, 1 PVs, 1 VGs: clean\n"), "{}", stdout(&o));
    // Damage the committed text: one precise line naming device and offset, exit status 1.
    let mut bytes = std::fs::read(&img).unwrap();
    let h = lvmkit_metadata::mda_header::MdaHeader::parse(&bytes[4096..4608], 4096).unwrap();
    bytes[(4096 + h.committed.offset + 20) as usize] ^= 1;
    std::fs::write(&img, bytes).unwrap();
    let o = lvmkit(&["check", "--devices", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let want = format!(
        "error: {}: metadata text at byte {}: checksum mismatch",
        img.display(),
        4096 + h.committed.offset
    );
    assert!(stdout(&o).contains(&want), "{}", stdout(&o));
}

#[test]
fn partitioned_image_names_its_partition() {
    let (img, _d) = image("gpt");
    let o = lvmkit(&["check", "--devices", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = lvmkit(&["history", img.to_str().unwrap()]);
    assert!(stdout(&o).starts_with(&format!("{}:p1: mda1 at 4096", img.display())), "{}", stdout(&o));
}

#[test]
fn plan_prints_tables_without_a_kernel() {
    let (img, _d) = image("thin");
    let o = lvmkit(&["plan", "--devices", img.to_str().unwrap(), "lk_thin"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    // Pool metadata and data first, then the pool, then its thin LVs; thin1 and tsnap carry
    // ACTIVATION_SKIP (`k` in lvm2's attr) and are left out, as vgchange -ay does.
    let names: Vec<&str> =
        out.lines().filter_map(|l| l.strip_prefix("# ")).map(|l| l.split(' ').next().unwrap()).collect();
    let pos =
        |n: &str| names.iter().position(|x| *x == n).unwrap_or_else(|| panic!("{n} not planned: {out}"));
    assert!(pos("lk_thin-tp_tmeta") < pos("lk_thin-tp-tpool"));
    assert!(pos("lk_thin-tp_tdata") < pos("lk_thin-tp-tpool"));
    assert!(pos("lk_thin-tp-tpool") < pos("lk_thin-thin2"));
    assert!(out.contains("# skipped thin1: activation skip flag set"), "{out}");
    assert!(out.contains(&format!("lk_thin-tp_tmeta: 0 4096 linear <{}> ", img.display())), "{out}");
    // A VG that is not there, and a refused one.
    let o = lvmkit(&["plan", "--devices", img.to_str().unwrap(), "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    let (exp, _d2) = image("exported");
    let o = lvmkit(&["plan", "--devices", exp.to_str().unwrap(), "lk_exported"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("exported"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = lvmkit(&["plan", "--exported", "--devices", exp.to_str().unwrap(), "lk_exported"]);
    assert!(o.status.success());
}

/// A VG with a system ID is planned (and so activated) only on its owner: the host's ID comes
/// from lvm.conf's `global/system_id_source` like lvm2's (here `lvmlocal`), or `--systemid`;
/// `--foreign` overrides.
#[test]
fn a_vg_owned_by_another_host_is_refused_unless_this_host_owns_it() {
    let (img, _d) = image("system-id");
    let dev = img.to_str().unwrap();
    let conf = tempfile::tempdir().unwrap();
    std::fs::write(conf.path().join("lvm.conf"), "global {\n\tsystem_id_source = \"lvmlocal\"\n}\n").unwrap();
    let plan = |sysdir: &Path, id: &str, extra: &[&str]| {
        std::fs::write(sysdir.join("lvmlocal.conf"), format!("local {{\n\tsystem_id = \"{id}\"\n}}\n"))
            .unwrap();
        let mut args = vec!["plan", "--devices", dev];
        args.extend_from_slice(extra);
        args.push("lk_sysid");
        Command::new(env!("CARGO_BIN_EXE_lvmkit")).env("LVM_SYSTEM_DIR", sysdir).args(&args).output().unwrap()
    };
    let o = plan(conf.path(), "lk-hostB", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lk-hostA"), "the refusal names the owner: {err}");
    let o = plan(conf.path(), "lk-hostA", &[]);
    assert!(o.status.success(), "the owner plans its VG: {}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("# lk_sysid-"), "{}", stdout(&o));
    let o = plan(conf.path(), "lk-hostB", &["--systemid", "lk-hostA"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = plan(conf.path(), "lk-hostB", &["--foreign"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Reports hide a VG owned by another system ID, with its LVs and PVs, unless `--foreign`, like
/// lvm2 (test-images/foreign has lvm2's own views): the host's ID comes from `LVM_SYSTEM_DIR`.
#[test]
fn reports_hide_a_foreign_vg_unless_asked() {
    let (img, _d) = image("foreign");
    let dev = img.to_str().unwrap();
    let run = |sysdir: &Path, id: Option<&str>, extra: &[&str]| {
        let lvmlocal = sysdir.join("lvmlocal.conf");
        match id {
            Some(id) => {
                std::fs::write(sysdir.join("lvm.conf"), "global {\n\tsystem_id_source = \"lvmlocal\"\n}\n")
                    .unwrap();
                std::fs::write(&lvmlocal, format!("local {{\n\tsystem_id = \"{id}\"\n}}\n")).unwrap();
            }
            None => {
                let _ = std::fs::remove_file(sysdir.join("lvm.conf"));
            }
        }
        let mut out = String::new();
        for cmd in ["vgs", "lvs", "pvs"] {
            let mut args = vec![cmd, "--noheadings", "-o", "vg_name", "--devices", dev];
            if cmd == "pvs" {
                args.push("-a");
            }
            args.extend_from_slice(extra);
            let o = Command::new(env!("CARGO_BIN_EXE_lvmkit"))
                .env("LVM_SYSTEM_DIR", sysdir)
                .args(&args)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            out.push_str(&stdout(&o));
        }
        out
    };
    let conf = tempfile::tempdir().unwrap();
    let shown = "  lk_foreign\n".repeat(3);
    assert_eq!(run(conf.path(), None, &[]), "", "a host without a system ID");
    assert_eq!(run(conf.path(), None, &["--foreign"]), shown);
    assert_eq!(run(conf.path(), Some("lk-hostA"), &[]), shown, "the owner");
    assert_eq!(run(conf.path(), Some("lk-hostB"), &[]), "", "another host");
    assert_eq!(run(conf.path(), Some("lk-hostB"), &["--foreign"]), shown);
}

/// `VG[/LV]` arguments in every lvm2 form name the same LV (`/dev/mapper/VG-LV` with doubled
/// dashes too); a malformed one is refused with its typed error and status 1, before any scan.
#[test]
fn vg_lv_arguments_in_every_form() {
    let (img, _d) = image("thin");
    let dev = img.to_str().unwrap();
    let plan = |name: &str| lvmkit(&["plan", "--devices", dev, name]);
    let want = plan("lk_thin/thin1");
    assert!(want.status.success(), "{}", String::from_utf8_lossy(&want.stderr));
    assert!(!stdout(&want).is_empty());
    for form in ["/dev/lk_thin/thin1", "/dev/mapper/lk_thin-thin1"] {
        let o = plan(form);
        assert_eq!((o.status.code(), stdout(&o)), (Some(0), stdout(&want)), "{form}");
    }
    for (bad, why) in [
        ("lk_thin/thin1/x", "expected VG, VG/LV, /dev/VG/LV or /dev/mapper/VG-LV"),
        ("/dev/mapper/lk_thin-thin1-tpool", "names a layer of an LV"),
        ("lk_thin/th!n", "invalid logical volume name"),
    ] {
        let o = plan(bad);
        assert_eq!(o.status.code(), Some(1), "{bad}");
        assert!(stdout(&o).is_empty(), "{bad}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(bad) && err.contains(why), "{bad}: {err}");
    }
}
