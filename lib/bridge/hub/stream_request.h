// ParseStreamRequest: the query parameters and the Last-Event-ID header of a
// `GET /events` request (docs/events.md, "Request"), validated into a
// StreamRequest. A pure function of its arguments, thread-safe; the HTTP
// server calls it, the tests and fuzz/stream_request_fuzzer.cc too.
//
// Rules, checked in this order (the first failure is returned):
//   1. `backlog` and `lastEventId` appear at most once each (a repeat is an
//      error even with the same value: docs/events.md, "Repeated parameters");
//   2. `backlog`, when present, is 1 to 9 ASCII digits; it is clamped to
//      `history_capacity` (default 0 when absent);
//   3. the resume id is the header when it is not empty, else the
//      `lastEventId` parameter; when not empty it must satisfy IsValidId()
//      (an empty value means a fresh connection);
//   4. the filter parameters (project, group, service, type, key) build a
//      Filter (Filter::FromQuery()).
// Other parameters (access_token, cache busters...) are ignored.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "status.h"
#include "stream_session.h"

namespace notifications {

// `params`: the decoded query parameters, every repeat kept
// (ParseQueryString(), query_string.h). `last_event_id_header`: the Last-Event-ID header's value,
// "" when absent. Failure: InvalidArgument whose one-line message is meant for
// the client (the server answers it as a 400 "bad_request"), e.g.
//   "backlog and lastEventId may appear once"
//   "backlog must be a whole number, e.g. backlog=50"
//   "Last-Event-ID must be 1-128 characters of [A-Za-z0-9._:-]"
//   "key: empty topic pattern"
Result<StreamRequest> ParseStreamRequest(
    const std::multimap<std::string, std::string>& params,
    const std::string& last_event_id_header, size_t history_capacity);

}  // namespace notifications
