#include "notification_parser.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "utf8.h"
#include "url_encoding.h"

namespace notifications {
namespace {

using rapidjson::SizeType;
using rapidjson::Value;

// Iterative: upstream JSON (rawContent) may nest deeply, and the recursive
// parser would overflow the stack. Numbers as strings: NumberHandler converts
// them (see there). Stop when done: we check the tail ourselves, because
// RapidJSON's own check stops at the first NUL byte and would accept
// "{}\0garbage".
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseNumbersAsStringsFlag |
                                 rapidjson::kParseStopWhenDoneFlag;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// For the text of a JSON number that std::from_chars found out of the range
// of double: true when it is below the smallest one (underflow), false when
// above the largest. Compares the decimal exponent of its first significant
// digit with 0.
bool Underflows(std::string_view text) {
  size_t i = (!text.empty() && text[0] == '-') ? 1 : 0;
  int64_t position = 0;  // Of the first significant digit: 0 for 1.x.
  bool seen = false;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (seen) ++position;
    seen = seen || text[i] != '0';
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && IsDigit(text[i]); ++i) {
      if (!seen) --position;
      seen = seen || text[i] != '0';
    }
  }
  int64_t exponent = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      negative = text[i++] == '-';
    }
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      exponent = std::min<int64_t>(exponent * 10 + (text[i] - '0'), 1 << 30);
    }
  }
  return position + (negative ? -exponent : exponent) < 0;
}

// What a page's parse tracks besides the Document (ParseJson with a scan).
// Two kinds of value fail RapidJSON's reader outright, whatever the item:
// a lone UTF-16 surrogate escape ("\ud800" not followed by a low one;
// RapidJSON 1.1 lets a lone low one through as 3 bytes of ill-formed UTF-8,
// which is no character either) and a number whose exponent or integer
// part is too big for its double check. So a page is scanned for both
// first, and the reader gets a copy where each is replaced by a harmless
// value of the same length ("\ufffd", "0" and spaces): offsets stay those
// of the body, and the handler knows which values were replaced.
struct PageScan {
  // In: offset and original text of each replaced value, in body order.
  std::vector<std::pair<size_t, std::string>> surrogates;
  std::vector<std::pair<size_t, std::string>> numbers;
  // Out: items of the "notifications" array holding a value that cannot be
  // represented, by index, with the first reason found.
  std::map<size_t, std::string> bad_items;
};

