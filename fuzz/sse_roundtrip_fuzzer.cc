// Fuzz target: the SSE encoder (lib/core/sse_encoder.h) against the independent
// EventSource-conformant parser (lib/core/sse_parser.h).
//
// The input (read with FuzzedDataProvider) is a list of operations, each an
// event (optional id, event type, data: arbitrary bytes), a comment (text)
// or a retry (any int64); then the stream's line ends (LF as written, or
// every LF turned into CRLF or CR, which a client must read the same), an
// optional leading BOM, and where to cut the stream into Feed() calls.
//
// Oracle. With norm(s) = s with every CRLF and lone CR turned into LF,
// strip(s) = s without CR, LF and NUL, and fix(s) = s with each maximal
// ill-formed UTF-8 subpart replaced by U+FFFD (fuzz::ReplaceInvalidUtf8, the
// decoding a browser does), the parser must dispatch exactly one event per
// encoded event, in order, with
//   data          = fix(norm(data))
//   type          = fix(strip(event)), or "message" when that is empty
//   last_event_id = fix(strip(id)) of the latest event that had an id
//                   ("" before any)
// and nothing for comments and retries; comments_seen() counts one comment
// per line of each comment text (lines split like data); retry_ms() is the
// last retry written (negative ones are written as 0); nothing is left
// buffered at the end. This must hold for the whole stream fed at once, fed
// byte by byte, and fed in the pieces the input chooses. The encoder's
// output itself must follow the grammar: LF line ends only, every line
// empty or starting with "id: ", "event: ", "data: ", ":" or "retry: ".
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "sse_encoder.h"
#include "sse_parser.h"

namespace {

using notifications::SseParser;

std::string Normalize(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Strip(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
  return out;
}

size_t LineCount(std::string_view s) {
  size_t lines = 1;
  std::string n = Normalize(s);
  for (char c : n) lines += c == '\n' ? 1 : 0;
  return lines;
}

struct Expected {
  std::vector<SseParser::Event> events;
  size_t comments = 0;
  std::optional<int64_t> retry;
};

void CheckGrammar(const std::string& stream) {
  FUZZ_CHECK(stream.find('\r') == std::string::npos, stream);
  FUZZ_CHECK(stream.empty() || stream.back() == '\n', stream);
  std::string_view rest = stream;
  while (!rest.empty()) {
    std::string_view line = fuzz::TakeLine(rest);
    bool ok = line.empty() || line.rfind("id: ", 0) == 0 ||
              line.rfind("event: ", 0) == 0 || line.rfind("data: ", 0) == 0 ||
              line[0] == ':' || line.rfind("retry: ", 0) == 0;
    FUZZ_CHECK(ok, std::string(line));
  }
}

void CheckParse(const std::string& stream, const std::vector<size_t>& cuts,
                const Expected& want, const char* how) {
  SseParser parser;
  std::vector<SseParser::Event> got;
  auto on_event = [&got](const SseParser::Event& e) { got.push_back(e); };
  size_t start = 0;
  for (size_t cut : cuts) {
    parser.Feed(std::string_view(stream).substr(start, cut - start), on_event);
    start = cut;
  }
  parser.Feed(std::string_view(stream).substr(start), on_event);

  std::string context = std::string(how) + ", stream: " + stream;
  FUZZ_CHECK(got.size() == want.events.size(), context);
  for (size_t i = 0; i < got.size(); ++i) {
    const SseParser::Event& g = got[i];
    const SseParser::Event& w = want.events[i];
    std::string at = context + "\n  event " + std::to_string(i);
    FUZZ_CHECK(g.data == w.data, at + " data: " + g.data + " != " + w.data);
    FUZZ_CHECK(g.type == w.type, at + " type: " + g.type + " != " + w.type);
    FUZZ_CHECK(g.last_event_id == w.last_event_id,
               at + " id: " + g.last_event_id + " != " + w.last_event_id);
  }
  FUZZ_CHECK(parser.comments_seen() == want.comments, context);
  FUZZ_CHECK(parser.retry_ms() == want.retry, context);
  FUZZ_CHECK(parser.buffered_bytes() == 0, context);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string stream;
  Expected want;
  std::string last_id;
  const size_t ops = in.ConsumeIntegralInRange<size_t>(1, 8);
  for (size_t op = 0; op < ops && in.remaining_bytes() > 0; ++op) {
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
      case 1: {
        notifications::SseEvent e;
        if (in.ConsumeBool()) e.id = in.ConsumeRandomLengthString(64);
        e.event = in.ConsumeRandomLengthString(32);
        e.data = in.ConsumeRandomLengthString(256);
        std::string encoded = notifications::EncodeSseEvent(e);
        stream += encoded;
        if (e.id) last_id = fuzz::ReplaceInvalidUtf8(Strip(*e.id));
        SseParser::Event w;
        w.type = fuzz::ReplaceInvalidUtf8(Strip(e.event));
        if (w.type.empty()) w.type = "message";
        w.data = fuzz::ReplaceInvalidUtf8(Normalize(e.data));
        w.last_event_id = last_id;
        want.events.push_back(w);
        break;
      }
      case 2: {
        std::string text = in.ConsumeRandomLengthString(64);
        stream += notifications::EncodeSseComment(text);
        want.comments += LineCount(text);
        break;
      }
      default: {
        auto ms = in.ConsumeIntegral<int64_t>();
        stream += notifications::EncodeSseRetry(ms);
        want.retry = ms < 0 ? 0 : ms;
        break;
      }
    }
  }
  CheckGrammar(stream);

  // Line ends: a client reads LF, CRLF and CR alike. The encoder writes no
  // CR (checked above), so replacing every LF is safe.
  const int line_end = in.ConsumeIntegralInRange<int>(0, 2);
  if (line_end != 0) {
    std::string replaced;
    for (char c : stream) {
      if (c == '\n') {
        replaced += line_end == 1 ? "\r\n" : "\r";
      } else {
        replaced += c;
      }
    }
    stream = replaced;
  }
  if (in.ConsumeBool()) stream.insert(0, "\xEF\xBB\xBF");

  CheckParse(stream, {}, want, "whole");
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  CheckParse(stream, cuts, want, "byte by byte");
  cuts.clear();
  size_t at = 0;
  while (in.remaining_bytes() > 0 && at < stream.size()) {
    at += in.ConsumeIntegralInRange<size_t>(0, 16);
    if (at <= stream.size()) cuts.push_back(at);
  }
  CheckParse(stream, cuts, want, "in pieces");
  return 0;
}
