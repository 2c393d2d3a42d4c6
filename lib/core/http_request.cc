#include "http_request.h"
#include "url_encoding.h"

#include <algorithm>

namespace notifications {

namespace {

// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTchar);
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Calls `fn` with each non-empty, OWS-trimmed element of a comma list.
template <typename Fn>
void ForEachListElement(std::string_view value, Fn fn) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = TrimOws(value.substr(start, comma - start));
    if (!element.empty()) fn(element);
    start = comma + 1;
  }
}

// Bytes allowed in a request-target: visible ASCII except '#' (a fragment
// is never sent) and nothing outside it (no space, control or 8-bit byte).
bool IsTargetByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7E && c != '#';
}

// A field value's bytes: VCHAR, obs-text, SP, HTAB (no other control byte).
bool IsFieldValueByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

}  // namespace

const std::string* HttpRequestHead::Field(
    std::string_view lowercase_name) const {
  for (const auto& [name, value] : fields) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

size_t HttpRequestHead::FieldCount(std::string_view lowercase_name) const {
  size_t n = 0;
  for (const auto& field : fields) {
    if (field.first == lowercase_name) ++n;
  }
  return n;
}

Result<std::string> PercentDecodeStrict(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int hi = i + 2 < text.size() ? HexDigitValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? HexDigitValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("bad percent-escape in the path");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

HttpRequestParser::HttpRequestParser(HttpRequestLimits limits)
    : limits_(limits) {}

void HttpRequestParser::Reset() {
  state_ = State::kNeedMore;
  head_ = HttpRequestHead{};
  have_request_line_ = false;
  line_.clear();
  head_bytes_ = 0;
  error_status_ = 0;
  error_message_.clear();
}

void HttpRequestParser::Fail(int status, std::string message) {
  state_ = State::kError;
  error_status_ = status;
  error_message_ = std::move(message);
  line_.clear();
}

size_t HttpRequestParser::Feed(std::string_view data) {
  size_t used = 0;
  while (state_ == State::kNeedMore && used < data.size()) {
    size_t lf = data.find('\n', used);
    size_t end = lf == std::string_view::npos ? data.size() : lf + 1;
    size_t take = end - used;
    // Limits first, so that nothing past them is ever kept. The limit a
    // byte would pass first wins (the line's on a tie), however the bytes
    // were split.
    size_t line_limit =
        have_request_line_ ? limits_.max_field_line : limits_.max_request_line;
    size_t line_room = line_limit - std::min(line_limit, line_.size());
    size_t head_room =
        limits_.max_head_bytes - std::min(limits_.max_head_bytes, head_bytes_);
    if (take > line_room || take > head_room) {
      if (line_room > head_room) {
        Fail(431, "request head longer than " +
                      std::to_string(limits_.max_head_bytes) + " bytes");
      } else if (have_request_line_) {
        Fail(431, "header line longer than " + std::to_string(line_limit) +
                      " bytes");
      } else {
        Fail(414, "request line longer than " + std::to_string(line_limit) +
                      " bytes");
      }
      return used + take;
    }
    head_bytes_ += take;
    used = end;
    if (lf == std::string_view::npos) {
      line_.append(data.substr(used - take, take));
      break;
    }
    std::string_view line;
    if (line_.empty()) {
      line = data.substr(end - take, take - 1);
    } else {
      line_.append(data.substr(end - take, take - 1));
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    OnLine(line);
    line_.clear();
  }
  return used;
}

void HttpRequestParser::OnLine(std::string_view line) {
  if (line.find('\r') != std::string_view::npos) {
    return Fail(400, "a carriage return inside a line");
  }
  if (!have_request_line_) {
    if (line.empty()) return;  // RFC 9112 2.2: empty lines before it.
    have_request_line_ = true;
    return OnRequestLine(line);
  }
  if (line.empty()) return OnHeadEnd();
  OnFieldLine(line);
}

void HttpRequestParser::OnRequestLine(std::string_view line) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "malformed method");
  if (target.empty() ||
      !std::all_of(target.begin(), target.end(), IsTargetByte)) {
    return Fail(400, "malformed request target");
  }
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 ||
      version[5] < '0' || version[5] > '9' || version[6] != '.' ||
      version[7] < '0' || version[7] > '9') {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return Fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  head_.method = std::string(method);
  head_.target = std::string(target);
  head_.minor_version = version[7] - '0';

  std::string_view path_and_query = target;
  if (target == "*") {
    if (method != "OPTIONS") return Fail(400, "\"*\" is only for OPTIONS");
    head_.path = "*";
    return;
  }
  if (target.front() != '/') {
    // absolute-form: the authority is the Host (which we do not use).
    size_t scheme_end = target.find("://");
    std::string_view scheme = scheme_end == std::string_view::npos
                                  ? ""
                                  : target.substr(0, scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") &&
        !EqualsIgnoreCase(scheme, "https")) {
      return Fail(400, "malformed request target");
    }
    size_t path_start = target.find_first_of("/?", scheme_end + 3);
    if (path_start == scheme_end + 3)
      return Fail(400, "malformed request target");
    path_and_query = path_start == std::string_view::npos
                         ? std::string_view("/")
                         : target.substr(path_start);
    if (path_and_query.front() == '?') {
      head_.path = "/";
      head_.query = std::string(path_and_query.substr(1));
      return;
    }
  }
  size_t q = path_and_query.find('?');
  std::string_view raw_path = path_and_query.substr(0, q);
  if (q != std::string_view::npos) {
    head_.query = std::string(path_and_query.substr(q + 1));
  }
  Result<std::string> path = PercentDecodeStrict(raw_path);
  if (!path.ok()) return Fail(400, path.status().message());
  head_.path = std::move(path).value();
}

void HttpRequestParser::OnFieldLine(std::string_view line) {
  if (head_.fields.size() >= limits_.max_fields) {
    return Fail(431, "more than " + std::to_string(limits_.max_fields) +
                         " header lines");
  }
  if (IsOws(line.front())) {
    return Fail(400, "folded header line (obs-fold)");
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos)
    return Fail(400, "header line without ':'");
  std::string_view name = line.substr(0, colon);
  if (!IsToken(name)) return Fail(400, "malformed header name");
  std::string_view value = TrimOws(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), IsFieldValueByte)) {
    return Fail(400, "control character in a header value");
  }
  std::string lower(name);
  for (char& c : lower) c = Lower(c);
  head_.fields.emplace_back(std::move(lower), std::string(value));
}

