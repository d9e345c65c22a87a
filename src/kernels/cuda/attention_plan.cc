#include "kernels/cuda/attention_plan.h"

#include <limits>
#include <string>

namespace ccguard::kernels::cuda {

Result<std::vector<AttnLaunch>> PlanAttention(const std::vector<AttentionSequence>& seqs,
                                              const AttentionShape& shape) {
  if (shape.n_kv_heads <= 0 || shape.n_heads % shape.n_kv_heads != 0) {
    return Status::InvalidArgument("attention: " + std::to_string(shape.n_heads) +
                                   " query heads are not a multiple of " +
                                   std::to_string(shape.n_kv_heads) + " KV heads");
  }
  const int64_t group = shape.n_heads / shape.n_kv_heads;
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  std::vector<AttnLaunch> out;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const AttentionSequence& s = seqs[i];
    if (s.tokens <= 0) continue;
    const std::string where = "attention: sequence " + std::to_string(i);
    if (s.segments.size() > static_cast<size_t>(kMaxSegments)) {
      return Status::InvalidArgument(where + " has " + std::to_string(s.segments.size()) +
                                     " key/value segments; at most " +
                                     std::to_string(kMaxSegments) + " are supported");
    }
    int64_t total = 0;
    for (const KvSegment& seg : s.segments) total += seg.len;
    if (total < s.start + s.tokens) {
      return Status::InvalidArgument(where + " holds " + std::to_string(total) +
                                     " keys but its last query sits at position " +
                                     std::to_string(s.start + s.tokens - 1));
    }
    if (total > kMax || s.row + s.tokens > kMax || TilesFor(s.tokens, group) <= 0) {
      return Status::InvalidArgument(where + " is too long for one attention launch");
    }
    if (out.empty() || out.back().n_seqs == kMaxLaunchSeqs ||
        static_cast<int64_t>(out.back().n_tiles) + TilesFor(s.tokens, group) > kMax / 2) {
      out.emplace_back();
    }
    AttnLaunch& l = out.back();
    AttnSeqDesc& d = l.seq[l.n_seqs++];
    d.row = static_cast<int32_t>(s.row);
    d.tokens = static_cast<int32_t>(s.tokens);
    d.start = static_cast<int32_t>(s.start);
    d.tile_begin = l.n_tiles;
    d.n_segments = static_cast<int32_t>(s.segments.size());
    for (size_t j = 0; j < s.segments.size(); ++j) {
      d.seg_len[j] = static_cast<int32_t>(s.segments[j].len);
      d.seg_k[j] = s.segments[j].k;
      d.seg_v[j] = s.segments[j].v;
    }
    l.n_tiles += TilesFor(s.tokens, group);
  }
  return out;
}

}  // namespace ccguard::kernels::cuda
