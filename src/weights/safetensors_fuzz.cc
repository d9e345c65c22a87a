// libFuzzer target for SafetensorsFile::Open. Built by the "fuzz" CMake
// preset (clang, libFuzzer, ASan + UBSan); run with scripts/fuzz.sh or:
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   mkdir -p corpus && cp build/fuzz/fixtures/tiny-a/adapter/adapter_model.safetensors corpus/
//   build/fuzz/safetensors_fuzz -max_len=65536 -dict=src/weights/safetensors_fuzz.dict corpus
//
// Each input is written to a temporary file (Open maps a path) and opened. An accepted file
// must satisfy the guarantees Open documents; every byte of every tensor is read so that
// ASan flags any view that escapes the mapping.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "weights/safetensors.h"
#include "weights/safetensors_writer.h"

namespace {

const std::string& TempPath() {
  static const std::string path = [] {
    std::atexit([] { std::remove(TempPath().c_str()); });
    return "/tmp/ccguard_safetensors_fuzz_" + std::to_string(::getpid()) + ".safetensors";
  }();
  return path;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccguard;
  const std::string& path = TempPath();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  const bool written = std::fwrite(data, 1, size, f) == size;
  if (std::fclose(f) != 0 || !written) return 0;

  auto r = SafetensorsFile::Open(path);
  if (!r.ok()) {
    Check(!r.status().message().empty(), "error without a message");
    return 0;
  }
  const SafetensorsFile& st = **r;
  size_t total = 0;
  uint32_t sink = 0;
  const std::vector<TensorView>& tensors = st.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& t = tensors[i];
    Check(i == 0 || tensors[i - 1].name < t.name, "tensors not sorted or duplicated");
    Check(st.Find(t.name) == &t, "Find disagrees with tensors()");
    Check(static_cast<uint64_t>(t.numel()) * DTypeSize(t.dtype) == t.nbytes, "size mismatch");
    for (size_t b = 0; b < t.nbytes; ++b) sink += t.data[b];
    if (IsConvertibleToF32(t.dtype) && t.nbytes > 0) {
      std::vector<float> out(t.nbytes / DTypeSize(t.dtype));
      Check(ConvertToF32(t.dtype, t.data, out.size(), out.data()).ok(), "convert failed");
    }
    total += t.nbytes;
  }
  Check(total <= size, "tensors larger than the file");
  // Re-encoding an accepted file must give a file that opens to the same tensors.
  std::vector<TensorToWrite> copy;
  for (const TensorView& t : tensors) {
    copy.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  }
  Result<std::string> again = EncodeSafetensors(copy, st.metadata());
  Check(again.ok(), "accepted file cannot be re-encoded");
  (void)sink;
  return 0;
}
