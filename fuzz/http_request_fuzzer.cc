// Fuzz target: the request heads strangers send the bridge
// (lib/core/http_request.h) and their query strings (lib/core/query_string.h).
//
// Input: the first byte picks the piece size the bytes are fed in (0: all
// at once), the rest is what arrives on the connection.
//
// Oracle:
//   - The parser ends in the same state with the same result whether the
//     bytes come whole, byte by byte or in the chosen pieces (same bytes
//     used, same head or same status and message).
//   - It never holds more than its limits (head_bytes() <= max_head_bytes).
//   - A failure is 400, 414, 431 or 505 with a one-line message.
//   - A head it accepts satisfies, checked here with references written
//     from RFC 9112 (not with the parser's own helpers): the bytes used end
//     with the blank line; the method and every field name are tokens
//     (names lowercase); values have no control byte but HTAB and no
//     surrounding whitespace; the path is "*" or starts with '/' and is the
//     strict percent-decoding of the target's path; HTTP/1.1 has exactly
//     one Host; the body framing and keep-alive follow the rules of the
//     header; and printing the head back (request line, fields, blank
//     line) parses to the same head.
//   - ParseQueryString() of the query equals fuzz::ParseQuery(), the
//     reference reading of application/x-www-form-urlencoded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http_request.h"
#include "query_string.h"

namespace {

using notifications::HttpRequestHead;
using notifications::HttpRequestLimits;
using notifications::HttpRequestParser;

struct Outcome {
  HttpRequestParser::State state;
  size_t used = 0;
  HttpRequestHead head;
  int status = 0;
  std::string message;
  size_t max_held = 0;
};

HttpRequestLimits SmallLimits() {
  // Small enough that the fuzzer reaches every limit with short inputs.
  HttpRequestLimits l;
  l.max_request_line = 200;
  l.max_field_line = 120;
  l.max_fields = 8;
  l.max_head_bytes = 600;
  return l;
}

Outcome Run(std::string_view bytes, size_t piece) {
  HttpRequestParser p(SmallLimits());
  Outcome o;
  size_t step = piece == 0 ? bytes.size() : piece;
  for (size_t at = 0; at < bytes.size(); at += step) {
    std::string_view chunk = bytes.substr(at, step);
    size_t used = p.Feed(chunk);
    FUZZ_CHECK(used <= chunk.size(), "used more than given");
    o.used += used;
    if (p.head_bytes() > o.max_held) o.max_held = p.head_bytes();
    if (p.state() != HttpRequestParser::State::kNeedMore) break;
    FUZZ_CHECK(used == chunk.size(), "stopped early while needing more");
  }
  o.state = p.state();
  o.status = p.error_status();
  o.message = p.error_message();
  if (o.state == HttpRequestParser::State::kDone) o.head = p.head();
  return o;
}

bool Same(const Outcome& a, const Outcome& b) {
  if (a.state != b.state) return false;
  if (a.state == HttpRequestParser::State::kError) {
    return a.status == b.status && a.message == b.message;
  }
  if (a.state == HttpRequestParser::State::kNeedMore) return true;
  return a.used == b.used && a.head.method == b.head.method &&
         a.head.target == b.head.target && a.head.path == b.head.path &&
         a.head.query == b.head.query &&
         a.head.minor_version == b.head.minor_version &&
         a.head.fields == b.head.fields &&
         a.head.keep_alive == b.head.keep_alive && a.head.body == b.head.body &&
         a.head.content_length == b.head.content_length;
}

bool IsTcharRef(char c) {
  return std::string_view(
             "!#$%&'*+-.^_`|~0123456789"
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
             .find(c) != std::string_view::npos;
}

bool IsTokenRef(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTcharRef(c)) return false;
  }
  return true;
}

// Strict percent-decoding, from RFC 3986 2.1: "%" HEXDIG HEXDIG.
bool StrictDecodeRef(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || fuzz::HexValue(s[i + 1]) < 0 ||
        fuzz::HexValue(s[i + 2]) < 0) {
      return false;
    }
    out->push_back(static_cast<char>(fuzz::HexValue(s[i + 1]) * 16 +
                                     fuzz::HexValue(s[i + 2])));
    i += 2;
  }
  return true;
}

// The comma-separated elements of every field named `name`, trimmed,
// lowercased, empty ones dropped.
std::vector<std::string> ListOf(const HttpRequestHead& h,
                                std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : h.fields) {
    if (n != name) continue;
    for (std::string_view e : fuzz::Split(v, ',')) {
      while (!e.empty() && (e.front() == ' ' || e.front() == '\t'))
        e.remove_prefix(1);
      while (!e.empty() && (e.back() == ' ' || e.back() == '\t'))
        e.remove_suffix(1);
      if (!e.empty()) out.push_back(fuzz::Lower(e));
    }
  }
  return out;
}

