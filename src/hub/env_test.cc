#include "hub/env.h"

#include <gtest/gtest.h>

#include <fstream>

#include "hub/fake_hub.h"

namespace ccguard::hub {
namespace {

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateHubEnvironment();
    ::setenv("HOME", home_.path().c_str(), 1);
  }
  testing::TempDir home_;
};

TEST_F(EnvTest, CacheDirPrecedence) {
  EXPECT_EQ(CacheDirFromEnv(), home_ / ".cache/huggingface/hub");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(CacheDirFromEnv(), "/xdg/huggingface/hub");
  ::setenv("HF_HOME", "/hfhome", 1);
  EXPECT_EQ(CacheDirFromEnv(), "/hfhome/hub");
  ::setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
  EXPECT_EQ(CacheDirFromEnv(), "/legacy");
  ::setenv("HF_HUB_CACHE", "/hubcache", 1);
  EXPECT_EQ(CacheDirFromEnv(), "/hubcache");
}

TEST_F(EnvTest, Endpoint) {
  EXPECT_EQ(EndpointFromEnv(), "https://huggingface.co");
  ::setenv("HF_ENDPOINT", "http://127.0.0.1:8080/", 1);
  EXPECT_EQ(EndpointFromEnv(), "http://127.0.0.1:8080");
}

TEST_F(EnvTest, TokenFromVariableThenFile) {
  EXPECT_EQ(TokenFromEnv(), "");
  ::unsetenv("HF_TOKEN_PATH");
  EXPECT_EQ(TokenPathFromEnv(), home_ / ".cache/huggingface/token");
  std::filesystem::create_directories(home_ / ".cache/huggingface");
  std::ofstream(home_ / ".cache/huggingface/token") << "hf_from_default_file\n";
  EXPECT_EQ(TokenFromEnv(), "hf_from_default_file");
  ::setenv("HF_HOME", (home_ / "hfhome").c_str(), 1);
  EXPECT_EQ(TokenPathFromEnv(), home_ / "hfhome/token");
  EXPECT_EQ(TokenFromEnv(), "");
  std::ofstream(home_ / "custom-token") << "  hf_custom  \n";
  ::setenv("HF_TOKEN_PATH", (home_ / "custom-token").c_str(), 1);
  EXPECT_EQ(TokenFromEnv(), "hf_custom");
  ::setenv("HF_TOKEN", "hf_env", 1);
  EXPECT_EQ(TokenFromEnv(), "hf_env");
}

TEST_F(EnvTest, Offline) {
  EXPECT_FALSE(OfflineFromEnv());
  for (const char* yes : {"1", "ON", "yes", "True"}) {
    ::setenv("HF_HUB_OFFLINE", yes, 1);
    EXPECT_TRUE(OfflineFromEnv()) << yes;
  }
  for (const char* no : {"0", "", "off", "false"}) {
    ::setenv("HF_HUB_OFFLINE", no, 1);
    EXPECT_FALSE(OfflineFromEnv()) << no;
  }
  ::setenv("TRANSFORMERS_OFFLINE", "1", 1);
  EXPECT_TRUE(OfflineFromEnv());
}

TEST_F(EnvTest, Seconds) {
  EXPECT_EQ(SecondsFromEnv("HF_HUB_ETAG_TIMEOUT", 10), 10);
  ::setenv("HF_HUB_ETAG_TIMEOUT", "30", 1);
  EXPECT_EQ(SecondsFromEnv("HF_HUB_ETAG_TIMEOUT", 10), 30);
  ::setenv("HF_HUB_ETAG_TIMEOUT", "junk", 1);
  EXPECT_EQ(SecondsFromEnv("HF_HUB_ETAG_TIMEOUT", 10), 10);
  ::setenv("HF_HUB_ETAG_TIMEOUT", "-3", 1);
  EXPECT_EQ(SecondsFromEnv("HF_HUB_ETAG_TIMEOUT", 10), 10);
}

}  // namespace
}  // namespace ccguard::hub
