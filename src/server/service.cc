#include "server/service.h"

#include <algorithm>
#include <random>

#include "kernels/host_page_pool.h"
#include "util/process_memory.h"

namespace ccguard::server {
namespace {

std::string RandomHex(int bytes) {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rng() & 0xff);
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

// Keys of `body` must be among `allowed`.
// False, with a 400 in *error, unless the request body is a JSON object.
bool IsObject(const Json& body, Reply* error) {
  if (body.is_object()) return true;
  *error = ErrorReply(400, "invalid_request",
                      std::string("the body must be a JSON object, got ") + body.type_name());
  return false;
}

bool OnlyKeys(const Json& body, std::initializer_list<const char*> allowed, Reply* error) {
  for (const auto& [key, v] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      *error = ErrorReply(400, "invalid_request",
                          "unknown field '" + key + "' (expected: " + list + ")", key);
      return false;
    }
  }
  return true;
}

}  // namespace

Service::Service(ServerConfig config) : config_(std::move(config)) {
  BatcherOptions bo;
  bo.window = std::chrono::microseconds(config_.batch_window_us);
  bo.max_items = static_cast<size_t>(config_.max_batch_items);
  bo.max_queue = static_cast<size_t>(config_.max_queue_items);
  batcher_ = std::make_unique<Batcher>(bo, &metrics_);
  SessionLimits sl;
  sl.max_sessions = static_cast<size_t>(config_.max_sessions);
  sl.idle_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(config_.session_idle_timeout_s * 1000.0));
  sl.max_tokens = config_.session_max_tokens;
  sl.max_kv_bytes = config_.session_max_kv_bytes;
  sessions_ = std::make_unique<SessionTable>(sl, &metrics_);

  metrics_.DeclareCounter("ccguard_items_total", "Items scored, by route, constitution and label.");
  metrics_.DeclareCounter("ccguard_nonfinite_scores_total",
                          "Items the model gave a non-finite score (NaN/inf): answered 500 "
                          "model_error, never flagged safe.");
  metrics_.DeclareGaugeFn("ccguard_ready", "1 once the model is loaded and warm.",
                          [this] { return ready_.load() ? 1.0 : 0.0; });
  metrics_.DeclareGaugeFn("ccguard_queue_depth", "Items waiting for the dynamic batcher.",
                          [this] { return static_cast<double>(batcher_->queue_depth()); });
  metrics_.DeclareGaugeFn("ccguard_sessions_active", "Open streaming sessions.",
                          [this] { return static_cast<double>(sessions_->active()); });
  metrics_.DeclareGaugeFn("ccguard_session_kv_bytes",
                          "Keys/values held by streaming sessions (bytes of cache storage).",
                          [this] { return static_cast<double>(sessions_->kv_bytes()); });
  metrics_.DeclareGaugeFn(
      "ccguard_host_pages_free_bytes",
      "Host memory pages kept ready for sessions' keys/values (session_kv_reserve_bytes) and "
      "not in use.",
      [] { return static_cast<double>(kernels::HostPagePool::Get().free_bytes()); });
  metrics_.DeclareGaugeFn("process_resident_memory_bytes", "Resident memory size in bytes.",
                          [] { return static_cast<double>(ResidentBytes()); });
  metrics_.DeclareGaugeFn("ccguard_uptime_seconds", "Seconds since the service started.", [this] {
    return std::chrono::duration<double>(SteadyClock::now() - started_).count();
  });
}

Service::~Service() { Finish(); }

Status Service::Load() {
  EngineOptions eo;
  eo.model_dir = config_.model;
  eo.adapter_dir = config_.no_adapter ? "" : config_.adapter;
  eo.hf_special_tokens = config_.hf_special_tokens;
  CCG_ASSIGN_OR_RETURN(eo.model,
                       ModelOptions::Parse(config_.compute, config_.device, config_.threads));
  eo.max_batch_tokens = config_.max_batch_tokens;
  eo.max_item_tokens = std::max(config_.max_item_tokens, config_.session_max_tokens);
  eo.prefix_cache = config_.prefix_cache;
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::Create(eo));
  return LoadWithEngine(std::move(engine));
}

