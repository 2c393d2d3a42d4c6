#include "http_url.h"

#include <cctype>

namespace notifications {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url, std::string_view example) {
  HttpUrl out;
  size_t scheme_end;
  if (StartsWithNoCase(url, "http://")) {
    out.scheme = "http";
    scheme_end = 7;
  } else if (StartsWithNoCase(url, "https://")) {
    out.scheme = "https";
    scheme_end = 8;
  } else {
    return Status::InvalidArgument(
        "it must start with http:// or https://, e.g. " + std::string(example));
  }
  for (char ch : url) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) {
      return Status::InvalidArgument(
          "spaces, control characters and non-ASCII must be "
          "percent-encoded");
    }
  }
  out.has_fragment = url.find('#') != std::string_view::npos;
  url = url.substr(0, url.find('#'));
  out.has_query = url.find('?') != std::string_view::npos;
  size_t authority_end = url.find_first_of("/?", scheme_end);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority =
      url.substr(scheme_end, authority_end - scheme_end);
  std::string_view rest = url.substr(authority_end);
  out.path = std::string(rest.substr(0, rest.find('?')));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    out.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unclosed '[' in the host");
    }
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return Status::InvalidArgument(
            "unexpected characters after the IPv6 host");
      }
      port = after.substr(1);
      if (port.empty()) return Status::InvalidArgument("empty port");
    }
  } else if (size_t colon = authority.rfind(':');
             colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return Status::InvalidArgument("empty port");
  }
  if (host.empty() || host == "[]") return Status::InvalidArgument("no host");
  out.host = std::string(host);
  if (!port.empty()) {
    int value = 0;
    bool digits = port.size() <= 5;
    for (char c : port) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) value = value * 10 + (c - '0');
    }
    if (!digits || value < 1 || value > 65535) {
      return Status::InvalidArgument(
          "the port must be a number from 1 to 65535");
    }
    out.port = value;
  }
  return out;
}

std::string RedactUserinfo(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sep = text.find("://", pos);
    if (sep == std::string_view::npos) break;
    size_t authority = sep + 3;
    out.append(text.substr(pos, authority - pos));
    // The authority ends at the path, query or fragment, or at whatever
    // cannot be in a URL (a space or a quote in a log line).
    size_t end = authority;
    while (end < text.size() &&
           std::string_view("/?#\"' \t\r\n<>").find(text[end]) ==
               std::string_view::npos) {
      ++end;
    }
    std::string_view auth = text.substr(authority, end - authority);
    size_t at = auth.rfind('@');
    out.append(at == std::string_view::npos ? auth : auth.substr(at + 1));
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace notifications
