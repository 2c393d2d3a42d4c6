#include "constant_time.h"

#include <cstddef>

namespace notifications {

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is visited, and one byte of `given` is loaded
  // for each (its last one, masked out, once past its end): no early
  // return, and no branch on the content or on given.size().
  static constexpr char kEmpty[1] = {0};
  const char* g = given.empty() ? kEmpty : given.data();
  const size_t last = given.empty() ? 0 : given.size() - 1;
  size_t diff = given.size() ^ expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto inside = static_cast<unsigned>(i < given.size());
    const auto mask = static_cast<unsigned char>(0u - inside);
    const size_t at = i < last ? i : last;
    const auto byte = static_cast<unsigned char>(g[at]);
    diff |= static_cast<unsigned char>((byte & mask) ^
                                       static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

}  // namespace notifications
