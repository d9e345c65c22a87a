// Building a Classifier from command-line flags, with warnings on stderr.
#pragma once

#include <memory>

#include "cli/commands.h"
#include "scoring/classifier.h"

namespace ccguard::cli {

// Resolves --model/--adapter, loads everything and prints load warnings.
// On failure prints the error and returns nullptr.
std::unique_ptr<Classifier> LoadClassifier(const ModelFlags& flags);

// Prints "ccguard: error: <status>" to stderr.
void PrintError(const Status& s);
void PrintWarning(const std::string& w);

}  // namespace ccguard::cli
