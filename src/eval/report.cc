#include "eval/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "util/json_file.h"

namespace ccguard::eval {
namespace {

double Round6(double x) {
  double r = std::round(x * 1e6) / 1e6;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

Json Num(const std::optional<double>& x) { return x ? Json(Round6(*x)) : Json(nullptr); }

Json Ci(const std::optional<Interval>& ci) {
  if (!ci) return nullptr;
  return Json::array({Round6(ci->lo), Round6(ci->hi)});
}

// Shortest decimal that reads back as the same double.
std::string Shortest(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}

// JSON text like Json::dump(2), except that floats are written in their
// shortest round-trip form (nlohmann's Grisu2 output is not always shortest:
// 0.770121 can come out as 0.7701210000000001) and arrays of scalars are kept
// on one line.
void WriteJson(const Json& j, int depth, std::string* out) {
  const std::string pad(2 * (depth + 1), ' '), end_pad(2 * depth, ' ');
  if (j.is_object()) {
    if (j.empty()) {
      *out += "{}";
      return;
    }
    *out += "{\n";
    size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      *out += pad + Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) + ": ";
      WriteJson(it.value(), depth + 1, out);
      *out += i + 1 < j.size() ? ",\n" : "\n";
    }
    *out += end_pad + "}";
  } else if (j.is_array()) {
    const bool inline_array =
        std::all_of(j.begin(), j.end(), [](const Json& e) { return e.is_primitive(); });
    if (j.empty() || inline_array) {
      *out += "[";
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) *out += ", ";
        WriteJson(j[i], depth + 1, out);
      }
      *out += "]";
      return;
    }
    *out += "[\n";
    for (size_t i = 0; i < j.size(); ++i) {
      *out += pad;
      WriteJson(j[i], depth + 1, out);
      *out += i + 1 < j.size() ? ",\n" : "\n";
    }
    *out += end_pad + "]";
  } else if (j.is_number_float()) {
    std::string s = Shortest(j.get<double>());
    if (s.find_first_of(".e") == std::string::npos) s += ".0";  // keep it a float: 1.0
    *out += s;
  } else {
    *out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

std::string Fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

std::string Cell(const std::optional<double>& x) { return x ? Fixed(*x, 4) : "n/a"; }

// A threshold for people: 4 significant digits (results.json has it exactly).
std::string Sig4(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", x);
  return buf;
}

std::string MdEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string SweepTitle(const Report& r) {
  return r.sweep_dataset == "all" ? std::string("all datasets pooled") : r.sweep_dataset;
}

std::string MetricsTableMd(const Report& r) {
  std::string s =
      "| Dataset | N | Unsafe recall (TPR) | Missed unsafe (FNR, ASR proxy) | "
      "Over-refusal (FPR) | Unsafe F1 | AUROC |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& d : r.datasets) {
    const auto& m = d.metrics;
    s += "| " + MdEscape(d.name) + " | " + std::to_string(m.n) + " | " + Cell(m.rates.tpr) + " | " +
         Cell(m.rates.fnr) + " | " + Cell(m.rates.fpr) + " | " + Cell(m.rates.f1) + " | " +
         Cell(m.auroc) + " |\n";
  }
  return s;
}

std::string SweepTableMd(const Report& r) {
  std::string s =
      "| Dataset | Target FPR | Threshold | TPR | FPR |\n"
      "|---|---:|---:|---:|---:|\n";
  for (const auto& c : r.sweep) {
    s += "| " + MdEscape(r.sweep_dataset) + " | " + Shortest(c.target_fpr) + " | " +
         Sig4(c.threshold) + " | " + Cell(c.tpr) + " | " + Cell(c.fpr) + " |\n";
  }
  return s;
}

// --- SVG ---------------------------------------------------------------------

constexpr const char* kSafeColor = "#1f77b4";
constexpr const char* kUnsafeColor = "#d62728";

std::string P(double x) { return Fixed(x, 2); }

std::string Line(double x1, double y1, double x2, double y2, const std::string& extra) {
  return "<line x1=\"" + P(x1) + "\" y1=\"" + P(y1) + "\" x2=\"" + P(x2) + "\" y2=\"" + P(y2) +
         "\" " + extra + "/>";
}

