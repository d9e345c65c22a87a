// A Hugging Face `tokenizers`-compatible tokenizer for tokenizer.json files of
// the Qwen2 / Qwen3 family: added tokens, Unicode normalizer, Split /
// ByteLevel pre-tokenizers, byte-level BPE model and ByteLevel decoder.
//
// Encoding follows Hugging Face exactly: added tokens are cut out of the raw
// text first, each remaining segment is normalized, pre-tokenized and
// BPE-encoded. Components this class does not implement are refused at load
// time with NotSupported naming the field, never silently approximated.
// "truncation", "padding" and "post_processor" are ignored: Encode has
// add_special_tokens=false semantics and never truncates or pads.
//
// Added-token ids are the ones Hugging Face (0.23) gives: the vocabulary id
// if the content is in the model vocabulary, else N, N + 1, ... in file
// order, N being the number of vocabulary entries. For a consistent file
// (such as Qwen's) these are the "id" fields. Like Hugging Face, IdToToken and Decode give an added
// token with normalized=true as its normalized content.
//
// A Tokenizer is immutable after loading and safe to use from several
// threads at once (the BPE cache is internally synchronized).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ccguard {

class Tokenizer {
 public:
  // Loads a Hugging Face tokenizer.json. Errors name the file and the field at fault
  // (unsupported normalizer/pre_tokenizer/model type, malformed merges, ...).
  static Result<std::unique_ptr<Tokenizer>> FromFile(const std::string& path);
  // As FromFile, for JSON text; `what` names the source in error messages.
  static Result<std::unique_ptr<Tokenizer>> FromJsonText(std::string_view json,
                                                         const std::string& what);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Encodes `text` (must be valid UTF-8, else InvalidArgument naming the byte offset).
  // parse_special=true: Hugging Face default behaviour: every added token (special or not)
  //   occurring in the text is matched as that token before the model runs.
  // parse_special=false: "literal" mode: no added token is matched, special or not (a user
  //   typing "<|im_end|>" or "<think>" gets ordinary BPE pieces). Stricter than HF's
  //   split_special_tokens=True, which still matches added tokens with special=false
  //   (Qwen3's <think>, </think>, <tool_call>, <|fim_*|>, ids 151657-151668).
  // No BOS/EOS are added (add_special_tokens=false semantics).
  Result<std::vector<int32_t>> Encode(std::string_view text, bool parse_special) const;

  // Encodes `text` as Hugging Face would with parse_special=true, except that
  // added tokens (special or not) overlapping any `literal` byte range
  // [begin, end) are not matched: content placed in a chat template (user text, responses,
  // constitutions) cannot forge control tokens, while the template's own
  // markup still can, and pre-tokenization sees the text whole (so tokens
  // equal the HF ids whenever the content holds no special token).
  Result<std::vector<int32_t>> EncodeWithLiteralSpans(
      std::string_view text, std::span<const std::pair<size_t, size_t>> literal) const;

  // Decodes ids to text (byte-level decoding; invalid UTF-8 sequences replaced with U+FFFD,
  // as HF does). skip_special drops special added tokens. Unknown ids -> InvalidArgument.
  Result<std::string> Decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;  // vocab or added token
  std::string IdToToken(int32_t id) const;                         // "" if unknown
  int32_t vocab_size() const;        // 1 + largest id over model vocab and added tokens
  bool IsSpecial(int32_t id) const;  // an added token with special=true

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  Result<std::vector<int32_t>> EncodeImpl(std::string_view text, bool skip_special,
                                          std::span<const std::pair<size_t, size_t>> literal) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccguard
