// Calibrating the threshold on scores (ccguard calibrate).
//
// CalibrateScores picks the threshold for `target_fpr` by metrics.h's rule
// (highest TPR with FPR <= target; ties: highest threshold) on the dataset
// `on` (NotFound if it has no scores) or, when `on` is empty, on all items
// pooled (reported as "all"), and gives the TPR/FPR that threshold yields on
// every dataset (sorted by name).
#pragma once

#include <string>
#include <vector>

#include "eval/metrics.h"
#include "eval/scores.h"
#include "util/status.h"

namespace ccguard::eval {

struct CalibrationResult {
  std::string on;  // dataset name, or "all"
  ThresholdChoice choice;
  struct PerDataset {
    std::string name;
    Confusion confusion;
    Rates rates;
  };
  std::vector<PerDataset> datasets;
};

Result<CalibrationResult> CalibrateScores(const std::vector<ScoreRecord>& records,
                                          double target_fpr, const std::string& on);

// Human-readable text: the threshold line, then one line per dataset.
std::string FormatCalibration(const CalibrationResult& result);

}  // namespace ccguard::eval
