#include "server/routes.h"

#include <httplib.h>

#include <charconv>
#include <cmath>
#include <exception>
#include <functional>
#include <optional>
#include <random>

namespace ccguard::server {
namespace {

using httplib::Request;
using httplib::Response;

// What the logger needs about the request this thread is serving. The HTTP
// library routes, handles and logs a request on one thread.
struct RequestInfo {
  SteadyClock::time_point start{};
  bool started = false;
  const char* route = nullptr;
  int key = -1;
  std::string error;       // error code of a 4xx/5xx reply
  std::string request_id;  // the x-request-id of the response
};
thread_local RequestInfo t_info;

constexpr std::chrono::milliseconds kEventWait{1000};
constexpr size_t kMaxRequestIdBytes = 128;

// The request's id: the client's X-Request-Id when it is 1..128 printable
// ASCII characters without spaces (so it cannot break a header or a log
// line), else a new random "req_<32 hex>".
std::string RequestIdFor(const Request& req) {
  const std::string given = req.get_header_value("X-Request-Id");
  bool ok = !given.empty() && given.size() <= kMaxRequestIdBytes;
  for (char c : given) ok = ok && c > 0x20 && c < 0x7f;
  if (ok) return given;
  thread_local std::mt19937_64 rng(
      std::random_device{}() ^
      static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()));
  static const char kHex[] = "0123456789abcdef";
  std::string id = "req_";
  for (int i = 0; i < 2; ++i) {
    const uint64_t v = rng();
    for (int b = 0; b < 16; ++b) id.push_back(kHex[(v >> (4 * b)) & 15]);
  }
  return id;
}

// Gives the response its x-request-id (once): this request's, or a new one
// for a request answered before the pre-routing handler ran.
void SetRequestId(const Request& req, Response& res) {
  if (t_info.request_id.empty()) t_info.request_id = RequestIdFor(req);
  if (!res.has_header("x-request-id")) res.set_header("x-request-id", t_info.request_id);
}
constexpr std::chrono::seconds kKeepAliveEvery{5};

Caller CurrentCaller() {
  Caller c;
  c.key = t_info.key;
  c.arrival = t_info.started ? t_info.start : SteadyClock::now();
  return c;
}

void Send(Response& res, const Reply& r) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  if (!r.ok() && r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()) {
    t_info.error = ErrorCode(r);
  }
  res.set_content(DumpJson(r.body) + "\n", "application/json");
}

// Sends `r` and then closes the connection: for answers given before the
// request body was read to its end (the rest of the upload must not be read
// as the next request). The body goes through a chunked provider that
// reports failure once everything is written, which makes the library drop
// the connection instead of keeping it alive.
void SendAndClose(Response& res, int status, std::string body, const char* content_type) {
  res.status = status;
  res.set_header("Connection", "close");
  auto data = std::make_shared<std::string>(std::move(body));
  res.set_chunked_content_provider(content_type, [data](size_t, httplib::DataSink& sink) {
    sink.write(data->data(), data->size());
    sink.done();
    return false;
  });
}

void SendAndClose(Response& res, const Reply& r) {
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  if (!r.ok()) t_info.error = ErrorCode(r);
  SendAndClose(res, r.status, DumpJson(r.body) + "\n", "application/json");
}

// Checks the API key (when keys are configured and the route is protected);
// on failure sends 401 and returns false.
std::optional<Reply> Unauthorized(RouteContext* ctx, const Request& req, bool protect);

bool Authorize(RouteContext* ctx, const Request& req, Response& res, bool protect) {
  auto r = Unauthorized(ctx, req, protect);
  if (r.has_value()) Send(res, *r);
  return !r.has_value();
}

