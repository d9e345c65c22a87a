// ccguard score --input FILE|GLOB... --output FILE: bulk scoring of data files
// (CSV or JSON Lines, gzip or not, or Parquet) with a column mapping, one
// shard of the rows (--shard I/N), written as JSON Lines or Parquet and
// resumable after a kill.
//
// Flow: expand the inputs (eval/row_source.h) → load the model → the run's
// identity (scoring identity + each input's SHA-256 + mapping + shard) →
// ResumableOutput (eval/resumable_output.h: refuses other settings, skips
// committed rows) → per file: read, map each row of the shard to an item,
// score in batches, append one line per row (in row order) and commit.
// Parquet output (OUT.parquet): the lines go to OUT.parquet.staging.jsonl
// (resumable as above); once complete they become OUT.parquet atomically
// (eval/parquet_output.h) and the staging lines are removed, leaving the
// progress file that marks the shard done.
// Output lines: {"row", "id"?, kept columns..., "p_unsafe", "label",
// "flagged", "threshold", "n_tokens", "label_mass", "logprob_safe",
// "logprob_unsafe"} or {"row", "id"?, kept..., "error"}.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/loader.h"
#include "eval/parquet_output.h"
#include "eval/resumable_output.h"
#include "eval/row_source.h"
#include "eval/table.h"
#include "scoring/item.h"
#include "scoring/run_identity.h"
#include "util/digest.h"
#include "util/progress.h"

namespace ccguard::cli {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct RowWork {
  uint64_t row;
  Json line;  // the kept columns (and id) so far; the score or error is added
  std::optional<Item> item;
};

}  // namespace

int RunBulkScore(const ModelFlags& flags, const BulkScoreFlags& bulk, int batch_size) {
  using Clock = std::chrono::steady_clock;
  if (flags.categories) {
    PrintError(Status::InvalidArgument(
        "--categories is not supported with --input/--output (bulk scoring reads the label "
        "only); score on standard input for the categories"));
    return 2;
  }
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
  bool parquet_out;
  if (bulk.output_format == "auto") {
    parquet_out = EndsWith(bulk.output, ".parquet");
  } else if (bulk.output_format == "jsonl" || bulk.output_format == "parquet") {
    parquet_out = bulk.output_format == "parquet";
  } else {
    PrintError(Status::InvalidArgument("--output-format '" + bulk.output_format +
                                       "' is none of auto, jsonl, parquet"));
    return 2;
  }
  auto codec = eval::ParseCodec(bulk.compression);
  if (!codec.ok()) {
    PrintError(codec.status());
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
    auto digest = Sha256File(f);
    if (!digest.ok()) {
      PrintError(digest.status());
      return 1;
    }
    identity["inputs"].push_back({{"path", f}, {"sha256", *digest}});
  }
  identity["input_format"] = bulk.format;
  identity["mapping"] = mapping.ToJson();
  identity["shard"] = shard->ToString();
  identity["output_format"] = parquet_out ? "parquet" : "jsonl";
  if (parquet_out) identity["compression"] = bulk.compression;
  // Parquet: lines are staged beside the output, which appears when complete.
  const std::string lines_path = parquet_out ? bulk.output + ".staging.jsonl" : bulk.output;
  const std::vector<std::string> front = {"row", "id"};
  if (parquet_out && Exists(bulk.output)) {
    auto finished = eval::ResumableOutput::Finished(lines_path, identity);
    if (finished.ok() && *finished) {
      std::fprintf(stderr, "ccguard: score: %s is complete (shard %s); nothing to do\n",
                   bulk.output.c_str(), shard->ToString().c_str());
      return 0;
    }
    PrintError(finished.ok() || finished.status().code() == Status::Code::kNotFound
                   ? Status::InvalidArgument(bulk.output +
                                             " exists but was not finished by a resumable run "
                                             "with these settings; it is not overwritten "
                                             "(remove it or choose another --output)")
                   : finished.status());
    return 1;
  }
  auto finalize = [&](const eval::ResumableOutput& o) -> int {
    if (!parquet_out) return 0;
    Status st = eval::JsonLinesToParquet(lines_path, bulk.output, *codec, front);
    if (!st.ok()) {
      PrintError(st);
      return 1;
    }
    std::remove(lines_path.c_str());
    std::fprintf(stderr, "ccguard: score: wrote %s (%llu rows, %s)\n", bulk.output.c_str(),
                 static_cast<unsigned long long>(o.rows_done()), bulk.compression.c_str());
    return 0;
  };
  auto out = eval::ResumableOutput::Open(lines_path, identity);
  if (!out.ok()) {
    PrintError(out.status());
    return 1;
  }
  eval::ResumableOutput& output = **out;
  if (output.complete()) {
    std::fprintf(stderr, "ccguard: score: %s is complete (%llu rows of shard %s); nothing to do\n",
                 lines_path.c_str(), static_cast<unsigned long long>(output.rows_done()),
                 shard->ToString().c_str());
    return finalize(output);  // Parquet: a run killed while converting converts again
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
  if (finalize(output) != 0) return 1;
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
