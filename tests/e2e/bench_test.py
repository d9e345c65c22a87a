#!/usr/bin/env python3
"""End-to-end tests of `ccguard bench` on the tiny-a fixture.

usage: bench_test.py CCGUARD_BINARY FIXTURES_DIR

The benchmark's numbers are not checked (timing is never asserted); its JSON
schema, its parity checks (prefix cache on and off, streaming session against
the one-shot score, both in fp32) and its errors are.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")
TOKENIZER = os.path.join(FIX, "tokenizer")


def run(args, check_rc=None, env=None):
    p = subprocess.run([BIN, "bench"] + args, capture_output=True, timeout=600,
                       env=None if env is None else {**os.environ, **env})
    if p.returncode < 0:
        raise AssertionError(f"ccguard crashed with signal {-p.returncode}: {p.stderr.decode()}")
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"exit {p.returncode} != {check_rc}\nstderr: {p.stderr.decode()}")
    return p


class BenchTest(unittest.TestCase):
    def test_quick_json_schema_and_cache_parity(self):
        with tempfile.TemporaryDirectory() as cache:
            p = run(["--model", BASE, "--adapter", ADAPTER, "--cache", cache, "--quick", "--json",
                     "--compute", "fp32", "--threads", "2"], 0)
        j = json.loads(p.stdout)
        for key in ["cpu", "threads", "weights", "prefill", "classify", "latency_ms",
                    "peak_rss_bytes", "weight_bytes", "kv_peak_bytes", "rss_bound_bytes"]:
            self.assertIn(key, j)
        self.assertEqual(j["weights"], "fp32")
        self.assertEqual(j["threads"], 2)
        self.assertEqual([r["tokens"] for r in j["prefill"]], [256, 512])
        for r in j["prefill"]:
            for key in ["tok_per_s_median", "tok_per_s_min", "gflops"]:
                self.assertGreater(r[key], 0)
            self.assertLessEqual(r["tok_per_s_min"], r["tok_per_s_median"])
        c = j["classify"]
        for key in ["prefix_tokens", "mean_suffix_tokens", "ideal_speedup", "items_per_s_cached",
                    "items_per_s_uncached"]:
            self.assertGreater(c[key], 0)
        self.assertGreater(c["prefix_tokens"], 800)  # the ~900-token constitution
        expect = (c["prefix_tokens"] + c["mean_suffix_tokens"]) / c["mean_suffix_tokens"]
        self.assertLess(abs(c["ideal_speedup"] - expect) / expect, 0.1)
        self.assertEqual(c["max_abs_dp_cached_vs_uncached"], 0)
        self.assertEqual(c["max_abs_dp_batched_vs_single"], 0)
        self.assertEqual(c["compute"], "fp32")
        self.assertLessEqual(j["latency_ms"]["p50"], j["latency_ms"]["p95"])
        self.assertGreater(j["peak_rss_bytes"], 0)
        self.assertIn("workspace_bytes", j)

    def test_scores_do_not_depend_on_the_path_in_every_precision(self):
        for compute in ["fp32", "bf16", "int8"]:
            with tempfile.TemporaryDirectory() as cache:
                p = run(["--model", BASE, "--adapter", ADAPTER, "--cache", cache, "--quick",
                         "--json", "--compute", compute, "--threads", "2", "--items", "12"], 0)
            j = json.loads(p.stdout)
            self.assertEqual(j["compute"], compute)
            c = j["classify"]
            self.assertEqual(c["compute"], compute)
            self.assertEqual(c["max_abs_dp_cached_vs_uncached"], 0, compute)
            self.assertEqual(c["max_abs_dp_batched_vs_single"], 0, compute)

    def test_default_compute_follows_the_cpu(self):
        with tempfile.TemporaryDirectory() as cache:
            p = run(["--model", BASE, "--cache", cache, "--quick", "--json", "--items", "2"], 0)
        j = json.loads(p.stdout)
        flags = open("/proc/cpuinfo").read()
        native = (" amx_bf16" in flags or " avx512_bf16" in flags) and \
            os.environ.get("CCGUARD_CPU_ISA") not in ("generic", "avx2")
        self.assertEqual(j["compute"], "bf16" if native else "fp32")
        help_text = subprocess.run([BIN, "bench", "--help"], capture_output=True).stdout.decode()
        self.assertIn("here bf16" if native else "here fp32", help_text)

    def test_table(self):
        with tempfile.TemporaryDirectory() as cache:
            p = run(["--model", BASE, "--cache", cache, "--quick", "--compute", "bf16"], 0)
        out = p.stdout.decode()
        for text in ["(a) prefill", "(b) classification", "(c) single-item latency",
                     "(d) peak RSS", "compute bf16"]:
            self.assertIn(text, out)

    def test_stream(self):
        p = run(["--model", BASE, "--adapter", ADAPTER, "--stream", "--json", "--compute",
                 "fp32", "--repeats", "1"], 0)
        j = json.loads(p.stdout)
        self.assertEqual(j["response_tokens"], 600)
        self.assertEqual(j["chunks"], 30)
        self.assertEqual(j["computed_tokens"]["prefill"], 600)
        self.assertLess(j["computed_tokens"]["oneshot"], j["computed_tokens"]["full_prefill"])
        for key in ["prefill_ms", "oneshot_ms", "full_prefill_ms", "session_ms",
                    "ratio_session_vs_prefill", "ratio_session_vs_oneshot"]:
            self.assertGreater(j[key]["median"], 0)
        self.assertLessEqual(j["max_abs_dp"], 1e-5)

    def test_stream_sessions(self):
        # Concurrent sessions: the schema, each session's last score = its one-shot score
        # (the same bits), and the keys/values memory reserved first unless told not to.
        for reserve in [None, "0"]:
            args = ["--model", BASE, "--adapter", ADAPTER, "--stream", "--sessions", "3",
                    "--json", "--compute", "bf16", "--repeats", "1"]
            if reserve is not None:
                args += ["--kv-reserve-bytes", reserve]
            j = json.loads(run(args, 0).stdout)
            for key in ["compute", "sessions", "appended_tok_per_s", "prefill_tok_per_s",
                        "ratio_to_prefill", "append_latency_ms", "kv_reserved_bytes"]:
                self.assertIn(key, j)
            self.assertEqual(j["sessions"], 3)
            self.assertEqual(j["appends"], 3 * 30)
            self.assertEqual(j["max_abs_dp_session_vs_oneshot"], 0)
            self.assertLessEqual(j["append_latency_ms"]["p50"], j["append_latency_ms"]["p95"])
            if reserve is None:
                self.assertGreaterEqual(j["kv_reserved_bytes"], 3 * 2 * (2 << 20))
            else:
                self.assertEqual(j["kv_reserved_bytes"], 0)
        p = run(["--model", BASE, "--stream", "--sessions", "2", "--kv-reserve-bytes", "-5"])
        self.assertNotEqual(p.returncode, 0)

    def test_random_model_needs_a_tokenizer(self):
        with tempfile.TemporaryDirectory() as cache:
            p = run(["--cache", cache, "--quick"], 1)
            self.assertIn("tokenizer", p.stderr.decode())

    def test_bad_arguments(self):
        p = run(["--compute", "fp16"])
        self.assertNotEqual(p.returncode, 0)
        p = run(["--model", "/nonexistent/model", "--quick"], 1)
        self.assertIn("/nonexistent/model", p.stderr.decode())
        with tempfile.TemporaryDirectory() as d:
            for name in ["tokenizer.json", "tokenizer_config.json"]:
                shutil.copy(os.path.join(BASE, name), d)
            with open(os.path.join(d, "config.json"), "w") as f:
                f.write("{not json")
            p = run(["--model", d, "--quick"], 1)
            self.assertIn("config.json", p.stderr.decode())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
