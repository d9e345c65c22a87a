// Pre-tokenizers of a Hugging Face tokenizer.json ("pre_tokenizer" field):
// they cut normalized text into the pieces the model encodes one by one.
//
// Supported: null (the whole text is one piece), Split (Regex or String
// pattern, every SplitDelimiterBehavior, invert), ByteLevel (add_prefix_space,
// use_regex with the GPT-2 pattern; trim_offsets only affects offsets) and
// Sequence of those. Other types are refused with NotSupported.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/split_regex.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

class PreTokenizer {
 public:
  enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

  // Builds from the JSON value `j`; `what` names the field in error messages.
  static Result<std::unique_ptr<PreTokenizer>> FromJson(const Json& j, const std::string& what);
  ~PreTokenizer();

  // Replaces *pieces by the pieces each of them is cut into, in order; empty
  // pieces are dropped (as Hugging Face's PreTokenizedString does). Pieces
  // are valid UTF-8; after a ByteLevel step they are in the byte-level
  // alphabet. Thread-safe.
  Status PreTokenize(std::vector<std::string>* pieces) const;

  // True when the pipeline contains a ByteLevel step.
  bool byte_level() const;

 private:
  struct Step;
  PreTokenizer();
  static Status AddSteps(const Json& j, const std::string& what, PreTokenizer* out);
  std::vector<Step> steps_;
};

}  // namespace ccguard
