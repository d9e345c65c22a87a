// scores.jsonl: one line per scored item, written as items are scored.
//
//   {"dataset":"xstest","id":"4","label":"safe","p_unsafe":0.0123,"n_tokens":57}
//
// label is the gold label ("safe"/"unsafe"); p_unsafe a finite number in
// [0, 1] (written in the shortest form that reads back to the same double);
// n_tokens a non-negative integer, optional (omitted or null when unknown).
// Other keys are ignored on reading.
//
// A line is complete only when it ends with '\n'. A run that is killed can
// leave a partial last line: the reader ignores an unterminated last line
// (whatever it holds) and reports how many complete lines it read and the
// byte offset just past the last complete line, where a resumed run truncates
// the file (ScoresWriter::Open with resume_at) before appending. Any complete
// line that is malformed is a Corruption error naming file:line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ccguard::eval {

struct ScoreRecord {
  std::string dataset;
  std::string id;
  bool unsafe = false;  // gold label
  double p_unsafe = 0;
  std::optional<int64_t> n_tokens;
};

// The JSON line for `record`, with the trailing '\n'.
std::string FormatScoreLine(const ScoreRecord& record);

struct ScoresFile {
  std::vector<ScoreRecord> records;
  size_t complete_lines = 0;    // == records.size()
  uint64_t complete_bytes = 0;  // offset just past the last complete line
  uint64_t partial_bytes = 0;   // bytes of an unterminated last line (0 if none)
};

Result<ScoresFile> ParseScores(std::string_view text, const std::string& what);
Result<ScoresFile> ReadScores(const std::string& path);

// Appends score lines, each with a single write(2) call and no user-space
// buffering, so that a killed run leaves at most one partial line.
class ScoresWriter {
 public:
  // Creates `path` (truncating it) when resume_at is unset; otherwise opens
  // the existing file, truncates it to *resume_at bytes (the complete_bytes of
  // ReadScores) and appends after it.
  static Result<std::unique_ptr<ScoresWriter>> Open(const std::string& path,
                                                    std::optional<uint64_t> resume_at = {});
  ~ScoresWriter();
  ScoresWriter(const ScoresWriter&) = delete;
  ScoresWriter& operator=(const ScoresWriter&) = delete;

  Status Append(const ScoreRecord& record);
  // fsyncs and closes; further Appends fail.
  Status Close();

 private:
  ScoresWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

}  // namespace ccguard::eval
