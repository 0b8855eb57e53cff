#!/bin/bash
# One cluster node (run by tests/vm/init.c as the guest's scenario; tests/vm/cluster/cluster.sh
# boots two of them). Gives the guest its own state over the shared host root (tmpfs on the
# cluster stack's and lvm's folders, /var/log in the run folder), brings the private link up,
# starts corosync, then pacemakerd once corosync reports quorum, and serves the host's command
# channel until told to halt:
#   $VM_RUN/cmd/K.sh   a script the host dropped (renamed into place: always complete)
#   $VM_RUN/cmd/K.out  its stdout+stderr, then $VM_RUN/cmd/K.rc its exit status (renamed last)
#   $VM_RUN/cmd/K.bg   the same, run in the background (a watcher during an event)
#   $VM_RUN/ready      written once pacemakerd runs; $VM_RUN/failed names a start-up failure
#   $VM_RUN/cmd/halt   ends the loop (init then powers off)
# Settings come from the cluster folder: $VM_RUN/../cluster.env (CL_NODE per node in
# $VM_RUN/node.env), corosync.conf, cib.xml, lvm.conf.
set -u
. "$VM_RUN/node.env"
CL=$(cd "$VM_RUN/.." && pwd)
fail() { echo "$*" >"$VM_RUN/failed"; echo "node$CL_NODE: $*"; exit 1; }

for d in $CL_TMPFS; do
  mount -t tmpfs -o mode=0755 tmpfs "$d" || fail "tmpfs on $d"
done
mkdir -p "$VM_RUN/log" && mount --bind "$VM_RUN/log" /var/log || fail "bind /var/log"
mkdir -p /var/log/pacemaker /var/log/cluster
chown hacluster:haclient /var/log/pacemaker
for d in cib pengine blackbox cores; do
  mkdir -p /var/lib/pacemaker/$d
done
chown -R hacluster:haclient /var/lib/pacemaker
chmod -R 750 /var/lib/pacemaker
mkdir -p /run/lock/lvm /run/lvm /run/resource-agents /run/crm /var/lib/corosync /etc/lvm/archive /etc/lvm/backup

hostname "node$CL_NODE"
ip link set lo up
ip addr add "10.77.0.$CL_NODE/24" dev vec0 || fail "no vec0 link"
ip link set vec0 up

cp "$CL/corosync.conf" /etc/corosync/corosync.conf
cp "$CL/lvm.conf" /etc/lvm/lvm.conf
cp "$CL/cib.xml" /var/lib/pacemaker/cib/cib.xml
chown hacluster:haclient /var/lib/pacemaker/cib/cib.xml
chmod 600 /var/lib/pacemaker/cib/cib.xml

corosync || fail "corosync did not start"
i=0
until corosync-quorumtool -s 2>/dev/null | grep -q 'Quorate: *Yes'; do
  i=$((i + 1))
  [ $i -lt 300 ] || fail "no quorum after 30 s"
  sleep 0.1
done
echo "node$CL_NODE: quorate after $i polls"

# pacemaker 2.1.5 may stop itself when it starts too early on node 2: a bounded retry.
# The agents inherit pacemakerd's environment: lvmkit's controlled-VG list stays in the guest.
export LVMKIT_CONTROLLED_VGS=/etc/lvmkit/lkvgs
start_pacemaker() {
  setsid pacemakerd >>/var/log/pacemakerd.out 2>&1 </dev/null &
  pm=$!
}
tries=0
start_pacemaker
(
  while :; do
    sleep 1
    if ! kill -0 "$pm" 2>/dev/null && [ ! -e "$VM_RUN/cmd/halt" ]; then
      tries=$((tries + 1))
      [ $tries -le 3 ] || exit 0
      echo "node$CL_NODE: pacemakerd exited, restart $tries" >>/var/log/pacemakerd.out
      start_pacemaker
    fi
    [ -e "$VM_RUN/cmd/halt" ] && exit 0
  done
) &
echo ok >"$VM_RUN/ready"

mkdir -p "$VM_RUN/cmd"
while [ ! -e "$VM_RUN/cmd/halt" ]; do
  for c in "$VM_RUN"/cmd/*.bg; do
    [ -e "$c" ] || continue
    k=${c%.bg}
    mv "$c" "$k.brun"
    (bash "$k.brun" >"$k.out" 2>&1 </dev/null; echo $? >"$k.rc.tmp"; mv "$k.rc.tmp" "$k.rc") &
  done
  for c in "$VM_RUN"/cmd/*.sh; do
    [ -e "$c" ] || continue
    k=${c%.sh}
    mv "$c" "$k.run"
    bash "$k.run" >"$k.out" 2>&1 </dev/null
    echo $? >"$k.rc.tmp"
    mv "$k.rc.tmp" "$k.rc"
  done
  sleep 0.05
done
echo "node$CL_NODE: halting"
