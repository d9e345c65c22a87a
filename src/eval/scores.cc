#include "eval/scores.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "util/json_file.h"
#include "util/mapped_file.h"

namespace ccguard::eval {
namespace {

Result<ScoreRecord> ParseLine(std::string_view line, const std::string& at) {
  auto parsed = ParseJson(line, at);
  if (!parsed.ok()) return Status::Corruption(parsed.status().message());
  Json j = std::move(*parsed);
  if (!j.is_object()) return Status::Corruption(at + ": expected a JSON object");
  auto str = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return Status::Corruption(at + ": '" + key + "' missing or not a string");
    }
    return it->get<std::string>();
  };
  ScoreRecord r;
  CCG_ASSIGN_OR_RETURN(r.dataset, str("dataset"));
  CCG_ASSIGN_OR_RETURN(r.id, str("id"));
  CCG_ASSIGN_OR_RETURN(std::string label, str("label"));
  if (label == "unsafe") {
    r.unsafe = true;
  } else if (label != "safe") {
    return Status::Corruption(at + ": unknown label '" + label + "' (expected safe or unsafe)");
  }
  auto p = j.find("p_unsafe");
  if (p == j.end() || !p->is_number()) {
    return Status::Corruption(at + ": 'p_unsafe' missing or not a number");
  }
  r.p_unsafe = p->get<double>();
  if (!std::isfinite(r.p_unsafe) || r.p_unsafe < 0 || r.p_unsafe > 1) {
    return Status::Corruption(at + ": 'p_unsafe' is not in [0, 1]");
  }
  auto n = j.find("n_tokens");
  if (n != j.end() && !n->is_null()) {
    if (!n->is_number_integer() || n->get<int64_t>() < 0) {
      return Status::Corruption(at + ": 'n_tokens' is not a non-negative integer");
    }
    r.n_tokens = n->get<int64_t>();
  }
  return r;
}

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

}  // namespace

std::string FormatScoreLine(const ScoreRecord& record) {
  nlohmann::ordered_json j;
  j["dataset"] = record.dataset;
  j["id"] = record.id;
  j["label"] = record.unsafe ? "unsafe" : "safe";
  j["p_unsafe"] = record.p_unsafe;
  if (record.n_tokens.has_value()) j["n_tokens"] = *record.n_tokens;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<ScoresFile> ParseScores(std::string_view text, const std::string& what) {
  ScoresFile out;
  size_t pos = 0;
  size_t line = 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      out.partial_bytes = text.size() - pos;
      break;
    }
    const std::string at = what + ":" + std::to_string(line);
    std::string_view row = text.substr(pos, end - pos);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.find_first_not_of(" \t") == std::string_view::npos) {
      return Status::Corruption(at + ": empty line");
    }
    CCG_ASSIGN_OR_RETURN(ScoreRecord r, ParseLine(row, at));
    out.records.push_back(std::move(r));
    pos = end + 1;
    out.complete_bytes = pos;
    ++line;
  }
  out.complete_lines = out.records.size();
  return out;
}

Result<ScoresFile> ReadScores(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseScores(text, path);
}

Result<std::unique_ptr<ScoresWriter>> ScoresWriter::Open(const std::string& path,
                                                         std::optional<uint64_t> resume_at) {
  int flags = O_WRONLY | O_CLOEXEC | O_APPEND;
  flags |= resume_at.has_value() ? 0 : (O_CREAT | O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return Errno(path);
  if (resume_at.has_value()) {
    off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0 || static_cast<uint64_t>(size) < *resume_at) {
      ::close(fd);
      return Status::InvalidArgument(path + ": cannot resume at byte " +
                                     std::to_string(*resume_at) + ", the file is shorter");
    }
    if (::ftruncate(fd, static_cast<off_t>(*resume_at)) != 0) {
      Status s = Errno(path + ": ftruncate");
      ::close(fd);
      return s;
    }
  }
  return std::unique_ptr<ScoresWriter>(new ScoresWriter(path, fd));
}

ScoresWriter::~ScoresWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status ScoresWriter::Append(const ScoreRecord& record) {
  if (fd_ < 0) return Status::InvalidArgument(path_ + ": writer is closed");
  if (!std::isfinite(record.p_unsafe) || record.p_unsafe < 0 || record.p_unsafe > 1) {
    return Status::InvalidArgument(path_ + ": p_unsafe of " + record.dataset + "/" + record.id +
                                   " is not in [0, 1]");
  }
  const std::string line = FormatScoreLine(record);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t w = ::write(fd_, line.data() + done, line.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno(path_ + ": write");
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status ScoresWriter::Close() {
  if (fd_ < 0) return Status::Ok();
  Status s;
  if (::fsync(fd_) != 0) s = Errno(path_ + ": fsync");
  if (::close(fd_) != 0 && s.ok()) s = Errno(path_ + ": close");
  fd_ = -1;
  return s;
}

}  // namespace ccguard::eval
