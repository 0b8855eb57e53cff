#!/bin/sh
# In-guest activation of LVM1 (format1) VGs (run by tests/tests/vm.rs, one boot). The disks are
# copies of the lvm2 2.02.177 images in $LVMKIT_VM_LVM1_DIR (see its README.md), in the order
# $LVMKIT_VM_LVM1_IMAGES names them. lvm2 2.03 cannot read LVM1, so there is no peer here:
# $LVMKIT_VM_TEST (the static kit/tests/vm_activate_lvm1.rs) checks our devices against the
# images' .vgcfg ground truth and the bytes on the disks. Prints "left: …" (dmsetup ls) last.
set -eu
echo "== LVM1 images: $LVMKIT_VM_LVM1_IMAGES; disks: ${VM_DISKS:-/dev/ubdb…}"
dmsetup targets >targets.txt
for t in linear striped snapshot snapshot-origin; do
  grep -q "^$t " targets.txt || { echo "missing target: $t (module not loaded)"; exit 1; }
done
st=0
"$LVMKIT_VM_TEST" --test-threads=1 --nocapture || st=$?
echo "left: $(dmsetup ls)"
exit $st
