// The BPE model of a Hugging Face tokenizer.json ("model": {"type": "BPE"}).
//
// Encodes one pre-token ("word") at a time: the word is cut into characters,
// each looked up in the vocabulary, then adjacent symbols are merged by merge
// rank (lowest rank first, leftmost first on ties) exactly as Hugging Face's
// `Word::merge_all`. Supports merges written as "a b" strings or ["a", "b"]
// pairs, ignore_merges, unk_token / fuse_unk, byte_fallback,
// continuing_subword_prefix and end_of_word_suffix. BPE dropout > 0 is
// refused (it makes encoding random). Results are cached per word; a
// BpeModel is immutable apart from that cache and safe to use from several
// threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

class BpeModel {
 public:
  // Builds from the "model" object `j`; `what` names it in error messages
  // (e.g. "tokenizer.json: model"). Errors name the field at fault.
  static Result<std::unique_ptr<BpeModel>> FromJson(const Json& j, const std::string& what);
  ~BpeModel();
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of `word` to *ids. Characters missing from the
  // vocabulary become unk_token (or byte-fallback tokens); without either
  // they are dropped, as in Hugging Face.
  void Tokenize(std::string_view word, std::vector<int32_t>* ids) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  // nullptr if `id` is not in the vocabulary.
  const std::string* IdToToken(int32_t id) const;
  // Largest id in the vocabulary, -1 if it is empty.
  int32_t max_id() const;
  // Number of vocabulary entries (Hugging Face's Model::get_vocab_size).
  size_t vocab_count() const;
  size_t num_merges() const;

 private:
  struct Impl;
  explicit BpeModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccguard
