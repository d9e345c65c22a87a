#include "server/access_log.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace ccguard::server {

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& where) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  if (where == "off" || where.empty()) return log;
  if (where == "-") {
    log->out_ = stderr;
    return log;
  }
  log->out_ = std::fopen(where.c_str(), "a");
  if (log->out_ == nullptr) {
    return Status::IOError("cannot open access log '" + where + "': " + std::strerror(errno));
  }
  log->owned_ = true;
  return log;
}

AccessLog::~AccessLog() {
  if (owned_ && out_ != nullptr) std::fclose(out_);
}

std::string AccessLog::Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void AccessLog::Write(const Json& record) {
  if (out_ == nullptr) return;
  // "ts" first, then the record's fields in their order.
  std::string text = "{\"ts\":\"" + Timestamp() + "\"";
  const std::string rest = DumpJson(record);
  text += rest.size() > 2 ? "," + rest.substr(1) : std::string("}");
  text += "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace ccguard::server
