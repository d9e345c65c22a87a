#include "hub/client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include "hub/repo_ref.h"
#include "util/json_file.h"

namespace ccguard::hub {
namespace {

constexpr int kMaxRedirects = 10;
constexpr size_t kMaxBody = 64u << 20;  // API answers; error bodies of downloads are cut shorter
constexpr size_t kMaxErrorBody = 64u << 10;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "W/\"abc\"" -> "abc".
std::string NormalizeEtag(std::string_view e) {
  e = Trim(e);
  if (e.substr(0, 2) == "W/") e.remove_prefix(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  return std::string(e);
}

struct Origin {
  std::string scheme, host, port;
  bool operator==(const Origin& o) const {
    return scheme == o.scheme && host == o.host && port == o.port;
  }
};

// Resolves `url` (absolute, or relative to `base` when base is not empty) to an absolute
// http(s) URL and its origin. False when it is not one.
bool ParseUrl(const std::string& base, const std::string& url, std::string* absolute,
              Origin* origin) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) return false;
  if (!base.empty() && curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) {
    return false;
  }
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  auto get = [&](CURLUPart part, unsigned flags, std::string* out) {
    char* p = nullptr;
    if (curl_url_get(u.get(), part, &p, flags) != CURLUE_OK || !p) return false;
    *out = p;
    curl_free(p);
    return true;
  };
  Origin o;
  if (!get(CURLUPART_URL, 0, absolute) || !get(CURLUPART_SCHEME, 0, &o.scheme) ||
      !get(CURLUPART_HOST, 0, &o.host) || !get(CURLUPART_PORT, CURLU_DEFAULT_PORT, &o.port)) {
    return false;
  }
  o.scheme = Lower(o.scheme);
  o.host = Lower(o.host);
  if (o.scheme != "http" && o.scheme != "https") return false;
  *origin = std::move(o);
  return true;
}

std::string HostOf(const std::string& url) {
  std::string abs;
  Origin o;
  if (!ParseUrl("", url, &abs, &o)) return url;
  const bool default_port =
      (o.scheme == "http" && o.port == "80") || (o.scheme == "https" && o.port == "443");
  return default_port ? o.host : o.host + ":" + o.port;
}

const char* const kOfflineHint = "; set HF_HUB_OFFLINE=1 to use only the local cache";
const char* const kTokenHint =
    "set HF_TOKEN, or write a token to the token file (HF_TOKEN_PATH, default "
    "~/.cache/huggingface/token)";

bool IsDiskFull(int e) { return e == ENOSPC || e == EDQUOT; }

Status WriteError(const std::string& path, int e) {
  if (IsDiskFull(e)) {
    return Status::ResourceExhausted("disk full while writing " + path + " (" + std::strerror(e) +
                                     "): free some space and run again; the download resumes "
                                     "where it stopped");
  }
  return Status::IOError("cannot write " + path + ": " + std::strerror(e));
}

}  // namespace

struct HubClient::Reply {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string url;
  bool headers_done = false;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HubClient::Sink {
  int fd = -1;
  std::string path;
  int64_t offset = 0;  // bytes in the file before this response's body
  int64_t total = -1;
  int64_t written = 0;
  bool active = false;  // this response's body goes to the file
  int write_errno = 0;
  std::string range_error;
  const TransferProgress* progress = nullptr;
};

HubClient::HubClient(ClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
    options_.endpoint.pop_back();
  }
}

std::string HubClient::RepoPage(const std::string& repo, RepoType type) const {
  return options_.endpoint + (type == RepoType::kDataset ? "/datasets/" : "/") + repo;
}

std::string HubClient::FileUrl(const std::string& repo, const std::string& revision,
                               const std::string& file, RepoType type) const {
  return RepoPage(repo, type) + "/resolve/" + PercentEncode(revision, false) + "/" +
         PercentEncode(file, true);
}

Status HubClient::Fail(Failure kind, Status status) {
  last_failure_ = kind;
  return status;
}

