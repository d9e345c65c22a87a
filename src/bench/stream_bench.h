// Streaming output classification cost (`ccguard bench --stream`): a
// response of 600 tokens appended to a StreamSession in 30 chunks of 20
// tokens, against one 600-token prefill and against scoring the finished
// exchange once.
//
// Four timings per repeat (min and median over repeats are reported):
//   prefill       the 600 response tokens run from an empty cache in one
//                 forward pass (the acceptance baseline: "one 600-token
//                 prefill");
//   oneshot       Classifier::Score of the whole exchange, the production
//                 path (the constitution's prefix keys/values are cached, so
//                 it runs the prompt, the 600 response tokens and the
//                 closing template);
//   full_prefill  the same exchange run from an empty cache (every token);
//   session       OpenSession + 30 Append calls (each runs only the new
//                 tokens plus the closing template after the response).
// It also reports the tokens each path computes, per-append latency, and
// |Δ p_unsafe| between the last append and the one-shot score (<= 1e-5 in
// fp32). Table on stdout, or one JSON object:
//   {"model", "adapter", "threads", "compute", "backend", "repeats", "prompt_tokens",
//    "response_tokens", "chunks", "exchange_tokens", "prefix_tokens",
//    "computed_tokens": {"prefill", "oneshot", "full_prefill", "session"},
//    "prefill_ms" | "oneshot_ms" | "full_prefill_ms" | "session_ms": {"min", "median"},
//    "append_ms": {"p50", "max"},
//    "ratio_session_vs_prefill" | "ratio_session_vs_oneshot" |
//    "ratio_session_vs_full_prefill": {"min", "median"}, "max_abs_dp"}
#pragma once

#include <string>

#include "model/decoder_model.h"
#include "util/status.h"

namespace ccguard::bench {

struct StreamBenchOptions {
  std::string model_dir, adapter_dir;
  ModelOptions model;  // threads (0: all hardware threads), precision, device
  bool json = false;
  int repeats = 0;  // 0: 3
  // > 0: the concurrent form instead: `sessions` sessions, each in its own
  // thread, append a 600-token response in 30 chunks of 20 tokens at the
  // same time. One JSON object: {"compute", "backend", "threads", "sessions",
  // "response_tokens", "chunks", "appends", "forward_passes", "wall_s",
  // "appended_tok_per_s" (response tokens of all sessions / wall time),
  // "prefill_tok_per_s" (one 512-token prompt from an empty cache, same run),
  // "ratio_to_prefill", "append_latency_ms": {"p50", "p95"},
  // "max_abs_dp_session_vs_oneshot" (each session's last score against the
  // one-shot score of the exchange: 0, the same bits)}.
  int sessions = 0;
  // With sessions, on the CPU: host memory for the sessions' keys/values
  // made ready before they start (kernels::HostPagePool::Reserve), as
  // `serve` does with session_kv_reserve_bytes. < 0: what the sessions will
  // hold (their rows in 2 MiB pages, keys, values and packed blocks, every
  // layer); 0: none, caches grow into new memory during the run. Reported
  // as "kv_reserved_bytes".
  int64_t kv_reserve_bytes = -1;
};

// Progress goes to stderr, the results to stdout.
Status RunStreamBench(const StreamBenchOptions& options);

}  // namespace ccguard::bench
