#include "prompt/chat_template.h"

#include <filesystem>

#include "jinja/template.h"
#include "jinja/value.h"
#include "util/mapped_file.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

// Marker that stands for message i while locating content in the output.
std::string Marker(size_t i) {
  return "\xEE\x80\x80"
         "ccguard-content-" +
         std::to_string(i) + "\xEE\x80\x81";
}

}  // namespace

ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

Result<ChatTemplate> ChatTemplate::FromSource(const std::string& source, const std::string& what,
                                              Json special_tokens) {
  auto t = jinja::Template::Parse(source);
  if (!t.ok()) return t.status().WithContext(what + ": chat template");
  ChatTemplate ct;
  ct.source_ = source;
  ct.what_ = what;
  ct.special_tokens_ = std::move(special_tokens);
  ct.template_ = std::make_unique<jinja::Template>(std::move(t).value());
  return ct;
}

Result<ChatTemplate> ChatTemplate::FromModelDir(const std::string& dir) {
  const fs::path cfg_path = fs::path(dir) / "tokenizer_config.json";
  const fs::path jinja_path = fs::path(dir) / "chat_template.jinja";
  Json cfg = Json::object();
  std::error_code ec;
  if (fs::exists(cfg_path, ec)) {
    CCG_ASSIGN_OR_RETURN(cfg, ReadJsonFile(cfg_path.string()));
    if (!cfg.is_object()) {
      return Status::Corruption(cfg_path.string() + ": must be a JSON object");
    }
  }
  // Special tokens as transformers passes them: strings, or AddedToken dicts.
  Json specials = Json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token",
                          "cls_token", "mask_token"}) {
    auto it = cfg.find(key);
    if (it == cfg.end()) continue;
    if (it->is_string()) specials[key] = *it;
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      specials[key] = (*it)["content"];
    }
  }
  if (cfg.contains("additional_special_tokens")) {
    specials["additional_special_tokens"] = cfg["additional_special_tokens"];
  }
  if (fs::exists(jinja_path, ec)) {
    CCG_ASSIGN_OR_RETURN(std::string src, ReadFileToString(jinja_path.string()));
    return FromSource(src, jinja_path.string(), specials);
  }
  auto it = cfg.find("chat_template");
  if (it == cfg.end() || it->is_null()) {
    return Status::NotFound(dir +
                            ": no chat template (neither chat_template.jinja nor "
                            "tokenizer_config.json's chat_template)");
  }
  if (it->is_string()) return FromSource(it->get<std::string>(), cfg_path.string(), specials);
  if (it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template") &&
          e["template"].is_string()) {
        return FromSource(e["template"].get<std::string>(), cfg_path.string(), specials);
      }
    }
    return Status::NotFound(cfg_path.string() + ": chat_template list has no 'default' entry");
  }
  return Status::Corruption(cfg_path.string() + ": chat_template must be a string or a list");
}

Result<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages,
                                         const RenderOptions& options) const {
  Json ctx = special_tokens_;
  if (!options.variables.is_object()) {
    return Status::InvalidArgument(what_ + ": template variables must be a JSON object");
  }
  for (const auto& [k, v] : options.variables.items()) {
    if (k == "messages" || k == "add_generation_prompt" || k == "enable_thinking") {
      return Status::InvalidArgument(what_ + ": template variable '" + k +
                                     "' is set by the renderer and cannot be given");
    }
    ctx[k] = v;
  }
  Json msgs = Json::array();
  for (const auto& m : messages) {
    Json content = m.content;
    if (options.content_parts) content = Json::array({{{"type", "text"}, {"text", m.content}}});
    msgs.push_back({{"role", m.role}, {"content", std::move(content)}});
  }
  ctx["messages"] = std::move(msgs);
  ctx["add_generation_prompt"] = options.add_generation_prompt;
  ctx["enable_thinking"] = options.enable_thinking;
  auto r = template_->Render(jinja::Value::FromJson(ctx));
  if (!r.ok()) return r.status().WithContext(what_ + ": rendering the chat template");
  r->append(options.assistant_prefix);
  return r;
}

Result<RenderedPrompt> ChatTemplate::RenderWithSpans(const std::vector<ChatMessage>& messages,
                                                     const RenderOptions& options) const {
  RenderedPrompt out;
  CCG_ASSIGN_OR_RETURN(out.text, Render(messages, options));
  // Render again with markers in place of the contents; where the template
  // copies content verbatim, substituting it back reproduces the real text.
  std::vector<ChatMessage> marked = messages;
  for (size_t i = 0; i < marked.size(); ++i) marked[i].content = Marker(i);
  CCG_ASSIGN_OR_RETURN(std::string skeleton, Render(marked, options));
  std::string rebuilt;
  size_t pos = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string mk = Marker(i);
    size_t at = skeleton.find(mk, pos);
    if (at == std::string::npos || skeleton.find(mk, at + mk.size()) != std::string::npos) {
      if (messages[i].content.empty()) continue;
      return Status::NotSupported(what_ +
                                  ": the chat template does not copy the content of "
                                  "message " +
                                  std::to_string(i) +
                                  " verbatim, so it cannot be tokenized literally; use "
                                  "--hf-special-tokens to tokenize the rendered text as is");
    }
    rebuilt.append(skeleton, pos, at - pos);
    out.content_spans.emplace_back(rebuilt.size(), rebuilt.size() + messages[i].content.size());
    rebuilt += messages[i].content;
    pos = at + mk.size();
  }
  rebuilt.append(skeleton, pos, std::string::npos);
  if (rebuilt != out.text) {
    return Status::NotSupported(what_ +
                                ": the chat template transforms message content, so it "
                                "cannot be tokenized literally; use --hf-special-tokens");
  }
  return out;
}

}  // namespace ccguard
