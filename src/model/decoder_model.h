// A decoder-only causal LM (Qwen3, Llama, Granite: ModelConfig): weights
// bound from a Hugging Face folder (optionally with a PEFT LoRA merged in),
// and one forward pass over a ragged batch of sequences, each with its own
// KV cache.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/lora.h"
#include "model/weight_binder.h"
#include "util/status.h"
#include "util/thread_pool.h"
#include "weights/weight_store.h"

namespace ccguard {

// How a model computes. What users write (--compute, --device, a server
// config) is parsed once, where it is read (ModelOptions::Parse); from there
// on these are values, not strings.
struct ModelOptions {
  int threads = 0;  // 0: all hardware threads
  // Arithmetic of the matrix multiplies: kF32 (the reference: float32 on the
  // stored weights), kBF16 (activations rounded to bfloat16, BF16 weights)
  // or kInt8 (weights quantized per output channel, activations per token).
  // The LoRA is merged in float32 first either way; the embedding and LM
  // head stay BF16 as stored.
  kernels::Precision precision = kernels::Precision::kF32;
  // "auto": the fast CPU backend for this CPU (kernels::MakeFastCpuBackend);
  // "portable": the portable reference backend (fp32 only). CPU only.
  std::string backend = "auto";
  // Where the forward pass runs. On CUDA the weights are uploaded once at
  // load (BF16 for bf16, float32 for fp32; int8 is refused) and the
  // keys/values live on the device.
  kernels::DeviceSpec device;  // the CPU
  // New tokens per forward pass the caller will send at most (EngineOptions::
  // max_batch_tokens): on a device, Load checks that the weights, their
  // keys/values and the activations of such a pass fit in its free memory.
  int64_t max_batch_tokens = 2048;

  // `compute` is fp32, bf16, int8 or auto (kernels::DefaultPrecision for the
  // device: bf16 where the hardware has native BF16, else fp32); `device` is
  // cpu, cuda or cuda:N. Errors name the value and what is accepted.
  static Result<ModelOptions> Parse(std::string_view compute, std::string_view device,
                                    int threads = 0);
};

// Device memory a model needs (DeviceMemoryNeeded): weights in the compute
// precision, the keys/values of `kv_tokens` positions, the activations of a
// pass of `batch_tokens` new tokens. Plain arithmetic on the config.
struct DeviceMemoryPlan {
  int64_t weights = 0, kv = 0, workspace = 0;
  int64_t total() const { return weights + kv + workspace; }
};
DeviceMemoryPlan DeviceMemoryNeeded(const ModelConfig& c, kernels::Precision precision,
                                    int64_t batch_tokens, int64_t kv_tokens);

// One sequence of a batch: `tokens` are appended after what `cache` holds.
struct SequenceInput {
  std::span<const int32_t> tokens;
  KvCache* cache = nullptr;
};

class DecoderModel {
 public:
  // Loads config.json and the safetensors weights of `model_dir`, checks every
  // tensor against the shapes config.json implies, and merges `adapter` (may
  // be null; need not outlive the call) into the weights it targets.
  static Result<std::unique_ptr<DecoderModel>> Load(const std::string& model_dir,
                                                    const LoraAdapter* adapter,
                                                    const ModelOptions& options = {});
  ~DecoderModel();

  const ModelConfig& config() const { return config_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Bytes of weight data used by the forward pass (mapped + merged/prepared).
  size_t weight_bytes() const { return weight_bytes_; }
  // The kernels in use, e.g. "cpu-fast(amx, bf16)".
  const char* backend_name() const { return backend_->name(); }
  // The compute threads (the pool's size, the calling thread included).
  int threads() const { return pool_->size(); }
  kernels::Precision precision() const { return backend_->precision(); }

  // A cache that continues after the first `prefix_len` positions (all if
  // < 0) of `prefix`, which must outlive it unchanged.
  // The cache lives in the backend's memory (the device's on CUDA).
  std::unique_ptr<KvCache> NewCache(const KvCache* prefix = nullptr,
                                    int64_t prefix_len = -1) const {
    return std::make_unique<KvCache>(config_.num_hidden_layers, config_.kv_dim(), prefix,
                                     prefix_len, backend_.get());
  }
  // The device the model runs on ("cpu", "cuda:0", ...).
  const std::string& device() const { return device_; }
  // Bytes of activation buffers kept between forward passes (those of the
  // largest pass so far: at most what max_batch_tokens new tokens need).
  size_t workspace_bytes() const {
    size_t b = 0;
    for (const auto& w : workspace_) b += w.first;
    return b;
  }
  // Backend memory in use by kind (weights, keys/values, workspace).
  kernels::MemoryStats memory_stats() const { return backend_->memory_stats(); }

  // Runs every sequence's new tokens as one batch (the weights are streamed
  // once per batch), appends their keys/values to their caches and, if
  // `last_logits` is not null, writes the logits of each sequence's last new
  // token (vocab_size floats each). A sequence may have zero new tokens only
  // if last_logits is null. Caches must be distinct. Not thread-safe: one
  // Forward at a time per model.
  Status Forward(std::span<SequenceInput> batch, std::vector<std::vector<float>>* last_logits);

  // As Forward, but reads out only what a classifier needs of each
  // sequence's last logits (Backend::LabelStats): (*stats)[s] = {logit of
  // label_ids[0], ..., logit of label_ids[n-1], log-sum-exp over the
  // vocabulary}. On a GPU only these numbers leave the device.
  Status ForwardLabels(std::span<SequenceInput> batch, const std::vector<int32_t>& label_ids,
                       std::vector<std::vector<double>>* stats);

  // The final-norm hidden states → logits, `rows` rows (backend memory; used
  // by Forward).
  void LmHead(const float* hidden_rows, int64_t rows, float* logits);

 private:
  struct Layer {
    kernels::Matrix q, k, v, o, gate, up, down;
    const float *in_norm, *post_norm;                  // backend memory
    const float *q_norm = nullptr, *k_norm = nullptr;  // with ModelConfig::qk_norm
  };
  // The forward pass; with `readout`, the logits of each sequence's last
  // token (B rows of vocab_size, backend memory) go to it before the caches
  // commit their new rows.
  using Readout = std::function<Status(const float* last_logits, int64_t rows)>;
  Status Run(std::span<SequenceInput> batch, const Readout& readout);
  DecoderModel() = default;

  ModelConfig config_;
  std::unique_ptr<WeightStore> store_;
  std::unique_ptr<WeightBinder> weights_;  // owns every weight copy the pass reads
  std::vector<Layer> layers_;
  kernels::Matrix embed_, lm_head_;
  const float* final_norm_ = nullptr;
  std::string device_ = "cpu";
  std::vector<std::string> warnings_;
  size_t weight_bytes_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<kernels::Backend> backend_;
  // Run's activation buffers (bytes, backend memory), reused by later
  // passes; declared after backend_ so that they go first.
  std::vector<std::pair<size_t, std::shared_ptr<void>>> workspace_;
};

}  // namespace ccguard
