#include "sse_parser.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "utf8.h"

namespace notifications {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool HasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::optional<int64_t> ParseDigits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int64_t digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

void SseParser::Feed(std::string_view bytes,
                     const std::function<void(const Event&)>& on_event) {
  if (!bom_checked_) {
    // The BOM may arrive split across calls: hold up to 3 bytes in line_
    // until they either are the BOM or cannot be.
    std::string head = line_;
    size_t take = std::min(bytes.size(), kBom.size() - head.size());
    head.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (head.size() < kBom.size() && kBom.substr(0, head.size()) == head) {
      line_ = std::move(head);
      return;
    }
    bom_checked_ = true;
    line_.clear();
    std::string_view rest = head;
    if (rest.substr(0, kBom.size()) == kBom) rest.remove_prefix(kBom.size());
    FeedLines(rest, on_event);
  }
  FeedLines(bytes, on_event);
}

void SseParser::FeedLines(std::string_view bytes,
                          const std::function<void(const Event&)>& on_event) {
  if (bytes.empty()) return;
  size_t i = 0;
  if (after_cr_ && bytes[0] == '\n') i = 1;  // The LF of a split CRLF.
  after_cr_ = false;
  while (i < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(i));
      return;
    }
    line_.append(bytes.substr(i, end - i));
    ProcessLine(on_event);
    line_.clear();
    i = end + 1;
    if (bytes[end] == '\r') {
      if (i == bytes.size()) {
        after_cr_ = true;
      } else if (bytes[i] == '\n') {
        ++i;
      }
    }
  }
}

void SseParser::ProcessLine(const std::function<void(const Event&)>& on_event) {
  // Lines end at ASCII bytes, which never occur inside a UTF-8 sequence, so
  // decoding line by line replaces exactly what decoding the stream would.
  std::string decoded;
  std::string_view line = line_;
  if (HasNonAscii(line)) {
    decoded = SanitizeUtf8(line);
    line = decoded;
  }

  if (line.empty()) {
    Dispatch(on_event);
    return;
  }
  if (line[0] == ':') {
    ++comments_seen_;
    return;
  }
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_ += '\n';
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_.assign(value);
  } else if (field == "retry") {
    std::optional<int64_t> ms = ParseDigits(value);
    if (ms.has_value()) retry_ms_ = ms;
  }
}

void SseParser::Dispatch(const std::function<void(const Event&)>& on_event) {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    event_type_.clear();
    return;
  }
  data_.pop_back();
  Event event;
  event.type = event_type_.empty() ? std::string("message") : event_type_;
  event.data = std::move(data_);
  event.last_event_id = last_event_id_;
  data_.clear();
  event_type_.clear();
  if (on_event) on_event(event);
}

}  // namespace notifications
