#!/usr/bin/env python3
"""Bulk scoring on a real Slurm cluster: a local single-host Slurm (slurmctld + slurmd, munge
authentication, state and spool folders in a temporary directory, non-default ports) runs
deploy/slurm/score-array.sbatch as a 4-task job array over a few thousand rows; one task's ccguard
is killed with SIGKILL mid-run and the task requeued; the merged outputs must hold every row exactly
once, with the scores of an unsharded run.

usage: slurm_test.py CCGUARD_BINARY FIXTURES_DIR

Needs Debian's slurm-wlm and munge (scripts/install-deps.sh installs them) and root (slurmd runs
the tasks as root here). Where the daemons cannot start, the test says why and is skipped.
"""
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN, FIX = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
SBATCH = os.path.join(HERE, "..", "..", "deploy", "slurm", "score-array.sbatch")
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter")]
ROWS = 2000
TASKS = 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    """slurmctld + slurmd + munged under one temporary directory."""

    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, SLURM_CONF=os.path.join(root, "slurm.conf"))
        self.munge_socket = os.path.join(root, "munge", "munge.sock")
        self.started = False

    def run(self, *args, check=True, timeout=60):
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=check)

    def log_tail(self):
        out = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            p = os.path.join(self.root, "log", name)
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f"--- {name}\n" + "".join(f.readlines()[-15:]))
        return "\n".join(out)

    def start(self):
        """None when the cluster is up, else why it is not."""
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo"):
            if shutil.which(tool) is None:
                return f"{tool} is not installed (Debian packages slurm-wlm and munge)"
        if os.geteuid() != 0:
            return "the local cluster runs slurmd as root; this test is not root"
        for d in ("state", "spool", "log", "munge"):
            os.makedirs(os.path.join(self.root, d), mode=0o700, exist_ok=True)
        key = os.path.join(self.root, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        r = subprocess.run(["munged", "-f", f"--socket={self.munge_socket}", f"--key-file={key}",
                            f"--log-file={self.root}/log/munged.log",
                            f"--pid-file={self.root}/munge/munged.pid",
                            f"--seed-file={self.root}/munge/seed"], capture_output=True, text=True)
        if r.returncode != 0:
            return f"munged did not start: {r.stderr.strip()}"
        host = socket.gethostname().split(".")[0]
        conf = f"""ClusterName=ccguardtest
SlurmctldHost={host}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={self.root}/state
SlurmdSpoolDir={self.root}/spool
SlurmctldPidFile={self.root}/slurmctld.pid
SlurmdPidFile={self.root}/slurmd.pid
SlurmctldLogFile={self.root}/log/slurmctld.log
SlurmdLogFile={self.root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
NodeName={host} CPUs={os.cpu_count()} RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(conf)
        self.started = True
        for daemon in (["slurmctld", "-i"], ["slurmd"]):
            r = self.run(*daemon, check=False)
            if r.returncode != 0:
                return f"{daemon[0]} did not start: {r.stderr.strip()}\n{self.log_tail()}"
        deadline = time.time() + 60
        while time.time() < deadline:
            r = self.run("sinfo", "-h", "-o", "%t", check=False)
            if r.returncode == 0 and r.stdout.strip() == "idle":
                return None
            time.sleep(0.5)
        return f"the node did not become idle within 60 s\n{self.log_tail()}"

    def stop(self):
        if self.started:
            self.run("scontrol", "shutdown", check=False)
        subprocess.run(["munged", "--stop", f"--socket={self.munge_socket}"],
                       capture_output=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            pids = subprocess.run(["pgrep", "-f", self.root], capture_output=True, text=True)
            if not pids.stdout.strip():
                break
            time.sleep(0.2)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


class SlurmArrayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ccguard-slurm-")
        cls.slurm = LocalSlurm(os.path.join(cls.tmp, "slurm"))
        why = cls.slurm.start()
        if why is not None:
            cls.slurm.stop()
            print(f"slurm test skipped: {why}", file=sys.stderr)
            raise unittest.SkipTest(why)

    @classmethod
    def tearDownClass(cls):
        cls.slurm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_job_array_with_a_killed_and_requeued_task(self):
        data = os.path.join(self.tmp, "data")
        os.makedirs(data)
        words = ["alpha", "river", "bread", "garden", "storm", "kill", "process", "poem"]
        for part in range(2):
            with gzip.open(os.path.join(data, f"part-{part}.jsonl.gz"), "wt") as f:
                for i in range(part * ROWS // 2, (part + 1) * ROWS // 2):
                    text = " ".join(words[(i * k) % len(words)] for k in range(1, 3 + i % 4))
                    f.write(json.dumps({"id": f"r{i}", "text": f"{text} {i}"}) + "\n")
        pattern = os.path.join(data, "part-*.jsonl.gz")
        flags = MODEL + ["--text-column", "text", "--id-column", "id", "--batch-size", "8"]
        ref = os.path.join(self.tmp, "ref.jsonl")
        t0 = time.time()
        subprocess.run([BIN, "score", "--threads", "1", "--input", pattern, "--output", ref] + flags,
                       check=True, capture_output=True, timeout=900)
        print(f"unsharded reference run: {time.time() - t0:.1f} s", file=sys.stderr)
        out = os.path.join(self.tmp, "out")
        r = self.slurm.run("sbatch", "--parsable", f"--array=0-{TASKS - 1}", "--cpus-per-task=1",
                           f"--output={self.tmp}/task-%a.log", f"--export=ALL,CCGUARD={BIN}",
                           SBATCH, pattern, out, *flags)
        job = r.stdout.strip().split(";")[0]
        # Kill task 1's ccguard with SIGKILL once it has committed some rows.
        victim = os.path.join(out, f"scores-1-of-{TASKS}.jsonl")
        deadline = time.time() + 600
        killed = False
        while time.time() < deadline and not killed:
            if os.path.exists(victim) and os.path.getsize(victim) > 0:
                with open(victim, "rb") as f:
                    n = f.read().count(b"\n")
                if n >= 40:
                    p = subprocess.run(["pgrep", "-f", "--", f"--shard 1/{TASKS}"], capture_output=True,
                                       text=True)
                    for pid in p.stdout.split():
                        os.kill(int(pid), signal.SIGKILL)
                        killed = True
            time.sleep(0.05)
        self.assertTrue(killed, "task 1 finished before it could be killed")
        # The task fails; requeue it: it resumes from its progress file.
        deadline = time.time() + 120
        while time.time() < deadline:
            state = self.slurm.run("squeue", "-h", "-j", f"{job}_1", "-o", "%T", check=False)
            if not state.stdout.strip():
                break
            time.sleep(0.2)
        self.slurm.run("scontrol", "requeue", f"{job}_1")
        # A requeued job becomes eligible only after a delay (its begin time moves
        # forward); this test does not need to wait for it.
        self.slurm.run("scontrol", "update", f"JobId={job}_1", "StartTime=now", check=False)
        t_requeue = time.time()
        deadline = time.time() + 900
        while time.time() < deadline:
            state = self.slurm.run("squeue", "-h", "-j", job, "-o", "%i %T", check=False)
            if not state.stdout.strip():
                break
            time.sleep(0.5)
        self.assertFalse(self.slurm.run("squeue", "-h", "-j", job, check=False).stdout.strip(),
                         "the job array did not finish within 15 minutes")
        print(f"array done {time.time() - t_requeue:.1f} s after the requeue", file=sys.stderr)
        show = self.slurm.run("scontrol", "show", "job", f"{job}_1", check=False).stdout
        with open(os.path.join(self.tmp, "task-1.log")) as f:
            log = f.read()
        self.assertIn("restart 1", log, log)
        self.assertIn("resuming", log, log)
        merged = []
        for i in range(TASKS):
            part = read_lines(os.path.join(out, f"scores-{i}-of-{TASKS}.jsonl"))
            self.assertTrue(all(r["row"] % TASKS == i for r in part))
            merged += part
        merged.sort(key=lambda r: r["row"])
        self.assertEqual([r["row"] for r in merged], list(range(ROWS)))  # every row exactly once
        self.assertEqual(merged, read_lines(ref), show)  # the unsharded run's scores


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