std::string Text(double x, double y, const std::string& anchor, const std::string& text,
                 const std::string& extra = "") {
  return "<text x=\"" + P(x) + "\" y=\"" + P(y) + "\" text-anchor=\"" + anchor + "\"" +
         (extra.empty() ? "" : " " + extra) + ">" + HtmlEscape(text) + "</text>";
}

// Axes box with ticks at 0, .25, .5, .75, 1 on x and labels on y given by `ylabels`.
std::string Axes(double left, double top, double w, double h, const std::string& xtitle,
                 const std::string& ytitle, const std::vector<std::pair<double, std::string>>& yt) {
  std::string s = "<rect x=\"" + P(left) + "\" y=\"" + P(top) + "\" width=\"" + P(w) +
                  "\" height=\"" + P(h) + "\" fill=\"none\" stroke=\"#444\"/>";
  for (int k = 0; k <= 4; ++k) {
    double f = k / 4.0;
    double x = left + f * w;
    s += Line(x, top + h, x, top + h + 4, "stroke=\"#444\"");
    s += Text(x, top + h + 16, "middle", Fixed(f, 2));
  }
  for (const auto& [f, label] : yt) {
    double y = top + h - f * h;
    s += Line(left - 4, y, left, y, "stroke=\"#444\"");
    s += Text(left - 6, y + 4, "end", label);
  }
  s += Text(left + w / 2, top + h + 32, "middle", xtitle);
  s += "<text x=\"" + P(left - 38) + "\" y=\"" + P(top + h / 2) +
       "\" text-anchor=\"middle\" transform=\"rotate(-90 " + P(left - 38) + " " + P(top + h / 2) +
       ")\">" + HtmlEscape(ytitle) + "</text>";
  return s;
}

std::string RocSvg(const DatasetResult& d) {
  const double left = 50, top = 30, w = 240, h = 240;
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"roc\" viewBox=\"0 0 310 320\" "
      "role=\"img\">";
  std::string title = "ROC";
  if (d.metrics.auroc) title += " (AUROC " + Fixed(*d.metrics.auroc, 4) + ")";
  s += Text(left + w / 2, 18, "middle", title, "font-weight=\"bold\"");
  std::vector<std::pair<double, std::string>> yt;
  for (int k = 0; k <= 4; ++k) yt.emplace_back(k / 4.0, Fixed(k / 4.0, 2));
  s += Axes(left, top, w, h, "False positive rate", "True positive rate", yt);
  const std::vector<RocPoint> roc = RocCurve(d.scores);
  if (roc.empty()) {
    s += Text(left + w / 2, top + h / 2, "middle", "n/a (single class)");
  } else {
    s += Line(left, top + h, left + w, top, "stroke=\"#aaa\" stroke-dasharray=\"4 4\"");
    s += "<polyline fill=\"none\" stroke=\"" + std::string(kUnsafeColor) +
         "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < roc.size(); ++i) {
      s += (i ? " " : "") + P(left + roc[i].fpr * w) + "," + P(top + h - roc[i].tpr * h);
    }
    s += "\"/>";
    const auto& r = d.metrics.rates;
    if (r.tpr && r.fpr) {
      s += "<circle cx=\"" + P(left + *r.fpr * w) + "\" cy=\"" + P(top + h - *r.tpr * h) +
           "\" r=\"4\" fill=\"#000\"><title>threshold " + Sig4(d.metrics.threshold) +
           "</title></circle>";
    }
  }
  return s + "</svg>";
}

