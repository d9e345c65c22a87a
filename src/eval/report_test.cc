#include "eval/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "eval/random.h"
#include "util/json_file.h"

namespace ccguard::eval {
namespace {

std::vector<ScoreRecord> Records() {
  std::vector<ScoreRecord> r;
  // "hand": unsafe 0.9 0.8 0.4 0.4; safe 0.7 0.4 0.2 0.1 (see metrics_test).
  const std::pair<bool, double> hand[] = {{true, 0.9},  {false, 0.7}, {true, 0.8},  {true, 0.4},
                                          {false, 0.4}, {true, 0.4},  {false, 0.2}, {false, 0.1}};
  int i = 0;
  for (auto [u, p] : hand) r.push_back({"hand", "h" + std::to_string(i++), u, p, 10});
  // "toxic": unsafe only.
  r.push_back({"toxic", "1", true, 0.95, 5});
  r.push_back({"toxic", "2", true, 0.30, 5});
  // "big": random, both classes.
  SplitMix64 rng(3);
  for (int k = 0; k < 300; ++k) {
    bool u = rng.Below(2) == 0;
    double p = static_cast<double>(rng.Below(1001)) / 1000;
    if (u) p = std::min(1.0, p + 0.3);
    r.push_back({"big", std::to_string(k), u, p, std::nullopt});
  }
  return r;
}

Report MustBuild(const std::vector<ScoreRecord>& recs, const ReportOptions& opt = {}) {
  auto r = BuildReport(recs, opt);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Report{};
}

TEST(ReportTest, ResultsJsonSchemaAndValues) {
  ReportOptions opt;
  opt.sweep_dataset = "hand";
  Report rep = MustBuild(Records(), opt);
  auto j = ParseJson(ResultsJson(rep), "results.json");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["threshold"], 0.5);
  ASSERT_EQ((*j)["datasets"].size(), 3u);
  const Json& hand = (*j)["datasets"]["hand"];
  std::vector<std::string> keys;
  for (auto it = hand.begin(); it != hand.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"auprc", "auroc", "ci", "f1", "fnr", "fpr", "n",
                                            "n_safe", "n_unsafe", "precision", "tpr"}));
  EXPECT_EQ(hand["n"], 8);
  EXPECT_EQ(hand["n_unsafe"], 4);
  EXPECT_EQ(hand["n_safe"], 4);
  EXPECT_EQ(hand["tpr"], 0.5);
  EXPECT_EQ(hand["fnr"], 0.5);
  EXPECT_EQ(hand["fpr"], 0.25);
  EXPECT_EQ(hand["precision"], 0.666667);  // rounded to 6 decimals
  EXPECT_EQ(hand["f1"], 0.571429);
  EXPECT_EQ(hand["auroc"], 0.8125);
  EXPECT_EQ(hand["auprc"], 0.833333);
  for (const char* k : {"tpr", "fpr", "f1"}) {
    ASSERT_TRUE(hand["ci"][k].is_array()) << k;
    EXPECT_EQ(hand["ci"][k].size(), 2u);
    EXPECT_LE(hand["ci"][k][0].get<double>(), hand["ci"][k][1].get<double>());
  }
  const Json& toxic = (*j)["datasets"]["toxic"];
  EXPECT_TRUE(toxic["auroc"].is_null());
  EXPECT_TRUE(toxic["fpr"].is_null());
  EXPECT_TRUE(toxic["ci"]["fpr"].is_null());
  EXPECT_EQ(toxic["tpr"], 0.5);
  ASSERT_EQ((*j)["sweep"].size(), 3u);
  const Json& s0 = (*j)["sweep"][0];
  EXPECT_EQ(s0["dataset"], "hand");
  EXPECT_EQ(s0["target_fpr"], 0.005);
  EXPECT_EQ(s0["threshold"], 0.8);
  EXPECT_EQ(s0["tpr"], 0.5);
  EXPECT_EQ(s0["fpr"], 0.0);
  EXPECT_EQ((*j)["sweep"][2]["target_fpr"], 0.05);
}

