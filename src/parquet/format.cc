#include "parquet/format.h"

#include "parquet/thrift.h"

namespace ccguard::parquet {
namespace {

// Required-field bookkeeping: bit i set when field i was read.
struct Seen {
  uint64_t bits = 0;
  void Set(int16_t id) {
    if (id > 0 && id < 64) bits |= uint64_t{1} << id;
  }
  Status Require(std::initializer_list<int16_t> ids, const char* what) const {
    for (int16_t id : ids) {
      if ((bits & (uint64_t{1} << id)) == 0) {
        return Status::Corruption(std::string(what) + " lacks required field " +
                                  std::to_string(id));
      }
    }
    return Status::Ok();
  }
};

// Stores a successful read into *out (a field of the struct being parsed).
template <typename T, typename U>
Status Set(Result<T> r, U* out) {
  if (!r.ok()) return r.status();
  *out = std::move(*r);
  return Status::Ok();
}

template <typename E>
Result<E> ReadEnum(ThriftReader& r, uint8_t type) {
  CCG_ASSIGN_OR_RETURN(int32_t v, r.ReadI32(type));
  return static_cast<E>(v);
}

Status ReadTimeUnit(ThriftReader& r, int* unit) {
  return r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    if (id >= 1 && id <= 3) *unit = id;
    return r.Skip(t);
  });
}

Status ReadLogicalType(ThriftReader& r, LogicalType* lt) {
  return r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    if (t != kTStruct) return r.Skip(t);
    lt->kind = id;
    return r.ReadStruct([&](int16_t f, uint8_t ft) -> Status {
      switch (id) {
        case LogicalType::kTime:
        case LogicalType::kTimestamp:
          if (f == 1) return Set(r.ReadBool(ft), &lt->utc);
          if (f == 2 && ft == kTStruct) return ReadTimeUnit(r, &lt->unit);
          break;
        case LogicalType::kDecimal:
          if (f == 1) return Set(r.ReadI32(ft), &lt->scale);
          if (f == 2) return Set(r.ReadI32(ft), &lt->precision);
          break;
        case LogicalType::kInteger:
          if (f == 1) return Set(r.ReadI32(ft), &lt->bit_width);
          if (f == 2) return Set(r.ReadBool(ft), &lt->is_signed);
          break;
        default:
          break;
      }
      return r.Skip(ft);
    });
  });
}

Status ReadSchemaElement(ThriftReader& r, SchemaElement* e) {
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return Set(ReadEnum<PhysicalType>(r, t), &e->type);
      case 2:
        return Set(r.ReadI32(t), &e->type_length);
      case 3:
        return Set(ReadEnum<Repetition>(r, t), &e->repetition);
      case 4:
        return Set(r.ReadBinary(t), &e->name);
      case 5:
        return Set(r.ReadI32(t), &e->num_children);
      case 6:
        return Set(r.ReadI32(t), &e->converted_type);
      case 7:
        return Set(r.ReadI32(t), &e->scale);
      case 8:
        return Set(r.ReadI32(t), &e->precision);
      case 10:
        if (t == kTStruct) return ReadLogicalType(r, &e->logical);
        break;
      default:
        break;
    }
    return r.Skip(t);
  }));
  CCG_RETURN_IF_ERROR(seen.Require({4}, "SchemaElement"));
  if (e->num_children < 0) return Status::Corruption("SchemaElement with negative num_children");
  return Status::Ok();
}

Status ReadColumnMetaData(ThriftReader& r, ColumnMetaData* m) {
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return Set(ReadEnum<PhysicalType>(r, t), &m->type);
      case 2:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          CCG_ASSIGN_OR_RETURN(Encoding e, ReadEnum<Encoding>(r, et));
          m->encodings.push_back(e);
          return Status::Ok();
        });
      case 3:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          CCG_ASSIGN_OR_RETURN(std::string s, r.ReadBinary(et));
          m->path_in_schema.push_back(std::move(s));
          return Status::Ok();
        });
      case 4:
        return Set(ReadEnum<Codec>(r, t), &m->codec);
      case 5:
        return Set(r.ReadI64(t), &m->num_values);
      case 6:
        return Set(r.ReadI64(t), &m->total_uncompressed_size);
      case 7:
        return Set(r.ReadI64(t), &m->total_compressed_size);
      case 9:
        return Set(r.ReadI64(t), &m->data_page_offset);
      case 11:
        return Set(r.ReadI64(t), &m->dictionary_page_offset);
      default:
        return r.Skip(t);
    }
  }));
  CCG_RETURN_IF_ERROR(seen.Require({1, 2, 3, 4, 5, 6, 7, 9}, "ColumnMetaData"));
  if (m->num_values < 0 || m->total_compressed_size < 0 || m->total_uncompressed_size < 0 ||
      m->data_page_offset < 0) {
    return Status::Corruption("ColumnMetaData with a negative size or offset");
  }
  return Status::Ok();
}

