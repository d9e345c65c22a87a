#include "scoring/item.h"

#include "util/utf8.h"

namespace ccguard {
namespace {

constexpr const char* kFields[] = {"id", "text", "chat", "messages", "prompt", "response"};

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

// A list of {"role": str, "content": str} (nothing else) under `key`.
Result<std::vector<ChatMessage>> GetTurns(const Json& j, const char* key, size_t* bytes) {
  const Json& ms = j[key];
  if (!ms.is_array() || ms.empty()) {
    return Status::InvalidArgument(std::string("'") + key + "' must be a non-empty list");
  }
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < ms.size(); ++i) {
    const std::string name = std::string(key) + "[" + std::to_string(i) + "]";
    if (!ms[i].is_object() || !ms[i].contains("role") || !ms[i].contains("content")) {
      return Status::InvalidArgument(name + " must be an object with 'role' and 'content'");
    }
    for (const auto& [k, v] : ms[i].items()) {
      if (k != "role" && k != "content") {
        return Status::InvalidArgument(name + ": unknown field '" + k +
                                       "' (a turn has: role, content)");
      }
    }
    ChatMessage m;
    CCG_ASSIGN_OR_RETURN(m.role, GetString(ms[i], "role", name + "."));
    CCG_ASSIGN_OR_RETURN(m.content, GetString(ms[i], "content", name + "."));
    *bytes += m.content.size();
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::optional<std::string> UnknownItemField(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* f : kFields) known = known || it.key() == f;
    if (!known) return it.key();
  }
  return std::nullopt;
}

Status SplitConversation(const std::vector<ChatMessage>& turns, std::vector<ChatMessage>* context,
                         std::string* prompt, std::optional<std::string>* response) {
  for (size_t i = 0; i < turns.size(); ++i) {
    bool known = false;
    for (const char* r : kConversationRoles) known = known || turns[i].role == r;
    if (!known) {
      return Status::InvalidArgument("messages[" + std::to_string(i) + "]: role '" + turns[i].role +
                                     "' is not one of system, user, assistant (to render other "
                                     "roles with the model's chat template, use 'chat')");
    }
  }
  const size_t last = turns.size() - 1;
  size_t user = last;
  response->reset();
  if (turns[last].role == "assistant") {
    if (last == 0 || turns[last - 1].role != "user") {
      return Status::InvalidArgument(
          "messages[" + std::to_string(last) +
          "]: a final assistant turn (the response to judge) must follow a user turn");
    }
    *response = turns[last].content;
    user = last - 1;
  } else if (turns[last].role != "user") {
    return Status::InvalidArgument("messages[" + std::to_string(last) +
                                   "]: the conversation must end with a user turn (a prompt to "
                                   "judge) or an assistant turn (a response to judge), not '" +
                                   turns[last].role + "'");
  }
  *prompt = turns[user].content;
  context->assign(turns.begin(), turns.begin() + static_cast<std::ptrdiff_t>(user));
  return Status::Ok();
}

Result<Item> ItemFromJson(const Json& j, size_t max_bytes) {
  if (!j.is_object()) {
    return Status::InvalidArgument("an item must be a JSON object, got " +
                                   std::string(j.type_name()));
  }
  // Unknown fields are errors: a typo ("respnse") must not turn an exchange
  // check into a prompt check.
  if (auto unknown = UnknownItemField(j)) {
    return Status::InvalidArgument("unknown field '" + *unknown +
                                   "' (an item has: id, text, chat, messages, prompt, response)");
  }
  Item item;
  if (auto it = j.find("id"); it != j.end()) item.id = *it;
  const int forms = static_cast<int>(j.contains("text")) + static_cast<int>(j.contains("chat")) +
                    static_cast<int>(j.contains("messages")) +
                    static_cast<int>(j.contains("prompt"));
  if (forms != 1) {
    return Status::InvalidArgument(
        "an item needs exactly one of 'text', 'chat', 'messages' or 'prompt' (with optional "
        "'response')");
  }
  if (j.contains("response") && !j.contains("prompt")) {
    return Status::InvalidArgument(
        "'response' goes with 'prompt' (a conversation in "
        "'messages' ends with its response)");
  }
  size_t bytes = 0;
  if (j.contains("text")) {
    item.kind = Item::Kind::kText;
    CCG_ASSIGN_OR_RETURN(item.text, GetString(j, "text", ""));
    bytes = item.text.size();
  } else if (j.contains("chat")) {
    item.kind = Item::Kind::kChat;
    CCG_ASSIGN_OR_RETURN(item.chat, GetTurns(j, "chat", &bytes));
  } else if (j.contains("messages")) {
    item.kind = Item::Kind::kExchange;
    CCG_ASSIGN_OR_RETURN(auto turns, GetTurns(j, "messages", &bytes));
    CCG_RETURN_IF_ERROR(SplitConversation(turns, &item.context, &item.prompt, &item.response));
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
