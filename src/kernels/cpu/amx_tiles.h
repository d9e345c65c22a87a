// The AMX tile configuration shared by the AMX tier files. Include this only
// after the file's `#pragma GCC target(...)` enabling amx-tile. Internal
// linkage, as simd_inline.h.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace ccguard::kernels::cpu {
namespace {
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Eight tiles of 16 rows x 64 bytes.
inline void ConfigureTiles() {
  TileConfig c;
  for (int i = 0; i < 8; ++i) {
    c.rows[i] = 16;
    c.colsb[i] = 64;
  }
  _tile_loadconfig(&c);
}

}  // namespace
}  // namespace ccguard::kernels::cpu
