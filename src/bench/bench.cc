#include "bench/bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/stats.h"
#include "bench/stream_bench.h"
#include "model/decoder_model.h"
#include "model/lora.h"
#include "model/random_model.h"
#include "prompt/constitution.h"
#include "scoring/classifier.h"
#include "tokenizer/tokenizer.h"
#include "util/cpu_count.h"
#include "util/json_file.h"
#include "util/process_memory.h"

namespace ccguard::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// User + system CPU time of this process: against wall time it shows how much
// of the machine the benchmark really had (other processes compete for it).
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

std::string CacheDir(const BenchOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/ccguard";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/ccguard";
}

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      if (p != std::string::npos) return line.substr(line.find_first_not_of(' ', p + 1));
    }
  }
  return "unknown";
}

std::string MemoryNote() {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "RSS %.2f GB, peak %.2f GB",
                static_cast<double>(ResidentBytes()) / 1e9,
                static_cast<double>(PeakResidentBytes()) / 1e9);
  return buf;
}

std::string Gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  return buf;
}

// Floating-point operations of one forward pass over `t` new tokens after
// `past` cached ones, with the LM head on the last token only.
double ForwardFlops(const ModelConfig& c, int64_t t, int64_t past = 0) {
  const double h = static_cast<double>(c.hidden_size), i = static_cast<double>(c.intermediate_size);
  const double q = static_cast<double>(c.q_dim()), kv = static_cast<double>(c.kv_dim());
  const double linear =
      static_cast<double>(c.num_hidden_layers) * (2 * q * h + 2 * kv * h + 3 * i * h);
  // Causal attention: token j attends to past + j + 1 keys; QK and PV.
  const double keys = static_cast<double>(t) * static_cast<double>(past) +
                      static_cast<double>(t) * static_cast<double>(t + 1) / 2;
  const double attention = static_cast<double>(c.num_hidden_layers) * 4 * q * keys;
  return 2 * linear * static_cast<double>(t) + attention +
         2 * h * static_cast<double>(c.vocab_size);
}

// ---- The workload ------------------------------------------------------------

const char* const kWords[] = {
    "the",       "a",        "how",         "do",       "I",         "make",       "my",
    "computer",  "faster",   "please",      "explain",  "why",       "water",      "boils",
    "at",        "lower",    "temperature", "on",       "mountains", "write",      "story",
    "about",     "dragon",   "who",         "learns",   "to",        "cook",       "kill",
    "Python",    "process",  "that",        "hangs",    "server",    "password",   "reset",
    "account",   "bank",     "transfer",    "money",    "chemistry", "homework",   "reaction",
    "explosive", "history",  "war",         "treaty",   "recipe",    "bread",      "flour",
    "yeast",     "network",  "security",    "firewall", "audit",     "malware",    "analysis",
    "report",    "poem",     "ocean",       "night",    "stars",     "medicine",   "dose",
    "doctor",    "symptoms", "fever",       "child",    "school",    "teacher",    "exam",
    "question",  "answer",   "code",        "function", "returns",   "error",      "when",
    "input",     "is",       "empty",       "list",     "sort",      "numbers",    "quickly",
    "garden",    "plants",   "tomatoes",    "summer",   "travel",    "Paris",      "train",
    "ticket",    "cheap",    "hotel",       "review",   "movie",     "villain",    "plan",
    "detective", "solves",   "crime",       "city",     "rain",      "weapon",     "museum",
    "ancient",   "sword",    "lock",        "picking",  "hobby",     "legal",      "advice",
    "contract",  "landlord", "neighbor",    "noise",    "complaint", "email",      "draft",
    "polite",    "angry",    "customer",    "refund",   "order",     "late",       "delivery",
    "and",       "or",       "but",         "with",     "without",   "for",        "in",
    "of",        "can",      "you",         "help",     "me",        "understand", "this",
    "step",      "by",       "details",     "short",    "long",      "version",    "again",
    "thanks",    "great",    "bad",         "idea",     "safe",      "unsafe",     "policy"};

