#include "tokenizer/bpe_model.h"

#include <array>
#include <cstdio>
#include <functional>
#include <limits>
#include <mutex>
#include <queue>
#include <unordered_map>

namespace ccguard {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using Vocab = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct MergeInfo {
  uint32_t rank;
  int32_t new_id;
};

struct PairHash {
  size_t operator()(uint64_t k) const {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
};

using MergeMap = std::unordered_map<uint64_t, MergeInfo, PairHash>;

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Hugging Face caches words shorter than this many bytes.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kCacheShards = 16;
constexpr size_t kCacheEntriesPerShard = 4096;

// A bounded word -> ids cache, sharded to keep lock contention low. Once a
// shard is full it stops admitting words (as Hugging Face's cache does).
class WordCache {
 public:
  bool Get(std::string_view word, std::vector<int32_t>* ids) const {
    const Shard& s = shards_[StringHash{}(word) % kCacheShards];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(word);
    if (it == s.map.end()) return false;
    ids->insert(ids->end(), it->second.begin(), it->second.end());
    return true;
  }
  void Put(std::string_view word, const int32_t* ids, size_t n) const {
    Shard& s = shards_[StringHash{}(word) % kCacheShards];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.map.size() >= kCacheEntriesPerShard) return;
    s.map.emplace(std::string(word), std::vector<int32_t>(ids, ids + n));
  }

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  mutable std::array<Shard, kCacheShards> shards_;
};

size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

Status ReadOptionalString(const Json& j, const char* key, const std::string& what,
                          std::optional<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Status::Corruption(what + "." + key + ": expected a string or null");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadOptionalBool(const Json& j, const char* key, const std::string& what, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return Status::Corruption(what + "." + key + ": expected a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

}  // namespace

struct BpeModel::Impl {
  Vocab vocab;
  std::vector<std::string> id_to_token;
  std::vector<uint8_t> id_present;
  MergeMap merges;
  int32_t max_id = -1;
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  std::string prefix;                          // continuing_subword_prefix
  std::string suffix;                          // end_of_word_suffix
  std::array<int32_t, 256> byte_fallback_ids;  // "<0xAB>" ids, -1 if absent
  WordCache cache;

  // Hugging Face BPE::merge_word + Word::merge_all; appends to *ids.
  void MergeWord(std::string_view w, std::vector<int32_t>* ids) const;
};

BpeModel::BpeModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BpeModel::~BpeModel() = default;

Result<std::unique_ptr<BpeModel>> BpeModel::FromJson(const Json& j, const std::string& what) {
  if (!j.is_object()) return Status::Corruption(what + ": expected an object");
  auto impl = std::make_unique<Impl>();

  // Options.
  auto dropout = j.find("dropout");
  if (dropout != j.end() && !dropout->is_null()) {
    if (!dropout->is_number()) return Status::Corruption(what + ".dropout: expected a number");
    if (dropout->get<double>() != 0.0) {
      return Status::NotSupported(what + ".dropout: BPE dropout is not supported");
    }
  }
  std::optional<std::string> unk_token, prefix, suffix;
  CCG_RETURN_IF_ERROR(ReadOptionalString(j, "unk_token", what, &unk_token));
  CCG_RETURN_IF_ERROR(ReadOptionalString(j, "continuing_subword_prefix", what, &prefix));
  CCG_RETURN_IF_ERROR(ReadOptionalString(j, "end_of_word_suffix", what, &suffix));
  CCG_RETURN_IF_ERROR(ReadOptionalBool(j, "fuse_unk", what, &impl->fuse_unk));
  CCG_RETURN_IF_ERROR(ReadOptionalBool(j, "byte_fallback", what, &impl->byte_fallback));
  CCG_RETURN_IF_ERROR(ReadOptionalBool(j, "ignore_merges", what, &impl->ignore_merges));
  impl->prefix = prefix.value_or("");
  impl->suffix = suffix.value_or("");

  // Vocabulary.
  auto vocab_it = j.find("vocab");
  if (vocab_it == j.end() || !vocab_it->is_object()) {
    return Status::Corruption(what + ".vocab: missing or not an object");
  }
  impl->vocab.reserve(vocab_it->size());
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    const Json& v = it.value();
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return Status::Corruption(what + ".vocab[\"" + it.key() +
                                "\"]: id is not an integer in [0, 2^31)");
    }
    auto id = static_cast<int32_t>(v.get<int64_t>());
    impl->vocab.emplace(it.key(), id);
    impl->max_id = std::max(impl->max_id, id);
  }
  impl->id_to_token.resize(static_cast<size_t>(impl->max_id + 1));
  impl->id_present.assign(static_cast<size_t>(impl->max_id + 1), 0);
  for (const auto& [token, id] : impl->vocab) {
    if (impl->id_present[id]) continue;
    impl->id_present[id] = 1;
    impl->id_to_token[id] = token;
  }
  if (unk_token) {
    auto it = impl->vocab.find(*unk_token);
    if (it != impl->vocab.end()) impl->unk_id = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = impl->vocab.find(std::string_view(name));
    impl->byte_fallback_ids[b] = it == impl->vocab.end() ? -1 : it->second;
  }

  // Merges.
  auto merges_it = j.find("merges");
  if (merges_it == j.end() || !merges_it->is_array()) {
    return Status::Corruption(what + ".merges: missing or not an array");
  }
  impl->merges.reserve(merges_it->size());
  const size_t prefix_len = impl->prefix.size();
  uint32_t rank = 0;
  for (size_t i = 0; i < merges_it->size(); ++i) {
    const Json& m = (*merges_it)[i];
    const std::string field = what + ".merges[" + std::to_string(i) + "]";
    std::string_view a, b;
    if (m.is_string()) {
      const std::string& line = m.get_ref<const std::string&>();
      if (line.rfind("#version", 0) == 0) continue;  // skipped by Hugging Face, no rank
      size_t sp = line.find(' ');
      if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos) {
        return Status::Corruption(field + ": expected \"a b\" (two tokens, one space), got \"" +
                                  line + "\"");
      }
      a = std::string_view(line).substr(0, sp);
      b = std::string_view(line).substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get_ref<const std::string&>();
      b = m[1].get_ref<const std::string&>();
    } else {
      return Status::Corruption(field + ": expected \"a b\" or [\"a\", \"b\"]");
    }
    auto ai = impl->vocab.find(a);
    if (ai == impl->vocab.end()) {
      return Status::Corruption(field + ": token \"" + std::string(a) +
                                "\" is not in the vocabulary");
    }
    auto bi = impl->vocab.find(b);
    if (bi == impl->vocab.end()) {
      return Status::Corruption(field + ": token \"" + std::string(b) +
                                "\" is not in the vocabulary");
    }
    if (b.size() < prefix_len) {
      return Status::Corruption(field + ": token \"" + std::string(b) +
                                "\" is shorter than continuing_subword_prefix");
    }
    std::string merged(a);
    merged.append(b.substr(prefix_len));
    auto ni = impl->vocab.find(merged);
    if (ni == impl->vocab.end()) {
      return Status::Corruption(field + ": merged token \"" + merged +
                                "\" is not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as Hugging Face's HashMap collect does.
    impl->merges[PairKey(ai->second, bi->second)] = MergeInfo{rank, ni->second};
    ++rank;
  }
  return std::unique_ptr<BpeModel>(new BpeModel(std::move(impl)));
}

void BpeModel::Impl::MergeWord(std::string_view w, std::vector<int32_t>* ids) const {
  struct Symbol {
    int32_t c;
    int32_t prev;
    int32_t next;
    uint32_t len;  // bytes of `w` covered; 0 once merged away
  };
  std::vector<Symbol> symbols;
  symbols.reserve(w.size());
  auto add = [&symbols](int32_t c, size_t len) {
    auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{c, n - 1, -1, static_cast<uint32_t>(len)});
    if (n > 0) symbols[n - 1].next = n;
  };

  // Characters -> initial symbols.
  int32_t unk = -1;  // pending unk id, covering unk_len bytes
  size_t unk_len = 0;
  std::string key;
  size_t i = 0;
  while (i < w.size()) {
    size_t len = std::min(Utf8Len(static_cast<unsigned char>(w[i])), w.size() - i);
    bool is_first = i == 0, is_last = i + len == w.size();
    std::string_view ch = w.substr(i, len);
    key.clear();
    if (!is_first) key += prefix;
    key.append(ch);
    if (is_last) key += suffix;
    i += len;
    auto it = vocab.find(key);
    if (it != vocab.end()) {
      if (unk >= 0) {
        add(unk, unk_len);
        unk = -1;
      }
      add(it->second, len);
      continue;
    }
    if (byte_fallback) {
      bool all = true;
      for (char c : key) all = all && byte_fallback_ids[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (char c : key) add(byte_fallback_ids[static_cast<unsigned char>(c)], 1);
        continue;
      }
    }
    if (unk_id) {
      if (unk >= 0 && fuse_unk) {
        unk_len += len;
      } else {
        if (unk >= 0) add(unk, unk_len);
        unk = *unk_id;
        unk_len = len;
      }
    }
  }
  if (unk >= 0) add(unk, unk_len);

  // Word::merge_all: lowest rank first, then leftmost position.
  struct Merge {
    uint32_t rank;
    int32_t pos;
    int32_t new_id;
  };
  auto lower_priority = [](const Merge& x, const Merge& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  std::vector<Merge> heap_storage;
  heap_storage.reserve(symbols.size());
  std::priority_queue<Merge, std::vector<Merge>, decltype(lower_priority)> queue(
      lower_priority, std::move(heap_storage));
  for (size_t k = 0; k + 1 < symbols.size(); ++k) {
    auto m = merges.find(PairKey(symbols[k].c, symbols[k + 1].c));
    if (m != merges.end()) {
      queue.push(Merge{m->second.rank, static_cast<int32_t>(k), m->second.new_id});
    }
  }
  while (!queue.empty()) {
    Merge top = queue.top();
    queue.pop();
    Symbol& cur = symbols[top.pos];
    if (cur.len == 0 || cur.next == -1) continue;
    const int32_t next_pos = cur.next;
    const Symbol right = symbols[next_pos];
    auto m = merges.find(PairKey(cur.c, right.c));
    if (m == merges.end() || m->second.new_id != top.new_id) continue;  // stale entry
    cur.c = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next >= 0 && static_cast<size_t>(right.next) < symbols.size()) {
      symbols[right.next].prev = top.pos;
    }
    if (cur.prev >= 0) {
      auto pm = merges.find(PairKey(symbols[cur.prev].c, cur.c));
      if (pm != merges.end()) queue.push(Merge{pm->second.rank, cur.prev, pm->second.new_id});
    }
    if (cur.next >= 0) {
      auto nm = merges.find(PairKey(cur.c, symbols[cur.next].c));
      if (nm != merges.end()) queue.push(Merge{nm->second.rank, top.pos, nm->second.new_id});
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len != 0) ids->push_back(s.c);
  }
}

void BpeModel::Tokenize(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return;
  const Impl& m = *impl_;
  if (m.ignore_merges) {
    auto it = m.vocab.find(word);
    if (it != m.vocab.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable && m.cache.Get(word, ids)) return;
  size_t start = ids->size();
  m.MergeWord(word, ids);
  if (cacheable) m.cache.Put(word, ids->data() + start, ids->size() - start);
}

std::optional<int32_t> BpeModel::TokenToId(std::string_view token) const {
  auto it = impl_->vocab.find(token);
  if (it == impl_->vocab.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::IdToToken(int32_t id) const {
  if (id < 0 || id > impl_->max_id || !impl_->id_present[id]) return nullptr;
  return &impl_->id_to_token[id];
}

int32_t BpeModel::max_id() const { return impl_->max_id; }

size_t BpeModel::vocab_count() const { return impl_->vocab.size(); }

size_t BpeModel::num_merges() const { return impl_->merges.size(); }

}  // namespace ccguard
