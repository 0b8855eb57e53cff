#!/usr/bin/env bash
# make-images.sh — build the lvmkit LVM2 test-image matrix with genuine lvm2.
#
#   ./make-images.sh              build every case
#   ./make-images.sh CASE...      build only these cases
#   ./make-images.sh --list       list the cases
#
# For every case this creates sparse image files under work/<case>/, attaches
# them to loop devices, builds the PVs/VG/LVs with lvm2 (lvcreate with
# activation disabled, or vgcfgbackup + text edit + vgcfgrestore --force for
# segment types that need device-mapper), captures lvm2's own reports and
# metadata dumps into <case>/, detaches, compresses the images with xz into
# <case>/*.img.xz and finally re-reads the decompressed images read-only with
# lvm2 to check they are still recognised.  See README.md.
#
# Safety: lvm2 only ever sees the loop devices this script attached (device
# filter built per case), VG names are unique (lk_ prefix), only loops we
# attached are detached (trap on exit).
set -euo pipefail
export LC_ALL=C TZ=UTC LVM_SUPPRESS_FD_WARNINGS=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$HERE/work
ALL_CASES=(linear striped spanning thin snapshot raid mirror cache many-lvs
           wrapped-ring two-mdas zero-mda ignored-mda system-id exported
           odd-names gpt bootloader sector4k orphan tags lv-attrs
           segtypes foreign outdated-pv)

# Files bigger than this are stored xz-compressed (NAME.xz) — only many-lvs.
BIG_TEXT=262144

# ---------------------------------------------------------------- state ----
LOOPS=()        # every loop device attached by this script and not yet detached
CASE=""         # current case name
CASED=""        # output dir  ($HERE/$CASE)
CASEW=""        # work dir    ($WORK/$CASE)
DEV=()          # loop devices of the case, index 1..N in PV creation order
IMG=()          # image file names (without .xz), same index
OFF=()          # partition start byte (0 unless partition)
SECT=()         # logical sector size
EXTRA_GLOBAL="" # extra settings inside global{} (system id case)
EXTRA_CONF=""   # extra top-level config sections
BUILDLOG=""     # stdout+stderr of build commands
CAPERR=""       # stderr of capture commands (filtered into lvm2.stderr)

die() { echo "ERROR [$CASE]: $*" >&2; exit 1; }

cleanup() {
    local d
    for d in "${LOOPS[@]}"; do
        losetup -d "$d" 2>/dev/null || echo "warning: could not detach $d" >&2
    done
    LOOPS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_loop() { # remove $1 from LOOPS
    local d keep=()
    for d in "${LOOPS[@]}"; do [[ $d == "$1" ]] || keep+=("$d"); done
    LOOPS=("${keep[@]}")
}

# ------------------------------------------------------------ lvm2 runner ----
lvmconf() {
    local acc="" d
    for d in "${DEV[@]:1}"; do acc+="\"a|^$d\$|\", "; done
    printf '%s' "global{activation=0 use_lvmlockd=0 $EXTRA_GLOBAL}" \
        " devices{use_devicesfile=0 hints=\"none\" obtain_device_list_from_udev=0 scan_lvs=0" \
        " global_filter=[ $acc\"r|.*|\" ] filter=[ $acc\"r|.*|\" ] }" \
        " activation{udev_sync=0 udev_rules=0 monitoring=0}" \
        " backup{backup=0 archive=0} $EXTRA_CONF"
}

# L CMD ARGS... : build step; output goes to the case build log; fails the script on error.
L() {
    echo "### lvm $*" >>"$BUILDLOG"
    if ! lvm "$@" --config "$(lvmconf)" >>"$BUILDLOG" 2>&1; then
        tail -n 20 "$BUILDLOG" >&2
        die "lvm $1 failed (log: $BUILDLOG)"
    fi
}

# Q CMD ARGS... : query; stdout to caller, stderr to the capture log.
Q() {
    echo "### lvm $*" >>"$CAPERR"
    lvm "$@" --config "$(lvmconf)" 2>>"$CAPERR"
}

# --------------------------------------------------------------- disks ----
# disks N SIZE [losetup options...] : create N sparse images and attach them.
disks() {
    local n=$1 size=$2; shift 2
    local i img
    for ((i = 1; i <= n; i++)); do
        if ((n == 1)); then img=$CASE.img; else img=$CASE-pv$i.img; fi
        truncate -s "$size" "$CASEW/$img"
        attach "$img" 0 "$@"
    done
}

# attach IMG OFFSET [losetup options...] : attach one image, record it.
attach() {
    local img=$1 off=$2; shift 2
    local d
    d=$(losetup -f --show "$@" "$CASEW/$img") || die "losetup failed"
    LOOPS+=("$d")
    DEV+=("$d"); IMG+=("$img"); OFF+=("$off")
    SECT+=("$(blockdev --getss "$d")")
}

detach_case() {
    local d
    for d in "${DEV[@]:1}"; do
        [[ $d != *p[0-9]* ]] || continue   # partition node of $GPT_WHOLE
        losetup -d "$d" || die "cannot detach $d"
        forget_loop "$d"
    done
}

# ------------------------------------------------------- metadata text ----
NOW=$(date +%s)
HOST=$(uname -n)
UUID_ALPHABET=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ

newid() { # random lvm2-style UUID, hyphenated 6-4-4-4-4-4-6
    local s="" b
    for b in $(od -An -N32 -tu1 /dev/urandom); do s+=${UUID_ALPHABET:b%62:1}; done
    printf '%s-%s-%s-%s-%s-%s-%s' "${s:0:6}" "${s:6:4}" "${s:10:4}" "${s:14:4}" \
        "${s:18:4}" "${s:22:4}" "${s:26:6}"
}

RW='"READ", "WRITE"'
RWV='"READ", "WRITE", "VISIBLE"'

# lv NAME STATUS FLAGS SEG... : print one LV section (file form) for
# vgcfgrestore.  Each SEG is a ';'-separated list of "key = value" lines
# (start_extent first); a line "{" / "}" opens/closes a subsection.
lv() {
    local name=$1 status=$2 flags=$3; shift 3
    printf '\t\t%s {\n' "$name"
    printf '\t\t\tid = "%s"\n\t\t\tstatus = [%s]\n\t\t\tflags = [%s]\n' "$(newid)" "$status" "$flags"
    printf '\t\t\tcreation_time = %s\n\t\t\tcreation_host = "%s"\n' "$NOW" "$HOST"
    printf '\t\t\tsegment_count = %d\n' $#
    local i=1 seg line ind
    for seg in "$@"; do
        printf '\n\t\t\tsegment%d {\n' $i
        ind=$'\t\t\t\t'
        IFS=';' read -r -a lines <<<"$seg"
        for line in "${lines[@]}"; do
            line=${line# }
            case $line in
                *'{') printf '%s%s\n' "$ind" "$line"; ind+=$'\t' ;;
                '}') ind=${ind%$'\t'}; printf '%s}\n' "$ind" ;;
                *) printf '%s%s\n' "$ind" "$line" ;;
            esac
        done
        printf '\t\t\t}\n'
        i=$((i + 1))
    done
    printf '\t\t}\n\n'
}

