#include "service.h"

#include <thread>

#include "clock.h"
#include "curl_http_client.h"
#include "delivery_client.h"
#include "event_hub.h"
#include "http_server.h"
#include "poller.h"
#include "shared_gap_source.h"
#include "state_file.h"
#include "upstream_gap_source.h"

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
  o.stream_threads = c.stream_threads;
  o.stream_token = c.stream_token;
  o.busy_retry = c.busy_retry;
  return o;
}

}  // namespace

struct BridgeService::Impl {
  Impl(const BridgeConfig& c, Logger& l, std::optional<std::string> cursor)
      : initial_cursor_arg(std::move(cursor)),
        config(c),
        logger(l),
        poll_client(poll_http, MakeDeliveryOptions(c)),
        upstream_gaps([] { return std::make_unique<CurlHttpClient>(); },
                      MakeDeliveryOptions(c), clock, &metrics.gap_fetches),
        gaps(upstream_gaps, clock, SharedGapOptions(), &metrics),
        hub(c.history, c.raw_content, c.history_bytes),
        state(c.state_file),
        poller(poll_client, hub, metrics, logger, clock, PollerOptionsFor(c),
               initial_cursor),
        server(MakeServerOptions(c), hub, &gaps, metrics, logger, clock,
               [this] { return poller.State(); }) {}

  PollerOptions PollerOptionsFor(const BridgeConfig& c) {
    PollerOptions o = MakePollerOptions(c);
    if (!c.state_file.empty()) {
      o.on_cursor = [this](const std::optional<std::string>& cursor) {
        Status s = state.Save(cursor);
        if (!s.ok()) {
          // Keep streaming: a restart would then re-fetch a little, which
          // clients drop by id. Loud, so ops fix the disk.
          metrics.state_save_errors.fetch_add(1, std::memory_order_relaxed);
          logger.Error(s.message());
        }
      };
    }
    return o;
  }

  std::optional<std::string> initial_cursor_arg;
  const BridgeConfig config;
  Logger& logger;
  SystemClock clock;
  Metrics metrics;
  CurlHttpClient poll_http;
  DeliveryClient poll_client;
  // Gap fetches: concurrent on clients of their own, shared and capped.
  UpstreamGapSource upstream_gaps;
  SharedGapSource gaps;
  EventHub hub;
  StateFile state;
  // Loaded by BridgeService::Create() before the poller is built.
  std::optional<std::string> initial_cursor = initial_cursor_arg;
  Poller poller;
  BridgeServer server;
  std::thread poll_thread;
  bool started = false;
  bool stopped = false;
};

Result<std::unique_ptr<BridgeService>> BridgeService::Create(
    const BridgeConfig& config, Logger& logger) {
  std::optional<std::string> cursor;
  if (!config.state_file.empty()) {
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
      logger.Info("resuming after " + *cursor + " (from " + config.state_file + ")");
    }
  }
  return std::unique_ptr<BridgeService>(new BridgeService(config, logger, cursor));
}

BridgeService::BridgeService(const BridgeConfig& config, Logger& logger,
                             std::optional<std::string> cursor)
    : impl_(std::make_unique<Impl>(config, logger, std::move(cursor))) {}

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
  // Cancel every upstream transfer first (a held long-poll, a slow page, a
  // gap fetch), so nothing below waits for upstream.
  d.poller.Stop();
  d.upstream_gaps.Stop();
  d.gaps.Stop();
  if (d.poll_thread.joinable()) d.poll_thread.join();
  d.hub.Shutdown();
  d.server.Stop();
}

}  // namespace notifications
