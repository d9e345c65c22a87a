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
//    "input_template": str,       // Jinja; adds: prompt
//    "exchange_template": str}    // Jinja; adds: prompt, response
// The system template renders the system message; the input or exchange
// template renders the user message. Content is passed as a variable, never
// spliced into template source.
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
  const Json& json() const { return json_; }

  // The system message (depends only on the constitution).
  const std::string& system_message() const { return system_message_; }
  // [system, user] messages classifying `prompt` alone (response unset) or
  // the exchange prompt → response.
  Result<std::vector<ChatMessage>> BuildMessages(const std::string& prompt,
                                                 const std::optional<std::string>& response) const;

 private:
  Constitution() = default;
  static Result<Constitution> ParseConstitution(const Json& j, const std::string& what);
  std::string name_, safe_label_ = "safe", unsafe_label_ = "unsafe";
  std::optional<double> threshold_;
  std::vector<PolicyCategory> unsafe_, safe_;
  Json json_;
  Json vars_;
  std::string system_message_;
  std::shared_ptr<const jinja::Template> input_template_, exchange_template_;
};

}  // namespace ccguard
