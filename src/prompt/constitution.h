// A constitution: the written policy a guard model applies, the label words,
// and the templates that turn an input (a prompt) or an exchange (a prompt
// and a response) into the chat messages sent to the model.
//
// File format (JSON), documented in docs/constitution.md:
//   {"name": str, "description": str?,
//    "labels": {"safe": "safe", "unsafe": "unsafe"}?,
//    "threshold": number?,                       // calibrated flag threshold
//    "unsafe_categories": [{"name", "description"}],
//    "safe_categories":   [{"name", "description"}]?,
//    "system_template": str,      // Jinja; variables: name, description, labels,
//                                 //   unsafe_categories, safe_categories
//    "input_template": str,       // Jinja; adds: prompt, context
//    "exchange_template": str,    // Jinja; adds: prompt, response, context
//    "openai_categories": [str]?} // OpenAI moderation categories a flag sets
// The system template renders the system message; the input or exchange
// template renders the user message. Content is passed as a variable, never
// spliced into template source. `context` is the list of earlier turns of a
// conversation ([{"role", "content"}], empty for a lone prompt or exchange);
// a template that ignores it cannot judge a conversation with earlier turns
// (BuildMessages refuses rather than drop them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prompt/chat_template.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

namespace jinja {
class Template;
}

// The 13 category keys of OpenAI's moderation API (omni-moderation), in
// OpenAI's order.
const std::vector<std::string>& OpenAiModerationCategories();

struct PolicyCategory {
  std::string name;
  std::string description;
};

class Constitution {
 public:
  static Result<Constitution> FromJson(const Json& j, const std::string& what);
  static Result<Constitution> FromFile(const std::string& path);
  // The embedded default constitution written for ccguard.
  static const Constitution& Default();
  static const std::string& DefaultJsonText();

  Constitution(Constitution&&) noexcept;
  Constitution& operator=(Constitution&&) noexcept;
  Constitution(const Constitution&);
  ~Constitution();

  const std::string& name() const { return name_; }
  const std::string& safe_label() const { return safe_label_; }
  const std::string& unsafe_label() const { return unsafe_label_; }
  std::optional<double> threshold() const { return threshold_; }
  const std::vector<PolicyCategory>& unsafe_categories() const { return unsafe_; }
  const std::vector<PolicyCategory>& safe_categories() const { return safe_; }
  // The OpenAI moderation categories a flag of this constitution sets (each
  // scored with p_unsafe by /v1/moderations); each one of
  // OpenAiModerationCategories(), no duplicates; empty when not given.
  const std::vector<std::string>& openai_categories() const { return openai_categories_; }
  const Json& json() const { return json_; }

  // The system message (depends only on the constitution).
  const std::string& system_message() const { return system_message_; }
  // [system, user] messages classifying `prompt` alone (response unset) or
  // the exchange prompt → response, after the earlier turns `context`.
  // InvalidArgument when `context` is not empty and the template in use does
  // not render it.
  Result<std::vector<ChatMessage>> BuildMessages(const std::vector<ChatMessage>& context,
                                                 const std::string& prompt,
                                                 const std::optional<std::string>& response) const;
  Result<std::vector<ChatMessage>> BuildMessages(const std::string& prompt,
                                                 const std::optional<std::string>& response) const {
    return BuildMessages({}, prompt, response);
  }
  // Whether the input (exchange) template renders `context`.
  bool input_uses_context() const { return input_uses_context_; }
  bool exchange_uses_context() const { return exchange_uses_context_; }

 private:
  Constitution() = default;
  static Result<Constitution> ParseConstitution(const Json& j, const std::string& what);
  std::string name_, safe_label_ = "safe", unsafe_label_ = "unsafe";
  std::optional<double> threshold_;
  std::vector<PolicyCategory> unsafe_, safe_;
  std::vector<std::string> openai_categories_;
  Json json_;
  Json vars_;
  std::string system_message_;
  std::shared_ptr<const jinja::Template> input_template_, exchange_template_;
  bool input_uses_context_ = false, exchange_uses_context_ = false;
};

}  // namespace ccguard
