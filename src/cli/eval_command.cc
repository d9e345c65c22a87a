// ccguard eval / metrics / calibrate: the paper-aligned evaluation protocol.
//
// eval: reads the suite's datasets, scores every item through the same path
// as `ccguard score` (prompt-only datasets as input classification, prompt +
// response datasets as exchange classification), appends each score to
// DIR/scores.jsonl as soon as it is computed, then writes results.json,
// results.md and report.html. Started again with the same arguments it
// resumes where it stopped (a torn last line is cut off first).
#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "cli/loader.h"
#include "eval/builtin_suites.h"
#include "eval/calibrate.h"
#include "eval/dataset.h"
#include "eval/report.h"
#include "eval/sample.h"
#include "eval/scores.h"
#include "hub/resolve.h"
#include "prompt/constitution.h"
#include "scoring/run_identity.h"
#include "util/digest.h"
#include "util/json_file.h"
#include "util/mapped_file.h"
#include "util/progress.h"

namespace ccguard::cli {
namespace {

namespace fs = std::filesystem;

struct Suite {
  double threshold = 0.5;
  uint64_t seed = 0;
  std::string sweep_on;
  std::vector<eval::DatasetSpec> datasets;
  // Extra files of datasets given "path": [a, b, ...] (datasets[i] holds a).
  std::vector<std::vector<std::string>> more_paths;
  // Per dataset: where its files came from ({"repo", "revision", "commit", "files"} for the
  // Hub, {"files"} for local paths; files as the suite names them).
  std::vector<Json> sources;
  // Optional datasets left out because their file is absent: "heldout (heldout.jsonl)".
  std::vector<std::string> skipped;
};

// Typed fields of a suite object; every error names the field ("datasets[2].text_column").
class Fields {
 public:
  Fields(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}
  bool has(const char* key) const { return j_.contains(key); }
  Status Error(const char* key, const std::string& what) const {
    return Status::InvalidArgument(where_ + key + " " + what);
  }
  Result<std::string> String(const char* key, std::string def = {}) const {
    auto it = j_.find(key);
    if (it == j_.end()) return def;
    if (!it->is_string()) return Error(key, "must be a string, got " + Brief(*it));
    return it->get<std::string>();
  }
  Result<std::vector<std::string>> Strings(const char* key, bool one_allowed) const {
    std::vector<std::string> out;
    auto it = j_.find(key);
    if (it == j_.end()) return out;
    if (one_allowed && it->is_string()) return std::vector<std::string>{it->get<std::string>()};
    if (!it->is_array()) {
      return Error(key, std::string("must be ") + (one_allowed ? "a string or " : "") +
                            "a list of strings, got " + Brief(*it));
    }
    for (const auto& e : *it) {
      if (!e.is_string()) return Error(key, "must hold strings only, got " + Brief(e));
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  Result<double> Number(const char* key, double def, double lo, double hi) const {
    auto it = j_.find(key);
    if (it == j_.end()) return def;
    if (!it->is_number()) return Error(key, "must be a number, got " + Brief(*it));
    const double v = it->get<double>();
    if (!(v >= lo && v <= hi)) {
      return Error(key, "must be in [" + Fmt(lo) + ", " + Fmt(hi) + "], got " + Brief(*it));
    }
    return v;
  }
  Result<uint64_t> Unsigned(const char* key, uint64_t def, uint64_t lo) const {
    auto it = j_.find(key);
    if (it == j_.end()) return def;
    if (!it->is_number_unsigned() || it->get<uint64_t>() < lo) {
      return Error(key, "must be an integer >= " + std::to_string(lo) + ", got " + Brief(*it));
    }
    return it->get<uint64_t>();
  }
  // Keys other than `known` are refused (a typo must not be ignored).
  Status OnlyKeys(std::initializer_list<const char*> known) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool ok = false;
      for (const char* k : known) ok = ok || it.key() == k;
      if (!ok) return Status::InvalidArgument(where_ + it.key() + " is not a known field");
    }
    return Status::Ok();
  }

