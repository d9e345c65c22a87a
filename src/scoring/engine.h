// The shared machinery behind every classifier: the model (adapter merged),
// its tokenizer and chat template, and the queue that turns concurrent
// forward calls into as few passes as possible. Any number of Classifiers
// (one per constitution) share an Engine.
//
// Combining: ForwardLabels calls from different threads that wait while a
// pass runs are merged into one ragged pass (each sequence with its own
// cache) when they read the same label ids and fit max_batch_tokens
// together, oldest first. So the appends of many streaming sessions read
// every weight once per round, not once per session. A sequence's result
// does not depend on what it was batched with (the kernels' contract), so
// merging changes no score. If a merged pass fails, each call is run again
// alone, so an error is reported only to the call that causes it. When the
// last pass merged k calls and fewer are waiting, the thread about to run
// the next pass first waits for the rest a little (at most 1/8 of the last
// pass's time, and 50 ms): callers that were just answered are usually about
// to come back (a session's next chunk), and one pass for all of them beats
// two.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "model/decoder_model.h"
#include "prompt/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ccguard {

struct EngineOptions {
  std::string model_dir;
  std::string adapter_dir;         // empty: the base model alone
  bool hf_special_tokens = false;  // parse special tokens inside content, as HF does
  // New tokens per forward batch; 0: the device's default (2048 on the CPU,
  // 16384 on CUDA, enough to keep an H100 busy). Also the model's
  // ModelOptions::max_batch_tokens.
  int64_t max_batch_tokens = 0;
  int64_t max_item_tokens = 32768;  // longer items are refused
  bool prefix_cache = true;         // reuse the constitution prefix's keys/values
  ModelOptions model;               // threads, precision, backend, device
};

class Engine {
 public:
  static Result<std::shared_ptr<Engine>> Create(const EngineOptions& options);

  const EngineOptions& options() const { return options_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatTemplate& chat_template() const { return *chat_template_; }
  DecoderModel& model() { return *model_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Renders `messages` with the chat template (and `options`) and tokenizes
  // the result, the message contents literally unless hf_special_tokens.
  Result<std::vector<int32_t>> EncodeMessages(const std::vector<ChatMessage>& messages,
                                              const RenderOptions& options = {}) const;
  // Tokenizes pre-rendered text; special tokens in it are parsed.
  Result<std::vector<int32_t>> EncodeText(const std::string& text) const;

  // Runs the model (alone: no other pass at the same time) and returns each
  // sequence's last-token logits.
  Status Forward(std::span<SequenceInput> batch, std::vector<std::vector<float>>* logits);
  // Runs the model and returns, per sequence, the logits of `label_ids` and
  // the log-sum-exp of its last position (DecoderModel::ForwardLabels); may
  // share its pass with concurrent calls (see above). Thread-safe; the
  // caches of concurrent calls must be distinct.
  Status ForwardLabels(std::span<SequenceInput> batch, const std::vector<int32_t>& label_ids,
                       std::vector<std::vector<double>>* stats);
  // Runs without reading logits (to fill a cache), alone.
  Status Prefill(std::span<SequenceInput> batch);

  // Forward passes run and ForwardLabels calls served, since creation.
  uint64_t passes() const;
  uint64_t label_calls() const;

 private:
  // A ForwardLabels call waiting for, or in, a pass.
  struct Call {
    std::span<SequenceInput> batch;
    const std::vector<int32_t>* label_ids;
    std::vector<std::vector<double>>* stats;
    int64_t tokens = 0;
    Status status;
    bool done = false;
  };
  // Runs `group` (merged) and fills each call's stats and status.
  void RunGroup(const std::vector<Call*>& group);
  // Waits until no pass runs and claims the model (lock held on entry/exit).
  void Claim(std::unique_lock<std::mutex>& lock);
  void Release(std::unique_lock<std::mutex>& lock);

  Engine() = default;
  EngineOptions options_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> chat_template_;
  std::unique_ptr<DecoderModel> model_;
  std::vector<std::string> warnings_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<Call*> queue_;  // waiting ForwardLabels calls, oldest first
  bool busy_ = false;        // a pass runs (outside mu_), or is being formed
  size_t last_group_ = 0;    // calls merged into the last ForwardLabels pass
  std::chrono::steady_clock::duration last_pass_{};
  uint64_t passes_ = 0, label_calls_ = 0;
};

}  // namespace ccguard
