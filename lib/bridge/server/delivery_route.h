// The delivery API's polling contract served by the bridge itself
// (`--serve-delivery-api`): the routes of docs/delivery-api.md answered from
// the hub's history, so a bridge that consumes RabbitMQ can feed bridges
// that have no broker access and poll it instead:
//
//   RabbitMQ -> bridge (--amqp-url --serve-delivery-api)
//            -> bridge (--delivery-url http://first/delivery) -> browsers
//
//   GET <base>/delivery/status          "ALIVE", never needs the token
//   GET <base>/delivery/notifications   a page (hub/delivery_page.h): after,
//                                       limit, wait; 400 for bad parameters,
//                                       410 for a cursor older than the
//                                       history, 401 without the token
//
// Token: when `token` is set, /delivery/notifications requires
// `Authorization: Bearer <token>` (scheme case-insensitive, token compared
// in constant time); a 401 carries WWW-Authenticate. The bridge sets it
// from --stream-token-file: whoever may read the stream may poll it.
//
// Long-poll (`wait` > 0 and nothing newer than `after`): the request is
// parked on its loop (HttpExchange::Park) and answered as soon as the hub
// publishes something newer, or with the empty page when `wait` is over or
// the server stops. Parked requests are capped by the server (max_parked);
// past the cap the empty page is answered at once (the caller then waits
// its poll interval, as with an API that ignores `wait`).
//
// Every answer is application/json with Cache-Control: no-store. Nothing
// here blocks: a page is rendered from a snapshot of the history.
#pragma once

#include <string>

#include "event_hub.h"
#include "http_exchange.h"

namespace notifications {

class BridgeServer;

struct DeliveryRouteOptions {
  std::string token;  // "" = no token required.
  bool include_raw_content = false;
};

// Handles one request to <base>/delivery/notifications (for tests and for
// AddDeliveryApiRoutes). `hub` must outlive parked requests.
void ServeDeliveryPage(HttpExchange& ex, EventHub& hub,
                       const DeliveryRouteOptions& options);

// Registers both routes on `server` (before its Start()). `hub` must
// outlive the server.
void AddDeliveryApiRoutes(BridgeServer& server, EventHub& hub,
                          DeliveryRouteOptions options);

}  // namespace notifications
