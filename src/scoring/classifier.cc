#include "scoring/classifier.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "scoring/session.h"
#include "util/cpu_count.h"

namespace ccguard {
namespace {

// log(exp(a) + exp(b)), with -inf as the empty sum.
double LogAddExp(double a, double b) {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

}  // namespace

void WriteScoreFields(const ItemScore& s, const Constitution& c, Json* out) {
  Json& o = *out;
  o["p_unsafe"] = s.p_unsafe;
  o["label"] = s.unsafe ? c.unsafe_label() : c.safe_label();
  o["flagged"] = s.unsafe;
  o["threshold"] = s.threshold;
  o["n_tokens"] = s.n_tokens;
  o["label_mass"] = s.label_mass;
  o["logprob_safe"] = s.logprob_safe;
  o["logprob_unsafe"] = s.logprob_unsafe;
  const auto& classes = c.label_classes();
  if (classes.size() > 2 && s.class_logprobs.size() == classes.size()) {
    Json m = Json::object();
    double total = 0;
    for (double lp : s.class_logprobs) total += std::exp(lp);
    for (size_t i = 0; i < classes.size(); ++i) {
      m[classes[i].name] = total > 0 ? std::exp(s.class_logprobs[i]) / total : 0.0;
    }
    o["classes"] = std::move(m);
  }
}

Status WriteCategoryFields(Classifier& c, const Item& item, const ItemScore& s, Json* out) {
  if (!s.unsafe) {
    (*out)["categories"] = Json::array();
    return Status::Ok();
  }
  CCG_ASSIGN_OR_RETURN(Classifier::Categories cats, c.DecodeCategories(item));
  (*out)["categories"] = cats.names;
  (*out)["categories_text"] = cats.text;
  return Status::Ok();
}

Classifier::~Classifier() = default;

Result<ItemScore> Classifier::ScoreFromStats(std::span<const double> stats,
                                             int64_t n_tokens) const {
  const size_t n = labels_.ids.size();
  if (stats.size() != n + 1) return Status::Internal("label statistics of the wrong size");
  const size_t n_classes = constitution_.label_classes().size();
  std::vector<double> cls(n_classes, -INFINITY);
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(stats[i])) {
      return ScoreFromLabels(stats[i], stats[i], stats[n], n_tokens);  // the non-finite error
    }
    cls[labels_.classes[i]] = LogAddExp(cls[labels_.classes[i]], stats[i]);
  }
  double safe = -INFINITY, unsafe = -INFINITY;
  for (size_t c = 0; c < n_classes; ++c) {
    double& side = constitution_.ClassIsUnsafe(c) ? unsafe : safe;
    side = LogAddExp(side, cls[c]);
  }
  auto s = ScoreFromLabels(safe, unsafe, stats[n], n_tokens);
  if (s.ok()) {
    s->class_logprobs.resize(n_classes);
    for (size_t c = 0; c < n_classes; ++c) s->class_logprobs[c] = cls[c] - stats[n];
  }
  return s;
}

Result<std::unique_ptr<Classifier>> Classifier::Create(const ClassifierOptions& o) {
  CCG_ASSIGN_OR_RETURN(Constitution c, Constitution::Load(o.constitution_path));
  CCG_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, Engine::Create(o));
  return Create(std::move(engine), std::move(c), o.threshold, o.label_mass_warning);
}

Result<std::unique_ptr<Classifier>> Classifier::Create(std::shared_ptr<Engine> engine,
                                                       Constitution constitution,
                                                       std::optional<double> threshold,
                                                       double label_mass_warning) {
  std::unique_ptr<Classifier> cl(new Classifier(std::move(engine), std::move(constitution)));
  auto labels = LabelSet::Resolve(cl->engine_->tokenizer(), cl->constitution_);
  if (!labels.ok()) return labels.status();
  cl->labels_ = std::move(labels).value();
  cl->threshold_ = threshold.value_or(cl->constitution_.threshold().value_or(0.5));
  if (!(cl->threshold_ >= 0 && cl->threshold_ <= 1)) {
    return Status::InvalidArgument("threshold must be in [0, 1]");
  }
  cl->label_mass_warning_ = label_mass_warning;
  CCG_ASSIGN_OR_RETURN(auto prefix_ids, cl->PrefixTokens());
  Engine* e = cl->engine_.get();
  auto prefixes = PrefixCache::Build(
      e->model(), [e](std::span<SequenceInput> b) { return e->Prefill(b); }, std::move(prefix_ids));
  if (!prefixes.ok()) return prefixes.status().WithContext("computing the constitution prefix");
  cl->prefixes_ = std::move(prefixes).value();
  return cl;
}

Result<std::string> Classifier::RenderPrompt(const Item& item) const {
  switch (item.kind) {
    case Item::Kind::kText:
      return item.text;
    case Item::Kind::kChat:
      return engine_->chat_template().Render(item.chat);
    case Item::Kind::kExchange: {
      CCG_ASSIGN_OR_RETURN(auto messages,
                           constitution_.BuildMessages(item.context, item.prompt, item.response));
      return engine_->chat_template().Render(messages, constitution_.render_options());
    }
  }
  return Status::Internal("unknown item kind");
}

