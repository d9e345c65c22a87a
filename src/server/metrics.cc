#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ccguard::server {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// `{a="x",le="0.1"}` from a rendered label string and an extra label.
std::string WithLabel(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return "{" + labels + "," + extra + "}";
}

}  // namespace

std::vector<double> Metrics::LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::string Metrics::LabelString(const Labels& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (!s.empty()) s += ',';
    s += k + "=\"" + Escape(v) + "\"";
  }
  return s;
}

void Metrics::DeclareCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = Type::kCounter;
  f.help = help;
}

void Metrics::DeclareGauge(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = Type::kGauge;
  f.help = help;
}

void Metrics::DeclareGaugeFn(const std::string& name, const std::string& help,
                             std::function<double()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = Type::kGauge;
  f.help = help;
  f.fn = std::move(fn);
}

void Metrics::DeclareHistogram(const std::string& name, const std::string& help,
                               std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  Family& f = families_[name];
  f.type = Type::kHistogram;
  f.help = help;
  f.bounds = std::move(buckets);
}

Metrics::Series* Metrics::Find(const std::string& name, const Labels& labels, Type type) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != type || it->second.fn) return nullptr;
  Series& s = it->second.series[LabelString(labels)];
  if (type == Type::kHistogram && s.buckets.empty()) {
    s.buckets.assign(it->second.bounds.size() + 1, 0);
  }
  return &s;
}

void Metrics::Add(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = Find(name, labels, Type::kCounter); s != nullptr && v >= 0) s->value += v;
}

void Metrics::Set(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Series* s = Find(name, labels, Type::kGauge)) s->value = v;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double v) {
  std::lock_guard<std::mutex> lock(mu_);
  Series* s = Find(name, labels, Type::kHistogram);
  if (s == nullptr) return;
  const auto& bounds = families_[name].bounds;
  const size_t b =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
  s->buckets[b]++;
  s->sum += v;
  s->count++;
}

double Metrics::Value(const std::string& name, const Labels& labels) const {
  std::function<double()> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) return 0;
    if (!it->second.fn) {
      auto s = it->second.series.find(LabelString(labels));
      return s == it->second.series.end() ? 0 : s->second.value;
    }
    fn = it->second.fn;
  }
  return fn();
}

uint64_t Metrics::Count(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(LabelString(labels));
  return s == it->second.series.end() ? 0 : s->second.count;
}

std::string Metrics::Render() const {
  // Callbacks run first, outside the lock (they may take other locks).
  std::map<std::string, std::function<double()>> fns;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, f] : families_) {
      if (f.fn) fns[name] = f.fn;
    }
  }
  std::map<std::string, double> computed;
  for (const auto& [name, fn] : fns) computed[name] = fn();

  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    if (f.fn) {
      auto it = computed.find(name);
      out += name + " " + Number(it == computed.end() ? 0 : it->second) + "\n";
      continue;
    }
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= f.bounds.size(); ++b) {
        cumulative += s.buckets[b];
        const std::string le =
            "le=\"" + (b < f.bounds.size() ? Number(f.bounds[b]) : std::string("+Inf")) + "\"";
        out += name + "_bucket" + WithLabel(labels, le) + " " + std::to_string(cumulative) + "\n";
      }
      const std::string l = labels.empty() ? "" : "{" + labels + "}";
      out += name + "_sum" + l + " " + Number(s.sum) + "\n";
      out += name + "_count" + l + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace ccguard::server
