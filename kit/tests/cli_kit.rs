//! `lvmkit kit …` end to end: what each command prints and its exit status (the contract the
//! VM tests and the OCF agent rely on), on lvm2-made images; actions that need device-mapper
//! are covered off-kernel in `recovery.rs` and in the VM tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn image(case: &str, dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-images")
        .join(case)
        .join(format!("{case}.img.xz"));
    let out = Command::new("xz").arg("-dc").arg(&src).output().expect("xz runs");
    assert!(out.status.success(), "{}", src.display());
    let p = dir.join(format!("{case}.img"));
    std::fs::write(&p, out.stdout).unwrap();
    p
}

/// `lvmkit kit ARGS` with a kit directory, list and LVM_SYSTEM_DIR of `dir`.
fn kit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvmkit"))
        .arg("kit")
        .args(args)
        .env("LVMKIT_KIT_DIR", dir.join("kit"))
        .env("LVMKIT_CONTROLLED_VGS", dir.join("lkvgs"))
        .env("LVMKIT_SERVER", "node1")
        .env("LVMKIT_LOCK_DIR", dir.join("lock"))
        .env("LVMKIT_ARCHIVE_DIR", dir.join("archive"))
        .env("LVMKIT_BACKUP_DIR", dir.join("backup"))
        .env("LVM_SYSTEM_DIR", dir.join("etc-lvm"))
        .output()
        .expect("lvmkit runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sysid(dir: &Path, id: &str) {
    let d = dir.join("etc-lvm");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("lvm.conf"), "global {\n\tsystem_id_source = \"lvmlocal\"\n}\n").unwrap();
    std::fs::write(d.join("lvmlocal.conf"), format!("local {{\n\tsystem_id = \"{id}\"\n}}\n")).unwrap();
}

