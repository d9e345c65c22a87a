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
// A guard profile is the same file with the fields that describe another
// guard model's request and answer (docs/constitution.md, "Guard profiles"):
//    "format": "constitution" | "chat_template",
//    "template_variables": {...}?, "content_parts": bool?, "trim_content": bool?,
//    "assistant_prefix": str?, "enable_thinking": bool?,
//    "label_classes": [{"name", "strings": [str], "unsafe": true|false|"strict"}],
//    "label_match": "single_token" | "first_token" | "decoded_word",
//    "mode": "strict" | "loose", "models": [repo id],
//    "categories": {"max_new_tokens", "line", "strip_prefix", "separator",
//                   "none": [str], "names": [str], "openai": {name: [key]}}?
// In "constitution" format the system template renders the system message and
// the input or exchange template the user message. In "chat_template" format
// the conversation itself (earlier turns, the prompt as a user turn, the
// response as an assistant turn) goes to the model's own chat template, which
// carries the guard's policy; no templates are given. Content is passed as a variable, never
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

// One class of the guard's answer: the label strings whose next-token
// probability it sums, and which verdict it counts toward.
struct LabelClass {
  enum class Side { kSafe, kUnsafe, kStrict };  // kStrict: unsafe in strict mode, else safe
  std::string name;
  std::vector<std::string> strings;
  Side side = Side::kSafe;
};

// How a label string becomes token ids (resolved by the classifier against
// the model's tokenizer):
//   kSingleToken  the string must be exactly one token (the constitution form)
//   kFirstToken   the first token of its encoding (DynaGuard, Qwen3Guard)
//   kDecodedWord  every vocabulary token that decodes, stripped and
//                 lower-cased, to the string lower-cased (Granite Guardian)
enum class LabelMatch { kSingleToken, kFirstToken, kDecodedWord };

enum class PromptFormat { kConstitution, kChatTemplate };

// How a guard that names the violated categories after its label writes
// them (Qwen3Guard: " Unsafe\nCategories: Violent, PII"; Llama Guard:
// "unsafe\nS1,S10"): the text generated greedily after the prompt, at most
// max_new_tokens tokens, line `line` (0: the label's line) with
// `strip_prefix` removed, split at `separator`, each entry trimmed; entries
// in `none` mean no category; with `names`, only those names are kept.
// `openai` maps a category to the OpenAI moderation keys it sets.
struct CategorySpec {
  int max_new_tokens = 32;
  int line = 1;
  std::string strip_prefix;
  std::string separator = ",";
  std::vector<std::string> none;
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::vector<std::string>>> openai;

  // The categories written in `generated` (the text after the prompt), in
  // the order written, without repeats.
  std::vector<std::string> Parse(const std::string& generated) const;
  // The OpenAI moderation keys `categories` set (OpenAiModerationCategories
  // order).
  std::vector<std::string> OpenAiKeys(const std::vector<std::string>& categories) const;
};

class Constitution {
 public:
  static Result<Constitution> FromJson(const Json& j, const std::string& what);
  static Result<Constitution> FromFile(const std::string& path);
  // The embedded default constitution written for ccguard.
  static const Constitution& Default();
  static const std::string& DefaultJsonText();

  // A built-in guard profile (BuiltinNames()) or a profile/constitution file:
  // `spec` is a built-in name or a path, optionally followed by ":strict" or
  // ":loose" (overrides "mode"). Empty: Default(). NotFound names the
  // built-ins when `spec` is neither.
  static Result<Constitution> Load(const std::string& spec);
  // The names of the built-in profiles, "ccguard-default" first.
  static std::vector<std::string> BuiltinNames();
  // The JSON text of built-in profile `name` (nullptr if there is none).
  static const char* BuiltinJsonText(const std::string& name);
  // The built-in profile a Load() `spec` names (its ":strict"/":loose"
  // suffix removed), or "" when it names a file or nothing.
  static std::string BuiltinName(const std::string& spec);
  // The built-in profile made for the model `model_ref` (a repo id, a folder
  // or a Hugging Face cache snapshot path whose org/name is listed in a
  // profile's "models", case-insensitively), or "" when none is.
  static std::string BuiltinForModel(const std::string& model_ref);

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

  PromptFormat format() const { return format_; }
  // Template variables, content form and assistant prefix for the chat
  // template (in both formats).
  const RenderOptions& render_options() const { return render_options_; }
  // The answer classes (the constitution form: {safe word} and {unsafe word}).
  const std::vector<LabelClass>& label_classes() const { return classes_; }
  LabelMatch label_match() const { return label_match_; }
  // Strict mode: kStrict classes count as unsafe.
  bool strict() const { return strict_; }
  // Whether class `i` counts toward unsafe in this mode.
  bool ClassIsUnsafe(size_t i) const;
  // How the guard names categories after its label (none: it does not).
  const std::optional<CategorySpec>& categories() const { return categories_; }
  // Repo ids of the models this profile is made for.
  const std::vector<std::string>& models() const { return models_; }

  // The system message (depends only on the constitution).
  const std::string& system_message() const { return system_message_; }
  // The messages classifying `prompt` alone (response unset) or the exchange
  // prompt → response, after the earlier turns `context`: [system, user] in
  // constitution format; context + [user: prompt] (+ [assistant: response])
  // in chat_template format. InvalidArgument when `context` is not empty and
  // the template in use does not render it.
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
  Status ParseProfile(const Json& j, const std::string& what);
  std::string name_, safe_label_ = "safe", unsafe_label_ = "unsafe";
  PromptFormat format_ = PromptFormat::kConstitution;
  RenderOptions render_options_;
  std::vector<LabelClass> classes_;
  LabelMatch label_match_ = LabelMatch::kSingleToken;
  bool strict_ = true;
  bool trim_content_ = false;
  std::optional<CategorySpec> categories_;
  std::vector<std::string> models_;
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