void HttpRequestParser::OnHeadEnd() {
  HttpRequestHead& h = head_;
  const bool http11 = h.minor_version == 1;
  size_t hosts = h.FieldCount("host");
  if (hosts > 1 || (http11 && hosts == 0)) {
    return Fail(400, "HTTP/1.1 needs exactly one Host header");
  }

  bool has_length = false;
  bool has_coding = false;
  std::string last_coding;
  for (const auto& [name, value] : h.fields) {
    if (name == "content-length") {
      // RFC 9112 6.3: a repeated or list-valued Content-Length is a framing
      // error here (refused, not reconciled), so nobody downstream can
      // read it differently.
      if (has_length) return Fail(400, "repeated Content-Length");
      has_length = true;
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return Fail(400, "malformed Content-Length");
      }
      uint64_t n = 0;
      for (char c : value) n = n * 10 + static_cast<uint64_t>(c - '0');
      h.content_length = n;
    } else if (name == "transfer-encoding") {
      ForEachListElement(value, [&](std::string_view coding) {
        has_coding = true;
        last_coding = std::string(coding);
      });
      if (value.empty() || TrimOws(value).empty()) has_coding = true;
    } else if (name == "connection") {
      ForEachListElement(value, [&](std::string_view option) {
        if (EqualsIgnoreCase(option, "close")) h.keep_alive = false;
      });
    }
  }
  if (has_coding) {
    if (has_length)
      return Fail(400, "both Content-Length and Transfer-Encoding");
    if (!http11) return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    // Parameters (";q=...") do not belong to a transfer coding of the
    // request; only a bare "chunked" ends the list.
    if (!EqualsIgnoreCase(last_coding, "chunked")) {
      return Fail(400, "Transfer-Encoding must end with chunked");
    }
    h.body = HttpRequestHead::Body::kChunked;
  } else if (has_length) {
    h.body = HttpRequestHead::Body::kLength;
  }

  if (http11) {
    // keep_alive stays true unless "close" was listed (above).
  } else {
    bool keep = false;
    if (h.keep_alive) {
      for (const auto& [name, value] : h.fields) {
        if (name != "connection") continue;
        ForEachListElement(value, [&](std::string_view option) {
          if (EqualsIgnoreCase(option, "keep-alive")) keep = true;
        });
      }
    }
    h.keep_alive = keep;
  }
  state_ = State::kDone;
}

}  // namespace notifications
