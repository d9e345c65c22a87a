#include "util/json_file.h"

#include <set>
#include <vector>

#include "util/mapped_file.h"

namespace ccguard {
namespace {

// Thrown by the parser callback to stop at the first limit broken.
struct LimitBroken {
  std::string message;
};

std::string Quote(const std::string& s) { return DumpJson(Json(s)); }

}  // namespace

Result<Json> ParseJson(std::string_view text, const std::string& what) {
  // One set of keys per open container (none for arrays): nlohmann's parser
  // is iterative, and this callback refuses the first container past the
  // depth limit, so no later recursive walk (dump, copy, FromJson) can go deep.
  std::vector<std::set<std::string>> keys;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          throw LimitBroken{"JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
        }
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get_ref<const std::string&>()).second) {
          throw LimitBroken{"duplicate key " + Quote(parsed.get_ref<const std::string&>())};
        }
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), on_event);
  } catch (const LimitBroken& e) {
    return Status::InvalidArgument(what + ": " + e.message);
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument(what + ": malformed JSON at byte " + std::to_string(e.byte) +
                                   ": " + e.what());
  } catch (const Json::out_of_range& e) {
    return Status::InvalidArgument(what + ": number out of range: " + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(what + ": cannot parse JSON: " + e.what());
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto r = ParseJson(text, path);
  if (!r.ok()) return Status::Corruption(r.status().message());
  return r;
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ccguard
