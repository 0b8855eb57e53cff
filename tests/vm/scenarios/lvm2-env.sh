# Sourced by scenarios that run the host's lvm2 inside the guest (a test tool, the peer we
# compare with). Private config in $VM_RUN/lvm: only the harness's images are seen (UML's
# /dev/ubd[b-z], qemu's /dev/vd[b-z]; never the scratch disk ubda/vda), no udev, no devices
# file, no metadata backups/archives written to the host's /etc/lvm.
# lvm2_conf DIR [DEVICES_LINE [GLOBAL_LINE…]]: writes that lvm.conf into DIR; extra lines go
# into its devices section (one) and its global section (the rest). Scenarios with several
# host identities (bench-kit.sh's servers) call it once per server.
lvm2_conf() {
  local dir=$1 devices=${2:-} global="" l
  shift $(($# < 2 ? $# : 2))
  # POSIX sh (dash runs most scenarios): no += nor $'…'.
  for l in "$@"; do global="$global  $l
"; done
  mkdir -p "$dir"
  cat >"$dir/lvm.conf" <<CONF
devices {
  filter = [ "a|^/dev/ubd[b-z]\$|", "a|^/dev/vd[b-z]\$|", "r|.*|" ]
  global_filter = [ "a|^/dev/ubd[b-z]\$|", "a|^/dev/vd[b-z]\$|", "r|.*|" ]
  use_devicesfile = 0
  obtain_device_list_from_udev = 0
  external_device_info_source = "none"
${devices:+  $devices
}}
global {
${global}  use_lvmpolld = 0
  event_activation = 0
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
}
export LVM_SYSTEM_DIR="$VM_RUN/lvm"
lvm2_conf "$LVM_SYSTEM_DIR"
