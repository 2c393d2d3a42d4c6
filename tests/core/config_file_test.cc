#include "config_file.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace notifications {
namespace {

// The entries as "key=v1|v2@line" strings, or the error.
std::vector<std::string> Read(std::string_view text) {
  Result<std::vector<ConfigEntry>> r = ParseConfigFile(text);
  if (!r.ok()) return {"error: " + r.status().message()};
  std::vector<std::string> out;
  for (const ConfigEntry& e : *r) {
    std::string s = e.key + "=";
    for (size_t i = 0; i < e.values.size(); ++i) {
      s += (i ? "|" : "") + e.values[i];
    }
    out.push_back(s + "@" + std::to_string(e.line));
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST_CASE("config file: key = value lines, comments, blank lines, CRLF") {
  CHECK(Read("") == Lines{});
  CHECK(Read("# comment\n; other\n\n  \t\nheartbeat = 3\r\nretry=0.5") ==
        Lines{"heartbeat=3@5", "retry=0.5@6"});
  CHECK(Read("[default]\nhistory = 50\n") == Lines{"history=50@2"});
  // The rest of the line is the value, '#' included.
  CHECK(Read("base-path = /a#b  \n") == Lines{"base-path=/a#b@1"});
  CHECK(Read("public-dir =\n") == Lines{"public-dir=@1"});
}

TEST_CASE("config file: quoted values and arrays") {
  CHECK(Read(R"(delivery-url = "http://h/delivery")") ==
        Lines{"delivery-url=http://h/delivery@1"});
  CHECK(Read(R"(a = "q\"uo\\te")") == Lines{R"(a=q"uo\te@1)"});
  CHECK(Read(R"(a = 'lit\eral # x')") == Lines{R"(a=lit\eral # x@1)"});
  CHECK(Read("allow-origin = [\"https://a\", https://b ,'https://c']") ==
        Lines{"allow-origin=https://a|https://b|https://c@1"});
  CHECK(Read("allow-origin = []") == Lines{"allow-origin=@1"});
  CHECK(Read("a = 1\na = 2\n") == Lines{"a=1@1", "a=2@2"});
}

TEST_CASE("config file: errors name the line, never its content") {
  CHECK(Read("heartbeat 3") == Lines{"error: line 1: expected key = value"});
  CHECK(Read("\n= 3") == Lines{"error: line 2: expected key = value"});
  CHECK(Read("a = \"s3cret") ==
        Lines{"error: line 1: unterminated quoted value"});
  CHECK(Read("a = \"x\" y") ==
        Lines{"error: line 1: unexpected text after a quoted value"});
  CHECK(Read("a = [x, y") ==
        Lines{"error: line 1: unterminated array (no ']')"});
  CHECK(Read("a = [x,,y]") == Lines{"error: line 1: empty array item"});
  CHECK(Read("a = [x y]") ==
        Lines{"error: line 1: expected ',' between array items"});
  CHECK(Read("[server]\n") ==
        Lines{"error: line 1: sections are not supported (only [default]); "
              "write each setting as key = value at the top level"});
  CHECK(Read("[default\n") == Lines{"error: line 1: unterminated section"});
  CHECK(Read("a = x\x1b[31m") == Lines{"error: line 1: control character"});
  CHECK(Read(std::string("a = x\0y", 7)) ==
        Lines{"error: line 1: control character"});
  CHECK(Read("a = x\ry") == Lines{"error: line 1: control character"});
  CHECK(Read(std::string(65, 'k') + " = 1") ==
        Lines{"error: line 1: key longer than 64 characters"});
  CHECK(Read("st\xC3\xA9 = 1") == Lines{"error: line 1: expected key = value"});
  CHECK(Read(std::string(kMaxConfigFileBytes + 1, '#')) ==
        Lines{"error: larger than 1048576 bytes: not a settings file"});
}

}  // namespace
}  // namespace notifications