// Bars are the fraction of each class's items in the bin (each class sums to
// 1), so an unbalanced dataset (5 unsafe beside 5,000 safe) shows both.
std::string HistogramSvg(const DatasetResult& d) {
  constexpr int kBins = 20;
  size_t safe[kBins] = {}, unsafe[kBins] = {};
  for (const auto& x : d.scores) {
    int b = static_cast<int>(std::floor(x.p_unsafe * kBins));
    b = std::clamp(b, 0, kBins - 1);
    ++(x.unsafe ? unsafe : safe)[b];
  }
  const size_t totals[2] = {d.metrics.n_safe, d.metrics.n_unsafe};
  auto fraction = [&](int c, size_t count) {
    return totals[c] == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(totals[c]);
  };
  double max_fraction = 0;
  for (int b = 0; b < kBins; ++b) {
    max_fraction = std::max({max_fraction, fraction(0, safe[b]), fraction(1, unsafe[b])});
  }
  // The y axis ends at the next tenth above the tallest bar.
  const double top_value = std::max(0.1, std::ceil(max_fraction * 10 - 1e-9) / 10);
  const double left = 50, top = 30, w = 320, h = 200;
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"histogram\" viewBox=\"0 0 480 270\" "
      "role=\"img\">";
  s += Text(left + w / 2, 18, "middle", "p_unsafe per class (20 bins)", "font-weight=\"bold\"");
  s += Axes(left, top, w, h, "p_unsafe", "fraction of the class",
            {{0.0, "0"}, {0.5, Fixed(top_value / 2, 2)}, {1.0, Fixed(top_value, 2)}});
  const double bw = w / kBins;
  for (int b = 0; b < kBins; ++b) {
    const size_t counts[2] = {safe[b], unsafe[b]};
    for (int c = 0; c < 2; ++c) {
      if (counts[c] == 0) continue;
      const double f = fraction(c, counts[c]);
      double bh = h * f / top_value;
      double x = left + b * bw + c * bw / 2 + 0.5;
      s += "<rect x=\"" + P(x) + "\" y=\"" + P(top + h - bh) + "\" width=\"" + P(bw / 2 - 1) +
           "\" height=\"" + P(bh) + "\" fill=\"" + (c ? kUnsafeColor : kSafeColor) + "\"><title>" +
           (c ? "unsafe " : "safe ") + Fixed(b / 20.0, 2) + "-" + Fixed((b + 1) / 20.0, 2) + ": " +
           std::to_string(counts[c]) + " of " + std::to_string(totals[c]) + " (" +
           Fixed(100 * f, 1) + "%)</title></rect>";
    }
  }
  const double t = std::clamp(d.metrics.threshold, 0.0, 1.0);
  s += Line(left + t * w, top, left + t * w, top + h, "stroke=\"#000\" stroke-dasharray=\"3 3\"");
  const double lx = left + w + 12;  // legend right of the plot, clear of the bars
  s += "<rect x=\"" + P(lx) + "\" y=\"" + P(top + 6) + "\" width=\"10\" height=\"10\" fill=\"" +
       kSafeColor + "\"/>";
  s += Text(lx + 14, top + 15, "start", "safe (" + std::to_string(d.metrics.n_safe) + ")");
  s += "<rect x=\"" + P(lx) + "\" y=\"" + P(top + 22) + "\" width=\"10\" height=\"10\" fill=\"" +
       kUnsafeColor + "\"/>";
  s += Text(lx + 14, top + 31, "start", "unsafe (" + std::to_string(d.metrics.n_unsafe) + ")");
  s += Text(lx, top + 50, "start", "- - threshold");
  return s + "</svg>";
}

// The provenance block: one row per field, nested objects flattened
// ("model.revision").
std::string ProvenanceHtml(const Json& p) {
  std::string s = "<section id=\"provenance\">\n<h2>Provenance</h2>\n";
  if (!p.is_object() || p.empty()) {
    return s +
           "<p>Not recorded: these scores came without a run record (run.json).</p>\n</section>\n";
  }
  s += "<div class=\"table-wrap\"><table>\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [k, v] : p.items()) {
    if (v.is_object()) {
      for (const auto& [k2, v2] : v.items()) {
        rows.push_back({k + "." + k2, v2.is_string() ? v2.get<std::string>() : v2.dump()});
      }
    } else {
      rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    }
  }
  for (const auto& [k, v] : rows) {
    s += "<tr><th>" + HtmlEscape(k) + "</th><td class=\"text\">" + HtmlEscape(v) + "</td></tr>\n";
  }
  return s + "</table></div>\n</section>\n";
}

std::string HtmlRow(const std::vector<std::string>& cells, bool header = false) {
  std::string s = "<tr>";
  const char* tag = header ? "th" : "td";
  for (const auto& c : cells) s += std::string("<") + tag + ">" + HtmlEscape(c) + "</" + tag + ">";
  return s + "</tr>\n";
}

