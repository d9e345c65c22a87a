#!/usr/bin/env python3
"""Hostile input against the CLI, the loaders and the server (issue 15).

usage: hostile_test.py CCGUARD_BINARY FIXTURES_DIR

One regression test per way ccguard was once crashed, made to fail open, to
lose output or to grow memory before authentication:
  1. JSON nested 100,000 levels deep and numbers past a double (1e400) in JSON
     lines, request bodies, constitutions, config.json, adapter_config.json and
     `serve --config`: clear errors, never a crash;
  2. gzip bombs and endless chunked bodies against a server with keys: 401
     before the body is read, 413 at the limit, peak RSS bounded;
  3. NaN weights: an error for the item (CLI error line, exit 3; HTTP 500
     model_error, counted), never "safe"; a model that fails its load-time
     check never becomes ready;
  4. an empty API keys file or $CCGUARD_API_KEYS refuses to start;
  5. stdout that cannot be written (/dev/full) is an error for every command;
  6. made-up HTTP methods do not grow /metrics;
  7. a client trickling its request head is cut at the head deadline and does
     not hold up SIGTERM;
  8. literal content never becomes <think> (or any added token);
  9. the session keys/values cap (429), absurd config sizes, suite fields,
     blank lines, duplicate keys.
"""
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_test  # noqa: E402 - its Server class (same arguments: BINARY FIXTURES_DIR)

BIN, FIX = sys.argv[1], sys.argv[2]
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
DEEP = 100_000


def run(args, stdin=b"", env=None, timeout=300, stdout=subprocess.PIPE):
    p = subprocess.run([BIN] + args, input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=timeout, env=None if env is None else {**os.environ, **env})
    if p.returncode < 0:
        raise AssertionError(f"ccguard {args[0]} died with signal {-p.returncode}: "
                             f"{p.stderr.decode(errors='replace')[-2000:]}")
    return p


def deep_id_line():
    return ('{"id": ' + "[" * DEEP + "]" * DEEP + ', "prompt": "x"}').encode()


def copy_model(dst, base=BASE):
    shutil.copytree(base, dst)
    return dst


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    return header, data


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, off = {}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, _, _, raw in tensors:
            f.write(raw)


def tensors_of(path):
    header, data = read_safetensors(path)
    out = []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out.append([name, t["dtype"], t["shape"], bytearray(data[a:b])])
    return out


NAN_BF16 = b"\xc0\x7f"


