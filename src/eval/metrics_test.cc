#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "eval/random.h"

namespace ccguard::eval {
namespace {

constexpr double kEps = 1e-12;

// unsafe: 0.9 0.8 0.4 0.4; safe: 0.7 0.4 0.2 0.1
std::vector<Scored> HandCase() {
  return {{true, 0.9},  {false, 0.7}, {true, 0.8},  {true, 0.4},
          {false, 0.4}, {true, 0.4},  {false, 0.2}, {false, 0.1}};
}

std::vector<Scored> Random(uint64_t seed, size_t n, int grid) {
  SplitMix64 rng(seed);
  std::vector<Scored> v(n);
  for (auto& s : v) {
    s.unsafe = rng.Below(3) == 0;
    // Coarse grid => many ties; unsafe items skew higher.
    uint64_t k = rng.Below(static_cast<uint64_t>(grid) + 1);
    if (s.unsafe) k = std::max(k, rng.Below(static_cast<uint64_t>(grid) + 1));
    s.p_unsafe = static_cast<double>(k) / grid;
  }
  return v;
}

double BruteAuroc(const std::vector<Scored>& v) {
  double u = 0;
  size_t pairs = 0;
  for (const auto& a : v) {
    if (!a.unsafe) continue;
    for (const auto& b : v) {
      if (b.unsafe) continue;
      ++pairs;
      u += a.p_unsafe > b.p_unsafe ? 1.0 : (a.p_unsafe == b.p_unsafe ? 0.5 : 0.0);
    }
  }
  return u / static_cast<double>(pairs);
}

// AP as the mean over unsafe items of the precision when flagging p >= its score.
double BruteAp(const std::vector<Scored>& v) {
  double sum = 0;
  size_t pos = 0;
  for (const auto& a : v) {
    if (!a.unsafe) continue;
    ++pos;
    size_t tp = 0, flagged = 0;
    for (const auto& b : v) {
      if (b.p_unsafe >= a.p_unsafe) {
        ++flagged;
        tp += b.unsafe;
      }
    }
    sum += static_cast<double>(tp) / static_cast<double>(flagged);
  }
  return sum / static_cast<double>(pos);
}

// The sweep rule applied literally to every candidate threshold.
ThresholdChoice BruteSweep(const std::vector<Scored>& v, double target) {
  std::vector<double> cands;
  double mx = 1.0;
  if (!v.empty()) {
    mx = v[0].p_unsafe;
    for (const auto& s : v) mx = std::max(mx, s.p_unsafe);
  }
  for (const auto& s : v) cands.push_back(s.p_unsafe);
  cands.push_back(std::nextafter(mx, std::numeric_limits<double>::infinity()));
  bool have = false;
  ThresholdChoice best;
  double best_tpr = -1;
  for (double t : cands) {
    Rates r = RatesOf(ConfusionAt(v, t));
    if (r.fpr && *r.fpr > target) continue;
    double tpr = r.tpr.value_or(0);
    if (!have || tpr > best_tpr || (tpr == best_tpr && t > best.threshold)) {
      have = true;
      best_tpr = tpr;
      best.threshold = t;
      best.tpr = r.tpr;
      best.fpr = r.fpr;
    }
  }
  return best;
}

TEST(MetricsTest, HandComputedConfusionAndRates) {
  auto v = HandCase();
  Confusion c = ConfusionAt(v, 0.5);
  EXPECT_EQ(c.tp, 2u);
  EXPECT_EQ(c.fn, 2u);
  EXPECT_EQ(c.fp, 1u);
  EXPECT_EQ(c.tn, 3u);
  Rates r = RatesOf(c);
  EXPECT_NEAR(*r.tpr, 0.5, kEps);
  EXPECT_NEAR(*r.fnr, 0.5, kEps);
  EXPECT_NEAR(*r.fpr, 0.25, kEps);
  EXPECT_NEAR(*r.precision, 2.0 / 3, kEps);
  EXPECT_NEAR(*r.f1, 4.0 / 7, kEps);
}

TEST(MetricsTest, ThresholdTiesAreFlagged) {
  auto v = HandCase();
  Confusion c = ConfusionAt(v, 0.4);  // p >= 0.4 flags all three 0.4s
  EXPECT_EQ(c.tp, 4u);
  EXPECT_EQ(c.fp, 2u);
  c = ConfusionAt(v, std::nextafter(0.4, 1.0));
  EXPECT_EQ(c.tp, 2u);
  EXPECT_EQ(c.fp, 1u);
}

TEST(MetricsTest, HandComputedAurocAndAp) {
  auto v = HandCase();
  // 4 + 4 + 2.5 + 2.5 = 13 of 16 pairs.
  EXPECT_NEAR(*Auroc(v), 13.0 / 16, kEps);
  // Thresholds 0.9, 0.8 (P=1, each +1/4 recall), 0.7 (no gain), 0.4 (+1/2 recall at P=4/6).
  EXPECT_NEAR(*AveragePrecision(v), 0.25 + 0.25 + 0.5 * 4 / 6, kEps);
}

TEST(MetricsTest, AurocEqualsBruteForceMannWhitney) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto v = Random(seed, 50 + seed * 17, seed % 2 ? 10 : 1000);
    ASSERT_TRUE(Auroc(v).has_value());
    EXPECT_NEAR(*Auroc(v), BruteAuroc(v), 1e-12) << "seed " << seed;
    EXPECT_NEAR(*AveragePrecision(v), BruteAp(v), 1e-12) << "seed " << seed;
  }
}

