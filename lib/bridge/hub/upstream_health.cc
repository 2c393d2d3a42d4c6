#include "upstream_health.h"

namespace notifications {

const char* FetchErrorName(FetchError error) {
  switch (error) {
    case FetchError::kNone:
      return "none";
    case FetchError::kConnect:
      return "connect";
    case FetchError::kTimeout:
      return "timeout";
    case FetchError::kTransport:
      return "transport";
    case FetchError::kTooLarge:
      return "too_large";
    case FetchError::kGone:
      return "gone";
    case FetchError::kUnauthorized:
      return "unauthorized";
    case FetchError::kHttpClient:
      return "http_4xx";
    case FetchError::kHttpServer:
      return "http_5xx";
    case FetchError::kNotJson:
      return "not_json";
    case FetchError::kMalformed:
      return "malformed";
    case FetchError::kRedirect:
      return "http_3xx";
    case FetchError::kOutOfFds:
      return "out_of_fds";
  }
  return "unknown";
}

}  // namespace notifications
