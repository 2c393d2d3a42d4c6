// UTF-8 repair, for every string that comes from the network and goes out
// as text (SSE frames, JSON, terminal lines). Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace notifications {

// Returns `bytes` with every maximal ill-formed UTF-8 subsequence replaced
// by U+FFFD (EF BF BD), as the WHATWG/Unicode "UTF-8 decode" does (so the
// result matches what a browser shows). Overlong forms, surrogates
// (ED A0..BF ..) and code points above U+10FFFF are ill-formed. Valid input
// is returned unchanged.
std::string SanitizeUtf8(std::string_view bytes);

}  // namespace notifications
