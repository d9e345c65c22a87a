#include "cli/loader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "hub/resolve.h"
#include "kernels/kernels.h"
#include "prompt/constitution.h"

namespace ccguard::cli {

void PrintError(const Status& s) {
  std::fprintf(stderr, "ccguard: error: %s\n", s.ToString().c_str());
}
void PrintWarning(const std::string& w) {
  std::fprintf(stderr, "ccguard: warning: %s\n", w.c_str());
}

Status FlushStdout() {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return Status::Ok();
  const int err = errno;
  return Status::IOError(std::string("cannot write to standard output: ") +
                         (err != 0 ? std::strerror(err) : "write failed"));
}

hub::ResolveOptions HubOptions() {
  hub::ResolveOptions o;
  o.progress = true;
  o.warn = PrintWarning;
  return o;
}

std::string DefaultAdapterFor(const std::string& model_ref, const std::string& guard) {
  const std::string repo = model_ref.substr(0, model_ref.find('@'));
  const std::string profile = Constitution::BuiltinName(guard);
  const bool other_guard = !profile.empty() && profile != "ccguard-default";
  return repo == kDefaultModel && !other_guard ? kDefaultAdapter : "";
}

std::string PickGuard(const std::string& guard, const std::string& model_ref) {
  if (!guard.empty()) return guard;
  const std::string picked = Constitution::BuiltinForModel(model_ref);
  if (!picked.empty()) {
    std::fprintf(stderr,
                 "ccguard: note: using the built-in guard profile '%s' made for %s "
                 "(--guard chooses another)\n",
                 picked.c_str(), model_ref.c_str());
  }
  return picked;
}

bool ResolveModelAndAdapter(std::string* model, std::string* adapter, bool no_adapter,
                            const std::string& guard) {
  if (!no_adapter && adapter->empty()) {
    *adapter = DefaultAdapterFor(*model, guard);
    if (adapter->empty()) {
      std::fprintf(stderr,
                   "ccguard: note: no adapter merged: the default one (%s) is for %s with "
                   "its own constitution only; --adapter merges one into %s\n",
                   kDefaultAdapter, kDefaultModel, model->c_str());
      no_adapter = true;
    }
  }
  auto m = hub::ResolveModelRef(*model, HubOptions());
  if (!m.ok()) {
    PrintError(m.status().WithContext("--model"));
    return false;
  }
  *model = *m;
  if (no_adapter) return true;
  auto a = hub::ResolveModelRef(*adapter, HubOptions());
  if (!a.ok()) {
    PrintError(a.status().WithContext("--adapter (use --no-adapter for the base model alone)"));
    return false;
  }
  *adapter = *a;
  return true;
}

std::string PickModel(const std::string& model, const std::string& guard) {
  if (!model.empty()) return model;
  if (!guard.empty()) {
    auto profile = Constitution::Load(guard);
    if (profile.ok() && !profile->models().empty()) {
      std::fprintf(stderr,
                   "ccguard: note: --guard %s: using its model %s (--model chooses another)\n",
                   guard.c_str(), profile->models().front().c_str());
      return profile->models().front();
    }
  }
  return kDefaultModel;
}

std::unique_ptr<Classifier> LoadClassifier(const ModelFlags& flags, IdentityInputs* identity) {
  ClassifierOptions o;
  o.model_dir = PickModel(flags.model, flags.constitution);
  o.adapter_dir = flags.no_adapter ? "" : flags.adapter;
  o.constitution_path = PickGuard(flags.constitution, o.model_dir);
  if (!ResolveModelAndAdapter(&o.model_dir, &o.adapter_dir, flags.no_adapter,
                              o.constitution_path)) {
    return nullptr;
  }
  if (identity != nullptr) {
    *identity = IdentityInputs{o.model_dir, o.adapter_dir, flags.threshold};
  }
  o.threshold = flags.threshold;
  o.hf_special_tokens = flags.hf_special_tokens;
  auto model = ModelOptions::Parse(flags.compute, flags.device, flags.threads);
  if (!model.ok()) {
    PrintError(model.status().WithContext("--compute/--device"));
    return nullptr;
  }
  o.model = *model;
  o.max_batch_tokens = flags.max_batch_tokens;
  auto c = Classifier::Create(o);
  if (!c.ok()) {
    PrintError(c.status());
    return nullptr;
  }
  for (const auto& w : (*c)->warnings()) PrintWarning(w);
  if (flags.categories && !(*c)->constitution().categories()) {
    PrintError(Status::InvalidArgument("--categories: guard profile '" +
                                       (*c)->constitution().name() +
                                       "' does not name categories (its guard answers only "
                                       "with a label)"));
    return nullptr;
  }
  return std::move(c).value();
}

}  // namespace ccguard::cli