TEST(MetricsTest, SingleClass) {
  std::vector<Scored> unsafe_only = {{true, 0.9}, {true, 0.3}};
  DatasetMetrics m = ComputeMetrics(unsafe_only, 0.5, {});
  EXPECT_EQ(m.n, 2u);
  EXPECT_EQ(m.n_unsafe, 2u);
  EXPECT_EQ(m.n_safe, 0u);
  EXPECT_NEAR(*m.rates.tpr, 0.5, kEps);
  EXPECT_FALSE(m.rates.fpr.has_value());
  EXPECT_NEAR(*m.rates.precision, 1.0, kEps);
  EXPECT_NEAR(*m.rates.f1, 2.0 / 3, kEps);
  EXPECT_FALSE(m.auroc.has_value());
  EXPECT_NEAR(*m.auprc, 1.0, kEps);
  EXPECT_TRUE(m.ci.tpr.has_value());
  EXPECT_FALSE(m.ci.fpr.has_value());
  EXPECT_TRUE(RocCurve(unsafe_only).empty());

  std::vector<Scored> safe_only = {{false, 0.1}, {false, 0.2}};
  m = ComputeMetrics(safe_only, 0.5, {});
  EXPECT_FALSE(m.rates.tpr.has_value());
  EXPECT_FALSE(m.rates.fnr.has_value());
  EXPECT_NEAR(*m.rates.fpr, 0.0, kEps);
  EXPECT_FALSE(m.rates.precision.has_value());  // nothing flagged
  EXPECT_FALSE(m.rates.f1.has_value());         // 2TP + FP + FN == 0
  EXPECT_FALSE(m.auroc.has_value());
  EXPECT_FALSE(m.auprc.has_value());
  EXPECT_FALSE(m.ci.tpr.has_value());
  EXPECT_FALSE(m.ci.f1.has_value());
  ASSERT_TRUE(m.ci.fpr.has_value());
  EXPECT_EQ(m.ci.fpr->lo, 0.0);
  EXPECT_NEAR(m.ci.fpr->hi, 0.657620, 1e-6);  // Wilson, 0 of 2: never [0, 0]
  // A flagged safe item makes F1 defined and 0.
  m = ComputeMetrics(safe_only, 0.15, {});
  EXPECT_NEAR(*m.rates.f1, 0.0, kEps);
  EXPECT_NEAR(*m.rates.precision, 0.0, kEps);
}

TEST(MetricsTest, EmptyInput) {
  DatasetMetrics m = ComputeMetrics({}, 0.5, {});
  EXPECT_EQ(m.n, 0u);
  EXPECT_FALSE(m.rates.tpr || m.rates.fnr || m.rates.fpr || m.rates.precision || m.rates.f1);
  EXPECT_FALSE(m.auroc || m.auprc || m.ci.tpr || m.ci.fpr || m.ci.f1);
  ThresholdChoice c = BestThresholdForFpr({}, 0.01);
  EXPECT_EQ(c.threshold, std::nextafter(1.0, 2.0));
  EXPECT_FALSE(c.tpr || c.fpr);
}

TEST(MetricsTest, AllEqualScores) {
  std::vector<Scored> v = {{true, 0.5}, {false, 0.5}, {true, 0.5}, {false, 0.5}, {false, 0.5}};
  EXPECT_NEAR(*Auroc(v), 0.5, kEps);
  EXPECT_NEAR(*AveragePrecision(v), 0.4, kEps);  // the prevalence
  Rates r = RatesOf(ConfusionAt(v, 0.5));
  EXPECT_NEAR(*r.tpr, 1.0, kEps);
  EXPECT_NEAR(*r.fpr, 1.0, kEps);
  // Flagging the tie costs FPR 1, so any target < 1 flags nothing.
  ThresholdChoice c = BestThresholdForFpr(v, 0.05);
  EXPECT_EQ(c.threshold, std::nextafter(0.5, 1.0));
  EXPECT_NEAR(*c.tpr, 0.0, kEps);
  EXPECT_NEAR(*c.fpr, 0.0, kEps);
  c = BestThresholdForFpr(v, 1.0);
  EXPECT_EQ(c.threshold, 0.5);
  EXPECT_NEAR(*c.tpr, 1.0, kEps);
  auto roc = RocCurve(v);
  ASSERT_EQ(roc.size(), 2u);
  EXPECT_EQ(roc[1].fpr, 1.0);
  EXPECT_EQ(roc[1].tpr, 1.0);
}

