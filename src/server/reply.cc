#include "server/reply.h"

#include "scoring/classifier.h"

namespace ccguard::server {

Reply ErrorReply(int status, const std::string& code, const std::string& message,
                 const std::string& param) {
  Reply r;
  r.status = status;
  r.body = {{"error",
             {{"message", message},
              {"type", OpenAiErrorType(status)},
              {"param", param.empty() ? Json() : Json(param)},
              {"code", code}}}};
  return r;
}

void AddWhere(Reply* r, const std::string& where) {
  if (where.empty() || !r->body.contains("error")) return;
  Json& e = r->body["error"];
  e["message"] = where + e.value("message", "");
  std::string name = where;
  while (!name.empty() && (name.back() == ' ' || name.back() == ':')) name.pop_back();
  if (e.contains("param") && e["param"].is_string()) {
    e["param"] = name + "." + e["param"].get<std::string>();
  } else {
    e["param"] = name;
  }
}

std::string ErrorCode(const Reply& r) {
  if (r.ok() || !r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_object()) {
    return "";
  }
  const Json& code = r.body["error"].value("code", Json());
  return code.is_string() ? code.get<std::string>() : "";
}

const char* OpenAiErrorType(int status) {
  if (status == 401) return "authentication_error";
  if (status == 403) return "permission_error";
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

const char* ErrorTypeFor(int status) {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "timeout";
    case 409:
      return "conflict";
    case 410:
      return "gone";
    case 413:
      return "too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "invalid_range";
    case 429:
      return "too_many_requests";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "invalid_request";
  }
}

Reply StatusReply(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return Reply{};
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotSupported:
      return ErrorReply(400, "invalid_request", s.message());
    case Status::Code::kNotFound:
      return ErrorReply(404, "not_found", s.message());
    case Status::Code::kResourceExhausted:
      return ErrorReply(413, "too_large", s.message());
    case Status::Code::kCorruption:
      if (Classifier::IsNonFiniteOutput(s)) return ErrorReply(500, "model_error", s.message());
      return ErrorReply(500, "internal", s.ToString());
    default:
      return ErrorReply(500, "internal", s.ToString());
  }
}

}  // namespace ccguard::server