Status Service::LoadWithEngine(std::shared_ptr<Engine> engine) {
  std::vector<ConstitutionSpec> specs = config_.constitutions;
  if (specs.empty()) specs.push_back(ConstitutionSpec{});
  std::map<std::string, std::unique_ptr<Classifier>> classifiers;
  std::vector<std::string> names;
  for (const auto& spec : specs) {
    CCG_ASSIGN_OR_RETURN(Constitution c, Constitution::Load(spec.path));
    const std::string name = spec.name.empty() ? c.name() : spec.name;
    if (name.empty()) return Status::InvalidArgument("a constitution has no name");
    if (classifiers.count(name) != 0) {
      return Status::InvalidArgument("two constitutions are named '" + name +
                                     "'; give one a \"name\" in the config");
    }
    auto cl = Classifier::Create(engine, std::move(c), spec.threshold);
    if (!cl.ok()) return cl.status().WithContext("constitution '" + name + "'");
    // Warm up: builds the constitution's prefix caches.
    Item warm;
    warm.prompt = "warm-up";
    auto s = (*cl)->Score(warm);
    if (!s.ok()) return s.status().WithContext("warming up constitution '" + name + "'");
    classifiers[name] = std::move(cl).value();
    names.push_back(name);
  }
  if (!config_.default_constitution.empty()) {
    auto it = std::find(names.begin(), names.end(), config_.default_constitution);
    if (it == names.end()) {
      return Status::InvalidArgument("default_constitution '" + config_.default_constitution +
                                     "' is not among the loaded constitutions");
    }
    std::rotate(names.begin(), it, it + 1);
  }
  engine_ = std::move(engine);
  classifiers_ = std::move(classifiers);
  names_ = std::move(names);
  compute_ = kernels::PrecisionName(engine_->model().precision());
  {
    // Keys and values of every layer, float32 rows of kv_dim each.
    const auto& mc = engine_->model().config();
    sessions_->SetKvBytesPerToken(2 * mc.num_hidden_layers * mc.num_key_value_heads * mc.head_dim *
                                  static_cast<int64_t>(sizeof(float)));
  }
  backend_ = engine_->model().backend_name();
  threads_ = engine_->model().threads();
  if (config_.session_kv_reserve_bytes > 0) {  // a CPU device (ValidateConfig)
    CCG_RETURN_IF_ERROR(kernels::HostPagePool::Get()
                            .Reserve(static_cast<size_t>(config_.session_kv_reserve_bytes))
                            .WithContext("session_kv_reserve_bytes"));
  }
  ready_ = true;
  return Status::Ok();
}

void Service::BeginShutdown() {
  draining_ = true;
  sessions_->NotifyAll();  // event-stream listeners end their streams now
}

void Service::Finish() {
  draining_ = true;
  if (batcher_) batcher_->Stop();
  if (sessions_) sessions_->Shutdown();
}

std::vector<std::string> Service::warnings() const {
  return ready_ ? engine_->warnings() : std::vector<std::string>{};
}

std::vector<std::string> Service::constitution_names() const {
  return ready_ ? names_ : std::vector<std::string>{};
}

std::string Service::NameOf(const Classifier* c) const {
  for (const auto& [name, cl] : classifiers_) {
    if (cl.get() == c) return name;
  }
  return "";
}

Classifier* Service::classifier(const std::string& name) const {
  if (!ready_) return nullptr;
  auto it = classifiers_.find(name.empty() ? names_.front() : name);
  return it == classifiers_.end() ? nullptr : it->second.get();
}

bool Service::Unavailable(Reply* error) const {
  if (draining_) {
    *error = ErrorReply(503, "shutting_down", "the server is shutting down");
    error->headers.push_back({"Retry-After", "1"});
    return true;
  }
  if (!ready_) {
    *error = ErrorReply(503, "not_ready", "the model is still loading; retry shortly");
    error->headers.push_back({"Retry-After", "1"});
    return true;
  }
  return false;
}

