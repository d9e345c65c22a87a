#include "server/auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace ccguard::server {
namespace {

TEST(ApiKeysTest, NoKeysMeansOff) {
  ApiKeys k;
  EXPECT_FALSE(k.enabled());
  EXPECT_EQ(k.Check("Bearer x"), -1);
}

TEST(ApiKeysTest, BearerParsing) {
  EXPECT_EQ(ApiKeys::BearerToken("Bearer abc").value(), "abc");
  EXPECT_EQ(ApiKeys::BearerToken("bearer   abc  ").value(), "abc");
  EXPECT_EQ(ApiKeys::BearerToken("BEARER\tabc").value(), "abc");
  EXPECT_FALSE(ApiKeys::BearerToken("Basic abc"));
  EXPECT_FALSE(ApiKeys::BearerToken("Bearer"));
  EXPECT_FALSE(ApiKeys::BearerToken("Bearer "));
  EXPECT_FALSE(ApiKeys::BearerToken("Bearerabc"));
  EXPECT_FALSE(ApiKeys::BearerToken(""));
}

TEST(ApiKeysTest, CheckFindsTheMatchingKeyOnly) {
  auto k = ApiKeys::FromList({"key-one-0123456789", "key-two-0123456789"});
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(k->enabled());
  EXPECT_EQ(k->Check("Bearer key-one-0123456789"), 0);
  EXPECT_EQ(k->Check("Bearer key-two-0123456789"), 1);
  EXPECT_EQ(k->Check("Bearer key-two-012345678"), -1);    // prefix
  EXPECT_EQ(k->Check("Bearer key-two-01234567890"), -1);  // longer
  EXPECT_EQ(k->Check("key-two-0123456789"), -1);          // no scheme
  EXPECT_EQ(k->Check(""), -1);
}

TEST(ApiKeysTest, RejectsBadKeys) {
  EXPECT_FALSE(ApiKeys::FromList({""}).ok());
  EXPECT_FALSE(ApiKeys::FromList({"has space"}).ok());
  EXPECT_FALSE(ApiKeys::FromList({"tab\tkey"}).ok());
  EXPECT_FALSE(ApiKeys::FromList({"caf\xc3\xa9"}).ok());
}

TEST(ApiKeysTest, LoadsFileAndEnvironment) {
  const std::string path = ::testing::TempDir() + "/ccguard_keys_" + std::to_string(getpid());
  {
    std::ofstream f(path);
    f << "# service keys\n\n  file-key-1  \r\nfile-key-2\n";
  }
  setenv("CCGUARD_TEST_KEYS", "env-key-1, env-key-2\tenv-key-3", 1);
  auto k = ApiKeys::Load(path, "CCGUARD_TEST_KEYS");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->size(), 5u);
  EXPECT_EQ(k->Check("Bearer file-key-1"), 0);
  EXPECT_EQ(k->Check("Bearer file-key-2"), 1);
  EXPECT_EQ(k->Check("Bearer env-key-3"), 4);
  EXPECT_EQ(k->Check("Bearer # service keys"), -1);
  unsetenv("CCGUARD_TEST_KEYS");
  auto only_file = ApiKeys::Load(path, "CCGUARD_TEST_KEYS");
  ASSERT_TRUE(only_file.ok());
  EXPECT_EQ(only_file->size(), 2u);
  EXPECT_FALSE(ApiKeys::Load(path + ".missing", "").ok());
  {
    std::ofstream f(path);
    f << "good\nbad key\n";
  }
  auto bad = ApiKeys::Load(path, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":2"), std::string::npos) << bad.status().message();
  std::remove(path.c_str());
}

// An empty keys file or an empty $VAR once turned authentication off silently.
TEST(ApiKeysTest, EmptyKeySourcesRefuseToStart) {
  const std::string path = ::testing::TempDir() + "/ccguard_empty_keys_" + std::to_string(getpid());
  for (const char* text : {"", "\n\n", "# only a comment\n   \n"}) {
    {
      std::ofstream f(path);
      f << text;
    }
    auto k = ApiKeys::Load(path, "");
    ASSERT_FALSE(k.ok()) << "file text: " << text;
    EXPECT_NE(k.status().message().find("holds no key"), std::string::npos) << k.status().message();
  }
  std::remove(path.c_str());
  for (const char* value : {"", " ", ",, ,"}) {
    setenv("CCGUARD_TEST_EMPTY_KEYS", value, 1);
    auto k = ApiKeys::Load("", "CCGUARD_TEST_EMPTY_KEYS");
    ASSERT_FALSE(k.ok()) << "value: '" << value << "'";
    EXPECT_NE(k.status().message().find("$CCGUARD_TEST_EMPTY_KEYS"), std::string::npos);
  }
  unsetenv("CCGUARD_TEST_EMPTY_KEYS");
  auto off = ApiKeys::Load("", "CCGUARD_TEST_EMPTY_KEYS");  // unset: no keys, no error
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled());
}

TEST(ApiKeysTest, ConstantTimeEquals) {
  const Sha256Digest a = Sha256("a"), b = Sha256("b");
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  Sha256Digest c = a;
  c[31] ^= 1;
  EXPECT_FALSE(ConstantTimeEquals(a, c));
}

}  // namespace
}  // namespace ccguard::server