 private:
  static std::string Brief(const Json& v) {
    std::string d = DumpJson(v);
    return d.size() > 60 ? d.substr(0, 60) + "..." : d;
  }
  static std::string Fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }
  const Json& j_;
  const std::string where_;
};

// A suite file, or a built-in suite's name (eval/builtin_suites.h) when no such file exists;
// *text receives the suite's JSON text (its SHA-256 goes into run.json).
Result<Suite> ReadSuite(const std::string& arg, std::optional<size_t> max_per_dataset,
                        std::string* text) {
  std::error_code exists_ec;
  const eval::BuiltinSuite* builtin =
      fs::exists(arg, exists_ec) ? nullptr : eval::FindBuiltinSuite(arg);
  std::string path = arg;
  Json j;
  if (builtin != nullptr) {
    path = "suite '" + builtin->name + "'";
    *text = builtin->json;
    CCG_ASSIGN_OR_RETURN(j, ParseJson(*text, path));
  } else {
    if (!fs::exists(arg, exists_ec) && arg.find('/') == std::string::npos &&
        arg.find('.') == std::string::npos) {
      std::string names;
      for (const auto& b : eval::BuiltinSuites()) names += (names.empty() ? "" : ", ") + b.name;
      return Status::NotFound("no suite file '" + arg + "' and no built-in suite of that name (" +
                              names + "; see --list-suites)");
    }
    CCG_ASSIGN_OR_RETURN(*text, ReadFileToString(arg));
    CCG_ASSIGN_OR_RETURN(j, ParseJson(*text, arg));
  }
  Suite s;
  if (!j.is_object() || !j.contains("datasets") || !j["datasets"].is_array()) {
    return Status::InvalidArgument(path +
                                   ": a suite is {\"datasets\": [...], \"threshold\"?, "
                                   "\"seed\"?, \"sweep_on\"?}");
  }
  const Fields top(j, path + ": ");
  CCG_RETURN_IF_ERROR(top.OnlyKeys({"datasets", "threshold", "seed", "sweep_on"}));
  CCG_ASSIGN_OR_RETURN(s.threshold, top.Number("threshold", 0.5, 0.0, 1.0));
  CCG_ASSIGN_OR_RETURN(s.seed, top.Unsigned("seed", 0, 0));
  CCG_ASSIGN_OR_RETURN(s.sweep_on, top.String("sweep_on"));
  if (j["datasets"].empty()) return Status::InvalidArgument(path + ": \"datasets\" is empty");
  // Relative paths: beside a suite file; in the current folder for a built-in suite.
  const fs::path base = builtin != nullptr ? fs::path() : fs::path(path).parent_path();
  std::set<std::string> names;
  for (size_t i = 0; i < j["datasets"].size(); ++i) {
    const Json& d = j["datasets"][i];
    const std::string where = path + ": datasets[" + std::to_string(i) + "]";
    if (!d.is_object() || !d.contains("kind") || d.contains("path") == d.contains("hub")) {
      return Status::InvalidArgument(where + " needs \"kind\" and one of \"path\" and \"hub\"");
    }
    const Fields f(d, where + ".");
    CCG_RETURN_IF_ERROR(
        f.OnlyKeys({"kind", "name", "path", "hub", "optional", "max_items", "format", "text_column",
                    "prompt_column", "response_column", "label_column", "label_value", "id_column",
                    "unsafe_values", "safe_values", "source", "license"}));
    CCG_RETURN_IF_ERROR(f.String("source").status());
    CCG_RETURN_IF_ERROR(f.String("license").status());
    bool optional = false;
    if (d.contains("optional")) {
      if (!d["optional"].is_boolean()) return f.Error("optional", "must be true or false");
      optional = d["optional"].get<bool>();
    }
    eval::DatasetSpec spec;
    CCG_ASSIGN_OR_RETURN(spec.kind, f.String("kind"));
    {
      const auto kinds = eval::DatasetKinds();
      if (std::find(kinds.begin(), kinds.end(), spec.kind) == kinds.end()) {
        std::string list;
        for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
        return f.Error("kind", "'" + spec.kind + "' is not one of " + list);
      }
    }
    CCG_ASSIGN_OR_RETURN(spec.name, f.String("name", spec.kind));
    std::vector<std::string> paths;
    Json source = Json::object();
    if (d.contains("hub")) {
      // {"repo", "revision"?, "path": a path, a glob or a list of them}
      const Json& h = d["hub"];
      if (!h.is_object()) return f.Error("hub", "must be {\"repo\", \"revision\"?, \"path\"}");
      const Fields hf(h, where + ".hub.");
      CCG_RETURN_IF_ERROR(hf.OnlyKeys({"repo", "revision", "path"}));
      CCG_ASSIGN_OR_RETURN(std::string repo, hf.String("repo"));
      CCG_ASSIGN_OR_RETURN(std::string revision, hf.String("revision", "main"));
      CCG_ASSIGN_OR_RETURN(std::vector<std::string> patterns, hf.Strings("path", true));
      if (repo.empty()) return hf.Error("repo", "is required");
      if (patterns.empty()) return hf.Error("path", "is required");
      hub::ResolveOptions ro;
      ro.progress = true;
      auto files = hub::ResolveDatasetFiles(repo, revision, patterns, ro);
      if (!files.ok()) return files.status().WithContext(where);
      paths = files->paths;
      source["repo"] = repo;
      source["revision"] = revision;
      source["commit"] = files->commit;
      source["files"] = files->files;
    } else {
      CCG_ASSIGN_OR_RETURN(paths, f.Strings("path", true));
      if (paths.empty()) return f.Error("path", "is an empty list");
      bool absent = false;
      for (auto& p : paths) {
        if (p.empty()) return f.Error("path", "holds an empty path");
        if (fs::path(p).is_relative()) p = (base / p).string();
        std::error_code ec;
        const auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
          if (optional) {
            absent = true;
            continue;
          }
          return f.Error("path", "'" + p + "' does not exist");
        }
        if (!fs::is_regular_file(st)) {
          return f.Error("path", "'" + p + "' is not a regular file (a directory?)");
        }
      }
      if (absent) {
        CCG_ASSIGN_OR_RETURN(
            std::string name,
            f.String("name", d["kind"].is_string() ? d["kind"].get<std::string>() : ""));
        std::string list;
        for (const auto& p : paths) list += (list.empty() ? "" : ", ") + p;
        s.skipped.push_back(name + " (optional; not found: " + list + ")");
        continue;
      }
      source["files"] = paths;
    }
    spec.path = paths[0];
    s.more_paths.emplace_back(paths.begin() + 1, paths.end());
    s.sources.push_back(std::move(source));
    if (f.has("max_items")) {
      CCG_ASSIGN_OR_RETURN(uint64_t n, f.Unsigned("max_items", 0, 1));
      spec.max_items = static_cast<size_t>(n);
    }
    if (max_per_dataset) {
      spec.max_items =
          spec.max_items ? std::min(*spec.max_items, *max_per_dataset) : *max_per_dataset;
    }
    spec.seed = s.seed;
    CCG_ASSIGN_OR_RETURN(spec.format, f.String("format"));
    CCG_ASSIGN_OR_RETURN(spec.text_column, f.String("text_column"));
    CCG_ASSIGN_OR_RETURN(spec.prompt_column, f.String("prompt_column"));
    CCG_ASSIGN_OR_RETURN(spec.response_column, f.String("response_column"));
    CCG_ASSIGN_OR_RETURN(spec.label_column, f.String("label_column"));
    CCG_ASSIGN_OR_RETURN(spec.label_value, f.String("label_value"));
    CCG_ASSIGN_OR_RETURN(spec.id_column, f.String("id_column"));
    CCG_ASSIGN_OR_RETURN(spec.unsafe_values, f.Strings("unsafe_values", false));
    CCG_ASSIGN_OR_RETURN(spec.safe_values, f.Strings("safe_values", false));
    if (!names.insert(spec.name).second) {
      return Status::InvalidArgument(where + ": duplicate dataset name '" + spec.name + "'");
    }
    s.datasets.push_back(std::move(spec));
  }
  if (s.datasets.empty()) {
    return Status::InvalidArgument(path + ": every dataset is optional and absent");
  }
  if (!s.sweep_on.empty()) {
    bool present = false;
    for (const auto& d : s.datasets) present = present || d.name == s.sweep_on;
    if (!present) {
      bool skipped = false;
      for (const auto& k : s.skipped) skipped = skipped || k.rfind(s.sweep_on + " (", 0) == 0;
      if (!skipped) {
        return Status::InvalidArgument(path + ": sweep_on names '" + s.sweep_on +
                                       "', which is not a dataset of the suite");
      }
      s.sweep_on.clear();  // the optional sweep set is absent: all datasets pooled
    }
  }
  return s;
}

