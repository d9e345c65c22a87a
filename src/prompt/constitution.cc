#include "prompt/constitution.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "jinja/template.h"
#include "jinja/value.h"
#include "util/utf8.h"

namespace ccguard {

extern const char kDefaultConstitutionJson[];  // default_constitution.cc (generated)

namespace {

Status ReadCategories(const Json& j, const char* key, const std::string& what, bool required,
                      std::vector<PolicyCategory>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(what + ": missing '" + key + "'");
    return Status::Ok();
  }
  if (!it->is_array()) return Status::InvalidArgument(what + ": '" + key + "' must be a list");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& c = (*it)[i];
    const std::string where = what + ": " + key + "[" + std::to_string(i) + "]";
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string() ||
        !c.contains("description") || !c["description"].is_string()) {
      return Status::InvalidArgument(where + " must be {\"name\": str, \"description\": str}");
    }
    out->push_back({c["name"].get<std::string>(), c["description"].get<std::string>()});
  }
  return Status::Ok();
}

Result<std::shared_ptr<const jinja::Template>> CompileField(const Json& j, const char* key,
                                                            const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return Status::InvalidArgument(what + ": missing string field '" + key + "'");
  }
  auto t = jinja::Template::Parse(it->get<std::string>());
  if (!t.ok()) return t.status().WithContext(what + ": " + key);
  return std::make_shared<const jinja::Template>(std::move(t).value());
}

Status ReadOpenAiCategories(const Json& j, const std::string& what, std::vector<std::string>* out) {
  auto it = j.find("openai_categories");
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) {
    return Status::InvalidArgument(what + ": 'openai_categories' must be a list of strings");
  }
  const auto& known = OpenAiModerationCategories();
  for (const Json& c : *it) {
    const std::string name = c.is_string() ? c.get<std::string>() : c.dump();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(what + ": 'openai_categories' has '" + name +
                                     "', not an OpenAI moderation category (" + list + ")");
    }
    if (std::find(out->begin(), out->end(), name) != out->end()) {
      return Status::InvalidArgument(what + ": 'openai_categories' lists '" + name + "' twice");
    }
    out->push_back(name);
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& OpenAiModerationCategories() {
  static const std::vector<std::string> k = {"sexual",
                                             "sexual/minors",
                                             "harassment",
                                             "harassment/threatening",
                                             "hate",
                                             "hate/threatening",
                                             "illicit",
                                             "illicit/violent",
                                             "self-harm",
                                             "self-harm/intent",
                                             "self-harm/instructions",
                                             "violence",
                                             "violence/graphic"};
  return k;
}

Constitution::Constitution(Constitution&&) noexcept = default;
Constitution& Constitution::operator=(Constitution&&) noexcept = default;
Constitution::Constitution(const Constitution&) = default;
Constitution::~Constitution() = default;

Result<Constitution> Constitution::FromJson(const Json& j, const std::string& what) {
  try {
    return ParseConstitution(j, what);
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(what + ": a field has the wrong type: " + e.what());
  }
}

Result<Constitution> Constitution::FromFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  return FromJson(j, path);
}

const std::string& Constitution::DefaultJsonText() {
  static const std::string text(kDefaultConstitutionJson);
  return text;
}

