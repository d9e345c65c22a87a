#include "tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <utility>

#include "tokenizer/byte_level.h"

namespace ccguard {
namespace {

// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr char kGpt2Pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

using Range = std::pair<size_t, size_t>;

// Hugging Face NormalizedString::split: `marked` covers the whole text as
// (range, is_match) pairs; returns the ranges to keep.
std::vector<Range> ApplyBehavior(const std::vector<std::pair<Range, bool>>& marked,
                                 PreTokenizer::Behavior behavior) {
  using B = PreTokenizer::Behavior;
  std::vector<Range> out;
  out.reserve(marked.size());
  bool previous_match = false;
  switch (behavior) {
    case B::kIsolated:
      for (const auto& [r, m] : marked) out.push_back(r);
      break;
    case B::kRemoved:
      for (const auto& [r, m] : marked) {
        if (!m) out.push_back(r);
      }
      break;
    case B::kContiguous:
      for (const auto& [r, m] : marked) {
        if (m == previous_match && !out.empty()) {
          out.back().second = r.second;
        } else {
          out.push_back(r);
        }
        previous_match = m;
      }
      break;
    case B::kMergedWithPrevious:
      for (const auto& [r, m] : marked) {
        if (m && !previous_match && !out.empty()) {
          out.back().second = r.second;
        } else {
          out.push_back(r);
        }
        previous_match = m;
      }
      break;
    case B::kMergedWithNext:
      for (auto it = marked.rbegin(); it != marked.rend(); ++it) {
        const auto& [r, m] = *it;
        if (m && !previous_match && !out.empty()) {
          out.back().first = r.first;
        } else {
          out.push_back(r);
        }
        previous_match = m;
      }
      std::reverse(out.begin(), out.end());
      break;
  }
  return out;
}

}  // namespace

struct PreTokenizer::Step {
  enum class Kind { kSplit, kByteLevel } kind = Kind::kSplit;
  std::unique_ptr<SplitRegex> regex;  // Split, or ByteLevel with use_regex
  Behavior behavior = Behavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // ByteLevel
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;

bool PreTokenizer::byte_level() const {
  for (const Step& s : steps_) {
    if (s.kind == Step::Kind::kByteLevel) return true;
  }
  return false;
}

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::FromJson(const Json& j,
                                                             const std::string& what) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  CCG_RETURN_IF_ERROR(AddSteps(j, what, p.get()));
  return p;
}

Status PreTokenizer::AddSteps(const Json& j, const std::string& what, PreTokenizer* out) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object()) return Status::Corruption(what + ": expected an object or null");
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) {
    return Status::Corruption(what + ".type: missing or not a string");
  }
  const std::string type = type_it->get<std::string>();
  auto get_bool = [&](const char* key, bool def, bool* v) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      *v = def;
    } else if (it->is_boolean()) {
      *v = it->get<bool>();
    } else {
      return Status::Corruption(what + "." + key + ": expected a boolean");
    }
    return Status::Ok();
  };

  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) {
      return Status::Corruption(what + ".pretokenizers: missing or not an array");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      CCG_RETURN_IF_ERROR(
          AddSteps((*it)[i], what + ".pretokenizers[" + std::to_string(i) + "]", out));
    }
    return Status::Ok();
  }
  if (type == "Split") {
    Step step;
    step.kind = Step::Kind::kSplit;
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object() || pat->size() != 1) {
      return Status::Corruption(what + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
    }
    bool literal;
    if (pat->contains("Regex")) {
      literal = false;
    } else if (pat->contains("String")) {
      literal = true;
    } else {
      return Status::Corruption(what + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
    }
    const Json& pv = pat->begin().value();
    if (!pv.is_string()) return Status::Corruption(what + ".pattern: pattern is not a string");
    CCG_ASSIGN_OR_RETURN(step.regex,
                         SplitRegex::Compile(pv.get<std::string>(), literal, what + ".pattern"));
    auto beh = j.find("behavior");
    if (beh == j.end() || !beh->is_string()) {
      return Status::Corruption(what + ".behavior: missing or not a string");
    }
    const std::string b = beh->get<std::string>();
    if (b == "Removed") {
      step.behavior = Behavior::kRemoved;
    } else if (b == "Isolated") {
      step.behavior = Behavior::kIsolated;
    } else if (b == "MergedWithPrevious") {
      step.behavior = Behavior::kMergedWithPrevious;
    } else if (b == "MergedWithNext") {
      step.behavior = Behavior::kMergedWithNext;
    } else if (b == "Contiguous") {
      step.behavior = Behavior::kContiguous;
    } else {
      return Status::NotSupported(what + ".behavior: unknown split behavior \"" + b + "\"");
    }
    CCG_RETURN_IF_ERROR(get_bool("invert", false, &step.invert));
    out->steps_.push_back(std::move(step));
    return Status::Ok();
  }
  if (type == "ByteLevel") {
    Step step;
    step.kind = Step::Kind::kByteLevel;
    bool use_regex = true;
    CCG_RETURN_IF_ERROR(get_bool("add_prefix_space", true, &step.add_prefix_space));
    CCG_RETURN_IF_ERROR(get_bool("use_regex", true, &use_regex));
    if (use_regex) {
      CCG_ASSIGN_OR_RETURN(step.regex, SplitRegex::Compile(kGpt2Pattern, false, what));
    }
    out->steps_.push_back(std::move(step));
    return Status::Ok();
  }
  return Status::NotSupported(what + ".type: unsupported pre_tokenizer type \"" + type +
                              "\" (supported: Split, ByteLevel, Sequence, null)");
}

