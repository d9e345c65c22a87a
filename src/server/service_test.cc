#include "server/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include "server/testing.h"

namespace ccguard::server {
namespace {

std::unique_ptr<Service> Loaded(ServerConfig c = testing::TinyConfig()) {
  auto s = std::make_unique<Service>(c);
  Status st = s->LoadWithEngine(testing::TinyEngine());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

std::string ErrorType(const Reply& r) { return r.body["error"]["code"].get<std::string>(); }
std::string ErrorMessage(const Reply& r) { return r.body["error"]["message"].get<std::string>(); }

TEST(ServiceTest, NotReadyUntilLoaded) {
  Service s(testing::TinyConfig());
  Reply r = s.Classify(Json{{"prompt", "hi"}}, Caller{});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorType(r), "not_ready");
  EXPECT_EQ(s.Ready().status, 503);
  EXPECT_EQ(s.Health().status, 200);
  ASSERT_TRUE(s.LoadWithEngine(testing::TinyEngine()).ok());
  EXPECT_EQ(s.Ready().status, 200);
  EXPECT_EQ(s.Ready().body["constitutions"][0], "ccguard-default");
  EXPECT_EQ(s.Ready().body["compute"], "fp32");  // EngineOptions' default
  EXPECT_NE(s.Ready().body["backend"].get<std::string>().find("fp32"), std::string::npos);
}

TEST(ServiceTest, ClassifyOneItemAndABatch) {
  auto s = Loaded();
  Reply one = s->Classify(Json{{"prompt", "How do I kill a Python process?"}, {"id", 7}}, {});
  ASSERT_EQ(one.status, 200) << one.body.dump();
  const Json& o = one.body;
  for (const char* k : {"p_unsafe", "label", "threshold", "label_mass", "n_tokens", "flagged"}) {
    EXPECT_TRUE(o.contains(k)) << k;
  }
  EXPECT_EQ(o["id"], 7);
  EXPECT_EQ(o["constitution"], "ccguard-default");
  EXPECT_EQ(o["label"], o["flagged"].get<bool>() ? "unsafe" : "safe");
  Item item;
  item.prompt = "How do I kill a Python process?";
  auto direct = s->classifier("")->Score(item);
  EXPECT_NEAR(o["p_unsafe"].get<double>(), direct->p_unsafe, 1e-5);

  Json batch = Json::parse(R"({"items": [
      {"prompt": "a"}, {"prompt": "b", "response": "c"},
      {"messages": [{"role": "user", "content": "hi"}]}, {"text": "raw text"}]})");
  Reply many = s->Classify(batch, {});
  ASSERT_EQ(many.status, 200) << many.body.dump();
  ASSERT_EQ(many.body["results"].size(), 4u);
  EXPECT_GT(many.body["results"][1]["n_tokens"], many.body["results"][0]["n_tokens"]);
  EXPECT_GT(s->metrics().Value(
                "ccguard_items_total",
                {{"route", "classify"}, {"constitution", "ccguard-default"}, {"label", "safe"}}) +
                s->metrics().Value("ccguard_items_total", {{"route", "classify"},
                                                           {"constitution", "ccguard-default"},
                                                           {"label", "unsafe"}}),
            4);
}

TEST(ServiceTest, ConstitutionsByNameWithTheirThresholds) {
  ServerConfig c = testing::TinyConfig();
  const std::string path = ::testing::TempDir() + "/strict_constitution.json";
  Json j = Json::parse(Constitution::DefaultJsonText());
  j["name"] = "strict";
  std::ofstream(path) << j.dump();
  c.constitutions = {{"", "", 0.9}, {"", path, 0.0}, {"lax", "", 1.0}};
  auto s = Loaded(c);
  EXPECT_EQ(s->constitution_names(),
            (std::vector<std::string>{"ccguard-default", "strict", "lax"}));
  Reply r = s->Classify(Json{{"prompt", "x"}, {"constitution", "strict"}}, {});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["threshold"], 0.0);
  EXPECT_EQ(r.body["flagged"], true);
  Reply batch = s->Classify(Json::parse(R"({"constitution": "lax", "items": [{"prompt": "x"},
                     {"prompt": "x", "constitution": "strict"}]})"),
                            {});
  ASSERT_EQ(batch.status, 200) << batch.body.dump();
  EXPECT_EQ(batch.body["results"][0]["constitution"], "lax");
  EXPECT_EQ(batch.body["results"][0]["flagged"], false);
  EXPECT_EQ(batch.body["results"][1]["constitution"], "strict");
  Reply bad = s->Classify(Json{{"prompt", "x"}, {"constitution", "nope"}}, {});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorType(bad), "unknown_constitution");
  EXPECT_NE(ErrorMessage(bad).find("strict"), std::string::npos);
}

