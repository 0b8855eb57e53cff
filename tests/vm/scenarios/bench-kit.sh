#!/bin/bash
# In-guest half of the recovery-kit benchmark (bench/kit.py writes its inputs and boots this
# once). Two servers in one guest — nodeA and nodeB, two lvm2 host identities
# (`system_id_source = "lvmlocal"`) and two kit directories — share the VGs of
# $BENCH_DIR/manifest (lvm2 restores them from text metadata, owned by nodeA; the kit's
# hierarchy is created on A and extended to B). Per VG and run, each tool brings the VG into
# service on the server that does NOT own it (so every "up" includes the ownership takeover
# write), checks it at each level, and takes it out of service again; the next run does the
# same from the other server:
#   kit        `lvmkit kit restore ID` / `quickCheck ID --level 0|10|20` / `remove ID` (the
#              resource ID `lvmvg-VG`, as an agent passes it)
#   activate   Pacemaker's ocf:heartbeat:LVM-activate (resource-agents, the host's),
#              vg_access_mode=system_id, activation_mode=exclusive: start / monitor
#              (OCF_CHECK_LEVEL 0 and 10) / stop
#   vgchange   `lvm vgchange -y --config local/extra_system_ids=[OLD] --systemid NEW VG` then
#              `lvm vgchange -ay VG` / `lvm vgchange -an VG` (what the agent runs, without it)
#   bare       the floor (dm/examples/bare_loop, $BARE): `up PLAN --links` (create, load,
#              resume, node and link per device; no ownership write) / `check PLAN` (one list,
#              one DM_TABLE_STATUS per device, tables compared: the floor of quickCheck level 0,
#              timed as qc0) / `down PLAN --links`; PLAN from `lvmkit plan`
#   engine     lvmkit's engine without the kit: `lvmkit vgchange --takeover OLD --systemid NEW
#              VG` then `lvmkit activate VG` / `lvmkit deactivate VG` (the kit's overhead is
#              restore - engine up, remove - engine down)
# Timed with bash's $EPOCHREALTIME (no process spawned for the clock): whole processes,
# start-up included.
#
# Env: BENCH_DIR (manifest + metadata files), LVMKIT (static lvmkit), RUNS, TOOLS (default
# "kit activate vgchange engine bare"), BARE, PROFILE (a folder: one more kit cycle under strace). Disks: $VM_DISKS.
# Manifest lines: `linear VG DISK PVUUID FILE` (DISK = 1-based index into $VM_DISKS).
# Output: `T VG TOOL OP RUN MICROSECONDS` (OP up, down, qc0, qc10, qc20, mon0, mon10; run 0 is
# the warm-up), `I …` information; a failed command or check prints FAIL and exits 1. Checks:
# after every up the VG's LVs are all active (dm devices under the VG's uuid) and the new
# owner is on disk (lvm2 reads it); after every down none is left; at the warm-up, the kit's
# tables equal lvm2's.
set -u
TOOLS=${TOOLS:-kit activate vgchange engine bare}
read -r -a DISKS <<<"${VM_DISKS:-/dev/ubdb /dev/ubdc}"
disk() { echo "${DISKS[$(($1 - 1))]}"; }
fail() { echo "FAIL: $*"; exit 1; }
OUT=/run/bench.out
run() { "$@" >"$OUT" 2>&1 || { cat "$OUT"; fail "$*"; }; }
export LVM_SUPPRESS_FD_WARNINGS=1
[ -w /sys/kernel/uevent_helper ] && echo >/sys/kernel/uevent_helper

# --- the two servers ---
# shellcheck source=tests/vm/scenarios/lvm2-env.sh
. "$(dirname "$0")/lvm2-env.sh"
# Server state on the guest's tmpfs (a node's local disk), not on the host through hostfs.
node_dir() { echo "/run/kit-nodes/node-$1"; }
for n in nodeA nodeB; do
  d=$(node_dir $n)
  mkdir -p "$d/lvm" "$d/kit" "$d/archive" "$d/backup" "$d/lock"
  lvm2_conf "$d/lvm" 'hints = "none"' 'system_id_source = "lvmlocal"' "locking_dir = \"$d/lock\""
  printf 'local {\n  system_id = "%s"\n}\n' "$n" >"$d/lvm/lvmlocal.conf"
