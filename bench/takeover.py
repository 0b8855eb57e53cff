#!/usr/bin/env python3
"""System-ID takeover of a VG with 100 LVs on 4 PVs: lvm2 `vgchange --systemid` against
`lvmkit vgchange --systemid NEW --takeover OLD` on the same loop devices, same run.

Needs root, lvm2 and losetup; attaches 4 loop devices of its own (detached at exit, only
those). lvm2 runs restricted to those devices by filters, with system_id_source=lvmlocal and
the owning host's ID (lvm2 only changes a VG its host owns); both tools archive and back up
into private directories and use private lock directories. Each timed run alternates the
owner between two IDs, so every run is one ownership change (seqno + 1).

With --profile DIR, after the timed runs one more lvmkit takeover each runs under
`strace -f -tt -T` (DIR/strace.txt), `strace -c -f` (DIR/strace-c.txt) and
`perf record --call-graph dwarf` (DIR/perf.data, DIR/perf.txt) on the same devices.

Usage: sudo bench/takeover.py [--runs N] [--lvmkit target/release/lvmkit] [--profile DIR] [--keep]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=11)
ap.add_argument("--keep", action="store_true", help="leave the loop devices and files in place (prints them)")
ap.add_argument("--profile", metavar="DIR", help="profile one more lvmkit takeover into DIR")
ap.add_argument("--lvmkit", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "lvmkit"))
args = ap.parse_args()

tmp = tempfile.mkdtemp(prefix="lvmkit-takeover-")
loops = []


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
    return r.stdout


def conf(host):
    acc = "".join(f'"a|^{d}$|", ' for d in loops)
    sid = f'system_id_source="lvmlocal"}} local{{system_id="{host}"}}' if host else 'system_id_source="none"}'
    return (
        f"global{{activation=0 use_lvmlockd=0 locking_dir=\"{tmp}/l2lock\" {sid} "
        f"devices{{use_devicesfile=0 hints=\"none\" obtain_device_list_from_udev=0 scan_lvs=0 "
        f"global_filter=[ {acc}\"r|.*|\" ] filter=[ {acc}\"r|.*|\" ]}} "
        f"activation{{udev_sync=0 udev_rules=0 monitoring=0}} "
        f"backup{{backup=1 archive=1 backup_dir=\"{tmp}/l2backup\" archive_dir=\"{tmp}/l2archive\"}}"
    )


env = dict(os.environ, LVM_SYSTEM_DIR=tmp, LVM_SUPPRESS_FD_WARNINGS="1")


def lvm(host, *a):
    return sh(["lvm", *a, "--config", conf(host)], env=env)


def lvmkit(*a, write=True, wrap=()):
    w = ["--archive-dir", f"{tmp}/karchive", "--backup-dir", f"{tmp}/kbackup", "--lock-dir", f"{tmp}/klock"]
    return sh([*wrap, args.lvmkit, *a, "--devices", ",".join(loops), *(w if write else [])])


owner = "hostA"
try:
    for i in range(4):
        img = f"{tmp}/pv{i}.img"
        with open(img, "wb") as f:
            f.truncate(256 << 20)
        loops.append(sh(["losetup", "-f", "--show", img]).strip())
    lvm(None, "pvcreate", "-q", *loops)
    lvm("hostA", "vgcreate", "-q", "bvg", *loops)
    for n in range(100):
        lvm("hostA", "lvcreate", "-q", "-an", "-Zn", "-L", "4M", "-n", f"lv{n:03}", "bvg")
    seq = lambda: lvmkit("vgs", "--noheadings", "-o", "vg_seqno,vg_systemid,lv_count", "bvg", write=False).split()
    t_lvm, t_kit = [], []
    for r in range(args.runs):
        new = "hostB" if owner == "hostA" else "hostA"
        t = time.perf_counter()
        lvm(owner, "vgchange", "-q", "-y", "--systemid", new, "bvg")
        t_lvm.append(time.perf_counter() - t)
        owner = new
        new = "hostB" if owner == "hostA" else "hostA"
        t = time.perf_counter()
        lvmkit("vgchange", "--host-systemid", new, "--takeover", owner, "--systemid", new, "bvg")
        t_kit.append(time.perf_counter() - t)
        owner = new
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        pr = os.path.abspath(args.profile)
        wraps = [
            ["strace", "-f", "-tt", "-T", "-o", f"{pr}/strace.txt"],
            ["strace", "-c", "-f", "-o", f"{pr}/strace-c.txt"],
            ["perf", "record", "-q", "-F", "20000", "-g", "--call-graph", "dwarf", "-o", f"{pr}/perf.data"],
        ]
        for wrap in wraps:
            new = "hostB" if owner == "hostA" else "hostA"
            lvmkit("vgchange", "--host-systemid", new, "--takeover", owner, "--systemid", new, "bvg", wrap=wrap)
            owner = new
        with open(f"{pr}/perf.txt", "w") as f:
            subprocess.run(["perf", "report", "-i", f"{pr}/perf.data", "--stdio", "--no-children",
                            "--percent-limit", "0.5"], stdout=f, stderr=subprocess.DEVNULL)
        print(f"profile of one lvmkit takeover in {pr}: strace.txt, strace-c.txt, perf.data, perf.txt")
    s = seq()
    assert s[1] == owner and s[2] == "100", s
    r = subprocess.run(["lvm", "vgck", "bvg", "--config", conf(owner)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ml, mk = statistics.median(t_lvm), statistics.median(t_kit)
    print(f"VG bvg: 100 LVs on 4 PVs ({', '.join(loops)}), {args.runs} runs each, final seqno {s[0]}")
    print(f"lvm vgchange --systemid:                  median {ml * 1000:.1f} ms")
    print(f"lvmkit vgchange --systemid --takeover:    median {mk * 1000:.1f} ms")
    print(f"ratio lvm2 / lvmkit: {ml / mk:.1f}x")
finally:
    if args.keep:
        print(f"kept: {tmp} on {','.join(loops)}; owner {owner}; detach with losetup -d")
        sys.exit(0)
    for d in reversed(loops):
        subprocess.run(["losetup", "-d", d])
    shutil.rmtree(tmp, ignore_errors=True)