// The run's identity (run.json): the scoring identity (everything that changes
// a score, scoring/run_identity.h) and what selects the items.
Json RunIdentity(const EvalFlags& f, const std::string& suite_text, const Classifier& c,
                 const IdentityInputs& in, const Json& sources) {
  Json j = ScoringIdentity(c, in);
  j["suite_sha256"] = Sha256Hex(suite_text);
  j["data"] = sources;  // commits and file hashes: a moved branch is another run
  j["max_per_dataset"] = f.max_per_dataset ? Json(*f.max_per_dataset) : Json();
  return j;
}

// "2026-12-04T21:05:00Z".
std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

volatile std::sig_atomic_t g_interrupted = 0;

}  // namespace

int ListSuites() {
  for (const auto& b : eval::BuiltinSuites()) {
    std::printf("%s: %s\n", b.name.c_str(), b.description.c_str());
    auto j = ParseJson(b.json, b.name);
    if (!j.ok()) continue;
    for (const auto& d : (*j)["datasets"]) {
      std::string where;
      if (d.contains("hub")) {
        const Json& h = d["hub"];
        where = h["repo"].get<std::string>() + "@" + h.value("revision", "main") + ": " +
                (h["path"].is_string() ? h["path"].get<std::string>() : DumpJson(h["path"]));
      } else {
        where = DumpJson(d["path"]) + " (local file)";
      }
      std::printf("  %-24s %-22s %s%s\n      %s; license: %s\n", d.value("name", "").c_str(),
                  d.value("kind", "").c_str(), where.c_str(),
                  d.value("optional", false) ? " [optional]" : "", d.value("source", "").c_str(),
                  d.value("license", "").c_str());
    }
  }
  return 0;
}

