#!/bin/bash
# Start-up probe (issue 4): where a short-lived static program's time goes in the guest
# before it does any real work. Times whole processes with bash's $EPOCHREALTIME (no process
# for the clock), commands interleaved run by run so that every variant sees the same guest.
#
# Env: PROBE_DIR (host folder, through hostfs) with
#   manifest   optional; `linear VG DISK PVUUID FILE` lines as bench/activate.py writes them:
#              with PROBE_BUILD=1 lvm2 builds those VGs first (pvcreate --uuid --restorefile +
#              vgcfgrestore), so later boots can reuse the images as they are
#   setup      optional shell lines run once before the timing (plan files and the like)
#   commands   `LABEL COMMAND…` per line: COMMAND is run (eval'd, so $DISK1, $VM_RUN and
#              redirections work) RUNS+1 times, run 0 untimed
#   once       optional shell lines run once after the timing, their output shown (strace
#              summaries and the like)
# RUNS (default 15). $DISK1… are the image disks ($VM_DISKS in order).
#
# Output: `T LABEL RUN MICROSECONDS` per timed run (run 0 is the warm-up), `I …` facts,
# `FAIL …` and exit 1 when a command fails.
set -u
. "$(dirname "$0")/lvm2-env.sh"
read -r -a DISKS <<<"${VM_DISKS:-}"
for i in "${!DISKS[@]}"; do printf -v "DISK$((i + 1))" %s "${DISKS[$i]}"; done
fail() { echo "FAIL: $*"; exit 1; }
OUT=$VM_RUN/probe.out
# No /sbin/hotplug spawn per uevent (see bench-activate.sh).
[ -w /sys/kernel/uevent_helper ] && echo >/sys/kernel/uevent_helper
echo "I kernel $(uname -r) cpus $(nproc) mem $(awk '/MemTotal/ {print int($2 / 1024) "M"}' /proc/meminfo)"

if [ "${PROBE_BUILD:-0}" = 1 ] && [ -f "$PROBE_DIR/manifest" ]; then
  while read -r kind vg d uuid file; do
    [ "$kind" = linear ] || continue
    dev=${DISKS[$((d - 1))]}
    lvm pvcreate -q --uuid "$uuid" --restorefile "$PROBE_DIR/$file" "$dev" >"$OUT" 2>&1 &&
      lvm vgcfgrestore -q -f "$PROBE_DIR/$file" "$vg" >>"$OUT" 2>&1 || { cat "$OUT"; fail "building $vg"; }
    echo "I built $vg on $dev"
  done <"$PROBE_DIR/manifest"
fi

if [ -f "$PROBE_DIR/setup" ]; then
  # shellcheck disable=SC1091
  . "$PROBE_DIR/setup"
fi

labels=() cmds=()
while read -r label cmd; do
  [ -n "$label" ] && [ "${label:0:1}" != "#" ] || continue
  labels+=("$label")
  cmds+=("$cmd")
done <"$PROBE_DIR/commands"

for r in $(seq 0 "${RUNS:-15}"); do
  for i in "${!labels[@]}"; do
    s=${EPOCHREALTIME/./}
    eval "${cmds[$i]}" </dev/null >"$OUT" 2>&1 || { cat "$OUT"; fail "${labels[$i]} run $r: ${cmds[$i]}"; }
    e=${EPOCHREALTIME/./}
    echo "T ${labels[$i]} $r $((e - s))"
  done
done

if [ -f "$PROBE_DIR/once" ]; then
  # shellcheck disable=SC1091
  . "$PROBE_DIR/once"
fi
echo "I done"
