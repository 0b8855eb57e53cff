#!/bin/bash
# The agents' own action times in one UML guest (bench/ocf.py): ocf:lvmkit:lvmvg ($LVMKIT,
# installed with `ocf install`) against ocf:heartbeat:LVM-activate (vg_access_mode=system_id)
# on the same VG, with $BENCH_LVS LVs, $BENCH_RUNS rounds of start, monitor (level 0), stop;
# every round starts from a VG owned by another system ID (`peer`), so each start is a
# takeover, as in a failover. Prints `TIME agent action ms` lines.
set -u
. "$(dirname "$0")/lvm2-env.sh"
for d in /var/lib/lvmkit /usr/lib/ocf/resource.d/lvmkit; do
  mount -t tmpfs tmpfs "$d" || exit 2
done
hostname benchnode
sed -i 's/^global {$/global {\n  system_id_source = "uname"/' "$LVM_SYSTEM_DIR/lvm.conf"
export LVMKIT_CONTROLLED_VGS=$VM_RUN/lkvgs OCF_ROOT=/usr/lib/ocf
disk=${VM_DISKS%% *}
lvs=${BENCH_LVS:-1}
runs=${BENCH_RUNS:-5}
lvm pvcreate -q "$disk" && lvm vgcreate -q vgb "$disk" || exit 2
for i in $(seq 0 $((lvs - 1))); do lvm lvcreate -q -an -Zn -L 4M -n "lv$i" vgb >/dev/null || exit 2; done
"$LVMKIT" ocf install >/dev/null || exit 2
# No cluster here: the membership the agent reads (crm_node -l) names this node and `peer`.
mkdir -p "$VM_RUN/bin"
printf '#!/bin/sh\necho "1 benchnode member"\necho "2 peer member"\n' >"$VM_RUN/bin/crm_node"
chmod +x "$VM_RUN/bin/crm_node"
export PATH="$VM_RUN/bin:$PATH"
ours=/usr/lib/ocf/resource.d/lvmkit/lvmvg
theirs=/usr/lib/ocf/resource.d/heartbeat/LVM-activate

ms() { # AGENT-LABEL ACTION CMD… — runs CMD, prints TIME, fails the scenario on a bad status
  local label=$1 action=$2 t0 t1 rc want=0
  shift 2
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$VM_RUN/err"
  rc=$?
  t1=$(date +%s%N)
  [ "$rc" = "$want" ] || { echo "$label $action: rc $rc"; cat "$VM_RUN/err"; exit 1; }
  echo "TIME $label $action $(((t1 - t0) / 1000000))"
}
give_away() { lvm vgchange -q -y --config 'local/extra_system_ids=["benchnode"]' --systemid peer vgb >/dev/null 2>&1; }

# The first start on the VG's owner records the kit resource and turns autoactivation off
# (the kit creates a resource of a VG owned elsewhere only once its autoactivation is off).
env OCF_RESKEY_volgrpname=vgb OCF_RESKEY_devices="$disk" OCF_RESOURCE_INSTANCE=b "$ours" start >/dev/null 2>&1 &&
  env OCF_RESKEY_volgrpname=vgb OCF_RESKEY_devices="$disk" OCF_RESOURCE_INSTANCE=b "$ours" stop >/dev/null 2>&1 || exit 4
for r in $(seq 1 "$runs"); do
  give_away || exit 3
  ms lvmvg start env OCF_RESKEY_volgrpname=vgb OCF_RESKEY_devices="$disk" OCF_RESOURCE_INSTANCE=b OCF_RESKEY_CRM_meta_interval=0 "$ours" start
  [ "$(dmsetup ls | grep -c '^vgb-')" = "$lvs" ] || { echo "lvmvg: not $lvs devices"; exit 1; }
  ms lvmvg monitor env OCF_RESKEY_volgrpname=vgb OCF_RESKEY_devices="$disk" OCF_RESOURCE_INSTANCE=b OCF_RESKEY_CRM_meta_interval=10000 "$ours" monitor
  ms lvmvg stop env OCF_RESKEY_volgrpname=vgb OCF_RESKEY_devices="$disk" OCF_RESOURCE_INSTANCE=b "$ours" stop
  [ "$(dmsetup ls | grep -c '^vgb-')" = 0 ] || { echo "lvmvg: devices left"; exit 1; }

  lvm vgchange -q -y --config 'local/extra_system_ids=["benchnode"]' --systemid peer vgb >/dev/null 2>&1 || exit 3
  ms LVM-activate start env OCF_RESKEY_vgname=vgb OCF_RESKEY_vg_access_mode=system_id OCF_RESOURCE_INSTANCE=a OCF_RESKEY_CRM_meta_interval=0 "$theirs" start
  [ "$(dmsetup ls | grep -c '^vgb-')" = "$lvs" ] || { echo "LVM-activate: not $lvs devices"; exit 1; }
  ms LVM-activate monitor env OCF_RESKEY_vgname=vgb OCF_RESKEY_vg_access_mode=system_id OCF_RESOURCE_INSTANCE=a OCF_RESKEY_CRM_meta_interval=10000 "$theirs" monitor
  ms LVM-activate stop env OCF_RESKEY_vgname=vgb OCF_RESKEY_vg_access_mode=system_id OCF_RESOURCE_INSTANCE=a "$theirs" stop
  [ "$(dmsetup ls | grep -c '^vgb-')" = 0 ] || { echo "LVM-activate: devices left"; exit 1; }
done
echo "left: $(dmsetup ls 2>&1)"
