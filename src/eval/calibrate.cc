#include "eval/calibrate.h"

#include <charconv>
#include <cstdio>

#include "eval/report.h"

namespace ccguard::eval {
namespace {

std::string Rate(const std::optional<double>& x) {
  if (!x) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", *x);
  return buf;
}

std::string Shortest(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}

}  // namespace

Result<CalibrationResult> CalibrateScores(const std::vector<ScoreRecord>& records,
                                          double target_fpr, const std::string& on) {
  CCG_ASSIGN_OR_RETURN(auto groups, GroupScores(records));
  std::vector<Scored> basis;
  if (on.empty()) {
    for (const auto& [name, scores] : groups)
      basis.insert(basis.end(), scores.begin(), scores.end());
  } else {
    auto it = groups.find(on);
    if (it == groups.end()) return Status::NotFound("dataset '" + on + "' has no scores");
    basis = it->second;
  }
  CCG_ASSIGN_OR_RETURN(std::vector<ThresholdChoice> choice, SweepThresholds(basis, {target_fpr}));
  CalibrationResult result;
  result.on = on.empty() ? "all" : on;
  result.choice = choice[0];
  for (const auto& [name, scores] : groups) {
    CalibrationResult::PerDataset d;
    d.name = name;
    d.confusion = ConfusionAt(scores, result.choice.threshold);
    d.rates = RatesOf(d.confusion);
    result.datasets.push_back(std::move(d));
  }
  return result;
}

std::string FormatCalibration(const CalibrationResult& r) {
  std::string s = "threshold " + Shortest(r.choice.threshold) +
                  " (target FPR <= " + Shortest(r.choice.target_fpr) + " on " + r.on + ": TPR " +
                  Rate(r.choice.tpr) + ", FPR " + Rate(r.choice.fpr) + ")\n";
  for (const auto& d : r.datasets) {
    s += "  " + d.name + ": n " + std::to_string(d.confusion.n()) + ", TPR " + Rate(d.rates.tpr) +
         ", FPR " + Rate(d.rates.fpr) + "\n";
  }
  return s;
}

}  // namespace ccguard::eval
