#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "eval/random.h"

namespace ccguard::eval {
namespace {

std::optional<double> Ratio(size_t num, size_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

// Items sorted by score, descending (ties in input order).
std::vector<Scored> SortedDesc(std::span<const Scored> items) {
  std::vector<Scored> v(items.begin(), items.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const Scored& a, const Scored& b) { return a.p_unsafe > b.p_unsafe; });
  return v;
}

// Cumulative counts after each group of tied scores, descending by score.
struct Step {
  double score;
  size_t tp, fp;  // flagged unsafe/safe items with p >= score
};
std::vector<Step> Steps(std::span<const Scored> items) {
  std::vector<Scored> v = SortedDesc(items);
  std::vector<Step> steps;
  size_t tp = 0, fp = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j].p_unsafe == v[i].p_unsafe) {
      (v[j].unsafe ? tp : fp) += 1;
      ++j;
    }
    steps.push_back(Step{v[i].p_unsafe, tp, fp});
    i = j;
  }
  return steps;
}

std::optional<double> Percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  double h = (static_cast<double>(v.size()) - 1) * q;
  size_t lo = static_cast<size_t>(std::floor(h));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

Confusion ConfusionAt(std::span<const Scored> items, double threshold) {
  Confusion c;
  for (const auto& s : items) {
    const bool flagged = s.p_unsafe >= threshold;
    if (s.unsafe) {
      (flagged ? c.tp : c.fn) += 1;
    } else {
      (flagged ? c.fp : c.tn) += 1;
    }
  }
  return c;
}

Rates RatesOf(const Confusion& c) {
  Rates r;
  r.tpr = Ratio(c.tp, c.n_unsafe());
  r.fnr = Ratio(c.fn, c.n_unsafe());
  r.fpr = Ratio(c.fp, c.n_safe());
  r.precision = Ratio(c.tp, c.tp + c.fp);
  r.f1 = Ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  return r;
}

std::optional<double> Auroc(std::span<const Scored> items) {
  size_t n_pos = 0;
  for (const auto& s : items) n_pos += s.unsafe;
  const size_t n_neg = items.size() - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::nullopt;
  // Ascending ranks; tied groups get their mean rank. U = sum(pos ranks) - n_pos(n_pos+1)/2.
  std::vector<Scored> v(items.begin(), items.end());
  std::sort(v.begin(), v.end(),
            [](const Scored& a, const Scored& b) { return a.p_unsafe < b.p_unsafe; });
  double rank_sum = 0;  // in half-ranks (2x) to stay exact for moderate n
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    size_t pos_in_group = 0;
    while (j < v.size() && v[j].p_unsafe == v[i].p_unsafe) {
      pos_in_group += v[j].unsafe;
      ++j;
    }
    // Ranks i+1 .. j; twice the mean rank is (i+1)+j.
    rank_sum += static_cast<double>(pos_in_group) * static_cast<double>(i + 1 + j);
    i = j;
  }
  const double np = static_cast<double>(n_pos), nn = static_cast<double>(n_neg);
  const double u = rank_sum / 2 - np * (np + 1) / 2;
  return u / (np * nn);
}

std::optional<double> AveragePrecision(std::span<const Scored> items) {
  size_t n_pos = 0;
  for (const auto& s : items) n_pos += s.unsafe;
  if (n_pos == 0) return std::nullopt;
  double ap = 0;
  size_t prev_tp = 0;
  for (const Step& st : Steps(items)) {
    if (st.tp != prev_tp) {
      const double recall_gain = static_cast<double>(st.tp - prev_tp) / static_cast<double>(n_pos);
      ap += recall_gain * static_cast<double>(st.tp) / static_cast<double>(st.tp + st.fp);
      prev_tp = st.tp;
    }
  }
  return ap;
}

BootstrapCis BootstrapCi(std::span<const Scored> items, double threshold,
                         const BootstrapOptions& options) {
  BootstrapCis out;
  const size_t n = items.size();
  if (n == 0 || options.resamples <= 0) return out;
  const Rates full = RatesOf(ConfusionAt(items, threshold));
  // Cell of each item: 0 tp, 1 fp, 2 tn, 3 fn.
  std::vector<uint8_t> cell(n);
  for (size_t i = 0; i < n; ++i) {
    const bool flagged = items[i].p_unsafe >= threshold;
    cell[i] = items[i].unsafe ? (flagged ? 0 : 3) : (flagged ? 1 : 2);
  }
  std::vector<double> tprs, fprs, f1s;
  SplitMix64 rng(options.seed);
  for (int b = 0; b < options.resamples; ++b) {
    size_t counts[4] = {0, 0, 0, 0};
    for (size_t k = 0; k < n; ++k) ++counts[cell[rng.Below(n)]];
    const Rates r = RatesOf(Confusion{counts[0], counts[1], counts[2], counts[3]});
    if (r.tpr) tprs.push_back(*r.tpr);
    if (r.fpr) fprs.push_back(*r.fpr);
    if (r.f1) f1s.push_back(*r.f1);
  }
  const double lo_q = (1 - options.level) / 2, hi_q = 1 - lo_q;
  auto interval = [&](const std::optional<double>& full_value,
                      const std::vector<double>& v) -> std::optional<Interval> {
    if (!full_value || v.empty()) return std::nullopt;
    return Interval{*Percentile(v, lo_q), *Percentile(v, hi_q)};
  };
  out.tpr = interval(full.tpr, tprs);
  out.fpr = interval(full.fpr, fprs);
  out.f1 = interval(full.f1, f1s);
  return out;
}

