// Streaming output classification sessions held by the service.
//
// A Session wraps a StreamSession (prompt fixed, response growing chunk by
// chunk, keys/values kept between appends) with what a server needs: a
// random 128-bit id, the key that opened it (others cannot see it), one
// operation at a time, a token limit, the first chunk whose score crossed the
// threshold (`stop`), and an event log for Server-Sent Events listeners.
//
// The SessionTable bounds sessions by count and evicts those idle longer than
// the idle timeout (a reaper thread). Ids of sessions that ended are
// remembered for a while, so a late request learns *why* the session is gone
// (expired, closed) instead of a bare "not found".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "scoring/session.h"
#include "server/metrics.h"
#include "util/json_file.h"

namespace ccguard::server {

using SteadyClock = std::chrono::steady_clock;

struct SessionLimits {
  size_t max_sessions = 256;
  std::chrono::milliseconds idle_timeout{300 * 1000};
  int64_t max_tokens = 8192;
  size_t max_events = 256;  // retained per session for listeners
  // Keys/values all sessions hold together (bytes of cache storage): opening
  // a session or appending a chunk that could take the total past it is
  // refused (KvFull: the service answers 429). An open is refused once the
  // total is at the limit; an append when its chunk's tokens (at most one per
  // byte, byte-level BPE) could take the total past it.
  int64_t max_kv_bytes = int64_t{4} << 30;
};

// The keys/values memory the sessions of one table hold, against its limit.
struct KvBudget {
  std::atomic<int64_t> used{0};
  std::atomic<int64_t> per_token{0};  // storage a token adds; 0 until the model is known
  int64_t limit = 0;
  // Whether `tokens` more positions fit under the limit.
  bool Fits(int64_t tokens) const { return used.load() + tokens * per_token.load() <= limit; }
  bool Full() const { return used.load() >= limit; }
};

// True for the refusal of an open or append past KvBudget::limit.
bool IsKvFull(const ccguard::Status& s);

// One Server-Sent Event.
struct SessionEvent {
  uint64_t seq = 0;  // the SSE "id"
  std::string type;  // "score", "end"
  std::string data;  // JSON text
};

class Session {
 public:
  // `metrics` may be null.
  // `kv` (shared with the table) is charged with this session's cache.
  Session(std::string id, Classifier* classifier, std::string constitution, int owner,
          std::unique_ptr<StreamSession> stream, int64_t max_tokens, size_t max_events,
          Metrics* metrics, std::shared_ptr<KvBudget> kv);
  ~Session();

  const std::string& id() const { return id_; }
  const std::string& constitution() const { return constitution_; }
  int owner() const { return owner_; }
  Classifier* classifier() const { return classifier_; }

  // Prefill and Append require the operation lock, held by one caller at a
  // time: TryLock() fails when another caller holds it.
  std::unique_lock<std::mutex> TryLock() {
    return std::unique_lock<std::mutex>(op_, std::try_to_lock);
  }
  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(op_); }

  // Why the session ended ("expired", "closed", "shutdown"), or empty while
  // it is live. Check after taking the lock.
  std::string ended() const;

  // Scores the exchange with an empty response (fills the cache with the
  // prompt). Lock held.
  ccguard::Result<Json> Prefill();
  // Appends `chunk` and returns the score event (chunk_index, p_unsafe,
  // label, flagged, stop, ...). Refuses with ResourceExhausted when the
  // exchange would exceed the session's token limit, or (IsKvFull) when the
  // chunk's tokens could take the sessions' keys/values past their limit.
  // Lock held.
  ccguard::Result<Json> Append(std::string_view chunk);
  // A description: ids, counts, last score, as of the last completed
  // operation (no lock needed: an upload in progress does not block it).
  Json State() const;

  // Marks the session ended (once) and publishes an "end" event.
  void End(const std::string& reason);

  // The time of the last operation.
  SteadyClock::time_point last_used() const;

