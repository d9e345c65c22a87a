// Page compression: UNCOMPRESSED, SNAPPY (libsnappy), GZIP (zlib) and ZSTD
// (libzstd). Other codecs are NotSupported, naming the codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "parquet/format.h"
#include "util/status.h"

namespace ccguard::parquet {

// Decompresses `size` bytes into exactly `expected` bytes. Corruption when
// the stream is malformed or inflates to another size.
Status Decompress(Codec codec, const uint8_t* data, size_t size, size_t expected, std::string* out);

// Compresses for the writer (SNAPPY, ZSTD, GZIP or UNCOMPRESSED).
Result<std::string> Compress(Codec codec, const std::string& data);

}  // namespace ccguard::parquet