const Constitution& Constitution::Default() {
  static const Constitution c = [] {
    auto j = ParseJson(DefaultJsonText(), "embedded default constitution");
    auto r =
        j.ok() ? FromJson(*j, "embedded default constitution") : Result<Constitution>(j.status());
    if (!r.ok()) {
      // The embedded constitution is tested; failing here is a build defect.
      std::fprintf(stderr, "ccguard: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    return std::move(r).value();
  }();
  return c;
}

Result<Constitution> Constitution::ParseConstitution(const Json& j, const std::string& what) {
  if (!j.is_object()) return Status::InvalidArgument(what + ": a constitution is a JSON object");
  Constitution c;
  c.json_ = j;
  if (!j.contains("name") || !j["name"].is_string()) {
    return Status::InvalidArgument(what + ": missing string field 'name'");
  }
  c.name_ = j["name"].get<std::string>();
  if (auto it = j.find("labels"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument(what + ": 'labels' must be an object");
    c.safe_label_ = it->value("safe", c.safe_label_);
    c.unsafe_label_ = it->value("unsafe", c.unsafe_label_);
    if (c.safe_label_.empty() || c.unsafe_label_.empty() || c.safe_label_ == c.unsafe_label_) {
      return Status::InvalidArgument(what +
                                     ": labels.safe and labels.unsafe must be distinct, "
                                     "non-empty words");
    }
  }
  if (auto it = j.find("threshold"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1) {
      return Status::InvalidArgument(what + ": 'threshold' must be a number in [0, 1]");
    }
    c.threshold_ = it->get<double>();
  }
  CCG_RETURN_IF_ERROR(ReadCategories(j, "unsafe_categories", what, true, &c.unsafe_));
  CCG_RETURN_IF_ERROR(ReadCategories(j, "safe_categories", what, false, &c.safe_));
  CCG_RETURN_IF_ERROR(ReadOpenAiCategories(j, what, &c.openai_categories_));
  CCG_ASSIGN_OR_RETURN(auto system_t, CompileField(j, "system_template", what));
  CCG_ASSIGN_OR_RETURN(c.input_template_, CompileField(j, "input_template", what));
  CCG_ASSIGN_OR_RETURN(c.exchange_template_, CompileField(j, "exchange_template", what));

  Json cats_u = Json::array(), cats_s = Json::array();
  for (const auto& x : c.unsafe_)
    cats_u.push_back({{"name", x.name}, {"description", x.description}});
  for (const auto& x : c.safe_)
    cats_s.push_back({{"name", x.name}, {"description", x.description}});
  c.vars_ = {{"name", c.name_},
             {"description", j.value("description", std::string())},
             {"labels", {{"safe", c.safe_label_}, {"unsafe", c.unsafe_label_}}},
             {"unsafe_categories", cats_u},
             {"safe_categories", cats_s}};
  auto sys = system_t->Render(jinja::Value::FromJson(c.vars_));
  if (!sys.ok()) return sys.status().WithContext(what + ": system_template");
  c.system_message_ = std::move(sys).value();
  CCG_RETURN_IF_ERROR(CheckUtf8(c.system_message_, what + ": system message"));
  // Does each template render `context`? Rendered with and without a probe
  // turn: a template that ignores it gives the same text.
  auto uses_context = [&](const jinja::Template& t, bool exchange, bool* out) -> Status {
    Json vars = c.vars_;
    vars["prompt"] = "p";
    if (exchange) vars["response"] = "r";
    auto without = t.Render(jinja::Value::FromJson(vars));
    vars["context"] = Json::array({{{"role", "user"}, {"content", "ccguard-context-probe"}}});
    auto with = t.Render(jinja::Value::FromJson(vars));
    const char* field = exchange ? "exchange_template" : "input_template";
    if (!without.ok()) return without.status().WithContext(what + ": " + field);
    if (!with.ok()) return with.status().WithContext(what + ": " + field + " (with a context)");
    *out = *with != *without;
    return Status::Ok();
  };
  c.vars_["context"] = Json::array();
  CCG_RETURN_IF_ERROR(uses_context(*c.input_template_, false, &c.input_uses_context_));
  CCG_RETURN_IF_ERROR(uses_context(*c.exchange_template_, true, &c.exchange_uses_context_));
  return c;
}

Result<std::vector<ChatMessage>> Constitution::BuildMessages(
    const std::vector<ChatMessage>& context, const std::string& prompt,
    const std::optional<std::string>& response) const {
  CCG_RETURN_IF_ERROR(CheckUtf8(prompt, "prompt"));
  if (response) CCG_RETURN_IF_ERROR(CheckUtf8(*response, "response"));
  Json vars = vars_;
  vars["prompt"] = prompt;
  if (response) vars["response"] = *response;
  if (!context.empty()) {
    if (!(response ? exchange_uses_context_ : input_uses_context_)) {
      return Status::InvalidArgument(
          "constitution '" + name_ + "': its " +
          (response ? "exchange_template" : "input_template") + " does not use 'context', so the " +
          std::to_string(context.size()) +
          " earlier turn(s) of this conversation would be dropped; send the last turns "
          "alone, or add {{ context }} to the template (docs/constitution.md)");
    }
    Json turns = Json::array();
    for (const auto& m : context) {
      CCG_RETURN_IF_ERROR(CheckUtf8(m.content, "context"));
      turns.push_back({{"role", m.role}, {"content", m.content}});
    }
    vars["context"] = std::move(turns);
  }
  const jinja::Template& t = response ? *exchange_template_ : *input_template_;
  auto user = t.Render(jinja::Value::FromJson(vars));
  if (!user.ok()) {
    return user.status().WithContext("constitution '" + name_ +
                                     "': " + (response ? "exchange_template" : "input_template"));
  }
  return std::vector<ChatMessage>{{"system", system_message_}, {"user", std::move(user).value()}};
}

}  // namespace ccguard
