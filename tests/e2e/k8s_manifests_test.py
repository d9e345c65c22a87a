#!/usr/bin/env python3
"""deploy/kubernetes: the manifests validate offline, and what they tell ccguard works.

usage: k8s_manifests_test.py CCGUARD_BINARY FIXTURES_DIR

Validation: tests/e2e/js/validate_k8s.mjs checks every document against the Kubernetes API's
OpenAPI schemas compiled into the kubernetes-models npm package (types, required fields, enums,
formats), with no cluster (kubectl --dry-run=client still needs one). Then the manifests are held
to ccguard itself: the ConfigMap's config.json and the Deployment's arguments are accepted by
`ccguard serve --print-config`; a server run from that config (the tiny model instead of the real
one, any free port) answers the probes' paths and exports the metric the autoscaler reads; the
grace period outlasts the longest request plus the preStop pause.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_test  # noqa: E402 - its Server class (same arguments: BINARY FIXTURES_DIR)

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(HERE, "js")
K8S = os.path.join(HERE, "..", "..", "deploy", "kubernetes")


def validate(*files):
    if not os.path.isdir(os.path.join(JS, "node_modules", "kubernetes-models")):
        raise AssertionError(f"kubernetes-models is not installed in {JS}: run "
                             "scripts/install-deps.sh (npm ci there)")
    p = subprocess.run(["node", os.path.join(JS, "validate_k8s.mjs")] + list(files),
                       capture_output=True, timeout=120)
    docs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    return p.returncode, docs, p.stderr.decode()


class K8sManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = sorted(os.path.join(K8S, f) for f in os.listdir(K8S) if f.endswith(".yaml"))
        cls.gpu_file = os.path.join(K8S, "gpu", "deployment.yaml")
        rc, cls.docs, err = validate(*cls.files, cls.gpu_file)
        cls.rc, cls.err = rc, err
        # The documents themselves, as JSON, for the checks below.
        p = subprocess.run(["node", "-e", """
            const {parseAllDocuments} = require('yaml');
            const fs = require('fs');
            const out = [];
            for (const f of process.argv.slice(1))
              for (const d of parseAllDocuments(fs.readFileSync(f, 'utf8'))) out.push(d.toJS());
            console.log(JSON.stringify(out));""", *cls.files],
                           capture_output=True, timeout=60, cwd=JS)
        assert p.returncode == 0, p.stderr.decode()
        cls.objs = {o["kind"]: o for o in json.loads(p.stdout)}
        p = subprocess.run(["node", "-e", """
            const {parse} = require('yaml');
            console.log(JSON.stringify(parse(require('fs').readFileSync(process.argv[1], 'utf8'))));""",
                            cls.gpu_file], capture_output=True, timeout=60, cwd=JS)
        assert p.returncode == 0, p.stderr.decode()
        cls.gpu = json.loads(p.stdout)
        cls.tmp = tempfile.mkdtemp(prefix="ccguard_k8s_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_manifest_validates(self):
        self.assertEqual(self.rc, 0, self.docs)
        self.assertEqual(sorted(d["kind"] for d in self.docs),
                         ["ConfigMap", "Deployment", "Deployment", "HorizontalPodAutoscaler",
                          "PersistentVolumeClaim", "PodDisruptionBudget", "Service"])
        for d in self.docs:
            self.assertEqual(d["errors"], [], d)

    def test_the_validator_rejects_a_broken_manifest(self):
        with open(os.path.join(K8S, "deployment.yaml")) as f:
            text = f.read()
        broken = os.path.join(self.tmp, "broken.yaml")
        with open(broken, "w") as f:
            f.write(text.replace("containerPort: 8080", "containerPort: eighty")
                        .replace("replicas: 2", "replicas: two"))
        rc, docs, _ = validate(broken)
        self.assertEqual(rc, 1)
        errors = " ".join(docs[0]["errors"])
        self.assertIn("containerPort", errors)
        self.assertIn("replicas", errors)
        unknown = os.path.join(self.tmp, "unknown.yaml")
        with open(unknown, "w") as f:
            f.write("apiVersion: v9\nkind: Gadget\nmetadata: {name: x}\n")
        rc, docs, _ = validate(unknown)
        self.assertEqual(rc, 1)
        self.assertIn("unknown apiVersion/kind", docs[0]["errors"][0])

    def serve_config(self):
        config = json.loads(self.objs["ConfigMap"]["data"]["config.json"])
        dep = self.objs["Deployment"]["spec"]["template"]["spec"]
        main = dep["containers"][0]
        self.assertEqual(main["args"][:3], ["serve", "--config", "/etc/ccguard/config.json"])
        mounts = {m["name"]: m["mountPath"] for m in main["volumeMounts"]}
        self.assertEqual(mounts["config"], "/etc/ccguard")
        self.assertTrue(config["api_keys_file"].startswith(mounts["keys"] + "/"))
        return config, dep, main

    def test_config_and_arguments_are_what_ccguard_serve_accepts(self):
        config, dep, main = self.serve_config()
        path = os.path.join(self.tmp, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        p = subprocess.run([BIN] + main["args"][:2] + [path, "--print-config"],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        effective = json.loads(p.stdout)
        self.assertEqual(effective["host"], "0.0.0.0")
        port = main["ports"][0]["containerPort"]
        self.assertEqual(effective["port"], port)
        # The main container never reaches the Hub; the init container fills the cache.
        env = {e["name"]: e.get("value") for e in main["env"]}
        self.assertEqual(env["HF_HUB_OFFLINE"], "1")
        init = dep["initContainers"][0]
        self.assertEqual(init["args"][0], "pull")
        self.assertEqual(init["args"][1:], [config["model"], config["adapter"]])
        # Grace: the longest request, then the preStop pause, fit in the termination grace.
        pause = int(main["lifecycle"]["preStop"]["exec"]["command"][1])
        self.assertGreater(dep["terminationGracePeriodSeconds"],
                           config["request_timeout_ms"] / 1000 + pause)

    def test_gpu_variant(self):
        spec = self.gpu["spec"]["template"]["spec"]
        main = spec["containers"][0]
        self.assertEqual(main["resources"]["limits"]["nvidia.com/gpu"], 1)
        self.assertEqual(main["args"][-2:], ["--device", "cuda"])
        cpu = self.objs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(main["readinessProbe"], cpu["readinessProbe"])
        self.assertEqual(self.gpu["spec"]["selector"], self.objs["Deployment"]["spec"]["selector"])
        config = json.loads(self.objs["ConfigMap"]["data"]["config.json"])
        path = os.path.join(self.tmp, "config-gpu.json")
        with open(path, "w") as f:
            json.dump(config, f)
        p = subprocess.run([BIN, "serve", "--config", path, "--device", "cuda", "--print-config"],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(json.loads(p.stdout)["device"], "cuda")

    def test_probes_and_autoscaler_metric_exist_in_a_running_server(self):
        config, dep, main = self.serve_config()
        # The same config with the tiny fixture model, loopback, no keys file.
        for k in ("model", "adapter", "api_keys_file", "require_auth", "host", "port"):
            config.pop(k, None)
        server = server_test.Server(config=config)
        try:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                path = main[probe]["httpGet"]["path"]
                self.assertEqual(server_test.request(server.port, "GET", path)[0], 200, probe)
            status, _, body = server_test.request(server.port, "GET", "/metrics")
            self.assertEqual(status, 200)
            hpa = self.objs["HorizontalPodAutoscaler"]
            names = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]
                     if m["type"] == "Pods"]
            self.assertEqual(names, ["ccguard_queue_depth"])
            for n in names:
                self.assertRegex(body.decode(), r"(?m)^%s(\{[^}]*\})? " % re.escape(n))
            self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"],
                             self.objs["Deployment"]["metadata"]["name"])
            svc = self.objs["Service"]["spec"]
            self.assertEqual(svc["sessionAffinity"], "ClientIP")
            self.assertEqual(svc["selector"],
                             self.objs["Deployment"]["spec"]["selector"]["matchLabels"])
            self.assertEqual(self.objs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
                             svc["selector"])
        finally:
            self.assertEqual(server.stop(), 0, server.stderr_text())
            server.cleanup()


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
