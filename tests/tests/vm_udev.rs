//! udev synchronisation in a real kernel with a real systemd-udevd: boots the user-mode-linux
//! guest once, starts systemd-udevd there (Debian's `udev`, unpacked by `tests/vm/setup.sh`
//! into `target/vm-cache/udev`; the rules are the host's: dmsetup's `55-dm.rules` and
//! `95-dm-notify.rules`, lvm2's `56-lvm.rules`) and runs the static `dm/tests/vm_udev.rs` in
//! it (skipped without root unless `CI=true`).

use std::path::Path;

use lvmkit_tests::repo_root;
use lvmkit_tests::vm::{
    build_static_lvmkit, build_static_test, guest_available, in_ci, run_uml, sparse_image,
};

/// The host's rules the guest's udevd needs (dmsetup and lvm2 packages).
const RULES: [&str; 3] = ["55-dm.rules", "56-lvm.rules", "95-dm-notify.rules"];

#[test]
fn vm_udev_sync() {
    if !guest_available("vm_udev_sync") {
        return;
    }
    let udev = repo_root().join("target/vm-cache/udev");
    let missing_rules: Vec<_> =
        RULES.iter().filter(|r| !Path::new("/usr/lib/udev/rules.d").join(r).exists()).collect();
    let why = if !udev.join("systemd-udevd").exists() {
        Some(format!("{} missing (tests/vm/setup.sh could not fetch udev)", udev.display()))
    } else if !missing_rules.is_empty() {
        Some(format!("host udev rules missing in /usr/lib/udev/rules.d: {missing_rules:?}"))
    } else {
        None
    };
    if let Some(why) = why {
        assert!(!in_ci(), "vm_udev_sync: CI=true but {why}");
        println!("skipped: vm_udev_sync: {why}");
        return;
    }
    let exe = build_static_test("lvmkit-dm", "vm_udev");
    let lvmkit = build_static_lvmkit();
    let tmp = tempfile::tempdir().expect("tempdir");
    let img = sparse_image(tmp.path(), "a.img", 32 << 20);
    let pv = sparse_image(tmp.path(), "b.img", 32 << 20);
    let scenario = tmp.path().join("udev.sh");
    std::fs::write(
        &scenario,
        format!(
            "#!/bin/sh\n\
             U='{udev}'\n\
             \"$U/systemd-udevd\" --daemon || exit 90\n\
             i=0; until \"$U/udevadm\" control --ping 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || exit 91; sleep 0.05; done\n\
             echo \"udevd: $(\"$U/udevadm\" --version), up after $i polls\"\n\
             LVMKIT_VM_UDEV=\"$U\" LVMKIT_DM_TEST_DISKS=/dev/ubdb '{exe}' --test-threads=1 --nocapture\n\
             st=$?\n\
             echo '== lvmkit activate/deactivate under udev'\n\
             . '{env}'\n\
             lvm pvcreate -q /dev/ubdc && lvm vgcreate -q vgu /dev/ubdc && lvm lvcreate -q -an -Zn -L 4M -n lin vgu || exit 92\n\
             '{lvmkit}' activate --devices /dev/ubdc vgu || exit 93\n\
             echo \"mapper link: $(readlink /dev/mapper/vgu-lin)\"\n\
             echo \"lv link: $(readlink /dev/vgu/lin)\"\n\
             test -b /dev/vgu/lin || exit 94\n\
             '{lvmkit}' deactivate --devices /dev/ubdc vgu || exit 95\n\
             test -e /dev/mapper/vgu-lin || test -e /dev/vgu/lin || echo 'lvmkit under udev: ok'\n\
             echo '== DM_DISABLE_UDEV=1: udev runs, lvmkit makes the nodes (udev rules kept off)'\n\
             DM_DISABLE_UDEV=1 '{lvmkit}' activate --devices /dev/ubdc vgu || exit 96\n\
             test -b /dev/mapper/vgu-lin && ! test -L /dev/mapper/vgu-lin && echo 'own mapper node: ok'\n\
             echo \"disabled lv link: $(readlink /dev/vgu/lin)\"\n\
             echo \"semaphores while disabled: $(tail -n +2 /proc/sysvipc/sem | wc -l)\"\n\
             \"$U/udevadm\" settle -t 10\n\
             test -b /dev/mapper/vgu-lin && ! test -L /dev/mapper/vgu-lin && echo 'still own node after udev settled: ok'\n\
             DM_DISABLE_UDEV=1 '{lvmkit}' deactivate --devices /dev/ubdc vgu || exit 97\n\
             test -e /dev/mapper/vgu-lin || test -e /dev/vgu/lin || test -e /dev/vgu || echo 'disabled deactivate: ok'\n\
             echo \"left: $(dmsetup ls)\"\n\
             echo \"cookies left: $(dmsetup udevcookies | tail -n +2 | wc -l)\"\n\
             echo \"semaphores left: $(tail -n +2 /proc/sysvipc/sem | wc -l)\"\n\
             \"$U/udevadm\" control --exit\n\
             exit $st\n",
            udev = udev.display(),
            exe = exe.display(),
            lvmkit = lvmkit.display(),
            env = repo_root().join("tests/vm/scenarios/lvm2-env.sh").display()
        ),
    )
    .unwrap();
    let out = run_uml(&scenario, &[&img, &pv]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "udev tests failed in the guest: {}", out.status);
    assert!(stdout.contains("test result: ok. 4 passed; 0 failed"), "not every udev test ran");
    assert!(!stdout.contains("skipped:"), "skipped inside the guest");
    assert!(stdout.contains("left: No devices found"), "devices left behind");
    // The lvmkit command synchronised with udev: udev made /dev/mapper/vgu-lin (a symlink to
    // ../dm-N, not a node of ours) and lvm2's rules /dev/vgu/lin; both gone after deactivate.
    assert!(
        stdout.lines().any(|l| l.starts_with("mapper link: ../dm-")),
        "udev did not make the mapper link"
    );
    assert!(stdout.lines().any(|l| l.starts_with("lv link: ")), "no /dev/vgu/lin");
    assert!(stdout.contains("lvmkit under udev: ok"), "nodes left after deactivate");
    assert!(stdout.contains("cookies left: 0"), "a udev cookie left behind");
    assert!(stdout.contains("semaphores left: 0"), "a semaphore left behind");
    // DM_DISABLE_UDEV: no cookie, a block node of lvmkit's own that udev's rules leave alone,
    // the /dev/VG/LV link to it, everything gone after deactivate.
    assert!(stdout.contains("own mapper node: ok"), "DM_DISABLE_UDEV: no node of our own");
    assert!(stdout.contains("still own node after udev settled: ok"), "udev replaced our node");
    assert!(stdout.contains("disabled lv link: /dev/mapper/vgu-lin"), "DM_DISABLE_UDEV: no /dev/vgu/lin");
    assert!(stdout.contains("semaphores while disabled: 0"), "DM_DISABLE_UDEV: a cookie semaphore");
    assert!(stdout.contains("disabled deactivate: ok"), "DM_DISABLE_UDEV: nodes left after deactivate");
}
