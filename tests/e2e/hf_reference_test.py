#!/usr/bin/env python3
"""Tests of scripts/hf_reference.py, the transformers + peft reference scorer.

usage: hf_reference_test.py CCGUARD_BINARY FIXTURES_DIR

- Always (no PyTorch needed): `--help` exits 0 and lists the options, and a
  line that is not JSON gives exit status 2 naming the line (more input errors:
  tests/e2e/gpu_test.py). These run with torch/transformers/peft made
  unimportable, so they hold whether or not this machine has them.
- Only where `import torch, transformers, peft` works: the tiny-a fixture
  scored on CPU in float32 in both modes, with and without the adapter, against
  golden.json (|d logprob| <= 1e-3, |d p_unsafe| <= 1e-4), fed the golden
  input_ids (and, in one run, the prompt text through the model's tokenizer).
  Skipped, saying why, elsewhere.
The ccguard binary is not used: the argument keeps the e2e calling convention.
"""
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, "tests", "fixtures")
SCRIPT = os.path.join(REPO, "scripts", "hf_reference.py")
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")
SUMMARY_KEYS = {"mode", "items", "tokens", "padded_tokens", "batch_size", "load_s", "wall_s", "items_per_s",
                "tokens_per_s", "gpu", "torch", "transformers", "peft", "dtype", "max_length", "merged",
                "attn_implementation"}


def read_fixture(*parts):
    """A fixture file, from the unpacked build tree or (source tree) its .xz."""
    path = os.path.join(FIX, *parts)
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    with lzma.open(path + ".xz") as f:
        return f.read()


def probe_torch():
    """(True, "") where torch, transformers and peft import; else (False, why)."""
    p = subprocess.run([sys.executable, "-c", "import torch, transformers, peft"], capture_output=True,
                       text=True, timeout=300)
    if p.returncode == 0:
        return True, ""
    lines = p.stderr.strip().splitlines()
    return False, lines[-1] if lines else f"exit {p.returncode}"


HAVE_TORCH, NO_TORCH_WHY = probe_torch()


def jsonl(path, objs):
    with open(path, "w", encoding="utf-8") as f:
        for o in objs:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