// ---- Request bodies ----
// The library would read a body into memory without a bound (chunked, no
// Content-Length, or inflated from Content-Encoding), so every route of a
// method that may carry one (POST, PUT, PATCH, DELETE) takes a ContentReader
// and reads through ReadBody, which holds the bytes to `limit` as they
// arrive: the raw bytes (Content-Length above the limit is refused before
// reading; a compressed body must have a Content-Length) and the inflated
// ones (counted by the receiver). The pre-routing handler answers requests of
// other methods that carry a body. A request answered before its body was
// read to the end is answered with SendAndClose.

bool IsChunked(const Request& req) { return req.has_header("Transfer-Encoding"); }

// The Content-Length, if the request has a valid one.
std::optional<uint64_t> ContentLength(const Request& req) {
  if (!req.has_header("Content-Length")) return std::nullopt;
  const std::string v = req.get_header_value("Content-Length");
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || v.empty()) return std::nullopt;
  return n;
}

// RFC 9112: a request has a body when it has Transfer-Encoding or a
// Content-Length above 0 (a malformed Content-Length counts as a body).
bool HasBody(const Request& req) {
  if (IsChunked(req)) return true;
  if (!req.has_header("Content-Length")) return false;
  auto n = ContentLength(req);
  return !n.has_value() || *n > 0;
}

bool IsCompressed(const Request& req) {
  if (!req.has_header("Content-Encoding")) return false;
  const std::string e = req.get_header_value("Content-Encoding");
  return !e.empty() && e != "identity";
}

enum class BodyRead { kComplete, kTooLarge, kUnreadable };

// The 413 for a body over `limit` bytes (raw, or inflated when compressed).
// It cannot name an item: the body is refused before it is parsed.
Reply BodyTooLarge(const Request& req, size_t limit) {
  return ErrorReply(413, "too_large",
                    "the request body exceeds the limit of " + std::to_string(limit) + " bytes" +
                        (IsCompressed(req) ? " (after decompression)" : "") +
                        "; send fewer items per request");
}

// Reads the body into `out` (nullptr: discards it), at most `limit` bytes.
// Fills `error` unless kComplete.
BodyRead ReadBody(const Request& req, Response& res, const httplib::ContentReader& reader,
                  size_t limit, std::string* out, Reply* error) {
  if (!HasBody(req)) return BodyRead::kComplete;
  auto too_large = [&] {
    *error = BodyTooLarge(req, limit);
    return BodyRead::kTooLarge;
  };
  const auto length = ContentLength(req);
  if (length.has_value() && *length > limit) return too_large();
  size_t total = 0;
  bool over = false;
  const bool ok = reader([&](const char* data, size_t n) {
    total += n;
    if (total > limit) {
      over = true;
      return false;
    }
    if (out != nullptr) out->append(data, n);
    return true;
  });
  if (ok) return BodyRead::kComplete;
  if (over || res.status == 413) return too_large();
  *error = res.status == 415
               ? ErrorReply(415, "unsupported_media_type",
                            "Content-Encoding '" + req.get_header_value("Content-Encoding") +
                                "' is not supported (gzip, deflate, br)")
               : ErrorReply(400, "invalid_request",
                            "the request body could not be read (malformed chunked encoding or "
                            "compressed data, closed connection or read timeout)");
  return BodyRead::kUnreadable;
}

// Sends `r` for a request whose body the handler does not need (or refused:
// 413): the body is read and dropped first to keep the connection usable
// (and the client able to read the answer), raw (Content-Encoding is not
// undone, so nothing is inflated) and at most 4 x `limit` bytes; a longer or
// unreadable body is left unread and the connection closed.
void SendDiscardingBody(const Request& req, Response& res, const httplib::ContentReader& reader,
                        size_t limit, const Reply& r) {
  if (HasBody(req)) {
    const size_t cap = 4 * limit;
    const auto length = ContentLength(req);
    if (!length.has_value() || *length > cap) return SendAndClose(res, r);
    // The Request object the library passes is its own non-const one.
    const_cast<Request&>(req).headers.erase("Content-Encoding");
    Reply ignored;
    if (ReadBody(req, res, reader, cap, nullptr, &ignored) != BodyRead::kComplete) {
      return SendAndClose(res, r);
    }
  }
  Send(res, r);
}

