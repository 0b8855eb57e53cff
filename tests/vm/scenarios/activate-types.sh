#!/bin/sh
# In-guest activation of every stacked LV type, and of a VG with a missing PV (run by
# tests/tests/vm.rs, one boot). lvm2 (the host's, through hostfs; `lvm2-env.sh` config) builds
# VG `vgk` on the first five disks with
#   thin pool `pool` + thin LV `thin` + thin snapshots `tsnap` (activation skip off) and
#   `tskip` (skipped, lvm2's default),
#   linear `orig` + COW snapshot `csnap`,
#   raid1 `r1`, raid5 `r5` (3 images), raid6 `r6` (5 images), raid10 `r10` (4 images),
#   legacy mirror `mir` (core log),
#   cache pool `cpool` attached to `cached` (cache LV),
#   cachevol `fastc` attached to `cvc` (`lvconvert --type cache --cachevol`: `fastc_cvol` with
#   `-cdata`/`-cmeta` layers, writeback; policy mq given: lvm2 2.03.16 loads a cachevol cache
#   with its cachevol's policy, always "mq", newer lvm2 and lvmkit the segment's), cachevol `fastw` attached to `wcc` as a writecache,
#   raid1 `ri` with integrity images (`_rimage_N` over `_iorig` + `_imeta`),
# activates it once more from scratch (`vgchange -an`, `-ay`), records `dmsetup table`,
# `dmsetup info -c -o name,uuid,attr` (sorted) and each device's read-ahead in $VM_RUN/lvm2.table,
# lvm2.info, lvm2.ra; adds raid1 `rf`, waits for every raid to be in sync, fails rf's
# second leg (an error table, a write), holds vgk-orig open, suspends vgk-r10 and records lvm2's `lvs -a -o all`, `lvs -a --segments -o all`, `vgs -o all` and
# `pvs -o all` JSON in $VM_RUN/live (and the static `$LVMKIT lvs` command's), where
# `$LVMKIT_VM_TEST live_report_fields` (the kernel state unchanged) compares lvmkit's field by
# field; then resumes, releases, removes rf and
# takes it down again.
#
# Then VG `vgm` on disks 6-8 (keep on disk 6; lin on disk 7; span on 6 then 7; 2-stripe str on
# 6+7; raid1 r1 on 6+7; raid5 r5 on 6+7+8): 1 MiB of random data ($VM_RUN/missing/data) is
# written through lvm2's keep, span, r1 and r5; the 7th disk's PV uuid and the VG's seqno are
# recorded; the 7th disk's label and metadata are zeroed (the PV is now missing) and lvm2's
# answers are recorded in $VM_RUN/missing/: `vgchange -ay --activationmode partial` (partial.*),
# `--activationmode degraded` of the VG (degraded.*, its exit status degraded.rc), of vgm/r1
# alone (degraded-r1.*) and of vgm/lin alone (degraded-lin.rc, degraded-lin.left).
#
# Then VG `vgx` on disks 9-13 with every further segment type and variant lvm2 2.03.16
# activates (tests/vm/README.md has the table): raid0, raid0_meta, raid4, raid5_n/la/ra/rs, all
# raid6 layouts, raid1 with writemostly + writebehind, raid10, a mirror with a disk log, a thin
# pool on raid1 (zero off, discards nopassdown, error when full) with a thin LV, an external
# origin's thin LV and a thin snapshot merge pending, a thin pool on a cache, caches in
# writethrough and passthrough (cache pool on raid1), zero and error LVs, a sparse snapshot, a
# COW snapshot merge pending and a pvmove stopped before its first progress check; lvm2's
# `vgchange -ay --poll n` (nothing finishes the merges or the move) is recorded in
# $VM_RUN/more/lvm2.{table,info,ra}.
#
# Last $LVMKIT_VM_TEST (the static kit/tests/vm_activate_types.rs) runs with the records in
# $LVMKIT_VM_LVM2_TABLE / $LVMKIT_VM_LVM2_INFO / $LVMKIT_VM_LVM2_RA / $LVMKIT_VM_MISSING /
# $LVMKIT_VM_MORE.
# Prints "left: …" (dmsetup ls) last. Disks: $VM_DISKS when the harness sets it, else
# /dev/ubdb … /dev/ubdn; the first three and the last five of at least 96 MiB, the others of at
# least 32 MiB.
set -eu
. "$(dirname "$0")/lvm2-env.sh"
step() { echo "== [$(cut -d" " -f1 /proc/uptime) s] $*"; }
set -- ${VM_DISKS:-/dev/ubdb /dev/ubdc /dev/ubdd /dev/ubde /dev/ubdf /dev/ubdg /dev/ubdh /dev/ubdi /dev/ubdj /dev/ubdk /dev/ubdl /dev/ubdm /dev/ubdn}
[ $# -ge 13 ] || { echo "needs 13 disks, got $#: $*"; exit 1; }
d1=$1 d2=$2 d3=$3 d4=$4 d5=$5 d6=$6 d7=$7 d8=$8 e1=$9
shift 9
e2=$1 e3=$2 e4=$3 e5=$4

# Only the targets this scenario needs; the harness loads the modules (no modprobe here).
step targets
dmsetup targets >targets.txt
for t in linear striped error snapshot snapshot-origin thin-pool thin mirror raid cache writecache integrity; do
  grep -q "^$t " targets.txt || { echo "missing target: $t (module not loaded)"; exit 1; }
done

# One `dmsetup table`/`info` record, sorted, as the tests compare them.
record() {
  dmsetup table | sort >"$1.table"
  dmsetup info -c --noheadings -o name,uuid,attr 2>/dev/null | grep -v '^No devices' | sort >"$1.info" || true
}

step "lvm2 builds vgk"
lvm pvcreate -q "$d1" "$d2" "$d3" "$d4" "$d5"
lvm vgcreate -q -s 1M vgk "$d1" "$d2" "$d3" "$d4" "$d5"
lvm lvcreate -q --type thin-pool -L 16M -n pool vgk "$d1"
lvm lvcreate -q --type thin -V 24M -n thin --thinpool vgk/pool
lvm lvcreate -q -s -kn -n tsnap vgk/thin
lvm lvcreate -q -s -n tskip vgk/thin
lvm lvcreate -q -L 8M -n orig vgk "$d2"
lvm lvcreate -q -s -L 4M -n csnap vgk/orig
lvm lvcreate -q --type raid1 -m 1 -L 8M -n r1 vgk "$d1" "$d2"
lvm lvcreate -q --type raid5 -i 2 -I 64k -L 8M -n r5 vgk "$d1" "$d2" "$d3"
# lvm2 2.03 wants at least 3 data stripes for raid6 ("Minimum of 3 stripes required").
lvm lvcreate -q --type raid6 -i 3 -I 64k -L 12M -n r6 vgk "$d1" "$d2" "$d3" "$d4" "$d5"
lvm lvcreate -q --type raid10 -i 2 -m 1 -I 64k -L 8M -n r10 vgk "$d2" "$d3" "$d4" "$d5"
lvm lvcreate -q --type mirror -m 1 --mirrorlog core -L 8M -n mir vgk "$d2" "$d3"
lvm lvcreate -q --type cache-pool -L 8M -n cpool vgk "$d3"
lvm lvcreate -q -L 12M -n cached vgk "$d1"
lvm lvconvert -q -y --type cache --cachepool vgk/cpool vgk/cached
lvm lvcreate -q -L 8M -n fastc vgk "$d2"
lvm lvcreate -q -L 8M -n cvc vgk "$d1"
lvm lvconvert -q -y --type cache --cachevol fastc --cachemode writeback --cachepolicy mq vgk/cvc
lvm lvcreate -q -an -L 8M -n fastw vgk "$d2"
lvm lvcreate -q -L 8M -n wcc vgk "$d1"
lvm lvconvert -q -y --type writecache --cachevol fastw vgk/wcc
lvm lvcreate -q --type raid1 -m 1 --raidintegrity y -L 8M -n ri vgk "$d3" "$d4"
lvm lvs -a -o lv_name,segtype,lv_attr,devices vgk

# PVs with read-ahead above the kernel's 128 KiB (tuned arrays): lvm2 gives an LV with auto
# read-ahead and nothing striped at least its PVs' (lv_calculate_readahead); ours must match.
ra_kb() { echo "$2" >"/sys/class/block/${1##*/}/queue/read_ahead_kb"; }
ra_kb "$d1" 1024
ra_kb "$d2" 2048
ra_kb "$d3" 512

step "lvm2 activates vgk from scratch"
lvm vgchange -q -an vgk
test "$(dmsetup ls)" = "No devices found"
lvm vgchange -q -ay vgk
record lvm2
# Read-ahead in sectors (`blockdev --getra`), from sysfs (shell builtins: no fork per device).
for d in /sys/block/dm-*; do
  read -r n <"$d/dm/name"; read -r kb <"$d/queue/read_ahead_kb"; echo "$n $((kb * 2))"
done | sort >lvm2.ra
cat lvm2.table lvm2.info lvm2.ra

step "live report fields: lvm2's and lvmkit's on the same active devices"
# A raid1 `rf` (removed again below: the other tests never see it) whose second leg fails.
lvm lvcreate -q --type raid1 -m 1 -L 4M -n rf vgk "$d1" "$d3"
# Stable kernel values first: every raid in sync and idle (sync_percent, raid_sync_action,
# image attributes), then one LV held open (vgk-orig) and one suspended (vgk-r10).
n=0
until [ "$(dmsetup status | grep ' raid ' | grep -vc ' idle ')" = 0 ] &&
  [ "$(dmsetup status | grep ' raid ' | grep -c ' a')" = 0 ]; do
  n=$((n + 1)); [ $n -lt 600 ] || { dmsetup status; echo "raids not in sync"; exit 1; }; sleep 0.1
done
# rf's second image turns into an error target; a write through rf makes dm-raid mark
# that leg dead (`AD`).
len=$(dmsetup table vgk-rf_rimage_1 | cut -d" " -f2)
dmsetup suspend vgk-rf_rimage_1
dmsetup load vgk-rf_rimage_1 --table "0 $len error"
dmsetup resume vgk-rf_rimage_1
dd if=/dev/zero of=/dev/mapper/vgk-rf bs=4096 count=1 oflag=direct 2>/dev/null || true
n=0
until dmsetup status vgk-rf | grep -q ' AD '; do
  n=$((n + 1)); [ $n -lt 100 ] || { dmsetup status vgk-rf; echo "rf's leg did not fail"; exit 1; }; sleep 0.1
done
sleep 600 </dev/mapper/vgk-orig &
holder=$!
dmsetup suspend vgk-r10
mkdir live
lvm lvs -a -o all --reportformat json vgk >live/lvs.json
lvm lvs -a --segments -o all --reportformat json vgk >live/lvs-segments.json
lvm vgs -o all --reportformat json vgk >live/vgs.json
# Kernel-info fields alone: lvm2 reads them with plain lv_info (a thin pool's own device).
info=lv_name,lv_kernel_major,lv_kernel_minor,lv_kernel_read_ahead,lv_permissions,lv_suspended
info=$info,lv_live_table,lv_inactive_table,lv_device_open
lvm lvs -a -o $info --reportformat json vgk >live/lvs-info.json
lvm pvs -o all --reportformat json "$d1" "$d2" "$d3" "$d4" "$d5" >live/pvs.json
# The static lvmkit command on the same state (its own device-mapper read, sysfs read-ahead).
devs="$d1,$d2,$d3,$d4,$d5"
"$LVMKIT" lvs --devices "$devs" -a -o all --reportformat json vgk >live/lvmkit-lvs.json
"$LVMKIT" lvs --devices "$devs" -a --segments -o all --reportformat json vgk >live/lvmkit-lvs-segments.json
dmsetup status | sort >live/status
cat live/status
st=0
LVMKIT_VM_LIVE=$VM_RUN/live "$LVMKIT_VM_TEST" --test-threads=1 --nocapture --exact live_report_fields || st=$?
dmsetup resume vgk-r10
kill $holder; wait $holder 2>/dev/null || true
[ $st = 0 ] || exit $st
lvm lvremove -qfy vgk/rf
lvm vgchange -q -an vgk
test "$(dmsetup ls)" = "No devices found"

step "lvm2 builds vgm; data through lvm2's LVs"
mkdir missing
lvm pvcreate -q "$d6" "$d7" "$d8"
lvm vgcreate -q -s 1M vgm "$d6" "$d7" "$d8"
lvm lvcreate -q -L 4M -n keep vgm "$d6"
lvm lvcreate -q -L 4M -n lin vgm "$d7"
lvm lvcreate -q -L 8M -n span vgm "$d6:20-23" "$d7:20-23"
lvm lvcreate -q -i 2 -I 64k -L 8M -n str vgm "$d6" "$d7"
lvm lvcreate -q --type raid1 -m 1 -L 8M -n r1 vgm "$d6" "$d7"
lvm lvcreate -q --type raid5 -i 2 -I 64k -L 8M -n r5 vgm "$d6" "$d7" "$d8"
# Both raids in sync (all images "A", no resync running) before the data goes in.
n=0
until [ "$(dmsetup status | grep -c ' raid .* A*A [0-9]*/[0-9]* idle ')" = 2 ]; do
  n=$((n + 1)); [ $n -lt 100 ] || { dmsetup status; echo "raids not in sync"; exit 1; }; sleep 0.1
done
head -c 1048576 /dev/urandom >missing/data
for lv in keep span r1 r5; do dd if=missing/data of=/dev/vgm/$lv bs=1M conv=fsync 2>/dev/null; done
lvm pvs --noheadings -o pv_uuid,vg_seqno "$d7" >missing/pv
read -r uuid seqno <missing/pv
echo "$uuid" >missing/pv.uuid
echo "$seqno" >missing/seqno
lvm vgchange -q -an vgm
test "$(dmsetup ls)" = "No devices found"

step "PV $d7 (uuid $uuid) goes missing: lvm2's answers"
dd if=/dev/zero of="$d7" bs=1M count=1 conv=fsync 2>/dev/null
lvm vgchange -q -ay --activationmode partial vgm
record missing/partial
lvm vgchange -q -an vgm
rc=0; lvm vgchange -q -ay --activationmode degraded vgm || rc=$?
echo $rc >missing/degraded.rc
record missing/degraded
lvm vgchange -q -an vgm
lvm lvchange -q -ay --activationmode degraded vgm/r1
record missing/degraded-r1
lvm vgchange -q -an vgm
rc=0; lvm lvchange -q -ay --activationmode degraded vgm/lin || rc=$?
echo $rc >missing/degraded-lin.rc
dmsetup ls >missing/degraded-lin.left
test "$(dmsetup ls)" = "No devices found"
head -n 100 missing/*.table missing/*.rc

step "lvm2 builds vgx (the further segment types and variants)"
mkdir more
lvm pvcreate -q "$e1" "$e2" "$e3" "$e4" "$e5"
lvm vgcreate -q -s 1M vgx "$e1" "$e2" "$e3" "$e4" "$e5"
# Every raid level and layout lvm2 2.03.16 creates (one extent per image).
lvm lvcreate -q --type raid0 -i 2 -I 64k -L 2M -n x0 vgx "$e1" "$e2"
lvm lvcreate -q --type raid0_meta -i 2 -I 64k -L 2M -n x0m vgx "$e1" "$e2"
for t in raid4 raid5_n raid5_la raid5_ra raid5_rs; do
  lvm lvcreate -q --type $t -i 2 -I 64k -L 2M -n "x$t" vgx "$e1" "$e2" "$e3"
done
for t in raid6_zr raid6_nr raid6_nc raid6_n_6 raid6_la_6 raid6_ra_6 raid6_ls_6 raid6_rs_6; do
  lvm lvcreate -q --type $t -i 3 -I 64k -L 3M -n "x$t" vgx "$e1" "$e2" "$e3" "$e4" "$e5"
done
lvm lvcreate -q --type raid1 -m 2 -L 2M -n xwm vgx "$e1" "$e2" "$e3"
lvm lvchange -q --writemostly "$e2" --writebehind 512 vgx/xwm
lvm lvcreate -q --type raid10 -i 2 -m 1 -I 64k -L 2M -n xr10 vgx "$e1" "$e2" "$e3" "$e4"
# A mirror with a disk log. (A mirrored log: Debian's lvm2 2.03.16 fails to make one, lvcreate
# and lvconvert exit 5 in add_mirror_log without a message; the planner treats the log LV as
# any mirror.)
lvm lvcreate -q --type mirror -m 1 --mirrorlog disk -L 2M -n xmd vgx "$e1" "$e2" "$e3"
# A thin pool on raid1 (zeroing off, discards nopassdown, error when full) with a thin LV, a
# thin snapshot (merged below) and a thin LV over a read-only external origin.
lvm lvcreate -q --type raid1 -m 1 -L 4M -n xtp vgx "$e3" "$e4"
lvm lvcreate -q --type raid1 -m 1 -L 2M -n xtpmeta vgx "$e3" "$e4"
lvm lvconvert -q -y --type thin-pool --poolmetadata vgx/xtpmeta --zero n --discards nopassdown vgx/xtp
lvm lvchange -q --errorwhenfull y vgx/xtp
lvm lvcreate -q --type thin -V 8M -n xt --thinpool vgx/xtp
lvm lvcreate -q -s -kn -n xts vgx/xt
lvm lvcreate -q -L 4M -n xext vgx "$e5"
lvm lvchange -q -pr vgx/xext
lvm lvchange -q -an vgx/xext
lvm lvcreate -q -s --thinpool vgx/xtp -n xeo vgx/xext
# A thin pool whose data is cached (cache pool), with a thin LV.
lvm lvcreate -q --type thin-pool -L 4M -n xtc vgx "$e1"
lvm lvcreate -q --type cache-pool -L 4M -n xtcpool vgx "$e2"
lvm lvconvert -q -y --type cache --cachepool vgx/xtcpool vgx/xtc
lvm lvcreate -q --type thin -V 4M -n xtct --thinpool vgx/xtc
# Cache modes writethrough and passthrough, the second with its cache pool on raid1.
lvm lvcreate -q --type cache-pool --cachemode writethrough -L 4M -n xcwpool vgx "$e3"
lvm lvcreate -q -L 4M -n xcw vgx "$e4"
lvm lvconvert -q -y --type cache --cachepool vgx/xcwpool vgx/xcw
lvm lvcreate -q --type raid1 -m 1 -L 4M -n xcppool vgx "$e4" "$e5"
lvm lvcreate -q --type raid1 -m 1 -L 6M -n xcpmeta vgx "$e4" "$e5"
lvm lvconvert -q -y --type cache-pool --poolmetadata vgx/xcpmeta --cachemode passthrough vgx/xcppool
lvm lvcreate -q -L 4M -n xcp vgx "$e5"
lvm lvconvert -q -y --type cache --cachepool vgx/xcppool vgx/xcp
# zero and error LVs, a sparse snapshot, a COW snapshot (merged below), an LV to move.
lvm lvcreate -q --type zero -L 4M -n xz vgx
lvm lvcreate -q --type error -L 4M -n xe vgx
lvm lvcreate -q --type snapshot --virtualsize 16M -L 4M -n xsp vgx "$e5"
lvm lvcreate -q -L 4M -n xmo vgx "$e5"
lvm lvcreate -q -s -L 2M -n xms vgx/xmo "$e5"
lvm lvcreate -q -L 1M -n xpm vgx "$e1:80-80"
lvm lvextend -q -L +2M vgx/xpm "$e1:83-84"
lvm lvextend -q -L +1M vgx/xpm "$e1:88-88"
lvm vgchange -q -an vgx
test "$(dmsetup ls)" = "No devices found"
# Merges of inactive origins start at their next activation.
lvm lvconvert -q --merge vgx/xms
lvm lvconvert -q --merge vgx/xts
# A pvmove stopped before its first progress check (`-i +N` waits first): pvmove0 with three
# segments, none moved (the first runs as a mirror, the others map the source).
lvm pvmove -i +600 -n xpm "$e1" "$e5" >more/pvmove.out 2>&1 &
pvmove_pid=$!
n=0
until dmsetup info vgx-pvmove0 >/dev/null 2>&1; do
  n=$((n + 1)); [ $n -lt 300 ] || { cat more/pvmove.out; echo "pvmove did not start"; exit 1; }; sleep 0.1
done
sleep 2
kill -9 $pvmove_pid
wait $pvmove_pid || true
lvm vgchange -q -an vgx
test "$(dmsetup ls)" = "No devices found"
lvm lvs -a -o lv_name,segtype,lv_attr,devices vgx

step "lvm2 activates vgx (no polling: the merges and the pvmove stay as they are)"
lvm vgchange -q -ay --poll n vgx
record more/lvm2
for d in /sys/block/dm-*; do
  read -r n <"$d/dm/name"; read -r kb <"$d/queue/read_ahead_kb"; echo "$n $((kb * 2))"
done | sort >more/lvm2.ra
cat more/lvm2.table
lvm vgchange -q -an vgx
test "$(dmsetup ls)" = "No devices found"

step "lvmkit"
st=0
LVMKIT_VM_LVM2_TABLE=$VM_RUN/lvm2.table LVMKIT_VM_LVM2_INFO=$VM_RUN/lvm2.info \
  LVMKIT_VM_LVM2_RA=$VM_RUN/lvm2.ra LVMKIT_VM_MISSING=$VM_RUN/missing LVMKIT_VM_MORE=$VM_RUN/more \
  "$LVMKIT_VM_TEST" --test-threads=1 --nocapture --skip live_report_fields || st=$?
echo "left: $(dmsetup ls)"
exit $st
