#include "cli/loader.h"

#include <cstdio>

#include "hub/resolve.h"

namespace ccguard::cli {

void PrintError(const Status& s) {
  std::fprintf(stderr, "ccguard: error: %s\n", s.ToString().c_str());
}
void PrintWarning(const std::string& w) {
  std::fprintf(stderr, "ccguard: warning: %s\n", w.c_str());
}

hub::ResolveOptions HubOptions() {
  hub::ResolveOptions o;
  o.progress = true;
  o.warn = PrintWarning;
  return o;
}

std::unique_ptr<Classifier> LoadClassifier(const ModelFlags& flags) {
  ClassifierOptions o;
  auto model = hub::ResolveModelRef(flags.model, HubOptions());
  if (!model.ok()) {
    PrintError(model.status().WithContext("--model"));
    return nullptr;
  }
  o.model_dir = *model;
  if (!flags.no_adapter) {
    auto adapter = hub::ResolveModelRef(flags.adapter, HubOptions());
    if (!adapter.ok()) {
      PrintError(
          adapter.status().WithContext("--adapter (use --no-adapter to score with the "
                                       "base model alone)"));
      return nullptr;
    }
    o.adapter_dir = *adapter;
  }
  o.constitution_path = flags.constitution;
  o.threshold = flags.threshold;
  o.hf_special_tokens = flags.hf_special_tokens;
  o.threads = flags.threads;
  o.compute = flags.compute;
  auto c = Classifier::Create(o);
  if (!c.ok()) {
    PrintError(c.status());
    return nullptr;
  }
  for (const auto& w : (*c)->warnings()) PrintWarning(w);
  return std::move(c).value();
}

}  // namespace ccguard::cli