// One guard's evaluation into f.out; its report goes to *report_out, and to
// stdout when `print`.
int RunEvalOne(const EvalFlags& f, eval::Report* report_out, bool print) {
  std::string suite_text_value;
  auto suite = ReadSuite(f.suite, f.max_per_dataset, &suite_text_value);
  if (!suite.ok()) {
    PrintError(suite.status());
    return 1;
  }
  const std::string* suite_text = &suite_text_value;
  for (const auto& k : suite->skipped) {
    std::fprintf(stderr, "ccguard: skipping dataset %s\n", k.c_str());
  }
  if (suite->sweep_on.empty() && !suite->skipped.empty()) {
    std::fprintf(stderr, "ccguard: the threshold sweep runs on all datasets pooled\n");
  }
  // Read every dataset first: a bad file stops the run before any scoring.
  std::vector<eval::LabeledItem> items;
  for (size_t d = 0; d < suite->datasets.size(); ++d) {
    // A dataset of several files is read whole, then sampled once.
    eval::DatasetSpec spec = suite->datasets[d];
    const auto& more = suite->more_paths[d];
    const std::optional<size_t> max_items = spec.max_items;
    if (!more.empty()) spec.max_items.reset();
    std::vector<eval::LabeledItem> part;
    std::vector<std::string> paths = {spec.path};
    paths.insert(paths.end(), more.begin(), more.end());
    Json& source = suite->sources[d];
    Json file_stats = Json::array();
    for (size_t fi = 0; fi < paths.size(); ++fi) {
      const std::string& path = paths[fi];
      spec.path = path;
      eval::ReadStats stats;
      auto r = eval::ReadDataset(spec, &stats);
      if (!r.ok()) {
        PrintError(r.status().WithContext("dataset '" + spec.name + "'"));
        return 1;
      }
      auto digest = Sha256File(path);
      if (!digest.ok()) {
        PrintError(digest.status());
        return 1;
      }
      Json fs_json = {{"path", source["files"][fi]},
                      {"sha256", *digest},
                      {"rows", stats.rows},
                      {"items", stats.items},
                      {"skipped", stats.skipped}};
      if (stats.sampled_out) fs_json["sampled_out"] = stats.sampled_out;
      file_stats.push_back(std::move(fs_json));
      std::fprintf(stderr, "ccguard: %s: %s: %s\n", spec.name.c_str(), path.c_str(),
                   stats.Summary().c_str());
      if (!more.empty()) {
        // Ids are per file (often line numbers): qualify them with the file.
        // (a Hub file by its repo path: per-subject folders reuse file names)
        const std::string stem = source.contains("repo") ? source["files"][fi].get<std::string>()
                                                         : fs::path(path).filename().string();
        for (auto& it : *r) it.id = stem + ":" + it.id;
      }
      part.insert(part.end(), r->begin(), r->end());
    }
    if (!more.empty()) {
      // The per-file lines above count what each file holds; this is what
      // the dataset scores (and the report's N).
      const size_t read = part.size();
      if (max_items) part = eval::Sample(std::move(part), *max_items, spec.seed);
      std::fprintf(
          stderr, "ccguard: %s: %zu items from %zu files%s\n", spec.name.c_str(), part.size(),
          paths.size(),
          part.size() < read ? (" (sampled from " + std::to_string(read) + ")").c_str() : "");
    }
    source["files"] = std::move(file_stats);
    source["items"] = part.size();
    if (part.empty()) {
      PrintError(Status::InvalidArgument("dataset '" + spec.name +
                                         "' has no items (an empty file, or every row skipped)"));
      return 1;
    }
    items.insert(items.end(), part.begin(), part.end());
  }
  // Two files of one dataset may reuse ids (line numbers): refuse rather than merge.
  {
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& it : items) {
      if (!seen.insert({it.dataset, it.id}).second) {
        PrintError(Status::InvalidArgument("dataset '" + it.dataset + "' has two items with id '" +
                                           it.id + "' (from different files?)"));
        return 1;
      }
    }
  }

  std::error_code ec;
  fs::create_directories(f.out, ec);
  if (ec) {
    PrintError(Status::IOError(f.out + ": " + ec.message()));
    return 1;
  }
  const std::string run_path = (fs::path(f.out) / "run.json").string();
  const std::string scores_path = (fs::path(f.out) / "scores.jsonl").string();
  // The model is loaded first: run.json records settings as resolved (the
  // compute "auto" picks, the backend's instruction-set tier, the commits).
  IdentityInputs inputs;
  auto classifier = LoadClassifier(f.model, &inputs);
  if (!classifier) return 1;
  // sources: where each dataset came from and what was read (sources.json);
  // data: the part that identifies the data (run.json), without the counts.
  Json sources = Json::object();
  Json data = Json::object();
  for (size_t d = 0; d < suite->datasets.size(); ++d) {
    const Json& src = suite->sources[d];
    sources[suite->datasets[d].name] = src;
    Json id = src;
    id.erase("items");
    id["files"] = Json::array();
    for (const Json& file : src["files"]) {
      id["files"].push_back({{"path", file["path"]}, {"sha256", file["sha256"]}});
    }
    data[suite->datasets[d].name] = std::move(id);
  }
  const Json identity = RunIdentity(f, *suite_text, *classifier, inputs, data);
  if (fs::exists(run_path, ec)) {
    auto prev = ReadJsonFile(run_path);
    if (!prev.ok()) {
      PrintError(prev.status().WithContext("the run in " + f.out + " (run.json)"));
      return 1;
    }
    Status same = CheckSameIdentity(*prev, identity, "the run in " + f.out + " (run.json)");
    if (!same.ok()) {
      PrintError(same);
      return 1;
    }
  } else {
    std::ofstream out(run_path);
    out << identity.dump(2) << '\n';
    if (!out.flush()) {
      PrintError(Status::IOError(run_path + ": write failed"));
      return 1;
    }
  }

  // Resume: keep every complete line, cut a torn one.
  std::set<std::pair<std::string, std::string>> done;
  std::optional<uint64_t> resume_at;
  if (fs::exists(scores_path, ec)) {
    auto prev = eval::ReadScores(scores_path);
    if (!prev.ok()) {
      PrintError(prev.status());
      return 1;
    }
    for (const auto& r : prev->records) done.insert({r.dataset, r.id});
    resume_at = prev->complete_bytes;
    if (!done.empty()) {
      std::fprintf(stderr, "ccguard: resuming: %zu of %zu items already scored\n", done.size(),
                   items.size());
    }
  }
  auto writer = eval::ScoresWriter::Open(scores_path, resume_at);
  if (!writer.ok()) {
    PrintError(writer.status());
    return 1;
  }
  std::vector<const eval::LabeledItem*> todo;
  for (const auto& it : items) {
    if (!done.count({it.dataset, it.id})) todo.push_back(&it);
  }

  int rc = 0;
  if (!todo.empty()) {
    std::signal(SIGINT, [](int) { g_interrupted = 1; });
    ProgressBar bar("eval", items.size(), "items", items.size() - todo.size());
    size_t errors = 0;
    const size_t batch = static_cast<size_t>(std::max(1, f.batch_size));
    for (size_t b = 0; b < todo.size() && !g_interrupted; b += batch) {
      std::vector<Item> chunk;
      const size_t end = std::min(todo.size(), b + batch);
      for (size_t k = b; k < end; ++k) {
        Item it;
        it.prompt = todo[k]->prompt;
        it.response = todo[k]->response;
        chunk.push_back(std::move(it));
      }
      auto scores = classifier->ScoreBatch(chunk);
      for (size_t k = b; k < end; ++k) {
        const auto& s = scores[k - b];
        if (!s.ok()) {
          PrintWarning(todo[k]->dataset + " item " + todo[k]->id + ": " + s.status().message());
          ++errors;
          continue;
        }
        eval::ScoreRecord rec{todo[k]->dataset, todo[k]->id, todo[k]->unsafe, s->p_unsafe,
                              s->n_tokens};
        Status w = (*writer)->Append(rec);
        if (!w.ok()) {
          PrintError(w);
          return 1;
        }
      }
      bar.Set(items.size() - todo.size() + end);
    }
    bar.Finish();
    if (g_interrupted) {
      std::fprintf(stderr, "ccguard: interrupted; run the same command again to resume\n");
      return 130;
    }
    if (errors) {
      PrintWarning(std::to_string(errors) + " items could not be scored and are left out");
      rc = 3;
    }
  }
  Status closed = (*writer)->Close();
  if (!closed.ok()) {
    PrintError(closed);
    return 1;
  }
  auto all = eval::ReadScores(scores_path);
  if (!all.ok()) {
    PrintError(all.status());
    return 1;
  }
  eval::ReportOptions ro;
  ro.threshold = f.model.threshold.value_or(suite->threshold);
  ro.sweep_dataset = suite->sweep_on;
  for (const auto& d : suite->datasets) ro.dataset_order.push_back(d.name);
  ro.provenance = identity;
  ro.provenance["suite"] = f.suite;
  ro.provenance["date"] = UtcNow();
  ro.provenance.erase("data");  // the sources, below
  if (!suite->skipped.empty()) ro.provenance["skipped_datasets"] = suite->skipped;
  ro.run = identity;
  ro.run.erase("data");
  ro.sources = sources;
  auto report = eval::BuildReport(all->records, ro);
  if (!report.ok()) {
    PrintError(report.status());
    return 1;
  }
  Status w = eval::WriteReport(*report, f.out);
  if (!w.ok()) {
    PrintError(w);
    return 1;
  }
  if (print) std::cout << eval::ResultsMarkdown(*report);
  if (report_out != nullptr) *report_out = std::move(report).value();
  return rc;
}

