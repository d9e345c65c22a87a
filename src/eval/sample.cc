#include "eval/sample.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "eval/random.h"

namespace ccguard::eval {

std::vector<size_t> SampleIndices(size_t size, size_t n, uint64_t seed) {
  std::vector<size_t> idx(size);
  std::iota(idx.begin(), idx.end(), size_t{0});
  if (n >= size) return idx;
  SplitMix64 rng(seed);
  for (size_t i = 0; i < n; ++i) {
    size_t j = i + static_cast<size_t>(rng.Below(size - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  return idx;
}

std::vector<LabeledItem> Sample(std::vector<LabeledItem> items, size_t n, uint64_t seed) {
  if (n >= items.size()) return items;
  std::vector<LabeledItem> out;
  out.reserve(n);
  for (size_t i : SampleIndices(items.size(), n, seed)) out.push_back(std::move(items[i]));
  return out;
}

}  // namespace ccguard::eval