// Extra categories that grow the default constitution to about `target`
// tokens of system message.
Result<std::string> MakeConstitution(const Tokenizer& tok, int64_t target, int64_t* tokens) {
  CCG_ASSIGN_OR_RETURN(Json j, ParseJson(Constitution::DefaultJsonText(), "default constitution"));
  j["name"] = "ccguard-bench";
  const char* const topics[] = {"Financial fraud",
                                "Election interference",
                                "Critical infrastructure",
                                "Biometric tracking",
                                "Counterfeit goods",
                                "Illegal gambling",
                                "Wildlife trafficking",
                                "Academic dishonesty",
                                "Dangerous challenges",
                                "Medical misinformation",
                                "Extremist recruitment",
                                "Evasion of sanctions",
                                "Unsafe drones",
                                "Poisoning",
                                "Arson",
                                "Stalkerware",
                                "Identity theft",
                                "Price fixing"};
  for (size_t i = 0;; ++i) {
    CCG_ASSIGN_OR_RETURN(Constitution c, Constitution::FromJson(j, "bench constitution"));
    CCG_ASSIGN_OR_RETURN(auto ids, tok.Encode(c.system_message(), false));
    *tokens = static_cast<int64_t>(ids.size());
    if (*tokens >= target || i >= 200) break;
    const std::string topic = topics[i % std::size(topics)];
    j[i % 3 == 2 ? "safe_categories" : "unsafe_categories"].push_back(
        {{"name", topic + (i >= std::size(topics) ? " " + std::to_string(i) : "")},
         {"description", "Requests or content that give real operational help with " +
                             std::string(topic) +
                             ", including step-by-step instructions, sourcing, evasion of "
                             "detection or scaling the harm; general discussion, news, "
                             "education and prevention stay safe."}});
  }
  return j.dump(2);
}

// `n` prompts whose content is 10..400 tokens long (uniform, fixed seed).
Result<std::vector<Item>> MakeItems(const Tokenizer& tok, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(10, 400);
  std::uniform_int_distribution<size_t> word(0, std::size(kWords) - 1);
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) {
    const int target = len(rng);
    std::string text;
    int64_t have = 0;
    while (have < target) {
      const std::string before = text;
      text += (text.empty() ? "" : " ") + std::string(kWords[word(rng)]);
      CCG_ASSIGN_OR_RETURN(auto ids, tok.Encode(text, false));
      have = static_cast<int64_t>(ids.size());
      if (have > target) text = before;  // the word overshoots: stop one short
      if (have > target) break;
    }
    Item item;
    item.kind = Item::Kind::kExchange;
    item.prompt = text;
    item.id = i;
    items.push_back(std::move(item));
  }
  return items;
}

// ---- Phases --------------------------------------------------------------------

struct PrefillResult {
  int64_t tokens;
  double median, min, gflops;  // tok/s, tok/s, GFLOP/s at the median
  double cpu_util;             // CPU time / (wall time * threads), median
};

Result<std::vector<PrefillResult>> RunPrefill(Engine& engine, const std::vector<int64_t>& lengths,
                                              int repeats, int threads) {
  DecoderModel& model = engine.model();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> id(0, 150000);
  std::vector<PrefillResult> out;
  {  // Warm-up: page in the embedding/LM head, size the buffers.
    std::vector<int32_t> ids(64);
    for (auto& v : ids) v = id(rng);
    auto cache = model.NewCache();
    SequenceInput s{ids, cache.get()};
    std::vector<std::vector<float>> logits;
    CCG_RETURN_IF_ERROR(engine.Forward(std::span<SequenceInput>(&s, 1), &logits));
  }
  for (int64_t t : lengths) {
    std::vector<int32_t> ids(static_cast<size_t>(t));
    for (auto& v : ids) v = id(rng);
    std::vector<double> rates, util;
    for (int r = 0; r < repeats; ++r) {
      auto cache = model.NewCache();
      SequenceInput s{ids, cache.get()};
      std::vector<std::vector<float>> logits;
      const auto t0 = Clock::now();
      const double c0 = CpuSeconds();
      CCG_RETURN_IF_ERROR(engine.Forward(std::span<SequenceInput>(&s, 1), &logits));
      const double wall = Seconds(t0);
      rates.push_back(static_cast<double>(t) / wall);
      util.push_back((CpuSeconds() - c0) / (wall * threads));
    }
    const double med = Median(rates);
    out.push_back({t, med, *std::min_element(rates.begin(), rates.end()),
                   ForwardFlops(model.config(), t) * med / static_cast<double>(t) / 1e9,
                   Median(util)});
    std::fprintf(stderr, "  prefill %5lld tokens: %.1f tok/s (median of %d); %s\n",
                 static_cast<long long>(t), med, repeats, MemoryNote().c_str());
  }
  return out;
}

