#include "server/conn_watchdog.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string_view>
#include <vector>

namespace ccguard::server {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes of the connection the process has read: received by the kernel minus
// still queued. -1 when the kernel does not say.
int64_t BytesRead(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received)) {
    return -1;
  }
  int queued = 0;
  if (ioctl(fd, SIOCINQ, &queued) != 0) queued = 0;
  return static_cast<int64_t>(info.tcpi_bytes_received) - queued;
}

// Whether a whole request head ("\r\n\r\n") waits unread in the socket's
// receive queue: the client has sent it and a server thread has yet to read
// it (all threads busy). Such a connection is not slow and is never cut.
bool HeadWaiting(int fd, int64_t max_bytes) {
  // Reused: only the watchdog's thread calls this (for connections past
  // their deadline).
  thread_local std::vector<char> buf;
  buf.resize(static_cast<size_t>(max_bytes) + 4);
  const ssize_t n = recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) return false;
  const std::string_view queued(buf.data(), static_cast<size_t>(n));
  return queued.find("\r\n\r\n") != std::string_view::npos ||
         queued.find("\n\n") != std::string_view::npos;
}

// The peer (numeric address, port) of `fd` when it is a connected TCP socket
// whose local port is `port`.
bool PeerOf(int fd, int port, std::string* addr, int* peer_port) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_storage local{}, peer{};
  socklen_t len = sizeof(local);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) return false;
  int local_port;
  if (local.ss_family == AF_INET) {
    local_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  } else if (local.ss_family == AF_INET6) {
    local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  } else {
    return false;
  }
  if (local_port != port) return false;
  len = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return false;  // listener
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  // The same form as cpp-httplib's Request::remote_addr.
  if (getnameinfo(reinterpret_cast<sockaddr*>(&peer), len, host, sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  *addr = host;
  *peer_port = std::atoi(serv);
  return true;
}

}  // namespace

ConnectionWatchdog::ConnectionWatchdog(Options options, OnCut on_cut)
    : options_(options), on_cut_(std::move(on_cut)) {}

ConnectionWatchdog::~ConnectionWatchdog() { Stop(); }

void ConnectionWatchdog::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void ConnectionWatchdog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConnectionWatchdog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    Scan();
    lock.lock();
    cv_.wait_for(lock, options_.poll, [this] { return stop_; });
  }
}

bool ConnectionWatchdog::CutLocked(Conn& c) {
  if (c.cut || c.fd < 0) return false;
  c.cut = true;
  return shutdown(c.fd, SHUT_RDWR) == 0;
}

void ConnectionWatchdog::Scan() {
  // The sockets first, without the lock (system calls only).
  std::vector<std::pair<Key, int>> found;
  if (DIR* d = opendir("/proc/self/fd"); d != nullptr) {
    const int self = dirfd(d);
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      const long fd = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0' || fd == self) continue;
      Key key;
      if (PeerOf(static_cast<int>(fd), options_.port, &key.first, &key.second)) {
        found.emplace_back(std::move(key), static_cast<int>(fd));
      }
    }
    closedir(d);
  }
  std::vector<const char*> cuts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    std::map<Key, Conn> next;
    for (auto& [key, fd] : found) {
      auto it = conns_.find(key);
      Conn c;
      if (it != conns_.end()) {
        c = it->second;
      } else {
        c.since = now;
        c.read_at_start = 0;  // a new connection: everything it sent is head
      }
      if (c.fd != fd) c.cut = false;  // another connection from the same peer port
      c.fd = fd;
      c.seen = true;
      next.emplace(key, c);
    }
    // Entries a route created before any scan saw their socket stay a while.
    for (auto& [key, c] : conns_) {
      if (!c.seen && next.count(key) == 0 && now - c.since < std::chrono::seconds(2)) {
        next.emplace(key, c);
      }
    }
    conns_ = std::move(next);
    for (auto& [key, c] : conns_) {
      if (c.fd < 0 || c.cut) continue;
      const char* reason = nullptr;
      if (c.phase == Phase::kHead) {
        const int64_t read = BytesRead(c.fd);
        if (c.read_at_start < 0) c.read_at_start = read;
        if (read >= 0 && c.read_at_start >= 0 && read - c.read_at_start > options_.max_head_bytes) {
          reason = "head_too_large";
        } else if (draining_ || now - c.since > options_.head_timeout) {
          // A request waiting whole for a busy server is served, even at shutdown.
          if (!HeadWaiting(c.fd, options_.max_head_bytes)) {
            reason = draining_ ? "shutdown" : "head_timeout";
          }
        }
      } else if (draining_ && c.phase == Phase::kBody) {
        reason = "shutdown";
      }
      if (reason != nullptr && CutLocked(c)) cuts.push_back(reason);
    }
  }
  if (on_cut_) {
    for (const char* r : cuts) on_cut_(r);
  }
}

void ConnectionWatchdog::SetPhase(const std::string& addr, int port, Phase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn& c = conns_[Key(addr, port)];  // a new entry waits for the next scan's fd
  c.phase = phase;
  c.since = Clock::now();
  if (phase == Phase::kHead) c.read_at_start = c.fd >= 0 ? BytesRead(c.fd) : -1;
}

void ConnectionWatchdog::Drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
  }
  Scan();
}

size_t ConnectionWatchdog::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [key, c] : conns_) n += c.fd >= 0 ? 1 : 0;
  return n;
}

}  // namespace ccguard::server
