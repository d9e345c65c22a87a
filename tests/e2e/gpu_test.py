#!/usr/bin/env python3
"""End-to-end tests of the GPU plumbing that need no GPU.

usage: gpu_test.py CCGUARD_BINARY FIXTURES_DIR

- `--device` on the commands: a bad name, or CUDA where it cannot run, is a
  clear error (exit 1, one line naming the problem), never a crash.
- scripts/gpu-bundle.sh (when this build has the CUDA backend): the bundle has
  the three programs, RPATH $ORIGIN/../lib, no CUDA library, a MANIFEST, and
  stays under 40 MiB so that it travels to a GPU machine with the tree.
- scripts/gpu-check.sh refuses an incomplete bundle, naming what is missing.
scripts/hf_reference.py's own checks: tests/e2e/hf_reference_test.py.
The GPU tests themselves (cuda_backend_test, decoder_model_cuda_test) are
GoogleTest programs that skip, saying why, where no GPU is visible; the
GPU run is scripts/gpu-check.sh (see docs/performance.md).
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
BUILD = os.path.dirname(os.path.abspath(BIN))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")


def cuda_built():
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        return "CCGUARD_WITH_CUDA_BUILT:INTERNAL=ON" in f.read()


def gpu_visible():
    return cuda_built() and os.path.exists("/dev/nvidia0")


def run(args, stdin=None, timeout=120):
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout, input=stdin)
    if p.returncode < 0:
        raise AssertionError(f"ccguard crashed with signal {-p.returncode}: {p.stderr.decode()}")
    return p


class DeviceFlagTest(unittest.TestCase):
    def test_bad_device_name(self):
        p = run(["classify", "--model", BASE, "--adapter", ADAPTER, "--device", "gpu0", "hi"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("device 'gpu0' is not one of cpu, cuda, cuda:N", p.stderr.decode())

    def test_cuda_where_it_cannot_run(self):
        if gpu_visible():
            self.skipTest("a GPU is visible: the GPU tests cover --device cuda")
        for cmd in (["classify", "hi"], ["score"]):
            p = run([cmd[0], "--model", BASE, "--adapter", ADAPTER, "--device", "cuda",
                     "--compute", "bf16"] + cmd[1:], stdin=b'{"text": "x"}\n')
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            err = p.stderr.decode()
            self.assertRegex(err, r"built without CUDA|no usable CUDA device|no CUDA device")
            self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_int8_is_refused_on_cuda(self):
        if not cuda_built():
            self.skipTest("built without CUDA")
        p = run(["classify", "--model", BASE, "--no-adapter", "--device", "cuda:0", "--compute",
                 "int8", "hi"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("int8 is not available on CUDA", p.stderr.decode())

    def test_serve_validates_the_device(self):
        p = run(["serve", "--model", BASE, "--adapter", ADAPTER, "--device", "tpu", "--port", "0"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("device 'tpu'", p.stderr.decode())

    def test_bench_device_error(self):
        with tempfile.TemporaryDirectory() as cache:
            p = subprocess.run([BIN, "bench", "--model", BASE, "--adapter", ADAPTER, "--cache", cache,
                                "--quick", "--device", "cuda:7", "--compute", "bf16"],
                               capture_output=True, timeout=300)
        if gpu_visible():
            self.skipTest("a GPU is visible")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr.decode(), r"CUDA|cuda:7")

    def test_stream_bench_runs_where_it_is_told(self):
        # --stream once ignored --device and measured the CPU instead.
        if gpu_visible():
            self.skipTest("a GPU is visible: scripts/gpu-check.sh runs the stream bench there")
        for extra in ([], ["--sessions", "2"]):
            p = subprocess.run([BIN, "bench", "--model", BASE, "--adapter", ADAPTER, "--stream",
                                "--device", "cuda", "--compute", "bf16"] + extra,
                               capture_output=True, timeout=300)
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            self.assertRegex(p.stderr.decode(), r"built without CUDA|no usable CUDA device|no CUDA device")


class BundleTest(unittest.TestCase):
    def test_bundle_layout_and_size(self):
        if not cuda_built():
            self.skipTest("this build has no CUDA backend (CCGUARD_CUDA=OFF or no toolkit)")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "bundle")
            p = subprocess.run(["bash", os.path.join(REPO, "scripts", "gpu-bundle.sh"), out],
                               capture_output=True, timeout=900,
                               env={**os.environ, "CCGUARD_BUNDLE_BUILD": BUILD})
            self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
            size = sum(os.path.getsize(os.path.join(r, f))
                       for r, _, fs in os.walk(out) for f in fs)
            self.assertLessEqual(size, 40 * 1024 * 1024)
            for prog in ["ccguard", "cuda_backend_test", "decoder_model_cuda_test"]:
                path = os.path.join(out, "bin", prog)
                self.assertTrue(os.access(path, os.X_OK), prog)
                rpath = subprocess.run(["patchelf", "--print-rpath", path], capture_output=True,
                                       text=True).stdout.strip()
                self.assertEqual(rpath, "$ORIGIN/../lib")
            libs = os.listdir(os.path.join(out, "lib"))
            self.assertTrue(any(l.startswith("libpcre2") for l in libs), libs)
            for l in libs:
                self.assertIsNone(re.match(r"lib(cuda|cudart|cublas|c|m|stdc\+\+)\.", l), l)
            manifest = open(os.path.join(out, "MANIFEST")).read()
            self.assertIn("bin/ccguard", manifest)
            # The bundled program runs here with only the bundle's libraries
            # and the system's (and says what it is).
            v = subprocess.run([os.path.join(out, "bin", "ccguard"), "--version"],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stderr)
            self.assertIn("ccguard", v.stdout)

    def test_check_refuses_an_incomplete_bundle(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "bin"))
            p = subprocess.run(["bash", os.path.join(REPO, "scripts", "gpu-check.sh"), tmp,
                                os.path.join(tmp, "out.json")], capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertIn("bin/ccguard is missing: run scripts/gpu-bundle.sh", p.stderr.decode())
            p = subprocess.run(["bash", os.path.join(REPO, "scripts", "gpu-check.sh")],
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertIn("usage", p.stderr.decode())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
