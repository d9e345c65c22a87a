#include "parquet/thrift.h"

#include <cstring>
#include <limits>

namespace ccguard::parquet {
namespace {

int64_t Unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

Status Truncated() { return Status::Corruption("Thrift data is truncated"); }

}  // namespace

Result<uint64_t> ThriftReader::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) return Truncated();
    uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Status::Corruption("Thrift varint longer than 10 bytes");
}

Status ThriftReader::Expect(uint8_t got, uint8_t want) {
  if (got == want) return Status::Ok();
  return Status::Corruption("Thrift field of type " + std::to_string(got) + " where type " +
                            std::to_string(want) + " was expected");
}

Status ThriftReader::ReadStruct(const std::function<Status(int16_t, uint8_t)>& field) {
  if (++depth_ > kMaxThriftDepth) {
    return Status::Corruption("Thrift structs nested deeper than " +
                              std::to_string(kMaxThriftDepth));
  }
  int16_t last = 0;
  while (true) {
    if (p_ >= end_) return Truncated();
    uint8_t b = *p_++;
    uint8_t type = b & 0x0f;
    if (type == kTStop) break;
    int16_t id;
    if ((b >> 4) != 0) {
      id = static_cast<int16_t>(last + (b >> 4));
    } else {
      CCG_ASSIGN_OR_RETURN(uint64_t raw, Varint());
      int64_t v = Unzigzag(raw);
      if (v < std::numeric_limits<int16_t>::min() || v > std::numeric_limits<int16_t>::max()) {
        return Status::Corruption("Thrift field id out of range");
      }
      id = static_cast<int16_t>(v);
    }
    if (type > kTStruct) return Status::Corruption("unknown Thrift type " + std::to_string(type));
    last = id;
    CCG_RETURN_IF_ERROR(field(id, type));
  }
  --depth_;
  return Status::Ok();
}

Result<int64_t> ThriftReader::ReadI64(uint8_t type) {
  if (type != kTI64 && type != kTI32 && type != kTI16) CCG_RETURN_IF_ERROR(Expect(type, kTI64));
  CCG_ASSIGN_OR_RETURN(uint64_t raw, Varint());
  return Unzigzag(raw);
}

Result<int32_t> ThriftReader::ReadI32(uint8_t type) {
  if (type == kTByte) {
    if (p_ >= end_) return Truncated();
    return static_cast<int32_t>(static_cast<int8_t>(*p_++));
  }
  if (type != kTI32 && type != kTI16) CCG_RETURN_IF_ERROR(Expect(type, kTI32));
  CCG_ASSIGN_OR_RETURN(uint64_t raw, Varint());
  int64_t v = Unzigzag(raw);
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return Status::Corruption("Thrift i32 out of range");
  }
  return static_cast<int32_t>(v);
}

Result<bool> ThriftReader::ReadBool(uint8_t type) {
  if (type == kTBoolTrue) return true;
  if (type == kTBoolFalse) return false;
  if (type == kTByte) {  // a list element
    if (p_ >= end_) return Truncated();
    return *p_++ == kTBoolTrue;
  }
  return Status::Corruption("Thrift field of type " + std::to_string(type) +
                            " where a bool was expected");
}

Result<double> ThriftReader::ReadDouble(uint8_t type) {
  CCG_RETURN_IF_ERROR(Expect(type, kTDouble));
  if (end_ - p_ < 8) return Truncated();
  double d;
  std::memcpy(&d, p_, 8);
  p_ += 8;
  return d;
}

