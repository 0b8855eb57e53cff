//! `health::component_health` against a real kernel: built as a static binary by
//! `tests/tests/vm_qemu.rs` (`vm_qemu_components`) and run by `tests/vm/scenarios/components.sh`
//! inside the qemu guest on a multipath map and an md array, healthy and with a path or a leg
//! failed. `LVMKIT_VM_HEALTH_DEV` names the device, `LVMKIT_VM_HEALTH_EXPECT` what must be
//! found (`none`, `multipath-degraded`, `md-degraded`); each warning is printed as
//! `health: …` for the host to read. Anywhere else it prints `skipped: …`.

use std::os::unix::fs::MetadataExt;

use lvmkit_activation::health::{ComponentWarning, component_health};
use lvmkit_dm::control::Dm;
use lvmkit_metadata::topology::Sysfs;

#[test]
fn vm_component_health() {
    let (Ok(dev), Ok(expect)) =
        (std::env::var("LVMKIT_VM_HEALTH_DEV"), std::env::var("LVMKIT_VM_HEALTH_EXPECT"))
    else {
        println!("skipped: not inside tests/vm/scenarios/components.sh");
        return;
    };
    let rdev = std::fs::metadata(&dev).unwrap_or_else(|e| panic!("{dev}: {e}")).rdev();
    let dm = Dm::open().expect("device-mapper");
    let found = component_health(&dm, &Sysfs::default(), rdev).unwrap_or_else(|e| panic!("{dev}: {e}"));
    for w in &found {
        println!("health: {w}");
    }
    if found.is_empty() {
        println!("health: none");
    }
    match expect.as_str() {
        "none" => assert!(found.is_empty(), "{dev}: {found:?}"),
        "multipath-degraded" => assert!(
            matches!(&found[..], [ComponentWarning::MultipathDegraded { failed, active: 1, .. }] if failed.len() == 1),
            "{dev}: {found:?}"
        ),
        "md-degraded" => assert!(
            matches!(&found[..], [ComponentWarning::MdDegraded { missing: 1, raid_disks: Some(2), .. }]),
            "{dev}: {found:?}"
        ),
        other => panic!("unknown LVMKIT_VM_HEALTH_EXPECT {other}"),
    }
}
