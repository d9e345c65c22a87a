// The rows of bulk scoring (`ccguard score --input ... --output ...`): input
// files named by paths or glob patterns, a mapping from columns to the item
// to judge, and the shard of the rows one worker scores.
//
// Rows are numbered 0, 1, 2, ... across the input files in order (each
// pattern's matches sorted by name, patterns in the order given), so a row
// index names the same row on every worker; shard I/N holds the rows whose
// index is I modulo N, and N workers with I = 0..N-1 cover every row once.
// Columns the mapping does not name are ignored (unless kept).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eval/table.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::eval {

// Paths for `patterns`: a pattern with *, ? or [ is a glob (its matches
// sorted; NotFound when there are none), anything else a path (NotFound when
// missing). A file named twice is InvalidArgument.
Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& patterns);

// Which columns make the item. Exactly one of text, prompt, messages, chat;
// response only with prompt.
//   text:     content judged under the constitution as a prompt (a document
//             of a corpus; not a pre-rendered prompt)
//   prompt (+ response): the prompt / exchange judged under the constitution
//   messages: a conversation ([{role, content}], a JSON list; in CSV its JSON
//             text), judged under the constitution
//   chat:     turns rendered with the model's own chat template
// id: copied to the output as "id"; keep: columns copied under their names.
struct ColumnMapping {
  std::string text, prompt, response, messages, chat, id;
  std::vector<std::string> keep;
  // {"text": ..., ...} of the non-empty fields, for the run's identity.
  Json ToJson() const;
};

// The columns the mapping reads (item, id and kept columns), for ReadTable.
std::vector<std::string> MappedColumns(const ColumnMapping& m);

// InvalidArgument naming the problem: no item column or more than one,
// response without prompt, a kept column that is also a field of the
// output lines (row, id, error, p_unsafe, ...).
Status ValidateMapping(const ColumnMapping& m);

// The fields every output line may carry (a kept column must not be one).
const std::vector<std::string>& OutputFields();

// The item object (for ItemFromJson) of `row`; errors name "file:line" and
// the column (missing, null, not text, a messages value that is not a list).
Result<Json> ItemJsonFromRow(const Table& table, const TableRow& row, const ColumnMapping& m);

// The kept columns of `row` (missing ones are an error naming them) and the
// id column's value (null when no id column).
Result<Json> KeptColumns(const Table& table, const TableRow& row, const ColumnMapping& m);

struct Shard {
  uint64_t index = 0, count = 1;
  bool Holds(uint64_t row) const { return row % count == index; }
  std::string ToString() const { return std::to_string(index) + "/" + std::to_string(count); }
};
// "I/N" with 0 <= I < N; InvalidArgument otherwise.
Result<Shard> ParseShard(std::string_view text);

}  // namespace ccguard::eval
