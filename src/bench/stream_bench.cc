#include "bench/stream_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include "bench/stats.h"
#include "scoring/classifier.h"
#include "scoring/session.h"
#include "util/json_file.h"

namespace ccguard::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kResponseTokens = 600;
constexpr int kChunks = 30;

const char kPrompt[] =
    "Write a long, careful essay on the history of chemistry, from alchemy "
    "to the periodic table.";

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

}  // namespace

Status RunStreamBench(const StreamBenchOptions& o) {
  const std::string& model_dir = o.model_dir;
  const std::string& adapter_dir = o.adapter_dir;
  const bool json = o.json;
  const int kRepeats = o.repeats > 0 ? o.repeats : 3;
  EngineOptions eo;
  eo.model_dir = model_dir;
  eo.adapter_dir = adapter_dir;
  eo.threads = o.threads;
  eo.compute = o.compute;
  eo.max_batch_tokens = 1 << 20;  // one forward for the one-shot exchange
  std::fprintf(stderr, "stream bench: loading %s\n", model_dir.c_str());
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::Create(eo));
  auto classifier = Classifier::Create(engine, Constitution::Default(), std::nullopt);
  if (!classifier.ok()) return classifier.status();
  Classifier& cl = **classifier;
  const Tokenizer& tok = engine->tokenizer();

  // A response of exactly kResponseTokens tokens, cut into kChunks pieces of
  // equal token counts.
  std::string text;
  std::vector<int32_t> ids;
  while (static_cast<int>(ids.size()) < kResponseTokens) {
    text += kText;
    auto enc = tok.Encode(text, /*parse_special=*/false);
    if (!enc.ok()) return enc.status();
    ids = std::move(enc).value();
  }
  ids.resize(kResponseTokens);
  std::vector<std::string> chunks;
  std::string response;
  const int per_chunk = kResponseTokens / kChunks;
  for (int c = 0; c < kChunks; ++c) {
    std::vector<int32_t> slice(ids.begin() + c * per_chunk, ids.begin() + (c + 1) * per_chunk);
    auto piece = tok.Decode(slice);
    if (!piece.ok()) return piece.status();
    chunks.push_back(*piece);
    response += *piece;
  }
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
    auto session = cl.OpenSession(kPrompt);
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
              {"threads", o.threads},
              {"compute", o.compute},
              {"backend", engine->model().backend_name()},
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
