#include "server/sessions.h"

#include <random>

#include "util/utf8.h"

namespace ccguard::server {

Session::Session(std::string id, Classifier* classifier, std::string constitution, int owner,
                 std::unique_ptr<StreamSession> stream, int64_t max_tokens, size_t max_events,
                 Metrics* metrics, std::shared_ptr<KvBudget> kv)
    : id_(std::move(id)),
      classifier_(classifier),
      constitution_(std::move(constitution)),
      owner_(owner),
      max_tokens_(max_tokens),
      max_events_(max_events),
      metrics_(metrics),
      stream_(std::move(stream)),
      kv_(std::move(kv)),
      created_(SteadyClock::now()),
      last_used_(created_) {}

Session::~Session() {
  if (kv_) kv_->used -= kv_charged_;
}

void Session::ChargeKv() {
  if (!kv_) return;
  const int64_t now = static_cast<int64_t>(stream_->cache_bytes());
  kv_->used += now - kv_charged_;
  kv_charged_ = now;
}

namespace {
constexpr std::string_view kKvFull = "session memory is full";

ccguard::Status KvFull(const KvBudget& kv) {
  return ccguard::Status::ResourceExhausted(
      std::string(kKvFull) + ": the open sessions hold " + std::to_string(kv.used.load()) +
      " bytes of keys/values of the " + std::to_string(kv.limit) +
      " allowed (session_max_kv_bytes); retry later, or close finished sessions");
}
}  // namespace

bool IsKvFull(const ccguard::Status& s) {
  return s.code() == ccguard::Status::Code::kResourceExhausted &&
         s.message().rfind(kKvFull, 0) == 0;
}

std::string Session::ended() const {
  std::lock_guard<std::mutex> lock(ev_mu_);
  return ended_;
}

SteadyClock::time_point Session::last_used() const {
  std::lock_guard<std::mutex> lock(ev_mu_);
  return last_used_;
}

uint64_t Session::last_seq() const {
  std::lock_guard<std::mutex> lock(ev_mu_);
  return next_seq_ - 1;
}

void Session::Touch() {
  std::lock_guard<std::mutex> lock(ev_mu_);
  last_used_ = SteadyClock::now();
}

Json Session::ScoreJson(const ItemScore& s) const {
  Json j;
  WriteScoreFields(s, classifier_->constitution(), &j);  // as /v1/classify
  j["new_tokens"] = s.n_tokens - s.cached_tokens;
  return j;
}

ccguard::Result<Json> Session::Prefill() {
  CCG_ASSIGN_OR_RETURN(ItemScore s, stream_->Current());
  last_ = s;
  if (metrics_ != nullptr) {
    metrics_->Add("ccguard_tokens_total", {{"source", "session"}, {"kind", "computed"}},
                  static_cast<double>(s.n_tokens - s.cached_tokens));
    metrics_->Add("ccguard_tokens_total", {{"source", "session"}, {"kind", "cached"}},
                  static_cast<double>(s.cached_tokens));
  }
  ChargeKv();
  UpdateState();
  Touch();
  return ScoreJson(s);
}

ccguard::Result<Json> Session::Append(std::string_view chunk) {
  Touch();  // an append in progress is activity, even if it fails
  CCG_RETURN_IF_ERROR(CheckUtf8(chunk, "chunk"));
  // Cheap bound on the new length (a chunk of b bytes adds at most about b
  // tokens); tokenize exactly only near the limit.
  const int64_t bound = stream_->n_tokens() + static_cast<int64_t>(chunk.size()) + 64;
  if (bound > max_tokens_) {
    const Item item = stream_->Exchange(stream_->response() + std::string(chunk));
    CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, classifier_->Tokenize(item));
    if (static_cast<int64_t>(ids.size()) > max_tokens_) {
      return Status::ResourceExhausted(
          "appending this chunk makes the exchange " + std::to_string(ids.size()) +
          " tokens; the session limit is " + std::to_string(max_tokens_) +
          " (the session is unchanged; close it or open a new one)");
    }
  }
  // A chunk of b bytes adds at most b tokens (byte-level BPE; a few more where
  // the response's last tokens are re-tokenized), and never more than the
  // session may still take.
  if (kv_ &&
      !kv_->Fits(std::min<int64_t>(static_cast<int64_t>(chunk.size()) + 8,
                                   std::max<int64_t>(0, max_tokens_ - stream_->n_tokens())))) {
    return KvFull(*kv_);
  }
  auto appended = stream_->Append(chunk);
  ChargeKv();
  if (!appended.ok()) return appended.status();
  const ItemScore s = *appended;
  const int64_t index = chunks_++;
  const bool first_stop = s.unsafe && !stop_chunk_;
  if (first_stop) stop_chunk_ = index;
  last_ = s;
  Json j = ScoreJson(s);
  j["session_id"] = id_;
  j["chunk_index"] = index;
  j["stop"] = stop_chunk_.has_value();
  j["stop_chunk"] = stop_chunk_ ? Json(*stop_chunk_) : Json();
  if (metrics_ != nullptr) {
    metrics_->Add("ccguard_session_appends_total", {});
    if (first_stop) metrics_->Add("ccguard_session_stops_total", {});
    metrics_->Add("ccguard_tokens_total", {{"source", "session"}, {"kind", "computed"}},
                  static_cast<double>(s.n_tokens - s.cached_tokens));
    metrics_->Add("ccguard_tokens_total", {{"source", "session"}, {"kind", "cached"}},
                  static_cast<double>(s.cached_tokens));
  }
  UpdateState();
  Publish("score", j);
  Touch();
  return j;
}

