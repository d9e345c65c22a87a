// A response before it is put on the wire: HTTP status, JSON body, extra
// headers. Errors have one shape everywhere (OpenAI-style):
//   {"error": {"type": "invalid_request", "message": "..."}}
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::server {

struct Reply {
  int status = 200;
  Json body;
  std::vector<std::pair<std::string, std::string>> headers;

  bool ok() const { return status < 400; }
};

// {"error": {"type": type, "message": message}} with `status`.
Reply ErrorReply(int status, const std::string& type, const std::string& message);

// The HTTP status and error type for a Status: InvalidArgument and
// NotSupported 400 invalid_request, NotFound 404 not_found,
// ResourceExhausted 413 too_large, anything else 500 internal.
Reply StatusReply(const Status& s);

// The standard error type for an HTTP status (for errors raised by the HTTP
// library itself: 400, 404, 413, 414, ...).
const char* ErrorTypeFor(int status);

}  // namespace ccguard::server
