#!/usr/bin/env python3
"""`ccguard eval --suite reference` with its datasets from a stand-in Hugging Face Hub.

usage: eval_hub_test.py CCGUARD_BINARY FIXTURES_DIR

The stand-in serves dataset repos at the real repos' ids and paths (the hub's dataset API and
resolve URLs; LFS files through a 302 redirect to a "CDN" that honours Range requests), filled
with the project's copies of the upstream files (tests/data): ToxicChat's CSV, Aegis 2.0 in its
published schema (gated: a token is required), BeaverTails' JSON Lines, OR-Bench at the pinned
commit, and MMLU as the Hub serves it: Parquet with question, subject, choices and answer, in
per-subject folders (written by DuckDB). It checks the run end to end, the cache layout, an
interrupted download resuming, the offline rerun giving identical results.json, the gated
dataset's error without a token, and the Hub's refs/convert/parquet revision.
"""
import csv
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stand_in_hub  # noqa: E402
from stand_in_hub import git_blob_sha1  # noqa: E402

BIN, FIX = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
JS = os.path.join(HERE, "js")
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter"), "--threads", "2"]
ORBENCH_COMMIT = "e36d8b80e81837c8a8f264bbb2a49f1b32c7e272"  # the pin in the built-in suite
TOKEN = "hf_stand_in_token"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def duckdb_write(rows, out):
    src = out + ".jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    p = subprocess.run(["node", os.path.join(JS, "duckdb_parquet.mjs"), "write", src, out],
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        raise AssertionError("DuckDB: " + p.stderr.decode()[-2000:])
    return read(out)


def mmlu_rows(subject, path):
    with open(path, newline="", encoding="utf-8") as f:
        return [{"question": r[0], "subject": subject, "choices": r[1:5],
                 "answer": "ABCD".index(r[5])} for r in csv.reader(f)]


