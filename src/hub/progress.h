// Download progress on stderr: a one-line bar with bytes, rate and ETA redrawn in place when
// stderr is a terminal, else a single "downloading <label> (<size>)" line at the start.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ccguard::hub {

// "9.8 MB", "512 B", "3.40 GB" (decimal units, as the hub shows sizes).
std::string FormatBytes(double bytes);
// "0:07", "12:03", "1:02:03"; "--:--" when unknown (negative).
std::string FormatDuration(double seconds);
// The bar line for `done` of `total` bytes (total < 0: unknown) at `rate` bytes/s.
std::string FormatProgressLine(const std::string& label, int64_t done, int64_t total, double rate);

// True when stderr is a terminal.
bool StderrIsTerminal();

class ProgressBar {
 public:
  // `interactive`: redraw the bar in place; otherwise print one line now and stay quiet.
  ProgressBar(std::string label, int64_t total, bool interactive, std::FILE* out = stderr);
  ~ProgressBar();  // Finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` bytes so far (of the whole file, resumed bytes included); redraws at most 10 times/s.
  void Update(int64_t done);
  // Draws the final state and ends the line (once).
  void Finish();

 private:
  void Draw();
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  bool interactive_;
  std::FILE* out_;
  int64_t done_ = -1;
  int64_t start_done_ = -1;  // bytes present when the transfer started (not counted in rate)
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  bool finished_ = false;
};

}  // namespace ccguard::hub
