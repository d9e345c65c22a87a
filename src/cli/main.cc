// ccguard: run, evaluate and serve constitutional safety classifiers.
// Argument parsing only; each command lives in its own file.
#include <malloc.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/loader.h"
#include "kernels/kernels.h"

namespace {

void AddModelFlags(CLI::App* cmd, ccguard::cli::ModelFlags* f) {
  cmd->add_option("--model", f->model, "Model folder or Hugging Face repo id[@revision]")
      ->capture_default_str();
  auto* adapter = cmd->add_option("--adapter", f->adapter, "PEFT LoRA adapter folder or repo id")
                      ->capture_default_str();
  cmd->add_flag("--no-adapter", f->no_adapter, "Score with the base model alone")
      ->excludes(adapter);
  cmd->add_option("--constitution", f->constitution,
                  "Constitution JSON file (default: the embedded one)");
  cmd->add_option("--threshold", f->threshold, "Flag unsafe when p_unsafe >= T")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--hf-special-tokens", f->hf_special_tokens,
                "Parse special tokens inside content, exactly as Hugging Face does "
                "(default: content is tokenized literally)");
  cmd->add_option("--threads", f->threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compute", f->compute,
                  "Matrix arithmetic: auto, fp32 (the reference arithmetic), bf16 (fast; "
                  "|dp_unsafe| bound in docs/performance.md) or int8. auto: bf16 on CUDA "
                  "and on CPUs with native BF16, else fp32; here " +
                      ccguard::kernels::DefaultCpuPrecisionNote())
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "int8"}))
      ->capture_default_str();
  cmd->add_option("--device", f->device,
                  "Where the model runs: cpu, cuda (GPU 0) or cuda:N (needs a CUDA build)")
      ->capture_default_str();
  cmd->add_option("--max-batch-tokens", f->max_batch_tokens,
                  "New tokens per forward pass (default: 2048 on cpu, 16384 on cuda)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
}

}  // namespace

int main(int argc, char** argv) {
  // Blocks of 1 MiB and more (keys/values, activations of a batch) are mapped
  // and returned to the system when freed. glibc's default threshold grows
  // after each free up to 32 MiB, so such blocks would stay in the heap and
  // resident memory would keep the high-water mark of every batch.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"ccguard: a native runtime for constitutional safety classifiers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ccguard 0.1.0");

  std::string tok_model = "Qwen/Qwen3-1.7B";
  bool tok_literal = false;
  auto* tok = app.add_subcommand("tokenize", "stdin JSON Lines {\"text\"} -> stdout {\"ids\"}");
  tok->add_option("--model", tok_model, "Model folder (its tokenizer.json)")->capture_default_str();
  tok->add_flag("--literal", tok_literal, "Do not parse special tokens written in the text");

  ccguard::cli::ModelFlags score_flags;
  bool dump_prompt = false;
  int batch_size = 32;
  auto* score = app.add_subcommand("score", "stdin JSON Lines items -> stdout scores");
  AddModelFlags(score, &score_flags);
  score->add_flag("--dump-prompt", dump_prompt, "Print the exact rendered prompt instead");
  score->add_option("--batch-size", batch_size, "Items read before scoring a batch")
      ->check(CLI::Range(1, 4096));

  ccguard::cli::ModelFlags cls_flags;
  std::string text;
  std::optional<std::string> response;
  bool cls_json = false;
  auto* cls = app.add_subcommand("classify", "Classify one prompt (or exchange), human-readable");
  AddModelFlags(cls, &cls_flags);
  cls->add_option("text", text, "The prompt to classify")->required();
  cls->add_option("--response", response, "Classify the exchange prompt -> response");
  cls->add_flag("--json", cls_json, "Print one JSON object instead");

  ccguard::cli::EvalFlags eval_flags;
  auto* ev = app.add_subcommand("eval", "Score evaluation datasets and report metrics (resumable)");
  AddModelFlags(ev, &eval_flags.model);
  ev->add_option("--suite", eval_flags.suite, "Suite file (JSON)")->required();
  ev->add_option("--out", eval_flags.out, "Output folder")->required();
  ev->add_option("--max-per-dataset", eval_flags.max_per_dataset,
                 "Sample at most N items per dataset (seeded)");
  ev->add_option("--batch-size", eval_flags.batch_size, "Items per scoring batch")
      ->check(CLI::Range(1, 4096));

  std::string m_scores, m_out, m_sweep;
  double m_threshold = 0.5;
  auto* met = app.add_subcommand("metrics", "Recompute all metrics from a scores.jsonl");
  met->add_option("--scores", m_scores, "scores.jsonl")->required();
  met->add_option("--out", m_out, "Also write results.json, results.md, report.html here");
  met->add_option("--threshold", m_threshold, "Flag threshold")->check(CLI::Range(0.0, 1.0));
  met->add_option("--sweep-on", m_sweep, "Dataset for the threshold sweep (default: all)");

  std::string c_scores, c_on, c_in, c_out;
  double c_fpr = 0.05;
  auto* cal = app.add_subcommand("calibrate", "Find the threshold for a target FPR");
  cal->add_option("--scores", c_scores, "scores.jsonl")->required();
  cal->add_option("--target-fpr", c_fpr, "Highest acceptable FPR")->check(CLI::Range(0.0, 1.0));
  cal->add_option("--on", c_on, "Calibrate on this dataset (default: all)");
  cal->add_option("--constitution", c_in, "Constitution to copy (default: the embedded one)");
  cal->add_option("--write-constitution", c_out, "Write the constitution with this threshold");

  std::string pull_ref;
  auto* pull = app.add_subcommand(
      "pull", "Download a model or adapter from the Hugging Face hub into its cache");
  pull->add_option("repo", pull_ref, "Repo id with an optional @revision (branch, tag, commit)")
      ->required();

  std::shared_ptr<ccguard::cli::ServeFlags> serve_flags;
  auto* serve = ccguard::cli::AddServeCommand(&app, &serve_flags);
  std::shared_ptr<ccguard::cli::BenchFlags> bench_flags;
  auto* bench = ccguard::cli::AddBenchCommand(&app, &bench_flags);

  CLI11_PARSE(app, argc, argv);
  auto dispatch = [&]() -> int {
    if (serve->parsed()) return ccguard::cli::RunServe(*serve_flags);
    if (bench->parsed()) return ccguard::cli::RunBenchCommand(*bench_flags);
    if (pull->parsed()) return ccguard::cli::RunPull(pull_ref);
    if (ev->parsed()) return ccguard::cli::RunEval(eval_flags);
    if (met->parsed()) return ccguard::cli::RunMetrics(m_scores, m_out, m_threshold, m_sweep);
    if (cal->parsed()) return ccguard::cli::RunCalibrate(c_scores, c_fpr, c_on, c_in, c_out);
    if (tok->parsed()) return ccguard::cli::RunTokenize(tok_model, tok_literal);
    if (score->parsed()) return ccguard::cli::RunScore(score_flags, dump_prompt, batch_size);
    if (cls->parsed()) return ccguard::cli::RunClassify(cls_flags, text, response, cls_json);
    return 1;
  };
  const int rc = dispatch();
  // Output that did not reach stdout is an error whatever the command said.
  if (ccguard::Status st = ccguard::cli::FlushStdout(); !st.ok()) {
    ccguard::cli::PrintError(st);
    return rc != 0 ? rc : 1;
  }
  return rc;
}
