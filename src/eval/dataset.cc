#include "eval/dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>

#include "eval/csv.h"
#include "eval/input_file.h"
#include "eval/sample.h"
#include "eval/table.h"
#include "util/utf8.h"

namespace ccguard::eval {
namespace {

using Items = std::vector<LabeledItem>;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JoinQuoted(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + Quote(s);
  return out;
}

// Reads `column` and maps it to unsafe (true) / safe (false). Values are
// compared exactly, or case-insensitively when `ignore_case`. An empty
// `safe_values` means "anything else is safe".
Result<bool> LabelOf(const Table& t, const TableRow& row, const std::string& column,
                     const std::vector<std::string>& unsafe_values,
                     const std::vector<std::string>& safe_values, bool ignore_case = false) {
  CCG_ASSIGN_OR_RETURN(std::string value, GetRequiredScalar(t, row, column));
  auto norm = [&](const std::string& s) { return ignore_case ? Lower(s) : s; };
  const std::string v = norm(value);
  for (const auto& u : unsafe_values) {
    if (norm(u) == v) return true;
  }
  if (safe_values.empty()) return false;
  for (const auto& s : safe_values) {
    if (norm(s) == v) return false;
  }
  return Status::InvalidArgument(Where(t, row) + ": unknown value " + Quote(value) + " in " +
                                 Quote(column) + " (expected " + JoinQuoted(unsafe_values) +
                                 " for unsafe or " + JoinQuoted(safe_values) + " for safe)");
}

Result<std::string> IdOf(const Table& t, const TableRow& row, const std::string& id_column) {
  if (id_column.empty()) return std::to_string(row.line);
  return GetRequiredScalar(t, row, id_column);
}

LabeledItem MakeItem(const DatasetSpec& spec, std::string id, std::string prompt,
                     std::optional<std::string> response, bool unsafe) {
  LabeledItem item;
  item.dataset = spec.name;
  item.id = std::move(id);
  item.prompt = std::move(prompt);
  item.response = std::move(response);
  item.unsafe = unsafe;
  return item;
}

// --- Kinds whose every row has the same label --------------------------------

Result<Items> ReadFixedLabel(const DatasetSpec& spec, const Table& t, const std::string& prompt_col,
                             const std::string& id_col, bool unsafe) {
  std::vector<std::string> cols = {prompt_col};
  if (!id_col.empty()) cols.push_back(id_col);
  CCG_RETURN_IF_ERROR(RequireColumns(t, cols));
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(std::string id, IdOf(t, row, id_col));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, prompt_col));
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::nullopt, unsafe));
  }
  return items;
}

// --- ToxicChat ---------------------------------------------------------------

Result<Items> ReadToxicChat(const DatasetSpec& spec, const Table& t, ReadStats* stats,
                            bool jailbreak_only) {
  const bool has_toxicity = HasColumn(t, "toxicity");
  if (!jailbreak_only && !has_toxicity) {
    return Status::NotFound(
        t.path +
        ": no 'toxicity' column, so ToxicChat labels are missing (the 4-column test "
        "file has none); use toxic-chat_annotation_test.human.reconstructed.csv, which "
        "has toxicity, or kind toxicchat-jailbreak for the jailbreak subset");
  }
  std::vector<std::string> cols = {"conv_id", "user_input"};
  cols.push_back(jailbreak_only ? "jailbreaking" : "toxicity");
  CCG_RETURN_IF_ERROR(RequireColumns(t, cols));
  Items items;
  for (const auto& row : t.rows) {
    bool unsafe = true;
    if (jailbreak_only) {
      CCG_ASSIGN_OR_RETURN(bool jb, LabelOf(t, row, "jailbreaking", {"1"}, {"0"}));
      if (!jb) {
        ++stats->skipped["jailbreaking == 0"];
        continue;
      }
      if (has_toxicity) {
        CCG_ASSIGN_OR_RETURN(bool toxic, LabelOf(t, row, "toxicity", {"1"}, {"0"}));
        if (!toxic) {
          return Status::InvalidArgument(Where(t, row) + ": jailbreaking == 1 but toxicity == 0");
        }
      }
    } else {
      CCG_ASSIGN_OR_RETURN(unsafe, LabelOf(t, row, "toxicity", {"1"}, {"0"}));
    }
    CCG_ASSIGN_OR_RETURN(std::string id, IdOf(t, row, "conv_id"));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "user_input"));
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::nullopt, unsafe));
  }
  return items;
}

