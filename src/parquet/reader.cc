#include "parquet/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "parquet/codec.h"
#include "parquet/encoding.h"

namespace ccguard::parquet {
namespace {

constexpr int kMaxSchemaDepth = 16;

uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// ---------------------------------------------------------------- schema

struct Node {
  const SchemaElement* e = nullptr;
  std::vector<Node> children;
  size_t leaves = 0;
};

Status BuildNode(const std::vector<SchemaElement>& schema, size_t* pos, int depth, Node* node) {
  if (*pos >= schema.size()) return Status::Corruption("schema ends inside a group");
  if (depth > kMaxSchemaDepth) {
    return Status::Corruption("schema nested deeper than " + std::to_string(kMaxSchemaDepth));
  }
  node->e = &schema[(*pos)++];
  if (node->e->num_children == 0) {
    if (!node->e->type) {
      return Status::Corruption("schema element " + Quote(node->e->name) +
                                " has neither a type nor children");
    }
    node->leaves = 1;
    return Status::Ok();
  }
  if (static_cast<size_t>(node->e->num_children) > schema.size() - *pos) {
    return Status::Corruption("schema element " + Quote(node->e->name) + " claims " +
                              std::to_string(node->e->num_children) + " children");
  }
  node->children.resize(static_cast<size_t>(node->e->num_children));
  for (Node& c : node->children) {
    CCG_RETURN_IF_ERROR(BuildNode(schema, pos, depth + 1, &c));
    node->leaves += c.leaves;
  }
  return Status::Ok();
}

bool IsRepeated(const SchemaElement& e) { return e.repetition == Repetition::kRepeated; }
bool IsOptional(const SchemaElement& e) { return e.repetition == Repetition::kOptional; }
bool IsList(const SchemaElement& e) {
  return e.logical.kind == LogicalType::kList || e.converted_type == kConvList;
}
bool IsMap(const SchemaElement& e) {
  return e.logical.kind == LogicalType::kMap || e.converted_type == kConvMap ||
         e.converted_type == kConvMapKeyValue;
}

// The scalar type name of a leaf, or "" with *why set when unsupported.
std::string ScalarType(const SchemaElement& e, std::string* why) {
  const LogicalType& lt = e.logical;
  const int32_t conv = e.converted_type.value_or(-1);
  switch (*e.type) {
    case PhysicalType::kBoolean:
      return "bool";
    case PhysicalType::kFloat:
      return "float";
    case PhysicalType::kDouble:
      return "double";
    case PhysicalType::kByteArray:
      if (lt.kind == LogicalType::kString || lt.kind == LogicalType::kEnum ||
          lt.kind == LogicalType::kJson || conv == kConvUtf8 || conv == kConvEnum ||
          conv == kConvJson) {
        return "string";
      }
      if (lt.kind == LogicalType::kDecimal || conv == kConvDecimal) {
        *why = "DECIMAL stored as BYTE_ARRAY";
        return "";
      }
      return "binary";
    case PhysicalType::kInt32:
    case PhysicalType::kInt64: {
      const bool is64 = *e.type == PhysicalType::kInt64;
      if (lt.kind == LogicalType::kDate || conv == kConvDate) return "date";
      if (lt.kind == LogicalType::kTimestamp || conv == kConvTimestampMillis ||
          conv == kConvTimestampMicros) {
        return "timestamp";
      }
      if (lt.kind == LogicalType::kTime || conv == kConvTimeMillis || conv == kConvTimeMicros) {
        return "time";
      }
      if (lt.kind == LogicalType::kDecimal || conv == kConvDecimal) return "decimal";
      bool is_unsigned = (lt.kind == LogicalType::kInteger && !lt.is_signed) ||
                         (conv >= kConvUint8 && conv <= kConvUint64);
      if (is_unsigned) return is64 ? "uint64" : "uint32";
      return is64 ? "int64" : "int32";
    }
    case PhysicalType::kInt96:
      *why = "INT96 (deprecated timestamps)";
      return "";
    case PhysicalType::kFixedLenByteArray:
      *why = "FIXED_LEN_BYTE_ARRAY";
      return "";
  }
  *why = "physical type " + std::to_string(static_cast<int32_t>(*e.type));
  return "";
}

ColumnInfo Describe(const Node& n, size_t leaf) {
  ColumnInfo c;
  c.name = n.e->name;
  c.leaf = leaf;
  c.leaves = n.leaves;
  c.nullable = IsOptional(*n.e);
  const Node* elem = nullptr;
  if (n.children.empty()) {
    elem = &n;
    if (IsRepeated(*n.e)) {  // a bare repeated column: a list that is never null
      c.list = true;
      c.def_list = 0;
      c.max_def = 1;
      c.max_rep = 1;
    } else {
      c.max_def = c.nullable ? 1 : 0;
    }
  } else if (IsMap(*n.e)) {
    c.unsupported = "a map";
  } else if (!IsList(*n.e)) {
    c.unsupported = "a struct";
  } else if (IsRepeated(*n.e)) {
    c.unsupported = "a repeated list";
  } else if (n.children.size() != 1 || !IsRepeated(*n.children[0].e)) {
    c.unsupported = "a LIST group without one repeated field";
  } else {
    const Node& rep = n.children[0];
    c.list = true;
    c.def_list = c.nullable ? 1 : 0;
    c.max_rep = 1;
    if (rep.children.empty()) {  // two-level: the repeated field is the element
      elem = &rep;
      c.max_def = c.def_list + 1;
    } else if (rep.children.size() != 1 || rep.e->name == "array" ||
               rep.e->name == n.e->name + "_tuple") {
      c.unsupported = "a list of structs";
    } else if (!rep.children[0].children.empty()) {
      c.unsupported = IsList(*rep.children[0].e) ? "a list of lists" : "a list of structs";
    } else if (IsRepeated(*rep.children[0].e)) {
      c.unsupported = "a list of lists";
    } else {
      elem = &rep.children[0];
      c.max_def = c.def_list + 1 + (IsOptional(*elem->e) ? 1 : 0);
    }
  }
  if (elem != nullptr) {
    c.element = *elem->e;
    std::string why;
    std::string t = ScalarType(c.element, &why);
    if (t.empty()) {
      c.unsupported = why;
      c.type = PhysicalTypeName(*c.element.type);
    } else {
      c.type = c.list ? "list<" + t + ">" : t;
    }
  } else {
    c.type = c.unsupported;
  }
  return c;
}

// ---------------------------------------------------------------- values

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string Date(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// `units` per second: 1e3, 1e6 or 1e9; digits 3, 6 or 9.
std::string Clock(int64_t in_day, int64_t units, int digits) {
  int64_t secs = in_day / units, frac = in_day % units;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string s = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%0*lld", digits, static_cast<long long>(frac));
    s += buf;
  }
  return s;
}

void UnitOf(const SchemaElement& e, int64_t* units, int* digits) {
  int unit = e.logical.unit;
  if (unit == 0)
    unit = e.converted_type == kConvTimestampMillis || e.converted_type == kConvTimeMillis ? 1 : 2;
  *units = unit == 1 ? 1000 : unit == 2 ? 1000000 : 1000000000;
  *digits = unit == 1 ? 3 : unit == 2 ? 6 : 9;
}

std::string Timestamp(const SchemaElement& e, int64_t v) {
  int64_t units;
  int digits;
  UnitOf(e, &units, &digits);
  const int64_t per_day = 86400 * units;
  int64_t days = FloorDiv(v, per_day);
  int64_t in_day = v - days * per_day;
  std::string s = Date(days) + "T" + Clock(in_day, units, digits);
  bool utc = e.logical.kind == LogicalType::kTimestamp ? e.logical.utc : true;
  return utc ? s + "Z" : s;
}

std::string Decimal(int64_t v, int scale) {
  bool neg = v < 0;
  uint64_t mag = neg ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  std::string digits = std::to_string(mag);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  } else if (scale < 0) {
    digits.append(static_cast<size_t>(-scale), '0');
  }
  return neg ? "-" + digits : digits;
}

// Converts the physical integer `v` of a column to its JSON value.
Json FromInt(const ColumnInfo& c, const std::string& t, int64_t v) {
  if (t == "int32" || t == "int64") return Json(v);
  if (t == "uint32") return Json(static_cast<uint64_t>(static_cast<uint32_t>(v)));
  if (t == "uint64") return Json(static_cast<uint64_t>(v));
  if (t == "date") return Json(Date(v));
  if (t == "timestamp") return Json(Timestamp(c.element, v));
  if (t == "time") {
    int64_t units;
    int digits;
    UnitOf(c.element, &units, &digits);
    return Json(Clock(v, units, digits));
  }
  int scale =
      c.element.logical.kind == LogicalType::kDecimal ? c.element.logical.scale : c.element.scale;
  return Json(Decimal(v, scale));  // "decimal"
}

std::string ScalarOf(const ColumnInfo& c) {
  return c.list ? c.type.substr(5, c.type.size() - 6) : c.type;
}

// Decodes `n` values of the page's value section into `out`.
struct PageValues {
  const ColumnInfo& col;
  const std::string& scalar;
  const std::vector<Json>* dictionary;  // null when the chunk has none
};

Status DecodePlain(const PageValues& pv, const uint8_t* p, size_t size, size_t n,
                   std::vector<Json>* out) {
  const PhysicalType t = *pv.col.element.type;
  switch (t) {
    case PhysicalType::kBoolean:
      if (n > size * 8) return Status::Corruption("PLAIN booleans end early");
      for (size_t i = 0; i < n; ++i) out->push_back(Json(((p[i / 8] >> (i % 8)) & 1) != 0));
      return Status::Ok();
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      if (n > size / 4) return Status::Corruption("PLAIN values end early");
      for (size_t i = 0; i < n; ++i) {
        uint32_t u = Le32(p + 4 * i);
        if (t == PhysicalType::kFloat) {
          float f;
          std::memcpy(&f, &u, 4);
          out->push_back(Json(static_cast<double>(f)));
        } else {
          out->push_back(FromInt(pv.col, pv.scalar, static_cast<int32_t>(u)));
        }
      }
      return Status::Ok();
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      if (n > size / 8) return Status::Corruption("PLAIN values end early");
      for (size_t i = 0; i < n; ++i) {
        uint64_t u;
        std::memcpy(&u, p + 8 * i, 8);
        if (t == PhysicalType::kDouble) {
          double d;
          std::memcpy(&d, &u, 8);
          out->push_back(Json(d));
        } else {
          out->push_back(FromInt(pv.col, pv.scalar, static_cast<int64_t>(u)));
        }
      }
      return Status::Ok();
    case PhysicalType::kByteArray: {
      size_t pos = 0;
      for (size_t i = 0; i < n; ++i) {
        if (size - pos < 4) return Status::Corruption("PLAIN byte arrays end early");
        uint32_t len = Le32(p + pos);
        pos += 4;
        if (len > size - pos) return Status::Corruption("PLAIN byte array past the page's end");
        out->push_back(Json(std::string(reinterpret_cast<const char*>(p + pos), len)));
        pos += len;
      }
      return Status::Ok();
    }
    default:
      return Status::Internal("unsupported physical type reached the decoder");
  }
}

Status DecodeValues(const PageValues& pv, Encoding enc, const uint8_t* p, size_t size, size_t n,
                    std::vector<Json>* out) {
  const PhysicalType t = *pv.col.element.type;
  auto wrong = [&]() {
    return Status::Corruption(EncodingName(enc) + " encoding for a " + PhysicalTypeName(t) +
                              " column");
  };
  switch (enc) {
    case Encoding::kPlain:
      return DecodePlain(pv, p, size, n, out);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: {
      if (pv.dictionary == nullptr) {
        return Status::Corruption("dictionary-encoded page without a dictionary page");
      }
      if (n == 0) return Status::Ok();
      if (size < 1) return Status::Corruption("dictionary indices end early");
      std::vector<uint32_t> idx(n);
      RleBitPackedDecoder dec(p + 1, size - 1, p[0]);
      CCG_RETURN_IF_ERROR(dec.Get(n, idx.data()));
      for (uint32_t i : idx) {
        if (i >= pv.dictionary->size()) {
          return Status::Corruption("dictionary index " + std::to_string(i) + " of a " +
                                    std::to_string(pv.dictionary->size()) + "-entry dictionary");
        }
        out->push_back((*pv.dictionary)[i]);
      }
      return Status::Ok();
    }
    case Encoding::kRle: {
      if (t != PhysicalType::kBoolean) return wrong();
      if (size < 4) return Status::Corruption("RLE booleans end early");
      uint32_t len = Le32(p);
      if (len > size - 4) return Status::Corruption("RLE booleans past the page's end");
      std::vector<uint32_t> bits(n);
      RleBitPackedDecoder dec(p + 4, len, 1);
      CCG_RETURN_IF_ERROR(dec.Get(n, bits.data()));
      for (uint32_t b : bits) out->push_back(Json(b != 0));
      return Status::Ok();
    }
    case Encoding::kDeltaBinaryPacked: {
      if (t != PhysicalType::kInt32 && t != PhysicalType::kInt64) return wrong();
      size_t used = 0;
      CCG_ASSIGN_OR_RETURN(std::vector<int64_t> v, DecodeDeltaBinaryPacked(p, size, n, &used));
      if (v.size() != n) {
        return Status::Corruption("DELTA_BINARY_PACKED holds " + std::to_string(v.size()) +
                                  " values for " + std::to_string(n));
      }
      for (int64_t x : v) {
        out->push_back(
            FromInt(pv.col, pv.scalar, t == PhysicalType::kInt32 ? static_cast<int32_t>(x) : x));
      }
      return Status::Ok();
    }
    case Encoding::kDeltaLengthByteArray:
    case Encoding::kDeltaByteArray: {
      if (t != PhysicalType::kByteArray) return wrong();
      std::vector<std::string> v;
      size_t used = 0;
      if (enc == Encoding::kDeltaByteArray) {
        CCG_RETURN_IF_ERROR(DecodeDeltaByteArray(p, size, n, &v));
      } else {
        CCG_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(p, size, n, &v, &used));
      }
      for (std::string& s : v) out->push_back(Json(std::move(s)));
      return Status::Ok();
    }
    case Encoding::kByteStreamSplit: {
      int width = t == PhysicalType::kFloat || t == PhysicalType::kInt32    ? 4
                  : t == PhysicalType::kDouble || t == PhysicalType::kInt64 ? 8
                                                                            : 0;
      if (width == 0) return wrong();
      std::string plain;
      CCG_RETURN_IF_ERROR(DecodeByteStreamSplit(p, size, n, width, &plain));
      return DecodePlain(pv, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), n, out);
    }
    default:
      return Status::NotSupported(EncodingName(enc) + " encoding");
  }
}

}  // namespace

