// The terminal client's checks of a stream's first response and its wait
// before a reconnection. Pure functions, thread-safe.
//
//   IsEventStream()           is this a Server-Sent Events response?
//   DescribeRejectedStream()  why a response is not a bridge stream
//   TailRetryDelay()          the wait before reconnection attempt N
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace notifications {

// True when `content_type`'s essence (before any ';', trimmed, ASCII
// case-insensitive) is text/event-stream.
bool IsEventStream(std::string_view content_type);

// The one-line message for a response that is not a bridge stream, from
// `url` (as the user gave it), the status, Content-Type and the start of the
// body:
//   400/401 with a JSON error body {"error","message"}:
//     "<url> answered HTTP 400: bad_request: backlog must be ..."
//   another status:
//     "<url> answered HTTP 404: not a notifications bridge stream (expected
//      200 text/event-stream)"
//   200 with another Content-Type:
//     "<url> answered with Content-Type text/plain: not a notifications
//      bridge stream (expected 200 text/event-stream)"
// When the URL's path does not end in /events, " — is the path right? A
// bridge's stream is at /events" is added to the last two.
std::string DescribeRejectedStream(const std::string& url, long status,
                                   const std::string& content_type,
                                   std::string_view body);

// The wait before reconnection attempt `failures` (>= 1) in a row:
// the server's `retry_ms` the first time, then exponential with jitter
// (BackoffDelay() starting at `retry_ms`, capped at `max_delay`), never below
// `retry_ms` (a server asking for more, e.g. a full bridge's 30-60 s, wins
// over the cap). `retry_ms` is taken within [0, kMaxServerRetry].
// `unit_random` in [0, 1) picks the jitter.
std::chrono::milliseconds TailRetryDelay(std::chrono::milliseconds retry_ms,
                                         uint32_t failures,
                                         std::chrono::milliseconds max_delay,
                                         double unit_random);

// A server's retry: is honoured up to this (a day is already absurd).
inline constexpr std::chrono::milliseconds kMaxServerRetry =
    std::chrono::hours(24);

}  // namespace notifications
