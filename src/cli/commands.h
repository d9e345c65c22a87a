// The `ccguard` subcommands. Each Run* returns the process exit status:
// 0 success, 1 a setup error (bad flag, model that does not load), 3 some
// input lines failed (each got an error line; the others were processed).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ccguard::cli {

// Options shared by the commands that load a model.
// The published guard: a LoRA (kDefaultAdapter) on kDefaultModel.
inline constexpr char kDefaultModel[] = "Qwen/Qwen3-1.7B";
inline constexpr char kDefaultAdapter[] = "imadreamerboy/constitutional-safety-classifier";

struct ModelFlags {
  std::string model;    // empty: PickModel (the --guard profile's model, else kDefaultModel)
  std::string adapter;  // empty: DefaultAdapterFor(model) (loader.h)
  bool no_adapter = false;
  std::string constitution;
  std::optional<double> threshold;
  bool hf_special_tokens = false;
  int threads = 0;
  std::string compute = "auto";  // auto: kernels::DefaultPrecision for the device
  std::string device = "cpu";    // cpu | cuda | cuda:N
  int64_t max_batch_tokens = 0;  // 0: the device's default (EngineOptions)
  bool categories = false;       // decode the categories of flagged items (score, classify)
};

struct EvalFlags {
  ModelFlags model;
  // --guard, repeatable: PROFILE or PROFILE=MODEL; two or more: side by side.
  std::vector<std::string> guards;
  std::string suite;
  std::string out;
  std::optional<size_t> max_per_dataset;
  int batch_size = 16;
  bool list_suites = false;
};

// ccguard pull REPO[@REVISION]: downloads into the Hugging Face cache, prints the snapshot folder.
int RunPull(const std::string& repo_ref);
int RunTokenize(const std::string& model, bool literal);
int RunScore(const ModelFlags& flags, bool dump_prompt, int batch_size);

// ccguard score --input ... --output FILE (bulk_score_command.cc): files in,
// JSON Lines out, sharded and resumable.
struct BulkScoreFlags {
  std::vector<std::string> inputs;  // paths or glob patterns
  std::string output;
  std::string shard = "0/1";
  std::string format = "auto";         // auto | csv | jsonl | parquet (of the inputs)
  std::string output_format = "auto";  // auto (by the output's extension) | jsonl | parquet
  std::string compression = "snappy";  // Parquet output: snappy | zstd | gzip | none
  std::string text_column, prompt_column, response_column, messages_column, chat_column, id_column;
  std::vector<std::string> keep_columns;
};
int RunBulkScore(const ModelFlags& flags, const BulkScoreFlags& bulk, int batch_size);
int RunClassify(const ModelFlags& flags, const std::string& text,
                const std::optional<std::string>& response, bool json);
int RunEval(const EvalFlags& flags);
int RunMetrics(const std::string& scores, const std::string& out, double threshold,
               const std::string& sweep_on);

// ccguard serve (serve_command.cc): flags are registered on `app` and filled
// in *flags when parsed.
struct ServeFlags;
CLI::App* AddServeCommand(CLI::App* app, std::shared_ptr<ServeFlags>* flags);
int RunServe(const ServeFlags& flags);

// ccguard bench (bench_command.cc), the same way.
struct BenchFlags;
CLI::App* AddBenchCommand(CLI::App* app, std::shared_ptr<BenchFlags>* flags);
int RunBenchCommand(const BenchFlags& flags);

int RunCalibrate(const std::string& scores, double target_fpr, const std::string& on,
                 const std::string& constitution_in, const std::string& constitution_out);

}  // namespace ccguard::cli
