// ccguard_gemm_bench: the fast CPU backend's matrix multiplies against
// oneDNN's matmul on the same shapes, in one run (docs/performance.md).
//
// usage: ccguard_gemm_bench [M=512] [fp32|bf16|int8] [repeats=5]
// For each linear-layer shape of Qwen3-1.7B (N x K: q 2048 x 2048, k/v
// 1024 x 2048, gate/up 6144 x 2048, down 2048 x 6144) it times y = x Wᵀ
// with M activation rows: ccguard's Backend::MatMul (activation rounding or
// quantization included, as the model calls it) and oneDNN's matmul (f32,
// bf16 x bf16 -> f32, or u8 x s8 -> s32 with prepacked weights, activations
// already in the input type). Prints GFLOP/s (or GOP/s) of each, median of the repeats.
// Threads: ccguard uses 2 (set CCGUARD_THREADS), oneDNN follows OMP_NUM_THREADS.
// CCGUARD_CPU_ISA and ONEDNN_MAX_CPU_ISA cap the instruction sets (e.g. avx2).
// Built only when CMake finds oneDNN (Debian: libdnnl-dev).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class Fn>
double Median(int repeats, Fn&& fn) {
  fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = Now();
    fn();
    t.push_back(Now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ccguard;
  using namespace ccguard::kernels;
  const int64_t m = argc > 1 ? std::atoll(argv[1]) : 512;
  const std::string prec = argc > 2 ? argv[2] : "bf16";
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  auto precision = ParsePrecision(prec);
  if (m <= 0 || !precision.ok() || repeats <= 0) {
    std::fprintf(stderr, "usage: ccguard_gemm_bench [M] [fp32|bf16|int8] [repeats]\n");
    return 2;
  }
  const char* env = std::getenv("CCGUARD_THREADS");
  ThreadPool pool(env ? std::atoi(env) : 2);
  auto backend = MakeFastCpuBackend(&pool, *precision);
  const bool i8 = *precision == Precision::kInt8;
  std::printf("ccguard %s vs oneDNN %d.%d, M = %lld, %d threads (ccguard)\n", backend->name(),
              dnnl_version()->major, dnnl_version()->minor, static_cast<long long>(m), pool.size());
  const int64_t shapes[][2] = {{2048, 2048}, {1024, 2048}, {6144, 2048}, {2048, 6144}};
  const int64_t counts[] = {2, 2, 2, 1};  // q+o, k+v, gate+up, down per layer
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  double own_total = 0, dnnl_total = 0, ops_total = 0;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream st(eng);
  for (int s = 0; s < 4; ++s) {
    const int64_t n = shapes[s][0], k = shapes[s][1];
    std::vector<uint16_t> w(static_cast<size_t>(n * k));
    for (auto& v : w) v = F32ToBf16(normal(rng) * 0.02f);
    std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
    for (auto& v : x) v = normal(rng);
    auto prepared = backend->Prepare(Matrix{DType::kBF16, w.data(), n, k});
    if (!prepared.ok()) {
      std::fprintf(stderr, "%s\n", prepared.status().ToString().c_str());
      return 1;
    }
    const double own =
        Median(repeats, [&] { backend->MatMul(x.data(), m, prepared->matrix, y.data()); });

    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    // Without a bf16 matmul for this CPU (AVX2: oneDNN 2.6 has none), oneDNN's f32.
    auto make = [&](dt in, dt out) {
      return dnnl::matmul::primitive_desc(
          dnnl::matmul::desc(dnnl::memory::desc({m, k}, i8 ? dt::u8 : in, tag::ab),
                             dnnl::memory::desc({k, n}, i8 ? dt::s8 : in, tag::any),
                             dnnl::memory::desc({m, n}, out, tag::ab)),
          eng);
    };
    dnnl::matmul::primitive_desc pd;
    try {
      pd = make(*precision == Precision::kF32 ? dt::f32 : dt::bf16, i8 ? dt::s32 : dt::f32);
    } catch (const dnnl::error&) {
      pd = make(dt::f32, dt::f32);
      if (s == 0) std::printf("  (oneDNN has no bf16 matmul here: its f32 one)\n");
    }
    const dnnl::memory::desc a_md = pd.src_desc(), c_md = pd.dst_desc();
    dnnl::memory a(a_md, eng), b(pd.weights_desc(), eng), c(c_md, eng);
    std::memset(a.get_data_handle(), 1, a_md.get_size());
    std::memset(b.get_data_handle(), 1, pd.weights_desc().get_size());
    dnnl::matmul mm(pd);
    const double theirs = Median(repeats, [&] {
      mm.execute(st, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
      st.wait();
    });
    const double ops = 2.0 * static_cast<double>(m * n * k);
    std::printf("  N %5lld K %5lld   ccguard %6.0f   oneDNN %6.0f  G%s/s\n",
                static_cast<long long>(n), static_cast<long long>(k), ops / own / 1e9,
                ops / theirs / 1e9, i8 ? "OP" : "FLOP");
    own_total += counts[s] * own;
    dnnl_total += counts[s] * theirs;
    ops_total += counts[s] * ops;
  }
  std::printf("one layer's linear maps: ccguard %.0f, oneDNN %.0f G%s/s (ratio %.2f)\n",
              ops_total / own_total / 1e9, ops_total / dnnl_total / 1e9, i8 ? "OP" : "FLOP",
              dnnl_total / own_total);
  return 0;
}
