// Status and Result<T>: explicit errors for every public API (LevelDB style).
//
// A Status is either OK or carries a code and a message that names the file,
// tensor, field or line at fault. No exception escapes a public ccguard API;
// functions that can fail return Status or Result<T>.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ccguard {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,    // bad input from the caller (request, flag, item)
    kNotFound,           // a file, tensor, key or resource is missing
    kCorruption,         // a file is malformed or truncated
    kNotSupported,       // valid but unsupported (architecture, adapter feature)
    kIOError,            // the operating system refused (open, read, mmap)
    kResourceExhausted,  // a limit was hit (size, tokens, sessions)
    kInternal,           // a bug: an invariant did not hold
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status NotSupported(std::string msg) {
    return Status(Code::kNotSupported, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) {
    return Status(Code::kResourceExhausted, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "OK".
  std::string ToString() const;
  static const char* CodeName(Code code);

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result constructed from an OK status without a value");
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status without value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ccguard

#define CCG_CONCAT_INNER(a, b) a##b
#define CCG_CONCAT(a, b) CCG_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define CCG_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ccguard::Status ccg_status_ = (expr);    \
    if (!ccg_status_.ok()) return ccg_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status from the
// enclosing function.
#define CCG_ASSIGN_OR_RETURN(lhs, expr) \
  CCG_ASSIGN_OR_RETURN_IMPL(CCG_CONCAT(ccg_result_, __LINE__), lhs, expr)
#define CCG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
