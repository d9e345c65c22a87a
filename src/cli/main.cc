// ccguard: run, evaluate and serve constitutional safety classifiers.
// Argument parsing only; each command lives in its own file.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/loader.h"
#include "kernels/kernels.h"

namespace {

// `guards`: where a command takes several --guard options (eval), their list.
void AddModelFlags(CLI::App* cmd, ccguard::cli::ModelFlags* f,
                   std::vector<std::string>* guards = nullptr) {
  cmd->add_option("-m,--model", f->model,
                  std::string("Model folder or Hugging Face repo id[@revision] (default: the "
                              "model a built-in --guard is made for, else ") +
                      ccguard::cli::kDefaultModel + ")");
  auto* adapter = cmd->add_option("--adapter", f->adapter,
                                  std::string("PEFT LoRA adapter folder or repo id (default: ") +
                                      ccguard::cli::kDefaultAdapter +
                                      " with the default --model, none with "
                                      "another)");
  cmd->add_flag("--no-adapter", f->no_adapter, "Score with the base model alone")
      ->excludes(adapter);
  const std::string guard_help =
      "Guard profile: a built-in name (ccguard-default, qwen3guard, dynaguard, "
      "llama-guard-3, granite-guardian-3; NAME:loose / NAME:strict) or a "
      "constitution/profile JSON file (default: the profile made for --model, "
      "else the embedded constitution)";
  if (guards != nullptr) {
    cmd->add_option("--guard,--constitution", *guards,
                    guard_help +
                        ". Repeat to compare guards side by side, each as PROFILE or "
                        "PROFILE=MODEL (default model: the profile's own, else --model)");
  } else {
    cmd->add_option("--guard,--constitution", f->constitution, guard_help);
  }
  cmd->add_option("--threshold", f->threshold, "Flag unsafe when p_unsafe >= T")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--hf-special-tokens", f->hf_special_tokens,
                "Parse special tokens inside content, exactly as Hugging Face does "
                "(default: content is tokenized literally)");
  cmd->add_option(
         "--threads", f->threads,
         "Compute threads (0: the CPUs this process may use: affinity mask and cgroup quota)")
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

// Edit distance (insertions, deletions, substitutions, adjacent swaps).
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// For each argument that is neither a command nor a flag ccguard knows but is
// close to one ("clasify", "--modle"), the closest: "'classify'".
std::vector<std::string> Suggestions(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands, flags;
  for (const CLI::App* sc : app.get_subcommands([](CLI::App*) { return true; })) {
    commands.push_back(sc->get_name());
    for (const CLI::Option* o : sc->get_options()) {
      for (const std::string& n : o->get_lnames()) flags.push_back("--" + n);
    }
  }
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const bool flag = arg.rfind("--", 0) == 0;
    if (flag) arg = arg.substr(0, arg.find('='));
    if (!flag && i != 1) continue;  // a value, or a positional text
    const auto& pool = flag ? flags : commands;
    if (std::find(pool.begin(), pool.end(), arg) != pool.end()) continue;
    std::string best;
    size_t best_d = SIZE_MAX;
    for (const std::string& c : pool) {
      const size_t dist = Distance(arg, c);
      if (dist < best_d) {
        best_d = dist;
        best = c;
      }
    }
    if (!best.empty() && best_d <= std::max<size_t>(1, arg.size() / 4) + 1) {
      out.push_back("'" + best + "' (for '" + arg + "')");
    }
  }
  return out;
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
  app.set_version_flag("--version", std::string("ccguard ") + ccguard::CcguardVersion());

  std::string tok_model = "Qwen/Qwen3-1.7B";
  bool tok_literal = false;
  auto* tok = app.add_subcommand("tokenize", "stdin JSON Lines {\"text\"} -> stdout {\"ids\"}");
  tok->add_option("-m,--model", tok_model, "Model folder (its tokenizer.json)")
      ->capture_default_str();
  tok->add_flag("--literal", tok_literal, "Do not parse special tokens written in the text");

  ccguard::cli::ModelFlags score_flags;
  bool dump_prompt = false;
  int batch_size = 32;
  auto* score = app.add_subcommand("score", "stdin JSON Lines items -> stdout scores");
  AddModelFlags(score, &score_flags);
  score->add_flag("--dump-prompt", dump_prompt, "Print the exact rendered prompt instead");
  score->add_flag("--categories", score_flags.categories,
                  "Also decode the categories a flagged item violates, for guards that name "
                  "them (qwen3guard, llama-guard-3): greedy decoding after the label");
  score->add_option("--batch-size", batch_size, "Items read before scoring a batch")
      ->check(CLI::Range(1, 4096));
  // Bulk scoring: files in, a resumable JSON Lines file out (bulk_score_command.cc).
  ccguard::cli::BulkScoreFlags bulk;
  auto* in_opt = score->add_option("--input", bulk.inputs,
                                   "Data file or glob (repeatable): CSV or JSON Lines (gzip or "
                                   "not) or Parquet; scores rows instead of stdin items");
  auto* out_opt = score->add_option("--output", bulk.output,
                                    "Output of --input: JSON Lines, or Parquet for *.parquet "
                                    "(resumable: OUTPUT[.staging.jsonl].progress.json beside it)");
  score
      ->add_option("--output-format", bulk.output_format,
                   "auto | jsonl | parquet (auto: Parquet when --output ends in .parquet)")
      ->capture_default_str();
  score
      ->add_option("--compression", bulk.compression,
                   "Parquet output pages: snappy | zstd | gzip | none")
      ->capture_default_str();
  in_opt->needs(out_opt);
  out_opt->needs(in_opt);
  score->add_option("--shard", bulk.shard, "I/N: score the rows whose index is I modulo N")
      ->capture_default_str();
  score
      ->add_option("--input-format", bulk.format,
                   "auto | csv | jsonl | parquet (auto: Parquet by its magic bytes, JSON by a "
                   "leading { or [, else CSV)")
      ->capture_default_str();
  score->add_option("--text-column", bulk.text_column,
                    "Column of content judged under the constitution (as a prompt)");
  score->add_option("--prompt-column", bulk.prompt_column, "Column of prompts");
  score->add_option("--response-column", bulk.response_column,
                    "Column of responses (with --prompt-column: exchanges)");
  score->add_option("--messages-column", bulk.messages_column,
                    "Column of conversations ([{role, content}], judged under the constitution)");
  score->add_option("--chat-column", bulk.chat_column,
                    "Column of turns rendered with the model's chat template alone");
  score->add_option("--id-column", bulk.id_column, "Column copied to the output as \"id\"");
  score->add_option("--keep-columns", bulk.keep_columns, "Columns copied to the output")
      ->delimiter(',');