// One row per file of each dataset: where it came from, its hash, what was read.
std::string SourcesHtml(const Json& sources) {
  if (!sources.is_object() || sources.empty()) return "";
  std::string s =
      "<section id=\"sources\">\n<h2>Data sources</h2>\n<div class=\"table-wrap\"><table>\n";
  s += HtmlRow(
      {"dataset", "repo", "revision", "commit", "file", "sha256", "rows", "items", "left out"},
      true);
  for (const auto& [name, src] : sources.items()) {
    const Json& files = src.contains("files") ? src["files"] : Json::array();
    for (const Json& f : files) {
      std::string skipped;
      if (f.contains("skipped")) {
        for (const auto& [why, n] : f["skipped"].items()) {
          skipped += (skipped.empty() ? "" : "; ") + n.dump() + " " + why;
        }
      }
      if (f.contains("sampled_out")) {
        skipped += (skipped.empty() ? "" : "; ") + f["sampled_out"].dump() + " sampled out";
      }
      auto str = [](const Json& o, const char* k) {
        return o.contains(k) ? (o[k].is_string() ? o[k].get<std::string>() : o[k].dump())
                             : std::string("-");
      };
      s += HtmlRow({name, str(src, "repo"), str(src, "revision"), str(src, "commit"),
                    str(f, "path"), str(f, "sha256"), str(f, "rows"), str(f, "items"),
                    skipped.empty() ? "-" : skipped});
    }
  }
  return s + "</table></div>\n</section>\n";
}

std::string CiCell(const std::optional<Interval>& ci) {
  return ci ? "[" + Fixed(ci->lo, 4) + ", " + Fixed(ci->hi, 4) + "]" : "n/a";
}

}  // namespace

Result<std::map<std::string, std::vector<Scored>>> GroupScores(
    const std::vector<ScoreRecord>& records) {
  std::map<std::string, std::vector<const ScoreRecord*>> by_dataset;
  for (const auto& r : records) {
    if (!std::isfinite(r.p_unsafe)) {
      return Status::InvalidArgument("score of " + r.dataset + "/" + r.id + " is not finite");
    }
    by_dataset[r.dataset].push_back(&r);
  }
  std::map<std::string, std::vector<Scored>> out;
  for (auto& [name, recs] : by_dataset) {
    std::sort(recs.begin(), recs.end(), [](const ScoreRecord* a, const ScoreRecord* b) {
      return std::tie(a->id, a->unsafe, a->p_unsafe) < std::tie(b->id, b->unsafe, b->p_unsafe);
    });
    std::vector<Scored>& v = out[name];
    for (size_t i = 0; i < recs.size(); ++i) {
      if (i > 0 && recs[i]->id == recs[i - 1]->id) {
        return Status::InvalidArgument("dataset " + name + ": id " + recs[i]->id +
                                       " is scored more than once");
      }
      v.push_back(Scored{recs[i]->unsafe, recs[i]->p_unsafe});
    }
  }
  return out;
}

Result<Report> BuildReport(const std::vector<ScoreRecord>& records, const ReportOptions& options) {
  if (!std::isfinite(options.threshold)) {
    return Status::InvalidArgument("threshold is not a finite number");
  }
  CCG_ASSIGN_OR_RETURN(auto groups, GroupScores(records));
  Report report;
  report.threshold = options.threshold;
  report.provenance = options.provenance;
  report.sources = options.sources;
  report.run = options.run;
  // The datasets in the requested order, then the rest by name.
  std::vector<std::string> order;
  for (const auto& name : options.dataset_order) {
    if (groups.count(name) && std::find(order.begin(), order.end(), name) == order.end()) {
      order.push_back(name);
    }
  }
  for (const auto& [name, scores] : groups) {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  }
  std::vector<Scored> pooled;
  for (const auto& name : order) {
    auto& scores = groups[name];
    DatasetResult d;
    d.name = name;
    d.metrics = ComputeMetrics(scores, options.threshold, options.bootstrap);
    if (options.sweep_dataset.empty()) pooled.insert(pooled.end(), scores.begin(), scores.end());
    d.scores = std::move(scores);
    report.datasets.push_back(std::move(d));
  }
  if (options.sweep_dataset.empty()) {
    report.sweep_dataset = "all";
    CCG_ASSIGN_OR_RETURN(report.sweep, SweepThresholds(pooled, options.target_fprs));
  } else {
    auto it = std::find_if(report.datasets.begin(), report.datasets.end(),
                           [&](const DatasetResult& d) { return d.name == options.sweep_dataset; });
    if (it == report.datasets.end()) {
      return Status::NotFound("sweep dataset '" + options.sweep_dataset + "' has no scores");
    }
    report.sweep_dataset = options.sweep_dataset;
    CCG_ASSIGN_OR_RETURN(report.sweep, SweepThresholds(it->scores, options.target_fprs));
  }
  return report;
}