Classifier* Service::Resolve(const Json& name, const std::string& where, Reply* error) const {
  if (name.is_null()) return classifier("");
  if (!name.is_string() || name.get<std::string>().empty()) {
    *error = ErrorReply(400, "invalid_request",
                        where + "'constitution' must be a non-empty string, got " +
                            (name.is_string() ? std::string("\"\"") : name.type_name()));
    return nullptr;
  }
  Classifier* c = classifier(name.get<std::string>());
  if (c == nullptr) {
    std::string list;
    for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
    *error = ErrorReply(
        400, "unknown_constitution",
        where + "unknown constitution '" + name.get<std::string>() + "'; loaded: " + list);
  }
  return c;
}

Reply Service::ScoreItems(const std::vector<Item>& items,
                          const std::vector<Classifier*>& classifiers,
                          const std::vector<std::string>& where, const Caller& caller,
                          std::vector<ItemScore>* out) {
  std::vector<Batcher::Work> work;
  work.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    auto ids = classifiers[i]->Tokenize(items[i]);
    if (!ids.ok()) {
      Reply r = StatusReply(ids.status());
      AddWhere(&r, where[i]);
      return r;
    }
    const int64_t n = static_cast<int64_t>(ids->size());
    if (n == 0) {
      Reply r = ErrorReply(400, "invalid_request", "the item is empty");
      AddWhere(&r, where[i]);
      return r;
    }
    if (n > config_.max_item_tokens) {
      Reply r = ErrorReply(413, "too_large",
                           "the item is " + std::to_string(n) + " tokens; the limit is " +
                               std::to_string(config_.max_item_tokens));
      AddWhere(&r, where[i]);
      return r;
    }
    work.push_back({classifiers[i], std::move(ids).value()});
  }
  const auto deadline = caller.arrival + std::chrono::milliseconds(config_.request_timeout_ms);
  Batcher::Reply res = batcher_->Score(std::move(work), deadline);
  switch (res.outcome) {
    case Batcher::Outcome::kOk:
      break;
    case Batcher::Outcome::kQueueFull: {
      Reply r = ErrorReply(429, "too_many_requests",
                           "the scoring queue is full (" + std::to_string(config_.max_queue_items) +
                               " items); retry shortly");
      r.headers.push_back({"Retry-After", "1"});
      return r;
    }
    case Batcher::Outcome::kTimeout:
      return ErrorReply(503, "timeout",
                        "not scored within the request timeout (" +
                            std::to_string(config_.request_timeout_ms) + " ms)");
    case Batcher::Outcome::kStopped:
      return ErrorReply(503, "shutting_down", "the server is shutting down");
  }
  out->clear();
  for (size_t i = 0; i < res.scores.size(); ++i) {
    if (!res.scores[i].ok()) {
      const Status& st = res.scores[i].status();
      if (st.code() == Status::Code::kResourceExhausted) {
        Reply r = ErrorReply(503, "timeout", st.message());
        AddWhere(&r, where[i]);
        return r;
      }
      Reply r = ScoreFailed(st);
      AddWhere(&r, where[i]);
      return r;
    }
    out->push_back(*res.scores[i]);
  }
  return Reply{};
}

Json Service::ItemJson(const Item& item, const ItemScore& s, Classifier* c) const {
  Json j;
  if (!item.id.is_null()) j["id"] = item.id;
  j["constitution"] = NameOf(c);
  WriteScoreFields(s, c->constitution(), &j);
  j["cached_tokens"] = s.cached_tokens;
  if (s.low_label_mass) j["low_label_mass"] = true;
  return j;
}

