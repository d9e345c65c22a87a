// The label tokens a guard's answer is read from: each label class's strings
// (Constitution::label_classes) resolved to token ids of the model's
// tokenizer by the profile's LabelMatch rule. Immutable once resolved;
// thread-safe to read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prompt/constitution.h"
#include "tokenizer/tokenizer.h"
#include "util/status.h"

namespace ccguard {

// The token ids label string `word` stands for:
//   kSingleToken  its encoding, which must be exactly one token (else
//                 InvalidArgument naming the word and its token count);
//   kFirstToken   the first token of its encoding;
//   kDecodedWord  every id v < vocab_size whose decoding, stripped of
//                 white space (Python str.strip) and lower-cased, equals the
//                 word so treated, in increasing order (InvalidArgument when
//                 none does).
// Content is encoded literally (special tokens are not parsed).
Result<std::vector<int32_t>> LabelTokenIds(const Tokenizer& tok, const std::string& word,
                                           LabelMatch match);

struct LabelSet {
  std::vector<int32_t> ids;     // distinct token ids, in class then string order
  std::vector<size_t> classes;  // classes[i]: the label class ids[i] belongs to
  int32_t safe_id = -1;         // the first id counted toward safe / unsafe
  int32_t unsafe_id = -1;

  // Resolves every class's strings. InvalidArgument, naming the profile and
  // class, when a string resolves to nothing or two classes share a token.
  static Result<LabelSet> Resolve(const Tokenizer& tok, const Constitution& c);
};

}  // namespace ccguard
