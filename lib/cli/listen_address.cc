#include "listen_address.h"

namespace notifications {

bool ParseListenAddress(const std::string& text, std::string* host, int* port,
                        std::string* error) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    *error = "expected host:port, got \"" + text + "\"";
    return false;
  }
  std::string h = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  if (h.empty()) h = "127.0.0.1";
  if (p.empty() || p.size() > 5 ||
      p.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(p) > 65535) {
    *error = "port must be a number from 0 to 65535, got \"" + p + "\"";
    return false;
  }
  *host = h;
  *port = std::stoi(p);
  return true;
}

}  // namespace notifications
