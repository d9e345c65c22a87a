#!/usr/bin/env python3
"""The container's runtime root filesystem, built offline from Debian packages, runs ccguard.

usage: rootfs_test.py CCGUARD_BINARY FIXTURES_DIR

deploy/container/build-rootfs.sh makes what the Containerfile's runtime stage holds (Debian 12
minbase plus deploy/container/runtime-packages.txt, user 10001, the binary) with debootstrap. In
that root filesystem, as the non-root user (chroot --userspec), this test runs `ccguard
--version`, `classify` (the same output as outside it) and a `serve` round trip (POST
/v1/classify from outside, SIGTERM, exit 0): the runtime package list is complete. A binary built
with the CUDA backend also links the CUDA toolkit's cuBLASLt, which is not a Debian package: its
folder is bind-mounted read-only at the same path (the GPU image brings it from NVIDIA's image).
Needs root and debootstrap; without them the test is skipped with the reason.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_test  # noqa: E402 - request() (same arguments: BINARY FIXTURES_DIR)

BIN, FIX = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "deploy", "container", "build-rootfs.sh")
USER = "--userspec=10001:10001"
# A binary with the CUDA backend links the toolkit's cuBLASLt (bind-mounted for chroot).
BIN_NEEDS_CUDA = "/usr/local/cuda" in subprocess.run(["ldd", BIN], capture_output=True,
                                                      text=True).stdout


def why_skip():
    if os.geteuid() != 0:
        return "debootstrap and chroot need root"
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed (scripts/install-deps.sh installs it)"
    return None


@unittest.skipIf(why_skip(), why_skip() or "")
class RootfsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ccguard_rootfs_")
        cls.root = os.path.join(cls.tmp, "rootfs")
        cls.mounts = []
        t = time.time()
        p = subprocess.run(["bash", SCRIPT, cls.root, BIN], capture_output=True, timeout=1200)
        if p.returncode != 0:
            raise AssertionError("build-rootfs.sh failed: " + p.stdout.decode()[-3000:] +
                                 p.stderr.decode()[-3000:])
        last = (p.stdout.decode().strip().splitlines() or [""])[-1]
        print(f"rootfs built in {time.time() - t:.0f} s: {last}", file=sys.stderr)
        # Libraries the binary finds through its RUNPATH outside Debian (the CUDA toolkit).
        out = subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            if len(parts) == 2 and parts[1].strip().startswith("/usr/local/cuda"):
                d = os.path.dirname(parts[1].split()[0])
                target = cls.root + d
                if target in cls.mounts:
                    continue
                os.makedirs(target, exist_ok=True)
                subprocess.run(["mount", "--bind", d, target], check=True)
                cls.mounts.append(target)
                subprocess.run(["mount", "-o", "remount,bind,ro", target], check=True)
        os.makedirs(os.path.join(cls.root, "models"))
        shutil.copytree(os.path.join(FIX, "tiny-a"), os.path.join(cls.root, "models", "tiny-a"))

    @classmethod
    def tearDownClass(cls):
        for m in reversed(cls.mounts):
            subprocess.run(["umount", m])
        if all(not os.path.ismount(m) for m in cls.mounts):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def chroot(self, *args, **kw):
        return subprocess.run(["chroot", USER, self.root] + list(args), capture_output=True,
                              timeout=300, **kw)

    def test_every_library_resolves_inside(self):
        p = subprocess.run(["chroot", self.root, "ldd", "/usr/local/bin/ccguard"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("not found", p.stdout)
        # Only Debian's files (and the bind-mounted toolkit): nothing from the build machine.
        for line in p.stdout.splitlines():
            if "=>" in line:
                path = line.split("=>")[1].split()[0]
                self.assertTrue(path.startswith(("/lib", "/usr/lib", "/usr/local/cuda")), line)

    def test_version_and_classify_as_the_non_root_user(self):
        p = self.chroot("/usr/local/bin/ccguard", "--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.decode().startswith("ccguard "))
        args = ["classify", "--threads", "2", "--json", "How do I kill a Python process?"]
        inside = self.chroot("/usr/local/bin/ccguard", *args, "--model", "/models/tiny-a/base",
                             "--adapter", "/models/tiny-a/adapter")
        self.assertEqual(inside.returncode, 0, inside.stderr)
        outside = subprocess.run([BIN] + args + ["--model", os.path.join(FIX, "tiny-a", "base"),
                                                 "--adapter", os.path.join(FIX, "tiny-a",
                                                                           "adapter")],
                                 capture_output=True, timeout=300)
        self.assertEqual(inside.stdout, outside.stdout)
        self.assertIn("p_unsafe", json.loads(inside.stdout))

    def test_serve_round_trip(self):
        port_file = os.path.join(self.root, "tmp", "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        proc = subprocess.Popen(
            ["chroot", USER, self.root, "/usr/local/bin/ccguard", "serve", "--model",
             "/models/tiny-a/base", "--adapter", "/models/tiny-a/adapter", "--threads", "2",
             "--port", "0", "--port-file", "/tmp/port"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 120
            port = None
            while time.time() < deadline and proc.poll() is None:
                text = ""
                if os.path.exists(port_file):
                    with open(port_file) as f:
                        text = f.read().strip()
                if text:
                    port = int(text)
                    break
                time.sleep(0.05)
            self.assertIsNotNone(port, "serve did not bind")
            while time.time() < deadline:
                if server_test.request(port, "GET", "/readyz")[0] == 200:
                    break
                time.sleep(0.1)
            status, _, body = server_test.request(port, "POST", "/v1/classify",
                                                  {"prompt": "hello there"})
            self.assertEqual(status, 200, body)
            self.assertIn("p_unsafe", json.loads(body))
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err.decode()[-2000:])

    @unittest.skipIf(shutil.which("podman") is None, "podman is not installed: the image is not "
                     "built from the root filesystem (the chroot tests above cover its contents)")
    def test_podman_builds_an_image_from_it(self):
        tag = "localhost/ccguard-rootfs-test:%d" % os.getpid()
        tar = subprocess.Popen(["tar", "-C", self.root, "--exclude=./usr/local/cuda", "-c", "."],
                               stdout=subprocess.PIPE)
        p = subprocess.run(["podman", "import", "--change", "USER=10001:10001", "--change",
                            'ENTRYPOINT ["/usr/local/bin/ccguard"]', "-", tag],
                           stdin=tar.stdout, capture_output=True, timeout=600)
        tar.stdout.close()
        tar.wait()
        try:
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            info = json.loads(subprocess.run(["podman", "image", "inspect", tag],
                                             capture_output=True, timeout=60).stdout)[0]
            self.assertEqual(info["Config"]["User"], "10001:10001")
            self.assertEqual(info["Config"]["Entrypoint"], ["/usr/local/bin/ccguard"])
            run = subprocess.run(["podman", "run", "--rm", tag, "--version"],
                                 capture_output=True, timeout=300)
            if run.returncode != 0 and b"OCI permission denied" in run.stderr:
                # Sandboxed machines may forbid what the OCI runtime needs (setrlimit, namespaces).
                print("podman built the image but cannot run containers here: " +
                      run.stderr.decode().strip()[-300:], file=sys.stderr)
            elif not BIN_NEEDS_CUDA:
                self.assertEqual(run.returncode, 0, run.stderr.decode())
                self.assertTrue(run.stdout.decode().startswith("ccguard "))
        finally:
            subprocess.run(["podman", "rmi", "-f", tag], capture_output=True, timeout=120)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
