// ccguard serve: the HTTP guard service (src/server/, docs/server.md).
//
// Settings come from the defaults, then --config FILE (JSON), then flags.
// Exit status: 0 after a graceful shutdown (SIGTERM, SIGINT), 1 when the
// configuration, the port or the model is unusable (the message says which).
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <ctime>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/loader.h"
#include "kernels/kernels.h"
#include "server/server.h"

namespace ccguard::cli {

struct ServeFlags {
  std::string config;
  bool print_config = false;
  std::optional<std::string> model, adapter;
  bool no_adapter = false;
  std::vector<std::string> constitutions;
  std::optional<std::string> default_constitution;
  std::optional<double> threshold;
  bool hf_special_tokens = false;
  bool categories = false;
  std::optional<int> threads;
  std::optional<std::string> compute, device;
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> port_file, api_keys_file, api_keys_env, access_log;
  bool require_auth = false, public_metrics = false;
  std::vector<std::string> api_keys;
  std::optional<int64_t> max_body_bytes, max_item_tokens, session_max_tokens, max_batch_tokens,
      session_max_kv_bytes, session_kv_reserve_bytes;
  std::optional<int> max_items_per_request, request_timeout_ms, batch_window_us, max_batch_items,
      max_queue_items, max_sessions, http_threads, max_event_streams, read_timeout_s,
      head_timeout_s;
  std::optional<double> session_idle_timeout_s;
};

CLI::App* AddServeCommand(CLI::App* app, std::shared_ptr<ServeFlags>* flags) {
  *flags = std::make_shared<ServeFlags>();
  ServeFlags& f = **flags;
  auto* cmd = app->add_subcommand(
      "serve", "Run the HTTP guard service (classify, moderations, streaming sessions)");
  cmd->add_option("--config", f.config, "JSON config file (flags override it; docs/server.md)");
  cmd->add_flag("--print-config", f.print_config, "Print the effective configuration and exit");
  cmd->add_option("-m,--model", f.model,
                  "Model folder or Hugging Face repo id[@revision] (default: " +
                      server::ServerConfig().model + ")");
  auto* adapter = cmd->add_option("--adapter", f.adapter, "PEFT LoRA adapter folder or repo id");
  cmd->add_flag("--no-adapter", f.no_adapter, "Serve the base model alone")->excludes(adapter);
  cmd->add_option("--guard,--constitution", f.constitutions,
                  "Guard profile or constitution to preload, [NAME=]PROFILE (a built-in name "
                  "or a file); repeat for several (default: the profile made for --model, "
                  "else the embedded constitution)");
  cmd->add_option("--default-constitution", f.default_constitution,
                  "Constitution used when a request names none (default: the first)");
  cmd->add_option("--threshold", f.threshold,
                  "Flag threshold for every preloaded constitution (per constitution: in the "
                  "config file)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--hf-special-tokens", f.hf_special_tokens,
                "Parse special tokens inside content, as Hugging Face does");
  cmd->add_flag("--categories", f.categories,
                "Decode the categories of flagged items for guards that name them "
                "(/v1/classify \"categories\"; /v1/moderations categories from them)");
  cmd->add_option(
         "--threads", f.threads,
         "Compute threads (0: the CPUs this process may use: affinity mask and cgroup quota)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compute", f.compute,
                  "Matrix arithmetic: auto (default: bf16 on CUDA and on CPUs with native BF16, "
                  "else fp32; here " +
                      kernels::DefaultCpuPrecisionNote() + "), fp32, bf16 or int8")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "int8"}));
  cmd->add_option("--device", f.device, "Where the model runs: cpu (default), cuda or cuda:N");
  cmd->add_option("--host", f.host, "Address to bind (default 127.0.0.1, loopback only)");
  cmd->add_option("--port", f.port, "Port (default 8080; 0: any free port, see --port-file)");
  cmd->add_option("--port-file", f.port_file, "Write the bound port to this file");
  cmd->add_option("--api-keys-file", f.api_keys_file, "File of API keys, one per line");
  cmd->add_option("--api-key", f.api_keys,
                  "An API key (repeatable; as llama-server and vLLM take it; visible to other "
                  "users in the process list: prefer --api-keys-file or $CCGUARD_API_KEYS)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--api-keys-env", f.api_keys_env,
                  "Environment variable holding API keys (default CCGUARD_API_KEYS)");
  cmd->add_flag("--require-auth", f.require_auth, "Refuse to start without an API key");
  cmd->add_flag("--public-metrics", f.public_metrics, "Serve /metrics without a key");
  cmd->add_option("--access-log", f.access_log, "Access log: '-' stderr (default), 'off', FILE");
  cmd->add_option("--max-body-bytes", f.max_body_bytes, "Request body limit (default 1 MiB)");
  cmd->add_option("--max-item-tokens", f.max_item_tokens, "Tokens per item (default 8192)");
  cmd->add_option("--max-items-per-request", f.max_items_per_request,
                  "Items per /v1/classify or /v1/moderations request (default 64)");
  cmd->add_option("--request-timeout-ms", f.request_timeout_ms,
                  "Time from arrival to scored, else 503 (default 30000)");
  cmd->add_option("--read-timeout-s", f.read_timeout_s, "Socket read/write timeout (default 30)");
  cmd->add_option("--head-timeout-s", f.head_timeout_s,
                  "A request head must arrive whole within this many seconds of the connection "
                  "or the previous response, else the connection is cut (default 10)");
  cmd->add_option("--batch-window-us", f.batch_window_us,
                  "Dynamic batching window after the first waiting item (default 2000)");
  cmd->add_option("--max-batch-items", f.max_batch_items, "Items per engine call (default 64)");
  cmd->add_option("--max-batch-tokens", f.max_batch_tokens,
                  "New tokens per forward pass (default 2048 on cpu, 16384 on cuda)");
  cmd->add_option("--max-queue-items", f.max_queue_items,
                  "Waiting items before 429 (default 1024)");
  cmd->add_option("--max-sessions", f.max_sessions, "Open streaming sessions (default 256)");
  cmd->add_option("--session-idle-timeout-s", f.session_idle_timeout_s,
                  "Evict sessions idle this long (default 300)");
  cmd->add_option("--session-max-kv-bytes", f.session_max_kv_bytes,
                  "Keys/values all streaming sessions hold together, in bytes; past it new "
                  "sessions and appends get 429 (default 4 GiB)");
  cmd->add_option("--session-kv-reserve-bytes", f.session_kv_reserve_bytes,
                  "Host memory made ready at start for streaming sessions' keys/values (CPU): "
                  "appends then take no page faults (default 0: grow on demand)");
  cmd->add_option("--session-max-tokens", f.session_max_tokens,
                  "Tokens per session exchange (default 8192)");
  cmd->add_option("--http-threads", f.http_threads, "Connections served concurrently (default 64)");
  cmd->add_option("--max-event-streams", f.max_event_streams,
                  "Concurrent GET /v1/sessions/{id}/events listeners (default 16)");
  return cmd;
}

