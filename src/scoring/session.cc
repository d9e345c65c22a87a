#include "scoring/session.h"

#include <algorithm>

#include "util/utf8.h"

namespace ccguard {

Result<ItemScore> StreamSession::Append(std::string_view chunk) {
  CCG_RETURN_IF_ERROR(CheckUtf8(chunk, "chunk"));
  std::string next = response_;
  next.append(chunk);
  CCG_ASSIGN_OR_RETURN(ItemScore s, Rescore(next));
  response_ = std::move(next);
  return s;
}

Result<ItemScore> StreamSession::Current() { return Rescore(response_); }

Result<ItemScore> StreamSession::Rescore(const std::string& response) {
  const Item item = Exchange(response);
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, owner_->Tokenize(item));
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t limit = owner_->engine().options().max_item_tokens;
  if (n > limit) {
    return Status::ResourceExhausted("the exchange is " + std::to_string(n) +
                                     " tokens; the session limit is " + std::to_string(limit));
  }
  // Reuse the longest common prefix with what the cache holds.
  const int64_t keep = owner_->prefixes().Continue(tokens_, ids, &cache_);
  tokens_.assign(ids.begin(), ids.begin() + keep);
  std::vector<int32_t> rest(ids.begin() + keep, ids.end());
  SequenceInput in{rest, cache_.get()};
  std::vector<std::vector<double>> stats;
  Status st =
      owner_->engine().ForwardLabels(std::span<SequenceInput>(&in, 1), owner_->label_ids(), &stats);
  if (!st.ok()) {
    // Appended-but-uncommitted rows are dropped; the cache is consistent again.
    cache_->Truncate(keep - cache_->prefix_length());
    return st;
  }
  auto s = owner_->ScoreFromStats(stats[0], n);
  if (!s.ok()) {
    cache_->Truncate(keep - cache_->prefix_length());
    return s.status();
  }
  tokens_ = std::move(ids);
  s->cached_tokens = keep;
  return s;
}

}  // namespace ccguard
