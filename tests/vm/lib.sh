# Shared by the VM runners (tests/vm/run-uml.sh, tests/vm/run-qemu.sh); sourced, not run.
# What both harnesses do the same way: the modules a guest loads and their load order, the
# argument checks, the run folder (scenario, module list, disk list, cleanup), the bounded wait
# for the guest and reading its result back. A runner sets:
#   vm_name   "uml" / "qemu": messages ("run-uml: …") and the run folder's name
# calls `vm_begin "$@"`, builds its command line from $vm_run, $vm_scenario and vm_images,
# starts the guest in its own session (setsid) with `vm_pid=$!`, then `vm_wait` and `vm_finish`.

# Every dm target the scenarios use (deps follow from modules.dep): dm-mod, dm-zero,
# dm-snapshot, dm-mirror (dm-log, dm-region-hash), dm-thin-pool, dm-cache + dm-cache-smq,
# dm-writecache, dm-integrity,
# raid1/raid10/raid456 and dm-raid (md-mod, async_tx, raid6_pq, …).
VM_DM_MODULES="dm-mod dm-zero dm-snapshot dm-mirror dm-thin-pool dm-cache dm-cache-smq
  dm-writecache dm-integrity raid1 raid10 raid456 dm-raid"
# md's raid0 personality, which dm-raid's raid0 and raid0_meta need (without it their table
# load fails with EINVAL): loaded by the UML guest, which has every module; only
# activate-types.sh (UML) uses it. Moving it into VM_DM_MODULES gives the qemu guest it too, at
# the price of setup-qemu.sh fetching the kernel package again once (its module stamp changes).
VM_UML_EXTRA_MODULES="raid0"
# What the qemu guest needs on top, being modules in Debian's linux-image-amd64 (built into
# user-mode-linux): the host's root (virtio-pci, virtio-9p; loaded by the initramfs) and, after
# it, the disks and crc32c_generic — libcrc32c (thin, cache, raid) only names it as a softdep,
# which modules.dep leaves out; virtio-scsi disks (sd) and dm-multipath with its round-robin path
# selector for the multipath tests (two SCSI paths to one disk: lvm2 detects multipath
# components only on SCSI and NVMe disks).
VM_QEMU_ROOT_MODULES="virtio_pci 9pnet_virtio 9p"
VM_QEMU_MODULES="virtio_blk crc32c_generic virtio_scsi sd_mod dm-multipath dm-round-robin"

# vm_module_order MODDIR MODULE… — prints MODDIR/PATH of each MODULE and of everything it
# needs, dependencies first (depth-first over modules.dep, which kmod's and busybox's depmod
# both write, in different orders), each once. A module the kernel has built in (listed in
# MODDIR/modules.builtin) needs no loading and is left out; one the kernel has neither as a
# module nor built in is named in one line on stderr and left out too, so a distribution
# kernel that drops or builds in a target never stops the harness: the test that needs the
# target then fails naming it (lvmkit's MissingTarget error says which module).
# apt-get update once per setup run (setup.sh, setup-qemu.sh): `$sudo` is "" as root.
vm_apt_updated=0
vm_apt_update() {
  if [ "$vm_apt_updated" = 0 ]; then
    ${sudo:-} apt-get update -qq
    vm_apt_updated=1
  fi
}

