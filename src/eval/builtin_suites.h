// The evaluation suites built into ccguard: `ccguard eval --suite NAME`.
//
//   reference  the published table: ToxicChat (toxicity, jailbreak subset), Aegis 2.0 prompt
//              and prompt+response, BeaverTails, OR-Bench toxic and hard-1k, MMLU chemistry;
//              500 items each where the table has 500; the held-out classifier data is
//              optional (a local heldout.jsonl) and, when absent, the threshold sweep runs on
//              all datasets pooled.
//   extended   reference plus XSTest, OpenAI moderation, HarmBench, JailbreakBench,
//              Do-Not-Answer and WildGuardTest (prompt and response).
// Each is suite JSON (docs/eval.md) whose datasets name Hugging Face dataset repos ("hub":
// repo, revision, path or glob), with "source" and "license" notes for --list-suites.
#pragma once

#include <string>
#include <vector>

namespace ccguard::eval {

struct BuiltinSuite {
  std::string name;
  std::string description;
  std::string json;  // the suite
};

const std::vector<BuiltinSuite>& BuiltinSuites();

// The suite called `name`, or null.
const BuiltinSuite* FindBuiltinSuite(const std::string& name);

}  // namespace ccguard::eval
