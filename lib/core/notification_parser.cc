#include "notification_parser.h"

#include "utf8.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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
class NumberHandler {
 public:
  NumberHandler(rapidjson::Document& doc, const rapidjson::MemoryStream& in)
      : doc_(doc), in_(in) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool String(const char* s, SizeType n, bool copy) {
    return doc_.String(s, n, copy);
  }
  bool Key(const char* s, SizeType n, bool copy) {
    return doc_.Key(s, n, copy);
  }
  bool StartObject() { return doc_.StartObject(); }
  bool EndObject(SizeType n) { return doc_.EndObject(n); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(SizeType n) { return doc_.EndArray(n); }

  bool RawNumber(const char* s, SizeType n, bool) {
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
        too_big_at_ = in_.Tell() - n;
        return false;
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
  rapidjson::Document& doc_;
  const rapidjson::MemoryStream& in_;
  std::optional<size_t> too_big_at_;
};

// Parses `body` into `doc`. On failure returns false and sets `error` to
// "at offset N: <what>".
bool ParseJson(std::string_view body, rapidjson::Document& doc,
               std::string& error) {
  rapidjson::MemoryStream stream(body.data(), body.size());
  NumberHandler handler(doc, stream);
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

void ReadRawContent(const Value& obj, Notification& n) {
  auto it = obj.FindMember("rawContent");
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    n.raw_content.reset();
  } else {
    n.raw_content = CompactJson(it->value);
  }
}

// One item of a page. Returns an error message, or "".
std::string ParsePageItem(const Value& item, Notification& n) {
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
  ReadRawContent(item, n);
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

}  // namespace

Result<Page> ParsePage(std::string_view body, size_t max_items) {
  rapidjson::Document doc;
  std::string error;
  if (!ParseJson(body, doc, error)) {
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
  if (array.Size() > max_items) {
    return Status::InvalidArgument("page has " + std::to_string(array.Size()) +
                                   " items, more than the limit of " +
                                   std::to_string(max_items));
  }
  Page page;
  page.notifications.reserve(array.Size());
  for (SizeType i = 0; i < array.Size(); ++i) {
    Notification n;
    error = ParsePageItem(array[i], n);
    if (!error.empty()) return Status::InvalidArgument(ItemError(i, error));
    if (!page.notifications.empty() &&
        CompareIds(n.id, page.notifications.back().id) <= 0) {
      return Status::InvalidArgument(
          "ids out of order at item " + std::to_string(i) + " (" + n.id +
          " <= " + page.notifications.back().id + ")");
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
  if (!page.notifications.empty() &&
      page.cursor != page.notifications.back().id) {
    return Status::InvalidArgument("cursor \"" + page.cursor +
                                   "\" is not the last id \"" +
                                   page.notifications.back().id + "\"");
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

}  // namespace notifications
