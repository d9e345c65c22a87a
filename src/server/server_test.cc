// The HTTP layer in process, over loopback: routes, the library's own errors
// as JSON, authentication, Server-Sent Events, the chunked NDJSON stream and
// graceful shutdown with a request in flight. (tests/e2e/server_test.py runs
// the real binary.)
#include "server/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <thread>

#include "server/testing.h"

namespace ccguard::server {
namespace {

class Running {
 public:
  explicit Running(ServerConfig c) {
    auto s = HttpServer::Create(c);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto port = server_->Bind();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    thread_ = std::thread([this] { status_ = server_->Run(); });
    httplib::Client cli = client();
    // Loading takes well under a second normally; allow for sanitizers.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < until) {
      auto r = cli.Get("/readyz");
      if (r && r->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Running() { Stop(); }
  Status Stop() {
    if (thread_.joinable()) {
      server_->Shutdown();
      thread_.join();
    }
    return status_;
  }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    if (!key.empty()) c.set_bearer_token_auth(key.c_str());
    return c;
  }
  int port() const { return port_; }
  HttpServer& server() { return *server_; }

 private:
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread thread_;
  Status status_;
};

Json Body(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response";
  if (!r) return Json();
  auto j = Json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  return j;
}

TEST(ServerTest, RoutesAndTheLibrarysOwnErrorsAreJson) {
  ServerConfig c = testing::TinyConfig();
  c.max_body_bytes = 4096;
  Running srv(c);
  auto cli = srv.client();
  auto ok = cli.Post("/v1/classify", R"({"prompt": "hi"})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_TRUE(Body(ok)["p_unsafe"].is_number());
  EXPECT_EQ(ok->get_header_value("Content-Type"), "application/json");

  auto expect_error = [](const httplib::Result& r, int status, const std::string& type) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    Json j = Body(r);
    EXPECT_EQ(j["error"]["code"], type) << r->body;
    EXPECT_EQ(j["error"]["type"], OpenAiErrorType(status)) << r->body;
    EXPECT_TRUE(j["error"].contains("param")) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_EQ(r->get_header_value("x-request-id").rfind("req_", 0), 0u) << r->body;
  };
  expect_error(cli.Get("/nope"), 404, "not_found");
  expect_error(cli.Get("/v1/classify"), 405, "method_not_allowed");
  expect_error(cli.Delete("/v1/moderations"), 405, "method_not_allowed");
  expect_error(cli.Post("/v1/classify", "{\"prompt\": ", "application/json"), 400, "invalid_json");
  expect_error(cli.Post("/v1/classify", "{\"prompt\": \"\xff\"}", "application/json"), 400,
               "invalid_json");
  expect_error(cli.Post("/v1/classify", "", "application/json"), 400, "invalid_json");
  expect_error(cli.Post("/v1/classify", std::string(5000, ' ') + "{}", "application/json"), 413,
               "too_large");
  // The connection is still usable after each error.
  auto again = cli.Post("/v1/classify", R"({"prompt": "hi"})", "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);

  // A request is counted once its response is written: poll until the last
  // one shows.
  const std::string classify_ok =
      "ccguard_http_requests_total{route=\"/v1/classify\",method=\"POST\",status=\"200\"} 2";
  auto metrics = cli.Get("/metrics");
  for (int i = 0; i < 500 && metrics && metrics->body.find(classify_ok) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    metrics = cli.Get("/metrics");
  }
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find(classify_ok), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("ccguard_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics->body.find("route=\"unmatched\",method=\"GET\",status=\"404\""),
            std::string::npos);
  // Refused by the library before routing, still counted under its route.
  EXPECT_NE(metrics->body.find("route=\"/v1/classify\",method=\"POST\",status=\"413\""),
            std::string::npos);
  EXPECT_TRUE(srv.Stop().ok());
}

TEST(ServerTest, ApiKeys) {
  setenv("CCGUARD_SERVER_TEST_KEYS", "k-alpha,k-beta", 1);
  ServerConfig c = testing::TinyConfig();
  c.api_keys_env = "CCGUARD_SERVER_TEST_KEYS";
  Running srv(c);
  unsetenv("CCGUARD_SERVER_TEST_KEYS");
  ASSERT_TRUE(srv.server().auth_enabled());
  auto anon = srv.client();
  EXPECT_EQ(anon.Get("/healthz")->status, 200);  // probes stay open
  EXPECT_EQ(anon.Get("/readyz")->status, 200);
  auto r = anon.Post("/v1/classify", R"({"prompt": "hi"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"ccguard\"");
  EXPECT_EQ(Body(r)["error"]["code"], "unauthorized");
  EXPECT_EQ(anon.Get("/metrics")->status, 401);
  EXPECT_EQ(
      srv.client("k-gamma").Post("/v1/classify", R"({"prompt": "hi"})", "application/json")->status,
      401);
  auto alpha = srv.client("k-alpha");
  EXPECT_EQ(alpha.Post("/v1/classify", R"({"prompt": "hi"})", "application/json")->status, 200);
  // Sessions belong to the key that opened them.
  auto opened = alpha.Post("/v1/sessions", R"({"prompt": "p"})", "application/json");
  ASSERT_EQ(opened->status, 201);
  const std::string id = Body(opened)["id"];
  auto beta = srv.client("k-beta");
  EXPECT_EQ(
      beta.Post("/v1/sessions/" + id + "/append", R"({"chunk": "x"})", "application/json")->status,
      404);
  EXPECT_EQ(
      alpha.Post("/v1/sessions/" + id + "/append", R"({"chunk": "x"})", "application/json")->status,
      200);
}

TEST(ServerTest, EventStreamAndChunkedStream) {
  Running srv(testing::TinyConfig());
  auto cli = srv.client();
  auto opened = cli.Post("/v1/sessions", R"({"prompt": "Tell me a story."})", "application/json");
  ASSERT_EQ(opened->status, 201);
  const std::string id = Body(opened)["id"];
  std::string sse;
  std::thread listener([&] {
    auto l = srv.client();
    auto r = l.Get("/v1/sessions/" + id + "/events", [&](const char* data, size_t n) {
      sse.append(data, n);
      return true;
    });
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(cli.Post("/v1/sessions/" + id + "/append", R"({"chunk": "Once"})", "application/json")
                ->status,
            200);
  // Two chunks as NDJSON on the stream route.
  auto streamed =
      cli.Post("/v1/sessions/" + id + "/stream",
               "{\"chunk\": \" upon\"}\n{\"chunk\": \" a time\"}\n", "application/x-ndjson");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 200) << streamed->body;
  EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_NE(streamed->body.find("event: score\ndata: {"), std::string::npos);
  EXPECT_NE(streamed->body.find("event: done\ndata: {"), std::string::npos);
  EXPECT_EQ(cli.Delete("/v1/sessions/" + id)->status, 200);
  listener.join();
  // Three score events (one plain append, two streamed) and the end.
  size_t scores = 0;
  for (size_t p = sse.find("event: score"); p != std::string::npos;
       p = sse.find("event: score", p + 1)) {
    ++scores;
  }
  EXPECT_EQ(scores, 3u) << sse;
  EXPECT_NE(sse.find("event: end\ndata: {\"reason\":\"closed\""), std::string::npos) << sse;
  EXPECT_NE(sse.find("id: 1\n"), std::string::npos);
  // A bad line stops the stream with a JSON error listing what was scored.
  auto s2 = Body(cli.Post("/v1/sessions", R"({"prompt": "p"})", "application/json"))["id"];
  auto bad = cli.Post("/v1/sessions/" + s2.get<std::string>() + "/stream",
                      "{\"chunk\": \"a\"}\n{\"chunk\": 5}\n{\"chunk\": \"never\"}\n",
                      "application/x-ndjson");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  Json b = Body(bad);
  EXPECT_NE(b["error"]["message"].get<std::string>().find("line 2"), std::string::npos);
  EXPECT_EQ(b["chunks_scored"], 1);
}

TEST(ServerTest, GracefulShutdownFinishesInFlightRequests) {
  ServerConfig c = testing::TinyConfig();
  c.batch_window_us = 400 * 1000;  // the request waits in the batcher for 0.4 s
  Running srv(c);
  int in_flight = -1;
  std::thread t([&] {
    auto cli = srv.client();
    auto r = cli.Post("/v1/classify", R"({"prompt": "in flight"})", "application/json");
    in_flight = r ? r->status : 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto t0 = std::chrono::steady_clock::now();
  Status st = srv.Stop();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t.join();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(in_flight, 200);
  EXPECT_LT(s, 10.0);
  // No longer accepting.
  httplib::Client late("127.0.0.1", srv.port());
  late.set_connection_timeout(1, 0);
  EXPECT_FALSE(late.Get("/healthz"));
}

TEST(ServerTest, BindErrorsAreClear) {
  Running first(testing::TinyConfig());
  ServerConfig c = testing::TinyConfig();
  c.port = first.port();
  auto second = HttpServer::Create(c);
  ASSERT_TRUE(second.ok());
  auto port = (*second)->Bind();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("cannot listen on 127.0.0.1:"), std::string::npos);
}

TEST(ServerTest, LoadFailureEndsRun) {
  ServerConfig c = testing::TinyConfig();
  c.model = "/nonexistent/model";
  auto s = HttpServer::Create(c);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Bind().ok());
  Status st = (*s)->Run();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/model"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::server
