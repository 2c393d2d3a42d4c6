#include "delivery_route.h"

#include <utility>
#include <vector>

#include "constant_time.h"
#include "delivery_page.h"
#include "http_server.h"
#include "notification.h"
#include "query_string.h"
#include "routes.h"

namespace notifications {
namespace {

HttpReply NoStore(HttpReply reply) {
  reply.fields.emplace_back("Cache-Control", "no-store");
  return reply;
}

HttpReply ToReply(DeliveryAnswer answer) {
  return NoStore(HttpReply::Text(answer.status, "application/json",
                                 std::move(answer.body)));
}

DeliveryAnswer Page(const EventHub& hub, const DeliveryQuery& query,
                    const DeliveryRouteOptions& options) {
  return RenderDeliveryPage(hub.TakeSnapshot(), query,
                            options.include_raw_content);
}

// The token of an "Authorization: Bearer <token>" field, or "" when the
// field is absent or of another scheme.
std::string BearerToken(const HttpRequestHead& request) {
  const std::string* field = request.Field("authorization");
  if (field == nullptr) return "";
  const std::string& v = *field;
  const size_t space = v.find(' ');
  if (space == std::string::npos ||
      AsciiLower(v.substr(0, space)) != "bearer") {
    return "";
  }
  const size_t start = v.find_first_not_of(' ', space);
  return start == std::string::npos ? "" : v.substr(start);
}

// True when the page has a notification newer than `after` to give, without
// copying the history (a parked request is woken on every publication).
bool HasNews(const EventHub& hub, const DeliveryQuery& query) {
  const std::string newest = hub.NewestId();
  if (newest.empty()) return false;
  return !query.after || CompareIds(newest, *query.after) > 0;
}

}  // namespace

void ServeDeliveryPage(HttpExchange& ex, EventHub& hub,
                       const DeliveryRouteOptions& options) {
  const HttpRequestHead& request = ex.request();
  if (!options.token.empty()) {
    const std::string presented = BearerToken(request);
    if (!ConstantTimeEquals(presented, options.token)) {
      HttpReply r = NoStore(JsonError(
          401, "unauthorized",
          presented.empty() ? "this API needs Authorization: Bearer <token>"
                            : "wrong token"));
      r.fields.emplace_back("WWW-Authenticate",
                            "Bearer realm=\"notifications-bridge\"");
      return ex.Respond(std::move(r));
    }
  }
  bool truncated = false;
  QueryParams parsed = ParseQueryString(request.query, 256, &truncated);
  if (truncated) {
    return ex.Respond(
        NoStore(JsonError(400, "bad_request", "too many query parameters")));
  }
  // ParseDeliveryQuery refuses a repeated parameter; order does not matter.
  std::vector<std::pair<std::string, std::string>> params(parsed.begin(),
                                                          parsed.end());
  Result<DeliveryQuery> query = ParseDeliveryQuery(params);
  if (!query.ok()) {
    return ex.Respond(
        NoStore(JsonError(400, "bad_request", query.status().message())));
  }
  const DeliveryQuery q = query.value();
  DeliveryAnswer now = Page(hub, q, options);
  // `empty`: nothing to give yet and a wait= asked for (delivery_page.h).
  if (!now.empty) return ex.Respond(ToReply(std::move(now)));
  const bool parked = ex.Park(
      q.wait, [&hub, q, options](HttpExchange& later, HttpExchange::Wake why) {
        if (why == HttpExchange::Wake::kPublished && !HasNews(hub, q)) {
          return false;  // Not for this cursor: keep waiting.
        }
        later.Respond(ToReply(Page(hub, q, options)));
        return true;
      });
  if (!parked) {
    // Too many requests held already: the empty page now.
    ex.Respond(ToReply(std::move(now)));
  }
}

void AddDeliveryApiRoutes(BridgeServer& server, EventHub& hub,
                          DeliveryRouteOptions options) {
  server.AddRoute("/delivery/status", [](HttpExchange& ex) {
    ex.Respond(
        NoStore(HttpReply::Text(200, "text/plain", kDeliveryStatusBody)));
  });
  server.AddRoute("/delivery/notifications",
                  [&hub, options = std::move(options)](HttpExchange& ex) {
                    ServeDeliveryPage(ex, hub, options);
                  });
}

}  // namespace notifications
