// A JSON Lines output file that a killed run resumes without writing a row
// twice or losing one: `ccguard score --output` (bulk scoring, one shard).
//
// Beside OUTPUT lives OUTPUT.progress.json, replaced atomically (write to a
// temporary file, fsync, rename) after every committed batch:
//   {"identity": {...}, "rows_done": K, "output_bytes": B, "complete": bool}
// The contract:
//   * Open on a fresh OUTPUT (neither file exists) creates both.
//   * Open where the progress file exists compares its identity with the
//     caller's (CheckSameIdentity: a difference is InvalidArgument naming the
//     setting), truncates OUTPUT to output_bytes (lines written after the last
//     commit are dropped: their rows run again) and reports rows_done, the
//     rows to skip. complete() says the run had finished: nothing to do.
//   * Open where OUTPUT exists without a progress file is InvalidArgument:
//     the file was not written by a resumable run and is never overwritten.
//   * A progress file that does not parse, lacks a field, or records more
//     bytes than OUTPUT holds is Corruption naming it.
//   * Append writes lines (each '\n'-terminated by the caller) to OUTPUT;
//     Commit(rows) fsyncs OUTPUT and then records rows_done += rows and the
//     new size, in that order, so the progress file never claims a row whose
//     line is not on disk. Finish() commits with complete = true.
// Not thread-safe; one writer per OUTPUT (shards write distinct files).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::eval {

class ResumableOutput {
 public:
  static Result<std::unique_ptr<ResumableOutput>> Open(const std::string& path,
                                                       const Json& identity);
  // Whether the run recorded in path's progress file finished (true) or not
  // (false), reading only that file: NotFound when there is none, the errors
  // of Open for a malformed record or a differing identity. For outputs that
  // are converted once complete (Parquet), whose lines are then removed.
  static Result<bool> Finished(const std::string& path, const Json& identity);
  ~ResumableOutput();
  ResumableOutput(const ResumableOutput&) = delete;
  ResumableOutput& operator=(const ResumableOutput&) = delete;

  // Rows committed by earlier runs (to skip), and whether they had finished.
  uint64_t rows_done() const { return rows_done_; }
  bool complete() const { return complete_; }
  static std::string ProgressPath(const std::string& path) { return path + ".progress.json"; }

  Status Append(std::string_view lines);
  Status Commit(uint64_t rows);
  Status Finish();

 private:
  ResumableOutput(std::string path, Json identity) : path_(std::move(path)), identity_(identity) {}
  Status WriteProgress();

  std::string path_;
  Json identity_;
  int fd_ = -1;
  uint64_t rows_done_ = 0, bytes_ = 0;
  bool complete_ = false;
};

}  // namespace ccguard::eval
