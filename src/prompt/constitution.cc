#include "prompt/constitution.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "jinja/pystring.h"
#include "jinja/template.h"
#include "jinja/value.h"
#include "util/utf8.h"

namespace ccguard {

extern const char kDefaultConstitutionJson[];  // default_constitution.cc (generated)
struct BuiltinGuard {  // builtin_guards.cc (generated from src/prompt/guards/)
  const char* name;
  const char* json;
};
extern const BuiltinGuard kBuiltinGuards[];
extern const size_t kBuiltinGuardCount;

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

namespace {

Status ReadStringList(const Json& j, const char* key, const std::string& where,
                      std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end()) return Status::Ok();
  if (!it->is_array())
    return Status::InvalidArgument(where + "." + key + " must be a list of strings");
  for (const Json& e : *it) {
    if (!e.is_string())
      return Status::InvalidArgument(where + "." + key + " must be a list of strings");
    out->push_back(e.get<std::string>());
  }
  return Status::Ok();
}

Result<CategorySpec> ReadCategorySpec(const Json& j, const std::string& what) {
  const std::string where = what + ": categories";
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  for (const auto& [k, v] : j.items()) {
    static const char* const kKeys[] = {"max_new_tokens", "line",  "strip_prefix", "separator",
                                        "none",           "names", "openai"};
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys)) {
      return Status::InvalidArgument(where + ": unknown field '" + k + "'");
    }
  }
  CategorySpec c;
  if (j.contains("max_new_tokens")) {
    if (!j["max_new_tokens"].is_number_integer() || j["max_new_tokens"].get<int64_t>() < 1 ||
        j["max_new_tokens"].get<int64_t>() > 256) {
      return Status::InvalidArgument(where + ".max_new_tokens must be an integer in [1, 256]");
    }
    c.max_new_tokens = j["max_new_tokens"].get<int>();
  }
  if (j.contains("line")) {
    if (!j["line"].is_number_integer() || j["line"].get<int64_t>() < 0 ||
        j["line"].get<int64_t>() > 16) {
      return Status::InvalidArgument(where + ".line must be an integer in [0, 16]");
    }
    c.line = j["line"].get<int>();
  }
  c.strip_prefix = j.value("strip_prefix", std::string());
  c.separator = j.value("separator", std::string(","));
  if (c.separator.empty()) return Status::InvalidArgument(where + ".separator must not be empty");
  CCG_RETURN_IF_ERROR(ReadStringList(j, "none", where, &c.none));
  CCG_RETURN_IF_ERROR(ReadStringList(j, "names", where, &c.names));
  if (auto it = j.find("openai"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument(where + ".openai must be an object");
    const auto& known = OpenAiModerationCategories();
    for (const auto& [name, keys] : it->items()) {
      std::vector<std::string> list;
      CCG_RETURN_IF_ERROR(ReadStringList(*it, name.c_str(), where + ".openai", &list));
      for (const auto& k : list) {
        if (std::find(known.begin(), known.end(), k) == known.end()) {
          return Status::InvalidArgument(where + ".openai['" + name + "'] has '" + k +
                                         "', not an OpenAI moderation category");
        }
      }
      c.openai.emplace_back(name, std::move(list));
    }
  }
  return c;
}

}  // namespace

