#!/bin/sh
# In-guest activation of linear and striped LVs (run by tests/tests/vm.rs under user-mode-linux
# and tests/tests/vm_qemu.rs under qemu, one boot): lvm2 (the host's, `lvm2-env.sh` config)
# builds VG `vgt` on the first two images of $VM_DISKS — a two-segment linear LV `lin` (8 MiB on
# the first, 4 MiB on the second), a striped LV `str`, an LV `my-lv` with a dash — and records
# what `lvm vgchange -ay` made (`dmsetup table`, `dmsetup info -c -o name,uuid,attr`, sorted) in
# $VM_RUN/lvm2.table and lvm2.info; then it runs $LVMKIT_VM_TEST (the static
# kit/tests/vm_activate.rs, which reads the disks from $VM_DISKS too) with the record in
# $LVMKIT_VM_LVM2_TABLE / $LVMKIT_VM_LVM2_INFO. Prints "left: …" (dmsetup ls) last and exits
# with the test's status. Expects two images of at least 64 MiB.
set -eu
. "$(dirname "$0")/lvm2-env.sh"
set -- $VM_DISKS
a=$1 b=$2

lvm pvcreate -q "$a" "$b"
lvm vgcreate -q vgt "$a" "$b"
lvm lvcreate -q -L 8M -n lin vgt "$a"
lvm lvextend -q -L +4M vgt/lin "$b"
lvm lvcreate -q -i 2 -I 64k -L 16M -n str vgt
lvm lvcreate -q -L 4M -n my-lv vgt
dmsetup table | sort >lvm2.table
dmsetup info -c --noheadings -o name,uuid,attr | sort >lvm2.info
cat lvm2.table lvm2.info
lvm vgchange -q -an vgt

st=0
LVMKIT_VM_LVM2_TABLE=$VM_RUN/lvm2.table LVMKIT_VM_LVM2_INFO=$VM_RUN/lvm2.info \
  "$LVMKIT_VM_TEST" --test-threads=1 --nocapture || st=$?
echo "left: $(dmsetup ls)"
exit $st
