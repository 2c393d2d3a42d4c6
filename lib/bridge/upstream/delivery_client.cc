#include "delivery_client.h"

namespace notifications {

DeliveryClient::DeliveryClient(HttpClient& http, DeliveryOptions options)
    : http_(http), options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::string DeliveryClient::PageUrl(const std::optional<std::string>& after,
                                    bool wait) const {
  // Ids are [A-Za-z0-9._:-] by contract (checked before they become a
  // cursor), so they need no percent-encoding.
  std::string url = options_.base_url + "/notifications?limit=" +
                    std::to_string(options_.page_limit);
  if (after) url += "&after=" + *after;
  if (wait && options_.long_poll.count() > 0) {
    url += "&wait=" + std::to_string(options_.long_poll.count());
  }
  return url;
}

namespace {

// A Location for a log line: no user:password@, no control bytes, short.
std::string RedirectTarget(std::string url) {
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    size_t host = scheme + 3;
    size_t at = url.find('@', host);
    size_t slash = url.find('/', host);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      url.erase(host, at + 1 - host);
    }
  }
  for (char& c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (url.size() > 200) url = url.substr(0, 200) + "...";
  return url;
}

}  // namespace

FetchResult DeliveryClient::FetchPage(const std::optional<std::string>& after,
                                      bool wait, const CancelToken* cancel) {
  FetchResult result;
  HttpRequest request;
  request.url = PageUrl(after, wait);
  if (!options_.token.empty()) {
    request.headers["Authorization"] = "Bearer " + options_.token;
  }
  request.headers["Accept"] = "application/json";
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  if (wait) request.total_timeout += options_.long_poll;
  request.max_body_bytes = options_.max_page_bytes;
  request.cancel = cancel;

  HttpResponse response = http_.Get(request);
  switch (response.error) {
    case HttpResponse::Error::kNone: break;
    case HttpResponse::Error::kConnect:
      result.error = FetchError::kConnect;
      break;
    case HttpResponse::Error::kTimeout:
      result.error = FetchError::kTimeout;
      break;
    case HttpResponse::Error::kTooLarge:
      result.error = FetchError::kTooLarge;
      break;
    case HttpResponse::Error::kTransport:
      result.error = FetchError::kTransport;
      break;
    case HttpResponse::Error::kCancelled:
      result.error = FetchError::kTransport;
      result.cancelled = true;
      break;
    case HttpResponse::Error::kNoFileDescriptors:
      result.error = FetchError::kOutOfFds;
      break;
  }
  if (result.error != FetchError::kNone) {
    result.message = response.error_message;
    return result;
  }

  const int status = response.status;
  if (status != 200) {
    if (status == 410) {
      result.error = FetchError::kGone;
    } else if (status == 401 || status == 403) {
      result.error = FetchError::kUnauthorized;
    } else if (status >= 400 && status < 500) {
      result.error = FetchError::kHttpClient;
    } else if (status >= 300 && status < 400) {
      result.error = FetchError::kRedirect;
      result.message =
          "HTTP " + std::to_string(status) + " redirect" +
          (response.redirect_url.empty()
               ? std::string()
               : " to " + RedirectTarget(response.redirect_url)) +
          ", not followed: set --delivery-url to the API's own URL";
      return result;
    } else {
      result.error = FetchError::kHttpServer;
    }
    std::string detail = ParseErrorBody(response.body);
    result.message = "HTTP " + std::to_string(status) +
                     (detail.empty() ? "" : " (" + detail + ")");
    return result;
  }
  // "application/json" or a "+json" type, parameters allowed.
  const std::string& type = response.content_type;
  std::string media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  bool json = media == "application/json" ||
              (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
  if (!json) {
    result.error = FetchError::kNotJson;
    result.message = "expected application/json, got Content-Type \"" +
                     type.substr(0, 100) + "\"";
    return result;
  }
  PageOptions parse;
  parse.max_items = options_.page_limit;
  parse.keep_raw_content = options_.keep_raw_content;
  parse.max_item_bytes = options_.max_item_bytes;
  Result<Page> page = ParsePage(response.body, parse);
  if (!page.ok()) {
    result.error = FetchError::kMalformed;
    result.message = page.status().message();
    return result;
  }
  result.page = std::move(page).value();
  return result;
}

}  // namespace notifications
