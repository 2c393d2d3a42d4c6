#include "amqp_source.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "notification_parser.h"

namespace notifications {
namespace {

using std::chrono::milliseconds;

// What to do about a failure, for the person reading the log or /healthz.
std::string Hint(AmqpErrorKind kind, bool stream_mode) {
  switch (kind) {
    case AmqpErrorKind::kConnect:
      return "is the broker running and reachable?";
    case AmqpErrorKind::kAuth:
      return "check the user in --amqp-url and the password "
             "(--amqp-password-file or NOTIFICATIONS_BRIDGE_AMQP_PASSWORD)";
    case AmqpErrorKind::kAccessRefused:
      return "check the vhost in --amqp-url and the user's permissions "
             "(docs/amqp.md)";
    case AmqpErrorKind::kNotFound:
      return stream_mode ? "the stream queue must be declared and bound by "
                           "the broker's operators (docs/amqp.md)"
                         : "is --amqp-exchange right, and declared on the "
                           "broker?";
    case AmqpErrorKind::kPreconditionFailed:
      return "the broker refused the declaration or the consumer as asked "
             "(docs/amqp.md)";
    case AmqpErrorKind::kTls:
      return "check --amqp-ca-file and the host name in --amqp-url";
    case AmqpErrorKind::kHeartbeatTimeout:
    case AmqpErrorKind::kConnectionLost:
    case AmqpErrorKind::kTimeout:
      return "reconnecting";
    default:
      return "";
  }
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::optional<int64_t> ParseStreamOffset(const std::string& id) {
  if (id.empty() || id.size() > 18) return std::nullopt;
  if (id.size() > 1 && id[0] == '0') return std::nullopt;
  int64_t v = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

AmqpSource::AmqpSource(AmqpConnector& connector, EventHub& hub,
                       Metrics& metrics, Logger& logger, Clock& clock,
                       AmqpSourceOptions options,
                       std::optional<std::string> initial_cursor)
    : connector_(connector),
      hub_(hub),
      metrics_(metrics),
      logger_(logger),
      clock_(clock),
      options_(std::move(options)),
      limits_{options_.max_body_bytes, options_.max_item_bytes,
              hub.include_raw_content()},
      where_(AmqpEndpointText(options_.endpoint)),
      rng_(options_.seed ? options_.seed : std::random_device{}()),
      live_prefix_([&clock] {
        char buf[24];
        snprintf(buf, sizeof buf, "%013lld-",
                 static_cast<long long>(clock.WallMillis()));
        return std::string(buf);
      }()) {
  state_.source = "amqp";
  state_.connection = "connecting";
  metrics_.amqp.store(true);
  if (stream_mode() && initial_cursor && !initial_cursor->empty()) {
    std::optional<int64_t> offset = ParseStreamOffset(*initial_cursor);
    if (offset) {
      offset_ = offset;
      cursor_ = *initial_cursor;
      state_.cursor = cursor_;
      state_.offset = offset_;
      metrics_.amqp_offset.store(*offset_);
    } else {
      logger_.Warn("amqp: the saved cursor " + *initial_cursor +
                   " is not an offset of a stream (saved by the polling "
                   "source?); reading the stream " +
                   Quote(options_.queue) + " from its first message");
    }
  }
}

AmqpSource::~AmqpSource() { Drop(); }

void AmqpSource::SetConnection(const char* state) {
  std::lock_guard<std::mutex> lock(mu_);
  state_.connection = state;
}

AmqpStatus AmqpSource::Fail(AmqpStatus status, const std::string& step) {
  Drop();
  std::string hint = Hint(status.kind, stream_mode());
  std::string what = std::string(AmqpErrorName(status.kind)) + ": " + step +
                     ": " + status.message +
                     (hint.empty() ? "" : " (" + hint + ")");
  status.message = what;
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) {
    logger_.Debug("amqp " + where_ + ": stopped: " + what);
    return status;
  }
  metrics_.CountAmqpError(status.kind);
  logger_.Warn("amqp " + where_ + ": " + what);
  state_.upstream_ok = false;
  state_.last_error = what;
  state_.last_error_ms = clock_.WallMillis();
  ++state_.consecutive_failures;
  state_.connection = "disconnected";
  state_.lag.reset();
  return status;
}

void AmqpSource::Drop() {
  std::unique_ptr<AmqpConnection> dying;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
    dying = std::move(connection_);
  }
  cv_.notify_all();  // Stop() may be waiting for it.
  // Destroyed outside the lock: a polite close may take up to a second.
  dying.reset();
  metrics_.amqp_connected.store(0);
  metrics_.amqp_lag.store(-1);
  expected_first_.reset();
}

AmqpStatus AmqpSource::Setup(AmqpConnection& c) {
  AmqpStatus s;
  if (stream_mode()) {
    AmqpQueueInfo info;
    s = c.DeclareQueue(options_.queue, /*passive=*/true, /*exclusive=*/false,
                       &info);
    if (!s.ok())
      return Fail(s, "checking the stream queue " + Quote(options_.queue));
    queue_name_ = options_.queue;
  } else {
    // Passively: declaring it would need the configure permission, and an
    // exchange that does not exist yet means nobody publishes there.
    s = c.DeclareExchange(options_.exchange, "topic", /*durable=*/true,
                          /*passive=*/true);
    if (!s.ok())
      return Fail(s, "checking the exchange " + Quote(options_.exchange));
    AmqpQueueInfo info;
    s = c.DeclareQueue("", /*passive=*/false, /*exclusive=*/true, &info);
    if (!s.ok()) return Fail(s, "declaring an exclusive queue");
    queue_name_ = info.name;
    for (const std::string& key : options_.binding_keys) {
      s = c.BindQueue(queue_name_, options_.exchange, key);
      if (!s.ok()) {
        return Fail(s, "binding a queue to " + Quote(options_.exchange) +
                           " with " + Quote(key));
      }
    }
  }
  s = c.Qos(options_.prefetch);
  if (!s.ok()) return Fail(s, "basic.qos");
  std::vector<AmqpArgument> arguments;
  std::string from;
  if (stream_mode()) {
    std::optional<int64_t> last = LastOffset();
    if (last) {
      // From the last offset consumed, not the one after: offsets need not
      // be contiguous, but if that message is still there, so is every
      // later one (retention drops the oldest segments), and it comes back
      // first (dropped as already seen). Anything else is a gap.
      expected_first_ = *last;
      arguments.push_back({"x-stream-offset", *last});
      from = "after offset " + std::to_string(*last);
    } else {
      arguments.push_back({"x-stream-offset", std::string("first")});
      from = "from its first message";
    }
  }
  s = c.Consume(queue_name_, arguments);
  if (!s.ok()) return Fail(s, "consuming " + Quote(queue_name_));
  logger_.Info("amqp " + where_ + ": consuming " +
               (stream_mode()
                    ? "the stream " + Quote(queue_name_) + " " + from
                    : "the exchange " + Quote(options_.exchange) +
                          " (live: an exclusive queue, " +
                          std::to_string(options_.binding_keys.size()) +
                          " binding key(s))"));
  return AmqpStatus::Ok();
}

AmqpStatus AmqpSource::Subscribe() {
  Drop();
  SetConnection("connecting");
  std::unique_ptr<AmqpConnection> c = connector_.NewConnection();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return AmqpStatus::Ok();
    active_ = c.get();
    connection_ = std::move(c);
  }
  AmqpStatus s = connection_->Open(options_.endpoint);
  if (!s.ok()) return Fail(s, "connecting");
  s = Setup(*connection_);
  if (!s.ok()) return s;
  failures_ = 0;
  metrics_.amqp_connections.fetch_add(1, std::memory_order_relaxed);
  metrics_.amqp_connected.store(1);
  next_inspect_ = clock_.Now();
  int64_t wall = clock_.WallMillis();
  metrics_.last_success_unix_ms.store(wall, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  if (state_.consecutive_failures > 0) {
    logger_.Info("amqp " + where_ + ": consuming again after " +
                 std::to_string(state_.consecutive_failures) + " failure(s)");
  }
  state_.upstream_ok = true;
  state_.connection = "connected";
  state_.last_success_ms = wall;
  state_.consecutive_failures = 0;
  return AmqpStatus::Ok();
}

std::string AmqpSource::LiveId(uint64_t n) const {
  char buf[24];
  snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n));
  return live_prefix_ + buf;
}

