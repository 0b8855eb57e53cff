#!/usr/bin/env bash
# Fails a VG over in a real two-node Pacemaker cluster (tests/vm/cluster/cluster.sh): two UML
# guests, corosync + pacemaker, stonith-enabled with the host-watched fence devices, one shared
# PV image. Node 1 builds VG vgc (lvm2, system ID node1) with LVs and writes a marker into the
# first one, `lv0`; the resource under test manages it.
#
#   tests/vm/cluster/run.sh AGENT SCENARIO…
#
# AGENT: `lvm-activate` (ocf:heartbeat:LVM-activate, vg_access_mode=system_id, a level-10
# monitor besides level 0: it has no level 20) or `lvmvg` (ocf:lvmkit:lvmvg, the static lvmkit
# in $LVMKIT, installed by `lvmkit ocf install`; monitors at levels 0, 10 and 20). The same
# scenarios run with either; where the agents behave differently the check asserts what each
# actually does and a `DIFFERENCE` line says so.
# SCENARIOs, run in the order given on one cluster (each starts from the resource Started
# somewhere; a node that was fenced or killed boots again and rejoins before the next one):
#   first  (must come first) the first start of all is on node 2, which does not own the VG:
#          before it, the agent is run by hand on node 2 against the VG given to `stranger`, a
#          host outside the cluster (lvmvg: refused, exit 1 with the ownership code, nothing
#          written; LVM-activate takes it over); then the resource, preferring node 2, starts
#          there: a takeover from node 1, a cluster member (lvmvg: its peers from `crm_node -l`)
#   move   crm_resource --move to the other node: clean stop (no dm device left under the VG)
#          and start there
#   kill   the node running the VG is SIGKILLed: the survivor fences it, takes the VG over, the
#          LV is active with the marker readable
#   freeze the node running it is SIGSTOPped: fenced (killed by the watcher) and failed over
#   split  the link is cut inside node 1: exactly one node is fenced and the other runs the VG
#          (usually node 2: the device that fences it is delayed 15 s)
#   pvdies the PV's path (a dm linear device over the shared disk on each node) turns to
#          `error` under the running VG: the level-10 monitor fails, the VG is started on the
#          other node (lvmvg: stopped cleanly; LVM-activate: its stop cannot read the VG)
#   sysid  (must be last) the VG's system ID is changed behind the cluster's back: lvmvg's
#          level-20 monitor fails, the VG is stopped and refused everywhere; LVM-activate has
#          no such check: the VG stays Started under a foreign system ID
# Each prints `RESULT scenario=… key=value…` lines: seconds from the event (host time) to
# node lost, fenced (the host's watcher killed it: `killed`; the survivor's log: `fenced`),
# start invoked and done (the survivor's pacemaker.log, its clock mapped to the host's), and
# `Started` seen by crm_mon (`to_started`); the agents' exec-times from the CIB. The script
# exits non-zero at the first failed check. Env: CL_LVS (LVs in the VG, default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/cluster/cluster.sh
. "$here/cluster.sh"

