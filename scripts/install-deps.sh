#!/usr/bin/env bash
# Installs the Debian 12 packages ccguard builds and tests with (idempotent).
set -euo pipefail
pkgs=(build-essential cmake pkg-config xz-utils git
      nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev libfmt-dev
      libcpp-httplib-dev zlib1g-dev libsnappy-dev libzstd-dev libcurl4-openssl-dev libssl-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang-format python3 patchelf
      clang libclang-rt-14-dev  # the libFuzzer targets (the "fuzz" preset)
      libdnnl-dev  # oneDNN: only tools/gemm_bench, the GEMM comparison of docs/performance.md
      chromium  # the report's browser test (tests/e2e/report_browser_test.py)
      slurm-wlm munge  # the local Slurm cluster of tests/e2e/slurm_test.py
      debootstrap)  # the container's runtime root filesystem (tests/e2e/rootfs_test.py)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the real clients of the end-to-end tests (tests/e2e/js);
# any install of them will do (Debian's, or NodeSource's that bundles npm).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The clients' npm packages, pinned by tests/e2e/js/package-lock.json.
js="$(dirname "$0")/../tests/e2e/js"
if [ ! -d "$js/node_modules/openai" ] || [ ! -d "$js/node_modules/playwright-core" ] ||
   [ ! -d "$js/node_modules/@duckdb/node-api" ] || [ ! -d "$js/node_modules/hyparquet-writer" ] ||
   [ ! -d "$js/node_modules/kubernetes-models" ]; then
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