  ccguard::cli::ModelFlags cls_flags;
  std::string text;
  std::optional<std::string> response;
  bool cls_json = false;
  auto* cls = app.add_subcommand("classify", "Classify one prompt (or exchange), human-readable");
  AddModelFlags(cls, &cls_flags);
  cls->add_option("text", text, "The prompt to classify")->required();
  cls->add_option("--response", response, "Classify the exchange prompt -> response");
  cls->add_flag("--json", cls_json, "Print one JSON object instead");
  cls->add_flag("--categories", cls_flags.categories,
                "Also decode the categories a flagged item violates (qwen3guard, "
                "llama-guard-3)");

  ccguard::cli::EvalFlags eval_flags;
  auto* ev = app.add_subcommand("eval", "Score evaluation datasets and report metrics (resumable)");
  AddModelFlags(ev, &eval_flags.model, &eval_flags.guards);
  ev->add_option("--suite", eval_flags.suite,
                 "Suite file (JSON), or a built-in suite: reference, extended (datasets from the "
                 "Hugging Face Hub)");
  ev->add_option("--out", eval_flags.out, "Output folder");
  ev->add_flag("--list-suites", eval_flags.list_suites,
               "Print the built-in suites with their datasets, sources and licenses");
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
  cal->add_option("--guard,--constitution", c_in,
                  "Guard profile to copy: a built-in name or a file (default: the embedded "
                  "constitution)");
  cal->add_option("--write-constitution", c_out, "Write the constitution with this threshold");

  std::vector<std::string> pull_refs;
  auto* pull = app.add_subcommand(
      "pull", "Download a model or adapter from the Hugging Face hub into its cache");
  pull->add_option("repo", pull_refs,
                   "Repo ids, each with an optional @revision (branch, tag, commit)")
      ->required();

  std::shared_ptr<ccguard::cli::ServeFlags> serve_flags;
  auto* serve = ccguard::cli::AddServeCommand(&app, &serve_flags);
  std::shared_ptr<ccguard::cli::BenchFlags> bench_flags;
  auto* bench = ccguard::cli::AddBenchCommand(&app, &bench_flags);

  app.footer(
      "Exit status: 0 success; 1 an error (the message is on stderr); 2 a usage error (an unknown "
      "command or flag, a bad value); 3 some input lines failed (score, tokenize: each has an "
      "error line).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // the message, on stderr
    for (const std::string& hint : Suggestions(app, argc, argv)) {
      std::fprintf(stderr, "ccguard: did you mean %s?\n", hint.c_str());
    }
    return 2;
  }
  auto dispatch = [&]() -> int {
    if (serve->parsed()) return ccguard::cli::RunServe(*serve_flags);
    if (bench->parsed()) return ccguard::cli::RunBenchCommand(*bench_flags);
    if (pull->parsed()) {
      for (const auto& ref : pull_refs) {
        if (int rc = ccguard::cli::RunPull(ref); rc != 0) return rc;
      }
      return 0;
    }
    if (ev->parsed()) return ccguard::cli::RunEval(eval_flags);
    if (met->parsed()) return ccguard::cli::RunMetrics(m_scores, m_out, m_threshold, m_sweep);
    if (cal->parsed()) return ccguard::cli::RunCalibrate(c_scores, c_fpr, c_on, c_in, c_out);
    if (tok->parsed()) return ccguard::cli::RunTokenize(tok_model, tok_literal);
    if (score->parsed() && !bulk.inputs.empty()) {
      if (dump_prompt) {
        ccguard::cli::PrintError(
            ccguard::Status::InvalidArgument("--dump-prompt reads items on stdin, not --input"));
        return 2;
      }
      return ccguard::cli::RunBulkScore(score_flags, bulk, batch_size);
    }
    if (score->parsed()) {
      const bool mapped = !bulk.text_column.empty() || !bulk.prompt_column.empty() ||
                          !bulk.messages_column.empty() || !bulk.chat_column.empty() ||
                          !bulk.id_column.empty() || !bulk.keep_columns.empty() ||
                          bulk.shard != "0/1";
      if (mapped) {
        ccguard::cli::PrintError(ccguard::Status::InvalidArgument(
            "column mappings and --shard apply to --input files; stdin takes JSON items"));
        return 2;
      }
      return ccguard::cli::RunScore(score_flags, dump_prompt, batch_size);
    }
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
