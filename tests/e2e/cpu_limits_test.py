#!/usr/bin/env python3
"""The default thread count follows the CPUs the process may use: its affinity mask and its
cgroup's CPU quota (v1 cpu.cfs_quota_us or v2 cpu.max), not the machine's core count.

usage: cpu_limits_test.py CCGUARD_BINARY FIXTURES_DIR

Observed through what ccguard records: the `threads` of a bulk run's identity (OUT.progress.json)
and of `/readyz`. The cgroup case needs a writable cpu controller; where the machine has none, that
test says why and is skipped (the affinity case always runs).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter")]


def cgroup_quota_dir():
    """A fresh cgroup with a quota of half a CPU, or (None, why)."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if rfields[0] == "cgroup" and "cpu" in rfields[2].split(","):
                mounts.append(("v1", fields[4]))
            elif rfields[0] == "cgroup2":
                mounts.append(("v2", fields[4]))
    why = "no cgroup hierarchy with the cpu controller is mounted"
    for kind, point in mounts:
        d = os.path.join(point, f"ccguard-test-{os.getpid()}")
        try:
            if kind == "v2":
                with open(os.path.join(point, "cgroup.controllers")) as f:
                    if "cpu" not in f.read().split():
                        why = f"{point}: the cpu controller is not available in cgroup v2"
                        continue
                with open(os.path.join(point, "cgroup.subtree_control"), "w") as f:
                    f.write("+cpu")
                os.mkdir(d)
                with open(os.path.join(d, "cpu.max"), "w") as f:
                    f.write("50000 100000")
            else:
                os.mkdir(d)
                with open(os.path.join(d, "cpu.cfs_period_us"), "w") as f:
                    f.write("100000")
                with open(os.path.join(d, "cpu.cfs_quota_us"), "w") as f:
                    f.write("50000")
            return d, None
        except OSError as e:
            why = f"{point}: cannot create a cgroup with a CPU quota ({e})"
            if os.path.isdir(d):
                os.rmdir(d)
    return None, why


class CpuLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.input = os.path.join(cls.tmp, "rows.jsonl")
        with open(cls.input, "w") as f:
            f.write(json.dumps({"t": "hello"}) + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def threads_of_run(self, prefix, name):
        out = os.path.join(self.tmp, name + ".jsonl")
        p = subprocess.run(prefix + [BIN, "score"] + MODEL +
                           ["--input", self.input, "--text-column", "t", "--output", out],
                           capture_output=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        with open(out + ".progress.json") as f:
            return json.load(f)["identity"]["threads"]

    def test_default_threads_follow_the_affinity_mask(self):
        allowed = sorted(os.sched_getaffinity(0))
        free = self.threads_of_run([], "free")
        self.assertGreaterEqual(free, 1)
        self.assertLessEqual(free, len(allowed))
        self.assertEqual(self.threads_of_run(["taskset", "-c", str(allowed[0])], "pinned"), 1)
        # An explicit --threads still wins.
        out = os.path.join(self.tmp, "explicit.jsonl")
        subprocess.run([BIN, "score"] + MODEL + ["--threads", "3", "--input", self.input,
                                                 "--text-column", "t", "--output", out],
                       check=True, capture_output=True, timeout=300)
        with open(out + ".progress.json") as f:
            self.assertEqual(json.load(f)["identity"]["threads"], 3)

    def test_default_threads_follow_the_cgroup_quota(self):
        d, why = cgroup_quota_dir()
        if d is None:
            print(f"cgroup quota case skipped: {why}", file=sys.stderr)
            self.skipTest(why)
        try:
            procs = os.path.join(d, "cgroup.procs")
            threads = self.threads_of_run(["sh", "-c", f'echo $$ > {procs} && exec "$0" "$@"'],
                                          "quota")
            self.assertEqual(threads, 1)  # half a CPU: one thread
        finally:
            os.rmdir(d)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