Reply Service::Classify(const Json& body, const Caller& caller) {
  Reply error;
  if (Unavailable(&error)) return error;
  if (!IsObject(body, &error)) return error;
  const Json default_name = body.contains("constitution") ? body["constitution"] : Json();
  const bool batch = body.contains("items");
  std::vector<const Json*> raw;
  if (batch) {
    const Json& items = body["items"];
    if (!items.is_array() || items.empty()) {
      return ErrorReply(400, "invalid_request", "'items' must be a non-empty list", "items");
    }
    if (items.size() > static_cast<size_t>(config_.max_items_per_request)) {
      return ErrorReply(413, "too_large",
                        "'items' has " + std::to_string(items.size()) + " entries; the limit is " +
                            std::to_string(config_.max_items_per_request),
                        "items");
    }
    for (const auto& key : body.items()) {
      if (key.key() != "items" && key.key() != "constitution") {
        return ErrorReply(
            400, "invalid_request",
            "unknown field '" + key.key() + "' beside 'items' (expected: items, constitution)",
            key.key());
      }
    }
    for (const auto& it : items) raw.push_back(&it);
  } else {
    raw.push_back(&body);
  }
  std::vector<Item> items;
  std::vector<Classifier*> classifiers;
  std::vector<std::string> where;
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string w = batch ? "items[" + std::to_string(i) + "]: " : "";
    const Json& j = *raw[i];
    if (!j.is_object()) {
      Reply r = ErrorReply(400, "invalid_request",
                           std::string("an item must be a JSON object, got ") + j.type_name());
      AddWhere(&r, w);
      return r;
    }
    Json copy = j;
    Json name = copy.contains("constitution") ? copy["constitution"] : default_name;
    copy.erase("constitution");
    auto item = ItemFromJson(copy, static_cast<size_t>(config_.max_body_bytes));
    if (!item.ok()) {
      Reply r = StatusReply(item.status());
      if (auto unknown = UnknownItemField(copy)) r.body["error"]["param"] = *unknown;
      AddWhere(&r, w);
      return r;
    }
    Classifier* c = Resolve(name, w, &error);
    if (c == nullptr) return error;
    items.push_back(std::move(item).value());
    classifiers.push_back(c);
    where.push_back(w);
  }
  std::vector<ItemScore> scores;
  Reply r = ScoreItems(items, classifiers, where, caller, &scores);
  if (!r.ok()) return r;
  Json results = Json::array();
  for (size_t i = 0; i < items.size(); ++i) {
    Json j = ItemJson(items[i], scores[i], classifiers[i]);
    if (config_.categories && classifiers[i]->constitution().categories()) {
      Status st = WriteCategoryFields(*classifiers[i], items[i], scores[i], &j);
      if (!st.ok()) {
        Reply e = StatusReply(st.WithContext("categories"));
        AddWhere(&e, where[i]);
        return e;
      }
    }
    metrics_.Add(
        "ccguard_items_total",
        {{"route", "classify"}, {"constitution", j["constitution"]}, {"label", j["label"]}});
    results.push_back(std::move(j));
  }
  r.body = batch ? Json{{"results", std::move(results)}} : std::move(results[0]);
  return r;
}