// The 4 hex digits at s[i..i+4), or -1.
long Hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  long v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = HexDigitValue(s[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Whether RapidJSON 1.1's Reader::ParseNumber (as we call it: numbers as
// strings, not in situ, 64-bit) fails number token `t` with
// kParseErrorNumberTooBig. A replica of its two checks, step for step
// (reader.h): an integer part past DBL_MAX / 10 once it is accumulated as a
// double, and a positive exponent above 308 minus the fraction digits it
// counted. Malformed tokens return false: the reader reports them.
bool RapidJsonNumberTooBig(std::string_view t) {
  size_t p = 0;
  auto digit = [&] { return p < t.size() && t[p] >= '0' && t[p] <= '9'; };
  auto next = [&] { return p < t.size() ? t[p] : '\0'; };
  auto take = [&] { return static_cast<unsigned>(t[p++] - '0'); };
  const bool minus = next() == '-';
  if (minus) ++p;
  unsigned i = 0;
  uint64_t i64 = 0;
  bool use64bit = false;
  int significand_digits = 0;
  double d = 0.0;
  if (next() == '0') {
    ++p;
  } else if (digit()) {
    i = take();
    const unsigned limit = minus ? 214748364u : 429496729u;
    const char last = minus ? '8' : '5';
    while (digit()) {
      if (i >= limit && (i != limit || next() > last)) {
        i64 = i;
        use64bit = true;
        break;
      }
      i = i * 10 + take();
      ++significand_digits;
    }
  } else {
    return false;
  }
  bool use_double = false;
  if (use64bit) {
    const uint64_t limit =
        minus ? uint64_t{0x0CCCCCCCCCCCCCCC} : uint64_t{0x1999999999999999};
    const char last = minus ? '8' : '5';
    while (digit()) {
      if (i64 >= limit && (i64 != limit || next() > last)) {
        d = static_cast<double>(i64);
        use_double = true;
        break;
      }
      i64 = i64 * 10 + take();
      ++significand_digits;
    }
  }
  if (use_double) {
    while (digit()) {
      if (d >= 1.7976931348623157e307) return true;
      d = d * 10 + take();
    }
  }
  int exp_frac = 0;
  if (next() == '.') {
    ++p;
    if (!digit()) return false;
    if (!use_double) {
      if (!use64bit) i64 = i;
      while (digit()) {
        if (i64 > uint64_t{0x1FFFFFFFFFFFFF}) break;
        i64 = i64 * 10 + take();
        --exp_frac;
        if (i64 != 0) ++significand_digits;
      }
      d = static_cast<double>(i64);
      use_double = true;
    }
    while (digit()) {
      if (significand_digits < 17) {
        d = d * 10.0 + take();
        --exp_frac;
        if (d > 0.0) ++significand_digits;
      } else {
        ++p;
      }
    }
  }
  if (next() == 'e' || next() == 'E') {
    ++p;
    bool exp_minus = false;
    if (next() == '+') {
      ++p;
    } else if (next() == '-') {
      exp_minus = true;
      ++p;
    }
    if (!digit()) return false;
    int64_t exp = take();
    if (!exp_minus) {
      const int64_t max_exp = 308 - int64_t{exp_frac};
      while (digit()) {
        exp = exp * 10 + take();
        if (exp > max_exp) return true;
      }
    }
  }
  return false;
}

// Finds what PageScan describes, in one linear pass. It only needs to be
// right on valid JSON: anything else fails the parse anyway.
void ScanPage(std::string_view s, PageScan* scan) {
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!in_string) {
      if (c == '"') {
        in_string = true;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        size_t end = i;
        while (end < s.size() &&
               std::string_view("0123456789+-.eE").find(s[end]) !=
                   std::string_view::npos) {
          ++end;
        }
        std::string_view token = s.substr(i, end - i);
        if (RapidJsonNumberTooBig(token)) {
          scan->numbers.emplace_back(i, std::string(token));
        }
        i = end - 1;
      }
      continue;
    }
    if (c == '"') {
      in_string = false;
      continue;
    }
    if (c != '\\') continue;
    if (i + 1 >= s.size()) break;
    if (s[i + 1] != 'u') {
      ++i;
      continue;
    }
    long v = Hex4(s, i + 2);
    if (v < 0) {
      ++i;
      continue;
    }
    if (v >= 0xD800 && v <= 0xDBFF) {
      if (i + 7 < s.size() && s[i + 6] == '\\' && s[i + 7] == 'u') {
        long low = Hex4(s, i + 8);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          i += 11;  // A proper pair.
          continue;
        }
      }
      scan->surrogates.emplace_back(i, std::string(s.substr(i, 6)));
    } else if (v >= 0xDC00 && v <= 0xDFFF) {
      scan->surrogates.emplace_back(i, std::string(s.substr(i, 6)));
    }
    i += 5;
  }
}

