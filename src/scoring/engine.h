// The shared machinery behind every classifier: the model (adapter merged),
// its tokenizer and chat template, and the one lock that serialises forward
// passes. Any number of Classifiers (one per constitution) share an Engine.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "model/qwen3_model.h"
#include "prompt/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace ccguard {

struct EngineOptions {
  std::string model_dir;
  std::string adapter_dir;         // empty: the base model alone
  bool hf_special_tokens = false;  // parse special tokens inside content, as HF does
  int threads = 0;                 // 0: all hardware threads
  // New tokens per forward batch; 0: the device's default (2048 on the CPU,
  // 16384 on CUDA, enough to keep an H100 busy).
  int64_t max_batch_tokens = 0;
  int64_t max_item_tokens = 32768;  // longer items are refused
  bool prefix_cache = true;         // reuse the constitution prefix's keys/values
  std::string compute = "fp32";     // ModelOptions::compute: fp32 | bf16 | int8
  std::string backend = "auto";     // ModelOptions::backend: auto | portable
  std::string device = "cpu";       // ModelOptions::device: cpu | cuda | cuda:N
};

class Engine {
 public:
  static Result<std::shared_ptr<Engine>> Create(const EngineOptions& options);

  const EngineOptions& options() const { return options_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const ChatTemplate& chat_template() const { return *chat_template_; }
  Qwen3Model& model() { return *model_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Renders `messages` with the chat template and tokenizes the result, the
  // message contents literally unless hf_special_tokens.
  Result<std::vector<int32_t>> EncodeMessages(const std::vector<ChatMessage>& messages) const;
  // Tokenizes pre-rendered text; special tokens in it are parsed.
  Result<std::vector<int32_t>> EncodeText(const std::string& text) const;

  // Runs the model (under the engine lock) and returns each sequence's
  // last-token logits.
  Status Forward(std::span<SequenceInput> batch, std::vector<std::vector<float>>* logits);
  // Runs the model (under the engine lock) and returns, per sequence, the
  // logits of `label_ids` and the log-sum-exp of its last position
  // (Qwen3Model::ForwardLabels).
  Status ForwardLabels(std::span<SequenceInput> batch, const std::vector<int32_t>& label_ids,
                       std::vector<std::vector<double>>* stats);
  // Runs without reading logits (to fill a cache).
  Status Prefill(std::span<SequenceInput> batch);

 private:
  Engine() = default;
  EngineOptions options_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> chat_template_;
  std::unique_ptr<Qwen3Model> model_;
  std::vector<std::string> warnings_;
  std::mutex mu_;
};

}  // namespace ccguard
