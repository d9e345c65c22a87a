#!/usr/bin/env python3
"""End-to-end tests of `ccguard serve` on the tiny-a fixture, over HTTP on loopback.

usage: server_test.py CCGUARD_BINARY FIXTURES_DIR

Starts the real server on a free loopback port (--port 0 --port-file) and checks every
endpoint: /v1/classify (one item, batches, constitutions), /v1/moderations (the OpenAI
shape), streaming sessions (request/response, chunked NDJSON upload answered as Server-Sent
Events with an early answer at the stop chunk, the live event stream), /healthz, /readyz,
/metrics; the final streaming score against the one-shot score (the same bits); API keys on
and off; every kind of bad input answered with a 4xx and a JSON error body; limits (body,
tokens, items, sessions, idle timeout); the config file; graceful shutdown on SIGTERM; and a
bounded load test (CCGUARD_LOAD_CLIENTS clients, default 32, for CCGUARD_LOAD_SECONDS, default
30) with zero 5xx, zero transport errors and flat resident memory. The load numbers are
printed (requests/s, p50/p99 latency).
"""
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
BASE = os.path.join(FIX, "tiny-a", "base")
ADAPTER = os.path.join(FIX, "tiny-a", "adapter")
LOAD_CLIENTS = int(os.environ.get("CCGUARD_LOAD_CLIENTS", "32"))
LOAD_SECONDS = float(os.environ.get("CCGUARD_LOAD_SECONDS", "30"))

PROMPT = "Tell me about the history of chemistry."
CHUNKS = ["Chemistry ", "grew out of alchemy", ". Lavoisier", " named oxygen\n",
          "\nand hydrogen; ", "\U0001f642 the end."]
OPENAI_CATEGORIES = ["sexual", "sexual/minors", "harassment", "harassment/threatening", "hate",
                     "hate/threatening", "illicit", "illicit/violent", "self-harm",
                     "self-harm/intent", "self-harm/instructions", "violence",
                     "violence/graphic"]


