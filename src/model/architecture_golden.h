// Test helper (GoogleTest): the architecture goldens of
// tests/fixtures/architectures (README there). A GoldenModel reads one golden
// file, writes the random model its spec describes into a temporary folder,
// checks that the files are the ones the golden was computed from (SHA-256),
// and scores the golden's cases. Used by architecture_golden_test (CPU) and
// decoder_model_cuda_test (GPU).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "model/decoder_model.h"
#include "model/random_model.h"
#include "util/digest.h"
#include "util/json_file.h"

namespace ccguard::testing {

class GoldenModel {
 public:
  // `name` is "llama" or "granite". CCGUARD_FIXTURES_DIR overrides the build
  // tree's fixtures (scripts/gpu-check.sh runs the tests from a bundle).
  explicit GoldenModel(const std::string& name) : name_(name) {
    const char* e = std::getenv("CCGUARD_FIXTURES_DIR");
    const std::string fix = e && *e ? e : CCGUARD_FIXTURES;
    auto g = ReadJsonFile(fix + "/architectures/" + name + ".golden.json");
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    if (!g.ok()) return;
    golden_ = *g;
    uint64_t seed = 0;
    auto shape = RandomModelShapeFromJson(golden_["generator"], &seed);
    EXPECT_TRUE(shape.ok()) << shape.status().ToString();
    if (!shape.ok()) return;
    dir_ = std::filesystem::temp_directory_path() /
           ("ccguard_arch_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    Status st = EnsureRandomModel(dir_.string(), "", *shape, seed);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return;
    for (const auto& [file, sha] : golden_["files"].items()) {
      auto got = Sha256File((dir_ / "base" / file).string());
      EXPECT_TRUE(got.ok() && *got == sha.get<std::string>())
          << file << ": not the file the golden was computed from (the generator changed)";
      if (!got.ok() || *got != sha.get<std::string>()) return;
    }
    ready_ = true;
  }
  ~GoldenModel() { std::filesystem::remove_all(dir_); }
  GoldenModel(const GoldenModel&) = delete;
  GoldenModel& operator=(const GoldenModel&) = delete;

  bool ready() const { return ready_; }
  const Json& golden() const { return golden_; }

  // Per case, the log-probabilities of the last position at the golden's
  // ids (top10, then probe), computed with `compute` on `device`.
  std::vector<std::vector<double>> LogProbs(const std::string& compute,
                                            const std::string& device = "cpu") const {
    auto o = ModelOptions::Parse(compute, device);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    if (!o.ok()) return {};
    auto model = DecoderModel::Load((dir_ / "base").string(), nullptr, *o);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!model.ok()) return {};
    EXPECT_TRUE((*model)->warnings().empty());
    std::vector<std::vector<double>> out;
    for (const Json& c : golden_["cases"]) {
      const auto ids = c["input_ids"].get<std::vector<int32_t>>();
      auto cache = (*model)->NewCache();
      std::vector<SequenceInput> batch = {{ids, cache.get()}};
      std::vector<std::vector<float>> logits;
      Status st = (*model)->Forward(batch, &logits);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok()) return {};
      const std::vector<float>& l = logits[0];
      const double mx = *std::max_element(l.begin(), l.end());
      double sum = 0;
      for (float v : l) sum += std::exp(v - mx);
      const double lse = mx + std::log(sum);
      std::vector<double> lp;
      for (const char* key : {"top10", "probe"}) {
        for (const Json& p : c[key]) lp.push_back(l[p[0].get<int32_t>()] - lse);
      }
      out.push_back(std::move(lp));
    }
    return out;
  }

  // Expects `got` (LogProbs) within `tol` of the golden's log-probabilities,
  // and the golden's top-5 order wherever its neighbouring gaps exceed 1e-3.
  // Returns the largest |Δ logprob|.
  double ExpectMatches(const std::vector<std::vector<double>>& got, double tol) const {
    if (got.size() != golden_["cases"].size()) {
      ADD_FAILURE() << name_ << ": scored " << got.size() << " of " << golden_["cases"].size()
                    << " cases";
      return INFINITY;
    }
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const Json& c = golden_["cases"][i];
      const double lse = c["logsumexp"].get<double>();
      size_t k = 0;
      for (const char* key : {"top10", "probe"}) {
        for (const Json& p : c[key]) {
          const double want = p[1].get<double>() - lse;
          EXPECT_NEAR(got[i][k], want, tol) << name_ << " " << c["name"] << " id " << p[0];
          worst = std::max(worst, std::fabs(got[i][k] - want));
          ++k;
        }
      }
      for (size_t r = 0; r + 1 < 5; ++r) {
        const double gap = c["top10"][r][1].get<double>() - c["top10"][r + 1][1].get<double>();
        if (gap > 1e-3) {
          EXPECT_GT(got[i][r], got[i][r + 1]) << name_ << " " << c["name"] << " rank " << r;
        }
      }
    }
    return worst;
  }

 private:
  std::string name_;
  Json golden_;
  std::filesystem::path dir_;
  bool ready_ = false;
};

// The largest |a - b| over two LogProbs results of the same golden.
inline double MaxAbsDiff(const std::vector<std::vector<double>>& a,
                         const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return INFINITY;
    for (size_t k = 0; k < a[i].size(); ++k) worst = std::max(worst, std::fabs(a[i][k] - b[i][k]));
  }
  return worst;
}

}  // namespace ccguard::testing