// One forward pass over `seqs` fresh sequences of `tokens` random tokens each
// (throughput of large batches, the GPU's regime), median over repeats.
Result<PrefillResult> RunBatchPrefill(Engine& engine, int seqs, int64_t tokens, int repeats) {
  DecoderModel& model = engine.model();
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> id(0, 150000);
  std::vector<std::vector<int32_t>> ids(static_cast<size_t>(seqs),
                                        std::vector<int32_t>(static_cast<size_t>(tokens)));
  for (auto& s : ids)
    for (auto& v : s) v = id(rng);
  std::vector<double> rates;
  for (int r = 0; r <= repeats; ++r) {  // the first is a warm-up
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<SequenceInput> batch;
    for (const auto& s : ids) {
      caches.push_back(model.NewCache());
      batch.push_back({s, caches.back().get()});
    }
    std::vector<std::vector<double>> stats;
    const auto t0 = Clock::now();
    CCG_RETURN_IF_ERROR(engine.ForwardLabels(batch, {18675, 38157}, &stats));
    const double wall = Seconds(t0);
    if (r > 0) rates.push_back(static_cast<double>(seqs * tokens) / wall);
  }
  const double med = Median(rates);
  PrefillResult p{
      tokens * seqs, med, *std::min_element(rates.begin(), rates.end()),
      ForwardFlops(model.config(), tokens) * seqs * med / static_cast<double>(tokens * seqs) / 1e9,
      0};
  std::fprintf(stderr, "  prefill %d x %lld tokens in one pass: %.0f tok/s (%.0f TFLOP/s)\n", seqs,
               static_cast<long long>(tokens), med, p.gflops / 1e3);
  return p;
}

struct ClassifyRun {
  double items_per_s = 0;
  double cpu_s = 0, wall_s = 0;
  std::vector<double> p_unsafe;
  int64_t tokens = 0, cached = 0;
  // Appends the items of `r` (a later part of the same workload).
  void Add(const ClassifyRun& r) {
    cpu_s += r.cpu_s;
    wall_s += r.wall_s;
    p_unsafe.insert(p_unsafe.end(), r.p_unsafe.begin(), r.p_unsafe.end());
    tokens += r.tokens;
    cached += r.cached;
    items_per_s = static_cast<double>(p_unsafe.size()) / wall_s;
  }
};

Result<ClassifyRun> ScoreAll(Classifier& cl, const std::vector<Item>& items) {
  const auto t0 = Clock::now();
  const double c0 = CpuSeconds();
  auto scores = cl.ScoreBatch(items);
  const double dt = Seconds(t0);
  ClassifyRun r;
  r.items_per_s = static_cast<double>(items.size()) / dt;
  r.wall_s = dt;
  r.cpu_s = CpuSeconds() - c0;
  for (auto& s : scores) {
    if (!s.ok()) return s.status();
    r.p_unsafe.push_back(s->p_unsafe);
    r.tokens += s->n_tokens;
    r.cached += s->cached_tokens;
  }
  return r;
}