int RunEval(const EvalFlags& f) {
  if (f.list_suites) return ListSuites();
  if (f.suite.empty() || f.out.empty()) {
    PrintError(Status::InvalidArgument("eval needs --suite (a file or a built-in name) and --out"));
    return 2;
  }
  if (f.guards.size() <= 1) {
    EvalFlags one = f;
    if (!f.guards.empty()) one.model.constitution = f.guards[0];
    return RunEvalOne(one, nullptr, true);
  }
  // Several guards: each is evaluated into its own folder under --out (each
  // resumable on its own), then one side-by-side table.
  std::vector<eval::GuardReport> reports;
  std::set<std::string> dirs;
  int rc = 0;
  for (const std::string& spec : f.guards) {
    EvalFlags one = f;
    const size_t eq = spec.find('=');
    one.model.constitution = spec.substr(0, eq);
    auto profile = Constitution::Load(one.model.constitution);
    if (!profile.ok()) {
      PrintError(profile.status().WithContext("--guard " + spec));
      return 1;
    }
    // The guard's model: PROFILE=MODEL, else the first model the profile is
    // made for, else --model (with --adapter).
    std::string model = eq == std::string::npos ? "" : spec.substr(eq + 1);
    if (model.empty() && !profile->models().empty()) model = profile->models().front();
    const std::string base = PickModel(f.model.model, "");  // --model, else the default
    if (model.empty()) model = base;
    if (model != base) {
      one.model.model = model;
      one.model.adapter.clear();
    }
    std::string dir = profile->name();
    for (int k = 2; dirs.count(dir); ++k) dir = profile->name() + "-" + std::to_string(k);
    dirs.insert(dir);
    one.out = (fs::path(f.out) / dir).string();
    std::fprintf(stderr, "ccguard: guard %s: %s on %s -> %s\n", spec.c_str(),
                 profile->name().c_str(), model.c_str(), one.out.c_str());
    eval::GuardReport g;
    g.guard = profile->name() + " (" + model + ")";  // the model resolved above
    g.dir = dir;
    const int r = RunEvalOne(one, &g.report, false);
    if (r != 0 && r != 3) return r;
    rc = std::max(rc, r);
    reports.push_back(std::move(g));
  }
  Status w = eval::WriteSideBySide(reports, f.out);
  if (!w.ok()) {
    PrintError(w);
    return 1;
  }
  std::cout << eval::SideBySideMarkdown(reports);
  return rc;
}