Status HubClient::Exchange(bool head, const std::string& url, bool auth, bool metadata, Sink* sink,
                           Reply* reply) {
  *reply = Reply();
  reply->url = url;
  struct Ctx {
    CURL* curl;
    Reply* reply;
    Sink* sink;
  };
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Fail(Failure::kLocal, Status::Internal("curl_easy_init failed"));
  CURL* c = curl.get();
  Ctx ctx{c, reply, sink};
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  auto add_header = [&](const std::string& h) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l) {
      (void)headers.release();
      headers.reset(l);
    }
  };
  if (auth) add_header("Authorization: Bearer " + options_.token);
  if (sink && sink->offset > 0) add_header("Range: bytes=" + std::to_string(sink->offset) + "-");

  // Headers of the final response; at their end, decide where the body goes.
  auto on_header = +[](char* buf, size_t size, size_t n, void* userp) -> size_t {
    auto* x = static_cast<Ctx*>(userp);
    const size_t len = size * n;
    std::string_view line = Trim(std::string_view(buf, len));
    if (line.substr(0, 5) == "HTTP/") {
      x->reply->headers.clear();
      return len;
    }
    if (!line.empty()) {
      if (size_t colon = line.find(':'); colon != std::string_view::npos) {
        x->reply->headers[Lower(Trim(line.substr(0, colon)))] =
            std::string(Trim(line.substr(colon + 1)));
      }
      return len;
    }
    long code = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || x->reply->headers_done) return len;  // 1xx interim answer
    x->reply->headers_done = true;
    x->reply->status = code;
    Sink* s = x->sink;
    if (!s) return len;
    if (code == 200) {
      if (s->offset > 0 && ::ftruncate(s->fd, 0) != 0) {
        s->write_errno = errno;
        return 0;
      }
      s->offset = 0;
      s->active = true;
      const std::string cl = x->reply->Header("content-length");
      s->total = cl.empty() ? -1 : std::atoll(cl.c_str());
    } else if (code == 206) {
      // "bytes START-END/TOTAL": START must be where the file ends.
      const std::string cr = x->reply->Header("content-range");
      long long start = -1, end = -1, total = -1;
      if (std::sscanf(cr.c_str(), "bytes %lld-%lld/%lld", &start, &end, &total) < 2 ||
          start != s->offset) {
        s->range_error = "the server answered a resume request for " + s->path +
                         " with the wrong range '" + cr + "'";
        return 0;
      }
      s->active = true;
      s->total = total > 0 ? total : -1;
    }
    return len;
  };
  auto on_body = +[](char* buf, size_t size, size_t n, void* userp) -> size_t {
    auto* x = static_cast<Ctx*>(userp);
    const size_t len = size * n;
    Sink* s = x->sink;
    if (s && s->active) {
      size_t done = 0;
      while (done < len) {
        ssize_t w = ::write(s->fd, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          s->write_errno = w < 0 ? errno : ENOSPC;
          return 0;
        }
        done += static_cast<size_t>(w);
      }
      s->written += static_cast<int64_t>(len);
      return len;
    }
    const size_t cap = s ? kMaxErrorBody : kMaxBody;
    if (x->reply->body.size() + len > cap) {
      if (s) return len;  // an error page: keep its start only
      return 0;           // an API answer larger than any real one
    }
    x->reply->body.append(buf, len);
    return len;
  };
  auto on_progress = +[](void* userp, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) -> int {
    auto* x = static_cast<Ctx*>(userp);
    Sink* s = x->sink;
    if (s && s->active && s->progress && *s->progress) {
      (*s->progress)(s->offset + static_cast<int64_t>(dlnow), s->total > 0 ? s->total : -1);
    }
    return 0;
  };

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ctx);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
  if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (metadata) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.metadata_timeout_s);
  } else {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
  }
  if (sink) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ctx);
  }

  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    if (!reply->headers_done) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
    return Status::Ok();
  }
  const std::string host = HostOf(url);
  const std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (sink && sink->write_errno != 0) {
    const int e = sink->write_errno;
    return Fail(IsDiskFull(e) ? Failure::kDiskFull : Failure::kLocal, WriteError(sink->path, e));
  }
  if (sink && !sink->range_error.empty()) {
    return Fail(Failure::kBadResponse, Status::Corruption(sink->range_error));
  }
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Fail(Failure::kNetwork,
                  Status::IOError("cannot resolve host " + host + " (" + detail +
                                  "): the network is down or HF_ENDPOINT is wrong" + kOfflineHint));
    case CURLE_COULDNT_CONNECT:
      return Fail(Failure::kNetwork,
                  Status::IOError("cannot connect to " + host + " (" + detail +
                                  "): the network is down or HF_ENDPOINT is wrong" + kOfflineHint));
    case CURLE_OPERATION_TIMEDOUT:
      if (sink && sink->written > 0) {
        return Fail(Failure::kInterrupted,
                    Status::IOError("the download from " + host + " stalled (" + detail + ")"));
      }
      return Fail(Failure::kNetwork,
                  Status::IOError("no answer from " + host + " (" + detail + ")" + kOfflineHint));
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Fail(Failure::kInterrupted,
                  Status::IOError("the connection to " + host + " broke off (" + detail + ")"));
    default:
      return Fail(Failure::kNetwork,
                  Status::IOError("request to " + host + " failed (" + detail + ")"));
  }
}

