#include "utf8.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

std::string Braces(char32_t cp) { return "{" + std::to_string(cp) + "}"; }

TEST_CASE("utf8: controls and bidi formatting characters are found") {
  for (char32_t cp : {0x00u, 0x1Bu, 0x1Fu, 0x7Fu, 0x80u, 0x9Bu, 0x9Fu}) {
    CAPTURE(cp);
    CHECK(IsControl(cp));
  }
  for (char32_t cp : {0x20u, 0x7Eu, 0xA0u, 0xE9u, 0x2014u}) {
    CAPTURE(cp);
    CHECK_FALSE(IsControl(cp));
    CHECK_FALSE(IsBidiFormatting(cp));
  }
  for (char32_t cp :
       {0x061Cu, 0x200Eu, 0x200Fu, 0x202Au, 0x202Eu, 0x2066u, 0x2069u}) {
    CAPTURE(cp);
    CHECK(IsBidiFormatting(cp));
  }
  CHECK_FALSE(IsBidiFormatting(0x2029));
  CHECK_FALSE(IsBidiFormatting(0x206A));
}

TEST_CASE(
    "utf8: unsafe code points are replaced, the rest kept byte for byte") {
  // ESC, an OSC 8 hyperlink, C1 CSI, DEL, a right-to-left override, an
  // isolate; around them ASCII, é and an emoji.
  const std::string hostile =
      "a\x1b[31mb\x1b]8;;http://evil\x07z\xC2\x9B"
      "2J\x7F\xE2\x80\xAEtxt.exe\xE2\x81\xA6\xC3\xA9\xF0\x9F\x9A\x80";
  CHECK(ReplaceUnsafeCodePoints(hostile, true, Braces) ==
        "a{27}[31mb{27}]8;;http://evil{7}z{155}2J{127}{8238}txt.exe{8294}"
        "\xC3\xA9\xF0\x9F\x9A\x80");
  // Without `bidi`, the bidi characters stay.
  CHECK(ReplaceUnsafeCodePoints("\xE2\x80\xAEx\t", false, Braces) ==
        "\xE2\x80\xAEx{9}");
  // Invalid UTF-8 is repaired first: a lone C1 byte is not a control.
  CHECK(ReplaceUnsafeCodePoints("x\x9By", true, Braces) == "x\xEF\xBF\xBDy");
  CHECK(ReplaceUnsafeCodePoints("", true, Braces) == "");
  CHECK(JsonEscapeOf(0x1B) == "\\u001B");
  CHECK(JsonEscapeOf(0x202E) == "\\u202E");
}

}  // namespace
}  // namespace notifications
