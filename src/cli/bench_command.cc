// ccguard bench: CPU performance on a full-size model (src/bench/bench.h).
#include <CLI/CLI.hpp>

#include "bench/bench.h"
#include "cli/commands.h"
#include "kernels/kernels.h"

namespace ccguard::cli {

struct BenchFlags {
  bench::BenchOptions options;
};

CLI::App* AddBenchCommand(CLI::App* app, std::shared_ptr<BenchFlags>* flags) {
  *flags = std::make_shared<BenchFlags>();
  bench::BenchOptions& o = (*flags)->options;
  auto* cmd = app->add_subcommand(
      "bench",
      "Benchmark prefill, classification (prefix cache on/off), latency and memory on a "
      "full-size Qwen3-1.7B-shaped random model (or --model)");
  cmd->add_option("-m,--model", o.model_dir,
                  "Model folder to measure (default: a random Qwen3-1.7B made once in --cache)");
  cmd->add_option("--adapter", o.adapter_dir, "With --model: its PEFT LoRA adapter folder");
  cmd->add_option("--tokenizer", o.tokenizer_dir,
                  "Folder with the Qwen3 tokenizer.json and tokenizer_config.json, to build the "
                  "random model (e.g. build/release/fixtures/tiny-a/base, which ships the real "
                  "Qwen3 tokenizer)");
  cmd->add_option("--cache", o.cache_dir,
                  "Where the random model is kept (default $XDG_CACHE_HOME/ccguard or "
                  "~/.cache/ccguard)");
  cmd->add_option(
         "--threads", o.threads,
         "Compute threads (0: the CPUs this process may use: affinity mask and cgroup quota)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compute", o.compute,
                  "Matrix arithmetic: auto, fp32, bf16 or int8 (auto: bf16 on CUDA and on CPUs "
                  "with native BF16, else fp32; here " +
                      kernels::DefaultCpuPrecisionNote() + ")")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "int8"}))
      ->capture_default_str();
  cmd->add_option("--device", o.device, "Where the model runs: cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd->add_option("--items", o.items, "Classification items (default 40; --quick 16)")
      ->check(CLI::Range(2, 1000000));
  cmd->add_option("--max-batch-tokens", o.max_batch_tokens,
                  "New tokens per forward pass (default: 2048 on cpu, 16384 on cuda)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--dump-items", o.dump_items,
                  "Write the classification items (JSON Lines for `ccguard score`) to this file "
                  "and stop; the constitution is bench-constitution.json in --cache");
  cmd->add_option("--repeats", o.repeats, "Repeats per measurement (default 3; --quick 2)")
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--quick", o.quick, "Reduced run (2 prompt lengths, 16 items): under 2 minutes");
  cmd->add_flag("--json", o.json, "Print one JSON object instead of the table");
  cmd->add_flag("--accuracy", o.accuracy,
                "Also report max |dp_unsafe| of bf16 and int8 against fp32");
  cmd->add_option("--sessions", o.sessions,
                  "With --stream: N concurrent sessions, each appending a 600-token response in "
                  "20-token chunks; reports appended tokens/s against the same run's 512-token "
                  "prefill")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--kv-reserve-bytes", o.kv_reserve_bytes,
                  "With --stream --sessions on the CPU: host memory for the sessions' keys/values "
                  "made ready before they start, as serve's --session-kv-reserve-bytes (default: "
                  "what the sessions will hold; 0: none, caches grow into new memory)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  cmd->add_flag("--stream", o.stream,
                "Run the streaming benchmark instead: a 600-token response appended in 30 "
                "chunks against one 600-token prefill");
  return cmd;
}

int RunBenchCommand(const BenchFlags& flags) { return bench::RunBench(flags.options); }

}  // namespace ccguard::cli
