// Secret comparison in constant time, for the tokens the bridge (/events)
// and the mock delivery API check. Pure and thread-safe.
#pragma once

#include <string_view>

namespace notifications {

// True when `given` equals `expected`, byte for byte. The time taken
// depends only on expected.size(), never on the content of either string
// nor on given.size(): every byte of `expected` is compared (against 0
// where `given` is shorter), with no early return on the first difference
// or on a length mismatch, so that a token cannot be guessed byte by byte
// (or its length learnt) from response times. `expected` is the secret.
bool ConstantTimeEquals(std::string_view given, std::string_view expected);

}  // namespace notifications
