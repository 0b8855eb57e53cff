#!/bin/busybox sh
# /init of the qemu guest's initramfs (packed by tests/vm/setup.sh with Debian's busybox-static
# and the modules listed in /modules, in load order: virtio-pci and virtio-9p). It only brings
# up the host's root: loads those modules, mounts the host's / (qemu's virtio-9p export, tag
# `hostroot`) read-write on /newroot, moves its devtmpfs there and switches root to
# $LVMKIT_VM_INIT (tests/vm/init.c, static, the same PID 1 as under user-mode-linux), which
# mounts the guest's own proc/sys/dev/run, loads the dm modules from the host's tree, runs the
# scenario and writes its output and status into $LVMKIT_VM_RUN. Both variables come from the
# kernel command line (run-qemu.sh). A failure here powers off without a status: the runner
# then exits 125 and prints this console.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
fail() {
  echo "initramfs: $*"
  poweroff -f
}
while read -r m; do
  insmod "/lib/modules/$m" || fail "cannot load $m"
done </modules
# msize: the most Linux 6.1's virtio transport takes (125 pages of 4 KiB). cache=mmap: nothing
# is cached (the host sees the run folder's output and status as soon as the guest wrote them)
# except for shared writable mmaps, which then work as on UML's hostfs (cache=none refuses them).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap hostroot /newroot ||
  fail "cannot mount the host's root (9p tag hostroot)"
[ -x "/newroot$LVMKIT_VM_INIT" ] || fail "no init $LVMKIT_VM_INIT on the host's root"
mount --move /dev /newroot/dev
exec switch_root /newroot "$LVMKIT_VM_INIT"
