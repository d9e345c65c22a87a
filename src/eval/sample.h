// Deterministic sampling of dataset items.
//
// Sample(items, n, seed) keeps n items chosen uniformly without replacement
// by a partial Fisher-Yates shuffle of the indices driven by SplitMix64(seed)
// (random.h), then returns them in their original order. The same input size,
// n and seed always pick the same positions, on every platform. n >= size
// returns all items unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "eval/dataset.h"

namespace ccguard::eval {

// The picked positions, ascending.
std::vector<size_t> SampleIndices(size_t size, size_t n, uint64_t seed);

std::vector<LabeledItem> Sample(std::vector<LabeledItem> items, size_t n, uint64_t seed);

}  // namespace ccguard::eval
