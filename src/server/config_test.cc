#include "server/config.h"

#include <gtest/gtest.h>

namespace ccguard::server {
namespace {

TEST(ConfigTest, DefaultsAreValidAndLoopback) {
  ServerConfig c;
  EXPECT_TRUE(ValidateConfig(c).ok());
  EXPECT_EQ(c.host, "127.0.0.1");
}

TEST(ConfigTest, AppliesKeysAndRebasesPaths) {
  ServerConfig c;
  Json j = Json::parse(R"({
    "_comment": "ignored",
    "port": 0, "threads": 2, "compute": "bf16", "http_threads": 8, "max_event_streams": 2, "max_body_bytes": 4096,
    "session_idle_timeout_s": 0.5, "public_metrics": true,
    "api_keys_file": "keys.txt", "access_log": "/var/log/a.jsonl",
    "constitutions": ["strict.json", "lax=lax.json",
                      {"name": "dflt", "threshold": 0.25},
                      {"path": "/abs/c.json", "threshold": 1}],
    "default_constitution": "dflt"})");
  Status s = ApplyConfigJson(j, "/etc/ccguard", "cfg", &c);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.compute, "bf16");
  EXPECT_EQ(c.max_body_bytes, 4096);
  EXPECT_EQ(c.session_idle_timeout_s, 0.5);
  EXPECT_TRUE(c.public_metrics);
  EXPECT_EQ(c.api_keys_file, "/etc/ccguard/keys.txt");
  EXPECT_EQ(c.access_log, "/var/log/a.jsonl");
  ASSERT_EQ(c.constitutions.size(), 4u);
  EXPECT_EQ(c.constitutions[0].path, "/etc/ccguard/strict.json");
  EXPECT_EQ(c.constitutions[0].name, "");
  EXPECT_EQ(c.constitutions[1].name, "lax");
  EXPECT_EQ(c.constitutions[1].path, "/etc/ccguard/lax.json");
  EXPECT_EQ(c.constitutions[2].path, "");
  EXPECT_EQ(*c.constitutions[2].threshold, 0.25);
  EXPECT_EQ(c.constitutions[3].path, "/abs/c.json");
  EXPECT_EQ(c.default_constitution, "dflt");
  EXPECT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c).ToString();
  // A model reference that is not a folder next to the file stays a repo id.
  ServerConfig d;
  ASSERT_TRUE(ApplyConfigJson(Json{{"model", "Qwen/Qwen3-1.7B"}}, "/nonexistent", "cfg", &d).ok());
  EXPECT_EQ(d.model, "Qwen/Qwen3-1.7B");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  ServerConfig c;
  auto err = [&](const char* text) {
    Status s = ApplyConfigJson(Json::parse(text), "", "cfg.json", &c);
    EXPECT_FALSE(s.ok()) << text;
    return s.message();
  };
  EXPECT_NE(err(R"({"prot": 8080})").find("'prot': unknown key"), std::string::npos);
  EXPECT_NE(err(R"({"port": "8080"})").find("'port' must be an integer"), std::string::npos);
  EXPECT_NE(err(R"({"port": 80.5})").find("integer"), std::string::npos);
  EXPECT_NE(err(R"({"public_metrics": 1})").find("true or false"), std::string::npos);
  EXPECT_NE(err(R"({"constitutions": [{"pth": "x"}]})").find("unknown key"), std::string::npos);
  EXPECT_NE(err(R"({"constitutions": "x"})").find("a list"), std::string::npos);
  EXPECT_NE(err(R"([1])").find("JSON object"), std::string::npos);
  EXPECT_NE(err(R"({"threads": 99999999999})").find("out of range"), std::string::npos);
}

TEST(ConfigTest, ComputeMustBeKnown) {
  ServerConfig c;
  c.compute = "fp16";
  Status s = ValidateConfig(c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("compute"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("fp16"), std::string::npos) << s.ToString();
  EXPECT_FALSE(ApplyConfigJson(Json{{"compute", 8}}, "", "cfg", &c).ok());
}

TEST(ConfigTest, ValidationRanges) {
  auto bad = [](auto mutate) {
    ServerConfig c;
    mutate(c);
    return !ValidateConfig(c).ok();
  };
  EXPECT_TRUE(bad([](ServerConfig& c) { c.port = 70000; }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.max_body_bytes = 10; }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.session_idle_timeout_s = 0; }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.max_event_streams = c.http_threads; }));
  EXPECT_TRUE(bad([](ServerConfig& c) {
    c.constitutions = {{"a", "", 0.5}, {"a", "x.json", std::nullopt}};
  }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.constitutions = {{"a", "", 1.5}}; }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.host = ""; }));
  EXPECT_TRUE(bad([](ServerConfig& c) { c.session_kv_reserve_bytes = -1; }));
  EXPECT_TRUE(bad([](ServerConfig& c) {
    c.session_max_kv_bytes = int64_t{1} << 20;
    c.session_kv_reserve_bytes = (int64_t{1} << 20) + 1;  // over the sessions' budget
  }));
  EXPECT_FALSE(bad([](ServerConfig& c) { c.session_kv_reserve_bytes = c.session_max_kv_bytes; }));
  EXPECT_TRUE(bad([](ServerConfig& c) {  // host pages: not for sessions on a GPU
    c.device = "cuda";
    c.session_kv_reserve_bytes = 1 << 20;
  }));
  ServerConfig c;
  c.session_max_kv_bytes = 100000;
  c.session_kv_reserve_bytes = 200000;
  const Status st = ValidateConfig(c);
  EXPECT_NE(st.message().find("session_kv_reserve_bytes"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace ccguard::server
