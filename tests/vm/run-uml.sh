#!/usr/bin/env bash
# Boots Debian's user-mode-linux kernel once, runs SCENARIO inside it, prints what it printed
# and exits with its exit status.
#
#   tests/vm/run-uml.sh SCENARIO [IMAGE…]
#
# The guest:
#   - root is the host's filesystem through hostfs (so host tools and our binaries run as they
#     are: give absolute paths); the guest mounts its own proc, sysfs, devtmpfs on /dev and
#     tmpfs on /run, so nothing of the host's /dev, /proc, /sys or /run is touched. Files the
#     scenario writes elsewhere land on the host: keep them in $VM_RUN.
#   - /dev/ubda is a 64 MiB scratch disk private to the run; the IMAGEs are /dev/ubdb,
#     /dev/ubdc, … in order (read-write: pass copies you can lose). At most 15 images.
#   - device-mapper and its targets are loaded with insmod in modules.dep order: dm-mod,
#     dm-zero, dm-snapshot, dm-mirror (dm-log, dm-region-hash), dm-thin-pool, dm-cache +
#     dm-cache-smq, dm-raid with raid1/raid10/raid456. There is no udev and no modprobe.
#   - the scenario runs as root with cwd, $VM_RUN, $HOME and $TMPDIR = the run's temp folder,
#     PATH with the host's /usr/sbin, stdin /dev/null. A scenario starting with `#!` (or an
#     ELF binary) is executed as is, any other with /bin/sh. PID 1 is tests/vm/init.c.
#
# UML exits 0 on halt, so the init writes the scenario's output and status into the run
# folder (hostfs) and the host side reads them back. The whole boot is bounded by
# LVMKIT_VM_TIMEOUT seconds (default 300); on timeout or a boot failure the kernel console
# log is printed and the exit status is 124 (timeout) or 125 (no result).
# Env: LVMKIT_VM_CACHE (default target/vm-cache, made by tests/vm/setup.sh), LVMKIT_VM_MEM
# (default 384M), LVMKIT_VM_KEEP=1 keeps the run folder, LVMKIT_VM_CONSOLE=1 prints the console.
# The run folder is removed on exit; nothing outside it is created (no loop devices).
set -euo pipefail