class WithoutTorchTest(unittest.TestCase):
    """Argument and input checks, with torch, transformers and peft unimportable."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hf_reference_test.")
        cls.block = os.path.join(cls.dir, "block")
        for name in ["torch", "transformers", "peft"]:
            os.makedirs(os.path.join(cls.block, name))
            with open(os.path.join(cls.block, name, "__init__.py"), "w") as f:
                f.write(f"raise ImportError(\"No module named '{name}' (blocked by the test)\", name='{name}')\n")
        cls.env = {**os.environ, "PYTHONPATH": cls.block + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cls.items = os.path.join(cls.dir, "items.jsonl")
        cls.out = os.path.join(cls.dir, "out.jsonl")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def ref(self, args, lines=None):
        if lines is not None:
            with open(self.items, "w", encoding="utf-8") as f:
                f.write("".join(l + "\n" for l in lines))
        p = subprocess.run([sys.executable, SCRIPT] + args, capture_output=True, text=True, timeout=120,
                           env=self.env)
        self.assertNotIn("Traceback", p.stderr)
        return p

    def score(self, lines, mode="seed", model=BASE, extra=()):
        return self.ref(["--model", model, "--items", self.items, "--out", self.out, "--mode", mode]
                        + list(extra), lines)

    def test_help_needs_no_torch(self):
        p = self.ref(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ["--model", "--adapter", "--items", "--out", "--summary", "--mode", "--max-items",
                     "--batch-size", "--device", "--dtype", "--safe-id", "--unsafe-id", "seed", "tuned"]:
            self.assertIn(word, p.stdout)

    def test_line_that_is_not_json(self):
        p = self.score(['{"id": 1, "prompt": "a"}', "", "{not json}"])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("items.jsonl:3: not JSON", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_error_line_and_missing_folder(self):
        p = self.score(['{"id": 1, "error": "bad line"}'], mode="tuned")
        self.assertEqual(p.returncode, 2)
        self.assertIn("items.jsonl:1: an error line", p.stderr)
        p = self.score(['{"id": 1, "prompt": "a"}'], model=os.path.join(self.dir, "nope"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("no such folder", p.stderr)


@unittest.skipUnless(HAVE_TORCH, f"needs torch, transformers and peft: {NO_TORCH_WHY}")
class TinyAGoldenTest(unittest.TestCase):
    """Both modes on CPU in float32 against the goldens of tiny-a."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hf_reference_test.")
        cls.golden = json.loads(read_fixture("tiny-a", "golden.json"))
        ids = cls.golden["label_tokens"]
        cls.label_args = ["--safe-id", str(ids["safe"]), "--unsafe-id", str(ids["unsafe"])]
        # The model folder with its tokenizer unpacked (the build tree has it; the source tree has .xz).
        if os.path.exists(os.path.join(BASE, "tokenizer.json")):
            cls.model = BASE
        else:
            cls.model = os.path.join(cls.dir, "base")
            shutil.copytree(BASE, cls.model, ignore=shutil.ignore_patterns("*.xz"))
            with open(os.path.join(cls.model, "tokenizer.json"), "wb") as f:
                f.write(read_fixture("tiny-a", "base", "tokenizer.json"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_ref(self, name, mode, cases, adapter, extra, with_ids=True):
        items = os.path.join(self.dir, f"{name}.jsonl")
        out = os.path.join(self.dir, f"{name}.out.jsonl")
        summary = os.path.join(self.dir, f"{name}.summary.json")
        jsonl(items, ({"id": c["name"], "prompt": c["text"], **({"input_ids": c["input_ids"]} if with_ids else {})}
                      for c in cases))
        args = [sys.executable, SCRIPT, "--model", self.model, "--items", items, "--out", out, "--summary",
                summary, "--mode", mode, "--device", "cpu", "--dtype", "float32"] + self.label_args + extra
        if adapter:
            args += ["--adapter", ADAPTER]
        p = subprocess.run(args, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertIn(f"hf_reference {mode}:", p.stderr)
        with open(out, encoding="utf-8") as f:
            got = [json.loads(l) for l in f if l.strip()]
        with open(summary, encoding="utf-8") as f:
            return got, json.load(f)

    def check(self, got, cases, key):
        self.assertEqual([g["id"] for g in got], [c["name"] for c in cases])
        bad = []
        for g, c in zip(got, cases):
            want = c["fp32"][key]
            self.assertEqual(set(g), {"id", "p_unsafe", "logprob_safe", "logprob_unsafe", "n_tokens"})
            if g["n_tokens"] != len(c["input_ids"]):
                bad.append(f"{c['name']}: n_tokens {g['n_tokens']} != {len(c['input_ids'])}")
            for field, tol in [("p_unsafe", 1e-4), ("logprob_safe", 1e-3), ("logprob_unsafe", 1e-3)]:
                if not abs(g[field] - want[field]) <= tol:
                    bad.append(f"{c['name']}: {field} {g[field]:.7g} vs golden {want[field]:.7g}")
        self.assertEqual(bad, [], f"{key}: {len(bad)} mismatches")

    def check_summary(self, s, mode, n, merged):
        self.assertLessEqual(SUMMARY_KEYS, set(s))
        self.assertEqual((s["mode"], s["items"], s["merged"], s["dtype"], s["gpu"]), (mode, n, merged, "float32", "cpu"))
        self.assertGreaterEqual(s["padded_tokens"], s["tokens"])
        self.assertGreater(s["items_per_s"], 0)

    def short_cases(self):
        # Full-vocabulary logits at every position (seed mode) cost 0.6 MB a token here: keep them short.
        return [c for c in self.golden["cases"] if len(c["input_ids"]) <= 128]

    def test_seed_unmerged_adapter(self):
        cases = self.short_cases()
        self.assertGreaterEqual(len(cases), 8)
        got, s = self.run_ref("seed_adapter", "seed", cases, True, ["--batch-size", "4"])
        self.check(got, cases, "adapter")
        self.check_summary(s, "seed", len(cases), False)
        self.assertEqual(s["batch_size"], 4)
        self.assertGreater(s["padded_tokens"], s["tokens"])  # left padding was exercised

    def test_seed_base_from_prompt_text(self):
        cases = self.short_cases()[:6]
        got, s = self.run_ref("seed_text", "seed", self.short_cases(), False, ["--max-items", "6"],
                              with_ids=False)
        self.check(got, cases, "base")
        self.check_summary(s, "seed", 6, False)
        self.assertEqual(s["batch_size"], 8)

    def test_tuned_merged_adapter(self):
        cases = self.golden["cases"]  # up to 3485 tokens: past the default --max-length
        got, s = self.run_ref("tuned_adapter", "tuned", cases, True, ["--batch-size", "3", "--max-length", "4096"])
        self.check(got, cases, "adapter")
        self.check_summary(s, "tuned", len(cases), True)
        self.assertEqual(s["attn_implementation"], "sdpa")

    def test_tuned_base(self):
        cases = self.golden["cases"]
        got, s = self.run_ref("tuned_base", "tuned", cases, False, ["--max-length", "4096"])
        self.check(got, cases, "base")
        self.check_summary(s, "tuned", len(cases), False)
        self.assertEqual(s["batch_size"], 32)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
