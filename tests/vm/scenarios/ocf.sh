#!/bin/bash
# The OCF agent ocf:lvmkit:lvmvg on a real VG in one guest (tests/tests/vm_ocf.rs): installed
# by `$LVMKIT ocf install`, then
#   1. resource-agents' ocf-tester passes against it — and fails against a deliberately broken
#      agent (a wrapper whose monitor always says "running"), so the check can fail;
#   2. the ocft LVM case matrix (/usr/share/resource-agents/ocft/configs/LVM) adapted to our
#      parameters;
#   3. bad configuration: each the right OCF code and an `ocf-exit-reason:` with a code;
#   4. ownership: the system ID written at start, autoactivation off after the first start, a
#      foreign owner outside the cluster refused (nothing written);
#   5. monitor levels 10 and 20; a changed system ID fails level 20, a dead PV path (the PV on
#      a dm linear device reloaded with `error`) fails level 10 within monitor_read_timeout.
# Each check prints `CHECK <name> rc=<got> want=<want>` (`ok`/`FAIL`); the scenario exits 1
# when one failed. Needs $LVMKIT (static lvmkit) and one image in $VM_DISKS.
set -u
. /usr/lib/ocf/lib/heartbeat/ocf-returncodes 2>/dev/null || true

. "$(dirname "$0")/lvm2-env.sh"
failed=0
check() { # NAME GOT WANT
  if [ "$2" = "$3" ]; then echo "CHECK $1 rc=$2 want=$3 ok"; else echo "CHECK $1 rc=$2 want=$3 FAIL"; failed=1; fi
}

# Guest-private state: tmpfs over the agent's folders (their mount points exist on the host).
for d in /var/lib/lvmkit /usr/lib/ocf/resource.d/lvmkit; do
  mount -t tmpfs tmpfs "$d" || { echo "cannot mount tmpfs on $d"; exit 2; }
done
hostname ocfnode
sed -i 's/^global {$/global {\n  system_id_source = "uname"/' "$LVM_SYSTEM_DIR/lvm.conf"
export LVMKIT_CONTROLLED_VGS=$VM_RUN/lkvgs
disk=${VM_DISKS%% *}

# The PV sits on a dm linear device over the disk ("the path"), so the path can die later.
sectors=$(($(blockdev --getsize64 "$disk") / 512))
dmsetup create pvpath --table "0 $sectors linear $disk 0" && dmsetup mknodes pvpath || exit 2
sed -i 's#"a|^/dev/ubd\[b-z\]\$|", #"a|^/dev/mapper/pvpath$|", #g' "$LVM_SYSTEM_DIR/lvm.conf"
lvm pvcreate -q /dev/mapper/pvpath && lvm vgcreate -q ocfvg /dev/mapper/pvpath &&
  lvm lvcreate -q -an -Zn -L 8M -n lv0 ocfvg && lvm lvcreate -q -an -Zn -L 4M -n lv1 ocfvg || exit 2
lvm vgs -o name,systemid,autoactivation ocfvg

"$LVMKIT" ocf install || exit 2
agent=/usr/lib/ocf/resource.d/lvmkit/lvmvg
export OCF_ROOT=/usr/lib/ocf
P="OCF_RESKEY_volgrpname=ocfvg OCF_RESKEY_devices=/dev/mapper/pvpath OCF_RESOURCE_INSTANCE=ocfvg"
run() { # ACTION [VAR=VALUE…] — the agent's exit status; its stderr in $VM_RUN/last.err
  local a=$1
  shift
  env OCF_RESKEY_CRM_meta_interval=10000 $P "$@" "$agent" "$a" >"$VM_RUN/last.out" 2>"$VM_RUN/last.err"
}
reason() { grep -m1 '^ocf-exit-reason:' "$VM_RUN/last.err"; }
live() { dmsetup ls | grep -c '^ocfvg-' || true; }

echo "== 1. ocf-tester"
ocf-tester -n ocfvg -o volgrpname=ocfvg -o devices=/dev/mapper/pvpath "$agent" >"$VM_RUN/tester.out" 2>&1
rc=$?
cat "$VM_RUN/tester.out"
check ocf-tester "$rc" 0
grep -q 'passed all tests' "$VM_RUN/tester.out" && echo "ocf-tester: passed all tests" || failed=1
check after-tester-nothing-live "$(live)" 0
broken=$VM_RUN/broken-lvmvg
printf '#!/bin/sh\n[ "$1" = monitor ] && exit 0\nexec %s "$@"\n' "$agent" >"$broken"
chmod +x "$broken"
ocf-tester -n ocfvg -o volgrpname=ocfvg -o devices=/dev/mapper/pvpath "$broken" >"$VM_RUN/broken.out" 2>&1
rc=$?
tail -n 5 "$VM_RUN/broken.out"
[ "$rc" != 0 ] && check ocf-tester-broken-agent-fails 1 1 || check ocf-tester-broken-agent-fails 0 1
run stop >/dev/null

