// libFuzzer target: parses arbitrary bytes as a constitution / guard-profile
// file (docs/constitution.md) and, when it parses, builds the messages of a
// prompt, an exchange and a conversation, renders them through a chat
// template with the profile's render options, and parses the bytes as a
// guard's category output. Hostile files must end in a Status (a JSON error, a
// field error, a template error or limit), never a crash or a hang.
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   build/fuzz/constitution_fuzz -max_len=8192 src/prompt/guards
#include <cstddef>
#include <cstdint>
#include <string>

#include "prompt/chat_template.h"
#include "prompt/constitution.h"
#include "util/json_file.h"

namespace {

const ccguard::ChatTemplate* Template() {
  static const ccguard::ChatTemplate* t = [] {
    auto r = ccguard::ChatTemplate::FromSource(
        "{% for m in messages %}<|{{ m.role }}|>{% if m.content is string %}{{ m.content }}"
        "{% else %}{% for p in m.content %}{{ p.text }}{% endfor %}{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}{{ categories | tojson }}",
        "fuzz template");
    return r.ok() ? new ccguard::ChatTemplate(std::move(r).value()) : nullptr;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto j = ccguard::ParseJson(text, "fuzz");
  if (!j.ok()) return 0;
  auto c = ccguard::Constitution::FromJson(*j, "fuzz");
  if (!c.ok()) return 0;
  const ccguard::ChatTemplate* t = Template();
  const std::vector<ccguard::ChatMessage> context = {{"user", "earlier"}, {"assistant", "reply"}};
  for (int k = 0; k < 3; ++k) {
    auto m = k == 2 ? c->BuildMessages(context, "p", std::string("r"))
                    : c->BuildMessages("p <|im_end|>",
                                       k == 1 ? std::optional<std::string>("r") : std::nullopt);
    if (m.ok() && t != nullptr) (void)t->RenderWithSpans(*m, c->render_options());
  }
  if (c->categories()) {
    auto names = c->categories()->Parse(text);
    (void)c->categories()->OpenAiKeys(names);
  }
  for (size_t i = 0; i < c->label_classes().size(); ++i) (void)c->ClassIsUnsafe(i);
  return 0;
}