class Server:
    """A `ccguard serve` process on a free loopback port."""

    def __init__(self, *args, env=None, config=None, ready=True, model=BASE, adapter=ADAPTER):
        self.dir = tempfile.mkdtemp(prefix="ccguard-serve-")
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "access.jsonl")
        cmd = [BIN, "serve", "--model", model] + (["--adapter", adapter] if adapter else
                                                   ["--no-adapter"])
        cmd += ["--threads", "2", "--port", "0", "--port-file", self.port_file,
                "--access-log", self.log]
        if config is not None:
            path = os.path.join(self.dir, "config.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(config, f)
            cmd += ["--config", path]
        cmd += list(args)
        full_env = dict(os.environ)
        full_env.pop("CCGUARD_API_KEYS", None)
        full_env.update(env or {})
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env=full_env)
        self.port = None
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ccguard serve exited {self.proc.returncode}: "
                                     f"{self.stderr_text()}")
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read())
                break
            time.sleep(0.02)
        if self.port is None:
            raise AssertionError("the server did not bind within 120 s")
        while ready and time.time() < deadline:
            try:
                if request(self.port, "GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        if ready:
            raise AssertionError("the server did not become ready within 120 s")

    def stderr_text(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def log_records(self):
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def stop(self, timeout=60):
        """SIGTERM, then the exit status (asserting it did not crash)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the server did not stop within %d s of SIGTERM" % timeout)
        self.stderr.close()
        if rc < 0:
            raise AssertionError(f"ccguard serve died with signal {-rc}: {self.stderr_text()}")
        return rc

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(port, method, path, body=None, headers=None, raw=None, timeout=120):
    """One request on a fresh connection: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def jrequest(port, method, path, body=None, **kw):
    """A request whose answer must be JSON: (status, parsed body, headers)."""
    status, headers, data = request(port, method, path, body, **kw)
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, data)
    return status, json.loads(data), headers


def read_response(sock):
    """Reads one complete HTTP response from `sock`: (status, headers, body)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        data = sock.recv(65536)
        if not data:
            raise AssertionError(f"connection closed before a response: {raw!r}")
        raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()

    def more():
        data = sock.recv(65536)
        if not data:
            raise AssertionError("connection closed inside a response body")
        return data

    if headers.get("transfer-encoding") == "chunked":
        out = b""
        while True:
            while b"\r\n" not in body:
                body += more()
            size_line, _, body = body.partition(b"\r\n")
            n = int(size_line, 16)
            while len(body) < n + 2:
                body += more()
            out, body = out + body[:n], body[n + 2:]
            if n == 0:
                return status, headers, out
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        body += more()
    return status, headers, body[:n]


def raw_exchange(port, data, timeout=30):
    """Sends raw bytes on a new connection and reads one response."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        return read_response(s)
    finally:
        s.close()


def sse_events(text):
    """[(event, data dict)] from Server-Sent Events text."""
    events = []
    for block in text.split("\n\n"):
        kind, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if kind is not None:
            events.append((kind, data))
    return events


def cli_scores(items):
    """Scores from `ccguard score` (the one-shot reference)."""
    stdin = "".join(json.dumps(i) + "\n" for i in items).encode()
    p = subprocess.run([BIN, "score", "--model", BASE, "--adapter", ADAPTER, "--threads", "2"],
                       input=stdin, capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr.decode()
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


class ServerTestCase(unittest.TestCase):
    server_args = ()
    server_env = None
    server_config = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(*cls.server_args, env=cls.server_env, config=cls.server_config)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.server.stop()
            assert rc == 0, f"exit status {rc}: {cls.server.stderr_text()}"
        finally:
            cls.server.cleanup()

    def assertError(self, status, body, want_status, want_type=None, needle=None):
        self.assertEqual(status, want_status, body)
        self.assertIsInstance(body, dict, body)
        self.assertIn("error", body)
        self.assertIsInstance(body["error"].get("message"), str)
        want_class = {401: "authentication_error", 403: "permission_error",
                      429: "rate_limit_error"}.get(
            want_status, "server_error" if want_status >= 500 else "invalid_request_error")
        self.assertEqual(body["error"].get("type"), want_class, body)
        self.assertIn("param", body["error"])
        if want_type:
            self.assertEqual(body["error"]["code"], want_type, body)
        if needle:
            self.assertIn(needle, body["error"]["message"])


class EndpointsTest(ServerTestCase):
    """Every endpoint on a default server (no keys)."""

    def test_health_ready_and_metrics(self):
        status, body, _ = jrequest(self.port, "GET", "/healthz")
        self.assertEqual((status, body["status"]), (200, "ok"))
        status, body, _ = jrequest(self.port, "GET", "/health")  # llama-server's and vLLM's name
        self.assertEqual((status, body["status"]), (200, "ok"))
        status, body, _ = jrequest(self.port, "GET", "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(body["constitutions"], ["ccguard-default"])
        # No --compute given: bf16 where the CPU has native BF16, else fp32.
        flags = open("/proc/cpuinfo").read()
        native = (" amx_bf16" in flags or " avx512_bf16" in flags) and \
            os.environ.get("CCGUARD_CPU_ISA") not in ("generic", "avx2")
        self.assertEqual(body["compute"], "bf16" if native else "fp32")
        self.assertIn(body["compute"], body["backend"])
        jrequest(self.port, "POST", "/v1/classify", {"prompt": "warm the metrics"})
        status, headers, data = request(self.port, "GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        text = data.decode()
        for name in ["ccguard_http_requests_total", "ccguard_http_request_duration_seconds_bucket",
                     "ccguard_tokens_total", "ccguard_queue_depth", "ccguard_sessions_active",
                     "ccguard_prefix_cache_hits_total", "ccguard_batch_items_bucket",
                     "process_resident_memory_bytes"]:
            self.assertIn(name, text)
        self.assertRegex(text, r'ccguard_http_requests_total\{route="/v1/classify",'
                               r'method="POST",status="200"\} [1-9]')
        self.assertRegex(text, r"ccguard_prefix_cache_hits_total [1-9]")
        # Every sample line is "name{labels} value" or "name value".
        for line in text.splitlines():
            if line and not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_]+(\{.*\})? [-+0-9.eInf]+$')

    def test_classify_one_item_matches_the_cli(self):
        items = [{"prompt": "How do I kill a Python process?"},
                 {"prompt": "hi", "response": "Hello! How can I help?"},
                 {"messages": [{"role": "user", "content": "hello"}]},
                 {"text": "raw text, scored as is"}]
        want = cli_scores(items)
        for item, w in zip(items, want):
            status, got, _ = jrequest(self.port, "POST", "/v1/classify", dict(item, id="x"))
            self.assertEqual(status, 200, got)
            for key in ["p_unsafe", "label", "threshold", "label_mass", "n_tokens"]:
                self.assertIn(key, got)
            self.assertEqual(got["id"], "x")
            self.assertEqual(got["n_tokens"], w["n_tokens"])
            self.assertEqual(got["p_unsafe"], w["p_unsafe"])  # the same bits as the CLI
            self.assertEqual(got["label"], w["label"])
            self.assertEqual(got["flagged"], got["p_unsafe"] >= got["threshold"])

    def test_classify_batch(self):
        items = [{"id": i, "prompt": f"question number {i}"} for i in range(10)]
        status, body, _ = jrequest(self.port, "POST", "/v1/classify", {"items": items})
        self.assertEqual(status, 200, body)
        self.assertEqual([r["id"] for r in body["results"]], list(range(10)))
        one = jrequest(self.port, "POST", "/v1/classify", items[3])[1]
        self.assertEqual(one["p_unsafe"], body["results"][3]["p_unsafe"])  # alone = batched
        self.assertTrue(all(r["cached_tokens"] > 0 for r in body["results"]))  # prefix cache

    def test_moderations_shape(self):
        status, body, _ = jrequest(self.port, "POST", "/v1/moderations",
                                   {"input": "I want to hurt someone", "model":
                                    "omni-moderation-latest"})
        self.assertEqual(status, 200, body)
        self.assertTrue(body["id"].startswith("modr-"))
        self.assertIsInstance(body["model"], str)
        self.assertEqual(len(body["results"]), 1)
        res = body["results"][0]
        self.assertIsInstance(res["flagged"], bool)
        self.assertEqual(sorted(res["categories"]), sorted(OPENAI_CATEGORIES))
        self.assertEqual(sorted(res["category_scores"]), sorted(OPENAI_CATEGORIES))
        mine = res["ccguard"]
        # The default constitution's openai_categories carry the verdict and p_unsafe.
        mapped = {"sexual/minors", "harassment", "hate", "illicit", "self-harm", "violence"}
        for k in OPENAI_CATEGORIES:
            self.assertEqual(res["categories"][k], k in mapped and res["flagged"], k)
            self.assertEqual(res["category_scores"][k], mine["p_unsafe"] if k in mapped else 0, k)
            self.assertEqual(res["category_applied_input_types"][k], ["text"], k)
        self.assertEqual(res["flagged"], mine["p_unsafe"] >= mine["threshold"])
        want = cli_scores([{"prompt": "I want to hurt someone"}])[0]
        self.assertEqual(mine["p_unsafe"], want["p_unsafe"])
        status, body, _ = jrequest(self.port, "POST", "/v1/moderations",
                                   {"input": ["a", {"type": "text", "text": "b"}, "c"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["results"]), 3)

    def open_session(self, prompt=PROMPT, **extra):
        status, body, headers = jrequest(self.port, "POST", "/v1/sessions",
                                         dict({"prompt": prompt}, **extra))
        self.assertEqual(status, 201, body)
        self.assertRegex(body["id"], r"^[0-9a-f]{32}$")
        self.assertEqual(headers["location"], "/v1/sessions/" + body["id"])
        return body["id"]

    def test_streaming_session_ends_at_the_one_shot_score(self):
        sid = self.open_session()
        last = None
        for i, chunk in enumerate(CHUNKS):
            status, last, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append",
                                       {"chunk": chunk})
            self.assertEqual(status, 200, last)
            self.assertEqual(last["chunk_index"], i)
            self.assertFalse(last["stop"])  # the default threshold is not crossed here
            self.assertLess(last["new_tokens"], 40)  # only the new tokens ran
        status, one, _ = jrequest(self.port, "POST", "/v1/classify",
                                  {"prompt": PROMPT, "response": "".join(CHUNKS)})
        self.assertEqual(last["p_unsafe"], one["p_unsafe"])  # session = one-shot, bit for bit
        self.assertEqual(last["n_tokens"], one["n_tokens"])
        status, state, _ = jrequest(self.port, "GET", f"/v1/sessions/{sid}")
        self.assertEqual((status, state["chunks"]), (200, len(CHUNKS)))
        self.assertEqual(state["response_bytes"], len("".join(CHUNKS).encode()))
        status, body, _ = jrequest(self.port, "DELETE", f"/v1/sessions/{sid}")
        self.assertEqual((status, body["closed"]), (200, True))
        status, body, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append", {"chunk": "x"})
        self.assertError(status, body, 410, "session_closed")

    def test_conversations_in_classify_and_sessions(self):
        """`messages` is judged under the constitution (one-shot and streamed); `chat` is the
        model's chat template alone."""
        earlier = [{"role": "user", "content": "Hi!"},
                   {"role": "assistant", "content": "Hello, how can I help?"}]
        turns = earlier + [{"role": "user", "content": PROMPT}]
        sid = jrequest(self.port, "POST", "/v1/sessions", {"messages": turns})[1]["id"]
        last = None
        for chunk in CHUNKS:
            status, last, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append",
                                       {"chunk": chunk})
            self.assertEqual(status, 200, last)
        answer = {"role": "assistant", "content": "".join(CHUNKS)}
        status, one, _ = jrequest(self.port, "POST", "/v1/classify", {"messages": turns + [answer]})
        self.assertEqual(status, 200, one)
        self.assertEqual(one["constitution"], "ccguard-default")
        self.assertEqual(last["p_unsafe"], one["p_unsafe"])  # streamed = one-shot, bit for bit
        self.assertEqual(last["n_tokens"], one["n_tokens"])
        lone = jrequest(self.port, "POST", "/v1/classify",
                        {"prompt": PROMPT, "response": answer["content"]})[1]
        self.assertGreater(one["n_tokens"], lone["n_tokens"])  # the earlier turns are in it
        # The constitution is in the prompt (hundreds of tokens), not only the 13 of the turn.
        chat = jrequest(self.port, "POST", "/v1/classify", {"chat": turns[-1:]})[1]
        short = jrequest(self.port, "POST", "/v1/classify", {"messages": turns[-1:]})[1]
        self.assertLess(chat["n_tokens"], 40)
        self.assertEqual(short["n_tokens"], jrequest(self.port, "POST", "/v1/classify",
                                                     {"prompt": PROMPT})[1]["n_tokens"])
        # A session's conversation must end with the user turn whose response streams.
        status, body, _ = jrequest(self.port, "POST", "/v1/sessions",
                                   {"messages": turns + [answer]})
        self.assertError(status, body, 400, "invalid_request", "must end with the user turn")
        self.assertEqual(body["error"]["param"], "messages")
        status, body, _ = jrequest(self.port, "POST", "/v1/sessions",
                                   {"messages": turns, "prompt": "p"})
        self.assertError(status, body, 400, "invalid_request", "exactly one of")

    def test_chunked_ndjson_upload_answers_server_sent_events(self):
        sid = self.open_session()

        def lines():
            for chunk in CHUNKS:
                yield (json.dumps({"chunk": chunk}) + "\n").encode()

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", f"/v1/sessions/{sid}/stream", body=lines(), encode_chunked=True,
                     headers={"Content-Type": "application/x-ndjson",
                              "Transfer-Encoding": "chunked"})
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        self.assertEqual(r.status, 200, text)
        self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
        events = sse_events(text)
        self.assertEqual([e for e, _ in events], ["score"] * len(CHUNKS) + ["done"])
        final = events[-2][1]
        one = jrequest(self.port, "POST", "/v1/classify",
                       {"prompt": PROMPT, "response": "".join(CHUNKS)})[1]
        self.assertEqual(final["p_unsafe"], one["p_unsafe"])
        self.assertEqual(events[-1][1]["chunks"], len(CHUNKS))
        self.assertFalse(events[-1][1]["stop"])

    def test_live_event_stream(self):
        sid = self.open_session()
        received = []
        got = threading.Event()

        def listen():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request("GET", f"/v1/sessions/{sid}/events")
            r = conn.getresponse()
            received.append(("status", r.status, r.getheader("Content-Type")))
            kind = None
            while True:
                line = r.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    received.append((kind, json.loads(line[6:])))
                    got.set()
                    if kind == "end":
                        break
            conn.close()

        t = threading.Thread(target=listen)
        t.start()
        time.sleep(0.3)
        jrequest(self.port, "POST", f"/v1/sessions/{sid}/append", {"chunk": "Once"})
        # Live: the event arrives while the session is still open.
        self.assertTrue(got.wait(10), "no event within 10 s of the append")
        jrequest(self.port, "POST", f"/v1/sessions/{sid}/append", {"chunk": " upon a time"})
        jrequest(self.port, "DELETE", f"/v1/sessions/{sid}")
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(received[0], ("status", 200, "text/event-stream"))
        kinds = [k for k, *_ in received[1:]]
        self.assertEqual(kinds, ["score", "score", "end"])
        self.assertEqual(received[2][1]["chunk_index"], 1)
        self.assertEqual(received[3][1]["reason"], "closed")

    def test_access_log_is_json_lines(self):
        jrequest(self.port, "GET", "/healthz")
        time.sleep(0.2)
        records = self.server.log_records()
        self.assertEqual(records[0]["event"], "listening")
        self.assertEqual(records[0]["host"], "127.0.0.1")
        reqs = [r for r in records if r["event"] == "request"]
        self.assertTrue(reqs)
        for r in reqs:
            for key in ["ts", "method", "path", "route", "status", "ms", "remote"]:
                self.assertIn(key, r)
            self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class BadInputTest(ServerTestCase):
    """Every bad input gets a 4xx and a JSON error body; the server lives on."""

    def check(self, method, path, want_status, want_type=None, body=None, raw=None,
              headers=None, needle=None):
        status, data, got = jrequest(self.port, method, path, body, raw=raw, headers=headers)
        self.assertError(status, data, want_status, want_type, needle)
        self.assertRegex(got.get("x-request-id", ""), r"^req_[0-9a-f]{32}$")
        return data

    def test_malformed_json(self):
        for raw in [b"{", b"", b"not json", b'{"prompt": "a",}', b"\x00\x01"]:
            self.check("POST", "/v1/classify", 400, "invalid_json", raw=raw)
        self.check("POST", "/v1/moderations", 400, "invalid_json", raw=b"[")
        self.check("POST", "/v1/sessions", 400, "invalid_json", raw=b"{'prompt': 1}")

    def test_invalid_utf8(self):
        self.check("POST", "/v1/classify", 400, "invalid_json", raw=b'{"prompt": "caf\xe9"}')
        self.check("POST", "/v1/moderations", 400, "invalid_json", raw=b'{"input": "\xff\xfe"}')
        sid = jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})[1]["id"]
        self.check("POST", f"/v1/sessions/{sid}/append", 400, "invalid_json",
                   raw=b'{"chunk": "\xc3"}')
        # An escaped lone surrogate is not valid UTF-8 either.
        self.check("POST", "/v1/classify", 400, raw=b'{"prompt": "\\ud800"}')

    def test_wrong_types_and_shapes(self):
        for body, needle in [([1, 2], "JSON object"), ("text", "JSON object"),
                             ({"prompt": 5}, "'prompt' must be a string"),
                             ({"prompt": "a", "response": ["b"]}, "'response' must be a string"),
                             ({"messages": "hi"}, "non-empty list"),
                             ({"messages": [{"role": "user"}]}, "'role' and 'content'"),
                             ({"prompt": "a", "text": "b"}, "exactly one of"),
                             ({}, "exactly one of"),
                             ({"items": {}}, "non-empty list"),
                             ({"items": [{"prompt": 1}]}, "items[0]"),
                             ({"prompt": "a", "constitution": 1}, "'constitution' must be"),
                             ({"prompt": "a", "constitution": ""}, "non-empty"),
                             # Unknown fields name themselves, single and batch.
                             ({"prompt": "a", "respnse": "b"}, "unknown field 'respnse'"),
                             ({"items": [{"prompt": "a"}, {"prompt": "b", "threshold": 0.1}]},
                              "items[1]: unknown field 'threshold'")]:
            self.check("POST", "/v1/classify", 400, body=body, needle=needle)
        for body, param in [({"prompt": "a", "respnse": "b"}, "respnse"),
                            ({"items": [{"prompt": "a"}, {"prompt": "b", "threshold": 0.1}]},
                             "items[1].threshold"),
                            ({"items": [{"prompt": "a"}, {"prompt": 1}]}, "items[1]"),
                            ({"items": [{"prompt": "a"}], "extra": 1}, "extra")]:
            got = self.check("POST", "/v1/classify", 400, "invalid_request", body=body)
            self.assertEqual(got["error"]["param"], param, got)
        for body in [{"input": 5}, {"input": []}, {"input": [{"type": "image_url"}]},
                     {"inputs": "a"}, {"input": "a", "model": 3}]:
            self.check("POST", "/v1/moderations", 400, body=body)
        self.check("POST", "/v1/moderations", 400, body={"input": "a", "user": "u1"},
                   needle="unknown field 'user'")
        for body in [{"prompt": 1}, {}, {"prompt": "a", "extra": True}]:
            self.check("POST", "/v1/sessions", 400, body=body)
        sid = jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})[1]["id"]
        for body in [{"chunk": 1}, {}, {"chunk": "a", "more": 1}, ["a"]]:
            self.check("POST", f"/v1/sessions/{sid}/append", 400, body=body)

    def test_unknown_constitution(self):
        self.check("POST", "/v1/classify", 400, "unknown_constitution",
                   body={"prompt": "a", "constitution": "nope"}, needle="ccguard-default")
        self.check("POST", "/v1/moderations", 400, "unknown_constitution",
                   body={"input": "a", "model": "nope"})
        self.check("POST", "/v1/sessions", 400, "unknown_constitution",
                   body={"prompt": "a", "constitution": "nope"})

    def test_oversize_inputs(self):
        # Body over the 1 MiB default: refused before parsing.
        self.check("POST", "/v1/classify", 413, "too_large",
                   raw=b'{"prompt": "' + b"a" * (1 << 21) + b'"}')
        # An item over the token limit (8192 by default).
        words = " ".join(f"w{i}" for i in range(9000))
        self.check("POST", "/v1/classify", 413, "too_large", body={"prompt": words},
                   needle="limit is 8192")
        # Too many items.
        self.check("POST", "/v1/classify", 413, "too_large",
                   body={"items": [{"prompt": "a"}] * 65})
        self.check("POST", "/v1/moderations", 413, "too_large", body={"input": ["a"] * 65})

    def test_routes_methods_and_sessions(self):
        self.check("GET", "/nope", 404, "not_found")
        self.check("POST", "/v1/classifyy", 404, "not_found", body={})
        self.check("GET", "/v1/classify", 405, "method_not_allowed")
        self.check("PUT", "/v1/sessions", 405, "method_not_allowed", body={})
        self.check("POST", "/v1/sessions/0123456789abcdef0123456789abcdef/append", 404,
                   "session_not_found", body={"chunk": "a"})
        self.check("DELETE", "/v1/sessions/nope", 404, "session_not_found")
        self.check("GET", "/v1/sessions/nope/events", 404, "session_not_found")

    def test_raw_protocol_errors(self):
        status, headers, body = raw_exchange(self.port, b"HELLO\r\n\r\n")
        self.assertEqual(status, 400)
        self.assertRegex(headers.get("x-request-id", ""), r"^req_[0-9a-f]{32}$")
        self.assertIn("error", json.loads(body))
        # Malformed chunked encoding on the streaming upload.
        sid = jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})[1]["id"]
        status, _, body = raw_exchange(
            self.port, f"POST /v1/sessions/{sid}/stream HTTP/1.1\r\nHost: x\r\n"
                       "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".encode())
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_request")
        # A bad NDJSON line ends the upload with 400; what was scored is listed.
        lines = b'{"chunk": "a"}\n{"chunk": 7}\n{"chunk": "b"}\n'
        status, data, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/stream", raw=lines,
                                   headers={"Content-Type": "application/x-ndjson"})
        self.assertError(status, data, 400, needle="line 2")
        self.assertEqual(data["chunks_scored"], 1)

    def test_still_alive(self):
        for _ in range(3):
            status, body, _ = jrequest(self.port, "POST", "/v1/classify", {"prompt": "ok"})
            self.assertEqual(status, 200)


