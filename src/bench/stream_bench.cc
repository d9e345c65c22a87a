#include "bench/stream_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "kernels/host_page_pool.h"
#include "scoring/classifier.h"
#include "scoring/session.h"
#include "util/cpu_count.h"
#include "util/json_file.h"

namespace ccguard::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kResponseTokens = 600;
constexpr int kChunks = 30;

const char kPrompt[] =
    "Write a long, careful essay on the history of chemistry, from alchemy "
    "to the periodic table.";

Item PromptItem() {
  Item item;
  item.prompt = kPrompt;
  return item;
}

// Plain ASCII words: the response decodes cleanly at any token boundary.
const char kText[] =
    "Chemistry grew out of the practical crafts of metal work, dyeing and medicine, and out "
    "of the long tradition of alchemy, which mixed careful laboratory practice with ideas "
    "about purity and transformation. In the seventeenth century Robert Boyle argued that "
    "matter is made of small particles and that claims must rest on experiment. A century "
    "later Antoine Lavoisier weighed the products of combustion, named oxygen and hydrogen, "
    "and wrote the first modern list of elements. John Dalton then proposed that each "
    "element has atoms of a characteristic weight, and chemists learned to write formulas "
    "for compounds. In eighteen sixty nine Dmitri Mendeleev arranged the known elements by "
    "weight and by their properties, left gaps for elements not yet found, and predicted "
    "their behaviour with striking accuracy. ";

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The token ids of kText repeated until there are at least `n`, cut to n.
Result<std::vector<int32_t>> TextIds(const Tokenizer& tok, int n) {
  std::string text;
  std::vector<int32_t> ids;
  while (static_cast<int>(ids.size()) < n) {
    text += kText;
    CCG_ASSIGN_OR_RETURN(ids, tok.Encode(text, /*parse_special=*/false));
  }
  ids.resize(static_cast<size_t>(n));
  return ids;
}

// The response: kResponseTokens tokens as kChunks pieces of equal token
// counts (decoded; plain ASCII, so each piece decodes on its own).
Result<std::vector<std::string>> ResponseChunks(const Tokenizer& tok) {
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TextIds(tok, kResponseTokens));
  std::vector<std::string> chunks;
  const int per_chunk = kResponseTokens / kChunks;
  for (int c = 0; c < kChunks; ++c) {
    std::vector<int32_t> slice(ids.begin() + c * per_chunk, ids.begin() + (c + 1) * per_chunk);
    CCG_ASSIGN_OR_RETURN(std::string piece, tok.Decode(slice));
    chunks.push_back(std::move(piece));
  }
  return chunks;
}

// Host memory one session holds at most, for an exchange of `own` tokens
// beyond the constitution's prefix (and a chunk's closing tokens): per
// layer, its keys and values in whole 2 MiB pages (KvCache) and its packed
// BF16 blocks of 32 positions, keys and values, 16 to a page (KvMemo; held
// in bf16/int8, counted always: an estimate that errs high).
int64_t SessionBytes(const ModelConfig& c, int64_t own) {
  const int64_t page = static_cast<int64_t>(kernels::kHugePageBytes);
  const int64_t rows = own + 64;
  const int64_t row_bytes = c.kv_dim() * static_cast<int64_t>(sizeof(float));
  const int64_t page_rows = std::max<int64_t>(1, page / row_bytes);
  const int64_t kv = 2 * ((rows + page_rows - 1) / page_rows) * page;
  const int64_t blocks = rows / kernels::KvMemo::kBlock + 2;
  const int64_t block_bytes = 2 * kernels::KvMemo::kBlock * c.kv_dim() * 2;
  const int64_t memo = (blocks + 15) / 16 * std::max(page, 16 * block_bytes);
  return c.num_hidden_layers * (kv + memo);
}