Reply Service::Moderations(const Json& body, const Caller& caller) {
  Reply error;
  if (Unavailable(&error)) return error;
  if (!IsObject(body, &error)) return error;
  if (!OnlyKeys(body, {"input", "model"}, &error)) return error;
  if (!body.contains("input"))
    return ErrorReply(400, "invalid_request", "'input' is required", "input");
  // "model": a loaded constitution's name, or any OpenAI moderation model name
  // (served by the default constitution).
  Json name;
  if (auto m = body.find("model"); m != body.end() && !m->is_null()) {
    if (!m->is_string()) {
      return ErrorReply(400, "invalid_request",
                        std::string("'model' must be a string, got ") + m->type_name(), "model");
    }
    const std::string model = m->get<std::string>();
    if (classifier(model) != nullptr) {
      name = model;
    } else if (model.rfind("omni-moderation", 0) != 0 && model.rfind("text-moderation", 0) != 0) {
      std::string list;
      for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
      return ErrorReply(400, "unknown_constitution",
                        "unknown model '" + model + "': use a loaded constitution (" + list +
                            ") or an OpenAI moderation model name for the default",
                        "model");
    }
  }
  Classifier* c = Resolve(name, "", &error);
  if (c == nullptr) return error;
  const Json& input = body["input"];
  std::vector<std::string> texts;
  if (input.is_string()) {
    texts.push_back(input.get<std::string>());
  } else if (input.is_array()) {
    if (input.empty())
      return ErrorReply(400, "invalid_request", "'input' must not be empty", "input");
    for (size_t i = 0; i < input.size(); ++i) {
      const Json& e = input[i];
      const std::string w = "input[" + std::to_string(i) + "]";
      if (e.is_string()) {
        texts.push_back(e.get<std::string>());
      } else if (e.is_object() && e.value("type", "") == "text" && e.contains("text") &&
                 e["text"].is_string()) {
        texts.push_back(e["text"].get<std::string>());
      } else if (e.is_object() && e.value("type", "") == "image_url") {
        return ErrorReply(400, "invalid_request", w + ": image inputs are not supported", w);
      } else {
        return ErrorReply(400, "invalid_request",
                          w + " must be a string or {\"type\": \"text\", \"text\": string}", w);
      }
    }
  } else {
    return ErrorReply(400, "invalid_request",
                      std::string("'input' must be a string or a list, got ") + input.type_name(),
                      "input");
  }
  if (texts.size() > static_cast<size_t>(config_.max_items_per_request)) {
    return ErrorReply(413, "too_large",
                      "'input' has " + std::to_string(texts.size()) + " entries; the limit is " +
                          std::to_string(config_.max_items_per_request),
                      "input");
  }
  std::vector<Item> items;
  std::vector<std::string> where;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string w = input.is_array() ? "input[" + std::to_string(i) + "]: " : "";
    auto item =
        ItemFromJson(Json{{"prompt", texts[i]}}, static_cast<size_t>(config_.max_body_bytes));
    if (!item.ok()) {
      Reply r = StatusReply(item.status());
      AddWhere(&r, w);
      return r;
    }
    items.push_back(std::move(item).value());
    where.push_back(w);
  }
  std::vector<ItemScore> scores;
  Reply r = ScoreItems(items, std::vector<Classifier*>(items.size(), c), where, caller, &scores);
  if (!r.ok()) return r;
  // A flag sets the OpenAI categories of the categories the guard decoded
  // (with the "categories" option, for guards that name them: their profile's
  // "categories.openai" mapping), or else the constitution's
  // openai_categories; each set one is scored p_unsafe, the others are false
  // with score 0. Every category applies to text, the only input type served.
  const auto& spec = c->constitution().categories();
  const bool decode = config_.categories && spec.has_value();
  Json applied = Json::object();
  for (const auto& k : OpenAiModerationCategories()) applied[k] = Json::array({"text"});
  Json results = Json::array();
  std::string cname;
  for (size_t i = 0; i < items.size(); ++i) {
    Json mine = ItemJson(items[i], scores[i], c);
    cname = mine["constitution"];
    metrics_.Add("ccguard_items_total",
                 {{"route", "moderations"}, {"constitution", cname}, {"label", mine["label"]}});
    mine.erase("logprob_safe");
    mine.erase("logprob_unsafe");
    std::vector<std::string> mapped = c->constitution().openai_categories();
    if (decode) {
      Status st = WriteCategoryFields(*c, items[i], scores[i], &mine);
      if (!st.ok()) {
        Reply e = StatusReply(st.WithContext("categories"));
        AddWhere(&e, where[i]);
        return e;
      }
      std::vector<std::string> names;
      for (const auto& n : mine["categories"]) names.push_back(n.get<std::string>());
      if (auto keys = spec->OpenAiKeys(names); !keys.empty()) mapped = std::move(keys);
    }
    Json categories = Json::object(), category_scores = Json::object();
    for (const auto& k : OpenAiModerationCategories()) {
      const bool set = std::find(mapped.begin(), mapped.end(), k) != mapped.end();
      categories[k] = set && scores[i].unsafe;
      category_scores[k] = set ? scores[i].p_unsafe : 0.0;
    }
    results.push_back({{"flagged", scores[i].unsafe},
                       {"categories", categories},
                       {"category_scores", category_scores},
                       {"category_applied_input_types", applied},
                       {"ccguard", std::move(mine)}});
  }
  r.body = {{"id", "modr-" + RandomHex(12)},
            {"model", "ccguard/" + cname},
            {"results", std::move(results)}};
  return r;
}

