#!/bin/sh
# One qemu boot for tests/tests/vm_qemu.rs `vm_qemu_components`: PVs on the real storage under
# them, lvm2 (default component detection, its default scan_lvs=0) as the judge of every case.
# Needs ten 64 MiB images in $VM_DISKS, one image attached as two SCSI paths
# (LVMKIT_VM_MULTIPATH: /dev/sda + /dev/sdb), the static command $LVMKIT and the static
# $LVMKIT_VM_HEALTH_TEST (activation/tests/vm_health.rs). Parts, framed by "=== NAME" and
# "=== NAME: status N" (a failing part does not stop the next):
#   multipath  a multipath map over sda + sdb, VG vgmp on it; a path failed under a live LV
#   md         RAID1 md0 (metadata 1.0: members start with the PV label) on vdb + vdc and md1
#              (1.2) on vdd + vde, VGs vgmd10 and vgmd12; a member failed; then both stopped
#   replica    RAID1 md2 (1.0) of vdj ("local") + vdk (the replica), VG vgrep, two kit servers:
#              restore on A, the replica's leg failed and resynced, A crashes, B assembles
#              md3 from vdk alone and takes the VG over
#   whole      VG vgwp on the whole disk vdf (no partition table) and the partition vdg1
#   dup        VG vgdup on vdh, copied byte for byte onto vdi
# Lines the host test reads: "lvm2-pvs: MAJ:MIN VG" / "kit-pvs: MAJ:MIN VG" (sorted, per
# state), "lvm2-table: …" / "kit-table: …", "plan: …", "check: …", "health: …", "hints: …",
# "KEY: ok" or "KEY: FAILED …".
s=$(dirname "$0")
. "$s/lvm2-env.sh"
# Every device but the scratch disk; lvm2's own component detection decides the rest.
accept_all() { # LVM_SYSTEM_DIR
  sed -i 's#^  filter = .*#  filter = [ "r|^/dev/vda|", "a|.*|" ]#; s#^  global_filter = .*#  global_filter = [ "r|^/dev/vda|", "a|.*|" ]#' \
    "$1/lvm.conf"
}
accept_all "$LVM_SYSTEM_DIR"
export LVMKIT_HINTS=/run/lvmkit/hints
L=$LVMKIT
H=$LVMKIT_VM_HEALTH_TEST
set -- $VM_DISKS
[ $# -ge 10 ] || { echo "need 10 disks, have: $VM_DISKS"; exit 2; }
D1=$1 D2=$2 D3=$3 D4=$4 D5=$5 D6=$6 D7=$7 D8=$8 D9=$9 D10=${10}

. "$s/parts.sh"
lvm() { /usr/sbin/lvm "$@"; }
ok() { echo "$1: ok"; }
fail() {
  echo "$1: FAILED $2"
  return 1
}
# "NAME VG" lines → "MAJ:MIN VG", sorted: the two tools name a device differently
# (/dev/dm-0, /dev/mapper/mpatha), its number is the same.
norm() {
  while read -r n vg; do
    [ -n "$n" ] || continue
    # shellcheck disable=SC2046
    set -- $(stat -L -c '%t %T' "$n")
    echo "$((0x$1)):$((0x$2)) ${vg:--}"
  done | sort
}
pvs_both() {
  lvm pvs --noheadings -o pv_name,vg_name 2>/dev/null | norm | sed 's/^/lvm2-pvs: /'
  $L pvs --noheadings -o pv_name,vg_name 2>/dev/null | norm | sed 's/^/kit-pvs: /'
}
tables() { # PREFIX VG… : every table of the VGs' devices, by name
  p=$1
  shift
  for vg in "$@"; do
    dmsetup table | grep "^$vg-" | sort | sed "s/^/$p-table: /"
  done
}
pattern() { dd if=/dev/urandom of="$VM_RUN/pat" bs=1M count=4 2>/dev/null; }
write_lv() { dd if="$VM_RUN/pat" of="$1" bs=1M oflag=direct conv=fsync 2>/dev/null; }
same_lv() { dd if="$1" bs=1M count=4 iflag=direct 2>/dev/null | cmp -s - "$VM_RUN/pat"; }
health() { # LABEL DEVICE EXPECT
  echo "health-of $1 $2"
  # --nocapture prints the test's lines after "test NAME ... " on the same line: cut them out.
  LVMKIT_VM_HEALTH_DEV=$2 LVMKIT_VM_HEALTH_EXPECT=$3 "$H" --test-threads 1 --nocapture 2>&1 |
    grep -oE '(health: .*|test result.*|skipped.*)' | sed "s/^health:/health: $1:/"
}

multipath() {
  grep -H . /sys/block/sd*/device/wwid
  w=$(cat /sys/block/sda/device/wwid)
  [ "$w" = "$(cat /sys/block/sdb/device/wwid)" ] || fail paths "sda and sdb have different WWIDs"
  size=$(blockdev --getsz /dev/sda)
  dmsetup create mpatha --uuid "mpath-3${w#naa.}" \
    --table "0 $size multipath 0 0 1 1 round-robin 0 2 1 8:0 1 8:16 1" || return 1
  dmsetup mknodes
  echo "mpath-devno: $(echo /dev/mapper/mpatha | norm | cut -d' ' -f1)"
  lvm pvcreate -q /dev/mapper/mpatha && lvm vgcreate -q vgmp /dev/mapper/mpatha &&
    lvm lvcreate -q -y -Zn -Wn -L 8m -n lv1 vgmp && lvm lvcreate -q -y -Zn -Wn -L 4m -n lv2 vgmp &&
    lvm vgchange -q -an vgmp || return 1
  pvs_both
  # Named explicitly, a path is still a component (negative control for the default scan).
  $L pvs --noheadings -o pv_name --devices /dev/sda,/dev/sdb | sed 's/^/kit-paths-only: /'
  echo "kit-paths-only-end"
  $L check | sed 's/^/check: /'
  lvm vgchange -q -ay vgmp && tables lvm2 vgmp && lvm vgchange -q -an vgmp || return 1
  $L plan vgmp | sed 's/^/plan: /'
  $L activate vgmp >/dev/null || fail activate "lvmkit activate vgmp"
  tables kit vgmp
  sed 's/^/hints: /' /run/lvmkit/hints
  pattern && write_lv /dev/mapper/vgmp-lv1 && same_lv /dev/mapper/vgmp-lv1 || fail io-before "LV I/O"
  health healthy /dev/mapper/mpatha none
  dmsetup message mpatha 0 fail_path 8:0 || return 1
  dmsetup status mpatha | sed 's/^/mpath-status: /'
  same_lv /dev/mapper/vgmp-lv1 && pattern && write_lv /dev/mapper/vgmp-lv1 && same_lv /dev/mapper/vgmp-lv1 &&
    ok io-after-fail-path || fail io-after-fail-path "LV I/O with one path failed"
  health failed-path /dev/mapper/mpatha multipath-degraded
  $L status vgmp >/dev/null && ok status-after-fail-path || fail status-after-fail-path "lvmkit status vgmp"
  dmsetup message mpatha 0 reinstate_path 8:0
  $L deactivate vgmp >/dev/null || fail deactivate "lvmkit deactivate vgmp"
  dmsetup remove mpatha
}

md() {
  mdadm --create /dev/md0 --run --quiet --level=1 --raid-devices=2 --metadata=1.0 --assume-clean "$D1" "$D2" &&
    mdadm --create /dev/md1 --run --quiet --level=1 --raid-devices=2 --metadata=1.2 --assume-clean "$D3" "$D4" ||
    return 1
  for n in 0 1; do
    v=vgmd1$((n * 2))
    lvm pvcreate -q /dev/md$n && lvm vgcreate -q $v /dev/md$n && lvm lvcreate -q -y -Zn -Wn -L 8m -n lv1 $v &&
      lvm vgchange -q -an $v || return 1
  done
  echo "md-state: assembled"
  pvs_both
  lvm vgchange -q -ay vgmd10 vgmd12 && tables lvm2 vgmd10 vgmd12 && lvm vgchange -q -an vgmd10 vgmd12 || return 1
  $L plan vgmd10 vgmd12 | sed 's/^/plan: /'
  $L activate vgmd10 vgmd12 >/dev/null || fail activate "lvmkit activate vgmd10 vgmd12"
  tables kit vgmd10 vgmd12
  sed 's/^/hints: /' /run/lvmkit/hints
  # The replicated case: the second leg fails under a live LV; I/O goes on, health warns.
  pattern && write_lv /dev/mapper/vgmd10-lv1 || fail io-before "LV I/O"
  health healthy /dev/md0 none
  mdadm --quiet /dev/md0 --fail "$D2" || return 1
  echo "md-degraded: $(cat /sys/block/md0/md/degraded)"
  same_lv /dev/mapper/vgmd10-lv1 && pattern && write_lv /dev/mapper/vgmd10-lv1 && same_lv /dev/mapper/vgmd10-lv1 &&
    ok io-after-fail-leg || fail io-after-fail-leg "LV I/O on a degraded array"
  health failed-leg /dev/md0 md-degraded
  $L deactivate vgmd10 vgmd12 >/dev/null || fail deactivate "lvmkit deactivate"
  mdadm --stop /dev/md0 /dev/md1 >/dev/null 2>&1 || { mdadm --stop /dev/md0; mdadm --stop /dev/md1; }
  echo "md-state: stopped"
  pvs_both
  $L check | sed 's/^/check: /'
  if $L activate vgmd10 >/dev/null 2>&1; then fail stopped-refused "activated vgmd10 from a member"; else
    ok stopped-refused; fi
  dmsetup ls | sed 's/^/left-md: /'
}

# The replicated case (DataKeeper-style: LVM above the replicated device): RAID1 md2
# (metadata 1.0) of a "local" disk D9 and D10 standing in for the network device, VG vgrep
# on it. Two servers (host identities nodeA and nodeB through their own LVM_SYSTEM_DIR with
# system_id_source = "lvmlocal", their own kit directories): the hierarchy is created on A
# and extended to B; A restores; the replica's leg fails (quickCheck 10: degraded, I/O goes
# on) and is resynced; A "crashes" (its devices and its array go away, nothing written);
# with the array stopped nothing comes up from a member; B assembles its own array md3
# from its leg alone and restores: takes the VG over from its peer A, tables on md3.
node_conf() { # NAME: server NAME's lvm.conf (system ID NAME through lvmlocal) and directories
  d=$REP/$1
  mkdir -p "$d/kit" "$d/archive" "$d/backup" "$d/lock"
  lvm2_conf "$d/lvm" 'hints = "none"' 'system_id_source = "lvmlocal"' "locking_dir = \"$d/lock\"" &&
    accept_all "$d/lvm" || return 1
  printf 'local {\n  system_id = "%s"\n}\n' "$1" >"$d/lvm/lvmlocal.conf"
}
as_node() { # NAME COMMAND…: run as server NAME
  an=$1
  shift
  env LVM_SYSTEM_DIR="$REP/$an/lvm" LVMKIT_KIT_DIR="$REP/$an/kit" LVMKIT_CONTROLLED_VGS="$REP/$an/lkvgs" \
    LVMKIT_SERVER="$an" LVMKIT_ARCHIVE_DIR="$REP/$an/archive" LVMKIT_BACKUP_DIR="$REP/$an/backup" \
    LVMKIT_LOCK_DIR="$REP/$an/lock" LVMKIT_HINTS=none "$@"
}
kit_as() { # NAME KEY ARGS…: `lvmkit kit ARGS` as NAME; "KEY-out:"/"KEY-err:" lines, "KEY: status N"
  kn=$1 key=$2
  shift 2
  as_node "$kn" "$L" kit "$@" >"$VM_RUN/kit.out" 2>"$VM_RUN/kit.err"
  st=$?
  sed "s/^/$key-out: /" "$VM_RUN/kit.out"
  sed "s/^/$key-err: /" "$VM_RUN/kit.err"
  echo "$key: status $st"
  return 0
}
rep_pvs() { # both tools' PVs, foreign VGs included (vgrep has a system ID)
  lvm pvs --foreign --noheadings -o pv_name,vg_name 2>/dev/null | norm | sed 's/^/lvm2-pvs: /'
  $L pvs --foreign --noheadings -o pv_name,vg_name 2>/dev/null | norm | sed 's/^/kit-pvs: /'
}
replica() {
  REP=/run/replica
  node_conf nodeA && node_conf nodeB || return 1
  mdadm --create /dev/md2 --run --quiet --level=1 --raid-devices=2 --metadata=1.0 --assume-clean "$D9" "$D10" ||
    return 1
  echo "replica-devno-a: $(echo /dev/md2 | norm | cut -d' ' -f1)"
  as_node nodeA lvm pvcreate -q /dev/md2 && as_node nodeA lvm vgcreate -q vgrep /dev/md2 &&
    as_node nodeA lvm lvcreate -q -y -Zn -Wn -L 8m -n lv1 vgrep &&
    as_node nodeA lvm lvcreate -q -y -Zn -Wn -L 4m -n lv2 vgrep || return 1
  tables a-lvm2 vgrep
  as_node nodeA lvm vgchange -q -an vgrep || return 1
  echo "a-systemid: $(as_node nodeA lvm vgs --noheadings -o systemid vgrep | tr -d ' ')"
  # The hierarchy: created on A, extended to B, B recorded on A.
  kit_as nodeA create create vgrep
  as_node nodeA "$L" kit export vgrep >"$REP/a.template" || fail export "export on A"
  kit_as nodeB canextend canextend "$REP/a.template"
  kit_as nodeB extend-b extend "$REP/a.template"
  as_node nodeB "$L" kit export vgrep >"$REP/b.template" || fail export "export on B"
  kit_as nodeA extend-a extend "$REP/b.template"
  as_node nodeA "$L" kit show vgrep | sed 's/^/a-show: /'
  as_node nodeA "$L" kit list | sed 's/^/a-tree: /'
  kit_as nodeA restore-a restore vgrep
  tables a-kit vgrep
  pattern && write_lv /dev/mapper/vgrep-lv1 && same_lv /dev/mapper/vgrep-lv1 || fail io-a "LV I/O on A"
  kit_as nodeA qc10-healthy quickCheck vgrep --level 10
  # The replica's leg fails under the live LVs: I/O goes on, quickCheck 10 says degraded.
  mdadm --quiet /dev/md2 --fail "$D10" || return 1
  echo "rep-degraded: $(cat /sys/block/md2/md/degraded)"
  same_lv /dev/mapper/vgrep-lv1 && pattern && write_lv /dev/mapper/vgrep-lv1 && same_lv /dev/mapper/vgrep-lv1 &&
    dd if=/dev/urandom of=/dev/mapper/vgrep-lv2 bs=1M count=1 oflag=direct 2>/dev/null &&
    ok rep-io-after-fail-leg || fail rep-io-after-fail-leg "LV I/O with the replica's leg failed"
  kit_as nodeA qc10-degraded quickCheck vgrep --level 10
  kit_as nodeA qc0-degraded quickCheck vgrep
  # The link is back: the leg rejoins and resyncs; healthy again.
  mdadm --quiet /dev/md2 --remove "$D10" && mdadm --quiet /dev/md2 --add "$D10" || return 1
  mdadm --wait /dev/md2 >/dev/null 2>&1
  echo "rep-resynced: $(cat /sys/block/md2/md/degraded) $(cat /sys/block/md2/md/sync_action)"
  kit_as nodeA qc10-resynced quickCheck vgrep --level 10
  # The marker B must read, written through the mirrored array.
  pattern && write_lv /dev/mapper/vgrep-lv1 && same_lv /dev/mapper/vgrep-lv1 || fail io-marker "marker on A"
  # A crashes: its devices and its array go with its kernel; no remove, nothing written.
  dmsetup remove vgrep-lv1 && dmsetup remove vgrep-lv2 && mdadm --stop /dev/md2 >/dev/null 2>&1 || return 1
  echo "replica-state: stopped"
  rep_pvs
  $L check | sed 's/^/check: /'
  kit_as nodeB stopped-restore restore vgrep
  kit_as nodeB stopped-qc quickCheck vgrep
  dmsetup ls | sed 's/^/left-stopped: /'
  # B assembles its own array from its leg alone (degraded: A's leg is gone with A).
  mdadm --assemble --run --quiet /dev/md3 "$D10" || return 1
  echo "replica-state: B"
  echo "replica-devno-b: $(echo /dev/md3 | norm | cut -d' ' -f1)"
  echo "b-degraded: $(cat /sys/block/md3/md/degraded)"
  kit_as nodeB takeover restore vgrep
  echo "b-systemid: $(as_node nodeB lvm vgs --noheadings -o systemid vgrep | tr -d ' ')"
  tables b-kit vgrep
  same_lv /dev/mapper/vgrep-lv1 && ok marker-on-b || fail marker-on-b "A's marker not read on B"
  kit_as nodeB qc10-b quickCheck vgrep --level 10
  kit_as nodeA qc-a-after quickCheck vgrep --level 20
  as_node nodeB "$L" kit show vgrep | sed 's/^/b-show: /'
  kit_as nodeB remove-b remove vgrep
  rep_pvs
  as_node nodeB lvm vgchange -q -ay vgrep && tables b-lvm2 vgrep && as_node nodeB lvm vgchange -q -an vgrep ||
    return 1
  mdadm --stop /dev/md3 >/dev/null 2>&1
  dmsetup ls | sed 's/^/left-replica: /'
}

whole() {
  # An MBR with one partition (type 8e) at sector 2048, 32768 sectors long.
  printf '\000\000\000\000\216\000\000\000\000\010\000\000\000\200\000\000' |
    dd of="$D6" bs=1 seek=446 conv=notrunc 2>/dev/null &&
    printf '\125\252' | dd of="$D6" bs=1 seek=510 conv=notrunc 2>/dev/null || return 1
  blockdev --rereadpt "$D6" || return 1
  [ -b "${D6}1" ] || fail partition "no ${D6}1"
  echo "whole-devno: $(echo "$D5" | norm | cut -d' ' -f1)"
  echo "part-devno: $(echo "${D6}1" | norm | cut -d' ' -f1)"
  lvm pvcreate -q "$D5" "${D6}1" && lvm vgcreate -q vgwp "$D5" "${D6}1" &&
    lvm lvcreate -q -y -Zn -Wn -l 100%FREE -n lv1 vgwp && lvm vgchange -q -an vgwp || return 1
  pvs_both
  lvm vgchange -q -ay vgwp && tables lvm2 vgwp && lvm vgchange -q -an vgwp || return 1
  $L plan vgwp | sed 's/^/plan: /'
  $L activate vgwp >/dev/null || fail activate "lvmkit activate vgwp"
  tables kit vgwp
  pattern && write_lv /dev/mapper/vgwp-lv1 && same_lv /dev/mapper/vgwp-lv1 && ok io-whole || fail io-whole "LV I/O"
  $L deactivate vgwp >/dev/null || fail deactivate "lvmkit deactivate vgwp"
}

dup() {
  lvm pvcreate -q "$D7" && lvm vgcreate -q vgdup "$D7" && lvm lvcreate -q -y -Zn -Wn -L 8m -n lv1 vgdup &&
    lvm vgchange -q -an vgdup || return 1
  dd if="$D7" of="$D8" bs=1M 2>/dev/null && sync
  pvs_both
  lvm vgchange -ay vgdup 2>&1 | sed 's/^/lvm2-activate: /'
  $L activate vgdup 2>&1 | sed 's/^/kit-activate: /'
  $L vgchange --addtag t1 vgdup 2>&1 | sed 's/^/kit-write: /'
  dmsetup ls | sed 's/^/left-dup: /'
}

echo "booted: $(up) s"
# COMPONENTS_PARTS picks parts (default: all, in this order).
for p in ${COMPONENTS_PARTS:-multipath md replica whole dup}; do
  part "$p" "$p"
done
echo "done: $(up) s"
exit 7