Status HubClient::Fetch(bool head, const std::string& url, bool cross_origin, bool metadata,
                        Sink* sink, Reply* reply) {
  last_failure_ = Failure::kNone;
  std::string endpoint_abs;
  Origin endpoint;
  if (!ParseUrl("", options_.endpoint, &endpoint_abs, &endpoint)) {
    return Fail(Failure::kLocal, Status::InvalidArgument("hub endpoint '" + options_.endpoint +
                                                         "' (HF_ENDPOINT) is not an http(s) URL"));
  }
  std::string current = url;
  for (int hop = 0;; ++hop) {
    std::string abs;
    Origin origin;
    if (!ParseUrl("", current, &abs, &origin)) {
      return Fail(Failure::kBadResponse, Status::Corruption("unusable URL '" + current + "'"));
    }
    const bool auth = !options_.token.empty() && origin == endpoint;
    CCG_RETURN_IF_ERROR(Exchange(head, abs, auth, metadata, sink, reply));
    const long s = reply->status;
    const std::string location = reply->Header("location");
    if (!(s == 301 || s == 302 || s == 303 || s == 307 || s == 308) || location.empty()) {
      return Status::Ok();
    }
    std::string next;
    Origin next_origin;
    if (!ParseUrl(abs, location, &next, &next_origin)) {
      return Fail(Failure::kBadResponse,
                  Status::Corruption("redirect from " + HostOf(abs) + " to an unusable location"));
    }
    if (!cross_origin && !(next_origin == origin)) return Status::Ok();
    if (hop == kMaxRedirects) {
      return Fail(Failure::kBadResponse,
                  Status::Corruption("too many redirects from " + HostOf(url)));
    }
    current = next;
  }
}

Status HubClient::HttpError(const Reply& reply, const std::string& what, const std::string& repo,
                            RepoType type) {
  const long s = reply.status;
  const std::string host = HostOf(reply.url);
  const std::string code = reply.Header("x-error-code");
  std::string hub_msg = reply.Header("x-error-message");
  if (hub_msg.empty() && !reply.body.empty() && reply.body.front() == '{') {
    Json j = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      hub_msg = j["error"].get<std::string>();
    }
  }
  const std::string said = hub_msg.empty() ? "" : " (the hub said: " + hub_msg + ")";
  const std::string subject = repo.empty() ? what : "'" + repo + "'";
  if (s == 401) {
    if (options_.token.empty()) {
      return Fail(Failure::kDenied,
                  Status::IOError(subject + " needs authentication (HTTP 401 from " + host +
                                  "): it is private or gated, or does not exist" + said +
                                  ". No token was sent: " + kTokenHint));
    }
    return Fail(
        Failure::kDenied,
        Status::IOError("the hub rejected the token for " + subject + " (HTTP 401 from " + host +
                        ")" + said + ": the token is invalid, or its account cannot see the repo"));
  }
  if (s == 403) {
    std::string msg = "access to " + subject + " is forbidden (HTTP 403 from " + host + ")" + said;
    if (code == "GatedRepo" || options_.token.empty()) {
      msg += ": it is a gated repo: accept its conditions at " +
             (repo.empty() ? options_.endpoint + "/<repo>" : RepoPage(repo, type)) + " and ";
      msg += options_.token.empty() ? std::string(kTokenHint) : "use a token of that account";
    } else {
      msg += ": the token lacks the permission to read it";
    }
    return Fail(Failure::kDenied, Status::IOError(msg));
  }
  if (s == 404) {
    if (code == "RepoNotFound") {
      return Fail(Failure::kNotFound, Status::NotFound("repository '" + repo + "' not found at " +
                                                       options_.endpoint + said));
    }
    return Fail(Failure::kNotFound,
                Status::NotFound(what + " not found (HTTP 404 from " + host + ")" + said));
  }
  if (s == 429) {
    return Fail(Failure::kServer,
                Status::ResourceExhausted("rate limited by " + host + " (HTTP 429) while " +
                                          "fetching " + what + said + "; try again later"));
  }
  if (s >= 500) {
    return Fail(Failure::kServer,
                Status::IOError(host + " failed (HTTP " + std::to_string(s) + ") for " + what +
                                said + "; try again later" + kOfflineHint));
  }
  return Fail(Failure::kBadResponse, Status::IOError("unexpected HTTP " + std::to_string(s) +
                                                     " from " + host + " for " + what + said));
}

