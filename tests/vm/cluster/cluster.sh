# A real two-node corosync 3 + pacemaker 2.1 cluster in two user-mode-linux guests; sourced
# by tests/vm/cluster/run.sh. Follows ../shared/spec/pacemaker-in-uml.md:
#   - each guest boots tests/vm/init.c with tests/vm/cluster/node.sh as its scenario, a private
#     scratch disk (ubda) and the shared PV image as /dev/ubdb (`ubd1c=`: shared, no host lock);
#   - the private link is UML's vector driver over l2tpv3/UDP on 127.0.0.1 (a random port pair
#     per run), 10.77.0.N/24 inside; no other host traffic;
#   - fencing that really kills: a stonith:fence_dummy device per node whose status file is in
#     the cluster folder (hostfs); the watcher here SIGKILLs a guest's process group when its
#     file says `off`;
#   - the host drives each node through node.sh's command channel (cl_cmd, cl_bg).
# Times are host times: files the guests write through hostfs carry the host's clock.
# Env: LVMKIT_VM_CACHE, LVMKIT_VM_KEEP=1 keeps the cluster folder, CL_MEM (guest memory, 320M).

cl_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cl_repo=$(cd "$cl_here/../../.." && pwd)
vm_name=cluster
# shellcheck source=tests/vm/lib.sh
. "$cl_here/../lib.sh"
cl_cache=${LVMKIT_VM_CACHE:-$cl_repo/target/vm-cache}
cl_kernel=$cl_cache/usr/bin/linux.uml
cl_init=$cl_cache/init
cl_shim=$cl_cache/uml-xstate-shim.so
CL_PIDS=()
CL_WATCHER=""

cl_now() { date +%s.%N; }
cl_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
cl_log() { printf '[%6.2f] %s\n' "$(awk -v a="$CL_T0" -v b="$(cl_now)" 'BEGIN { print b - a }')" "$*"; }

