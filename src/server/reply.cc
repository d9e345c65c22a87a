#include "server/reply.h"

#include "scoring/classifier.h"

namespace ccguard::server {

Reply ErrorReply(int status, const std::string& type, const std::string& message) {
  Reply r;
  r.status = status;
  r.body = {{"error", {{"type", type}, {"message", message}}}};
  return r;
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
