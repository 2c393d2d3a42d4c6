// Hostile strings for tests of what reaches a terminal or a log: ANSI
// escape sequences, an OSC 8 hyperlink, C1 controls, DEL and the Unicode
// bidirectional overrides and isolates; and a check that a text holds none
// of them. Header-only.
#pragma once

#include <string>
#include <vector>

#include "utf8.h"

namespace notifications {
namespace testing {

// Each as raw bytes (UTF-8 for the code points above U+007F).
inline const std::vector<std::string>& HostileStrings() {
  static const std::vector<std::string> kStrings = {
      "\x1b[2J\x1b[31mred\x1b[0m",                          // CSI: clear, color
      "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",  // OSC 8 link
      "\x1b]0;title\x1b\\",                                 // OSC title, ST
      "\xC2\x9B"
      "2J \xC2\x9D"
      "8;;x\xC2\x9C",                      // C1 CSI, OSC, ST
      "bell\x07 del\x7F nul? tab\t cr\r",  // C0, DEL
      "\xE2\x80\xAE"
      "gnp.exe",                                           // U+202E RLO
      "\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD",  // LRE RLE PDF LRO
      "\xE2\x81\xA6\xE2\x81\xA7\xE2\x81\xA8\xE2\x81\xA9",  // LRI RLI FSI PDI
      "\xE2\x80\x8E\xE2\x80\x8F\xD8\x9C",                  // LRM RLM ALM
  };
  return kStrings;
}

// True when `text` is valid UTF-8 without a control character (C0, DEL,
// C1) nor a bidirectional formatting character.
inline bool IsTerminalSafe(const std::string& text) {
  return SanitizeUtf8(text) == text &&
         ReplaceUnsafeCodePoints(
             text, true, [](char32_t) { return std::string("!"); }) == text;
}

}  // namespace testing
}  // namespace notifications