// Builds the Document from the reader's events, converting numbers itself.
// RapidJSON 1.1's full-precision number parsing (internal/strtod.h) is wrong
// on some inputs, found by fuzz/page_parser_fuzzer.cc: undefined behaviour
// (__builtin_clzll(0)) and wrong values, e.g. 0E220 read as 3.5e218,
// 184467440737095516155 as 1.7e-18, 1000e306 (too big) as -3.1e-308. So the
// reader hands numbers over as text and std::from_chars (exact, locale
// independent) converts them, typed as RapidJSON types them: an integer
// that fits 64 bits stays an integer, anything else is a double; below the
// smallest double it is 0 (sign kept), above the largest it is an error, as
// RapidJSON's own check of exponents over 308 already makes it.
//
// With a PageScan it also follows where it is in a page: inside the items
// of the top-level "notifications" array (the first member of that name,
// the one FindMember() finds), a value that cannot be represented marks its
// item bad (and reads as null) instead of failing the whole page.
class NumberHandler {
 public:
  NumberHandler(rapidjson::Document& doc, const rapidjson::MemoryStream& in,
                PageScan* scan)
      : doc_(doc), in_(in), scan_(scan) {}

  bool Null() {
    OnValue();
    return doc_.Null();
  }
  bool Bool(bool b) {
    OnValue();
    return doc_.Bool(b);
  }
  bool Int(int i) {
    OnValue();
    return doc_.Int(i);
  }
  bool Uint(unsigned u) {
    OnValue();
    return doc_.Uint(u);
  }
  bool Int64(int64_t i) {
    OnValue();
    return doc_.Int64(i);
  }
  bool Uint64(uint64_t u) {
    OnValue();
    return doc_.Uint64(u);
  }
  bool Double(double d) {
    OnValue();
    return doc_.Double(d);
  }
  bool String(const char* s, SizeType n, bool copy) {
    OnValue();
    Surrogates();
    return doc_.String(s, n, copy);
  }
  bool Key(const char* s, SizeType n, bool copy) {
    Surrogates();
    if (scan_ && depth_ == 1) {
      next_is_items_ = !items_seen_ && std::string_view(s, n) ==
                                           std::string_view("notifications");
      items_seen_ = items_seen_ || next_is_items_;
    }
    return doc_.Key(s, n, copy);
  }
  bool StartObject() {
    OnValue();
    ++depth_;
    return doc_.StartObject();
  }
  bool EndObject(SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() {
    bool items = scan_ && depth_ == 1 && next_is_items_;
    OnValue();
    ++depth_;
    if (items) in_items_ = true;
    return doc_.StartArray();
  }
  bool EndArray(SizeType n) {
    --depth_;
    if (in_items_ && depth_ == 1) in_items_ = false;
    return doc_.EndArray(n);
  }

  bool RawNumber(const char* s, SizeType n, bool) {
    OnValue();
    if (scan_ && next_number_ < scan_->numbers.size() &&
        scan_->numbers[next_number_].first == in_.Tell() - n) {
      // One the scan replaced by 0: too big for the reader's own check.
      const auto& [at, text] = scan_->numbers[next_number_++];
      return TooBig(at, text);
    }
    const char* end = s + n;
    if (std::string_view(s, n).find_first_of(".eE") == std::string_view::npos) {
      if (*s == '-') {
        int64_t i = 0;
        auto r = std::from_chars(s, end, i);
        if (r.ec == std::errc() && r.ptr == end) return doc_.Int64(i);
      } else {
        uint64_t u = 0;
        auto r = std::from_chars(s, end, u);
        if (r.ec == std::errc() && r.ptr == end) return doc_.Uint64(u);
      }
    }
    double d = 0;
    auto r = std::from_chars(s, end, d);
    if (r.ec == std::errc::result_out_of_range && r.ptr == end) {
      if (!Underflows(std::string_view(s, n))) {
        // The reader has just read the number: it started n bytes back.
        return TooBig(in_.Tell() - n, std::string_view(s, n));
      }
      d = *s == '-' ? -0.0 : 0.0;
    } else if (r.ec != std::errc() || r.ptr != end) {
      return false;  // Not reached: the reader checked the grammar.
    }
    return doc_.Double(d);
  }

  // Offset of a number too big for a double, once RawNumber() refused it.
  std::optional<size_t> too_big_at() const { return too_big_at_; }

 private:
  // Called at the start of every value: a value directly in the items
  // array starts the next item.
  void OnValue() {
    if (in_items_ && depth_ == 2) ++item_;
  }
  bool InItem() const { return in_items_ && depth_ >= 3; }
  // A number too big for a double at offset `at`: in an item, the item is
  // bad and the number reads as null; elsewhere the parse fails.
  bool TooBig(size_t at, std::string_view text) {
    if (InItem()) {
      MarkBad("a number beyond the range of a double (" +
              std::string(text.substr(0, 40)) +
              (text.size() > 40 ? "..." : "") + ") at offset " +
              std::to_string(at));
      return doc_.Null();
    }
    too_big_at_ = at;
    return false;
  }
  void MarkBad(std::string reason) {
    scan_->bad_items.emplace(item_, std::move(reason));
  }
  // After a string or key was read: the lone surrogates it held (those
  // before the reader's position not yet accounted for).
  void Surrogates() {
    if (!scan_) return;
    const auto& list = scan_->surrogates;
    const size_t end = in_.Tell();
    bool first = true;
    while (next_surrogate_ < list.size() && list[next_surrogate_].first < end) {
      const auto& [at, text] = list[next_surrogate_++];
      if (first && InItem()) {
        MarkBad("a lone surrogate escape " + text + " at offset " +
                std::to_string(at));
      }
      first = false;
    }
  }

  rapidjson::Document& doc_;
  const rapidjson::MemoryStream& in_;
  PageScan* scan_;
  std::optional<size_t> too_big_at_;
  // Page position (with a scan only).
  size_t depth_ = 0;            // Containers open.
  bool next_is_items_ = false;  // The last root key was "notifications".
  bool items_seen_ = false;     // That key was met already.
  bool in_items_ = false;       // Inside its array.
  size_t item_ = static_cast<size_t>(-1);  // Current item's index.
  size_t next_surrogate_ = 0;
  size_t next_number_ = 0;
};

// Parses `body` into `doc`. On failure returns false and sets `error` to
// "at offset N: <what>". With a `scan`, the body is scanned first (see
// PageScan), and bad items are recorded in it instead of failing the parse.
bool ParseJson(std::string_view body, rapidjson::Document& doc,
               std::string& error, PageScan* scan = nullptr) {
  std::string patched;
  if (scan) {
    ScanPage(body, scan);
    if (!scan->surrogates.empty() || !scan->numbers.empty()) {
      patched.assign(body);
      for (const auto& entry : scan->surrogates) {
        patched.replace(entry.first, 6, "\\ufffd");
      }
      for (const auto& [at, text] : scan->numbers) {
        patched.replace(at, text.size(),
                        "0" + std::string(text.size() - 1, ' '));
      }
      body = patched;
    }
  }
  rapidjson::MemoryStream stream(body.data(), body.size());
  NumberHandler handler(doc, stream, scan);
  rapidjson::Reader reader;
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document&) {
    result = reader.Parse<kParseFlags>(stream, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (result.IsError()) {
    size_t offset = result.Offset();
    rapidjson::ParseErrorCode code = result.Code();
    if (handler.too_big_at()) {
      offset = *handler.too_big_at();
      code = rapidjson::kParseErrorNumberTooBig;
    }
    error = "at offset " + std::to_string(offset) + ": " +
            rapidjson::GetParseError_En(code);
    return false;
  }
  for (size_t i = stream.Tell(); i < body.size(); ++i) {
    char c = body[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      error = "at offset " + std::to_string(i) + ": " +
              rapidjson::GetParseError_En(
                  rapidjson::kParseErrorDocumentRootNotSingular);
      return false;
    }
  }
  return true;
}

std::string StringOf(const Value& v) {
  return SanitizeUtf8(std::string_view(v.GetString(), v.GetStringLength()));
}

std::string Quoted(const char* name) { return std::string("\"") + name + "\""; }

// Writes `root` compactly without recursion (rawContent may nest deeply).
std::string CompactJson(const Value& root) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  struct Frame {
    const Value* container;
    SizeType next;
  };
  std::vector<Frame> stack;
  auto write = [&writer, &stack](const Value& v) {
    switch (v.GetType()) {
      case rapidjson::kNullType:
        writer.Null();
        break;
      case rapidjson::kFalseType:
        writer.Bool(false);
        break;
      case rapidjson::kTrueType:
        writer.Bool(true);
        break;
      case rapidjson::kNumberType:
        if (v.IsUint64()) {
          writer.Uint64(v.GetUint64());
        } else if (v.IsInt64()) {
          writer.Int64(v.GetInt64());
        } else {
          writer.Double(v.GetDouble());
        }
        break;
      case rapidjson::kStringType:
        writer.String(v.GetString(), v.GetStringLength());
        break;
      case rapidjson::kObjectType:
        writer.StartObject();
        stack.push_back({&v, 0});
        break;
      case rapidjson::kArrayType:
        writer.StartArray();
        stack.push_back({&v, 0});
        break;
    }
  };
  write(root);
  while (!stack.empty()) {
    Frame& top = stack.back();
    const Value& c = *top.container;
    if (c.IsObject()) {
      if (top.next == c.MemberCount()) {
        writer.EndObject();
        stack.pop_back();
        continue;
      }
      const auto& member = c.MemberBegin()[top.next++];
      writer.Key(member.name.GetString(), member.name.GetStringLength());
      write(member.value);  // May grow `stack`: `top` is not used after.
    } else {
      if (top.next == c.Size()) {
        writer.EndArray();
        stack.pop_back();
        continue;
      }
      write(c[top.next++]);
    }
  }
  // Raw bytes in strings were copied as they were; JSON's own bytes are
  // ASCII, so sanitizing the text only touches string contents.
  return SanitizeUtf8(std::string_view(buffer.GetString(), buffer.GetSize()));
}

// Reads optional string member `name` of `obj` into `out`: nullopt when
// missing or null. Returns an error message, or "" on success.
std::string OptionalString(const Value& obj, const char* name,
                           std::optional<std::string>& out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    out.reset();
    return "";
  }
  if (!it->value.IsString()) return Quoted(name) + " must be a string or null";
  out = StringOf(it->value);
  return "";
}