// The 401 for a request without a valid key, or nullopt when it may go on.
std::optional<Reply> Unauthorized(RouteContext* ctx, const Request& req, bool protect) {
  if (!protect || !ctx->keys->enabled()) return std::nullopt;
  const int key = ctx->keys->Check(req.get_header_value("Authorization"));
  if (key >= 0) {
    t_info.key = key;
    return std::nullopt;
  }
  Reply r = ErrorReply(401, "unauthorized",
                       req.has_header("Authorization")
                           ? "invalid API key"
                           : "missing API key: send 'Authorization: Bearer <key>'");
  r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"ccguard\""});
  return r;
}

void SetPhase(RouteContext* ctx, const Request& req, ConnectionWatchdog::Phase phase) {
  if (ctx->watchdog != nullptr) ctx->watchdog->SetPhase(req.remote_addr, req.remote_port, phase);
}

// A session id from the path, shortened for messages if it is not one.
std::string PathId(const Request& req) {
  std::string id = req.matches.size() > 1 ? req.matches[1].str() : "";
  if (id.size() > 64) id = id.substr(0, 64) + "...";
  return id;
}

std::string SseEvent(const std::string& type, const std::string& data, uint64_t id = 0) {
  std::string out;
  if (id > 0) out += "id: " + std::to_string(id) + "\n";
  out += "event: " + type + "\ndata: " + data + "\n\n";
  return out;
}

// The route name of a path, for requests the library answered before any
// handler ran (e.g. a body over the limit).
const char* RouteOf(const std::string& path) {
  static const char* const kFixed[] = {"/healthz",        "/health",     "/readyz",
                                       "/metrics",        "/v1/models",  "/v1/classify",
                                       "/v1/moderations", "/v1/sessions"};
  for (const char* r : kFixed) {
    if (path == r) return r;
  }
  const std::string prefix = "/v1/sessions/";
  if (path.rfind(prefix, 0) != 0) return "unmatched";
  const std::string rest = path.substr(prefix.size());
  const size_t slash = rest.find('/');
  if (slash == 0) return "unmatched";
  if (slash == std::string::npos) return "/v1/sessions/{id}";
  const std::string tail = rest.substr(slash);
  if (tail == "/append") return "/v1/sessions/{id}/append";
  if (tail == "/stream") return "/v1/sessions/{id}/stream";
  if (tail == "/events") return "/v1/sessions/{id}/events";
  return "unmatched";
}

// Metric label values come from a fixed set, whatever a client sends: any
// other method is "other" (a made-up method per request must not grow
// /metrics), any status outside 100..599 "other".
std::string MethodLabel(const std::string& method) {
  static const char* const kKnown[] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                       "OPTIONS", "PATCH", "CONNECT", "TRACE"};
  for (const char* k : kKnown) {
    if (method == k) return method;
  }
  return "other";
}

std::string StatusLabel(int status) {
  return status >= 100 && status <= 599 ? std::to_string(status) : "other";
}

using JsonHandler = std::function<Reply(const Request&, const Json&, const Caller&)>;

// A JSON route of a method without a body (GET): authorizes, calls `fn` and
// sends its reply. No exception escapes.
httplib::Server::Handler JsonRoute(RouteContext* ctx, const char* name, JsonHandler fn) {
  return [ctx, name, fn](const Request& req, Response& res) {
    t_info.route = name;
    try {
      if (!Authorize(ctx, req, res, true)) return;
      Send(res, fn(req, Json(), CurrentCaller()));
    } catch (const std::exception& e) {
      Send(res, ErrorReply(500, "internal", std::string("unexpected error: ") + e.what()));
    }
  };
}

