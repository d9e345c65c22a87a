// One thing to classify, in any of the three forms the CLI and the service
// accept, and its parsing from JSON.
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
    kMessages,  // {"messages": [...]}: rendered with the chat template
    kExchange,  // {"prompt": ..., "response"?: ...}: rendered with the constitution
  };
  Kind kind = Kind::kExchange;
  Json id;  // echoed back verbatim; null when absent
  std::string text;
  std::vector<ChatMessage> messages;
  std::string prompt;
  std::optional<std::string> response;
};

// Parses one item object: {"id"?, and exactly one of "text", "messages",
// "prompt" (+ "response"?)}. Any other field is an error naming it (a typo
// must not change what is checked). Errors name the offending field. Strings must be
// valid UTF-8 (nlohmann already rejects invalid UTF-8 in JSON text; this also
// guards items built in code). `max_bytes` bounds the total text size.
Result<Item> ItemFromJson(const Json& j, size_t max_bytes = 1 << 20);

}  // namespace ccguard
