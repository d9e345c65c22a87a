// The HTTP guard service: binds a cpp-httplib server on loopback (by
// default), serves the routes of routes.h over a Service, loads the model in
// the background (/healthz answers at once, /readyz once the model is
// loaded), and shuts down gracefully: Shutdown() stops accepting
// connections, lets in-flight requests finish, ends event streams and
// sessions.
#pragma once

#include <memory>

#include "server/config.h"
#include "server/service.h"
#include "util/status.h"

namespace ccguard::server {

class HttpServer {
 public:
  // Reads the API keys, opens the access log and builds the service (the
  // model is not loaded yet). `config.model`/`adapter` must be folders.
  static Result<std::unique_ptr<HttpServer>> Create(const ServerConfig& config);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port; returns the port (the chosen one for port 0) and writes
  // it to config.port_file if set.
  Result<int> Bind();
  // Loads the model (unless loaded) in the background and serves until
  // Shutdown(). Returns the load error if loading failed (the server stops
  // then), else OK once every in-flight request has finished.
  Status Run();
  // Graceful stop; safe from any thread, idempotent, returns at once.
  void Shutdown();

  int port() const;
  Service& service();
  // Authentication is on (at least one key).
  bool auth_enabled() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccguard::server
