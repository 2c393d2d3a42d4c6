#include "notification_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>

#include "utf8.h"

namespace notifications {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writer::String copies bytes >= 0x80 as they are (no validation), so
// strings are made valid UTF-8 first. Valid input is the common case; it is
// only scanned, not copied.
bool IsAsciiOnly(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void WriteString(JsonWriter& w, std::string_view s) {
  if (IsAsciiOnly(s)) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  std::string clean = SanitizeUtf8(s);
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void WriteOptional(JsonWriter& w, const std::optional<std::string>& s) {
  if (s.has_value()) {
    WriteString(w, *s);
  } else {
    w.Null();
  }
}

void WriteNotification(JsonWriter& w, const Notification& n,
                       bool include_raw_content) {
  w.StartObject();
  w.Key("id");
  WriteString(w, n.id);
  w.Key("time");
  WriteString(w, n.time);
  w.Key("service");
  WriteOptional(w, n.service);
  w.Key("project");
  WriteOptional(w, n.project);
  w.Key("group");
  WriteOptional(w, n.group);
  w.Key("type");
  WriteOptional(w, n.type);
  w.Key("text");
  WriteOptional(w, n.text);
  w.Key("link");
  WriteOptional(w, n.link);
  if (include_raw_content) {
    w.Key("rawContent");
    if (n.raw_content.has_value() && !n.raw_content->empty()) {
      w.RawValue(n.raw_content->data(), n.raw_content->size(),
                 rapidjson::kObjectType);
    } else {
      // An empty raw_content is not JSON; null keeps the output valid.
      w.Null();
    }
  }
  w.EndObject();
}

std::string Take(const rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string NotificationToJson(const Notification& n,
                               bool include_raw_content) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteNotification(w, n, include_raw_content);
  return Take(buffer);
}

std::string PageToJson(const std::vector<Notification>& items,
                       const std::string& cursor, bool more) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("notifications");
  w.StartArray();
  for (const Notification& n : items) WriteNotification(w, n, true);
  w.EndArray();
  w.Key("cursor");
  WriteString(w, cursor);
  w.Key("more");
  w.Bool(more);
  w.EndObject();
  return Take(buffer);
}

std::string ErrorToJson(const std::string& code, const std::string& message) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("error");
  WriteString(w, code);
  w.Key("message");
  WriteString(w, message);
  w.EndObject();
  return Take(buffer);
}

std::string JsonString(std::string_view s) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteString(w, s);
  return Take(buffer);
}

}  // namespace notifications