// --- Aegis 2.0 -----------------------------------------------------------------

Result<Items> ReadAegis2(const DatasetSpec& spec, const Table& t, ReadStats* stats,
                         bool response_level) {
  Items items;
  for (const auto& row : t.rows) {
    std::string id = std::to_string(row.line);
    if (row.fields.contains("id")) {
      CCG_ASSIGN_OR_RETURN(std::optional<std::string> v, GetScalar(t, row, "id"));
      if (v.has_value() && !v->empty()) id = *v;
    }
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "prompt"));
    if (!response_level) {
      CCG_ASSIGN_OR_RETURN(bool unsafe, LabelOf(t, row, "prompt_label", {"unsafe"}, {"safe"}));
      items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::nullopt, unsafe));
      continue;
    }
    CCG_ASSIGN_OR_RETURN(std::optional<std::string> response, GetOptionalText(t, row, "response"));
    if (!response.has_value()) {
      ++stats->skipped["no response"];
      continue;
    }
    CCG_ASSIGN_OR_RETURN(bool unsafe, LabelOf(t, row, "response_label", {"unsafe"}, {"safe"}));
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::move(response), unsafe));
  }
  return items;
}

// --- BeaverTails ---------------------------------------------------------------

Result<Items> ReadBeaverTails(const DatasetSpec& spec, const Table& t) {
  CCG_RETURN_IF_ERROR(RequireColumns(t, {"prompt", "response", "is_safe"}));
  Items items;
  for (const auto& row : t.rows) {
    // is_safe: "True"/"False" in the CSV copy, a JSON boolean in JSON Lines.
    CCG_ASSIGN_OR_RETURN(bool safe, LabelOf(t, row, "is_safe", {"true"}, {"false"}, true));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "prompt"));
    CCG_ASSIGN_OR_RETURN(std::string response, GetText(t, row, "response"));
    items.push_back(
        MakeItem(spec, std::to_string(row.line), std::move(prompt), std::move(response), !safe));
  }
  return items;
}

// --- MMLU (header-less CSV, or the Hub's Parquet) ---------------------------------

// The prompt a user would paste: the question, then its options lettered.
std::string MmluPrompt(const std::string& question, const std::vector<std::string>& options) {
  std::string prompt = question;
  for (size_t i = 0; i < options.size(); ++i) {
    prompt += "\n";
    prompt += static_cast<char>('A' + i);
    prompt += ". " + options[i];
  }
  return prompt;
}

// cais/mmlu on the Hub: question (string), subject, choices (list of 4 strings), answer (0-3).
Result<Items> ReadMmluParquet(const DatasetSpec& spec, ReadStats* stats) {
  CCG_ASSIGN_OR_RETURN(
      Table t, ReadTable(spec.path, TableFormat::kParquet, {"question", "choices", "answer"}));
  CCG_RETURN_IF_ERROR(RequireColumns(t, {"question", "choices", "answer"}));
  stats->rows = t.rows.size();
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(std::string question, GetText(t, row, "question"));
    const Json& choices = row.fields["choices"];
    if (!choices.is_array() || choices.size() != 4) {
      return Status::InvalidArgument(Where(t, row) +
                                     ": field 'choices' is not a list of 4 options");
    }
    std::vector<std::string> options;
    for (const Json& c : choices) {
      if (!c.is_string() || c.get_ref<const std::string&>().empty()) {
        return Status::InvalidArgument(Where(t, row) +
                                       ": an empty or non-text option in 'choices'");
      }
      CCG_RETURN_IF_ERROR(CheckUtf8(c.get<std::string>(), Where(t, row) + ": field 'choices'"));
      options.push_back(c.get<std::string>());
    }
    const Json& answer = row.fields["answer"];
    if (!answer.is_number_integer() || answer.get<int64_t>() < 0 || answer.get<int64_t>() > 3) {
      return Status::InvalidArgument(Where(t, row) + ": field 'answer' is not an index 0-3");
    }
    items.push_back(MakeItem(spec, std::to_string(row.line), MmluPrompt(question, options),
                             std::nullopt, false));
  }
  return items;
}

