#include "service.h"

#include <algorithm>
#include <functional>
#include <thread>

#include "amqp_gap_source.h"
#include "amqp_source.h"
#include "clock.h"
#include "curl_http_client.h"
#include "delivery_client.h"
#include "delivery_route.h"
#include "event_hub.h"
#include "http_server.h"
#include "librabbitmq_client.h"
#include "poller.h"
#include "shared_gap_source.h"
#include "state_file.h"
#include "upstream_gap_source.h"

namespace notifications {

namespace {

// A gap holds at least one notification of the largest size allowed.
size_t MaxGapBytes(const BridgeConfig& c) {
  return std::max(kDefaultMaxGapBytes, c.max_item_bytes);
}

DeliveryOptions MakeDeliveryOptions(const BridgeConfig& c) {
  DeliveryOptions o;
  o.base_url = c.delivery_url;
  o.token = c.token;
  o.connect_timeout = c.connect_timeout;
  o.total_timeout = c.request_timeout;
  o.max_page_bytes = c.max_page_bytes;
  o.page_limit = c.page_limit;
  o.long_poll = c.long_poll;
  o.keep_raw_content = c.raw_content;
  o.max_item_bytes = c.max_item_bytes;
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
  o.base_path = c.base_path;
  o.max_clients = c.max_clients;
  o.allow_origins = c.allow_origins;
  o.heartbeat = c.heartbeat;
  o.retry = c.retry;
  o.write_timeout = c.write_timeout;
  o.head_timeout = c.head_timeout;
  o.max_handshakes = c.max_handshakes;
  o.stream_threads = c.stream_threads;
  o.stream_token = c.stream_token;
  o.busy_retry = c.busy_retry;
  return o;
}

}  // namespace

struct BridgeService::Impl {
  Impl(const BridgeConfig& c, Logger& l, std::optional<std::string> cursor)
      : config(c),
        logger(l),
        hub(c.history, c.raw_content, c.history_bytes),
        state(c.state_file) {
    // What precedes the resume point was never in this hub (the delivery
    // API it may serve says 410 for it). A cursor the AMQP source ignores
    // (not an offset) is no resume point.
    if (cursor && (!c.amqp.enabled() || ParseStreamOffset(*cursor))) {
      hub.SetHorizon(*cursor);
    }
    if (c.amqp.enabled()) {
      BuildAmqp(cursor);
    } else {
      BuildPolling(cursor);
    }
    // Gap fetches are shared between the clients resuming from the same
    // range, cached briefly and capped (a reconnect storm costs one fetch
    // per distinct range).
    if (source_gaps != nullptr) {
      gaps = std::make_unique<SharedGapSource>(*source_gaps, clock,
                                               SharedGapOptions(), &metrics);
    }
    server = std::make_unique<BridgeServer>(MakeServerOptions(c), hub,
                                            gaps.get(), metrics, logger, clock,
                                            [this] { return UpstreamNow(); });
    if (c.amqp.serve_delivery_api) {
      DeliveryRouteOptions d;
      d.token = c.stream_token;
      d.include_raw_content = c.raw_content;
      AddDeliveryApiRoutes(*server, hub, std::move(d));
    }
  }

  void BuildPolling(std::optional<std::string> cursor) {
    poll_http = std::make_unique<CurlHttpClient>();
    poll_client = std::make_unique<DeliveryClient>(*poll_http,
                                                   MakeDeliveryOptions(config));
    // Gap fetches run concurrently, each on an HTTP client of its own.
    upstream_gaps = std::make_unique<UpstreamGapSource>(
        [] { return std::make_unique<CurlHttpClient>(); },
        MakeDeliveryOptions(config), clock, &metrics.gap_fetches,
        /*max_idle=*/4, MaxGapBytes(config));
    source_gaps = upstream_gaps.get();
    PollerOptions o = MakePollerOptions(config);
    o.on_cursor = SaveCursor();
    poller = std::make_unique<Poller>(*poll_client, hub, metrics, logger, clock,
                                      o, std::move(cursor));
  }

  void BuildAmqp(std::optional<std::string> cursor) {
    const AmqpConfig& a = config.amqp;
    connector = std::make_unique<LibrabbitmqConnector>();
    AmqpSourceOptions o;
    o.endpoint = a.endpoint;
    o.endpoint.connect_timeout = config.connect_timeout;
    o.exchange = a.exchange;
    o.queue = a.queue;
    o.binding_keys = a.binding_keys;
    o.backoff.initial = config.backoff_initial;
    o.backoff.max = config.backoff_max;
    o.max_body_bytes = config.max_page_bytes;
    o.max_item_bytes = config.max_item_bytes;
    if (!a.queue.empty()) o.on_cursor = SaveCursor();
    amqp = std::make_unique<AmqpSource>(*connector, hub, metrics, logger, clock,
                                        o, std::move(cursor));
    if (!a.queue.empty()) {
      AmqpGapOptions g;
      g.endpoint = o.endpoint;
      g.queue = a.queue;
      g.limits = {o.max_body_bytes, o.max_item_bytes, config.raw_content};
      g.max_bytes = MaxGapBytes(config);
      g.timeout = config.request_timeout;
      amqp_gaps = std::make_unique<AmqpGapSource>(
          *connector, clock, g, [this] { return amqp->LastOffset(); },
          &metrics.gap_fetches);
      source_gaps = amqp_gaps.get();
    }
  }