Status ReadColumnChunk(ThriftReader& r, ColumnChunk* c) {
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return Set(r.ReadBinary(t), &c->file_path);
      case 2:
        return Set(r.ReadI64(t), &c->file_offset);
      case 3:
        if (t != kTStruct) break;
        c->meta_data.emplace();
        return ReadColumnMetaData(r, &*c->meta_data);
      case 8:
      case 9:
        c->encrypted = true;
        break;
      default:
        break;
    }
    return r.Skip(t);
  }));
  return Status::Ok();
}

Status ReadRowGroup(ThriftReader& r, RowGroup* g) {
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          if (et != kTStruct) return Status::Corruption("RowGroup.columns is not a struct list");
          g->columns.emplace_back();
          return ReadColumnChunk(r, &g->columns.back());
        });
      case 2:
        return Set(r.ReadI64(t), &g->total_byte_size);
      case 3:
        return Set(r.ReadI64(t), &g->num_rows);
      default:
        return r.Skip(t);
    }
  }));
  CCG_RETURN_IF_ERROR(seen.Require({1, 3}, "RowGroup"));
  if (g->num_rows < 0) return Status::Corruption("RowGroup with a negative num_rows");
  return Status::Ok();
}

}  // namespace

Result<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size) {
  ThriftReader r(data, size);
  FileMetaData m;
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return Set(r.ReadI32(t), &m.version);
      case 2:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          if (et != kTStruct) return Status::Corruption("FileMetaData.schema is not a struct list");
          m.schema.emplace_back();
          return ReadSchemaElement(r, &m.schema.back());
        });
      case 3:
        return Set(r.ReadI64(t), &m.num_rows);
      case 4:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          if (et != kTStruct) {
            return Status::Corruption("FileMetaData.row_groups is not a struct list");
          }
          m.row_groups.emplace_back();
          return ReadRowGroup(r, &m.row_groups.back());
        });
      case 5:
        return r.ReadList(t, [&](uint8_t et) -> Status {
          if (et != kTStruct) return r.Skip(et);
          KeyValue kv;
          CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t f, uint8_t ft) -> Status {
            if (f == 1) return Set(r.ReadBinary(ft), &kv.key);
            if (f == 2) return Set(r.ReadBinary(ft), &kv.value);
            return r.Skip(ft);
          }));
          m.key_value_metadata.push_back(std::move(kv));
          return Status::Ok();
        });
      case 6:
        return Set(r.ReadBinary(t), &m.created_by);
      default:
        return r.Skip(t);
    }
  }));
  CCG_RETURN_IF_ERROR(seen.Require({1, 2, 3, 4}, "FileMetaData"));
  if (m.num_rows < 0) return Status::Corruption("FileMetaData with a negative num_rows");
  return m;
}

