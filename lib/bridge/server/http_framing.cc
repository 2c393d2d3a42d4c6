#include "http_framing.h"

namespace notifications {

namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

void AppendClean(const std::string& s, std::string* out) {
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') out->push_back(c);
  }
}

}  // namespace

std::string EncodeResponseHead(int status, const HeaderFields& fields) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  for (const auto& [name, value] : fields) {
    AppendClean(name, &out);
    out += ": ";
    AppendClean(value, &out);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

void AppendChunk(std::string_view data, std::string* out) {
  if (data.empty()) return;
  static constexpr char kHex[] = "0123456789abcdef";
  char size[2 * sizeof(size_t)];
  size_t n = 0;
  for (size_t v = data.size(); v != 0; v >>= 4) size[n++] = kHex[v & 0xf];
  out->reserve(out->size() + n + data.size() + 4);
  while (n > 0) out->push_back(size[--n]);
  out->append("\r\n");
  out->append(data);
  out->append("\r\n");
}

}  // namespace notifications
