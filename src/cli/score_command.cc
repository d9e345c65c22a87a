// ccguard score: stdin JSON Lines items -> stdout one JSON line per item, in
// input order. A bad line gets an error line (with its id) and the rest go on.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/loader.h"
#include "scoring/classifier.h"
#include "util/json_file.h"

namespace ccguard::cli {
namespace {

struct Pending {
  size_t line_no;
  Json id;
  Status error;  // parse error, if any
  Item item;
};

Json ScoreJson(const Json& id, const ItemScore& s, const Constitution& c) {
  Json out;
  if (!id.is_null()) out["id"] = id;
  WriteScoreFields(s, c, &out);  // as /v1/classify
  return out;
}

}  // namespace

int RunScore(const ModelFlags& flags, bool dump_prompt, int batch_size) {
  auto classifier = LoadClassifier(flags);
  if (!classifier) return 1;
  int rc = 0;
  size_t line_no = 0, low_mass = 0, scored = 0;
  std::string line;
  bool eof = false;
  while (!eof) {
    std::vector<Pending> batch;
    while (static_cast<int>(batch.size()) < batch_size) {
      if (!std::getline(std::cin, line)) {
        eof = true;
        break;
      }
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Pending p{line_no, Json(), Status(), Item()};
      const std::string where = "line " + std::to_string(line_no);
      // Output line i always answers input line i: a blank line gets an error line.
      auto j = line.find_first_not_of(" \t") == std::string::npos
                   ? Result<Json>(Status::InvalidArgument(where + ": blank line (expected a JSON "
                                                                  "object)"))
                   : ParseJson(line, where);
      if (!j.ok()) {
        p.error = j.status();
      } else {
        if (j->is_object() && j->contains("id")) p.id = (*j)["id"];
        auto item = ItemFromJson(*j);
        if (item.ok()) {
          p.item = std::move(item).value();
        } else {
          p.error = item.status().WithContext(where);
        }
      }
      batch.push_back(std::move(p));
    }
    std::vector<Item> items;
    std::vector<size_t> where;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].error.ok()) {
        items.push_back(batch[i].item);
        where.push_back(i);
      }
    }
    std::vector<Json> outs(batch.size());
    if (dump_prompt) {
      for (size_t k = 0; k < items.size(); ++k) {
        auto text = classifier->RenderPrompt(items[k]);
        Pending& p = batch[where[k]];
        if (text.ok()) {
          outs[where[k]] = {{"id", p.id}, {"prompt", *text}};
        } else {
          p.error = text.status().WithContext("line " + std::to_string(p.line_no));
        }
      }
    } else if (!items.empty()) {
      auto scores = classifier->ScoreBatch(items);
      for (size_t k = 0; k < items.size(); ++k) {
        Pending& p = batch[where[k]];
        if (scores[k].ok()) {
          outs[where[k]] = ScoreJson(p.id, *scores[k], classifier->constitution());
          if (flags.categories) {
            Status st = WriteCategoryFields(*classifier, items[k], *scores[k], &outs[where[k]]);
            if (!st.ok()) {
              p.error = st.WithContext("line " + std::to_string(p.line_no) + ": categories");
              continue;
            }
          }
          low_mass += scores[k]->low_label_mass ? 1 : 0;
          ++scored;
        } else {
          p.error = scores[k].status().WithContext("line " + std::to_string(p.line_no));
        }
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].error.ok()) {
        outs[i] = Json::object();
        if (!batch[i].id.is_null()) outs[i]["id"] = batch[i].id;
        outs[i]["error"] = batch[i].error.message();
        rc = 3;
      }
      std::cout << DumpJson(outs[i]) << '\n';
    }
    // Stop at once when stdout is gone: every later score would be lost too.
    // main() reports the error.
    if (!FlushStdout().ok()) return 1;
  }
  if (low_mass > 0) {
    PrintWarning(std::to_string(low_mass) + " of " + std::to_string(scored) +
                 " items had label mass p(safe)+p(unsafe) below " +
                 std::to_string(classifier->label_mass_warning()) +
                 ": the prompt format probably does not match the adapter's training "
                 "(check --constitution and the templates)");
  }
  return rc;
}

}  // namespace ccguard::cli