done
# as NODE CMD…: CMD in NODE's environment (its host identity, kit directory, lists).
as() {
  local node=$1 d
  d=$(node_dir "$1")
  shift
  LVM_SYSTEM_DIR=$d/lvm LVMKIT_KIT_DIR=$d/kit LVMKIT_CONTROLLED_VGS=$d/lkvgs LVMKIT_SERVER=$node \
    LVMKIT_ARCHIVE_DIR=$d/archive LVMKIT_BACKUP_DIR=$d/backup LVMKIT_LOCK_DIR=$d/lock \
    LVMKIT_HINTS=none "$@"
}

# --- Pacemaker's agent, as pacemaker-execd would call it ---
RA=/usr/lib/ocf/resource.d/heartbeat/LVM-activate
[ -x "$RA" ] || fail "$RA missing (apt-get install --no-install-recommends resource-agents)"
mkdir -p /run/resource-agents
ra() { # NODE VG ACTION [LEVEL]
  local node=$1 vg=$2 action=$3
  as "$node" env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="lvm-$vg" OCF_RESOURCE_TYPE=LVM-activate \
    OCF_RESKEY_vgname="$vg" OCF_RESKEY_vg_access_mode=system_id OCF_RESKEY_activation_mode=exclusive \
    OCF_RESKEY_CRM_meta_timeout=90000 OCF_CHECK_LEVEL="${4:-0}" HA_RSCTMP=/run/resource-agents \
    HA_LOGFILE="$VM_RUN/ra.log" HA_DEBUG=0 "$RA" "$action"
}

echo "I kernel $(uname -r) cpus $(nproc) mem $(awk '/MemTotal/ {print int($2 / 1024) "M"}' /proc/meminfo)" \
  "lvm2 $(lvm version 2>/dev/null | awk '/LVM version/ {print $3}')"

# --- counting (globs and sysfs, no processes) ---
under() { # VAR VGUUID: the number of dm devices whose uuid starts with LVM-VGUUID
  local -n __n=$1
  local __u __d
  __n=0
  for __d in /sys/block/dm-*/dm/uuid; do
    [ -e "$__d" ] || continue
    read -r __u <"$__d"
    [[ $__u == "LVM-$2"* ]] && __n=$((__n + 1))
  done
}
owner() { as nodeA lvm vgs --foreign --noheadings -o systemid "$1" 2>/dev/null | tr -d ' '; }
# sorted `dmsetup table` lines of VG's devices
tables() { dmsetup table | grep "^$1-" | sort; }

t() { # VG TOOL OP RUN CMD…: runs CMD timed; prints the T line
  local vg=$1 tool=$2 op=$3 r=$4 s e
  shift 4
  s=$EPOCHREALTIME
  "$@" >"$OUT" 2>&1 || { cat "$OUT"; tail -n 20 "$VM_RUN/ra.log" 2>/dev/null; fail "$vg $tool $op run $r: $*"; }
  e=$EPOCHREALTIME
  echo "T $vg $tool $op $r $(((${e/./} - ${s/./})))"
}
engine_up() { # VG NODE FROM: the same with lvmkit's engine commands (no kit)
  as "$2" "$LVMKIT" vgchange --devices "$DEV" --takeover "$3" --systemid "$2" "$1" &&
    as "$2" "$LVMKIT" activate --devices "$DEV" "$1"
}
vg_up() { # VG NODE FROM: lvm2's takeover and activation, as the agent runs them
  as "$2" lvm vgchange -y --config "local/extra_system_ids=[\"$3\"]" --systemid "$2" "$1" &&
    as "$2" lvm vgchange -ay "$1"
}
other() { [ "$1" = nodeA ] && echo nodeB || echo nodeA; }