int RunMetrics(const std::string& scores, const std::string& out, double threshold,
               const std::string& sweep_on) {
  auto all = eval::ReadScores(scores);
  if (!all.ok()) {
    PrintError(all.status());
    return 1;
  }
  if (all->partial_bytes) {
    PrintWarning(scores + ": ignoring an unterminated last line (" +
                 std::to_string(all->partial_bytes) + " bytes)");
  }
  eval::ReportOptions ro;
  ro.threshold = threshold;
  ro.sweep_dataset = sweep_on;
  // The order eval scored them in (the suite's), and eval's run record.
  for (const auto& r : all->records) {
    if (std::find(ro.dataset_order.begin(), ro.dataset_order.end(), r.dataset) ==
        ro.dataset_order.end()) {
      ro.dataset_order.push_back(r.dataset);
    }
  }
  const fs::path run_json = fs::path(scores).parent_path() / "run.json";
  std::error_code ec;
  if (fs::exists(run_json, ec)) {
    auto rec = ReadJsonFile(run_json.string());
    if (rec.ok() && rec->is_object()) {
      ro.provenance = *rec;
      ro.provenance.erase("data");
      ro.run = ro.provenance;
    }
  }
  const fs::path sources_json = fs::path(scores).parent_path() / "sources.json";
  if (fs::exists(sources_json, ec)) {
    auto rec = ReadJsonFile(sources_json.string());
    if (rec.ok() && rec->is_object()) ro.sources = *rec;
  }
  if (!ro.provenance.is_object()) ro.provenance = Json::object();
  ro.provenance["scores"] = scores;
  ro.provenance["date"] = UtcNow();
  auto report = eval::BuildReport(all->records, ro);
  if (!report.ok()) {
    PrintError(report.status());
    return 1;
  }
  if (!out.empty()) {
    std::error_code ec;
    fs::create_directories(out, ec);
    Status w = eval::WriteReport(*report, out);
    if (!w.ok()) {
      PrintError(w);
      return 1;
    }
  }
  std::cout << eval::ResultsMarkdown(*report);
  return 0;
}