Result<Items> ReadMmlu(const DatasetSpec& spec, ReadStats* stats) {
  if (IsParquetFile(spec.path)) return ReadMmluParquet(spec, stats);
  CCG_ASSIGN_OR_RETURN(std::string text, ReadInputFile(spec.path));
  CCG_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ParseCsv(text, spec.path));
  stats->rows = records.size();
  Items items;
  for (const auto& rec : records) {
    const std::string at = spec.path + ":" + std::to_string(rec.line);
    if (IsEmptyRow(rec)) return Status::Corruption(at + ": empty row");
    if (rec.fields.size() != 6) {
      return Status::Corruption(at + ": " + std::to_string(rec.fields.size()) +
                                " fields, expected 6 (question,A,B,C,D,answer)");
    }
    static const char* kNames[] = {"question", "A", "B", "C", "D"};
    for (int i = 0; i < 5; ++i) {
      if (rec.fields[i].empty()) {
        return Status::InvalidArgument(at + ": empty field " + Quote(kNames[i]));
      }
      CCG_RETURN_IF_ERROR(CheckUtf8(rec.fields[i], at + ": field " + Quote(kNames[i])));
    }
    const std::string& answer = rec.fields[5];
    if (answer != "A" && answer != "B" && answer != "C" && answer != "D") {
      return Status::InvalidArgument(at + ": unknown answer " + Quote(answer) +
                                     " (expected A, B, C or D)");
    }
    std::string prompt =
        MmluPrompt(rec.fields[0], {rec.fields[1], rec.fields[2], rec.fields[3], rec.fields[4]});
    items.push_back(
        MakeItem(spec, std::to_string(rec.line), std::move(prompt), std::nullopt, false));
  }
  return items;
}

// --- OpenAI moderation ---------------------------------------------------------

Result<Items> ReadOpenAiModeration(const DatasetSpec& spec, const Table& t) {
  static const std::vector<std::string> kFlags = {"S", "H", "V", "HR", "SH", "S3", "H2", "V2"};
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "prompt"));
    bool unsafe = false;
    for (const auto& flag : kFlags) {
      if (!row.fields.contains(flag)) continue;  // missing key: not labelled
      CCG_ASSIGN_OR_RETURN(bool set, LabelOf(t, row, flag, {"1"}, {"0"}));
      unsafe = unsafe || set;
    }
    items.push_back(
        MakeItem(spec, std::to_string(row.line), std::move(prompt), std::nullopt, unsafe));
  }
  return items;
}

// --- HarmBench -----------------------------------------------------------------

Result<Items> ReadHarmBench(const DatasetSpec& spec, const Table& t) {
  CCG_RETURN_IF_ERROR(RequireColumns(t, {"Behavior", "ContextString", "BehaviorID"}));
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(std::string id, IdOf(t, row, "BehaviorID"));
    CCG_ASSIGN_OR_RETURN(std::string behavior, GetText(t, row, "Behavior"));
    CCG_ASSIGN_OR_RETURN(std::optional<std::string> context,
                         GetOptionalText(t, row, "ContextString"));
    std::string prompt = context.has_value() ? *context + "\n\n---\n\n" + behavior : behavior;
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::nullopt, true));
  }
  return items;
}

// --- XSTest --------------------------------------------------------------------

Result<Items> ReadXsTest(const DatasetSpec& spec, const Table& t) {
  CCG_RETURN_IF_ERROR(RequireColumns(t, {"id", "prompt", "label"}));
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(bool unsafe, LabelOf(t, row, "label", {"unsafe"}, {"safe"}));
    CCG_ASSIGN_OR_RETURN(std::string id, IdOf(t, row, "id"));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "prompt"));
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::nullopt, unsafe));
  }
  return items;
}

// --- WildGuardTest (JSON Lines converted from Parquet) ---------------------------

Result<Items> ReadWildGuard(const DatasetSpec& spec, const Table& t, ReadStats* stats,
                            bool response_level) {
  const std::string label_col = response_level ? "response_harm_label" : "prompt_harm_label";
  std::vector<std::string> cols = {"prompt", label_col};
  if (response_level) cols.push_back("response");
  CCG_RETURN_IF_ERROR(RequireColumns(t, cols));
  Items items;
  for (const auto& row : t.rows) {
    CCG_ASSIGN_OR_RETURN(std::optional<std::string> label, GetScalar(t, row, label_col));
    if (!label.has_value()) {
      ++stats->skipped["null " + label_col];
      continue;
    }
    CCG_ASSIGN_OR_RETURN(bool unsafe, LabelOf(t, row, label_col, {"harmful"}, {"unharmful"}));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, "prompt"));
    std::optional<std::string> response;
    if (response_level) {
      CCG_ASSIGN_OR_RETURN(response, GetText(t, row, "response"));
    }
    items.push_back(
        MakeItem(spec, std::to_string(row.line), std::move(prompt), std::move(response), unsafe));
  }
  return items;
}

