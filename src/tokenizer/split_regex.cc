#include "tokenizer/split_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace ccguard {
namespace {

// Unicode White_Space (as Oniguruma's \s), written as class items.
constexpr char kWhiteSpaceItems[] =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

constexpr size_t kJitStackMax = 8 << 20;

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buf[256];
  int n = pcre2_get_error_message(code, buf, sizeof(buf));
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// One JIT stack per thread, handed to PCRE2 through the match context's
// callback, so one compiled pattern serves any number of threads.
pcre2_jit_stack* ThreadJitStack(void*) {
  struct Holder {
    pcre2_jit_stack* stack = nullptr;
    ~Holder() {
      if (stack != nullptr) pcre2_jit_stack_free(stack);
    }
  };
  thread_local Holder holder;
  if (holder.stack == nullptr)
    holder.stack = pcre2_jit_stack_create(32 << 10, kJitStackMax, nullptr);
  return holder.stack;  // nullptr makes PCRE2 fall back to a 32 KiB machine stack
}

}  // namespace

struct SplitRegex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* mcontext = nullptr;
  bool jit = false;
  ~Impl() {
    if (mcontext != nullptr) pcre2_match_context_free(mcontext);
    if (code != nullptr) pcre2_code_free(code);
  }
};

SplitRegex::SplitRegex(std::unique_ptr<Impl> impl, std::string compiled_pattern)
    : impl_(std::move(impl)), compiled_pattern_(std::move(compiled_pattern)) {}

SplitRegex::~SplitRegex() = default;

bool SplitRegex::jit() const { return impl_->jit; }

std::string SplitRegex::RewriteWhitespace(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      if (e == 'Q') {  // \Q...\E: copy verbatim
        size_t end = p.find("\\E", i + 2);
        size_t stop = end == std::string_view::npos ? p.size() : end + 2;
        out.append(p.substr(i, stop - i));
        i = stop;
        continue;
      }
      if (e == 's') {
        if (in_class) {
          out += kWhiteSpaceItems;
        } else {
          out += "[";
          out += kWhiteSpaceItems;
          out += "]";
        }
        i += 2;
        continue;
      }
      if (e == 'S' && !in_class) {
        out += "[^";
        out += kWhiteSpaceItems;
        out += "]";
        i += 2;
        continue;
      }
      out.append(p.substr(i, 2));
      i += 2;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out.push_back(c);
      ++i;
      if (i < p.size() && p[i] == '^') out.push_back(p[i++]);
      if (i < p.size() && p[i] == ']') out.push_back(p[i++]);  // literal ']' first in class
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      size_t end = p.find(":]", i + 2);
      if (end != std::string_view::npos) {
        out.append(p.substr(i, end + 2 - i));
        i = end + 2;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out.push_back(c);
    ++i;
  }
  return out;
}

Result<std::unique_ptr<SplitRegex>> SplitRegex::Compile(std::string_view pattern, bool literal,
                                                        const std::string& what) {
  std::string compiled = literal ? std::string(pattern) : RewriteWhitespace(pattern);
  // PCRE2_LITERAL admits only a few other options; UCP is meaningless there.
  uint32_t options = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  auto impl = std::make_unique<Impl>();
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(),
                             options, &err, &err_offset, nullptr);
  if (impl->code == nullptr) {
    return Status::Corruption(what + ": cannot compile regex at offset " +
                              std::to_string(err_offset) + ": " + Pcre2Message(err));
  }
  impl->jit = pcre2_jit_compile(impl->code, PCRE2_JIT_COMPLETE) == 0;
  impl->mcontext = pcre2_match_context_create(nullptr);
  if (impl->mcontext == nullptr) return Status::ResourceExhausted(what + ": out of memory");
  if (impl->jit) pcre2_jit_stack_assign(impl->mcontext, &ThreadJitStack, nullptr);
  return std::unique_ptr<SplitRegex>(new SplitRegex(std::move(impl), std::move(compiled)));
}

Status SplitRegex::FindAll(std::string_view text,
                           std::vector<std::pair<size_t, size_t>>* matches) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  if (md == nullptr) return Status::ResourceExhausted("regex match: out of memory");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t last_end = 0;
  bool have_last_match = false;
  size_t last_match_end = 0;
  while (last_end <= n) {
    int rc = pcre2_match(impl_->code, subject, n, last_end, PCRE2_NO_UTF_CHECK, md.get(),
                         impl_->mcontext);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return Status::ResourceExhausted("regex match failed at byte " + std::to_string(last_end) +
                                       ": " + Pcre2Message(rc));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    size_t s = ov[0], e = ov[1];
    if (s == e && have_last_match && last_match_end == e) {
      // Skip an empty match glued to the previous one: advance one character.
      if (last_end >= n) break;
      ++last_end;
      while (last_end < n && (static_cast<unsigned char>(text[last_end]) & 0xC0) == 0x80) {
        ++last_end;
      }
      continue;
    }
    last_end = e;
    have_last_match = true;
    last_match_end = e;
    matches->emplace_back(s, e);
  }
  return Status::Ok();
}

}  // namespace ccguard