vm_module_order() {
  local dir=$1
  shift
  awk -v wanted="$*" -v dir="$dir" -v builtin="$dir/modules.builtin" '
    function visit(m,    k, f, j, d) {
      if (m in seen) return
      seen[m] = 1
      if (!(m in line)) {
        alt = m; gsub(/-/, "_", alt)
        if (!(m in built) && !(alt in built))
          print "vm: the guest kernel has no module " m " (not built in either); tests that need it will fail naming it" > "/dev/stderr"
        return
      }
      k = split(line[m], f, " ")
      for (j = 2; j <= k; j++) { d = f[j]; sub(/.*\//, "", d); sub(/\.ko(\.[gx]z|\.zst)?$/, "", d); visit(d) }
      print dir "/" path[m]
    }
    BEGIN {
      while ((getline b < builtin) > 0) { sub(/.*\//, "", b); sub(/\.ko$/, "", b); built[b] = 1; c = b; gsub(/_/, "-", c); built[c] = 1 }
    }
    {
      p = $1; sub(/:$/, "", p)
      base = p; sub(/.*\//, "", base); sub(/\.ko(\.[gx]z|\.zst)?$/, "", base)
      line[base] = $0; path[base] = p
    }
    END {
      n = split(wanted, w, /[ \n]+/)
      for (i = 1; i <= n; i++) if (w[i] != "") visit(w[i])
    }' "$dir/modules.dep"
}

vm_usage() {
  echo "usage: run-$vm_name.sh SCENARIO [IMAGE…]" >&2
  exit 2
}

# vm_begin SCENARIO [IMAGE…] — checks the arguments (at most 15 images, each a file or block
# device), makes the run folder $vm_run (removed at exit unless LVMKIT_VM_KEEP=1; the trap
# also kills the guest's session), puts the scenario there as an executable ($run/scenario:
# one without `#!` and not ELF gets a /bin/sh line) and sets vm_scenario and vm_images
# (absolute paths).
vm_begin() {
  [ $# -ge 1 ] || vm_usage
  vm_scenario=$1
  shift
  [ -f "$vm_scenario" ] || { echo "run-$vm_name: no scenario file $vm_scenario" >&2; exit 2; }
  [ $# -le 15 ] || vm_usage
  vm_images=()
  local img
  for img in "$@"; do
    [ -f "$img" ] || [ -b "$img" ] || { echo "run-$vm_name: no image $img" >&2; exit 2; }
    vm_images+=("$(readlink -f "$img")")
  done

  vm_run=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-$vm_name.XXXXXX")
  vm_run=$(cd "$vm_run" && pwd -P)
  vm_pid=""
  trap vm_cleanup EXIT
  trap 'exit 130' INT TERM

  # The init executes the scenario: give a script without a #! line one for /bin/sh.
  if [ "$(head -c2 "$vm_scenario")" = "#!" ] || [ "$(head -c4 "$vm_scenario")" = $'\x7fELF' ]; then
    cp "$vm_scenario" "$vm_run/scenario"
  else
    { echo '#!/bin/sh'; cat "$vm_scenario"; } >"$vm_run/scenario"
  fi
  chmod +x "$vm_run/scenario"
}

# vm_disks PREFIX — writes $vm_run/disks: the guest's device paths of the images in order
# (/dev/PREFIXb, /dev/PREFIXc, …; PREFIXa is the scratch disk). init.c exports the line to the
# scenario as $VM_DISKS.
vm_disks() {
  local letters=bcdefghijklmnop i out=""
  for ((i = 0; i < ${#vm_images[@]}; i++)); do
    out+="${out:+ }/dev/$1${letters:i:1}"
  done
  echo "$out" >"$vm_run/disks"
}

vm_kill() {
  if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then
    kill -KILL -- "-$vm_pid" 2>/dev/null || kill -KILL "$vm_pid" 2>/dev/null || true
    wait "$vm_pid" 2>/dev/null || true
  fi
  vm_pid=""
}

vm_cleanup() {
  vm_kill
  if [ "${LVMKIT_VM_KEEP:-0}" = 1 ]; then
    echo "run-$vm_name: kept $vm_run" >&2
  else
    rm -rf "$vm_run"
  fi
}

# vm_wait DEFAULT_TIMEOUT — waits for the guest ($vm_pid) at most LVMKIT_VM_TIMEOUT seconds
# (else DEFAULT_TIMEOUT); on timeout kills it, prints the console's tail and what the scenario
# printed so far, and exits 124.
vm_wait() {
  local timeout=${LVMKIT_VM_TIMEOUT:-$1} deadline
  deadline=$(($(date +%s) + timeout))
  while kill -0 "$vm_pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      vm_kill
      echo "run-$vm_name: timed out after ${timeout}s; console:" >&2
      tail -n 50 "$vm_run/console.log" >&2
      [ -f "$vm_run/output" ] && { echo "run-$vm_name: output so far:" >&2; cat "$vm_run/output" >&2; }
      exit 124
    fi
    sleep 0.05
  done
  wait "$vm_pid" 2>/dev/null || true
  vm_pid=""
}

# vm_finish START — prints the scenario's output, the console when LVMKIT_VM_CONSOLE=1, and
# exits with the scenario's status (125 and the console's tail when the guest left none).
# START is `date +%s.%N` from before the boot.
vm_finish() {
  local end status
  end=$(date +%s.%N)
  [ -f "$vm_run/output" ] && cat "$vm_run/output"
  if [ "${LVMKIT_VM_CONSOLE:-0}" = 1 ]; then
    echo "run-$vm_name: console:" >&2
    cat "$vm_run/console.log" >&2
  fi
  if [ ! -f "$vm_run/status" ]; then
    echo "run-$vm_name: the guest left no result; console:" >&2
    tail -n 50 "$vm_run/console.log" >&2
    exit 125
  fi
  status=$(cat "$vm_run/status")
  printf 'run-%s: guest exit status %s, boot+run %.2f s\n' "$vm_name" "$status" \
    "$(echo "$end - $1" | bc 2>/dev/null || echo 0)" >&2
  if [ "$status" != 0 ]; then
    echo "run-$vm_name: kernel messages (tail):" >&2
    grep -v '^\s*$' "$vm_run/console.log" | tail -n 30 >&2
  fi
  exit "$status"
}