TEST(MetricsTest, SweepPicksTheDefinedThreshold) {
  auto v = HandCase();  // safe scores 0.7 0.4 0.2 0.1
  auto sweep = SweepThresholds(v, {0.0, 0.005, 0.01, 0.05, 0.25, 0.5, 1.0});
  ASSERT_TRUE(sweep.ok());
  const auto& s = *sweep;
  // FPR 0: 0.9 (TPR .25) and 0.8 (TPR .5) qualify; 0.8.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s[i].threshold, 0.8) << i;
    EXPECT_NEAR(*s[i].tpr, 0.5, kEps);
    EXPECT_NEAR(*s[i].fpr, 0.0, kEps);
  }
  EXPECT_EQ(s[1].target_fpr, 0.005);
  // FPR <= .25: 0.7 has the same TPR as 0.8 at a higher FPR; ties go to the higher threshold.
  EXPECT_EQ(s[4].threshold, 0.8);
  EXPECT_NEAR(*s[4].fpr, 0.0, kEps);
  // FPR <= .5: 0.4 catches all unsafe at FPR .5.
  EXPECT_EQ(s[5].threshold, 0.4);
  EXPECT_NEAR(*s[5].tpr, 1.0, kEps);
  EXPECT_NEAR(*s[5].fpr, 0.5, kEps);
  // FPR <= 1: 0.2 and 0.1 also give TPR 1; the highest such threshold is 0.4.
  EXPECT_EQ(s[6].threshold, 0.4);
}

TEST(MetricsTest, SweepWhenTheTopScoreIsSafe) {
  std::vector<Scored> v = {{false, 0.9}, {true, 0.6}, {false, 0.1}};
  ThresholdChoice c = BestThresholdForFpr(v, 0.01);
  EXPECT_EQ(c.threshold, std::nextafter(0.9, 1.0));
  EXPECT_EQ(ConfusionAt(v, c.threshold).tp + ConfusionAt(v, c.threshold).fp, 0u);
  EXPECT_NEAR(*c.tpr, 0.0, kEps);
  c = BestThresholdForFpr(v, 0.5);
  EXPECT_EQ(c.threshold, 0.6);
  EXPECT_NEAR(*c.fpr, 0.5, kEps);
}

TEST(MetricsTest, SweepMatchesBruteForceOnRandomData) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    auto v = Random(seed, 10 + seed * 13, seed % 3 ? 20 : 100000);
    for (double t : {0.0, 0.005, 0.01, 0.05, 0.2, 1.0}) {
      ThresholdChoice got = BestThresholdForFpr(v, t);
      ThresholdChoice want = BruteSweep(v, t);
      EXPECT_EQ(got.threshold, want.threshold) << "seed " << seed << " target " << t;
      EXPECT_EQ(got.tpr, want.tpr);
      EXPECT_EQ(got.fpr, want.fpr);
      ASSERT_TRUE(got.fpr.has_value());
      EXPECT_LE(*got.fpr, t);
    }
  }
}

TEST(MetricsTest, SweepWithoutSafeOrUnsafeItems) {
  std::vector<Scored> unsafe_only = {{true, 0.3}, {true, 0.7}};
  ThresholdChoice c = BestThresholdForFpr(unsafe_only, 0.0);
  EXPECT_EQ(c.threshold, 0.3);  // everything qualifies; highest TPR at the highest threshold
  EXPECT_NEAR(*c.tpr, 1.0, kEps);
  EXPECT_FALSE(c.fpr.has_value());
  std::vector<Scored> safe_only = {{false, 0.3}, {false, 0.7}};
  c = BestThresholdForFpr(safe_only, 1.0);
  EXPECT_EQ(c.threshold, std::nextafter(0.7, 1.0));
  EXPECT_FALSE(c.tpr.has_value());
  EXPECT_NEAR(*c.fpr, 0.0, kEps);
}

TEST(MetricsTest, CalibrateUsesTheSweepRule) {
  auto v = HandCase();
  auto t = Calibrate(0.5, v);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 0.4);
  EXPECT_FALSE(Calibrate(-0.1, v).ok());
  EXPECT_FALSE(Calibrate(1.5, v).ok());
  EXPECT_FALSE(Calibrate(std::nan(""), v).ok());
}

