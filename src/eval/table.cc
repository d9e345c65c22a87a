#include "eval/table.h"

#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "eval/csv.h"
#include "eval/input_file.h"
#include "eval/json_records.h"
#include "parquet/reader.h"
#include "util/utf8.h"

namespace ccguard::eval {
namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<Table> FromCsv(std::string_view text, const std::string& what) {
  CCG_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text, what));
  Table table;
  table.path = what;
  table.csv = true;
  if (records.empty()) return Status::Corruption(what + ": empty CSV file (no header row)");
  table.header = std::move(records[0].fields);
  std::set<std::string> seen;
  for (const auto& name : table.header) {
    if (!seen.insert(name).second) {
      return Status::Corruption(what + ":" + std::to_string(records[0].line) +
                                ": duplicate column " + Quote(name));
    }
  }
  table.rows.reserve(records.size() - 1);
  for (size_t i = 1; i < records.size(); ++i) {
    const CsvRecord& rec = records[i];
    const std::string at = what + ":" + std::to_string(rec.line);
    if (IsEmptyRow(rec)) return Status::Corruption(at + ": empty row");
    if (rec.fields.size() != table.header.size()) {
      return Status::Corruption(at + ": " + std::to_string(rec.fields.size()) +
                                " fields, but the header has " +
                                std::to_string(table.header.size()));
    }
    TableRow row;
    row.line = rec.line;
    row.fields = Json::object();
    for (size_t c = 0; c < rec.fields.size(); ++c) {
      row.fields[table.header[c]] = std::move(records[i].fields[c]);
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

Result<Table> FromJson(std::string_view text, const std::string& what) {
  CCG_ASSIGN_OR_RETURN(std::vector<JsonRecord> records, ParseJsonRecords(text, what));
  Table table;
  table.path = what;
  table.rows.reserve(records.size());
  for (auto& rec : records) {
    const std::string at = what + ":" + std::to_string(rec.line);
    if (!rec.value.is_object()) return Status::Corruption(at + ": expected a JSON object");
    if (rec.value.empty()) return Status::Corruption(at + ": empty row");
    table.rows.push_back(TableRow{rec.line, std::move(rec.value)});
  }
  return table;
}

Result<Table> FromParquet(std::unique_ptr<parquet::Reader> reader,
                          const std::vector<std::string>& columns) {
  Table table;
  table.path = reader->name();
  table.parquet = true;
  std::vector<std::string> wanted;
  for (const auto& c : reader->columns()) {
    table.header.push_back(c.name);
    bool asked = columns.empty();
    for (const auto& w : columns) asked = asked || w == c.name;
    if (!asked) continue;
    if (c.unsupported.empty()) {
      wanted.push_back(c.name);
    } else {
      table.unreadable[c.name] = c.unsupported;
    }
  }
  if (wanted.empty()) return table;  // RequireColumns names what is missing
  CCG_ASSIGN_OR_RETURN(std::vector<size_t> selected, reader->Select(wanted));
  size_t line = 0;
  for (size_t g = 0; g < reader->num_row_groups(); ++g) {
    CCG_ASSIGN_OR_RETURN(std::vector<Json> rows, reader->ReadRowGroup(g, selected));
    for (Json& r : rows) table.rows.push_back(TableRow{++line, std::move(r)});
  }
  return table;
}

}  // namespace

// Whether the file at `path` starts with the Parquet magic (false if unreadable:
// ReadInputFile reports that).
bool IsParquetFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char magic[4];
  ssize_t n = ::read(fd, magic, 4);
  ::close(fd);
  return n == 4 && parquet::HasParquetMagic(std::string_view(magic, 4));
}

namespace {

const Json* Find(const TableRow& row, std::string_view column) {
  auto it = row.fields.find(std::string(column));
  return it == row.fields.end() ? nullptr : &*it;
}

Status Unreadable(const Table& table, std::string_view column) {
  auto it = table.unreadable.find(std::string(column));
  if (it == table.unreadable.end()) return Status::Ok();
  return Status::NotSupported(table.path + ": column " + Quote(column) + " is " + it->second +
                              ", which ccguard's Parquet reader does not read");
}

Status MissingField(const Table& table, const TableRow& row, std::string_view column) {
  CCG_RETURN_IF_ERROR(Unreadable(table, column));
  return Status::NotFound(Where(table, row) + ": missing field " + Quote(column));
}

}  // namespace

