// Fuzz target: what a client controls when it opens `GET /events`: the
// query parameters and the Last-Event-ID header (lib/bridge/hub/stream_request.h), and
// the stream a StreamSession (lib/bridge/hub/stream_session.h) then writes.
//
// Input, as text: line 1 is the Last-Event-ID header's value (any bytes,
// empty for none), the rest the query string ("backlog=2&key=%23", decoded
// as a server does: %XX, '+' for space).
//
// Oracle:
//   - ParseStreamRequest() succeeds exactly when a reference reading of
//     docs/events.md does: backlog and lastEventId at most once, backlog 1..9
//     ASCII digits (then clamped to the history), the resume id (header,
//     else parameter) empty or a contract id, and the filter parameters
//     accepted by Filter::FromQuery(); the fields are what the reference
//     says.
//   - Then, for two hubs holding the same 12 notifications (ids 100..111,
//     fields with quotes, CR, LF, NUL and non-ASCII) with a history of 8 and
//     of 64, a session without GapSource is opened (its opening produced a
//     piece at a time, as a slow socket takes it), given 3 live
//     notifications (read without blocking), a heartbeat, an upstream reset
//     and 2 more. Its bytes,
//     read by SseParser, must be: a retry in [3000, 5000] ms and the
//     "connected" comment; for a fresh stream, the last `backlog` matching
//     notifications; for a known id, every matching notification after it;
//     for an unknown id (no upstream to ask), a reset whose id is where the
//     replay starts, then the backlog; then the matching live ones, a
//     heartbeat comment, the reset (empty id) and the matching new ones.
//     Every notification event's data is one line of JSON that parses back
//     (ParsePage) into exactly the notification published, with that id.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_hub.h"
#include "filter.h"
#include "fuzz_support.h"
#include "notification.h"
#include "notification_parser.h"
#include "sse_encoder.h"
#include "sse_output.h"
#include "sse_parser.h"
#include "stream_request.h"
#include "stream_session.h"

