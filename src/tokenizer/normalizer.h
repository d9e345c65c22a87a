// Unicode normalizers of a Hugging Face tokenizer.json ("normalizer" field).
//
// Supported: null (identity), NFC, NFD, NFKC, NFKD (via utf8proc) and
// Sequence of those. Anything else is refused with NotSupported naming the
// field, so a tokenizer never silently encodes differently from Hugging Face.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

class Normalizer {
 public:
  enum class Form { kNFC, kNFD, kNFKC, kNFKD };

  // Builds from the JSON value `j` (null gives the identity). `what` names the
  // field in error messages, e.g. "tokenizer.json: normalizer".
  static Result<Normalizer> FromJson(const Json& j, const std::string& what);

  // Applies the forms in order. `text` must be valid UTF-8.
  Result<std::string> Normalize(std::string_view text) const;

  bool is_identity() const { return forms_.empty(); }
  const std::vector<Form>& forms() const { return forms_; }

 private:
  std::vector<Form> forms_;
};

}  // namespace ccguard
