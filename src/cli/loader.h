// Building a Classifier from command-line flags, with warnings on stderr.
#pragma once

#include <memory>

#include "cli/commands.h"
#include "hub/resolve.h"
#include "scoring/classifier.h"
#include "scoring/run_identity.h"

namespace ccguard::cli {

// Resolves --model/--adapter, loads everything and prints load warnings.
// On failure prints the error and returns nullptr. `identity`, if given,
// receives the references and resolved folders (for ScoringIdentity).
std::unique_ptr<Classifier> LoadClassifier(const ModelFlags& flags,
                                           IdentityInputs* identity = nullptr);

// The adapter a model gets when none is named: the published LoRA
// (kDefaultAdapter) for the base model it was trained on (kDefaultModel, any
// revision) under its own constitution (`guard` empty, "ccguard-default" or a
// file), none for any other model or built-in guard profile (another guard,
// another base model: the published LoRA would merge into DynaGuard-1.7B's
// shapes without an error).
std::string DefaultAdapterFor(const std::string& model_ref, const std::string& guard = "");

// The model to use: `model` when given, else the first model a `guard`
// profile is made for (a note on stderr says so), else kDefaultModel.
std::string PickModel(const std::string& model, const std::string& guard);

// The guard profile to use: `guard` when given, else the built-in profile
// made for `model_ref` (Constitution::BuiltinForModel; a note on stderr says
// it was picked), else "" (the embedded default).
std::string PickGuard(const std::string& guard, const std::string& model_ref);

// Resolves a --model and, unless `no_adapter`, an --adapter reference (a
// folder, or a Hugging Face repo id found in or downloaded to the cache) to
// folders, in place. An empty *adapter means DefaultAdapterFor(*model, guard);
// when that is none too, *adapter stays empty and a note says so on stderr.
// On failure prints the error and returns false.
bool ResolveModelAndAdapter(std::string* model, std::string* adapter, bool no_adapter,
                            const std::string& guard = "");

// Prints "ccguard: error: <status>" to stderr.
void PrintError(const Status& s);
void PrintWarning(const std::string& w);

// Flushes standard output (std::cout and stdout) and reports whether every
// write so far reached it: IOError "cannot write to standard output: <errno
// text>" once any write or the flush failed (a full disk, /dev/full, a closed
// pipe). Commands call it after each batch of output lines, and main() once
// more before exiting, so that lost output is never an exit status of 0.
Status FlushStdout();

// Hub settings for --model/--adapter and `pull`: the environment (HF_HUB_CACHE, HF_ENDPOINT,
// HF_TOKEN, HF_HUB_OFFLINE, ...), a progress display on stderr, warnings via PrintWarning.
hub::ResolveOptions HubOptions();

}  // namespace ccguard::cli
