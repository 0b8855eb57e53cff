#!/bin/sh
# The dm ioctl tests in the guest (run by tests/tests/vm.rs under user-mode-linux and
# tests/tests/vm_qemu.rs under qemu): $LVMKIT_VM_TEST is the static dm/tests/vm_ioctl.rs; it
# gets the images of $VM_DISKS (two of at least 64 MiB) as LVMKIT_DM_TEST_DISKS. Prints
# "left: …" (dmsetup ls) last and exits with the tests' status.
st=0
LVMKIT_DM_TEST_DISKS=$VM_DISKS "$LVMKIT_VM_TEST" --test-threads=1 --nocapture || st=$?
echo "left: $(dmsetup ls)"
exit $st
