#include "hub/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace ccguard::hub {

std::string FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%.0f B", bytes);
  } else {
    std::snprintf(buf, sizeof(buf), bytes < 10 ? "%.2f %s" : "%.1f %s", bytes, kUnits[u]);
  }
  return buf;
}

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

std::string FormatProgressLine(const std::string& label, int64_t done, int64_t total, double rate) {
  constexpr size_t kLabel = 28;
  constexpr int kBar = 20;
  std::string name = label.size() > kLabel ? "..." + label.substr(label.size() - kLabel + 3)
                                           : label + std::string(kLabel - label.size(), ' ');
  std::string line = name + " ";
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    int fill = static_cast<int>(frac * kBar);
    char pct[8];
    std::snprintf(pct, sizeof(pct), "%3d%%", static_cast<int>(frac * 100));
    line += std::string(pct) + " [" + std::string(fill, '#') + std::string(kBar - fill, ' ') +
            "] " + FormatBytes(static_cast<double>(done)) + "/" +
            FormatBytes(static_cast<double>(total));
  } else {
    line += FormatBytes(static_cast<double>(done));
  }
  line += "  " + (rate > 0 ? FormatBytes(rate) + "/s" : std::string("-- B/s"));
  if (total > 0) {
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1;
    line += "  ETA " + FormatDuration(done >= total ? 0 : eta);
  }
  return line;
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, int64_t total, bool interactive, std::FILE* out)
    : label_(std::move(label)), total_(total), interactive_(interactive), out_(out) {
  if (!interactive_) {
    std::string line = "downloading " + label_;
    if (total_ >= 0) line += " (" + FormatBytes(static_cast<double>(total_)) + ")";
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(int64_t done) {
  if (finished_) return;
  if (start_done_ < 0) {
    start_done_ = done;
    start_ = Clock::now();
  }
  done_ = done;
  if (!interactive_) return;
  auto now = Clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total_) return;
  last_draw_ = now;
  Draw();
}

void ProgressBar::Draw() {
  double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  double rate = secs > 0.05 ? static_cast<double>(done_ - start_done_) / secs : 0;
  std::fprintf(out_, "\r%s\x1b[K", FormatProgressLine(label_, done_, total_, rate).c_str());
  std::fflush(out_);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!interactive_ || done_ < 0) return;
  Draw();
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace ccguard::hub
