#include "scoring/item.h"

#include "util/utf8.h"

namespace ccguard {
namespace {

Result<std::string> GetString(const Json& j, const char* key, const std::string& where) {
  const Json& v = j.at(key);
  if (!v.is_string()) {
    return Status::InvalidArgument(where + "'" + key + "' must be a string, got " +
                                   std::string(v.type_name()));
  }
  std::string s = v.get<std::string>();
  CCG_RETURN_IF_ERROR(CheckUtf8(s, where + "'" + key + "'"));
  return s;
}

}  // namespace

Result<Item> ItemFromJson(const Json& j, size_t max_bytes) {
  if (!j.is_object()) {
    return Status::InvalidArgument("an item must be a JSON object, got " +
                                   std::string(j.type_name()));
  }
  // Unknown fields are errors: a typo ("respnse") must not turn an exchange
  // check into a prompt check.
  static constexpr const char* kFields[] = {"id", "text", "messages", "prompt", "response"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* f : kFields) known = known || it.key() == f;
    if (!known) {
      return Status::InvalidArgument("unknown field '" + it.key() +
                                     "' (an item has: id, text, messages, prompt, response)");
    }
  }
  Item item;
  if (auto it = j.find("id"); it != j.end()) item.id = *it;
  const int forms = static_cast<int>(j.contains("text")) +
                    static_cast<int>(j.contains("messages")) +
                    static_cast<int>(j.contains("prompt"));
  if (forms != 1) {
    return Status::InvalidArgument(
        "an item needs exactly one of 'text', 'messages' or 'prompt' (with optional "
        "'response')");
  }
  size_t bytes = 0;
  if (j.contains("text")) {
    item.kind = Item::Kind::kText;
    CCG_ASSIGN_OR_RETURN(item.text, GetString(j, "text", ""));
    bytes = item.text.size();
  } else if (j.contains("messages")) {
    item.kind = Item::Kind::kMessages;
    const Json& ms = j["messages"];
    if (!ms.is_array() || ms.empty()) {
      return Status::InvalidArgument("'messages' must be a non-empty list");
    }
    for (size_t i = 0; i < ms.size(); ++i) {
      const std::string where = "messages[" + std::to_string(i) + "].";
      if (!ms[i].is_object() || !ms[i].contains("role") || !ms[i].contains("content")) {
        return Status::InvalidArgument(where.substr(0, where.size() - 1) +
                                       " must be an object with 'role' and 'content'");
      }
      ChatMessage m;
      CCG_ASSIGN_OR_RETURN(m.role, GetString(ms[i], "role", where));
      CCG_ASSIGN_OR_RETURN(m.content, GetString(ms[i], "content", where));
      bytes += m.content.size();
      item.messages.push_back(std::move(m));
    }
  } else {
    item.kind = Item::Kind::kExchange;
    CCG_ASSIGN_OR_RETURN(item.prompt, GetString(j, "prompt", ""));
    bytes = item.prompt.size();
    if (auto it = j.find("response"); it != j.end() && !it->is_null()) {
      CCG_ASSIGN_OR_RETURN(std::string r, GetString(j, "response", ""));
      bytes += r.size();
      item.response = std::move(r);
    }
  }
  if (bytes > max_bytes) {
    return Status::ResourceExhausted("item text is " + std::to_string(bytes) +
                                     " bytes; the limit is " + std::to_string(max_bytes));
  }
  return item;
}

}  // namespace ccguard