Result<std::vector<int32_t>> Classifier::Tokenize(const Item& item) const {
  switch (item.kind) {
    case Item::Kind::kText:
      return engine_->EncodeText(item.text);
    case Item::Kind::kChat:
      return engine_->EncodeMessages(item.chat);
    case Item::Kind::kExchange: {
      CCG_ASSIGN_OR_RETURN(auto messages,
                           constitution_.BuildMessages(item.context, item.prompt, item.response));
      return engine_->EncodeMessages(messages, constitution_.render_options());
    }
  }
  return Status::Internal("unknown item kind");
}

Result<ItemScore> Classifier::ScoreFromLogits(const std::vector<float>& logits,
                                              int64_t n_tokens) const {
  double maxv = -INFINITY;
  for (float v : logits) maxv = std::max(maxv, static_cast<double>(v));
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - maxv);
  std::vector<double> stats;
  for (int32_t id : labels_.ids) stats.push_back(logits[static_cast<size_t>(id)]);
  stats.push_back(maxv + std::log(sum));
  return ScoreFromStats(stats, n_tokens);
}

namespace {
constexpr std::string_view kNonFinite = "non-finite model output";
}  // namespace

bool Classifier::IsNonFiniteOutput(const Status& s) {
  return s.code() == Status::Code::kCorruption && s.message().rfind(kNonFinite, 0) == 0;
}

Result<ItemScore> Classifier::ScoreFromLabels(double logit_safe, double logit_unsafe, double lse,
                                              int64_t n_tokens) const {
  if (!std::isfinite(logit_safe) || !std::isfinite(logit_unsafe) || !std::isfinite(lse)) {
    return Status::Corruption(
        std::string(kNonFinite) + " (logit safe " + std::to_string(logit_safe) + ", unsafe " +
        std::to_string(logit_unsafe) + ", log-sum-exp " + std::to_string(lse) +
        "): the weights or the arithmetic overflowed; no score");
  }
  ItemScore s;
  s.logit_safe = logit_safe;
  s.logit_unsafe = logit_unsafe;
  s.logprob_safe = s.logit_safe - lse;
  s.logprob_unsafe = s.logit_unsafe - lse;
  s.p_unsafe = 1.0 / (1.0 + std::exp(s.logit_safe - s.logit_unsafe));
  s.label_mass = std::exp(s.logprob_safe) + std::exp(s.logprob_unsafe);
  s.threshold = threshold_;
  s.unsafe = s.p_unsafe >= threshold_;
  s.n_tokens = n_tokens;
  s.low_label_mass = s.label_mass < label_mass_warning_;
  return s;
}

Result<std::vector<std::vector<int32_t>>> Classifier::PrefixTokens() const {
  if (!engine_->options().prefix_cache) return std::vector<std::vector<int32_t>>{};
  auto lcp_of = [&](const Item& a, const Item& b) -> Result<std::vector<int32_t>> {
    CCG_ASSIGN_OR_RETURN(auto ta, Tokenize(a));
    CCG_ASSIGN_OR_RETURN(auto tb, Tokenize(b));
    ta.resize(static_cast<size_t>(CommonPrefix(ta, tb)));
    return ta;
  };
  Item in_a, in_b;
  in_a.prompt = "A";
  in_b.prompt = "B";
  Item ex_a = in_a, ex_b = in_b;
  ex_a.response = "A";
  ex_b.response = "B";
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> in_ids, lcp_of(in_a, in_b));
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ex_ids, lcp_of(ex_a, ex_b));
  return std::vector<std::vector<int32_t>>{std::move(in_ids), std::move(ex_ids)};
}

std::vector<Result<ItemScore>> Classifier::ScoreTokens(
    const std::vector<std::vector<int32_t>>& seqs) {
  std::vector<Result<ItemScore>> out(seqs.size(), Result<ItemScore>(Status::Internal("unscored")));
  const int64_t max_item = engine_->options().max_item_tokens;
  const int64_t budget = engine_->options().max_batch_tokens;
  struct Work {
    size_t index;
    int64_t reused;
    std::unique_ptr<KvCache> cache;
  };
  std::vector<Work> todo;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const int64_t n = static_cast<int64_t>(seqs[i].size());
    if (n == 0) {
      out[i] = Status::InvalidArgument("the prompt is empty (0 tokens)");
    } else if (n > max_item) {
      out[i] = Status::ResourceExhausted("the prompt is " + std::to_string(n) +
                                         " tokens; the limit is " + std::to_string(max_item));
    } else {
      Work w{i, 0, nullptr};
      w.cache = prefixes_->CacheFor(seqs[i], &w.reused);
      todo.push_back(std::move(w));
    }
  }
  size_t next = 0;
  while (next < todo.size()) {
    // One batch: items until the budget of new tokens is reached (at least one).
    std::vector<SequenceInput> batch;
    std::vector<Work*> members;
    int64_t tokens = 0;
    while (next < todo.size()) {
      Work& w = todo[next];
      const auto& s = seqs[w.index];
      const int64_t n = static_cast<int64_t>(s.size()) - w.reused;
      if (!members.empty() && tokens + n > budget) break;
      batch.push_back(
          {std::span<const int32_t>(s).subspan(static_cast<size_t>(w.reused)), w.cache.get()});
      members.push_back(&w);
      tokens += n;
      ++next;
    }
    std::vector<std::vector<double>> stats;
    Status st = engine_->ForwardLabels(batch, labels_.ids, &stats);
    for (size_t b = 0; b < members.size(); ++b) {
      Work& w = *members[b];
      if (!st.ok()) {
        out[w.index] = st;
      } else {
        auto s = ScoreFromStats(stats[b], static_cast<int64_t>(seqs[w.index].size()));
        if (s.ok()) s->cached_tokens = w.reused;
        out[w.index] = std::move(s);
      }
      w.cache.reset();  // free keys/values as soon as the item is scored
    }
  }
  return out;
}

