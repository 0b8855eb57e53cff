#!/bin/sh
# In-guest refresh test (run by tests/tests/vm.rs `vm_refresh`, one boot): lvm2 (the host's,
# `lvm2-env.sh` config) builds VG `vgr` on the first two disks — linear `lin` (16 MiB, first
# PV), raid1 `r1`, linear `keep` and `gone` — and takes it down; then $LVMKIT_VM_TEST (the
# static kit/tests/vm_refresh.rs) activates it with lvmkit, changes the metadata with lvm2 as
# "another node" (activation=0) and refreshes. Before that, the static `lvmkit` command
# ($LVMKIT) runs plan / activate / status / refresh / deactivate on it — the binary an
# initramfs or failover node would carry. Prints "left: …" (dmsetup ls) last.
set -eu
. "$(dirname "$0")/lvm2-env.sh"
set -- ${VM_DISKS:-/dev/ubdb /dev/ubdc}
lvm pvcreate -q "$1" "$2"
lvm vgcreate -q -s 1M vgr "$1" "$2"
lvm lvcreate -q -L 16M -n lin vgr "$1"
lvm lvcreate -q --type raid1 -m 1 -L 8M -n r1 vgr "$1" "$2"
lvm lvcreate -q -L 4M -n keep vgr "$2"
lvm lvcreate -q -L 4M -n gone vgr "$2"
lvm vgchange -q -an vgr

echo "== static lvmkit"
# A static-pie binary: ldd says "statically linked" (glibc) or "not a dynamic executable".
ldd "$LVMKIT" 2>&1 | grep -qE 'statically linked|not a dynamic executable' || { ldd "$LVMKIT"; exit 1; }
echo "static: ok"
devs="$1,$2"
"$LVMKIT" plan --devices "$devs" vgr | grep '^# vgr-'
"$LVMKIT" activate --devices "$devs" vgr
"$LVMKIT" status --devices "$devs" vgr
"$LVMKIT" refresh --devices "$devs" vgr
"$LVMKIT" deactivate --devices "$devs" vgr
test "$(dmsetup ls)" = "No devices found"

echo "== refresh test"
st=0
LVMKIT_VM_REFRESH=1 "$LVMKIT_VM_TEST" --test-threads=1 --nocapture || st=$?
echo "left: $(dmsetup ls)"
exit $st
