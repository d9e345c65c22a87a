// `ccguard bench`: CPU performance of the classifier on a full-size model.
//
// Measures, with min/median over repeats: (a) raw prefill tokens/s and
// achieved GFLOP/s for 64, 256, 512 and 1024-token prompts; (b)
// classification items/s on a fixed workload (a ~900-token constitution plus
// contents of 10..400 tokens) with the prefix cache on and off, against the
// ideal speed-up (prefix + suffix) / suffix tokens (the cache-off run scores
// the same items on the same engine the way Classifier::ScoreTokens does with
// EngineOptions::prefix_cache false; on and off alternate by halves of the
// items, so both see the same share of a busy machine); (c) single-item latency
// p50/p95; (d) peak resident memory against the weight bytes; optionally the
// accuracy cost of bf16/int8 (max |Δ p_unsafe| against fp32). Prints a table,
// or with `json` one JSON object:
//   {"cpu", "threads", "compute" (and "weights", its old name), "backend", "load_s",
//    "prefill": [{"tokens", "tok_per_s_median", "tok_per_s_min", "gflops", "cpu_util"}],
//    "classify": {"items", "prefix_tokens", "mean_suffix_tokens", "ideal_speedup",
//                 "items_per_s_cached", "items_per_s_uncached", "speedup",
//                 "fraction_of_ideal", "compute", "max_abs_dp_cached_vs_uncached",
//                 "max_abs_dp_batched_vs_single" (each item alone against in its
//                 batch; both must be 0: scores do not depend on the path),
//                 "cpu_util_cached", "cpu_util_uncached"},
//    "latency_ms": {"p50", "p95"} (every item alone), "peak_rss_bytes", "weight_bytes",
//    "kv_peak_bytes", "workspace_bytes" (activations kept between passes), "rss_bound_bytes"
//    (1.15 x weights + keys/values at peak + workspace), "rss_within_bound",
//    "device", and on a GPU "prefill_batch": {"sequences", "tokens_each", "tok_per_s_median",
//    "tflops"}, "device_memory": {"weights_bytes", "weights_allocated_bytes",
//    "kv_peak_bytes", "kv_allocated_peak_bytes", "workspace_peak_bytes",
//    "weights_plus_kv_ratio"} (allocated / counted bytes),
//    "accuracy": {"items", "bf16", "int8": max |Δp_unsafe| against fp32, "bf16_mean",
//                 "int8_mean", "fp32_p_unsafe_range"}  (with `accuracy` only)}
// cpu_util is CPU time / (wall time * threads): below 1, other processes had
// part of the machine (rates then understate what the code does alone).
// Without a model folder it generates (once, then reuses) a random model with
// the exact Qwen3-1.7B shapes and a rank-16 LoRA on every linear layer
// (random_model.h); weights do not affect speed.
#pragma once

#include <string>

namespace ccguard::bench {

struct BenchOptions {
  std::string model_dir;         // empty: the random model under cache_dir (made if missing)
  std::string adapter_dir;       // with model_dir: its LoRA adapter, if any
  std::string tokenizer_dir;     // tokenizer.json + tokenizer_config.json for the random model
  std::string cache_dir;         // empty: $XDG_CACHE_HOME/ccguard, else ~/.cache/ccguard
  int threads = 0;               // 0: all hardware threads
  std::string compute = "auto";  // auto | fp32 | bf16 | int8 (ModelOptions::compute)
  bool json = false;             // one JSON object on stdout instead of the table
  int repeats = 0;               // prefill repeats; 0: 3 (quick: 2)
  bool accuracy = false;         // also load fp32/bf16/int8 models and compare p_unsafe
  // The reduced run, under 2 minutes on 2 idle cores: prompts of 256 and 512
  // tokens, 2 repeats, 16 items, 4 latency items (the full run: 64..1024
  // tokens, 3 repeats, 40 items, 12; about 4 minutes).
  bool quick = false;
  // Instead of the above, the streaming benchmark (stream_bench.h) on the
  // same model.
  bool stream = false;
  int sessions = 0;               // with stream: StreamBenchOptions::sessions
  int64_t kv_reserve_bytes = -1;  // with sessions: StreamBenchOptions::kv_reserve_bytes
  // Where the model runs (ModelOptions::device): "cpu", "cuda" or "cuda:N".
  // On a GPU the run adds a batched prefill (8 sequences x 1,024 tokens) and
  // the device memory by use.
  std::string device = "cpu";
  int items = 0;                 // classification items; 0: 40 (quick: 16)
  int64_t max_batch_tokens = 0;  // EngineOptions::max_batch_tokens; 0: the device's default
  // Write the classification workload (JSON Lines {"id", "prompt"}, the
  // items `ccguard score` reads, with the bench constitution beside it as
  // bench-constitution.json in the cache folder) to this file and stop.
  std::string dump_items;
};

// Runs the benchmark; progress goes to stderr, results to stdout. Returns the
// process exit code (0, or 1 after printing an error).
int RunBench(const BenchOptions& options);

}  // namespace ccguard::bench
