#!/usr/bin/env bash
# Builds the libFuzzer targets (the "fuzz" preset: clang, ASan + UBSan) and
# runs each for SECONDS (default 600) with its dictionary and a corpus kept in
# build/<preset>/corpus/<target>/ (seeded from the fixtures). A finding stops
# that target with its crash file in build/<preset>/ and the script exits
# non-zero.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
# CCGUARD_FUZZ_PRESET=asan: the targets of the sanitizer build (scripts/test.sh
# builds them there with the unit tests); default: the fuzz preset (-O2).
preset=${CCGUARD_FUZZ_PRESET:-fuzz}
build=build/$preset
cmake --preset "$preset" >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_targets
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors_fuzz tokenizer_fuzz template_fuzz service_fuzz parquet_fuzz constitution_fuzz)
fix=$build/fixtures
status=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/$t-")
  case $t in
    safetensors_fuzz)
      cp -n "$fix"/tiny-a/adapter/adapter_model.safetensors "$corpus"/ 2>/dev/null || true
      args+=(-max_len=65536 -dict=src/weights/safetensors_fuzz.dict) ;;
    tokenizer_fuzz) args+=(-max_len=4096) ;;
    template_fuzz)
      for f in "$fix"/tokenizer/tokenizer_config.json; do
        [ -f "$f" ] && python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chat_template"], end="")' "$f" >"$corpus/qwen3.jinja" 2>/dev/null || true
      done
      args+=(-max_len=8192 -dict=src/jinja/template_fuzz.dict) ;;
    parquet_fuzz)
      cp -n tests/data/parquet/*.parquet "$corpus"/ 2>/dev/null || true
      args+=(-max_len=262144 -rss_limit_mb=2048) ;;
    constitution_fuzz)
      cp -n src/prompt/guards/*.json src/prompt/default_constitution.json "$corpus"/ 2>/dev/null || true
      args+=(-max_len=16384) ;;
    service_fuzz)
      printf '\x00{"prompt": "hi", "response": "ok", "id": [1, {"a": null}]}' >"$corpus/seed0"
      printf '\x01{"input": ["a", "b"]}' >"$corpus/seed1"
      args+=(-max_len=4096 -dict=src/server/service_fuzz.dict) ;;
  esac
  echo "== $t for $seconds s"
  rc=0
  "$build/$t" "${args[@]}" "$corpus" >"$build/$t.log" 2>&1 || rc=$?
  grep -E "^#[0-9]+ +DONE|^stat::number_of_executed_units|^stat::peak_rss_mb|==ERROR|^SUMMARY" \
    "$build/$t.log" || true
  if [ "$rc" != 0 ]; then
    echo "== $t: FINDING (exit $rc; see $build/$t.log)"
    status=1
  fi
done
exit $status