Result<PageHeader> ParsePageHeader(const uint8_t* data, size_t size, size_t* header_size) {
  ThriftReader r(data, size);
  PageHeader h;
  Seen seen;
  CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t id, uint8_t t) -> Status {
    seen.Set(id);
    switch (id) {
      case 1:
        return Set(ReadEnum<PageType>(r, t), &h.type);
      case 2:
        return Set(r.ReadI32(t), &h.uncompressed_page_size);
      case 3:
        return Set(r.ReadI32(t), &h.compressed_page_size);
      case 5: {
        if (t != kTStruct) break;
        DataPageHeader d;
        Seen s;
        CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t f, uint8_t ft) -> Status {
          s.Set(f);
          switch (f) {
            case 1:
              return Set(r.ReadI32(ft), &d.num_values);
            case 2:
              return Set(ReadEnum<Encoding>(r, ft), &d.encoding);
            case 3:
              return Set(ReadEnum<Encoding>(r, ft), &d.definition_level_encoding);
            case 4:
              return Set(ReadEnum<Encoding>(r, ft), &d.repetition_level_encoding);
            default:
              return r.Skip(ft);
          }
        }));
        CCG_RETURN_IF_ERROR(s.Require({1, 2}, "DataPageHeader"));
        h.data_page = d;
        return Status::Ok();
      }
      case 7: {
        if (t != kTStruct) break;
        DictionaryPageHeader d;
        Seen s;
        CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t f, uint8_t ft) -> Status {
          s.Set(f);
          if (f == 1) return Set(r.ReadI32(ft), &d.num_values);
          if (f == 2) return Set(ReadEnum<Encoding>(r, ft), &d.encoding);
          return r.Skip(ft);
        }));
        CCG_RETURN_IF_ERROR(s.Require({1, 2}, "DictionaryPageHeader"));
        h.dictionary_page = d;
        return Status::Ok();
      }
      case 8: {
        if (t != kTStruct) break;
        DataPageHeaderV2 d;
        Seen s;
        CCG_RETURN_IF_ERROR(r.ReadStruct([&](int16_t f, uint8_t ft) -> Status {
          s.Set(f);
          switch (f) {
            case 1:
              return Set(r.ReadI32(ft), &d.num_values);
            case 2:
              return Set(r.ReadI32(ft), &d.num_nulls);
            case 3:
              return Set(r.ReadI32(ft), &d.num_rows);
            case 4:
              return Set(ReadEnum<Encoding>(r, ft), &d.encoding);
            case 5:
              return Set(r.ReadI32(ft), &d.definition_levels_byte_length);
            case 6:
              return Set(r.ReadI32(ft), &d.repetition_levels_byte_length);
            case 7:
              return Set(r.ReadBool(ft), &d.is_compressed);
            default:
              return r.Skip(ft);
          }
        }));
        CCG_RETURN_IF_ERROR(s.Require({1, 2, 3, 4, 5, 6}, "DataPageHeaderV2"));
        if (d.num_nulls < 0 || d.num_rows < 0 || d.definition_levels_byte_length < 0 ||
            d.repetition_levels_byte_length < 0) {
          return Status::Corruption("DataPageHeaderV2 with a negative count or length");
        }
        h.data_page_v2 = d;
        return Status::Ok();
      }
      default:
        break;
    }
    return r.Skip(t);
  }));
  CCG_RETURN_IF_ERROR(seen.Require({1, 2, 3}, "PageHeader"));
  if (h.uncompressed_page_size < 0 || h.compressed_page_size < 0) {
    return Status::Corruption("PageHeader with a negative page size");
  }
  if ((h.data_page && h.data_page->num_values < 0) ||
      (h.data_page_v2 && h.data_page_v2->num_values < 0) ||
      (h.dictionary_page && h.dictionary_page->num_values < 0)) {
    return Status::Corruption("PageHeader with a negative value count");
  }
  *header_size = r.position();
  return h;
}

std::string SerializePageHeader(const PageHeader& h) {
  std::string out;
  ThriftWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, static_cast<int32_t>(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.data_page) {
    w.FieldStructBegin(5);
    w.FieldI32(1, h.data_page->num_values);
    w.FieldI32(2, static_cast<int32_t>(h.data_page->encoding));
    w.FieldI32(3, static_cast<int32_t>(h.data_page->definition_level_encoding));
    w.FieldI32(4, static_cast<int32_t>(h.data_page->repetition_level_encoding));
    w.EndStruct();
  }
  if (h.dictionary_page) {
    w.FieldStructBegin(7);
    w.FieldI32(1, h.dictionary_page->num_values);
    w.FieldI32(2, static_cast<int32_t>(h.dictionary_page->encoding));
    w.EndStruct();
  }
  w.EndStruct();
  return out;
}