class AuthTest(ServerTestCase):
    """API keys from a file and from the environment."""

    @classmethod
    def setUpClass(cls):
        cls.keys_dir = tempfile.mkdtemp()
        keys = os.path.join(cls.keys_dir, "keys.txt")
        with open(keys, "w") as f:
            f.write("# keys\nfile-key-0123456789\n")
        cls.server_args = ("--api-keys-file", keys, "--api-key", "flag-key-1", "--api-key",
                           "flag-key-2")
        cls.server_env = {"CCGUARD_API_KEYS": "env-key-a,env-key-b"}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.keys_dir, ignore_errors=True)

    def test_auth(self):
        self.assertEqual(request(self.port, "GET", "/healthz")[0], 200)
        self.assertEqual(request(self.port, "GET", "/readyz")[0], 200)
        for headers, want in [({}, 401), ({"Authorization": "Bearer wrong"}, 401),
                              ({"Authorization": "Basic ZmlsZS1rZXk="}, 401),
                              ({"Authorization": "Bearer file-key-012345678"}, 401),
                              ({"Authorization": "Bearer file-key-0123456789"}, 200),
                              ({"Authorization": "bearer env-key-b"}, 200),
                              ({"Authorization": "Bearer flag-key-2"}, 200)]:
            status, body, h = jrequest(self.port, "POST", "/v1/classify", {"prompt": "a"},
                                       headers=headers)
            self.assertEqual(status, want, (headers, body))
            if want == 401:
                self.assertError(status, body, 401, "unauthorized")
                self.assertEqual(h["www-authenticate"], 'Bearer realm="ccguard"')
        self.assertEqual(request(self.port, "GET", "/metrics")[0], 401)
        ok = {"Authorization": "Bearer env-key-a"}
        self.assertEqual(request(self.port, "GET", "/metrics", headers=ok)[0], 200)
        # /v1/models (as OpenAI lists models) needs a key too.
        self.assertEqual(request(self.port, "GET", "/v1/models")[0], 401)
        status, body, _ = jrequest(self.port, "GET", "/v1/models", headers=ok)
        self.assertEqual(status, 200)
        self.assertEqual(body["object"], "list")
        self.assertEqual([m["id"] for m in body["data"]], ["ccguard-default"])
        self.assertEqual(body["data"][0]["object"], "model")
        self.assertIs(body["data"][0]["default"], True)
        self.assertIn(body["compute"], ("fp32", "bf16", "int8"))
        # A session belongs to the key that opened it.
        sid = jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"}, headers=ok)[1]["id"]
        other = {"Authorization": "Bearer env-key-b"}
        status, body, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append",
                                   {"chunk": "a"}, headers=other)
        self.assertEqual(status, 404)
        status, body, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append",
                                   {"chunk": "a"}, headers=ok)
        self.assertEqual(status, 200)
        # The log names the key by index, never by value.
        time.sleep(0.2)
        with open(self.server.log) as f:
            text = f.read()
        self.assertNotIn("env-key-a", text)
        self.assertNotIn("file-key", text)
        self.assertIn('"key":1', text)

    def test_require_auth_without_keys_refuses_to_start(self):
        p = subprocess.run([BIN, "serve", "--model", BASE, "--no-adapter", "--port", "0",
                            "--require-auth", "--api-keys-env", "CCGUARD_NO_SUCH_VAR"],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no API key", p.stderr.decode())


def chunk_scores():
    """Per-chunk exchange scores of CHUNKS (one-shot, from the CLI)."""
    items, text = [], ""
    for c in CHUNKS:
        text += c
        items.append({"prompt": PROMPT, "response": text})
    return [o["p_unsafe"] for o in cli_scores(items)]


class LimitsAndStopTest(ServerTestCase):
    """A config file: two constitutions with their thresholds, small limits; the stop chunk."""

    @classmethod
    def setUpClass(cls):
        scores = chunk_scores()
        # The chunk after which the score first rises clearly above every earlier one; the
        # threshold sits halfway, so it is crossed first at that chunk.
        best_gap, cls.stop_chunk, cls.threshold = 0, None, None
        for k in range(1, len(scores)):
            gap = scores[k] - max(scores[:k])
            if gap > best_gap:
                best_gap, cls.stop_chunk = gap, k
                cls.threshold = max(scores[:k]) + gap / 2
        assert best_gap > 1e-3, f"scores never rise clearly on this model: {scores}"
        cls.server_config = {
            "_comment": "written by server_test.py",
            "constitutions": [{"name": "lenient", "threshold": 1.0},
                              {"name": "tripwire", "threshold": cls.threshold}],
            "max_sessions": 3, "session_idle_timeout_s": 0.6, "session_max_tokens": 800,
            "max_body_bytes": 8192, "max_items_per_request": 4, "public_metrics": True}
        super().setUpClass()

    def test_constitutions_from_config(self):
        status, body, _ = jrequest(self.port, "GET", "/readyz")
        self.assertEqual(body["constitutions"], ["lenient", "tripwire"])
        a = jrequest(self.port, "POST", "/v1/classify", {"prompt": "x"})[1]
        b = jrequest(self.port, "POST", "/v1/classify", {"prompt": "x", "constitution":
                                                         "tripwire"})[1]
        self.assertEqual((a["constitution"], a["threshold"]), ("lenient", 1.0))
        self.assertEqual((b["constitution"], b["threshold"]), ("tripwire", self.threshold))
        m = jrequest(self.port, "POST", "/v1/moderations", {"input": "x", "model": "tripwire"})[1]
        self.assertEqual(m["results"][0]["ccguard"]["constitution"], "tripwire")
        self.assertEqual(request(self.port, "GET", "/metrics")[0], 200)  # public_metrics

    def test_stop_at_the_first_chunk_crossing_the_threshold(self):
        sid = jrequest(self.port, "POST", "/v1/sessions",
                       {"prompt": PROMPT, "constitution": "tripwire"})[1]["id"]
        for i, chunk in enumerate(CHUNKS):
            status, r, _ = jrequest(self.port, "POST", f"/v1/sessions/{sid}/append",
                                    {"chunk": chunk})
            self.assertEqual(status, 200)
            self.assertEqual(r["stop"], i >= self.stop_chunk, (i, r))
            self.assertEqual(r["flagged"], r["p_unsafe"] >= self.threshold)
            if i >= self.stop_chunk:
                self.assertEqual(r["stop_chunk"], self.stop_chunk)
        jrequest(self.port, "DELETE", f"/v1/sessions/{sid}")

    def test_chunked_upload_is_answered_at_the_stop_chunk(self):
        """The server answers as soon as a chunk crosses, without waiting for the upload."""
        sid = jrequest(self.port, "POST", "/v1/sessions",
                       {"prompt": PROMPT, "constitution": "tripwire"})[1]["id"]
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        s.sendall(f"POST /v1/sessions/{sid}/stream HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                  .encode())
        answered_after = None
        for i, chunk in enumerate(CHUNKS):
            line = (json.dumps({"chunk": chunk}) + "\n").encode()
            s.sendall(b"%x\r\n%s\r\n" % (len(line), line))
            readable, _, _ = select.select([s], [], [], 10 if i == self.stop_chunk else 0.3)
            if readable:
                answered_after = i
                break
        self.assertEqual(answered_after, self.stop_chunk, "no early answer at the stop chunk")
        status, headers, body = read_response(s)  # while the upload is unfinished
        t0 = time.time()
        s.settimeout(10)
        self.assertEqual(s.recv(1), b"", "the connection stays open after the early answer")
        self.assertLess(time.time() - t0, 1.0, "the connection was not closed at once")
        s.close()
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/event-stream")
        self.assertEqual(headers.get("connection"), "close")
        events = sse_events(body.decode())
        self.assertEqual([e for e, _ in events], ["score"] * (self.stop_chunk + 1) + ["done"])
        self.assertTrue(events[-2][1]["stop"])
        self.assertTrue(events[-1][1]["stop"])
        self.assertEqual(events[-1][1]["stop_chunk"], self.stop_chunk)
        state = jrequest(self.port, "GET", f"/v1/sessions/{sid}")[1]
        self.assertEqual(state.get("chunks"), self.stop_chunk + 1, state)
        jrequest(self.port, "DELETE", f"/v1/sessions/{sid}")

    def test_session_limits(self):
        ids = [jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})[1]["id"]
               for _ in range(3)]
        status, body, headers = jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})
        self.assertError(status, body, 429, "too_many_sessions")
        self.assertIn("retry-after", headers)
        # Token limit (800): the chunk is refused, the session is unchanged.
        status, body, _ = jrequest(self.port, "POST", f"/v1/sessions/{ids[0]}/append",
                                   {"chunk": " ".join(["word"] * 300)})
        self.assertError(status, body, 413, "session_token_limit", "session limit is 800")
        self.assertEqual(jrequest(self.port, "GET", f"/v1/sessions/{ids[0]}")[1]["chunks"], 0)
        # Idle timeout (0.6 s): evicted, then a clear 410.
        time.sleep(2.0)
        status, body, _ = jrequest(self.port, "POST", f"/v1/sessions/{ids[1]}/append",
                                   {"chunk": "late"})
        self.assertError(status, body, 410, "session_expired", "idle timeout")
        self.assertEqual(jrequest(self.port, "POST", "/v1/sessions", {"prompt": "p"})[0], 201)

    def test_small_body_and_item_limits(self):
        status, body, _ = jrequest(self.port, "POST", "/v1/classify",
                                   raw=json.dumps({"prompt": "a" * 9000}).encode())
        self.assertError(status, body, 413, "too_large", "8192 bytes")
        status, body, _ = jrequest(self.port, "POST", "/v1/classify",
                                   {"items": [{"prompt": "a"}] * 5})
        self.assertError(status, body, 413, "too_large", "limit is 4")


