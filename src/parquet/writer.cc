#include "parquet/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "parquet/codec.h"
#include "parquet/encoding.h"

namespace ccguard::parquet {
namespace {

using Kind = WriterColumn::Kind;

Kind KindOf(const Json& v) {
  if (v.is_null()) return Kind::kNull;
  if (v.is_boolean()) return Kind::kBool;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Kind::kDouble;
    }
    return Kind::kInt64;
  }
  if (v.is_number()) return Kind::kDouble;
  if (v.is_string()) return Kind::kString;
  return Kind::kJson;
}

Kind Merge(Kind a, Kind b) {
  if (a == Kind::kNull) return b;
  if (b == Kind::kNull || a == b) return a;
  if ((a == Kind::kInt64 && b == Kind::kDouble) || (a == Kind::kDouble && b == Kind::kInt64)) {
    return Kind::kDouble;
  }
  return Kind::kJson;
}

void Le32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

Status SchemaBuilder::Add(const Json& row) {
  if (!row.is_object()) return Status::InvalidArgument("a Parquet row must be a JSON object");
  for (const auto& [key, value] : row.items()) {
    WriterColumn* col = nullptr;
    for (auto& c : columns_) {
      if (c.name == key) col = &c;
    }
    if (col == nullptr) {
      columns_.push_back(WriterColumn{key, Kind::kNull});
      col = &columns_.back();
    }
    col->kind = Merge(col->kind, KindOf(value));
  }
  return Status::Ok();
}

void SchemaBuilder::MoveToFront(const std::vector<std::string>& first) {
  std::vector<WriterColumn> out;
  for (const auto& name : first) {
    for (const auto& c : columns_) {
      if (c.name == name) out.push_back(c);
    }
  }
  for (const auto& c : columns_) {
    bool moved = false;
    for (const auto& name : first) moved = moved || name == c.name;
    if (!moved) out.push_back(c);
  }
  columns_ = std::move(out);
}

Writer::~Writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!closed_ && !tmp_.empty()) std::remove(tmp_.c_str());
}

Result<std::unique_ptr<Writer>> Writer::Create(const std::string& path,
                                               std::vector<WriterColumn> columns, Codec codec) {
  if (columns.empty()) return Status::InvalidArgument(path + ": a Parquet file needs a column");
  std::set<std::string> names;
  for (const auto& c : columns) {
    if (c.name.empty() || !names.insert(c.name).second) {
      return Status::InvalidArgument(path + ": empty or repeated column name '" + c.name + "'");
    }
  }
  if (codec != Codec::kUncompressed && codec != Codec::kSnappy && codec != Codec::kGzip &&
      codec != Codec::kZstd) {
    return Status::InvalidArgument("cannot write " + CodecName(codec) + " pages");
  }
  std::unique_ptr<Writer> w(new Writer());
  w->path_ = path;
  w->tmp_ = path + ".tmp";
  w->columns_ = std::move(columns);
  w->codec_ = codec;
  w->fd_ = ::open(w->tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd_ < 0) {
    return Status::IOError(w->tmp_ + ": cannot create: " + std::strerror(errno));
  }
  CCG_RETURN_IF_ERROR(w->Write("PAR1"));
  w->meta_.version = 1;
  w->meta_.created_by = "ccguard";
  SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(w->columns_.size());
  w->meta_.schema.push_back(root);
  for (const auto& c : w->columns_) {
    SchemaElement e;
    e.name = c.name;
    e.repetition = Repetition::kOptional;
    switch (c.kind) {
      case Kind::kBool:
        e.type = PhysicalType::kBoolean;
        break;
      case Kind::kInt64:
        e.type = PhysicalType::kInt64;
        break;
      case Kind::kDouble:
        e.type = PhysicalType::kDouble;
        break;
      case Kind::kNull:
      case Kind::kString:
        e.type = PhysicalType::kByteArray;
        e.converted_type = kConvUtf8;
        e.logical.kind = LogicalType::kString;
        break;
      case Kind::kJson:
        e.type = PhysicalType::kByteArray;
        e.converted_type = kConvJson;
        e.logical.kind = LogicalType::kJson;
        break;
    }
    w->meta_.schema.push_back(e);
  }
  return w;
}

