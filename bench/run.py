#!/usr/bin/env python3
"""lvmkit vs lvm2 report benchmark, measured in one run on the same loop devices.

Scenarios (VGs made by genuine lvm2 on loop devices this script attaches and detaches):
  1 PV / 50 LVs, 1 PV / 1000 LVs, 100 PVs / 100 LVs.
For each: median wall time of `lvm vgs` and `lvm lvs --reportformat json` (device filter =
exactly the scenario's loop devices) against `lvmkit vgs` / `lvmkit lvs --reportformat json
--devices <same devices>`, and the ratio. The JSON outputs are also compared (they must match).
Needs root, lvm2 and a release build: `cargo build --release -p lvmkit`.
`--baseline BIN` also times another lvmkit binary (an earlier build) on the same devices, its
runs interleaved with the current build's so that machine load hits both alike, and prints the
current build's time relative to it.
Usage: sudo python3 bench/run.py [--runs N] [--only NAME] [--baseline BIN]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LVMKIT = os.path.join(ROOT, "target", "release", "lvmkit")
ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1", LC_ALL="C")


def conf(devs):
    acc = ", ".join(f'"a|^{d}$|"' for d in devs)
    return ("global{activation=0 use_lvmlockd=0} devices{use_devicesfile=0 hints=\"none\" "
            f"obtain_device_list_from_udev=0 scan_lvs=0 global_filter=[ {acc}, \"r|.*|\" ] "
            f"filter=[ {acc}, \"r|.*|\" ] }} activation{{udev_sync=0 udev_rules=0 monitoring=0}} "
            "backup{backup=0 archive=0}")


def lvm(devs, *args, check=True):
    r = subprocess.run(["lvm", *args, "--config", conf(devs)], env=ENV, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"lvm {' '.join(args)} failed: {r.stderr}")
    return r.stdout


class Loops:
    """Loop devices this run attached; detached on exit, and only these."""

    def __init__(self, tmp):
        self.tmp, self.devs = tmp, []

    def make(self, name, size_mib):
        path = os.path.join(self.tmp, name + ".img")
        with open(path, "wb") as f:
            f.truncate(size_mib << 20)
        dev = subprocess.run(["losetup", "-f", "--show", path], capture_output=True, text=True, check=True).stdout.strip()
        self.devs.append(dev)
        return dev

    def close(self):
        for d in self.devs:
            subprocess.run(["losetup", "-d", d], capture_output=True)


def restore_many(devs, vg, n_lvs, extents_per_lv, pvs_used):
    """Add n_lvs linear LVs by editing a vgcfgbackup and restoring it (lvcreate x1000 is slow)."""
    tmp = tempfile.mktemp(suffix=".vg")
    lvm(devs, "vgcfgbackup", "-f", tmp, vg)
    text = open(tmp).read()
    lvs = []
    for i in range(n_lvs):
        pv, pe = pvs_used(i)
        lvs.append(
            f"lv{i:04d} {{\nid = \"{lvid(i)}\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\n"
            f"creation_time = 1795299400\ncreation_host = \"bench\"\nsegment_count = 1\n"
            f"segment1 {{\nstart_extent = 0\nextent_count = {extents_per_lv}\ntype = \"striped\"\n"
            f"stripe_count = 1\nstripes = [\n\"pv{pv}\", {pe}\n]\n}}\n}}\n")
    i = text.rindex("}")  # end of the VG section
    text = text[:i] + "logical_volumes {\n" + "".join(lvs) + "}\n" + text[i:]
    open(tmp, "w").write(text)
    lvm(devs, "vgcfgrestore", "-f", tmp, vg)
    os.unlink(tmp)


def lvid(i):
    s = f"bench{i:027d}"
    return "-".join([s[0:6], s[6:10], s[10:14], s[14:18], s[18:22], s[22:26], s[26:32]])


def timed(cmd, runs):
    (t, out), = timed_together([cmd], runs)
    return t, out


def timed_together(cmds, runs):
    """Median time and last output of each command, the commands' runs interleaved."""
    times, outs = [[] for _ in cmds], [None for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            t = time.perf_counter()
            r = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
            times[i].append(time.perf_counter() - t)
            if r.returncode != 0:
                sys.exit(f"{cmd[0]} failed: {r.stderr}")
            outs[i] = r.stdout
    return [(statistics.median(t), o) for t, o in zip(times, outs)]


def scenario(loops, name, n_pvs, n_lvs, runs, profile=False, baseline=None):
    devs = [loops.make(f"{name}-{i}", 16 if n_pvs > 1 else 2048) for i in range(n_pvs)]
    vg = f"lkbench_{name}_{os.getpid()}"
    lvm(devs, "pvcreate", "-q", *devs)
    lvm(devs, "vgcreate", "-q", "-s", "1m", vg, *devs)
    if n_pvs == 1:
        restore_many(devs, vg, n_lvs, 1, lambda i: (0, i))
    else:
        restore_many(devs, vg, n_lvs, 1, lambda i: (i % n_pvs, i // n_pvs))
    rows = []
    for what, lvm_args, kit_args in [
        ("vgs", ["vgs"], ["vgs"]),
        ("lvs json", ["lvs", "--reportformat", "json"], ["lvs", "--reportformat", "json"]),
    ]:
        t_lvm, o_lvm = timed(["lvm", *lvm_args, "--config", conf(devs)], runs)
        kits = [[LVMKIT, *kit_args, "--devices", ",".join(devs)]]
        if baseline:
            kits.append([baseline, *kit_args, "--devices", ",".join(devs)])
        timings = timed_together(kits, runs)
        t_kit, o_kit = timings[0]
        same = o_lvm == o_kit
        if not same and "json" in what:
            same = json.loads(o_lvm) == json.loads(o_kit)
        t_base = timings[1][0] if baseline else None
        rows.append((f"{n_pvs} PV / {n_lvs} LVs", what, t_lvm, t_kit, t_lvm / t_kit, same, t_base))
        if profile:
            out = f"/tmp/lvmkit-{name}-{what.replace(' ', '-')}.perf"
            subprocess.run(["perf", "record", "-q", "-F", "20000", "--call-graph", "dwarf", "-o", out, "--",
                            LVMKIT, *kit_args, "--devices", ",".join(devs)], capture_output=True)
            print(f"perf profile: {out}", file=sys.stderr)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--only")
    ap.add_argument("--profile", action="store_true", help="also record each lvmkit run with perf")
    ap.add_argument("--baseline", help="another lvmkit binary to time alongside (interleaved runs)")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("lvm") or not os.path.exists(LVMKIT):
        sys.exit("needs root, lvm2 and target/release/lvmkit (cargo build --release -p lvmkit)")
    tmp = tempfile.mkdtemp(prefix="lvmkit-bench-")
    loops = Loops(tmp)
    rows = []
    try:
        for name, pvs, lvs in [("p1l50", 1, 50), ("p1l1000", 1, 1000), ("p100", 100, 100)]:
            if a.only and a.only != name:
                continue
            rows += scenario(loops, name, pvs, lvs, a.runs, a.profile, a.baseline)
    finally:
        loops.close()
        shutil.rmtree(tmp, ignore_errors=True)
    base = f" {'baseline (ms)':>14} {'vs baseline':>12}" if a.baseline else ""
    print(f"{'scenario':<20} {'report':<9} {'lvm2 (ms)':>10} {'lvmkit (ms)':>12} {'ratio':>7}  same output{base}")
    for s, w, tl, tk, r, same, tb in rows:
        extra = f" {tb*1000:>14.2f} {(tk / tb - 1) * 100:>+11.1f}%" if tb else ""
        print(f"{s:<20} {w:<9} {tl*1000:>10.1f} {tk*1000:>12.2f} {r:>6.1f}x  {'yes' if same else 'NO':<11}{extra}")


if __name__ == "__main__":
    main()
