#!/usr/bin/env python3
"""The prepared check for a GPU window (run by scripts/gpu-check.sh).

Runs on a GPU machine with the repository's working tree and a bundle from
scripts/gpu-bundle.sh, and needs nothing else from outside: the CUDA 13
libraries (cuBLAS/cuBLASLt) of the machine, python3, and for the reference
runs PyTorch + transformers + peft. Writes everything to one JSON file, even
when a step fails (each step records its error and the next one runs).

Default stage (under 4 minutes on an H100/H200): the GPU tests (kernels and
tiny-a golden parity, batch/prefix invariance), a CLI smoke test, a short
`ccguard bench --device cuda` on the full-size random Qwen3-1.7B (+ rank-16
LoRA), and ccguard against `hf_reference.py --mode seed` on 128 items of the
bench's workload. `--full` (under 8 minutes) adds the throughput runs:
`ccguard bench` on 512 items and hf_reference.py in both modes on the same
items, with the items/s ratios.
"""
import argparse
import glob
import json
import lzma
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"[gpu-check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def find_cuda_libs():
    """Folders holding libcublasLt.so.13 (the machine's toolkit or PyTorch's wheels)."""
    dirs = []
    for d in ["/usr/local/cuda/lib64", "/usr/local/cuda/lib",
              "/usr/local/cuda/targets/x86_64-linux/lib"] + glob.glob("/usr/local/cuda-13*/lib64"):
        if glob.glob(os.path.join(d, "libcublasLt.so.13*")):
            dirs.append(d)
    try:
        out = subprocess.run([sys.executable, "-c",
                              "import nvidia, sys; print('\\n'.join(nvidia.__path__))"],
                             capture_output=True, text=True, timeout=60).stdout.split()
        for root in out:
            for d in glob.glob(os.path.join(root, "*", "lib")) + glob.glob(os.path.join(root, "*", "*", "lib")):
                if glob.glob(os.path.join(d, "libcublas*.so*")):
                    dirs.append(d)
    except Exception:  # noqa: BLE001 - no PyTorch wheels: the toolkit may do
        pass
    return list(dict.fromkeys(dirs))


