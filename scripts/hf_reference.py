#!/usr/bin/env python3
"""A Python reference scorer for cross-checks (transformers + peft).

Reads JSON Lines {"id", "prompt"} (the output of `ccguard score --dump-prompt`;
an "input_ids" list, when present, is used instead of tokenizing) and writes
one line per item, in input order:
  {"id", "p_unsafe", "logprob_safe", "logprob_unsafe", "n_tokens"}
logprobs are log-softmax over the whole vocabulary of the last real position's
logits (float32); p_unsafe = 1 / (1 + exp(logit_safe - logit_unsafe)) in
float64. A summary (items/s, tokens/s, GPU, library versions) goes to
--summary and, in one line, to stderr.

Two modes, the anchors ccguard's GPU numbers are compared with:
  seed   what the published evaluator does: BF16, the PEFT adapter unmerged,
         batches of 8 in input order, left padding, max_length 2048, a full
         forward that returns every position's logits.
  tuned  plain transformers done well, without reusing the prefix: LoRA merged,
         BF16, SDPA attention, batches of 32 sorted by length, logits_to_keep=1.

Runs wherever PyTorch, transformers and peft are installed (a GPU machine; with
--device cpu --dtype float32 anywhere). Offline: nothing is downloaded.
"""
import argparse
import json
import math
import os
import sys
import time


def fail(msg):
    print(f"hf_reference: {msg}", file=sys.stderr)
    sys.exit(2)


def read_items(path, max_items):
    items = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                j = json.loads(line)
            except json.JSONDecodeError as e:
                fail(f"{path}:{n}: not JSON ({e.msg})")
            if not isinstance(j, dict) or "error" in j:
                fail(f"{path}:{n}: an error line or not an object: {line.strip()[:200]}")
            if "input_ids" not in j and not isinstance(j.get("prompt"), str):
                fail(f"{path}:{n}: needs \"prompt\" (a string) or \"input_ids\"")
            items.append(j)
            if max_items and len(items) >= max_items:
                break
    if not items:
        fail(f"{path}: no items")
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="Hugging Face model folder")
    ap.add_argument("--adapter", help="PEFT adapter folder")
    ap.add_argument("--items", required=True, help="JSON Lines {id, prompt[, input_ids]}")
    ap.add_argument("--out", required=True, help="JSON Lines scores")
    ap.add_argument("--summary", help="JSON summary file")
    ap.add_argument("--mode", choices=["seed", "tuned"], required=True)
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=0, help="default: 8 (seed), 32 (tuned)")
    ap.add_argument("--max-length", type=int, default=2048)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16")
    ap.add_argument("--safe-id", type=int, default=18675)
    ap.add_argument("--unsafe-id", type=int, default=38157)
    a = ap.parse_args()
    for d, what in [(a.model, "--model"), (a.adapter, "--adapter")]:
        if d is not None and not os.path.isdir(d):
            fail(f"{what} {d}: no such folder")
    items = read_items(a.items, a.max_items)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        fail(f"needs PyTorch and transformers ({e})")
    peft = None
    if a.adapter:
        try:
            import peft
        except ImportError as e:
            fail(f"--adapter needs peft ({e})")
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        fail("--device cuda but torch sees no GPU")
    torch.manual_seed(0)
    dtype = torch.bfloat16 if a.dtype == "bfloat16" else torch.float32
    batch = a.batch_size or (8 if a.mode == "seed" else 32)

    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(a.model, local_files_only=True)
    tok.padding_side = "left"
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    kwargs = {"local_files_only": True}
    if a.device != "cpu":  # on the CPU the model stays where it loads (no accelerate needed)
        kwargs["device_map"] = {"": a.device}
    attn = None
    if a.mode == "tuned":
        attn = "sdpa"
        kwargs["attn_implementation"] = attn
    try:
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype, **kwargs)
    except TypeError:  # transformers before 4.56 calls it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=dtype, **kwargs)
    merged = False
    if a.adapter:
        model = peft.PeftModel.from_pretrained(model, a.adapter, is_trainable=False)
        if a.mode == "tuned":
            model = model.merge_and_unload()
            merged = True
    model.eval()
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    load_s = time.time() - t0

    # Token ids of every item (the prompt is exact text: no special tokens added).
    ids = []
    for j in items:
        if "input_ids" in j:
            ids.append([int(x) for x in j["input_ids"]][-a.max_length:])
        else:
            ids.append(tok(j["prompt"], add_special_tokens=False, truncation=True,
                           max_length=a.max_length)["input_ids"])
    order = list(range(len(items)))
    if a.mode == "tuned":
        order.sort(key=lambda i: -len(ids[i]))
    batches = [order[i:i + batch] for i in range(0, len(order), batch)]
    pad = tok.pad_token_id

    def run(b):
        width = max(len(ids[i]) for i in b)
        inp = torch.full((len(b), width), pad, dtype=torch.long)
        mask = torch.zeros((len(b), width), dtype=torch.long)
        for r, i in enumerate(b):
            inp[r, width - len(ids[i]):] = torch.tensor(ids[i])
            mask[r, width - len(ids[i]):] = 1
        inp, mask = inp.to(a.device), mask.to(a.device)
        with torch.inference_mode():
            if a.mode == "seed":
                logits = model(input_ids=inp, attention_mask=mask).logits[:, -1, :]
            else:
                try:
                    logits = model(input_ids=inp, attention_mask=mask, logits_to_keep=1).logits[:, -1, :]
                except TypeError:
                    logits = model(input_ids=inp, attention_mask=mask).logits[:, -1, :]
            lp = torch.log_softmax(logits.float(), dim=-1)
            pick = torch.stack([logits[:, a.safe_id].float(), logits[:, a.unsafe_id].float(),
                                lp[:, a.safe_id], lp[:, a.unsafe_id]], dim=1).cpu().tolist()
        return pick, len(b) * width

    run(batches[0])  # warm-up (kernels, allocator); scored again below
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    t1 = time.time()
    results = {}
    padded = 0
    for b in batches:
        pick, n = run(b)
        padded += n
        for i, (ls, lu, lps, lpu) in zip(b, pick):
            results[i] = (ls, lu, lps, lpu)
    if a.device.startswith("cuda"):
        torch.cuda.synchronize()
    wall = time.time() - t1

    with open(a.out, "w") as f:
        for i, j in enumerate(items):
            ls, lu, lps, lpu = results[i]
            f.write(json.dumps({"id": j.get("id"), "p_unsafe": 1.0 / (1.0 + math.exp(ls - lu)),
                                "logprob_safe": lps, "logprob_unsafe": lpu,
                                "n_tokens": len(ids[i])}) + "\n")
    tokens = sum(len(x) for x in ids)
    summary = {
        "mode": a.mode, "items": len(items), "tokens": tokens, "padded_tokens": padded,
        "batch_size": batch, "load_s": round(load_s, 2), "wall_s": round(wall, 3),
        "items_per_s": len(items) / wall, "tokens_per_s": tokens / wall,
        "gpu": torch.cuda.get_device_name() if a.device.startswith("cuda") else "cpu",
        "torch": torch.__version__, "transformers": transformers.__version__,
        "peft": peft.__version__ if peft else None, "dtype": a.dtype,
        "max_length": a.max_length, "merged": merged,
        "attn_implementation": attn or getattr(model.config, "_attn_implementation", None)}
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"hf_reference {a.mode}: {len(items)} items in {wall:.2f} s = {summary['items_per_s']:.1f} "
          f"items/s, {summary['tokens_per_s']:.0f} tok/s ({summary['gpu']}, batch {batch})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
