#include "eval/calibrate.h"

#include <gtest/gtest.h>

namespace ccguard::eval {
namespace {

std::vector<ScoreRecord> Records() {
  return {{"heldout", "1", true, 0.9, 1}, {"heldout", "2", false, 0.7, 1},
          {"heldout", "3", true, 0.6, 1}, {"heldout", "4", false, 0.2, 1},
          {"other", "a", true, 0.75, 1},  {"other", "b", false, 0.8, 1},
          {"other", "c", false, 0.1, 1}};
}

TEST(CalibrateTest, OnNamedDataset) {
  auto r = CalibrateScores(Records(), 0.0, "heldout");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->on, "heldout");
  EXPECT_EQ(r->choice.threshold, 0.9);
  EXPECT_EQ(*r->choice.tpr, 0.5);
  ASSERT_EQ(r->datasets.size(), 2u);
  EXPECT_EQ(r->datasets[1].name, "other");
  EXPECT_EQ(*r->datasets[1].rates.tpr, 0.0);
  EXPECT_EQ(*r->datasets[1].rates.fpr, 0.0);
  std::string text = FormatCalibration(*r);
  EXPECT_EQ(text,
            "threshold 0.9 (target FPR <= 0 on heldout: TPR 0.5000, FPR 0.0000)\n"
            "  heldout: n 4, TPR 0.5000, FPR 0.0000\n"
            "  other: n 3, TPR 0.0000, FPR 0.0000\n");
}

TEST(CalibrateTest, PooledAndErrors) {
  auto r = CalibrateScores(Records(), 0.5, "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->on, "all");
  // Pooled, descending: .9u .8s .75u .7s .6u .2s .1s. FPR <= .5 allows 2 of 4 safe flagged:
  // threshold 0.6 flags all 3 unsafe and 2 safe.
  EXPECT_EQ(r->choice.threshold, 0.6);
  EXPECT_EQ(*r->choice.tpr, 1.0);
  EXPECT_EQ(*r->choice.fpr, 0.5);
  EXPECT_EQ(CalibrateScores(Records(), 0.05, "nope").status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(CalibrateScores(Records(), 2.0, "").ok());
}

}  // namespace
}  // namespace ccguard::eval
