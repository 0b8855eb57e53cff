#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, then runs every test.
#   lvm2     - the peer: tests run genuine lvm2 on loop devices (never the product)
#   xz-utils - the committed test images are xz-compressed
#   fdisk    - test-images/make-images.sh (regenerating images) partitions one image
# Then: the VM harness (tests/vm/setup.sh: Debian's user-mode-linux; qemu-system-x86 with
# Debian's linux-image-amd64 and busybox-static via tests/vm/setup-qemu.sh; Debian's udev for
# the udev-sync test — all unpacked into target/vm-cache), formatting, clippy with warnings as
# errors, the whole workspace test suite (the VM tests boot user-mode-linux, and qemu TCG once),
# and a build check of the cargo-fuzz targets (they live outside the workspace).
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v lvm >/dev/null 2>&1 || need+=(lvm2)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v sfdisk >/dev/null 2>&1 || need+=(fdisk)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Real kernels for device-mapper tests (user-mode-linux, qemu TCG), fetched into target/.
tests/vm/setup.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
# --no-fail-fast: one red test binary must not hide the others' results.
cargo test --workspace --no-fail-fast
cargo check -q --manifest-path fuzz/Cargo.toml --bins