// Reads required string member `name` of `obj`.
std::string RequiredString(const Value& obj, const char* name,
                           std::optional<std::string>& out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return "missing required field " + Quoted(name);
  if (!it->value.IsString()) return Quoted(name) + " must be a string";
  out = StringOf(it->value);
  return "";
}

void ReadRawContent(const Value& obj, Notification& n, bool keep = true) {
  auto it = obj.FindMember("rawContent");
  if (!keep || it == obj.MemberEnd() || it->value.IsNull()) {
    n.raw_content.reset();
  } else {
    n.raw_content = CompactJson(it->value);
  }
}

// One item of a page. Returns an error message, or "".
std::string ParsePageItem(const Value& item, bool keep_raw_content,
                          Notification& n) {
  if (!item.IsObject()) return "must be a JSON object";
  auto id = item.FindMember("id");
  if (id == item.MemberEnd()) return "missing required field \"id\"";
  if (!id->value.IsString()) return "\"id\" must be a string";
  n.id.assign(id->value.GetString(), id->value.GetStringLength());
  if (!IsValidId(n.id)) {
    return "\"id\" must be 1 to 128 bytes of [A-Za-z0-9._:-]";
  }
  std::optional<std::string> time;
  std::string error = OptionalString(item, "time", time);
  if (!error.empty()) return error;
  n.time = time.value_or("");
  static constexpr const char* kFields[] = {"service", "project", "group",
                                            "type",    "text",    "link"};
  std::optional<std::string>* targets[] = {&n.service, &n.project, &n.group,
                                           &n.type,    &n.text,    &n.link};
  for (size_t i = 0; i < 6; ++i) {
    error = OptionalString(item, kFields[i], *targets[i]);
    if (!error.empty()) return error;
  }
  ReadRawContent(item, n, keep_raw_content);
  return "";
}