Status Constitution::ParseProfile(const Json& j, const std::string& what) {
  const std::string format = j.value("format", std::string("constitution"));
  if (format == "chat_template") {
    format_ = PromptFormat::kChatTemplate;
  } else if (format != "constitution") {
    return Status::InvalidArgument(what + ": 'format' is '" + format +
                                   "'; it must be 'constitution' or 'chat_template'");
  }
  const bool has_classes = j.contains("label_classes");
  if (has_classes && j.contains("labels")) {
    return Status::InvalidArgument(what + ": give 'labels' or 'label_classes', not both");
  }
  if (auto it = j.find("labels"); it != j.end()) {
    if (!it->is_object()) return Status::InvalidArgument(what + ": 'labels' must be an object");
    safe_label_ = it->value("safe", safe_label_);
    unsafe_label_ = it->value("unsafe", unsafe_label_);
    if (safe_label_.empty() || unsafe_label_.empty() || safe_label_ == unsafe_label_) {
      return Status::InvalidArgument(what +
                                     ": labels.safe and labels.unsafe must be distinct, "
                                     "non-empty words");
    }
  }
  if (!has_classes) {
    classes_ = {{safe_label_, {safe_label_}, LabelClass::Side::kSafe},
                {unsafe_label_, {unsafe_label_}, LabelClass::Side::kUnsafe}};
  } else {
    const Json& lc = j["label_classes"];
    if (!lc.is_array() || lc.size() < 2) {
      return Status::InvalidArgument(what +
                                     ": 'label_classes' must be a list of at least 2 classes");
    }
    bool any_safe = false, any_unsafe = false;
    for (size_t i = 0; i < lc.size(); ++i) {
      const Json& e = lc[i];
      const std::string where = what + ": label_classes[" + std::to_string(i) + "]";
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
          e["name"].get<std::string>().empty()) {
        return Status::InvalidArgument(where + " needs a non-empty string 'name'");
      }
      LabelClass c;
      c.name = e["name"].get<std::string>();
      for (const auto& other : classes_) {
        if (other.name == c.name)
          return Status::InvalidArgument(where + ": name '" + c.name + "' is used twice");
      }
      if (!e.contains("strings") || !e["strings"].is_array() || e["strings"].empty()) {
        return Status::InvalidArgument(where + " ('" + c.name +
                                       "') needs 'strings': a non-empty list");
      }
      for (const Json& str : e["strings"]) {
        if (!str.is_string() || str.get<std::string>().empty()) {
          return Status::InvalidArgument(where + " ('" + c.name +
                                         "'): each of 'strings' must be a non-empty string");
        }
        c.strings.push_back(str.get<std::string>());
      }
      const Json u = e.value("unsafe", Json());
      if (u.is_boolean()) {
        c.side = u.get<bool>() ? LabelClass::Side::kUnsafe : LabelClass::Side::kSafe;
      } else if (u.is_string() && u.get<std::string>() == "strict") {
        c.side = LabelClass::Side::kStrict;
      } else {
        return Status::InvalidArgument(where + " ('" + c.name +
                                       "'): 'unsafe' must be true, false or \"strict\"");
      }
      any_safe |= c.side == LabelClass::Side::kSafe;
      any_unsafe |= c.side == LabelClass::Side::kUnsafe;
      classes_.push_back(std::move(c));
    }
    if (!any_safe || !any_unsafe) {
      return Status::InvalidArgument(what +
                                     ": 'label_classes' needs at least one class with "
                                     "\"unsafe\": false and one with \"unsafe\": true");
    }
    // The first safe and the first unsafe class name the verdicts.
    for (const auto& c : classes_) {
      if (c.side == LabelClass::Side::kSafe) {
        safe_label_ = c.name;
        break;
      }
    }
    for (const auto& c : classes_) {
      if (c.side == LabelClass::Side::kUnsafe) {
        unsafe_label_ = c.name;
        break;
      }
    }
  }
  const std::string match =
      j.value("label_match", std::string(has_classes ? "first_token" : "single_token"));
  if (match == "single_token") {
    label_match_ = LabelMatch::kSingleToken;
  } else if (match == "first_token") {
    label_match_ = LabelMatch::kFirstToken;
  } else if (match == "decoded_word") {
    label_match_ = LabelMatch::kDecodedWord;
  } else {
    return Status::InvalidArgument(what + ": 'label_match' is '" + match +
                                   "'; it must be single_token, first_token or decoded_word");
  }
  const std::string mode = j.value("mode", std::string("strict"));
  if (mode != "strict" && mode != "loose") {
    return Status::InvalidArgument(what + ": 'mode' is '" + mode + "'; it must be strict or loose");
  }
  strict_ = mode == "strict";
  if (auto it = j.find("models"); it != j.end()) {
    if (!it->is_array())
      return Status::InvalidArgument(what + ": 'models' must be a list of repo ids");
    for (const Json& m : *it) {
      if (!m.is_string())
        return Status::InvalidArgument(what + ": 'models' must be a list of repo ids");
      models_.push_back(m.get<std::string>());
    }
  }
  if (auto it = j.find("template_variables"); it != j.end()) {
    if (!it->is_object()) {
      return Status::InvalidArgument(what + ": 'template_variables' must be an object");
    }
    for (const char* k : {"messages", "add_generation_prompt", "enable_thinking"}) {
      if (it->contains(k)) {
        return Status::InvalidArgument(what + ": 'template_variables' may not set '" + k + "'");
      }
    }
    render_options_.variables = *it;
  }
  render_options_.content_parts = j.value("content_parts", false);
  trim_content_ = j.value("trim_content", false);
  render_options_.enable_thinking = j.value("enable_thinking", false);
  render_options_.assistant_prefix = j.value("assistant_prefix", std::string());
  CCG_RETURN_IF_ERROR(CheckUtf8(render_options_.assistant_prefix, what + ": assistant_prefix"));
  if (auto it = j.find("categories"); it != j.end() && !it->is_null()) {
    CCG_ASSIGN_OR_RETURN(categories_, ReadCategorySpec(*it, what));
  }
  if (format_ == PromptFormat::kChatTemplate) {
    for (const char* k : {"system_template", "input_template", "exchange_template",
                          "unsafe_categories", "safe_categories"}) {
      if (j.contains(k)) {
        return Status::InvalidArgument(
            what + ": '" + k +
            "' is not used in chat_template format (the model's chat template renders the "
            "conversation; its policy variables go in 'template_variables')");
      }
    }
  }
  return Status::Ok();
}

