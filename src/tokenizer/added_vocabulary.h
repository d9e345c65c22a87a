// Added tokens of a Hugging Face tokenizer.json ("added_tokens") and how they
// are cut out of the text before the model runs (Hugging Face's
// AddedVocabulary::find_matches).
//
// Matching is leftmost-longest over all tokens of one pass (as the
// aho-corasick automaton Hugging Face builds), non-overlapping, then
// single_word / lstrip / rstrip are applied. Tokens with normalized=false are
// matched on the raw text; tokens with normalized=true on the normalized
// text, against their normalized content.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/normalizer.h"
#include "util/status.h"

namespace ccguard {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  // Set by AddedVocabulary::Build: the normalizer's output for a normalized
  // token when it differs from `content`, else empty.
  std::string normalized_content;

  // What the token stands for when decoding and in IdToToken: the normalized
  // content if any (Hugging Face 0.23's normalized_cache), else the content.
  const std::string& decoded() const {
    return normalized_content.empty() ? content : normalized_content;
  }
};

class AddedVocabulary {
 public:
  // One piece of a split text: [begin, end) bytes of the text, and the id of
  // the added token it is, or -1 for ordinary text.
  struct Segment {
    size_t begin;
    size_t end;
    int32_t id;
  };

  AddedVocabulary() = default;

  // Builds the vocabulary. Tokens with empty content are ignored; a later
  // token with the same content replaces an earlier one (a content ever
  // marked special stays special for IsSpecialContent, as in Hugging Face).
  // `normalizer` normalizes the content of normalized=true tokens for
  // matching and decoding.
  static Result<AddedVocabulary> Build(std::vector<AddedToken> tokens,
                                       const Normalizer& normalizer);

  // Splits `text` into segments covering it in order (empty segments are
  // omitted), matching the tokens with normalized == `normalized_pass`. With
  // `skip_special`, no added token is matched (special or not: stricter than
  // Hugging Face's split_special_tokens, which still matches non-special
  // added tokens such as <think>).
  // `literal` (sorted, non-overlapping [begin, end) byte ranges of `text`):
  // an added token overlapping any of them is not matched either.
  void Split(std::string_view text, bool normalized_pass, bool skip_special,
             std::vector<Segment>* out,
             std::span<const std::pair<size_t, size_t>> literal = {}) const;

  const AddedToken* FindById(int32_t id) const;
  std::optional<int32_t> FindByContent(std::string_view content) const;
  // True if `content` is the content of a token marked special (Hugging
  // Face's is_special_token, used to skip tokens when decoding).
  bool IsSpecialContent(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // Largest id, -1 if there are no tokens.
  int32_t max_id() const { return max_id_; }

 private:
  // A byte trie over the patterns of one pass; node 0 is the root.
  struct Trie {
    struct Node {
      std::unordered_map<unsigned char, int32_t> next;
      int32_t token = -1;  // index into tokens_ of the pattern ending here
    };
    std::vector<Node> nodes{Node{}};
    void Insert(std::string_view pattern, int32_t token);
  };
  void SplitWith(const Trie& trie, std::string_view text, bool skip_special,
                 std::vector<Segment>* out,
                 std::span<const std::pair<size_t, size_t>> literal) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, int32_t> by_content_;  // content -> index in tokens_
  std::unordered_map<int32_t, int32_t> by_id_;           // id -> index in tokens_
  std::unordered_set<std::string> special_contents_;
  Trie raw_trie_;
  Trie normalized_trie_;
  int32_t max_id_ = -1;
};

}  // namespace ccguard