// A JSON route of a method with a body (POST, DELETE): authorizes before
// reading a byte of the body (an unauthorized body is dropped unread past
// the limit), reads and parses the body when `json_body` (else drops it),
// calls `fn` and sends its reply. No exception escapes.
httplib::Server::HandlerWithContentReader BodyRoute(RouteContext* ctx, const char* name,
                                                    bool json_body, JsonHandler fn) {
  return [ctx, name, json_body, fn](const Request& req, Response& res,
                                    const httplib::ContentReader& reader) {
    t_info.route = name;
    const size_t limit = static_cast<size_t>(ctx->service->config().max_body_bytes);
    try {
      if (auto denied = Unauthorized(ctx, req, true)) {
        return SendDiscardingBody(req, res, reader, limit, *denied);
      }
      std::string text;
      Reply error;
      const auto length = ContentLength(req);
      if (length.has_value() && *length > limit) {
        // Refused by its Content-Length before a byte was read.
        return SendDiscardingBody(req, res, reader, limit, BodyTooLarge(req, limit));
      }
      if (ReadBody(req, res, reader, limit, json_body ? &text : nullptr, &error) !=
          BodyRead::kComplete) {
        return SendAndClose(res, error);  // stopped midway: the rest stays unread
      }
      SetPhase(ctx, req, ConnectionWatchdog::Phase::kHandler);
      Json body;
      if (json_body) {
        auto j = ParseJson(text, "request body");
        if (!j.ok()) return Send(res, ErrorReply(400, "invalid_json", j.status().message()));
        body = std::move(j).value();
      }
      Send(res, fn(req, body, CurrentCaller()));
    } catch (const std::exception& e) {
      Send(res, ErrorReply(500, "internal", std::string("unexpected error: ") + e.what()));
    }
  };
}

// GET /v1/sessions/{id}/events: the session's events as Server-Sent Events,
// live, until the session ends (or the server shuts down).
void EventsRoute(RouteContext* ctx, const Request& req, Response& res) {
  t_info.route = "/v1/sessions/{id}/events";
  if (!Authorize(ctx, req, res, true)) return;
  Reply error;
  auto s = ctx->service->FindSession(PathId(req), CurrentCaller(), &error);
  if (s == nullptr) return Send(res, error);
  const int limit = ctx->service->config().max_event_streams;
  if (ctx->event_streams.fetch_add(1) >= limit) {
    ctx->event_streams--;
    Reply r = ErrorReply(429, "too_many_streams",
                         "too many event streams open (limit " + std::to_string(limit) + ")");
    r.headers.push_back({"Retry-After", "1"});
    return Send(res, r);
  }
  // Replays the retained events, or resumes after Last-Event-ID.
  uint64_t after = 0;
  const std::string last = req.get_header_value("Last-Event-ID");
  std::from_chars(last.data(), last.data() + last.size(), after);
  struct State {
    uint64_t after;
    SteadyClock::time_point last_write;
  };
  auto state = std::make_shared<State>(State{after, SteadyClock::now()});
  const std::atomic<bool>* cancel = ctx->service->cancel_flag();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [s, state, cancel](size_t, httplib::DataSink& sink) {
        std::vector<SessionEvent> events;
        const bool more = s->WaitEvents(state->after, kEventWait, cancel, &events);
        std::string out;
        bool end = !more;
        for (const auto& e : events) {
          out += SseEvent(e.type, e.data, e.seq);
          state->after = e.seq;
          end = end || e.type == "end";
        }
        if (!end && cancel->load()) {
          out += SseEvent("end", DumpJson({{"session_id", s->id()}, {"reason", "shutdown"}}));
          end = true;
        }
        const auto now = SteadyClock::now();
        if (out.empty() && now - state->last_write >= kKeepAliveEvery) out = ": keep-alive\n\n";
        if (!out.empty()) {
          if (!sink.write(out.data(), out.size())) return false;  // the client left
          state->last_write = now;
        }
        if (end) sink.done();
        return true;
      },
      [ctx](bool) { ctx->event_streams--; });
}

