#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ccguard {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, uint64_t initial,
                         bool force)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      done_(initial),
      start_done_(initial),
      enabled_(force || ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() { Finish(); }

std::string ProgressBar::FormatRate(double per_second, const std::string& unit) {
  char buf[64];
  if (unit == "B") {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (per_second >= 1000 && u < 4) {
      per_second /= 1000;
      ++u;
    }
    std::snprintf(buf, sizeof(buf), "%.1f %s/s", per_second, units[u]);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s/s", per_second, unit.c_str());
  }
  return buf;
}

std::string ProgressBar::FormatDuration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lds", s);
  }
  return buf;
}

void ProgressBar::Set(uint64_t done) {
  done_ = done;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  Draw(false);
}

void ProgressBar::Draw(bool final) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_ - start_done_) / secs : 0;
  const double pct = total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 0;
  const int width = 24;
  const int fill = total_ ? static_cast<int>(width * done_ / total_) : 0;
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(width, '.');
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1;
  std::fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu  %s  ETA %s   %s", label_.c_str(), bar.c_str(),
               pct, static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_),
               FormatRate(rate, unit_).c_str(), final ? "0s" : FormatDuration(eta).c_str(),
               final ? "\n" : "");
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) Draw(true);
}

}  // namespace ccguard