// A gate-shaped object. `default_project` null: "project" is required.
std::string ParseGateObject(const Value& obj,
                            const std::string* default_project,
                            Notification& n) {
  if (!obj.IsObject()) return "must be a JSON object";
  std::string error = RequiredString(obj, "service", n.service);
  if (!error.empty()) return error;
  if (default_project == nullptr) {
    error = RequiredString(obj, "project", n.project);
  } else {
    if (!OptionalString(obj, "project", n.project).empty()) {
      return "\"project\" must be a string";
    }
    if (!n.project.has_value()) n.project = *default_project;
  }
  if (!error.empty()) return error;
  error = RequiredString(obj, "group", n.group);
  if (!error.empty()) return error;
  error = RequiredString(obj, "type", n.type);
  if (!error.empty()) return error;
  error = OptionalString(obj, "text", n.text);
  if (!error.empty()) return error;
  error = OptionalString(obj, "link", n.link);
  if (!error.empty()) return error;
  ReadRawContent(obj, n);
  return "";
}

std::string ItemError(size_t index, const std::string& error) {
  return "item " + std::to_string(index) + ": " + error;
}

// Reads the top-level string members of one JSON object into bound slots.
// A SAX handler rather than a DOM: only the top level matters, and a deeply
// nested rawContent must cost neither a recursive destructor nor a copy.
// Returning false stops the parse; error() then says why.
class TopLevelStrings
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelStrings> {
 public:
  // Member `name`, when present, must be a string (stored, sanitized) or
  // null (stored as nullopt). `slot` must outlive the parse.
  void Bind(const char* name, std::optional<std::string>* slot) {
    slots_.push_back({name, slot});
  }

  // Scalars other than strings and null: fine below the top level or in an
  // unbound member, a type error in a bound one.
  bool Default() { return Value(); }
  bool Null() {
    if (depth_ == 1 && current_ != nullptr) {
      current_->reset();
      return true;
    }
    return Value();
  }
  bool String(const char* s, SizeType length, bool /*copy*/) {
    if (depth_ == 1 && current_ != nullptr) {
      *current_ = SanitizeUtf8(std::string_view(s, length));
      return true;
    }
    return Value();
  }
  bool StartObject() {
    if (depth_ > 0 && !Value()) return false;
    ++depth_;
    return true;
  }
  bool Key(const char* s, SizeType length, bool /*copy*/) {
    if (depth_ == 1) {
      key_.assign(s, length);
      current_ = nullptr;
      for (const Slot& slot : slots_) {
        if (key_ == slot.name) current_ = slot.value;
      }
    }
    return true;
  }
  bool EndObject(SizeType /*members*/) {
    --depth_;
    return true;
  }
  bool StartArray() {
    if (!Value()) return false;
    ++depth_;
    return true;
  }
  bool EndArray(SizeType /*elements*/) {
    --depth_;
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  struct Slot {
    const char* name;
    std::optional<std::string>* value;
  };

  // A value that is not a string or null: the root must be an object, and
  // a bound member a string or null.
  bool Value() {
    if (depth_ == 0) {
      error_ = "not a JSON object";
      return false;
    }
    if (depth_ == 1 && current_ != nullptr) {
      error_ = "\"" + key_ + "\" must be a string or null";
      return false;
    }
    return true;
  }

  std::vector<Slot> slots_;
  int depth_ = 0;
  std::string key_;
  std::optional<std::string>* current_ = nullptr;  // Slot of key_, if bound.
  std::string error_;
};

// Parses `data` with `handler`. Returns "" or the error message.
std::string ParseTopLevel(std::string_view data, TopLevelStrings& handler) {
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(data.data(), data.size());
  // Iterative: no recursion whatever the nesting of rawContent. Stop when
  // done, then check the tail ourselves (RapidJSON's own check stops at the
  // first NUL byte).
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(stream, handler);
  if (!ok) {
    if (!handler.error().empty()) return handler.error();
    return "not valid JSON at offset " + std::to_string(ok.Offset()) + ": " +
           rapidjson::GetParseError_En(ok.Code());
  }
  for (size_t i = stream.Tell(); i < data.size(); ++i) {
    char c = data[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return "not valid JSON at offset " + std::to_string(i) + ": " +
             rapidjson::GetParseError_En(
                 rapidjson::kParseErrorDocumentRootNotSingular);
    }
  }
  return "";
}

}  // namespace