TEST(ReportTest, PooledSweepAndMissingSweepDataset) {
  Report rep = MustBuild(Records());
  EXPECT_EQ(rep.sweep_dataset, "all");
  ASSERT_EQ(rep.sweep.size(), 3u);
  std::vector<Scored> pooled;
  for (const auto& d : rep.datasets) pooled.insert(pooled.end(), d.scores.begin(), d.scores.end());
  EXPECT_EQ(pooled.size(), 310u);
  EXPECT_EQ(rep.sweep[1].threshold, BestThresholdForFpr(pooled, 0.01).threshold);
  ReportOptions opt;
  opt.sweep_dataset = "heldout";
  auto r = BuildReport(Records(), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(ReportTest, DeterministicAndIndependentOfLineOrder) {
  auto recs = Records();
  Report a = MustBuild(recs);
  std::reverse(recs.begin(), recs.end());
  std::rotate(recs.begin(), recs.begin() + 100, recs.end());
  Report b = MustBuild(recs);
  EXPECT_EQ(ResultsJson(a), ResultsJson(b));
  EXPECT_EQ(ResultsMarkdown(a), ResultsMarkdown(b));
  EXPECT_EQ(ReportHtml(a), ReportHtml(b));
  ReportOptions other_seed;
  other_seed.bootstrap.seed = 1;
  EXPECT_NE(ResultsJson(a), ResultsJson(MustBuild(recs, other_seed)));
}

TEST(ReportTest, DuplicateIdsAreRejected) {
  auto recs = Records();
  recs.push_back({"toxic", "1", true, 0.5, 1});
  auto r = BuildReport(recs, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("toxic"), std::string::npos);
}

TEST(ReportTest, Markdown) {
  ReportOptions opt;
  opt.sweep_dataset = "hand";
  std::string md = ResultsMarkdown(MustBuild(Records(), opt));
  EXPECT_NE(md.find("| Dataset | N | Unsafe recall (TPR) | Missed unsafe (FNR, ASR proxy) | "
                    "Over-refusal (FPR) | Unsafe F1 | AUROC |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| hand | 8 | 0.5000 | 0.5000 | 0.2500 | 0.5714 | 0.8125 |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| toxic | 2 | 0.5000 | 0.5000 | n/a | 0.6667 | n/a |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| Dataset | Target FPR | Threshold | TPR | FPR |"), std::string::npos);
  EXPECT_NE(md.find("| hand | 0.005 | 0.8 | 0.5000 | 0.0000 |"), std::string::npos) << md;
}

TEST(ReportTest, HtmlIsSelfContained) {
  std::string html = ReportHtml(MustBuild(Records()));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  size_t svgs = 0;
  for (size_t p = 0; (p = html.find("<svg", p)) != std::string::npos; ++p) ++svgs;
  EXPECT_EQ(svgs, 6u);  // ROC + histogram for each of 3 datasets
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  EXPECT_NE(html.find("n/a (single class)"), std::string::npos);  // toxic's ROC
  EXPECT_NE(html.find("Missed unsafe (FNR, ASR proxy)"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(ReportTest, HtmlEscapesNames) {
  std::vector<ScoreRecord> recs = {{"<b>&x", "1", true, 0.9, 1}, {"<b>&x", "2", false, 0.1, 1}};
  std::string html = ReportHtml(MustBuild(recs));
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;&amp;x"), std::string::npos);
}

TEST(ReportTest, WriteReportFilesAreByteIdentical) {
  Report rep = MustBuild(Records());
  const std::string dir = (std::filesystem::path(testing::TempDir()) / "eval_out" / "a").string();
  ASSERT_TRUE(WriteReport(rep, dir).ok());
  ASSERT_TRUE(WriteReport(MustBuild(Records()), dir + "2").ok());
  for (const char* name : {"results.json", "results.md", "report.html"}) {
    auto read = [](const std::string& p) {
      std::ifstream in(p, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    std::string x = read(dir + "/" + name), y = read(dir + "2/" + name);
    EXPECT_FALSE(x.empty()) << name;
    EXPECT_EQ(x, y) << name;
  }
}

TEST(ReportTest, HistogramBinsIncludeOneInTheLastBin) {
  std::vector<ScoreRecord> recs = {
      {"d", "1", true, 1.0, 1}, {"d", "2", false, 0.0, 1}, {"d", "3", false, 0.05, 1}};
  std::string html = ReportHtml(MustBuild(recs));
  EXPECT_NE(html.find("unsafe 0.95-1.00: 1"), std::string::npos);
  EXPECT_NE(html.find("safe 0.00-0.05: 1"), std::string::npos);
  EXPECT_NE(html.find("safe 0.05-0.10: 1"), std::string::npos);
}

TEST(ReportTest, SuiteOrderProvenanceAndReadableNumbers) {
  ReportOptions opt;
  opt.dataset_order = {"toxic", "big", "nope"};  // "hand" is not named: it follows
  opt.threshold = 0.123456789;
  opt.provenance = {{"ccguard_version", "0.1.0"},
                    {"compute", "bf16"},
                    {"model", {{"dir", "/m"}, {"revision", "abc"}}},
                    {"date", "2026-12-04T00:00:00Z"}};
  Report rep = MustBuild(Records(), opt);
  ASSERT_EQ(rep.datasets.size(), 3u);
  EXPECT_EQ(rep.datasets[0].name, "toxic");
  EXPECT_EQ(rep.datasets[1].name, "big");
  EXPECT_EQ(rep.datasets[2].name, "hand");
  auto j = ParseJson(ResultsJson(rep), "results.json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["dataset_order"], Json::array({"toxic", "big", "hand"}));
  EXPECT_EQ((*j)["threshold"], 0.123456789);  // exact in results.json
  const std::string md = ResultsMarkdown(rep);
  EXPECT_LT(md.find("| toxic |"), md.find("| big |"));
  EXPECT_LT(md.find("| big |"), md.find("| hand |"));
  EXPECT_NE(md.find("Threshold: 0.1235 "), std::string::npos) << md;  // 4 significant digits
  const std::string html = ReportHtml(rep);
  EXPECT_NE(html.find("Threshold 0.1235:"), std::string::npos);
  EXPECT_LT(html.find("<h2>toxic</h2>"), html.find("<h2>big</h2>"));
  // Provenance, flattened.
  EXPECT_NE(html.find("<section id=\"provenance\">"), std::string::npos);
  EXPECT_NE(html.find("<th>model.revision</th><td class=\"text\">abc</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>compute</th><td class=\"text\">bf16</td>"), std::string::npos);
  // Every table scrolls inside its wrapper.
  size_t tables = 0, wrapped = 0;
  for (size_t p = 0; (p = html.find("<table>", p)) != std::string::npos; ++p) {
    ++tables;
    // The nearest opening div before the table is a wrapper, not yet closed.
    const size_t div = html.rfind("<div class=\"table-wrap\"", p);
    wrapped += div != std::string::npos && html.find("</div>", div) > p;
  }
  EXPECT_EQ(tables, 3u);
  EXPECT_EQ(wrapped, 3u);
  EXPECT_NE(html.find(".table-wrap{overflow-x:auto"), std::string::npos);
  // Without provenance the page says so.
  EXPECT_NE(ReportHtml(MustBuild(Records())).find("Not recorded"), std::string::npos);
}

TEST(ReportTest, HistogramIsPerClassFraction) {
  // 2 unsafe items beside 200 safe ones: each class's bars are its fractions.
  std::vector<ScoreRecord> recs = {{"d", "u1", true, 0.97, 1}, {"d", "u2", true, 0.52, 1}};
  for (int i = 0; i < 200; ++i) recs.push_back({"d", "s" + std::to_string(i), false, 0.01, 1});
  std::string html = ReportHtml(MustBuild(recs));
  EXPECT_NE(html.find("unsafe 0.95-1.00: 1 of 2 (50.0%)"), std::string::npos);
  EXPECT_NE(html.find("safe 0.00-0.05: 200 of 200 (100.0%)"), std::string::npos);
  EXPECT_NE(html.find("fraction of the class"), std::string::npos);
  // The unsafe bar is half the height of the safe one (1.0 at the top of the axis).
  auto height = [&](const std::string& title) {
    const size_t t = html.find(title);
    const size_t h = html.rfind("height=\"", t);
    return std::stod(html.substr(h + 8));
  };
  EXPECT_NEAR(height("unsafe 0.95-1.00") * 2, height("safe 0.00-0.05"), 0.02);
}

TEST(SideBySideTest, NeedsTwoGuardsOnTheSameDatasets) {
  auto guard = [](const std::string& name, std::vector<std::string> datasets) {
    GuardReport g;
    g.guard = name;
    g.dir = name;
    for (const auto& d : datasets) g.report.datasets.push_back(DatasetResult{d, {}, {}});
    return g;
  };
  const std::string dir = testing::TempDir() + "/side_by_side";
  auto one = WriteSideBySide({guard("a", {"x"})}, dir);
  EXPECT_EQ(one.code(), Status::Code::kInvalidArgument);
  auto differ = WriteSideBySide({guard("a", {"x", "y"}), guard("b", {"x", "z"})}, dir);
  ASSERT_FALSE(differ.ok());
  EXPECT_NE(differ.message().find("guard 'b' was evaluated on other datasets than 'a'"),
            std::string::npos);
  std::vector<GuardReport> two = {guard("a|1", {"x"}), guard("b", {"x"})};
  ASSERT_TRUE(WriteSideBySide(two, dir).ok());
  const std::string md = SideBySideMarkdown(two);
  EXPECT_NE(md.find("| Dataset | N | a\\|1 TPR | a\\|1 FPR |"), std::string::npos) << md;
  EXPECT_NE(SideBySideHtml(two).find("<th colspan=\"4\">a|1</th>"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::eval