std::optional<Interval> WilsonInterval(size_t successes, size_t n, double level) {
  if (n == 0 || successes > n) return std::nullopt;
  // z = Phi^-1((1 + level) / 2), by bisection on erfc (monotone): the two-sided
  // tail 1 - level equals erfc(z / sqrt(2)).
  const double tail = 1 - level;
  double lo = 0, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > tail ? lo : hi) = mid;
  }
  const double z = (lo + hi) / 2, nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn, z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  return Interval{std::max(0.0, center - half), std::min(1.0, center + half)};
}

DatasetMetrics ComputeMetrics(std::span<const Scored> items, double threshold,
                              const BootstrapOptions& options) {
  DatasetMetrics m;
  m.threshold = threshold;
  m.confusion = ConfusionAt(items, threshold);
  m.n = m.confusion.n();
  m.n_unsafe = m.confusion.n_unsafe();
  m.n_safe = m.confusion.n_safe();
  m.rates = RatesOf(m.confusion);
  m.auroc = Auroc(items);
  m.auprc = AveragePrecision(items);
  m.ci = BootstrapCi(items, threshold, options);
  m.ci.tpr = WilsonInterval(m.confusion.tp, m.n_unsafe, options.level);
  m.ci.fpr = WilsonInterval(m.confusion.fp, m.n_safe, options.level);
  return m;
}

ThresholdChoice BestThresholdForFpr(std::span<const Scored> items, double target_fpr) {
  size_t n_pos = 0;
  for (const auto& s : items) n_pos += s.unsafe;
  const size_t n_neg = items.size() - n_pos;
  const std::vector<Step> steps = Steps(items);
  const double max_score = steps.empty() ? 1.0 : steps.front().score;

  // Start from "flag nothing" (always feasible), then walk down the distinct
  // scores; a lower threshold only replaces the choice on a strictly higher TPR.
  double best_threshold = std::nextafter(max_score, std::numeric_limits<double>::infinity());
  size_t best_tp = 0, best_fp = 0;
  for (const Step& st : steps) {
    const bool feasible =
        n_neg == 0 || static_cast<double>(st.fp) / static_cast<double>(n_neg) <= target_fpr;
    if (!feasible) break;  // FPR only grows as the threshold falls
    if (st.tp > best_tp) {
      best_tp = st.tp;
      best_fp = st.fp;
      best_threshold = st.score;
    }
  }
  ThresholdChoice c;
  c.target_fpr = target_fpr;
  c.threshold = best_threshold;
  c.tpr = Ratio(best_tp, n_pos);
  c.fpr = Ratio(best_fp, n_neg);
  return c;
}

Result<std::vector<ThresholdChoice>> SweepThresholds(std::span<const Scored> items,
                                                     const std::vector<double>& target_fprs) {
  std::vector<ThresholdChoice> out;
  for (double t : target_fprs) {
    if (!(t >= 0 && t <= 1)) {
      return Status::InvalidArgument("target FPR " + std::to_string(t) + " is not in [0, 1]");
    }
    out.push_back(BestThresholdForFpr(items, t));
  }
  return out;
}

Result<double> Calibrate(double target_fpr, std::span<const Scored> items) {
  CCG_ASSIGN_OR_RETURN(std::vector<ThresholdChoice> c, SweepThresholds(items, {target_fpr}));
  return c[0].threshold;
}

std::vector<RocPoint> RocCurve(std::span<const Scored> items) {
  size_t n_pos = 0;
  for (const auto& s : items) n_pos += s.unsafe;
  const size_t n_neg = items.size() - n_pos;
  if (n_pos == 0 || n_neg == 0) return {};
  std::vector<RocPoint> roc = {{0, 0}};
  for (const Step& st : Steps(items)) {
    roc.push_back(RocPoint{static_cast<double>(st.fp) / static_cast<double>(n_neg),
                           static_cast<double>(st.tp) / static_cast<double>(n_pos)});
  }
  return roc;
}

}  // namespace ccguard::eval
