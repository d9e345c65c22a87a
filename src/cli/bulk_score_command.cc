// ccguard score --input FILE|GLOB... --output FILE: bulk scoring of data files
// (CSV or JSON Lines, gzip or not) with a column mapping, one shard of the
// rows (--shard I/N), written as JSON Lines and resumable after a kill.
//
// Flow: expand the inputs (eval/row_source.h) → load the model → the run's
// identity (scoring identity + each input's SHA-256 + mapping + shard) →
// ResumableOutput (eval/resumable_output.h: refuses other settings, skips
// committed rows) → per file: read, map each row of the shard to an item,
// score in batches, append one line per row (in row order) and commit.
// Output lines: {"row", "id"?, kept columns..., "p_unsafe", "label",
// "flagged", "threshold", "n_tokens", "label_mass", "logprob_safe",
// "logprob_unsafe"} or {"row", "id"?, kept..., "error"}.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/loader.h"
#include "eval/resumable_output.h"
#include "eval/row_source.h"
#include "eval/table.h"
#include "scoring/item.h"
#include "scoring/run_identity.h"
#include "util/progress.h"

namespace ccguard::cli {
namespace {

struct RowWork {
  uint64_t row;
  Json line;  // the kept columns (and id) so far; the score or error is added
  std::optional<Item> item;
};

}  // namespace

int RunBulkScore(const ModelFlags& flags, const BulkScoreFlags& bulk, int batch_size) {
  using Clock = std::chrono::steady_clock;
  eval::ColumnMapping mapping{bulk.text_column,     bulk.prompt_column, bulk.response_column,
                              bulk.messages_column, bulk.chat_column,   bulk.id_column,
                              bulk.keep_columns};
  Status valid = eval::ValidateMapping(mapping);
  if (!valid.ok()) {
    PrintError(valid);
    return 2;
  }
  auto shard = eval::ParseShard(bulk.shard);
  if (!shard.ok()) {
    PrintError(shard.status());
    return 2;
  }
  eval::TableFormat format;
  if (bulk.format == "auto") {
    format = eval::TableFormat::kAuto;
  } else if (bulk.format == "csv") {
    format = eval::TableFormat::kCsv;
  } else if (bulk.format == "jsonl" || bulk.format == "json") {
    format = eval::TableFormat::kJson;
  } else if (bulk.format == "parquet") {
    format = eval::TableFormat::kParquet;
  } else {
    PrintError(Status::InvalidArgument("--input-format '" + bulk.format +
                                       "' is none of auto, csv, jsonl, parquet"));
    return 2;
  }
  auto files = eval::ExpandInputs(bulk.inputs);
  if (!files.ok()) {
    PrintError(files.status());
    return 1;
  }
  IdentityInputs inputs;
  auto classifier = LoadClassifier(flags, &inputs);
  if (!classifier) return 1;
  // The identity: what changes a score, and which rows this output holds.
  Json identity = ScoringIdentity(*classifier, inputs);
  identity["inputs"] = Json::array();
  for (const auto& f : *files) {
    auto digest = Sha256HexOfFile(f);
    if (!digest.ok()) {
      PrintError(digest.status());
      return 1;
    }
    identity["inputs"].push_back({{"path", f}, {"sha256", *digest}});
  }
  identity["input_format"] = bulk.format;
  identity["mapping"] = mapping.ToJson();
  identity["shard"] = shard->ToString();
  auto out = eval::ResumableOutput::Open(bulk.output, identity);
  if (!out.ok()) {
    PrintError(out.status());
    return 1;
  }
  eval::ResumableOutput& output = **out;
  if (output.complete()) {
    std::fprintf(stderr, "ccguard: score: %s is complete (%llu rows of shard %s); nothing to do\n",
                 bulk.output.c_str(), static_cast<unsigned long long>(output.rows_done()),
                 shard->ToString().c_str());
    return 0;
  }
  const uint64_t skip = output.rows_done();
  if (skip > 0) {
    std::fprintf(stderr, "ccguard: score: resuming %s after %llu rows\n", bulk.output.c_str(),
                 static_cast<unsigned long long>(skip));
  }
  const Constitution& con = classifier->constitution();
  uint64_t row_index = 0, shard_rows = 0, scored = 0, errors = 0;
  const auto start = Clock::now();
  for (const auto& path : *files) {
    auto table = eval::ReadTable(path, format, eval::MappedColumns(mapping));
    if (!table.ok()) {
      PrintError(table.status());
      return 1;
    }
    // This file's rows in the shard that earlier runs did not commit.
    std::vector<RowWork> todo;
    for (const auto& row : table->rows) {
      const uint64_t r = row_index++;
      if (!shard->Holds(r)) continue;
      if (shard_rows++ < skip) continue;
      RowWork w{r, Json{{"row", r}}, std::nullopt};
      Status st;
      auto kept = eval::KeptColumns(*table, row, mapping);
      if (kept.ok()) {
        for (const auto& [k, v] : kept->items()) w.line[k] = v;
        auto j = eval::ItemJsonFromRow(*table, row, mapping);
        auto item = j.ok() ? ItemFromJson(*j) : Result<Item>(j.status());
        if (item.ok()) {
          w.item = std::move(item).value();
        } else {
          st = j.ok() ? item.status().WithContext(eval::Where(*table, row)) : item.status();
        }
      } else {
        st = kept.status();
      }
      if (!st.ok()) w.line["error"] = st.message();
      todo.push_back(std::move(w));
    }
    std::fprintf(stderr, "ccguard: score: %s: %zu rows, %zu to score in shard %s\n", path.c_str(),
                 table->rows.size(), todo.size(), shard->ToString().c_str());
    ProgressBar bar("score", todo.size(), "rows");
    for (size_t b = 0; b < todo.size(); b += static_cast<size_t>(batch_size)) {
      const size_t end = std::min(todo.size(), b + static_cast<size_t>(batch_size));
      std::vector<Item> items;
      std::vector<size_t> at;
      for (size_t k = b; k < end; ++k) {
        if (todo[k].item) {
          items.push_back(*todo[k].item);
          at.push_back(k);
        }
      }
      auto scores = classifier->ScoreBatch(items);
      for (size_t i = 0; i < at.size(); ++i) {
        RowWork& w = todo[at[i]];
        if (scores[i].ok()) {
          WriteScoreFields(*scores[i], con, &w.line);
        } else {
          w.line["error"] = scores[i].status().message();
        }
      }
      std::string lines;
      for (size_t k = b; k < end; ++k) {
        if (todo[k].line.contains("error")) {
          ++errors;
        } else {
          ++scored;
        }
        lines += DumpJson(todo[k].line) + "\n";
      }
      Status st = output.Append(lines);
      if (st.ok()) st = output.Commit(end - b);
      if (!st.ok()) {
        PrintError(st);
        return 1;
      }
      bar.Set(end);
    }
    bar.Finish();
  }
  Status fin = output.Finish();
  if (!fin.ok()) {
    PrintError(fin);
    return 1;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr,
               "ccguard: score: %llu rows of shard %s (%llu scored, %llu errors) in %.1f s, "
               "%.2f rows/s; %llu rows in %s\n",
               static_cast<unsigned long long>(scored + errors), shard->ToString().c_str(),
               static_cast<unsigned long long>(scored), static_cast<unsigned long long>(errors),
               secs, secs > 0 ? static_cast<double>(scored + errors) / secs : 0.0,
               static_cast<unsigned long long>(output.rows_done()), bulk.output.c_str());
  return errors > 0 ? 3 : 0;
}

}  // namespace ccguard::cli