Result<Page> ParsePage(std::string_view body, size_t max_items) {
  PageOptions options;
  options.max_items = max_items;
  return ParsePage(body, options);
}

Result<Page> ParsePage(std::string_view body, const PageOptions& options) {
  rapidjson::Document doc;
  std::string error;
  PageScan scan;
  if (!ParseJson(body, doc, error, &scan)) {
    return Status::InvalidArgument("truncated or invalid JSON " + error);
  }
  if (!doc.IsObject()) {
    return Status::InvalidArgument("page must be a JSON object");
  }
  auto items = doc.FindMember("notifications");
  if (items == doc.MemberEnd()) {
    return Status::InvalidArgument("missing required field \"notifications\"");
  }
  if (!items->value.IsArray()) {
    return Status::InvalidArgument("\"notifications\" must be an array");
  }
  const Value& array = items->value;
  if (array.Size() > options.max_items) {
    return Status::InvalidArgument("page has " + std::to_string(array.Size()) +
                                   " items, more than the limit of " +
                                   std::to_string(options.max_items));
  }
  Page page;
  page.notifications.reserve(array.Size());
  std::string last_id;  // Of the previous item, kept or skipped.
  for (SizeType i = 0; i < array.Size(); ++i) {
    Notification n;
    error = ParsePageItem(array[i], options.keep_raw_content, n);
    if (!error.empty()) return Status::InvalidArgument(ItemError(i, error));
    if (!last_id.empty() && CompareIds(n.id, last_id) <= 0) {
      return Status::InvalidArgument("ids out of order at item " +
                                     std::to_string(i) + " (" + n.id +
                                     " <= " + last_id + ")");
    }
    last_id = n.id;
    if (auto bad = scan.bad_items.find(i); bad != scan.bad_items.end()) {
      page.skipped.push_back(SkippedItem{SkippedItem::Kind::kUnrepresentable, i,
                                         n.id, bad->second});
      continue;
    }
    const size_t bytes = n.ByteSize();
    if (options.max_item_bytes > 0 && bytes > options.max_item_bytes) {
      page.skipped.push_back(
          SkippedItem{SkippedItem::Kind::kTooLarge, i, n.id,
                      std::to_string(bytes) + " bytes, above the cap of " +
                          std::to_string(options.max_item_bytes)});
      continue;
    }
    page.notifications.push_back(std::move(n));
  }
  auto cursor = doc.FindMember("cursor");
  if (cursor == doc.MemberEnd()) {
    return Status::InvalidArgument("missing required field \"cursor\"");
  }
  if (!cursor->value.IsString()) {
    return Status::InvalidArgument("\"cursor\" must be a string");
  }
  page.cursor.assign(cursor->value.GetString(),
                     cursor->value.GetStringLength());
  if (!page.cursor.empty() && !IsValidId(page.cursor)) {
    return Status::InvalidArgument(
        "\"cursor\" must be \"\" or 1 to 128 bytes of [A-Za-z0-9._:-]");
  }
  if (!last_id.empty() && page.cursor != last_id) {
    return Status::InvalidArgument("cursor \"" + page.cursor +
                                   "\" is not the last id \"" + last_id + "\"");
  }
  auto more = doc.FindMember("more");
  if (more != doc.MemberEnd()) {
    if (!more->value.IsBool()) {
      return Status::InvalidArgument("\"more\" must be a boolean");
    }
    page.more = more->value.GetBool();
  }
  return page;
}

