// Qwen3 forward pass, top to bottom (llm.c style). Per layer:
//   h = RMSNorm(x);  q,k,v = h·Wqᵀ, h·Wkᵀ, h·Wvᵀ;  q,k = RMSNorm per head;
//   q,k = RoPE;  append k,v to the cache;  a = causal GQA attention;
//   x += a·Woᵀ;  h = RMSNorm(x);  x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
// then the final RMSNorm and the LM head on each sequence's last token only.
#include "model/qwen3_model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

namespace ccguard {
namespace {

namespace fs = std::filesystem;

const char* const kLinear[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                               "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                               "mlp.down_proj"};

std::string Shape(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Looks up `name` and checks dtype and shape.
Result<const TensorView*> Expect(const WeightStore& store, const std::string& dir,
                                 const std::string& name, std::vector<int64_t> shape) {
  const TensorView* t = store.Find(name);
  if (t == nullptr) {
    return Status::NotFound(dir + ": tensor '" + name + "' is missing (required by config.json)");
  }
  if (t->dtype != DType::kF32 && t->dtype != DType::kBF16 && t->dtype != DType::kF16) {
    return Status::NotSupported(dir + ": tensor '" + name + "' has dtype " + DTypeName(t->dtype) +
                                "; only F32, F16 and BF16 are supported");
  }
  if (t->shape != shape) {
    return Status::InvalidArgument(dir + ": tensor '" + name + "' has shape " + t->ShapeString() +
                                   " but config.json implies " + Shape(shape));
  }
  return t;
}

Result<std::vector<float>> ToF32(const TensorView& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  CCG_RETURN_IF_ERROR(ConvertToF32(t.dtype, t.data, out.size(), out.data()));
  return out;
}

// A matrix view of `t`. safetensors does not require alignment; a tensor whose
// data is not aligned to its element size is copied into `owned` so kernels
// may read it through typed pointers.
kernels::Matrix View(const TensorView& t, std::vector<std::vector<float>>* owned) {
  const auto addr = reinterpret_cast<uintptr_t>(t.data);
  if (addr % DTypeSize(t.dtype) == 0) return {t.dtype, t.data, t.shape[0], t.shape[1]};
  std::vector<float> copy(static_cast<size_t>(t.numel()));
  (void)ConvertToF32(t.dtype, t.data, copy.size(), copy.data());  // dtype checked by Expect
  owned->push_back(std::move(copy));
  return {DType::kF32, owned->back().data(), t.shape[0], t.shape[1]};
}

// Drops the resident pages of mapped weight data that the model no longer
// reads (a matrix the backend converted, or merged with a LoRA): they would
// otherwise count twice in the resident memory. Only whole pages inside
// [data, data + n) are dropped; they are read back from the file if touched.
void ReleasePages(const void* data, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Result<std::unique_ptr<kernels::Backend>> MakeBackend(const ModelOptions& o, ThreadPool* pool) {
  CCG_ASSIGN_OR_RETURN(kernels::Precision precision, kernels::ParsePrecision(o.compute));
  if (o.backend == "portable") {
    if (precision != kernels::Precision::kF32) {
      return Status::InvalidArgument("the portable backend computes in fp32 only, not " +
                                     o.compute);
    }
    return kernels::MakeCpuBackend(pool);
  }
  if (o.backend != "auto") {
    return Status::InvalidArgument("backend '" + o.backend + "' is not one of auto, portable");
  }
  return kernels::MakeFastCpuBackend(pool, precision);
}

}  // namespace

Qwen3Model::~Qwen3Model() = default;

Result<std::unique_ptr<Qwen3Model>> Qwen3Model::Load(const std::string& model_dir,
                                                     const LoraAdapter* adapter,
                                                     const ModelOptions& options) {
  std::unique_ptr<Qwen3Model> m(new Qwen3Model());
  m->pool_ = std::make_unique<ThreadPool>(options.threads);
  CCG_ASSIGN_OR_RETURN(m->backend_, MakeBackend(options, m->pool_.get()));
  CCG_ASSIGN_OR_RETURN(m->config_,
                       Qwen3Config::FromFile((fs::path(model_dir) / "config.json").string()));
  CCG_ASSIGN_OR_RETURN(m->store_, WeightStore::OpenModelDir(model_dir));
  const Qwen3Config& c = m->config_;
  const WeightStore& st = *m->store_;
  const int64_t H = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;

  std::set<std::string> used;
  auto expect = [&](const std::string& name,
                    std::vector<int64_t> shape) -> Result<const TensorView*> {
    used.insert(name);
    return Expect(st, model_dir, name, std::move(shape));
  };

  CCG_ASSIGN_OR_RETURN(const TensorView* embed,
                       expect("model.embed_tokens.weight", {c.vocab_size, H}));
  m->embed_ = View(*embed, &m->owned_);
  if (c.tie_word_embeddings) {
    m->lm_head_ = m->embed_;
    if (st.Find("lm_head.weight")) {
      used.insert("lm_head.weight");
      m->warnings_.push_back(model_dir +
                             ": lm_head.weight is ignored because "
                             "tie_word_embeddings is true (as transformers does)");
    }
  } else {
    CCG_ASSIGN_OR_RETURN(const TensorView* head, expect("lm_head.weight", {c.vocab_size, H}));
    m->lm_head_ = View(*head, &m->owned_);
  }
  CCG_ASSIGN_OR_RETURN(const TensorView* fnorm, expect("model.norm.weight", {H}));
  CCG_ASSIGN_OR_RETURN(m->final_norm_, ToF32(*fnorm));

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

  // A linear weight as the forward pass reads it: merged with its LoRA in
  // float32 if the adapter has one, then in the storage the backend prepares
  // for the compute precision (bf16/int8), replacing, not adding to, the
  // stored or merged matrix. Mapped data the model stops reading is released.
  std::set<std::string> replaced;  // tensors whose mapped data is not read
  auto bind = [&](const std::string& name, const TensorView& w,
                  std::vector<float>* merged) -> Result<kernels::Matrix> {
    kernels::Matrix src = merged
                              ? kernels::Matrix{DType::kF32, merged->data(), w.shape[0], w.shape[1]}
                              : View(w, &m->owned_);
    CCG_ASSIGN_OR_RETURN(kernels::PreparedMatrix prep, m->backend_->Prepare(src));
    const bool converted = prep.storage != nullptr;
    if (converted) {
      if (!merged && src.data != w.data) m->owned_.pop_back();  // View's aligned copy
      m->prepared_.push_back(prep);
    } else if (merged) {
      m->owned_.push_back(std::move(*merged));
      *merged = {};
      prep.matrix.data = m->owned_.back().data();
    }
    if (merged || converted) {
      replaced.insert(name);
      ReleasePages(w.data, w.nbytes);
    }
    return prep.matrix;
  };

  const bool keep_merged = m->backend_->precision() == kernels::Precision::kF32;
  std::vector<float> merge_buffer;
  m->layers_.resize(static_cast<size_t>(c.num_hidden_layers));
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    Layer& L = m->layers_[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    kernels::Matrix* slots[] = {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down};
    for (int i = 0; i < 7; ++i) {
      const std::string module = p + kLinear[i];
      CCG_ASSIGN_OR_RETURN(const TensorView* w,
                           expect(module + ".weight", linear_shapes.at(kLinear[i])));
      auto it = pending.find(module);
      if (it == pending.end()) {
        CCG_ASSIGN_OR_RETURN(*slots[i], bind(module + ".weight", *w, nullptr));
        continue;
      }
      // fp32 keeps the merged matrix; otherwise it is converted, and one
      // buffer serves every merge.
      std::vector<float> kept;
      std::vector<float>& merged = keep_merged ? kept : merge_buffer;
      Status s = MergeLora(*w, it->second, &merged);
      if (!s.ok()) return s.WithContext(adapter->dir());
      CCG_ASSIGN_OR_RETURN(*slots[i], bind(module + ".weight", *w, &merged));
      pending.erase(it);
    }
    CCG_ASSIGN_OR_RETURN(const TensorView* n1, expect(p + "input_layernorm.weight", {H}));
    CCG_ASSIGN_OR_RETURN(const TensorView* n2, expect(p + "post_attention_layernorm.weight", {H}));
    CCG_ASSIGN_OR_RETURN(const TensorView* qn, expect(p + "self_attn.q_norm.weight", {hd}));
    CCG_ASSIGN_OR_RETURN(const TensorView* kn, expect(p + "self_attn.k_norm.weight", {hd}));
    CCG_ASSIGN_OR_RETURN(L.in_norm, ToF32(*n1));
    CCG_ASSIGN_OR_RETURN(L.post_norm, ToF32(*n2));
    CCG_ASSIGN_OR_RETURN(L.q_norm, ToF32(*qn));
    CCG_ASSIGN_OR_RETURN(L.k_norm, ToF32(*kn));
  }
  if (!pending.empty()) {
    return Status::InvalidArgument((adapter ? adapter->dir() : std::string()) + ": LoRA module '" +
                                   pending.begin()->first + "' does not exist in the base model (" +
                                   std::to_string(c.num_hidden_layers) +
                                   " layers; is the adapter for another base model?)");
  }
  for (const std::string& name : st.Names()) {
    if (!used.count(name)) {
      m->warnings_.push_back(model_dir + ": unused tensor '" + name + "'");
    }
  }
  for (const std::string& name : used) {
    if (!replaced.count(name)) m->weight_bytes_ += st.Find(name)->nbytes;
  }
  for (const auto& o : m->owned_) m->weight_bytes_ += o.size() * sizeof(float);
  for (const auto& p : m->prepared_) m->weight_bytes_ += p.bytes;
  if (adapter) {
    for (const auto& w : adapter->warnings()) m->warnings_.push_back(w);
  }
  return m;
}

void Qwen3Model::LmHead(const float* hidden_rows, int64_t rows, float* logits) {
  backend_->MatMul(hidden_rows, rows, lm_head_, logits);
}

Status Qwen3Model::Forward(std::span<SequenceInput> batch,
                           std::vector<std::vector<float>>* last_logits) {
  const Qwen3Config& c = config_;
  const int64_t H = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  const int64_t qd = c.q_dim(), kvd = c.kv_dim();
  const float eps = static_cast<float>(c.rms_norm_eps);

  // Token layout: sequence s owns rows [offset[s], offset[s + 1]).
  std::vector<int64_t> offset(batch.size() + 1, 0);
  for (size_t s = 0; s < batch.size(); ++s) {
    const SequenceInput& in = batch[s];
    if (in.cache == nullptr)
      return Status::InvalidArgument("sequence " + std::to_string(s) + ": no cache");
    if (in.tokens.empty() && last_logits) {
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
  // A cache filled from empty gets exactly its size (a growing one, e.g. a
  // streaming session, keeps the vector's amortised growth).
  for (size_t s = 0; s < batch.size(); ++s) {
    if (batch[s].cache->own_length() == 0) batch[s].cache->Reserve(offset[s + 1] - offset[s]);
  }
  std::vector<int64_t> pos(static_cast<size_t>(T));
  for (size_t s = 0; s < batch.size(); ++s) {
    for (int64_t t = offset[s]; t < offset[s + 1]; ++t)
      pos[t] = batch[s].cache->length() + (t - offset[s]);
  }

  // Embeddings.
  std::vector<float> x(static_cast<size_t>(T * H));
  for (size_t s = 0; s < batch.size(); ++s) {
    for (int64_t t = offset[s]; t < offset[s + 1]; ++t) {
      backend_->GetRow(embed_, batch[s].tokens[t - offset[s]], x.data() + t * H);
    }
  }

  std::vector<float> h(static_cast<size_t>(T * H)), q(static_cast<size_t>(T * qd)),
      k(static_cast<size_t>(T * kvd)), v(static_cast<size_t>(T * kvd)),
      attn(static_cast<size_t>(T * qd)), proj(static_cast<size_t>(T * H)),
      gate(static_cast<size_t>(T * I)), up(static_cast<size_t>(T * I));
  const kernels::AttentionShape shape{c.num_attention_heads, c.num_key_value_heads, hd};
  std::vector<kernels::KvSegment> segments;

  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const Layer& L = layers_[l];
    // Attention block.
    backend_->RmsNorm(x.data(), L.in_norm.data(), T, H, eps, h.data());
    backend_->MatMul(h.data(), T, L.q, q.data());
    backend_->MatMul(h.data(), T, L.k, k.data());
    backend_->MatMul(h.data(), T, L.v, v.data());
    backend_->RmsNorm(q.data(), L.q_norm.data(), T * c.num_attention_heads, hd, eps, q.data());
    backend_->RmsNorm(k.data(), L.k_norm.data(), T * c.num_key_value_heads, hd, eps, k.data());
    backend_->Rope(q.data(), T, c.num_attention_heads, hd, pos.data(), c.rope_theta);
    backend_->Rope(k.data(), T, c.num_key_value_heads, hd, pos.data(), c.rope_theta);
    for (size_t s = 0; s < batch.size(); ++s) {
      const int64_t n = offset[s + 1] - offset[s];
      batch[s].cache->Append(l, k.data() + offset[s] * kvd, v.data() + offset[s] * kvd, n);
      segments.clear();
      batch[s].cache->Segments(l, &segments);
      backend_->Attention(q.data() + offset[s] * qd, n, pos.data() + offset[s], segments, shape,
                          attn.data() + offset[s] * qd);
    }
    backend_->MatMul(attn.data(), T, L.o, proj.data());
    for (int64_t i = 0; i < T * H; ++i) x[i] += proj[i];

    // MLP block.
    backend_->RmsNorm(x.data(), L.post_norm.data(), T, H, eps, h.data());
    backend_->MatMul(h.data(), T, L.gate, gate.data());
    backend_->MatMul(h.data(), T, L.up, up.data());
    backend_->SiluMul(gate.data(), up.data(), T * I, gate.data());
    backend_->MatMul(gate.data(), T, L.down, proj.data());
    for (int64_t i = 0; i < T * H; ++i) x[i] += proj[i];
  }
  for (size_t s = 0; s < batch.size(); ++s) {
    batch[s].cache->Commit(offset[s + 1] - offset[s]);
  }
  if (last_logits == nullptr) return Status::Ok();

  // Final norm and LM head on the last row of each sequence only.
  const int64_t B = static_cast<int64_t>(batch.size());
  std::vector<float> last(static_cast<size_t>(B * H));
  for (int64_t s = 0; s < B; ++s) {
    backend_->RmsNorm(x.data() + (offset[s + 1] - 1) * H, final_norm_.data(), 1, H, eps,
                      last.data() + s * H);
  }
  std::vector<float> logits(static_cast<size_t>(B * c.vocab_size));
  LmHead(last.data(), B, logits.data());
  last_logits->resize(static_cast<size_t>(B));
  for (int64_t s = 0; s < B; ++s) {
    (*last_logits)[s].assign(logits.begin() + s * c.vocab_size,
                             logits.begin() + (s + 1) * c.vocab_size);
  }
  return Status::Ok();
}

}  // namespace ccguard
