#include "scoring/engine.h"

#include <filesystem>

namespace ccguard {

Result<std::shared_ptr<Engine>> Engine::Create(const EngineOptions& o) {
  std::error_code ec;
  if (!std::filesystem::is_directory(o.model_dir, ec)) {
    return Status::NotFound("model folder '" + o.model_dir + "' does not exist");
  }
  std::shared_ptr<Engine> e(new Engine());
  e->options_ = o;
  if (e->options_.max_batch_tokens <= 0) {
    e->options_.max_batch_tokens = o.model.device.cuda ? 16384 : 2048;
  }
  e->options_.model.max_batch_tokens = e->options_.max_batch_tokens;
  CCG_ASSIGN_OR_RETURN(
      e->tokenizer_,
      Tokenizer::FromFile((std::filesystem::path(o.model_dir) / "tokenizer.json").string()));
  CCG_ASSIGN_OR_RETURN(ChatTemplate ct, ChatTemplate::FromModelDir(o.model_dir));
  e->chat_template_ = std::make_unique<ChatTemplate>(std::move(ct));
  std::unique_ptr<LoraAdapter> adapter;
  if (!o.adapter_dir.empty()) {
    CCG_ASSIGN_OR_RETURN(adapter, LoraAdapter::Open(o.adapter_dir));
  }
  CCG_ASSIGN_OR_RETURN(e->model_,
                       DecoderModel::Load(o.model_dir, adapter.get(), e->options_.model));
  e->warnings_ = e->model_->warnings();
  if (e->tokenizer_->vocab_size() > e->model_->config().vocab_size) {
    return Status::InvalidArgument(
        o.model_dir + ": the tokenizer has " + std::to_string(e->tokenizer_->vocab_size()) +
        " tokens but the model's vocab_size is " + std::to_string(e->model_->config().vocab_size));
  }
  return e;
}

Result<std::vector<int32_t>> Engine::EncodeMessages(const std::vector<ChatMessage>& messages,
                                                    const RenderOptions& options) const {
  if (options_.hf_special_tokens) {
    CCG_ASSIGN_OR_RETURN(std::string text, chat_template_->Render(messages, options));
    return tokenizer_->Encode(text, /*parse_special=*/true);
  }
  CCG_ASSIGN_OR_RETURN(RenderedPrompt r, chat_template_->RenderWithSpans(messages, options));
  return tokenizer_->EncodeWithLiteralSpans(r.text, r.content_spans);
}

Result<std::vector<int32_t>> Engine::EncodeText(const std::string& text) const {
  return tokenizer_->Encode(text, /*parse_special=*/true);
}

void Engine::Claim(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return !busy_; });
  busy_ = true;
}

void Engine::Release(std::unique_lock<std::mutex>& lock) {
  busy_ = false;
  ++passes_;
  lock.unlock();
  cv_.notify_all();
  lock.lock();
}

Status Engine::Forward(std::span<SequenceInput> batch, std::vector<std::vector<float>>* logits) {
  std::unique_lock<std::mutex> lock(mu_);
  Claim(lock);
  lock.unlock();
  Status st = model_->Forward(batch, logits);
  lock.lock();
  Release(lock);
  return st;
}

Status Engine::Prefill(std::span<SequenceInput> batch) { return Forward(batch, nullptr); }

uint64_t Engine::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

uint64_t Engine::label_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return label_calls_;
}

void Engine::RunGroup(const std::vector<Call*>& group) {
  if (group.size() == 1) {
    Call* c = group[0];
    c->status = model_->ForwardLabels(c->batch, *c->label_ids, c->stats);
    return;
  }
  std::vector<SequenceInput> merged;
  for (const Call* c : group) merged.insert(merged.end(), c->batch.begin(), c->batch.end());
  std::vector<std::vector<double>> stats;
  Status st = model_->ForwardLabels(merged, *group[0]->label_ids, &stats);
  if (!st.ok()) {
    // The pass dropped every sequence's uncommitted rows: run each call
    // alone, so that only the one that fails sees its error.
    for (Call* c : group) c->status = model_->ForwardLabels(c->batch, *c->label_ids, c->stats);
    return;
  }
  size_t at = 0;
  for (Call* c : group) {
    c->stats->assign(stats.begin() + static_cast<int64_t>(at),
                     stats.begin() + static_cast<int64_t>(at + c->batch.size()));
    at += c->batch.size();
    c->status = Status::Ok();
  }
}

Status Engine::ForwardLabels(std::span<SequenceInput> batch, const std::vector<int32_t>& label_ids,
                             std::vector<std::vector<double>>* stats) {
  Call me;
  me.batch = batch;
  me.label_ids = &label_ids;
  me.stats = stats;
  for (const SequenceInput& in : batch) me.tokens += static_cast<int64_t>(in.tokens.size());
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&me);
  ++label_calls_;
  cv_.notify_all();  // a thread forming a pass may be waiting for more calls
  // Whoever finds the model free runs the oldest waiting calls (its own or
  // not) until its own is done.
  while (!me.done) {
    if (busy_) {
      cv_.wait(lock);
      continue;
    }
    busy_ = true;
    if (last_group_ > 1 && queue_.size() < last_group_) {
      const auto wait = std::min<std::chrono::steady_clock::duration>(
          last_pass_ / 8, std::chrono::milliseconds(50));
      cv_.wait_for(lock, wait, [&] { return queue_.size() >= last_group_; });
    }
    std::vector<Call*> group{queue_.front()};
    queue_.pop_front();
    int64_t tokens = group[0]->tokens;
    for (auto it = queue_.begin(); it != queue_.end();) {
      Call* c = *it;
      if (*c->label_ids == *group[0]->label_ids &&
          tokens + c->tokens <= options_.max_batch_tokens) {
        tokens += c->tokens;
        group.push_back(c);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    RunGroup(group);
    const auto took = std::chrono::steady_clock::now() - t0;
    lock.lock();
    last_group_ = group.size();
    last_pass_ = took;
    for (Call* c : group) c->done = true;
    Release(lock);
  }
  return me.status;
}

}  // namespace ccguard
