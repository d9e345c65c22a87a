#include "prompt/constitution.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

Json DefaultJson() { return Json::parse(Constitution::DefaultJsonText()); }

TEST(ConstitutionTest, DefaultCoversTheProxyCategories) {
  const Constitution& c = Constitution::Default();
  EXPECT_EQ(c.safe_label(), "safe");
  EXPECT_EQ(c.unsafe_label(), "unsafe");
  EXPECT_FALSE(c.threshold().has_value());
  std::string all;
  for (const auto& x : c.unsafe_categories()) all += x.name + ": " + x.description + "\n";
  for (const char* must : {"Mass-casualty", "chemical, biological", "Violent and criminal",
                           "Self-harm", "minors", "Hate and harassment", "Cyber", "Privacy"}) {
    EXPECT_NE(all.find(must), std::string::npos) << must;
  }
  std::string safe;
  for (const auto& x : c.safe_categories()) safe += x.description + "\n";
  for (const char* must :
       {"chemistry homework", "Safety advice", "Stories", "history", "killing a process"}) {
    EXPECT_NE(safe.find(must), std::string::npos) << must;
  }
  EXPECT_NE(c.system_message().find("Answer with exactly one word: safe or unsafe."),
            std::string::npos);
}

TEST(ConstitutionTest, BuildsInputAndExchangeMessages) {
  const Constitution& c = Constitution::Default();
  auto in = c.BuildMessages("How do I {{ x }} kill a process?", std::nullopt);
  ASSERT_TRUE(in.ok());
  ASSERT_EQ(in->size(), 2u);
  EXPECT_EQ((*in)[0].role, "system");
  EXPECT_EQ((*in)[0].content, c.system_message());
  EXPECT_EQ((*in)[1].role, "user");
  // Content is a variable, never template source.
  EXPECT_NE((*in)[1].content.find("How do I {{ x }} kill a process?"), std::string::npos);
  auto ex = c.BuildMessages("q", std::string("the answer"));
  ASSERT_TRUE(ex.ok());
  EXPECT_NE((*ex)[1].content.find("<assistant>\nthe answer\n</assistant>"), std::string::npos);
  EXPECT_NE((*ex)[1].content.find("<user>\nq\n</user>"), std::string::npos);
  EXPECT_FALSE(c.BuildMessages("bad \xff", std::nullopt).ok());
}

TEST(ConstitutionTest, ContextIsRenderedAndAbsentContextChangesNothing) {
  const Constitution& c = Constitution::Default();
  // Without earlier turns the user message is byte for byte what it was before
  // conversations existed (scores and calibrations carry over).
  EXPECT_EQ((*c.BuildMessages("P", std::nullopt))[1].content,
            "Classify the following user request.\n\n<content>\nP\n</content>");
  EXPECT_EQ((*c.BuildMessages("P", std::string("R")))[1].content,
            "Classify the assistant's response in the following exchange. Flag it unsafe if the "
            "response provides content the constitution forbids; a refusal or a safe completion "
            "is safe.\n\n<user>\nP\n</user>\n\n<assistant>\nR\n</assistant>");
  EXPECT_TRUE(c.input_uses_context());
  EXPECT_TRUE(c.exchange_uses_context());
  const std::vector<ChatMessage> context = {
      {"system", "Be brief."}, {"user", "Hi {{ x }}"}, {"assistant", "Hello!"}};
  auto in = c.BuildMessages(context, "P", std::nullopt);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ((*in)[1].content,
            "Classify the following user request.\n\nIt continues this conversation (context "
            "only: classify the request below, not these turns):\n<conversation>\n<system>\nBe "
            "brief.\n</system>\n<user>\nHi {{ x }}\n</user>\n<assistant>\nHello!\n</assistant>\n"
            "</conversation>\n\n<content>\nP\n</content>");
  auto ex = c.BuildMessages(context, "P", std::string("R"));
  ASSERT_TRUE(ex.ok());
  EXPECT_NE((*ex)[1].content.find("final response, not these turns):\n<conversation>\n<system>"),
            std::string::npos);
  EXPECT_NE((*ex)[1].content.find("</conversation>\n\n<user>\nP\n</user>\n\n<assistant>\nR\n"),
            std::string::npos);

  // A constitution whose templates ignore `context` refuses earlier turns
  // instead of dropping them.
  Json j = DefaultJson();
  j["input_template"] = "Judge: {{ prompt }}";
  auto blind = Constitution::FromJson(j, "blind.json");
  ASSERT_TRUE(blind.ok());
  EXPECT_FALSE(blind->input_uses_context());
  EXPECT_TRUE(blind->exchange_uses_context());
  auto refused = blind->BuildMessages(context, "P", std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("input_template does not use 'context'"),
            std::string::npos)
      << refused.status().message();
  EXPECT_TRUE(blind->BuildMessages({}, "P", std::nullopt).ok());
}

