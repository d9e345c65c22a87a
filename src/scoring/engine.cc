#include "scoring/engine.h"

#include <filesystem>

namespace ccguard {

Result<std::shared_ptr<Engine>> Engine::Create(const EngineOptions& o) {
  std::error_code ec;
  if (!std::filesystem::is_directory(o.model_dir, ec)) {
    return Status::NotFound("model folder '" + o.model_dir + "' does not exist");
  }
  CCG_ASSIGN_OR_RETURN(kernels::DeviceSpec device, kernels::ParseDevice(o.device));
  std::shared_ptr<Engine> e(new Engine());
  e->options_ = o;
  if (e->options_.max_batch_tokens <= 0) e->options_.max_batch_tokens = device.cuda ? 16384 : 2048;
  CCG_ASSIGN_OR_RETURN(
      e->tokenizer_,
      Tokenizer::FromFile((std::filesystem::path(o.model_dir) / "tokenizer.json").string()));
  CCG_ASSIGN_OR_RETURN(ChatTemplate ct, ChatTemplate::FromModelDir(o.model_dir));
  e->chat_template_ = std::make_unique<ChatTemplate>(std::move(ct));
  std::unique_ptr<LoraAdapter> adapter;
  if (!o.adapter_dir.empty()) {
    CCG_ASSIGN_OR_RETURN(adapter, LoraAdapter::Open(o.adapter_dir));
  }
  ModelOptions mo;
  mo.threads = o.threads;
  mo.compute = o.compute;
  mo.backend = o.backend;
  mo.device = o.device;
  mo.max_batch_tokens = e->options_.max_batch_tokens;
  CCG_ASSIGN_OR_RETURN(e->model_, Qwen3Model::Load(o.model_dir, adapter.get(), mo));
  e->warnings_ = e->model_->warnings();
  if (e->tokenizer_->vocab_size() > e->model_->config().vocab_size) {
    return Status::InvalidArgument(
        o.model_dir + ": the tokenizer has " + std::to_string(e->tokenizer_->vocab_size()) +
        " tokens but the model's vocab_size is " + std::to_string(e->model_->config().vocab_size));
  }
  return e;
}

Result<std::vector<int32_t>> Engine::EncodeMessages(
    const std::vector<ChatMessage>& messages) const {
  if (options_.hf_special_tokens) {
    CCG_ASSIGN_OR_RETURN(std::string text, chat_template_->Render(messages));
    return tokenizer_->Encode(text, /*parse_special=*/true);
  }
  CCG_ASSIGN_OR_RETURN(RenderedPrompt r, chat_template_->RenderWithSpans(messages));
  return tokenizer_->EncodeWithLiteralSpans(r.text, r.content_spans);
}

Result<std::vector<int32_t>> Engine::EncodeText(const std::string& text) const {
  return tokenizer_->Encode(text, /*parse_special=*/true);
}

Status Engine::Forward(std::span<SequenceInput> batch, std::vector<std::vector<float>>* logits) {
  std::lock_guard<std::mutex> lock(mu_);
  return model_->Forward(batch, logits);
}

Status Engine::ForwardLabels(std::span<SequenceInput> batch, const std::vector<int32_t>& label_ids,
                             std::vector<std::vector<double>>* stats) {
  std::lock_guard<std::mutex> lock(mu_);
  return model_->ForwardLabels(batch, label_ids, stats);
}

Status Engine::Prefill(std::span<SequenceInput> batch) {
  std::lock_guard<std::mutex> lock(mu_);
  return model_->Forward(batch, nullptr);
}

}  // namespace ccguard
