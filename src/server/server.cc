#include "server/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/access_log.h"
#include "server/auth.h"
#include "server/routes.h"

namespace ccguard::server {

struct HttpServer::Impl {
  ServerConfig config;
  ApiKeys keys;
  std::unique_ptr<AccessLog> log;
  std::unique_ptr<Service> service;
  RouteContext ctx;
  std::unique_ptr<ConnectionWatchdog> watchdog;  // made once the port is known
  httplib::Server http;
  int port = -1;
  std::mutex mu;
  bool shutdown_requested = false;
  bool finished = false;  // listen_after_bind() returned
  std::condition_variable shutdown_cv;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Shutdown();
  if (impl_->service) impl_->service->Finish();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerConfig& config) {
  CCG_RETURN_IF_ERROR(ValidateConfig(config));
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  CCG_ASSIGN_OR_RETURN(impl->keys,
                       ApiKeys::Load(config.api_keys_file, config.api_keys_env, config.api_keys));
  if (config.require_auth && !impl->keys.enabled()) {
    return Status::InvalidArgument(
        "require_auth is set but no API key was found (api_keys_file, $" + config.api_keys_env +
        ")");
  }
  CCG_ASSIGN_OR_RETURN(impl->log, AccessLog::Open(config.access_log));
  impl->service = std::make_unique<Service>(config);
  impl->ctx.service = impl->service.get();
  impl->ctx.keys = &impl->keys;
  impl->ctx.log = impl->log.get();

  httplib::Server& http = impl->http;
  const size_t threads = static_cast<size_t>(config.http_threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(static_cast<size_t>(config.max_body_bytes));
  http.set_read_timeout(config.read_timeout_s, 0);
  http.set_write_timeout(config.read_timeout_s, 0);
  http.set_keep_alive_timeout(config.keep_alive_timeout_s);
  http.set_keep_alive_max_count(1000);
  http.set_tcp_nodelay(true);
  // SO_REUSEADDR only: the library's default SO_REUSEPORT would let a second
  // server bind the same port and silently take half the connections.
  http.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  InstallRoutes(&http, &impl->ctx);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

Result<int> HttpServer::Bind() {
  Impl& m = *impl_;
  int port = m.config.port;
  if (port == 0) {
    port = m.http.bind_to_any_port(m.config.host);
  } else if (!m.http.bind_to_port(m.config.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Status::IOError("cannot listen on " + m.config.host + ":" +
                           std::to_string(m.config.port) + ": " + std::strerror(errno) +
                           " (is another server using the port?)");
  }
  m.port = port;
  ConnectionWatchdog::Options wo;
  wo.port = port;
  wo.head_timeout = std::chrono::milliseconds(static_cast<int64_t>(m.config.head_timeout_s) * 1000);
  Metrics* metrics = &m.service->metrics();
  m.watchdog = std::make_unique<ConnectionWatchdog>(wo, [metrics](const char* reason) {
    metrics->Add("ccguard_http_connections_cut_total", {{"reason", reason}});
  });
  m.ctx.watchdog = m.watchdog.get();
  if (!m.config.port_file.empty()) {
    const std::string tmp = m.config.port_file + ".tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << port << "\n";
      if (!f) return Status::IOError("cannot write port file '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), m.config.port_file.c_str()) != 0) {
      return Status::IOError("cannot write port file '" + m.config.port_file + "'");
    }
  }
  return port;
}

Status HttpServer::Run() {
  Impl& m = *impl_;
  if (m.port <= 0) return Status::Internal("Run() before Bind()");
  std::signal(SIGPIPE, SIG_IGN);  // a client that leaves must not end the process
  m.watchdog->Start();
  m.log->Write({{"event", "listening"},
                {"host", m.config.host},
                {"port", m.port},
                {"auth", m.keys.enabled() ? "on" : "off"},
                {"api_keys", m.keys.size()}});
  Status load_status;
  std::thread loader;
  if (!m.service->ready()) {
    loader = std::thread([this, &load_status] {
      const auto t0 = SteadyClock::now();
      Status st = impl_->service->Load();
      const double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
      if (st.ok()) {
        Json rec = {{"event", "ready"},
                    {"load_s", s},
                    {"constitutions", impl_->service->constitution_names()}};
        const auto warnings = impl_->service->warnings();
        if (!warnings.empty()) rec["warnings"] = warnings;
        impl_->log->Write(rec);
      } else {
        impl_->log->Write({{"event", "load_failed"}, {"error", st.ToString()}});
        load_status = st;
        Shutdown();
      }
    });
  }
  // Shutdown() may come from a signal watcher before or during listen: a
  // watcher thread turns the request into the library's stop().
  std::thread stopper([this] {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->shutdown_cv.wait(lock, [this] { return impl_->shutdown_requested; });
    lock.unlock();
    impl_->log->Write({{"event", "shutdown"}, {"phase", "draining"}});
    impl_->service->BeginShutdown();
    // Half-received requests (a head or body still arriving) are dropped now
    // and on every later scan; handlers run to their end.
    impl_->watchdog->Drain();
    // Let event streams write their end event before the library stops
    // calling content providers.
    for (int i = 0; i < 200 && impl_->ctx.event_streams.load() > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    while (!impl_->http.is_running()) {
      // listen_after_bind() has not started yet (or already ended).
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::lock_guard<std::mutex> l(impl_->mu);
      if (impl_->finished) return;
    }
    impl_->http.stop();
  });
  const bool ok = m.http.listen_after_bind();  // returns once in-flight work is done
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.finished = true;
    m.shutdown_requested = true;
  }
  m.shutdown_cv.notify_all();
  stopper.join();
  m.watchdog->Stop();
  if (loader.joinable()) loader.join();
  m.service->Finish();
  m.log->Write({{"event", "shutdown"}, {"phase", "done"}});
  if (!load_status.ok()) return load_status;
  if (!ok) return Status::IOError("the HTTP server stopped on an error");
  return Status::Ok();
}

void HttpServer::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->shutdown_requested = true;
  }
  impl_->shutdown_cv.notify_all();
}

int HttpServer::port() const { return impl_->port; }
Service& HttpServer::service() { return *impl_->service; }
bool HttpServer::auth_enabled() const { return impl_->keys.enabled(); }

}  // namespace ccguard::server
