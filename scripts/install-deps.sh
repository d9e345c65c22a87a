#!/usr/bin/env bash
# Installs the Debian 12 packages ccguard builds and tests with (idempotent).
set -euo pipefail
pkgs=(build-essential cmake pkg-config xz-utils git
      nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcli11-dev libfmt-dev
      libcpp-httplib-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang-format python3 patchelf
      clang libclang-rt-14-dev  # the libFuzzer targets (the "fuzz" preset)
      libdnnl-dev)  # oneDNN: only tools/gemm_bench, the GEMM comparison of docs/performance.md
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