// ---------------------------------------------------------------- Reader

bool HasParquetMagic(std::string_view data) { return data.substr(0, 4) == "PAR1"; }

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<Reader>> Reader::Open(const std::string& path,
                                             const ReaderOptions& options) {
  std::unique_ptr<Reader> r(new Reader());
  r->name_ = path;
  r->options_ = options;
  r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) {
    int err = errno;
    std::string msg = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  struct stat st;
  if (::fstat(r->fd_, &st) != 0) return Status::IOError(path + ": cannot stat");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  r->size_ = static_cast<uint64_t>(st.st_size);
  CCG_RETURN_IF_ERROR(r->Init());
  return r;
}

Result<std::unique_ptr<Reader>> Reader::OpenBuffer(std::string bytes, std::string name,
                                                   const ReaderOptions& options) {
  std::unique_ptr<Reader> r(new Reader());
  r->name_ = std::move(name);
  r->options_ = options;
  r->buffer_ = std::move(bytes);
  r->size_ = r->buffer_.size();
  CCG_RETURN_IF_ERROR(r->Init());
  return r;
}

Status Reader::ReadBytes(uint64_t offset, size_t size, std::string* out) const {
  if (offset > size_ || size > size_ - offset) {
    return Status::Corruption(name_ + ": read of " + std::to_string(size) + " bytes at offset " +
                              std::to_string(offset) + " past the end of the file");
  }
  if (fd_ < 0) {
    out->assign(buffer_, static_cast<size_t>(offset), size);
    return Status::Ok();
  }
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out->data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(name_ + ": read failed: " + std::strerror(errno));
    if (n == 0) return Status::Corruption(name_ + ": the file shrank while being read");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Reader::Init() {
  if (size_ < 12) {
    return Status::Corruption(name_ + ": not a Parquet file (" + std::to_string(size_) +
                              " bytes; at least 12 needed)");
  }
  std::string head, tail;
  CCG_RETURN_IF_ERROR(ReadBytes(0, 4, &head));
  CCG_RETURN_IF_ERROR(ReadBytes(size_ - 8, 8, &tail));
  if (head != "PAR1") return Status::Corruption(name_ + ": not a Parquet file (no PAR1 magic)");
  if (tail.substr(4) == "PARE") {
    return Status::NotSupported(name_ + ": encrypted Parquet files are not supported");
  }
  if (tail.substr(4) != "PAR1") {
    return Status::Corruption(name_ + ": truncated Parquet file (no PAR1 magic at the end)");
  }
  uint64_t footer_len = Le32(reinterpret_cast<const uint8_t*>(tail.data()));
  if (footer_len > size_ - 12) {
    return Status::Corruption(name_ + ": footer length " + std::to_string(footer_len) +
                              " exceeds the file (" + std::to_string(size_) + " bytes)");
  }
  footer_start_ = size_ - 8 - footer_len;
  std::string footer;
  CCG_RETURN_IF_ERROR(ReadBytes(footer_start_, static_cast<size_t>(footer_len), &footer));
  auto meta = ParseFileMetaData(reinterpret_cast<const uint8_t*>(footer.data()), footer.size());
  if (!meta.ok()) return meta.status().WithContext(name_ + ": footer");
  meta_ = std::move(*meta);
  if (meta_.schema.empty()) return Status::Corruption(name_ + ": empty schema");

  Node root;
  size_t pos = 0;
  Status s = BuildNode(meta_.schema, &pos, 0, &root);
  if (!s.ok()) return s.WithContext(name_);
  if (pos != meta_.schema.size()) {
    return Status::Corruption(name_ + ": schema has elements outside the root group");
  }
  size_t leaf = 0;
  for (const Node& child : root.children) {
    columns_.push_back(Describe(child, leaf));
    leaf += child.leaves;
  }
  leaves_ = leaf;
  int64_t total = 0;
  for (size_t g = 0; g < meta_.row_groups.size(); ++g) {
    const RowGroup& rg = meta_.row_groups[g];
    if (rg.columns.size() != leaves_) {
      return Status::Corruption(name_ + ": row group " + std::to_string(g) + " has " +
                                std::to_string(rg.columns.size()) + " column chunks, the schema " +
                                std::to_string(leaves_));
    }
    if (rg.num_rows > INT64_MAX - total) return Status::Corruption(name_ + ": row count overflow");
    total += rg.num_rows;
  }
  if (total != meta_.num_rows) {
    return Status::Corruption(name_ + ": the row groups hold " + std::to_string(total) +
                              " rows, the footer says " + std::to_string(meta_.num_rows));
  }
  return Status::Ok();
}

Result<std::vector<size_t>> Reader::Select(const std::vector<std::string>& names) const {
  std::vector<size_t> out;
  auto check = [&](size_t i) -> Status {
    if (columns_[i].unsupported.empty()) return Status::Ok();
    return Status::NotSupported(name_ + ": column " + Quote(columns_[i].name) + " is " +
                                columns_[i].unsupported +
                                ", which ccguard's Parquet reader does not read (it reads "
                                "scalars and lists of scalars)");
  };
  if (names.empty()) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      CCG_RETURN_IF_ERROR(check(i));
      out.push_back(i);
    }
    return out;
  }
  for (const std::string& n : names) {
    size_t i = 0;
    while (i < columns_.size() && columns_[i].name != n) ++i;
    if (i == columns_.size()) {
      std::string have;
      for (const auto& c : columns_) have += (have.empty() ? "" : ",") + c.name;
      return Status::NotFound(name_ + ": missing column " + Quote(n) + " (columns: " + have + ")");
    }
    CCG_RETURN_IF_ERROR(check(i));
    out.push_back(i);
  }
  return out;
}

