#include "util/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace ccguard {
namespace {

std::optional<std::string> ReadSmall(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// A cgroup mount: its root within the hierarchy, where it is mounted, and
// whether it is v2 or the v1 hierarchy holding the cpu controller.
struct Mount {
  std::string root, point;
  bool v2;
};

std::vector<Mount> CpuMounts() {
  std::vector<Mount> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const auto left = Split(line.substr(0, dash), ' ');
    const auto right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    if (right[0] == "cgroup2") {
      out.push_back({left[3], left[4], true});
    } else if (right[0] == "cgroup") {
      for (const auto& opt : Split(right[2], ',')) {
        if (opt == "cpu") out.push_back({left[3], left[4], false});
      }
    }
  }
  return out;
}

// This process's cgroup path in the v2 hierarchy ("0::/path") and in the v1
// hierarchy with the cpu controller ("N:cpu,cpuacct:/path").
std::optional<std::string> OwnCgroup(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto parts = Split(line, ':');
    if (parts.size() < 3) continue;
    const std::string path = line.substr(parts[0].size() + parts[1].size() + 2);
    if (v2 && parts[0] == "0" && parts[1].empty()) return path;
    if (!v2) {
      for (const auto& c : Split(parts[1], ',')) {
        if (c == "cpu") return path;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> ParseCpuMax(std::string_view text) {
  const auto sp = text.find(' ');
  if (sp == std::string_view::npos || text.substr(0, sp) == "max") return std::nullopt;
  auto quota = ParseNumber(text.substr(0, sp));
  auto period = ParseNumber(text.substr(sp + 1));
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return *quota / *period;
}

std::optional<double> ParseCfsQuota(std::string_view quota_us, std::string_view period_us) {
  auto quota = ParseNumber(quota_us);
  auto period = ParseNumber(period_us);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return *quota / *period;
}

std::optional<double> CgroupCpuQuota() {
  std::optional<double> best;
  auto consider = [&](std::optional<double> q) {
    if (q && (!best || *q < *best)) best = q;
  };
  for (const Mount& m : CpuMounts()) {
    auto own = OwnCgroup(m.v2);
    if (!own) continue;
    // The cgroup's path relative to this mount's root.
    std::string rel = *own;
    if (m.root != "/" && rel.rfind(m.root, 0) == 0) rel = rel.substr(m.root.size());
    // Every level from the process's cgroup up to the mount point.
    std::string dir = m.point + (rel == "/" ? "" : rel);
    while (true) {
      if (m.v2) {
        if (auto t = ReadSmall(dir + "/cpu.max")) consider(ParseCpuMax(*t));
      } else {
        auto q = ReadSmall(dir + "/cpu.cfs_quota_us");
        auto p = ReadSmall(dir + "/cpu.cfs_period_us");
        if (q && p) consider(ParseCfsQuota(*q, *p));
      }
      if (dir.size() <= m.point.size()) break;
      dir = dir.substr(0, dir.rfind('/'));
      if (dir.size() < m.point.size()) break;
    }
  }
  return best;
}

int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int UsableCpus() {
  int n = AffinityCpus();
  if (auto q = CgroupCpuQuota()) n = std::min(n, static_cast<int>(std::ceil(*q - 1e-9)));
  return std::max(1, n);
}

}  // namespace ccguard