Reply Service::SessionMiss(const std::string& id, SessionTable::Miss miss) const {
  switch (miss) {
    case SessionTable::Miss::kExpired:
      return ErrorReply(410, "session_expired",
                        "session " + id + " was evicted after " +
                            std::to_string(config_.session_idle_timeout_s) +
                            " s without activity (the idle timeout); open a new session");
    case SessionTable::Miss::kClosed:
      return ErrorReply(410, "session_closed", "session " + id + " was closed");
    case SessionTable::Miss::kShutdown:
      return ErrorReply(503, "shutting_down", "the server is shutting down");
    default:
      return ErrorReply(404, "session_not_found", "no session " + id);
  }
}

std::shared_ptr<Session> Service::FindSession(const std::string& id, const Caller& caller,
                                              Reply* error) {
  if (!ready_) {
    Unavailable(error);
    return nullptr;
  }
  SessionTable::Miss miss;
  auto s = sessions_->Find(id, caller.key, &miss);
  if (s == nullptr) *error = SessionMiss(id, miss);
  return s;
}

Reply Service::OpenSession(const Json& body, const Caller& caller) {
  Reply error;
  if (Unavailable(&error)) return error;
  if (!IsObject(body, &error)) return error;
  if (!OnlyKeys(body, {"prompt", "messages", "constitution"}, &error)) return error;
  // The prompt whose response will be streamed: a lone "prompt", or a
  // conversation in "messages" ending with the user turn.
  const bool conversation = body.contains("messages");
  if (conversation == body.contains("prompt")) {
    return ErrorReply(400, "invalid_request",
                      "a session needs exactly one of 'prompt' or 'messages'");
  }
  const char* form = conversation ? "messages" : "prompt";
  auto item = ItemFromJson(Json{{form, body[form]}}, static_cast<size_t>(config_.max_body_bytes));
  if (!item.ok()) return StatusReply(item.status());
  if (item->response.has_value()) {
    return ErrorReply(400, "invalid_request",
                      "'messages' of a session must end with the user turn whose response is "
                      "streamed (a final assistant turn is judged by /v1/classify)",
                      "messages");
  }
  Classifier* c =
      Resolve(body.contains("constitution") ? body["constitution"] : Json(), "", &error);
  if (c == nullptr) return error;
  const std::string name = NameOf(c);
  Json initial;
  bool full = false;
  auto s = sessions_->Open(c, name, *item, caller.key, &initial, &full);
  if (!s.ok()) {
    if (full) {
      Reply r = ErrorReply(429, IsKvFull(s.status()) ? "session_memory_full" : "too_many_sessions",
                           s.status().message());
      r.headers.push_back({"Retry-After", "1"});
      return r;
    }
    return ScoreFailed(s.status());
  }
  Reply r;
  r.status = 201;
  const std::string& id = (*s)->id();
  r.body = {{"id", id},
            {"constitution", name},
            {"threshold", c->threshold()},
            {"max_tokens", config_.session_max_tokens},
            {"idle_timeout_s", config_.session_idle_timeout_s},
            {"score", initial}};
  r.headers.push_back({"Location", "/v1/sessions/" + id});
  return r;
}

Reply Service::ScoreFailed(const Status& st) {
  if (Classifier::IsNonFiniteOutput(st)) metrics_.Add("ccguard_nonfinite_scores_total", {});
  return StatusReply(st);
}