# cl_setup SHARED_IMAGE — the cluster folder $CL with the shared configuration.
cl_setup() {
  if [ ! -x "$cl_kernel" ] || [ ! -x "$cl_init" ] || [ ! -f "$cl_shim" ]; then
    echo "cluster: $cl_cache is not set up: run tests/vm/setup.sh" >&2
    exit 2
  fi
  for bin in corosync pacemakerd crm_mon cibadmin /usr/sbin/fence_dummy; do
    command -v "$bin" >/dev/null || { echo "cluster: $bin missing (tests/vm/setup.sh installs it)" >&2; exit 2; }
  done
  CL_T0=$(cl_now)
  CL_SHARED=$(readlink -f "$1")
  CL=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-cluster.XXXXXX")
  CL=$(cd "$CL" && pwd -P)
  chmod 755 "$CL"
  trap cl_cleanup EXIT
  trap 'exit 130' INT TERM
  local moddir
  moddir=$(ls -d "$cl_cache"/usr/lib/uml/modules/*/ | head -n1)
  vm_module_order "${moddir%/}" $VM_DM_MODULES >"$CL/modules"
  CL_PORT=$((20000 + RANDOM % 20000))
  # Guest-private tmpfs over these (node.sh); the mount points must exist in the shared root:
  # the ones lvmkit's agent writes to may not yet on the host and are made empty here.
  CL_TMPFS="/etc/corosync /var/lib/corosync /var/lib/pacemaker /etc/lvm /var/lib/lvmkit /etc/lvmkit /usr/lib/ocf/resource.d/lvmkit"
  mkdir -p $CL_TMPFS
  mkdir -p "$CL/fence"
  local n
  for n in 1 2; do printf on >"$CL/fence/node$n"; done
  cat >"$CL/corosync.conf" <<CONF
totem {
  version: 2
  cluster_name: lvmkit
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: 3000
}
nodelist {
  node {
    ring0_addr: 10.77.0.1
    name: node1
    nodeid: 1
  }
  node {
    ring0_addr: 10.77.0.2
    name: node2
    nodeid: 2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_logfile: yes
  logfile: /var/log/cluster/corosync.log
  to_syslog: no
  to_stderr: no
  timestamp: hires
}
CONF
  # lvm2 in the guests (the peer agent's tools): the PV's path over the shared disk only, no udev, no devices
  # file, no backups; the node name as system ID (LVM-activate's system_id mode needs a source).
  cat >"$CL/lvm.conf" <<'CONF'
devices {
  filter = [ "a|^/dev/mapper/pvpath$|", "r|.*|" ]
  global_filter = [ "a|^/dev/mapper/pvpath$|", "r|.*|" ]
  use_devicesfile = 0
  obtain_device_list_from_udev = 0
  external_device_info_source = "none"
}
global {
  use_lvmpolld = 0
  event_activation = 0
  system_id_source = "uname"
}
activation {
  udev_sync = 0
  udev_rules = 0
  monitoring = 0
}
backup {
  backup = 0
  archive = 0
}
CONF
  local fence=""
  for n in 1 2; do
    # The device that fences node 2 waits 15 s: in a split brain node 2 shoots first (5 s, as
    # measured on an idle host, was not enough at load average 30: node 1 shot first).
    local delay=""
    [ "$n" = 2 ] && delay="<nvpair id=\"fence$n-delay\" name=\"pcmk_delay_base\" value=\"15s\"/>"
    fence+="
      <primitive id=\"fence$n\" class=\"stonith\" type=\"fence_dummy\">
        <instance_attributes id=\"fence$n-ia\">
          <nvpair id=\"fence$n-type\" name=\"type\" value=\"file\"/>
          <nvpair id=\"fence$n-file\" name=\"status_file\" value=\"$CL/fence/node$n\"/>
          <nvpair id=\"fence$n-hosts\" name=\"pcmk_host_list\" value=\"node$n\"/>
          <nvpair id=\"fence$n-reboot\" name=\"pcmk_reboot_action\" value=\"off\"/>
          $delay
        </instance_attributes>
        <operations>
          <op id=\"fence$n-monitor\" name=\"monitor\" interval=\"60s\"/>
        </operations>
      </primitive>"
  done
  # No crm_feature_set (a value above the installed one keeps every node offline).
  cat >"$CL/cib.xml" <<CIB
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="true"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="opt-no-quorum" name="no-quorum-policy" value="stop"/>
        <nvpair id="opt-recheck" name="cluster-recheck-interval" value="1min"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>$fence
    </resources>
    <constraints>
      <rsc_location id="fence1-not-on-1" rsc="fence1" node="node1" score="-INFINITY"/>
      <rsc_location id="fence2-not-on-2" rsc="fence2" node="node2" score="-INFINITY"/>
    </constraints>
    <rsc_defaults>
      <meta_attributes id="rsc-defaults">
        <nvpair id="rsc-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
CIB
}

# cl_boot N — boots node N (folder $CL/nodeN) in the background.
cl_boot() {
  local n=$1 d=$CL/node$1 me peer
  mkdir -p "$d/cmd"
  printf 'CL_NODE=%s\nCL_TMPFS="%s"\n' "$n" "$CL_TMPFS" >"$d/node.env"
  cp "$cl_here/node.sh" "$d/scenario"
  chmod +x "$d/scenario"
  cp "$CL/modules" "$d/modules"
  echo /dev/ubdb >"$d/disks"
  truncate -s 64M "$d/scratch.img"
  if [ "$n" = 1 ]; then me=$CL_PORT peer=$((CL_PORT + 1)); else me=$((CL_PORT + 1)) peer=$CL_PORT; fi
  LD_PRELOAD=$cl_shim setsid "$cl_kernel" mem="${CL_MEM:-320M}" rootfstype=hostfs rootflags=/ rw \
    init="$cl_init" LVMKIT_VM_RUN="$d" uml_dir="$d" umid="node$n" \
    ubd0="$d/scratch.img" ubd1c="$CL_SHARED" \
    "vec0:transport=l2tpv3,udp=1,src=127.0.0.1,dst=127.0.0.1,srcport=$me,dstport=$peer,rx_session=1,tx_session=1,mac=02:00:00:77:00:0$n" \
    con=null ssl=null con0=null,fd:1 loglevel=4 \
    </dev/null >"$d/console.log" 2>&1 &
  CL_PIDS[$n]=$!
}

cl_alive() { [ -n "${CL_PIDS[$1]:-}" ] && kill -0 "${CL_PIDS[$1]}" 2>/dev/null; }

# cl_kill N — SIGKILL node N's whole process group (UML forks a host process per guest one).
cl_kill() {
  local p=${CL_PIDS[$1]:-}
  [ -n "$p" ] || return 0
  kill -KILL -- "-$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  CL_PIDS[$1]=""
}

cl_freeze() { kill -STOP -- "-${CL_PIDS[$1]}"; }

# The fence watcher: a node whose status file says `off` is killed; the host time goes into
# $CL/fence/nodeN.killed. Bounded by the run (cl_cleanup ends it).
cl_start_watcher() {
  (
    while :; do
      for n in 1 2; do
        if [ "$(cat "$CL/fence/node$n" 2>/dev/null)" = off ] && [ ! -e "$CL/fence/node$n.killed" ]; then
          p=$(cat "$CL/node$n/pid" 2>/dev/null)
          [ -n "$p" ] && kill -KILL -- "-$p" 2>/dev/null
          cl_now >"$CL/fence/node$n.killed.tmp" && mv "$CL/fence/node$n.killed.tmp" "$CL/fence/node$n.killed"
        fi
      done
      sleep 0.05
    done
  ) &
  CL_WATCHER=$!
}

cl_cleanup() {
  # A frozen guest is continued so that it dies of the SIGKILL promptly.
  cl_stop_nodes
  if [ "${LVMKIT_VM_KEEP:-0}" = 1 ]; then
    echo "cluster: kept $CL" >&2
  else
    rm -rf "$CL"
  fi
}

# cl_start — cl_start_once, and once more from scratch when that failed: on a loaded host
# pacemakerd may kill a subdaemon that answers its IPC check late during start-up, and the
# other node then fences that node (seen at load average 25).
cl_start() {
  cl_start_once && return 0
  echo "cluster: start-up failed, booting both nodes again" >&2
  cl_stop_nodes
  rm -rf "$CL/node1" "$CL/node2" "$CL/seq"
  local n
  for n in 1 2; do
    rm -f "$CL/fence/node$n.killed"
    printf on >"$CL/fence/node$n"
  done
  CL_PORT=$((CL_PORT + 2))
  cl_start_once
}

# cl_stop_nodes — kills both guests and the fence watcher.
cl_stop_nodes() {
  local n
  [ -n "$CL_WATCHER" ] && kill "$CL_WATCHER" 2>/dev/null && { wait "$CL_WATCHER" 2>/dev/null || true; }
  CL_WATCHER=""
  for n in 1 2; do
    # (Each step `|| true`: this runs in `set -e` callers' EXIT traps, where a node that is
    # already gone must not end the cleanup before the other one is killed.)
    { [ -n "${CL_PIDS[$n]:-}" ] && kill -CONT -- "-${CL_PIDS[$n]}" 2>/dev/null; } || true
    cl_kill "$n" || true
  done
}

# cl_start_once — boots both nodes and waits (bounded) until pacemaker runs on both and
# crm_mon on node 1 shows both online (and neither was fenced meanwhile).
cl_start_once() {
  cl_boot 1
  cl_boot 2
  local n
  for n in 1 2; do echo "${CL_PIDS[$n]}" >"$CL/node$n/pid"; done
  cl_start_watcher
  local deadline=$(($(date +%s) + 120))
  for n in 1 2; do
    until [ -e "$CL/node$n/ready" ]; do
      if [ -e "$CL/node$n/failed" ] || ! cl_alive "$n" || [ "$(date +%s)" -ge "$deadline" ]; then
        echo "cluster: node$n did not come up: $(cat "$CL/node$n/failed" 2>/dev/null)" >&2
        cl_dump "$n"
        return 1
      fi
      sleep 0.1
    done
  done
  cl_log "both nodes run pacemakerd"
  cl_wait_for 120 1 'crm_mon -1 2>/dev/null | grep -q "Online: \[ node1 node2 \]"' || {
    echo "cluster: the nodes did not both come online" >&2
    cl_cmd 1 'crm_mon -1' 10 >&2
    cl_dump 1
    cl_dump 2
    return 1
  }
  for n in 1 2; do
    [ "$(cat "$CL/fence/node$n")" = on ] || { echo "cluster: node$n was fenced during start-up" >&2; return 1; }
  done
  cl_log "both nodes online"
}

# cl_rejoin N — boots node N again after it was fenced or killed (its previous run folder is
# kept as nodeN.lifeK, its fence status file is `on` again) and waits (bounded) until both
# nodes are online and both fence devices started, so that the next scenario can lose a node.
cl_rejoin() {
  local n=$1 life=1 peer=$((3 - $1)) deadline
  cl_kill "$n"
  while [ -e "$CL/node$n.life$life" ]; do life=$((life + 1)); done
  mv "$CL/node$n" "$CL/node$n.life$life"
  printf on >"$CL/fence/node$n"
  rm -f "$CL/fence/node$n.killed"
  cl_boot "$n"
  echo "${CL_PIDS[$n]}" >"$CL/node$n/pid"
  deadline=$(($(date +%s) + 120))
  until [ -e "$CL/node$n/ready" ]; do
    if [ -e "$CL/node$n/failed" ] || ! cl_alive "$n" || [ "$(date +%s)" -ge "$deadline" ]; then
      echo "cluster: node$n did not come back: $(cat "$CL/node$n/failed" 2>/dev/null)" >&2
      cl_dump "$n"
      return 1
    fi
    sleep 0.1
  done
  cl_wait_for 120 "$peer" 'crm_mon -1 2>/dev/null | grep -q "Online: \[ node1 node2 \]" &&
    [ "$(crm_mon -1 -r 2>/dev/null | grep -cE "fence_dummy\).*Started")" = 2 ]' || {
    echo "cluster: node$n did not rejoin" >&2
    cl_cmd "$peer" 'crm_mon -1 -r' 10 >&2
    return 1
  }
  [ "$(cat "$CL/fence/node$peer")" = on ] || { echo "cluster: node$peer was fenced while node$n rejoined" >&2; return 1; }
  cl_log "node$n rejoined"
}

# cl_clock N — node N's clock minus the host's (seconds): the guest writes its time into a
# hostfs file, whose mtime is the host's time of that write (the guests' clocks drift).
cl_clock() {
  cl_cmd "$1" 'date +%s.%N >"$VM_RUN/clock.tmp" && mv "$VM_RUN/clock.tmp" "$VM_RUN/clock"' 15 >/dev/null || return 1
  awk -v g="$(cat "$CL/node$1/clock")" -v h="$(stat -c %.9Y "$CL/node$1/clock")" 'BEGIN { printf "%.3f", g - h }'
}

# cl_log_at N CLOCK T0 REGEX — seconds from host time T0 to the first line of node N's
# pacemaker.log matching REGEX (gawk) logged at or after T0, its guest timestamp
# ("Dec 07 01:25:13.123") mapped to host time with CLOCK (cl_clock); `-` when there is none.
cl_log_at() {
  local f=$CL/node$1/log/pacemaker/pacemaker.log r
  r=$(gawk -v off="$2" -v t0="$3" -v pat="$4" -v yr="$(date +%Y)" '
    BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " "); for (i in m) mi[m[i]] = i }
    $0 ~ pat && ($1 in mi) {
      split($3, t, ":")
      e = mktime(yr " " mi[$1] " " $2 " " t[1] " " t[2] " " int(t[3]))
      if (e < 0) next
      h = e + (t[3] - int(t[3])) - off
      if (h >= t0 - 0.2) { printf "%.2f", h - t0; exit }
    }' "$f" 2>/dev/null) || true
  echo "${r:--}"
}

# cl_cmd N SCRIPT [TIMEOUT] — runs SCRIPT (bash) on node N; prints its output, returns its
# status (124 on timeout, 125 when the node died).
# cl_key N — a new command path prefix on node N (a counter file: callers run in subshells).
cl_key() {
  local seq
  seq=$(($(cat "$CL/seq" 2>/dev/null || echo 0) + 1))
  echo "$seq" >"$CL/seq"
  printf '%s/node%s/cmd/%05d\n' "$CL" "$1" "$seq"
}

cl_cmd() {
  local n=$1 script=$2 timeout=${3:-60} k deadline
  k=$(cl_key "$n")
  printf '%s\n' "$script" >"$k.tmp"
  mv "$k.tmp" "$k.sh"
  deadline=$(($(date +%s) + timeout))
  until [ -e "$k.rc" ]; do
    if ! cl_alive "$n"; then cat "$k.out" 2>/dev/null; return 125; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "cluster: node$n: command timed out after ${timeout}s: $script" >&2
      cat "$k.out" 2>/dev/null
      return 124
    fi
    sleep 0.05
  done
  cat "$k.out"
  return "$(cat "$k.rc")"
}

# cl_bg N SCRIPT — starts SCRIPT in the background on node N; prints the command's path
# prefix (K.out, K.rc appear there).
cl_bg() {
  local n=$1 k
  k=$(cl_key "$n")
  printf '%s\n' "$2" >"$k.tmp"
  mv "$k.tmp" "$k.bg"
  echo "$k"
}

# cl_wait_for SECONDS N TEST — polls TEST on node N until it succeeds (0) or SECONDS pass (1).
cl_wait_for() {
  local secs=$1 n=$2 test=$3
  cl_cmd "$n" "for i in \$(seq 1 $((secs * 5))); do if $test; then exit 0; fi; sleep 0.2; done; exit 1" \
    $((secs + 30)) >/dev/null
}

# cl_dump N — the tails of node N's logs, for failures.
cl_dump() {
  local d=$CL/node$1
  echo "=== node$1 console (tail)" >&2
  tail -n 20 "$d/console.log" >&2 2>/dev/null
  echo "=== node$1 scenario output (tail)" >&2
  tail -n 20 "$d/output" >&2 2>/dev/null
  echo "=== node$1 pacemaker.log (tail)" >&2
  tail -n 60 "$d/log/pacemaker/pacemaker.log" >&2 2>/dev/null
}