def nan_model(dst):
    """tiny-a with a NaN final norm: every score is NaN."""
    copy_model(dst)
    path = os.path.join(dst, "model.safetensors")
    ts = tensors_of(path)
    for t in ts:
        if t[0] == "model.norm.weight":
            assert t[1] == "BF16"
            t[3] = bytearray(NAN_BF16 * (len(t[3]) // 2))
    write_safetensors(path, ts)
    return dst


def nan_row_model(dst, token):
    """tiny-a untied (lm_head = the embeddings), with a NaN embedding row for `token`: only
    items holding that token score NaN."""
    copy_model(dst)
    path = os.path.join(dst, "model.safetensors")
    ts = tensors_of(path)
    emb = next(t for t in ts if t[0] == "model.embed_tokens.weight")
    ts.append(["lm_head.weight", emb[1], emb[2], bytearray(emb[3])])
    row = emb[2][1] * 2
    emb[3][token * row:(token + 1) * row] = NAN_BF16 * emb[2][1]
    write_safetensors(path, ts)
    cfg_path = os.path.join(dst, "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["tie_word_embeddings"] = False
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    return dst


def token_ids(text):
    p = run(["tokenize", "--model", BASE], json.dumps({"text": text}).encode() + b"\n")
    return json.loads(p.stdout)["ids"]


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


class Server(server_test.Server):
    """server_test's `ccguard serve` process, with the calls these tests make."""

    def err(self):
        return self.stderr_text()

    def request(self, method, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read(), r
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, obj=None, raw=None, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        body = raw if raw is not None else json.dumps(obj).encode()
        status, data, _ = self.request("POST", path, body, h)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data


class CrashInputsTest(unittest.TestCase):
    """Point 1 (and 9: blank lines, duplicate keys) through the CLI."""

    def test_score_lines(self):
        lines = [deep_id_line(),
                 b'{"id": 2, "prompt": "a", "extra": [1e400]}',
                 b'',
                 b'{"id": 4, "prompt": "a", "prompt": "b"}',
                 b'{"id": 5, "prompt": "fine"}']
        p = run(["score", "--model", BASE, "--adapter", ADAPTER], b"\n".join(lines) + b"\n")
        self.assertEqual(p.returncode, 3, p.stderr.decode())
        out = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual(len(out), 5)  # output line i answers input line i
        self.assertIn("nested deeper than 64 levels", out[0]["error"])
        self.assertIn("number out of range", out[1]["error"])
        self.assertIn("line 3: blank line", out[2]["error"])
        self.assertIn('duplicate key "prompt"', out[3]["error"])
        self.assertIn("p_unsafe", out[4])

    def test_tokenize_lines(self):
        p = run(["tokenize", "--model", BASE], deep_id_line() + b"\n\n{\"text\": 1e999}\n")
        self.assertEqual(p.returncode, 3)
        out = [json.loads(l) for l in p.stdout.decode().splitlines()]
        self.assertEqual(len(out), 3)
        self.assertIn("nested deeper", out[0]["error"])
        self.assertIn("blank line", out[1]["error"])
        self.assertIn("out of range", out[2]["error"])

    def test_files(self):
        with tempfile.TemporaryDirectory() as d:
            cons = os.path.join(d, "c.json")
            with open(cons, "w") as f:
                f.write('{"name": "x", "threshold": 1e400}')
            p = run(["classify", "--model", BASE, "--adapter", ADAPTER, "--constitution", cons, "hi"])
            self.assertEqual(p.returncode, 1)
            self.assertIn("out of range", p.stderr.decode())
            with open(cons, "w") as f:
                f.write('{"policy": ' + "[" * DEEP + "]" * DEEP + "}")
            p = run(["classify", "--model", BASE, "--adapter", ADAPTER, "--constitution", cons, "hi"])
            self.assertEqual(p.returncode, 1)
            self.assertIn("nested deeper", p.stderr.decode())

            model = copy_model(os.path.join(d, "m"))
            with open(os.path.join(model, "config.json")) as f:
                cfg = f.read()
            with open(os.path.join(model, "config.json"), "w") as f:
                f.write(cfg.replace('"rms_norm_eps": 1e-06', '"rms_norm_eps": 1e400'))
            p = run(["classify", "--model", model, "--no-adapter", "hi"])
            self.assertEqual(p.returncode, 1)
            self.assertIn("config.json", p.stderr.decode())
            self.assertIn("out of range", p.stderr.decode())

            adapter = os.path.join(d, "a")
            shutil.copytree(ADAPTER, adapter)
            with open(os.path.join(adapter, "adapter_config.json")) as f:
                acfg = json.load(f)
            text = json.dumps(acfg).replace('"r": ', '"r": 1e400, "x": ', 1)
            with open(os.path.join(adapter, "adapter_config.json"), "w") as f:
                f.write(text)
            p = run(["classify", "--model", BASE, "--adapter", adapter, "hi"])
            self.assertEqual(p.returncode, 1)
            self.assertIn("adapter_config.json", p.stderr.decode())

            conf = os.path.join(d, "serve.json")
            with open(conf, "w") as f:
                f.write('{"max_sessions": 1e400}')
            p = run(["serve", "--model", BASE, "--adapter", ADAPTER, "--config", conf, "--port", "0"])
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("out of range", p.stderr.decode())

    def test_absurd_model_sizes(self):
        # Point 9: sizes refused by name before anything is allocated.
        with tempfile.TemporaryDirectory() as d:
            model = copy_model(os.path.join(d, "m"))
            for value in ["100000000", "1e8"]:
                with open(os.path.join(BASE, "config.json")) as f:
                    cfg = f.read()
                with open(os.path.join(model, "config.json"), "w") as f:
                    f.write(cfg.replace('"num_hidden_layers": 2', '"num_hidden_layers": ' + value))
                p = run(["classify", "--model", model, "--no-adapter", "hi"])
                self.assertEqual(p.returncode, 1, p.stderr.decode())
                self.assertIn("num_hidden_layers", p.stderr.decode())

    def test_suite_fields(self):
        # Point 9: a suite's fields are checked and errors name them.
        with tempfile.TemporaryDirectory() as d:
            data = os.path.abspath(os.path.join(DATA, "xstest", "xstest_prompts.csv"))
            good = {"kind": "xstest", "path": data}
            cases = [({"threshold": 5, "datasets": [good]}, "threshold must be in [0, 1]"),
                     ({"datasets": [{"kind": "xstest", "path": d}]}, "not a regular file"),
                     ({"datasets": [dict(good, kind="generic", format="csv", text_column=None)]},
                      "datasets[0].text_column must be a string, got null"),
                     ({"datasets": [dict(good, max_items=-3)]}, "max_items"),
                     ({"datasets": [dict(good, colum="x")]}, "colum is not a known field")]
            for i, (suite, needle) in enumerate(cases):
                path = os.path.join(d, f"suite{i}.json")
                with open(path, "w") as f:
                    json.dump(suite, f)
                p = run(["eval", "--model", BASE, "--adapter", ADAPTER, "--suite", path, "--out",
                         os.path.join(d, f"out{i}")])
                self.assertEqual(p.returncode, 1, (suite, p.stderr.decode()))
                self.assertIn(needle, p.stderr.decode())


class OutputLossTest(unittest.TestCase):
    """Point 5: output that cannot be written is never exit 0."""

    def test_dev_full(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with tempfile.TemporaryDirectory() as d:
            scores = os.path.join(d, "scores.jsonl")
            with open(scores, "w") as f:
                for i in range(40):
                    f.write(json.dumps({"dataset": "x", "id": str(i), "label":
                                        "unsafe" if i % 2 else "safe", "p_unsafe": i / 40,
                                        "n_tokens": 10}) + "\n")
            items = b"".join(json.dumps({"id": i, "prompt": f"item {i}"}).encode() + b"\n"
                             for i in range(300))
            commands = [
                (["score", "--model", BASE, "--adapter", ADAPTER], items),
                (["tokenize", "--model", BASE], b'{"text": "hello"}\n' * 300),
                (["classify", "--model", BASE, "--adapter", ADAPTER, "hi"], b""),
                (["classify", "--model", BASE, "--adapter", ADAPTER, "--json", "hi"], b""),
                (["calibrate", "--scores", scores], b""),
                (["metrics", "--scores", scores], b""),
            ]
            for args, stdin in commands:
                with open("/dev/full", "wb") as full:
                    p = run(args, stdin, stdout=full)
                self.assertNotEqual(p.returncode, 0, args)
                self.assertIn("cannot write to standard output", p.stderr.decode(), args)


class LiteralTest(unittest.TestCase):
    """Point 8: in content, every added token is text unless --hf-special-tokens."""

    def test_think_is_text(self):
        for text in ["<think>", "</think>", "<tool_call>", "<|fim_prefix|>"]:
            p = run(["tokenize", "--model", BASE, "--literal"],
                    json.dumps({"text": text}).encode() + b"\n")
            ids = json.loads(p.stdout)["ids"]
            self.assertTrue(all(i < 151643 for i in ids), (text, ids))
            p = run(["tokenize", "--model", BASE], json.dumps({"text": text}).encode() + b"\n")
            self.assertTrue(any(i >= 151643 for i in json.loads(p.stdout)["ids"]), text)


class NonFiniteTest(unittest.TestCase):
    """Point 3: a NaN never becomes a score."""

    def test_cli(self):
        with tempfile.TemporaryDirectory() as d:
            model = nan_model(os.path.join(d, "nan"))
            p = run(["score", "--model", model, "--no-adapter"],
                    b'{"id": 1, "prompt": "hello"}\n{"id": 2, "prompt": "bye"}\n')
            self.assertEqual(p.returncode, 3, p.stderr.decode())
            out = [json.loads(l) for l in p.stdout.decode().splitlines()]
            self.assertEqual(len(out), 2)
            for o in out:
                self.assertNotIn("label", o)
                self.assertIn("non-finite model output", o["error"])
            p = run(["classify", "--model", model, "--no-adapter", "hello"])
            self.assertNotEqual(p.returncode, 0)
            self.assertNotIn("safe", p.stdout.decode())

    def test_server_never_ready_with_a_nan_model(self):
        with tempfile.TemporaryDirectory() as d:
            model = nan_model(os.path.join(d, "nan"))
            # The load-time warm-up scores an item: the server stops instead of becoming ready.
            p = run(["serve", "--model", model, "--no-adapter", "--port", "0", "--access-log",
                     "off"], timeout=120)
            self.assertEqual(p.returncode, 1)
            self.assertIn("non-finite model output", p.stderr.decode())

    def test_server_item_error(self):
        ids = token_ids(" Zanzibar")
        with tempfile.TemporaryDirectory() as d:
            model = nan_row_model(os.path.join(d, "row"), ids[-1])
            s = Server(model=model, adapter=None)
            try:
                status, body = s.post("/v1/classify", {"prompt": "hello there"})
                self.assertEqual(status, 200, body)
                status, body = s.post("/v1/classify", {"prompt": "visit Zanzibar"})
                self.assertEqual(status, 500, body)
                self.assertEqual(body["error"]["code"], "model_error")
                self.assertIn("non-finite", body["error"]["message"])
                status, body = s.post("/v1/moderations", {"input": ["a", "Zanzibar"]})
                self.assertEqual(status, 500, body)
                status, sess = s.post("/v1/sessions", {"prompt": "tell me"})
                self.assertEqual(status, 201, sess)
                status, body = s.post(f"/v1/sessions/{sess['id']}/append",
                                      {"chunk": " Zanzibar"})
                self.assertEqual(status, 500, body)
                self.assertEqual(body["error"]["code"], "model_error")
                status, metrics, _ = s.request("GET", "/metrics")
                self.assertIn(b"ccguard_nonfinite_scores_total 3", metrics)
                self.assertEqual(s.stop(), 0)
            finally:
                s.cleanup()


class KeysTest(unittest.TestCase):
    """Point 4: no key must never mean authentication off by accident."""

    def test_empty_keys_refuse_to_start(self):
        with tempfile.TemporaryDirectory() as d:
            keys = os.path.join(d, "keys")
            with open(keys, "w") as f:
                f.write("# no keys yet\n\n")
            p = run(["serve", "--model", BASE, "--adapter", ADAPTER, "--api-keys-file", keys,
                     "--port", "0"], timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("holds no key", p.stderr.decode())
            p = run(["serve", "--model", BASE, "--adapter", ADAPTER, "--port", "0"],
                    env={"CCGUARD_API_KEYS": ""}, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("CCGUARD_API_KEYS", p.stderr.decode())


def gzip_bomb(inflated=1 << 30):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [c.compress(zeros) for _ in range(inflated >> 20)]
    parts.append(c.flush())
    return b"".join(parts)


def send_chunked(port, path, headers, total, chunk=1 << 20, method="POST"):
    """POSTs `total` bytes chunked on a raw socket until the server stops reading; returns the
    status line (b"" when none could be read)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        s.sendall(head.encode())
        frame = f"{chunk:x}\r\n".encode() + b'{"a":' + b"1" * (chunk - 6) + b"}" + b"\r\n"
        sent = 0
        try:
            while sent < total:
                s.sendall(frame)
                sent += chunk
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server stopped reading and closed: what we want
        try:
            return s.recv(4096).split(b"\r\n")[0]
        except OSError:
            return b""
    finally:
        s.close()


class BodiesBeforeAuthTest(unittest.TestCase):
    """Point 2: nothing is inflated or buffered past the limit, before or after auth."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(env={"CCGUARD_API_KEYS": "k1"})
        cls.bomb = gzip_bomb()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def test_gzip_and_chunked_floods(self):
        s = self.server
        base = peak_rss_kib(s.proc.pid)
        gz = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        for _ in range(4):  # unauthenticated: 401, nothing inflated
            status, body = s.post("/v1/classify", raw=self.bomb, headers=gz)
            self.assertEqual(status, 401, body)
        auth = dict(gz, Authorization="Bearer k1")
        for _ in range(2):  # authenticated: 413 at the limit of inflated bytes
            try:
                status, body = s.post("/v1/classify", raw=self.bomb, headers=auth)
                self.assertEqual(status, 413, body)
                self.assertIn("after decompression", body["error"]["message"])
            except (ConnectionError, http.client.HTTPException):
                pass  # answered before the upload ended, then closed
        for headers in ({}, {"Authorization": "Bearer k1"}):
            for _ in range(4):
                line = send_chunked(s.port, "/v1/classify", headers, 200 << 20)
                if line:
                    self.assertIn(b" 401 " if not headers else b" 413 ", line + b" ")
        # A compressed body must say how long it is.
        line = send_chunked(s.port, "/v1/classify", {"Content-Encoding": "gzip",
                                                      "Authorization": "Bearer k1"}, 1 << 20)
        self.assertIn(b" 411 ", line + b" ")
        grown_mib = (peak_rss_kib(s.proc.pid) - base) / 1024
        print(f"peak RSS grew {grown_mib:.0f} MiB over the floods", file=sys.stderr)
        self.assertLess(grown_mib, 150)
        status, _ = s.post("/v1/classify", {"prompt": "still fine"},
                           headers={"Authorization": "Bearer k1"})
        self.assertEqual(status, 200)

    def test_small_gzip_body_is_accepted(self):
        status, body = self.server.post(
            "/v1/classify", raw=gzip.compress(json.dumps({"prompt": "hello"}).encode()),
            headers={"Content-Encoding": "gzip", "Authorization": "Bearer k1"})
        self.assertEqual(status, 200, body)
        self.assertIn("p_unsafe", body)

    def test_bodies_of_other_methods_and_paths(self):
        # The library would buffer these bodies whole: they are answered unread.
        s = self.server
        auth = {"Authorization": "Bearer k1"}
        for method, path, code in [("POST", "/nowhere", b" 404 "), ("PUT", "/v1/classify", b" 405 "),
                                   ("DELETE", "/v1/sessions/abc", b" 404 ")]:
            line = send_chunked(s.port, path, auth, 20 << 20, method=method)
            if line:
                self.assertIn(code, line + b" ", (method, path))
        status, data, _ = s.request("GET", "/healthz", body=b"x" * 100,
                                    headers={"Content-Length": "100"})
        self.assertEqual(status, 400)
        self.assertIn(b"must not have a body", data)

    def test_method_flood_does_not_grow_metrics(self):
        # Point 6.
        s = self.server
        auth = {"Authorization": "Bearer k1"}
        before = len(s.get("/metrics", auth)[1])
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        for i in range(300):
            conn.request(f"M{i}X", "/v1/classify")
            conn.getresponse().read()
        conn.close()
        after = s.get("/metrics", auth)[1]
        self.assertNotIn(b"M17X", after)
        self.assertIn(b'method="other"', after)
        self.assertLess(len(after) - before, 4096)


class SlowClientTest(unittest.TestCase):
    """Point 7: a request head has a deadline; shutdown does not wait for a trickle."""

    def test_trickling_heads_are_cut(self):
        s = Server("--head-timeout-s", "1", "--http-threads", "4", "--max-event-streams", "2")
        try:
            socks = []
            for _ in range(8):  # twice the HTTP threads
                c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                c.sendall(b"POST /v1/classify HTTP/1.1\r\n")
                socks.append(c)
            stop = threading.Event()

            def trickle():
                while not stop.is_set():
                    for c in socks:
                        try:
                            c.send(b"X")
                        except OSError:
                            pass
                    time.sleep(0.2)

            t = threading.Thread(target=trickle, daemon=True)
            t.start()
            try:
                # The normal request waits in the queue behind the tricklers (longer than the
                # head deadline under load): a whole head waiting is never cut.
                t0 = time.time()
                status, body = s.post("/v1/classify", {"prompt": "a normal request"})
                waited = time.time() - t0
                self.assertEqual(status, 200, body)
                self.assertLess(waited, 20.0)  # cut after 1 s, not after the trickle ends
                time.sleep(1.5)
            finally:
                stop.set()
            closed = 0
            for c in socks:
                c.settimeout(2)
                try:
                    closed += c.recv(100) == b""
                except OSError:
                    closed += 1
            t.join()
            self.assertEqual(closed, len(socks))
            status, metrics, _ = s.request("GET", "/metrics")
            self.assertIn(b'ccguard_http_connections_cut_total{reason="head_timeout"}', metrics)
            # A new trickler, then SIGTERM: the exit does not wait for it.
            c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            c.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.2)
            t0 = time.time()
            self.assertEqual(s.stop(timeout=30), 0)
            self.assertLess(time.time() - t0, 15.0)  # not held by the trickler
            c.close()
            for c in socks:
                c.close()
        finally:
            s.cleanup()

    def test_endless_head_is_cut(self):
        s = Server()
        try:
            base = peak_rss_kib(s.proc.pid)
            c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            c.sendall(b"GET /")
            sent = 0
            try:
                while sent < (512 << 20):
                    c.sendall(b"a" * (1 << 20))
                    sent += 1 << 20
            except OSError:
                pass
            c.close()
            self.assertLess(sent, 512 << 20)
            self.assertLess((peak_rss_kib(s.proc.pid) - base) / 1024, 150)
            self.assertEqual(s.get("/healthz")[0], 200)
        finally:
            s.stop()
            s.cleanup()


def gauge(server, name):
    """The value of an unlabelled metric on /metrics, or None when it is not there."""
    status, metrics, _ = server.request("GET", "/metrics")
    if status != 200:
        return None
    for line in metrics.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class SessionMemoryTest(unittest.TestCase):
    """Point 9: the sessions' keys/values have a cap; past it opens and appends get 429."""

    def test_kv_cap(self):
        s = Server("--session-max-kv-bytes", "65536")
        try:
            status, a = s.post("/v1/sessions", {"prompt": "write a story"})
            self.assertEqual(status, 201, a)
            refused = None
            for i in range(200):
                status, body = s.post(f"/v1/sessions/{a['id']}/append", {"chunk": f" word{i}"})
                if status != 200:
                    refused = (status, body)
                    break
            self.assertIsNotNone(refused, "never refused")
            self.assertEqual(refused[0], 429, refused)
            self.assertEqual(refused[1]["error"]["code"], "session_memory_full")
            kv = gauge(s, "ccguard_session_kv_bytes")
            self.assertTrue(kv is not None and kv > 0, kv)
            # Closing the session frees its share.
            self.assertEqual(s.request("DELETE", f"/v1/sessions/{a['id']}")[0], 200)
            status, b = s.post("/v1/sessions", {"prompt": "again"})
            self.assertEqual(status, 201, b)
        finally:
            s.stop()
            s.cleanup()


class ReservedSessionPagesTest(unittest.TestCase):
    """--session-kv-reserve-bytes: pages made ready at start; sessions take them and give
    them back when they end."""

    def free_bytes(self, s):
        free = gauge(s, "ccguard_host_pages_free_bytes")
        self.assertIsNotNone(free, "no ccguard_host_pages_free_bytes")
        return free

    def test_reserve(self):
        reserve = 32 << 20
        s = Server("--session-kv-reserve-bytes", str(reserve))
        try:
            self.assertEqual(self.free_bytes(s), reserve)
            status, a = s.post("/v1/sessions", {"prompt": "write a story"})
            self.assertEqual(status, 201, a)
            for i in range(3):
                status, body = s.post(f"/v1/sessions/{a['id']}/append", {"chunk": f" word{i}"})
                self.assertEqual(status, 200, body)
            in_use = reserve - self.free_bytes(s)
            self.assertGreater(in_use, 0, "the session took no reserved page")
            self.assertEqual(in_use % (2 << 20), 0, in_use)  # whole 2 MiB pages
            self.assertEqual(s.request("DELETE", f"/v1/sessions/{a['id']}")[0], 200)
            self.assertEqual(self.free_bytes(s), reserve)  # all back, kept
        finally:
            s.stop()
            s.cleanup()


class ServerCrashInputsTest(unittest.TestCase):
    """Point 1 and 9 through HTTP: 400s naming the problem, the server alive."""

    def test_bodies(self):
        s = Server()
        try:
            for raw, needle in [(deep_id_line(), "nested deeper"),
                                (b'{"prompt": "a", "id": 1e400}', "out of range"),
                                (b'{"prompt": "a", "prompt": "b"}', 'duplicate key \\"prompt\\"')]:
                for path in ["/v1/classify", "/v1/moderations", "/v1/sessions"]:
                    status, body = s.post(path, raw=raw)
                    self.assertEqual(status, 400, (path, body))
                    self.assertIn(needle.replace('\\"', '"'), body["error"]["message"])
            self.assertEqual(s.get("/healthz")[0], 200)
        finally:
            self.assertEqual(s.stop(), 0)
            s.cleanup()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
