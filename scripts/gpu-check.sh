#!/usr/bin/env bash
# The one prepared check for a GPU window (see scripts/gpu_check.py):
#   scripts/gpu-check.sh BUNDLE OUT.json [--full]
# BUNDLE is the folder scripts/gpu-bundle.sh made (sent along with the
# working tree); everything measured goes to OUT.json. Exit status 0 when
# every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: scripts/gpu-check.sh BUNDLE OUT.json [--full]" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "gpu-check: python3 is needed" >&2; exit 2; }
exec python3 scripts/gpu_check.py "$@"
