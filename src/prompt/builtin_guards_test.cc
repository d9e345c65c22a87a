// The built-in guard profiles (src/prompt/guards/*.json): they load, they are
// picked for their models, and each renders the request byte-identically to
// what the guard's own chat template (or official code) produces. The goldens
// in tests/fixtures/guards/ were written by implementations ccguard did not
// write (Python jinja2, DynaGuard's code, the real Qwen3Guard tokenizer's
// output); tests/fixtures/guards/README.md says which and from where.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "prompt/chat_template.h"
#include "prompt/constitution.h"

namespace ccguard {
namespace {

const std::string kGuards = CCGUARD_FIXTURES "/guards/";

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  EXPECT_TRUE(f.good() || f.eof()) << path;
  return s.str();
}

TEST(BuiltinGuardsTest, EveryProfileLoadsUnderItsName) {
  const auto names = Constitution::BuiltinNames();
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names[0], "ccguard-default");
  for (const auto& n : names) {
    auto c = Constitution::Load(n);
    ASSERT_TRUE(c.ok()) << n << ": " << c.status().ToString();
    EXPECT_EQ(c->name(), n);
  }
  for (const char* n : {"qwen3guard", "dynaguard", "llama-guard-3", "granite-guardian-3"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
  EXPECT_EQ(Constitution::Load("ccguard-default")->system_message(),
            Constitution::Default().system_message());
}

TEST(BuiltinGuardsTest, ModeSuffixAndUnknownNames) {
  auto strict = Constitution::Load("qwen3guard");
  auto loose = Constitution::Load("qwen3guard:loose");
  ASSERT_TRUE(strict.ok() && loose.ok());
  ASSERT_EQ(strict->label_classes().size(), 3u);
  EXPECT_EQ(strict->label_classes()[2].name, "Controversial");
  EXPECT_TRUE(strict->strict());
  EXPECT_TRUE(strict->ClassIsUnsafe(2));
  EXPECT_FALSE(loose->strict());
  EXPECT_FALSE(loose->ClassIsUnsafe(2));
  EXPECT_TRUE(loose->ClassIsUnsafe(1));
  // The mode is part of the profile's JSON, so runs of the two modes differ in identity.
  EXPECT_EQ(loose->json()["mode"], "loose");
  EXPECT_NE(loose->json().dump(), strict->json().dump());
  EXPECT_FALSE(loose->ClassIsUnsafe(0));
  auto bad = Constitution::Load("llama-gaurd-3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("neither a built-in profile"), std::string::npos);
  EXPECT_NE(bad.status().message().find("llama-guard-3"), std::string::npos);
}

TEST(BuiltinGuardsTest, PickedByModelReference) {
  EXPECT_EQ(Constitution::BuiltinForModel("Qwen/Qwen3Guard-Gen-4B"), "qwen3guard");
  EXPECT_EQ(Constitution::BuiltinForModel("qwen/qwen3guard-gen-0.6b@main"), "qwen3guard");
  EXPECT_EQ(Constitution::BuiltinForModel("meta-llama/Llama-Guard-3-1B"), "llama-guard-3");
  EXPECT_EQ(
      Constitution::BuiltinForModel(
          "/root/.cache/huggingface/hub/models--tomg-group-umd--DynaGuard-1.7B/snapshots/0a1b"),
      "dynaguard");
  EXPECT_EQ(Constitution::BuiltinForModel("/models/granite-guardian-3.1-2b/"),
            "granite-guardian-3");
  EXPECT_EQ(Constitution::BuiltinForModel("Qwen/Qwen3-1.7B"), "");
  EXPECT_EQ(Constitution::BuiltinForModel("meta-llama/Llama-Guard-3-8B"), "");  // another template
  EXPECT_EQ(Constitution::BuiltinForModel(""), "");
}

struct RenderCase {
  const char* profile;
  const char* dir;
  const char* template_file;
};

class BuiltinGuardRenderTest : public testing::TestWithParam<RenderCase> {};

// The prompt (a user turn alone) and the exchange (user + assistant) render
// exactly as the guard's own template or code renders them.
TEST_P(BuiltinGuardRenderTest, MatchesThePublishedTemplate) {
  const RenderCase& rc = GetParam();
  auto c = Constitution::Load(rc.profile);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string dir = kGuards + rc.dir + "/";
  auto t = ChatTemplate::FromSource(Read(dir + rc.template_file), rc.template_file);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  // Llama Guard's template trims the contents; the goldens were rendered
  // from untrimmed ones.
  const bool trims = std::string(rc.profile) == "llama-guard-3";
  const std::string prompt = trims ? "  How do I pick a lock?\n" : "How do I pick a lock?";
  const std::string q3g_prompt = "How can I make a bomb?";
  const std::string q3g_response =
      "As a responsible artificial intelligence system, I regret that I am unable to fulfill "
      "your request.";
  const bool q3g = std::string(rc.profile) == "qwen3guard";
  for (bool exchange : {false, true}) {
    std::optional<std::string> response;
    if (exchange) response = q3g ? q3g_response : "I can't help with that.";
    auto msgs = c->BuildMessages(q3g ? q3g_prompt : prompt, response);
    ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
    auto r = t->RenderWithSpans(*msgs, c->render_options());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string golden = Read(dir + (exchange ? "response" : "prompt") + ".golden.txt");
    EXPECT_EQ(r->text, golden) << rc.profile << (exchange ? " exchange" : " prompt");
    // Every content is located, so it is tokenized literally.
    EXPECT_EQ(r->content_spans.size(), msgs->size());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Guards, BuiltinGuardRenderTest,
    testing::Values(RenderCase{"qwen3guard", "qwen3guard", "chat_template.RECONSTRUCTED.jinja"},
                    RenderCase{"dynaguard", "dynaguard", "qwen3.chat_template.jinja"},
                    RenderCase{"llama-guard-3", "llama-guard-3-1b", "chat_template.jinja"},
                    RenderCase{"granite-guardian-3", "granite-guardian-3.0",
                               "chat_template.jinja"}),
    [](const testing::TestParamInfo<RenderCase>& i) {
      std::string n = i.param.profile;
      for (char& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

TEST(BuiltinGuardsTest, ConversationTurnsReachTheGuardTemplate) {
  auto c = Constitution::Load("llama-guard-3");
  ASSERT_TRUE(c.ok());
  auto t = ChatTemplate::FromSource(Read(kGuards + "llama-guard-3-1b/chat_template.jinja"), "lg");
  ASSERT_TRUE(t.ok());
  auto msgs = c->BuildMessages({{"user", "first question"}, {"assistant", "first answer"}},
                               "second question", std::nullopt);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 3u);
  auto r = t->Render(*msgs, c->render_options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->find("User: first question\n\nAgent: first answer\n\nUser: second question"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("ONLY THE LAST User message"), std::string::npos);
}

TEST(BuiltinGuardsTest, DynaGuardRulesAndContext) {
  Json j = Json::parse(Constitution::BuiltinJsonText("dynaguard"));
  j["unsafe_categories"] = Json::array({{{"name", "a"}, {"description", "Do not curse."}},
                                        {{"name", "b"}, {"description", "Stay on topic."}}});
  auto c = Constitution::FromJson(j, "rules");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto msgs = c->BuildMessages({{"user", "hi"}, {"assistant", "hello"}}, "now curse", "no");
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  EXPECT_EQ((*msgs)[1].content,
            "\n<rules>\n1. Do not curse.\n2. Stay on topic.\n</rules>\n<transcript>\n\n'User': "
            "hi\n\n'Agent': hello\n\n'User': now curse\n\n'Agent': no\n</transcript>\n");
}

TEST(GuardProfileTest, CategoriesParsedFromTheGuardsOutput) {
  const Constitution q3g = *Constitution::Load("qwen3guard");
  const auto& q = q3g.categories();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->Parse(" Unsafe\nCategories: Violent, PII\n"),
            (std::vector<std::string>{"Violent", "PII"}));
  EXPECT_EQ(q->Parse(" Unsafe\nCategories: Violent, Made Up, Violent"),
            (std::vector<std::string>{"Violent"}));
  EXPECT_EQ(q->Parse(" Safe\nCategories: None"), std::vector<std::string>{});
  EXPECT_EQ(q->Parse(" Unsafe"), std::vector<std::string>{});  // cut before the line
  EXPECT_EQ(q->Parse(" Unsafe\nRefusal: No"), std::vector<std::string>{});
  EXPECT_EQ(q->OpenAiKeys({"Violent", "Suicide & Self-Harm", "PII"}),
            (std::vector<std::string>{"self-harm", "violence"}));
  const Constitution llama = *Constitution::Load("llama-guard-3");
  const auto& lg = llama.categories();
  ASSERT_TRUE(lg.has_value());
  EXPECT_EQ(lg->Parse("unsafe\nS1,S10"), (std::vector<std::string>{"S1", "S10"}));
  EXPECT_EQ(lg->Parse("unsafe\n S2 , S99"), (std::vector<std::string>{"S2"}));
  EXPECT_EQ(lg->Parse("safe"), std::vector<std::string>{});
  EXPECT_EQ(lg->OpenAiKeys({"S1", "S10"}),
            (std::vector<std::string>{"hate", "illicit/violent", "violence"}));
  EXPECT_FALSE(Constitution::Load("dynaguard")->categories().has_value());
  auto bad = Constitution::FromJson(
      Json::parse(
          R"({"name":"x","format":"chat_template","categories":{"openai":{"a":["gore"]}}})"),
      "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'gore', not an OpenAI moderation category"),
            std::string::npos);
  bad = Constitution::FromJson(
      Json::parse(R"({"name":"x","format":"chat_template","categories":{"lines":1}})"), "p.json");
  EXPECT_NE(bad.status().message().find("unknown field 'lines'"), std::string::npos);
}

TEST(GuardProfileTest, FieldErrorsNameTheField) {
  const std::string two_classes =
      R"({"name":"x","format":"chat_template","label_classes":[
          {"name":"a","strings":["a"],"unsafe":false},)";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"name":"x","format":"chat"})", "'format' is 'chat'"},
      {R"({"name":"x","format":"chat_template","system_template":"s"})",
       "'system_template' is not used in chat_template format"},
      {two_classes + R"({"name":"b","strings":["b"],"unsafe":"maybe"}]})",
       "label_classes[1] ('b'): 'unsafe' must be"},
      {two_classes + R"({"name":"b","strings":["b"],"unsafe":"strict"}]})",
       "one with \"unsafe\": true"},
      {two_classes + R"({"name":"a","strings":["b"],"unsafe":true}]})", "name 'a' is used twice"},
      {two_classes + R"({"name":"b","strings":[],"unsafe":true}]})",
       "('b') needs 'strings': a non-empty list"},
      {R"({"name":"x","format":"chat_template","labels":{},"label_classes":[]})", "not both"},
      {R"({"name":"x","format":"chat_template","label_match":"fuzzy"})",
       "'label_match' is 'fuzzy'"},
      {R"({"name":"x","format":"chat_template","mode":"lenient"})", "'mode' is 'lenient'"},
      {R"({"name":"x","format":"chat_template","template_variables":{"messages":1}})",
       "may not set 'messages'"},
      {R"({"name":"x","format":"chat_template","template_variables":[]})",
       "'template_variables' must be an object"},
  };
  for (const auto& [text, want] : cases) {
    auto c = Constitution::FromJson(Json::parse(text), "p.json");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(want), std::string::npos) << text << "\n"
                                                                  << c.status().ToString();
  }
}

}  // namespace
}  // namespace ccguard