#[test]
fn usage_errors_are_000002_or_110006_with_status_2() {
    let d = tempfile::tempdir().unwrap();
    for args in [&["bogus"][..], &["restore"], &["quickCheck", "--level", "5", "x"], &["restore", "a", "b"]] {
        let o = kit(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err(&o).starts_with("ERROR 000002: Usage error: "), "{args:?}: {}", err(&o));
    }
    for args in [&["adddelpv"][..], &["adddelpv", "vg", "a"], &["adddelpv", "vg", "a", "b", "--yes"]] {
        let o = kit(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(err(&o), "ERROR 110006: Usage: lvmkit kit adddelpv VGTAG [ADDLIST DELLIST] [--yes]\n");
    }
    // --json: the error object on stdout.
    let o = kit(d.path(), &["--json", "bogus"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["code"], "000002");
    assert!(v["message"].as_str().unwrap().contains("bogus"));
    assert_eq!(o.status.code(), Some(2));
    // Help is not an error.
    let o = kit(d.path(), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("quickCheck"));
}

#[test]
fn explain_one_code_all_and_unknown() {
    let d = tempfile::tempdir().unwrap();
    let o = kit(d.path(), &["explain", "110013"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(out(&o).lines().next(), Some("110013 (exit status 1)"), "{}", out(&o));
    assert!(out(&o).contains("  Message: Failed to make the LVM volume group {vg} active {why}\n"));
    let all = out(&kit(d.path(), &["explain"]));
    assert_eq!(all.matches("  Action:  ").count(), lvmkit::recovery::catalog::CATALOG.len());
    let o = kit(d.path(), &["explain", "123456"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).starts_with("ERROR 000002: Usage error: no catalog code 123456"), "{}", err(&o));
    let md = out(&kit(d.path(), &["explain", "--markdown"]));
    assert_eq!(md, lvmkit::recovery::catalog::markdown_table());
}

#[test]
fn create_list_show_export_extend_delete_print_what_they_did() {
    let d = tempfile::tempdir().unwrap();
    sysid(d.path(), "node1-id");
    let img = image("linear", d.path());
    let dev = img.to_str().unwrap();
    let o = kit(d.path(), &["--devices", dev, "create", "lk_linear"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o),
        "autoactivation off: lk_linear\ncreated lvmvg-lk_linear\ncreated lvmlv-lk_linear-lv0\ncreated lvmlv-lk_linear-lv1\n"
    );
    let lk = std::fs::read_to_string(d.path().join("lkvgs")).unwrap();
    assert!(lk.lines().any(|l| l.starts_with("lk_linear ")), "{lk}");
    // Again: the ID exists.
    let o = kit(d.path(), &["--devices", dev, "create", "lk_linear"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(
        err(&o).starts_with("ERROR 110004: A resource with ID lvmvg-lk_linear already exists"),
        "{}",
        err(&o)
    );
    // A VG found nowhere.
    let o = kit(d.path(), &["--devices", dev, "create", "nosuch"]);
    assert_eq!(
        (o.status.code(), err(&o).lines().next()),
        (Some(6), Some("ERROR 110000: Volume group nosuch not found"))
    );

    let o = kit(d.path(), &["list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        out(&o),
        format!(
            "/dev/lk_linear/lv0 (lvmlv-lk_linear-lv0, lvmlv)\n└── lk_linear (lvmvg-lk_linear, lvmvg)\n    └── {dev}\n\
             /dev/lk_linear/lv1 (lvmlv-lk_linear-lv1, lvmlv)\n└── lk_linear (lvmvg-lk_linear, lvmvg)\n    └── {dev}\n"
        )
    );
    let o = kit(d.path(), &["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["resources"].as_array().unwrap().len(), 3);
    assert_eq!(v["hierarchy"][0]["children"][0]["children"][0]["type"], "disk");
    let o = kit(d.path(), &["show", "lk_linear"]);
    let s = out(&o);
    assert!(s.contains("\nlvmvg-lk_linear (lvmvg)\n  tag: lk_linear\n"), "{s}");
    assert!(s.contains("  server: node1 (this server) system ID node1-id\n"), "{s}");
    assert!(s.contains("  policy: activation Complete, ownership SystemId\n"), "{s}");
    assert!(s.contains("  not in service here\n"), "{s}");
    let o = kit(d.path(), &["show", "nope"]);
    assert_eq!((o.status.code(), err(&o).as_str()), (Some(6), "ERROR 000019: Resource nope not found\n"));

    // export → canextend → extend on a second server with the same disk.
    let o = kit(d.path(), &["export", "/dev/lk_linear/lv0"]);
    assert_eq!(o.status.code(), Some(0));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["format"], "lvmkit-kit-template");
    assert_eq!(t["resources"].as_array().unwrap().len(), 3);
    let tf = d.path().join("t.json");
    std::fs::write(&tf, &o.stdout).unwrap();
    let d2 = tempfile::tempdir().unwrap();
    sysid(d2.path(), "node2-id");
    let o = Command::new(env!("CARGO_BIN_EXE_lvmkit"))
        .args(["kit", "--server", "node2", "--devices", dev, "canextend", tf.to_str().unwrap()])
        .env("LVMKIT_KIT_DIR", d2.path().join("kit"))
        .env("LVM_SYSTEM_DIR", d2.path().join("etc-lvm"))
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), out(&o)),
        (Some(0), "yes: node2 can take the hierarchy of lk_linear\n".to_string())
    );
    let o = Command::new(env!("CARGO_BIN_EXE_lvmkit"))
        .args(["kit", "--server", "node2", "--devices", "/nonexistent", "canextend", tf.to_str().unwrap()])
        .env("LVMKIT_KIT_DIR", d2.path().join("kit"))
        .env("LVM_SYSTEM_DIR", d2.path().join("etc-lvm"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).starts_with("no: PV "), "{}", out(&o));
    assert!(err(&o).starts_with("ERROR 110023: "), "{}", err(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_lvmkit"))
        .args(["kit", "--server", "node2", "--devices", dev, "extend", tf.to_str().unwrap()])
        .env("LVMKIT_KIT_DIR", d2.path().join("kit"))
        .env("LVMKIT_CONTROLLED_VGS", d2.path().join("lkvgs"))
        .env("LVM_SYSTEM_DIR", d2.path().join("etc-lvm"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o),
        "created lvmvg-lk_linear\ncreated lvmlv-lk_linear-lv0\ncreated lvmlv-lk_linear-lv1\n"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d2.path().join("kit/lvmvg-lk_linear.json")).unwrap())
            .unwrap();
    let servers: Vec<&str> =
        r["servers"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(servers, ["node1", "node2"]);
    // A template that is not one.
    let o = kit(d.path(), &["canextend", img.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6));
    assert!(err(&o).starts_with("ERROR 110022: Template "), "{}", err(&o));

    // adddelpv: nothing changed.
    let o = kit(d.path(), &["--devices", dev, "adddelpv", "lk_linear"]);
    assert_eq!(
        (o.status.code(), out(&o)),
        (Some(0), "no change: the recorded PVs are the VG's PVs\n".to_string())
    );

    let o = kit(d.path(), &["delete", "lk_linear"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--hierarchy"), "{}", err(&o));
    let o = kit(d.path(), &["delete", "--hierarchy", "lk_linear"]);
    assert_eq!(
        (o.status.code(), out(&o)),
        (
            Some(0),
            "deleted lvmlv-lk_linear-lv0\ndeleted lvmlv-lk_linear-lv1\ndeleted lvmvg-lk_linear\nno longer controlled: lk_linear\n"
                .to_string()
        )
    );
    assert_eq!(out(&kit(d.path(), &["list"])), "no resources\n");
}

#[test]
fn a_corrupt_resource_file_is_000010_naming_it_and_nothing_is_touched() {
    let d = tempfile::tempdir().unwrap();
    let kd = d.path().join("kit");
    std::fs::create_dir_all(&kd).unwrap();
    let f = kd.join("lvmvg-vg1.json");
    std::fs::write(&f, "{\"format\": \"lvmkit-kit-resource\", \"version\": 1, \"id\": ").unwrap();
    for args in [&["restore", "vg1"][..], &["quickCheck", "lvmvg-vg1"], &["delete", "vg1"], &["show", "vg1"]]
    {
        let o = kit(d.path(), args);
        assert_eq!(o.status.code(), Some(6), "{args:?}: {}", err(&o));
        assert!(
            err(&o)
                .starts_with(&format!("ERROR 000010: Resource information in {} is unusable: ", f.display())),
            "{args:?}: {}",
            err(&o)
        );
    }
    assert!(std::fs::read_to_string(&f).unwrap().ends_with("\"id\": "), "untouched");
    // Future version.
    std::fs::write(&f, "{\"format\": \"lvmkit-kit-resource\", \"version\": 9}").unwrap();
    let o = kit(d.path(), &["--json", "restore", "vg1"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["code"], "000010");
    assert!(v["message"].as_str().unwrap().contains("version 9 is newer"), "{v}");
    // Unknown tag with a clean store: 000019.
    std::fs::remove_file(&f).unwrap();
    let o = kit(d.path(), &["remove", "vg1"]);
    assert_eq!((o.status.code(), err(&o).as_str()), (Some(6), "ERROR 000019: Resource vg1 not found\n"));
}

#[test]
fn restore_without_device_mapper_is_the_environment_status() {
    if Path::new("/dev/mapper/control").exists() {
        eprintln!("SKIPPED: this host has /dev/mapper/control (covered by the VM tests)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let img = image("linear", d.path());
    let dev = img.to_str().unwrap();
    assert_eq!(kit(d.path(), &["--devices", dev, "create", "lk_linear"]).status.code(), Some(0));
    let o = kit(d.path(), &["restore", "lk_linear"]);
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(
        err(&o)
            .starts_with("ERROR 110020: Device-mapper is not usable here: cannot open /dev/mapper/control"),
        "{}",
        err(&o)
    );
}

#[test]
fn the_probe_subcommand_reads_one_block_directly() {
    let d = tempfile::tempdir().unwrap();
    let img = image("linear", d.path());
    let o = kit(d.path(), &["__probe", img.to_str().unwrap(), "0"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = kit(d.path(), &["__probe", "/nonexistent", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("/nonexistent"), "{}", err(&o));
    let size = std::fs::metadata(&img).unwrap().len().to_string();
    let o = kit(d.path(), &["__probe", img.to_str().unwrap(), &size]);
    assert_eq!(o.status.code(), Some(1), "nothing to read past the end");
}
