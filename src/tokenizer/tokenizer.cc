#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <limits>
#include <new>
#include <unordered_map>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "util/json_file.h"
#include "util/mapped_file.h"
#include "util/utf8.h"

namespace ccguard {

struct Tokenizer::Impl {
  Normalizer normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  AddedVocabulary added;
  bool byte_level_decoder = false;

  // Token string of `id` (added tokens first, as Hugging Face), or nullptr.
  const std::string* TokenOf(int32_t id) const {
    if (const AddedToken* t = added.FindById(id)) return &t->decoded();
    return model->IdToToken(id);
  }
};

namespace {

Result<std::unique_ptr<BpeModel>> LoadModel(const Json& root, const std::string& what) {
  auto it = root.find("model");
  if (it == root.end() || it->is_null()) {
    return Status::Corruption(what + ": missing field \"model\"");
  }
  const Json& model = *it;
  if (!model.is_object()) return Status::Corruption(what + ": model: expected an object");
  auto type = model.find("type");
  if (type != model.end()) {
    if (!type->is_string()) return Status::Corruption(what + ": model.type: expected a string");
    const std::string t = type->get<std::string>();
    if (t != "BPE") {
      return Status::NotSupported(what + ": model.type: unsupported model type \"" + t +
                                  "\" (supported: BPE)");
    }
  } else if (!model.contains("merges")) {
    // Untagged models: Hugging Face infers the type from the fields present.
    return Status::NotSupported(what + ": model.type: missing and the model is not a BPE model");
  }
  return BpeModel::FromJson(model, what + ": model");
}

Status LoadDecoder(const Json& root, const std::string& what, bool* byte_level) {
  auto it = root.find("decoder");
  *byte_level = false;
  if (it == root.end() || it->is_null()) return Status::Ok();
  auto type = it->is_object() ? it->find("type") : it->end();
  if (!it->is_object() || type == it->end() || !type->is_string()) {
    return Status::Corruption(what + ": decoder.type: missing or not a string");
  }
  const std::string t = type->get<std::string>();
  if (t != "ByteLevel") {
    return Status::NotSupported(what + ": decoder.type: unsupported decoder type \"" + t +
                                "\" (supported: ByteLevel, null)");
  }
  *byte_level = true;
  return Status::Ok();
}

// Reads "added_tokens" and gives each token the id Hugging Face (0.23)
// gives it in AddedVocabulary::add_tokens: the id its content already has (an
// earlier added token or the model vocabulary), else the next of
// vocab_count, vocab_count + 1, ... For a consistent file this is the "id"
// field; where they differ Hugging Face only warns and uses its own, and so
// do we.
Result<std::vector<AddedToken>> LoadAddedTokens(const Json& root, const BpeModel& model,
                                                const std::string& what) {
  std::vector<AddedToken> tokens;
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  if (!it->is_array()) return Status::Corruption(what + ": added_tokens: expected an array");
  std::unordered_map<std::string, int32_t> assigned;
  auto next_id = static_cast<int64_t>(model.vocab_count());
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    const std::string field = what + ": added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) return Status::Corruption(field + ": expected an object");
    AddedToken tok;
    auto id = t.find("id");
    if (id == t.end() || !id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return Status::Corruption(field + ".id: missing or not an integer in [0, 2^31)");
    }
    auto content = t.find("content");
    if (content == t.end() || !content->is_string()) {
      return Status::Corruption(field + ".content: missing or not a string");
    }
    tok.content = content->get<std::string>();
    CCG_RETURN_IF_ERROR(CheckUtf8(tok.content, field + ".content"));
    struct Flag {
      const char* key;
      bool* value;
    };
    for (Flag f : {Flag{"special", &tok.special}, Flag{"single_word", &tok.single_word},
                   Flag{"lstrip", &tok.lstrip}, Flag{"rstrip", &tok.rstrip}}) {
      auto v = t.find(f.key);
      if (v == t.end() || v->is_null()) continue;
      if (!v->is_boolean()) return Status::Corruption(field + "." + f.key + ": expected a boolean");
      *f.value = v->get<bool>();
    }
    tok.normalized = !tok.special;  // Hugging Face's default for a missing field
    auto norm = t.find("normalized");
    if (norm != t.end() && !norm->is_null()) {
      if (!norm->is_boolean()) return Status::Corruption(field + ".normalized: expected a boolean");
      tok.normalized = norm->get<bool>();
    }
    if (tok.content.empty()) continue;  // ignored by Hugging Face
    int64_t new_id;
    if (auto a = assigned.find(tok.content); a != assigned.end()) {
      new_id = a->second;
    } else if (auto model_id = model.TokenToId(tok.content)) {
      new_id = *model_id;
    } else {
      new_id = next_id++;
    }
    if (new_id > std::numeric_limits<int32_t>::max()) {
      return Status::Corruption(field + ": too many tokens");
    }
    tok.id = static_cast<int32_t>(new_id);
    assigned[tok.content] = tok.id;
    tokens.push_back(std::move(tok));
  }
  return tokens;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return FromJsonText(text, path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromJsonText(std::string_view json,
                                                           const std::string& what) {
  try {
    auto parsed = ParseJson(json, what);
    if (!parsed.ok()) return Status::Corruption(parsed.status().message());
    const Json& root = parsed.value();
    if (!root.is_object()) return Status::Corruption(what + ": top level is not a JSON object");

    auto impl = std::make_unique<Impl>();
    CCG_ASSIGN_OR_RETURN(impl->model, LoadModel(root, what));
    const Json null_json;
    auto get = [&](const char* key) -> const Json& {
      auto it = root.find(key);
      return it == root.end() ? null_json : *it;
    };
    CCG_ASSIGN_OR_RETURN(impl->normalizer,
                         Normalizer::FromJson(get("normalizer"), what + ": normalizer"));
    CCG_ASSIGN_OR_RETURN(impl->pre_tokenizer,
                         PreTokenizer::FromJson(get("pre_tokenizer"), what + ": pre_tokenizer"));
    CCG_RETURN_IF_ERROR(LoadDecoder(root, what, &impl->byte_level_decoder));
    CCG_ASSIGN_OR_RETURN(std::vector<AddedToken> added, LoadAddedTokens(root, *impl->model, what));
    CCG_ASSIGN_OR_RETURN(impl->added, AddedVocabulary::Build(std::move(added), impl->normalizer));
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
  } catch (const Json::exception& e) {
    return Status::Corruption(what + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(what + ": out of memory while loading the tokenizer");
  }
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool parse_special) const {
  return EncodeImpl(text, !parse_special, {});
}

Result<std::vector<int32_t>> Tokenizer::EncodeWithLiteralSpans(
    std::string_view text, std::span<const std::pair<size_t, size_t>> literal) const {
  for (const auto& [b, e] : literal) {
    if (b > e || e > text.size()) {
      return Status::InvalidArgument("Tokenizer::EncodeWithLiteralSpans: span [" +
                                     std::to_string(b) + ", " + std::to_string(e) +
                                     ") is outside the text");
    }
  }
  return EncodeImpl(text, false, literal);
}

Result<std::vector<int32_t>> Tokenizer::EncodeImpl(
    std::string_view text, bool skip_special,
    std::span<const std::pair<size_t, size_t>> literal) const {
  CCG_RETURN_IF_ERROR(CheckUtf8(text, "Tokenizer::Encode: text"));
  const Impl& m = *impl_;
  std::vector<int32_t> ids;
  std::vector<AddedVocabulary::Segment> raw_segments, norm_segments;
  std::vector<std::string> pieces;
  m.added.Split(text, /*normalized_pass=*/false, skip_special, &raw_segments, literal);
  for (const auto& seg : raw_segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    CCG_ASSIGN_OR_RETURN(std::string normalized,
                         m.normalizer.Normalize(text.substr(seg.begin, seg.end - seg.begin)));
    norm_segments.clear();
    // Offsets change under normalization: a raw segment touching literal
    // text matches no special token in the normalized pass at all.
    bool seg_literal = false;
    for (const auto& [b, e] : literal) seg_literal |= (b < seg.end && seg.begin < e);
    m.added.Split(normalized, /*normalized_pass=*/true, skip_special || seg_literal,
                  &norm_segments);
    for (const auto& nseg : norm_segments) {
      if (nseg.id >= 0) {
        ids.push_back(nseg.id);
        continue;
      }
      pieces.clear();
      pieces.emplace_back(normalized, nseg.begin, nseg.end - nseg.begin);
      CCG_RETURN_IF_ERROR(m.pre_tokenizer->PreTokenize(&pieces));
      for (const std::string& piece : pieces) m.model->Tokenize(piece, &ids);
    }
  }
  return ids;
}

Result<std::string> Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special) const {
  const Impl& m = *impl_;
  std::string bytes;
  bool first = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string* token = m.TokenOf(ids[i]);
    if (token == nullptr) {
      return Status::InvalidArgument("Tokenizer::Decode: unknown token id " +
                                     std::to_string(ids[i]) + " at position " + std::to_string(i));
    }
    if (skip_special && m.added.IsSpecialContent(*token)) continue;
    if (m.byte_level_decoder) {
      ByteLevelDecodeToken(*token, &bytes);
    } else {
      if (!first) bytes.push_back(' ');  // Hugging Face without a decoder: tokens joined by " "
      bytes += *token;
    }
    first = false;
  }
  return Utf8Lossy(bytes);
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (auto id = impl_->added.FindByContent(token)) return id;
  return impl_->model->TokenToId(token);
}

std::string Tokenizer::IdToToken(int32_t id) const {
  const std::string* token = impl_->TokenOf(id);
  return token == nullptr ? std::string() : *token;
}

int32_t Tokenizer::vocab_size() const {
  return 1 + std::max(impl_->model->max_id(), impl_->added.max_id());
}

bool Tokenizer::IsSpecial(int32_t id) const {
  const AddedToken* t = impl_->added.FindById(id);
  return t != nullptr && t->special;
}

}  // namespace ccguard