class DatasetHub:
    """Dataset repos on 127.0.0.1, LFS blobs from a CDN on 127.0.0.2 (or .1)."""

    def __init__(self, repos):
        # repos: {repo: {"revisions": {rev: commit}, "commits": {commit: {path: bytes}},
        #                "gated": bool}}
        self.repos = repos
        self.log = []
        self.cut_once = set()  # sha256 of blobs whose first transfer breaks off half-way
        self.blobs = {}
        for r in repos.values():
            for files in r["commits"].values():
                for data in files.values():
                    self.blobs[hashlib.sha256(data).hexdigest()] = data
        hub = self

        class Handler(stand_in_hub.Handler):
            def do_GET(self):
                server = "cdn" if self.server is hub.cdn else "hub"
                path = self.path.split("?")[0]
                hub.log.append((server, self.command, path, self.headers.get("Range", "")))
                if server == "cdn":
                    sha = path[len("/cdn/"):]
                    data = hub.blobs.get(sha)
                    if data is None:
                        return self.error(404, "", "NoSuchKey")
                    rng = self.headers.get("Range", "")
                    if rng.startswith("bytes="):
                        start = int(rng[6:].split("-")[0])
                        return self.send(206, [("Content-Range", "bytes %d-%d/%d"
                                                % (start, len(data) - 1, len(data)))], data[start:])
                    if sha in hub.cut_once and self.command == "GET":
                        hub.cut_once.discard(sha)
                        return self.send(200, [], data[:len(data) // 2], length=len(data))
                    return self.send(200, [], data)
                parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
                api = parts[:2] == ["api", "datasets"] and len(parts) >= 6 and parts[4] == "revision"
                resolve = parts[:1] == ["datasets"] and len(parts) >= 6 and parts[3] == "resolve"
                if not api and not resolve:
                    return self.error(404, "", "Not Found")
                repo_id = "/".join(parts[2:4] if api else parts[1:3])
                rev = "/".join(parts[5:]) if api else parts[4]
                repo = hub.repos.get(repo_id)
                if repo is None:
                    return self.error(404, "RepoNotFound", "Repository not found")
                if repo.get("gated") and self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self.error(401, "GatedRepo", "Access to dataset %s is restricted. "
                                      "You must have access to it and be authenticated." % repo_id)
                commit = repo["revisions"].get(rev, rev if rev in repo["commits"] else None)
                if commit is None:
                    return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
                files = repo["commits"][commit]
                if api:
                    body = {"id": repo_id, "sha": commit,
                            "siblings": [{"rfilename": f} for f in sorted(files)] +
                                        [{"rfilename": "README.md"}]}
                    return self.send(200, [("Content-Type", "application/json")],
                                     json.dumps(body).encode())
                name = "/".join(parts[5:])
                if name not in files:
                    return self.error(404, "EntryNotFound", "Entry not found")
                data = files[name]
                if name.endswith((".parquet", ".gz")):
                    return self.lfs_redirect(commit, data, hub.cdn)
                return self.send(200, [("X-Repo-Commit", commit),
                                       ("ETag", '"%s"' % git_blob_sha1(data))], data)

        self.hub, self.cdn, self.endpoint = stand_in_hub.start(Handler)

    def stop(self):
        stand_in_hub.stop(self.hub, self.cdn)


class EvalHubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(JS, "node_modules", "@duckdb", "node-api")):
            raise AssertionError(f"@duckdb/node-api is not installed in {JS}: run "
                                 "scripts/install-deps.sh (npm ci there)")
        cls.tmp = tempfile.mkdtemp(prefix="ccguard_eval_hub_")
        mm = os.path.join(DATA, "mmlu-chemistry")
        college = duckdb_write(mmlu_rows("college_chemistry",
                                         os.path.join(mm, "college_chemistry_test.csv")),
                               os.path.join(cls.tmp, "college.parquet"))
        high = duckdb_write(mmlu_rows("high_school_chemistry",
                                      os.path.join(mm, "high_school_chemistry_test.csv")),
                            os.path.join(cls.tmp, "high.parquet"))
        toxic = read(os.path.join(DATA, "toxic-chat",
                                  "toxic-chat_annotation_test.human.reconstructed.csv"))
        with open(os.path.join(DATA, "toxic-chat",
                               "toxic-chat_annotation_test.human.reconstructed.csv"),
                  newline="", encoding="utf-8") as f:
            toxic_rows = [{k: (int(v) if k in ("toxicity", "jailbreaking") else v)
                           for k, v in r.items()} for r in csv.DictReader(f)]
        toxic_parquet = duckdb_write(toxic_rows, os.path.join(cls.tmp, "toxic.parquet"))
        cls.counts = {"college": len(mmlu_rows("c", os.path.join(mm, "college_chemistry_test.csv")))}
        beaver = read(os.path.join(DATA, "beavertails", "30k_test.reconstructed.jsonl.gz"))
        cls.hub = DatasetHub({
            "lmsys/toxic-chat": {
                "revisions": {"main": "a" * 40, "refs/convert/parquet": "b" * 40},
                "commits": {"a" * 40: {"data/0124/toxic-chat_annotation_test.csv": toxic},
                            "b" * 40: {"toxicchat0124/test/0000.parquet": toxic_parquet}}},
            "nvidia/Aegis-AI-Content-Safety-Dataset-2.0": {
                "gated": True, "revisions": {"main": "c" * 40},
                "commits": {"c" * 40: {"test.json": read(os.path.join(DATA, "aegis2",
                                                                      "test.json"))}}},
            "PKU-Alignment/BeaverTails": {
                "revisions": {"main": "d" * 40},
                "commits": {"d" * 40: {"round0/30k/test.jsonl.gz": beaver}}},
            "bench-llm/or-bench": {
                "revisions": {"main": "e" * 40},
                "commits": {
                    ORBENCH_COMMIT: {
                        "or-bench-toxic.csv": read(os.path.join(DATA, "or-bench",
                                                                "or-bench-toxic.csv")),
                        "or-bench-hard-1k.csv": read(os.path.join(DATA, "or-bench",
                                                                  "or-bench-hard-1k.csv"))},
                    "e" * 40: {"or-bench-toxic.csv": b"prompt,category\nchanged,x\n"}}},
            "cais/mmlu": {
                "revisions": {"main": "f" * 40},
                "commits": {"f" * 40: {
                    "college_chemistry/test-00000-of-00001.parquet": college,
                    "high_school_chemistry/test-00000-of-00001.parquet": high,
                    "astronomy/test-00000-of-00001.parquet": college}}},
        })
        cls.beaver_sha = hashlib.sha256(beaver).hexdigest()
        cls.hub.cut_once.add(cls.beaver_sha)
        cls.cache = os.path.join(cls.tmp, "hub")
        cls.env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("HF_", "HUGGING")) and "proxy" not in k.lower()}
        cls.env.update(HF_HUB_CACHE=cls.cache, HF_ENDPOINT=cls.hub.endpoint,
                       HF_TOKEN_PATH=os.path.join(cls.tmp, "no-token"))
        cls.work = os.path.join(cls.tmp, "work")  # the current folder: no heldout.jsonl here
        os.makedirs(cls.work)
        cls.first = cls.run_eval("online", {"HF_TOKEN": TOKEN})

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def run_eval(cls, out, env, rc=0, suite="reference"):
        p = subprocess.run([BIN, "eval", "--suite", suite, "--max-per-dataset", "20", "--out",
                            os.path.join(cls.tmp, out)] + MODEL, capture_output=True,
                           timeout=900, cwd=cls.work, env=dict(cls.env, **env))
        if p.returncode < 0:
            raise AssertionError(f"ccguard died with signal {-p.returncode}: {p.stderr.decode()}")
        if p.returncode != rc:
            raise AssertionError(f"exit {p.returncode} != {rc}: {p.stderr.decode()[-4000:]}")
        return p

    def results(self, out):
        with open(os.path.join(self.tmp, out, "results.json")) as f:
            return json.load(f)

    def test_reference_suite_from_the_hub(self):
        r = self.results("online")
        self.assertEqual(r["dataset_order"],
                         ["toxicchat", "toxicchat-jailbreak", "aegis2-prompt", "aegis2-response",
                          "beavertails", "orbench-toxic", "orbench-hard", "mmlu-chemistry"])
        self.assertEqual(r["datasets"]["toxicchat"]["n"], 20)
        self.assertEqual(r["datasets"]["mmlu-chemistry"]["n"], 20)
        self.assertEqual(r["datasets"]["aegis2-prompt"]["n"], 8)
        self.assertEqual(r["sweep"][0]["dataset"], "all")  # held-out data absent: pooled
        err = self.first.stderr.decode()
        self.assertIn("skipping dataset heldout (optional", err)
        src = r["sources"]
        self.assertEqual(src["orbench-toxic"]["commit"], ORBENCH_COMMIT)
        self.assertEqual(src["toxicchat"]["commit"], "a" * 40)
        mm = src["mmlu-chemistry"]
        self.assertEqual([f["path"] for f in mm["files"]],
                         ["college_chemistry/test-00000-of-00001.parquet",
                          "high_school_chemistry/test-00000-of-00001.parquet"])
        self.assertEqual(mm["files"][0]["rows"], self.counts["college"])
        self.assertEqual(mm["files"][0]["sha256"], hashlib.sha256(
            read(os.path.join(self.tmp, "college.parquet"))).hexdigest())
        self.assertEqual(src["aegis2-response"]["files"][0]["skipped"], {"no response": 3})
        with open(os.path.join(self.tmp, "online", "run.json")) as f:
            self.assertEqual(r["run"]["compute"], json.load(f)["compute"])
        html = read(os.path.join(self.tmp, "online", "report.html")).decode()
        self.assertIn("Data sources", html)
        self.assertIn(ORBENCH_COMMIT, html)
        # The cache as huggingface_hub lays out datasets.
        root = os.path.join(self.cache, "datasets--cais--mmlu")
        self.assertEqual(read(os.path.join(root, "refs", "main")).decode(), "f" * 40)
        link = os.path.join(root, "snapshots", "f" * 40, "college_chemistry",
                            "test-00000-of-00001.parquet")
        self.assertTrue(os.path.islink(link))
        self.assertFalse(os.path.exists(os.path.join(root, "snapshots", "f" * 40, "astronomy")))
        # The interrupted BeaverTails transfer was resumed with a Range request.
        self.assertTrue(any(e[0] == "cdn" and e[2].endswith(self.beaver_sha) and e[3]
                            for e in self.hub.log))
        self.assertNotIn(self.beaver_sha, self.hub.cut_once)

    def test_offline_rerun_from_the_cache_is_identical(self):
        before = len(self.hub.log)
        self.run_eval("offline", {"HF_HUB_OFFLINE": "1"})
        self.assertEqual(len(self.hub.log), before)  # not one request
        self.assertEqual(read(os.path.join(self.tmp, "offline", "results.json")),
                         read(os.path.join(self.tmp, "online", "results.json")))

    def test_gated_dataset_without_a_token(self):
        p = self.run_eval("gated", {"HF_HUB_CACHE": os.path.join(self.tmp, "empty-cache")}, rc=1)
        err = p.stderr.decode()
        self.assertIn("nvidia/Aegis-AI-Content-Safety-Dataset-2.0", err)
        self.assertIn(self.hub.endpoint + "/datasets/nvidia/Aegis-AI-Content-Safety-Dataset-2.0",
                      err)
        self.assertIn("HF_TOKEN", err)

    def test_convert_parquet_revision_and_errors(self):
        suite = os.path.join(self.tmp, "converted.json")
        with open(suite, "w") as f:
            json.dump({"datasets": [
                {"name": "toxic-parquet", "kind": "toxicchat",
                 "hub": {"repo": "lmsys/toxic-chat", "revision": "refs/convert/parquet",
                         "path": "toxicchat0124/test/*.parquet"}}]}, f)
        self.run_eval("converted", {}, suite=suite)
        a, b = self.results("converted"), self.results("online")
        self.assertEqual(a["sources"]["toxic-parquet"]["commit"], "b" * 40)
        # The same 1717 rows as the CSV (ids differ: Parquet rows vs CSV lines, so the sample too).
        self.assertEqual(a["datasets"]["toxic-parquet"]["n"], 20)
        self.assertEqual(a["sources"]["toxic-parquet"]["files"][0]["rows"],
                         b["sources"]["toxicchat"]["files"][0]["rows"])
        ref = os.path.join(self.cache, "datasets--lmsys--toxic-chat", "refs", "refs", "convert",
                           "parquet")
        self.assertEqual(read(ref).decode(), "b" * 40)
        with open(suite, "w") as f:
            json.dump({"datasets": [{"kind": "mmlu", "hub": {"repo": "cais/mmlu",
                                                             "path": "biology/*.parquet"}}]}, f)
        p = self.run_eval("nomatch", {}, rc=1, suite=suite)
        self.assertIn("has no file matching 'biology/*.parquet'", p.stderr.decode())
        p = self.run_eval("nosuite", {}, rc=1, suite="referense")
        self.assertIn("no built-in suite", p.stderr.decode())
        listed = subprocess.run([BIN, "eval", "--list-suites"], capture_output=True, timeout=60)
        self.assertEqual(listed.returncode, 0)
        out = listed.stdout.decode()
        self.assertIn("reference:", out)
        self.assertIn("extended:", out)
        self.assertIn("cais/mmlu@main", out)
        self.assertIn("license: CC BY 4.0", out)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
