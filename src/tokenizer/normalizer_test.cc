#include "tokenizer/normalizer.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

std::string Apply(const Json& j, std::string_view text) {
  auto n = Normalizer::FromJson(j, "normalizer");
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  if (!n.ok()) return "<error>";
  auto r = n.value().Normalize(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : "<error>";
}

TEST(NormalizerTest, NullIsIdentity) {
  auto n = Normalizer::FromJson(Json(), "normalizer");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n.value().is_identity());
  EXPECT_EQ(n.value().Normalize("e\xCC\x81").value(), "e\xCC\x81");
}

TEST(NormalizerTest, Nfc) {
  const Json nfc = {{"type", "NFC"}};
  EXPECT_EQ(Apply(nfc, "e\xCC\x81"), "\xC3\xA9");  // e + U+0301 -> é
  EXPECT_EQ(Apply(nfc, "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo -> 각
  EXPECT_EQ(Apply(nfc, "\xEF\xAC\x81"), "\xEF\xAC\x81");  // ﬁ is kept by NFC
  EXPECT_EQ(Apply(nfc, "plain"), "plain");
  EXPECT_EQ(Apply(nfc, std::string("a\0e\xCC\x81", 5)), std::string("a\0\xC3\xA9", 4));
  // Canonical reordering of combining marks: dot below (ccc 220) before acute (230).
  EXPECT_EQ(Apply(nfc, "a\xCC\x81\xCC\xA3"), Apply(nfc, "a\xCC\xA3\xCC\x81"));
}

TEST(NormalizerTest, OtherForms) {
  EXPECT_EQ(Apply({{"type", "NFD"}}, "\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(Apply({{"type", "NFKC"}},
                  "\xEF\xAC\x81"
                  "x\xE2\x91\xA0"),
            "fix1");  // ﬁx① -> fix1
  EXPECT_EQ(Apply({{"type", "NFKD"}}, "\xEF\xAC\x81\xC3\xA9"), "fie\xCC\x81");
}

TEST(NormalizerTest, Sequence) {
  Json seq = {{"type", "Sequence"},
              {"normalizers", Json::array({Json{{"type", "NFD"}}, Json{{"type", "NFC"}}})}};
  auto n = Normalizer::FromJson(seq, "normalizer");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value().forms().size(), 2u);
  EXPECT_EQ(Apply(seq, "e\xCC\x81"), "\xC3\xA9");
  EXPECT_TRUE(Normalizer::FromJson({{"type", "Sequence"}, {"normalizers", Json::array()}}, "n")
                  .value()
                  .is_identity());
}

TEST(NormalizerTest, Errors) {
  auto r = Normalizer::FromJson({{"type", "Lowercase"}}, "tok.json: normalizer");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(r.status().message().find("tok.json: normalizer.type"), std::string::npos);
  EXPECT_NE(r.status().message().find("Lowercase"), std::string::npos);

  r = Normalizer::FromJson(
      {{"type", "Sequence"},
       {"normalizers", Json::array({Json{{"type", "NFC"}}, Json{{"type", "Strip"}}})}},
      "n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("n.normalizers[1].type"), std::string::npos);

  EXPECT_EQ(Normalizer::FromJson({{"kind", "NFC"}}, "n").status().code(),
            Status::Code::kCorruption);
  EXPECT_FALSE(Normalizer::FromJson(Json("NFC"), "n").ok());
  EXPECT_FALSE(Normalizer::FromJson({{"type", "Sequence"}}, "n").ok());
}

}  // namespace
}  // namespace ccguard