bench_vg() { # VG N
  local vg=$1 want=$2 uuid r tool node from n ref
  uuid=$(as nodeA lvm vgs --noheadings -o vg_uuid "$vg" | tr -d ' -')
  [ -n "$uuid" ] || fail "no uuid for $vg"
  # lvm2's own tables, for the check at the warm-up.
  run as nodeA lvm vgchange -ay "$vg"
  ref=$(tables "$vg")
  run as nodeA lvm vgchange -an "$vg"
  # The floor's plan (the same tables: checked at the warm-up like the kit's).
  if [[ " $TOOLS " == *" bare "* ]]; then
    as nodeA "$LVMKIT" plan --foreign --devices "$DEV" "$vg" >"$VM_RUN/$vg.plan" || fail "lvmkit plan $vg"
  fi
  # The kit's hierarchy: on A, extended to B (A owns the VG).
  if [[ " $TOOLS " == *" kit "* ]]; then
    # The lvmvg and one lvmlv (the VG's restore brings every LV up; a hierarchy of every LV
    # took minutes to create and extend at 1000 LVs: each new resource lists the whole store).
    run as nodeA "$LVMKIT" kit create "/dev/$vg/lv0000"
    as nodeA "$LVMKIT" kit export "$vg" >"$VM_RUN/$vg.template" || fail "kit export $vg"
    run as nodeB "$LVMKIT" kit extend "$VM_RUN/$vg.template"
    # And back: A records B as a peer too.
    as nodeB "$LVMKIT" kit export "$vg" >"$VM_RUN/$vg.template" || fail "kit export $vg on B"
    run as nodeA "$LVMKIT" kit extend "$VM_RUN/$vg.template"
  fi
  for r in $(seq 0 "$RUNS"); do
    for tool in $TOOLS; do
      from=$(owner "$vg")
      node=$(other "$from")
      case $tool in
        kit)
          t "$vg" kit up "$r" as "$node" "$LVMKIT" kit restore "lvmvg-$vg"
          ;;
        activate)
          t "$vg" activate up "$r" ra "$node" "$vg" start
          ;;
        vgchange)
          t "$vg" vgchange up "$r" vg_up "$vg" "$node" "$from" ;;
        engine)
          t "$vg" engine up "$r" engine_up "$vg" "$node" "$from" ;;
        bare)
          t "$vg" bare up "$r" "$BARE" up "$VM_RUN/$vg.plan" --links ;;
      esac
      under n "$uuid"
      [ "$n" = "$want" ] || fail "$vg $tool up run $r: $n devices, want $want"
      [ "$tool" = bare ] || [ "$(owner "$vg")" = "$node" ] || fail "$vg $tool up run $r: owner $(owner "$vg"), want $node"
      if [ "$r" = 0 ] && { [ "$tool" = kit ] || [ "$tool" = bare ]; }; then
        [ "$(tables "$vg")" = "$ref" ] || { diff <(echo "$ref") <(tables "$vg") | head; fail "$vg: $tool's tables differ from lvm2's"; }
      fi
      case $tool in
        kit)
          for l in 0 10 20; do t "$vg" kit "qc$l" "$r" as "$node" "$LVMKIT" kit quickCheck "lvmvg-$vg" --level $l; done
          t "$vg" kit down "$r" as "$node" "$LVMKIT" kit remove "lvmvg-$vg" ;;
        activate)
          for l in 0 10; do t "$vg" activate "mon$l" "$r" ra "$node" "$vg" monitor $l; done
          t "$vg" activate down "$r" ra "$node" "$vg" stop ;;
        vgchange)
          t "$vg" vgchange down "$r" as "$node" lvm vgchange -an "$vg" ;;
        engine)
          t "$vg" engine down "$r" as "$node" "$LVMKIT" deactivate --devices "$DEV" "$vg" ;;
        bare)
          t "$vg" bare qc0 "$r" "$BARE" check "$VM_RUN/$vg.plan"
          t "$vg" bare down "$r" "$BARE" down "$VM_RUN/$vg.plan" --links ;;
      esac
      under n "$uuid"
      [ "$n" = 0 ] || fail "$vg $tool down run $r: $n devices left"
    done
  done
  if [ -n "${PROFILE:-}" ] && [[ " $TOOLS " == *" kit "* ]]; then
    # One more kit cycle, each command under `strace -f -r` (relative timestamps: the gaps
    # between system calls are user-space time), untimed.
    from=$(owner "$vg")
    node=$(other "$from")
    mkdir -p "$PROFILE"
    local op
    for op in restore "quickCheck --level 0" "quickCheck --level 10" remove; do
      # shellcheck disable=SC2086
      run as "$node" strace -f -r -o "$PROFILE/$vg-${op// /}.strace" "$LVMKIT" kit $op "lvmvg-$vg"
    done
    echo "I $vg: strace of restore, quickCheck 0/10 and remove in $PROFILE"
  fi
}

while read -r kind vg d pv file; do
  case $kind in
    linear)
      dev=$(disk "$d")
      DEV=$dev
      run as nodeA lvm pvcreate -ff -y --metadatasize 2m --uuid "$pv" --restorefile "$BENCH_DIR/$file" "$dev"
      run as nodeA lvm vgcfgrestore -f "$BENCH_DIR/$file" "$vg"
      run as nodeA lvm vgchange -y --systemid nodeA "$vg"
      n=$(as nodeA lvm vgs --noheadings -o lv_count "$vg" | tr -d ' ')
      echo "I $vg: $n LVs on $dev, owner $(owner "$vg")"
      bench_vg "$vg" "$n"
      ;;
    *) fail "manifest: $kind" ;;
  esac
done <"$BENCH_DIR/manifest"
echo "I done"