// POST /v1/sessions/{id}/stream: the body is NDJSON, one {"chunk": str} per
// line, typically uploaded with chunked transfer encoding as the response is
// generated. Each line is scored as it arrives. At the first chunk whose
// score crosses the threshold the server stops reading and answers at once
// (and closes the connection). The answer is Server-Sent Events: one "score"
// event per chunk, then "done". A bad line ends the request with its 4xx and
// a JSON error body that also lists the events scored before it.
void StreamRoute(RouteContext* ctx, const Request& req, Response& res,
                 const httplib::ContentReader& reader) {
  t_info.route = "/v1/sessions/{id}/stream";
  const size_t max_line = static_cast<size_t>(ctx->service->config().max_body_bytes);
  try {
    if (auto denied = Unauthorized(ctx, req, true)) {
      return SendDiscardingBody(req, res, reader, max_line, *denied);
    }
    Reply error;
    auto s = ctx->service->FindSession(PathId(req), CurrentCaller(), &error);
    if (s == nullptr) return SendDiscardingBody(req, res, reader, max_line, error);
    auto op = s->TryLock();
    if (!op.owns_lock()) {
      return SendDiscardingBody(
          req, res, reader, max_line,
          ErrorReply(409, "session_busy",
                     "another request on session " + s->id() + " is in progress"));
    }
    // The upload is long-lived by design (one line per generated chunk): it is
    // the handler's phase, not a half-received request.
    SetPhase(ctx, req, ConnectionWatchdog::Phase::kHandler);
    std::string pending, events;
    Json scored = Json::array();
    Json last;
    int64_t line_no = 0;
    bool stopped = false, failed = false;
    auto process = [&](std::string line) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) return true;
      const std::string where = "line " + std::to_string(line_no);
      auto j = ParseJson(line, where);
      Reply r = j.ok() ? ctx->service->AppendLocked(*s, *j)
                       : ErrorReply(400, "invalid_json", j.status().message());
      if (!r.ok()) {
        if (j.ok()) AddWhere(&r, where + ": ");
        error = std::move(r);
        failed = true;
        return false;
      }
      events += SseEvent("score", DumpJson(r.body));
      scored.push_back(r.body);
      last = r.body;
      if (r.body.value("stop", false)) {
        stopped = true;
        return false;
      }
      return true;
    };
    const bool read_all = reader([&](const char* data, size_t n) {
      pending.append(data, n);
      size_t pos;
      while ((pos = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, pos);
        pending.erase(0, pos + 1);
        if (!process(std::move(line))) return false;
      }
      if (pending.size() > max_line) {
        error = ErrorReply(413, "too_large",
                           "line " + std::to_string(line_no + 1) + " exceeds " +
                               std::to_string(max_line) + " bytes");
        failed = true;
        return false;
      }
      return true;
    });
    if (read_all && !pending.empty()) process(pending);
    if (!read_all && !failed && !stopped) {
      failed = true;
      error = res.status == 413
                  ? ErrorReply(413, "too_large", "the request body exceeds the size limit")
                  : ErrorReply(400, "invalid_request",
                               "the request body could not be read (malformed chunked "
                               "encoding, closed connection or read timeout)");
    }
    if (failed) {
      error.body["chunks_scored"] = scored.size();
      error.body["events"] = std::move(scored);
      return read_all ? Send(res, error) : SendAndClose(res, error);
    }
    Json done = {{"session_id", s->id()},
                 {"chunks", scored.size()},
                 {"stop", stopped || last.value("stop", false)},
                 {"stop_chunk", last.is_object() ? last["stop_chunk"] : Json()}};
    if (last.is_object()) {
      done["p_unsafe"] = last["p_unsafe"];
      done["label"] = last["label"];
      done["n_tokens"] = last["n_tokens"];
    }
    events += SseEvent("done", DumpJson(done));
    res.set_header("Cache-Control", "no-cache");
    if (read_all) {
      res.status = 200;
      res.set_content(events, "text/event-stream");
    } else {
      SendAndClose(res, 200, std::move(events), "text/event-stream");  // the rest is unread
    }
  } catch (const std::exception& e) {
    Send(res, ErrorReply(500, "internal", std::string("unexpected error: ") + e.what()));
  }
}