AmqpStatus AmqpSource::Handle(std::vector<AmqpDelivery>& batch) {
  std::vector<Notification> fresh;
  fresh.reserve(batch.size());
  AmqpStatus error;
  uint64_t last_tag = 0;
  size_t skipped = 0, duplicates = 0;
  std::string last_skipped_id, last_skipped_reason;
  std::optional<int64_t> offset = LastOffset();
  std::string cursor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cursor = cursor_;
  }
  const std::string cursor_before = cursor;
  const int64_t now_ms = clock_.WallMillis();
  metrics_.amqp_messages.fetch_add(batch.size(), std::memory_order_relaxed);
  for (AmqpDelivery& d : batch) {
    std::string id;
    if (stream_mode()) {
      if (!d.stream_offset) {
        // A classic queue ignores x-stream-offset and would hand out its
        // messages destructively: do not ack, stop.
        error = AmqpStatus::Error(
            AmqpErrorKind::kPreconditionFailed,
            "deliveries from " + Quote(queue_name_) +
                " carry no x-stream-offset header: is it a stream queue "
                "(x-queue-type: stream)?");
        break;
      }
      int64_t o = *d.stream_offset;
      if (expected_first_) {
        if (o > *expected_first_) {
          // Retention dropped the last message consumed, and maybe some
          // that followed it: what came after it may be lost.
          std::string message =
              "the stream " + Quote(queue_name_) +
              " no longer retains offset " + std::to_string(*expected_first_) +
              " (the last one read) and maybe some after it; continuing from "
              "its oldest message, " +
              std::to_string(o);
          logger_.Warn("amqp: " + message);
          metrics_.upstream_resets.fetch_add(1, std::memory_order_relaxed);
          if (!fresh.empty()) hub_.Publish(std::move(fresh));
          fresh.clear();
          hub_.Reset("upstream-reset", message);
        }
        expected_first_.reset();
      }
      last_tag = d.delivery_tag;
      if (offset && o <= *offset) {
        ++duplicates;  // Redelivered from the start of a chunk.
        continue;
      }
      offset = o;
      id = std::to_string(o);
      cursor = id;
    } else {
      last_tag = d.delivery_tag;
    }
    // Live ids are minted for notifications only: this one's, if it is.
    if (!stream_mode()) id = LiveId(live_counter_ + 1);
    AmqpMessage message = ReadAmqpMessage(
        d.body, limits_, id,
        FormatRfc3339(d.timestamp ? *d.timestamp * 1000 : now_ms));
    if (!message.notification) {
      ++skipped;
      if (message.too_large) {
        metrics_.skipped_too_large.fetch_add(1, std::memory_order_relaxed);
      }
      last_skipped_id = stream_mode() ? id : "";
      last_skipped_reason = message.problem;
      logger_.Warn("amqp: skipped a message that is not a notification (" +
                   (stream_mode() ? "offset " + id
                                  : "routing key " + Quote(d.routing_key)) +
                   "): " + message.problem);
      continue;
    }
    if (!stream_mode()) {
      ++live_counter_;
      cursor = id;
    }
    fresh.push_back(std::move(*message.notification));
  }
  // Counted before the batch reaches the streams: whoever sees a later
  // notification sees the skipped ones counted.
  metrics_.duplicates_dropped.fetch_add(duplicates, std::memory_order_relaxed);
  metrics_.amqp_skipped.fetch_add(skipped, std::memory_order_relaxed);
  if (skipped > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    state_.skipped += skipped;
    state_.last_skipped_id = last_skipped_id;
    state_.last_skipped_reason = last_skipped_reason;
    state_.last_skipped_ms = now_ms;
  }
  size_t published = fresh.size();
  if (!fresh.empty()) hub_.Publish(std::move(fresh));
  metrics_.notifications_published.fetch_add(published,
                                             std::memory_order_relaxed);
  if (offset) metrics_.amqp_offset.store(*offset);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_mode()) offset_ = offset;
    cursor_ = cursor;
    state_.cursor = cursor;
    state_.offset = offset_;
    state_.last_success_ms = now_ms;
  }
  metrics_.last_success_unix_ms.store(now_ms, std::memory_order_relaxed);
  // In the hub: now the broker may forget them.
  if (last_tag != 0) {
    AmqpStatus s = connection_->Ack(last_tag, /*multiple=*/true);
    if (!s.ok()) return Fail(s, "basic.ack");
  }
  if (options_.on_cursor && cursor != cursor_before) options_.on_cursor(cursor);
  if (published > 0) {
    logger_.Debug("amqp: published " + std::to_string(published) +
                  " notification(s), cursor " + cursor);
  }
  if (!error.ok()) return Fail(error, "consuming " + Quote(queue_name_));
  return AmqpStatus::Ok();
}

