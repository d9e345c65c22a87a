#include "weights/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include "util/json_file.h"
#include "util/utf8.h"

namespace ccguard {

namespace {

constexpr int kMaxNesting = 64;

// A short rendering of a JSON value for error messages.
std::string Brief(const Json& v) {
  std::string s = DumpJson(v);
  if (s.size() > 48) s = s.substr(0, 45) + "...";
  return s;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Range(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// Depth of the deepest '{' / '[' outside strings. The parser itself is iterative; this bounds
// the work done on (and the recursion of anything that later walks) hostile headers.
bool NestsDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

// A JSON integer >= 0 that fits in uint64_t.
bool AsUnsigned(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {  // e.g. "-0"
    *out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

struct ParsedTensor {
  TensorView view;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Validates one header entry. Messages name neither file nor tensor; the caller adds both.
Status ParseTensor(const Json& v, uint64_t data_size, ParsedTensor* out) {
  if (!v.is_object()) return Status::Corruption("entry is not an object: " + Brief(v));

  auto dtype_it = v.find("dtype");
  if (dtype_it == v.end() || !dtype_it->is_string()) {
    return Status::Corruption("missing or non-string \"dtype\"");
  }
  Result<DType> dtype = ParseDType(dtype_it->get_ref<const std::string&>());
  if (!dtype.ok()) return dtype.status();
  out->view.dtype = *dtype;

  auto shape_it = v.find("shape");
  if (shape_it == v.end() || !shape_it->is_array()) {
    return Status::Corruption("missing or non-array \"shape\"");
  }
  uint64_t numel = 1;
  bool overflow = false;
  out->view.shape.reserve(shape_it->size());
  for (size_t i = 0; i < shape_it->size(); ++i) {
    const Json& d = (*shape_it)[i];
    uint64_t dim;
    if (!AsUnsigned(d, &dim)) {
      return Status::Corruption("shape[" + std::to_string(i) +
                                "] is not a non-negative integer: " + Brief(d));
    }
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::Corruption("shape[" + std::to_string(i) + "] is too large: " + Brief(d));
    }
    overflow |= __builtin_mul_overflow(numel, dim, &numel);
    out->view.shape.push_back(static_cast<int64_t>(dim));
  }
  uint64_t nbytes = 0;
  overflow |= numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  overflow |= __builtin_mul_overflow(numel, DTypeSize(*dtype), &nbytes);
  if (overflow) {
    return Status::Corruption("shape " + out->view.ShapeString() + " of " + DTypeName(*dtype) +
                              " overflows 64 bits");
  }

  auto off_it = v.find("data_offsets");
  if (off_it == v.end() || !off_it->is_array() || off_it->size() != 2 ||
      !AsUnsigned((*off_it)[0], &out->begin) || !AsUnsigned((*off_it)[1], &out->end)) {
    return Status::Corruption(
        "\"data_offsets\" must be [begin, end] of non-negative integers, got " +
        (off_it == v.end() ? std::string("nothing") : Brief(*off_it)));
  }
  if (out->begin > out->end) {
    return Status::Corruption("data_offsets " + Range(out->begin, out->end) + " has begin > end");
  }
  if (out->end > data_size) {
    return Status::Corruption("data_offsets " + Range(out->begin, out->end) +
                              " end past the data section of " + std::to_string(data_size) +
                              " bytes (file truncated?)");
  }
  if (out->end - out->begin != nbytes) {
    return Status::Corruption("data_offsets " + Range(out->begin, out->end) + " span " +
                              std::to_string(out->end - out->begin) + " bytes, but shape " +
                              out->view.ShapeString() + " of " + DTypeName(*dtype) + " needs " +
                              std::to_string(nbytes));
  }
  out->view.nbytes = static_cast<size_t>(nbytes);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  auto corrupt = [&path](const std::string& msg) { return Status::Corruption(path + ": " + msg); };

  const uint8_t* base = file->data();
  const size_t size = file->size();
  if (size < 8) {
    return corrupt("file is " + std::to_string(size) +
                   " bytes, shorter than the 8-byte header length (truncated?)");
  }
  uint64_t header_len;
  std::memcpy(&header_len, base, 8);  // little-endian host (see dtype.cc)
  if (header_len == 0) return corrupt("header length is 0");
  if (header_len > kMaxHeaderBytes) {
    return corrupt("header length " + std::to_string(header_len) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_len > size - 8) {
    return corrupt("header length " + std::to_string(header_len) + " is larger than the " +
                   std::to_string(size - 8) + " bytes after it (truncated?)");
  }
  std::string_view header(reinterpret_cast<const char*>(base + 8), header_len);
  size_t bad_byte = 0;
  if (!IsValidUtf8(header, &bad_byte)) {
    return corrupt("header is not valid UTF-8 at byte " + std::to_string(bad_byte));
  }
  if (header.front() != '{') return corrupt("header is not a JSON object (must start with '{')");
  // nlohmann treats a NUL byte as the end of input, which would let arbitrary bytes follow
  // the JSON. JSON text never contains a raw NUL, so reject it outright.
  if (size_t nul = header.find('\0'); nul != std::string_view::npos) {
    return corrupt("header contains a NUL byte at byte " + std::to_string(nul));
  }
  if (NestsDeeperThan(header, kMaxNesting)) {
    return corrupt("header nests deeper than " + std::to_string(kMaxNesting) + " levels");
  }

  // Parse, noting the first duplicate key of any object (nlohmann keeps only one of them).
  std::vector<std::set<std::string>> keys_at_depth;
  std::string duplicate;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    const size_t d = static_cast<size_t>(depth);
    if (event == Json::parse_event_t::object_start) {
      if (keys_at_depth.size() < d + 2) keys_at_depth.resize(d + 2);
      keys_at_depth[d + 1].clear();
    } else if (event == Json::parse_event_t::key) {
      if (keys_at_depth.size() < d + 1) keys_at_depth.resize(d + 1);
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_at_depth[d].insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  Json j;
  try {
    j = Json::parse(header.begin(), header.end(), on_event);
  } catch (const Json::parse_error& e) {
    return corrupt("header is not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const std::exception& e) {
    return corrupt(std::string("cannot parse header: ") + e.what());
  }
  if (!j.is_object()) return corrupt("header is not a JSON object");
  if (!duplicate.empty()) return corrupt("header has duplicate key " + Quote(duplicate));

  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile());
  const uint64_t data_size = size - 8 - header_len;
  const uint8_t* data = base + 8 + header_len;
  std::vector<ParsedTensor> parsed;
  parsed.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) return corrupt("\"__metadata__\" is not an object: " + Brief(*it));
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) {
          return corrupt("\"__metadata__\" value of " + Quote(m.key()) +
                         " is not a string: " + Brief(*m));
        }
        st->metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    ParsedTensor t;
    Status s = ParseTensor(*it, data_size, &t);
    if (!s.ok()) {
      return s.code() == Status::Code::kNotSupported
                 ? Status::NotSupported(path + ": tensor " + Quote(name) + ": " + s.message())
                 : corrupt("tensor " + Quote(name) + ": " + s.message());
    }
    t.view.name = name;
    t.view.data = data + t.begin;
    parsed.push_back(std::move(t));
  }

  // The byte ranges must tile the data section: no overlap, no hole, nothing after the end.
  std::vector<const ParsedTensor*> by_offset;
  by_offset.reserve(parsed.size());
  for (const ParsedTensor& t : parsed) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const ParsedTensor* a, const ParsedTensor* b) {
    return std::tie(a->begin, a->end, a->view.name) < std::tie(b->begin, b->end, b->view.name);
  });
  uint64_t cursor = 0;
  const ParsedTensor* prev = nullptr;
  for (const ParsedTensor* t : by_offset) {
    if (t->begin < cursor) {
      return corrupt("tensor " + Quote(t->view.name) + " " + Range(t->begin, t->end) +
                     " overlaps tensor " + Quote(prev->view.name) + " " +
                     Range(prev->begin, prev->end));
    }
    if (t->begin > cursor) {
      return corrupt("data bytes [" + std::to_string(cursor) + ", " + std::to_string(t->begin) +
                     ") before tensor " + Quote(t->view.name) + " belong to no tensor");
    }
    cursor = t->end;
    prev = t;
  }
  if (cursor != data_size) {
    return corrupt("data section has " + std::to_string(data_size) +
                   " bytes but the tensors end at " + std::to_string(cursor) +
                   (prev ? " (after tensor " + Quote(prev->view.name) + ")" : std::string()) +
                   "; trailing bytes are not allowed");
  }

  st->tensors_.reserve(parsed.size());
  for (ParsedTensor& t : parsed) st->tensors_.push_back(std::move(t.view));
  std::sort(st->tensors_.begin(), st->tensors_.end(),
            [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
  st->path_ = path;
  st->file_ = std::move(file);
  return st;
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorView& t, std::string_view n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace ccguard
