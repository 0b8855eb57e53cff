#!/bin/bash
# In-guest half of the activation benchmark (bench/activate.py writes its inputs and boots
# this once). lvm2 builds the VGs of $BENCH_DIR/manifest, then, per case and run, every tool
# brings the VG's devices up and down again, timed with bash's $EPOCHREALTIME (no process
# spawned for the clock): the whole process of each tool, start-up included.
#
# Env: BENCH_DIR (manifest + metadata files; hostfs), LVMKIT (static lvmkit), BARE (static
# dm/examples/bare_loop), RUNS, UEVENT_HELPER (keep: see below), SETTLE (seconds of pause
# after each down, untimed). Disks: $VM_DISKS (set by the
# harness) or /dev/ubdb, /dev/ubdc, …
#
# Manifest lines (DISK = index into the image list, 1 = first image):
#   linear VG DISK PVUUID FILE       pvcreate --uuid PVUUID --restorefile FILE; vgcfgrestore
#   thin VG DISK NTHIN POOL_MIB      vgcreate + thin pool + NTHIN thin LVs (lvm2's lvcreate)
#   others DISK COUNT PART_MIB       GPT of COUNT partitions (made only when this case starts)
#   other VG PARTNO PVUUID FILE      one VG per partition, restored like `linear`
#   among VG                         time VG (already built) among the others
#
# Output: `T CASE TOOL up|down RUN MICROSECONDS` per timed command (run 0: the warm-up; tool
# `plan`: `lvmkit plan VG --devices PV`, up only),
# `I …` for information; any failed command or check prints FAIL and exits 1. Checks after
# every up: the plan's number of dm devices exists (and as many /dev/mapper nodes, and
# /dev/VG links, for the tools that make them); after every down: no dm device, node or link
# is left. After the warm-up's up: `dmsetup table` and the names/uuids equal lvm2's.
set -u
. "$(dirname "$0")/lvm2-env.sh"

if [ -n "${VM_DISKS:-}" ]; then
  read -r -a DISKS <<<"$VM_DISKS"
else
  DISKS=(/dev/ubdb /dev/ubdc /dev/ubdd /dev/ubde /dev/ubdf /dev/ubdg /dev/ubdh /dev/ubdi)
fi
disk() { echo "${DISKS[$(($1 - 1))]}"; }
fail() { echo "FAIL: $*"; exit 1; }
# Quiet lvm2 (fd warnings), everything else shown on failure.
export LVM_SUPPRESS_FD_WARNINGS=1
OUT=/run/bench.out
run() { "$@" >"$OUT" 2>&1 || { cat "$OUT"; fail "$*"; }; }
# lvm2 as shipped: every block device passes its filter (a full scan).
ALL_DEVICES='devices{filter=["a|.*|"] global_filter=["a|.*|"]}'
NO_THIN_CHECK='global{thin_check_executable=""}'
# Debian's UML kernel runs /sbin/hotplug (absent) for every uevent: thousands of usermode
# helper spawns per 1000 devices pile up and slowed every later create/remove by up to 40×
# here. Hosts with udev have no helper; nor does this guest from now on.
# (UEVENT_HELPER=keep leaves it, to compare with runs made before.)
[ "${UEVENT_HELPER:-}" = keep ] || { [ -w /sys/kernel/uevent_helper ] && echo >/sys/kernel/uevent_helper; }
# Under qemu the root is the host's / over virtio-9p with cache=mmap: every exec reads the
# binary's pages (and a dynamic binary's libraries) from the host again — up to a second per
# exec under TCG, nothing like a node whose binaries sit in its page cache. There every tool
# runs from a tmpfs copy, the dynamic ones (lvm, dmsetup) through a copied loader with their
# copied libraries.
if [ "$(awk '$2 == "/" { print $3 }' /proc/mounts)" = 9p ]; then
  TOOLS=/run/bench-tools
  mkdir -p "$TOOLS/lib"
  cp "$LVMKIT" "$TOOLS/lvmkit" && cp "$BARE" "$TOOLS/bare_loop" || fail "copy lvmkit, bare_loop"
  LVMKIT=$TOOLS/lvmkit BARE=$TOOLS/bare_loop
  for exe in lvm dmsetup; do
    p=$(command -v "$exe") && cp "$p" "$TOOLS/$exe" || fail "copy $exe"
    ldd "$p" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
      xargs -r cp -L -t "$TOOLS/lib/" || fail "copy the libraries of $exe"
  done
  LDSO=$(ls "$TOOLS"/lib/ld-linux*.so*) || fail "no dynamic loader copied"
  lvm() { "$LDSO" --library-path "$TOOLS/lib" "$TOOLS/lvm" "$@"; }
  dmsetup() { "$LDSO" --library-path "$TOOLS/lib" "$TOOLS/dmsetup" "$@"; }
  TOOLS_NOTE="tools run from tmpfs copies ($(du -sh "$TOOLS" | cut -f1)): the root is 9p"
