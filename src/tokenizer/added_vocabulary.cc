#include "tokenizer/added_vocabulary.h"

#include <utf8proc.h>

#include <algorithm>

namespace ccguard {
namespace {

// Decodes the code point starting at s[i] (valid UTF-8).
uint32_t DecodeAt(std::string_view s, size_t i) {
  utf8proc_int32_t cp = 0;
  utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                   static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
  return cp < 0 ? 0xFFFD : static_cast<uint32_t>(cp);
}

// Decodes the code point ending right before s[end] (valid UTF-8, end > 0).
uint32_t DecodeBefore(std::string_view s, size_t end) {
  size_t i = end - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return DecodeAt(s, i);
}

// Rust regex's Unicode \w: Alphabetic, M, Nd, Pc, Join_Control.
bool IsWordChar(uint32_t cp) {
  if (cp == 0x200C || cp == 0x200D) return true;
  // Other_Alphabetic symbols outside category M (circled / squared letters).
  if ((cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
      (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189)) {
    return true;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// Unicode White_Space (Rust regex's \s).
bool IsWhiteSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// Start of the run of white space that ends `s` (s.size() if none).
size_t TrailingSpaceStart(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    size_t j = i - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
    if (!IsWhiteSpace(DecodeAt(s, j))) break;
    i = j;
  }
  return i;
}

// Length of the run of white space that starts `s`.
size_t LeadingSpaceLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = DecodeAt(s, i);
    if (!IsWhiteSpace(cp)) break;
    i += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return i;
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view pattern, int32_t token) {
  int32_t node = 0;
  for (char ch : pattern) {
    auto c = static_cast<unsigned char>(ch);
    auto it = nodes[node].next.find(c);
    if (it == nodes[node].next.end()) {
      nodes.emplace_back();
      auto child = static_cast<int32_t>(nodes.size() - 1);
      nodes[node].next.emplace(c, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes[node].token = token;
}

Result<AddedVocabulary> AddedVocabulary::Build(std::vector<AddedToken> tokens,
                                               const Normalizer& normalizer) {
  AddedVocabulary v;
  for (AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    if (t.special) v.special_contents_.insert(t.content);
    auto it = v.by_content_.find(t.content);
    if (it != v.by_content_.end()) {
      AddedToken& old = v.tokens_[it->second];
      if (v.by_id_[old.id] == it->second) v.by_id_.erase(old.id);
      old = std::move(t);
      v.by_id_[old.id] = it->second;
      continue;
    }
    auto index = static_cast<int32_t>(v.tokens_.size());
    v.by_content_.emplace(t.content, index);
    v.by_id_[t.id] = index;
    v.tokens_.push_back(std::move(t));
  }
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    AddedToken& t = v.tokens_[i];
    v.max_id_ = std::max(v.max_id_, t.id);
    t.normalized_content.clear();
    if (t.normalized) {
      CCG_ASSIGN_OR_RETURN(std::string pattern, normalizer.Normalize(t.content));
      if (pattern != t.content) t.normalized_content = pattern;
      if (!pattern.empty()) v.normalized_trie_.Insert(pattern, static_cast<int32_t>(i));
    } else {
      v.raw_trie_.Insert(t.content, static_cast<int32_t>(i));
    }
  }
  return v;
}

void AddedVocabulary::Split(std::string_view text, bool normalized_pass, bool skip_special,
                            std::vector<Segment>* out,
                            std::span<const std::pair<size_t, size_t>> literal) const {
  SplitWith(normalized_pass ? normalized_trie_ : raw_trie_, text, skip_special, out, literal);
}

namespace {
bool Overlaps(std::span<const std::pair<size_t, size_t>> spans, size_t begin, size_t end) {
  for (const auto& [b, e] : spans) {
    if (b < end && begin < e) return true;
  }
  return false;
}
}  // namespace

void AddedVocabulary::SplitWith(const Trie& trie, std::string_view text, bool skip_special,
                                std::vector<Segment>* out,
                                std::span<const std::pair<size_t, size_t>> literal) const {
  const size_t n = text.size();
  size_t start_offset = 0;  // end of the last emitted token
  size_t pos = 0;           // where the next leftmost-longest search starts
  const auto& root = trie.nodes[0].next;
  while (!root.empty() && pos < n) {
    // Leftmost-longest match starting at or after `pos`.
    size_t start = pos, stop = 0;
    int32_t token = -1;
    for (; start < n; ++start) {
      int32_t node = 0;
      for (size_t k = start; k < n; ++k) {
        const auto& next = trie.nodes[node].next;
        auto it = next.find(static_cast<unsigned char>(text[k]));
        if (it == next.end()) break;
        node = it->second;
        if (trie.nodes[node].token >= 0) {
          token = trie.nodes[node].token;
          stop = k + 1;
        }
      }
      if (token >= 0) break;
    }
    if (token < 0) break;
    pos = stop;
    const AddedToken& t = tokens_[token];
    // Literal text (skip_special, or a content span) matches no added token at
    // all: non-special ones (<think>, <tool_call>, <|fim_*|>) are control
    // markup to the model just as much as <|im_end|> is.
    if (skip_special || Overlaps(literal, start, stop)) continue;
    if (t.single_word) {
      bool start_space = start == 0 || !IsWordChar(DecodeBefore(text, start));
      bool stop_space = stop == n || !IsWordChar(DecodeAt(text, stop));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      // The previous token may already have taken these spaces.
      start = std::max(TrailingSpaceStart(text.substr(0, start)), start_offset);
    }
    if (t.rstrip) stop += LeadingSpaceLength(text.substr(stop));
    if (start_offset < start) out->push_back(Segment{start_offset, start, -1});
    out->push_back(Segment{start, stop, t.id});
    start_offset = stop;
  }
  if (start_offset < n) out->push_back(Segment{start_offset, n, -1});
}

const AddedToken* AddedVocabulary::FindById(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::FindByContent(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

bool AddedVocabulary::IsSpecialContent(std::string_view content) const {
  return special_contents_.count(std::string(content)) != 0;
}

}  // namespace ccguard
