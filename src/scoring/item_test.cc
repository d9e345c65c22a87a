#include "scoring/item.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

TEST(ItemTest, ThreeForms) {
  auto t = ItemFromJson(Json::parse(R"({"id": 7, "text": "raw"})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Item::Kind::kText);
  EXPECT_EQ(t->id, 7);
  auto m = ItemFromJson(Json::parse(R"({"messages": [{"role": "user", "content": "hi"}]})"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind, Item::Kind::kMessages);
  EXPECT_TRUE(m->id.is_null());
  auto e = ItemFromJson(Json::parse(R"({"prompt": "p", "response": "r"})"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e->response, "r");
  auto p = ItemFromJson(Json::parse(R"({"prompt": "p", "response": null})"));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->response.has_value());
}

TEST(ItemTest, Errors) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {{R"([])", "JSON object"},
               {R"({})", "exactly one of"},
               {R"({"text": "a", "prompt": "b"})", "exactly one of"},
               {R"({"prompt": 1})", "'prompt' must be a string"},
               {R"({"prompt": "a", "response": 2})", "'response' must be a string"},
               {R"({"messages": "x"})", "non-empty list"},
               {R"({"messages": [{"role": "user"}]})", "'role' and 'content'"},
               {R"({"messages": [{"role": 1, "content": "x"}]})", "messages[0].'role'"},
               // Unknown fields name themselves (a typo must not drop the response).
               {R"({"prompt": "a", "respnse": "b"})", "unknown field 'respnse'"},
               {R"({"prompt": "a", "threshold": 0.2})", "unknown field 'threshold'"}};
  for (const auto& c : cases) {
    auto r = ItemFromJson(Json::parse(c.json));
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  Json big = {{"prompt", std::string(100, 'x')}};
  EXPECT_EQ(ItemFromJson(big, 50).status().code(), Status::Code::kResourceExhausted);
  Json bad = {{"prompt", std::string("a\xff")}};
  EXPECT_NE(ItemFromJson(bad).status().message().find("UTF-8"), std::string::npos);
}

}  // namespace
}  // namespace ccguard
