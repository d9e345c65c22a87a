#include "scoring/item.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

TEST(ItemTest, Forms) {
  auto t = ItemFromJson(Json::parse(R"({"id": 7, "text": "raw"})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Item::Kind::kText);
  EXPECT_EQ(t->id, 7);
  auto c = ItemFromJson(Json::parse(R"({"chat": [{"role": "user", "content": "hi"}]})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, Item::Kind::kChat);
  ASSERT_EQ(c->chat.size(), 1u);
  EXPECT_EQ(c->chat[0].content, "hi");
  EXPECT_TRUE(c->id.is_null());
  auto e = ItemFromJson(Json::parse(R"({"prompt": "p", "response": "r"})"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e->response, "r");
  EXPECT_TRUE(e->context.empty());
  auto p = ItemFromJson(Json::parse(R"({"prompt": "p", "response": null})"));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->response.has_value());
}

TEST(ItemTest, MessagesAreAConversationToJudge) {
  // Ends with a user turn: that turn is the prompt, the rest context.
  auto in = ItemFromJson(Json::parse(R"({"messages": [
      {"role": "system", "content": "s"}, {"role": "user", "content": "u1"},
      {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]})"));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->kind, Item::Kind::kExchange);
  EXPECT_EQ(in->prompt, "u2");
  EXPECT_FALSE(in->response.has_value());
  ASSERT_EQ(in->context.size(), 3u);
  EXPECT_EQ(in->context[0].role, "system");
  EXPECT_EQ(in->context[2].content, "a1");
  // Ends with an assistant turn: the exchange (last user → it) is judged.
  auto ex = ItemFromJson(Json::parse(R"({"messages": [
      {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}]})"));
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex->prompt, "u1");
  EXPECT_EQ(*ex->response, "a1");
  EXPECT_TRUE(ex->context.empty());
  // A one-turn conversation is the same item as {"prompt"}.
  auto one = ItemFromJson(Json::parse(R"({"messages": [{"role": "user", "content": "q"}]})"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prompt, "q");
  EXPECT_TRUE(one->context.empty());
  EXPECT_FALSE(one->response.has_value());
}

TEST(ItemTest, Errors) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {R"([])", "JSON object"},
      {R"({})", "exactly one of"},
      {R"({"text": "a", "prompt": "b"})", "exactly one of"},
      {R"({"prompt": 1})", "'prompt' must be a string"},
      {R"({"prompt": "a", "response": 2})", "'response' must be a string"},
      {R"({"messages": "x"})", "non-empty list"},
      {R"({"messages": [{"role": "user"}]})", "'role' and 'content'"},
      {R"({"messages": [{"role": 1, "content": "x"}]})", "messages[0].'role'"},
      {R"({"chat": []})", "'chat' must be a non-empty list"},
      {R"({"chat": [{"role": "user", "content": "x", "name": "n"}]})",
       "chat[0]: unknown field 'name'"},
      {R"({"messages": [{"role": "tool", "content": "x"}]})", "role 'tool'"},
      {R"({"messages": [{"role": "system", "content": "x"}]})", "must end with a user turn"},
      {R"({"messages": [{"role": "assistant", "content": "x"}]})", "must follow a user turn"},
      {R"({"messages": [{"role": "user", "content": "x"},
                    {"role": "assistant", "content": "y"}, {"role": "assistant", "content": "z"}]})",
       "messages[2]: a final assistant turn"},
      {R"({"messages": [{"role": "user", "content": "x"}], "response": "r"})",
       "'response' goes with 'prompt'"},
      {R"({"chat": [{"role": "user", "content": "x"}], "prompt": "p"})", "exactly one of"},
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
