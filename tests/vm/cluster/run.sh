#!/usr/bin/env bash
# Fails a VG over in a real two-node Pacemaker cluster (tests/vm/cluster/cluster.sh): two UML
# guests, corosync + pacemaker, stonith-enabled with the host-watched fence devices, one shared
# PV image. Node 1 builds VG vgc (lvm2, system ID node1) with LVs (the first one, `lv0`, gets
# a marker written by node 1); the resource under test manages it.
#
#   tests/vm/cluster/run.sh AGENT SCENARIO…
#
# AGENT: `lvm-activate` (ocf:heartbeat:LVM-activate, vg_access_mode=system_id) or `lvmvg`
# (ocf:lvmkit:lvmvg, the static lvmkit in $LVMKIT, installed by `lvmkit ocf install`).
# SCENARIOs, run in the order given on one cluster (each starts from the resource Started
# somewhere; a scenario that loses a node must be last):
#   move   crm_resource --move to the other node: clean stop (no dm device left under the VG)
#          and start there
#   kill   the node running the VG is SIGKILLed: the survivor fences it, takes the VG over, the
#          LV is active with the marker readable
#   freeze the node running it is SIGSTOPped: fenced (killed by the watcher) and failed over
#   split  the link is cut inside node 1: exactly one node is fenced and the other runs the VG
#          (usually node 2: the device that fences it is delayed 15 s)
#   pvdies (lvmvg) the PV's path (a dm linear device over the shared disk on each node) turns
#          to `error` under the running VG: the level-10 monitor fails, the VG is started on
#          the other node
#   sysid  (lvmvg) the VG's system ID is changed behind the cluster's back: the level-20
#          monitor fails, the VG is stopped and refused everywhere (must be last)
# Each prints `RESULT scenario=… key=value…` lines (host times; see cluster.sh) and the script
# exits non-zero at the first failed check. Env: CL_LVS (LVs in the VG, default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/cluster/cluster.sh
. "$here/cluster.sh"

[ $# -ge 2 ] || { echo "usage: run.sh lvm-activate|lvmvg SCENARIO…" >&2; exit 2; }
agent=$1
shift
lvs=${CL_LVS:-1}
deep_ops=""
case $agent in
  lvm-activate)
    rsc_class='class="ocf" provider="heartbeat" type="LVM-activate"'
    params='<nvpair id="vg-vgname" name="vgname" value="vgc"/>
            <nvpair id="vg-mode" name="vg_access_mode" value="system_id"/>'
    ;;
  lvmvg)
    [ -x "${LVMKIT:-}" ] || { echo "run.sh: set LVMKIT to the static lvmkit" >&2; exit 2; }
    rsc_class='class="ocf" provider="lvmkit" type="lvmvg"'
    params='<nvpair id="vg-vgname" name="volgrpname" value="vgc"/>
            <nvpair id="vg-devices" name="devices" value="/dev/mapper/pvpath"/>'
    # Deeper monitors besides level 0: 10 reads every PV, 20 re-reads the owner.
    deep_ops='<op id="vg-monitor-10" name="monitor" interval="7s" timeout="30s">
      <instance_attributes id="vg-monitor-10-ia"><nvpair id="vg-monitor-10-depth" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
    </op>
    <op id="vg-monitor-20" name="monitor" interval="13s" timeout="30s">
      <instance_attributes id="vg-monitor-20-ia"><nvpair id="vg-monitor-20-depth" name="OCF_CHECK_LEVEL" value="20"/></instance_attributes>
    </op>'
    ;;
  *) echo "run.sh: unknown agent $agent" >&2; exit 2 ;;
esac