# linseg START COUNT PV PE : one linear ("striped", 1 stripe) segment
linseg() { echo "start_extent = $1;extent_count = $2;type = \"striped\";stripe_count = 1;stripes = [\"$3\", $4]"; }
# hidden linear sub-LV: sub NAME COUNT PV PE
sub() { lv "$1" "$RW" "" "$(linseg 0 "$2" "$3" "$4")"; }

# add_lvs IN LVFILE : print IN (a vgcfgbackup file) with the LV sections of
# LVFILE appended to logical_volumes (created if absent) and, optionally,
# a historical_logical_volumes section from $LVFILE.hist.
add_lvs() {
    awk -v lvs="$2" -v hist="$2.hist" '
        { line[NR] = $0 }
        END {
            for (i = NR; i > 0; i--) if (line[i] == "}") { vgend = i; break }
            if (!vgend) { print "no VG end" > "/dev/stderr"; exit 1 }
            for (i = 1; i <= NR; i++) {
                if (line[i] == "\tlogical_volumes {") has = 1
                if (line[i] == "\thistorical_logical_volumes {") { print "has history" > "/dev/stderr"; exit 1 }
            }
            end = vgend
            if (has) for (i = vgend - 1; i > 0; i--) if (line[i] == "\t}") { end = i; break }
            for (i = 1; i < end; i++) print line[i]
            if (!has) print "\n\tlogical_volumes {\n"
            while ((getline l < lvs) > 0) print l
            print "\t}"
            if ((getline l < hist) > 0) {
                print "\n\thistorical_logical_volumes {\n"
                print l
                while ((getline l < hist) > 0) print l
                print "\t}"
            }
            print "}"
        }' "$1"
}

# restore_with VG : read LV sections on stdin, add them to the VG's current
# metadata (vgcfgbackup), vgcfgrestore --force the result.
# If $CASEW/hist exists it is added as historical_logical_volumes.
restore_with() {
    local vg=$1 n
    n=$(find "$CASEW" -maxdepth 1 -name 'restore-*.vg' | wc -l)
    local before=$CASEW/restore-$n-before.vg after=$CASEW/restore-$n.vg lvs=$CASEW/restore-$n.lvs
    cat >"$lvs"
    if [[ -f $CASEW/hist ]]; then mv "$CASEW/hist" "$lvs.hist"; fi
    L vgcfgbackup -f "$before" "$vg"
    add_lvs "$before" "$lvs" >"$after"
    L vgcfgrestore --force -f "$after" "$vg"
}

# -------------------------------------------------------------- capture ----
PVS_FIELDS=pv_name,pv_uuid,vg_name,pv_size,dev_size,pe_start,pv_pe_count,pv_pe_alloc_count,pv_mda_count,pv_mda_used_count,pv_mda_size,pv_mda_free,pv_tags,pv_attr,pv_fmt,pv_free,pv_used,pv_ba_start,pv_ba_size,pv_ext_vsn,pv_in_use,pv_exported,pv_missing,pv_allocatable
VGS_FIELDS=vg_name,vg_uuid,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count,snap_count,vg_seqno,vg_tags,vg_systemid,vg_mda_count,vg_mda_used_count,vg_mda_size,vg_mda_free,max_lv,max_pv,vg_fmt,vg_exported,vg_mda_copies,vg_lock_type
LVS_FIELDS=lv_name,vg_name,lv_uuid,lv_attr,lv_size,seg_count,lv_tags,pool_lv,origin,data_lv,metadata_lv,lv_layout,lv_role,lv_read_ahead,lv_kernel_major,lv_kernel_minor,lv_major,lv_minor,lv_active,lv_host,lv_time,mirror_log,move_pv,convert_lv,lv_parent,lv_full_name,lv_path,lv_dm_path,chunk_size,transaction_id,thin_id,region_size,cache_mode,cache_policy
SEGS_FIELDS=lv_name,vg_name,segtype,seg_start,seg_start_pe,seg_size,seg_size_pe,stripes,stripe_size,devices,seg_pe_ranges,seg_le_ranges,seg_metadata_le_ranges,region_size,chunk_size,seg_tags

# capture_reports [extra report args, e.g. --foreign]
capture_reports() {
    local o=$CASED b=(--units b --nosuffix --reportformat json)
    Q pvs -a -o "$PVS_FIELDS" "${b[@]}" "$@" >"$o/pvs.json"
    Q vgs -o "$VGS_FIELDS" "${b[@]}" "$@" >"$o/vgs.json"
    Q lvs -a -o "$LVS_FIELDS" "${b[@]}" "$@" >"$o/lvs.json"
    Q lvs -a --segments -o "$SEGS_FIELDS" "${b[@]}" "$@" >"$o/segs.json"
    Q pvs "$@" >"$o/pvs-default.txt"
    Q vgs "$@" >"$o/vgs-default.txt"
    Q lvs -a "$@" >"$o/lvs-default.txt"
    # identity summary used by the verification step (not committed)
    Q pvs -a --noheadings -o pv_uuid,vg_name,vg_seqno,pv_mda_count "$@" | sort >"$CASEW/verify-expected.txt"
}