// --sessions N: N sessions append their responses at the same time, each
// from its own thread (as N clients of the server would); the engine merges
// the appends that wait together into one forward pass.
Status RunConcurrentSessions(const StreamBenchOptions& o) {
  EngineOptions eo;
  eo.model_dir = o.model_dir;
  eo.adapter_dir = o.adapter_dir;
  eo.model = o.model;
  std::fprintf(stderr, "stream bench (%d sessions): loading %s\n", o.sessions, o.model_dir.c_str());
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::Create(eo));
  CCG_ASSIGN_OR_RETURN(std::unique_ptr<Classifier> cl,
                       Classifier::Create(engine, Constitution::Default(), std::nullopt));
  const Tokenizer& tok = engine->tokenizer();
  CCG_ASSIGN_OR_RETURN(std::vector<std::string> chunks, ResponseChunks(tok));
  std::string response;
  for (const auto& c : chunks) response += c;
  Item exchange;
  exchange.prompt = kPrompt;
  exchange.response = response;
  // Warm-up (prefix caches, every weight touched) and the one-shot score.
  CCG_ASSIGN_OR_RETURN(ItemScore one, cl->Score(exchange));
  // The single-prompt prefill of 512 tokens, in the same run.
  const int repeats = o.repeats > 0 ? o.repeats : 3;
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> prompt_ids, TextIds(tok, 512));
  std::vector<double> prefill;
  for (int r = 0; r < repeats; ++r) {
    auto cache = engine->model().NewCache();
    SequenceInput in{prompt_ids, cache.get()};
    const auto t0 = Clock::now();
    CCG_RETURN_IF_ERROR(engine->Prefill(std::span<SequenceInput>(&in, 1)));
    prefill.push_back(512.0 / (Ms(Clock::now() - t0) / 1e3));
  }
  const double prefill_tok_per_s = Median(prefill);
  std::fprintf(stderr, "  512-token prefill: %.1f tok/s (median of %d)\n", prefill_tok_per_s,
               repeats);

  // The sessions' memory made ready first, as a server with
  // session_kv_reserve_bytes does at start.
  int64_t reserve = 0;
  if (engine->model().device() == "cpu") {
    reserve =
        o.kv_reserve_bytes >= 0
            ? o.kv_reserve_bytes
            : SessionBytes(engine->model().config(), one.n_tokens - one.cached_tokens) * o.sessions;
  }
  if (reserve > 0) {
    const auto r0 = Clock::now();
    CCG_RETURN_IF_ERROR(kernels::HostPagePool::Get().Reserve(static_cast<size_t>(reserve)));
    std::fprintf(stderr, "  reserved %.2f GB for the sessions' keys/values in %.1f s\n",
                 static_cast<double>(reserve) / 1e9, Ms(Clock::now() - r0) / 1e3);
  }

  const int n = o.sessions;
  std::vector<std::vector<double>> latency(static_cast<size_t>(n));
  std::vector<Result<ItemScore>> last(static_cast<size_t>(n), Status::Internal("not run"));
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  const uint64_t passes0 = engine->passes();
  std::vector<std::thread> threads;
  for (int s = 0; s < n; ++s) {
    threads.emplace_back([&, s] {
      auto session = cl->OpenSession(PromptItem());
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      if (!session.ok()) {
        last[static_cast<size_t>(s)] = session.status();
        return;
      }
      for (const auto& chunk : chunks) {
        const auto a0 = Clock::now();
        last[static_cast<size_t>(s)] = (*session)->Append(chunk);
        latency[static_cast<size_t>(s)].push_back(Ms(Clock::now() - a0));
        if (!last[static_cast<size_t>(s)].ok()) return;
      }
    });
  }
  Clock::time_point t0;
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == n; });
    go = true;
    t0 = Clock::now();
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  const double wall_s = Ms(Clock::now() - t0) / 1e3;
  const uint64_t passes = engine->passes() - passes0;
  double max_dp = 0;
  std::vector<double> all;
  for (int s = 0; s < n; ++s) {
    if (!last[static_cast<size_t>(s)].ok()) return last[static_cast<size_t>(s)].status();
    max_dp = std::max(max_dp, std::fabs(last[static_cast<size_t>(s)]->p_unsafe - one.p_unsafe));
    all.insert(all.end(), latency[static_cast<size_t>(s)].begin(),
               latency[static_cast<size_t>(s)].end());
  }
  const double appended = static_cast<double>(n) * kResponseTokens / wall_s;
  const double p50 = Percentile(all, 0.5), p95 = Percentile(all, 0.95);
  const int threads_used = o.model.threads > 0 ? o.model.threads : UsableCpus();
  if (o.json) {
    Json j = {{"compute", kernels::PrecisionName(o.model.precision)},
              {"backend", engine->model().backend_name()},
              {"device", engine->model().device()},
              {"threads", threads_used},
              {"sessions", n},
              {"kv_reserved_bytes", reserve},
              {"response_tokens", kResponseTokens},
              {"chunks", kChunks},
              {"appends", n * kChunks},
              {"forward_passes", passes},
              {"wall_s", wall_s},
              {"appended_tok_per_s", appended},
              {"prefill_tok_per_s", prefill_tok_per_s},
              {"ratio_to_prefill", appended / prefill_tok_per_s},
              {"append_latency_ms", {{"p50", p50}, {"p95", p95}}},
              {"max_abs_dp_session_vs_oneshot", max_dp}};
    std::cout << j.dump() << '\n';
    return Status::Ok();
  }
  std::printf(
      "streaming, %d concurrent sessions: each appends a %d-token response in %d chunks of %d "
      "tokens (%s, %s)\n",
      n, kResponseTokens, kChunks, kResponseTokens / kChunks,
      kernels::PrecisionName(o.model.precision), engine->model().backend_name());
  std::printf("  %d appends in %llu forward passes, %.1f s\n", n * kChunks,
              static_cast<unsigned long long>(passes), wall_s);
  std::printf("  keys/values memory reserved before the run: %.2f GB\n",
              static_cast<double>(reserve) / 1e9);
  std::printf("  appended response tokens/s, all sessions   %8.1f\n", appended);
  std::printf("  512-token prefill tok/s (same run)           %8.1f\n", prefill_tok_per_s);
  std::printf("  ratio                                        %8.2f\n",
              appended / prefill_tok_per_s);
  std::printf("  append latency p50 %.0f ms, p95 %.0f ms\n", p50, p95);
  std::printf("  max |p_unsafe(last append) - p_unsafe(one-shot)| = %.2g\n", max_dp);
  return Status::Ok();
}

}  // namespace