int RunCalibrate(const std::string& scores, double target_fpr, const std::string& on,
                 const std::string& constitution_in, const std::string& constitution_out) {
  auto all = eval::ReadScores(scores);
  if (!all.ok()) {
    PrintError(all.status());
    return 1;
  }
  auto cal = eval::CalibrateScores(all->records, target_fpr, on);
  if (!cal.ok()) {
    PrintError(cal.status());
    return 1;
  }
  std::cout << eval::FormatCalibration(*cal);
  if (!constitution_out.empty()) {
    Json c;
    if (constitution_in.empty()) {
      c = Json::parse(Constitution::DefaultJsonText());
    } else if (const char* builtin = Constitution::BuiltinJsonText(constitution_in)) {
      c = Json::parse(builtin);  // a built-in guard profile, written out with its threshold
    } else {
      auto r = ReadJsonFile(constitution_in);
      if (!r.ok()) {
        PrintError(r.status());
        return 1;
      }
      c = *r;
    }
    c["threshold"] = cal->choice.threshold;
    auto check = Constitution::FromJson(c, constitution_out);
    if (!check.ok()) {
      PrintError(check.status());
      return 1;
    }
    std::ofstream o(constitution_out);
    o << c.dump(2) << '\n';
    if (!o) {
      PrintError(Status::IOError(constitution_out + ": write failed"));
      return 1;
    }
    std::fprintf(stderr, "ccguard: wrote %s with threshold %.17g\n", constitution_out.c_str(),
                 cal->choice.threshold);
  }
  return 0;
}

}  // namespace ccguard::cli
