// UTF-8 repair, for every string that comes from the network and goes out
// as text (SSE frames, JSON, terminal lines). Pure and thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace notifications {

// Returns `bytes` with every maximal ill-formed UTF-8 subsequence replaced
// by U+FFFD (EF BF BD), as the WHATWG/Unicode "UTF-8 decode" does (so the
// result matches what a browser shows). Overlong forms, surrogates
// (ED A0..BF ..) and code points above U+10FFFF are ill-formed. Valid input
// is returned unchanged.
std::string SanitizeUtf8(std::string_view bytes);

// The code points a terminal or a log must never receive raw from the
// network: controls, C0 (U+0000..U+001F), DEL (U+007F) and C1
// (U+0080..U+009F), which drive terminals (escape sequences, OSC 8
// hyperlinks); and, with `bidi`, the bidirectional formatting characters
// that reorder what is shown (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069).
bool IsControl(char32_t code_point);
bool IsBidiFormatting(char32_t code_point);

// `text` made valid UTF-8 (SanitizeUtf8()), with each control (and, with
// `bidi`, each bidirectional formatting character) replaced by
// `replacement(code_point)`. Everything else is kept as it is.
std::string ReplaceUnsafeCodePoints(
    std::string_view text, bool bidi,
    const std::function<std::string(char32_t)>& replacement);

// "\u" and four upper-case hex digits, e.g. "\u001B" (as RapidJSON writes
// them): the JSON escape of a
// code point up to U+FFFF.
std::string JsonEscapeOf(char32_t code_point);

}  // namespace notifications
