#include "parquet/encoding.h"

#include <cstring>

namespace ccguard::parquet {
namespace {

Status Ends(const char* what) { return Status::Corruption(std::string(what) + " ends early"); }

Result<uint64_t> Uvarint(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return Ends("varint");
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Status::Corruption("varint longer than 10 bytes");
}

// `width` (0..64) bits starting at bit `bit` of `base`, least significant first.
uint64_t ReadBits(const uint8_t* base, uint64_t bit, int width) {
  uint64_t v = 0;
  int got = 0;
  while (got < width) {
    uint64_t byte = bit >> 3;
    int off = static_cast<int>(bit & 7);
    int take = std::min(8 - off, width - got);
    uint64_t chunk = (static_cast<uint64_t>(base[byte]) >> off) & ((1u << take) - 1);
    v |= chunk << got;
    got += take;
    bit += take;
  }
  return v;
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

Status RleBitPackedDecoder::NextRun() {
  CCG_ASSIGN_OR_RETURN(uint64_t header, Uvarint(p_, end_));
  if (header & 1) {
    uint64_t groups = header >> 1;
    if (groups == 0) return Status::Corruption("empty bit-packed run");
    if (groups > (uint64_t{1} << 32)) return Status::Corruption("bit-packed run too long");
    uint64_t bytes = groups * static_cast<uint64_t>(bit_width_);
    size_t avail = static_cast<size_t>(end_ - p_);
    // The last run may be cut short of its padding: read what is there.
    packed_bytes_ = bytes < avail ? static_cast<size_t>(bytes) : avail;
    packed_ = true;
    packed_data_ = p_;
    packed_bit_ = 0;
    left_ = bit_width_ == 0 ? groups * 8 : (packed_bytes_ * 8) / bit_width_;
    if (left_ > groups * 8) left_ = groups * 8;
    p_ += packed_bytes_;
  } else {
    left_ = header >> 1;
    if (left_ == 0) return Status::Corruption("empty RLE run");
    int bytes = (bit_width_ + 7) / 8;
    if (end_ - p_ < bytes) return Ends("RLE run");
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
    p_ += bytes;
    if (bit_width_ < 32 && (v >> bit_width_) != 0) {
      return Status::Corruption("RLE value wider than the bit width");
    }
    value_ = v;
    packed_ = false;
  }
  return Status::Ok();
}

Status RleBitPackedDecoder::Get(size_t n, uint32_t* out) {
  if (bit_width_ < 0 || bit_width_ > 32) {
    return Status::Corruption("bit width " + std::to_string(bit_width_) + " > 32");
  }
  size_t i = 0;
  while (i < n) {
    if (left_ == 0) {
      if (p_ >= end_) return Ends("RLE/bit-packed data");
      CCG_RETURN_IF_ERROR(NextRun());
      continue;
    }
    size_t take = static_cast<size_t>(std::min<uint64_t>(left_, n - i));
    if (packed_) {
      for (size_t k = 0; k < take; ++k) {
        out[i + k] = bit_width_ == 0
                         ? 0
                         : static_cast<uint32_t>(ReadBits(packed_data_, packed_bit_, bit_width_));
        packed_bit_ += static_cast<uint64_t>(bit_width_);
      }
    } else {
      for (size_t k = 0; k < take; ++k) out[i + k] = value_;
    }
    left_ -= take;
    i += take;
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> DecodeDeltaBinaryPacked(const uint8_t* data, size_t size,
                                                     size_t max_values, size_t* consumed) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  CCG_ASSIGN_OR_RETURN(uint64_t block_size, Uvarint(p, end));
  CCG_ASSIGN_OR_RETURN(uint64_t miniblocks, Uvarint(p, end));
  CCG_ASSIGN_OR_RETURN(uint64_t total, Uvarint(p, end));
  CCG_ASSIGN_OR_RETURN(uint64_t first_raw, Uvarint(p, end));
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return Status::Corruption("DELTA_BINARY_PACKED header with block size " +
                              std::to_string(block_size) + " and " + std::to_string(miniblocks) +
                              " miniblocks");
  }
  if (total > max_values) {
    return Status::Corruption("DELTA_BINARY_PACKED stream of " + std::to_string(total) +
                              " values where at most " + std::to_string(max_values) +
                              " are expected");
  }
  const uint64_t per_mini = block_size / miniblocks;
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(total));
  uint64_t last = (first_raw >> 1) ^ (~(first_raw & 1) + 1);
  if (total > 0) out.push_back(static_cast<int64_t>(last));
  while (out.size() < total) {
    CCG_ASSIGN_OR_RETURN(uint64_t min_raw, Uvarint(p, end));
    uint64_t min_delta = (min_raw >> 1) ^ (~(min_raw & 1) + 1);
    if (static_cast<uint64_t>(end - p) < miniblocks) return Ends("DELTA_BINARY_PACKED block");
    const uint8_t* widths = p;
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && out.size() < total; ++m) {
      int w = widths[m];
      if (w > 64) return Status::Corruption("DELTA_BINARY_PACKED bit width " + std::to_string(w));
      uint64_t bytes = per_mini * static_cast<uint64_t>(w) / 8;
      uint64_t need = std::min<uint64_t>(per_mini, total - out.size());
      uint64_t need_bytes = (need * static_cast<uint64_t>(w) + 7) / 8;
      uint64_t avail = static_cast<uint64_t>(end - p);
      if (avail < need_bytes) return Ends("DELTA_BINARY_PACKED miniblock");
      for (uint64_t k = 0; k < need; ++k) {
        uint64_t delta = w == 0 ? 0 : ReadBits(p, k * static_cast<uint64_t>(w), w);
        last = last + min_delta + delta;
        out.push_back(static_cast<int64_t>(last));
      }
      // The last miniblock may lack its padding: never step past the end.
      p += std::min(bytes, avail);
    }
  }
  *consumed = static_cast<size_t>(p - data);
  return out;
}

Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, size_t n,
                                  std::vector<std::string>* out, size_t* consumed) {
  size_t used = 0;
  CCG_ASSIGN_OR_RETURN(std::vector<int64_t> lengths, DecodeDeltaBinaryPacked(data, size, n, &used));
  if (lengths.size() != n) {
    return Status::Corruption("DELTA_LENGTH_BYTE_ARRAY holds " + std::to_string(lengths.size()) +
                              " lengths for " + std::to_string(n) + " values");
  }
  size_t pos = used;
  out->clear();
  out->reserve(n);
  for (int64_t len : lengths) {
    if (len < 0 || static_cast<uint64_t>(len) > size - pos) {
      return Status::Corruption("DELTA_LENGTH_BYTE_ARRAY value of length " + std::to_string(len) +
                                " past the end of the page");
    }
    out->emplace_back(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(len));
    pos += static_cast<size_t>(len);
  }
  *consumed = pos;
  return Status::Ok();
}