Reply Service::AppendLocked(Session& s, const Json& body) {
  if (!s.ended().empty()) {
    return SessionMiss(s.id(), s.ended() == "expired"  ? SessionTable::Miss::kExpired
                               : s.ended() == "closed" ? SessionTable::Miss::kClosed
                                                       : SessionTable::Miss::kShutdown);
  }
  Reply error;
  if (!IsObject(body, &error)) return error;
  if (!OnlyKeys(body, {"chunk"}, &error)) return error;
  auto it = body.find("chunk");
  if (it == body.end()) return ErrorReply(400, "invalid_request", "'chunk' is required");
  if (!it->is_string()) {
    return ErrorReply(400, "invalid_request",
                      std::string("'chunk' must be a string, got ") + it->type_name());
  }
  auto r = s.Append(it->get<std::string>());
  if (!r.ok()) {
    if (IsKvFull(r.status())) {
      Reply full = ErrorReply(429, "session_memory_full", r.status().message());
      full.headers.push_back({"Retry-After", "1"});
      return full;
    }
    if (r.status().code() == Status::Code::kResourceExhausted) {
      return ErrorReply(413, "session_token_limit", r.status().message());
    }
    return ScoreFailed(r.status());
  }
  metrics_.Add(
      "ccguard_items_total",
      {{"route", "sessions"}, {"constitution", s.constitution()}, {"label", (*r)["label"]}});
  Reply out;
  out.body = std::move(r).value();
  return out;
}

Reply Service::Append(const std::string& id, const Json& body, const Caller& caller) {
  Reply error;
  auto s = FindSession(id, caller, &error);
  if (s == nullptr) return error;
  auto op = s->TryLock();
  if (!op.owns_lock()) {
    return ErrorReply(409, "session_busy",
                      "another request on session " + id +
                          " is in progress; send a session's chunks one at a time");
  }
  return AppendLocked(*s, body);
}

Reply Service::GetSession(const std::string& id, const Caller& caller) {
  Reply error;
  auto s = FindSession(id, caller, &error);
  if (s == nullptr) return error;
  Reply r;
  r.body = s->State();
  return r;
}

Reply Service::CloseSession(const std::string& id, const Caller& caller) {
  Reply error;
  if (FindSession(id, caller, &error) == nullptr) return error;
  if (!sessions_->Close(id, caller.key)) {
    SessionTable::Miss miss;
    sessions_->Find(id, caller.key, &miss);
    return SessionMiss(id, miss);
  }
  Reply r;
  r.body = {{"id", id}, {"closed", true}};
  return r;
}

Reply Service::Health() const {
  Reply r;
  r.body = {{"status", "ok"}};
  return r;
}

Reply Service::Ready() const {
  Reply r;
  if (draining_) {
    r = ErrorReply(503, "shutting_down", "the server is shutting down");
  } else if (!ready_) {
    r = ErrorReply(503, "not_ready", "the model is still loading");
  } else {
    r.body = {{"status", "ready"},   {"constitutions", names_}, {"default_constitution", names_[0]},
              {"compute", compute_}, {"backend", backend_},     {"threads", threads_}};
  }
  return r;
}

Reply Service::Models() const {
  Reply error;
  if (Unavailable(&error)) return error;
  // OpenAI's list shape: one entry per loaded constitution (the names
  // /v1/moderations and /v1/classify accept), plus what runs them.
  Json data = Json::array();
  for (const auto& name : names_) {
    const Classifier* c = classifiers_.at(name).get();
    const Constitution& con = c->constitution();
    Json classes = Json::array();
    for (size_t i = 0; i < con.label_classes().size(); ++i) {
      classes.push_back({{"name", con.label_classes()[i].name}, {"unsafe", con.ClassIsUnsafe(i)}});
    }
    data.push_back({{"id", name},
                    {"object", "model"},
                    {"created", 0},
                    {"owned_by", "ccguard"},
                    {"default", name == names_[0]},
                    {"threshold", c->threshold()},
                    {"guard", con.name()},
                    {"label_classes", std::move(classes)},
                    {"categories", config_.categories && con.categories().has_value()}});
  }
  Reply r;
  r.body = {
      {"object", "list"},       {"data", std::move(data)},
      {"model", config_.model}, {"adapter", config_.no_adapter ? Json() : Json(config_.adapter)},
      {"compute", compute_},    {"backend", backend_},
      {"threads", threads_},    {"device", config_.device}};
  return r;
}

}  // namespace ccguard::server
