// libFuzzer target: encodes arbitrary bytes with the real Qwen3 tokenizer and
// checks that nothing crashes and that the public contract holds (invalid
// UTF-8 is an error, valid input encodes and decodes, ASCII round-trips).
//
// An input that starts with '{' is also loaded as a tokenizer.json
// (Tokenizer::FromJsonText): the loader must answer with a Status, whatever
// the nesting, numbers or keys.
//
// Built by the "fuzz" CMake preset (clang, libFuzzer, ASan + UBSan), which
// unpacks the fixtures into build/fuzz/fixtures; run with scripts/fuzz.sh or:
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   build/fuzz/tokenizer_fuzz -max_len=4096 -max_total_time=60
//
// The tokenizer path can also be given at run time with the environment
// variable CCGUARD_TOKENIZER_JSON.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/utf8.h"

#ifndef CCGUARD_FIXTURES
#define CCGUARD_FIXTURES "build-tok/fixtures"
#endif

namespace {

const ccguard::Tokenizer& GetTokenizer() {
  static const ccguard::Tokenizer* tokenizer = [] {
    const char* env = std::getenv("CCGUARD_TOKENIZER_JSON");
    std::string path = env != nullptr ? env : CCGUARD_FIXTURES "/tiny-a/base/tokenizer.json";
    auto r = ccguard::Tokenizer::FromFile(path);
    if (!r.ok()) {
      std::fprintf(stderr, "tokenizer_fuzz: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    return std::move(r).value().release();
  }();
  return *tokenizer;
}

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "tokenizer_fuzz: check failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ccguard::Tokenizer& tok = GetTokenizer();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == '{') {
    auto loaded = ccguard::Tokenizer::FromJsonText(text, "fuzz tokenizer.json");
    Check(loaded.ok() || !loaded.status().message().empty(), "a refused tokenizer.json says why");
  }
  const bool valid = ccguard::IsValidUtf8(text);
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  for (bool parse_special : {true, false}) {
    auto ids = tok.Encode(text, parse_special);
    Check(ids.ok() == valid, "Encode fails exactly on invalid UTF-8");
    if (!ids.ok()) continue;
    for (int32_t id : ids.value()) Check(id >= 0 && id < tok.vocab_size(), "id in range");
    auto decoded = tok.Decode(ids.value());
    Check(decoded.ok(), "Decode of Encode output succeeds");
    Check(ccguard::IsValidUtf8(decoded.value()), "Decode returns valid UTF-8");
    if (ascii) Check(decoded.value() == text, "ASCII round-trips");
  }
  // Decoding arbitrary ids (bytes taken as little-endian ids) must not crash.
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 3 < size && ids.size() < 64; i += 4) {
    uint32_t v = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (uint32_t{data[i + 3]} << 24);
    ids.push_back(static_cast<int32_t>(v % static_cast<uint32_t>(tok.vocab_size() + 8)));
  }
  auto decoded = tok.Decode(ids, /*skip_special=*/size % 2 == 0);
  if (decoded.ok()) Check(ccguard::IsValidUtf8(decoded.value()), "Decode returns valid UTF-8");
  return 0;
}