Result<std::vector<Json>> Reader::ReadRowGroup(size_t g, const std::vector<size_t>& columns) {
  if (g >= meta_.row_groups.size()) {
    return Status::InvalidArgument(name_ + ": no row group " + std::to_string(g));
  }
  if (columns.empty()) return Status::InvalidArgument(name_ + ": no column selected");
  std::vector<Json> rows;
  for (size_t idx : columns) {
    if (idx >= columns_.size() || !columns_[idx].unsupported.empty()) {
      return Status::InvalidArgument(name_ + ": column index " + std::to_string(idx) +
                                     " was not selected by Select");
    }
    std::vector<Json> values;
    Status s = ReadColumn(g, columns_[idx], &values);
    if (!s.ok()) {
      return s.WithContext(name_ + ": column " + Quote(columns_[idx].name) + ", row group " +
                           std::to_string(g));
    }
    if (rows.empty()) rows.assign(values.size(), Json::object());
    for (size_t r = 0; r < values.size(); ++r) rows[r][columns_[idx].name] = std::move(values[r]);
  }
  return rows;
}

Status Reader::ReadColumn(size_t g, const ColumnInfo& col, std::vector<Json>* rows) {
  const RowGroup& rg = meta_.row_groups[g];
  const ColumnChunk& cc = rg.columns[col.leaf];
  if (cc.encrypted) return Status::NotSupported("encrypted column chunk");
  if (!cc.file_path.empty()) {
    return Status::NotSupported("column chunk stored in another file (" + cc.file_path + ")");
  }
  if (!cc.meta_data) return Status::Corruption("column chunk without metadata");
  const ColumnMetaData& m = *cc.meta_data;
  if (m.type != *col.element.type) {
    return Status::Corruption("column chunk of type " + PhysicalTypeName(m.type) +
                              ", the schema says " + PhysicalTypeName(*col.element.type));
  }
  if (static_cast<uint64_t>(m.num_values) > options_.max_chunk_values) {
    return Status::ResourceExhausted("column chunk of " + std::to_string(m.num_values) +
                                     " values (at most " +
                                     std::to_string(options_.max_chunk_values) + ")");
  }
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
      *m.dictionary_page_offset < start) {
    start = *m.dictionary_page_offset;
  }
  if (start < 4 || static_cast<uint64_t>(start) > footer_start_ ||
      static_cast<uint64_t>(m.total_compressed_size) >
          footer_start_ - static_cast<uint64_t>(start)) {
    return Status::Corruption("column chunk at offset " + std::to_string(start) + " of " +
                              std::to_string(m.total_compressed_size) +
                              " bytes lies outside the data section");
  }
  std::string chunk;
  CCG_RETURN_IF_ERROR(ReadBytes(static_cast<uint64_t>(start),
                                static_cast<size_t>(m.total_compressed_size), &chunk));
  const uint8_t* base = reinterpret_cast<const uint8_t*>(chunk.data());

  const std::string scalar = ScalarOf(col);
  const int def_width = BitWidth(static_cast<uint64_t>(col.max_def));
  const int rep_width = BitWidth(static_cast<uint64_t>(col.max_rep));
  std::vector<Json> dictionary;
  bool have_dictionary = false;
  std::vector<uint32_t> defs, reps;
  std::vector<Json> values;
  uint64_t slots = 0;
  size_t pos = 0;
  std::string page;
  while (slots < static_cast<uint64_t>(m.num_values)) {
    if (pos >= chunk.size()) {
      return Status::Corruption("column chunk ends after " + std::to_string(slots) + " of " +
                                std::to_string(m.num_values) + " values");
    }
    size_t hsize = 0;
    auto ph = ParsePageHeader(base + pos, chunk.size() - pos, &hsize);
    if (!ph.ok())
      return ph.status().WithContext("page header at chunk byte " + std::to_string(pos));
    const PageHeader& h = *ph;
    pos += hsize;
    if (static_cast<size_t>(h.compressed_page_size) > chunk.size() - pos) {
      return Status::Corruption("page of " + std::to_string(h.compressed_page_size) +
                                " bytes runs past the column chunk");
    }
    const uint8_t* payload = base + pos;
    const size_t payload_size = static_cast<size_t>(h.compressed_page_size);
    pos += payload_size;
    if (static_cast<size_t>(h.uncompressed_page_size) > options_.max_page_bytes) {
      return Status::ResourceExhausted("page of " + std::to_string(h.uncompressed_page_size) +
                                       " bytes (at most " +
                                       std::to_string(options_.max_page_bytes) + ")");
    }
    const PageValues pv{col, scalar, have_dictionary ? &dictionary : nullptr};

    if (h.type == PageType::kIndex) continue;
    if (h.type == PageType::kDictionary) {
      if (!h.dictionary_page) return Status::Corruption("dictionary page without its header");
      if (have_dictionary || slots > 0) {
        return Status::Corruption("dictionary page after the first page");
      }
      const DictionaryPageHeader& d = *h.dictionary_page;
      if (d.encoding != Encoding::kPlain && d.encoding != Encoding::kPlainDictionary) {
        return Status::Corruption("dictionary page encoded " + EncodingName(d.encoding));
      }
      if (static_cast<uint64_t>(d.num_values) > options_.max_chunk_values) {
        return Status::ResourceExhausted("dictionary of " + std::to_string(d.num_values) +
                                         " values");
      }
      CCG_RETURN_IF_ERROR(Decompress(m.codec, payload, payload_size,
                                     static_cast<size_t>(h.uncompressed_page_size), &page));
      CCG_RETURN_IF_ERROR(DecodePlain(pv, reinterpret_cast<const uint8_t*>(page.data()),
                                      page.size(), static_cast<size_t>(d.num_values), &dictionary));
      have_dictionary = true;
      continue;
    }
    if (h.type != PageType::kData && h.type != PageType::kDataV2) {
      return Status::Corruption("unknown page type " + std::to_string(static_cast<int>(h.type)));
    }
    const bool v2 = h.type == PageType::kDataV2;
    if (v2 ? !h.data_page_v2 : !h.data_page) {
      return Status::Corruption("data page without its header");
    }
    const size_t n = static_cast<size_t>(v2 ? h.data_page_v2->num_values : h.data_page->num_values);
    if (n > static_cast<uint64_t>(m.num_values) - slots) {
      return Status::Corruption("pages hold more values than the column chunk's " +
                                std::to_string(m.num_values));
    }
    const Encoding enc = v2 ? h.data_page_v2->encoding : h.data_page->encoding;
    const size_t first = defs.size();
    defs.resize(first + n, static_cast<uint32_t>(col.max_def));
    reps.resize(first + n, 0);
    const uint8_t* vals;
    size_t vals_size;
    if (v2) {
      const DataPageHeaderV2& d = *h.data_page_v2;
      size_t rl = static_cast<size_t>(d.repetition_levels_byte_length);
      size_t dl = static_cast<size_t>(d.definition_levels_byte_length);
      if (rl > payload_size || dl > payload_size - rl ||
          rl + dl > static_cast<size_t>(h.uncompressed_page_size)) {
        return Status::Corruption("data page v2 levels longer than the page");
      }
      if (col.max_rep > 0) {
        RleBitPackedDecoder dec(payload, rl, rep_width);
        CCG_RETURN_IF_ERROR(dec.Get(n, reps.data() + first));
      }
      if (col.max_def > 0) {
        RleBitPackedDecoder dec(payload + rl, dl, def_width);
        CCG_RETURN_IF_ERROR(dec.Get(n, defs.data() + first));
      }
      const size_t body = payload_size - rl - dl;
      const size_t body_raw = static_cast<size_t>(h.uncompressed_page_size) - rl - dl;
      if (d.is_compressed && m.codec != Codec::kUncompressed) {
        CCG_RETURN_IF_ERROR(Decompress(m.codec, payload + rl + dl, body, body_raw, &page));
      } else {
        if (body != body_raw) return Status::Corruption("uncompressed page v2 size mismatch");
        page.assign(reinterpret_cast<const char*>(payload + rl + dl), body);
      }
      vals = reinterpret_cast<const uint8_t*>(page.data());
      vals_size = page.size();
    } else {
      const DataPageHeader& d = *h.data_page;
      CCG_RETURN_IF_ERROR(Decompress(m.codec, payload, payload_size,
                                     static_cast<size_t>(h.uncompressed_page_size), &page));
      const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
      size_t left = page.size();
      auto levels = [&](int max, int width, Encoding e, uint32_t* out) -> Status {
        if (max == 0) return Status::Ok();
        if (e != Encoding::kRle) {
          return Status::NotSupported("levels encoded " + EncodingName(e) + " (only RLE)");
        }
        if (left < 4) return Status::Corruption("levels end early");
        uint32_t len = Le32(p);
        if (len > left - 4) return Status::Corruption("levels longer than the page");
        RleBitPackedDecoder dec(p + 4, len, width);
        CCG_RETURN_IF_ERROR(dec.Get(n, out));
        p += 4 + len;
        left -= 4 + len;
        return Status::Ok();
      };
      CCG_RETURN_IF_ERROR(
          levels(col.max_rep, rep_width, d.repetition_level_encoding, reps.data() + first));
      CCG_RETURN_IF_ERROR(
          levels(col.max_def, def_width, d.definition_level_encoding, defs.data() + first));
      vals = p;
      vals_size = left;
    }
    size_t present = 0;
    for (size_t i = first; i < first + n; ++i) {
      if (defs[i] > static_cast<uint32_t>(col.max_def) ||
          reps[i] > static_cast<uint32_t>(col.max_rep)) {
        return Status::Corruption("level above the column's maximum");
      }
      if (defs[i] == static_cast<uint32_t>(col.max_def)) ++present;
    }
    CCG_RETURN_IF_ERROR(DecodeValues(pv, enc, vals, vals_size, present, &values));
    slots += n;
  }
  if (values.size() > SIZE_MAX / 2) return Status::Internal("value count overflow");

  // Assemble rows.
  size_t next = 0;
  const uint32_t max_def = static_cast<uint32_t>(col.max_def);
  if (!col.list) {
    rows->reserve(defs.size());
    for (uint32_t d : defs) rows->push_back(d == max_def ? std::move(values[next++]) : Json());
  } else {
    const uint32_t def_list = static_cast<uint32_t>(col.def_list);
    for (size_t i = 0; i < defs.size(); ++i) {
      const uint32_t d = defs[i];
      if (reps[i] == 0) {
        if (d < def_list) {
          rows->push_back(Json());
          continue;
        }
        rows->push_back(Json::array());
        if (d == def_list) continue;
      } else if (rows->empty() || !rows->back().is_array() || d <= def_list) {
        return Status::Corruption("repetition levels continue a list that was not started");
      }
      rows->back().push_back(d == max_def ? std::move(values[next++]) : Json());
    }
  }
  if (rows->size() != static_cast<size_t>(rg.num_rows)) {
    return Status::Corruption("column holds " + std::to_string(rows->size()) +
                              " rows, the row group " + std::to_string(rg.num_rows));
  }
  return Status::Ok();
}

Result<std::vector<Json>> ReadAll(const std::string& path, const std::vector<std::string>& names) {
  CCG_ASSIGN_OR_RETURN(std::unique_ptr<Reader> r, Reader::Open(path));
  CCG_ASSIGN_OR_RETURN(std::vector<size_t> cols, r->Select(names));
  std::vector<Json> rows;
  for (size_t g = 0; g < r->num_row_groups(); ++g) {
    if (cols.empty()) break;
    CCG_ASSIGN_OR_RETURN(std::vector<Json> part, r->ReadRowGroup(g, cols));
    for (Json& j : part) rows.push_back(std::move(j));
  }
  return rows;
}

}  // namespace ccguard::parquet
