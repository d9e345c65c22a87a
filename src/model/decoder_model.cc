// The decoder forward pass, top to bottom (llm.c style), shared by Qwen3,
// Llama and Granite (ModelConfig says how they differ). Per layer:
//   h = RMSNorm(x);  q,k,v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;  [q,k = RMSNorm per head: Qwen3]
//   q,k = RoPE (llama3-scaled frequencies where configured);  append k,v to the cache;
//   a = causal GQA attention, softmax(q·kᵀ · s) with s = 1/sqrt(head_dim) or Granite's
//       attention_multiplier;
//   x += r · a·Woᵀ;  h = RMSNorm(x);  x += r · (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
// with x = embedding · embedding_multiplier at the start and r Granite's
// residual_multiplier (else 1), then the final RMSNorm and the LM head on each
// sequence's last token only, divided by logits_scaling (Granite).
#include "model/decoder_model.h"

#include <cctype>
#include <filesystem>
#include <map>

namespace ccguard {
namespace {

namespace fs = std::filesystem;

const char* const kLinear[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                               "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                               "mlp.down_proj"};

// The name a model folder goes by: config.json's _name_or_path, else the Hub
// repo of a cache snapshot (.../models--org--name/snapshots/<commit>), else "".
std::string ModelName(const std::string& dir, const ModelConfig& c) {
  if (!c.name_or_path.empty()) return c.name_or_path;
  for (const auto& part : fs::path(dir)) {
    const std::string s = part.string();
    if (s.rfind("models--", 0) != 0) continue;
    std::string repo = s.substr(8);
    if (const size_t at = repo.find("--"); at != std::string::npos) repo.replace(at, 2, "/");
    return repo;
  }
  return "";
}

// "Org/Name-1.7B" and "/some/path/name-1.7b/" both → "name-1.7b".
std::string ShortName(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  s = s.substr(s.find_last_of('/') + 1);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

Result<std::unique_ptr<kernels::Backend>> MakeBackend(const ModelOptions& o, ThreadPool* pool) {
  const kernels::Precision precision = o.precision;
  if (o.device.cuda) {
    if (o.backend != "auto") {
      return Status::InvalidArgument("backend '" + o.backend + "' is a CPU backend; device " +
                                     o.device.ToString() + " has its own");
    }
    return kernels::MakeCudaBackend(o.device.index, precision);
  }
  if (o.backend == "portable") {
    if (precision != kernels::Precision::kF32) {
      return Status::InvalidArgument(
          std::string("the portable backend computes in fp32 only, not ") +
          kernels::PrecisionName(precision));
    }
    return kernels::MakeCpuBackend(pool);
  }
  if (o.backend != "auto") {
    return Status::InvalidArgument("backend '" + o.backend + "' is not one of auto, portable");
  }
  return kernels::MakeFastCpuBackend(pool, precision);
}

}  // namespace

Result<ModelOptions> ModelOptions::Parse(std::string_view compute, std::string_view device,
                                         int threads) {
  ModelOptions o;
  CCG_ASSIGN_OR_RETURN(o.device, kernels::ParseDevice(device));
  CCG_ASSIGN_OR_RETURN(o.precision, kernels::ResolvePrecision(compute, o.device));
  o.threads = threads;
  return o;
}

DeviceMemoryPlan DeviceMemoryNeeded(const ModelConfig& c, kernels::Precision precision,
                                    int64_t batch_tokens, int64_t kv_tokens) {
  const int64_t elem = precision == kernels::Precision::kF32 ? 4 : 2;
  const int64_t H = c.hidden_size, I = c.intermediate_size, L = c.num_hidden_layers;
  const int64_t linear = L * (c.q_dim() * H * 2 + c.kv_dim() * H * 2 + 3 * I * H);
  const int64_t table = c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2);
  const int64_t norms = L * (2 * H + (c.qk_norm ? 2 * c.head_dim : 0)) + H;
  DeviceMemoryPlan p;
  p.weights = (linear + table) * elem + norms * 4;
  p.kv = kv_tokens * L * c.kv_dim() * 2 * 4;
  // Per token: x, h, proj (H); q, attn (q_dim); k, v (kv_dim); gate, up (I)
  // in float32, the BF16 copy of the widest GEMM input, position and id.
  const int64_t per_token =
      (3 * H + 2 * c.q_dim() + 2 * c.kv_dim() + 2 * I) * 4 + std::max(H, I) * 2 + 12;
  // The last rows' logits (at most one sequence per token) are bounded by
  // the batch's sequences; count 256 of them, and 64 MiB of GEMM workspace.
  p.workspace = batch_tokens * per_token + 256 * (c.vocab_size + H) * 4 + (64 << 20);
  return p;
}

DecoderModel::~DecoderModel() = default;

Result<std::unique_ptr<DecoderModel>> DecoderModel::Load(const std::string& model_dir,
                                                         const LoraAdapter* adapter,
                                                         const ModelOptions& options) {
  std::unique_ptr<DecoderModel> m(new DecoderModel());
  m->device_ = options.device.ToString();
  m->pool_ = std::make_unique<ThreadPool>(options.device.cuda ? 1 : options.threads);
  CCG_ASSIGN_OR_RETURN(m->backend_, MakeBackend(options, m->pool_.get()));
  CCG_ASSIGN_OR_RETURN(m->config_,
                       ModelConfig::FromFile((fs::path(model_dir) / "config.json").string()));
  CCG_ASSIGN_OR_RETURN(m->store_, WeightStore::OpenModelDir(model_dir));
  const ModelConfig& c = m->config_;
  if (m->backend_->device_memory()) {
    // Refuse up front, with the figures, rather than fail halfway through.
    const DeviceMemoryPlan need = DeviceMemoryNeeded(
        c, m->backend_->precision(), options.max_batch_tokens, options.max_batch_tokens + 2048);
    CCG_ASSIGN_OR_RETURN(int64_t free_bytes, m->backend_->FreeBytes());
    if (need.total() > free_bytes) {
      auto gib = [](int64_t b) { return std::to_string(static_cast<double>(b) / (1 << 30)); };
      return Status::ResourceExhausted(
          model_dir + " does not fit on " + m->device_ + ": it needs " + gib(need.total()) +
          " GiB (weights " + gib(need.weights) + ", keys/values of " +
          std::to_string(options.max_batch_tokens + 2048) + " positions " + gib(need.kv) +
          ", workspace for " + std::to_string(options.max_batch_tokens) + " tokens a pass " +
          gib(need.workspace) + ") and " + gib(free_bytes) +
          " GiB are free; lower --max-batch-tokens" +
          (m->backend_->precision() == kernels::Precision::kF32 ? " or use --compute bf16" : ""));
    }
  }
  const int64_t H = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  m->weights_ = std::make_unique<WeightBinder>(m->store_.get(), model_dir, m->backend_.get());
  WeightBinder& wb = *m->weights_;

  CCG_ASSIGN_OR_RETURN(m->embed_, wb.Table("model.embed_tokens.weight", {c.vocab_size, H}));
  if (c.tie_word_embeddings) {
    m->lm_head_ = m->embed_;
    if (m->store_->Find("lm_head.weight")) {
      wb.Ignore("lm_head.weight");
      m->warnings_.push_back(model_dir +
                             ": lm_head.weight is ignored because "
                             "tie_word_embeddings is true (as transformers does)");
    }
  } else {
    CCG_ASSIGN_OR_RETURN(m->lm_head_, wb.Table("lm_head.weight", {c.vocab_size, H}));
  }
  CCG_ASSIGN_OR_RETURN(m->final_norm_, wb.Vector("model.norm.weight", H));

  // An adapter trained on another model merges without an error wherever the
  // shapes agree (the published LoRA into DynaGuard-1.7B): say so.
  if (adapter != nullptr) {
    const std::string base = adapter->config().base_model_name_or_path;
    const std::string name = ModelName(model_dir, c);
    if (!base.empty() && !name.empty() && ShortName(base) != ShortName(name)) {
      m->warnings_.push_back(adapter->dir() + ": the adapter was trained on '" + base +
                             "' but the model is '" + name +
                             "'; it is merged because the shapes fit, but its scores are "
                             "those of another model's adapter (--no-adapter scores without it)");
    }
  }
  // Adapter modules not yet applied; whatever remains at the end is an error.
  std::map<std::string, LoraPair> pending;
  if (adapter) pending = adapter->modules();
  const std::map<std::string, std::vector<int64_t>> linear_shapes = {
      {"self_attn.q_proj", {c.q_dim(), H}},
      {"self_attn.k_proj", {c.kv_dim(), H}},
      {"self_attn.v_proj", {c.kv_dim(), H}},
      {"self_attn.o_proj", {H, c.q_dim()}},
      {"mlp.gate_proj", {I, H}},
      {"mlp.up_proj", {I, H}},
      {"mlp.down_proj", {H, I}}};

  m->layers_.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    Layer& L = m->layers_[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    kernels::Matrix* slots[] = {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down};
    for (int i = 0; i < 7; ++i) {
      const std::string module = p + kLinear[i];
      auto it = pending.find(module);
      const LoraPair* lora = it == pending.end() ? nullptr : &it->second;
      CCG_ASSIGN_OR_RETURN(*slots[i], wb.Linear(module + ".weight", linear_shapes.at(kLinear[i]),
                                                lora, adapter ? adapter->dir() : std::string()));
      if (lora != nullptr) pending.erase(it);
    }
    CCG_ASSIGN_OR_RETURN(L.in_norm, wb.Vector(p + "input_layernorm.weight", H));
    CCG_ASSIGN_OR_RETURN(L.post_norm, wb.Vector(p + "post_attention_layernorm.weight", H));
    if (c.qk_norm) {
      CCG_ASSIGN_OR_RETURN(L.q_norm, wb.Vector(p + "self_attn.q_norm.weight", hd));
      CCG_ASSIGN_OR_RETURN(L.k_norm, wb.Vector(p + "self_attn.k_norm.weight", hd));
    }
  }
  if (!pending.empty()) {
    return Status::InvalidArgument((adapter ? adapter->dir() : std::string()) + ": LoRA module '" +
                                   pending.begin()->first + "' does not exist in the base model (" +
                                   std::to_string(c.num_hidden_layers) +
                                   " layers; is the adapter for another base model?)");
  }
  wb.ReleaseScratch();
  for (std::string& w : wb.UnusedWarnings()) m->warnings_.push_back(std::move(w));
  m->weight_bytes_ = wb.bytes();
  if (adapter) {
    for (const auto& w : adapter->warnings()) m->warnings_.push_back(w);
  }
  return m;
}

void DecoderModel::LmHead(const float* hidden_rows, int64_t rows, float* logits) {
  backend_->MatMul(hidden_rows, rows, lm_head_, logits);
}

Status DecoderModel::Forward(std::span<SequenceInput> batch,
                             std::vector<std::vector<float>>* last_logits) {
  if (last_logits == nullptr) return Run(batch, nullptr);
  const int64_t V = config_.vocab_size;
  return Run(batch, [&](const float* logits_d, int64_t B) -> Status {
    std::vector<float> logits(static_cast<size_t>(B * V));
    CCG_RETURN_IF_ERROR(
        backend_->CopyToHost(logits.data(), logits_d, logits.size() * sizeof(float)));
    last_logits->resize(static_cast<size_t>(B));
    for (int64_t s = 0; s < B; ++s) {
      (*last_logits)[s].assign(logits.begin() + s * V, logits.begin() + (s + 1) * V);
    }
    return Status::Ok();
  });
}

Status DecoderModel::ForwardLabels(std::span<SequenceInput> batch,
                                   const std::vector<int32_t>& label_ids,
                                   std::vector<std::vector<double>>* stats) {
  const int64_t V = config_.vocab_size;
  for (int32_t id : label_ids) {
    if (id < 0 || id >= V) {
      return Status::InvalidArgument("label token id " + std::to_string(id) +
                                     " is outside the vocabulary");
    }
  }
  return Run(batch, [&](const float* logits_d, int64_t B) -> Status {
    std::vector<double> flat;
    CCG_RETURN_IF_ERROR(backend_->LabelStats(logits_d, B, V, label_ids, &flat));
    const size_t w = label_ids.size() + 1;
    stats->resize(static_cast<size_t>(B));
    for (int64_t s = 0; s < B; ++s) {
      (*stats)[s].assign(flat.begin() + s * w, flat.begin() + (s + 1) * w);
    }
    return Status::Ok();
  });
}

Status DecoderModel::Run(std::span<SequenceInput> batch, const Readout& readout) {
  const bool want = static_cast<bool>(readout);
  const ModelConfig& c = config_;
  const int64_t H = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  const int64_t qd = c.q_dim(), kvd = c.kv_dim();
  const float eps = static_cast<float>(c.rms_norm_eps);
  kernels::Backend& be = *backend_;

  // Token layout: sequence s owns rows [offset[s], offset[s + 1]).
  std::vector<int64_t> offset(batch.size() + 1, 0);
  for (size_t s = 0; s < batch.size(); ++s) {
    const SequenceInput& in = batch[s];
    if (in.cache == nullptr)
      return Status::InvalidArgument("sequence " + std::to_string(s) + ": no cache");
    if (in.cache->memory() != static_cast<kernels::Memory*>(backend_.get()) &&
        (in.cache->memory()->device_memory() || backend_->device_memory())) {
      return Status::InvalidArgument("sequence " + std::to_string(s) +
                                     ": its cache was not made by this model (NewCache)");
    }
    if (in.tokens.empty() && want) {
      return Status::InvalidArgument("sequence " + std::to_string(s) + ": no tokens to score");
    }
    offset[s + 1] = offset[s] + static_cast<int64_t>(in.tokens.size());
    if (c.max_position_embeddings > 0 &&
        in.cache->length() + static_cast<int64_t>(in.tokens.size()) > c.max_position_embeddings) {
      return Status::ResourceExhausted("sequence of " +
                                       std::to_string(in.cache->length() + in.tokens.size()) +
                                       " tokens exceeds max_position_embeddings (" +
                                       std::to_string(c.max_position_embeddings) + ")");
    }
    for (int32_t id : in.tokens) {
      if (id < 0 || id >= c.vocab_size) {
        return Status::InvalidArgument("token id " + std::to_string(id) +
                                       " is outside the vocabulary [0, " +
                                       std::to_string(c.vocab_size) + ")");
      }
    }
  }
  const int64_t T = offset.back();
  if (T == 0) return want ? readout(nullptr, 0) : Status::Ok();  // an empty batch
  // A cache filled from empty gets exactly its size (a growing one, e.g. a
  // streaming session, grows by doubling in Append).
  for (size_t s = 0; s < batch.size(); ++s) {
    if (batch[s].cache->own_length() == 0) {
      CCG_RETURN_IF_ERROR(batch[s].cache->Reserve(offset[s + 1] - offset[s]));
    }
  }
  // Positions and token ids, then every activation, in backend memory.
  std::vector<int64_t> pos(static_cast<size_t>(T));
  std::vector<int32_t> ids(static_cast<size_t>(T));
  std::vector<kernels::AttentionSequence> seqs(batch.size());
  for (size_t s = 0; s < batch.size(); ++s) {
    seqs[s].row = offset[s];
    seqs[s].tokens = offset[s + 1] - offset[s];
    seqs[s].start = batch[s].cache->length();
    for (int64_t t = offset[s]; t < offset[s + 1]; ++t) {
      pos[t] = seqs[s].start + (t - offset[s]);
      ids[t] = batch[s].tokens[t - offset[s]];
    }
  }
  // Activation buffers are kept between passes (grown, never shrunk): fresh
  // pages would be faulted in and zeroed by the kernel on every pass.
  size_t slot = 0;
  auto alloc = [&](int64_t count, size_t size) -> Result<std::shared_ptr<void>> {
    const size_t bytes = static_cast<size_t>(count) * size;
    if (slot == workspace_.size()) workspace_.emplace_back(0, nullptr);
    auto& w = workspace_[slot++];
    if (w.first < bytes || !w.second) {
      w.second.reset();
      CCG_ASSIGN_OR_RETURN(w.second, be.Allocate(bytes));
      w.first = bytes;
    }
    return w.second;
  };
  CCG_ASSIGN_OR_RETURN(auto pos_b, alloc(T, sizeof(int64_t)));
  CCG_ASSIGN_OR_RETURN(auto ids_b, alloc(T, sizeof(int32_t)));
  CCG_ASSIGN_OR_RETURN(auto x_b, alloc(T * H, 4));
  CCG_ASSIGN_OR_RETURN(auto h_b, alloc(T * H, 4));
  CCG_ASSIGN_OR_RETURN(auto proj_b, alloc(T * H, 4));
  CCG_ASSIGN_OR_RETURN(auto q_b, alloc(T * qd, 4));
  CCG_ASSIGN_OR_RETURN(auto attn_b, alloc(T * qd, 4));
  CCG_ASSIGN_OR_RETURN(auto k_b, alloc(T * kvd, 4));
  CCG_ASSIGN_OR_RETURN(auto v_b, alloc(T * kvd, 4));
  CCG_ASSIGN_OR_RETURN(auto gate_b, alloc(T * I, 4));
  CCG_ASSIGN_OR_RETURN(auto up_b, alloc(T * I, 4));
  const auto* pos_d = static_cast<const int64_t*>(pos_b.get());
  float *x = static_cast<float*>(x_b.get()), *h = static_cast<float*>(h_b.get()),
        *proj = static_cast<float*>(proj_b.get()), *q = static_cast<float*>(q_b.get()),
        *attn = static_cast<float*>(attn_b.get()), *k = static_cast<float*>(k_b.get()),
        *v = static_cast<float*>(v_b.get()), *gate = static_cast<float*>(gate_b.get()),
        *up = static_cast<float*>(up_b.get());
  be.CopyFromHost(pos_b.get(), pos.data(), pos.size() * sizeof(int64_t));
  be.CopyFromHost(ids_b.get(), ids.data(), ids.size() * sizeof(int32_t));

  // Embeddings.
  be.Embed(embed_, static_cast<const int32_t*>(ids_b.get()), T, x);
  if (c.embedding_multiplier != 1) be.Scale(x, T * H, static_cast<float>(c.embedding_multiplier));
  const float residual = static_cast<float>(c.residual_multiplier);

  const kernels::AttentionShape shape{c.num_attention_heads, c.num_key_value_heads, hd,
                                      static_cast<float>(c.attention_multiplier)};
  auto drop_uncommitted = [&](Status st) {
    for (SequenceInput& in : batch) in.cache->Truncate(in.cache->own_length());
    return st;
  };
  std::vector<kernels::Memory::CopyOp> copies;
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const Layer& L = layers_[l];
    // Attention block.
    be.RmsNorm(x, L.in_norm, T, H, eps, h);
    be.MatMul(h, T, L.q, q);
    be.MatMul(h, T, L.k, k);
    be.MatMul(h, T, L.v, v);
    if (c.qk_norm) {
      be.RmsNorm(q, L.q_norm, T * c.num_attention_heads, hd, eps, q);
      be.RmsNorm(k, L.k_norm, T * c.num_key_value_heads, hd, eps, k);
    }
    be.Rope(q, T, c.num_attention_heads, hd, pos_d, c.rope);
    be.Rope(k, T, c.num_key_value_heads, hd, pos_d, c.rope);
    copies.clear();
    for (size_t s = 0; s < batch.size(); ++s) {
      Status st = batch[s].cache->Append(l, k + offset[s] * kvd, v + offset[s] * kvd,
                                         offset[s + 1] - offset[s], &copies);
      if (!st.ok()) return drop_uncommitted(st);
      seqs[s].segments.clear();
      batch[s].cache->Segments(l, &seqs[s].segments);
      seqs[s].memo = batch[s].cache->memo(l);
    }
    be.CopyMany(copies);
    be.AttentionBatch(q, seqs, shape, attn);
    be.MatMul(attn, T, L.o, proj);
    be.Add(x, proj, T * H, residual);

    // MLP block.
    be.RmsNorm(x, L.post_norm, T, H, eps, h);
    be.MatMul(h, T, L.gate, gate);
    be.MatMul(h, T, L.up, up);
    be.SiluMul(gate, up, T * I, gate);
    be.MatMul(gate, T, L.down, proj);
    be.Add(x, proj, T * H, residual);
  }
  if (!want) {
    Status st = be.Synchronize();
    if (!st.ok()) return drop_uncommitted(st);
    for (size_t s = 0; s < batch.size(); ++s) batch[s].cache->Commit(offset[s + 1] - offset[s]);
    return Status::Ok();
  }

  // Final norm and LM head on the last row of each sequence only, then the
  // read-out.
  const int64_t B = static_cast<int64_t>(batch.size());
  float* last = h;  // B <= T rows of h are free now
  for (int64_t s = 0; s < B; ++s) {
    be.RmsNorm(x + (offset[s + 1] - 1) * H, final_norm_, 1, H, eps, last + s * H);
  }
  CCG_ASSIGN_OR_RETURN(auto logits_b, alloc(B * c.vocab_size, 4));
  LmHead(last, B, static_cast<float*>(logits_b.get()));
  if (c.logits_scaling != 1) {
    be.Scale(static_cast<float*>(logits_b.get()), B * c.vocab_size,
             static_cast<float>(1.0 / c.logits_scaling));
  }
  Status st = readout(static_cast<const float*>(logits_b.get()), B);
  if (!st.ok()) return drop_uncommitted(st);
  for (size_t s = 0; s < batch.size(); ++s) batch[s].cache->Commit(offset[s + 1] - offset[s]);
  return Status::Ok();
}

}  // namespace ccguard
