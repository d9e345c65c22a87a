// The parts of Memory and Backend every backend shares: host memory, memory
// statistics, and the default forms of Embed, Add and AttentionBatch, written
// on top of the other primitives (host-memory backends use them as they are).
#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/host_page_pool.h"
#include "kernels/kernels.h"

namespace ccguard::kernels {

void* AllocateHostBuffer(size_t bytes, size_t* rounded) {
  const size_t align = bytes >= kHugePageBytes ? kHugePageBytes : 64;
  *rounded = (std::max<size_t>(bytes, 1) + align - 1) / align * align;
  if (*rounded == kHugePageBytes) return HostPagePool::Get().Take();
  void* p = std::aligned_alloc(align, *rounded);
  if (p != nullptr && align == kHugePageBytes) madvise(p, *rounded, MADV_HUGEPAGE);
  return p;
}

void FreeHostBuffer(void* p, size_t rounded) {
  if (rounded == kHugePageBytes) {
    HostPagePool::Get().Give(p);
  } else {
    std::free(p);
  }
}

uint16_t* KvMemo::Block(int64_t i, int64_t elements) {
  if (page_elements_ != elements * kPageBlocks) {
    pages_.clear();
    bytes_ = 0;
    page_elements_ = elements * kPageBlocks;
  }
  while (static_cast<int64_t>(pages_.size()) <= i / kPageBlocks) {
    size_t rounded = 0;
    void* p = AllocateHostBuffer(static_cast<size_t>(page_elements_) * sizeof(uint16_t), &rounded);
    if (p == nullptr) throw std::bad_alloc();
    pages_.emplace_back(static_cast<uint16_t*>(p), Free{rounded});
    bytes_ += rounded;
  }
  return pages_[static_cast<size_t>(i / kPageBlocks)].get() + (i % kPageBlocks) * elements;
}

Result<std::shared_ptr<void>> Memory::Allocate(size_t bytes, MemoryUse use) {
  size_t rounded = 0;
  void* p = AllocateHostBuffer(bytes, &rounded);
  if (p == nullptr) {
    return Status::ResourceExhausted("cannot allocate " + std::to_string(bytes) +
                                     " bytes of host memory");
  }
  const auto n = static_cast<int64_t>(rounded);
  stats_->Track(use, n);
  stats_->TrackHeld(n);
  return std::shared_ptr<void>(p, [box = stats_, use, n](void* q) {
    FreeHostBuffer(q, static_cast<size_t>(n));
    box->Track(use, -n);
    box->TrackHeld(-n);
  });
}

void Memory::CopyFromHost(void* dst, const void* host_src, size_t bytes) {
  if (bytes) std::memcpy(dst, host_src, bytes);
}

Status Memory::CopyToHost(void* host_dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(host_dst, src, bytes);
  return Status::Ok();
}

void Memory::Copy(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memcpy(dst, src, bytes);
}

void Memory::CopyMany(const std::vector<CopyOp>& ops) {
  for (const CopyOp& op : ops) Copy(op.dst, op.src, op.bytes);
}

MemoryStats Memory::memory_stats() const {
  std::lock_guard<std::mutex> lock(stats_->mu);
  return stats_->stats;
}

void Memory::StatsBox::Track(MemoryUse use, int64_t delta) {
  std::lock_guard<std::mutex> lock(mu);
  const int u = static_cast<int>(use);
  stats.in_use[u] += delta;
  stats.peak[u] = std::max(stats.peak[u], stats.in_use[u]);
}

void Memory::StatsBox::TrackHeld(int64_t delta) {
  std::lock_guard<std::mutex> lock(mu);
  stats.held += delta;
}

Memory* HostMemory() {
  static Memory* host = new Memory();  // never destroyed: caches may outlive main
  return host;
}

void Backend::Embed(const Matrix& table, const int32_t* ids, int64_t n, float* out) {
  for (int64_t t = 0; t < n; ++t) GetRow(table, ids[t], out + t * table.cols);
}

void Backend::Add(float* x, const float* y, int64_t n, float alpha) {
  if (alpha == 1.f) {
    for (int64_t i = 0; i < n; ++i) x[i] += y[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) x[i] += alpha * y[i];
}

void Backend::Scale(float* x, int64_t n, float alpha) {
  for (int64_t i = 0; i < n; ++i) x[i] *= alpha;
}

Status Backend::LabelStats(const float* logits, int64_t rows, int64_t vocab,
                           const std::vector<int32_t>& ids, std::vector<double>* out) {
  const size_t n = ids.size();
  out->assign(static_cast<size_t>(rows) * (n + 1), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = logits + r * vocab;
    double maxv = -INFINITY;
    for (int64_t v = 0; v < vocab; ++v) maxv = std::max(maxv, static_cast<double>(l[v]));
    double sum = 0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(l[v]) - maxv);
    double* o = out->data() + r * (n + 1);
    for (size_t j = 0; j < n; ++j) o[j] = l[ids[j]];
    o[n] = maxv + std::log(sum);
  }
  return Synchronize();
}

void Backend::AttentionBatch(const float* q, const std::vector<AttentionSequence>& seqs,
                             const AttentionShape& shape, float* out) {
  const int64_t qd = shape.n_heads * shape.head_dim;
  std::vector<int64_t> pos;
  for (const AttentionSequence& s : seqs) {
    pos.resize(static_cast<size_t>(s.tokens));
    for (int64_t t = 0; t < s.tokens; ++t) pos[t] = s.start + t;
    Attention(q + s.row * qd, s.tokens, pos.data(), s.segments, shape, out + s.row * qd);
  }
}

std::string DeviceSpec::ToString() const { return cuda ? "cuda:" + std::to_string(index) : "cpu"; }

Result<DeviceSpec> ParseDevice(std::string_view name) {
  DeviceSpec d;
  if (name == "cpu") return d;
  if (name == "cuda") {
    d.cuda = true;
    return d;
  }
  if (name.substr(0, 5) == "cuda:" && name.size() > 5 && name.size() <= 8) {
    int index = 0;
    for (char c : name.substr(5)) {
      if (c < '0' || c > '9') {
        index = -1;
        break;
      }
      index = index * 10 + (c - '0');
    }
    if (index >= 0) {
      d.cuda = true;
      d.index = index;
      return d;
    }
  }
  return Status::InvalidArgument("device '" + std::string(name) +
                                 "' is not one of cpu, cuda, cuda:N (N a device number)");
}

}  // namespace ccguard::kernels
