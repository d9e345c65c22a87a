#include "eval/resumable_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "scoring/run_identity.h"

namespace ccguard::eval {
namespace {

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno(what + ": write");
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

static Result<Json> ReadProgress(const std::string& path, const Json& identity) {
  const std::string progress = ResumableOutput::ProgressPath(path);
  CCG_ASSIGN_OR_RETURN(Json p, ReadJsonFile(progress));
  if (!p.is_object() || !p.contains("identity") || !p["rows_done"].is_number_unsigned() ||
      !p["output_bytes"].is_number_unsigned() || !p["complete"].is_boolean()) {
    return Status::Corruption(progress +
                              ": not a progress record (identity, rows_done, output_bytes, "
                              "complete)");
  }
  CCG_RETURN_IF_ERROR(CheckSameIdentity(p["identity"], identity, path + " (" + progress + ")"));
  return p;
}

Result<bool> ResumableOutput::Finished(const std::string& path, const Json& identity) {
  if (!Exists(ProgressPath(path))) {
    return Status::NotFound(ProgressPath(path) + " does not exist");
  }
  CCG_ASSIGN_OR_RETURN(Json p, ReadProgress(path, identity));
  return p["complete"].get<bool>();
}

Result<std::unique_ptr<ResumableOutput>> ResumableOutput::Open(const std::string& path,
                                                               const Json& identity) {
  std::unique_ptr<ResumableOutput> out(new ResumableOutput(path, identity));
  const std::string progress = ProgressPath(path);
  int flags = O_WRONLY | O_CLOEXEC | O_APPEND;
  if (Exists(progress)) {
    CCG_ASSIGN_OR_RETURN(Json p, ReadProgress(path, identity));
    out->rows_done_ = p["rows_done"].get<uint64_t>();
    out->bytes_ = p["output_bytes"].get<uint64_t>();
    out->complete_ = p["complete"].get<bool>();
  } else if (Exists(path)) {
    return Status::InvalidArgument(path + " exists but has no " + progress +
                                   ": it was not written by a resumable run, and is not "
                                   "overwritten (remove it or choose another --output)");
  } else {
    flags |= O_CREAT | O_EXCL;
  }
  out->fd_ = ::open(path.c_str(), flags, 0644);
  if (out->fd_ < 0) return Errno(path);
  const off_t size = ::lseek(out->fd_, 0, SEEK_END);
  if (size < 0) return Errno(path + ": lseek");
  if (static_cast<uint64_t>(size) < out->bytes_) {
    return Status::Corruption(progress + " records " + std::to_string(out->bytes_) +
                              " bytes of output, but " + path + " holds " + std::to_string(size) +
                              " (was it truncated or replaced?)");
  }
  // Lines written after the last commit run again.
  if (static_cast<uint64_t>(size) > out->bytes_ &&
      ::ftruncate(out->fd_, static_cast<off_t>(out->bytes_)) != 0) {
    return Errno(path + ": ftruncate");
  }
  if (flags & O_CREAT) CCG_RETURN_IF_ERROR(out->WriteProgress());
  return out;
}

ResumableOutput::~ResumableOutput() {
  if (fd_ >= 0) ::close(fd_);
}

Status ResumableOutput::Append(std::string_view lines) {
  if (fd_ < 0) return Status::InvalidArgument(path_ + ": closed");
  CCG_RETURN_IF_ERROR(WriteAll(fd_, lines, path_));
  bytes_ += lines.size();
  return Status::Ok();
}

Status ResumableOutput::Commit(uint64_t rows) {
  if (fd_ < 0) return Status::InvalidArgument(path_ + ": closed");
  if (::fsync(fd_) != 0) return Errno(path_ + ": fsync");
  rows_done_ += rows;
  return WriteProgress();
}

Status ResumableOutput::Finish() {
  if (fd_ < 0) return Status::Ok();
  complete_ = true;
  CCG_RETURN_IF_ERROR(Commit(0));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return Errno(path_ + ": close");
  return Status::Ok();
}

Status ResumableOutput::WriteProgress() {
  const std::string progress = ProgressPath(path_);
  const std::string tmp = progress + ".tmp";
  const Json p = {{"identity", identity_},
                  {"rows_done", rows_done_},
                  {"output_bytes", bytes_},
                  {"complete", complete_}};
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(tmp);
  Status s = WriteAll(fd, p.dump(2) + "\n", tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno(tmp + ": fsync");
  if (::close(fd) != 0 && s.ok()) s = Errno(tmp + ": close");
  if (s.ok() && std::rename(tmp.c_str(), progress.c_str()) != 0) s = Errno(progress + ": rename");
  return s;
}

}  // namespace ccguard::eval
