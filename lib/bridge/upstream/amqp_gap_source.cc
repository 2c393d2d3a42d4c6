#include "amqp_gap_source.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "amqp_source.h"

namespace notifications {

using std::chrono::milliseconds;

AmqpGapSource::AmqpGapSource(
    AmqpConnector& connector, Clock& clock, AmqpGapOptions options,
    std::function<std::optional<int64_t>()> live_offset,
    std::atomic<uint64_t>* request_counter)
    : connector_(connector),
      clock_(clock),
      options_(std::move(options)),
      live_offset_(std::move(live_offset)),
      request_counter_(request_counter) {}

void AmqpGapSource::Stop() {
  std::lock_guard<std::mutex> lock(active_mu_);
  stopped_ = true;
  if (active_ != nullptr) active_->Interrupt();
}

Result<std::vector<Notification>> AmqpGapSource::FetchAfter(
    const std::string& after_id, const std::string& stop_at, size_t max_items) {
  std::optional<int64_t> after = ParseStreamOffset(after_id);
  if (!after) {
    return Status::Error(
        Status::Code::kGone,
        "it is not an offset of the stream '" + options_.queue + "'");
  }
  std::optional<int64_t> last;
  if (!stop_at.empty()) {
    last = ParseStreamOffset(stop_at);
  } else {
    last = live_offset_ ? live_offset_() : std::nullopt;
    if (!last) {
      return Status::Unavailable("the bridge has not read the stream yet");
    }
  }
  if (!last || *last <= *after) {
    // Nothing older than what the bridge has (or will have live) is missed.
    return std::vector<Notification>();
  }
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_.Now();
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (now - it->second.at > options_.cache_ttl) {
      cache_bytes_ -= it->second.bytes;
      it = cache_.erase(it);
    } else {
      ++it;
    }
  }
  const auto key = std::make_pair(*after, *last);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second.result;
  Result<std::vector<Notification>> result = Read(*after, *last, max_items);
  // Failures are not cached (except gone): the next client may have luck.
  if (result.ok() || result.status().code() == Status::Code::kGone) {
    CacheLocked(key, now, result);
  }
  return result;
}

void AmqpGapSource::CacheLocked(
    std::pair<int64_t, int64_t> key, std::chrono::steady_clock::time_point now,
    const Result<std::vector<Notification>>& result) {
  size_t bytes = 0;
  if (result.ok()) {
    for (const Notification& n : result.value()) bytes += n.ByteSize();
  }
  if (bytes > options_.max_bytes) return;
  if (auto it = cache_.find(key); it != cache_.end()) {
    cache_bytes_ -= it->second.bytes;
    cache_.erase(it);
  }
  while (!cache_.empty() && cache_bytes_ + bytes > options_.max_bytes) {
    auto oldest = std::min_element(
        cache_.begin(), cache_.end(),
        [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
    cache_bytes_ -= oldest->second.bytes;
    cache_.erase(oldest);
  }
  cache_.emplace(key, Cached{now, result, bytes});
  cache_bytes_ += bytes;
}

Result<std::vector<Notification>> AmqpGapSource::Read(int64_t after,
                                                      int64_t last,
                                                      size_t max_items) {
  if (request_counter_)
    request_counter_->fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<AmqpConnection> c = connector_.NewConnection();
  {
    std::lock_guard<std::mutex> lock(active_mu_);
    if (stopped_) return Status::Unavailable("the bridge is stopping");
    active_ = c.get();
  }
  struct Unregister {
    AmqpGapSource* self;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(self->active_mu_);
      self->active_ = nullptr;
    }
  } unregister{this};
  const std::string range = "offsets " + std::to_string(after) + " to " +
                            std::to_string(last) + " of the stream '" +
                            options_.queue + "'";
  auto unavailable = [&](const AmqpStatus& s) {
    return Status::Unavailable("reading " + range + ": " +
                               AmqpErrorName(s.kind) + ": " + s.message);
  };
  const auto deadline = clock_.Now() + options_.timeout;
  AmqpStatus s = c->Open(options_.endpoint);
  if (s.ok()) s = c->Qos(options_.prefetch);
  // From `after` itself: offsets need not be contiguous, but while the
  // client's last message is retained, everything after it is too.
  if (s.ok()) s = c->Consume(options_.queue, {{"x-stream-offset", after}});
  if (!s.ok()) return unavailable(s);

  std::vector<Notification> items;
  size_t bytes = 0;  // Their Notification::ByteSize().
  bool first_seen = false;
  while (true) {
    auto remaining =
        std::chrono::duration_cast<milliseconds>(deadline - clock_.Now());
    if (remaining.count() <= 0) {
      return Status::Unavailable("reading " + range + ": timed out");
    }
    std::optional<AmqpDelivery> d;
    s = c->Wait(std::min(remaining, milliseconds(250)), &d);
    if (!s.ok()) return unavailable(s);
    if (!d) continue;
    if (!d->stream_offset) {
      return Status::Unavailable("reading " + range +
                                 ": deliveries carry no x-stream-offset");
    }
    const int64_t o = *d->stream_offset;
    s = c->Ack(d->delivery_tag, /*multiple=*/false);
    if (!s.ok()) return unavailable(s);
    if (!first_seen) {
      first_seen = true;
      if (o > after) {
        return Status::Error(
            Status::Code::kGone,
            "the stream no longer retains offset " + std::to_string(after));
      }
    }
    if (o <= after) continue;  // The client has it (or its chunk's start).
    if (items.size() == max_items) {
      return Status::InvalidArgument("more than " + std::to_string(max_items) +
                                     " notifications missed");
    }
    AmqpMessage message =
        ReadAmqpMessage(d->body, options_.limits, std::to_string(o),
                        FormatRfc3339(d->timestamp ? *d->timestamp * 1000
                                                   : clock_.WallMillis()));
    if (message.notification) {
      Notification item = std::move(*message.notification);
      bytes += item.ByteSize();
      if (bytes > options_.max_bytes) {
        return Status::InvalidArgument("more than " +
                                       std::to_string(options_.max_bytes) +
                                       " bytes of notifications missed");
      }
      items.push_back(std::move(item));
    }
    if (o >= last) break;
  }
  return items;
}

}  // namespace notifications
