#!/bin/sh
# In-guest activation of every stacked LV type (run by tests/tests/vm.rs, one boot): lvm2 (the
# host's, through hostfs; `lvm2-env.sh` config) builds VG `vgk` on /dev/ubdb, /dev/ubdc,
# /dev/ubdd with
#   thin pool `pool` + thin LV `thin` + thin snapshots `tsnap` (activation skip off) and
#   `tskip` (skipped, lvm2's default),
#   linear `orig` + COW snapshot `csnap`,
#   raid1 `r1`, raid5 `r5` (3 images), legacy mirror `mir` (core log),
#   cache pool `cpool` attached to `cached` (cache LV),
# activates it once more from scratch (`vgchange -an`, `-ay`), records `dmsetup table` and
# `dmsetup info -c -o name,uuid,attr` (sorted) in $VM_RUN/lvm2.table and lvm2.info, takes it
# down again and runs $LVMKIT_VM_TEST (the static kit/tests/vm_activate_types.rs) with the
# record in $LVMKIT_VM_LVM2_TABLE / $LVMKIT_VM_LVM2_INFO. Prints "left: …" (dmsetup ls) last.
# Expects three images of at least 96 MiB.
set -eu
. "$(dirname "$0")/lvm2-env.sh"
step() { echo "== $*"; }

# Only the targets this scenario needs; the harness loads the modules (no modprobe here).
step targets
dmsetup targets >targets.txt
for t in linear striped snapshot snapshot-origin thin-pool thin mirror raid cache; do
  grep -q "^$t " targets.txt || { echo "missing target: $t (module not loaded)"; exit 1; }
done

step "lvm2 builds vgk"
lvm pvcreate -q /dev/ubdb /dev/ubdc /dev/ubdd
lvm vgcreate -q -s 1M vgk /dev/ubdb /dev/ubdc /dev/ubdd
lvm lvcreate -q --type thin-pool -L 16M -n pool vgk /dev/ubdb
lvm lvcreate -q --type thin -V 24M -n thin --thinpool vgk/pool
lvm lvcreate -q -s -kn -n tsnap vgk/thin
lvm lvcreate -q -s -n tskip vgk/thin
lvm lvcreate -q -L 8M -n orig vgk /dev/ubdc
lvm lvcreate -q -s -L 4M -n csnap vgk/orig
lvm lvcreate -q --type raid1 -m 1 -L 8M -n r1 vgk /dev/ubdb /dev/ubdc
lvm lvcreate -q --type raid5 -i 2 -I 64k -L 8M -n r5 vgk /dev/ubdb /dev/ubdc /dev/ubdd
lvm lvcreate -q --type mirror -m 1 --mirrorlog core -L 8M -n mir vgk /dev/ubdc /dev/ubdd
lvm lvcreate -q --type cache-pool -L 8M -n cpool vgk /dev/ubdd
lvm lvcreate -q -L 12M -n cached vgk /dev/ubdb
lvm lvconvert -q -y --type cache --cachepool vgk/cpool vgk/cached
lvm lvs -a -o lv_name,segtype,lv_attr,devices vgk

step "lvm2 activates vgk from scratch"
lvm vgchange -q -an vgk
test "$(dmsetup ls)" = "No devices found"
lvm vgchange -q -ay vgk
dmsetup table | sort >lvm2.table
dmsetup info -c --noheadings -o name,uuid,attr | sort >lvm2.info
cat lvm2.table lvm2.info
lvm vgchange -q -an vgk
test "$(dmsetup ls)" = "No devices found"

step "lvmkit"
st=0
LVMKIT_VM_LVM2_TABLE=$VM_RUN/lvm2.table LVMKIT_VM_LVM2_INFO=$VM_RUN/lvm2.info \
  "$LVMKIT_VM_TEST" --test-threads=1 --nocapture || st=$?
echo "left: $(dmsetup ls)"
exit $st