TEST(ServiceTest, BadInputsAre4xxWithClearMessages) {
  ServerConfig c = testing::TinyConfig();
  c.max_items_per_request = 3;
  c.max_item_tokens = 600;
  auto s = Loaded(c);
  struct Case {
    Json body;
    int status;
    const char* needle;
  };
  const Case cases[] = {
      {Json::array(), 400, "JSON object"},
      {Json{{"prompt", 5}}, 400, "'prompt' must be a string"},
      {Json{{"prompt", "a"}, {"text", "b"}}, 400, "exactly one of"},
      {Json{{"promt", "a"}}, 400, "unknown field 'promt'"},  // a typo names itself
      {Json{{"messages", Json::array()}}, 400, "non-empty"},
      {Json{{"messages", {{{"role", "user"}}}}}, 400, "'role' and 'content'"},
      {Json{{"prompt", "a"}, {"constitution", 3}}, 400,
       "'constitution' must be a non-empty string"},
      {Json{{"prompt", "a"}, {"constitution", ""}}, 400, "non-empty"},
      {Json{{"items", Json::array()}}, 400, "non-empty"},
      {Json{{"items", "x"}}, 400, "non-empty list"},
      {Json{{"items", {1}}}, 400, "items[0]: an item must be a JSON object"},
      {Json{{"items", {{{"prompt", 1}}}}}, 400, "items[0]: 'prompt' must be a string"},
      {Json{{"items", {Json{{"prompt", "a"}}}}, {"extra", 1}}, 400, "unknown field 'extra'"},
      {Json{{"items", Json::array({Json{{"prompt", "a"}}, Json{{"prompt", "a"}},
                                   Json{{"prompt", "a"}}, Json{{"prompt", "a"}}})}},
       413, "limit is 3"},
      {Json{{"prompt", std::string(5000, 'a') + " b c d e f g h i j k l m n o p"}}, 413,
       "tokens; the limit is 600"},
      {Json{{"text", ""}}, 400, "empty"},
      {Json{{"prompt", "bad \xc3"}}, 400, "UTF-8"},
  };
  for (const auto& k : cases) {
    Reply r = s->Classify(k.body, {});
    EXPECT_EQ(r.status, k.status) << k.body.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (r.status >= 400) {
      EXPECT_NE(ErrorMessage(r).find(k.needle), std::string::npos)
          << ErrorMessage(r) << " (wanted: " << k.needle << ")";
    }
  }
}

TEST(ServiceTest, ModerationsHasTheOpenAiShape) {
  auto s = Loaded();
  Reply r = s->Moderations(Json{{"input", "I want to hurt someone"}}, {});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["id"].get<std::string>().rfind("modr-", 0), 0u);
  EXPECT_EQ(r.body["model"], "ccguard/ccguard-default");
  ASSERT_EQ(r.body["results"].size(), 1u);
  const Json& res = r.body["results"][0];
  EXPECT_TRUE(res["flagged"].is_boolean());
  EXPECT_EQ(res["categories"].size(), 13u);
  EXPECT_EQ(res["category_scores"].size(), 13u);
  EXPECT_EQ(res["flagged"], res["ccguard"]["flagged"]);
  // The default constitution's openai_categories carry the verdict and p_unsafe.
  for (const auto& k : OpenAiModerationCategories()) {
    const auto& mapped = Constitution::Default().openai_categories();
    const bool set = std::find(mapped.begin(), mapped.end(), k) != mapped.end();
    EXPECT_EQ(res["categories"][k], set && res["flagged"].get<bool>()) << k;
    EXPECT_EQ(res["category_scores"][k], set ? res["ccguard"]["p_unsafe"].get<double>() : 0.0) << k;
    EXPECT_EQ(res["category_applied_input_types"][k], Json::array({"text"})) << k;
  }
  EXPECT_EQ(res["category_scores"]["violence"], res["ccguard"]["p_unsafe"]);
  EXPECT_EQ(res["category_scores"]["self-harm/intent"], 0.0);
  EXPECT_TRUE(res["ccguard"]["p_unsafe"].is_number());

  Reply arr = s->Moderations(Json::parse(R"({"model": "omni-moderation-latest",
                      "input": ["a", {"type": "text", "text": "b"}]})"),
                             {});
  ASSERT_EQ(arr.status, 200) << arr.body.dump();
  EXPECT_EQ(arr.body["results"].size(), 2u);
  Reply named = s->Moderations(Json{{"model", "ccguard-default"}, {"input", "a"}}, {});
  EXPECT_EQ(named.status, 200);

  EXPECT_EQ(s->Moderations(Json{{"input", 3}}, {}).status, 400);
  EXPECT_EQ(s->Moderations(Json{{"input", Json::array()}}, {}).status, 400);
  EXPECT_EQ(s->Moderations(Json{{"text", "a"}}, {}).status, 400);
  EXPECT_EQ(s->Moderations(Json{{"input", "a"}, {"model", "gpt-4"}}, {}).status, 400);
  Reply image = s->Moderations(
      Json::parse(R"({"input": [{"type": "image_url", "image_url": {"url": "x"}}]})"), {});
  EXPECT_EQ(image.status, 400);
  EXPECT_NE(ErrorMessage(image).find("image"), std::string::npos);
}