Result<std::string> ThriftReader::ReadBinary(uint8_t type) {
  CCG_RETURN_IF_ERROR(Expect(type, kTBinary));
  CCG_ASSIGN_OR_RETURN(uint64_t n, Varint());
  if (n > static_cast<uint64_t>(end_ - p_)) return Truncated();
  std::string s(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return s;
}

Status ThriftReader::ReadList(uint8_t type, const std::function<Status(uint8_t)>& element) {
  if (type != kTList && type != kTSet) CCG_RETURN_IF_ERROR(Expect(type, kTList));
  if (p_ >= end_) return Truncated();
  uint8_t h = *p_++;
  uint64_t n = h >> 4;
  uint8_t elem = h & 0x0f;
  if (n == 15) {
    CCG_ASSIGN_OR_RETURN(n, Varint());
  }
  // A bool element is one byte in a list (its type code is 1 or 2).
  if (elem == kTBoolTrue || elem == kTBoolFalse) elem = kTByte;
  if (elem == kTStop || elem > kTStruct) {
    return Status::Corruption("unknown Thrift list element type " + std::to_string(elem));
  }
  // Every element takes at least one byte: a longer list cannot fit.
  if (n > static_cast<uint64_t>(end_ - p_)) {
    return Status::Corruption("Thrift list of " + std::to_string(n) + " elements in " +
                              std::to_string(end_ - p_) + " bytes");
  }
  if (++depth_ > kMaxThriftDepth) return Status::Corruption("Thrift data nested too deep");
  for (uint64_t i = 0; i < n; ++i) CCG_RETURN_IF_ERROR(element(elem));
  --depth_;
  return Status::Ok();
}

Status ThriftReader::Skip(uint8_t type) {
  switch (type) {
    case kTBoolTrue:
    case kTBoolFalse:
      return Status::Ok();
    case kTByte:
      if (p_ >= end_) return Truncated();
      ++p_;
      return Status::Ok();
    case kTI16:
    case kTI32:
    case kTI64:
      return Varint().status();
    case kTDouble:
      if (end_ - p_ < 8) return Truncated();
      p_ += 8;
      return Status::Ok();
    case kTBinary:
      return ReadBinary(type).status();
    case kTList:
    case kTSet:
      return ReadList(type, [this](uint8_t e) { return Skip(e); });
    case kTMap: {
      CCG_ASSIGN_OR_RETURN(uint64_t n, Varint());
      if (n == 0) return Status::Ok();
      if (p_ >= end_) return Truncated();
      uint8_t kv = *p_++;
      if (n > static_cast<uint64_t>(end_ - p_)) return Truncated();
      if (++depth_ > kMaxThriftDepth) return Status::Corruption("Thrift data nested too deep");
      auto fix = [](uint8_t t) {
        return t == kTBoolTrue || t == kTBoolFalse ? static_cast<uint8_t>(kTByte) : t;
      };
      for (uint64_t i = 0; i < n; ++i) {
        CCG_RETURN_IF_ERROR(Skip(fix(kv >> 4)));
        CCG_RETURN_IF_ERROR(Skip(fix(kv & 0x0f)));
      }
      --depth_;
      return Status::Ok();
    }
    case kTStruct:
      return ReadStruct([this](int16_t, uint8_t t) { return Skip(t); });
    default:
      return Status::Corruption("unknown Thrift type " + std::to_string(type));
  }
}

void ThriftWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void ThriftWriter::Zigzag(int64_t v) {
  Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void ThriftWriter::FieldHeader(int16_t id, uint8_t type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | type));
  } else {
    out_->push_back(static_cast<char>(type));
    Zigzag(id);
  }
  last_id_ = id;
}

void ThriftWriter::BeginStruct() {
  stack_.push_back(static_cast<char>(last_id_ & 0xff));
  stack_.push_back(static_cast<char>((last_id_ >> 8) & 0xff));
  last_id_ = 0;
}

void ThriftWriter::EndStruct() {
  out_->push_back(static_cast<char>(kTStop));
  if (stack_.size() >= 2) {
    last_id_ = static_cast<int16_t>(static_cast<uint8_t>(stack_[stack_.size() - 2]) |
                                    (static_cast<uint8_t>(stack_.back()) << 8));
    stack_.resize(stack_.size() - 2);
  }
}

void ThriftWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, kTI32);
  Zigzag(v);
}

void ThriftWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, kTI64);
  Zigzag(v);
}

void ThriftWriter::FieldBool(int16_t id, bool v) { FieldHeader(id, v ? kTBoolTrue : kTBoolFalse); }

void ThriftWriter::FieldBinary(int16_t id, const std::string& v) {
  FieldHeader(id, kTBinary);
  ElemBinary(v);
}

void ThriftWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, kTStruct);
  BeginStruct();
}

void ThriftWriter::FieldListBegin(int16_t id, uint8_t elem_type, size_t size) {
  FieldHeader(id, kTList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | elem_type));
  } else {
    out_->push_back(static_cast<char>(0xf0 | elem_type));
    Varint(size);
  }
}

void ThriftWriter::ElemI32(int32_t v) { Zigzag(v); }

void ThriftWriter::ElemBinary(const std::string& v) {
  Varint(v.size());
  out_->append(v);
}

void ThriftWriter::ElemStructBegin() { BeginStruct(); }

}  // namespace ccguard::parquet