usage() { echo "usage: $0 SCENARIO [IMAGE…]" >&2; exit 2; }
[ $# -ge 1 ] || usage
scenario=$1
shift
[ -f "$scenario" ] || { echo "run-uml: no scenario file $scenario" >&2; exit 2; }
[ $# -le 15 ] || usage

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${LVMKIT_VM_CACHE:-$repo/target/vm-cache}
kernel=$cache/usr/bin/linux.uml
init=$cache/init
shim=$cache/uml-xstate-shim.so
if [ ! -x "$kernel" ] || [ ! -x "$init" ] || [ ! -f "$shim" ]; then
  echo "run-uml: $cache is not set up: run tests/vm/setup.sh" >&2
  exit 2
fi
moddir=$(ls -d "$cache"/usr/lib/uml/modules/*/ | head -n1)
moddir=${moddir%/}

run=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-uml.XXXXXX")
run=$(cd "$run" && pwd -P)
uml_pid=""
cleanup() {
  if [ -n "$uml_pid" ] && kill -0 "$uml_pid" 2>/dev/null; then
    kill -KILL -- "-$uml_pid" 2>/dev/null || kill -KILL "$uml_pid" 2>/dev/null || true
  fi
  if [ "${LVMKIT_VM_KEEP:-0}" = 1 ]; then
    echo "run-uml: kept $run" >&2
  else
    rm -rf "$run"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The init executes the scenario: give a script without a #! line one for /bin/sh.
if [ "$(head -c2 "$scenario")" = "#!" ] || [ "$(head -c4 "$scenario")" = $'\x7fELF' ]; then
  cp "$scenario" "$run/scenario"
else
  { echo '#!/bin/sh'; cat "$scenario"; } >"$run/scenario"
fi
chmod +x "$run/scenario"

# Modules in dependency order: for each wanted module its modules.dep line lists every
# dependency, deepest last, so load them right to left, then the module; skip repeats.
wanted="dm-mod dm-zero dm-snapshot dm-mirror dm-thin-pool dm-cache dm-cache-smq
        raid1 raid10 raid456 dm-raid"
awk -v wanted="$wanted" -v dir="$moddir" '
  BEGIN { n = split(wanted, w, /[ \n]+/) }
  {
    mod = $1; sub(/:$/, "", mod)
    base = mod; sub(/.*\//, "", base); sub(/\.ko$/, "", base)
    line[base] = $0
  }
  END {
    for (i = 1; i <= n; i++) {
      if (w[i] == "") continue
      if (!(w[i] in line)) { print "missing module " w[i] > "/dev/stderr"; exit 1 }
      k = split(line[w[i]], f, " ")
      f[1] = substr(f[1], 1, length(f[1]) - 1)
      for (j = k; j >= 2; j--) if (!(f[j] in seen)) { seen[f[j]] = 1; print dir "/" f[j] }
      if (!(f[1] in seen)) { seen[f[1]] = 1; print dir "/" f[1] }
    }
  }' "$moddir/modules.dep" >"$run/modules"

truncate -s 64M "$run/scratch.img"
disks=("ubd0=$run/scratch.img")
i=1
for img in "$@"; do
  [ -f "$img" ] || [ -b "$img" ] || { echo "run-uml: no image $img" >&2; exit 2; }
  disks+=("ubd$i=$(readlink -f "$img")")
  i=$((i + 1))
done

timeout=${LVMKIT_VM_TIMEOUT:-300}
start=$(date +%s.%N)
# setsid: UML forks a host process per guest process; a new session lets cleanup kill them all.
# The shim: see tests/vm/uml-xstate-shim.c (hosts with AVX-512/AMX).
LD_PRELOAD=$shim setsid "$kernel" mem="${LVMKIT_VM_MEM:-384M}" rootfstype=hostfs rootflags=/ rw \
  init="$init" LVMKIT_VM_RUN="$run" uml_dir="$run" umid=lvmkit "${disks[@]}" \
  con=null ssl=null con0=null,fd:1 loglevel=4 \
  </dev/null >"$run/console.log" 2>&1 &
uml_pid=$!
deadline=$(( $(date +%s) + timeout ))
while kill -0 "$uml_pid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    kill -KILL -- "-$uml_pid" 2>/dev/null || true
    wait "$uml_pid" 2>/dev/null || true
    uml_pid=""
    echo "run-uml: timed out after ${timeout}s; console:" >&2
    tail -n 50 "$run/console.log" >&2
    [ -f "$run/output" ] && { echo "run-uml: output so far:" >&2; cat "$run/output" >&2; }
    exit 124
  fi
  sleep 0.05
done
wait "$uml_pid" 2>/dev/null || true
uml_pid=""
end=$(date +%s.%N)

[ -f "$run/output" ] && cat "$run/output"
if [ "${LVMKIT_VM_CONSOLE:-0}" = 1 ]; then
  echo "run-uml: console:" >&2
  cat "$run/console.log" >&2
fi
if [ ! -f "$run/status" ]; then
  echo "run-uml: the guest left no result; console:" >&2
  tail -n 50 "$run/console.log" >&2
  exit 125
fi
status=$(cat "$run/status")
printf 'run-uml: guest exit status %s, boot+run %.2f s\n' "$status" "$(echo "$end - $start" | bc 2>/dev/null || echo 0)" >&2
if [ "$status" != 0 ]; then
  echo "run-uml: kernel messages (tail):" >&2
  grep -v '^\s*$' "$run/console.log" | tail -n 30 >&2
fi
exit "$status"
