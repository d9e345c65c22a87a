// The identity of a scoring run: the resolved value of everything that
// changes a score or a verdict, recorded beside results (eval's run.json,
// the bulk scorer's progress file) so that a resumed run never appends
// results of other settings to the same file.
//
//   {"ccguard_version": "0.1.0",
//    "model":   {"dir": resolved folder (absolute), "revision": commit | null},
//    "adapter": {"dir", "revision"} | null,
//    "constitution": {"name", "sha256": of its JSON (keys sorted)},
//    "compute": "bf16", "device": "cpu", "backend": "cpu-fast(avx512, bf16)",
//    "threads": compute threads (scores are the same bits however items are
//               batched, not across thread counts),
//    "hf_special_tokens": false,
//    "threshold": 0.5, "threshold_source": "--threshold" | "constitution" | "default"}
//
// `revision` is the commit of a Hugging Face cache snapshot folder
// (.../snapshots/<40 hex>), else null (a local folder). `backend` names the
// kernels and the CPU instruction-set tier actually used. Thread-safe (pure
// functions).
#pragma once

#include <optional>
#include <string>

#include "scoring/classifier.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

// What the identity needs beyond the loaded classifier: the folders the
// --model and --adapter references resolved to.
struct IdentityInputs {
  std::string model_dir;
  std::string adapter_dir;               // empty: no adapter
  std::optional<double> threshold_flag;  // --threshold, if given
};

// The identity of scoring with `c` loaded from `in`.
Json ScoringIdentity(const Classifier& c, const IdentityInputs& in);

// The commit of a Hugging Face cache snapshot folder, if `dir` is one.
std::optional<std::string> SnapshotRevision(const std::string& dir);

// OK when `recorded` and `current` are equal. Otherwise InvalidArgument
// naming the first setting that differs (the chosen ones first: compute,
// device, model, adapter, constitution, hf_special_tokens, threshold,
// threshold_source, then backend, ccguard_version, then the rest by name) (dotted, e.g.
// "model.revision", "compute") with both values: "<what> was made with compute \"fp32\"; this run
// has \"bf16\"". A setting present in one and not the other (a record of an older ccguard) is named
// the same way.
Status CheckSameIdentity(const Json& recorded, const Json& current, const std::string& what);

// This build's version ("0.1.0").
const char* CcguardVersion();

}  // namespace ccguard
