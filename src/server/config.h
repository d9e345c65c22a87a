// The service's configuration: model, constitutions, network, keys, limits.
//
// Set from a JSON file (flat keys, named like the `ccguard serve` flags with
// '_' for '-'; documented in docs/server.md) and then from flags, which
// override the file. Unknown keys are errors, so a typo never goes unnoticed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::server {

// One constitution to preload.
struct ConstitutionSpec {
  std::string name;  // empty: the file's own "name"
  std::string path;  // a built-in guard profile name or a file; empty: the embedded default
  std::optional<double> threshold;  // else the file's, else 0.5
};

struct ServerConfig {
  // Model: a folder or a Hugging Face repo id in the local cache (resolved by
  // the command before loading).
  std::string model = "Qwen/Qwen3-1.7B";
  // Empty: the published LoRA with the default model, none with another
  // (cli::DefaultAdapterFor, applied when the command resolves the folders).
  std::string adapter;
  bool no_adapter = false;
  bool hf_special_tokens = false;
  int threads = 0;  // compute threads; 0: all cores
  // auto | fp32 | bf16 | int8, and cpu | cuda | cuda:N: Service::Load parses
  // both into ModelOptions (ModelOptions::Parse).
  std::string compute = "auto";
  std::string device = "cpu";
  bool prefix_cache = true;
  // Decode the categories of flagged items where the guard profile names
  // them (Classifier::DecodeCategories): /v1/classify results get
  // "categories", /v1/moderations sets its categories from them.
  bool categories = false;

  // Constitutions; empty: the embedded default alone. The first is the
  // default unless `default_constitution` names another.
  std::vector<ConstitutionSpec> constitutions;
  std::string default_constitution;

  // Network.
  std::string host = "127.0.0.1";
  int port = 8080;          // 0: any free port (see port_file)
  std::string port_file;    // write the bound port here once listening
  int http_threads = 64;    // connections served concurrently
  int read_timeout_s = 30;  // socket read/write timeout
  int keep_alive_timeout_s = 5;
  // A request head (request line and headers) must arrive whole within this
  // many seconds of the connection (or of the previous response): slower
  // clients are cut (ConnectionWatchdog). Idle keep-alive time counts too.
  int head_timeout_s = 10;

  // Authentication: keys from a file and/or an environment variable.
  std::string api_keys_file;
  std::string api_keys_env = "CCGUARD_API_KEYS";
  std::vector<std::string>
      api_keys;                 // --api-key (flags only: never read from or written to a file)
  bool require_auth = false;    // refuse to start without keys
  bool public_metrics = false;  // serve /metrics without a key

  // Limits.
  int64_t max_body_bytes = 1 << 20;  // request body
  int64_t max_item_tokens = 8192;    // one item (prompt, exchange)
  int max_items_per_request = 64;    // /v1/classify items, /v1/moderations inputs
  int request_timeout_ms = 30000;    // from arrival to scored

  // Dynamic batching.
  int batch_window_us = 2000;    // wait this long for more items after the first
  int max_batch_items = 64;      // items per engine call
  int64_t max_batch_tokens = 0;  // new tokens per forward pass; 0: 2048 on cpu, 16384 on cuda
  int max_queue_items = 1024;    // waiting items beyond this: 429

  // Streaming sessions.
  int max_sessions = 256;
  double session_idle_timeout_s = 300;
  int64_t session_max_tokens = 8192;  // exchange tokens (prompt + response)
  // Keys/values all sessions hold together (bytes); past it, opens and
  // appends are answered 429 session_memory_full.
  int64_t session_max_kv_bytes = int64_t{4} << 30;
  // Host memory for sessions' keys/values made ready at start (CPU
  // backends): whole 2 MiB pages written once and kept for reuse
  // (kernels::HostPagePool), so that appends take no page faults and pages
  // of ended sessions go straight to new ones. At most session_max_kv_bytes.
  int64_t session_kv_reserve_bytes = 0;
  int max_event_streams = 16;  // concurrent GET .../events listeners

  // Access log: "-" stderr, "off", or a file (appended).
  std::string access_log = "-";
};

// Applies the keys of JSON object `j` to `config`; relative paths are taken
// relative to `base_dir`. `what` names the source in errors.
Status ApplyConfigJson(const Json& j, const std::string& base_dir, const std::string& what,
                       ServerConfig* config);
// Reads a config file and applies it to `config`.
Status ApplyConfigFile(const std::string& path, ServerConfig* config);
// Checks ranges and consistency.
Status ValidateConfig(const ServerConfig& config);

// The config as JSON (keys are not included, only where they come from).
Json ConfigToJson(const ServerConfig& config);

}  // namespace ccguard::server