[ $# -ge 2 ] || { echo "usage: run.sh lvm-activate|lvmvg SCENARIO…" >&2; exit 2; }
agent=$1
shift
lvs=${CL_LVS:-1}
[ -x "${LVMKIT:-}" ] || { echo "run.sh: set LVMKIT to the static lvmkit (sysid changes the owner with it)" >&2; exit 2; }
for s in "${@:2}"; do [ "$s" != first ] || { echo "run.sh: first must be the first scenario" >&2; exit 2; }; done
# Deeper monitors besides level 0: 10 reads the PVs (LVM-activate: one byte of the first LV).
deep_ops='<op id="vg-monitor-10" name="monitor" interval="7s" timeout="30s">
      <instance_attributes id="vg-monitor-10-ia"><nvpair id="vg-monitor-10-depth" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
    </op>'
case $agent in
  lvm-activate)
    rsc_class='class="ocf" provider="heartbeat" type="LVM-activate"'
    params='<nvpair id="vg-vgname" name="vgname" value="vgc"/>
            <nvpair id="vg-mode" name="vg_access_mode" value="system_id"/>'
    agent_path=/usr/lib/ocf/resource.d/heartbeat/LVM-activate
    agent_env="OCF_RESKEY_vgname=vgc OCF_RESKEY_vg_access_mode=system_id"
    ;;
  lvmvg)
    rsc_class='class="ocf" provider="lvmkit" type="lvmvg"'
    params='<nvpair id="vg-vgname" name="volgrpname" value="vgc"/>
            <nvpair id="vg-devices" name="devices" value="/dev/mapper/pvpath"/>'
    # 20 re-reads the owner (LVM-activate has no level 20: it answers 6, "not configured").
    deep_ops+='
    <op id="vg-monitor-20" name="monitor" interval="13s" timeout="30s">
      <instance_attributes id="vg-monitor-20-ia"><nvpair id="vg-monitor-20-depth" name="OCF_CHECK_LEVEL" value="20"/></instance_attributes>
    </op>'
    agent_path=/usr/lib/ocf/resource.d/lvmkit/lvmvg
    agent_env="OCF_RESKEY_volgrpname=vgc OCF_RESKEY_devices=/dev/mapper/pvpath LVMKIT_CONTROLLED_VGS=/etc/lvmkit/lkvgs"
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
truncate -s $((lvs * 4 + 124))M "$work/shared.img"
cl_setup "$work/shared.img"
trap 'cl_cleanup; rm -rf "$work"' EXIT
cl_start || fail "cluster start"

# prep_node N — what a node needs besides the cluster stack (again after it rejoins): the
# agent installed, the PV's path (a dm linear device over the shared disk: pvdies kills it).
prep_node() {
  if [ "$agent" = lvmvg ]; then
    cl_cmd "$1" "'$LVMKIT' ocf install >/dev/null && test -x $agent_path" || fail "ocf install on node$1"
  fi
  cl_cmd "$1" "dmsetup create pvpath --table \"0 \$(blockdev --getsz /dev/ubdb) linear /dev/ubdb 0\" && dmsetup mknodes pvpath" 60 \
    || fail "pvpath on node$1"
}
for n in 1 2; do prep_node $n; done

# The VG, built by node 1's lvm2 (system ID node1, autoactivation as lvm2 leaves it), and
# node 1's marker in lv0 (lvm2 activates it for the write and deactivates it again).
cl_cmd 1 "set -e
lvm pvcreate -q /dev/mapper/pvpath
lvm vgcreate -q vgc /dev/mapper/pvpath
for i in \$(seq 0 $((lvs - 1))); do lvm lvcreate -q -an -Zn -L 4M -n lv\$i vgc; done
lvm vgs -o name,systemid,lv_count --noheadings vgc
lvm lvchange -ay vgc/lv0
printf 'lvmkit-marker-%s' node1 | dd of=/dev/mapper/vgc-lv0 bs=512 conv=sync,nocreat oflag=direct status=none
lvm lvchange -an vgc/lv0" 120 || fail "VG creation"
cl_log "VG vgc built on node1 ($lvs LVs)"

other() { echo $((3 - $1)); }

# by_hand NODE ACTION INSTANCE — the agent run as pacemaker-execd would, outside the cluster's
# resources; prints its stderr and `rc=N`.
by_hand() {
  cl_cmd "$1" "OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=$3 OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 $agent_env \
    $agent_path $2 2>&1; echo rc=\$?" 120
}

# vg_state NODE — "SEQNO:OWNER:AUTOACTIVATION:ACTIVE": lvm2's view of vgc (autoactivation
# `enabled` or empty) and the number of its dm devices on NODE.
vg_state() {
  cl_cmd "$1" "echo \$(lvm vgs --foreign --noheadings --separator : -o seqno,systemid,autoactivation vgc 2>/dev/null | tr -d ' '):\$(dmsetup ls | grep -c '^vgc-')" 30
}

