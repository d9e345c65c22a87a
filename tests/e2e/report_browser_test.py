#!/usr/bin/env python3
"""The evaluation report in a real browser: Debian's Chromium, headless, driven by playwright-core
(tests/e2e/js/report_check.mjs) at 1,200 px wide.

usage: report_browser_test.py CCGUARD_BINARY FIXTURES_DIR

`ccguard eval` runs the tiny fixture over a suite with a long dataset name (so the results table is
wider than the window); the DOM must show every table inside a horizontally scrolling wrapper
(nothing clipped: the wrapper scrolls to the last column, and the page itself is no wider than the
window), plots no wider than the page, datasets in suite order, and the provenance block naming the
version, model, constitution hash, compute, device, date and suite.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN, FIX = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
JS = os.path.join(HERE, "js")
CHROMIUM = os.environ.get("CCGUARD_CHROMIUM", "/usr/bin/chromium")
MODEL = ["--model", os.path.join(FIX, "tiny-a", "base"),
         "--adapter", os.path.join(FIX, "tiny-a", "adapter"), "--threads", "2"]
LONG = "xstest-" + "with-a-very-long-dataset-name-" * 6 + "end"


class ReportInChromiumTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for need, how in [(CHROMIUM, "the Debian package chromium"),
                          (os.path.join(JS, "node_modules", "playwright-core"),
                           "npm ci in tests/e2e/js")]:
            if not os.path.exists(need):
                raise AssertionError(f"{need} is missing: scripts/install-deps.sh installs {how}")
        cls.tmp = tempfile.mkdtemp()
        suite = {"threshold": 0.5, "seed": 7, "datasets": [
            {"name": "xstest", "kind": "xstest", "path": os.path.join(DATA, "xstest",
                                                                       "xstest_prompts.csv")},
            {"name": LONG, "kind": "xstest", "path": os.path.join(DATA, "xstest",
                                                                  "xstest_prompts.csv")},
            {"name": "aegis2-prompt", "kind": "aegis2-prompt",
             "path": os.path.join(DATA, "aegis2", "test.json")}]}
        cls.suite = os.path.join(cls.tmp, "suite.json")
        with open(cls.suite, "w") as f:
            json.dump(suite, f)
        cls.out = os.path.join(cls.tmp, "out")
        p = subprocess.run([BIN, "eval", "--suite", cls.suite, "--out", cls.out,
                            "--max-per-dataset", "6"] + MODEL, capture_output=True, timeout=600)
        if p.returncode != 0:
            raise AssertionError(f"eval exited {p.returncode}: {p.stderr.decode()[-2000:]}")
        p = subprocess.run(["node", os.path.join(JS, "report_check.mjs"),
                            os.path.join(cls.out, "report.html"), "1200", CHROMIUM],
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            raise AssertionError(f"node exited {p.returncode}: {p.stderr.decode()[-3000:]}")
        cls.dom = json.loads(p.stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_tables_scroll_instead_of_being_cut(self):
        d = self.dom
        self.assertEqual(d["inner_width"], 1200)
        self.assertLessEqual(d["page_scroll_width"], d["inner_width"])  # the page never overflows
        self.assertGreaterEqual(len(d["tables"]), 3)  # provenance, results, sweep
        for t in d["tables"]:
            self.assertTrue(t["wrapped"], t)
            self.assertIn(t["overflow_x"], ("auto", "scroll"), t)
            self.assertLessEqual(t["wrap_right"], d["inner_width"], t)
            self.assertGreaterEqual(t["wrap_scroll_width"], t["table_width"], t)  # nothing clipped
        results = d["tables"][1]
        # The long name makes the results table wider than the window: it scrolls.
        self.assertGreater(results["table_width"], results["wrap_client_width"], results)
        self.assertEqual(d["last_header_text"], "F1 95% CI")
        self.assertTrue(d["last_header_reachable"])

    def test_plots_fit_the_page(self):
        self.assertEqual(len(self.dom["svg_widths"]), 6)
        for w in self.dom["svg_widths"]:
            self.assertGreater(w, 250)
            self.assertLessEqual(w, self.dom["inner_width"])

    def test_suite_order_and_provenance(self):
        self.assertEqual(self.dom["section_titles"],
                         ["Provenance", "Data sources", "xstest", LONG, "aegis2-prompt"])
        rows = self.dom["provenance_rows"]
        with open(os.path.join(self.out, "run.json")) as f:
            run = json.load(f)
        self.assertEqual(rows["ccguard_version"], run["ccguard_version"])
        self.assertEqual(rows["constitution.sha256"], run["constitution"]["sha256"])
        self.assertEqual(rows["compute"], run["compute"])
        self.assertEqual(rows["device"], "cpu")
        self.assertEqual(rows["model.dir"], run["model"]["dir"])
        self.assertIn("model.revision", rows)
        self.assertEqual(rows["suite"], self.suite)
        self.assertRegex(rows["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        with open(os.path.join(self.out, "results.json")) as f:
            results = json.load(f)
        self.assertEqual(results["dataset_order"], ["xstest", LONG, "aegis2-prompt"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
