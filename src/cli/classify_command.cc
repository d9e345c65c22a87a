// ccguard classify TEXT: one item, human-readable (or --json).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/loader.h"
#include "util/json_file.h"

namespace ccguard::cli {

int RunClassify(const ModelFlags& flags, const std::string& text,
                const std::optional<std::string>& response, bool json) {
  Json j = {{"prompt", text}};
  if (response) j["response"] = *response;
  auto item = ItemFromJson(j);
  if (!item.ok()) {
    PrintError(item.status());
    return 1;
  }
  auto classifier = LoadClassifier(flags);
  if (!classifier) return 1;
  auto s = classifier->Score(*item);
  if (!s.ok()) {
    PrintError(s.status());
    return 1;
  }
  const Constitution& c = classifier->constitution();
  const std::string label = s->unsafe ? c.unsafe_label() : c.safe_label();
  Json out;
  WriteScoreFields(*s, c, &out);  // as /v1/classify and score
  if (flags.categories) {
    Status st = WriteCategoryFields(*classifier, *item, *s, &out);
    if (!st.ok()) {
      PrintError(st.WithContext("categories"));
      return 1;
    }
  }
  if (json) {
    std::cout << DumpJson(out) << '\n';
  } else {
    std::string cats;
    if (flags.categories) {
      for (const auto& n : out["categories"])
        cats += (cats.empty() ? "  categories: " : ", ") + n.get<std::string>();
    }
    std::printf("%s  p_unsafe=%.4f  threshold=%.2f  (label mass %.3g, %lld tokens, %s)%s\n",
                label.c_str(), s->p_unsafe, s->threshold, s->label_mass,
                static_cast<long long>(s->n_tokens), response ? "exchange" : "input", cats.c_str());
  }
  if (s->low_label_mass) {
    PrintWarning("label mass p(safe)+p(unsafe) is " + std::to_string(s->label_mass) +
                 ": the prompt format probably does not match the adapter's training");
  }
  return 0;
}

}  // namespace ccguard::cli