first=0
[ "$1" = first ] && first=1
if [ $first = 1 ]; then
  # The VG given to a host outside the cluster; the agent started by hand on node 2.
  cl_cmd 1 "lvm vgchange -q -y --systemid stranger vgc" 60 || fail "giving vgc to stranger"
  before=$(vg_state 2)
  out=$(by_hand 2 start outsider)
  after=$(vg_state 2)
  rc=$(echo "$out" | sed -n 's/^rc=//p')
  echo "$out" | sed 's/^/  outsider start: /'
  if [ "$agent" = lvmvg ]; then
    [ "$rc" = 1 ] || fail "lvmvg start of a VG owned by stranger: rc=$rc, not 1"
    echo "$out" | grep -q '^ocf-exit-reason:110003 ' || fail "no ocf-exit-reason with the ownership code 110003"
    [ "$after" = "$before" ] || fail "lvmvg wrote to or activated the stranger's VG: '$before' → '$after'"
    written=$(cl_cmd 2 "find /var/lib/lvmkit/ocf /run/lvmkit/ocf -mindepth 1 2>/dev/null | grep -c .; cat /etc/lvmkit/lkvgs 2>/dev/null | grep -c vgc; true" 15 | tr '\n' ' ')
    [ "$written" = "0 0 " ] || fail "lvmvg left files behind after the refusal: $written"
    outsider="refused"
  else
    # LVM-activate puts its own system ID on any VG (vgchange with extra_system_ids = the owner).
    IFS=: read -r _ owner _ active <<<"$after"
    [ "$rc" = 0 ] && [ "$owner" = node2 ] && [ "$active" -ge 1 ] \
      || fail "LVM-activate on a VG owned by stranger: rc=$rc, '$after' (expected a takeover)"
    echo "DIFFERENCE: LVM-activate took over a VG owned by 'stranger', a host outside the cluster (lvmvg refuses it: 110003)"
    by_hand 2 stop outsider | grep -q '^rc=0' || fail "LVM-activate stop by hand"
    cl_cmd 2 "lvm vgchange -q -y --systemid stranger vgc" 60 >/dev/null || fail "giving vgc back to stranger"
    outsider="taken-over"
  fi
  cl_cmd 1 "lvm vgchange -q -y --config 'local/extra_system_ids=[\"stranger\"]' --systemid node1 vgc" 60 >/dev/null \
    || fail "giving vgc back to node1"
  start_on=2
else
  start_on=1
fi

