#include "kernels/cpu/gemm.h"
#include "kernels/kernels.h"

namespace ccguard::kernels {

Result<Precision> ParsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  if (name == "int8") return Precision::kInt8;
  return Status::InvalidArgument("compute precision '" + std::string(name) +
                                 "' is not one of fp32, bf16, int8");
}

Precision DefaultPrecision(const DeviceSpec& device) {
  if (device.cuda) return Precision::kBF16;
  const CpuIsa isa = DetectCpuIsa();
  const bool native =
      isa == CpuIsa::kAmx || (isa >= CpuIsa::kAvx512 && cpu::DetectCpuFeatures().avx512bf16);
  return native ? Precision::kBF16 : Precision::kF32;
}

Result<Precision> ResolvePrecision(std::string_view name, const DeviceSpec& device) {
  if (name.empty() || name == "auto") return DefaultPrecision(device);
  if (name == "fp32" || name == "bf16" || name == "int8") return ParsePrecision(name);
  return Status::InvalidArgument("compute precision '" + std::string(name) +
                                 "' is not one of auto, fp32, bf16, int8");
}

std::string DefaultCpuPrecisionNote() {
  const CpuIsa isa = DetectCpuIsa();
  if (isa == CpuIsa::kAmx) return "bf16 (this CPU has AMX)";
  if (DefaultPrecision(DeviceSpec{}) == Precision::kBF16) {
    return "bf16 (this CPU has AVX-512 BF16)";
  }
  return "fp32 (this CPU has no native BF16)";
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kF32:
      return "fp32";
    case Precision::kBF16:
      return "bf16";
    case Precision::kInt8:
      return "int8";
  }
  return "?";
}

}  // namespace ccguard::kernels
