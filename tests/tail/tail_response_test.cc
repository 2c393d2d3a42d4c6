// The terminal client's first-response checks and reconnection wait.
#include "tail_response.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace notifications {
namespace {

using namespace std::chrono_literals;

TEST_CASE(
    "tail: the retry delay honours retry:, then backs off with jitter to a "
    "cap") {
  const auto cap = 30000ms;
  CHECK(TailRetryDelay(3417ms, 1, cap, 0.99) == 3417ms);
  CHECK(TailRetryDelay(3417ms, 0, cap, 0.5) == 3417ms);
  // Failure n waits in [retry * 2^(n-2), retry * 2^(n-1)], never below retry.
  CHECK(TailRetryDelay(3000ms, 2, cap, 0.0) == 3000ms);
  CHECK(TailRetryDelay(3000ms, 2, cap, 0.999) >= 5990ms);
  CHECK(TailRetryDelay(3000ms, 3, cap, 0.0) == 6000ms);
  CHECK(TailRetryDelay(3000ms, 3, cap, 0.5) == 9000ms);
  CHECK(TailRetryDelay(3000ms, 20, cap, 0.0) == 15000ms);
  CHECK(TailRetryDelay(3000ms, 64, cap, 0.999) <= cap);
  CHECK(TailRetryDelay(3000ms, 64, cap, 0.999) > 29000ms);
  // A server asking for more than the cap (a full bridge) is obeyed.
  CHECK(TailRetryDelay(45000ms, 1, cap, 0.5) == 45000ms);
  CHECK(TailRetryDelay(45000ms, 9, cap, 0.0) == 45000ms);
  // retry: 0 reconnects at once, but repeated failures still back off.
  CHECK(TailRetryDelay(0ms, 1, cap, 0.5) == 0ms);
  CHECK(TailRetryDelay(0ms, 2, cap, 0.0) == 1000ms);
}

TEST_CASE("tail: a response is a stream only as 200 text/event-stream") {
  CHECK(IsEventStream("text/event-stream"));
  CHECK(IsEventStream("Text/Event-Stream; charset=utf-8"));
  CHECK(IsEventStream(" text/event-stream "));
  CHECK_FALSE(IsEventStream("text/plain"));
  CHECK_FALSE(IsEventStream(""));
  CHECK_FALSE(IsEventStream("text/event-streams"));
}

TEST_CASE("tail: a response that is not a stream gets a one-line explanation") {
  CHECK(
      DescribeRejectedStream("http://h:1/events", 404, "application/json",
                             R"({"error":"not_found","message":"no"})") ==
      "http://h:1/events answered HTTP 404: not a notifications bridge stream "
      "(expected 200 text/event-stream)");
  CHECK(
      DescribeRejectedStream("http://h:1/delivery/status", 200, "text/plain",
                             "ALIVE") ==
      "http://h:1/delivery/status answered with Content-Type text/plain: not a "
      "notifications bridge stream (expected 200 text/event-stream) "
      "\xE2\x80\x94 is "
      "the path right? A bridge's stream is at /events");
  CHECK(DescribeRejectedStream("http://h:1/events?x=1", 200, "", "") ==
        "http://h:1/events?x=1 answered without a Content-Type: not a "
        "notifications "
        "bridge stream (expected 200 text/event-stream)");
  CHECK(
      DescribeRejectedStream(
          "http://h/events", 400, "application/json",
          R"({"error":"bad_request","message":"backlog must be a whole number, e.g. backlog=50"})") ==
      "http://h/events answered HTTP 400: bad_request: backlog must be a whole "
      "number, e.g. backlog=50");
  CHECK(DescribeRejectedStream(
            "http://h/events", 401, "application/json",
            R"({"error":"unauthorized","message":"wrong stream token"})") ==
        "http://h/events answered HTTP 401: unauthorized: wrong stream token");
  CHECK(DescribeRejectedStream("http://h/events", 400, "text/html",
                               "<h1>Bad</h1>") ==
        "http://h/events answered HTTP 400: not a notifications bridge stream "
        "(expected 200 text/event-stream)");
  CHECK(DescribeRejectedStream("http://h/events", 502, "text/html", "") ==
        "http://h/events answered HTTP 502: not a notifications bridge stream "
        "(expected 200 text/event-stream)");
}

}  // namespace
}  // namespace notifications
