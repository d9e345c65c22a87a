// A response before it is put on the wire: HTTP status, JSON body, extra
// headers. Errors have one shape everywhere, OpenAI's:
//   {"error": {"message": "...", "type": "invalid_request_error",
//              "param": "items[3]" | null, "code": "too_large"}}
// `type` is OpenAI's class for the status (OpenAiErrorType); `code` is
// ccguard's specific error (invalid_request, invalid_json, too_large,
// unknown_constitution, session_busy, ...: docs/server.md lists them);
// `param` names the offending input when one is known.
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

// The error reply with `status`, ccguard's `code`, `message` and `param`
// (empty: null).
Reply ErrorReply(int status, const std::string& code, const std::string& message,
                 const std::string& param = "");

// For an error about one input of a request: prefixes the message with
// `where` ("items[3]: ", "input[0]: "; empty: no change) and sets `param` to
// the input's name ("items[3]"), or prefixes the field the error already
// names with it ("items[3].respnse").
void AddWhere(Reply* r, const std::string& where);

// The error's `code` ("" for a reply that is not an error).
std::string ErrorCode(const Reply& r);

// The HTTP status and error code for a Status: InvalidArgument and
// NotSupported 400 invalid_request, NotFound 404 not_found,
// ResourceExhausted 413 too_large, a non-finite model output 500
// model_error, anything else 500 internal.
Reply StatusReply(const Status& s);

// ccguard's error code for an HTTP status (for errors raised by the HTTP
// library itself: 400, 404, 413, 414, ...).
const char* ErrorTypeFor(int status);

// OpenAI's error type for an HTTP status: 401 authentication_error, 403
// permission_error, 429 rate_limit_error, 5xx server_error, any other 4xx
// invalid_request_error.
const char* OpenAiErrorType(int status);

}  // namespace ccguard::server