Result<Table> ParseTable(std::string_view text, const std::string& what, TableFormat format) {
  if (format == TableFormat::kParquet ||
      (format == TableFormat::kAuto && parquet::HasParquetMagic(text))) {
    CCG_ASSIGN_OR_RETURN(auto reader, parquet::Reader::OpenBuffer(std::string(text), what));
    return FromParquet(std::move(reader), {});
  }
  if (format == TableFormat::kAuto) {
    std::string_view t = text;
    if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
    size_t p = t.find_first_not_of(" \t\r\n");
    bool json = p != std::string_view::npos && (t[p] == '{' || t[p] == '[');
    format = json ? TableFormat::kJson : TableFormat::kCsv;
  }
  return format == TableFormat::kCsv ? FromCsv(text, what) : FromJson(text, what);
}

Result<Table> ReadTable(const std::string& path, TableFormat format,
                        const std::vector<std::string>& columns) {
  if (format == TableFormat::kParquet || (format == TableFormat::kAuto && IsParquetFile(path))) {
    CCG_ASSIGN_OR_RETURN(auto reader, parquet::Reader::Open(path));
    return FromParquet(std::move(reader), columns);
  }
  CCG_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  return ParseTable(text, path, format);
}

std::string Where(const Table& table, const TableRow& row) {
  if (table.parquet) return table.path + ": row " + std::to_string(row.line);
  return table.path + ":" + std::to_string(row.line);
}

Status RequireColumns(const Table& table, const std::vector<std::string>& columns) {
  if (!table.csv && !table.parquet) return Status::Ok();
  for (const auto& col : columns) {
    CCG_RETURN_IF_ERROR(Unreadable(table, col));
    if (!HasColumn(table, col)) {
      std::string have;
      for (const auto& h : table.header) have += (have.empty() ? "" : ",") + h;
      return Status::NotFound(table.path + (table.parquet ? "" : ":1") + ": missing column " +
                              Quote(col) + " (columns: " + have + ")");
    }
  }
  return Status::Ok();
}

bool HasColumn(const Table& table, std::string_view column) {
  if (table.csv || table.parquet) {
    for (const auto& h : table.header) {
      if (h == column) return true;
    }
    return false;
  }
  for (const auto& row : table.rows) {
    if (Find(row, column) != nullptr) return true;
  }
  return false;
}

Result<std::optional<std::string>> GetOptionalText(const Table& table, const TableRow& row,
                                                   std::string_view column) {
  const Json* v = Find(row, column);
  if (v == nullptr) return MissingField(table, row, column);
  if (v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) {
    return Status::InvalidArgument(Where(table, row) + ": field " + Quote(column) +
                                   " is not a string");
  }
  const std::string& s = v->get_ref<const std::string&>();
  if (s.empty()) return std::optional<std::string>();
  CCG_RETURN_IF_ERROR(CheckUtf8(s, Where(table, row) + ": field " + Quote(column)));
  return std::optional<std::string>(s);
}

Result<std::string> GetText(const Table& table, const TableRow& row, std::string_view column) {
  CCG_ASSIGN_OR_RETURN(std::optional<std::string> s, GetOptionalText(table, row, column));
  if (!s.has_value()) {
    return Status::InvalidArgument(Where(table, row) + ": empty field " + Quote(column));
  }
  return std::move(*s);
}

Result<std::optional<std::string>> GetScalar(const Table& table, const TableRow& row,
                                             std::string_view column) {
  const Json* v = Find(row, column);
  if (v == nullptr) return MissingField(table, row, column);
  if (v->is_null()) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  if (v->is_boolean()) return std::optional<std::string>(v->get<bool>() ? "true" : "false");
  if (v->is_number()) return std::optional<std::string>(v->dump());
  return Status::InvalidArgument(Where(table, row) + ": field " + Quote(column) +
                                 " is not a scalar");
}

Result<std::string> GetRequiredScalar(const Table& table, const TableRow& row,
                                      std::string_view column) {
  CCG_ASSIGN_OR_RETURN(std::optional<std::string> s, GetScalar(table, row, column));
  if (!s.has_value() || s->empty()) {
    return Status::InvalidArgument(Where(table, row) + ": no value in field " + Quote(column));
  }
  return std::move(*s);
}

}  // namespace ccguard::eval
