// One thing to classify, in any of the forms the CLI and the service accept
// (docs/server.md, "Items"), and its parsing from JSON.
//
//   {"prompt": str, "response"?: str}  a prompt, or the exchange prompt →
//                                      response, judged under the constitution
//   {"messages": [{role, content}...]} a conversation judged under the
//                                      constitution: its last user turn is the
//                                      prompt, a final assistant turn the
//                                      response, earlier turns the context
//   {"chat": [{role, content}...]}     rendered with the model's own chat
//                                      template exactly as Hugging Face's
//                                      apply_chat_template does (no
//                                      constitution): for reference parity
//   {"text": str}                      a pre-rendered prompt, scored as is
// plus an optional "id", echoed back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "prompt/chat_template.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

struct Item {
  enum class Kind {
    kText,      // {"text": ...}: a pre-rendered prompt, scored as is
    kChat,      // {"chat": [...]}: rendered with the model's chat template
    kExchange,  // {"prompt", "response"?} or {"messages": [...]}: rendered with the constitution
  };
  Kind kind = Kind::kExchange;
  Json id;                        // echoed back verbatim; null when absent
  std::string text;               // kText
  std::vector<ChatMessage> chat;  // kChat
  // kExchange: the turns before the judged one(s) (from "messages"; empty for
  // "prompt"), the prompt and the response (absent: input classification).
  std::vector<ChatMessage> context;
  std::string prompt;
  std::optional<std::string> response;
};

// The roles a "messages" conversation may hold.
inline constexpr const char* kConversationRoles[] = {"system", "user", "assistant"};

// The first key of the object `j` that is not an item field, if any.
std::optional<std::string> UnknownItemField(const Json& j);

// Parses one item object: {"id"?, and exactly one of "text", "chat",
// "messages", "prompt" (+ "response"?)}. Any other field is an error naming it
// (a typo must not change what is checked). Errors name the offending field.
// A "messages" conversation must end with a user turn, or with an assistant
// turn right after a user turn. Strings must be valid UTF-8 (nlohmann already
// rejects invalid UTF-8 in JSON text; this also guards items built in code).
// `max_bytes` bounds the total text size (ResourceExhausted).
Result<Item> ItemFromJson(const Json& j, size_t max_bytes = 1 << 20);

// Splits a conversation into the exchange it asks to judge: `context` (the
// earlier turns), `prompt` (the last user turn) and `response` (a final
// assistant turn, if any). Roles must be kConversationRoles; errors name the
// offending turn ("messages[2]").
Status SplitConversation(const std::vector<ChatMessage>& turns, std::vector<ChatMessage>* context,
                         std::string* prompt, std::optional<std::string>* response);

}  // namespace ccguard
