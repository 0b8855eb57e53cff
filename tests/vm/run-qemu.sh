#!/usr/bin/env bash
# Boots Debian's linux-image-amd64 kernel once under qemu (TCG: there is no KVM here), runs
# SCENARIO inside it, prints what it printed and exits with its exit status. The same contract
# as tests/vm/run-uml.sh, so the same scenarios and static test binaries run in both:
#
#   tests/vm/run-qemu.sh SCENARIO [IMAGE…]
#
# The guest (made by tests/vm/setup.sh in target/vm-cache/qemu, see tests/vm/setup-qemu.sh):
#   - `qemu-system-x86_64 -accel tcg -cpu max -smp 2`: two vCPUs (SMP; multi-threaded TCG, one
#     host thread each, so they really run at once), the real block layer (virtio-blk, blk-mq).
#   - root is the host's `/`, exported read-write with virtio-9p (security_model=passthrough,
#     multidevs=remap) and mounted by the initramfs, which then switches to tests/vm/init.c —
#     the same PID 1 as under UML: it mounts the guest's own proc, sysfs, devtmpfs, /run and
#     /dev/shm, loads the dm modules (from target/vm-cache/qemu/modules, in modules.dep
#     order), runs the scenario and writes its output and status into the run folder.
#   - /dev/vda is a 64 MiB scratch disk private to the run; the IMAGEs are /dev/vdb, /dev/vdc,
#     … in order (read-write: pass copies you can lose), listed in $VM_DISKS. At most 15
#     images. Disks are raw with cache=writeback (qemu's default): the guest's writes go to
#     the host's page cache, so the host sees them as soon as they are written (also after the
#     boot), the guest's flushes become fsync, and images may live on any filesystem
#     (cache=none needs O_DIRECT, which tmpfs lacks).
#   - the scenario runs as root with cwd, $VM_RUN, $HOME and $TMPDIR = the run's temp folder,
#     PATH with the host's /usr/sbin, stdin /dev/null; `#!` or ELF is executed as is, any other
#     file with /bin/sh.
#
# init.c powers off and qemu (-no-reboot) exits 0; a kernel panic reboots, which ends qemu too.
# The whole boot is bounded by LVMKIT_VM_TIMEOUT seconds (default 600: TCG runs code several
# times slower than UML); exit 124 on timeout, 125 when the guest left no result (the console
# is printed), 126 when a module failed to load.
# Env: LVMKIT_VM_CACHE (default target/vm-cache), LVMKIT_VM_MEM (default 512M),
# LVMKIT_VM_KEEP=1 keeps the run folder, LVMKIT_VM_CONSOLE=1 prints the console,
# LVMKIT_VM_MULTIPATH="IMAGE…" attaches each IMAGE twice more, as two SCSI disks (virtio-scsi,
# scsi-hd) with one WWN and serial on the one shared file (share-rw=on, image locking off):
# the two paths of a multipath LUN, /dev/sda + /dev/sdb for the first IMAGE, and so on (find
# them by /sys/block/sdX/device/wwid: naa.5000c5000000000N for the Nth IMAGE).
# LVMKIT_VM_QEMU_ACCEL (default tcg): `tcg,thread=single` runs both vCPUs in one host thread,
# still SMP to the guest but never at the same instant; on a busy host it ran exec-heavy
# scenarios ~1.6x faster (no cross-thread TLB flushes).
# The run folder is removed on exit; nothing outside it is created (no loop devices).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm_name=qemu
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

repo=$(cd "$here/../.." && pwd)
cache=${LVMKIT_VM_CACHE:-$repo/target/vm-cache}
q=$cache/qemu
init=$cache/init
if [ ! -f "$q/vmlinux" ] || [ ! -f "$q/initramfs.gz" ] || [ ! -x "$init" ] ||
  ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "run-qemu: $cache is not set up: run tests/vm/setup.sh" >&2
  exit 2
fi

vm_begin "$@"
vm_module_order "$q/modules" $VM_QEMU_MODULES $VM_DM_MODULES >"$vm_run/modules"
vm_disks vd
case "$vm_run$init" in
*[[:space:]]*) echo "run-qemu: $vm_run or $init has a blank (not allowed on the kernel command line)" >&2
  exit 2 ;;
esac

truncate -s 64M "$vm_run/scratch.img"
drives=()
for img in "$vm_run/scratch.img" "${vm_images[@]}"; do
  drives+=(-drive "file=${img//,/,,},format=raw,if=virtio,cache=writeback")
done

if [ -n "${LVMKIT_VM_MULTIPATH:-}" ]; then
  drives+=(-device virtio-scsi-pci,id=mpscsi)
  n=0
  for img in $LVMKIT_VM_MULTIPATH; do
    [ -f "$img" ] || { echo "run-qemu: no multipath image $img" >&2; exit 2; }
    n=$((n + 1))
    for p in 0 1; do
      drives+=(-drive "file=${img//,/,,},format=raw,if=none,id=mp${n}p$p,cache=writeback,file.locking=off")
      drives+=(-device "scsi-hd,bus=mpscsi.0,drive=mp${n}p$p,scsi-id=$((2 * n + p - 2)),lun=0,wwn=$(printf '0x5000c500%08x' "$n"),serial=LVMKITMP$n,share-rw=on")
    done
  done
fi

start=$(date +%s.%N)
# setsid: its own session, so cleanup can kill it by process group like UML.
setsid qemu-system-x86_64 -accel "${LVMKIT_VM_QEMU_ACCEL:-tcg}" -cpu max -smp 2 -m "${LVMKIT_VM_MEM:-512M}" \
  -nodefaults -display none -serial stdio -no-reboot \
  -kernel "$q/vmlinux" -initrd "$q/initramfs.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 LVMKIT_VM_RUN=$vm_run LVMKIT_VM_INIT=$init" \
  -fsdev local,id=hostroot,path=/,security_model=passthrough,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  "${drives[@]}" \
  </dev/null >"$vm_run/console.log" 2>&1 &
vm_pid=$!
vm_wait 600
vm_finish "$start"