std::string ResultsJson(const Report& report) {
  Json j;
  j["threshold"] = report.threshold;
  j["datasets"] = Json::object();
  for (const auto& d : report.datasets) {
    const auto& m = d.metrics;
    Json o;
    o["n"] = m.n;
    o["n_unsafe"] = m.n_unsafe;
    o["n_safe"] = m.n_safe;
    o["tpr"] = Num(m.rates.tpr);
    o["fnr"] = Num(m.rates.fnr);
    o["fpr"] = Num(m.rates.fpr);
    o["precision"] = Num(m.rates.precision);
    o["f1"] = Num(m.rates.f1);
    o["auroc"] = Num(m.auroc);
    o["auprc"] = Num(m.auprc);
    o["ci"] = {{"tpr", Ci(m.ci.tpr)}, {"fpr", Ci(m.ci.fpr)}, {"f1", Ci(m.ci.f1)}};
    j["datasets"][d.name] = std::move(o);
  }
  j["dataset_order"] = Json::array();
  for (const auto& d : report.datasets) j["dataset_order"].push_back(d.name);
  j["sweep"] = Json::array();
  for (const auto& c : report.sweep) {
    j["sweep"].push_back({{"dataset", report.sweep_dataset},
                          {"target_fpr", c.target_fpr},
                          {"threshold", c.threshold},
                          {"tpr", Num(c.tpr)},
                          {"fpr", Num(c.fpr)}});
  }
  if (report.run.is_object() && !report.run.empty()) j["run"] = report.run;
  if (report.sources.is_object() && !report.sources.empty()) j["sources"] = report.sources;
  std::string out;
  WriteJson(j, 0, &out);
  return out + "\n";
}

std::string ResultsMarkdown(const Report& report) {
  std::string s = "# Evaluation results\n\n";
  s += "Threshold: " + Sig4(report.threshold) +
       " (an item is flagged unsafe when p_unsafe >= threshold). "
       "\"n/a\": undefined for the data (e.g. AUROC with a single class).\n\n";
  s += MetricsTableMd(report);
  s += "\n## Threshold sweep on " + MdEscape(SweepTitle(report)) + "\n\n";
  s += "For each target, the threshold with the highest TPR among those with FPR <= target "
       "(ties: the highest threshold).\n\n";
  s += SweepTableMd(report);
  return s;
}

