#!/usr/bin/env python3
"""The OpenAI-compatible route driven by the official `openai` Node library.

usage: openai_client_test.py CCGUARD_BINARY FIXTURES_DIR

tests/e2e/js/openai_client.mjs calls `ccguard serve` with the library (installed from the npm
registry by scripts/install-deps.sh into tests/e2e/js/node_modules) and prints what the library
exposed: the moderation result, `request_id`, and for each refused request the error class,
`status`, `type`, `code`, `param` and `requestID`. This test checks those against the contract of
docs/server.md (Errors; /v1/moderations), and the access log's request ids against the headers.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_test  # noqa: E402 - its Server class (same arguments: BINARY FIXTURES_DIR)

JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
KEY = "sk-test-openai-client"


class OpenAiClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(JS, "node_modules", "openai")):
            raise AssertionError(
                f"the openai npm package is not installed in {JS}: run scripts/install-deps.sh "
                "(npm ci there)")
        cls.server = server_test.Server("--api-key", KEY)
        try:
            p = subprocess.run(["node", os.path.join(JS, "openai_client.mjs"),
                                f"http://127.0.0.1:{cls.server.port}/v1", KEY],
                               capture_output=True, timeout=300)
            if p.returncode != 0:
                raise AssertionError(f"node exited {p.returncode}: "
                                     f"{p.stderr.decode(errors='replace')[-3000:]}")
            cls.out = json.loads(p.stdout)
        except BaseException:
            cls.server.stop()
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.server.stop() == 0, cls.server.stderr_text()
        finally:
            cls.server.cleanup()

    def test_success_carries_a_request_id(self):
        ok = self.out["ok"]
        self.assertRegex(ok["request_id"], r"^req_[0-9a-f]{32}$")
        self.assertEqual(ok["request_id"], ok["header"])
        results = ok["result"]["results"]
        self.assertEqual(len(results), 2)
        for r in results:
            self.assertIsInstance(r["flagged"], bool)
            self.assertEqual(set(r["categories"]), set(server_test.OPENAI_CATEGORIES))
            self.assertEqual(set(r["category_applied_input_types"]),
                             set(server_test.OPENAI_CATEGORIES))
        # The client's own id comes back.
        self.assertEqual(self.out["echo"]["request_id"], "client-chosen-id-42")

    def check_error(self, name, cls, status, type_, code, param=None, needle=None):
        e = self.out[name]
        self.assertEqual(e["class"], cls, e)
        self.assertEqual(e["status"], status, e)
        self.assertEqual(e["type"], type_, e)
        self.assertEqual(e["code"], code, e)
        self.assertEqual(e["param"], param, e)
        self.assertRegex(e["request_id"] or "", r"^req_[0-9a-f]{32}$", e)
        if needle:
            self.assertIn(needle, e["message"])

    def test_errors_as_the_library_reads_them(self):
        self.check_error("auth", "AuthenticationError", 401, "authentication_error",
                         "unauthorized", needle="invalid API key")
        self.check_error("unknown_model", "BadRequestError", 400, "invalid_request_error",
                         "unknown_constitution", "model", "no-such-guard")
        self.check_error("unknown_field", "BadRequestError", 400, "invalid_request_error",
                         "invalid_request", "user", "unknown field 'user'")
        self.check_error("too_many", "APIError", 413, "invalid_request_error", "too_large",
                         "input", "limit is 64")
        self.check_error("bad_part", "BadRequestError", 400, "invalid_request_error",
                         "invalid_request", "input[1]", "image inputs")

    def test_access_log_names_each_request(self):
        ids = {r.get("request_id") for r in self.server.log_records()
               if r.get("event") == "request"}
        self.assertIn(self.out["ok"]["request_id"], ids)
        self.assertIn("client-chosen-id-42", ids)
        self.assertIn(self.out["auth"]["request_id"], ids)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