# capture_all [extra report args] : every field lvm2 knows (`-o all`, and for PV segments
# every field group), for lvs, lvs --segments, pvs, pvs --segments and vgs, with the loop
# devices used (all-devices.txt), the extra arguments (all-args.txt) and the system ID lvm2
# had (all-systemid.txt; none without it).
capture_all() {
    local o=$CASED b=(--units b --nosuffix --reportformat json) i
    [[ $CASE != many-lvs ]] || return 0   # 1000 LVs x 137 fields: megabytes, no new field
    Q lvs -a -o all "${b[@]}" "$@" >"$o/all-lvs.json"
    Q lvs -a --segments -o all "${b[@]}" "$@" >"$o/all-segs.json"
    Q pvs -a -o all "${b[@]}" "$@" >"$o/all-pvs.json"
    Q pvs -a --segments -o pv_all,pvseg_all,lv_all,seg_all,vg_all "${b[@]}" "$@" >"$o/all-pvsegs.json"
    Q vgs -o all "${b[@]}" "$@" >"$o/all-vgs.json"
    # aligned tables too (headings, widths, alignment; no device names in these two)
    Q lvs -a -o all "$@" >"$o/all-lvs.txt"
    Q vgs -o all "$@" >"$o/all-vgs.txt"
    if (($#)); then echo "$*" >"$o/all-args.txt"; else rm -f "$o/all-args.txt"; fi
    # the system ID lvm2 ran with (lvmlocal), which decides what is foreign
    i=$(sed -n 's/.*system_id="\([^"]*\)".*/\1/p' <<<"$EXTRA_CONF")
    if [[ -n $i ]]; then echo "$i" >"$o/all-systemid.txt"; else rm -f "$o/all-systemid.txt"; fi
    : >"$o/all-devices.txt"
    for ((i = 1; i < ${#DEV[@]}; i++)); do
        echo "${DEV[i]} ${IMG[i]} ${OFF[i]} ${SECT[i]}" >>"$o/all-devices.txt"
    done
    for i in lvs.json segs.json pvs.json pvsegs.json vgs.json lvs.txt vgs.txt; do
        chmod 644 "$o/all-$i"
        xz -T1 -9 -f "$o/all-$i"   # repetitive reports: about 1/20 of their size
    done
}

# capture_dumps : label/mda headers of every PV, metadata text of the first PV
# with an in-use mda.
capture_dumps() {
    local i d base first="" used cnt
    for ((i = 1; i < ${#DEV[@]}; i++)); do
        d=${DEV[i]}; base=${IMG[i]%.img}
        Q pvck --dump headers "$d" >"$CASED/headers-$base.txt" || true
        used=$(Q pvs --foreign --noheadings -o pv_mda_used_count "$d" | tr -d ' ')  || used=0  # an outdated PV is not found
        if [[ -z $first && ${used:-0} -gt 0 ]]; then first=$d; fi
    done
    [[ -n $first ]] || first=${DEV[1]}
    Q pvck --dump metadata -f "$CASED/metadata.txt" "$first" >/dev/null || true
    Q pvck --dump metadata_all "$first" >"$CASED/metadata_all.txt" || true
    Q pvck --dump metadata_all -f "$CASED/metadata_all-text.txt" "$first" >/dev/null || true
    cnt=$(Q pvs --foreign --noheadings -o pv_mda_count "$first" | tr -d ' ')
    if [[ $cnt == 2 ]]; then
        Q pvck --dump metadata --settings mda_num=2 -f "$CASED/metadata-mda2.txt" "$first" >/dev/null || true
        Q pvck --dump metadata_all --settings mda_num=2 "$first" >"$CASED/metadata_all-mda2.txt" || true
    fi
    METADATA_PV=$first
}

capture_backup() { # VG
    Q vgcfgbackup -f "$CASED/vgcfgbackup.vg" "$1" >/dev/null
}

# capture VG [extra report args] : everything
capture() {
    local vg=$1; shift
    capture_reports "$@"
    capture_all "$@"
    capture_dumps
    [[ -z $vg ]] || capture_backup "$vg"
}

KNOWN_NOISE='Activation disabled. No device-mapper interaction|File descriptor .* leaked on|/dev/mapper/control: open failed|Failure to communicate with kernel device-mapper|Check that device-mapper is available|Incompatible libdevmapper|metadata update is NOT backed up'

filter_stderr() { # keep only command headers followed by unexpected lines
    awk -v re="$KNOWN_NOISE" '
        /^### / { hdr = $0; shown = 0; next }
        $0 ~ re { next }
        { if (!shown) { print hdr; shown = 1 } print }' "$CAPERR" >"$CASED/lvm2.stderr"
    [[ -s $CASED/lvm2.stderr ]] || rm -f "$CASED/lvm2.stderr"
}

write_devices() {
    local i
    : >"$CASED/devices.txt"
    for ((i = 1; i < ${#DEV[@]}; i++)); do
        echo "${DEV[i]} ${IMG[i]} ${OFF[i]} ${SECT[i]}" >>"$CASED/devices.txt"
    done
}

compress_outputs() {
    local i f
    for ((i = 1; i < ${#IMG[@]}; i++)); do
        xz -T1 -9 -f "$CASEW/${IMG[i]}"
        mv "$CASEW/${IMG[i]}.xz" "$CASED/"
    done
    find "$CASED" -maxdepth 1 -type f -empty -delete   # e.g. no metadata on an orphan PV
    chmod 644 "$CASED"/*
    for f in "$CASED"/*.txt "$CASED"/*.json "$CASED"/*.vg; do
        [[ -f $f ]] || continue
        if (($(stat -c %s "$f") > BIG_TEXT)); then xz -T1 -9 -f "$f"; fi
    done
}

# verify : decompress the committed images, attach read-only and check that
# lvm2 reports the same PVs/VG/seqno as when the reports were captured.
verify() {
    local v=$CASEW/verify i img d args
    rm -rf "$v"; mkdir -p "$v"
    DEV=(""); local imgs=("${IMG[@]}") offs=("${OFF[@]}") sects=("${SECT[@]}")
    for ((i = 1; i < ${#imgs[@]}; i++)); do
        img=${imgs[i]}
        xz -dc "$CASED/$img.xz" | cp --sparse=always /dev/stdin "$v/$img"
        args=(-r)
        ((offs[i] == 0)) || args+=(-o "${offs[i]}" --sizelimit "$GPT_PART_BYTES")
        ((sects[i] == 512)) || args+=(-b "${sects[i]}")
        d=$(losetup -f --show "${args[@]}" "$v/$img") || die "verify: losetup failed"
        LOOPS+=("$d"); DEV+=("$d")
    done
    Q pvs -a --readonly --noheadings -o pv_uuid,vg_name,vg_seqno,pv_mda_count $VERIFY_ARGS \
        | sort >"$v/got.txt" || true
    detach_case
    if ! cmp -s "$v/got.txt" "$CASEW/verify-expected.txt"; then
        diff "$CASEW/verify-expected.txt" "$v/got.txt" >&2 || true
        die "verification failed"
    fi
    rm -rf "$v"
    echo "  verified: $(wc -l <"$CASEW/verify-expected.txt") PV(s) read back by lvm2"
}

# ---------------------------------------------------------------- cases ----
# Each case_X function builds the case with the disks/L/restore_with helpers
# and calls capture.  All sizes are fixed so reruns give the same layout.

case_linear() { # one PV, default 4 MiB extents, two linear LVs
    disks 1 32M
    L pvcreate "${DEV[1]}"
    L vgcreate lk_linear "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 8M -n lv0 lk_linear
    L lvcreate -an -Zn -Wn -L 4M -n lv1 lk_linear
    capture lk_linear
}

case_striped() { # 2 PVs, 2-stripe LVs with 64 KiB and 4 KiB stripes
    disks 2 16M
    L pvcreate "${DEV[1]}" "${DEV[2]}"
    L vgcreate -s 1M lk_striped "${DEV[1]}" "${DEV[2]}"
    L lvcreate -an -Zn -Wn -i 2 -I 64k -L 8M -n stripe64k lk_striped
    L lvcreate -an -Zn -Wn -i 2 -I 4k -L 4M -n stripe4k lk_striped
    capture lk_striped
}

case_spanning() { # linear LVs with several segments over 2 PVs
    disks 2 16M
    local a=${DEV[1]} b=${DEV[2]}
    L pvcreate "$a" "$b"
    L vgcreate -s 1M lk_spanning "$a" "$b"
    L lvcreate -an -Zn -Wn -L 3M -n hole lk_spanning "$a"
    L lvcreate -an -Zn -Wn -L 4M -n keep lk_spanning "$a"
    L lvremove -y lk_spanning/hole
    # span = a:0-2 + a:7-14 + b:0-8  (3 segments)
    L lvcreate -an -Zn -Wn -L 20M -n span lk_spanning "$a:0-2" "$a:7-14" "$b:0-8"
    # keep gets a second segment on the other PV
    L lvextend -L 6M lk_spanning/keep "$b:9-10"
    capture lk_spanning
}

case_thin() { # thin pool, thin LV, thin snapshot, historical (removed) thin LV
    disks 1 32M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_thin "${DEV[1]}"
    # layout as lvcreate --type thin-pool -L 8M would make it:
    # pmspare pv0:0-1, tdata pv0:2-9, tmeta pv0:10-11
    cat >"$CASEW/hist" <<EOF
		thin0 {
			id = "$(newid)"
			creation_time = $((NOW - 60))
			removal_time = $((NOW - 30))
			descendants = ["thin1"]
		}
EOF
    {
        # history: create thin2 (dev 1, tid 0->1), thin0 (dev 2), thin1 = snapshot
        # of thin0 (dev 3), tsnap = snapshot of thin1 (dev 4), remove thin0 (tid 5)
        lv tp "$RWV" "" "start_extent = 0;extent_count = 8;type = \"thin-pool\";metadata = \"tp_tmeta\";pool = \"tp_tdata\";transaction_id = 5;chunk_size = 128;discards = \"passdown\";zero_new_blocks = 1"
        lv thin2 "$RWV" "" "start_extent = 0;extent_count = 4;type = \"thin\";thin_pool = \"tp\";transaction_id = 0;device_id = 1"
        lv thin1 "$RWV" '"ACTIVATION_SKIP"' "start_extent = 0;extent_count = 16;type = \"thin\";thin_pool = \"tp\";transaction_id = 2;device_id = 3"
        lv tsnap "$RWV" '"ACTIVATION_SKIP"' "start_extent = 0;extent_count = 16;type = \"thin\";thin_pool = \"tp\";transaction_id = 3;device_id = 4;origin = \"thin1\""
        sub lvol0_pmspare 2 pv0 0
        sub tp_tmeta 2 pv0 10
        sub tp_tdata 8 pv0 2
    } | restore_with lk_thin
    capture lk_thin
    # historical LVs are only listed with -H/--history
    Q lvs -a -H -o lv_name,lv_full_name,lv_uuid,lv_attr,lv_historical,lv_time,lv_time_removed,origin,lv_ancestors,lv_full_ancestors,lv_descendants,lv_full_descendants \
        --reportformat json >"$CASED/lvs-history.json"
}

case_snapshot() { # old-style COW snapshots: origin with two snapshots
    disks 1 32M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_snapshot "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 8M -n base lk_snapshot
    {
        lv snap1 "$RW" "" "$(linseg 0 4 pv0 8)"
        lv snap2 "$RW" "" "$(linseg 0 2 pv0 12)"
        lv snapshot0 "$RWV" "" "start_extent = 0;extent_count = 8;type = \"snapshot\";chunk_size = 8;origin = \"base\";cow_store = \"snap1\""
        lv snapshot1 "$RWV" "" "start_extent = 0;extent_count = 8;type = \"snapshot\";chunk_size = 16;origin = \"base\";cow_store = \"snap2\""
    } | restore_with lk_snapshot
    capture lk_snapshot
}

case_raid() { # raid1 (2 images), raid5 (3 images), raid10 (4 images) on 4 PVs
    disks 4 16M
    L pvcreate "${DEV[@]:1}"
    L vgcreate -s 1M lk_raid "${DEV[@]:1}"
    {
        lv r1 "$RWV" "" "start_extent = 0;extent_count = 4;type = \"raid1\";device_count = 2;region_size = 4096;raids = [\"r1_rmeta_0\", \"r1_rimage_0\", \"r1_rmeta_1\", \"r1_rimage_1\"]"
        lv r5 "$RWV" "" "start_extent = 0;extent_count = 4;type = \"raid5\";device_count = 3;region_size = 4096;stripe_size = 128;raids = [\"r5_rmeta_0\", \"r5_rimage_0\", \"r5_rmeta_1\", \"r5_rimage_1\", \"r5_rmeta_2\", \"r5_rimage_2\"]"
        lv r10 "$RWV" "" "start_extent = 0;extent_count = 4;type = \"raid10\";device_count = 4;region_size = 4096;stripe_size = 128;raids = [\"r10_rmeta_0\", \"r10_rimage_0\", \"r10_rmeta_1\", \"r10_rimage_1\", \"r10_rmeta_2\", \"r10_rimage_2\", \"r10_rmeta_3\", \"r10_rimage_3\"]"
        sub r1_rmeta_0 1 pv0 0;  sub r1_rimage_0 4 pv0 1
        sub r1_rmeta_1 1 pv1 0;  sub r1_rimage_1 4 pv1 1
        sub r5_rmeta_0 1 pv0 5;  sub r5_rimage_0 2 pv0 6
        sub r5_rmeta_1 1 pv1 5;  sub r5_rimage_1 2 pv1 6
        sub r5_rmeta_2 1 pv2 0;  sub r5_rimage_2 2 pv2 1
        sub r10_rmeta_0 1 pv0 8; sub r10_rimage_0 2 pv0 9
        sub r10_rmeta_1 1 pv1 8; sub r10_rimage_1 2 pv1 9
        sub r10_rmeta_2 1 pv2 3; sub r10_rimage_2 2 pv2 4
        sub r10_rmeta_3 1 pv3 0; sub r10_rimage_3 2 pv3 1
    } | restore_with lk_raid
    capture lk_raid
}

case_mirror() { # legacy mirrors: core log, and disk log on a third PV
    disks 3 16M
    L pvcreate "${DEV[@]:1}"
    L vgcreate -s 1M lk_mirror "${DEV[@]:1}"
    {
        lv mcore "$RWV" "" "start_extent = 0;extent_count = 4;type = \"mirror\";mirror_count = 2;region_size = 1024;mirrors = [\"mcore_mimage_0\", 0, \"mcore_mimage_1\", 0]"
        lv mdisk "$RWV" "" "start_extent = 0;extent_count = 4;type = \"mirror\";mirror_count = 2;mirror_log = \"mdisk_mlog\";region_size = 1024;mirrors = [\"mdisk_mimage_0\", 0, \"mdisk_mimage_1\", 0]"
        sub mcore_mimage_0 4 pv0 0; sub mcore_mimage_1 4 pv1 0
        sub mdisk_mimage_0 4 pv0 4; sub mdisk_mimage_1 4 pv1 4
        sub mdisk_mlog 1 pv2 0
    } | restore_with lk_mirror
    capture lk_mirror
}

case_cache() { # cache pools (lvcreate-made unused one + two attached), cached LVs
    disks 1 48M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_cache "${DEV[1]}"
    # genuine lvcreate: pmspare pv0:0-4, cpool_free_cdata pv0:5-6, cpool_free_cmeta pv0:7-11
    L lvcreate -an --type cache-pool -L 2M -n cpool_free lk_cache
    {
        lv cached "$RWV" "" "start_extent = 0;extent_count = 8;type = \"cache\";cache_pool = \"cpool\";origin = \"cached_corig\""
        lv cached2 "$RWV" "" "start_extent = 0;extent_count = 4;type = \"cache\";cache_pool = \"cpool2\";origin = \"cached2_corig\""
        lv cpool "$RW" "" "start_extent = 0;extent_count = 2;type = \"cache-pool+METADATA_FORMAT\";data = \"cpool_cdata\";metadata = \"cpool_cmeta\";metadata_format = 2;chunk_size = 128;cache_mode = \"writethrough\";policy = \"smq\""
        lv cpool2 "$RW" "" "start_extent = 0;extent_count = 2;type = \"cache-pool\";data = \"cpool2_cdata\";metadata = \"cpool2_cmeta\";metadata_format = 1;chunk_size = 256;cache_mode = \"writeback\";policy = \"smq\";policy_settings {;migration_threshold = 4096;}"
        sub cached_corig 8 pv0 12
        sub cpool_cdata 2 pv0 20
        sub cpool_cmeta 5 pv0 22
        sub cached2_corig 4 pv0 27
        sub cpool2_cdata 2 pv0 31
        sub cpool2_cmeta 5 pv0 33
    } | restore_with lk_cache
    capture lk_cache
}

case_many_lvs() { # 1000 one-extent linear LVs (4 KiB extents), via vgcfgrestore
    disks 1 16M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 4k lk_many "${DEV[1]}"
    local i
    for ((i = 0; i < 1000; i++)); do
        lv "$(printf 'lv%04d' $i)" "$RWV" "" "$(linseg 0 1 pv0 $i)"
    done | restore_with lk_many
    capture lk_many
}

# mda_state DEV : "offset size mdasize" of mda1 slot 0
mda_state() {
    Q pvck --dump headers "$1" | awk '
        $1 == "mda_header_1.size" { s = $2 }
        $1 == "mda_header_1.raw_locn[0].offset" { o = $2 }
        $1 == "mda_header_1.raw_locn[0].size" { z = $2 }
        END { print o, z, s }'
}

case_wrapped_ring() { # minimum-size mda, many commits until the text wraps
    disks 1 16M
    local d=${DEV[1]} i o z s
    L pvcreate --metadatasize 32k --dataalignment 64k "$d"
    L vgcreate -s 1M lk_wrap "$d"
    for i in 0 1 2 3; do L lvcreate -an -Zn -Wn -L 1M -n "keep$i" lk_wrap; done
    # stop at the first commit that wraps with >= 1 KiB before the end of the area
    for ((i = 0; i < 300; i++)); do
        case $((i % 3)) in
            0) L lvcreate -an -Zn -Wn -L 1M -n tmp lk_wrap ;;
            1) L lvrename lk_wrap tmp tmp2 ;;
            2) L lvremove -y lk_wrap/tmp2 ;;
        esac
        read -r o z s < <(mda_state "$d")
        if ((o + z > s && s - o >= 1024)); then break; fi
    done
    ((o + z > s && s - o >= 1024)) || die "metadata never wrapped"
    echo "  wrapped after $((i + 1)) changes: raw_locn offset $o size $z, mda size $s"
    echo "wrapped: raw_locn[0] offset=$o size=$z mda_size=$s (offset+size > mda_size)" >"$CASED/wrap.txt"
    capture lk_wrap
}

case_two_mdas() { # PV with two metadata areas (start and end of the device)
    disks 1 32M
    L pvcreate --pvmetadatacopies 2 "${DEV[1]}"
    L vgcreate -s 1M lk_twomda "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 8M -n lv0 lk_twomda
    capture lk_twomda
}

case_zero_mda() { # VG of a 1-mda PV and a 0-mda PV, LV spanning both
    disks 2 16M
    L pvcreate "${DEV[1]}"
    L pvcreate --pvmetadatacopies 0 "${DEV[2]}"
    L vgcreate -s 1M lk_zeromda "${DEV[1]}" "${DEV[2]}"
    L lvcreate -an -Zn -Wn -L 20M -n lv0 lk_zeromda
    capture lk_zeromda
}

case_ignored_mda() { # 2 PVs, the mda of the second is ignored (and stale)
    disks 2 16M
    L pvcreate "${DEV[1]}" "${DEV[2]}"
    L vgcreate -s 1M lk_ignmda "${DEV[1]}" "${DEV[2]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_ignmda
    L pvchange --metadataignore y "${DEV[2]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv1 lk_ignmda
    capture lk_ignmda
}

case_system_id() { # VG owned by system ID "lk-hostA"; reports taken as a foreign host
    disks 1 16M
    EXTRA_GLOBAL='system_id_source="lvmlocal"'
    EXTRA_CONF='local{system_id="lk-hostA"}'
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_sysid "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_sysid
    capture_backup lk_sysid     # as the owner (a foreign VG cannot be backed up)
    EXTRA_GLOBAL='' EXTRA_CONF=''
    capture_reports --foreign
    capture_all --foreign
    capture_dumps
    VERIFY_ARGS=--foreign
}

case_exported() { # exported VG
    disks 1 16M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_exported "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_exported
    L vgexport lk_exported
    capture lk_exported
}

case_odd_names() { # VG/LV names using - + . _
    disks 1 16M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M 'my-vg.1_x+y' "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 2M -n 'data-1.a_b+c' 'my-vg.1_x+y'
    L lvcreate -an -Zn -Wn -L 1M -n '+lead.plus' 'my-vg.1_x+y'
    L lvcreate -an -Zn -Wn -L 1M -n '_x--y__' 'my-vg.1_x+y'
    capture 'my-vg.1_x+y'
}

GPT_PART_START=2048   # sectors
GPT_PART_SECTORS=59392
GPT_PART_BYTES=$((GPT_PART_SECTORS * 512))
case_gpt() { # GPT disk, PV in partition 1
    command -v sfdisk >/dev/null || die "missing tool: sfdisk (Debian package fdisk)"
    local img=$CASE.img d
    truncate -s 32M "$CASEW/$img"
    sfdisk -q "$CASEW/$img" >>"$BUILDLOG" 2>&1 <<EOF || die "sfdisk failed"
label: gpt
label-id: 6C4D1E2A-0B7F-4C3A-9E51-3F1A2B3C4D5E
unit: sectors
first-lba: 34
start=$GPT_PART_START, size=$GPT_PART_SECTORS, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0, name="lvm-pv"
EOF
    # Prefer a real partition device; this kernel has no partition scanning
    # for loop devices, so fall back to a loop over the partition range.
    d=$(losetup -f --show -P "$CASEW/$img") || die "losetup failed"
    LOOPS+=("$d")
    sleep 0.2
    if [[ -b ${d}p1 ]]; then
        DEV+=("${d}p1"); IMG+=("$img"); OFF+=($((GPT_PART_START * 512))); SECT+=(512)
        GPT_WHOLE=$d
    else
        losetup -d "$d"; forget_loop "$d"
        attach "$img" $((GPT_PART_START * 512)) -o $((GPT_PART_START * 512)) --sizelimit "$GPT_PART_BYTES"
    fi
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_gpt "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 8M -n lv0 lk_gpt
    capture lk_gpt
    (cd "$CASEW" && sfdisk -d "$img") >"$CASED/sfdisk.txt"
}

case_bootloader() { # PV with a 1 MiB bootloader area
    disks 1 16M
    L pvcreate --bootloaderareasize 1m "${DEV[1]}"
    L vgcreate -s 1M lk_boot "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_boot
    capture lk_boot
}

case_sector4k() { # loop device with 4096-byte logical sectors
    disks 1 16M -b 4096
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_4k "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_4k
    capture lk_4k
}

case_orphan() { # pvcreate only
    disks 1 16M
    L pvcreate "${DEV[1]}"
    capture ""
}

case_tags() { # PV, VG and LV tags
    disks 2 16M
    L pvcreate "${DEV[1]}" "${DEV[2]}"
    L vgcreate -s 1M --addtag vgtag1 --addtag 'odd/tag=x:y&z#1!_+.-' lk_tags "${DEV[1]}" "${DEV[2]}"
    L pvchange --addtag pvtag1 --addtag pvtag2 "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 --addtag lvtag1 --addtag lvtag2 lk_tags
    L lvcreate -an -Zn -Wn -L 4M -n lv1 lk_tags
    L lvchange --addtag later lk_tags/lv1
    capture lk_tags
}

case_lv_attrs() { # VG limits/alloc policy, LV read-ahead, permissions, skip, zero/error LVs
    disks 1 32M
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M -l 64 -p 8 --alloc cling lk_attrs "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 2M -n ra256 --readahead 256 lk_attrs
    L lvcreate -an -Zn -Wn -L 2M -n ranone --readahead none lk_attrs
    L lvcreate -an -Zn -Wn -L 2M -n readonly -p r lk_attrs
    L lvcreate -an -Zn -Wn -L 2M -n skip --setactivationskip y lk_attrs
    L lvcreate -an -Zn -Wn -L 4M -n contig --alloc contiguous lk_attrs
    L lvcreate -an -Zn -Wn -L 2M -n anywhere --alloc anywhere lk_attrs
    L lvcreate -an -Zn -Wn -L 2M -n fixedminor -My --major 253 --minor 123 lk_attrs
    L lvcreate -an -L 8M --type zero -n zero lk_attrs
    L lvcreate -an -L 4M --type error -n error lk_attrs
    capture lk_attrs
}

# rimg NAME PV PE : raid image pair NAME_rmeta_N (1 extent) + NAME_rimage_N (COUNT)
# raid TYPE NAME COUNT IMAGES STRIPE... helpers are spelled out per LV below.
raidlv() { # raidlv NAME TYPE EXTENTS NIMAGES EXTRA : the top LV, images NAME_r{meta,image}_N
    local name=$1 type=$2 ext=$3 n=$4 extra=$5 i list=""
    for ((i = 0; i < n; i++)); do
        if [[ $type == raid0 ]]; then list+="\"${name}_rimage_$i\", "
        else list+="\"${name}_rmeta_$i\", \"${name}_rimage_$i\", "; fi
    done
    list=${list%, }
    if [[ $type == raid0 ]]; then
        lv "$name" "$RWV" "" "start_extent = 0;extent_count = $ext;type = \"raid0\";device_count = $n;stripe_size = 128;raid0_lvs = [$list]"
    else
        local region=";region_size = 4096"
        [[ $type != raid0_meta ]] || region=""
        lv "$name" "$RWV" "" "start_extent = 0;extent_count = $ext;type = \"$type\";device_count = $n${region}${extra};raids = [$list]"
    fi
}

# raidset NAME TYPE EXTENTS NIMAGES IMAGE_EXTENTS EXTRA : a raid LV with its images placed one
# after the other from $RAIDPV:$RAIDPE on (advancing both; 31 extents per PV)
raidset() {
    local name=$1 type=$2 ext=$3 n=$4 len=$5 extra=$6 i
    raidlv "$name" "$type" "$ext" "$n" "$extra"
    for ((i = 0; i < n; i++)); do
        if ((RAIDPE + 1 + len > 31)); then RAIDPV=$((RAIDPV + 1)) RAIDPE=0; fi
        sub "${name}_rmeta_$i" 1 "pv$RAIDPV" "$RAIDPE"
        sub "${name}_rimage_$i" "$len" "pv$RAIDPV" $((RAIDPE + 1))
        RAIDPE=$((RAIDPE + 1 + len))
    done
}

case_segtypes() { # every segment type lvm2 restores without a kernel, one VG
    disks 7 32M
    L pvcreate "${DEV[@]:1}"
    L vgcreate -s 1M lk_segtypes "${DEV[@]:1}"
    local vdo='type = "vdo-pool";data = "vpool_vdata";header_size = 512;virtual_extents = 20;use_compression = 1;use_deduplication = 1;use_metadata_hints = 1;minimum_io_size = 4096;block_map_cache_size_mb = 128;block_map_era_length = 16380;use_sparse_index = 0;index_memory_size_mb = 256;max_discard = 1;slab_size_mb = 2048;ack_threads = 1;bio_threads = 4;bio_rotation = 64;cpu_threads = 2;hash_zone_threads = 1;logical_threads = 1;physical_threads = 1;write_policy = auto'
    local integ='mode = "J";tag_size = 4;block_size = 512;internal_hash = "crc32c"'
    {
        # VDO: pool vpool (data vpool_vdata) and the vdo LV vlv at offset 0
        lv vpool "$RWV" "" "start_extent = 0;extent_count = 4;$vdo"
        sub vpool_vdata 4 pv0 0
        lv vlv "$RWV" "" 'start_extent = 0;extent_count = 20;type = "vdo";vdo_pool = "vpool";vdo_offset = 0'
        # raid1 with integrity images (_iorig + _imeta)
        raidlv ri raid1 2 2 ""
        lv ri_rimage_0 "$RW" "" "start_extent = 0;extent_count = 2;type = \"integrity\";origin = \"ri_rimage_0_iorig\";data_sectors = 4096;$integ;meta_dev = \"ri_rimage_0_imeta\""
        lv ri_rimage_1 "$RW" "" "start_extent = 0;extent_count = 2;type = \"integrity\";origin = \"ri_rimage_1_iorig\";data_sectors = 4096;$integ;meta_dev = \"ri_rimage_1_imeta\""
        sub ri_rimage_0_iorig 2 pv0 4; sub ri_rimage_0_imeta 1 pv0 6; sub ri_rmeta_0 1 pv0 7
        sub ri_rimage_1_iorig 2 pv1 0; sub ri_rimage_1_imeta 1 pv1 2; sub ri_rmeta_1 1 pv1 3
        # raid0, raid0_meta, raid4, raid5_n, raid6_zr, raid10
        raidlv r0 raid0 4 2 ""
        sub r0_rimage_0 2 pv0 8; sub r0_rimage_1 2 pv1 4
        raidlv r0m raid0_meta 4 2 ";stripe_size = 128"
        sub r0m_rmeta_0 1 pv0 10; sub r0m_rimage_0 2 pv0 11
        sub r0m_rmeta_1 1 pv1 6;  sub r0m_rimage_1 2 pv1 7
        raidlv r4 raid4 4 3 ";stripe_size = 128"
        sub r4_rmeta_0 1 pv0 13; sub r4_rimage_0 2 pv0 14
        sub r4_rmeta_1 1 pv1 9;  sub r4_rimage_1 2 pv1 10
        sub r4_rmeta_2 1 pv2 0;  sub r4_rimage_2 2 pv2 1
        raidlv r5n raid5_n 4 3 ";stripe_size = 128"
        sub r5n_rmeta_0 1 pv0 16; sub r5n_rimage_0 2 pv0 17
        sub r5n_rmeta_1 1 pv1 12; sub r5n_rimage_1 2 pv1 13
        sub r5n_rmeta_2 1 pv2 3;  sub r5n_rimage_2 2 pv2 4
        raidlv r6 raid6_zr 6 5 ";stripe_size = 128"
        sub r6_rmeta_0 1 pv0 19; sub r6_rimage_0 2 pv0 20
        sub r6_rmeta_1 1 pv1 15; sub r6_rimage_1 2 pv1 16
        sub r6_rmeta_2 1 pv2 6;  sub r6_rimage_2 2 pv2 7
        sub r6_rmeta_3 1 pv3 0;  sub r6_rimage_3 2 pv3 1
        sub r6_rmeta_4 1 pv3 3;  sub r6_rimage_4 2 pv2 9
        raidlv r10 raid10 4 4 ";stripe_size = 128"
        sub r10_rmeta_0 1 pv3 10; sub r10_rimage_0 2 pv3 11
        sub r10_rmeta_1 1 pv3 13; sub r10_rimage_1 2 pv3 14
        sub r10_rmeta_2 1 pv2 28; sub r10_rimage_2 2 pv2 29
        sub r10_rmeta_3 1 pv3 28; sub r10_rimage_3 2 pv3 29
        # writecache with a cachevol
        lv wc "$RWV" "" 'start_extent = 0;extent_count = 4;type = "writecache";origin = "wc_wcorig";writecache = "fastwc_cvol";writecache_block_size = 4096'
        sub wc_wcorig 4 pv0 22
        lv fastwc_cvol "$RW" '"CACHE_VOL"' "$(linseg 0 2 pv1 18)"
        # cache with a cachevol
        lv cc "$RWV" "" "start_extent = 0;extent_count = 4;type = \"cache+CACHE_USES_CACHEVOL+METADATA_FORMAT\";cache_pool = \"fastc_cvol\";origin = \"cc_corig\";metadata_format = 2;chunk_size = 128;cache_mode = \"writethrough\";policy = \"smq\";metadata_start = 0;metadata_len = 2048;data_start = 2048;data_len = 6144;metadata_id = \"$(newid)\";data_id = \"$(newid)\""
        sub cc_corig 4 pv0 26
        lv fastc_cvol "$RW" '"CACHE_VOL"' "$(linseg 0 4 pv1 20)"
        # sparse snapshot: virtual origin sp_vorigin (zero), COW sp, glue snapshot0
        lv sp_vorigin "$RW" "" 'start_extent = 0;extent_count = 16;type = "zero"'
        lv sp "$RW" "" "$(linseg 0 2 pv1 24)"
        lv snapshot0 "$RWV" "" 'start_extent = 0;extent_count = 16;type = "snapshot";chunk_size = 8;origin = "sp_vorigin";cow_store = "sp"'
        # thin pool with a thin LV using an external origin (read-only linear LV)
        lv tp "$RWV" "" 'start_extent = 0;extent_count = 4;type = "thin-pool";metadata = "tp_tmeta";pool = "tp_tdata";transaction_id = 1;chunk_size = 128;discards = "passdown";zero_new_blocks = 1'
        sub tp_tdata 4 pv2 12; sub tp_tmeta 1 pv2 16; sub lvol0_pmspare 1 pv2 17
        lv extorig '"READ", "VISIBLE"' "" "$(linseg 0 4 pv2 18)"
        lv thext "$RWV" "" 'start_extent = 0;extent_count = 4;type = "thin";thin_pool = "tp";transaction_id = 0;device_id = 1;external_origin = "extorig"'
        # the other raid layouts, and a 3-way raid1 with write-behind and recovery rates
        RAIDPV=4 RAIDPE=0
        raidset r5la raid5_la 2 3 1 ";stripe_size = 128"
        raidset r5ra raid5_ra 2 3 1 ";stripe_size = 128"
        raidset r5rs raid5_rs 2 3 1 ";stripe_size = 128"
        raidset r6nr raid6_nr 3 5 1 ";stripe_size = 128"
        raidset r6nc raid6_nc 3 5 1 ";stripe_size = 128"
        raidset r6ls6 raid6_ls_6 3 5 1 ";stripe_size = 128"
        raidset r6n6 raid6_n_6 3 5 1 ";stripe_size = 128"
        raidset r1wb raid1 1 3 1 ";writebehind = 256;min_recovery_rate = 100;max_recovery_rate = 2000"
    } | restore_with lk_segtypes
    capture lk_segtypes
}

case_foreign() { # VG owned by "lk-hostA": reports as no-system-ID host, owner, other host
    disks 1 16M
    EXTRA_GLOBAL='system_id_source="lvmlocal"'
    EXTRA_CONF='local{system_id="lk-hostA"}'
    L pvcreate "${DEV[1]}"
    L vgcreate -s 1M lk_foreign "${DEV[1]}"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_foreign
    local view id args b=(-o pv_name,vg_name,vg_systemid --reportformat json)
    # view-<host>[-foreign]-{pvs,pvs-a,vgs,lvs}.json; <host> is the system ID used (none = unset)
    for view in none lk-hostA lk-hostB; do
        for args in "" --foreign; do
            if [[ $view == none ]]; then EXTRA_GLOBAL='' EXTRA_CONF=''
            else EXTRA_GLOBAL='system_id_source="lvmlocal"' EXTRA_CONF="local{system_id=\"$view\"}"; fi
            id=view-$view${args:+-foreign}
            Q pvs "${b[@]}" $args >"$CASED/$id-pvs.json"
            Q pvs -a "${b[@]}" $args >"$CASED/$id-pvs-a.json"
            Q vgs -o vg_name,vg_systemid,vg_attr --reportformat json $args >"$CASED/$id-vgs.json"
            Q lvs -a -o lv_name,vg_name,lv_attr --reportformat json $args >"$CASED/$id-lvs.json"
        done
    done
    EXTRA_GLOBAL='system_id_source="lvmlocal"' EXTRA_CONF='local{system_id="lk-hostA"}'
    capture lk_foreign
    VERIFY_ARGS=--foreign
}

case_outdated_pv() { # PV removed by vgreduce --removemissing while absent, then back
    disks 2 16M
    local a=${DEV[1]} b=${DEV[2]}
    L pvcreate "$a" "$b"
    L vgcreate -s 1M lk_outdated "$a" "$b"
    L lvcreate -an -Zn -Wn -L 4M -n lv0 lk_outdated "$a"
    # hide PV2 from lvm2 (filter with PV1 only), drop it from the VG, then show it again
    local all=("${DEV[@]}")
    DEV=("" "$a")
    L vgreduce --removemissing lk_outdated
    DEV=("${all[@]}")
    capture lk_outdated
}

# ---------------------------------------------------------------- driver ----
# recapture_case CASE : attach the committed images of CASE read-only and capture only the
# `-o all` reports (capture_all), leaving images and the other files as they are.
recapture_case() {
    CASE=$1 CASED=$HERE/$1 CASEW=$WORK/$1
    [[ -f $CASED/devices.txt ]] || die "no committed images"
    rm -rf "$CASEW"; mkdir -p "$CASEW"
    DEV=("") IMG=("") OFF=("") SECT=("")
    EXTRA_GLOBAL="" EXTRA_CONF=""
    CAPERR=$CASEW/capture.stderr; : >"$CAPERR"
    echo "== $CASE (recapture)"
    local lvmdev img off sect args extra=()
    while read -r lvmdev img off sect; do
        xz -dc "$CASED/$img.xz" | cp --sparse=always /dev/stdin "$CASEW/$img"
        args=(-r)
        ((off == 0)) || args+=(-o "$off" --sizelimit "$GPT_PART_BYTES")
        ((sect == 512)) || args+=(-b "$sect")
        attach "$img" "$off" "${args[@]}"
    done <"$CASED/devices.txt"
    # as the first capture did: its extra arguments and system ID
    if [[ -f $CASED/all-args.txt ]]; then read -r -a extra <"$CASED/all-args.txt"; fi
    if [[ -f $CASED/all-systemid.txt ]]; then
        EXTRA_GLOBAL='system_id_source="lvmlocal"'
        EXTRA_CONF="local{system_id=\"$(cat "$CASED/all-systemid.txt")\"}"
    fi
    capture_all "${extra[@]}"
    detach_case
    rm -rf "$CASEW"
}

run_case() {
    CASE=$1
    local fn=case_${CASE//-/_}
    declare -F "$fn" >/dev/null || die "unknown case"
    CASED=$HERE/$CASE CASEW=$WORK/$CASE
    rm -rf "$CASED" "$CASEW"
    mkdir -p "$CASED" "$CASEW"
    DEV=("") IMG=("") OFF=("") SECT=("")
    EXTRA_GLOBAL="" EXTRA_CONF="" VERIFY_ARGS="" GPT_WHOLE=""
    BUILDLOG=$CASEW/build.log CAPERR=$CASEW/capture.stderr
    : >"$BUILDLOG"; : >"$CAPERR"
    local t0=$SECONDS
    echo "== $CASE"
    "$fn"
    write_devices
    filter_stderr
    detach_case
    if [[ -n $GPT_WHOLE ]]; then losetup -d "$GPT_WHOLE"; forget_loop "$GPT_WHOLE"; fi
    compress_outputs
    verify
    local i
    for ((i = 1; i < ${#IMG[@]}; i++)); do
        printf '  %-28s %8d bytes\n' "${IMG[i]}.xz" "$(stat -c %s "$CASED/${IMG[i]}.xz")"
    done
    echo "  done in $((SECONDS - t0))s"
}

main() {
    local cases=() c
    if [[ ${1:-} == --list ]]; then printf '%s\n' "${ALL_CASES[@]}"; exit 0; fi
    local recapture=0
    if [[ ${1:-} == --recapture-all ]]; then recapture=1; shift; fi
    if (($#)); then cases=("$@"); else cases=("${ALL_CASES[@]}"); fi
    [[ $(id -u) == 0 ]] || { echo "must run as root (losetup)" >&2; exit 1; }
    for c in lvm losetup xz truncate blockdev awk od; do
        command -v "$c" >/dev/null || { echo "missing tool: $c" >&2; exit 1; }
    done
    mkdir -p "$WORK"
    lvm version 2>/dev/null | sed -n 1p
    for c in "${cases[@]}"; do
        if ((recapture)); then recapture_case "$c"; else run_case "$c"; fi
    done
    rmdir "$WORK" 2>/dev/null || true
    echo "all done in ${SECONDS}s"
}

main "$@"
