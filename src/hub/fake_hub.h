// TEST ONLY. A stand-in for the Hugging Face hub on loopback addresses, for the hub tests.
//
// Header-only on purpose: src/hub/*.cc is the library, and this must not be part of it.
// LoopbackServer is a minimal HTTP/1.1 server (one connection at a time, "Connection: close")
// whose answers can be cut off mid-body. FakeHub serves repos with the hub's URL layout and
// headers on 127.0.0.1, and their LFS files from a "CDN" on 127.0.0.2 (another host: the token
// must not go there) through 302 redirects, like huggingface.co:
//   GET  /api/models/{org}/{name}/revision/{rev}    {"id", "sha", "siblings": [{"rfilename"}]}
//   HEAD/GET /{org}/{name}/resolve/{rev}/{file}      X-Repo-Commit, ETag (git blob sha1), or for
//                                                    LFS files 302 + X-Linked-Etag (sha256) and
//                                                    X-Linked-Size
//   GET  /cdn/{sha256}                               the LFS bytes (Range supported)
// Errors carry X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) as the
// hub does. Every request is logged.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "util/digest.h"
#include "util/json_file.h"
#include "util/mapped_file.h"

namespace ccguard::hub::testing {

struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t cut_after = std::string::npos;  // send only this many body bytes, then close
};

class LoopbackServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  LoopbackServer() = default;
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  ~LoopbackServer() { Stop(); }

  // Listens on ip:ephemeral-port. False when `ip` cannot be bound.
  bool Start(const std::string& ip, Handler handler) {
    handler_ = std::move(handler);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;
    if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      return false;
    }
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ip_ = ip;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
    return true;
  }

  // Stops listening: later connections are refused.
  void Stop() {
    if (listen_fd_ < 0) return;
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
  }

  int port() const { return port_; }
  const std::string& ip() const { return ip_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      Serve(fd);
      ::close(fd);
    }
  }

  static bool SendAll(int fd, const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  static std::string Decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  void Serve(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos && in.size() < 65536) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    HttpRequest req;
    size_t eol = in.find("\r\n");
    std::string first = in.substr(0, eol);
    size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return;
    req.method = first.substr(0, sp1);
    std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    req.path = Decode(target.substr(0, target.find('?')));
    size_t pos = eol + 2;
    while (true) {
      size_t e = in.find("\r\n", pos);
      if (e == std::string::npos || e == pos) break;
      std::string line = in.substr(pos, e - pos);
      pos = e + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = line.find_first_not_of(' ', colon + 1);
      req.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    HttpResponse res = handler_(req);
    std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + Reason(res.status) + "\r\n";
    for (const auto& [k, v] : res.headers) head += k + ": " + v + "\r\n";
    head += "Content-Length: " + std::to_string(res.body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!SendAll(fd, head.data(), head.size()) || req.method == "HEAD") return;
    size_t n = std::min(res.cut_after, res.body.size());
    SendAll(fd, res.body.data(), n);
    ::shutdown(fd, SHUT_WR);
  }

  static const char* Reason(int s) {
    switch (s) {
      case 200:
        return "OK";
      case 206:
        return "Partial Content";
      case 302:
        return "Found";
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 416:
        return "Range Not Satisfiable";
      default:
        return "Status";
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::string ip_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct FakeFile {
  std::string content;
  bool lfs = false;
};

struct FakeRepo {
  enum class Access { kPublic, kPrivate, kGatedDenied };
  std::string commit;                          // what "main" (and the commit itself) names
  std::map<std::string, FakeFile> files;       // served
  std::vector<std::string> unserved_siblings;  // listed by the API only (README.md, *.bin)
  Access access = Access::kPublic;
};

class FakeHub {
 public:
  struct Logged {
    std::string server, method, path, range, authorization;
  };

  FakeHub() {
    hub_.Start("127.0.0.1", [this](const HttpRequest& r) { return Hub(r); });
    if (!cdn_.Start("127.0.0.2", [this](const HttpRequest& r) { return Cdn(r); })) {
      cdn_.Start("127.0.0.1", [this](const HttpRequest& r) { return Cdn(r); });
    }
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_.port()); }
  const std::string& cdn_ip() const { return cdn_.ip(); }
  void Stop() {
    hub_.Stop();
    cdn_.Stop();
  }

  // Every regular file of `dir`; *.safetensors and files over 1 MB are LFS files.
  static FakeRepo RepoFromFolder(const std::string& dir, const std::string& commit) {
    FakeRepo repo;
    repo.commit = commit;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      auto content = ReadFileToString(e.path().string());
      if (!content.ok()) continue;
      const std::string name = e.path().filename().string();
      const bool lfs = name.size() > 12 && name.substr(name.size() - 12) == ".safetensors";
      repo.files[name] = FakeFile{*content, lfs || content->size() > (1u << 20)};
    }
    return repo;
  }

  void AddRepo(const std::string& id, FakeRepo repo) {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, f] : repo.files) {
      if (f.lfs) cdn_files_[Sha256Hex(f.content)] = f.content;
    }
    repos_[id] = std::move(repo);
  }

  // Every repo then answers 401 unless the request carries "Authorization: Bearer <token>".
  void RequireToken(const std::string& token) {
    std::lock_guard<std::mutex> l(mu_);
    token_ = token;
  }
  // The next n file bodies (hub or CDN) whose path contains `part` stop after half of the bytes
  // they should carry.
  void CutNextDownloads(int n, const std::string& part = "") {
    std::lock_guard<std::mutex> l(mu_);
    cut_ = n;
    cut_part_ = part;
  }
  // The next n file bodies whose path contains `part` have one byte changed.
  void CorruptNextDownloads(int n, const std::string& part = "") {
    std::lock_guard<std::mutex> l(mu_);
    corrupt_ = n;
    corrupt_part_ = part;
  }
  // The CDN path of an LFS file's content.
  static std::string CdnPath(const std::string& content) { return "/cdn/" + Sha256Hex(content); }

  std::vector<Logged> log() const {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }
  void ClearLog() {
    std::lock_guard<std::mutex> l(mu_);
    log_.clear();
  }
  // Requests whose method is `method` (empty: any) and whose path contains `part`.
  int Count(const std::string& method, const std::string& part) const {
    std::lock_guard<std::mutex> l(mu_);
    int n = 0;
    for (const auto& e : log_) {
      if ((method.empty() || e.method == method) && e.path.find(part) != std::string::npos) ++n;
    }
    return n;
  }

 private:
  static HttpResponse Error(int status, const std::string& code, const std::string& msg) {
    HttpResponse r;
    r.status = status;
    if (!code.empty()) r.headers.push_back({"X-Error-Code", code});
    r.headers.push_back({"X-Error-Message", msg});
    r.headers.push_back({"Content-Type", "application/json"});
    r.body = Json{{"error", msg}}.dump();
    return r;
  }

  // `content` (or the part a "Range: bytes=N-" asks for), with the cut / corrupt knobs.
  // Called with mu_ held.
  HttpResponse Bytes(const HttpRequest& req, const std::string& content,
                     std::vector<std::pair<std::string, std::string>> headers) {
    HttpResponse r;
    r.headers = std::move(headers);
    r.body = content;
    const std::string range = req.Header("range");
    if (range.rfind("bytes=", 0) == 0) {
      size_t from = std::stoull(range.substr(6));
      if (from >= content.size()) {
        r.status = 416;
        r.body.clear();
        r.headers.push_back({"Content-Range", "bytes */" + std::to_string(content.size())});
        return r;
      }
      r.status = 206;
      r.body = content.substr(from);
      r.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                std::to_string(content.size() - 1) + "/" +
                                                std::to_string(content.size())});
    }
    if (req.method == "GET" && !r.body.empty()) {
      if (corrupt_ > 0 && req.path.find(corrupt_part_) != std::string::npos) {
        --corrupt_;
        r.body[r.body.size() / 2] ^= 0x5a;
      }
      if (cut_ > 0 && req.path.find(cut_part_) != std::string::npos) {
        --cut_;
        r.cut_after = r.body.size() / 2;
      }
    }
    return r;
  }

  void Log(const std::string& server, const HttpRequest& req) {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back(
        {server, req.method, req.path, req.Header("range"), req.Header("authorization")});
  }

  HttpResponse Hub(const HttpRequest& req) {
    Log("hub", req);
    // /api/models/{org}/{name}/revision/{rev}  or  /{org}/{name}/resolve/{rev}/{file}
    std::vector<std::string> parts;
    for (size_t s = 1; s <= req.path.size();) {
      size_t e = req.path.find('/', s);
      if (e == std::string::npos) e = req.path.size();
      parts.push_back(req.path.substr(s, e - s));
      s = e + 1;
    }
    const bool api =
        parts.size() == 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "revision";
    const bool resolve = parts.size() >= 5 && parts[2] == "resolve";
    if (!api && !resolve) return Error(404, "", "Not Found");
    const std::string id = api ? parts[2] + "/" + parts[3] : parts[0] + "/" + parts[1];
    const std::string rev = api ? parts[5] : parts[3];
    std::lock_guard<std::mutex> l(mu_);
    auto it = repos_.find(id);
    if (it == repos_.end()) return Error(404, "RepoNotFound", "Repository not found");
    const FakeRepo& repo = it->second;
    const bool authed = !token_.empty() && req.Header("authorization") == "Bearer " + token_;
    if ((!token_.empty() || repo.access == FakeRepo::Access::kPrivate) && !authed) {
      return Error(401, "", "Invalid credentials in Authorization header");
    }
    if (repo.access == FakeRepo::Access::kGatedDenied) {
      return Error(403, "GatedRepo", "Access to model " + id + " is restricted");
    }
    if (rev != "main" && rev != repo.commit) {
      return Error(404, "RevisionNotFound", "Invalid rev id: " + rev);
    }
    if (api) {
      Json siblings = Json::array();
      for (const auto& [name, f] : repo.files) siblings.push_back({{"rfilename", name}});
      for (const auto& name : repo.unserved_siblings) siblings.push_back({{"rfilename", name}});
      HttpResponse r;
      r.headers.push_back({"Content-Type", "application/json"});
      r.body = Json{{"id", id}, {"sha", repo.commit}, {"siblings", siblings}}.dump();
      return r;
    }
    std::string file = parts[4];
    for (size_t i = 5; i < parts.size(); ++i) file += "/" + parts[i];
    auto f = repo.files.find(file);
    if (f == repo.files.end()) return Error(404, "EntryNotFound", "Entry not found");
    const std::string& content = f->second.content;
    std::vector<std::pair<std::string, std::string>> headers = {{"X-Repo-Commit", repo.commit}};
    if (!f->second.lfs) {
      headers.push_back({"ETag", "\"" + GitBlobSha1Hex(content) + "\""});
      return Bytes(req, content, std::move(headers));
    }
    const std::string sha = Sha256Hex(content);
    HttpResponse r;
    r.status = 302;
    r.headers = std::move(headers);
    r.headers.push_back({"ETag", "\"" + GitBlobSha1Hex("version lfs pointer " + sha) + "\""});
    r.headers.push_back({"X-Linked-Etag", "\"" + sha + "\""});
    r.headers.push_back({"X-Linked-Size", std::to_string(content.size())});
    r.headers.push_back({"Location", "http://" + cdn_.ip() + ":" + std::to_string(cdn_.port()) +
                                         "/cdn/" + sha + "?X-Amz-Expires=3600"});
    r.body = "Found. Redirecting";
    return r;
  }

  HttpResponse Cdn(const HttpRequest& req) {
    Log("cdn", req);
    std::lock_guard<std::mutex> l(mu_);
    auto it =
        req.path.rfind("/cdn/", 0) == 0 ? cdn_files_.find(req.path.substr(5)) : cdn_files_.end();
    if (it == cdn_files_.end()) return Error(404, "", "NoSuchKey");
    return Bytes(req, it->second, {{"Content-Type", "application/octet-stream"}});
  }

  mutable std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, std::string> cdn_files_;
  std::string token_;
  int cut_ = 0, corrupt_ = 0;  // guarded by mu_, as everything above
  std::string cut_part_, corrupt_part_;
  std::vector<Logged> log_;
  LoopbackServer hub_, cdn_;  // last: stopped (destroyed) before the state they use
};

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/ccguard_hub_XXXXXX";
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Clears the variables that would let a test see the user's cache, token, hub or proxy.
inline void IsolateHubEnvironment() {
  for (const char* v :
       {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT",
        "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
        "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT", "http_proxy", "HTTP_PROXY", "https_proxy",
        "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    ::unsetenv(v);
  }
  ::setenv("HF_TOKEN_PATH", "/nonexistent/ccguard-test/token", 1);
}

}  // namespace ccguard::hub::testing
