// http:// and https:// URLs as the programs take them on their command
// lines (the bridge's --delivery-url, the terminal client's stream URL),
// checked before use, and shown without credentials. Pure, thread-safe.
//
//   url       = scheme "://" authority [path] ["?" query] ["#" fragment]
//   scheme    = "http" / "https"                (ASCII case-insensitive)
//   authority = [userinfo "@"] host [":" port]  (the last '@' ends userinfo)
//   host      = 1*char / "[" IPv6 "]"
//   port      = 1*5DIGIT, 1..65535
// Spaces, controls and non-ASCII bytes must be percent-encoded.
#pragma once

#include <string>
#include <string_view>

#include "status.h"

namespace notifications {

struct HttpUrl {
  std::string scheme;         // "http" or "https", lower case.
  std::string userinfo;       // "user:password", "" when none.
  std::string host;           // As written; an IPv6 host keeps its brackets.
  int port = 0;               // 0 when the URL gives none.
  std::string path;           // From the '/' after the authority; may be "".
  bool has_query = false;     // A '?' is present (even with nothing after it).
  bool has_fragment = false;  // A '#' is present.
};

// Parses and checks `url`. Failure: kInvalidArgument with the reason only
// (the caller says which URL): "it must start with http:// or https://,
// e.g. <example>", "spaces, control characters and non-ASCII must be
// percent-encoded", "unclosed '[' in the host", "unexpected characters
// after the IPv6 host", "empty port", "no host", "the port must be a number
// from 1 to 65535".
Result<HttpUrl> ParseHttpUrl(std::string_view url, std::string_view example);

// `text` with the userinfo ("user:password@") of every scheme://authority
// in it removed, so that a URL can be printed or logged without its
// credentials: "https://bot:s3cret@api.example/x" gives
// "https://api.example/x". Text without "://" is returned as it is.
std::string RedactUserinfo(std::string_view text);

}  // namespace notifications