Result<Classifier::Categories> Classifier::DecodeCategories(const Item& item) {
  const auto& spec = constitution_.categories();
  if (!spec) {
    return Status::NotSupported("guard profile '" + constitution_.name() +
                                "' does not name categories (no \"categories\" in the profile)");
  }
  CCG_ASSIGN_OR_RETURN(std::vector<int32_t> ids, Tokenize(item));
  if (ids.empty()) return Status::InvalidArgument("the prompt is empty (0 tokens)");
  const int64_t limit = engine_->options().max_item_tokens;
  if (static_cast<int64_t>(ids.size()) + spec->max_new_tokens > limit) {
    return Status::ResourceExhausted(
        "the prompt is " + std::to_string(ids.size()) + " tokens; with the categories' " +
        std::to_string(spec->max_new_tokens) + " new tokens the limit is " + std::to_string(limit));
  }
  int64_t reused = 0;
  std::unique_ptr<KvCache> cache = prefixes_->CacheFor(ids, &reused);
  const Tokenizer& tok = engine_->tokenizer();
  Categories out;
  std::vector<int32_t> generated;
  std::span<const int32_t> next =
      std::span<const int32_t>(ids).subspan(static_cast<size_t>(reused));
  int32_t token = 0;
  for (int step = 0; step < spec->max_new_tokens; ++step) {
    SequenceInput in{next, cache.get()};
    std::vector<std::vector<float>> logits;
    CCG_RETURN_IF_ERROR(engine_->Forward(std::span<SequenceInput>(&in, 1), &logits));
    const std::vector<float>& l = logits[0];
    token = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    if (!std::isfinite(l[static_cast<size_t>(token)])) {
      return Status::Corruption(std::string(kNonFinite) + " while decoding categories");
    }
    if (tok.IsSpecial(token)) break;
    generated.push_back(token);
    CCG_ASSIGN_OR_RETURN(out.text, tok.Decode(generated, /*skip_special=*/true));
    // Done once the category line has ended.
    if (std::count(out.text.begin(), out.text.end(), '\n') > spec->line) break;
    next = std::span<const int32_t>(&token, 1);
  }
  out.names = spec->Parse(out.text);
  return out;
}

std::vector<Result<ItemScore>> Classifier::ScoreBatch(std::span<const Item> items) {
  std::vector<Result<ItemScore>> out(items.size(), Result<ItemScore>(Status::Internal("unscored")));
  // Tokenize on several threads (the tokenizer is thread-safe): on a GPU the
  // host's tokenization is otherwise what bounds the items per second.
  std::vector<Result<std::vector<int32_t>>> tokenized(
      items.size(), Result<std::vector<int32_t>>(Status::Internal("not tokenized")));
  // Read once: UsableCpus() reads /proc and cgroup files, and this runs per batch.
  static const size_t kCpus = static_cast<size_t>(UsableCpus());
  const size_t workers = std::min<size_t>(kCpus, items.size() / 8 + 1);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < items.size();) tokenized[i] = Tokenize(items[i]);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  std::vector<std::vector<int32_t>> seqs;
  std::vector<size_t> where;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!tokenized[i].ok()) {
      out[i] = tokenized[i].status();
      continue;
    }
    seqs.push_back(std::move(tokenized[i]).value());
    where.push_back(i);
  }
  auto scored = ScoreTokens(seqs);
  for (size_t k = 0; k < where.size(); ++k) out[where[k]] = std::move(scored[k]);
  return out;
}

Result<ItemScore> Classifier::Score(const Item& item) {
  auto r = ScoreBatch(std::span<const Item>(&item, 1));
  return std::move(r[0]);
}

Result<std::unique_ptr<StreamSession>> Classifier::OpenSession(const Item& base) {
  if (base.kind != Item::Kind::kExchange || base.response.has_value()) {
    return Status::InvalidArgument(
        "a session judges a prompt (or a conversation ending with a user turn) and the "
        "response streamed into it: the item must not hold a response");
  }
  Item probe = base;
  probe.response = "";
  CCG_RETURN_IF_ERROR(Tokenize(probe).status());
  return std::unique_ptr<StreamSession>(new StreamSession(this, base));
}

}  // namespace ccguard
