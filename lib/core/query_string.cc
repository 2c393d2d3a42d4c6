#include "query_string.h"
#include "url_encoding.h"

namespace notifications {

std::string FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigitValue(text[i + 1]) * 16 +
                                      HexDigitValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c == '+' ? ' ' : c);
    }
  }
  return out;
}

QueryParams ParseQueryString(std::string_view query, size_t max_params,
                             bool* truncated) {
  QueryParams params;
  if (truncated) *truncated = false;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view piece = query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    if (params.size() == max_params) {
      if (truncated) *truncated = true;
      break;
    }
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos
                                 ? std::string_view()
                                 : piece.substr(eq + 1);
    params.emplace(FormDecode(name), FormDecode(value));
  }
  return params;
}

}  // namespace notifications
