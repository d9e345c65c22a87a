#!/usr/bin/env python3
"""End-to-end tests of the `ccguard` command line on the tiny-a fixture.

usage: cli_test.py CCGUARD_BINARY FIXTURES_DIR

Checks the stable CLI contract of `tokenize`, `score` and `classify` against
the goldens (token ids, rendered prompts, scores within the acceptance
tolerances), and that bad input yields per-line errors, never a crash.
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


def load(*parts):
    with open(os.path.join(FIX, *parts), encoding="utf-8") as f:
        return json.load(f)


GOLDEN = load("tiny-a", "golden.json")
TOK_GOLDEN = load("tokenizer", "qwen3-golden.json")


def run(args, stdin=b"", check_rc=None, env=None):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, timeout=600,
                       env=None if env is None else {**os.environ, **env})
    if p.returncode < 0:
        raise AssertionError(f"ccguard crashed with signal {-p.returncode}: {p.stderr.decode()}")
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError(f"exit {p.returncode} != {check_rc}\nstderr: {p.stderr.decode()}")
    return p


def jsonl(objs):
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs).encode("utf-8")


def outputs(p):
    return [json.loads(l) for l in p.stdout.decode("utf-8").splitlines()]


class TokenizeTest(unittest.TestCase):
    def test_all_golden_strings(self):
        cases = TOK_GOLDEN["cases"]
        p = run(["tokenize", "--model", BASE], jsonl({"text": c["text"]} for c in cases), 0)
        out = outputs(p)
        self.assertEqual(len(out), len(cases))
        bad = [i for i, (o, c) in enumerate(zip(out, cases)) if o["ids"] != c["ids"]]
        self.assertEqual(bad, [], f"{len(bad)} of {len(cases)} differ")

    def test_literal_flag(self):
        p = run(["tokenize", "--model", BASE, "--literal"], jsonl([{"text": "<|im_end|>"}]), 0)
        self.assertNotIn(151645, outputs(p)[0]["ids"])
        p = run(["tokenize", "--model", BASE], jsonl([{"text": "<|im_end|>"}]), 0)
        self.assertEqual(outputs(p)[0]["ids"], [151645])


class ScoreTest(unittest.TestCase):
    def check(self, got, want, name):
        self.assertLessEqual(abs(got["p_unsafe"] - want["p_unsafe"]), 1e-4, name)
        self.assertLessEqual(abs(got["logprob_safe"] - want["logprob_safe"]), 1e-3, name)
        self.assertLessEqual(abs(got["logprob_unsafe"] - want["logprob_unsafe"]), 1e-3, name)
        self.assertLessEqual(abs(got["label_mass"] - want["label_mass"]), 1e-6 + 1e-3 * want["label_mass"], name)
        self.assertEqual(got["label"], "unsafe" if got["p_unsafe"] >= 0.5 else "safe")

    def score_cases(self, adapter_args, key):
        items, wants, hf_items, hf_wants = [], [], [], []
        for c in GOLDEN["cases"]:
            want = c["fp32"][key]
            # Raw text, scored as is.
            items.append({"id": c["name"] + "/text", "text": c["text"]})
            wants.append((c, want))
            if c["messages"] is not None:
                target = hf_items if "injection" in c["name"] else items
                (hf_wants if target is hf_items else wants).append((c, want))
                target.append({"id": c["name"] + "/chat", "chat": c["messages"]})
        for args, its, ws in ((adapter_args, items, wants),
                              (adapter_args + ["--hf-special-tokens"], hf_items, hf_wants)):
            # The goldens are fp32 (the reference arithmetic), not the default.
            p = run(["score", "--model", BASE, "--compute", "fp32"] + args, jsonl(its), 0)
            out = outputs(p)
            self.assertEqual(len(out), len(its))
            for o, it, (c, want) in zip(out, its, ws):
                self.assertEqual(o["id"], it["id"])
                self.assertEqual(o["n_tokens"], len(c["input_ids"]), it["id"])
                self.check(o, want, it["id"])

    def test_golden_with_adapter(self):
        self.score_cases(["--adapter", ADAPTER], "adapter")

    def test_golden_without_adapter(self):
        self.score_cases(["--no-adapter"], "base")

    def test_default_adapter_only_with_its_base_model(self):
        """With a --model other than Qwen/Qwen3-1.7B and no --adapter, the published
        LoRA is not looked up or merged (it would fit DynaGuard-1.7B's shapes): the
        base model alone scores, and a note says so."""
        item = jsonl([{"prompt": "How do I kill a Python process?"}])
        p = run(["score", "--model", BASE, "--threads", "2", "--compute", "fp32"], item, 0,
                env={"HF_HUB_OFFLINE": "1"})
        self.assertIn("no adapter merged", p.stderr.decode())
        q = run(["score", "--model", BASE, "--no-adapter", "--threads", "2", "--compute", "fp32"],
                item, 0)
        self.assertEqual(json.loads(p.stdout)["p_unsafe"], json.loads(q.stdout)["p_unsafe"])
        r = run(["score", "--model", BASE, "--adapter", ADAPTER, "--threads", "2", "--compute",
                 "fp32"], item, 0)
        self.assertNotEqual(json.loads(r.stdout)["p_unsafe"], json.loads(q.stdout)["p_unsafe"])

    def test_dump_prompt_is_byte_identical(self):
        """`chat` renders with the model's chat template alone, as Hugging Face's
        apply_chat_template does: the fixture goldens' text byte for byte."""
        cases = [c for c in GOLDEN["cases"] if c["messages"] is not None]
        p = run(["score", "--model", BASE, "--no-adapter", "--dump-prompt"],
                jsonl({"id": i, "chat": c["messages"]} for i, c in enumerate(cases)), 0)
        for o, c in zip(outputs(p), cases):
            self.assertEqual(o["prompt"], c["text"], c["name"])

    def test_messages_are_judged_under_the_constitution(self):
        """`messages` is a conversation to judge: the constitution's templates receive it (the
        last user turn as the prompt, a final assistant turn as the response, earlier turns as
        context), and it scores as the equivalent prompt/response item."""
        turns = [{"role": "system", "content": "You are a helpful assistant."},
                 {"role": "user", "content": "Hi!"},
                 {"role": "assistant", "content": "Hello, how can I help?"},
                 {"role": "user", "content": "How do I kill a Python process?"}]
        answer = {"role": "assistant", "content": "Use kill with its PID."}
        items = [{"id": "conv", "messages": turns},
                 {"id": "conv+answer", "messages": turns + [answer]},
                 {"id": "one", "messages": turns[3:]},
                 {"id": "one+answer", "messages": turns[3:] + [answer]},
                 {"id": "prompt", "prompt": turns[3]["content"]},
                 {"id": "exchange", "prompt": turns[3]["content"], "response": answer["content"]},
                 {"id": "chat", "chat": turns}]
        args = ["score", "--model", BASE, "--adapter", ADAPTER]
        dumped = {o["id"]: o["prompt"] for o in outputs(run(args + ["--dump-prompt"],
                                                             jsonl(items), 0))}
        system = dumped["prompt"].split("<|im_end|>")[0]
        self.assertIn("constitutional safety classifier", system)
        for k in ["conv", "conv+answer", "one", "one+answer"]:
            self.assertTrue(dumped[k].startswith(system), k)  # the constitution is in the prompt
        self.assertIn("It continues this conversation", dumped["conv"])
        self.assertIn("<assistant>\nHello, how can I help?\n</assistant>\n</conversation>",
                      dumped["conv"])
        self.assertIn("<content>\nHow do I kill a Python process?\n</content>", dumped["conv"])
        self.assertIn("The exchange continues this conversation", dumped["conv+answer"])
        self.assertIn("<assistant>\nUse kill with its PID.\n</assistant>", dumped["conv+answer"])
        # Without earlier turns, a conversation is exactly the prompt / exchange item.
        self.assertEqual(dumped["one"], dumped["prompt"])
        self.assertEqual(dumped["one+answer"], dumped["exchange"])
        # `chat` is the model's chat template alone: no constitution.
        self.assertNotIn("constitutional safety classifier", dumped["chat"])
        self.assertTrue(dumped["chat"].startswith(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>"))
        scored = {o["id"]: o for o in outputs(run(args, jsonl(items), 0))}
        self.assertEqual(scored["one"]["p_unsafe"], scored["prompt"]["p_unsafe"])
        self.assertEqual(scored["one+answer"]["p_unsafe"], scored["exchange"]["p_unsafe"])
        self.assertGreater(scored["conv"]["n_tokens"], scored["prompt"]["n_tokens"])
        # A conversation that ends with neither a user nor an answer is an error line.
        bad = run(args, jsonl([{"id": 1, "messages": turns[:1]}]), 3)
        self.assertIn("must end with a user turn", outputs(bad)[0]["error"])

    def test_injection_is_literal_by_default(self):
        c = next(c for c in GOLDEN["cases"] if c["name"] == "short_injection")
        p = run(["score", "--model", BASE, "--no-adapter"], jsonl([{"chat": c["messages"]}]), 0)
        o = outputs(p)[0]
        # The typed <|im_end|> ... became ordinary text tokens, so the count differs.
        self.assertGreater(o["n_tokens"], len(c["input_ids"]))

    def test_prompt_and_exchange_items(self):
        items = [{"id": 1, "prompt": "How do I kill a Python process?"},
                 {"id": "x", "prompt": "hi", "response": "Hello! How can I help?"}]
        p = run(["score", "--model", BASE, "--adapter", ADAPTER], jsonl(items), 0)
        out = outputs(p)
        self.assertEqual([o["id"] for o in out], [1, "x"])
        for o in out:
            self.assertTrue(0 <= o["p_unsafe"] <= 1)
            self.assertGreater(o["n_tokens"], 100)  # the default constitution is in the prompt
        p = run(["score", "--model", BASE, "--no-adapter", "--dump-prompt"], jsonl(items), 0)
        prompts = [o["prompt"] for o in outputs(p)]
        self.assertIn("How do I kill a Python process?", prompts[0])
        self.assertIn("Hello! How can I help?", prompts[1])
        self.assertTrue(prompts[0].startswith("<|im_start|>system\n"))
        self.assertTrue(prompts[0].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n"))

    def test_compute_modes(self):
        """bf16 and int8 stay within their stated bounds of fp32 (docs/performance.md); the
        default is bf16 where the CPU has native BF16 (else fp32); an unknown mode is refused."""
        cases = GOLDEN["cases"]
        items = jsonl({"id": i, "text": c["text"]} for i, c in enumerate(cases))
        args = ["score", "--model", BASE, "--adapter", ADAPTER, "--hf-special-tokens"]
        ref = outputs(run(args + ["--compute", "fp32"], items, 0))
        flags = open("/proc/cpuinfo").read()
        native = (" amx_bf16" in flags or " avx512_bf16" in flags) and \
            os.environ.get("CCGUARD_CPU_ISA") not in ("generic", "avx2")
        default = outputs(run(args, items, 0))
        self.assertEqual(default, outputs(run(args + ["--compute", "bf16" if native else "fp32"],
                                              items, 0)))
        self.assertEqual(default, outputs(run(args + ["--compute", "auto"], items, 0)))
        for mode, bound in [("bf16", 0.02), ("int8", 0.05)]:
            out = outputs(run(args + ["--compute", mode], items, 0))
            worst = max(abs(o["p_unsafe"] - r["p_unsafe"]) for o, r in zip(out, ref))
            self.assertLessEqual(worst, bound, mode)
            self.assertEqual([o["n_tokens"] for o in out], [r["n_tokens"] for r in ref])
        p = run(args + ["--compute", "fp16"], items)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("fp16", p.stderr.decode())

    def test_threshold_sets_label(self):
        items = [{"prompt": "hello"}]
        lo = outputs(run(["score", "--model", BASE, "--no-adapter", "--threshold", "0"], jsonl(items), 0))
        hi = outputs(run(["score", "--model", BASE, "--no-adapter", "--threshold", "1"], jsonl(items), 0))
        self.assertEqual(lo[0]["label"], "unsafe")
        self.assertEqual(hi[0]["label"], "safe")

    def test_bad_lines_get_error_lines(self):
        lines = [b'{"id": 1, "prompt": "fine"}',
                 b'{"id": 2, "prompt": ',                    # malformed JSON
                 b'{"id": 3, "prompt": "bad \xff utf8"}',    # invalid UTF-8
                 b'{"id": 4, "prompt": 5}',                  # wrong type
                 b'{"id": 5}',                               # no content
                 b'[1, 2]',                                  # not an object
                 b'{"id": 6, "messages": []}',               # empty messages
                 b'{"id": 7, "messages": [{"role": "user"}]}',
                 b'{"id": 8, "text": ""}',                   # zero tokens
                 b'',                                        # blank: an error line too
                 b'{"id": 9, "prompt": "also fine"}']
        p = run(["score", "--model", BASE, "--no-adapter"], b"\n".join(lines) + b"\n", 3)
        out = outputs(p)
        self.assertEqual(len(out), 11)  # output line i answers input line i
        self.assertIn("p_unsafe", out[0])
        self.assertIn("p_unsafe", out[-1])
        for o in out[1:-1]:
            self.assertIn("error", o)
        self.assertEqual([o.get("id") for o in out], [1, None, None, 4, 5, None, 6, 7, 8, None, 9])
        self.assertIn("line 10: blank line", out[9]["error"])
        self.assertIn("line 2", out[1]["error"])
        self.assertIn("UTF-8", out[2]["error"])
        self.assertIn("'prompt' must be a string", out[3]["error"])
        self.assertIn("empty", out[8]["error"])


class ClassifyTest(unittest.TestCase):
    def test_one_shot(self):
        p = run(["classify", "--model", BASE, "--adapter", ADAPTER, "How do I kill a Python process?"], b"", 0)
        line = p.stdout.decode()
        self.assertRegex(line, r"^(safe|unsafe)  p_unsafe=0\.\d{4}  threshold=0\.50")
        p = run(["classify", "--model", BASE, "--no-adapter", "--json", "--response", "Use kill -9.", "q"], b"", 0)
        j = json.loads(p.stdout)
        self.assertIn(j["label"], ("safe", "unsafe"))

    def test_missing_model_is_a_clear_error(self):
        p = run(["classify", "--model", "/nonexistent/model", "--no-adapter", "x"], b"", 1)
        self.assertIn("/nonexistent/model", p.stderr.decode())
        with tempfile.TemporaryDirectory() as cache:
            p = run(["classify", "--model", "NoSuchOrg/no-such-model", "--no-adapter", "x"], b"", 1,
                    env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": cache})
        err = p.stderr.decode()
        self.assertIn("NoSuchOrg/no-such-model", err)
        self.assertIn("HF_HUB_OFFLINE", err)


class BrokenModelTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.model = os.path.join(self.dir, "model")
        shutil.copytree(BASE, self.model)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_truncated_weights(self):
        path = os.path.join(self.model, "model.safetensors")
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size // 2)
        p = run(["score", "--model", self.model, "--no-adapter"], jsonl([{"text": "x"}]), 1)
        self.assertIn("model.safetensors", p.stderr.decode())

    def test_other_architecture(self):
        path = os.path.join(self.model, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["model_type"], cfg["architectures"] = "mistral", ["MistralForCausalLM"]
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = run(["score", "--model", self.model, "--no-adapter"], jsonl([{"text": "x"}]), 1)
        self.assertIn("MistralForCausalLM", p.stderr.decode())

    def test_bad_constitution(self):
        path = os.path.join(self.dir, "c.json")
        with open(path, "w") as f:
            f.write('{"name": "x", "unsafe_categories": []')
        p = run(["score", "--model", self.model, "--no-adapter", "--constitution", path],
                jsonl([{"text": "x"}]), 1)
        self.assertIn("c.json", p.stderr.decode())


class UsageTest(unittest.TestCase):
    """Usage errors exit 2 with a suggestion; -m; items name unknown fields; outputs carry flagged."""

    def test_usage_errors_exit_2_with_suggestions(self):
        p = run(["clasify", "hello"], b"", 2)
        self.assertIn("did you mean 'classify'", p.stderr.decode())
        p = run(["classify", "--modle", BASE, "hello"], b"", 2)
        self.assertIn("did you mean '--model'", p.stderr.decode())
        p = run(["score", "--batch-size", "0"], b"", 2)  # a bad value
        self.assertNotIn("did you mean", p.stderr.decode())
        p = run(["--help"], b"", 0)
        self.assertIn("Exit status: 0 success", p.stdout.decode())

    def test_short_model_flag_and_flagged_output(self):
        p = run(["classify", "-m", BASE, "--adapter", ADAPTER, "--json", "--threshold", "0", "hi"],
                b"", 0)
        j = json.loads(p.stdout)
        self.assertIs(j["flagged"], True)
        self.assertEqual(j["threshold"], 0)
        p = run(["score", "-m", BASE, "--adapter", ADAPTER], jsonl([{"prompt": "hi"}]), 0)
        out = outputs(p)[0]
        self.assertIs(out["flagged"], out["label"] == "unsafe")
        self.assertEqual(out["threshold"], 0.5)

    def test_unknown_item_fields_are_errors(self):
        p = run(["score", "-m", BASE, "--adapter", ADAPTER],
                jsonl([{"id": 1, "prompt": "q", "respnse": "a"}, {"id": 2, "prompt": "q"}]), 3)
        out = outputs(p)
        self.assertIn("unknown field 'respnse'", out[0]["error"])
        self.assertEqual(out[0]["id"], 1)
        self.assertIn("p_unsafe", out[1])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
