// The mock delivery API's answers, as pure functions (docs/delivery-api.md):
// the parameters of GET {base}/notifications, the gate's answer, the error
// codes, and the quoting of a peer's value in a message. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "notification.h"
#include "status.h"

namespace notifications {

// The checked parameters of GET {base}/notifications.
struct MockPageRequest {
  std::optional<std::string> after;  // A valid id (IsValidId()), or none.
  size_t limit = 100;                // 1..max_limit
  std::chrono::seconds wait{0};      // Long-poll, 0..kMockMaxWaitSeconds.
};

// Longest long-poll (`wait=`) accepted, in seconds.
inline constexpr size_t kMockMaxWaitSeconds = 300;

// Reads the parameters of a page request from `target` (the raw request
// target, path and query) and `params` (its decoded query parameters, as
// the HTTP server gives them). `limit` defaults to `default_limit`.
// Failure: kInvalidArgument with the message of the 400 bad_request answer,
// naming the parameter: it appears more than once ("parameter after
// appears 2 times; give it at most once"), limit is not 1..max_limit, after
// is not an id, wait is not 0..300.
Result<MockPageRequest> ParsePageRequest(
    const std::string& target,
    const std::multimap<std::string, std::string>& params, size_t default_limit,
    size_t max_limit);

// How many times the query string of `target` names `name` (after
// percent-decoding and '+' as space). Counted on the raw target because
// HTTP servers may drop exact repeats ("after=x&after=x") from the decoded
// parameters, which the contract still calls a repeated parameter.
size_t CountQueryParameter(const std::string& target, const std::string& name);

// The gate's answer: {"id":"…","time":"…","routingKey":"…"}.
std::string GateAnswerToJson(const Notification& n);

// The contract's error code for an HTTP status: 400 "bad_request", 401
// "unauthorized", 404 "not_found", 405 "method_not_allowed", 410 "gone",
// 413 "payload_too_large", 414 "uri_too_long", 5xx "internal", else
// "error".
const char* ErrorCodeFor(int status);

// A peer's value, made safe and short to echo in a message or a log line:
// in double quotes, at most 64 bytes then "...", every byte but printable
// ASCII and space (and '"') as '?'.
std::string Quote(const std::string& value);

}  // namespace notifications
