// The HTTP API on a cpp-httplib server (documented in docs/server.md):
//   GET    /healthz (and /health)  /readyz  /metrics
//   GET    /v1/models                   the loaded constitutions (OpenAI list shape)
//   POST   /v1/classify                 one item or {"items": [...]}
//   POST   /v1/moderations              OpenAI moderation shape
//   POST   /v1/sessions                 open a streaming session
//   GET    /v1/sessions/{id}            its state
//   DELETE /v1/sessions/{id}            close it
//   POST   /v1/sessions/{id}/append     one chunk -> score
//   POST   /v1/sessions/{id}/stream     NDJSON chunks (chunked upload) -> SSE
//   GET    /v1/sessions/{id}/events     live Server-Sent Events of a session
// plus: API keys (Bearer), JSON errors for every failure (the library's own
// 400/404/413 included), 405 for a wrong method, request metrics and the
// access log.
#pragma once

#include <atomic>

#include "server/access_log.h"
#include "server/auth.h"
#include "server/conn_watchdog.h"
#include "server/service.h"

namespace httplib {
class Server;
}

namespace ccguard::server {

struct RouteContext {
  Service* service = nullptr;
  const ApiKeys* keys = nullptr;
  AccessLog* log = nullptr;
  std::atomic<int> event_streams{0};  // open GET .../events responses
  // Told each connection's phase (may be null: no watchdog).
  ConnectionWatchdog* watchdog = nullptr;
};

// Installs the routes, the error and exception handlers and the logger.
// `ctx` must outlive the server.
void InstallRoutes(httplib::Server* http, RouteContext* ctx);

}  // namespace ccguard::server