// --- JailbreakBench ------------------------------------------------------------

Result<bool> JailbreakBenchFileIsHarmful(const std::string& path) {
  const std::string name = Lower(std::filesystem::path(path).filename().string());
  const bool harmful = name.find("harmful") != std::string::npos;
  const bool benign = name.find("benign") != std::string::npos;
  if (harmful != benign) return harmful;
  return Status::InvalidArgument(
      path +
      ": kind jailbreakbench decides the label by file name ('harmful' or 'benign'), "
      "and this name has " +
      std::string(harmful ? "both" : "neither") +
      "; use kind jailbreakbench-harmful or jailbreakbench-benign");
}

// --- Generic -------------------------------------------------------------------

Result<Items> ReadGeneric(const DatasetSpec& spec, const Table& t) {
  const std::string& prompt_col = spec.text_column.empty() ? spec.prompt_column : spec.text_column;
  std::vector<std::string> cols = {prompt_col};
  if (spec.label_value.empty()) cols.push_back(spec.label_column);
  if (!spec.response_column.empty()) cols.push_back(spec.response_column);
  if (!spec.id_column.empty()) cols.push_back(spec.id_column);
  CCG_RETURN_IF_ERROR(RequireColumns(t, cols));
  Items items;
  for (const auto& row : t.rows) {
    bool unsafe = spec.label_value == "unsafe";
    if (spec.label_value.empty()) {
      CCG_ASSIGN_OR_RETURN(
          unsafe, LabelOf(t, row, spec.label_column, spec.unsafe_values, spec.safe_values));
    }
    CCG_ASSIGN_OR_RETURN(std::string id, IdOf(t, row, spec.id_column));
    CCG_ASSIGN_OR_RETURN(std::string prompt, GetText(t, row, prompt_col));
    std::optional<std::string> response;
    if (!spec.response_column.empty()) {
      CCG_ASSIGN_OR_RETURN(response, GetOptionalText(t, row, spec.response_column));
    }
    items.push_back(MakeItem(spec, std::move(id), std::move(prompt), std::move(response), unsafe));
  }
  return items;
}

Status CheckGenericSpec(const DatasetSpec& spec, TableFormat* format) {
  const std::string what = "dataset " + Quote(spec.name) + " (kind generic)";
  if (spec.format.empty()) {
    *format = TableFormat::kAuto;
  } else if (spec.format == "csv") {
    *format = TableFormat::kCsv;
  } else if (spec.format == "json" || spec.format == "jsonl") {
    *format = TableFormat::kJson;
  } else if (spec.format == "parquet") {
    *format = TableFormat::kParquet;
  } else {
    return Status::InvalidArgument(what + ": unknown format " + Quote(spec.format) +
                                   " (expected csv, json, jsonl or parquet)");
  }
  if (spec.text_column.empty() == spec.prompt_column.empty()) {
    return Status::InvalidArgument(what + ": set exactly one of text_column and prompt_column");
  }
  if (!spec.label_value.empty()) {
    if (spec.label_value != "unsafe" && spec.label_value != "safe") {
      return Status::InvalidArgument(what + ": label_value must be \"unsafe\" or \"safe\"");
    }
    if (!spec.label_column.empty() || !spec.unsafe_values.empty() || !spec.safe_values.empty()) {
      return Status::InvalidArgument(
          what + ": label_value labels every row; it excludes label_column and the value lists");
    }
    return Status::Ok();
  }
  if (spec.label_column.empty()) {
    return Status::InvalidArgument(what + ": label_column (or label_value) is required");
  }
  if (spec.unsafe_values.empty()) {
    return Status::InvalidArgument(what + ": unsafe_values is required");
  }
  return Status::Ok();
}

// --- Dispatch ------------------------------------------------------------------

using TableReader = std::function<Result<Items>(const DatasetSpec&, const Table&, ReadStats*)>;