void AmqpSource::MaybeInspect() {
  if (clock_.Now() < next_inspect_) return;
  next_inspect_ = clock_.Now() + options_.inspect_interval;
  AmqpQueueInfo info;
  AmqpStatus s = connection_->Inspect(queue_name_, &info);
  if (!s.ok()) {
    // The lag is a nicety; a connection problem shows in the next Wait().
    logger_.Debug("amqp: cannot count the queue's messages: " + s.message);
    return;
  }
  int64_t lag = info.message_count;
  if (stream_mode()) {
    // The count of a stream is its length; offsets start at 0 until
    // retention drops old segments, so this may undercount after that.
    std::optional<int64_t> last = LastOffset();
    lag = std::max<int64_t>(0, lag - (last ? *last + 1 : 0));
  }
  metrics_.amqp_lag.store(lag);
  std::lock_guard<std::mutex> lock(mu_);
  state_.lag = lag;
}

AmqpStatus AmqpSource::Pump() {
  if (!connection_)
    return AmqpStatus::Error(AmqpErrorKind::kConnectionLost, "not subscribed");
  milliseconds wake = options_.wake;
  if (options_.endpoint.heartbeat.count() > 0) {
    wake = std::min<milliseconds>(wake, options_.endpoint.heartbeat / 2);
  }
  std::vector<AmqpDelivery> batch;
  std::optional<AmqpDelivery> d;
  AmqpStatus s = connection_->Wait(wake, &d);
  while (s.ok() && d) {
    batch.push_back(std::move(*d));
    if (batch.size() >= options_.max_batch) break;
    s = connection_->Wait(milliseconds(0), &d);  // What is already here.
  }
  if (!batch.empty()) {
    AmqpStatus handled = Handle(batch);
    if (!handled.ok()) return handled;
  }
  if (!s.ok()) return Fail(s, "consuming " + Quote(queue_name_));
  MaybeInspect();
  return AmqpStatus::Ok();
}

bool AmqpSource::Sleep(milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  clock_.WaitFor(cv_, lock, delay, [this] { return stopped_; });
  return !stopped_;
}

void AmqpSource::Run() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) break;
    }
    AmqpStatus s = subscribed() ? Pump() : Subscribe();
    if (s.ok()) continue;
    ++failures_;
    milliseconds delay = BackoffDelay(options_.backoff, failures_, unit(rng_));
    if (!Sleep(delay)) break;
    logger_.Debug("amqp: retried after " + std::to_string(delay.count()) +
                  " ms");
  }
  Drop();
  SetConnection("disconnected");
}

void AmqpSource::Stop() {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_ = true;
  cv_.notify_all();
  // A consumer waiting for deliveries sees this within `wake` and closes
  // its connection politely (the broker logs a clean end); one blocked
  // longer (a login, a broker that stopped answering) is cut short.
  if (active_ != nullptr && !cv_.wait_for(lock, 2 * options_.wake, [this] {
        return active_ == nullptr;
      })) {
    active_->Interrupt();
  }
}

UpstreamState AmqpSource::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

std::optional<int64_t> AmqpSource::LastOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_;
}

}  // namespace notifications
