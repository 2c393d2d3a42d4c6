#include "utf8.h"

namespace notifications {

namespace {

// U+FFFD REPLACEMENT CHARACTER.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

std::string SanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    // Copy the run of ASCII at once.
    size_t run = i;
    while (run < n && static_cast<unsigned char>(bytes[run]) < 0x80) ++run;
    out.append(bytes.substr(i, run - i));
    i = run;
    if (i == n) break;

    // The WHATWG UTF-8 decoder: the lead byte sets how many continuation
    // bytes follow and the range of the first one; a byte out of range ends
    // the sequence with one U+FFFD and is itself decoded again.
    auto lead = static_cast<unsigned char>(bytes[i]);
    size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      needed = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      needed = 2;
      if (lead == 0xE0) lower = 0xA0;
      if (lead == 0xED) upper = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      needed = 3;
      if (lead == 0xF0) lower = 0x90;
      if (lead == 0xF4) upper = 0x8F;
    } else {
      out.append(kReplacement);
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool complete = true;
    for (size_t k = 0; k < needed; ++k, ++j) {
      if (j == n) {
        complete = false;
        break;
      }
      auto c = static_cast<unsigned char>(bytes[j]);
      if (c < lower || c > upper) {
        complete = false;
        break;
      }
      lower = 0x80;
      upper = 0xBF;
    }
    if (complete) {
      out.append(bytes.substr(i, j - i));
    } else {
      out.append(kReplacement);
    }
    i = j;
  }
  return out;
}

bool IsControl(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

bool IsBidiFormatting(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string ReplaceUnsafeCodePoints(
    std::string_view text, bool bidi,
    const std::function<std::string(char32_t)>& replacement) {
  const std::string valid = SanitizeUtf8(text);
  std::string out;
  out.reserve(valid.size());
  size_t i = 0;
  while (i < valid.size()) {
    auto lead = static_cast<unsigned char>(valid[i]);
    // `valid` is well-formed: the lead byte gives the length.
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t cp = lead < 0x80   ? lead
                  : lead < 0xE0 ? lead & 0x1Fu
                  : lead < 0xF0 ? lead & 0x0Fu
                                : lead & 0x07u;
    for (size_t k = 1; k < length; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(valid[i + k]) & 0x3Fu);
    }
    if (IsControl(cp) || (bidi && IsBidiFormatting(cp))) {
      out += replacement(cp);
    } else {
      out.append(valid, i, length);
    }
    i += length;
  }
  return out;
}

std::string JsonEscapeOf(char32_t cp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += kHex[(cp >> shift) & 0xFu];
  }
  return out;
}

}  // namespace notifications