  // Event log for listeners: waits until an event with seq > `after` exists,
  // the session ended, `*cancel` is true, or `timeout` passes; copies the
  // newer events (oldest first) into *out. Returns false once the session has
  // ended and every event was delivered.
  bool WaitEvents(uint64_t after, std::chrono::milliseconds timeout,
                  const std::atomic<bool>* cancel, std::vector<SessionEvent>* out);
  // Wakes listeners (e.g. at shutdown).
  void NotifyListeners();
  uint64_t last_seq() const;

 private:
  Json ScoreJson(const ItemScore& s) const;
  void UpdateState();  // lock held
  void Publish(const std::string& type, const Json& data);
  void Touch();
  void ChargeKv();  // the budget follows the cache's storage; lock held

  const std::string id_;
  Classifier* const classifier_;
  const std::string constitution_;
  const int owner_;
  const int64_t max_tokens_;
  const size_t max_events_;
  Metrics* const metrics_;
  std::mutex op_;
  std::unique_ptr<StreamSession> stream_;
  const std::shared_ptr<KvBudget> kv_;
  int64_t kv_charged_ = 0;
  int64_t chunks_ = 0;
  std::optional<int64_t> stop_chunk_;
  std::optional<ItemScore> last_;
  const SteadyClock::time_point created_;

  mutable std::mutex ev_mu_;  // guards the fields below
  std::condition_variable ev_cv_;
  std::deque<SessionEvent> events_;
  uint64_t next_seq_ = 1;
  std::string ended_;
  SteadyClock::time_point last_used_;
  Json state_;  // State() as of the last operation
};

class SessionTable {
 public:
  // `metrics` may be null. Starts the reaper thread.
  SessionTable(SessionLimits limits, Metrics* metrics);
  ~SessionTable();  // Shutdown()

  // Opens a session for `base` (an exchange item without a response: a
  // prompt, after the earlier turns of a conversation) and prefills it; `*initial` receives the
  // empty-response score. ResourceExhausted when the table is full or the
  // prompt's keys/values would not fit the budget (IsKvFull; then *full is
  // set) or the prompt is over the token limit.
  ccguard::Result<std::shared_ptr<Session>> Open(Classifier* classifier,
                                                 const std::string& constitution, const Item& base,
                                                 int owner, Json* initial, bool* full);

  enum class Miss { kNone, kUnknown, kExpired, kClosed, kShutdown };
  // The live session `id` opened by `owner`; else null and *miss says why
  // (a session of another owner is kUnknown).
  std::shared_ptr<Session> Find(const std::string& id, int owner, Miss* miss) const;
  // Ends and removes a session. An operation in progress on it completes;
  // later ones get "closed".
  bool Close(const std::string& id, int owner);

  // Evicts sessions idle for longer than the timeout; returns how many.
  size_t ReapIdle(SteadyClock::time_point now);
  // Wakes every session's event listeners.
  void NotifyAll();
  // Ends every session ("shutdown") and stops the reaper.
  void Shutdown();

  size_t active() const;
  const SessionLimits& limits() const { return limits_; }
  // Keys/values held by the sessions (bytes), and the storage one token
  // takes (set once the model is known).
  int64_t kv_bytes() const { return kv_->used.load(); }
  void SetKvBytesPerToken(int64_t bytes) { kv_->per_token.store(bytes); }

  // A fresh random 128-bit id in hex.
  static std::string NewId();

 private:
  void Forget(const std::string& id, Miss why);  // mu_ held
  void ReaperLoop();

  const SessionLimits limits_;
  Metrics* metrics_;
  const std::shared_ptr<KvBudget> kv_;
  mutable std::mutex mu_;
  std::condition_variable reaper_cv_;
  bool stopping_ = false;
  size_t opening_ = 0;  // slots reserved by Open() calls in progress
  std::map<std::string, std::shared_ptr<Session>> live_;
  std::map<std::string, Miss> gone_;
  std::deque<std::string> gone_order_;  // oldest first, bounded
  std::thread reaper_;
};

}  // namespace ccguard::server
