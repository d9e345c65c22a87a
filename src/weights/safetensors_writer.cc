#include "weights/safetensors_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "util/utf8.h"

namespace ccguard {

namespace {

std::vector<uint8_t> ToBytes(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

Status WriteFile(const std::string& path, std::string_view contents) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IOError(path + ": cannot create: " + std::strerror(errno));
  const size_t written = std::fwrite(contents.data(), 1, contents.size(), f);
  const bool write_failed = written != contents.size();
  const int write_errno = errno;
  if (std::fclose(f) != 0 || write_failed) {
    return Status::IOError(path +
                           ": write failed: " + std::strerror(write_failed ? write_errno : errno));
  }
  return Status::Ok();
}

}  // namespace

TensorToWrite F32Tensor(std::string name, std::vector<int64_t> shape,
                        const std::vector<float>& values) {
  return {std::move(name), DType::kF32, std::move(shape),
          ToBytes(values.data(), values.size() * sizeof(float))};
}

TensorToWrite Bf16Tensor(std::string name, std::vector<int64_t> shape,
                         const std::vector<float>& values) {
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = F32ToBf16(values[i]);
  return {std::move(name), DType::kBF16, std::move(shape),
          ToBytes(bits.data(), bits.size() * sizeof(uint16_t))};
}

Result<std::string> EncodeSafetensors(const std::vector<TensorToWrite>& tensors,
                                      const std::map<std::string, std::string>& metadata) {
  // Insertion-ordered, so the header lists tensors in the order given, each as
  // {"dtype", "shape", "data_offsets"}, then "__metadata__": the layout of the tiny-a fixtures.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    auto bad = [&t](const std::string& msg) {
      return Status::InvalidArgument("tensor \"" + t.name + "\": " + msg);
    };
    if (!IsValidUtf8(t.name)) return bad("name is not valid UTF-8");
    if (t.name == "__metadata__") return bad("reserved name");
    if (!names.insert(t.name).second) return bad("duplicate name");
    uint64_t numel = 1;
    bool overflow = false;
    for (int64_t d : t.shape) {
      if (d < 0) return bad("negative dimension " + std::to_string(d));
      overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
    }
    uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow(numel, DTypeSize(t.dtype), &nbytes);
    if (overflow) return bad("shape overflows 64 bits");
    if (nbytes != t.bytes.size()) {
      return bad("has " + std::to_string(t.bytes.size()) + " bytes, but its shape and dtype " +
                 DTypeName(t.dtype) + " need " + std::to_string(nbytes));
    }
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = DTypeName(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + t.bytes.size()};
    header[t.name] = std::move(entry);
    offset += t.bytes.size();
  }
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::string text = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  std::string out;
  out.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out += text;
  for (const TensorToWrite& t : tensors) {
    out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  }
  return out;
}

Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  Result<std::string> bytes = EncodeSafetensors(tensors, metadata);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFile(path, *bytes);
}

Status WriteRawSafetensors(const std::string& path, std::string_view header,
                           std::string_view data) {
  const uint64_t n = header.size();
  std::string out;
  out.reserve(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out.append(header);
  out.append(data);
  return WriteFile(path, out);
}

}  // namespace ccguard
