#!/usr/bin/env python3
"""Bulk scoring: `ccguard score --input FILES --output FILE` with a column mapping, shards and
resume after SIGKILL.

usage: bulk_score_test.py CCGUARD_BINARY FIXTURES_DIR
"""
import csv
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter"), "--threads", "2"]
WORDS = ["chemistry", "bread", "process", "history", "garden", "weapon", "poem", "river",
         "password", "music", "kill", "recipe", "code", "storm", "doctor"]


def text_of(i):
    return " ".join(WORDS[(i * k + 3) % len(WORDS)] for k in range(1, 4 + i % 5)) + f" #{i}"


def run(args, stdin=b"", rc=0, timeout=600):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=timeout)
    if p.returncode < 0:
        raise AssertionError(f"ccguard died with signal {-p.returncode}: {p.stderr.decode()}")
    if rc is not None and p.returncode != rc:
        raise AssertionError(f"exit {p.returncode} != {rc}: {p.stderr.decode()[-3000:]}")
    return p


JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def duckdb(*args):
    """Runs tests/e2e/js/duckdb_parquet.mjs: DuckDB as the independent Parquet reader/writer."""
    if not os.path.isdir(os.path.join(JS, "node_modules", "@duckdb", "node-api")):
        raise AssertionError(f"@duckdb/node-api is not installed in {JS}: run "
                             "scripts/install-deps.sh (npm ci there)")
    p = subprocess.run(["node", os.path.join(JS, "duckdb_parquet.mjs")] + list(args),
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError(f"duckdb_parquet.mjs {args[0]}: {p.stderr.decode()[-3000:]}")
    return p.stdout.decode()


def count_lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


class BulkScoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        # 40 CSV rows and 20 gzip JSON Lines rows, the same columns.
        cls.csv = os.path.join(cls.tmp, "part-0.csv")
        with open(cls.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text", "lang", "unused"])
            for i in range(40):
                w.writerow([f"c{i}", text_of(i), "en", "x" * i])
        cls.jsonl = os.path.join(cls.tmp, "part-1.jsonl.gz")
        with gzip.open(cls.jsonl, "wt", encoding="utf-8") as f:
            for i in range(40, 60):
                f.write(json.dumps({"id": i, "text": text_of(i), "lang": "fr",
                                    "nested": {"a": 1}}) + "\n")
        cls.inputs = ["--input", os.path.join(cls.tmp, "part-*"), "--text-column", "text",
                      "--id-column", "id", "--keep-columns", "lang"]
        cls.ref = os.path.join(cls.tmp, "ref.jsonl")
        cls.ref_run = run(["score"] + MODEL + cls.inputs + ["--output", cls.ref])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def out(self, name):
        return os.path.join(self.tmp, name)

    def test_rows_map_to_items_and_score_as_on_stdin(self):
        got = lines(self.ref)
        self.assertEqual([r["row"] for r in got], list(range(60)))
        self.assertEqual([r["id"] for r in got[:2]], ["c0", "c1"])
        self.assertEqual(got[40]["id"], 40)  # JSON values are kept as they are
        self.assertEqual({r["lang"] for r in got}, {"en", "fr"})
        self.assertTrue(all("unused" not in r and "text" not in r for r in got))
        items = b"".join(json.dumps({"prompt": text_of(i)}).encode() + b"\n" for i in range(60))
        want = [json.loads(l) for l in run(["score"] + MODEL, items).stdout.splitlines()]
        for g, w in zip(got, want):
            self.assertEqual(g["p_unsafe"], w["p_unsafe"])  # the same bits as stdin items
            self.assertEqual(g["n_tokens"], w["n_tokens"])
            self.assertEqual(g["flagged"], w["flagged"])
        err = self.ref_run.stderr.decode()
        self.assertIn("60 rows of shard 0/1 (60 scored, 0 errors)", err)
        self.assertIn("rows/s", err)
        with open(self.ref + ".progress.json") as f:
            progress = json.load(f)
        self.assertTrue(progress["complete"])
        self.assertEqual(progress["rows_done"], 60)
        self.assertEqual(progress["identity"]["shard"], "0/1")
        self.assertEqual(len(progress["identity"]["inputs"]), 2)

    def test_shards_together_are_the_unsharded_run(self):
        ref = lines(self.ref)
        for n in (1, 3, 7):
            rows = []
            for i in range(n):
                out = self.out(f"shard-{i}-of-{n}.jsonl")
                run(["score"] + MODEL + self.inputs + ["--output", out, "--shard", f"{i}/{n}"])
                part = lines(out)
                self.assertTrue(all(r["row"] % n == i for r in part))
                rows += part
            rows.sort(key=lambda r: r["row"])
            self.assertEqual(rows, ref, n)  # every row once, identical scores

    def test_kill9_and_resume_writes_every_row_once(self):
        args = ["score"] + MODEL + self.inputs + ["--batch-size", "1"]
        out = self.out("killed.jsonl")
        for delay in (5, 25):
            proc = subprocess.Popen([BIN] + args + ["--output", out], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.time() + 300
            while time.time() < deadline and proc.poll() is None:
                if os.path.exists(out) and count_lines(out) >= delay:
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.005)
            proc.wait()
        with open(out, "ab") as f:
            f.write(b'{"row": 99, "torn')  # as a crash mid-write would leave
        p = run(args + ["--output", out])
        self.assertIn("resuming", p.stderr.decode())
        with open(out, "rb") as a, open(self.ref, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_a_finished_run_is_a_no_op(self):
        with open(self.ref, "rb") as f:
            before = f.read()
        p = run(["score"] + MODEL + self.inputs + ["--output", self.ref])
        self.assertIn("is complete", p.stderr.decode())
        with open(self.ref, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_other_settings_are_refused_naming_them(self):
        with open(self.ref, "rb") as f:
            before = f.read()
        with open(self.ref + ".progress.json") as f:
            compute = json.load(f)["identity"]["compute"]
        for extra, setting in [(["--threshold", "0.2"], "threshold"),
                               (["--compute", "fp32" if compute != "fp32" else "int8"], "compute"),
                               (["--shard", "0/2"], "shard")]:
            p = run(["score"] + MODEL + self.inputs + extra + ["--output", self.ref], rc=1)
            self.assertIn(f"was made with {setting}", p.stderr.decode(), extra)
        p = run(["score"] + MODEL + self.inputs[:-2] + ["--output", self.ref], rc=1)
        self.assertIn("was made with mapping", p.stderr.decode())
        with open(self.ref, "rb") as f:
            self.assertEqual(f.read(), before)
        # An input that changed is another run.
        copy = os.path.join(self.tmp, "changed")
        os.makedirs(copy, exist_ok=True)
        shutil.copy(self.csv, copy)
        out = self.out("changed.jsonl")
        args = ["score"] + MODEL + ["--input", os.path.join(copy, "*.csv"), "--text-column",
                                    "text", "--output", out]
        run(args)
        with open(os.path.join(copy, "part-0.csv"), "a") as f:
            f.write("c99,another row,en,\n")
        p = run(args, rc=1)
        self.assertIn("was made with inputs", p.stderr.decode())

    def test_parquet_in_and_out_as_duckdb_reads_them(self):
        # The 60 rows of the reference run, written as Parquet by DuckDB (two row groups).
        src = self.out("rows.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for i in range(60):
                f.write(json.dumps({"id": f"c{i}", "text": text_of(i),
                                    "lang": "en" if i < 40 else "fr", "n": i}) + "\n")
        pq_in = self.out("rows.parquet")
        duckdb("write", src, pq_in, "32")
        pq_out = self.out("scored.parquet")
        args = ["score"] + MODEL + ["--input", pq_in, "--text-column", "text", "--id-column", "id",
                                    "--keep-columns", "lang,n", "--output", pq_out,
                                    "--compression", "zstd"]
        p = run(args)
        self.assertIn("wrote " + pq_out, p.stderr.decode())
        self.assertFalse(os.path.exists(pq_out + ".staging.jsonl"))
        read = [json.loads(l) for l in duckdb("read", pq_out).splitlines()]
        schema = dict(read.pop()["schema"])
        self.assertEqual(list(schema)[:2], ["row", "id"])
        self.assertEqual(schema["row"], "BIGINT")
        self.assertEqual(schema["p_unsafe"], "DOUBLE")
        self.assertEqual(schema["flagged"], "BOOLEAN")
        self.assertEqual(schema["lang"], "VARCHAR")
        ref = lines(self.ref)
        self.assertEqual([r["row"] for r in read], list(range(60)))
        for got, want in zip(read, ref):
            self.assertEqual(got["id"], f"c{got['row']}")
            self.assertEqual(got["n"], got["row"])
            for k in ("p_unsafe", "flagged", "label", "n_tokens", "logprob_safe"):
                self.assertEqual(got[k], want[k], (got["row"], k))
        # Finished: a re-run is a no-op; a shard of the same rows goes to its own file.
        p = run(args)
        self.assertIn("is complete", p.stderr.decode())
        shard = self.out("scored-1-of-2.parquet")
        run(args[:-4] + ["--output", shard, "--shard", "1/2"])
        half = [json.loads(l) for l in duckdb("read", shard).splitlines()[:-1]]
        self.assertEqual([r["row"] for r in half], list(range(1, 60, 2)))
        # A Parquet file the run did not write is never overwritten.
        p = run(args[:-4] + ["--output", pq_in], rc=1)
        self.assertIn("not finished by a resumable run", p.stderr.decode())

    def test_bad_rows_get_error_lines_and_bad_setups_exit(self):
        bad = os.path.join(self.tmp, "bad.jsonl")
        with open(bad, "w") as f:
            f.write(json.dumps({"t": "fine"}) + "\n")
            f.write(json.dumps({"t": ""}) + "\n")          # empty text
            f.write(json.dumps({"t": 5}) + "\n")           # not text
            f.write(json.dumps({"other": "x"}) + "\n")     # missing column
            f.write(json.dumps({"t": "also fine"}) + "\n")
        out = self.out("bad-out.jsonl")
        run(["score"] + MODEL + ["--input", bad, "--text-column", "t", "--output", out], rc=3)
        got = lines(out)
        self.assertEqual([r["row"] for r in got], [0, 1, 2, 3, 4])
        self.assertIn("p_unsafe", got[0])
        self.assertIn("p_unsafe", got[4])
        for r in got[1:4]:
            self.assertIn("bad.jsonl:", r["error"])
        # Conversations from a list column.
        conv = os.path.join(self.tmp, "conv.jsonl")
        with open(conv, "w") as f:
            f.write(json.dumps({"m": [{"role": "user", "content": "hi"},
                                      {"role": "assistant", "content": "hello"}]}) + "\n")
        out = self.out("conv-out.jsonl")
        run(["score"] + MODEL + ["--input", conv, "--messages-column", "m", "--output", out])
        one = json.loads(run(["score"] + MODEL, json.dumps(
            {"prompt": "hi", "response": "hello"}).encode() + b"\n").stdout)
        self.assertEqual(lines(out)[0]["p_unsafe"], one["p_unsafe"])
        # A file the run did not write is never overwritten.
        mine = self.out("mine.jsonl")
        with open(mine, "w") as f:
            f.write("keep me\n")
        p = run(["score"] + MODEL + ["--input", conv, "--messages-column", "m", "--output", mine],
                rc=1)
        self.assertIn("not written by a resumable run", p.stderr.decode())
        with open(mine) as f:
            self.assertEqual(f.read(), "keep me\n")
        # Setup errors.
        for args, needle, rc in [(["--shard", "3/3"], "I/N", 2),
                                 (["--text-column", "t", "--prompt-column", "p"],
                                  "exactly one column", 2),
                                 (["--keep-columns", "p_unsafe"], "'p_unsafe'", 2)]:
            p = run(["score"] + MODEL + ["--input", bad, "--output", self.out("x.jsonl")] +
                    (["--text-column", "t"] if "--text-column" not in args else []) + args, rc=rc)
            self.assertIn(needle, p.stderr.decode())
        p = run(["score"] + MODEL + ["--input", os.path.join(self.tmp, "*.parquet"),
                                     "--text-column", "t", "--output", self.out("y.jsonl")], rc=1)
        self.assertIn("matches no file", p.stderr.decode())
        p = run(["score"] + MODEL + ["--text-column", "t"], b"", rc=2)
        self.assertIn("apply to --input files", p.stderr.decode())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