TEST(MetricsTest, BootstrapIsDeterministicAndSensible) {
  auto v = Random(99, 2000, 1000);
  BootstrapOptions opt;
  opt.seed = 5;
  BootstrapCis a = BootstrapCi(v, 0.5, opt);
  BootstrapCis b = BootstrapCi(v, 0.5, opt);
  ASSERT_TRUE(a.tpr && a.fpr && a.f1);
  EXPECT_EQ(a.tpr->lo, b.tpr->lo);
  EXPECT_EQ(a.tpr->hi, b.tpr->hi);
  EXPECT_EQ(a.f1->lo, b.f1->lo);
  Confusion c = ConfusionAt(v, 0.5);
  Rates r = RatesOf(c);
  for (auto [ci, x, n] :
       {std::tuple{a.tpr, *r.tpr, c.n_unsafe()}, std::tuple{a.fpr, *r.fpr, c.n_safe()}}) {
    EXPECT_LE(ci->lo, x);
    EXPECT_GE(ci->hi, x);
    // Close to the normal approximation +-1.96 sd.
    double sd = std::sqrt(x * (1 - x) / static_cast<double>(n));
    EXPECT_NEAR(ci->hi - ci->lo, 2 * 1.96 * sd, 0.3 * 2 * 1.96 * sd);
  }
  opt.seed = 6;
  BootstrapCis d = BootstrapCi(v, 0.5, opt);
  EXPECT_TRUE(d.tpr->lo != a.tpr->lo || d.tpr->hi != a.tpr->hi || d.f1->lo != a.f1->lo);
}

TEST(MetricsTest, WilsonIntervals) {
  // Reference values: the Wilson formula at z = 1.959963984540054 (Python's
  // statistics.NormalDist().inv_cdf(0.975)).
  auto a = WilsonInterval(0, 4, 0.95);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->lo, 0.0);
  EXPECT_NEAR(a->hi, 0.4898908364545972, 1e-12);
  auto b = WilsonInterval(8, 10, 0.95);
  EXPECT_NEAR(b->lo, 0.49016247153664183, 1e-12);
  EXPECT_NEAR(b->hi, 0.9433178485456247, 1e-12);
  auto c = WilsonInterval(4, 4, 0.95);
  EXPECT_NEAR(c->lo, 0.5101091635454027, 1e-12);
  EXPECT_EQ(c->hi, 1.0);
  EXPECT_FALSE(WilsonInterval(0, 0, 0.95).has_value());
  // ComputeMetrics uses it for TPR and FPR.
  std::vector<Scored> v = {{true, 0.9}, {true, 0.8}, {true, 0.1}, {false, 0.2}, {false, 0.7}};
  DatasetMetrics m = ComputeMetrics(v, 0.5, {});
  EXPECT_EQ(m.ci.tpr->lo, WilsonInterval(2, 3, 0.95)->lo);
  EXPECT_EQ(m.ci.fpr->hi, WilsonInterval(1, 2, 0.95)->hi);
}

TEST(MetricsTest, BootstrapOfAPerfectClassifier) {
  std::vector<Scored> v;
  for (int i = 0; i < 50; ++i) v.push_back({i % 2 == 0, i % 2 == 0 ? 0.9 : 0.1});
  BootstrapCis ci = BootstrapCi(v, 0.5, {});
  EXPECT_EQ(ci.tpr->lo, 1.0);
  EXPECT_EQ(ci.tpr->hi, 1.0);
  EXPECT_EQ(ci.fpr->lo, 0.0);
  EXPECT_EQ(ci.fpr->hi, 0.0);
  EXPECT_EQ(ci.f1->lo, 1.0);
}

TEST(MetricsTest, RocCurvePoints) {
  auto roc = RocCurve(HandCase());
  // (0,0), 0.9 -> (0,.25), 0.8 -> (0,.5), 0.7 -> (.25,.5), 0.4 -> (.5,1), 0.2, 0.1.
  ASSERT_EQ(roc.size(), 7u);
  EXPECT_EQ(roc[0].fpr, 0.0);
  EXPECT_EQ(roc[0].tpr, 0.0);
  EXPECT_EQ(roc[3].fpr, 0.25);
  EXPECT_EQ(roc[3].tpr, 0.5);
  EXPECT_EQ(roc[4].fpr, 0.5);
  EXPECT_EQ(roc[4].tpr, 1.0);
  EXPECT_EQ(roc[6].fpr, 1.0);
  EXPECT_EQ(roc[6].tpr, 1.0);
}

}  // namespace
}  // namespace ccguard::eval
