#include "eval/input_file.h"

#include <zlib.h>

#include <algorithm>

#include "util/mapped_file.h"

namespace ccguard::eval {

bool IsGzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

Result<std::string> Gunzip(std::string_view data, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Status::Internal(what + ": inflateInit2 failed");
  }
  std::string out;
  constexpr size_t kChunk = size_t{1} << 18;
  constexpr size_t kMaxIn = size_t{1} << 30;  // avail_in is 32-bit
  size_t in_pos = 0;
  Status status;
  bool member_done = false;
  while (true) {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      size_t n = std::min(kMaxIn, data.size() - in_pos);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    size_t old = out.size();
    out.resize(old + kChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = static_cast<uInt>(kChunk);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old + (kChunk - zs.avail_out));
    if (rc == Z_STREAM_END) {
      member_done = true;
      size_t consumed = in_pos - zs.avail_in;
      std::string_view rest = data.substr(consumed);
      if (rest.empty()) break;
      if (!IsGzip(rest)) {
        status = Status::Corruption(what + ": trailing data after gzip stream at byte " +
                                    std::to_string(consumed));
        break;
      }
      if (inflateReset(&zs) != Z_OK) {
        status = Status::Internal(what + ": inflateReset failed");
        break;
      }
      member_done = false;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos >= data.size()) {
      status = Status::Corruption(what + ": truncated gzip stream");
      break;
    }
    if (rc == Z_BUF_ERROR) continue;  // output space was full; loop grows it
    status =
        Status::Corruption(what + ": malformed gzip stream: " +
                           (zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc)));
    break;
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  if (!member_done) return Status::Corruption(what + ": truncated gzip stream");
  return out;
}

Result<std::string> ReadInputFile(const std::string& path) {
  Result<std::string> data = ReadFileToString(path);
  if (!data.ok() || !IsGzip(*data)) return data;
  return Gunzip(*data, path);
}

}  // namespace ccguard::eval