Status PreTokenizer::PreTokenize(std::vector<std::string>* pieces) const {
  std::erase_if(*pieces, [](const std::string& p) { return p.empty(); });
  std::vector<std::pair<size_t, size_t>> matches;
  std::vector<std::pair<Range, bool>> marked;
  for (const Step& step : steps_) {
    std::vector<std::string> next;
    next.reserve(pieces->size() * 2);
    for (std::string& piece : *pieces) {
      if (step.kind == Step::Kind::kByteLevel && step.add_prefix_space &&
          (piece.empty() || piece[0] != ' ')) {
        piece.insert(piece.begin(), ' ');
      }
      std::vector<Range> keep;
      if (step.regex == nullptr) {
        keep.emplace_back(0, piece.size());
      } else {
        // Pattern::find_matches: the whole piece as (range, is_match) pairs.
        matches.clear();
        marked.clear();
        CCG_RETURN_IF_ERROR(step.regex->FindAll(piece, &matches));
        bool invert = step.kind == Step::Kind::kSplit && step.invert;
        if (piece.empty()) {
          marked.push_back({{0, 0}, invert});
        } else {
          size_t prev = 0;
          for (const auto& [s, e] : matches) {
            if (prev != s) marked.push_back({{prev, s}, invert});
            marked.push_back({{s, e}, !invert});
            prev = e;
          }
          if (prev != piece.size()) marked.push_back({{prev, piece.size()}, invert});
        }
        Behavior behavior = step.kind == Step::Kind::kSplit ? step.behavior : Behavior::kIsolated;
        keep = ApplyBehavior(marked, behavior);
      }
      for (const auto& [s, e] : keep) {
        if (s >= e) continue;
        if (step.kind == Step::Kind::kByteLevel) {
          std::string mapped;
          ByteLevelEncode(std::string_view(piece).substr(s, e - s), &mapped);
          next.push_back(std::move(mapped));
        } else if (s == 0 && e == piece.size()) {
          next.push_back(std::move(piece));
        } else {
          next.push_back(piece.substr(s, e - s));
        }
      }
    }
    *pieces = std::move(next);
  }
  return Status::Ok();
}

}  // namespace ccguard
