#include "hub/progress.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace ccguard::hub {
namespace {

TEST(ProgressTest, Formats) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(9788336), "9.79 MB");
  EXPECT_EQ(FormatBytes(3.4e9), "3.40 GB");
  EXPECT_EQ(FormatBytes(45.6e6), "45.6 MB");
  EXPECT_EQ(FormatDuration(7), "0:07");
  EXPECT_EQ(FormatDuration(723), "12:03");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-1), "--:--");
}

TEST(ProgressTest, LineShowsPercentBytesRateAndEta) {
  std::string line = FormatProgressLine("org/name/model.safetensors", 5000000, 10000000, 1e6);
  EXPECT_NE(line.find(" 50% [##########          ]"), std::string::npos) << line;
  EXPECT_NE(line.find("5.00 MB/10.0 MB"), std::string::npos) << line;
  EXPECT_NE(line.find("1.00 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 0:05"), std::string::npos) << line;
  EXPECT_LE(line.size(), 100u);
  // Long labels keep their end (the file name); unknown totals have no bar and no ETA.
  line = FormatProgressLine("an/extremely-long-organisation-name/model-00001-of-00002.safetensors",
                            1000, -1, 0);
  EXPECT_EQ(line.find("..."), 0u) << line;
  EXPECT_NE(line.find("of-00002.safetensors"), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
}

std::string Captured(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

TEST(ProgressTest, NonInteractivePrintsOneLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("org/name/model.safetensors", 2000000, /*interactive=*/false, f);
    for (int i = 0; i <= 20; ++i) bar.Update(i * 100000);
  }
  EXPECT_EQ(Captured(f), "downloading org/name/model.safetensors (2.00 MB)\n");
  std::fclose(f);
}

TEST(ProgressTest, InteractiveRedrawsInPlaceAndEndsTheLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar("config.json", 100, /*interactive=*/true, f);
    bar.Update(0);
    bar.Update(100);
  }
  std::string out = Captured(f);
  EXPECT_EQ(out.front(), '\r');
  EXPECT_EQ(out.back(), '\n');
  EXPECT_NE(out.find("100%"), std::string::npos) << out;
  std::fclose(f);
}

}  // namespace
}  // namespace ccguard::hub
