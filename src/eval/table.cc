#include "eval/table.h"

#include <set>

#include "eval/csv.h"
#include "eval/input_file.h"
#include "eval/json_records.h"
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

const Json* Find(const TableRow& row, std::string_view column) {
  auto it = row.fields.find(std::string(column));
  return it == row.fields.end() ? nullptr : &*it;
}

Status MissingField(const Table& table, const TableRow& row, std::string_view column) {
  return Status::NotFound(Where(table, row) + ": missing field " + Quote(column));
}

}  // namespace

Result<Table> ParseTable(std::string_view text, const std::string& what, TableFormat format) {
  if (format == TableFormat::kAuto) {
    std::string_view t = text;
    if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
    size_t p = t.find_first_not_of(" \t\r\n");
    bool json = p != std::string_view::npos && (t[p] == '{' || t[p] == '[');
    format = json ? TableFormat::kJson : TableFormat::kCsv;
  }
  return format == TableFormat::kCsv ? FromCsv(text, what) : FromJson(text, what);
}

Result<Table> ReadTable(const std::string& path, TableFormat format) {
  CCG_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  return ParseTable(text, path, format);
}

std::string Where(const Table& table, const TableRow& row) {
  return table.path + ":" + std::to_string(row.line);
}

Status RequireColumns(const Table& table, const std::vector<std::string>& columns) {
  if (!table.csv) return Status::Ok();
  for (const auto& col : columns) {
    if (!HasColumn(table, col)) {
      std::string have;
      for (const auto& h : table.header) have += (have.empty() ? "" : ",") + h;
      return Status::NotFound(table.path + ":1: missing column " + Quote(col) +
                              " (columns: " + have + ")");
    }
  }
  return Status::Ok();
}

bool HasColumn(const Table& table, std::string_view column) {
  if (table.csv) {
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