class StartupTest(unittest.TestCase):
    """Clear errors and exit status 1 for unusable settings."""

    def run_serve(self, args, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([BIN, "serve"] + args, capture_output=True, timeout=120,
                              env=full_env)

    def test_bad_config_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.json")
            for text, needle in [('{"prot": 1}', "'prot': unknown key"),
                                 ('{"port": "x"}', "'port' must be an integer"),
                                 ("{", "malformed JSON"),
                                 ('{"max_body_bytes": 5}', "max_body_bytes must be in")]:
                with open(path, "w") as f:
                    f.write(text)
                p = self.run_serve(["--config", path, "--model", BASE, "--no-adapter"])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(needle, p.stderr.decode())
            p = self.run_serve(["--config", os.path.join(d, "missing.json")])
            self.assertEqual(p.returncode, 1)

    def test_missing_model_and_constitution(self):
        p = self.run_serve(["--model", "/nonexistent/model", "--no-adapter", "--port", "0"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent/model", p.stderr.decode())
        p = self.run_serve(["--model", BASE, "--no-adapter", "--port", "0",
                            "--constitution", "/nonexistent/c.json"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent/c.json", p.stderr.decode())

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            p = self.run_serve(["--model", BASE, "--no-adapter", "--port",
                                str(s.getsockname()[1])])
            self.assertEqual(p.returncode, 1)
            self.assertIn("cannot listen on 127.0.0.1:", p.stderr.decode())
        finally:
            s.close()

    def test_print_config_merges_file_and_flags(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c.json")
            with open(path, "w") as f:
                json.dump({"port": 9000, "max_sessions": 7, "constitutions": ["x.json"]}, f)
            p = self.run_serve(["--config", path, "--port", "9001", "--print-config"])
            self.assertEqual(p.returncode, 0, p.stderr)
            c = json.loads(p.stdout)
            self.assertEqual((c["port"], c["max_sessions"], c["host"]), (9001, 7, "127.0.0.1"))
            self.assertEqual(c["constitutions"][0]["path"], os.path.join(d, "x.json"))


class ShutdownTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_requests(self):
        # Requests wait 0.5 s in the batcher, so one is surely in flight at SIGTERM.
        server = Server("--batch-window-us", "500000")
        try:
            results = []

            def call():
                results.append(jrequest(server.port, "POST", "/v1/classify",
                                        {"prompt": "in flight"})[0])

            threads = [threading.Thread(target=call) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            t0 = time.time()
            server.proc.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(30)
            rc = server.stop()
            self.assertEqual(rc, 0, server.stderr_text())
            self.assertLess(time.time() - t0, 15)
            self.assertEqual(results, [200] * 4)
            with self.assertRaises(OSError):
                request(server.port, "GET", "/healthz", timeout=2)
            events = [r["event"] for r in server.log_records()]
            self.assertEqual(events[-1], "shutdown")
            self.assertIn("ready", events)
            self.assertEqual(sum(1 for r in server.log_records()
                                 if r.get("route") == "/v1/classify" and r["status"] == 200), 4)
        finally:
            server.cleanup()


class LoadTest(unittest.TestCase):
    """LOAD_CLIENTS concurrent keep-alive clients for LOAD_SECONDS: classify (single and
    batches), moderations and streaming sessions. Zero 5xx, zero transport errors, no crash,
    resident memory flat after warm-up."""

    def test_load(self):
        server = Server()
        try:
            stop_at = time.time() + LOAD_SECONDS
            warm_until = time.time() + min(8.0, LOAD_SECONDS / 3)
            lock = threading.Lock()
            latencies, statuses, errors = [], {}, []
            rss = {}

            def client(seed):
                rng = random.Random(seed)
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)

                def call(method, path, body):
                    data = json.dumps(body).encode() if body is not None else None
                    t0 = time.perf_counter()
                    try:
                        conn.request(method, path, body=data,
                                     headers={"Content-Type": "application/json"})
                        r = conn.getresponse()
                        payload = r.read()
                    except (OSError, http.client.HTTPException) as e:
                        conn.close()
                        with lock:
                            errors.append(f"{method} {path}: {e!r}")
                        return None, None
                    dt = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt)
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                    return r.status, json.loads(payload) if payload else None

                while time.time() < stop_at:
                    op = rng.random()
                    n = rng.randrange(1000)
                    if op < 0.45:
                        call("POST", "/v1/classify", {"prompt": f"question {n}: how do I {n}?"})
                    elif op < 0.60:
                        call("POST", "/v1/classify",
                             {"items": [{"prompt": f"q{n + i}", "response": "an answer"}
                                        for i in range(4)]})
                    elif op < 0.75:
                        call("POST", "/v1/moderations", {"input": [f"text {n}", "more"]})
                    elif op < 0.80:
                        call("POST", "/v1/classify", {"prompt": 5})  # a 400, on purpose
                    else:
                        status, body = call("POST", "/v1/sessions", {"prompt": f"story {n}"})
                        if status == 201:
                            sid = body["id"]
                            for c in ["Once upon", " a time", " there was", " a guard."]:
                                call("POST", f"/v1/sessions/{sid}/append", {"chunk": c})
                            call("DELETE", f"/v1/sessions/{sid}", None)
                conn.close()

            def sampler():
                while time.time() < warm_until:
                    time.sleep(0.05)
                rss["warm"] = server.rss_kib()
                peak = rss["warm"]
                while time.time() < stop_at:
                    peak = max(peak, server.rss_kib())
                    time.sleep(0.25)
                rss["peak"] = peak

            threads = [threading.Thread(target=client, args=(i,)) for i in range(LOAD_CLIENTS)]
            st = threading.Thread(target=sampler)
            t0 = time.time()
            for t in threads + [st]:
                t.start()
            for t in threads + [st]:
                t.join(LOAD_SECONDS + 120)
            elapsed = time.time() - t0
            rss["end"] = server.rss_kib()
            metrics = request(server.port, "GET", "/metrics")[2].decode()
            rc = server.stop()

            latencies.sort()
            n = len(latencies)
            p50 = latencies[n // 2] * 1e3
            p99 = latencies[min(n - 1, int(n * 0.99))] * 1e3
            batch = re.search(r"ccguard_batch_items_sum ([0-9.e+]+)\n"
                              r"ccguard_batch_items_count ([0-9]+)", metrics)
            mean_batch = float(batch.group(1)) / max(1, int(batch.group(2))) if batch else 0
            print(f"\nload: {LOAD_CLIENTS} clients, {elapsed:.1f} s, {n} requests, "
                  f"{n / elapsed:.1f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                  f"statuses {dict(sorted(statuses.items()))}, mean batch {mean_batch:.2f} items, "
                  f"RSS warm {rss['warm'] / 1024:.1f} MiB, peak {rss['peak'] / 1024:.1f} MiB, "
                  f"end {rss['end'] / 1024:.1f} MiB", flush=True)
            self.assertEqual(rc, 0, server.stderr_text())
            self.assertEqual(errors, [])
            self.assertFalse(any(s >= 500 for s in statuses), statuses)
            self.assertTrue(set(statuses) <= {200, 201, 400}, statuses)
            self.assertGreater(n, LOAD_CLIENTS * 10)
            # Flat memory: at the end at most 10% (+16 MiB of allocator slack) above the
            # post-warm-up level (nothing accumulates). The peak is bounded more loosely: a
            # batch's activation buffers are mapped while it runs and returned to the system
            # after it (ccguard sets M_MMAP_THRESHOLD), so samples taken between batches
            # read lower than samples taken during one.
            limit = rss["warm"] * 1.10 + 16 * 1024
            self.assertLess(rss["end"], limit, rss)
            self.assertLess(rss["peak"], rss["warm"] * 1.5 + 16 * 1024, rss)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
