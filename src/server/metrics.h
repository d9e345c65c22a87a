// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format (version 0.0.4). Families are
// declared once (name, help, type); samples are then added by name. Gauges
// may also be computed at scrape time by a callback. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ccguard::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  void DeclareCounter(const std::string& name, const std::string& help);
  void DeclareGauge(const std::string& name, const std::string& help);
  // A gauge whose single value is `fn()` at each scrape (called without the
  // registry's lock held).
  void DeclareGaugeFn(const std::string& name, const std::string& help, std::function<double()> fn);
  // `buckets`: increasing upper bounds; +Inf is implicit.
  void DeclareHistogram(const std::string& name, const std::string& help,
                        std::vector<double> buckets);

  // Counter += v (v >= 0). Unknown names are ignored (a programming error
  // that must not take the service down).
  void Add(const std::string& name, const Labels& labels, double v = 1);
  void Set(const std::string& name, const Labels& labels, double v);
  void Observe(const std::string& name, const Labels& labels, double v);

  // The value of one counter or gauge series (0 if absent); for tests.
  double Value(const std::string& name, const Labels& labels = {}) const;
  // The count of one histogram series; for tests.
  uint64_t Count(const std::string& name, const Labels& labels = {}) const;

  std::string Render() const;

  // Latency buckets in seconds, 1 ms to 30 s.
  static std::vector<double> LatencyBuckets();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;               // counter, gauge
    std::vector<uint64_t> buckets;  // histogram: per-bucket (not cumulative) counts
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::function<double()> fn;
    std::map<std::string, Series> series;  // by rendered label set
  };
  static std::string LabelString(const Labels& labels);
  Series* Find(const std::string& name, const Labels& labels, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace ccguard::server