// The same items with the prefix cache off, on the same engine: what
// Classifier::ScoreTokens does when EngineOptions::prefix_cache is false
// (tokenize, a fresh cache per item, batches of at most max_batch_tokens new
// tokens, label statistics from the last logits). Saves loading the model twice.
Result<ClassifyRun> ScoreAllUncached(Classifier& cl, const std::vector<Item>& items) {
  Engine& engine = cl.engine();
  DecoderModel& model = engine.model();
  const int64_t budget = engine.options().max_batch_tokens;
  const auto t0 = Clock::now();
  const double c0 = CpuSeconds();
  std::vector<std::vector<int32_t>> seqs;
  for (const Item& it : items) {
    CCG_ASSIGN_OR_RETURN(auto ids, cl.Tokenize(it));
    seqs.push_back(std::move(ids));
  }
  ClassifyRun r;
  for (size_t next = 0; next < seqs.size();) {
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<SequenceInput> batch;
    int64_t tokens = 0;
    const size_t first = next;
    while (next < seqs.size()) {
      const int64_t n = static_cast<int64_t>(seqs[next].size());
      if (!batch.empty() && tokens + n > budget) break;
      caches.push_back(model.NewCache());
      batch.push_back({seqs[next], caches.back().get()});
      tokens += n;
      ++next;
    }
    std::vector<std::vector<double>> stats;
    CCG_RETURN_IF_ERROR(engine.ForwardLabels(batch, cl.label_ids(), &stats));
    for (size_t b = 0; b < batch.size(); ++b) {
      const int64_t n = static_cast<int64_t>(seqs[first + b].size());
      CCG_ASSIGN_OR_RETURN(ItemScore s, cl.ScoreFromStats(stats[b], n));
      r.p_unsafe.push_back(s.p_unsafe);
      r.tokens += n;
    }
  }
  r.wall_s = Seconds(t0);
  r.cpu_s = CpuSeconds() - c0;
  r.items_per_s = static_cast<double>(items.size()) / r.wall_s;
  return r;
}

Result<std::unique_ptr<Classifier>> MakeClassifier(const BenchOptions& o, const ModelOptions& mo,
                                                   const std::string& model,
                                                   const std::string& adapter,
                                                   const std::string& constitution) {
  ClassifierOptions co;
  co.model_dir = model;
  co.adapter_dir = adapter;
  co.model = mo;
  co.prefix_cache = true;
  co.constitution_path = constitution;
  co.max_batch_tokens = o.max_batch_tokens;
  return Classifier::Create(co);
}

// p_unsafe of each token sequence in `precision`, on top of the shared
// prefix computed once.
Result<std::vector<double>> ScoreWith(const std::string& model_dir, const LoraAdapter* adapter,
                                      ModelOptions mo, kernels::Precision precision,
                                      const std::vector<std::vector<int32_t>>& seqs,
                                      int32_t safe_id, int32_t unsafe_id) {
  mo.precision = precision;
  const std::string compute = kernels::PrecisionName(precision);
  CCG_ASSIGN_OR_RETURN(auto model, DecoderModel::Load(model_dir, adapter, mo));
  // The head every sequence shares, computed once.
  int64_t common = static_cast<int64_t>(seqs[0].size());
  for (const auto& s : seqs) common = std::min(common, CommonPrefix(s, seqs[0]));
  std::vector<int32_t> head(seqs[0].begin(), seqs[0].begin() + common);
  CCG_ASSIGN_OR_RETURN(auto prefixes, PrefixCache::Build(*model,
                                                         [&](std::span<SequenceInput> b) {
                                                           return model->Forward(b, nullptr);
                                                         },
                                                         {std::move(head)}));
  std::vector<double> p;
  for (const auto& seq : seqs) {
    int64_t reused = 0;
    auto cache = prefixes->CacheFor(seq, &reused);
    SequenceInput s{std::span<const int32_t>(seq).subspan(static_cast<size_t>(reused)),
                    cache.get()};
    std::vector<std::vector<float>> logits;
    CCG_RETURN_IF_ERROR(model->Forward(std::span<SequenceInput>(&s, 1), &logits));
    const double d = static_cast<double>(logits[0][safe_id]) - logits[0][unsafe_id];
    p.push_back(1.0 / (1.0 + std::exp(d)));
  }
  std::fprintf(stderr, "  accuracy: %zu items scored in %s\n", seqs.size(), compute.c_str());
  return p;
}

