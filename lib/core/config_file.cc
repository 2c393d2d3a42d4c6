#include "config_file.h"

#include <utility>

namespace notifications {
namespace {

constexpr size_t kMaxKeyBytes = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Reads a quoted value at the start of `s` (which starts with '"' or '\'')
// into `out`; `s` is left after the closing quote. Empty error on success.
std::string ReadQuoted(std::string_view& s, std::string* out) {
  const char quote = s.front();
  s.remove_prefix(1);
  while (!s.empty()) {
    char c = s.front();
    s.remove_prefix(1);
    if (c == quote) return "";
    if (c == '\\' && quote == '"' && !s.empty() &&
        (s.front() == '\\' || s.front() == '"')) {
      c = s.front();
      s.remove_prefix(1);
    }
    *out += c;
  }
  return "unterminated quoted value";
}

// Reads an array "[a, "b", ...]" (all of `s`, trimmed, starting with '[').
std::string ReadArray(std::string_view s, std::vector<std::string>* values) {
  s.remove_prefix(1);  // '['
  s = Trim(s);
  if (s.empty() || s.back() != ']') return "unterminated array (no ']')";
  s.remove_suffix(1);
  s = Trim(s);
  if (s.empty()) return "";
  while (true) {
    std::string item;
    if (s.front() == '"' || s.front() == '\'') {
      std::string error = ReadQuoted(s, &item);
      if (!error.empty()) return error;
    } else {
      size_t end = 0;
      while (end < s.size() && s[end] != ',' && s[end] != ']' &&
             !IsSpace(s[end])) {
        ++end;
      }
      if (end == 0) return "empty array item";
      item = std::string(s.substr(0, end));
      s.remove_prefix(end);
    }
    values->push_back(std::move(item));
    s = Trim(s);
    if (s.empty()) return "";
    if (s.front() != ',') return "expected ',' between array items";
    s.remove_prefix(1);
    s = Trim(s);
    if (s.empty()) return "empty array item";
  }
}

// Parses one line (without its line end). Adds an entry to `entries` for
// `key = value`; empty error on success.
std::string ParseLine(std::string_view line, size_t number,
                      std::vector<ConfigEntry>* entries) {
  line = Trim(line);
  if (line.empty() || line.front() == '#' || line.front() == ';') return "";
  if (line.front() == '[') {
    std::string_view name = line.substr(1);
    if (name.empty() || name.back() != ']') return "unterminated section";
    name = Trim(name.substr(0, name.size() - 1));
    if (name != "default") {
      return "sections are not supported (only [default]); write each "
             "setting as key = value at the top level";
    }
    return "";
  }
  size_t key_end = 0;
  while (key_end < line.size() && IsKeyChar(line[key_end])) ++key_end;
  if (key_end == 0) return "expected key = value";
  if (key_end > kMaxKeyBytes) return "key longer than 64 characters";
  ConfigEntry entry;
  entry.key = std::string(line.substr(0, key_end));
  entry.line = number;
  std::string_view rest = Trim(line.substr(key_end));
  if (rest.empty() || rest.front() != '=') return "expected key = value";
  std::string_view value = Trim(rest.substr(1));
  if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
    std::string text;
    std::string error = ReadQuoted(value, &text);
    if (!error.empty()) return error;
    if (!Trim(value).empty()) return "unexpected text after a quoted value";
    entry.values.push_back(std::move(text));
  } else if (!value.empty() && value.front() == '[') {
    std::string error = ReadArray(value, &entry.values);
    if (!error.empty()) return error;
  } else {
    entry.values.emplace_back(value);
  }
  entries->push_back(std::move(entry));
  return "";
}

}  // namespace

Result<std::vector<ConfigEntry>> ParseConfigFile(std::string_view text) {
  if (text.size() > kMaxConfigFileBytes) {
    return Status::InvalidArgument("larger than " +
                                   std::to_string(kMaxConfigFileBytes) +
                                   " bytes: not a settings file");
  }
  std::vector<ConfigEntry> entries;
  size_t number = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    ++number;
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line) {
      auto b = static_cast<unsigned char>(c);
      if ((b < 0x20 && c != '\t') || b == 0x7F) {
        return Status::InvalidArgument("line " + std::to_string(number) +
                                       ": control character");
      }
    }
    std::string error = ParseLine(line, number, &entries);
    if (!error.empty()) {
      return Status::InvalidArgument("line " + std::to_string(number) + ": " +
                                     error);
    }
  }
  return entries;
}

}  // namespace notifications
