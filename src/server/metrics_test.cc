#include "server/metrics.h"

#include <gtest/gtest.h>

namespace ccguard::server {
namespace {

TEST(MetricsTest, CountersGaugesAndHistogramsRender) {
  Metrics m;
  m.DeclareCounter("req_total", "Requests.");
  m.DeclareGauge("depth", "Depth.");
  m.DeclareGaugeFn("computed", "Computed.", [] { return 42.5; });
  m.DeclareHistogram("lat_seconds", "Latency.", {0.1, 1});
  m.Add("req_total", {{"route", "/a"}, {"status", "200"}});
  m.Add("req_total", {{"route", "/a"}, {"status", "200"}}, 2);
  m.Add("req_total", {{"route", "/b\"x"}, {"status", "404"}});
  m.Set("depth", {}, 3);
  m.Observe("lat_seconds", {{"route", "/a"}}, 0.05);
  m.Observe("lat_seconds", {{"route", "/a"}}, 0.5);
  m.Observe("lat_seconds", {{"route", "/a"}}, 5);
  m.Add("undeclared", {});  // ignored
  EXPECT_EQ(m.Value("req_total", {{"route", "/a"}, {"status", "200"}}), 3);
  EXPECT_EQ(m.Value("computed"), 42.5);
  EXPECT_EQ(m.Count("lat_seconds", {{"route", "/a"}}), 3u);
  const std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE req_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("req_total{route=\"/b\\\"x\",status=\"404\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("depth 3\n"), std::string::npos);
  EXPECT_NE(text.find("computed 42.5\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_sum{route=\"/a\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_EQ(text.find("undeclared"), std::string::npos);
}

TEST(MetricsTest, WrongTypeIsIgnored) {
  Metrics m;
  m.DeclareCounter("c", "C.");
  m.Observe("c", {}, 1);
  m.Set("c", {}, 5);
  m.Add("c", {}, -1);  // counters never go down
  EXPECT_EQ(m.Value("c"), 0);
}

}  // namespace
}  // namespace ccguard::server