Status Writer::Write(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(tmp_ + ": write failed: " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  offset_ += bytes.size();
  return Status::Ok();
}

Status Writer::WriteRowGroup(const std::vector<Json>& rows) {
  if (closed_) return Status::InvalidArgument(path_ + ": the writer is closed");
  RowGroup rg;
  rg.num_rows = static_cast<int64_t>(rows.size());
  for (size_t ci = 0; ci < columns_.size(); ++ci) {
    const WriterColumn& col = columns_[ci];
    const SchemaElement& e = meta_.schema[ci + 1];
    std::vector<uint32_t> defs;
    defs.reserve(rows.size());
    std::string values;
    uint8_t bits = 0;
    int nbits = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (!rows[r].is_object()) {
        return Status::InvalidArgument(path_ + ": row " + std::to_string(r) +
                                       " is not a JSON object");
      }
      auto it = rows[r].find(col.name);
      if (it == rows[r].end() || it->is_null()) {
        defs.push_back(0);
        continue;
      }
      const Json& v = *it;
      const Kind k = KindOf(v);
      auto mismatch = [&]() {
        return Status::InvalidArgument(path_ + ": row " + std::to_string(r) + ", column '" +
                                       col.name + "': " + v.dump() +
                                       " does not fit the column's type");
      };
      defs.push_back(1);
      switch (col.kind) {
        case Kind::kBool:
          if (k != Kind::kBool) return mismatch();
          bits |= static_cast<uint8_t>((v.get<bool>() ? 1 : 0) << nbits);
          if (++nbits == 8) {
            values.push_back(static_cast<char>(bits));
            bits = 0;
            nbits = 0;
          }
          break;
        case Kind::kInt64: {
          if (k != Kind::kInt64) return mismatch();
          int64_t x = v.get<int64_t>();
          char buf[8];
          std::memcpy(buf, &x, 8);
          values.append(buf, 8);
          break;
        }
        case Kind::kDouble: {
          if (k != Kind::kInt64 && k != Kind::kDouble) return mismatch();
          double x = v.get<double>();
          char buf[8];
          std::memcpy(buf, &x, 8);
          values.append(buf, 8);
          break;
        }
        case Kind::kNull:
        case Kind::kString:
        case Kind::kJson: {
          if (col.kind != Kind::kJson && k != Kind::kString) return mismatch();
          const std::string s = col.kind == Kind::kJson
                                    ? v.dump(-1, ' ', false, Json::error_handler_t::replace)
                                    : v.get_ref<const std::string&>();
          Le32(static_cast<uint32_t>(s.size()), &values);
          values += s;
          break;
        }
      }
    }
    if (nbits > 0) values.push_back(static_cast<char>(bits));
    std::string page;
    std::string levels;
    EncodeRle(defs, 1, &levels);
    Le32(static_cast<uint32_t>(levels.size()), &page);
    page += levels;
    page += values;
    CCG_ASSIGN_OR_RETURN(std::string compressed, Compress(codec_, page));
    if (page.size() > INT32_MAX || compressed.size() > INT32_MAX) {
      return Status::InvalidArgument(path_ + ": column '" + col.name +
                                     "' of this row group exceeds 2 GiB; write smaller groups");
    }
    PageHeader h;
    h.type = PageType::kData;
    h.uncompressed_page_size = static_cast<int32_t>(page.size());
    h.compressed_page_size = static_cast<int32_t>(compressed.size());
    h.data_page = DataPageHeader{static_cast<int32_t>(rows.size()), Encoding::kPlain,
                                 Encoding::kRle, Encoding::kRle};
    const std::string header = SerializePageHeader(h);
    ColumnChunk cc;
    cc.file_offset = static_cast<int64_t>(offset_);
    ColumnMetaData m;
    m.type = *e.type;
    m.encodings = {Encoding::kPlain, Encoding::kRle};
    m.path_in_schema = {col.name};
    m.codec = codec_;
    m.num_values = static_cast<int64_t>(rows.size());
    m.total_uncompressed_size = static_cast<int64_t>(header.size() + page.size());
    m.total_compressed_size = static_cast<int64_t>(header.size() + compressed.size());
    m.data_page_offset = static_cast<int64_t>(offset_);
    cc.meta_data = m;
    CCG_RETURN_IF_ERROR(Write(header));
    CCG_RETURN_IF_ERROR(Write(compressed));
    rg.total_byte_size += m.total_uncompressed_size;
    rg.columns.push_back(std::move(cc));
  }
  meta_.num_rows += rg.num_rows;
  meta_.row_groups.push_back(std::move(rg));
  return Status::Ok();
}

Status Writer::Close() {
  if (closed_) return Status::Ok();
  const std::string footer = SerializeFileMetaData(meta_);
  std::string tail = footer;
  Le32(static_cast<uint32_t>(footer.size()), &tail);
  tail += "PAR1";
  CCG_RETURN_IF_ERROR(Write(tail));
  if (::fsync(fd_) != 0) return Status::IOError(tmp_ + ": fsync failed: " + std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    return Status::IOError(path_ +
                           ": cannot rename the finished file into place: " + std::strerror(errno));
  }
  closed_ = true;
  return Status::Ok();
}

}  // namespace ccguard::parquet