std::vector<std::string> CategorySpec::Parse(const std::string& generated) const {
  // Line `line` of the generated text.
  size_t begin = 0;
  for (int i = 0; i < line; ++i) {
    const size_t nl = generated.find('\n', begin);
    if (nl == std::string::npos) return {};
    begin = nl + 1;
  }
  std::string text = generated.substr(begin, generated.find('\n', begin) - begin);
  text = jinja::pystr::Strip(text, std::nullopt, true, true);
  if (!strip_prefix.empty()) {
    if (text.rfind(strip_prefix, 0) != 0) return {};
    text = text.substr(strip_prefix.size());
  }
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= text.size();) {
    size_t next = text.find(separator, pos);
    if (next == std::string::npos) next = text.size();
    std::string e = jinja::pystr::Strip(text.substr(pos, next - pos), std::nullopt, true, true);
    pos = next + separator.size();
    if (e.empty() || std::find(none.begin(), none.end(), e) != none.end()) continue;
    if (!names.empty() && std::find(names.begin(), names.end(), e) == names.end()) continue;
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> CategorySpec::OpenAiKeys(
    const std::vector<std::string>& categories) const {
  std::vector<std::string> out;
  for (const auto& k : OpenAiModerationCategories()) {
    bool set = false;
    for (const auto& [name, keys] : openai) {
      if (std::find(categories.begin(), categories.end(), name) != categories.end() &&
          std::find(keys.begin(), keys.end(), k) != keys.end()) {
        set = true;
      }
    }
    if (set) out.push_back(k);
  }
  return out;
}

bool Constitution::ClassIsUnsafe(size_t i) const {
  const LabelClass::Side s = classes_[i].side;
  return s == LabelClass::Side::kUnsafe || (s == LabelClass::Side::kStrict && strict_);
}

std::vector<std::string> Constitution::BuiltinNames() {
  std::vector<std::string> out = {"ccguard-default"};
  for (size_t i = 0; i < kBuiltinGuardCount; ++i) out.push_back(kBuiltinGuards[i].name);
  return out;
}

const char* Constitution::BuiltinJsonText(const std::string& name) {
  if (name == "ccguard-default") return kDefaultConstitutionJson;
  for (size_t i = 0; i < kBuiltinGuardCount; ++i) {
    if (name == kBuiltinGuards[i].name) return kBuiltinGuards[i].json;
  }
  return nullptr;
}

std::string Constitution::BuiltinName(const std::string& spec) {
  std::string base = spec;
  for (const std::string sx : {":strict", ":loose"}) {
    if (base.size() > sx.size() && base.compare(base.size() - sx.size(), sx.size(), sx) == 0) {
      base.resize(base.size() - sx.size());
    }
  }
  return BuiltinJsonText(base) != nullptr ? base : "";
}

namespace {

using jinja::pystr::Lower;

// "org/name" (lower-cased) of a model reference: a repo id (with or without
// @revision), a Hugging Face cache path (…/models--org--name/snapshots/…) or
// a folder (its last two components); `name` alone gets "/name".
std::string RepoIdOf(const std::string& ref) {
  std::string r = Lower(ref);
  if (size_t at = r.find("models--"); at != std::string::npos) {
    std::string rest = r.substr(at + 8);
    rest = rest.substr(0, rest.find('/'));
    if (size_t dash = rest.find("--"); dash != std::string::npos) {
      return rest.substr(0, dash) + "/" + rest.substr(dash + 2);
    }
  }
  if (size_t at = r.rfind('@'); at != std::string::npos && r.find('/', at) == std::string::npos) {
    r.resize(at);
  }
  std::vector<std::string> parts;
  for (size_t pos = 0; pos <= r.size();) {
    size_t next = r.find('/', pos);
    if (next == std::string::npos) next = r.size();
    if (next > pos) parts.push_back(r.substr(pos, next - pos));
    pos = next + 1;
  }
  if (parts.empty()) return "/";
  if (parts.size() == 1) return "/" + parts[0];
  return parts[parts.size() - 2] + "/" + parts.back();
}

}  // namespace

std::string Constitution::BuiltinForModel(const std::string& model_ref) {
  const std::string id = RepoIdOf(model_ref);
  const std::string name = id.substr(id.find('/') + 1);
  for (size_t i = 0; i < kBuiltinGuardCount; ++i) {
    auto j = ParseJson(kBuiltinGuards[i].json, kBuiltinGuards[i].name);
    if (!j.ok() || !j->contains("models") || !(*j)["models"].is_array()) continue;
    for (const Json& m : (*j)["models"]) {
      if (!m.is_string()) continue;
      const std::string want = Lower(m.get<std::string>());
      if (want == id || want.substr(want.find('/') + 1) == name) return kBuiltinGuards[i].name;
    }
  }
  return "";
}

Result<Constitution> Constitution::Load(const std::string& spec) {
  if (spec.empty()) return Default();
  std::error_code ec;
  std::string base = spec;
  std::optional<bool> strict;
  for (const char* suffix : {":strict", ":loose"}) {
    const std::string sx = suffix;
    if (base.size() > sx.size() && base.compare(base.size() - sx.size(), sx.size(), sx) == 0 &&
        !std::filesystem::exists(base, ec)) {
      base.resize(base.size() - sx.size());
      strict = sx == ":strict";
    }
  }
  Result<Constitution> c = Status::Internal("unset");
  if (const char* text = BuiltinJsonText(base)) {
    auto j = ParseJson(text, "built-in guard profile '" + base + "'");
    if (!j.ok()) return j.status();
    c = FromJson(*j, "built-in guard profile '" + base + "'");
  } else if (std::filesystem::exists(base, ec)) {
    c = FromFile(base);
  } else {
    std::string names;
    for (const auto& n : BuiltinNames()) names += (names.empty() ? "" : ", ") + n;
    return Status::NotFound("guard '" + base + "' is neither a built-in profile (" + names +
                            ") nor a file");
  }
  if (c.ok() && strict) {
    c->strict_ = *strict;
    c->json_["mode"] = *strict ? "strict" : "loose";  // part of the run's identity (its hash)
  }
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
  CCG_RETURN_IF_ERROR(c.ParseProfile(j, what));
  if (auto it = j.find("threshold"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1) {
      return Status::InvalidArgument(what + ": 'threshold' must be a number in [0, 1]");
    }
    c.threshold_ = it->get<double>();
  }
  CCG_RETURN_IF_ERROR(ReadOpenAiCategories(j, what, &c.openai_categories_));
  if (c.format_ == PromptFormat::kChatTemplate) {
    c.input_uses_context_ = c.exchange_uses_context_ = true;
    return c;
  }
  CCG_RETURN_IF_ERROR(ReadCategories(j, "unsafe_categories", what, true, &c.unsafe_));
  CCG_RETURN_IF_ERROR(ReadCategories(j, "safe_categories", what, false, &c.safe_));
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
  if (format_ == PromptFormat::kChatTemplate) {
    std::vector<ChatMessage> out;
    for (const auto& m : context) {
      CCG_RETURN_IF_ERROR(CheckUtf8(m.content, "context"));
      out.push_back(m);
    }
    out.push_back({"user", prompt});
    if (response) out.push_back({"assistant", *response});
    // The template trims the contents itself: trimming them here first
    // changes nothing in the text and lets them be located (tokenized literally).
    if (trim_content_) {
      for (auto& m : out) m.content = jinja::pystr::Strip(m.content, std::nullopt, true, true);
    }
    return out;
  }
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