Status Run(BenchOptions o) {
  CCG_ASSIGN_OR_RETURN(const ModelOptions mo, ModelOptions::Parse(o.compute, o.device, o.threads));
  o.compute = kernels::PrecisionName(mo.precision);  // what the output calls it
  const bool generated = o.model_dir.empty();
  std::string model_dir = o.model_dir, adapter_dir = o.adapter_dir;
  const std::string cache_dir = CacheDir(o);
  if (generated) {
    const std::string dir = cache_dir + "/bench-qwen3-1.7b-random";
    if (o.tokenizer_dir.empty() && !fs::exists(dir + "/COMPLETE")) {
      return Status::InvalidArgument(
          "no model folder given and no random model in " + dir +
          " yet: give a folder holding the Qwen3 tokenizer.json and tokenizer_config.json "
          "to build one");
    }
    CCG_RETURN_IF_ERROR(EnsureRandomModel(dir, o.tokenizer_dir));
    model_dir = dir + "/base";
    adapter_dir = dir + "/adapter";
  }
  if (o.stream) {
    StreamBenchOptions so;
    so.model_dir = model_dir;
    so.adapter_dir = adapter_dir;
    so.model = mo;
    so.json = o.json;
    so.repeats = o.repeats;
    so.sessions = o.sessions;
    so.kv_reserve_bytes = o.kv_reserve_bytes;
    return RunStreamBench(so);
  }
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  const int repeats = o.repeats > 0 ? o.repeats : o.quick ? 2 : 3;
  const std::vector<int64_t> lengths =
      o.quick ? std::vector<int64_t>{256, 512} : std::vector<int64_t>{64, 256, 512, 1024};
  const int n_items = o.items > 0 ? o.items : o.quick ? 16 : 40;
  const int n_latency = o.quick ? 4 : 12;

  // The workload: a ~900-token constitution and the items.
  CCG_ASSIGN_OR_RETURN(auto tok, Tokenizer::FromFile(model_dir + "/tokenizer.json"));
  int64_t system_tokens = 0;
  CCG_ASSIGN_OR_RETURN(std::string constitution, MakeConstitution(*tok, 880, &system_tokens));
  const std::string constitution_path = cache_dir + "/bench-constitution.json";
  {
    std::ofstream out(constitution_path, std::ios::trunc);
    out << constitution;
    if (!out) return Status::IOError(constitution_path + ": write failed");
  }
  CCG_ASSIGN_OR_RETURN(std::vector<Item> items, MakeItems(*tok, n_items, 42));
  if (!o.dump_items.empty()) {
    std::ofstream out(o.dump_items, std::ios::trunc);
    for (const Item& it : items) out << Json{{"id", it.id}, {"prompt", it.prompt}}.dump() << '\n';
    if (!out) return Status::IOError(o.dump_items + ": write failed");
    std::fprintf(stderr, "wrote %zu items to %s; constitution %s; model %s, adapter %s\n",
                 items.size(), o.dump_items.c_str(), constitution_path.c_str(), model_dir.c_str(),
                 adapter_dir.c_str());
    return Status::Ok();
  }

  // Prefix cache on: prefill, latency, throughput.
  std::fprintf(stderr, "loading %s (compute %s)\n", model_dir.c_str(), o.compute.c_str());
  auto t0 = Clock::now();
  CCG_ASSIGN_OR_RETURN(auto cl, MakeClassifier(o, mo, model_dir, adapter_dir, constitution_path));
  const double load_s = Seconds(t0);
  DecoderModel& model = cl->engine().model();
  const std::string backend = model.backend_name();
  const size_t weight_bytes = model.weight_bytes();
  const int threads = o.threads > 0 ? o.threads : UsableCpus();
  std::fprintf(stderr, "  loaded in %.1f s: %s, %s of weights; %s\n", load_s, backend.c_str(),
               Gb(static_cast<double>(weight_bytes)).c_str(), MemoryNote().c_str());
  CCG_ASSIGN_OR_RETURN(auto prefill, RunPrefill(cl->engine(), lengths, repeats, threads));
  const bool gpu = model.device() != "cpu";
  PrefillResult batch_prefill{};
  if (gpu) {
    CCG_ASSIGN_OR_RETURN(batch_prefill, RunBatchPrefill(cl->engine(), 8, 1024, repeats + 2));
  }

  // Every item alone (a batch of one, prefix cache on): the latency, and
  // the scores the batched runs below must reproduce bit for bit.
  std::vector<double> latency, single(items.size());
  for (int i = 0; i < std::max<int>(n_latency, static_cast<int>(items.size())); ++i) {
    const size_t k = static_cast<size_t>(i) % items.size();
    const auto t1 = Clock::now();
    CCG_ASSIGN_OR_RETURN(ItemScore s, cl->Score(items[k]));
    if (i > 0) latency.push_back(Seconds(t1) * 1e3);  // the first also builds the prefix
    single[k] = s.p_unsafe;
  }
  std::fprintf(stderr, "  latency: p50 %.0f ms\n", Percentile(latency, 0.5));
  // Throughput with the prefix cache on and off, interleaved (on, off for
  // each half of the items) so that both see the same share of the machine.
  ClassifyRun cached, uncached;
  const size_t half = items.size() / 2;
  for (const auto& [a, b] : {std::pair<size_t, size_t>{0, half}, {half, items.size()}}) {
    const std::vector<Item> part(items.begin() + static_cast<int64_t>(a),
                                 items.begin() + static_cast<int64_t>(b));
    CCG_ASSIGN_OR_RETURN(ClassifyRun on, ScoreAll(*cl, part));
    CCG_ASSIGN_OR_RETURN(ClassifyRun off, ScoreAllUncached(*cl, part));
    cached.Add(on);
    uncached.Add(off);
  }
  std::fprintf(stderr, "  classify: %.2f items/s with the prefix cache, %.2f without; %s\n",
               cached.items_per_s, uncached.items_per_s, MemoryNote().c_str());
  const int64_t prefix_tokens = cl->prefix_tokens();
  std::vector<std::vector<int32_t>> seqs;
  for (const Item& it : items) {
    CCG_ASSIGN_OR_RETURN(auto ids, cl->Tokenize(it));
    seqs.push_back(std::move(ids));
  }
  const int32_t safe_id = cl->safe_token(), unsafe_id = cl->unsafe_token();
  const std::string model_device = model.device();
  const auto workspace = static_cast<int64_t>(model.workspace_bytes());
  Json device_memory;
  if (gpu) {
    // Allocated bytes by use against the bytes counted: weights as prepared,
    // keys/values as every KvCache holds them (capacity) at their peak.
    const kernels::MemoryStats ms = model.memory_stats();
    const auto w = static_cast<double>(ms.in_use[static_cast<int>(kernels::MemoryUse::kWeights)]);
    const auto kv = static_cast<double>(ms.peak[static_cast<int>(kernels::MemoryUse::kKvCache)]);
    const auto kv_counted = static_cast<double>(KvCache::PeakLiveBytes());
    device_memory = {
        {"weights_bytes", weight_bytes},
        {"weights_allocated_bytes", w},
        {"kv_peak_bytes", kv_counted},
        {"kv_allocated_peak_bytes", kv},
        {"workspace_peak_bytes", ms.peak[static_cast<int>(kernels::MemoryUse::kWorkspace)]},
        {"weights_plus_kv_ratio", (w + kv) / (static_cast<double>(weight_bytes) + kv_counted)}};
    std::fprintf(stderr, "  device memory: %s\n", device_memory.dump().c_str());
  }
  cl.reset();
  double max_dp = 0, max_dp_batched = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    max_dp = std::max(max_dp, std::fabs(cached.p_unsafe[i] - uncached.p_unsafe[i]));
    max_dp_batched = std::max(max_dp_batched, std::fabs(cached.p_unsafe[i] - single[i]));
  }
  const double n = static_cast<double>(items.size());
  const double mean_tokens = static_cast<double>(cached.tokens) / n;
  const double mean_suffix = static_cast<double>(cached.tokens - cached.cached) / n;
  const double ideal = mean_tokens / mean_suffix;
  const double speedup = cached.items_per_s / uncached.items_per_s;
  const int64_t peak_rss = PeakResidentBytes();
  // The memory bound: 1.15 x the weight bytes plus the keys/values in use at
  // their peak (every live KvCache counted) plus the activation buffers the
  // model keeps between passes (those of its largest pass).
  const int64_t kv_peak = KvCache::PeakLiveBytes();
  const double rss_bound = 1.15 * static_cast<double>(weight_bytes) + static_cast<double>(kv_peak) +
                           static_cast<double>(workspace);

  // Accuracy of bf16 and int8 against fp32 (separate loads, one at a time).
  Json accuracy;
  if (o.accuracy) {
    std::unique_ptr<LoraAdapter> adapter;
    if (!adapter_dir.empty()) {
      CCG_ASSIGN_OR_RETURN(adapter, LoraAdapter::Open(adapter_dir));
    }
    const size_t na = std::min<size_t>(seqs.size(), o.quick ? 8 : 20);
    std::vector<std::vector<int32_t>> some(seqs.begin(), seqs.begin() + static_cast<int64_t>(na));
    CCG_ASSIGN_OR_RETURN(auto ref, ScoreWith(model_dir, adapter.get(), mo, kernels::Precision::kF32,
                                             some, safe_id, unsafe_id));
    accuracy["items"] = na;
    for (kernels::Precision pr : {kernels::Precision::kBF16, kernels::Precision::kInt8}) {
      const char* c = kernels::PrecisionName(pr);
      CCG_ASSIGN_OR_RETURN(auto p,
                           ScoreWith(model_dir, adapter.get(), mo, pr, some, safe_id, unsafe_id));
      double worst = 0, sum = 0;
      for (size_t i = 0; i < na; ++i) {
        worst = std::max(worst, std::fabs(p[i] - ref[i]));
        sum += std::fabs(p[i] - ref[i]);
      }
      accuracy[c] = worst;
      accuracy[std::string(c) + "_mean"] = sum / static_cast<double>(na);
    }
    double lo = 1, hi = 0;
    for (double v : ref) lo = std::min(lo, v), hi = std::max(hi, v);
    accuracy["fp32_p_unsafe_range"] = {lo, hi};
  }

  if (o.json) {
    Json j;
    j["cpu"] = CpuName();
    j["threads"] = threads;
    j["compute"] = o.compute;
    j["weights"] = o.compute;  // the name of earlier versions
    j["backend"] = backend;
    j["load_s"] = load_s;
    j["prefill"] = Json::array();
    for (const auto& p : prefill) {
      j["prefill"].push_back({{"tokens", p.tokens},
                              {"tok_per_s_median", p.median},
                              {"tok_per_s_min", p.min},
                              {"gflops", p.gflops},
                              {"cpu_util", p.cpu_util}});
    }
    j["classify"] = {{"items", items.size()},
                     {"prefix_tokens", prefix_tokens},
                     {"mean_suffix_tokens", mean_suffix},
                     {"ideal_speedup", ideal},
                     {"items_per_s_cached", cached.items_per_s},
                     {"items_per_s_uncached", uncached.items_per_s},
                     {"speedup", speedup},
                     {"fraction_of_ideal", speedup / ideal},
                     {"compute", o.compute},
                     {"max_abs_dp_cached_vs_uncached", max_dp},
                     {"max_abs_dp_batched_vs_single", max_dp_batched},
                     {"cpu_util_cached", cached.cpu_s / (cached.wall_s * threads)},
                     {"cpu_util_uncached", uncached.cpu_s / (uncached.wall_s * threads)}};
    j["latency_ms"] = {{"p50", Percentile(latency, 0.5)}, {"p95", Percentile(latency, 0.95)}};
    j["peak_rss_bytes"] = peak_rss;
    j["weight_bytes"] = weight_bytes;
    j["kv_peak_bytes"] = kv_peak;
    j["workspace_bytes"] = workspace;
    j["rss_bound_bytes"] = static_cast<int64_t>(rss_bound);
    j["rss_within_bound"] = static_cast<double>(peak_rss) <= rss_bound;
    if (o.accuracy) j["accuracy"] = accuracy;
    j["device"] = model_device;
    if (gpu) {
      j["prefill_batch"] = {{"sequences", 8},
                            {"tokens_each", 1024},
                            {"tok_per_s_median", batch_prefill.median},
                            {"tok_per_s_min", batch_prefill.min},
                            {"tflops", batch_prefill.gflops / 1e3}};
      j["device_memory"] = device_memory;
    }
    std::printf("%s\n", j.dump().c_str());
    return Status::Ok();
  }
  std::printf("ccguard bench: %s, %d threads, compute %s (%s)\n", CpuName().c_str(), threads,
              o.compute.c_str(), backend.c_str());
  std::printf("model: %s%s, %s of weights, loaded in %.1f s\n", model_dir.c_str(),
              generated ? " (random weights, LoRA r16 on all linear layers)" : "",
              Gb(static_cast<double>(weight_bytes)).c_str(), load_s);
  std::printf("\n(a) prefill, one prompt    tok/s median   tok/s min   GFLOP/s   CPU share\n");
  for (const auto& p : prefill) {
    std::printf("    %5lld tokens           %10.1f  %10.1f  %8.0f   %6.0f %%\n",
                static_cast<long long>(p.tokens), p.median, p.min, p.gflops, 100 * p.cpu_util);
  }
  std::printf(
      "    (CPU share: CPU time / (wall time x threads); below 100 %% other processes "
      "held the cores)\n");
  std::printf(
      "\n(b) classification: %zu items, constitution prefix %lld tokens, content 10..400 "
      "tokens (mean new tokens per item %.0f)\n",
      items.size(), static_cast<long long>(prefix_tokens), mean_suffix);
  std::printf("    prefix cache on   %8.2f items/s   (CPU share %.0f %%)\n", cached.items_per_s,
              100 * cached.cpu_s / (cached.wall_s * threads));
  std::printf("    prefix cache off  %8.2f items/s   (CPU share %.0f %%)\n", uncached.items_per_s,
              100 * uncached.cpu_s / (uncached.wall_s * threads));
  std::printf("    speed-up          %8.2fx  (ideal %.2fx: %.0f %% of ideal)\n", speedup, ideal,
              100 * speedup / ideal);
  std::printf("    max |p_unsafe(cache on) - p_unsafe(cache off)| = %.2g\n", max_dp);
  std::printf("    max |p_unsafe(batched) - p_unsafe(alone)|       = %.2g\n", max_dp_batched);
  std::printf("\n(c) single-item latency (cache on): p50 %.0f ms, p95 %.0f ms\n",
              Percentile(latency, 0.5), Percentile(latency, 0.95));
  std::printf(
      "\n(d) peak RSS %s = %.2f x weight bytes (%s); keys/values at peak %s; activations %s;\n"
      "    bound 1.15 x weights + keys/values + activations = %s: %s\n",
      Gb(static_cast<double>(peak_rss)).c_str(),
      static_cast<double>(peak_rss) / static_cast<double>(weight_bytes),
      Gb(static_cast<double>(weight_bytes)).c_str(), Gb(static_cast<double>(kv_peak)).c_str(),
      Gb(static_cast<double>(workspace)).c_str(), Gb(rss_bound).c_str(),
      static_cast<double>(peak_rss) <= rss_bound ? "within" : "EXCEEDED");
  if (gpu) {
    std::printf("\n(e) %s: prefill of 8 x 1024 tokens in one pass %.0f tok/s (%.0f TFLOP/s)\n",
                model_device.c_str(), batch_prefill.median, batch_prefill.gflops / 1e3);
    std::printf("    device memory: %s\n", device_memory.dump().c_str());
  }
  if (o.accuracy) {
    std::printf("\naccuracy against fp32 (%d items): max |dp_unsafe| bf16 %.2g, int8 %.2g\n",
                accuracy["items"].get<int>(), accuracy["bf16"].get<double>(),
                accuracy["int8"].get<double>());
  }
  return Status::Ok();
}

}  // namespace

int RunBench(const BenchOptions& options) {
  Status s = Run(options);
  if (!s.ok()) {
    std::fprintf(stderr, "ccguard bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace ccguard::bench