Result<Notification> ParseGateNotification(std::string_view body,
                                           const std::string& default_project) {
  rapidjson::Document doc;
  std::string error;
  if (!ParseJson(body, doc, error)) {
    return Status::InvalidArgument("body is not valid JSON " + error);
  }
  if (!doc.IsObject()) {
    return Status::InvalidArgument("body must be a JSON object");
  }
  Notification n;
  error = ParseGateObject(doc, &default_project, n);
  if (!error.empty()) return Status::InvalidArgument(error);
  return n;
}

Result<Notification> ParseAmqpNotification(std::string_view body) {
  rapidjson::Document doc;
  std::string error;
  if (!ParseJson(body, doc, error)) {
    return Status::InvalidArgument("body is not valid JSON " + error);
  }
  if (!doc.IsObject()) {
    return Status::InvalidArgument("body must be a JSON object");
  }
  Notification n;
  // The fields and their types are the gate's, with "project" required:
  // the Notifications Center always sets it.
  error = ParseGateObject(doc, nullptr, n);
  if (!error.empty()) return Status::InvalidArgument(error);
  return n;
}

Result<std::vector<Notification>> ParseNotificationArray(
    std::string_view body) {
  rapidjson::Document doc;
  std::string error;
  if (!ParseJson(body, doc, error)) {
    return Status::InvalidArgument("not valid JSON " + error);
  }
  if (!doc.IsArray()) {
    return Status::InvalidArgument("top level must be a JSON array");
  }
  std::vector<Notification> out;
  out.reserve(doc.Size());
  for (SizeType i = 0; i < doc.Size(); ++i) {
    Notification n;
    error = ParseGateObject(doc[i], nullptr, n);
    if (!error.empty()) return Status::InvalidArgument(ItemError(i, error));
    out.push_back(std::move(n));
  }
  return out;
}

