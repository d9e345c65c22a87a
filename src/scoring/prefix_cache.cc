#include "scoring/prefix_cache.h"

#include <algorithm>

namespace ccguard {

int64_t CommonPrefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<int64_t>(i);
}

Result<std::unique_ptr<PrefixCache>> PrefixCache::Build(
    const DecoderModel& model, const Prefill& prefill, std::vector<std::vector<int32_t>> prefixes) {
  std::unique_ptr<PrefixCache> pc(new PrefixCache(&model));
  for (std::vector<int32_t>& ids : prefixes) {
    if (ids.empty()) continue;
    // Continue the earlier prefix this one shares the most tokens with.
    const Entry* base = nullptr;
    int64_t shared = 0;
    for (const Entry& e : pc->entries_) {
      const int64_t l = CommonPrefix(ids, e.ids);
      if (l > shared) {
        base = &e;
        shared = l;
      }
    }
    auto cache = base ? model.NewCache(base->cache.get(), shared) : model.NewCache();
    std::span<const int32_t> rest =
        std::span<const int32_t>(ids).subspan(static_cast<size_t>(shared));
    if (!rest.empty()) {
      SequenceInput s{rest, cache.get()};
      CCG_RETURN_IF_ERROR(prefill(std::span<SequenceInput>(&s, 1)));
    }
    pc->entries_.push_back({std::move(ids), std::move(cache)});
  }
  return pc;
}

std::unique_ptr<KvCache> PrefixCache::CacheFor(std::span<const int32_t> tokens,
                                               int64_t* reused) const {
  const Entry* best = nullptr;
  int64_t best_len = 0;
  for (const Entry& e : entries_) {
    const int64_t l =
        std::min(CommonPrefix(tokens, e.ids), static_cast<int64_t>(tokens.size()) - 1);
    if (l > best_len) {
      best = &e;
      best_len = l;
    }
  }
  *reused = best_len;
  return best ? model_->NewCache(best->cache.get(), best_len) : model_->NewCache();
}

int64_t PrefixCache::Continue(std::span<const int32_t> held, std::span<const int32_t> tokens,
                              std::unique_ptr<KvCache>* cache) const {
  int64_t keep = std::min(CommonPrefix(held, tokens), static_cast<int64_t>(tokens.size()) - 1);
  if (*cache == nullptr || keep < (*cache)->prefix_length()) {
    *cache = CacheFor(tokens, &keep);
  } else {
    (*cache)->Truncate(keep - (*cache)->prefix_length());
  }
  return keep;
}

int64_t PrefixCache::longest() const {
  int64_t n = 0;
  for (const Entry& e : entries_) n = std::max(n, static_cast<int64_t>(e.ids.size()));
  return n;
}

}  // namespace ccguard
