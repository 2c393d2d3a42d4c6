#include "service.h"

#include <thread>

#include "clock.h"
#include "curl_http_client.h"
#include "delivery_client.h"
#include "event_hub.h"
#include "http_server.h"
#include "poller.h"

namespace notifications {

namespace {

DeliveryOptions MakeDeliveryOptions(const BridgeConfig& c) {
  DeliveryOptions o;
  o.base_url = c.delivery_url;
  o.token = c.token;
  o.connect_timeout = c.connect_timeout;
  o.total_timeout = c.request_timeout;
  o.max_page_bytes = c.max_page_bytes;
  o.page_limit = c.page_limit;
  return o;
}

PollerOptions MakePollerOptions(const BridgeConfig& c) {
  PollerOptions o;
  o.interval = c.poll_interval;
  o.backoff.initial = c.backoff_initial;
  o.backoff.max = c.backoff_max;
  return o;
}

ServerOptions MakeServerOptions(const BridgeConfig& c) {
  ServerOptions o;
  o.host = c.listen_host;
  o.port = c.listen_port;
  o.public_dir = c.public_dir;
  o.max_clients = c.max_clients;
  o.allow_origins = c.allow_origins;
  o.heartbeat = c.heartbeat;
  o.retry = c.retry;
  o.write_timeout = c.write_timeout;
  return o;
}

}  // namespace

struct BridgeService::Impl {
  Impl(const BridgeConfig& c, Logger& l)
      : config(c),
        logger(l),
        poll_client(poll_http, MakeDeliveryOptions(c)),
        gap_client(gap_http, MakeDeliveryOptions(c)),
        gaps(gap_client, clock),
        hub(c.history, c.raw_content),
        poller(poll_client, hub, metrics, logger, clock, MakePollerOptions(c)),
        server(MakeServerOptions(c), hub, &gaps, metrics, logger,
               [this] { return poller.State(); }) {}

  const BridgeConfig config;
  Logger& logger;
  SystemClock clock;
  Metrics metrics;
  CurlHttpClient poll_http;
  CurlHttpClient gap_http;
  DeliveryClient poll_client;
  DeliveryClient gap_client;
  UpstreamGapSource gaps;
  EventHub hub;
  Poller poller;
  BridgeServer server;
  std::thread poll_thread;
  bool started = false;
  bool stopped = false;
};

BridgeService::BridgeService(const BridgeConfig& config, Logger& logger)
    : impl_(std::make_unique<Impl>(config, logger)) {}

BridgeService::~BridgeService() { Stop(); }

Status BridgeService::Start() {
  Impl& d = *impl_;
  Status s = d.server.Start();
  if (!s.ok()) return s;
  d.started = true;
  d.poll_thread = std::thread([&d] { d.poller.Run(); });
  return Status::Ok();
}

int BridgeService::port() const { return impl_->server.port(); }

Metrics& BridgeService::metrics() { return impl_->metrics; }

void BridgeService::Stop() {
  Impl& d = *impl_;
  if (!d.started || d.stopped) return;
  d.stopped = true;
  d.poller.Stop();
  if (d.poll_thread.joinable()) d.poll_thread.join();
  d.hub.Shutdown();
  d.server.Stop();
}

}  // namespace notifications
