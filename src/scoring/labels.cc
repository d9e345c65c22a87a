#include "scoring/labels.h"

#include <algorithm>
#include <optional>

#include "jinja/pystring.h"

namespace ccguard {

using jinja::pystr::Lower;  // Python's str.lower, as IBM's recipe compares

Result<std::vector<int32_t>> LabelTokenIds(const Tokenizer& tok, const std::string& word,
                                           LabelMatch match) {
  if (match == LabelMatch::kDecodedWord) {
    const std::string want = Lower(jinja::pystr::Strip(word, std::nullopt, true, true));
    std::vector<int32_t> out;
    for (int32_t id = 0; id < tok.vocab_size(); ++id) {
      auto text = tok.Decode({id});
      if (text.ok() && Lower(jinja::pystr::Strip(*text, std::nullopt, true, true)) == want) {
        out.push_back(id);
      }
    }
    if (out.empty()) {
      return Status::InvalidArgument("label word '" + word +
                                     "': no token of the vocabulary decodes to it");
    }
    return out;
  }
  auto ids = tok.Encode(word, /*parse_special=*/false);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return Status::InvalidArgument("label '" + word + "' encodes to no token");
  if (match == LabelMatch::kSingleToken && ids->size() != 1) {
    return Status::InvalidArgument("label word '" + word + "' is " + std::to_string(ids->size()) +
                                   " tokens; a label must be exactly one token");
  }
  return std::vector<int32_t>{(*ids)[0]};
}

Result<LabelSet> LabelSet::Resolve(const Tokenizer& tok, const Constitution& c) {
  LabelSet out;
  const auto& classes = c.label_classes();
  for (size_t k = 0; k < classes.size(); ++k) {
    for (const std::string& str : classes[k].strings) {
      auto ids = LabelTokenIds(tok, str, c.label_match());
      if (!ids.ok()) {
        return ids.status().WithContext("constitution '" + c.name() + "', label class '" +
                                        classes[k].name + "'");
      }
      for (int32_t id : *ids) {
        auto at = std::find(out.ids.begin(), out.ids.end(), id);
        if (at != out.ids.end()) {
          const size_t other = out.classes[static_cast<size_t>(at - out.ids.begin())];
          if (other == k) continue;  // two strings of one class sharing a token
          return Status::InvalidArgument("constitution '" + c.name() + "': label classes '" +
                                         classes[other].name + "' and '" + classes[k].name +
                                         "' both read token " + std::to_string(id) + " ('" + str +
                                         "'); their labels must differ in that token");
        }
        out.ids.push_back(id);
        out.classes.push_back(k);
      }
    }
  }
  for (size_t i = 0; i < out.ids.size(); ++i) {
    const bool unsafe = c.ClassIsUnsafe(out.classes[i]);
    if (unsafe && out.unsafe_id < 0) out.unsafe_id = out.ids[i];
    if (!unsafe && out.safe_id < 0) out.safe_id = out.ids[i];
  }
  return out;
}

}  // namespace ccguard
