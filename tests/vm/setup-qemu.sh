#!/usr/bin/env bash
# The qemu harness's part of tests/vm/setup.sh (which calls it; it can also run alone).
# Idempotent: ~0.05 s when done. Makes, in target/vm-cache/qemu/ (LVMKIT_VM_CACHE/qemu):
#
#   vmlinux            Debian's linux-image-amd64 kernel (bookworm: 6.1), the ELF image taken
#                      out of its XZ-compressed vmlinuz: qemu boots it directly through its PVH
#                      entry, which spares the decompression under TCG (~8 s a boot)
#   modules/           modules.dep and the .ko files the guests load, nothing else: lib.sh's
#                      VM_QEMU_ROOT_MODULES (virtio-pci, 9p), VM_QEMU_MODULES (virtio_blk,
#                      crc32c) and VM_DM_MODULES (the dm targets), with their dependencies
#   busybox            Debian's busybox-static
#   initramfs.gz       busybox, the root modules and tests/vm/qemu-initramfs-init.sh as /init
#                      (cpio newc made with busybox's cpio, gzip)
#   kernel-package     the package and version it came from (modules/wanted: the module names
#                      it was made for; another list in lib.sh makes setup fetch again)
#
# The kernel package is the real one the `linux-image-amd64` metapackage depends on; it and
# busybox-static are fetched with `apt-get download` and unpacked into a temporary folder
# (400 MB for ~15 s; removed again), never installed. The package has no modules.dep (its
# postinst runs depmod), so busybox's depmod makes one. qemu-system-x86 is installed with
# `apt-get install --no-install-recommends` when qemu-system-x86_64 is missing (root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${LVMKIT_VM_CACHE:-$repo/target/vm-cache}
q=$cache/qemu
# shellcheck source=tests/vm/lib.sh
. "$here/lib.sh"

# One setup at a time (VM tests running in parallel each call setup.sh).
mkdir -p "$cache"
exec 9>"$cache/.setup-qemu.lock"
flock 9

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "setup: installing qemu-system-x86" >&2
  vm_apt_update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends qemu-system-x86 \
    >/dev/null
fi

# The module names, as a stamp: a changed list in lib.sh fetches again.
want=$(echo $VM_QEMU_ROOT_MODULES $VM_QEMU_MODULES $VM_DM_MODULES)
if [ ! -f "$q/vmlinux" ] || [ ! -x "$q/busybox" ] || [ "$(cat "$q/modules/wanted" 2>/dev/null)" != "$want" ]; then
  dl=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-vm-qemu-dl.XXXXXX")
  trap 'rm -rf "$dl"' EXIT
  chmod 0777 "$dl" # apt-get download drops privileges to _apt when it can write the folder
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  if [ -z "$kpkg" ]; then
    vm_apt_update
    kpkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  fi
  [ -n "$kpkg" ] || { echo "setup: cannot resolve linux-image-amd64" >&2; exit 1; }
  echo "setup: fetching $kpkg and busybox-static into $q" >&2
  fetch() { (cd "$dl" && apt-get download -q=2 "$kpkg" busybox-static) 2>"$dl/err"; }
  if ! fetch; then
    vm_apt_update
    fetch || { cat "$dl/err" >&2; exit 1; }
  fi
  dpkg-deb -x "$dl"/busybox-static_*.deb "$dl/bb"
  bb=$dl/bb/bin/busybox
  dpkg-deb -x "$dl/$kpkg"_*.deb "$dl/k"
  kver=$(basename "$(ls -d "$dl"/k/lib/modules/*/)")
  "$bb" depmod -b "$dl/k" "$kver"
  kmods=$dl/k/lib/modules/$kver

  new=$q.new
  rm -rf "$new"
  mkdir -p "$new/modules"
  # The modules (paths relative to $kmods) and their modules.dep lines.
  (cd "$kmods" && vm_module_order . $want) | sed 's|^\./||' >"$dl/keep"
  echo "$want" >"$new/modules/wanted"
  awk 'NR == FNR { keep[$1 ":"] = 1; next } $1 in keep' "$dl/keep" "$kmods/modules.dep" \
    >"$new/modules/modules.dep"
  # Built-in modules need no loading (lib.sh's vm_module_order leaves them out).
  [ ! -f "$kmods/modules.builtin" ] || cp "$kmods/modules.builtin" "$new/modules/modules.builtin"
  (cd "$kmods" && tar -cf - -T "$dl/keep") | tar -xf - -C "$new/modules"
  # The vmlinux inside vmlinuz: the XZ stream after the setup code.
  off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$dl"/k/boot/vmlinuz-* | awk -F: 'NR == 1 { print $1 }')
  [ -n "$off" ] || { echo "setup: no XZ stream in $kpkg's vmlinuz" >&2; exit 1; }
  tail -c +$((off + 1)) "$dl"/k/boot/vmlinuz-* >"$dl/vmlinux.xz"
  xz -dc --single-stream "$dl/vmlinux.xz" >"$new/vmlinux"
  [ "$(head -c4 "$new/vmlinux")" = $'\x7fELF' ] || { echo "setup: no ELF vmlinux in $kpkg" >&2; exit 1; }
  cp "$bb" "$new/busybox"
  echo "$kpkg $(dpkg-deb -f "$dl/$kpkg"_*.deb Version) $kver" >"$new/kernel-package"
  rm -rf "$q"
  mv "$new" "$q"
  rm -rf "$dl"
  trap - EXIT
fi

# The initramfs, rebuilt when its init script (or this file, which chooses its modules) is
# newer.
if [ ! -f "$q/initramfs.gz" ] || [ "$here/qemu-initramfs-init.sh" -nt "$q/initramfs.gz" ] ||
  [ "${BASH_SOURCE[0]}" -nt "$q/initramfs.gz" ]; then
  ir=$(mktemp -d "${TMPDIR:-/tmp}/lvmkit-vm-initramfs.XXXXXX")
  trap 'rm -rf "$ir"' EXIT
  mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/newroot" "$ir/lib/modules"
  cp "$q/busybox" "$ir/bin/busybox"
  cp "$here/qemu-initramfs-init.sh" "$ir/init"
  chmod 0755 "$ir/init"
  (cd "$q/modules" && vm_module_order . $VM_QEMU_ROOT_MODULES) | sed 's|^\./||' >"$ir/modules"
  (cd "$q/modules" && tar -cf - -T "$ir/modules") | tar -xf - -C "$ir/lib/modules"
  (cd "$ir" && find . | "$q/busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$q/initramfs.gz.tmp"
  mv "$q/initramfs.gz.tmp" "$q/initramfs.gz"
  rm -rf "$ir"
  trap - EXIT
fi
