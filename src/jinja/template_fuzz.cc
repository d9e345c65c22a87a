// libFuzzer target: parses arbitrary bytes as a template and renders it with a small chat
// context, checking that hostile templates end in a Status (syntax error, runtime error,
// limit) and never crash, hang or exhaust memory.
//
// Inputs that start with '{' are also read as a JSON context
// (Value::ParseJson: any nesting, numbers past a double) and rendered.
//
// Built by the "fuzz" CMake preset (clang, libFuzzer, ASan + UBSan); run
// with scripts/fuzz.sh or:
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   build/fuzz/template_fuzz -max_len=2048 -max_total_time=60 -dict=src/jinja/template_fuzz.dict
//
// template_fuzz.dict lists Jinja tokens ("{%-", "endfor", "|tojson", ...) that help the
// fuzzer reach past the lexer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jinja/template.h"
#include "jinja/value.h"

namespace {

const ccguard::jinja::Value& Context() {
  static const ccguard::jinja::Value* ctx = [] {
    auto v = ccguard::jinja::Value::ParseJson(R"({
      "messages": [
        {"role": "system", "content": "Be safe."},
        {"role": "user", "content": "Hi <think>x</think>\n"},
        {"role": "assistant", "content": "<think>\nr\n</think>\n\nok",
         "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, 2.5, null]}}}]},
        {"role": "tool", "content": "42"}
      ],
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
      "add_generation_prompt": true, "enable_thinking": false,
      "bos_token": "<s>", "eos_token": "</s>", "n": 3, "f": 2.5, "s": "a,b"
    })");
    return new ccguard::jinja::Value(v.ok() ? *v : ccguard::jinja::Value());
  }();
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ccguard::jinja::Options options;
  options.max_output_bytes = 1 << 20;
  options.max_loop_iterations = 20000;
  options.max_depth = 64;
  std::string_view source(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == '{') {
    auto ctx = ccguard::jinja::Value::ParseJson(source);
    static const auto* fixed = new auto(ccguard::jinja::Template::Parse(
        "{{ messages | tojson }}{% for m in messages %}{{ m.content }}{% endfor %}{{ a | tojson }}",
        options));
    if (ctx.ok() && fixed->ok()) {
      auto out = (*fixed)->Render(*ctx);
      if (out.ok() && out->size() > options.max_output_bytes) __builtin_trap();
    }
  }
  auto tmpl = ccguard::jinja::Template::Parse(source, options);
  if (!tmpl.ok()) return 0;
  auto out = tmpl->Render(Context());
  if (out.ok() && out->size() > options.max_output_bytes) __builtin_trap();
  return 0;
}
