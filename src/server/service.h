// The guard service, independent of HTTP: the loaded classifiers (one per
// constitution, all on one shared engine and its prefix caches), the dynamic
// batcher, the streaming sessions and the metrics. Each endpoint is a method
// taking the parsed request and returning a Reply; routes.cc puts them on
// the wire. All methods are thread-safe.
//
// Lifecycle: construct (cheap), Load() (the model; may run in a background
// thread while /healthz answers and /readyz says 503), serve,
// BeginShutdown() (refuse new work, wake listeners), Finish() (drain the
// batcher, end sessions).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scoring/classifier.h"
#include "server/batcher.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/reply.h"
#include "server/sessions.h"

namespace ccguard::server {

// Who is asking, and since when.
struct Caller {
  int key = -1;  // index of the API key used; -1 with authentication off
  SteadyClock::time_point arrival = SteadyClock::now();
};

class Service {
 public:
  // `config.model`/`adapter` must be folders (already resolved).
  explicit Service(ServerConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Loads the engine and every constitution, then becomes ready.
  Status Load();
  // Uses an engine already loaded (tests); constitutions as configured.
  Status LoadWithEngine(std::shared_ptr<Engine> engine);
  bool ready() const { return ready_.load(); }
  bool draining() const { return draining_.load(); }
  // Stop taking new work; wake event-stream listeners.
  void BeginShutdown();
  // After the HTTP server has stopped: score what is queued, end sessions.
  void Finish();

  // POST /v1/classify
  Reply Classify(const Json& body, const Caller& caller);
  // POST /v1/moderations (OpenAI-compatible)
  Reply Moderations(const Json& body, const Caller& caller);
  // POST /v1/sessions
  Reply OpenSession(const Json& body, const Caller& caller);
  // POST /v1/sessions/{id}/append
  Reply Append(const std::string& id, const Json& body, const Caller& caller);
  // GET /v1/sessions/{id}
  Reply GetSession(const std::string& id, const Caller& caller);
  // DELETE /v1/sessions/{id}
  Reply CloseSession(const std::string& id, const Caller& caller);
  // GET /healthz, GET /readyz
  Reply Health() const;
  Reply Ready() const;
  // GET /v1/models: the loaded constitutions as OpenAI model entries, with
  // the model, adapter, compute and backend that run them.
  Reply Models() const;
  // GET /metrics (Prometheus text)
  std::string RenderMetrics() const { return metrics_.Render(); }

  // For the streaming routes: the live session `id` of `caller`, or null and
  // *error (404 unknown, 410 expired/closed, 503 not ready).
  std::shared_ptr<Session> FindSession(const std::string& id, const Caller& caller, Reply* error);
  // Appends body {"chunk": str} to `s`, whose lock the caller holds.
  Reply AppendLocked(Session& s, const Json& body);

  // Load warnings (from the model and adapter), once loaded.
  std::vector<std::string> warnings() const;
  Metrics& metrics() { return metrics_; }
  const ServerConfig& config() const { return config_; }
  // Loaded constitution names, the default first.
  std::vector<std::string> constitution_names() const;
  Classifier* classifier(const std::string& name) const;
  SessionTable& sessions() { return *sessions_; }
  Batcher& batcher() { return *batcher_; }
  // Atomic flag the event-stream listeners poll.
  const std::atomic<bool>* cancel_flag() const { return &draining_; }

 private:
  // The classifier named `name` (empty: the default), or an error reply.
  Classifier* Resolve(const Json& name, const std::string& where, Reply* error) const;
  // Reply for a request that cannot be served now (not loaded, draining).
  bool Unavailable(Reply* error) const;
  // Scores items through the batcher; fills `out` or returns an error reply.
  Reply ScoreItems(const std::vector<Item>& items, const std::vector<Classifier*>& classifiers,
                   const std::vector<std::string>& where, const Caller& caller,
                   std::vector<ItemScore>* out);
  Json ItemJson(const Item& item, const ItemScore& s, Classifier* c) const;
  // The reply for an item the model could not score; counts non-finite
  // outputs in ccguard_nonfinite_scores_total (answered 500 model_error).
  Reply ScoreFailed(const Status& st);
  std::string NameOf(const Classifier* c) const;
  Reply SessionMiss(const std::string& id, SessionTable::Miss miss) const;

  const ServerConfig config_;
  Metrics metrics_;
  std::atomic<bool> ready_{false}, draining_{false};
  std::shared_ptr<Engine> engine_;
  std::map<std::string, std::unique_ptr<Classifier>> classifiers_;
  std::vector<std::string> names_;  // default first
  std::string compute_, backend_;   // what the engine computes in, for /readyz
  int threads_ = 0;                 // its compute threads (UsableCpus() by default)
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<SessionTable> sessions_;
  const SteadyClock::time_point started_ = SteadyClock::now();
};

}  // namespace ccguard::server
