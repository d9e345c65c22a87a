// Evaluation reports from scores: results.json, results.md, report.html.
//
// BuildReport groups score records by dataset (datasets in
// options.dataset_order, those it does not name after them by name; items
// within a dataset sorted by id, so the output does not depend on the order
// of lines in scores.jsonl; a repeated (dataset, id) is an error) and
// computes metrics.h's metrics at options.threshold for each. The threshold
// sweep runs on the dataset named by options.sweep_dataset (the held-out
// set; NotFound if it has no scores) or, when that is empty, on all items of
// all datasets pooled, reported under the dataset name "all".
//
// results.json (2-space indent, keys sorted, arrays of numbers on one line,
// floats in shortest round-trip form, '\n' at the end):
//   {"datasets": {NAME: {"auprc","auroc","ci": {"f1":[lo,hi],"fpr":[lo,hi],
//     "tpr":[lo,hi]},"f1","fnr","fpr","n","n_safe","n_unsafe","precision","tpr"}},
//    "dataset_order": [NAME...]  (the report's order: "datasets" is key-sorted),
//    "sweep": [{"dataset","fpr","target_fpr","threshold","tpr"}...],
//    "threshold": T}
// An undefined metric or interval is null. Rates, AUROC/AUPRC and CI bounds
// are rounded to 6 decimal places; thresholds are written exactly (shortest
// round-trip form), since rounding one would change what it flags. The same
// scores and options always give byte-identical files.
//
// results.md: the per-dataset table (Dataset | N | Unsafe recall (TPR) |
// Missed unsafe (FNR, ASR proxy) | Over-refusal (FPR) | Unsafe F1 | AUROC),
// 4 decimals, "n/a" for undefined values (AUROC with a single class), then
// the sweep table; thresholds with 4 significant digits (results.json has
// them exactly). report.html: one self-contained page (inline CSS and SVG,
// no scripts or external resources): what produced it (options.provenance:
// version, model and adapter revisions, constitution hash, compute, device,
// date, suite), both tables (each in a horizontally scrolling wrapper, so a
// narrow window scrolls instead of cutting columns off), then per dataset an
// ROC curve (with the operating point at the threshold) and a 20-bin
// histogram of p_unsafe for safe vs unsafe items as the fraction of each
// class per bin (bins [k/20, (k+1)/20), the last closed), so a class of 5
// items reads as well beside one of 5,000; plots scale to the page width.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "eval/scores.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::eval {

struct ReportOptions {
  double threshold = 0.5;
  std::string sweep_dataset;  // empty: pool all datasets
  std::vector<double> target_fprs = {0.005, 0.01, 0.05};
  BootstrapOptions bootstrap;
  // Datasets in this order (the suite's); unnamed ones follow by name.
  std::vector<std::string> dataset_order;
  // What produced the scores, shown by report.html: an object of scalars or
  // objects of scalars (run.json, plus "date", "suite", ...); null: unknown.
  Json provenance;
  // The run's record (run.json without its "data"), kept by results.json as
  // "run": version, model and adapter revisions, constitution hash, compute.
  Json run;
  // Where each dataset's data came from: {name: {"repo"?, "revision"?,
  // "commit"?, "files": [{"path", "sha256", "rows", "items", "skipped"}],
  // "items"}}; results.json "sources", report.html's "Data sources", and
  // sources.json (written beside them, read back by `ccguard metrics`).
  Json sources;
};

struct DatasetResult {
  std::string name;
  std::vector<Scored> scores;  // sorted by id
  DatasetMetrics metrics;
};

struct Report {
  double threshold = 0.5;
  std::vector<DatasetResult> datasets;  // in ReportOptions::dataset_order
  std::string sweep_dataset;            // a dataset name, or "all"
  std::vector<ThresholdChoice> sweep;
  Json provenance;  // ReportOptions::provenance
  Json sources;     // ReportOptions::sources
  Json run;         // ReportOptions::run
};

// Scores per dataset, items sorted by id; InvalidArgument on a repeated
// (dataset, id) or a score that is not finite.
Result<std::map<std::string, std::vector<Scored>>> GroupScores(
    const std::vector<ScoreRecord>& records);

Result<Report> BuildReport(const std::vector<ScoreRecord>& records, const ReportOptions& options);

std::string ResultsJson(const Report& report);
std::string ResultsMarkdown(const Report& report);
std::string ReportHtml(const Report& report);

// Writes results.json, results.md and report.html into `dir` (created if
// missing).
Status WriteReport(const Report& report, const std::string& dir);

// Several guards' reports over the same suite, side by side: one row per
// dataset, a column group per guard (its threshold, TPR, FPR, F1, AUROC), and
// each guard's FPR-constrained thresholds (its own calibration).
struct GuardReport {
  std::string guard;  // the column group's title: the profile name (and model)
  std::string dir;    // its own report's folder, relative to the combined one
  Report report;
};
std::string SideBySideMarkdown(const std::vector<GuardReport>& guards);
std::string SideBySideHtml(const std::vector<GuardReport>& guards);
std::string SideBySideJson(const std::vector<GuardReport>& guards);
// Writes results.md, results.json and report.html (the tables above) into
// `dir`. InvalidArgument when fewer than two guards or their datasets differ.
Status WriteSideBySide(const std::vector<GuardReport>& guards, const std::string& dir);

}  // namespace ccguard::eval