std::string SerializeFileMetaData(const FileMetaData& m) {
  std::string out;
  ThriftWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, m.version);
  w.FieldListBegin(2, kTStruct, m.schema.size());
  for (const SchemaElement& e : m.schema) {
    w.ElemStructBegin();
    if (e.type) w.FieldI32(1, static_cast<int32_t>(*e.type));
    if (e.repetition) w.FieldI32(3, static_cast<int32_t>(*e.repetition));
    w.FieldBinary(4, e.name);
    if (!e.type) w.FieldI32(5, e.num_children);
    if (e.converted_type) w.FieldI32(6, *e.converted_type);
    if (e.logical.kind == LogicalType::kString || e.logical.kind == LogicalType::kJson) {
      w.FieldStructBegin(10);  // LogicalType: an empty struct in the union's field
      w.FieldStructBegin(e.logical.kind);
      w.EndStruct();
      w.EndStruct();
    }
    w.EndStruct();
  }
  w.FieldI64(3, m.num_rows);
  w.FieldListBegin(4, kTStruct, m.row_groups.size());
  for (const RowGroup& g : m.row_groups) {
    w.ElemStructBegin();
    w.FieldListBegin(1, kTStruct, g.columns.size());
    for (const ColumnChunk& c : g.columns) {
      w.ElemStructBegin();
      w.FieldI64(2, c.file_offset);
      const ColumnMetaData& cm = *c.meta_data;
      w.FieldStructBegin(3);
      w.FieldI32(1, static_cast<int32_t>(cm.type));
      w.FieldListBegin(2, kTI32, cm.encodings.size());
      for (Encoding e : cm.encodings) w.ElemI32(static_cast<int32_t>(e));
      w.FieldListBegin(3, kTBinary, cm.path_in_schema.size());
      for (const std::string& p : cm.path_in_schema) w.ElemBinary(p);
      w.FieldI32(4, static_cast<int32_t>(cm.codec));
      w.FieldI64(5, cm.num_values);
      w.FieldI64(6, cm.total_uncompressed_size);
      w.FieldI64(7, cm.total_compressed_size);
      w.FieldI64(9, cm.data_page_offset);
      if (cm.dictionary_page_offset) w.FieldI64(11, *cm.dictionary_page_offset);
      w.EndStruct();
      w.EndStruct();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    w.EndStruct();
  }
  if (!m.key_value_metadata.empty()) {
    w.FieldListBegin(5, kTStruct, m.key_value_metadata.size());
    for (const KeyValue& kv : m.key_value_metadata) {
      w.ElemStructBegin();
      w.FieldBinary(1, kv.key);
      w.FieldBinary(2, kv.value);
      w.EndStruct();
    }
  }
  if (!m.created_by.empty()) w.FieldBinary(6, m.created_by);
  w.EndStruct();
  return out;
}

std::string CodecName(Codec c) {
  switch (c) {
    case Codec::kUncompressed:
      return "UNCOMPRESSED";
    case Codec::kSnappy:
      return "SNAPPY";
    case Codec::kGzip:
      return "GZIP";
    case Codec::kLzo:
      return "LZO";
    case Codec::kBrotli:
      return "BROTLI";
    case Codec::kLz4:
      return "LZ4";
    case Codec::kZstd:
      return "ZSTD";
    case Codec::kLz4Raw:
      return "LZ4_RAW";
  }
  return "codec " + std::to_string(static_cast<int32_t>(c));
}

std::string EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kPlain:
      return "PLAIN";
    case Encoding::kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case Encoding::kRle:
      return "RLE";
    case Encoding::kBitPacked:
      return "BIT_PACKED";
    case Encoding::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case Encoding::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case Encoding::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case Encoding::kRleDictionary:
      return "RLE_DICTIONARY";
    case Encoding::kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "encoding " + std::to_string(static_cast<int32_t>(e));
}

std::string PhysicalTypeName(PhysicalType t) {
  switch (t) {
    case PhysicalType::kBoolean:
      return "BOOLEAN";
    case PhysicalType::kInt32:
      return "INT32";
    case PhysicalType::kInt64:
      return "INT64";
    case PhysicalType::kInt96:
      return "INT96";
    case PhysicalType::kFloat:
      return "FLOAT";
    case PhysicalType::kDouble:
      return "DOUBLE";
    case PhysicalType::kByteArray:
      return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "type " + std::to_string(static_cast<int32_t>(t));
}

}  // namespace ccguard::parquet