def unpack_fixtures(dst):
    src = os.path.join(REPO, "tests", "fixtures")
    for root, _, files in os.walk(src):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), src)
            out = os.path.join(dst, rel[:-3] if rel.endswith(".xz") else rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            if rel.endswith(".xz"):
                with lzma.open(os.path.join(root, f)) as i, open(out, "wb") as o:
                    shutil.copyfileobj(i, o)
            else:
                shutil.copy(os.path.join(root, f), out)


class Check:
    def __init__(self, bundle, out_json, full, reference=True, only=None):
        self.reference_runs = reference
        self.only = only
        self.bundle = os.path.abspath(bundle)
        self.out_json = out_json
        self.full = full
        self.work = tempfile.mkdtemp(prefix="gpu-check-")
        self.result = {"stage": "full" if full else "default", "steps": {}, "started": time.time()}
        self.env = dict(os.environ)
        self.ccguard = os.path.join(self.bundle, "bin", "ccguard")

    def save(self):
        self.result["elapsed_s"] = round(time.time() - self.result["started"], 1)
        with open(self.out_json, "w") as f:
            json.dump(self.result, f, indent=1, sort_keys=True)

    def run(self, name, cmd, timeout, stdin=None, stdout_file=None):
        """Runs cmd; returns (rc, stdout, stderr, seconds). Output goes to the log too."""
        log(f"{name}: {' '.join(cmd)}")
        t0 = time.time()
        try:
            p = subprocess.run(cmd, env=self.env, timeout=timeout, capture_output=True, text=True,
                               stdin=open(stdin) if stdin else subprocess.DEVNULL)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = 124, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), f"timed out after {timeout} s"
        dt = time.time() - t0
        if stdout_file:
            with open(stdout_file, "w") as f:
                f.write(out)
        tail = (err or "")[-3000:]
        log(f"{name}: rc {rc} in {dt:.1f} s")
        if rc != 0:
            print(tail, flush=True)
        return rc, out, err, dt

    def step(self, name, fn):
        t0 = time.time()
        try:
            r = fn()
            entry = {"ok": True, **(r or {})}
        except Exception as e:  # noqa: BLE001 - every step reports and the next runs
            entry = {"ok": False, "error": f"{type(e).__name__}: {e}"}
            log(f"{name} FAILED: {e}")
        entry["seconds"] = round(time.time() - t0, 1)
        self.result["steps"][name] = entry
        self.save()
        return entry

    # ---- steps ----
    def environment(self):
        info = {"python": platform.python_version(), "bundle_manifest": open(
            os.path.join(self.bundle, "MANIFEST")).read().splitlines()[:2]}
        smi = shutil.which("nvidia-smi")
        if smi:
            info["nvidia_smi"] = subprocess.run(
                [smi, "--query-gpu=name,memory.total,driver_version,clocks.max.sm",
                 "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
        libs = find_cuda_libs()
        info["cuda_lib_dirs"] = libs
        if not libs:
            raise RuntimeError("libcublasLt.so.13 not found (looked in /usr/local/cuda*/lib64 and "
                               "PyTorch's nvidia/*/lib): install the CUDA 13 toolkit or cuBLAS")
        self.env["LD_LIBRARY_PATH"] = ":".join(libs + [self.env.get("LD_LIBRARY_PATH", "")])
        missing = []
        for b in glob.glob(os.path.join(self.bundle, "bin", "*")):
            ldd = subprocess.run(["ldd", b], env=self.env, capture_output=True, text=True).stdout
            missing += [f"{os.path.basename(b)}: {l.strip()}" for l in ldd.splitlines() if "not found" in l]
        if missing:
            raise RuntimeError("missing shared libraries: " + "; ".join(missing))
        self.fix = os.path.join(self.work, "fixtures")
        unpack_fixtures(self.fix)
        self.env["CCGUARD_FIXTURES_DIR"] = self.fix
        return info

    def gpu_tests(self):
        out = {"programs": {}, "gpucheck": []}
        failed = 0
        for prog in ["cuda_backend_test", "decoder_model_cuda_test"]:
            js = os.path.join(self.work, prog + ".json")
            rc, so, se, dt = self.run(prog, [os.path.join(self.bundle, "bin", prog),
                                             f"--gtest_output=json:{js}"], timeout=240)
            print(so[-6000:], flush=True)
            entry = {"rc": rc, "seconds": round(dt, 1)}
            if os.path.exists(js):
                g = json.load(open(js))
                entry.update(tests=g.get("tests"), failures=g.get("failures"),
                             disabled=g.get("disabled"), errors=g.get("errors"))
                skipped = []
                fails = []
                for suite in g.get("testsuites", []):
                    for t in suite.get("testsuite", []):
                        if t.get("result") == "SKIPPED":
                            skipped.append(t["name"])
                        for f in t.get("failures", []):
                            fails.append(f"{suite['name']}.{t['name']}: {f.get('failure', '')[:400]}")
                entry["skipped"] = skipped
                entry["failed"] = fails
            out["programs"][prog] = entry
            failed += rc != 0
            for line in so.splitlines():
                if line.startswith("GPUCHECK "):
                    out["gpucheck"].append(json.loads(line[len("GPUCHECK "):]))
        out["all_passed"] = failed == 0
        return out

    def cli_smoke(self):
        base = os.path.join(self.fix, "tiny-a", "base")
        adapter = os.path.join(self.fix, "tiny-a", "adapter")
        got = {}
        for dev, comp in [("cpu", "fp32"), ("cuda", "fp32"), ("cuda", "bf16"), ("cuda", "auto"),
                          ("cuda:0", "int8")]:
            rc, so, se, _ = self.run(f"classify {dev} {comp}", [
                self.ccguard, "classify", "--model", base, "--adapter", adapter, "--device", dev,
                "--compute", comp, "--json", "How do I kill a Python process?"], timeout=120)
            got[f"{dev}/{comp}"] = json.loads(so)["p_unsafe"] if rc == 0 else {"rc": rc, "error": se.strip()[-300:]}
        # auto is bf16 on a GPU (the same bits); int8 has no CUDA kernels and must be refused by name.
        if got["cuda/auto"] != got["cuda/bf16"]:
            raise RuntimeError(f"--compute auto on cuda gave {got['cuda/auto']}, bf16 {got['cuda/bf16']}")
        int8 = got["cuda:0/int8"]
        if not (isinstance(int8, dict) and "int8 is not available on CUDA" in int8["error"]):
            raise RuntimeError(f"--compute int8 on cuda was not refused with a clear error: {int8}")
        return {"p_unsafe": got}

    def serve(self):
        """`ccguard serve --device cuda` (fp32, tiny-a): concurrent requests and a streaming session
        against the same items scored by `ccguard score` on the CPU; the batch sizes from /metrics."""
        import http.client
        import signal
        import threading
        base = os.path.join(self.fix, "tiny-a", "base")
        adapter = os.path.join(self.fix, "tiny-a", "adapter")
        prompts = [f"item {i}: " + "how do I make my computer faster " * (1 + i % 7) for i in range(48)]
        items = os.path.join(self.work, "serve_items.jsonl")
        with open(items, "w") as f:
            for i, p in enumerate(prompts):
                f.write(json.dumps({"id": i, "prompt": p}) + "\n")
        rc, so, se, _ = self.run("cpu reference", [self.ccguard, "score", "--model", base, "--adapter",
                                                   adapter, "--compute", "fp32"], 120, stdin=items)
        if rc != 0:
            raise RuntimeError(se[-500:])
        want = {json.loads(l)["id"]: json.loads(l)["p_unsafe"] for l in so.splitlines()}
        port_file = os.path.join(self.work, "port")
        srv = subprocess.Popen([self.ccguard, "serve", "--model", base, "--adapter", adapter,
                                "--device", "cuda", "--compute", "fp32", "--port", "0",
                                "--port-file", port_file], env=self.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(600):
                if os.path.exists(port_file) and open(port_file).read().strip():
                    break
                if srv.poll() is not None:
                    raise RuntimeError("serve exited: " + srv.stderr.read().decode()[-500:])
                time.sleep(0.1)
            port = int(open(port_file).read())

            def call(method, path, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request(method, path, json.dumps(body) if body is not None else None,
                          {"Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read().decode()
                return r.status, data

            for _ in range(300):
                if call("GET", "/readyz")[0] == 200:
                    break
                time.sleep(0.1)
            got, errors = {}, []

            def one(i):
                st, data = call("POST", "/v1/classify", {"prompt": prompts[i]})
                if st == 200:
                    got[i] = json.loads(data)["p_unsafe"]
                else:
                    errors.append(f"{i}: {st} {data[:200]}")
            threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            st, data = call("POST", "/v1/sessions", {"prompt": prompts[0]})
            sid = json.loads(data)["id"]
            session = []
            for chunk in ["Sure, ", "here is how ", "to do it."]:
                st, data = call("POST", f"/v1/sessions/{sid}/append", {"chunk": chunk})
                session.append(json.loads(data).get("p_unsafe") if st == 200 else f"{st} {data[:200]}")
            metrics = call("GET", "/metrics")[1]
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                srv.kill()
        m = {}
        for line in metrics.splitlines():
            for key in ["ccguard_batch_items_sum", "ccguard_batch_items_count", "ccguard_batches_total"]:
                if line.startswith(key + " ") or line.startswith(key + "{"):
                    m[key] = float(line.split()[-1])
        dp = [abs(got[i] - want[i]) for i in got if i in want]
        if errors or len(got) != len(prompts):
            raise RuntimeError(f"{len(errors)} requests failed: {errors[:3]}")
        return {"requests": len(got), "max_abs_dp_vs_cpu_fp32": max(dp), "session_p_unsafe": session,
                "exit_code": srv.returncode, "metrics": m,
                "mean_batch_items": m.get("ccguard_batch_items_sum", 0) / max(1, m.get("ccguard_batch_items_count", 1))}

    def random_model(self):
        self.cache = os.path.join(self.work, "cache")
        tok = os.path.join(self.fix, "tiny-a", "base")
        n = 512 if self.full else 128
        self.items = os.path.join(self.work, "items.jsonl")
        rc, so, se, dt = self.run("random model + items", [
            self.ccguard, "bench", "--tokenizer", tok, "--cache", self.cache, "--items", str(n),
            "--dump-items", self.items], timeout=600)
        if rc != 0:
            raise RuntimeError(se.strip()[-500:])
        self.model = os.path.join(self.cache, "bench-qwen3-1.7b-random", "base")
        self.adapter = os.path.join(self.cache, "bench-qwen3-1.7b-random", "adapter")
        self.constitution = os.path.join(self.cache, "bench-constitution.json")
        return {"items": n, "seconds_to_make": round(dt, 1)}

    def bench(self, quick):
        args = [self.ccguard, "bench", "--device", "cuda", "--compute", "bf16", "--json",
                "--tokenizer", os.path.join(self.fix, "tiny-a", "base"), "--cache", self.cache]
        args += ["--quick", "--items", "128"] if quick else ["--items", "512"]
        rc, so, se, _ = self.run("bench" + (" quick" if quick else ""), args, timeout=420)
        print(se[-3000:], flush=True)
        if rc != 0:
            raise RuntimeError(se.strip()[-800:])
        return json.loads(so.strip().splitlines()[-1])

    def stream_sessions(self):
        """`ccguard bench --stream` on the GPU: one session's append cost, then 16 concurrent
        sessions (their appends share forward passes; each last score must equal the one-shot one)."""
        res = {}
        for name, extra in [("single", []), ("sessions_16", ["--sessions", "16"])]:
            args = [self.ccguard, "bench", "--device", "cuda", "--compute", "bf16", "--json", "--stream",
                    "--tokenizer", os.path.join(self.fix, "tiny-a", "base"), "--cache", self.cache] + extra
            rc, so, se, _ = self.run(f"stream {name}", args, timeout=240)
            print(se[-2000:], flush=True)
            if rc != 0:
                raise RuntimeError(f"{name}: " + se.strip()[-800:])
            res[name] = json.loads(so.strip().splitlines()[-1])
        return res

    def ccguard_scores(self, compute, n):
        out = os.path.join(self.work, f"ccguard_{compute}.jsonl")
        rc, so, se, dt = self.run(f"score {compute}", [
            self.ccguard, "score", "--model", self.model, "--adapter", self.adapter,
            "--constitution", self.constitution, "--device", "cuda", "--compute", compute,
            "--batch-size", "4096"], timeout=300, stdin=self.items, stdout_file=out)
        if rc != 0:
            raise RuntimeError(se.strip()[-800:])
        scores = [json.loads(l) for l in open(out) if l.strip()]
        return {int(s["id"]): s for s in scores[:n]}, dt

    def prompts(self):
        out = os.path.join(self.work, "prompts.jsonl")
        rc, so, se, _ = self.run("dump prompts", [
            self.ccguard, "score", "--model", self.model, "--adapter", self.adapter,
            "--constitution", self.constitution, "--dump-prompt", "--batch-size", "4096"],
            timeout=120, stdin=self.items, stdout_file=out)
        if rc != 0:
            raise RuntimeError(se.strip()[-800:])
        return out

    def reference(self, mode, n):
        prompts = getattr(self, "prompt_file", None) or self.prompts()
        self.prompt_file = prompts
        out = os.path.join(self.work, f"ref_{mode}.jsonl")
        summary = os.path.join(self.work, f"ref_{mode}.json")
        self.env["PYTHONUNBUFFERED"] = "1"
        rc, so, se, _ = self.run(f"hf_reference {mode}", [
            sys.executable, os.path.join(REPO, "scripts", "hf_reference.py"), "--model", self.model,
            "--adapter", self.adapter, "--items", prompts, "--out", out, "--summary", summary,
            "--mode", mode, "--max-items", str(n)], timeout=420)
        if rc != 0:
            raise RuntimeError(se.strip()[-1500:])
        ref = {int(json.loads(l)["id"]): json.loads(l) for l in open(out) if l.strip()}
        return ref, json.load(open(summary))

    def compare(self, mode, n):
        ref, summary = self.reference(mode, n)
        res = {"reference": summary}
        if not hasattr(self, "scored"):
            self.scored = {c: self.ccguard_scores(c, n)[0] for c in ["bf16", "fp32"]}
        for compute, got in self.scored.items():
            common = sorted(set(got) & set(ref))
            dp = [abs(got[i]["p_unsafe"] - ref[i]["p_unsafe"]) for i in common]
            res[f"ccguard_{compute}_vs_{mode}"] = {
                "items": len(common),
                "max_abs_dp_unsafe": max(dp) if dp else None,
                "mean_abs_dp_unsafe": sum(dp) / len(dp) if dp else None,
                "max_abs_dlogprob_unsafe": max(abs(got[i]["logprob_unsafe"] - ref[i]["logprob_unsafe"])
                                               for i in common) if common else None}
        return res

    def main(self):
        log(f"bundle {self.bundle}, work {self.work}, stage {self.result['stage']}")
        env = self.step("environment", self.environment)
        if not env["ok"]:
            return 1
        if self.only:
            for name in self.only:
                self.step(name, getattr(self, name))
            return self.finish()
        self.step("gpu_tests", self.gpu_tests)
        self.step("cli_smoke", self.cli_smoke)
        self.step("serve", self.serve)
        rm = self.step("random_model", self.random_model)
        if rm["ok"]:
            n = 512 if self.full else 128
            b = self.step("bench", lambda: self.bench(not self.full))
            self.step("stream_sessions", self.stream_sessions)
            if not self.reference_runs:
                self.save()
                return self.finish()
            s = self.step(f"seed_{n}", lambda: self.compare("seed", n))
            if self.full:
                t = self.step(f"tuned_{n}", lambda: self.compare("tuned", n))
                if b["ok"] and s["ok"] and t["ok"]:
                    ips = b["classify"]["items_per_s_cached"]
                    seed_ips = s["reference"]["items_per_s"]
                    tuned_ips = t["reference"]["items_per_s"]
                    self.result["throughput"] = {
                        "items": n,
                        "ccguard_items_per_s": ips,
                        "seed_items_per_s": seed_ips,
                        "tuned_items_per_s": tuned_ips,
                        "ratio_vs_seed": ips / seed_ips,
                        "ratio_vs_tuned": ips / tuned_ips,
                        "prefill_8x1024_tok_per_s": b.get("prefill_batch", {}).get("tok_per_s_median"),
                        "latency_p50_ms": b["latency_ms"]["p50"]}
        return self.finish()

    def finish(self):
        self.save()
        steps = self.result["steps"]
        ok = all(s.get("ok") for s in steps.values()) and \
            steps.get("gpu_tests", {"all_passed": bool(self.only)}).get("all_passed", False)
        log(f"done in {time.time() - self.result['started']:.0f} s: {'all ok' if ok else 'SOME STEPS FAILED'}")
        return 0 if ok else 1


ONLY_STEPS = ("gpu_tests", "cli_smoke", "serve", "random_model", "stream_sessions")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", help="folder made by scripts/gpu-bundle.sh")
    ap.add_argument("out", help="JSON file to write")
    ap.add_argument("--full", action="store_true", help="add the full throughput runs")
    ap.add_argument("--only", help="run only these steps (comma-separated: gpu_tests, cli_smoke, serve, random_model, stream_sessions)")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the hf_reference.py runs (GPU tests and ccguard bench only)")
    a = ap.parse_args()
    for need in ["bin/ccguard", "bin/cuda_backend_test", "bin/decoder_model_cuda_test", "MANIFEST"]:
        if not os.path.exists(os.path.join(a.bundle, need)):
            print(f"gpu-check: {a.bundle}/{need} is missing: run scripts/gpu-bundle.sh here "
                  "(where nvcc is) and send the folder along", file=sys.stderr)
            return 2
    only = [s for s in (a.only or "").split(",") if s]
    for s in only:
        if s not in ONLY_STEPS:
            print(f"gpu-check: --only takes {', '.join(ONLY_STEPS)}; not {s}", file=sys.stderr)
            return 2
    if "stream_sessions" in only and "random_model" not in only[:only.index("stream_sessions")]:
        print("gpu-check: stream_sessions needs random_model before it", file=sys.stderr)
        return 2
    return Check(a.bundle, a.out, a.full, not a.no_reference, only).main()


if __name__ == "__main__":
    sys.exit(main())