namespace {

template <class T>
void Override(const std::optional<T>& flag, T* field) {
  if (flag) *field = *flag;
}

// Builds the configuration: defaults, then the config file, then flags.
Status BuildConfig(const ServeFlags& f, server::ServerConfig* c) {
  if (!f.config.empty()) CCG_RETURN_IF_ERROR(server::ApplyConfigFile(f.config, c));
  Override(f.model, &c->model);
  Override(f.adapter, &c->adapter);
  if (f.no_adapter) c->no_adapter = true;
  if (f.adapter) c->no_adapter = false;
  if (!f.constitutions.empty()) {
    c->constitutions.clear();
    for (const auto& s : f.constitutions) {
      server::ConstitutionSpec spec;
      const size_t eq = s.find('=');
      if (eq != std::string::npos) {
        spec.name = s.substr(0, eq);
        spec.path = s.substr(eq + 1);
      } else {
        spec.path = s;
      }
      c->constitutions.push_back(spec);
    }
  }
  // No guard named: the built-in profile made for the model, if any.
  if (c->constitutions.empty()) {
    const std::string picked = PickGuard("", c->model);
    if (!picked.empty()) c->constitutions.push_back({"", picked, std::nullopt});
  }
  // No adapter named: the published LoRA with the default model and its own
  // constitution only.
  if (!c->no_adapter && c->adapter.empty()) {
    c->adapter = DefaultAdapterFor(c->model);
    for (const auto& s : c->constitutions) {
      if (DefaultAdapterFor(c->model, s.path).empty()) c->adapter.clear();
    }
    if (c->adapter.empty()) c->no_adapter = true;
  }
  Override(f.default_constitution, &c->default_constitution);
  if (f.threshold) {
    if (c->constitutions.empty()) c->constitutions.push_back({});
    for (auto& s : c->constitutions) s.threshold = f.threshold;
  }
  if (f.hf_special_tokens) c->hf_special_tokens = true;
  if (f.categories) c->categories = true;
  Override(f.threads, &c->threads);
  Override(f.compute, &c->compute);
  Override(f.device, &c->device);
  Override(f.host, &c->host);
  Override(f.port, &c->port);
  Override(f.port_file, &c->port_file);
  Override(f.api_keys_file, &c->api_keys_file);
  c->api_keys.insert(c->api_keys.end(), f.api_keys.begin(), f.api_keys.end());
  Override(f.api_keys_env, &c->api_keys_env);
  if (f.require_auth) c->require_auth = true;
  if (f.public_metrics) c->public_metrics = true;
  Override(f.access_log, &c->access_log);
  Override(f.max_body_bytes, &c->max_body_bytes);
  Override(f.max_item_tokens, &c->max_item_tokens);
  Override(f.max_items_per_request, &c->max_items_per_request);
  Override(f.request_timeout_ms, &c->request_timeout_ms);
  Override(f.read_timeout_s, &c->read_timeout_s);
  Override(f.head_timeout_s, &c->head_timeout_s);
  Override(f.batch_window_us, &c->batch_window_us);
  Override(f.max_batch_items, &c->max_batch_items);
  Override(f.max_batch_tokens, &c->max_batch_tokens);
  Override(f.max_queue_items, &c->max_queue_items);
  Override(f.max_sessions, &c->max_sessions);
  Override(f.session_idle_timeout_s, &c->session_idle_timeout_s);
  Override(f.session_max_tokens, &c->session_max_tokens);
  Override(f.session_max_kv_bytes, &c->session_max_kv_bytes);
  Override(f.session_kv_reserve_bytes, &c->session_kv_reserve_bytes);
  Override(f.http_threads, &c->http_threads);
  Override(f.max_event_streams, &c->max_event_streams);
  return server::ValidateConfig(*c);
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  server::ServerConfig config;
  Status st = BuildConfig(flags, &config);
  if (!st.ok()) {
    PrintError(st.WithContext("configuration"));
    return 1;
  }
  if (flags.print_config) {
    std::cout << server::ConfigToJson(config).dump(2) << '\n';
    return 0;
  }
  if (!ResolveModelAndAdapter(&config.model, &config.adapter, config.no_adapter)) return 1;
  // SIGTERM/SIGINT are taken by a watcher thread (blocked everywhere else,
  // so before any thread starts).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto srv = server::HttpServer::Create(config);
  if (!srv.ok()) {
    PrintError(srv.status());
    return 1;
  }
  auto port = (*srv)->Bind();
  if (!port.ok()) {
    PrintError(port.status());
    return 1;
  }
  if (!IsLoopback(config.host)) {
    PrintWarning("listening on " + config.host + ", reachable from other machines" +
                 ((*srv)->auth_enabled() ? "" : ", WITHOUT authentication (set API keys)"));
  }
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        (*srv)->Shutdown();  // a second signal changes nothing: in-flight work finishes
      }
    }
  });
  st = (*srv)->Run();
  done = true;
  watcher.join();
  if (!st.ok()) {
    PrintError(st);
    return 1;
  }
  return 0;
}

}  // namespace ccguard::cli