std::string ReportHtml(const Report& report) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>ccguard evaluation report</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}\n"
      ".table-wrap{overflow-x:auto;max-width:100%;margin:1em 0}\n"
      "table{border-collapse:collapse}\n"
      "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n"
      "td{white-space:nowrap}\n"
      "td.text{text-align:left;white-space:normal;overflow-wrap:anywhere}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "th{background:#f3f3f3}\n"
      ".plots{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}\n"
      ".plots svg.roc{flex:1 1 300px;max-width:520px;height:auto}\n"
      ".plots svg.histogram{flex:2 1 420px;max-width:820px;height:auto}\n"
      "svg text{font-size:11px;font-family:sans-serif}\n"
      "section{border-top:1px solid #ddd;margin-top:2em}\n"
      "</style>\n</head>\n<body>\n<h1>ccguard evaluation report</h1>\n";
  s += "<p>Threshold " + HtmlEscape(Sig4(report.threshold)) +
       ": an item is flagged unsafe when p_unsafe &gt;= threshold. n/a: undefined for the "
       "data. 95% intervals in brackets: Wilson score intervals for TPR and FPR, bootstrap "
       "for F1.</p>\n";
  s += ProvenanceHtml(report.provenance);
  s += SourcesHtml(report.sources);
  s += "<h2>Results</h2>\n<div class=\"table-wrap\" id=\"results\"><table>\n";
  s += HtmlRow({"Dataset", "N", "Unsafe", "Safe", "Unsafe recall (TPR)",
                "Missed unsafe (FNR, ASR proxy)", "Over-refusal (FPR)", "Unsafe F1", "AUROC",
                "AUPRC", "TPR 95% CI", "FPR 95% CI", "F1 95% CI"},
               true);
  for (const auto& d : report.datasets) {
    const auto& m = d.metrics;
    s += HtmlRow({d.name, std::to_string(m.n), std::to_string(m.n_unsafe), std::to_string(m.n_safe),
                  Cell(m.rates.tpr), Cell(m.rates.fnr), Cell(m.rates.fpr), Cell(m.rates.f1),
                  Cell(m.auroc), Cell(m.auprc), CiCell(m.ci.tpr), CiCell(m.ci.fpr),
                  CiCell(m.ci.f1)});
  }
  s += "</table></div>\n<h2>Threshold sweep on " + HtmlEscape(SweepTitle(report)) + "</h2>\n";
  s += "<p>For each target, the threshold with the highest TPR among those with FPR &lt;= "
       "target (ties: the highest threshold).</p>\n<div class=\"table-wrap\"><table>\n";
  s += HtmlRow({"Dataset", "Target FPR", "Threshold", "TPR", "FPR"}, true);
  for (const auto& c : report.sweep) {
    s += HtmlRow({report.sweep_dataset, Shortest(c.target_fpr), Sig4(c.threshold), Cell(c.tpr),
                  Cell(c.fpr)});
  }
  s += "</table></div>\n";
  for (const auto& d : report.datasets) {
    s += "<section>\n<h2>" + HtmlEscape(d.name) + "</h2>\n<p>N = " + std::to_string(d.metrics.n) +
         " (" + std::to_string(d.metrics.n_unsafe) + " unsafe, " +
         std::to_string(d.metrics.n_safe) + " safe)</p>\n<div class=\"plots\">\n";
    s += RocSvg(d) + "\n" + HistogramSvg(d) + "\n</div>\n</section>\n";
  }
  s += "</body>\n</html>\n";
  return s;
}