// Answers a known path with the wrong method: 405 with Allow.
Reply MethodNotAllowedReply(const Request& req, const char* route, const std::string& allow) {
  Reply r = ErrorReply(
      405, "method_not_allowed",
      req.method.substr(0, 32) + " is not allowed on " + route + " (allowed: " + allow + ")");
  r.headers.push_back({"Allow", allow});
  return r;
}

httplib::Server::Handler MethodNotAllowed(const char* route, std::string allow) {
  return [route, allow](const Request& req, Response& res) {
    t_info.route = route;
    Send(res, MethodNotAllowedReply(req, route, allow));
  };
}

// The same for methods that may carry a body (dropped, at most the limit).
httplib::Server::HandlerWithContentReader MethodNotAllowedWithBody(RouteContext* ctx,
                                                                   const char* route,
                                                                   std::string allow) {
  return [ctx, route, allow](const Request& req, Response& res,
                             const httplib::ContentReader& reader) {
    t_info.route = route;
    SendDiscardingBody(req, res, reader, static_cast<size_t>(ctx->service->config().max_body_bytes),
                       MethodNotAllowedReply(req, route, allow));
  };
}

Reply NoRouteReply(const Request& req) {
  std::string path = req.path.size() > 200 ? req.path.substr(0, 200) + "..." : req.path;
  return ErrorReply(
      404, "not_found",
      "no route for " + req.method.substr(0, 32) + " " + path + " (see docs/server.md)");
}

}  // namespace