Result<RepoInfo> HubClient::GetRepoInfo(const std::string& repo, const std::string& revision,
                                        RepoType type) {
  const std::string url = options_.endpoint + "/api/" + RepoTypePlural(type) + "/" + repo +
                          "/revision/" + PercentEncode(revision, false);
  Reply r;
  CCG_RETURN_IF_ERROR(Fetch(false, url, true, true, nullptr, &r));
  const std::string what = "revision '" + revision + "' of '" + repo + "'";
  if (r.status != 200) return HttpError(r, what, repo, type);
  auto bad = [&](const std::string& why) {
    return Fail(Failure::kBadResponse,
                Status::Corruption("unexpected answer from " + HostOf(url) + " about " + what +
                                   ": " + why + " (is HF_ENDPOINT a Hugging Face hub?)"));
  };
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  RepoInfo info;
  if (!j.contains("sha") || !j["sha"].is_string() || !IsCommitHash(j["sha"].get<std::string>())) {
    return bad("no commit hash in \"sha\"");
  }
  info.commit = Lower(j["sha"].get<std::string>());
  if (!j.contains("siblings") || !j["siblings"].is_array()) return bad("no \"siblings\" list");
  for (const Json& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) {
      return bad("a sibling without \"rfilename\"");
    }
    info.files.push_back(s["rfilename"].get<std::string>());
  }
  return info;
}

Result<FileMetadata> HubClient::GetFileMetadata(const std::string& repo,
                                                const std::string& revision,
                                                const std::string& file, RepoType type) {
  Reply r;
  CCG_RETURN_IF_ERROR(Fetch(true, FileUrl(repo, revision, file, type), false, true, nullptr, &r));
  const std::string what = "file '" + file + "' of '" + repo + "' at revision '" + revision + "'";
  const bool redirect = r.status >= 300 && r.status < 400;
  if (r.status != 200 && !redirect) return HttpError(r, what, repo, type);
  FileMetadata m;
  m.commit = Lower(r.Header("x-repo-commit"));
  const std::string linked = r.Header("x-linked-etag");
  m.lfs = !linked.empty();
  m.etag = NormalizeEtag(m.lfs ? linked : r.Header("etag"));
  if (m.etag.empty()) {
    return Fail(Failure::kBadResponse,
                Status::Corruption("the answer from " + HostOf(r.url) + " for " + what +
                                   " has no ETag (is HF_ENDPOINT a Hugging Face hub?)"));
  }
  const std::string size = !r.Header("x-linked-size").empty() ? r.Header("x-linked-size")
                           : redirect                         ? std::string()
                                                              : r.Header("content-length");
  if (!size.empty()) {
    char* end = nullptr;
    long long v = std::strtoll(size.c_str(), &end, 10);
    if (end != size.c_str() && *end == '\0' && v >= 0) m.size = v;
  }
  return m;
}

Status HubClient::Download(const std::string& url, const std::string& path, const std::string& what,
                           const TransferProgress& progress) {
  last_failure_ = Failure::kNone;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    return Fail(IsDiskFull(e) ? Failure::kDiskFull : Failure::kLocal, WriteError(path, e));
  }
  struct stat st {};
  Sink sink;
  sink.fd = fd;
  sink.path = path;
  sink.offset = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
  sink.progress = &progress;
  Reply r;
  Status s = Fetch(false, url, true, false, &sink, &r);
  if (s.ok() && r.status != 200 && r.status != 206 && !(r.status == 416 && sink.offset > 0)) {
    s = HttpError(r, what, "");
  }
  if (s.ok() && ::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    const int e = errno;
    s = Fail(IsDiskFull(e) ? Failure::kDiskFull : Failure::kLocal, WriteError(path, e));
  }
  if (::close(fd) != 0 && s.ok()) {
    const int e = errno;
    s = Fail(IsDiskFull(e) ? Failure::kDiskFull : Failure::kLocal, WriteError(path, e));
  }
  return s;
}

}  // namespace ccguard::hub
