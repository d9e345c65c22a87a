// libFuzzer target: request bodies from the network, as the HTTP routes pass
// them to the service. The first byte picks the endpoint (classify,
// moderations, open session, append to a session); the rest is parsed as JSON
// (an unparsable body is what routes.cc answers 400 itself) and handed to the
// Service running the tiny fixture model. Every answer must be a JSON reply
// with a status: 2xx, or 4xx/5xx with {"error": {"type", "message"}}; no
// crash, no hang, no unbounded memory.
//
// JSON bodies go through ccguard::ParseJson exactly as routes.cc does, so
// deep nesting, numbers past a double and duplicate keys reach its limits
// (an error must be InvalidArgument with a message: the routes answer 400).
//
// Built by the "fuzz" CMake preset (clang, libFuzzer, ASan + UBSan), which
// unpacks the fixtures into build/fuzz/fixtures; run with scripts/fuzz.sh or:
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   build/fuzz/service_fuzz -max_len=4096 -max_total_time=60 -dict=src/server/service_fuzz.dict
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "server/service.h"
#include "server/testing.h"
#include "util/json_file.h"

namespace {

using ccguard::Json;
using ccguard::server::Caller;
using ccguard::server::Reply;
using ccguard::server::Service;

Service* TheService() {
  static Service* s = [] {
    ccguard::server::ServerConfig c = ccguard::server::testing::TinyConfig();
    c.max_item_tokens = 512;  // bounded work per input
    c.session_max_tokens = 512;
    c.max_sessions = 4;
    auto* svc = new Service(c);
    if (!svc->LoadWithEngine(ccguard::server::testing::TinyEngine()).ok()) std::abort();
    return svc;
  }();
  return s;
}

void Check(const Reply& r) {
  if (r.status < 200 || r.status > 599) std::abort();
  if (r.status >= 400) {
    if (!r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_object() ||
        !r.body["error"].contains("type") || !r.body["error"].contains("code") ||
        !r.body["error"].contains("message")) {
      std::abort();
    }
  }
  (void)r.body.dump();  // must serialise (valid UTF-8 in every string)
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto parsed = ccguard::ParseJson(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), "request body");
  if (!parsed.ok()) {
    if (parsed.status().code() != ccguard::Status::Code::kInvalidArgument ||
        parsed.status().message().empty()) {
      std::abort();
    }
    return 0;
  }
  const Json body = std::move(parsed).value();
  Service* s = TheService();
  const Caller caller;
  switch (data[0] % 4) {
    case 0:
      Check(s->Classify(body, caller));
      break;
    case 1:
      Check(s->Moderations(body, caller));
      break;
    case 2: {
      Reply open = s->OpenSession(body, caller);
      Check(open);
      if (open.ok() && open.body.contains("id")) {
        const std::string id = open.body["id"].get<std::string>();
        Check(s->Append(id, Json{{"chunk", "and then"}}, caller));
        Check(s->CloseSession(id, caller));
      }
      break;
    }
    default: {
      Reply open = s->OpenSession(Json{{"prompt", "Tell me a story"}}, caller);
      Check(open);
      if (open.ok()) {
        const std::string id = open.body["id"].get<std::string>();
        Check(s->Append(id, body, caller));
        Check(s->CloseSession(id, caller));
      }
      break;
    }
  }
  return 0;
}