fi
DM_MAJOR=$(awk '$2 == "device-mapper" { print $1 }' /proc/devices)
[ -n "$DM_MAJOR" ] || fail "no device-mapper major in /proc/devices"
echo "I kernel $(uname -r) cpus $(nproc) mem $(awk '/MemTotal/ {print int($2 / 1024) "M"}' /proc/meminfo)" \
  "uevent_helper \"$(cat /sys/kernel/uevent_helper 2>/dev/null)\" dm_major $DM_MAJOR" \
  "lvm2 $(lvm version 2>/dev/null | awk '/LVM version/ {print $3}')"
[ -n "${TOOLS_NOTE:-}" ] && echo "I $TOOLS_NOTE"

# --- counting what exists (globs, no processes) ---
count() { # VAR PATTERN…: sets VAR to the number of existing paths
  local -n __n=$1
  local __f
  shift
  __n=0
  for __f in "$@"; do { [ -e "$__f" ] || [ -L "$__f" ]; } && __n=$((__n + 1)); done
}
state() { # sets DEVS NODES LINKS for VG $1
  count DEVS /sys/block/dm-*
  count NODES /dev/mapper/*
  NODES=$((NODES - 1)) # control
  count LINKS "/dev/$1"/*
}

# --- building the VGs ---
while read -r kind a b c d e; do
  case $kind in
    linear)
      dev=$(disk "$b")
      run lvm pvcreate -q --uuid "$c" --restorefile "$BENCH_DIR/$d" "$dev"
      run lvm vgcfgrestore -q -f "$BENCH_DIR/$d" "$a"
      ;;
    thin)
      dev=$(disk "$b")
      run lvm pvcreate -q "$dev"
      run lvm vgcreate -q -s 4m "$a" "$dev"
      run lvm lvcreate -q --type thin-pool -L "${d}m" -Zn -n pool "$a"
      s=${EPOCHREALTIME/./}
      # One lvm2 process (its shell) for all thin LVs: no start-up per LV.
      for i in $(seq -w 1 "$c"); do echo "lvcreate -q -V 4m -n th$i --thinpool $a/pool"; done |
        lvm >"$OUT" 2>&1
      e=${EPOCHREALTIME/./}
      n=$(lvm lvs --noheadings -o lv_name "$a" 2>/dev/null | grep -c ' th')
      [ "$n" = "$c" ] || { cat "$OUT"; fail "$a: $n of $c thin LVs made"; }
      echo "I built $a: $c thin LVs with lvm2's lvcreate in $(((e - s) / 1000)) ms"
      run lvm vgchange -q -an "$a"
      ;;
  esac
done <"$BENCH_DIR/manifest"

# --- timing ---
T() { # CASE TOOL OP RUN CMD…   (stdin: $IN, default /dev/null)
  local c=$1 t=$2 o=$3 r=$4 s e
  shift 4
  s=${EPOCHREALTIME/./}
  "$@" <"${IN:-/dev/null}" >"$OUT" 2>&1 || { cat "$OUT"; fail "$c $t $o run $r: $*"; }
  e=${EPOCHREALTIME/./}
  echo "T $c $t $o $r $((e - s))"
}

# The plan as `dmsetup create --concise` text: `<NAME>` references become the numbers the
# devices get when created in plan order on an otherwise empty dm (minors 0, 1, …; checked
# against lvm2's tables).
concise() { # PLAN
  awk -v major="$DM_MAJOR" '
    function flush() { if (name != "") { out = out sep name "," uuid ",," mode "," tbl; sep = ";" } }
    /^# skipped / { next }
    /^# / {
      flush(); name = $2; uuid = substr($3, 6); mode = $4; tbl = ""; minor[name] = n++
      next
    }
    {
      line = substr($0, length(name) + 3)
      while (match(line, /<[^>]+>/)) {
        ref = substr(line, RSTART + 1, RLENGTH - 2)
        if (!(ref in minor)) { print "unresolved " ref > "/dev/stderr"; exit 1 }
        line = substr(line, 1, RSTART - 1) major ":" minor[ref] substr(line, RSTART + RLENGTH)
      }
      tbl = tbl (tbl == "" ? "" : ",") line
    }
    END { flush(); print out }' "$1"
}

# One case: VG on PVS (comma-separated); TOOLS to time.
bench_case() { # CASE VG PVS TOOLS…
  local cs=$1 vg=$2 pvs=$3 r t want pub
  shift 3
  local tools=("$@")
  run "$LVMKIT" plan "$vg" --devices "$pvs"
  cp "$OUT" "$VM_RUN/$cs.plan"
  want=$(grep -c '^# .* uuid=' "$VM_RUN/$cs.plan")
  pub=$(grep -c '^# .* public' "$VM_RUN/$cs.plan")
  concise "$VM_RUN/$cs.plan" >"$VM_RUN/$cs.concise" || fail "$cs: plan to concise"
  # lvm2's own activation is the reference for tables, names and uuids.
  run lvm vgchange -ay "$vg" --devices "$pvs"
  dmsetup table | sort >"$VM_RUN/$cs.lvm2.table"
  dmsetup info -c --noheadings -o name,uuid | sort >"$VM_RUN/$cs.lvm2.info"
  run lvm vgchange -an "$vg" --devices "$pvs"
  echo "I case $cs vg $vg pvs $pvs devices $want public $pub"
  # What lvmkit does before its first ioctl (start-up, scan, parse, plan, print): `plan`.
  for r in $(seq 0 "$RUNS"); do T "$cs" plan up "$r" "$LVMKIT" plan "$vg" --devices "$pvs"; done
  # Run 0 warms caches up (binaries through hostfs, metadata) and compares tables; the
  # report leaves it out.
  for r in $(seq 0 "$RUNS"); do
    for t in "${tools[@]}"; do
      case $t in
        vgchange)
          T "$cs" "$t" up "$r" lvm vgchange -ay "$vg" --devices "$pvs" ;;
        vgchange-nothincheck)
          T "$cs" "$t" up "$r" lvm vgchange -ay "$vg" --devices "$pvs" --config "$NO_THIN_CHECK" ;;
        vgchange-scan)
          T "$cs" "$t" up "$r" lvm vgchange -ay "$vg" --config "$ALL_DEVICES" ;;
        lvmkit)
          T "$cs" "$t" up "$r" "$LVMKIT" activate "$vg" --devices "$pvs" ;;
        lvmkit-serial)
          T "$cs" "$t" up "$r" "$LVMKIT" activate "$vg" --devices "$pvs" --jobs 1 ;;
        lvmkit-scan)
          LVMKIT_HINTS=none T "$cs" "$t" up "$r" "$LVMKIT" activate "$vg" ;;
        lvmkit-hints)
          T "$cs" "$t" up "$r" "$LVMKIT" activate "$vg" ;;
        dmsetup)
          IN=$VM_RUN/$cs.concise T "$cs" "$t" up "$r" dmsetup create --concise ;;
        bare)
          T "$cs" "$t" up "$r" "$BARE" up "$VM_RUN/$cs.plan" ;;
        bare-nodes)
          T "$cs" "$t" up "$r" "$BARE" up "$VM_RUN/$cs.plan" --nodes ;;
        bare-links)
          T "$cs" "$t" up "$r" "$BARE" up "$VM_RUN/$cs.plan" --links ;;
      esac
      state "$vg"
      local wn=$want wl=$pub
      case $t in dmsetup | bare) wn=0 ;; esac
      case $t in vgchange* | lvmkit* | bare-links) ;; *) wl=0 ;; esac
      [ "$DEVS" = "$want" ] && [ "$NODES" = "$wn" ] && [ "$LINKS" = "$wl" ] ||
        fail "$cs $t up run $r: $DEVS devices, $NODES nodes, $LINKS links; want $want, $wn, $wl"
      if [ "$r" = 0 ]; then
        dmsetup table | sort >"$VM_RUN/$cs.$t.table"
        dmsetup info -c --noheadings -o name,uuid | sort >"$VM_RUN/$cs.$t.info"
        cmp -s "$VM_RUN/$cs.lvm2.table" "$VM_RUN/$cs.$t.table" ||
            { diff "$VM_RUN/$cs.lvm2.table" "$VM_RUN/$cs.$t.table" | head; fail "$cs $t: tables differ"; }
        cmp -s "$VM_RUN/$cs.lvm2.info" "$VM_RUN/$cs.$t.info" ||
          { diff "$VM_RUN/$cs.lvm2.info" "$VM_RUN/$cs.$t.info" | head; fail "$cs $t: names/uuids differ"; }
      fi
      case $t in
        vgchange)
          T "$cs" "$t" down "$r" lvm vgchange -an "$vg" --devices "$pvs" ;;
        vgchange-nothincheck)
          T "$cs" "$t" down "$r" lvm vgchange -an "$vg" --devices "$pvs" --config "$NO_THIN_CHECK" ;;
        vgchange-scan)
          T "$cs" "$t" down "$r" lvm vgchange -an "$vg" --config "$ALL_DEVICES" ;;
        lvmkit)
          T "$cs" "$t" down "$r" "$LVMKIT" deactivate "$vg" --devices "$pvs" ;;
        lvmkit-serial)
          T "$cs" "$t" down "$r" "$LVMKIT" deactivate "$vg" --devices "$pvs" --jobs 1 ;;
        lvmkit-scan)
          LVMKIT_HINTS=none T "$cs" "$t" down "$r" "$LVMKIT" deactivate "$vg" ;;
        lvmkit-hints)
          T "$cs" "$t" down "$r" "$LVMKIT" deactivate "$vg" ;;
        dmsetup)
          T "$cs" "$t" down "$r" dmsetup remove_all ;;
        bare)
          T "$cs" "$t" down "$r" "$BARE" down "$VM_RUN/$cs.plan" ;;
        bare-nodes)
          T "$cs" "$t" down "$r" "$BARE" down "$VM_RUN/$cs.plan" --nodes ;;
        bare-links)
          T "$cs" "$t" down "$r" "$BARE" down "$VM_RUN/$cs.plan" --links ;;
      esac
      state "$vg"
      [ "$DEVS" = 0 ] && [ "$NODES" = 0 ] && [ "$LINKS" = 0 ] && [ ! -e "/dev/$vg" ] ||
        fail "$cs $t down run $r: left $DEVS devices, $NODES nodes, $LINKS links"
      # The kernel finishes a removal's freeing (RCU callbacks, workqueues) after the ioctl
      # returns; under TCG that slowed whichever tool came next (SETTLE seconds, untimed).
      [ "${SETTLE:-0}" = 0 ] || sleep "$SETTLE"
    done
  done
}

FLOORS=(lvmkit lvmkit-scan dmsetup bare bare-nodes bare-links)
# With more than one CPU lvmkit spreads independent devices over threads; --jobs 1 is the
# one-by-one path it takes on a single CPU.
[ "$(nproc)" -gt 1 ] && FLOORS=(lvmkit lvmkit-serial lvmkit-scan dmsetup bare bare-nodes bare-links)
while read -r kind a b c d e; do
  case $kind in
    linear)
      bench_case "$a" "$a" "$(disk "$b")" vgchange "${FLOORS[@]}" ;;
    thin)
      bench_case "$a" "$a" "$(disk "$b")" vgchange vgchange-nothincheck "${FLOORS[@]}" ;;
    others)
      od=$(disk "$a")
      { echo "label: gpt"; for i in $(seq 1 "$b"); do echo "size=${c}MiB"; done; } |
        sfdisk -q "$od" >"$OUT" 2>&1 || { cat "$OUT"; fail "sfdisk $od"; }
      n=0
      for p in "$od"[0-9]*; do n=$((n + 1)); done
      [ "$n" = "$b" ] || fail "$od: $n partitions, want $b"
      OTHERS_DISK=$od
      OTHERS=$b
      # The same for lvm2's shell that restores the other VGs.
      mkdir -p "$VM_RUN/lvm-all"
      sed -E 's/^(\s*(global_)?filter\s*=).*/\1 [ "a|.*|" ]/' "$LVM_SYSTEM_DIR/lvm.conf" \
        >"$VM_RUN/lvm-all/lvm.conf"
      : >"$VM_RUN/others.lvm" ;;
    other)
      p="$OTHERS_DISK$b"
      # One lvm2 process (its shell; --devices there crashes lvm2 2.03.16) for all of them.
      echo "pvcreate -q --uuid $c --restorefile $BENCH_DIR/$d $p" >>"$VM_RUN/others.lvm"
      echo "vgcfgrestore -q -f $BENCH_DIR/$d $a" >>"$VM_RUN/others.lvm" ;;
    among)
      s=${EPOCHREALTIME/./}
      LVM_SYSTEM_DIR=$VM_RUN/lvm-all lvm <"$VM_RUN/others.lvm" >"$OUT" 2>&1
      e=${EPOCHREALTIME/./}
      n=$(LVM_SYSTEM_DIR=$VM_RUN/lvm-all lvm vgs --noheadings -o vg_name 2>/dev/null | grep -c ' oth')
      [ "$n" = "$OTHERS" ] || { tail -n 20 "$OUT"; fail "$n of $OTHERS other VGs made"; }
      echo "I built $n other VGs, one per partition of $OTHERS_DISK, in $(((e - s) / 1000)) ms"
      line=$(grep "^linear $a " "$BENCH_DIR/manifest")
      read -r _ _ di _ <<<"$line"
      bench_case "$a-among" "$a" "$(disk "$di")" vgchange-scan vgchange lvmkit lvmkit-scan lvmkit-hints
      for h in /run/lvm/hints /run/lvmkit/hints; do
        if [ -s "$h" ]; then echo "I $h: $(grep -vc '^#' "$h") lines"; else echo "I $h: none"; fi
      done ;;
  esac
done <"$BENCH_DIR/manifest"
echo "I done"
