#!/usr/bin/env python3
"""End-to-end tests of `ccguard eval`, `metrics` and `calibrate` on the tiny-a
fixture over every dataset kind (tests/data), including a kill -9 / resume run
that must end with a byte-identical results.json.

usage: eval_test.py CCGUARD_BINARY FIXTURES_DIR
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "data", "suite-all-kinds.json")
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter"), "--threads", "2"]


def run(args, check_rc=0, timeout=900):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode < 0:
        raise AssertionError(f"ccguard crashed (signal {-p.returncode}): {p.stderr.decode()}")
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"exit {p.returncode} != {check_rc}: {p.stderr.decode()}")
    return p


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


class EvalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.out = os.path.join(cls.tmp, "full")
        cls.proc = run(["eval", "--suite", SUITE, "--out", cls.out, "--max-per-dataset", "12"] + MODEL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_all_outputs(self):
        suite = json.loads(read(SUITE))
        names = {d["name"] for d in suite["datasets"]}
        lines = read(os.path.join(self.out, "scores.jsonl")).splitlines()
        recs = [json.loads(l) for l in lines]
        self.assertEqual({r["dataset"] for r in recs}, names)
        for r in recs:
            self.assertEqual(set(r) >= {"dataset", "id", "label", "p_unsafe", "n_tokens"}, True)
            self.assertIn(r["label"], ("safe", "unsafe"))
            self.assertTrue(0 <= r["p_unsafe"] <= 1)
        per = {}
        for r in recs:
            per.setdefault(r["dataset"], []).append(r)
        for n, rs in per.items():
            self.assertLessEqual(len(rs), 12, n)
            self.assertEqual(len({r["id"] for r in rs}), len(rs), n)

        res = json.loads(read(os.path.join(self.out, "results.json")))
        self.assertEqual(res["threshold"], 0.5)
        self.assertEqual(set(res["datasets"]), names)
        for n, m in res["datasets"].items():
            for k in ("n", "n_unsafe", "n_safe", "tpr", "fnr", "fpr", "precision", "f1", "auroc",
                      "auprc", "ci"):
                self.assertIn(k, m, n)
            self.assertEqual(m["n"], len(per[n]))
            self.assertEqual(m["n_unsafe"], sum(r["label"] == "unsafe" for r in per[n]))
            if m["n_unsafe"] == 0 or m["n_safe"] == 0:
                self.assertIsNone(m["auroc"], n)
            self.assertEqual(set(m["ci"]), {"tpr", "fpr", "f1"})
        self.assertIsNone(res["datasets"]["orbench-hard"]["tpr"])  # no unsafe items
        self.assertIsNone(res["datasets"]["orbench-toxic"]["fpr"])  # no safe items
        self.assertEqual([s["target_fpr"] for s in res["sweep"]], [0.005, 0.01, 0.05])

        md = read(os.path.join(self.out, "results.md"))
        self.assertIn("| Dataset | N | Unsafe recall (TPR) | Missed unsafe (FNR, ASR proxy) | "
                      "Over-refusal (FPR) | Unsafe F1 | AUROC |", md)
        self.assertIn("n/a", md)
        self.assertEqual(md, self.proc.stdout.decode())

        html = read(os.path.join(self.out, "report.html"))
        self.assertTrue(html.lstrip().lower().startswith("<!doctype html"))
        self.assertGreaterEqual(html.count("<svg"), 2 * len(names))
        self.assertIsNone(re.search(r"(src|href)=\"https?://", html))
        self.assertNotIn("<script", html)

    def test_metrics_recomputes_identically(self):
        out2 = os.path.join(self.tmp, "metrics")
        p = run(["metrics", "--scores", os.path.join(self.out, "scores.jsonl"), "--out", out2,
                 "--sweep-on", "toxicchat"])
        self.assertEqual(read(os.path.join(out2, "results.json"), "rb"),
                         read(os.path.join(self.out, "results.json"), "rb"))
        self.assertEqual(p.stdout.decode(), read(os.path.join(self.out, "results.md")))

    def test_calibrate_and_use_threshold(self):
        cons = os.path.join(self.tmp, "calibrated.json")
        p = run(["calibrate", "--scores", os.path.join(self.out, "scores.jsonl"), "--target-fpr",
                 "0.05", "--on", "toxicchat", "--write-constitution", cons])
        text = p.stdout.decode()
        self.assertIn("toxicchat", text)
        thr = json.loads(read(cons))["threshold"]
        self.assertTrue(0 <= thr <= 1.0000001)
        s = run(["classify", "--json", "--constitution", cons, "hello"] + MODEL)
        self.assertAlmostEqual(json.loads(s.stdout)["threshold"], thr)

    def test_order_and_multi_file_counts(self):
        suite = json.loads(read(SUITE))
        order = [d["name"] for d in suite["datasets"]]
        results = json.loads(read(os.path.join(self.out, "results.json")))
        self.assertEqual(results["dataset_order"], order)
        md = read(os.path.join(self.out, "results.md"))
        rows = [l.split("|")[1].strip() for l in md.splitlines()
                if l.startswith("| ") and not l.startswith("| Dataset")]
        self.assertEqual(rows[:len(order)], order)  # the table in suite order
        # A dataset of several files: the log's final count is the table's N.
        err = self.proc.stderr.decode()
        m = re.search(r"mmlu-chemistry: (\d+) items from 2 files", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)), results["datasets"]["mmlu-chemistry"]["n"])

    def test_run_json_records_the_resolved_settings(self):
        rec = json.loads(read(os.path.join(self.out, "run.json")))
        # --compute was not given: the resolved choice is recorded, never "auto".
        self.assertIn(rec["compute"], ("fp32", "bf16"))
        self.assertIn(rec["compute"], rec["backend"])
        self.assertEqual(rec["device"], "cpu")
        self.assertEqual(rec["constitution"]["name"], "ccguard-default")
        self.assertRegex(rec["constitution"]["sha256"], r"^[0-9a-f]{64}$")
        self.assertEqual(rec["model"]["dir"], os.path.realpath(os.path.join(FIX, "tiny-a", "base")))
        self.assertIsNone(rec["model"]["revision"])  # a local folder, not a hub snapshot
        self.assertEqual((rec["threshold"], rec["threshold_source"]), (0.5, "default"))
        self.assertEqual(rec["hf_special_tokens"], False)
        self.assertRegex(rec["ccguard_version"], r"^\d+\.\d+\.\d+")

    def test_changed_settings_are_refused_naming_them(self):
        """A resume with any setting that changes a score is refused, naming the setting; the
        scores file is untouched."""
        scores = os.path.join(self.out, "scores.jsonl")
        before = read(scores, "rb")
        rec = json.loads(read(os.path.join(self.out, "run.json")))
        other = "bf16" if rec["compute"] == "fp32" else "fp32"
        # The default constitution with one word changed: another hash.
        cons = os.path.join(self.tmp, "edited.json")
        c = json.loads(read(os.path.join(HERE, "..", "..", "src", "prompt",
                                         "default_constitution.json")))
        c["description"] += " Edited."
        with open(cons, "w") as f:
            json.dump(c, f)
        # The same base model in another folder: another model.
        other_model = os.path.join(self.tmp, "other-base")
        if not os.path.exists(other_model):
            shutil.copytree(os.path.join(FIX, "tiny-a", "base"), other_model)
        base = ["eval", "--suite", SUITE, "--out", self.out, "--max-per-dataset", "12"]
        cases = [(["--compute", other] + MODEL, "compute"),
                 (["--hf-special-tokens"] + MODEL, "hf_special_tokens"),
                 (["--threshold", "0.3"] + MODEL, "threshold"),
                 (["--model", os.path.join(FIX, "tiny-a", "base"), "--no-adapter",
                   "--threads", "2"], "adapter"),
                 (["--constitution", cons] + MODEL, "constitution.sha256"),
                 (["--model", other_model, "--adapter", os.path.join(FIX, "tiny-a", "adapter"),
                   "--threads", "2"], "model.dir"),
                 (["--max-per-dataset", "5"] + MODEL, "max_per_dataset")]
        for extra, setting in cases:
            args = base + extra if "--max-per-dataset" not in extra else \
                ["eval", "--suite", SUITE, "--out", self.out] + extra
            p = run(args, check_rc=1)
            err = p.stderr.decode()
            self.assertIn(f"was made with {setting}", err, (extra, err))
            self.assertIn("run.json", err)
            self.assertEqual(read(scores, "rb"), before, extra)  # nothing appended

    def test_bad_suite(self):
        bad = os.path.join(self.tmp, "bad-suite.json")
        with open(bad, "w") as f:
            json.dump({"datasets": [{"kind": "no-such-kind", "path": "x.csv"}]}, f)
        p = run(["eval", "--suite", bad, "--out", os.path.join(self.tmp, "o")] + MODEL, check_rc=1)
        self.assertIn("no-such-kind", p.stderr.decode())


class ResumeTest(unittest.TestCase):
    """kill -9 in the middle, run again, compare with an uninterrupted run."""

    def test_kill9_and_resume_is_identical(self):
        tmp = tempfile.mkdtemp()
        try:
            args = ["--suite", SUITE, "--max-per-dataset", "25", "--batch-size", "1"] + MODEL
            ref = os.path.join(tmp, "ref")
            run(["eval", "--out", ref] + args)
            out = os.path.join(tmp, "killed")
            scores = os.path.join(out, "scores.jsonl")
            kills = 0
            for delay_lines in (40, 150):
                proc = subprocess.Popen([BIN, "eval", "--out", out] + args,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = time.time() + 300
                while time.time() < deadline and proc.poll() is None:
                    if os.path.exists(scores) and read(scores, "rb").count(b"\n") >= delay_lines:
                        proc.send_signal(signal.SIGKILL)
                        kills += 1
                        break
                    time.sleep(0.01)
                proc.wait()
            self.assertGreaterEqual(kills, 1, "the run finished before it could be killed")
            # A torn last line, as a crash mid-write would leave.
            with open(scores, "ab") as f:
                f.write(b'{"dataset": "xstest", "id": "1", "lab')
            p = run(["eval", "--out", out] + args)
            self.assertIn("resuming", p.stderr.decode())
            self.assertEqual(read(os.path.join(out, "results.json"), "rb"),
                             read(os.path.join(ref, "results.json"), "rb"))
            lines = read(scores).splitlines()
            self.assertEqual(len(lines), len(read(os.path.join(ref, "scores.jsonl")).splitlines()))
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