void CheckAccepted(std::string_view bytes, const Outcome& o) {
  const HttpRequestHead& h = o.head;
  std::string_view head = bytes.substr(0, o.used);
  FUZZ_CHECK(head.size() >= 2 && head.back() == '\n', "head ends with LF");
  FUZZ_CHECK(head.substr(head.size() - 2) == "\n\n" ||
                 (head.size() >= 3 && head.substr(head.size() - 3) == "\n\r\n"),
             "head ends with a blank line");
  FUZZ_CHECK(o.used <= SmallLimits().max_head_bytes, "head within its limit");
  FUZZ_CHECK(IsTokenRef(h.method), h.method);
  FUZZ_CHECK(h.minor_version == 0 || h.minor_version == 1, "version");
  FUZZ_CHECK(h.fields.size() <= SmallLimits().max_fields, "field count");
  for (const auto& [name, value] : h.fields) {
    FUZZ_CHECK(IsTokenRef(name) && fuzz::Lower(name) == name, name);
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(u == '\t' || (u >= 0x20 && u != 0x7F), "value byte");
    }
    FUZZ_CHECK(
        value.empty() || (value.front() != ' ' && value.front() != '\t' &&
                          value.back() != ' ' && value.back() != '\t'),
        "value trimmed");
  }
  if (h.path == "*") {
    FUZZ_CHECK(h.target == "*" && h.method == "OPTIONS", "asterisk-form");
  } else {
    FUZZ_CHECK(!h.path.empty() && h.path[0] == '/', "path starts with /");
    if (h.target[0] == '/') {
      std::string_view raw =
          std::string_view(h.target).substr(0, h.target.find('?'));
      std::string decoded;
      FUZZ_CHECK(StrictDecodeRef(raw, &decoded) && decoded == h.path, h.target);
      size_t q = h.target.find('?');
      FUZZ_CHECK(
          h.query == (q == std::string::npos ? "" : h.target.substr(q + 1)),
          "query");
    }
  }
  for (char c : h.target) {
    auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x21 && u <= 0x7E && c != '#', "target byte");
  }
  if (h.minor_version == 1) FUZZ_CHECK(h.FieldCount("host") == 1, "Host once");
  FUZZ_CHECK(h.FieldCount("host") <= 1, "Host at most once");

  size_t lengths = h.FieldCount("content-length");
  size_t codings = h.FieldCount("transfer-encoding");
  FUZZ_CHECK(lengths <= 1, "one Content-Length");
  FUZZ_CHECK(lengths == 0 || codings == 0, "not both");
  if (codings > 0) {
    std::vector<std::string> list = ListOf(h, "transfer-encoding");
    FUZZ_CHECK(
        h.minor_version == 1 && !list.empty() && list.back() == "chunked",
        "chunked last");
    FUZZ_CHECK(h.body == HttpRequestHead::Body::kChunked, "chunked body");
  } else if (lengths == 1) {
    const std::string& v = *h.Field("content-length");
    FUZZ_CHECK(!v.empty() && v.size() <= 18 &&
                   v.find_first_not_of("0123456789") == std::string::npos,
               v);
    FUZZ_CHECK(h.body == HttpRequestHead::Body::kLength &&
                   h.content_length == std::stoull(v),
               "length body");
  } else {
    FUZZ_CHECK(h.body == HttpRequestHead::Body::kNone, "no body");
  }
  std::vector<std::string> connection = ListOf(h, "connection");
  bool close = false, keep = false;
  for (const std::string& t : connection) {
    close = close || t == "close";
    keep = keep || t == "keep-alive";
  }
  bool expect_keep = h.minor_version == 1 ? !close : (keep && !close);
  FUZZ_CHECK(h.keep_alive == expect_keep, "keep-alive rule");

  // Printed back, it reads the same. Printed as short as the grammar
  // allows (LF line ends, no whitespace after the colon), so that it fits
  // the limits whenever the original did.
  std::string again = h.method + " " + h.target + " HTTP/1." +
                      std::to_string(h.minor_version) + "\n";
  for (const auto& [name, value] : h.fields) {
    again += name + ":" + value + "\n";
  }
  again += "\n";
  Outcome back = Run(again, 0);
  FUZZ_CHECK(back.state == HttpRequestParser::State::kDone, again);
  FUZZ_CHECK(back.used == again.size(), "round trip uses it all");
  FUZZ_CHECK(back.head.fields == h.fields && back.head.path == h.path &&
                 back.head.query == h.query &&
                 back.head.keep_alive == h.keep_alive &&
                 back.head.body == h.body,
             again);

  bool truncated = false;
  FUZZ_CHECK(notifications::ParseQueryString(h.query, 100000, &truncated) ==
                 fuzz::ParseQuery(h.query),
             h.query);
  FUZZ_CHECK(!truncated, "not truncated");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t piece = data[0] % 17;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  Outcome whole = Run(bytes, 0);
  Outcome by_byte = Run(bytes, 1);
  Outcome pieces = Run(bytes, piece);
  FUZZ_CHECK(Same(whole, by_byte), "whole vs byte by byte");
  FUZZ_CHECK(Same(whole, pieces), "whole vs pieces");
  for (const Outcome* o : {&whole, &by_byte, &pieces}) {
    FUZZ_CHECK(o->max_held <= SmallLimits().max_head_bytes, "held too much");
  }
  if (whole.state == HttpRequestParser::State::kError) {
    FUZZ_CHECK(whole.status == 400 || whole.status == 414 ||
                   whole.status == 431 || whole.status == 505,
               std::to_string(whole.status));
    FUZZ_CHECK(
        !whole.message.empty() && whole.message.find('\n') == std::string::npos,
        whole.message);
  } else if (whole.state == HttpRequestParser::State::kDone) {
    CheckAccepted(bytes, whole);
  }
  // Any query string, alone.
  bool truncated = false;
  FUZZ_CHECK(notifications::ParseQueryString(bytes, 100000, &truncated) ==
                 fuzz::ParseQuery(bytes),
             "query string");
  return 0;
}
