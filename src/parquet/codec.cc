#include "parquet/codec.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cstring>

namespace ccguard::parquet {
namespace {

Status SizeMismatch(Codec codec, size_t got, size_t expected) {
  return Status::Corruption(CodecName(codec) + " page inflates to " + std::to_string(got) +
                            " bytes, the header says " + std::to_string(expected));
}

Status Gunzip(const uint8_t* data, size_t size, size_t expected, std::string* out) {
  z_stream s;
  std::memset(&s, 0, sizeof(s));
  if (inflateInit2(&s, 15 + 32) != Z_OK) return Status::Internal("zlib inflateInit2 failed");
  out->resize(expected);
  s.next_in = const_cast<Bytef*>(data);
  s.avail_in = static_cast<uInt>(size);
  s.next_out = reinterpret_cast<Bytef*>(out->data());
  s.avail_out = static_cast<uInt>(expected);
  int rc = inflate(&s, Z_FINISH);
  size_t produced = expected - s.avail_out;
  // A full buffer with input left means the page holds more than it says.
  bool more = rc == Z_BUF_ERROR && s.avail_out == 0;
  inflateEnd(&s);
  if (more) return SizeMismatch(Codec::kGzip, expected + 1, expected);
  if (rc != Z_STREAM_END) {
    return Status::Corruption(std::string("GZIP page is malformed (zlib: ") +
                              (s.msg != nullptr ? s.msg : "truncated") + ")");
  }
  if (produced != expected) return SizeMismatch(Codec::kGzip, produced, expected);
  return Status::Ok();
}

}  // namespace

Status Decompress(Codec codec, const uint8_t* data, size_t size, size_t expected,
                  std::string* out) {
  switch (codec) {
    case Codec::kUncompressed:
      if (size != expected) return SizeMismatch(codec, size, expected);
      out->assign(reinterpret_cast<const char*>(data), size);
      return Status::Ok();
    case Codec::kSnappy: {
      size_t len = 0;
      if (snappy_uncompressed_length(reinterpret_cast<const char*>(data), size, &len) !=
          SNAPPY_OK) {
        return Status::Corruption("SNAPPY page is malformed");
      }
      if (len != expected) return SizeMismatch(codec, len, expected);
      out->resize(expected);
      size_t out_len = expected;
      if (snappy_uncompress(reinterpret_cast<const char*>(data), size, out->data(), &out_len) !=
              SNAPPY_OK ||
          out_len != expected) {
        return Status::Corruption("SNAPPY page is malformed");
      }
      return Status::Ok();
    }
    case Codec::kGzip:
      if (size > UINT32_MAX || expected > UINT32_MAX) {
        return Status::NotSupported("GZIP page larger than 4 GiB");
      }
      return Gunzip(data, size, expected, out);
    case Codec::kZstd: {
      out->resize(expected);
      size_t rc = ZSTD_decompress(out->data(), expected, data, size);
      if (ZSTD_isError(rc)) {
        if (ZSTD_getErrorCode(rc) == ZSTD_error_dstSize_tooSmall) {
          return SizeMismatch(codec, expected + 1, expected);
        }
        return Status::Corruption(std::string("ZSTD page is malformed (") + ZSTD_getErrorName(rc) +
                                  ")");
      }
      if (rc != expected) return SizeMismatch(codec, rc, expected);
      return Status::Ok();
    }
    default:
      return Status::NotSupported("pages compressed with " + CodecName(codec) +
                                  " (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD)");
  }
}

Result<std::string> Compress(Codec codec, const std::string& data) {
  std::string out;
  switch (codec) {
    case Codec::kUncompressed:
      return data;
    case Codec::kSnappy: {
      size_t len = snappy_max_compressed_length(data.size());
      out.resize(len);
      if (snappy_compress(data.data(), data.size(), out.data(), &len) != SNAPPY_OK) {
        return Status::Internal("snappy_compress failed");
      }
      out.resize(len);
      return out;
    }
    case Codec::kZstd: {
      out.resize(ZSTD_compressBound(data.size()));
      size_t rc = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
      if (ZSTD_isError(rc)) {
        return Status::Internal(std::string("ZSTD_compress: ") + ZSTD_getErrorName(rc));
      }
      out.resize(rc);
      return out;
    }
    case Codec::kGzip: {
      z_stream s;
      std::memset(&s, 0, sizeof(s));
      if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        return Status::Internal("zlib deflateInit2 failed");
      }
      out.resize(deflateBound(&s, static_cast<uLong>(data.size())) + 32);
      s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      s.avail_in = static_cast<uInt>(data.size());
      s.next_out = reinterpret_cast<Bytef*>(out.data());
      s.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&s, Z_FINISH);
      size_t n = out.size() - s.avail_out;
      deflateEnd(&s);
      if (rc != Z_STREAM_END) return Status::Internal("zlib deflate failed");
      out.resize(n);
      return out;
    }
    default:
      return Status::NotSupported("writing " + CodecName(codec));
  }
}

}  // namespace ccguard::parquet
