// Run-time detection of the instruction sets the fast CPU backend may use.
#include <sys/syscall.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

// Linux asks a process to request the AMX tile data state before use.
constexpr long kArchReqXcompPerm = 0x1023;
constexpr long kXfeatureXtiledata = 18;

#if defined(__x86_64__)
bool Bit(unsigned reg, int bit) { return (reg >> bit) & 1u; }

// Read from CPUID and XCR0 directly (not __builtin_cpu_supports, whose
// feature names differ between compilers): an instruction set is usable
// when the CPU has it and the OS saves its registers.
cpu::CpuFeatures Read() {
  cpu::CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = Bit(c, 12), osxsave = Bit(c, 27), avx = Bit(c, 28), f16c = Bit(c, 29);
  if (!osxsave || !avx) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_avx = (xcr0_lo & 0x6) == 0x6;          // SSE and AVX state
  const bool os_avx512 = (xcr0_lo & 0xe0) == 0xe0;     // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0_lo & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  unsigned b7, c7, d7, a71, b71, c71, d71;
  __cpuid_count(7, 0, a, b7, c7, d7);
  __cpuid_count(7, 1, a71, b71, c71, d71);
  f.avx2 = os_avx && fma && f16c && Bit(b7, 5);
  f.avx512 = f.avx2 && os_avx512 && Bit(b7, 16) && Bit(b7, 17) && Bit(b7, 30) && Bit(b7, 31);
  f.avx512vnni = f.avx512 && Bit(c7, 11);
  f.avx512bf16 = f.avx512 && Bit(a71, 5);
  f.avxvnni = f.avx2 && Bit(a71, 4);
  f.amx = f.avx512 && os_amx && Bit(d7, 22) && Bit(d7, 24) && Bit(d7, 25);
  return f;
}

#endif

CpuIsa Detect() {
#if defined(__x86_64__) && defined(__linux__)
  const cpu::CpuFeatures& f = cpu::DetectCpuFeatures();
  if (!f.avx2) return CpuIsa::kGeneric;
  if (!f.avx512) return f.avxvnni ? CpuIsa::kAvxVnni : CpuIsa::kAvx2;
  if (f.amx && f.avx512bf16 && f.avx512vnni &&
      syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) {
    return CpuIsa::kAmx;
  }
  return CpuIsa::kAvx512;
#else
  return CpuIsa::kGeneric;
#endif
}

}  // namespace

const char* CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric:
      return "generic";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvxVnni:
      return "avxvnni";
    case CpuIsa::kAvx512:
      return "avx512";
    case CpuIsa::kAmx:
      return "amx";
    case CpuIsa::kBest:
      return "best";
  }
  return "?";
}

CpuIsa DetectCpuIsa() {
  static const CpuIsa isa = [] {
    CpuIsa best = Detect();
    if (const char* env = std::getenv("CCGUARD_CPU_ISA")) {
      for (CpuIsa cap :
           {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvxVnni, CpuIsa::kAvx512, CpuIsa::kAmx}) {
        if (std::strcmp(env, CpuIsaName(cap)) == 0 && cap < best) best = cap;
      }
    }
    return best;
  }();
  return isa;
}

namespace cpu {

const CpuFeatures& DetectCpuFeatures() {
#if defined(__x86_64__)
  static const CpuFeatures f = Read();
#else
  static const CpuFeatures f;
#endif
  return f;
}

}  // namespace cpu
}  // namespace ccguard::kernels
