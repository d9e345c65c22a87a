#include "eval/row_source.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace ccguard::eval {

Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& patterns) {
  if (patterns.empty()) return Status::InvalidArgument("no input files");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& p : patterns) {
    std::vector<std::string> matches;
    if (p.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      const int rc = ::glob(p.c_str(), GLOB_ERR, nullptr, &g);
      if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) matches.push_back(g.gl_pathv[i]);
      }
      ::globfree(&g);
      if (rc == GLOB_NOMATCH || (rc == 0 && matches.empty())) {
        return Status::NotFound("--input '" + p + "' matches no file");
      }
      if (rc != 0) return Status::IOError("--input '" + p + "': cannot read its folder");
      std::sort(matches.begin(), matches.end());
    } else {
      struct stat st;
      if (::stat(p.c_str(), &st) != 0) return Status::NotFound("--input " + p + ": no such file");
      matches.push_back(p);
    }
    for (auto& m : matches) {
      if (!seen.insert(m).second) {
        return Status::InvalidArgument("--input names " + m +
                                       " twice (rows would be scored twice)");
      }
      out.push_back(std::move(m));
    }
  }
  return out;
}

Json ColumnMapping::ToJson() const {
  Json j = Json::object();
  const std::pair<const char*, const std::string*> fields[] = {
      {"text", &text},         {"prompt", &prompt}, {"response", &response},
      {"messages", &messages}, {"chat", &chat},     {"id", &id}};
  for (const auto& [k, v] : fields) {
    if (!v->empty()) j[k] = *v;
  }
  if (!keep.empty()) j["keep"] = keep;
  return j;
}

const std::vector<std::string>& OutputFields() {
  static const std::vector<std::string> k = {
      "row",       "id",       "error",        "p_unsafe",       "label",     "flagged",
      "threshold", "n_tokens", "logprob_safe", "logprob_unsafe", "label_mass"};
  return k;
}

std::vector<std::string> MappedColumns(const ColumnMapping& m) {
  std::vector<std::string> out;
  for (const std::string* c : {&m.text, &m.prompt, &m.response, &m.messages, &m.chat, &m.id}) {
    if (!c->empty()) out.push_back(*c);
  }
  for (const auto& k : m.keep) out.push_back(k);
  return out;
}

Status ValidateMapping(const ColumnMapping& m) {
  const int forms = !m.text.empty() + !m.prompt.empty() + !m.messages.empty() + !m.chat.empty();
  if (forms != 1) {
    return Status::InvalidArgument(
        "name exactly one column to judge: --text-column, --prompt-column (with "
        "--response-column for exchanges), --messages-column or --chat-column");
  }
  if (!m.response.empty() && m.prompt.empty()) {
    return Status::InvalidArgument("--response-column goes with --prompt-column");
  }
  for (const auto& k : m.keep) {
    const auto& fields = OutputFields();
    if (std::find(fields.begin(), fields.end(), k) != fields.end()) {
      return Status::InvalidArgument("--keep-columns: '" + k +
                                     "' is also a field of the output lines; rename the column");
    }
  }
  return Status::Ok();
}

Result<Json> ItemJsonFromRow(const Table& table, const TableRow& row, const ColumnMapping& m) {
  if (!m.text.empty()) {
    CCG_ASSIGN_OR_RETURN(std::string t, GetText(table, row, m.text));
    return Json{{"prompt", std::move(t)}};
  }
  if (!m.prompt.empty()) {
    CCG_ASSIGN_OR_RETURN(std::string p, GetText(table, row, m.prompt));
    Json j = {{"prompt", std::move(p)}};
    if (!m.response.empty()) {
      CCG_ASSIGN_OR_RETURN(std::string r, GetText(table, row, m.response));
      j["response"] = std::move(r);
    }
    return j;
  }
  const std::string& col = m.messages.empty() ? m.chat : m.messages;
  const char* field = m.messages.empty() ? "chat" : "messages";
  auto it = row.fields.find(col);
  if (it == row.fields.end() || it->is_null()) {
    return Status::InvalidArgument(Where(table, row) + ": column '" + col + "' is missing or null");
  }
  Json turns = *it;
  if (turns.is_string()) {  // CSV: the list's JSON text
    auto parsed = ParseJson(turns.get<std::string>(), Where(table, row) + ": column '" + col + "'");
    if (!parsed.ok()) return parsed.status();
    turns = std::move(parsed).value();
  }
  if (!turns.is_array()) {
    return Status::InvalidArgument(Where(table, row) + ": column '" + col +
                                   "' must hold a list of {role, content} turns");
  }
  return Json{{field, std::move(turns)}};
}

Result<Json> KeptColumns(const Table& table, const TableRow& row, const ColumnMapping& m) {
  Json out = Json::object();
  std::vector<std::string> cols = m.keep;
  if (!m.id.empty()) cols.push_back(m.id);
  for (size_t i = 0; i < cols.size(); ++i) {
    auto it = row.fields.find(cols[i]);
    if (it == row.fields.end()) {
      return Status::InvalidArgument(Where(table, row) + ": no column '" + cols[i] + "'");
    }
    const bool is_id = !m.id.empty() && i + 1 == cols.size();
    out[is_id ? "id" : cols[i]] = *it;
  }
  return out;
}

Result<Shard> ParseShard(std::string_view text) {
  const size_t slash = text.find('/');
  Shard s;
  auto num = [](std::string_view v, uint64_t* out) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
    return !v.empty() && ec == std::errc() && end == v.data() + v.size();
  };
  if (slash == std::string_view::npos || !num(text.substr(0, slash), &s.index) ||
      !num(text.substr(slash + 1), &s.count) || s.count == 0 || s.index >= s.count) {
    return Status::InvalidArgument("--shard '" + std::string(text) +
                                   "' must be I/N with 0 <= I < N (e.g. 0/4)");
  }
  return s;
}

}  // namespace ccguard::eval
