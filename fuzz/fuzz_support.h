// Helpers shared by the fuzz targets (fuzz/README.md): oracles written
// independently of lib/ so that a fuzzer compares two implementations
// instead of one implementation with itself.
//
// Header-only, no state. FUZZ_CHECK() reports a broken invariant on stderr
// and aborts, which libFuzzer records as a crash (fuzz code only: nothing in
// lib/ aborts).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond, what)                                                \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n  (%s)\n", __FILE__, \
                   __LINE__, #cond, std::string(what).c_str());               \
      std::abort();                                                           \
    }                                                                         \
  } while (false)

namespace fuzz {

// Length of the well-formed UTF-8 sequence at s[i], or 0 when there is none.
// When 0, `*maximal_subpart` gets the length (>= 1) of the maximal subpart
// of an ill-formed sequence at s[i]: the longest prefix that could still
// begin a well-formed sequence, or 1. Straight from the Unicode Standard,
// Table 3-7 "Well-Formed UTF-8 Byte Sequences", one row per range.
inline size_t WellFormedLength(std::string_view s, size_t i,
                               size_t* maximal_subpart) {
  struct Row {
    unsigned char lead_lo, lead_hi;
    unsigned char second_lo, second_hi;
    size_t length;
  };
  static constexpr Row kRows[] = {
      {0x00, 0x7F, 0, 0, 1},        // U+0000..U+007F
      {0xC2, 0xDF, 0x80, 0xBF, 2},  // U+0080..U+07FF
      {0xE0, 0xE0, 0xA0, 0xBF, 3},  // U+0800..U+0FFF
      {0xE1, 0xEC, 0x80, 0xBF, 3},  // U+1000..U+CFFF
      {0xED, 0xED, 0x80, 0x9F, 3},  // U+D000..U+D7FF (no surrogates)
      {0xEE, 0xEF, 0x80, 0xBF, 3},  // U+E000..U+FFFF
      {0xF0, 0xF0, 0x90, 0xBF, 4},  // U+10000..U+3FFFF
      {0xF1, 0xF3, 0x80, 0xBF, 4},  // U+40000..U+FFFFF
      {0xF4, 0xF4, 0x80, 0x8F, 4},  // U+100000..U+10FFFF
  };
  auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  *maximal_subpart = 1;
  const unsigned char lead = byte(i);
  for (const Row& row : kRows) {
    if (lead < row.lead_lo || lead > row.lead_hi) continue;
    if (row.length == 1) return 1;
    size_t k = 1;
    for (; k < row.length; ++k) {
      if (i + k >= s.size()) break;
      unsigned char lo = k == 1 ? row.second_lo : 0x80;
      unsigned char hi = k == 1 ? row.second_hi : 0xBF;
      if (byte(i + k) < lo || byte(i + k) > hi) break;
    }
    if (k == row.length) return row.length;
    *maximal_subpart = k;
    return 0;
  }
  return 0;  // C0, C1, F5..FF, or a continuation byte where a lead belongs.
}

inline bool IsValidUtf8(std::string_view s) {
  size_t unused = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = WellFormedLength(s, i, &unused);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Each maximal subpart of an ill-formed sequence becomes one U+FFFD: the
// "U+FFFD substitution of maximal subparts" of the Unicode Standard (3.9),
// which is also what the WHATWG Encoding Standard's UTF-8 decoder does.
inline std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t subpart = 0;
    size_t n = WellFormedLength(s, i, &subpart);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += subpart;
    }
  }
  return out;
}

// The id grammar of docs/delivery-api.md: 1..128 bytes of [A-Za-z0-9._:-].
inline bool IsContractId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

// Shortlex, as docs/delivery-api.md defines the order of ids.
inline bool IdLess(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

inline char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// Takes the text up to the first LF off `rest` (all of it when none).
inline std::string_view TakeLine(std::string_view& rest) {
  size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  return line;
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%XX" decoded, '+' as a space, a stray '%' kept: what a server does with
// a query string before the handler sees its parameters.
inline std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// "a=1&b=%23&a=2&c" -> {a: 1, a: 2, b: #, c: ""}; empty pieces are skipped.
inline std::multimap<std::string, std::string> ParseQuery(std::string_view q) {
  std::multimap<std::string, std::string> params;
  for (std::string_view piece : Split(q, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos
                                 ? std::string_view()
                                 : piece.substr(eq + 1);
    params.emplace(PercentDecode(name), PercentDecode(value));
  }
  return params;
}

}  // namespace fuzz