namespace {

const char* const kSideMetrics[] = {"TPR", "FPR", "F1", "AUROC"};

// The side-by-side table's body: per dataset its name, N, then each guard's
// kSideMetrics; and the sweep: per guard and target its row.
std::vector<std::vector<std::string>> SideRows(const std::vector<GuardReport>& guards) {
  std::vector<std::vector<std::string>> rows;
  const Report& first = guards.front().report;
  for (size_t d = 0; d < first.datasets.size(); ++d) {
    std::vector<std::string> row = {first.datasets[d].name,
                                    std::to_string(first.datasets[d].metrics.n)};
    for (const auto& g : guards) {
      const DatasetMetrics& m = g.report.datasets[d].metrics;
      for (const auto& c : {m.rates.tpr, m.rates.fpr, m.rates.f1, m.auroc}) row.push_back(Cell(c));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::vector<std::string>> SideSweepRows(const std::vector<GuardReport>& guards) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : guards) {
    for (const auto& c : g.report.sweep) {
      rows.push_back({g.guard, SweepTitle(g.report), Sig4(c.target_fpr), Sig4(c.threshold),
                      Cell(c.tpr), Cell(c.fpr)});
    }
  }
  return rows;
}

const std::vector<std::string> kSweepHeader = {"Guard",     "Sweep on", "Target FPR",
                                               "Threshold", "TPR",      "FPR"};

std::string MdRow(const std::vector<std::string>& cells) {
  std::string s = "|";
  for (const auto& c : cells) s += " " + MdEscape(c) + " |";
  return s + "\n";
}

// Writes each (file name, text) into `dir` (created if missing).
Status WriteFiles(const std::string& dir,
                  const std::vector<std::pair<const char*, std::string>>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(dir + ": " + ec.message());
  for (const auto& [name, text] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::IOError(path + ": write failed");
  }
  return Status::Ok();
}

}  // namespace

std::string SideBySideMarkdown(const std::vector<GuardReport>& guards) {
  std::string s = "# Evaluation results, side by side\n\n";
  s += "Per guard: its threshold (an item is flagged unsafe when p_unsafe >= threshold), "
       "unsafe recall (TPR), over-refusal (FPR), unsafe F1 and AUROC. Each guard's full "
       "report is in its folder.\n\n";
  for (const auto& g : guards) {
    s += "- **" + MdEscape(g.guard) + "**: threshold " + Sig4(g.report.threshold) + ", report `" +
         MdEscape(g.dir) + "/report.html`\n";
  }
  std::vector<std::string> header = {"Dataset", "N"};
  std::string rule = "|---|---:|";
  for (const auto& g : guards) {
    for (const char* m : kSideMetrics) {
      header.push_back(g.guard + " " + m);
      rule += "---:|";
    }
  }
  s += "\n" + MdRow(header) + rule + "\n";
  for (const auto& row : SideRows(guards)) s += MdRow(row);
  s += "\n## Thresholds at a target FPR (each guard calibrated on its own scores)\n\n";
  s += MdRow(kSweepHeader) + "|---|---|---:|---:|---:|---:|\n";
  for (const auto& row : SideSweepRows(guards)) s += MdRow(row);
  return s;
}

std::string SideBySideHtml(const std::vector<GuardReport>& guards) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>ccguard evaluation, side by side</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}\n"
      "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\nth{background:#f3f3f3}\n"
      "</style>\n</head>\n<body>\n<h1>ccguard evaluation, side by side</h1>\n<ul>\n";
  for (const auto& g : guards) {
    s += "<li><a href=\"" + HtmlEscape(g.dir) + "/report.html\">" + HtmlEscape(g.guard) +
         "</a>: threshold " + HtmlEscape(Sig4(g.report.threshold)) + "</li>\n";
  }
  s += "</ul>\n<table id=\"results\">\n<tr><th rowspan=\"2\">Dataset</th><th rowspan=\"2\">N</th>";
  for (const auto& g : guards) {
    s += "<th colspan=\"" + std::to_string(std::size(kSideMetrics)) + "\">" + HtmlEscape(g.guard) +
         "</th>";
  }
  s += "</tr>\n<tr>";
  for (size_t i = 0; i < guards.size(); ++i) {
    for (const char* m : kSideMetrics) s += std::string("<th>") + m + "</th>";
  }
  s += "</tr>\n";
  for (const auto& row : SideRows(guards)) s += HtmlRow(row);
  s += "</table>\n<h2>Thresholds at a target FPR</h2>\n<table id=\"sweep\">\n" +
       HtmlRow(kSweepHeader, true);
  for (const auto& row : SideSweepRows(guards)) s += HtmlRow(row);
  s += "</table>\n</body>\n</html>\n";
  return s;
}

std::string SideBySideJson(const std::vector<GuardReport>& guards) {
  Json out = {{"guards", Json::array()}};
  for (const auto& g : guards) {
    auto per = ParseJson(ResultsJson(g.report), "results");
    Json e = {{"guard", g.guard}, {"dir", g.dir}};
    e["results"] = per.ok() ? *per : Json();
    out["guards"].push_back(std::move(e));
  }
  std::string text;
  WriteJson(out, 0, &text);
  return text + "\n";
}

Status WriteSideBySide(const std::vector<GuardReport>& guards, const std::string& dir) {
  if (guards.size() < 2) return Status::InvalidArgument("a side-by-side report needs two guards");
  for (const auto& g : guards) {
    const auto& a = guards.front().report.datasets;
    const auto& b = g.report.datasets;
    bool same = a.size() == b.size();
    for (size_t d = 0; same && d < a.size(); ++d) same = a[d].name == b[d].name;
    if (!same) {
      return Status::InvalidArgument("guard '" + g.guard +
                                     "' was evaluated on other datasets than '" +
                                     guards.front().guard + "'");
    }
  }
  return WriteFiles(dir, {{"results.md", SideBySideMarkdown(guards)},
                          {"results.json", SideBySideJson(guards)},
                          {"report.html", SideBySideHtml(guards)}});
}

Status WriteReport(const Report& report, const std::string& dir) {
  std::vector<std::pair<const char*, std::string>> files = {
      {"results.json", ResultsJson(report)},
      {"results.md", ResultsMarkdown(report)},
      {"report.html", ReportHtml(report)},
  };
  if (report.sources.is_object() && !report.sources.empty()) {
    std::string text;
    WriteJson(report.sources, 0, &text);
    files.push_back({"sources.json", text + "\n"});  // what `metrics` reads back
  }
  return WriteFiles(dir, files);
}

}  // namespace ccguard::eval
