// Fuzz target: the --config file reader (lib/core/config_file.h),
// ParseConfigFile().
//
// Input: any bytes, as the text of a settings file.
//
// Oracle, besides "no crash":
//   - a file over kMaxConfigFileBytes, or holding a control byte (C0 but
//     TAB, DEL; a CR only right before a LF) is refused; whatever is
//     refused gets one line "line N: ..." (or the size message) with N at
//     most the number of lines;
//   - what is accepted: entries in file order, with strictly increasing
//     line numbers within the file, keys of 1..64 bytes of
//     [A-Za-z0-9._-], values without control bytes;
//   - it round-trips: writing each entry back as `key = [ "v1", "v2" ]` (a
//     single value as `key = "v"`), with '"' and '\' escaped, and reading
//     that gives the same keys and values.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config_file.h"
#include "fuzz_support.h"

namespace {

using notifications::ConfigEntry;
using notifications::ParseConfigFile;

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\t') || b == 0x7F) return true;
  }
  return false;
}

// The reference: is there a byte the grammar refuses anywhere?
bool ReferenceHasBadByte(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n' || b == '\t') continue;
    if (b == '\r' && (i + 1 == text.size() || text[i + 1] == '\n')) continue;
    if (b < 0x20 || b == 0x7F) return true;
  }
  return false;
}

std::string Quote(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  auto parsed = ParseConfigFile(text);
  if (text.size() > notifications::kMaxConfigFileBytes ||
      ReferenceHasBadByte(text)) {
    FUZZ_CHECK(!parsed.ok(), "a file with a control byte was accepted");
  }
  if (!parsed.ok()) {
    const std::string& m = parsed.status().message();
    FUZZ_CHECK(m.find('\n') == std::string::npos, "a multi-line error");
    if (m.rfind("line ", 0) == 0) {
      size_t n = std::stoul(m.substr(5));
      FUZZ_CHECK(n >= 1 && n <= lines, "an error names a line out of the file");
    }
    return 0;
  }
  size_t last_line = 0;
  std::string again;
  for (const ConfigEntry& e : *parsed) {
    FUZZ_CHECK(e.line > last_line && e.line <= lines,
               "line numbers out of order");
    last_line = e.line;
    FUZZ_CHECK(!e.key.empty() && e.key.size() <= 64, "key length");
    for (char c : e.key) FUZZ_CHECK(IsKeyChar(c), "a key character");
    again += e.key + " = ";
    if (e.values.size() == 1) {
      again += Quote(e.values[0]);
    } else {
      again += "[";
      for (size_t i = 0; i < e.values.size(); ++i) {
        again += (i ? ", " : "") + Quote(e.values[i]);
      }
      again += "]";
    }
    again += "\n";
    for (const std::string& v : e.values) {
      FUZZ_CHECK(!HasControl(v), "a value with a control byte");
    }
  }
  auto reparsed = ParseConfigFile(again);
  FUZZ_CHECK(reparsed.ok(), "the written entries do not read back");
  FUZZ_CHECK(reparsed->size() == parsed->size(), "entry count changed");
  for (size_t i = 0; i < parsed->size(); ++i) {
    FUZZ_CHECK((*reparsed)[i].key == (*parsed)[i].key, "a key changed");
    FUZZ_CHECK((*reparsed)[i].values == (*parsed)[i].values, "values changed");
  }
  return 0;
}
