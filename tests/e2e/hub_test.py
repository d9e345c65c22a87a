#!/usr/bin/env python3
"""End-to-end tests of Hugging Face hub references in the `ccguard` command line.

usage: hub_test.py CCGUARD_BINARY FIXTURES_DIR

Runs a stand-in for the hub on loopback addresses (the hub's URL layout and headers; LFS files
through a 302 redirect to a "CDN" on another host) serving the tiny-a model and adapter, then
checks `ccguard pull`, on-demand downloads by `classify`, the cache layout that huggingface_hub
reads, offline use of the cache, and the error messages for unknown and private repos.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stand_in_hub  # noqa: E402
from stand_in_hub import git_blob_sha1  # noqa: E402

BIN, FIX = sys.argv[1], sys.argv[2]
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")
BASE_COMMIT = "1" * 40
ADAPTER_COMMIT = "2" * 40


def load_repo(folder, commit):
    files = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        lfs = name.endswith(".safetensors") or len(data) > (1 << 20)
        files[name] = (data, lfs)
    return {"commit": commit, "files": files}


class StandInHub:
    """The hub on 127.0.0.1 and its CDN on 127.0.0.2 (127.0.0.1 if that cannot be bound)."""

    def __init__(self):
        self.repos = {"tiny/base": load_repo(BASE, BASE_COMMIT),
                      "tiny/adapter": load_repo(ADAPTER, ADAPTER_COMMIT)}
        self.token = None
        self.log = []
        self.blobs = {hashlib.sha256(d).hexdigest(): d
                      for r in self.repos.values() for d, lfs in r["files"].values() if lfs}
        hub = self

        class Handler(stand_in_hub.Handler):
            def do_GET(self):
                server = "cdn" if self.server is hub.cdn else "hub"
                hub.log.append((server, self.command, self.path,
                                self.headers.get("Authorization", "")))
                if server == "cdn":
                    data = hub.blobs.get(self.path.split("?")[0][len("/cdn/"):])
                    if data is None:
                        return self.error(404, "", "NoSuchKey")
                    return self.send(200, [], data)
                parts = self.path.split("?")[0].strip("/").split("/")
                api = len(parts) == 6 and parts[:2] == ["api", "models"] and parts[4] == "revision"
                resolve = len(parts) >= 5 and parts[2] == "resolve"
                if not api and not resolve:
                    return self.error(404, "", "Not Found")
                repo_id = "/".join(parts[2:4] if api else parts[0:2])
                rev = parts[5] if api else parts[3]
                repo = hub.repos.get(repo_id)
                if repo is None:
                    return self.error(404, "RepoNotFound", "Repository not found")
                if hub.token and self.headers.get("Authorization") != "Bearer " + hub.token:
                    return self.error(401, "", "Invalid credentials in Authorization header")
                if rev not in ("main", repo["commit"]):
                    return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
                if api:
                    siblings = [{"rfilename": f} for f in repo["files"]] + \
                               [{"rfilename": "README.md"}, {"rfilename": "pytorch_model.bin"}]
                    body = {"id": repo_id, "sha": repo["commit"], "siblings": siblings}
                    return self.send(200, [("Content-Type", "application/json")],
                                     json.dumps(body).encode())
                name = "/".join(parts[4:])
                if name not in repo["files"]:
                    return self.error(404, "EntryNotFound", "Entry not found")
                data, lfs = repo["files"][name]
                if lfs:
                    return self.lfs_redirect(repo["commit"], data, hub.cdn)
                return self.send(200, [("X-Repo-Commit", repo["commit"]),
                                       ("ETag", '"%s"' % git_blob_sha1(data))], data)

        self.hub, self.cdn, self.endpoint = stand_in_hub.start(Handler)

    def stop(self):
        if self.hub.socket.fileno() < 0:
            return
        stand_in_hub.stop(self.hub, self.cdn)


def has_pull():
    p = subprocess.run([BIN, "--help"], capture_output=True, timeout=60)
    return b"pull" in p.stdout + p.stderr


@unittest.skipUnless(has_pull(), "this ccguard has no `pull` command (src/hub not wired into src/cli)")
class HubTest(unittest.TestCase):
    def setUp(self):
        self.hub = StandInHub()
        self.tmp = tempfile.mkdtemp(prefix="ccguard_hub_e2e_")
        self.cache = os.path.join(self.tmp, "hub")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("HF_", "HUGGING")) and "proxy" not in k.lower()}
        self.env.update(HF_HUB_CACHE=self.cache, HF_ENDPOINT=self.hub.endpoint,
                        HF_TOKEN_PATH=os.path.join(self.tmp, "no-token"))

    def tearDown(self):
        self.hub.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_ccguard(self, args, rc=0, env=None):
        p = subprocess.run([BIN] + args, capture_output=True, timeout=600,
                           env=dict(self.env, **(env or {})))
        if p.returncode < 0:
            raise AssertionError("ccguard crashed with signal %d: %s"
                                 % (-p.returncode, p.stderr.decode()))
        self.assertEqual(p.returncode, rc, "stderr: " + p.stderr.decode())
        return p

    def check_layout(self, repo, commit, folder):
        """As huggingface_hub's try_to_load_from_cache reads a cache."""
        root = os.path.join(self.cache, "models--" + repo.replace("/", "--"))
        with open(os.path.join(root, "refs", "main")) as f:
            self.assertEqual(f.read(), commit)
        for name in os.listdir(folder):
            link = os.path.join(root, "snapshots", commit, name)
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            lfs = name.endswith(".safetensors") or len(data) > (1 << 20)
            etag = hashlib.sha256(data).hexdigest() if lfs else git_blob_sha1(data)
            self.assertTrue(os.path.islink(link), link)
            self.assertEqual(os.readlink(link), "../../blobs/" + etag)
            with open(link, "rb") as f:
                self.assertEqual(f.read(), data)
        self.assertEqual([b for b in os.listdir(os.path.join(root, "blobs"))
                          if b.endswith(".incomplete")], [])

    def test_pull_then_offline_classify_matches_local_folders(self):
        p = self.run_ccguard(["pull", "tiny/base"])
        snapshot = os.path.join(self.cache, "models--tiny--base", "snapshots", BASE_COMMIT)
        self.assertEqual(p.stdout.decode().strip().splitlines()[-1], snapshot)
        p = self.run_ccguard(["pull", "tiny/base", "tiny/adapter@main"])  # several at once
        self.assertEqual(p.stdout.decode().split(), [snapshot, os.path.join(
            self.cache, "models--tiny--adapter", "snapshots", ADAPTER_COMMIT)])
        self.check_layout("tiny/base", BASE_COMMIT, BASE)
        self.check_layout("tiny/adapter", ADAPTER_COMMIT, ADAPTER)
        self.assertFalse(any("README" in e[2] or ".bin" in e[2] for e in self.hub.log))
        self.assertFalse(any(e[0] == "cdn" and e[3] for e in self.hub.log))
        args = ["classify", "How do I kill a Python process?", "--json"]
        want = self.run_ccguard(args + ["--model", BASE, "--adapter", ADAPTER]).stdout
        self.hub.log.clear()
        got = self.run_ccguard(args + ["--model", "tiny/base", "--adapter", "tiny/adapter"],
                               env={"HF_HUB_OFFLINE": "1"}).stdout
        self.assertEqual(got, want)
        self.assertEqual(self.hub.log, [])

    def test_classify_downloads_on_demand_then_reuses_the_cache(self):
        args = ["classify", "hello", "--json", "--model", "tiny/base", "--adapter", "tiny/adapter"]
        first = self.run_ccguard(args).stdout
        self.check_layout("tiny/base", BASE_COMMIT, BASE)
        self.hub.log.clear()
        self.assertEqual(self.run_ccguard(args).stdout, first)
        self.assertEqual(sorted(e[1] for e in self.hub.log), ["GET", "GET"])  # the two API calls
        self.hub.stop()  # network down: the cache is used, with a warning
        p = self.run_ccguard(args)
        self.assertEqual(p.stdout, first)
        self.assertIn(b"cached snapshot", p.stderr)

    def test_errors(self):
        p = self.run_ccguard(["pull", "tiny/nope"], rc=1)
        self.assertIn(b"repository 'tiny/nope' not found", p.stderr)
        p = self.run_ccguard(["pull", "tiny/base"], rc=1, env={"HF_HUB_OFFLINE": "1"})
        self.assertIn(b"offline", p.stderr)
        self.hub.token = "hf_secret"
        p = self.run_ccguard(["pull", "tiny/base"], rc=1)
        self.assertIn(b"401", p.stderr)
        self.assertIn(b"HF_TOKEN", p.stderr)
        self.run_ccguard(["pull", "tiny/base"], env={"HF_TOKEN": "hf_secret"})
        self.assertFalse(any(e[0] == "cdn" and e[3] for e in self.hub.log))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