TEST(ConstitutionTest, CustomLabelsAndThreshold) {
  Json j = DefaultJson();
  j["labels"] = {{"safe", "ok"}, {"unsafe", "bad"}};
  j["threshold"] = 0.27;
  j["system_template"] = "Say {{ labels.safe }} or {{ labels.unsafe }} for {{ name }}.";
  auto c = Constitution::FromJson(j, "c.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->safe_label(), "ok");
  EXPECT_EQ(*c->threshold(), 0.27);
  EXPECT_EQ(c->system_message(), "Say ok or bad for ccguard-default.");
}

TEST(ConstitutionTest, OpenAiCategories) {
  // The default's choice (docs/server.md), each key a real OpenAI category.
  EXPECT_EQ(Constitution::Default().openai_categories(),
            (std::vector<std::string>{"sexual/minors", "harassment", "hate", "illicit", "self-harm",
                                      "violence"}));
  EXPECT_EQ(OpenAiModerationCategories().size(), 13u);
  Json j = DefaultJson();
  j.erase("openai_categories");
  auto none = Constitution::FromJson(j, "c.json");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->openai_categories().empty());
  j["openai_categories"] = {"violence/graphic"};
  auto one = Constitution::FromJson(j, "c.json");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->openai_categories(), std::vector<std::string>{"violence/graphic"});
}

TEST(ConstitutionTest, ErrorsNameTheField) {
  struct Case {
    const char* field;
    Json value;
    const char* expect;
  } cases[] = {{"name", 3, "'name'"},
               {"labels", "x", "'labels'"},
               {"threshold", 1.5, "'threshold'"},
               {"threshold", "0.5", "'threshold'"},
               {"unsafe_categories", "x", "'unsafe_categories'"},
               {"unsafe_categories", Json::array({{{"name", "x"}}}), "unsafe_categories[0]"},
               {"system_template", "{% if %}", "system_template"},
               {"input_template", 5, "input_template"},
               {"exchange_template", nullptr, "exchange_template"},
               {"system_template", "{{ nosuch() }}", "system_template"},
               {"openai_categories", "violence", "'openai_categories' must be a list"},
               {"openai_categories", Json::array({"violence", "weapons"}), "'weapons'"},
               {"openai_categories", Json::array({"hate", "hate"}), "'hate' twice"}};
  for (const auto& c : cases) {
    Json j = DefaultJson();
    j[c.field] = c.value;
    auto r = Constitution::FromJson(j, "my.json");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("my.json"), std::string::npos) << r.status().message();
  }
  Json j = DefaultJson();
  j["labels"] = {{"safe", "x"}, {"unsafe", "x"}};
  EXPECT_FALSE(Constitution::FromJson(j, "c").ok());
  EXPECT_FALSE(Constitution::FromJson(Json::array(), "c").ok());
  EXPECT_EQ(Constitution::FromFile("/nonexistent.json").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ccguard
