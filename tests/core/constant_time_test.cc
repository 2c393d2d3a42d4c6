#include "constant_time.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

TEST_CASE("constant time: equal only when every byte and the length match") {
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK(ConstantTimeEquals("", ""));
  CHECK_FALSE(ConstantTimeEquals("abd", "abc"));
  CHECK_FALSE(ConstantTimeEquals("xbc", "abc"));
  // Length mismatches, both ways, including a prefix and the empty string.
  CHECK_FALSE(ConstantTimeEquals("ab", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abcd", "abc"));
  CHECK_FALSE(ConstantTimeEquals("", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", ""));
}

TEST_CASE("constant time: bytes are compared as bytes, NUL and high included") {
  const std::string with_nul("a\0b", 3);
  CHECK(ConstantTimeEquals(with_nul, with_nul));
  CHECK_FALSE(ConstantTimeEquals(std::string("a\0c", 3), with_nul));
  // A given string shorter than the expected one is not padded with NULs
  // into equality.
  CHECK_FALSE(ConstantTimeEquals("a", std::string("a\0", 2)));
  CHECK_FALSE(ConstantTimeEquals(std::string("a\0", 2), "a"));
  CHECK(ConstantTimeEquals("\xFF\x80", "\xFF\x80"));
  CHECK_FALSE(ConstantTimeEquals("\xFF\x80", "\xFF\x81"));
  // Each single-bit flip of each byte is seen.
  const std::string token = "t0k3n-\x01\xFE";
  for (size_t i = 0; i < token.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = token;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      CHECK_FALSE(ConstantTimeEquals(flipped, token));
    }
  }
}

}  // namespace
}  // namespace notifications