std::string ParseErrorBody(std::string_view body) {
  constexpr size_t kMaxBytes = 200;
  rapidjson::Document doc;
  std::string error;
  if (!ParseJson(body, doc, error) || !doc.IsObject()) return "";
  auto code = doc.FindMember("error");
  if (code == doc.MemberEnd() || !code->value.IsString()) return "";
  std::string out = StringOf(code->value);
  auto message = doc.FindMember("message");
  if (message != doc.MemberEnd() && message->value.IsString()) {
    out += ": ";
    out += StringOf(message->value);
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  if (out.size() > kMaxBytes) {
    size_t cut = kMaxBytes;
    // Back off to the start of a character (out is valid UTF-8).
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out.resize(cut);
  }
  return out;
}

Result<Notification> ParseStreamNotification(std::string_view data) {
  Notification n;
  std::optional<std::string> id, time;
  TopLevelStrings handler;
  handler.Bind("id", &id);
  handler.Bind("time", &time);
  handler.Bind("service", &n.service);
  handler.Bind("project", &n.project);
  handler.Bind("group", &n.group);
  handler.Bind("type", &n.type);
  handler.Bind("text", &n.text);
  handler.Bind("link", &n.link);
  std::string error = ParseTopLevel(data, handler);
  if (!error.empty()) return Status::InvalidArgument(error);
  n.id = id.value_or("");
  n.time = time.value_or("");
  return n;
}

std::string ParseResetMessage(std::string_view data) {
  std::optional<std::string> message, reason;
  TopLevelStrings handler;
  handler.Bind("message", &message);
  handler.Bind("reason", &reason);
  if (!ParseTopLevel(data, handler).empty()) return "";
  if (message && !message->empty()) return *message;
  if (reason && !reason->empty()) return *reason;
  return "";
}

}  // namespace notifications