  // Persists the cursor after each published batch, when --state-file.
  std::function<void(const std::optional<std::string>&)> SaveCursor() {
    if (config.state_file.empty()) return nullptr;
    return [this](const std::optional<std::string>& cursor) {
      Status s = state.Save(cursor);
      if (!s.ok()) {
        // Keep streaming: a restart would then re-fetch a little, which
        // clients drop by id. Loud, so ops fix the disk.
        metrics.state_save_errors.fetch_add(1, std::memory_order_relaxed);
        logger.Error(s.message());
      }
    };
  }

  UpstreamState UpstreamNow() const {
    return amqp ? amqp->State() : poller->State();
  }

  const BridgeConfig config;
  Logger& logger;
  SystemClock clock;
  Metrics metrics;
  EventHub hub;
  StateFile state;
  // The polling source (--delivery-url).
  std::unique_ptr<CurlHttpClient> poll_http;
  std::unique_ptr<DeliveryClient> poll_client;
  std::unique_ptr<UpstreamGapSource> upstream_gaps;
  std::unique_ptr<Poller> poller;
  // The AMQP source (--amqp-url); the gap source only for a stream queue.
  std::unique_ptr<LibrabbitmqConnector> connector;
  std::unique_ptr<AmqpSource> amqp;
  std::unique_ptr<AmqpGapSource> amqp_gaps;
  GapSource* source_gaps = nullptr;       // One of the two above, or none.
  std::unique_ptr<SharedGapSource> gaps;  // Over source_gaps.
  std::unique_ptr<BridgeServer> server;
  std::thread source_thread;
  bool started = false;
  bool stopped = false;
};

Result<std::unique_ptr<BridgeService>> BridgeService::Create(
    const BridgeConfig& config, Logger& logger) {
  std::optional<std::string> cursor;
  if (config.amqp.enabled() && config.amqp.queue.empty() &&
      !config.state_file.empty()) {
    // Live mode mints ids per process: there is nothing to resume from.
    logger.Warn("--state-file " + config.state_file +
                " is not used without --amqp-queue (live mode)");
  } else if (!config.state_file.empty()) {
    StateFile file(config.state_file);
    Result<std::optional<std::string>> loaded = file.Load();
    if (!loaded.ok() && !config.reset_state) return loaded.status();
    if (config.reset_state) {
      logger.Warn("--reset-state: ignoring " + config.state_file +
                  "; starting from the oldest notification the API retains");
      Status s = file.Save(std::nullopt);
      if (!s.ok()) return s;
    } else if (loaded->has_value()) {
      cursor = **loaded;
      logger.Info("resuming after " + *cursor + " (from " + config.state_file +
                  ")");
    }
  }
  return std::unique_ptr<BridgeService>(
      new BridgeService(config, logger, cursor));
}

BridgeService::BridgeService(const BridgeConfig& config, Logger& logger,
                             std::optional<std::string> cursor)
    : impl_(std::make_unique<Impl>(config, logger, std::move(cursor))) {}

BridgeService::~BridgeService() { Stop(); }

Status BridgeService::Start() {
  Impl& d = *impl_;
  Status s = d.server->Start();
  if (!s.ok()) return s;
  d.started = true;
  d.source_thread = std::thread([&d] {
    if (d.amqp) {
      d.amqp->Run();
    } else {
      d.poller->Run();
    }
  });
  return Status::Ok();
}

int BridgeService::port() const { return impl_->server->port(); }

Metrics& BridgeService::metrics() { return impl_->metrics; }

void BridgeService::Stop() {
  Impl& d = *impl_;
  if (!d.started || d.stopped) return;
  d.stopped = true;
  // Cancel every upstream transfer first (a held long-poll, a slow page, a
  // gap fetch, a blocked consumer), so nothing below waits for upstream.
  if (d.amqp) d.amqp->Stop();
  if (d.amqp_gaps) d.amqp_gaps->Stop();
  if (d.poller) d.poller->Stop();
  if (d.upstream_gaps) d.upstream_gaps->Stop();
  if (d.gaps) d.gaps->Stop();
  if (d.source_thread.joinable()) d.source_thread.join();
  d.hub.Shutdown();
  d.server->Stop();
}

}  // namespace notifications
