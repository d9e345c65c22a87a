// A compiled PCRE2 regular expression used to split text the way Hugging Face
// `tokenizers` does with its Oniguruma `SysRegex`.
//
// Patterns are compiled with PCRE2_UTF | PCRE2_UCP (so \p{L}, \p{N}, \w are
// Unicode properties) and JIT-compiled when the platform allows. For
// Oniguruma compatibility `\s` / `\S` are rewritten to the Unicode White_Space
// property (PCRE2's own \s differs, e.g. on U+180E). A compiled SplitRegex is
// immutable and safe to use from several threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ccguard {

class SplitRegex {
 public:
  // Compiles `pattern`. With `literal` the pattern is matched as a plain
  // string (tokenizer.json `{"String": ...}` patterns). `what` names the
  // field in error messages.
  static Result<std::unique_ptr<SplitRegex>> Compile(std::string_view pattern, bool literal,
                                                     const std::string& what);
  ~SplitRegex();
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // Appends the [begin, end) byte ranges of all successive non-overlapping
  // matches in `text` (valid UTF-8) to *matches, with the semantics of the
  // Rust `onig` crate's find_iter: an empty match right where the previous
  // match ended is skipped by advancing one character. Fails only if PCRE2
  // gives up (resource limits).
  Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>* matches) const;

  // The pattern as handed to PCRE2 (after the \s rewrite).
  const std::string& compiled_pattern() const { return compiled_pattern_; }
  // True when PCRE2's JIT compiled the pattern (else the interpreter runs).
  bool jit() const;

  // Rewrites `\s` and `\S` outside and `\s` inside character classes to the
  // Unicode White_Space set. Exposed for tests.
  static std::string RewriteWhitespace(std::string_view pattern);

 private:
  struct Impl;
  explicit SplitRegex(std::unique_ptr<Impl> impl, std::string compiled_pattern);
  std::unique_ptr<Impl> impl_;
  std::string compiled_pattern_;
};

}  // namespace ccguard
