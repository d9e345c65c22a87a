#include "eval/parquet_output.h"

#include <fstream>

#include "parquet/writer.h"
#include "util/json_file.h"

namespace ccguard::eval {
namespace {

// Calls `row(json)` for every line of `path`.
template <typename F>
Status ForEachLine(const std::string& path, F row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    CCG_ASSIGN_OR_RETURN(Json j, ParseJson(line, path + ":" + std::to_string(n)));
    if (!j.is_object()) {
      return Status::Corruption(path + ":" + std::to_string(n) + ": not a JSON object");
    }
    CCG_RETURN_IF_ERROR(row(std::move(j)));
  }
  if (in.bad()) return Status::IOError(path + ": read failed");
  return Status::Ok();
}

}  // namespace

Result<parquet::Codec> ParseCodec(const std::string& name) {
  if (name == "snappy") return parquet::Codec::kSnappy;
  if (name == "zstd") return parquet::Codec::kZstd;
  if (name == "gzip") return parquet::Codec::kGzip;
  if (name == "none") return parquet::Codec::kUncompressed;
  return Status::InvalidArgument("unknown Parquet compression '" + name +
                                 "' (expected snappy, zstd, gzip or none)");
}

Status JsonLinesToParquet(const std::string& jsonl, const std::string& out, parquet::Codec codec,
                          const std::vector<std::string>& front, size_t rows_per_group) {
  parquet::SchemaBuilder schema;
  CCG_RETURN_IF_ERROR(ForEachLine(jsonl, [&](Json j) { return schema.Add(j); }));
  schema.MoveToFront(front);
  std::vector<parquet::WriterColumn> columns = schema.columns();
  if (columns.empty()) {
    for (const auto& name : front) columns.push_back({name, parquet::WriterColumn::Kind::kNull});
  }
  CCG_ASSIGN_OR_RETURN(auto writer, parquet::Writer::Create(out, columns, codec));
  std::vector<Json> group;
  CCG_RETURN_IF_ERROR(ForEachLine(jsonl, [&](Json j) -> Status {
    group.push_back(std::move(j));
    if (group.size() < rows_per_group) return Status::Ok();
    Status s = writer->WriteRowGroup(group);
    group.clear();
    return s;
  }));
  if (!group.empty()) CCG_RETURN_IF_ERROR(writer->WriteRowGroup(group));
  return writer->Close();
}

}  // namespace ccguard::eval