echo "== 2. the ocft LVM cases"
run start; check ocft-start "$?" 0
run monitor; check ocft-monitor-running "$?" 0
run start; check ocft-double-start "$?" 0
run stop; check ocft-stop "$?" 0
check ocft-stop-leaves-nothing "$(live)" 0
run monitor; check ocft-monitor-stopped "$?" 7
run stop; check ocft-double-stop "$?" 0
run start OCF_RESKEY_volgrpname=novg OCF_RESOURCE_INSTANCE=bad; check ocft-bad-volgrpname "$?" 1
reason | grep -q '110000' && echo "exit reason: $(reason)" || { echo "no 110000 exit reason"; failed=1; }
env -u OCF_RESKEY_volgrpname OCF_RESOURCE_INSTANCE=ocfvg "$agent" start 2>"$VM_RUN/last.err"
check ocft-unset-volgrpname "$?" 6
reason | grep -q 'volgrpname' && echo "exit reason: $(reason)" || { echo "no exit reason naming volgrpname"; failed=1; }
run no_such_action; check ocft-unknown-action "$?" 3

echo "== 3. bad configuration"
run validate-all; check validate-good "$?" 0
run validate-all OCF_RESKEY_volgrpname=novg; check validate-vg-nowhere "$?" 6
reason | grep -q '110000' || { echo "no 110000 exit reason: $(cat "$VM_RUN/last.err")"; failed=1; }
run monitor OCF_RESKEY_volgrpname=novg OCF_RESOURCE_INSTANCE=bad OCF_RESKEY_CRM_meta_interval=0
check probe-vg-nowhere "$?" 7
run validate-all OCF_RESKEY_lvname=nolv; check validate-lv-nowhere "$?" 6
run start OCF_RESKEY_activation_mode=exclusive; check bad-activation-mode "$?" 6
reason | grep -q 'activation_mode' && echo "exit reason: $(reason)" || { echo "no exit reason naming activation_mode"; failed=1; }
run monitor OCF_CHECK_LEVEL=deep; check bad-check-level "$?" 6
reason | grep -q 'OCF_CHECK_LEVEL' && echo "exit reason: $(reason)" || { echo "no exit reason naming OCF_CHECK_LEVEL"; failed=1; }
run monitor OCF_CHECK_LEVEL=15; check check-level-15-falls-back "$?" 7
grep -q 'checking at level 10' "$VM_RUN/last.err" && echo "note: $(grep -m1 'level 10' "$VM_RUN/last.err")" || { echo "no fallback note"; failed=1; }
run stop OCF_RESKEY_volgrpname=; check stop-unconfigured "$?" 0
"$agent" meta-data >/dev/null; check meta-data "$?" 0

echo "== 4. ownership"
run start; check start "$?" 0
check systemid-written "$(lvm vgs --noheadings -o systemid ocfvg | tr -d ' ')" ocfnode
check autoactivation-off "$(lvm vgs --noheadings -o autoactivation ocfvg | tr -d ' ')" ""
run monitor OCF_CHECK_LEVEL=10; check monitor-level-10 "$?" 0
run monitor OCF_CHECK_LEVEL=20; check monitor-level-20 "$?" 0
# Another host's system ID written behind the agent's back while the VG runs here (lvmkit as
# that host: lvm2 refuses to change the system ID of a VG with active LVs).
"$LVMKIT" vgchange --devices /dev/mapper/pvpath --host-systemid stranger --takeover ocfnode \
  --archive-dir "$VM_RUN/archive" --backup-dir "$VM_RUN/backup" --systemid stranger ocfvg || failed=1
check systemid-changed "$(lvm vgs --foreign --noheadings -o systemid ocfvg 2>/dev/null | tr -d ' ')" stranger
run monitor OCF_CHECK_LEVEL=0; check monitor-level-0-blind-to-owner "$?" 0
run monitor OCF_CHECK_LEVEL=20; check monitor-level-20-owner-changed "$?" 1
echo "exit reason: $(reason)"
run stop; check stop-after-owner-change "$?" 0
run start; check start-foreign-owner-refused "$?" 1
reason | grep -q '110003' && echo "exit reason: $(reason)" || { echo "no 110003 exit reason: $(cat "$VM_RUN/last.err")"; failed=1; }
check foreign-owner-kept "$(lvm vgs --foreign --noheadings -o systemid ocfvg 2>/dev/null | tr -d ' ')" stranger
check nothing-activated "$(live)" 0
lvm vgchange -q -y --config 'local/extra_system_ids=["stranger"]' --systemid ocfnode ocfvg >/dev/null || failed=1

echo "== 5. a dead PV path"
run start; check start-again "$?" 0
run monitor OCF_CHECK_LEVEL=10; check monitor-level-10-healthy "$?" 0
dmsetup suspend pvpath && dmsetup load pvpath --table "0 $sectors error" && dmsetup resume pvpath || failed=1
t0=$(date +%s%N)
run monitor OCF_CHECK_LEVEL=10 OCF_RESKEY_monitor_read_timeout=3s; rc=$?
t1=$(date +%s%N)
check monitor-level-10-dead-path "$rc" 1
echo "exit reason: $(reason)"
ms=$(((t1 - t0) / 1000000))
echo "dead-path monitor took ${ms} ms"
[ "$ms" -lt 20000 ] || { echo "dead-path monitor exceeded its timeout"; failed=1; }
run monitor OCF_CHECK_LEVEL=0; check monitor-level-0-blind-to-path "$?" 0
dmsetup suspend pvpath && dmsetup load pvpath --table "0 $sectors linear $disk 0" && dmsetup resume pvpath || failed=1
run stop; check final-stop "$?" 0
check final-nothing-live "$(live)" 0
dmsetup remove pvpath
echo "left: $(dmsetup ls 2>&1)"
exit $failed