void InstallRoutes(httplib::Server* http, RouteContext* ctx) {
  Service* svc = ctx->service;
  const bool public_metrics = svc->config().public_metrics;

  // Before any route (and before the library reads a byte of the body).
  http->set_pre_routing_handler([ctx](const Request& req, Response& res) {
    t_info = RequestInfo{};
    t_info.start = SteadyClock::now();
    t_info.started = true;
    SetRequestId(req, res);
    const bool body = HasBody(req);
    SetPhase(ctx, req,
             body ? ConnectionWatchdog::Phase::kBody : ConnectionWatchdog::Phase::kHandler);
    const std::string& m = req.method;
    const bool body_method = m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
    if (m == "PRI" || (body && !body_method)) {
      // No route of these methods reads a body; the library would read a PRI
      // body whole. The connection is closed: the body stays unread.
      t_info.route = RouteOf(req.path);
      SendAndClose(res, ErrorReply(400, "invalid_request",
                                   "a " + m.substr(0, 32) + " request must not have a body"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (body && IsChunked(req) && IsCompressed(req)) {
      // Without a Content-Length the compressed (raw) bytes would have no bound.
      t_info.route = RouteOf(req.path);
      SendAndClose(res, ErrorReply(411, "length_required",
                                   "a compressed request body (Content-Encoding) needs a "
                                   "Content-Length"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Health and metrics.
  http->Get("/healthz", [svc](const Request&, Response& res) {
    t_info.route = "/healthz";
    Send(res, svc->Health());
  });
  http->Get("/health", [svc](const Request&, Response& res) {  // as llama-server and vLLM
    t_info.route = "/health";
    Send(res, svc->Health());
  });
  http->Get("/readyz", [svc](const Request&, Response& res) {
    t_info.route = "/readyz";
    Send(res, svc->Ready());
  });
  http->Get("/metrics", [ctx, svc, public_metrics](const Request& req, Response& res) {
    t_info.route = "/metrics";
    if (!Authorize(ctx, req, res, !public_metrics)) return;
    res.set_content(svc->RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
  });

  http->Get("/v1/models",
            JsonRoute(ctx, "/v1/models",
                      [svc](const Request&, const Json&, const Caller&) { return svc->Models(); }));

  // Classification.
  http->Post("/v1/classify", BodyRoute(ctx, "/v1/classify", true,
                                       [svc](const Request&, const Json& body, const Caller& c) {
                                         return svc->Classify(body, c);
                                       }));
  http->Post("/v1/moderations", BodyRoute(ctx, "/v1/moderations", true,
                                          [svc](const Request&, const Json& body, const Caller& c) {
                                            return svc->Moderations(body, c);
                                          }));

  // Streaming sessions.
  http->Post("/v1/sessions", BodyRoute(ctx, "/v1/sessions", true,
                                       [svc](const Request&, const Json& body, const Caller& c) {
                                         return svc->OpenSession(body, c);
                                       }));
  http->Get(
      "/v1/sessions/([^/]+)",
      JsonRoute(ctx, "/v1/sessions/{id}", [svc](const Request& req, const Json&, const Caller& c) {
        return svc->GetSession(PathId(req), c);
      }));
  http->Delete("/v1/sessions/([^/]+)",
               BodyRoute(ctx, "/v1/sessions/{id}", false,
                         [svc](const Request& req, const Json&, const Caller& c) {
                           return svc->CloseSession(PathId(req), c);
                         }));
  http->Post("/v1/sessions/([^/]+)/append",
             BodyRoute(ctx, "/v1/sessions/{id}/append", true,
                       [svc](const Request& req, const Json& body, const Caller& c) {
                         return svc->Append(PathId(req), body, c);
                       }));
  http->Post("/v1/sessions/([^/]+)/stream",
             [ctx](const Request& req, Response& res, const httplib::ContentReader& reader) {
               StreamRoute(ctx, req, res, reader);
             });
  http->Get("/v1/sessions/([^/]+)/events",
            [ctx](const Request& req, Response& res) { EventsRoute(ctx, req, res); });

  // Wrong methods on known paths.
  struct Known {
    const char* pattern;
    const char* route;
    const char* allow;
  };
  const Known known[] = {
      {"/healthz", "/healthz", "GET"},
      {"/health", "/health", "GET"},
      {"/readyz", "/readyz", "GET"},
      {"/metrics", "/metrics", "GET"},
      {"/v1/models", "/v1/models", "GET"},
      {"/v1/classify", "/v1/classify", "POST"},
      {"/v1/moderations", "/v1/moderations", "POST"},
      {"/v1/sessions", "/v1/sessions", "POST"},
      {"/v1/sessions/([^/]+)", "/v1/sessions/{id}", "GET, DELETE"},
      {"/v1/sessions/([^/]+)/append", "/v1/sessions/{id}/append", "POST"},
      {"/v1/sessions/([^/]+)/stream", "/v1/sessions/{id}/stream", "POST"},
      {"/v1/sessions/([^/]+)/events", "/v1/sessions/{id}/events", "GET"},
  };
  for (const Known& k : known) {
    const std::string allow = k.allow;
    auto with_body = MethodNotAllowedWithBody(ctx, k.route, allow);
    if (allow.find("GET") == std::string::npos)
      http->Get(k.pattern, MethodNotAllowed(k.route, allow));
    if (allow.find("POST") == std::string::npos) http->Post(k.pattern, with_body);
    if (allow.find("DELETE") == std::string::npos) http->Delete(k.pattern, with_body);
    http->Put(k.pattern, with_body);
    http->Patch(k.pattern, with_body);
  }
  // Any other path, for the methods that may carry a body: 404 without
  // letting the library read that body.
  auto no_route = [ctx](const Request& req, Response& res, const httplib::ContentReader& reader) {
    t_info.route = "unmatched";
    SendDiscardingBody(req, res, reader, static_cast<size_t>(ctx->service->config().max_body_bytes),
                       NoRouteReply(req));
  };
  http->Post(".*", no_route);
  http->Put(".*", no_route);
  http->Patch(".*", no_route);
  http->Delete(".*", no_route);

  // Errors raised by the HTTP library itself (no route, bad request line,
  // body over the limit, ...) get the same JSON error shape.
  const int64_t max_body = svc->config().max_body_bytes;
  http->set_error_handler(
      httplib::Server::HandlerWithResponse([max_body](const Request& req, Response& res) {
        SetRequestId(req, res);
        if (!res.body.empty() || res.content_provider_) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        std::string msg;
        switch (res.status) {
          case 400:
            msg = "malformed HTTP request";
            break;
          case 404:
            msg = NoRouteReply(req).body["error"]["message"];
            break;
          case 413:
            msg = "the request body exceeds the limit of " + std::to_string(max_body) + " bytes";
            if (req.get_header_value("Content-Type").find("x-www-form-urlencoded") !=
                std::string::npos) {
              msg +=
                  " (form-encoded bodies are limited to 8192 bytes: send "
                  "'Content-Type: application/json')";
            }
            break;
          case 414:
            msg = "the request URI is too long";
            break;
          default:
            msg = "HTTP error " + std::to_string(res.status);
            break;
        }
        Reply r = ErrorReply(res.status, ErrorTypeFor(res.status), msg);
        const int status = res.status;
        Send(res, r);
        res.status = status;
        return httplib::Server::HandlerResponse::Handled;
      }));
  http->set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
    SetRequestId(req, res);
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    Send(res, ErrorReply(500, "internal", "unexpected error: " + what));
  });

  http->set_logger([ctx](const Request& req, const Response& res) {
    const double seconds =
        t_info.started ? std::chrono::duration<double>(SteadyClock::now() - t_info.start).count()
                       : 0.0;
    const std::string route = t_info.route != nullptr ? t_info.route
                              : res.status == 404     ? "unmatched"
                                                      : RouteOf(req.path);
    Metrics& m = ctx->service->metrics();
    m.Add("ccguard_http_requests_total", {{"route", route},
                                          {"method", MethodLabel(req.method)},
                                          {"status", StatusLabel(res.status)}});
    m.Observe("ccguard_http_request_duration_seconds", {{"route", route}}, seconds);
    if (ctx->log != nullptr && ctx->log->enabled()) {
      Json rec = {{"event", "request"},
                  {"method", req.method.size() > 32 ? req.method.substr(0, 32) : req.method},
                  {"path", req.path.size() > 512 ? req.path.substr(0, 512) : req.path},
                  {"route", route},
                  {"status", res.status},
                  {"ms", std::round(seconds * 1e6) / 1e3},
                  {"remote", req.remote_addr},
                  {"bytes_in", req.body.size()},
                  {"bytes_out", res.body.size()}};
      const std::string id = res.get_header_value("x-request-id");
      if (!id.empty()) rec["request_id"] = id;
      if (t_info.key >= 0) rec["key"] = t_info.key;
      if (!t_info.error.empty()) rec["error"] = t_info.error;
      ctx->log->Write(rec);
    }
    t_info = RequestInfo{};
    // The response is written: the connection waits for the next head.
    SetPhase(ctx, req, ConnectionWatchdog::Phase::kHead);
  });
  Metrics& m = svc->metrics();
  m.DeclareCounter("ccguard_http_requests_total", "HTTP requests by route, method and status.");
  m.DeclareCounter("ccguard_http_connections_cut_total",
                   "Connections cut by the watchdog, by reason (head_timeout, head_too_large, "
                   "shutdown).");
  m.DeclareHistogram("ccguard_http_request_duration_seconds",
                     "HTTP request latency by route, from the end of the headers to the end "
                     "of the response.",
                     Metrics::LatencyBuckets());
}

}  // namespace ccguard::server
