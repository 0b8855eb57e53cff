#!/bin/sh
# In-guest failover matrix of the recovery kit (run by tests/tests/vm_kit.rs, one boot): the
# first disk of $VM_DISKS gets $KIT_PARTS partitions of 32 MiB (each scenario of the matrix
# owns its partitions; a missing PV is a partition deleted from the kernel), the second
# disk is T13's (1000 LVs), a third, when given, is the LVM1 image (exported VG l1d). Then
# $LVMKIT_VM_TEST (the static kit/tests/vm_kit.rs) drives the static command $LVMKIT as two
# servers, nodeA and nodeB, with lvm2 (the host's) as the judge. Prints "left: …" (dmsetup ls)
# last. Runs under both harnesses (ubd or virtio disks); $KIT_TESTS, when set, names the
# in-guest tests to run (a libtest filter per word, e.g. "t01 t05 t12" for qemu).
set -eu
set -- $VM_DISKS
[ $# -ge 2 ] || { echo "needs at least 2 disks, got $#: $*"; exit 1; }
parts=${KIT_PARTS:-30}
# Kernel partitions without a table on disk (BLKPG through addpart; no sfdisk needed): from
# 1 MiB, 32 MiB each. delpart/addpart take them away and bring them back.
i=1
while [ $i -le "$parts" ]; do
  addpart "$1" $i $((2048 + (i - 1) * 65536)) 65536
  i=$((i + 1))
done
n=0
for p in "$1"[0-9]*; do n=$((n + 1)); done
[ "$n" = "$parts" ] || { echo "$1: $n partitions, want $parts"; exit 1; }
echo "disks: $* ($1: $parts partitions)"
echo "lvm2: $(lvm version 2>/dev/null | awk '/LVM version/ {print $3}')"
st=0
# shellcheck disable=SC2086
LVMKIT_VM_KIT=1 "$LVMKIT_VM_TEST" --test-threads=1 --nocapture ${KIT_TESTS:-} || st=$?
echo "left: $(dmsetup ls)"
exit $st
