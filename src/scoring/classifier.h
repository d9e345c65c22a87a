// The user-facing scoring API: items in, calibrated scores out.
//
// A Classifier is one constitution (with its label tokens and threshold) on
// a shared Engine. For each item it renders the request, tokenizes it, runs
// the model to the last position and reads the next-token distribution over
// the two label tokens. The keys/values of the constitution's prefix (the
// part of the prompt that does not depend on the item) are computed once,
// when the classifier is created, and reused (PrefixCache): an item only runs
// the tokens after its longest common prefix with it, so scores equal
// full-prompt scores. All methods are thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prompt/constitution.h"
#include "scoring/engine.h"
#include "scoring/item.h"
#include "scoring/labels.h"
#include "scoring/prefix_cache.h"

namespace ccguard {

struct ClassifierOptions : EngineOptions {
  // A built-in guard profile name or a constitution/profile file
  // (Constitution::Load); empty: the embedded default.
  std::string constitution_path;
  std::optional<double> threshold;  // else the constitution's, else 0.5
  double label_mass_warning = 0.1;  // flag items whose p(safe)+p(unsafe) is below
};

// "safe" and "unsafe" below are the two sides of the guard's answer: each is
// the sum over the label classes counted toward it (Constitution::
// ClassIsUnsafe), each class the sum over its label tokens; a plain
// constitution has one token per side.
struct ItemScore {
  double p_unsafe = 0;      // p(unsafe side) / (p(safe side) + p(unsafe side))
  double logprob_safe = 0;  // log-softmax over the whole vocabulary
  double logprob_unsafe = 0;
  double label_mass = 0;  // p(safe) + p(unsafe)
  double logit_safe = 0;  // log Σ exp(logit) over the side's label tokens
  double logit_unsafe = 0;
  // log p of each label class (Constitution::label_classes order).
  std::vector<double> class_logprobs;
  bool unsafe = false;  // p_unsafe >= threshold
  double threshold = 0.5;
  int64_t n_tokens = 0;
  int64_t cached_tokens = 0;  // tokens reused from the prefix (or session) cache
  bool low_label_mass = false;
};

// The one place a score becomes JSON: writes the fields every output of a
// score shares (`score` and `classify --json` lines, bulk rows, /v1/classify
// results, session replies) into the object *out: p_unsafe, label (the
// constitution's word), flagged, threshold, n_tokens, label_mass,
// logprob_safe, logprob_unsafe, and with more than two label classes
// `classes`: {class name: probability among the classes}.
void WriteScoreFields(const ItemScore& s, const Constitution& c, Json* out);

class StreamSession;
class Classifier;

// The categories of a scored item as JSON (`--categories`, the server's
// "categories" option): a flagged item's decoded categories
// (Classifier::DecodeCategories) in "categories" and the generated text in
// "categories_text"; an unflagged item gets "categories": [] without
// decoding. The error of the decoding, if any.
Status WriteCategoryFields(Classifier& c, const Item& item, const ItemScore& s, Json* out);

class Classifier {
 public:
  // Loads an engine and a constitution.
  static Result<std::unique_ptr<Classifier>> Create(const ClassifierOptions& options);
  // A classifier for `constitution` on an existing engine.
  static Result<std::unique_ptr<Classifier>> Create(std::shared_ptr<Engine> engine,
                                                    Constitution constitution,
                                                    std::optional<double> threshold,
                                                    double label_mass_warning = 0.1);
  ~Classifier();

  // The exact text the model reads for `item`.
  Result<std::string> RenderPrompt(const Item& item) const;
  // The token ids the model reads for `item`.
  Result<std::vector<int32_t>> Tokenize(const Item& item) const;

  // Scores each item; results are in input order, each OK or an error for
  // that item alone.
  std::vector<Result<ItemScore>> ScoreBatch(std::span<const Item> items);
  Result<ItemScore> Score(const Item& item);
  // Scores already-tokenized sequences.
  std::vector<Result<ItemScore>> ScoreTokens(const std::vector<std::vector<int32_t>>& seqs);

  // What a guard that names categories (Constitution::categories) writes
  // after the prompt of `item`: up to max_new_tokens tokens decoded greedily
  // (fp32 argmax, ties to the lower id), stopping at a special token or once
  // the category line is complete, and the categories parsed from it.
  // NotSupported when the profile names no categories.
  struct Categories {
    std::string text;  // the generated text, special tokens dropped
    std::vector<std::string> names;
  };
  Result<Categories> DecodeCategories(const Item& item);

  // Streaming output classification of `base` (an exchange item: its context
  // and prompt; a response must not be set) → response: see session.h.
  Result<std::unique_ptr<StreamSession>> OpenSession(const Item& base);

  // Label statistics from last-position logits.
  Result<ItemScore> ScoreFromLogits(const std::vector<float>& logits, int64_t n_tokens) const;
  // The same from the two label logits and the log-sum-exp over the
  // vocabulary (what Engine::ForwardLabels returns). A non-finite label
  // logit, log-sum-exp or p_unsafe (NaN or inf in the weights, an overflow)
  // is never a score: Corruption "non-finite model output ...", for which
  // IsNonFiniteOutput() is true. A guard must not call such an item safe.
  Result<ItemScore> ScoreFromLabels(double logit_safe, double logit_unsafe, double lse,
                                    int64_t n_tokens) const;
  // The same from one row of Engine::ForwardLabels over label_ids(): the
  // logit of each label token, then the log-sum-exp over the vocabulary.
  Result<ItemScore> ScoreFromStats(std::span<const double> stats, int64_t n_tokens) const;
  static bool IsNonFiniteOutput(const Status& s);

  double threshold() const { return threshold_; }
  double label_mass_warning() const { return label_mass_warning_; }
  // The label token ids read at the last position, and the label class
  // each belongs to (indices into constitution().label_classes()).
  const std::vector<int32_t>& label_ids() const { return labels_.ids; }
  const LabelSet& labels() const { return labels_; }
  // The first token of the first safe / unsafe class.
  int32_t safe_token() const { return labels_.safe_id; }
  int32_t unsafe_token() const { return labels_.unsafe_id; }
  const Constitution& constitution() const { return constitution_; }
  Engine& engine() { return *engine_; }
  const std::shared_ptr<Engine>& shared_engine() const { return engine_; }
  const std::vector<std::string>& warnings() const { return engine_->warnings(); }
  // Tokens of the cached constitution prefix (0 if off).
  int64_t prefix_tokens() const { return prefixes_->longest(); }
  // The constitution's prefix caches (reusing nothing if prefix caching is off).
  const PrefixCache& prefixes() const { return *prefixes_; }

 private:
  Classifier(std::shared_ptr<Engine> engine, Constitution c)
      : engine_(std::move(engine)), constitution_(std::move(c)) {}
  // The token prefix shared by every input item (the constitution's system
  // message and the input template's head), and the one shared by every
  // exchange item, each found as the longest common prefix of two items that
  // differ only in their content; none when prefix caching is off.
  Result<std::vector<std::vector<int32_t>>> PrefixTokens() const;

  std::shared_ptr<Engine> engine_;
  Constitution constitution_;
  double threshold_ = 0.5;
  double label_mass_warning_ = 0.1;
  LabelSet labels_;
  std::unique_ptr<PrefixCache> prefixes_;  // built by Create, read-only after
};

}  // namespace ccguard
