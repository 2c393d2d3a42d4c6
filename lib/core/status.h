// Status and Result: expected failures as values.
//
// A Status is either ok or carries a Code and a one-line message meant for
// the user ("what went wrong, and what to do"). Result<T> holds either a
// value or a failed Status. Both are cheap to move and not thread-safe
// (like any value type). Nothing in lib/ throws for expected failures.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace notifications {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // Bad input from a user or a peer.
    kNotFound,
    kUnavailable,  // Network failure, timeout, 5xx: worth retrying.
    kGone,         // Upstream forgot the cursor (HTTP 410).
    kDataLoss,     // Corrupt persisted state.
    kInternal,
  };

  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(Code code, std::string message) {
    assert(code != Code::kOk);
    return Status(code, std::move(message));
  }
  static Status InvalidArgument(std::string m) {
    return Error(Code::kInvalidArgument, std::move(m));
  }
  static Status Unavailable(std::string m) {
    return Error(Code::kUnavailable, std::move(m));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // Empty when ok.
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message)
      : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // Requires ok().
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace notifications
