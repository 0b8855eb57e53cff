#!/bin/sh
# One boot of the qemu harness for tests/tests/vm_qemu.rs (TCG is slow: batch, don't reboot).
# Needs nine images in $VM_DISKS (64 MiB each but the eighth, of at least 1 GiB), the static
# test binaries $LVMKIT_VM_IOCTL_TEST (dm/tests/vm_ioctl.rs), $LVMKIT_VM_ACTIVATE_TEST
# (kit/tests/vm_activate.rs), $LVMKIT_VM_REFRESH_TEST (kit/tests/vm_refresh.rs) and
# $LVMKIT_VM_KIT_TEST (kit/tests/vm_kit.rs), and the static command $LVMKIT. Parts, each
# with its own disks, each framed by "=== NAME" and "=== NAME: status N" (a failing part does
# not stop the next):
#   smp       CPUs online, kernel, the disks bound to virtio_blk
#   dm-smoke  dm-smoke.sh on the first image
#   dm-ioctl  dm-ioctl.sh on the second and third
#   activate  activate.sh (lvm2, then lvmkit) on the fourth and fifth
#   refresh   refresh.sh (the static lvmkit command, then a refresh under an open LV, with
#             lvm2 as the other node) on the sixth and seventh
#   kit       kit-matrix.sh, the recovery kit's T1 (cold takeover), T5 (dead path under
#             quickCheck 10) and T12 (idempotence) with SMP and virtio, on the eighth and ninth
# Prints the guest's uptime when the scenario starts ("booted: …") and ends ("done: …"), each
# part's span ("part NAME: …"), and exits 7: the harness must bring that status back too.
s=$(dirname "$0")
. "$s/parts.sh"
echo "booted: $(up) s"
smp() {
  echo "cpus: $(grep -c ^processor /proc/cpuinfo) online: $(cat /sys/devices/system/cpu/online)"
  echo "kernel: $(uname -r)"
  echo "disks: $VM_DISKS"
  ls -d /sys/bus/virtio/drivers/virtio_blk/virtio*
}
set -- $VM_DISKS
part smp smp
part dm-smoke env VM_DISKS="$1" /bin/sh "$s/dm-smoke.sh"
part dm-ioctl env VM_DISKS="$2 $3" LVMKIT_VM_TEST="$LVMKIT_VM_IOCTL_TEST" /bin/sh "$s/dm-ioctl.sh"
part activate env VM_DISKS="$4 $5" LVMKIT_VM_TEST="$LVMKIT_VM_ACTIVATE_TEST" /bin/sh "$s/activate.sh"
part refresh env VM_DISKS="$6 $7" LVMKIT_VM_TEST="$LVMKIT_VM_REFRESH_TEST" /bin/sh "$s/refresh.sh"
part kit env VM_DISKS="$8 $9" LVMKIT_VM_TEST="$LVMKIT_VM_KIT_TEST" KIT_TESTS="t01 t05 t12" /bin/sh "$s/kit-matrix.sh"
echo "done: $(up) s"
exit 7