void Session::UpdateState() {
  Json j = {{"id", id_},
            {"constitution", constitution_},
            {"chunks", chunks_},
            {"n_tokens", stream_->n_tokens()},
            {"max_tokens", max_tokens_},
            {"response_bytes", stream_->response().size()},
            {"cache_bytes", stream_->cache_bytes()},
            {"stop", stop_chunk_.has_value()},
            {"stop_chunk", stop_chunk_ ? Json(*stop_chunk_) : Json()}};
  if (last_) {
    Json s = ScoreJson(*last_);
    s.erase("new_tokens");
    j["last"] = s;
  }
  std::lock_guard<std::mutex> lock(ev_mu_);
  state_ = std::move(j);
}

Json Session::State() const {
  std::lock_guard<std::mutex> lock(ev_mu_);
  Json j = state_;
  j["age_s"] = std::chrono::duration<double>(SteadyClock::now() - created_).count();
  return j;
}

void Session::Publish(const std::string& type, const Json& data) {
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    events_.push_back({next_seq_++, type, DumpJson(data)});
    while (events_.size() > max_events_) events_.pop_front();
  }
  ev_cv_.notify_all();
}

void Session::End(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    if (!ended_.empty()) return;
  }
  Publish("end", {{"session_id", id_}, {"reason", reason}});
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    ended_ = reason;
  }
  ev_cv_.notify_all();
}

void Session::NotifyListeners() { ev_cv_.notify_all(); }

bool Session::WaitEvents(uint64_t after, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* cancel, std::vector<SessionEvent>* out) {
  std::unique_lock<std::mutex> lock(ev_mu_);
  auto ready = [&] {
    return (!events_.empty() && events_.back().seq > after) || !ended_.empty() ||
           (cancel != nullptr && cancel->load());
  };
  ev_cv_.wait_for(lock, timeout, ready);
  for (const auto& e : events_) {
    if (e.seq > after) out->push_back(e);
  }
  return !(out->empty() && !ended_.empty());
}

SessionTable::SessionTable(SessionLimits limits, Metrics* metrics)
    : limits_(limits), metrics_(metrics), kv_(std::make_shared<KvBudget>()) {
  kv_->limit = limits_.max_kv_bytes;
  if (metrics_ != nullptr) {
    metrics_->DeclareCounter("ccguard_sessions_opened_total", "Streaming sessions opened.");
    metrics_->DeclareCounter("ccguard_sessions_ended_total",
                             "Streaming sessions ended, by reason (closed, expired, shutdown).");
    metrics_->DeclareCounter("ccguard_session_appends_total", "Chunks appended to sessions.");
    metrics_->DeclareCounter("ccguard_session_stops_total",
                             "Sessions whose score crossed the threshold (stop: true).");
    metrics_->DeclareCounter("ccguard_tokens_total",
                             "Tokens processed, by source (classify, session) and kind "
                             "(computed: run through the model; cached: reused keys/values).");
  }
  reaper_ = std::thread([this] { ReaperLoop(); });
}

SessionTable::~SessionTable() { Shutdown(); }

std::string SessionTable::NewId() {
  static std::mutex mu;
  static std::random_device rd;
  std::lock_guard<std::mutex> lock(mu);
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int w = 0; w < 4; ++w) {
    uint32_t v = rd();
    for (int i = 0; i < 8; ++i) {
      id.push_back(kHex[v & 15]);
      v >>= 4;
    }
  }
  return id;
}

size_t SessionTable::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

