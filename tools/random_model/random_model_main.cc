// ccguard_random_model SPEC.json DIR [TOKENIZER_DIR]: writes the random model
// that SPEC describes (RandomModelShapeFromJson: the "generator" object
// of a golden file, or the object itself) into DIR, in Hugging Face format.
// The architecture goldens in tests/fixtures/architectures were computed by
// other implementations from models written this way.
#include <cstdio>

#include "model/random_model.h"
#include "util/json_file.h"

int main(int argc, char** argv) {
  using namespace ccguard;
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s SPEC.json DIR [TOKENIZER_DIR]\n", argv[0]);
    return 2;
  }
  auto j = ReadJsonFile(argv[1]);
  if (!j.ok()) {
    std::fprintf(stderr, "%s\n", j.status().ToString().c_str());
    return 1;
  }
  const Json spec = j->contains("generator") ? (*j)["generator"] : *j;
  uint64_t seed = 1;
  auto shape = RandomModelShapeFromJson(spec, &seed);
  if (!shape.ok()) {
    std::fprintf(stderr, "%s\n", shape.status().ToString().c_str());
    return 1;
  }
  Status st = EnsureRandomModel(argv[2], argc == 4 ? argv[3] : "", *shape, seed);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
