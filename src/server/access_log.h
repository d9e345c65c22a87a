// The structured access log: one JSON object per line, on stderr or appended
// to a file, each with "ts" (UTC, ISO 8601, milliseconds). Requests are
// logged as {"ts", "event": "request", "method", "path", "route", "status",
// "ms", "remote", "bytes_in", "bytes_out", "request_id", "key"?, "error"?}
// ("error": the error code of a 4xx/5xx reply); lifecycle
// events as {"ts", "event": "listening" | "ready" | "shutdown" | ..., ...}.
// Thread-safe; each line is written whole and flushed.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::server {

class AccessLog {
 public:
  // `where`: "-" stderr, "off" nothing, else a file opened for appending.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& where);
  ~AccessLog();

  bool enabled() const { return out_ != nullptr; }
  // Writes `record` with "ts" first.
  void Write(const Json& record);

  // "2024-05-01T12:00:00.123Z" for now.
  static std::string Timestamp();

 private:
  AccessLog() = default;
  std::mutex mu_;
  std::FILE* out_ = nullptr;
  bool owned_ = false;
};

}  // namespace ccguard::server
