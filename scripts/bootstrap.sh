#!/usr/bin/env bash
# Installs dependencies and builds the optimised `ccguard` binary into
# build/release/ccguard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target ccguard
echo "built: $(pwd)/build/release/ccguard"