TEST(ServiceTest, ModerationCategoriesFollowTheVerdict) {
  // Threshold 0 flags everything, 1 (with p_unsafe < 1) nothing: the mapped
  // categories are true exactly when flagged.
  for (double threshold : {0.0, 1.0}) {
    ServerConfig c = testing::TinyConfig();
    c.constitutions = {ConstitutionSpec{"", "", threshold}};
    auto s = Loaded(c);
    Reply r = s->Moderations(Json{{"input", {"a", "b"}}}, {});
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (const Json& res : r.body["results"]) {
      const bool flagged = threshold == 0.0;
      EXPECT_EQ(res["flagged"], flagged);
      EXPECT_EQ(res["categories"]["violence"], flagged);
      EXPECT_EQ(res["categories"]["self-harm"], flagged);
      EXPECT_EQ(res["categories"]["violence/graphic"], false);
      EXPECT_EQ(res["category_scores"]["illicit"], res["ccguard"]["p_unsafe"]);
    }
  }
}

TEST(ServiceTest, SessionLifecycle) {
  ServerConfig c = testing::TinyConfig();
  c.max_sessions = 1;
  auto s = Loaded(c);
  Reply open = s->OpenSession(Json{{"prompt", "Tell me a story."}}, Caller{3, {}});
  ASSERT_EQ(open.status, 201) << open.body.dump();
  const std::string id = open.body["id"];
  EXPECT_TRUE(open.body["score"]["p_unsafe"].is_number());
  EXPECT_EQ(open.headers[0].second, "/v1/sessions/" + id);
  EXPECT_EQ(s->OpenSession(Json{{"prompt", "second"}}, Caller{3, {}}).status, 429);

  Reply a = s->Append(id, Json{{"chunk", "Once upon a time"}}, Caller{3, {}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["chunk_index"], 0);
  EXPECT_EQ(s->Append(id, Json{{"chunk", "x"}}, Caller{4, {}}).status, 404);  // other key
  EXPECT_EQ(s->Append(id, Json{{"chunk", 3}}, Caller{3, {}}).status, 400);
  EXPECT_EQ(s->Append(id, Json{{"text", "x"}}, Caller{3, {}}).status, 400);
  EXPECT_EQ(s->Append(id, Json{{"chunk", "bad \xff"}}, Caller{3, {}}).status, 400);
  EXPECT_EQ(s->GetSession(id, Caller{3, {}}).body["chunks"], 1);

  // An append while another is in progress on the same session: 409.
  auto session = s->FindSession(id, Caller{3, {}}, &a);
  {
    std::promise<void> locked, release;
    std::thread holder([&] {  // another request holds the session
      auto op = session->Lock();
      locked.set_value();
      release.get_future().wait();
    });
    locked.get_future().wait();
    Reply busy = s->Append(id, Json{{"chunk", "y"}}, Caller{3, {}});
    EXPECT_EQ(busy.status, 409);
    EXPECT_EQ(s->GetSession(id, Caller{3, {}}).status, 200);  // state does not wait
    release.set_value();
    holder.join();
  }
  Reply closed = s->CloseSession(id, Caller{3, {}});
  EXPECT_EQ(closed.status, 200);
  Reply gone = s->Append(id, Json{{"chunk", "y"}}, Caller{3, {}});
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(ErrorType(gone), "session_closed");
  EXPECT_EQ(s->CloseSession(id, Caller{3, {}}).status, 410);
  EXPECT_EQ(s->GetSession("nope", Caller{3, {}}).status, 404);
  EXPECT_EQ(s->OpenSession(Json{{"prompt", 1}}, {}).status, 400);
  EXPECT_EQ(s->OpenSession(Json{{"prompt", "x"}, {"constitution", "zz"}}, {}).status, 400);
  EXPECT_EQ(s->OpenSession(Json{{"prompt", "x"}, {"junk", 1}}, {}).status, 400);
  EXPECT_EQ(s->OpenSession(Json::object(), {}).status, 400);
}

TEST(ServiceTest, ExpiredSessionsAnswer410) {
  ServerConfig c = testing::TinyConfig();
  c.session_idle_timeout_s = 0.1;
  auto s = Loaded(c);
  Reply open = s->OpenSession(Json{{"prompt", "p"}}, {});
  ASSERT_EQ(open.status, 201);
  const std::string id = open.body["id"];
  for (int i = 0; i < 300 && s->sessions().active() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Reply r = s->Append(id, Json{{"chunk", "late"}}, {});
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(ErrorType(r), "session_expired");
  EXPECT_NE(ErrorMessage(r).find("idle timeout"), std::string::npos);
}

TEST(ServiceTest, RequestTimeoutAnswers503) {
  ServerConfig c = testing::TinyConfig();
  c.request_timeout_ms = 1;
  c.batch_window_us = 50000;  // the batcher waits longer than the timeout
  auto s = Loaded(c);
  Reply r = s->Classify(Json{{"prompt", "x"}}, {});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorType(r), "timeout");
}

TEST(ServiceTest, ShutdownRefusesNewWork) {
  auto s = Loaded();
  s->BeginShutdown();
  EXPECT_EQ(s->Classify(Json{{"prompt", "x"}}, {}).status, 503);
  EXPECT_EQ(s->Ready().status, 503);
  EXPECT_EQ(s->Health().status, 200);
}

}  // namespace
}  // namespace ccguard::server
