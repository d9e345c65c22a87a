// A model's chat template (Hugging Face): executed with the Jinja-subset
// interpreter exactly as transformers' apply_chat_template does, with
// add_generation_prompt and enable_thinking=false.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

namespace jinja {
class Template;
}

struct ChatMessage {
  std::string role;
  std::string content;
};

// Rendered text plus the byte range [begin, end) of each message's content
// inside it. Content is user- or constitution-supplied text, to be tokenized
// literally (no control tokens).
struct RenderedPrompt {
  std::string text;
  std::vector<std::pair<size_t, size_t>> content_spans;
};

// How a conversation is rendered (transformers' apply_chat_template keyword
// arguments, plus what a guard profile adds).
struct RenderOptions {
  bool add_generation_prompt = true;
  bool enable_thinking = false;
  // Extra template variables (a JSON object), e.g. Llama Guard's
  // `categories` or Granite Guardian's `guardian_config`. They may not
  // replace `messages`, `add_generation_prompt` or `enable_thinking`.
  Json variables = Json::object();
  // Pass each message's content as [{"type": "text", "text": content}] (the
  // multimodal form some templates, e.g. Llama Guard 3 1B's, read).
  bool content_parts = false;
  // Text appended after the rendered template (an assistant prefill such as
  // DynaGuard's "<answer>\n"): markup, outside every content span.
  std::string assistant_prefix;
};

class ChatTemplate {
 public:
  // From a model folder: chat_template.jinja if present, else the
  // `chat_template` of tokenizer_config.json (a string, or a list of
  // {name, template} from which "default" is used). Special token strings of
  // tokenizer_config.json (bos_token, eos_token, ...) are passed to the
  // template as transformers does.
  static Result<ChatTemplate> FromModelDir(const std::string& dir);
  // `what` names the source in errors; `special_tokens` become variables.
  static Result<ChatTemplate> FromSource(const std::string& source, const std::string& what,
                                         Json special_tokens = Json::object());

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

  // The exact text transformers would render with these options
  // (default: add_generation_prompt, enable_thinking=false), then
  // `assistant_prefix`.
  Result<std::string> Render(const std::vector<ChatMessage>& messages,
                             const RenderOptions& options = {}) const;

  // Render() plus the spans of the message contents. Fails if the template
  // transforms content in a way that hides where it ends up.
  Result<RenderedPrompt> RenderWithSpans(const std::vector<ChatMessage>& messages,
                                         const RenderOptions& options = {}) const;

  const std::string& source() const { return source_; }

 private:
  ChatTemplate() = default;
  std::string source_;
  std::string what_;
  Json special_tokens_;
  std::unique_ptr<jinja::Template> template_;
};

}  // namespace ccguard