const std::map<std::string, TableReader>& TableKinds() {
  static const auto* kinds = new std::map<std::string, TableReader>{
      {"toxicchat", [](auto& s, auto& t, auto* st) { return ReadToxicChat(s, t, st, false); }},
      {"toxicchat-jailbreak",
       [](auto& s, auto& t, auto* st) { return ReadToxicChat(s, t, st, true); }},
      {"aegis2-prompt", [](auto& s, auto& t, auto* st) { return ReadAegis2(s, t, st, false); }},
      {"aegis2-response", [](auto& s, auto& t, auto* st) { return ReadAegis2(s, t, st, true); }},
      {"beavertails", [](auto& s, auto& t, auto*) { return ReadBeaverTails(s, t); }},
      {"orbench-toxic",
       [](auto& s, auto& t, auto*) { return ReadFixedLabel(s, t, "prompt", "", true); }},
      {"orbench-hard",
       [](auto& s, auto& t, auto*) { return ReadFixedLabel(s, t, "prompt", "", false); }},
      {"xstest", [](auto& s, auto& t, auto*) { return ReadXsTest(s, t); }},
      {"openai-moderation", [](auto& s, auto& t, auto*) { return ReadOpenAiModeration(s, t); }},
      {"harmbench", [](auto& s, auto& t, auto*) { return ReadHarmBench(s, t); }},
      {"jailbreakbench-harmful",
       [](auto& s, auto& t, auto*) { return ReadFixedLabel(s, t, "Goal", "Index", true); }},
      {"jailbreakbench-benign",
       [](auto& s, auto& t, auto*) { return ReadFixedLabel(s, t, "Goal", "Index", false); }},
      {"jailbreakbench",
       [](auto& s, auto& t, auto*) -> Result<Items> {
         CCG_ASSIGN_OR_RETURN(bool harmful, JailbreakBenchFileIsHarmful(s.path));
         return ReadFixedLabel(s, t, "Goal", "Index", harmful);
       }},
      {"do-not-answer",
       [](auto& s, auto& t, auto*) { return ReadFixedLabel(s, t, "question", "id", true); }},
      {"wildguardtest", [](auto& s, auto& t, auto* st) { return ReadWildGuard(s, t, st, false); }},
      {"wildguardtest-response",
       [](auto& s, auto& t, auto* st) { return ReadWildGuard(s, t, st, true); }},
      {"generic", [](auto& s, auto& t, auto*) { return ReadGeneric(s, t); }},
  };
  return *kinds;
}

}  // namespace

std::string ReadStats::Summary() const {
  std::string s = std::to_string(rows) + " rows, " + std::to_string(items) + " items";
  if (!skipped.empty()) {
    s += "; skipped:";
    bool first = true;
    for (const auto& [reason, count] : skipped) {
      s += (first ? " " : ", ") + std::to_string(count) + " " + reason;
      first = false;
    }
  }
  if (sampled_out > 0) s += "; " + std::to_string(sampled_out) + " left out by max_items";
  return s;
}

std::vector<std::string> DatasetKinds() {
  std::vector<std::string> kinds = {"mmlu"};
  for (const auto& [name, reader] : TableKinds()) kinds.push_back(name);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

Result<std::vector<LabeledItem>> ReadDataset(const DatasetSpec& spec_in, ReadStats* stats_out) {
  DatasetSpec spec = spec_in;
  if (spec.name.empty()) spec.name = spec.kind;
  ReadStats stats;
  Items items;
  if (spec.kind == "mmlu") {
    CCG_ASSIGN_OR_RETURN(items, ReadMmlu(spec, &stats));
  } else {
    auto it = TableKinds().find(spec.kind);
    if (it == TableKinds().end()) {
      std::string known;
      for (const auto& k : DatasetKinds()) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument("dataset " + Quote(spec.name) + ": unknown kind " +
                                     Quote(spec.kind) + " (known: " + known + ")");
    }
    TableFormat format = TableFormat::kAuto;
    std::vector<std::string> columns;  // what Parquet reads; empty: every readable column
    if (spec.kind == "generic") {
      CCG_RETURN_IF_ERROR(CheckGenericSpec(spec, &format));
      for (const std::string* c : {&spec.text_column, &spec.prompt_column, &spec.response_column,
                                   &spec.label_column, &spec.id_column}) {
        if (!c->empty()) columns.push_back(*c);
      }
    }
    CCG_ASSIGN_OR_RETURN(Table table, ReadTable(spec.path, format, columns));
    stats.rows = table.rows.size();
    CCG_ASSIGN_OR_RETURN(items, it->second(spec, table, &stats));
  }
  if (spec.max_items.has_value() && items.size() > *spec.max_items) {
    stats.sampled_out = items.size() - *spec.max_items;
    items = Sample(std::move(items), *spec.max_items, spec.seed);
  }
  stats.items = items.size();
  if (stats_out != nullptr) *stats_out = std::move(stats);
  return items;
}

}  // namespace ccguard::eval
