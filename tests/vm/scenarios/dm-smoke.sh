#!/bin/sh
# Harness smoke test (run by tests/tests/vm.rs and vm_qemu.rs): the guest's device-mapper
# works with every target module loaded, and dmsetup (the host's, through the shared root)
# drives it over the first image ($VM_DISKS: /dev/ubdb under UML, /dev/vdb under qemu).
# Expects one image of at least 16 MiB. Prints "dm-smoke: ok" at the end.
set -eu
step() { echo "== $*"; }
disk=${VM_DISKS%% *}
name=${disk#/dev/}

step version
dmsetup version
step targets
dmsetup targets >targets.txt
cat targets.txt
for t in linear striped error zero snapshot snapshot-origin snapshot-merge thin-pool thin \
  mirror raid cache; do
  grep -q "^$t " targets.txt || { echo "missing target: $t"; exit 1; }
done

step "disk $disk"
test -b "$disk"
sectors=$(blockdev --getsz "$disk")
echo "$name: $sectors sectors"
test "$sectors" -ge 32768
devnum=$(cat "/sys/block/$name/dev")

step "pattern at sector 2048 of $name"
dd if=/dev/urandom of=pattern bs=512 count=64 status=none
dd if=pattern of="$disk" bs=512 seek=2048 conv=notrunc,fsync status=none

step "create smoke-lin: 0 8192 linear $devnum 2048"
echo "0 8192 linear $devnum 2048" | dmsetup create --noudevsync smoke-lin
dmsetup table smoke-lin
test "$(dmsetup table smoke-lin)" = "0 8192 linear $devnum 2048"
dmsetup info -c --noheadings -o name,open,segments,attr smoke-lin
# No udev in the guest: dmsetup (verify_udev_operation off by default) leaves the node to us.
test -b /dev/mapper/smoke-lin || dmsetup mknodes smoke-lin
test -b /dev/mapper/smoke-lin
test "$(blockdev --getsz /dev/mapper/smoke-lin)" = 8192

step "read back through the device"
dd if=/dev/mapper/smoke-lin of=readback bs=512 count=64 iflag=direct status=none
cmp pattern readback

step "write through the device, read $name"
dd if=/dev/urandom of=pattern2 bs=512 count=8 status=none
dd if=pattern2 of=/dev/mapper/smoke-lin bs=512 seek=100 oflag=direct conv=notrunc status=none
dd if="$disk" of=readback2 bs=512 skip=2148 count=8 iflag=direct status=none
cmp pattern2 readback2

step remove
dmsetup remove --noudevsync smoke-lin
test -e /dev/mapper/smoke-lin && dmsetup mknodes # drops the stale node
test ! -e /dev/mapper/smoke-lin
left=$(dmsetup ls)
echo "dmsetup ls: $left"
test "$left" = "No devices found"
echo "dm-smoke: ok"