namespace {

using notifications::Notification;
using notifications::SseParser;
using notifications::StreamRequest;
using Params = std::multimap<std::string, std::string>;

Notification Make(int id, const char* project, std::optional<std::string> group,
                  const char* service, const char* type, std::string text) {
  Notification n;
  n.id = std::to_string(id);
  n.time = "2026-11-28T12:00:00.000Z";
  n.project = project;
  n.group = std::move(group);
  n.service = service;
  n.type = type;
  n.text = std::move(text);
  n.link = "https://github.com/nasqueron/operations";
  return n;
}

std::vector<Notification> Published() {
  return {
      Make(100, "Nasqueron", "ops", "GitHub", "push", "dereckson pushed 2"),
      Make(101, "Nasqueron", "ci", "Jenkins", "completed", "build #412 \"ok\""),
      Make(102, "Nasqueron", "", "Phabricator", "task",
           "T1210 \xC3\xA9t\xC3\xA9"),
      Make(103, "Wolfplex", std::nullopt, "DockerHub", "push", "line\r\nbreak"),
      Make(104, "Nasqueron", "devtools", "GitHub", "pull_request", "#58"),
      Make(105, "nasqueron", "OPS", "github", "PUSH", std::string("nul\0x", 5)),
      Make(106, "Nasqueron", "ops", "Jenkins", "started", "\xE2\x9C\x93 \\o/"),
      Make(107, "Nasqueron", "orgz", "GitHub", "issues", "a.b.c"),
      Make(108, "Wolfplex", "ops", "GitHub", "push", "</script>"),
      Make(109, "Nasqueron", "ci", "Jenkins", "completed", "\t tab"),
      Make(110, "Nasqueron", "docker", "DockerHub", "push", "\xF0\x9F\x90\xB3"),
      Make(111, "Nasqueron", "ops", "GitHub", "push", "last"),
  };
}

struct Reference {
  bool ok = false;
  size_t backlog = 0;
  std::optional<std::string> last_event_id;
};

Reference ReferenceParse(const Params& params, const std::string& header,
                         size_t capacity) {
  Reference r;
  if (params.count("backlog") > 1 || params.count("lastEventId") > 1) return r;
  auto backlog = params.find("backlog");
  if (backlog != params.end()) {
    const std::string& b = backlog->second;
    if (b.empty() || b.size() > 9) return r;
    size_t value = 0;
    for (char c : b) {
      if (c < '0' || c > '9') return r;
      value = value * 10 + static_cast<size_t>(c - '0');
    }
    r.backlog = value < capacity ? value : capacity;
  }
  std::string last = header;
  if (last.empty() && params.count("lastEventId")) {
    last = params.find("lastEventId")->second;
  }
  if (!last.empty()) {
    if (!fuzz::IsContractId(last)) return r;
    r.last_event_id = last;
  }
  r.ok = notifications::Filter::FromQuery(params).ok();
  return r;
}

// What the client must see, as (type, id) pairs; a notification's data is
// checked against `by_id`.
struct Want {
  std::string type;
  std::string id;
};

std::vector<Want> Expect(const StreamRequest& request,
                         const std::vector<Notification>& history,
                         const std::vector<Notification>& live,
                         const std::vector<Notification>& after_reset) {
  std::vector<Want> want;
  auto matches = [&request](const Notification& n) {
    return request.filter.Matches(n);
  };
  auto fresh = [&] {
    std::vector<Want> picked;
    for (auto it = history.rbegin();
         it != history.rend() && picked.size() < request.backlog; ++it) {
      if (matches(*it)) picked.push_back({"notification", it->id});
    }
    want.insert(want.end(), picked.rbegin(), picked.rend());
  };
  if (!request.last_event_id) {
    fresh();
  } else {
    size_t known = history.size();
    for (size_t i = 0; i < history.size(); ++i) {
      if (history[i].id == *request.last_event_id) known = i;
    }
    if (known < history.size()) {
      for (size_t i = known + 1; i < history.size(); ++i) {
        if (matches(history[i]))
          want.push_back({"notification", history[i].id});
      }
    } else {
      size_t n = std::min(request.backlog, history.size());
      std::string resume =
          n < history.size() ? history[history.size() - n - 1].id : "";
      want.push_back({"reset", resume});
      fresh();
    }
  }
  for (const Notification& n : live) {
    if (matches(n)) want.push_back({"notification", n.id});
  }
  want.push_back({"reset", ""});
  for (const Notification& n : after_reset) {
    if (matches(n)) want.push_back({"notification", n.id});
  }
  return want;
}

bool SameNotification(const Notification& a, const Notification& b) {
  return a.id == b.id && a.time == b.time && a.service == b.service &&
         a.project == b.project && a.group == b.group && a.type == b.type &&
         a.text == b.text && a.link == b.link;
}

void RunSession(const StreamRequest& request, size_t capacity) {
  const std::vector<Notification> all = Published();
  notifications::EventHub hub(capacity, false);
  hub.Publish(all);
  std::vector<Notification> history(
      all.end() - static_cast<std::ptrdiff_t>(std::min(capacity, all.size())),
      all.end());
  const std::vector<Notification> live = {
      Make(112, "Nasqueron", "ops", "GitHub", "push", "live 1"),
      Make(113, "Nasqueron", "ci", "Jenkins", "completed", "live 2"),
      Make(114, "Wolfplex", "", "DockerHub", "push", "live 3")};
  const std::vector<Notification> after_reset = {
      Make(1, "Nasqueron", "ops", "GitHub", "push", "again 1"),
      Make(2, "Nasqueron", "ci", "Jenkins", "started", "again 2")};

  notifications::StreamOptions options;
  options.retry = std::chrono::milliseconds(3000);
  options.retry_jitter = std::chrono::milliseconds(2000);
  notifications::StreamSession session(hub, nullptr, request, options, 7);
  if (session.Begin() == notifications::StreamSession::Start::kNeedGap) {
    session.ResumeWithGap(session.FetchGap());
  }
  // The opening a piece at a time, as a slow socket takes it.
  notifications::SseOutput out;
  std::string bytes;
  for (size_t round = 0;; ++round) {
    FUZZ_CHECK(round < 10000, "the opening never ends");
    out.Clear();
    bool done = session.Produce(1, &out);
    bytes += out.ToString();
    if (done) break;
  }
  FUZZ_CHECK(bytes.rfind("retry: ", 0) == 0, bytes);
  hub.Publish(live);
  // What the server does on a hub wake-up: read after the session's seq
  // (never blocks), Advance().
  auto live_step = [&session, &hub, &bytes, &out] {
    std::vector<notifications::HubEventPtr> events;
    auto status = hub.ReadAfter(session.seq(), 512, &events);
    FUZZ_CHECK(status == notifications::EventHub::WaitStatus::kEvents, bytes);
    out.Clear();
    session.Advance(events, &out);
    bytes += out.ToString();
  };
  live_step();
  // The server's heartbeat on a quiet stream (the live ones may all be
  // filtered out).
  bytes += notifications::EncodeSseComment("keep-alive");
  const size_t heartbeats = 1;
  hub.Reset("upstream-reset", "the delivery API forgot the cursor");
  hub.Publish(after_reset);
  live_step();

  SseParser parser;
  std::vector<SseParser::Event> got;
  parser.Feed(bytes, [&got](const SseParser::Event& e) { got.push_back(e); });
  FUZZ_CHECK(parser.buffered_bytes() == 0, bytes);
  FUZZ_CHECK(parser.retry_ms() && *parser.retry_ms() >= 3000 &&
                 *parser.retry_ms() <= 5000,
             bytes);
  FUZZ_CHECK(parser.comments_seen() == 1 + heartbeats, bytes);

  std::map<std::string, Notification> by_id;
  for (const std::vector<Notification>* list : {&all, &live, &after_reset}) {
    for (const Notification& n : *list) by_id[n.id] = n;
  }
  const std::vector<Want> want = Expect(request, history, live, after_reset);
  FUZZ_CHECK(got.size() == want.size(), bytes);
  std::string previous;
  for (size_t i = 0; i < got.size(); ++i) {
    const SseParser::Event& e = got[i];
    const std::string at = bytes + "\n  event " + std::to_string(i);
    FUZZ_CHECK(e.type == want[i].type, at);
    FUZZ_CHECK(e.last_event_id == want[i].id, at);
    FUZZ_CHECK(e.data.find_first_of("\r\n") == std::string::npos, at);
    if (e.type == "reset") {
      FUZZ_CHECK(e.data.rfind("{\"reason\":\"", 0) == 0, at);
      previous.clear();
      continue;
    }
    FUZZ_CHECK(previous.empty() || fuzz::IdLess(previous, e.last_event_id), at);
    previous = e.last_event_id;
    auto page =
        notifications::ParsePage("{\"notifications\":[" + e.data +
                                 "],\"cursor\":\"" + e.last_event_id + "\"}");
    FUZZ_CHECK(page.ok(), at + ": " + page.status().message());
    FUZZ_CHECK(page->notifications.size() == 1, at);
    FUZZ_CHECK(SameNotification(page->notifications[0], by_id[e.last_event_id]),
               at);
    FUZZ_CHECK(request.filter.Matches(page->notifications[0]), at);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string header(fuzz::TakeLine(rest));
  const Params params = fuzz::ParseQuery(rest);
  for (size_t capacity : {size_t{8}, size_t{64}}) {
    auto request = notifications::ParseStreamRequest(params, header, capacity);
    const Reference ref = ReferenceParse(params, header, capacity);
    FUZZ_CHECK(request.ok() == ref.ok, request.status().message());
    if (!request.ok()) {
      const std::string& m = request.status().message();
      FUZZ_CHECK(!m.empty() && m.find_first_of("\r\n") == std::string::npos, m);
      return 0;
    }
    FUZZ_CHECK(request->backlog == ref.backlog, std::to_string(ref.backlog));
    FUZZ_CHECK(request->last_event_id == ref.last_event_id, header);
    RunSession(request.value(), capacity);
  }
  return 0;
}
