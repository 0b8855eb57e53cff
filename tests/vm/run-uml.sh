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
#     /dev/ubdc, … in order (read-write: pass copies you can lose), listed in $VM_DISKS. At
#     most 15 images.
#   - device-mapper and its targets are loaded with finit_module in modules.dep order: dm-mod,
#     dm-zero, dm-snapshot, dm-mirror (dm-log, dm-region-hash), dm-thin-pool, dm-cache +
#     dm-cache-smq, dm-raid with raid0/raid1/raid10/raid456. There is no udev and no modprobe.
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
# What this shares with run-qemu.sh (arguments, run folder, module order, wait, result) is in
# tests/vm/lib.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm_name=uml
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

repo=$(cd "$here/../.." && pwd)
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

vm_begin "$@"
vm_module_order "$moddir" $VM_DM_MODULES $VM_UML_EXTRA_MODULES >"$vm_run/modules"
vm_disks ubd

truncate -s 64M "$vm_run/scratch.img"
disks=("ubd0=$vm_run/scratch.img")
i=1
for img in "${vm_images[@]}"; do
  disks+=("ubd$i=$img")
  i=$((i + 1))
done

start=$(date +%s.%N)
# setsid: UML forks a host process per guest process; a new session lets cleanup kill them all.
# The shim: see tests/vm/uml-xstate-shim.c (hosts with AVX-512/AMX).
LD_PRELOAD=$shim setsid "$kernel" mem="${LVMKIT_VM_MEM:-384M}" rootfstype=hostfs rootflags=/ rw \
  init="$init" LVMKIT_VM_RUN="$vm_run" uml_dir="$vm_run" umid=lvmkit "${disks[@]}" \
  con=null ssl=null con0=null,fd:1 loglevel=4 \
  </dev/null >"$vm_run/console.log" 2>&1 &
vm_pid=$!
vm_wait 300
vm_finish "$start"
