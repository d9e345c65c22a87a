// An exclusive advisory lock on a file (flock), released when the object dies.
//
// huggingface_hub's FileLock takes the same kind of lock (fcntl.flock) on
// <cache>/.locks/models--org--name/<etag>.lock, so ccguard and Python processes that fill one
// cache at the same time never write the same blob together. The lock file is created (with its
// folder) when missing and is left in place, as huggingface_hub does.
#pragma once

#include <string>

#include "util/status.h"

namespace ccguard::hub {

class FileLock {
 public:
  // Blocks until the lock is held. IOError when the lock file cannot be created.
  static Result<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ccguard::hub
