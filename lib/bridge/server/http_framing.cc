#include "http_framing.h"

namespace notifications {

namespace {

void AppendClean(const std::string& s, std::string* out) {
  for (char c : s) {
    if (c != '\r' && c != '\n' && c != '\0') out->push_back(c);
  }
}

}  // namespace

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string EncodeResponseHead(int status, const HeaderFields& fields) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    ReasonPhrase(status) + "\r\n";
  for (const auto& [name, value] : fields) {
    AppendClean(name, &out);
    out += ": ";
    AppendClean(value, &out);
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string ChunkHeader(size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  char digits[2 * sizeof(size_t)];
  size_t n = 0;
  for (size_t v = size; v != 0; v >>= 4) digits[n++] = kHex[v & 0xf];
  std::string out;
  out.reserve(n + 2);
  while (n > 0) out.push_back(digits[--n]);
  out.append("\r\n");
  return out;
}

void AppendChunk(std::string_view data, std::string* out) {
  if (data.empty()) return;
  std::string header = ChunkHeader(data.size());
  out->reserve(out->size() + header.size() + data.size() + 2);
  out->append(header);
  out->append(data);
  out->append(kChunkEnd);
}

}  // namespace notifications