fail() {
  echo "FAIL: $*"
  for n in 1 2; do cl_alive "$n" && cl_cmd "$n" 'crm_mon -1 -r -f; dmsetup ls' 15 || true; done
  cl_dump 1
  cl_dump 2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-cluster-img.XXXXXX")
trap 'cl_cleanup; rm -rf "$work"' EXIT
truncate -s 128M "$work/shared.img"
cl_setup "$work/shared.img"
trap 'cl_cleanup; rm -rf "$work"' EXIT
cl_start || fail "cluster start"

if [ "$agent" = lvmvg ]; then
  for n in 1 2; do
    cl_cmd "$n" "'$LVMKIT' ocf install >/dev/null && test -x /usr/lib/ocf/resource.d/lvmkit/lvmvg" \
      || fail "ocf install on node$n"
  done
fi

# The PV's path on each node: a dm linear device over the shared disk (pvdies kills it).
for n in 1 2; do
  cl_cmd "$n" "dmsetup create pvpath --table \"0 \$(blockdev --getsz /dev/ubdb) linear /dev/ubdb 0\" && dmsetup mknodes pvpath" 60 \
    || fail "pvpath on node$n"
done
# The VG, built by node 1's lvm2 (system ID node1, autoactivation as lvm2 leaves it).
cl_cmd 1 "set -e
lvm pvcreate -q /dev/mapper/pvpath
lvm vgcreate -q vgc /dev/mapper/pvpath
for i in \$(seq 0 $((lvs - 1))); do lvm lvcreate -q -an -Zn -L 4M -n lv\$i vgc; done
lvm vgs -o name,systemid,lv_count --noheadings vgc" 120 || fail "VG creation"
cl_log "VG vgc built on node1 ($lvs LVs)"

rsc="<primitive id=\"vg\" $rsc_class>
  <instance_attributes id=\"vg-ia\">
    $params
  </instance_attributes>
  <operations>
    <op id=\"vg-start\" name=\"start\" interval=\"0\" timeout=\"90s\"/>
    <op id=\"vg-stop\" name=\"stop\" interval=\"0\" timeout=\"90s\"/>
    <op id=\"vg-monitor\" name=\"monitor\" interval=\"10s\" timeout=\"30s\"/>
    $deep_ops
  </operations>
</primitive>"
cl_cmd 1 "cibadmin -C -o resources -X '$rsc' &&
cibadmin -C -o constraints -X '<rsc_location id=\"vg-prefers-1\" rsc=\"vg\" node=\"node1\" score=\"50\"/>'" 30 || fail "resource creation"
started_re() { echo "crm_mon -1 -r 2>/dev/null | grep -qE '^ *\\* vg[[:space:]].*Started node$1'"; }
cl_wait_for 120 1 "$(started_re 1)" || fail "vg not Started on node1"
cl_log "vg Started on node1"
# crm_mon may show Started a moment before the device node is there: wait for it (bounded).
cl_cmd 1 "for i in \$(seq 1 100); do test -b /dev/mapper/vgc-lv0 && break; sleep 0.1; done
printf 'lvmkit-marker-%s' node1 | dd of=/dev/mapper/vgc-lv0 bs=512 conv=sync,nocreat oflag=direct status=none &&
dd if=/dev/mapper/vgc-lv0 bs=512 count=1 iflag=direct status=none | tr -d '\\0' | grep -q lvmkit-marker-node1" 30 \
  || fail "marker write"
where=1

other() { echo $((3 - $1)); }

# exec_ms NODE OP — the exec-time (ms) of the last OP of vg on NODE in the CIB.
exec_ms() {
  cl_cmd "$1" "cibadmin -Q --xpath \"//node_state[@uname='node$1']//lrm_resource[@id='vg']/lrm_rsc_op[@operation='$2']\" 2>/dev/null" 15 |
    sed -n 's/.* exec-time="\([0-9]*\)".*/\1/p' | tail -n1
}

# failure_reason NODE OP — how vg's first failed OP on NODE ended, from NODE's pacemaker log
# on the host ("Result of monitor operation for vg on node2: error (REASON) | …"): Pacemaker
# may restart the resource in place first, so crm_mon's last failure can be a later start.
failure_reason() {
  grep -a "Result of $2 operation for vg on node$1: " "$CL/node$1/log/pacemaker/pacemaker.log" 2>/dev/null |
    grep -v ": ok |\|: Cancelled |\|: not running |" | head -n1 | sed 's/.*operation for vg on node[0-9]: //; s/ |.*//' || true
}

# check_taken_over NODE — the VG active on NODE with the marker, its system ID NODE.
check_taken_over() {
  local n=$1 out
  out=$(cl_cmd "$n" "dd if=/dev/mapper/vgc-lv0 bs=512 count=1 iflag=direct status=none | tr -d '\\0'; echo
lvm vgs --noheadings -o systemid vgc 2>/dev/null | tr -d ' '
dmsetup ls | grep -c '^vgc-'" 30) || fail "reading vgc on node$n: $out"
  local marker sysid count
  marker=$(echo "$out" | sed -n 1p)
  sysid=$(echo "$out" | sed -n 2p)
  count=$(echo "$out" | sed -n 3p)
  [ "$marker" = lvmkit-marker-node1 ] || fail "node$n reads '$marker', not node1's marker: $out"
  [ "$sysid" = "node$n" ] || fail "system ID of vgc is '$sysid', not node$n"
  [ "$count" = "$lvs" ] || fail "node$n has $count vgc devices, not $lvs"
}

# watch_started NODE — a background poll on NODE that ends when vg is Started there; its rc
# file's mtime is the host time it saw it.
watch_started() {
  cl_bg "$1" "for i in \$(seq 1 900); do if $(started_re "$1"); then exit 0; fi; sleep 0.1; done; exit 1"
}

# wait_watch K SECONDS — waits for the background watch K; prints the host time it ended.
wait_watch() {
  local k=$1 deadline=$(($(date +%s) + $2))
  until [ -e "$k.rc" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
  [ "$(cat "$k.rc")" = 0 ] || return 1
  stat -c %.9Y "$k.rc"
}

for scenario in "$@"; do
  survivor=$(other $where)
  cl_log "scenario $scenario: vg on node$where"
  case $scenario in
    move)
      k=$(watch_started $survivor)
      sleep 0.3
      t0=$(cl_now)
      cl_cmd $where "crm_resource --move -r vg -N node$survivor" 30 || fail "crm_resource --move"
      t1=$(wait_watch "$k" 120) || fail "vg not Started on node$survivor after the move"
      left=$(cl_cmd $where "dmsetup ls | grep -c '^vgc-' || true" 15)
      [ "$left" = 0 ] || fail "node$where left $left vgc devices after the stop"
      check_taken_over $survivor
      stop_ms=$(exec_ms $where stop)
      start_ms=$(exec_ms $survivor start)
      cl_cmd 1 "crm_resource --clear -r vg" 30 >/dev/null || fail "crm_resource --clear"
      echo "RESULT scenario=move agent=$agent lvs=$lvs to_started=$(cl_elapsed "$t0" "$t1") stop_ms=$stop_ms start_ms=$start_ms"
      ;;
    kill | freeze)
      k=$(watch_started $survivor)
      sleep 0.3
      t0=$(cl_now)
      if [ "$scenario" = kill ]; then kill -KILL -- "-${CL_PIDS[$where]}"; else cl_freeze $where; fi
      t1=$(wait_watch "$k" 120) || fail "vg not Started on node$survivor after the $scenario"
      [ "$(cat "$CL/fence/node$where")" = off ] || fail "node$where was not fenced"
      tf=$(cat "$CL/fence/node$where.killed")
      check_taken_over $survivor
      start_ms=$(exec_ms $survivor start)
      echo "RESULT scenario=$scenario agent=$agent lvs=$lvs fenced=$(cl_elapsed "$t0" "$tf") to_started=$(cl_elapsed "$t0" "$t1") start_ms=$start_ms"
      cl_kill $where
      ;;
    split)
      # The link cut inside node 1: both partitions try to fence; exactly one node must be
      # fenced and the other run the VG (node 2 usually wins: the device that fences it waits
      # 15 s; on a loaded host node 1 may still win — then the VG stays where it was).
      t0=$(cl_now)
      cl_bg 1 "ip link set vec0 down" >/dev/null
      deadline=$(($(date +%s) + 150))
      until [ "$(cat "$CL/fence/node1")" = off ] || [ "$(cat "$CL/fence/node2")" = off ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "nobody was fenced after the split"
        sleep 0.1
      done
      if [ "$(cat "$CL/fence/node1")" = off ]; then loser=1; else loser=2; fi
      winner=$(other $loser)
      for _ in $(seq 1 100); do [ -e "$CL/fence/node$loser.killed" ] && break; sleep 0.05; done
      tf=$(cat "$CL/fence/node$loser.killed") || fail "the watcher did not kill node$loser"
      cl_wait_for 120 $winner "$(started_re $winner)" || fail "vg not Started on node$winner after the split"
      t1=$(cl_now)
      sleep 3
      [ "$(cat "$CL/fence/node$winner")" = on ] || fail "both nodes were fenced"
      cl_alive $winner || fail "node$winner died"
      check_taken_over $winner
      start_ms=$(exec_ms $winner start)
      echo "RESULT scenario=split agent=$agent lvs=$lvs winner=node$winner fenced=$(cl_elapsed "$t0" "$tf") to_started=$(cl_elapsed "$t0" "$t1") start_ms=$start_ms"
      cl_kill $loser
      survivor=$winner
      ;;
    pvdies)
      # The PV's path dies under the running VG on its node: the level-10 monitor (lvmvg)
      # fails within its interval + timeout, the cluster stops it there and starts it on the
      # node whose path is fine.
      k=$(watch_started $survivor)
      sleep 0.3
      t0=$(cl_now)
      cl_cmd $where "s=\$(blockdev --getsz /dev/ubdb); dmsetup suspend pvpath && dmsetup load pvpath --table \"0 \$s error\" && dmsetup resume pvpath" 30 \
        || fail "killing the path on node$where"
      t1=$(wait_watch "$k" 180) || fail "vg not Started on node$survivor after the path died on node$where"
      reason=$(failure_reason $where monitor)
      echo "$reason" | grep -qE '[0-9]{6} ' || fail "no failed monitor with a catalog code on node$where: '$reason'"
      left=$(cl_cmd $where "dmsetup ls | grep -c '^vgc-' || true" 15)
      [ "$left" = 0 ] || fail "node$where left $left vgc devices"
      check_taken_over $survivor
      echo "RESULT scenario=pvdies agent=$agent lvs=$lvs to_started=$(cl_elapsed "$t0" "$t1") reason=\"$reason\""
      ;;
    sysid)
      # Another host's system ID written behind the cluster's back (lvmkit as host
      # `stranger`): the level-20 monitor fails, the cluster stops the VG, and no node may
      # start it again (the owner is not a peer): it ends Stopped, nothing active anywhere,
      # the stranger's system ID untouched.
      t0=$(cl_now)
      cl_cmd $where "'$LVMKIT' vgchange --devices /dev/mapper/pvpath --host-systemid stranger --takeover node$where \
        --archive-dir \$VM_RUN/archive --backup-dir \$VM_RUN/backup --systemid stranger vgc" 60 || fail "system ID change"
      cl_wait_for 120 $survivor "crm_mon -1 -r 2>/dev/null | grep -qE '^ *\\* vg[[:space:]].*Stopped'" \
        || fail "vg did not end Stopped after its system ID changed"
      t1=$(cl_now)
      reason=$(failure_reason $where monitor)
      echo "$reason" | grep -qE '[0-9]{6} ' || fail "no failed monitor with a catalog code on node$where: '$reason'"
      for n in 1 2; do
        cl_alive $n || continue
        left=$(cl_cmd $n "dmsetup ls | grep -c '^vgc-' || true" 15)
        [ "$left" = 0 ] || fail "node$n has $left vgc devices"
      done
      owner=$(cl_cmd $where "lvm vgs --foreign --noheadings -o systemid vgc 2>/dev/null | tr -d ' '" 30)
      [ "$owner" = stranger ] || fail "the system ID is '$owner', not stranger's"
      echo "RESULT scenario=sysid agent=$agent lvs=$lvs to_stopped=$(cl_elapsed "$t0" "$t1") reason=\"$reason\""
      survivor=none
      ;;
    *) fail "unknown scenario $scenario" ;;
  esac
  where=$survivor
done
cl_log "done"
