// A one-line terminal progress bar on stderr: count/total, rate, ETA.
// Draws only when stderr is a terminal (or when forced), at most ~10 times a
// second; Finish() ends the line. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ccguard {

class ProgressBar {
 public:
  // `unit` names what is counted ("items", "B" for bytes: shown with kB/MB/GB).
  // `initial` is work already done before (a resumed run): the rate counts
  // only what this run does.
  ProgressBar(std::string label, uint64_t total, std::string unit, uint64_t initial = 0,
              bool force = false);
  ~ProgressBar();
  void Set(uint64_t done);
  void Add(uint64_t n) { Set(done_ + n); }
  void Finish();
  bool enabled() const { return enabled_; }

  // "12.3 items/s", "4.5 MB/s"; "1m05s"; exposed for tests.
  static std::string FormatRate(double per_second, const std::string& unit);
  static std::string FormatDuration(double seconds);

 private:
  void Draw(bool final);
  std::string label_, unit_;
  uint64_t total_, done_ = 0, start_done_ = 0;
  bool enabled_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace ccguard