# Created stopped, then its location preference, then started: otherwise the scheduler may
# place it before the constraint arrives (two CIB updates) and stickiness keeps it there.
rsc="<primitive id=\"vg\" $rsc_class>
  <meta_attributes id=\"vg-meta\"><nvpair id=\"vg-target-role\" name=\"target-role\" value=\"Stopped\"/></meta_attributes>
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
started_re() { echo "crm_mon -1 -r 2>/dev/null | grep -qE '^ *\\* vg[[:space:]].*Started node$1'"; }
cl_cmd 1 "cibadmin -C -o resources -X '$rsc' &&
cibadmin -C -o constraints -X '<rsc_location id=\"vg-prefers-$start_on\" rsc=\"vg\" node=\"node$start_on\" score=\"50\"/>'" 30 || fail "resource creation"
t0=$(cl_now)
cl_cmd 1 "crm_resource -r vg --meta -p target-role -v Started" 30 >/dev/null || fail "starting vg"
cl_wait_for 120 $start_on "$(started_re $start_on)" || fail "vg not Started on node$start_on"
t1=$(cl_now)
cl_log "vg Started on node$start_on"
where=$start_on

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
  out=$(cl_cmd "$n" "for i in \$(seq 1 100); do test -b /dev/mapper/vgc-lv0 && break; sleep 0.1; done
dd if=/dev/mapper/vgc-lv0 bs=512 count=1 iflag=direct status=none | tr -d '\\0'; echo
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

check_taken_over $where
if [ $first = 1 ]; then
  # The first start on node 2 took the VG over from node 1 and turned its autoactivation off.
  IFS=: read -r _ _ auto _ <<<"$(vg_state 2)"
  [ "$auto" != enabled ] || fail "vgc's autoactivation is still on after the first start"
  peers=""
  if [ "$agent" = lvmvg ]; then
    peers=$(cl_cmd 2 "grep -ho 'node[12]' /var/lib/lvmkit/ocf/vg/lvmvg-vgc* | sort -u | tr '\n' ," 15)
    [ "$peers" = "node1,node2," ] || fail "the kit resource on node2 does not record both cluster nodes: '$peers'"
  fi
  # What reading the membership costs in this guest (a node's first start runs it once).
  crm_node_ms=$(cl_cmd 2 "for i in 1 2 3; do s=\$EPOCHREALTIME; crm_node -l >/dev/null; e=\$EPOCHREALTIME; echo \$(( (\${e/./} - \${s/./}) / 1000 )); done | sort -n | sed -n 2p" 60)
  echo "RESULT scenario=first agent=$agent lvs=$lvs outsider=$outsider to_started=$(cl_elapsed "$t0" "$t1") start_ms=$(exec_ms 2 start) peers=${peers%,} crm_node_ms=$crm_node_ms"
fi

# watch_started NODE — a background poll on NODE that ends when vg is Started there; its rc
# file's mtime is the host time it saw it.
watch_started() {
  cl_bg "$1" "for i in \$(seq 1 900); do if $(started_re "$1"); then exit 0; fi; sleep 0.1; done; exit 1"
}

# wait_watch K SECONDS — waits for the background watch K; prints the host time it ended.
wait_watch() {
  local k=$1 deadline=$(($(date +%s) + $2))
  until [ -e "$k.rc" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
  [ "$(cat "$k.rc")" = 0 ] || return 1
  stat -c %.9Y "$k.rc"
}

# timeline SURVIVOR CLOCK T0 VICTIM — the survivor's log times of a failover after T0: node
# lost, fenced, start invoked, start done (key=value, seconds from T0).
timeline() {
  local n=$1 c=$2 t0=$3 v=$4
  echo "lost=$(cl_log_at "$n" "$c" "$t0" "node$v state is now lost")" \
    "fenced=$(cl_log_at "$n" "$c" "$t0" "Peer node$v was terminated")" \
    "start_invoked=$(cl_log_at "$n" "$c" "$t0" "Requesting local execution of start operation for vg on node$n")" \
    "start_done=$(cl_log_at "$n" "$c" "$t0" "Result of start operation for vg on node$n: ")"
}

# recorded NODE — lvmvg: `yes` when NODE's agent has a kit resource for vg (an earlier start
# there created it, or a probe prepared it), else `no` (the start records it and reads
# crm_node -l); `-` for LVM-activate (no state).
recorded() {
  [ "$agent" = lvmvg ] || { echo -; return; }
  cl_cmd "$1" "test -e /var/lib/lvmkit/ocf/vg/lvmvg-vgc.json && echo yes || echo no" 15
}

# starts_before NODE — how many starts of vg NODE's pacemaker ran since it last started
# (0: the next start is the node's first there since it booted).
starts_before() {
  awk -v n="$1" '/pacemakerd.*Starting Pacemaker / { c = 0 }
    index($0, "Result of start operation for vg on node" n ": ") { c++ }
    END { print c + 0 }' "$CL/node$1/log/pacemaker/pacemaker.log" 2>/dev/null || echo 0
}

rejoin_if_lost() {
  local n
  for n in 1 2; do
    if ! cl_alive $n || [ "$(cat "$CL/fence/node$n")" = off ]; then
      [ $# -gt 0 ] || return 0
      cl_rejoin $n || fail "node$n did not rejoin"
      prep_node $n
    fi
  done
}

[ $first = 1 ] && shift
for scenario in "$@"; do
  shift
  survivor=$(other $where)
  cl_log "scenario $scenario: vg on node$where"
  c1=$(cl_clock 1) || fail "node1's clock"
  c2=$(cl_clock 2) || fail "node2's clock"
  clock=(0 "$c1" "$c2")
  case $scenario in
    move)
      rec=$(recorded $survivor)
      starts=$(starts_before $survivor)
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
      echo "RESULT scenario=move agent=$agent lvs=$lvs" \
        "stop_invoked=$(cl_log_at $where "${clock[$where]}" "$t0" "Requesting local execution of stop operation for vg on node$where")" \
        "stop_done=$(cl_log_at $where "${clock[$where]}" "$t0" "Result of stop operation for vg on node$where: ")" \
        "start_invoked=$(cl_log_at $survivor "${clock[$survivor]}" "$t0" "Requesting local execution of start operation for vg on node$survivor")" \
        "start_done=$(cl_log_at $survivor "${clock[$survivor]}" "$t0" "Result of start operation for vg on node$survivor: ")" \
        "to_started=$(cl_elapsed "$t0" "$t1") stop_ms=$stop_ms start_ms=$start_ms recorded=$rec starts_before=$starts"
      ;;
    kill | freeze)
      rec=$(recorded $survivor)
      starts=$(starts_before $survivor)
      k=$(watch_started $survivor)
      sleep 0.3
      t0=$(cl_now)
      if [ "$scenario" = kill ]; then kill -KILL -- "-${CL_PIDS[$where]}"; else cl_freeze $where; fi
      t1=$(wait_watch "$k" 120) || fail "vg not Started on node$survivor after the $scenario"
      [ "$(cat "$CL/fence/node$where")" = off ] || fail "node$where was not fenced"
      tf=$(cat "$CL/fence/node$where.killed")
      check_taken_over $survivor
      start_ms=$(exec_ms $survivor start)
      # (The device that fences node 2 waits 15 s first: fence_delay.)
      echo "RESULT scenario=$scenario agent=$agent lvs=$lvs victim=node$where fence_delay=$([ $where = 2 ] && echo 15 || echo 0)" \
        "$(timeline $survivor "${clock[$survivor]}" "$t0" $where)" \
        "killed=$(cl_elapsed "$t0" "$tf") to_started=$(cl_elapsed "$t0" "$t1") start_ms=$start_ms recorded=$rec starts_before=$starts"
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
      echo "RESULT scenario=split agent=$agent lvs=$lvs winner=node$winner moved=$([ $winner != $where ] && echo yes || echo no)" \
        "$(timeline $winner "${clock[$winner]}" "$t0" $loser) killed=$(cl_elapsed "$t0" "$tf") to_started=$(cl_elapsed "$t0" "$t1") start_ms=$start_ms"
      cl_kill $loser
      survivor=$winner
      ;;
    pvdies)
      # The PV's path dies under the running VG on its node: the level-10 monitor fails within
      # its interval + timeout, the cluster stops it there and starts it on the node whose path
      # is fine. lvmvg's stop removes the devices by the VG's uuid prefix (reading no disk);
      # LVM-activate's stop (vgchange -an) cannot read the VG: the stop fails, the node is fenced.
      k=$(watch_started $survivor)
      sleep 0.3
      t0=$(cl_now)
      cl_cmd $where "s=\$(blockdev --getsz /dev/ubdb); dmsetup suspend pvpath && dmsetup load pvpath --table \"0 \$s error\" && dmsetup resume pvpath" 30 \
        || fail "killing the path on node$where"
      t1=$(wait_watch "$k" 180) || fail "vg not Started on node$survivor after the path died on node$where"
      reason=$(failure_reason $where monitor)
      [ -n "$reason" ] || fail "no failed monitor on node$where"
      fenced=no
      [ "$(cat "$CL/fence/node$where")" = off ] && fenced=yes
      if [ "$agent" = lvmvg ]; then
        echo "$reason" | grep -qE '[0-9]{6} ' || fail "no failed monitor with a catalog code on node$where: '$reason'"
        [ $fenced = no ] || fail "node$where was fenced: lvmvg's stop failed"
        left=$(cl_cmd $where "dmsetup ls | grep -c '^vgc-' || true" 15)
        [ "$left" = 0 ] || fail "node$where left $left vgc devices"
        # The path back, the failures forgotten (a failed start bans the node).
        cl_cmd $where "s=\$(blockdev --getsz /dev/ubdb); dmsetup suspend pvpath && dmsetup load pvpath --table \"0 \$s linear /dev/ubdb 0\" && dmsetup resume pvpath" 30 \
          || fail "restoring the path on node$where"
      else
        [ $fenced = yes ] || fail "LVM-activate: node$where was not fenced after its path died (expected: its stop fails)"
        echo "DIFFERENCE: LVM-activate's stop could not deactivate the VG whose PV died (vgchange -an cannot read it): node$where was fenced (lvmvg stops it cleanly)"
      fi
      check_taken_over $survivor
      echo "RESULT scenario=pvdies agent=$agent lvs=$lvs fenced=$fenced to_started=$(cl_elapsed "$t0" "$t1") reason=\"$reason\""
      ;;
    sysid)
      # Another host's system ID written behind the cluster's back (lvmkit as host
      # `stranger`). lvmvg: the level-20 monitor fails, the cluster stops the VG, and no node
      # may start it again (the owner is not a peer): it ends Stopped, nothing active
      # anywhere, the stranger's system ID untouched. LVM-activate: no monitor notices.
      t0=$(cl_now)
      cl_cmd $where "'$LVMKIT' vgchange --devices /dev/mapper/pvpath --host-systemid stranger --takeover node$where \
        --archive-dir \$VM_RUN/archive --backup-dir \$VM_RUN/backup --systemid stranger vgc" 60 || fail "system ID change"
      if [ "$agent" = lvmvg ]; then
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
        result="to_stopped=$(cl_elapsed "$t0" "$t1") reason=\"$reason\""
      else
        # Two level-10 and three level-0 intervals (lvmvg's level 20 runs every 13 s).
        sleep 30
        cl_cmd $where "$(started_re $where)" 30 || fail "LVM-activate: vg is no longer Started on node$where"
        left=$(cl_cmd $where "dmsetup ls | grep -c '^vgc-' || true" 15)
        [ "$left" = "$lvs" ] || fail "LVM-activate: node$where has $left vgc devices, not $lvs"
        [ -z "$(failure_reason $where monitor)" ] || fail "LVM-activate: a monitor failed: $(failure_reason $where monitor)"
        echo "DIFFERENCE: LVM-activate has no level-20 check: 30 s after the system ID changed to 'stranger', vg is still Started on node$where with its devices active (lvmvg's level-20 monitor stops it)"
        result="still_started=node$where"
      fi
      owner=$(cl_cmd $where "lvm vgs --foreign --noheadings -o systemid vgc 2>/dev/null | tr -d ' '" 30)
      [ "$owner" = stranger ] || fail "the system ID is '$owner', not stranger's"
      echo "RESULT scenario=sysid agent=$agent lvs=$lvs $result"
      survivor=none
      ;;
    *) fail "unknown scenario $scenario" ;;
  esac
  where=$survivor
  [ "$where" = none ] && break
  rejoin_if_lost "$@"
  [ $# -gt 0 ] && cl_cmd $where "crm_resource --cleanup -r vg >/dev/null" 30 >/dev/null
done
cl_log "done"
