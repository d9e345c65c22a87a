#include "kernels/kernels.h"

namespace ccguard::kernels {

Result<Precision> ParsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  if (name == "int8") return Precision::kInt8;
  return Status::InvalidArgument("compute precision '" + std::string(name) +
                                 "' is not one of fp32, bf16, int8");
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
