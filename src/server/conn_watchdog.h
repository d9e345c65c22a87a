// A socket-level watchdog for the HTTP server's connections.
//
// cpp-httplib 0.11 (Debian 12's) reads a request head with per-read timeouts
// only, and into buffers without a bound: a client trickling one header byte
// a second holds an HTTP thread forever (and SIGTERM waits for it), and one
// sending a request line or headers without end grows memory without end.
// The library offers no hook on accepted sockets, so the watchdog finds them
// itself: every `poll` it lists the process's TCP sockets whose local port is
// the server's (/proc/self/fd, getsockname/getpeername) and keys them by the
// peer address and port, which the routes know from the request
// (Request::remote_addr / remote_port).
//
// Each connection is in one phase:
//   kHead     waiting for or reading a request head (from accept, and again
//             after each response);
//   kBody     the head was read (the pre-routing handler ran), the body is
//             being read;
//   kHandler  the body was read (or there is none): the handler runs.
// A connection in kHead longer than `head_timeout`, or having read more than
// `max_head_bytes` in kHead (bytes the kernel received minus bytes still
// queued, from TCP_INFO and FIONREAD), is cut: shutdown(SHUT_RDWR), which
// ends the library's blocked read at once; the library then closes the
// socket. A connection whose whole head waits unread in its receive queue
// (peeked: the client was fast, every server thread is busy) is not cut: the
// deadline is the client's, not the queue's. After Drain() (server shutdown)
// every connection in kHead without a whole head waiting, or in kBody, is cut
// at once and on every later scan, so half-received requests never delay the
// exit; handlers and waiting requests run to their end.
//
// Thread-safety: all methods may be called from any thread. The watchdog's
// own thread runs between Start() and Stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace ccguard::server {

class ConnectionWatchdog {
 public:
  enum class Phase { kHead, kBody, kHandler };
  struct Options {
    int port = 0;  // the server's local port
    std::chrono::milliseconds head_timeout{10000};
    int64_t max_head_bytes = 64 * 1024;
    std::chrono::milliseconds poll{20};
  };
  // Called (from the watchdog's thread, without its lock) once per cut, with
  // the reason: "head_timeout", "head_too_large" or "shutdown".
  using OnCut = std::function<void(const char* reason)>;

  ConnectionWatchdog(Options options, OnCut on_cut);
  ~ConnectionWatchdog();  // Stop()
  ConnectionWatchdog(const ConnectionWatchdog&) = delete;
  ConnectionWatchdog& operator=(const ConnectionWatchdog&) = delete;

  void Start();
  void Stop();

  // The connection of peer (addr, port) entered `phase`. kHead also starts
  // a new head deadline and byte count (a response was written).
  void SetPhase(const std::string& addr, int port, Phase phase);
  // Server shutdown: cut connections in kHead or kBody, now and from now on.
  void Drain();

  // Connections seen on the last scan (for tests).
  size_t connections() const;

 private:
  struct Conn {
    int fd = -1;
    Phase phase = Phase::kHead;
    std::chrono::steady_clock::time_point since;
    int64_t read_at_start = -1;  // bytes read by the process when the phase began; -1: not yet
    bool seen = false;
    bool cut = false;
  };
  using Key = std::pair<std::string, int>;

  void Run();
  void Scan();
  // Cuts `c` (lock held); returns whether it was cut now.
  bool CutLocked(Conn& c);

  const Options options_;
  const OnCut on_cut_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Conn> conns_;
  bool stop_ = false;
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace ccguard::server
