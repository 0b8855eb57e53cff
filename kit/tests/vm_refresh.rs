//! `refresh` against a real kernel: another node changes the metadata of LVs that are active
//! here, and `lvmkit refresh` brings the live devices in line — the same tables genuine lvm2
//! builds from that metadata, data kept, an open LV reloaded under its opener.
//!
//! Runs inside the user-mode-linux guest (`tests/tests/vm.rs` `vm_refresh` builds it static;
//! `tests/vm/scenarios/refresh.sh` has lvm2 build VG `vgr` on the first two disks of
//! `$VM_DISKS` first). "Another node" is lvm2 run with `global/activation=0`: it writes the
//! metadata and leaves the kernel alone, as a remote host would. Anywhere else it prints
//! `skipped: …`.

mod guest;
#[path = "guest/args.rs"]
mod guest_args;
use guest::{disks, dm_empty, pattern, read_at, sh};
use guest_args::args;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use lvmkit::activate::{activate, deactivate, refresh, status};
use lvmkit::source::Source;
use lvmkit_activation::PlanOptions;
use lvmkit_activation::apply::ApplyOptions;

fn load() -> Source {
    Source::load(&disks().iter().take(2).map(PathBuf::from).collect::<Vec<_>>(), false)
}

/// lvm2 as the other node: metadata only.
fn other_node(cmd: &str) {
    sh(&format!("lvm {cmd} --config 'global {{ activation = 0 }}'"));
}

/// `dmsetup table` with device numbers of dm devices replaced by their names (minors depend
/// on creation order, which differs between a refresh and a fresh activation), sorted.
fn tables() -> String {
    let names: BTreeMap<String, String> =
        sh("dmsetup info -c --noheadings -o major,minor,name --separator ' '")
            .lines()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                Some((format!("{}:{}", f.next()?, f.next()?), f.next()?.to_string()))
            })
            .collect();
    let mut lines: Vec<String> = sh("dmsetup table")
        .lines()
        .map(|l| {
            l.split(' ')
                .map(|w| names.get(w).cloned().unwrap_or_else(|| w.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

#[test]
fn vm_refresh_after_another_node_changed_metadata() {
    if std::env::var("LVMKIT_VM_REFRESH").is_err() {
        println!("skipped: vm_refresh_after_another_node_changed_metadata: runs inside the VM harness");
        return;
    }
    assert!(dm_empty(), "lvm2's devices should be down before we start");
    let opts = ApplyOptions::default();
    let plan = PlanOptions::default();
    let out = activate(&load(), &args(&["vgr"]), &plan, &opts).unwrap().to_string();
    println!("activate:\n{out}");
    let before = tables();

    // Data in lin and r1, and lin held open (a mounted filesystem would be) throughout.
    let lin_data = pattern(256 << 10, 5);
    let mut lin = OpenOptions::new().read(true).write(true).open("/dev/mapper/vgr-lin").unwrap();
    lin.write_all(&lin_data).unwrap();
    lin.sync_all().unwrap();
    let r1_data = pattern(128 << 10, 11);
    let mut r1 = OpenOptions::new().write(true).open("/dev/mapper/vgr-r1").unwrap();
    r1.write_all(&r1_data).unwrap();
    r1.sync_all().unwrap();
    drop(r1);

    // Nothing changed yet: a refresh touches nothing.
    let out = refresh(&load(), &args(&["vgr"]), &plan, &opts).unwrap().to_string();
    println!("refresh (no change):\n{out}");
    assert!(out.lines().all(|l| l.starts_with("unchanged ") || l.starts_with("# not active")), "{out}");
    assert_eq!(tables(), before);

    // The other node: grows lin onto the second PV, grows r1, renames `keep` to `kept`, removes
    // `gone` (active here) and adds `new` (not active here).
    other_node("lvextend -q -L +8M vgr/lin");
    other_node("lvextend -q -L +4M vgr/r1");
    other_node("lvrename -q vgr keep kept");
    other_node("lvremove -q -y vgr/gone");
    other_node("lvcreate -q -L 4M -n new vgr");
    let out = refresh(&load(), &args(&["vgr"]), &plan, &opts).unwrap().to_string();
    println!("refresh:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    assert!(has("reloaded vgr-lin "), "{out}");
    assert!(has("reloaded vgr-r1 "), "{out}");
    assert!(has("renamed vgr-keep vgr-kept"), "{out}");
    assert!(has("unchanged vgr-kept "), "{out}");
    assert_eq!(std::fs::read_link("/dev/vgr/kept").unwrap(), PathBuf::from("/dev/mapper/vgr-kept"));
    assert!(!PathBuf::from("/dev/vgr/keep").exists() && !PathBuf::from("/dev/mapper/vgr-keep").exists());
    assert!(has("# not active: vgr/new"), "{out}");
    assert!(has("# left vgr-gone (open 0): not in metadata"), "{out}");
    assert!(!sh("dmsetup ls").contains("vgr-new"), "refresh must not activate inactive LVs");
    assert!(sh("dmsetup ls").contains("vgr-gone"), "refresh must not remove LVs it does not know");

    // lin is 24 MiB now, still open, data intact, and writable past the old end.
    assert!(
        sh("dmsetup table vgr-lin")
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
            .sum::<u64>()
            == 24 << 11
    );
    let mut got = vec![0u8; lin_data.len()];
    lin.seek(SeekFrom::Start(0)).unwrap();
    lin.read_exact(&mut got).unwrap();
    assert!(got == lin_data, "lin's data changed across the refresh");
    let tail = pattern(64 << 10, 7);
    lin.seek(SeekFrom::Start(20 << 20)).unwrap();
    lin.write_all(&tail).unwrap();
    lin.sync_all().unwrap();
    drop(lin);
    assert!(read_at("/dev/mapper/vgr-lin", 20 << 20, tail.len()) == tail);
    assert!(
        read_at("/dev/mapper/vgr-r1", 0, r1_data.len()) == r1_data,
        "r1's data changed across the refresh"
    );
    let (st, ok) = status(&load(), &args(&["vgr/lin", "vgr/r1", "vgr/kept"]), &plan)
        .map(|s| (s.to_string(), s.ok()))
        .unwrap();
    assert!(ok, "{st}");

    // The same tables genuine lvm2 makes from the new metadata: ours down (also `gone`),
    // lvm2's up for the same LVs.
    let ours: String =
        tables().lines().filter(|l| !l.starts_with("vgr-gone:")).collect::<Vec<_>>().join("\n");
    deactivate(&load(), &args(&["vgr"]), &opts).unwrap();
    assert!(dm_empty(), "{}", sh("dmsetup ls"));
    sh("lvm vgchange -q -ay vgr && lvm lvchange -q -an vgr/new");
    let lvm2 = tables();
    assert_eq!(ours, lvm2, "tables after refresh differ from lvm2's for the same metadata");
    assert!(read_at("/dev/mapper/vgr-lin", 20 << 20, tail.len()) == tail, "lvm2 reads another lin");
    sh("lvm vgchange -q -an vgr");
    assert!(dm_empty());
}