Status DecodeDeltaByteArray(const uint8_t* data, size_t size, size_t n,
                            std::vector<std::string>* out) {
  size_t used = 0;
  CCG_ASSIGN_OR_RETURN(std::vector<int64_t> prefixes,
                       DecodeDeltaBinaryPacked(data, size, n, &used));
  if (prefixes.size() != n) {
    return Status::Corruption("DELTA_BYTE_ARRAY holds " + std::to_string(prefixes.size()) +
                              " prefix lengths for " + std::to_string(n) + " values");
  }
  std::vector<std::string> suffixes;
  size_t used2 = 0;
  CCG_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data + used, size - used, n, &suffixes, &used2));
  out->clear();
  out->reserve(n);
  const std::string empty;
  for (size_t i = 0; i < n; ++i) {
    const std::string& prev = i == 0 ? empty : (*out)[i - 1];
    if (prefixes[i] < 0 || static_cast<uint64_t>(prefixes[i]) > prev.size()) {
      return Status::Corruption("DELTA_BYTE_ARRAY prefix of " + std::to_string(prefixes[i]) +
                                " bytes of a " + std::to_string(prev.size()) + "-byte value");
    }
    std::string v = prev.substr(0, static_cast<size_t>(prefixes[i]));
    v += suffixes[i];
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

Status DecodeByteStreamSplit(const uint8_t* data, size_t size, size_t n, int width,
                             std::string* out) {
  if (width <= 0 || n > size / static_cast<size_t>(width)) return Ends("BYTE_STREAM_SPLIT data");
  out->assign(n * static_cast<size_t>(width), '\0');
  for (int b = 0; b < width; ++b) {
    const uint8_t* stream = data + static_cast<size_t>(b) * n;
    for (size_t i = 0; i < n; ++i) {
      (*out)[i * static_cast<size_t>(width) + static_cast<size_t>(b)] =
          static_cast<char>(stream[i]);
    }
  }
  return Status::Ok();
}

void EncodeRle(const std::vector<uint32_t>& values, int bit_width, std::string* out) {
  const int bytes = (bit_width + 7) / 8;
  size_t i = 0;
  while (i < values.size()) {
    size_t j = i;
    while (j < values.size() && values[j] == values[i]) ++j;
    uint64_t header = static_cast<uint64_t>(j - i) << 1;
    while (header >= 0x80) {
      out->push_back(static_cast<char>((header & 0x7f) | 0x80));
      header >>= 7;
    }
    out->push_back(static_cast<char>(header));
    for (int b = 0; b < bytes; ++b)
      out->push_back(static_cast<char>((values[i] >> (8 * b)) & 0xff));
    i = j;
  }
}

}  // namespace ccguard::parquet
