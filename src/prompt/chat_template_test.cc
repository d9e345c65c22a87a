#include "prompt/chat_template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ccguard {
namespace {

namespace fs = std::filesystem;
const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";

TEST(ChatTemplateTest, RendersGoldenTextsWithSpans) {
  auto ct = ChatTemplate::FromModelDir(kBase);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  const Json golden = *ReadJsonFile(std::string(CCGUARD_FIXTURES) + "/tiny-a/golden.json");
  int n = 0;
  for (const Json& c : golden["cases"]) {
    if (c["messages"].is_null()) continue;
    std::vector<ChatMessage> msgs;
    for (const Json& m : c["messages"]) msgs.push_back({m["role"], m["content"]});
    auto r = ct->RenderWithSpans(msgs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->text, c["text"].get<std::string>()) << c["name"];
    ASSERT_EQ(r->content_spans.size(), msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
      const auto [b, e] = r->content_spans[i];
      EXPECT_EQ(r->text.substr(b, e - b), msgs[i].content);
    }
    ++n;
  }
  EXPECT_EQ(n, 13);
}

TEST(ChatTemplateTest, ChatTemplateJinjaFileWinsAndErrorsAreClear) {
  fs::path dir = fs::path(::testing::TempDir()) / "chat_template_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "chat_template.jinja")
      << "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
         "{% if add_generation_prompt %}[assistant]{% endif %}";
  auto ct = ChatTemplate::FromModelDir(dir.string());
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  EXPECT_EQ(*ct->Render({{"user", "hi"}}), "[user]hi[assistant]");

  // A template that rewrites content cannot be tokenized literally.
  auto upper = ChatTemplate::FromSource("{{ messages[0].content | upper }}", "t");
  ASSERT_TRUE(upper.ok());
  auto r = upper->RenderWithSpans({{"user", "hi"}});
  EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(r.status().message().find("--hf-special-tokens"), std::string::npos);

  auto broken = ChatTemplate::FromSource("{% for %}", "broken.jinja");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken.jinja"), std::string::npos);
  auto raising = ChatTemplate::FromSource("{{ raise_exception('no system role') }}", "r");
  ASSERT_TRUE(raising.ok());
  EXPECT_NE(raising->Render({{"user", "x"}}).status().message().find("no system role"),
            std::string::npos);
  fs::remove(dir / "chat_template.jinja");
  EXPECT_EQ(ChatTemplate::FromModelDir(dir.string()).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ccguard
