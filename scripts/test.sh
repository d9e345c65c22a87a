#!/usr/bin/env bash
# The whole test suite: formatting check, release build (warnings as errors)
# with unit, golden-parity and end-to-end tests, then the unit tests (label
# "unit": every GoogleTest program, golden parity included) again under
# AddressSanitizer + UndefinedBehaviorSanitizer (the "asan" preset: clang,
# -O1, one ctest test per program), in a build that also makes the libFuzzer
# targets; each of those then runs briefly on its seeds (10 s;
# scripts/fuzz.sh runs them long, from the -O2 "fuzz" preset).
#   scripts/test.sh            everything
#   scripts/test.sh --fast     release build and tests only (no sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
bash scripts/install-deps.sh

start=$SECONDS
phase() { echo "== $1 (at $((SECONDS - start)) s)"; }
echo "== clang-format"
files=$(git ls-files 'src/*.cc' 'src/*.h' 'tools/*.cc' 2>/dev/null || find src -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror $files

phase "release build and tests"
cmake --preset release >/dev/null
cmake --build --preset release -j"$jobs"
ctest --preset release

if [ "${1:-}" != "--fast" ]; then
  phase "ASan + UBSan build and tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$jobs" --target unit_tests fuzz_targets
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -L unit

  phase "libFuzzer targets (built above): a short run each"
  CCGUARD_FUZZ_PRESET=asan bash scripts/fuzz.sh 10
fi
echo "all tests passed (in $((SECONDS - start)) s)"
