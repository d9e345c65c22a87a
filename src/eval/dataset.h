// Evaluation datasets: reading the upstream files into labelled items.
//
// ReadDataset(spec) reads one file of one dataset kind into items in file
// order. Every kind accepts gzip-compressed input (by magic bytes), and the
// CSV-based kinds also accept the same columns as JSON / JSON Lines. Errors
// (never a silent drop) name the file and line: a missing column, an unknown
// label value, an empty row or an empty text field. Rows a kind leaves out by
// definition (e.g. null labels in WildGuardTest) are counted in ReadStats.
//
// Kinds (prompt = the text to classify; response = the assistant turn):
//   toxicchat            ToxicChat CSV: id conv_id, prompt user_input, unsafe <=>
//                        toxicity == 1 (values 0/1). A file without `toxicity`
//                        (toxic-chat_annotation_test.4col.csv) is an error that
//                        points at toxic-chat_annotation_test.human.reconstructed.csv.
//                        model_output is not used (ToxicChat labels the user turn).
//   toxicchat-jailbreak  The jailbreak subset: rows with jailbreaking == 1 only
//                        (others counted as skipped), all unsafe (in ToxicChat
//                        every jailbreaking row is toxic; a row with toxicity == 0
//                        and jailbreaking == 1 is reported as an error). Works on
//                        all three ToxicChat files (no toxicity column needed).
//   aegis2-prompt        Aegis 2.0 JSON (array or JSON Lines): prompt, prompt_label
//                        safe/unsafe; id from `id` when present.
//   aegis2-response      prompt + response, response_label safe/unsafe; rows whose
//                        response is null/empty are skipped and counted.
//   beavertails          CSV (is_safe True/False, category a Python dict, unused)
//                        or JSON Lines (is_safe bool): prompt + response, unsafe
//                        <=> is_safe false.
//   orbench-toxic        OR-Bench CSV (prompt, category): all unsafe.
//   orbench-hard         OR-Bench CSV: all safe (seemingly-harmful benign prompts).
//   mmlu                 Header-less MMLU CSV question,A,B,C,D,answer, or the Hub's
//                        Parquet (cais/mmlu: question, subject, choices [4], answer 0-3):
//                        all safe.
//                        The prompt is the question with its options appended as
//                        the user would paste it: "<question>\nA. <A>\nB. <B>\nC. <C>\nD. <D>"
//                        (the answer letter is not included).
//   xstest               XSTest CSV: id, prompt, label safe/unsafe.
//   openai-moderation    samples-1680.jsonl(.gz): prompt; flags S H V HR SH S3 H2 V2
//                        (0/1). Unsafe <=> any present flag == 1; a missing key
//                        means "not labelled" and counts as not flagged (the
//                        upstream README's convention), so a sample is safe when
//                        no present flag is 1. A flag that is neither 0 nor 1 is
//                        an error.
//   harmbench            HarmBench behaviors CSV: all unsafe; id BehaviorID; the
//                        prompt is Behavior, or for contextual behaviors (non-empty
//                        ContextString) "<ContextString>\n\n---\n\n<Behavior>",
//                        HarmBench's own format.
//   jailbreakbench-harmful / jailbreakbench-benign
//                        JBB-Behaviors CSV: prompt Goal, id Index; harmful file
//                        all unsafe, benign file all safe.
//   jailbreakbench       The same, choosing by file name: a name containing
//                        "harmful" is the harmful file, "benign" the benign one;
//                        anything else is an error asking for an explicit variant.
//   do-not-answer        Do-Not-Answer CSV: prompt question, id id, all unsafe.
//   wildguardtest        WildGuardTest: the upstream Parquet file read natively
//                        (or its JSON Lines conversion): prompt; unsafe <=>
//                        prompt_harm_label == "harmful", "unharmful" safe; null
//                        labels dropped and counted.
//   wildguardtest-response
//                        prompt + response; response_harm_label likewise.
//   generic              See DatasetSpec's generic fields.
//
// Every table kind reads CSV, JSON / JSON Lines and Parquet files alike
// (table.h; Parquet by its magic bytes, whatever the file's name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ccguard::eval {

// One dataset row as evaluation reads it: what to score and its gold label
// (not to be confused with ccguard::Item, what a classifier scores).
struct LabeledItem {
  std::string dataset;  // DatasetSpec::name
  std::string id;       // upstream id, else the 1-based line number
  std::string prompt;
  std::optional<std::string> response;  // set for response-level kinds
  bool unsafe = false;                  // gold label
};

struct DatasetSpec {
  std::string name;  // goes into LabeledItem::dataset; the kind when empty
  std::string kind;  // see above
  std::string path;
  // When set, keep Sample(items, *max_items, seed) (sample.h): a deterministic
  // subset in file order, so a prefix of a file sorted by category is avoided.
  std::optional<size_t> max_items;
  uint64_t seed = 0;

  // kind "generic" only.
  std::string format;                      // "csv", "json", "jsonl" ("json" and "jsonl" both
                                           // accept an array or JSON Lines) or "parquet";
                                           // "" = by content
  std::string text_column;                 // the text to classify, or:
  std::string prompt_column;               // prompt (exactly one of text/prompt is required)
  std::string response_column;             // optional; a null/empty response leaves it unset
  std::string label_column;                // required, unless label_value is set
  std::string label_value;                 // "unsafe" or "safe": every row's label (no column)
  std::string id_column;                   // optional; else the line number
  std::vector<std::string> unsafe_values;  // label values meaning unsafe (required)
  // Optional: when non-empty, a label in neither list is an error; when empty,
  // every value not in unsafe_values means safe. Null/empty labels are errors.
  std::vector<std::string> safe_values;
};

struct ReadStats {
  size_t rows = 0;                        // records read from the file
  size_t items = 0;                       // items returned (after max_items)
  std::map<std::string, size_t> skipped;  // reason -> rows left out by the kind's rule
  size_t sampled_out = 0;                 // items dropped by max_items
  // e.g. "1035 rows, 1019 items; skipped: 16 null prompt_harm_label".
  std::string Summary() const;
};

// The kinds ReadDataset knows, sorted.
std::vector<std::string> DatasetKinds();

Result<std::vector<LabeledItem>> ReadDataset(const DatasetSpec& spec, ReadStats* stats = nullptr);

}  // namespace ccguard::eval
