#!/usr/bin/env bash
# Installs what the VM harness (tests/vm/run-uml.sh) needs; idempotent, ~0.1 s when done.
#
#   target/vm-cache/usr/bin/linux.uml         Debian's user-mode-linux kernel (6.1) and, under
#   target/vm-cache/usr/lib/uml/modules/*/    its modules (every dm target is a module there)
#   target/vm-cache/init                      the guest's PID 1, static, from init.c
#   target/vm-cache/uml-xstate-shim.so        LD_PRELOAD shim from uml-xstate-shim.c (UML 6.1
#                                             dies on hosts with AVX-512/AMX without it)
#
# user-mode-linux is fetched with `apt-get download` and unpacked with `dpkg-deb -x` into the
# cache: 6 s here, against 13 s for `apt-get install` (which also runs maintainer scripts and
# triggers); nothing is installed system-wide. Host tools the guest runs through hostfs
# (test tools only, never the product) are installed with apt-get when missing (root):
#   dmsetup  - scenarios observe the kernel's dm state with it
#   lvm2     - the peer lvm2, run inside the guest for comparisons
#   mdadm    - builds the md arrays under PVs in the qemu components scenario
# A C compiler (cc, already needed by cargo) builds init and the shim.
#
# Env: LVMKIT_VM_CACHE overrides the cache folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${LVMKIT_VM_CACHE:-$repo/target/vm-cache}

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
# shellcheck source=lib.sh
. "$here/lib.sh"

need=()
command -v dmsetup >/dev/null 2>&1 || [ -x /usr/sbin/dmsetup ] || need+=(dmsetup)
command -v lvm >/dev/null 2>&1 || [ -x /usr/sbin/lvm ] || need+=(lvm2)
command -v mdadm >/dev/null 2>&1 || [ -x /usr/sbin/mdadm ] || [ -x /sbin/mdadm ] || need+=(mdadm)
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}" >&2
  vm_apt_update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$cache/usr/bin/linux.uml" ] || ! ls "$cache"/usr/lib/uml/modules/*/modules.dep >/dev/null 2>&1; then
  echo "setup: fetching user-mode-linux into $cache" >&2
  dl=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-vm-dl.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  chmod 0777 "$dl" # apt-get download drops privileges to _apt when it can write the folder
  fetch() { (cd "$dl" && apt-get download -q=2 user-mode-linux) 2>"$dl/err"; }
  if ! fetch; then
    vm_apt_update
    fetch || { cat "$dl/err" >&2; exit 1; }
  fi
  rm -rf "$cache/usr"
  mkdir -p "$cache"
  dpkg-deb -x "$dl"/user-mode-linux_*.deb "$cache"
  [ -x "$cache/usr/bin/linux.uml" ] || { echo "setup: no usr/bin/linux.uml in the package" >&2; exit 1; }
fi

# Rebuild the two helpers when their source is newer.
build() { # OUT SRC CC-ARGS…
  local out=$1 src=$2
  shift 2
  if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
    cc -O2 -Wall "$@" -o "$out.tmp" "$src"
    mv "$out.tmp" "$out"
  fi
}
mkdir -p "$cache"
build "$cache/init" "$here/init.c" -static
build "$cache/uml-xstate-shim.so" "$here/uml-xstate-shim.c" -shared -fPIC -ldl

# --- qemu (tests/vm/run-qemu.sh, tests/tests/vm_qemu.rs) -------------------------------------
# qemu-system-x86 (installed when missing), Debian's linux-image-amd64 kernel, its dm/virtio/9p
# modules and a busybox initramfs in $cache/qemu: all in tests/vm/setup-qemu.sh (~40 s once,
# 0.03 s when done). Not fatal here: without it only the qemu tests skip (they run
# setup-qemu.sh themselves and fail with its message under CI=true).
"$here/setup-qemu.sh" || echo "setup: the qemu harness is not available (the qemu tests will skip)" >&2
# --- end qemu ----------------------------------------------------------------------------------

# --- udev (tests/tests/vm_udev.rs) -----------------------------------------------------------
# systemd-udevd for the udev-synchronisation tests: Debian's `udev` package unpacked into
# $cache/udev like the kernel (apt-get download + dpkg-deb -x, ~4 s; never installed on the
# host). $cache/udev/udevadm and $cache/udev/systemd-udevd link to its udevadm (one binary,
# dispatching on its name). The guest runs it with the host's rules (dmsetup's 55-dm and
# 95-dm-notify, lvm2's 56-lvm, …). Not fatal: without it only the udev tests skip.
if [ ! -x "$cache/udev/udevadm" ]; then
  (
    echo "setup: fetching udev into $cache/udev" >&2
    udl=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-vm-udev.XXXXXX") || exit 1
    trap 'rm -rf "$udl"' EXIT
    chmod 0777 "$udl"
    get() { (cd "$udl" && apt-get download -q=2 udev) 2>"$udl/err"; }
    get || { vm_apt_update && get; } || { cat "$udl/err" >&2; exit 1; }
    rm -rf "$cache/udev" && dpkg-deb -x "$udl"/udev_*.deb "$cache/udev" || exit 1
    for bin in bin/udevadm usr/bin/udevadm; do
      [ -x "$cache/udev/$bin" ] && ln -sfn "$bin" "$cache/udev/udevadm" && ln -sfn "$bin" "$cache/udev/systemd-udevd"
    done
    [ -x "$cache/udev/udevadm" ]
  ) || echo "setup: udev not available (the udev tests will skip)" >&2
fi

# --- cluster (tests/tests/vm_cluster.rs, tests/vm/cluster/) ---------------------------------
# A real two-node corosync 3 + pacemaker 2.1 cluster in two UML guests: the guests run the
# host's cluster binaries through hostfs, so the host needs the packages installed — but
# nothing may start on the host: a policy-rc.d that returns 101 is in place during the
# install (and removed afterwards when we put it there). --no-install-recommends, ~76 packages,
# ~90 s once. libxml2-utils (xmllint) validates the OCF agent's meta-data against
# resource-agents' ra-api-1.dtd. Not fatal: without them only the cluster/OCF tests skip.
cluster_pkgs=()
for p in pacemaker corosync resource-agents pacemaker-cli-utils pacemaker-resource-agents fence-agents libxml2-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || cluster_pkgs+=("$p")
done
if ((${#cluster_pkgs[@]})); then
  (
    echo "setup: installing ${cluster_pkgs[*]} (nothing is started on the host)" >&2
    prc=/usr/sbin/policy-rc.d
    own_prc=0
    if [ ! -e "$prc" ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo tee "$prc" >/dev/null && $sudo chmod 755 "$prc" && own_prc=1
    fi
    trap '[ "$own_prc" = 1 ] && $sudo rm -f "$prc"' EXIT
    vm_apt_update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${cluster_pkgs[@]}" >/dev/null
  ) || echo "setup: the cluster packages are not available (the cluster/OCF tests will skip)" >&2
fi
