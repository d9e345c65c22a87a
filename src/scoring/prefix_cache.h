// PrefixCache: the keys/values of token prefixes that many sequences share —
// a constitution's system message and input template head, and the exchange
// form's head chained on it — computed once, when the cache is built, and the
// reuse every scored sequence and streaming session goes through: a new
// sequence's cache starts from the prefix it shares the most tokens with, so
// only the tokens after it run. Scores do not depend on the reuse (the
// kernels' contract: attention blocks at absolute positions).
//
// Immutable once built: CacheFor and Continue are thread-safe. The model must
// outlive the PrefixCache, and the PrefixCache every cache it hands out.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/decoder_model.h"
#include "util/status.h"

namespace ccguard {

// How many tokens a and b have in common at the start.
int64_t CommonPrefix(std::span<const int32_t> a, std::span<const int32_t> b);

class PrefixCache {
 public:
  // Runs the model over a batch without reading logits (Engine::Prefill, or
  // DecoderModel::Forward with no logits).
  using Prefill = std::function<Status(std::span<SequenceInput>)>;

  // Computes the keys/values of each of `prefixes` in order, each continuing
  // the earlier one it shares the most tokens with. Empty prefixes are
  // skipped; none at all gives a cache that reuses nothing (prefix caching
  // off). Errors: those of `prefill`.
  static Result<std::unique_ptr<PrefixCache>> Build(const DecoderModel& model,
                                                    const Prefill& prefill,
                                                    std::vector<std::vector<int32_t>> prefixes);

  // A new cache for `tokens` that already holds their longest common prefix
  // with a cached prefix, at most all tokens but the last (one must run to
  // produce logits); *reused is how many tokens it holds.
  std::unique_ptr<KvCache> CacheFor(std::span<const int32_t> tokens, int64_t* reused) const;

  // Readies *cache, which holds the keys/values of `held` (or is null), for
  // `tokens`: it keeps their common prefix (at most all tokens but the last)
  // where that is at least what it took over from a cached prefix, and
  // otherwise is replaced by CacheFor(tokens). Returns how many tokens of
  // `tokens` it holds; the rest must run.
  int64_t Continue(std::span<const int32_t> held, std::span<const int32_t> tokens,
                   std::unique_ptr<KvCache>* cache) const;

  // Tokens of the longest cached prefix (0 when off).
  int64_t longest() const;

 private:
  explicit PrefixCache(const DecoderModel* model) : model_(model) {}
  struct Entry {
    std::vector<int32_t> ids;
    std::unique_ptr<KvCache> cache;
  };
  const DecoderModel* model_;
  std::vector<Entry> entries_;
};

}  // namespace ccguard