ccguard::Result<std::shared_ptr<Session>> SessionTable::Open(Classifier* classifier,
                                                             const std::string& constitution,
                                                             const Item& base, int owner,
                                                             Json* initial, bool* full) {
  *full = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::ResourceExhausted("the server is shutting down");
    if (live_.size() + opening_ >= limits_.max_sessions) {
      *full = true;
      return Status::ResourceExhausted("too many open sessions (limit " +
                                       std::to_string(limits_.max_sessions) +
                                       "); close finished sessions with DELETE /v1/sessions/{id}");
    }
    ++opening_;
  }
  auto release = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    --opening_;
  };
  Item probe = base;
  probe.response = "";
  auto ids = classifier->Tokenize(probe);
  if (!ids.ok()) {
    release();
    return ids.status();
  }
  if (static_cast<int64_t>(ids->size()) > limits_.max_tokens) {
    release();
    return Status::ResourceExhausted(
        "the prompt makes the exchange " + std::to_string(ids->size()) +
        " tokens; the session limit is " + std::to_string(limits_.max_tokens));
  }
  if (kv_->Full()) {
    release();
    *full = true;
    return KvFull(*kv_);
  }
  auto stream = classifier->OpenSession(base);
  if (!stream.ok()) {
    release();
    return stream.status();
  }
  auto s =
      std::make_shared<Session>(NewId(), classifier, constitution, owner, std::move(stream).value(),
                                limits_.max_tokens, limits_.max_events, metrics_, kv_);
  {
    auto op = s->Lock();
    auto first = s->Prefill();
    if (!first.ok()) {
      release();
      return first.status();
    }
    *initial = std::move(first).value();
  }
  std::lock_guard<std::mutex> lock(mu_);
  --opening_;
  if (stopping_) return Status::ResourceExhausted("the server is shutting down");
  live_[s->id()] = s;
  if (metrics_ != nullptr) metrics_->Add("ccguard_sessions_opened_total", {});
  return s;
}

std::shared_ptr<Session> SessionTable::Find(const std::string& id, int owner, Miss* miss) const {
  std::lock_guard<std::mutex> lock(mu_);
  *miss = Miss::kNone;
  if (auto it = live_.find(id); it != live_.end()) {
    if (it->second->owner() == owner) return it->second;
    *miss = Miss::kUnknown;
    return nullptr;
  }
  auto g = gone_.find(id);
  *miss = g != gone_.end() ? g->second : stopping_ ? Miss::kShutdown : Miss::kUnknown;
  return nullptr;
}

void SessionTable::Forget(const std::string& id, Miss why) {
  gone_[id] = why;
  gone_order_.push_back(id);
  constexpr size_t kRemembered = 16384;
  while (gone_order_.size() > kRemembered) {
    gone_.erase(gone_order_.front());
    gone_order_.pop_front();
  }
}

bool SessionTable::Close(const std::string& id, int owner) {
  std::shared_ptr<Session> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(id);
    if (it == live_.end() || it->second->owner() != owner) return false;
    s = it->second;
    live_.erase(it);
    Forget(id, Miss::kClosed);
  }
  s->End("closed");
  if (metrics_ != nullptr) metrics_->Add("ccguard_sessions_ended_total", {{"reason", "closed"}});
  return true;
}

size_t SessionTable::ReapIdle(SteadyClock::time_point now) {
  std::vector<std::shared_ptr<Session>> evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = live_.begin(); it != live_.end();) {
      Session& s = *it->second;
      auto op = s.TryLock();  // busy sessions are not idle
      if (op.owns_lock() && now - s.last_used() > limits_.idle_timeout) {
        evicted.push_back(it->second);
        Forget(it->first, Miss::kExpired);
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : evicted) {
    s->End("expired");
    if (metrics_ != nullptr) metrics_->Add("ccguard_sessions_ended_total", {{"reason", "expired"}});
  }
  return evicted.size();
}

void SessionTable::ReaperLoop() {
  const auto period = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(1000),
      std::max<std::chrono::milliseconds>(limits_.idle_timeout / 4, std::chrono::milliseconds(10)));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    reaper_cv_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    ReapIdle(SteadyClock::now());
    lock.lock();
  }
}

void SessionTable::NotifyAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, s] : live_) s->NotifyListeners();
}

void SessionTable::Shutdown() {
  std::map<std::string, std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    live.swap(live_);
    for (const auto& [id, s] : live) Forget(id, Miss::kShutdown);
  }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  for (auto& [id, s] : live) {
    s->End("shutdown");
    if (metrics_ != nullptr) {
      metrics_->Add("ccguard_sessions_ended_total", {{"reason", "shutdown"}});
    }
  }
}

}  // namespace ccguard::server
