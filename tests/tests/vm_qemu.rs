//! Tests in a real kernel with SMP and the real block layer: Debian's linux-image-amd64 under
//! qemu (TCG, `-smp 2`, images as virtio disks), driven by `tests/vm/run-qemu.sh` through
//! [`lvmkit_tests::vm`] (skipped without root unless `CI=true`). The same scenarios and static
//! test binaries as under user-mode-linux (`tests/tests/vm.rs`), batched into one boot
//! (`tests/vm/scenarios/smp-batch.sh`): TCG boots in 7–15 s and runs guest code several times
//! slower than UML.

use std::path::Path;
use std::time::Instant;

use lvmkit_tests::vm::{
    assert_guest_tests, build_static_lvmkit, build_static_test, qemu_available, run_qemu, scenario_with_env,
    sparse_image,
};

/// The sections of a batch's output: `=== NAME` opens one, `=== NAME: status N` closes it.
fn parts(output: &str) -> Vec<(String, i32, String)> {
    let mut done = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(head) = line.strip_prefix("=== ") {
            if let Some((name, st)) = head.rsplit_once(": status ") {
                let Some((n, text)) = open.take() else { panic!("status of {name} without its part") };
                assert_eq!(n, name, "parts interleaved");
                done.push((n, st.parse().expect("numeric status"), text));
                continue;
            }
            if open.is_none() {
                open = Some((head.to_string(), String::new()));
                continue;
            }
        }
        if let Some((_, text)) = open.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    done
}

#[test]
fn vm_qemu_smp_dm_batch() {
    if !qemu_available("vm_qemu_smp_dm_batch") {
        return;
    }
    let ioctl = build_static_test("lvmkit-dm", "vm_ioctl");
    let activate = build_static_test("lvmkit", "vm_activate");
    let refresh = build_static_test("lvmkit", "vm_refresh");
    let kit = build_static_test("lvmkit", "vm_kit");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    // The eighth holds the kit matrix's 30 partitions of 32 MiB.
    let images: Vec<_> = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .map(|n| sparse_image(tmp.path(), &format!("{n}.img"), if *n == "h" { 964 << 20 } else { 64 << 20 }))
        .collect();
    let refs: Vec<&Path> = images.iter().map(|p| p.as_path()).collect();
    // One boot: SMP facts, then the smoke scenario, the dm ioctl tests and the lvm2-compared
    // activation, each on its own disks (see the scenario).
    let batch = scenario_with_env(
        tmp.path(),
        "smp-batch.sh",
        &[
            ("LVMKIT_VM_IOCTL_TEST", &ioctl),
            ("LVMKIT_VM_ACTIVATE_TEST", &activate),
            ("LVMKIT_VM_REFRESH_TEST", &refresh),
            ("LVMKIT_VM_KIT_TEST", &kit),
            ("LVMKIT", &lvmkit),
        ],
    );

    let t0 = Instant::now();
    let out = run_qemu(&batch, &refs);
    let took = t0.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let guest_time = |key: &str| stdout.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("?").to_string();
    println!(
        "qemu batch: boot {} (guest uptime at the scenario's start), done at {}, run-qemu.sh {:.1} s",
        guest_time("booted: "),
        guest_time("done: "),
        took.as_secs_f64()
    );
    stdout.lines().filter(|l| l.starts_with("part ")).for_each(|l| println!("{l}"));
    assert_eq!(out.status.code(), Some(7), "the batch's own status did not come back");

    let parts = parts(&stdout);
    let names: Vec<&str> = parts.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, ["smp", "dm-smoke", "dm-ioctl", "activate", "refresh", "kit"], "not every part ran");
    for (name, st, text) in &parts {
        assert_eq!(*st, 0, "part {name} failed in the guest:\n{text}");
    }
    let text = |name: &str| parts.iter().find(|(n, _, _)| n == name).map(|(_, _, t)| t.as_str()).unwrap();

    // SMP on the Debian kernel; the images are virtio disks, named in $VM_DISKS.
    let smp = text("smp");
    assert!(smp.contains("cpus: 2 online: 0-1"), "not two CPUs online:\n{smp}");
    assert!(
        smp.contains(
            "disks: /dev/vdb /dev/vdc /dev/vdd /dev/vde /dev/vdf /dev/vdg /dev/vdh /dev/vdi /dev/vdj\n"
        ),
        "{smp}"
    );
    // vda (scratch) and the nine images are bound to virtio_blk.
    assert_eq!(smp.lines().filter(|l| l.contains("/virtio_blk/virtio")).count(), 10, "{smp}");

    let smoke = text("dm-smoke");
    assert!(smoke.contains("Driver version:    4."), "no dm driver version in the output");
    assert!(smoke.lines().any(|l| l == "dm-smoke: ok"), "smoke scenario did not finish");
    assert!(smoke.contains("== disk /dev/vdb"), "the smoke scenario did not use vdb");

    assert_guest_tests("dm ioctls (qemu)", text("dm-ioctl"), 3);
    assert_guest_tests("activation (qemu)", text("activate"), 1);
    assert_guest_tests("refresh (qemu)", text("refresh"), 1);
    assert!(text("refresh").contains("static: ok"), "the static lvmkit command did not run");
    // The recovery kit's T1, T5 and T12 with two CPUs and the real block layer.
    assert_guest_tests("kit matrix (qemu)", text("kit"), 3);
}