Status RunStreamBench(const StreamBenchOptions& o) {
  if (o.sessions > 0) return RunConcurrentSessions(o);
  const std::string& model_dir = o.model_dir;
  const std::string& adapter_dir = o.adapter_dir;
  const bool json = o.json;
  const int kRepeats = o.repeats > 0 ? o.repeats : 3;
  EngineOptions eo;
  eo.model_dir = model_dir;
  eo.adapter_dir = adapter_dir;
  eo.model = o.model;
  // One forward for the one-shot exchange (constitution + prompt + the
  // 600-token response: under 2k tokens), small enough to plan on a GPU.
  eo.max_batch_tokens = 1 << 14;
  std::fprintf(stderr, "stream bench: loading %s\n", model_dir.c_str());
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::Create(eo));
  auto classifier = Classifier::Create(engine, Constitution::Default(), std::nullopt);
  if (!classifier.ok()) return classifier.status();
  Classifier& cl = **classifier;
  const Tokenizer& tok = engine->tokenizer();

  // A response of exactly kResponseTokens tokens, cut into kChunks pieces of
  // equal token counts.
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, TextIds(tok, kResponseTokens));
  CCG_ASSIGN_OR_RETURN(std::vector<std::string> chunks, ResponseChunks(tok));
  std::string response;
  for (const auto& c : chunks) response += c;
  const int per_chunk = kResponseTokens / kChunks;
  Item exchange;
  exchange.prompt = kPrompt;
  exchange.response = response;
  auto exchange_ids = cl.Tokenize(exchange);
  if (!exchange_ids.ok()) return exchange_ids.status();
  Item prompt_only;
  prompt_only.prompt = kPrompt;
  prompt_only.response = "";
  const auto empty_ids = cl.Tokenize(prompt_only);
  if (!empty_ids.ok()) return empty_ids.status();

  // Warm up: builds the prefix caches and touches every weight.
  auto warm = cl.Score(prompt_only);
  if (!warm.ok()) return warm.status();

  std::vector<double> prefill_ms, oneshot_ms, full_ms, session_ms, append_ms;
  int64_t oneshot_tokens = 0, session_tokens = 0;
  double max_dp = 0;
  for (int r = 0; r < kRepeats; ++r) {
    std::fprintf(stderr, "stream bench: repeat %d/%d\n", r + 1, kRepeats);
    {
      auto cache = engine->model().NewCache();
      SequenceInput in{ids, cache.get()};
      std::vector<std::vector<float>> logits;
      const auto p0 = Clock::now();
      Status st = engine->Forward(std::span<SequenceInput>(&in, 1), &logits);
      prefill_ms.push_back(Ms(Clock::now() - p0));
      if (!st.ok()) return st;
    }
    auto t0 = Clock::now();
    auto one = cl.Score(exchange);
    oneshot_ms.push_back(Ms(Clock::now() - t0));
    if (!one.ok()) return one.status();
    oneshot_tokens = one->n_tokens - one->cached_tokens;

    auto cache = engine->model().NewCache();
    SequenceInput in{*exchange_ids, cache.get()};
    std::vector<std::vector<float>> logits;
    t0 = Clock::now();
    Status st = engine->Forward(std::span<SequenceInput>(&in, 1), &logits);
    full_ms.push_back(Ms(Clock::now() - t0));
    if (!st.ok()) return st;
    cache.reset();

    t0 = Clock::now();
    auto session = cl.OpenSession(PromptItem());
    if (!session.ok()) return session.status();
    Result<ItemScore> last = Status::Internal("no chunk");
    session_tokens = 0;
    for (const auto& chunk : chunks) {
      const auto a0 = Clock::now();
      last = (*session)->Append(chunk);
      append_ms.push_back(Ms(Clock::now() - a0));
      if (!last.ok()) return last.status();
      session_tokens += last->n_tokens - last->cached_tokens;
    }
    session_ms.push_back(Ms(Clock::now() - t0));
    max_dp = std::max(max_dp, std::fabs(last->p_unsafe - one->p_unsafe));
  }
  std::vector<double> ratio_prefill, ratio_one, ratio_full;
  for (int r = 0; r < kRepeats; ++r) {
    ratio_prefill.push_back(session_ms[r] / prefill_ms[r]);
    ratio_one.push_back(session_ms[r] / oneshot_ms[r]);
    ratio_full.push_back(session_ms[r] / full_ms[r]);
  }
  const double append_p50 = Median(append_ms);
  const double append_max = *std::max_element(append_ms.begin(), append_ms.end());
  const int64_t exchange_tokens = static_cast<int64_t>(exchange_ids->size());
  auto pair = [](const std::vector<double>& v) {
    return Json{{"min", Min(v)}, {"median", Median(v)}};
  };
  if (json) {
    Json j = {{"model", model_dir},
              {"adapter", adapter_dir},
              {"threads", o.model.threads},
              {"compute", kernels::PrecisionName(o.model.precision)},
              {"backend", engine->model().backend_name()},
              {"device", engine->model().device()},
              {"repeats", kRepeats},
              {"prompt_tokens", static_cast<int64_t>(empty_ids->size())},
              {"response_tokens", kResponseTokens},
              {"chunks", kChunks},
              {"exchange_tokens", exchange_tokens},
              {"prefix_tokens", cl.prefix_tokens()},
              {"computed_tokens",
               {{"prefill", kResponseTokens},
                {"oneshot", oneshot_tokens},
                {"full_prefill", exchange_tokens},
                {"session", session_tokens}}},
              {"prefill_ms", pair(prefill_ms)},
              {"oneshot_ms", pair(oneshot_ms)},
              {"full_prefill_ms", pair(full_ms)},
              {"session_ms", pair(session_ms)},
              {"append_ms", {{"p50", append_p50}, {"max", append_max}}},
              {"ratio_session_vs_prefill", pair(ratio_prefill)},
              {"ratio_session_vs_oneshot", pair(ratio_one)},
              {"ratio_session_vs_full_prefill", pair(ratio_full)},
              {"max_abs_dp", max_dp}};
    std::cout << j.dump() << '\n';
    return Status::Ok();
  }
  std::printf(
      "streaming: %d-token response in %d chunks of %d tokens; exchange %lld tokens "
      "(constitution prefix %lld cached)\n",
      kResponseTokens, kChunks, per_chunk, static_cast<long long>(exchange_tokens),
      static_cast<long long>(cl.prefix_tokens()));
  std::printf("%-34s %10s %10s %10s\n", "", "min ms", "median ms", "tokens run");
  std::printf("%-34s %10.1f %10.1f %10d\n", "600-token prefill (empty cache)", Min(prefill_ms),
              Median(prefill_ms), kResponseTokens);
  std::printf("%-34s %10.1f %10.1f %10lld\n", "one-shot score (prefix cached)", Min(oneshot_ms),
              Median(oneshot_ms), static_cast<long long>(oneshot_tokens));
  std::printf("%-34s %10.1f %10.1f %10lld\n", "full prefill (empty cache)", Min(full_ms),
              Median(full_ms), static_cast<long long>(exchange_tokens));
  std::printf("%-34s %10.1f %10.1f %10lld\n", "session: open + 30 appends", Min(session_ms),
              Median(session_ms), static_cast<long long>(session_tokens));
  std::printf("append latency: p50 %.1f ms, max %.1f ms\n", append_p50, append_max);
  std::printf("ratio session / 600-token prefill: min %.2f, median %.2f   (target <= 1.3)\n",
              Min(ratio_prefill), Median(ratio_prefill));
  std::printf("ratio session / one-shot: min %.2f, median %.2f\n", Min(ratio_one),
              Median(ratio_one));
  std::printf("ratio session / full prefill: min %.2f, median %.2f\n", Min(ratio_full),
              Median(ratio_full));
  std::printf("max |p_unsafe(last append) - p_unsafe(one-shot)|: %.2e\n", max_dp);
  return Status::Ok();
}

}  // namespace ccguard::bench
