# Sourced by scenarios that run several parts in one boot (smp-batch.sh, components.sh):
# `part NAME CMD…` runs CMD between "=== NAME" and "=== NAME: status N" lines and prints the
# part's span in guest uptime ("part NAME: T0 s to T1 s"), so the host can judge each part.
up() { cut -d' ' -f1 /proc/uptime; }
part() {
  name=$1
  shift
  echo "=== $name"
  t=$(up)
  st=0
  "$@" || st=$?
  echo "part $name: $t s to $(up) s"
  echo "=== $name: status $st"
}
