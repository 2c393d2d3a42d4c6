#include "notification.h"

#include <cstring>

namespace notifications {

std::string AsciiLower(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Notification::RoutingKey() const {
  std::string key;
  key += project.value_or("");
  key += '.';
  key += group.value_or("");
  key += '.';
  key += service.value_or("");
  key += '.';
  key += type.value_or("");
  return AsciiLower(key);
}

size_t Notification::ByteSize() const {
  size_t n = id.size() + time.size();
  for (const auto* f :
       {&service, &project, &group, &type, &text, &link, &raw_content}) {
    if (f->has_value()) n += (*f)->size();
  }
  return n;
}

bool IsValidId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

int CompareIds(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = std::memcmp(a.data(), b.data(), a.size());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace notifications
