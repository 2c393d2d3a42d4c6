#include "metrics.h"

#include <cstdio>

namespace notifications {

MetricsSnapshot Metrics::Snapshot() const {
  MetricsSnapshot s;
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  s.polls = get(polls);
  for (size_t i = 0; i < kFetchErrorKinds; ++i) s.poll_errors[i] = get(poll_errors[i]);
  s.contract_violations = get(contract_violations);
  s.notifications_published = get(notifications_published);
  s.duplicates_dropped = get(duplicates_dropped);
  s.upstream_resets = get(upstream_resets);
  s.clients_connected = get(clients_connected);
  s.streams_opened = get(streams_opened);
  s.streams_rejected = get(streams_rejected);
  s.events_sent = get(events_sent);
  s.bytes_sent = get(bytes_sent);
  s.gap_fetches = get(gap_fetches);
  s.state_save_errors = get(state_save_errors);
  s.last_success_unix_seconds = static_cast<double>(get(last_success_unix_ms)) / 1000.0;
  s.skipped_unrepresentable = get(skipped_unrepresentable);
  s.skipped_too_large = get(skipped_too_large);
  s.ids_backwards = get(ids_backwards);
  s.resets_suppressed = get(resets_suppressed);
  s.upstream_degraded = get(upstream_degraded);
  s.history_bytes = get(history_bytes);
  s.gap_requests = get(gap_requests);
  s.gap_shared = get(gap_shared);
  s.gap_rejected = get(gap_rejected);
  s.gap_fetches_in_flight = get(gap_fetches_in_flight);
  s.amqp = get(amqp);
  s.amqp_connected = get(amqp_connected);
  s.amqp_connections = get(amqp_connections);
  for (size_t i = 0; i < kAmqpErrorKinds; ++i)
    s.amqp_errors[i] = get(amqp_errors[i]);
  s.amqp_messages = get(amqp_messages);
  s.amqp_skipped = get(amqp_skipped);
  s.amqp_offset = get(amqp_offset);
  s.amqp_lag = get(amqp_lag);
  return s;
}

namespace {

void Block(std::string* out, const char* name, const char* type,
           const char* help) {
  *out += "# HELP notifications_bridge_";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE notifications_bridge_";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, const char* name, const std::string& labels,
            const std::string& value) {
  *out += "notifications_bridge_";
  *out += name;
  *out += labels;
  *out += ' ';
  *out += value;
  *out += '\n';
}

void Simple(std::string* out, const char* name, const char* type,
            const char* help, const std::string& value) {
  Block(out, name, type, help);
  Sample(out, name, "", value);
}

std::string Seconds(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// The AMQP source's block (docs/amqp.md), after the common ones.
void RenderAmqp(std::string* out, const MetricsSnapshot& m) {
  using std::to_string;
  Simple(out, "amqp_connected", "gauge",
         "1 while the AMQP source is connected and consuming, else 0.",
         to_string(m.amqp_connected));
  Simple(out, "amqp_connections_total", "counter",
         "AMQP subscriptions made (connect, declare, consume).",
         to_string(m.amqp_connections));
  Block(
      out, "amqp_errors_total", "counter",
      "AMQP failures (connection, login, refusals, lost connection), by kind.");
  for (size_t i = 1; i < kAmqpErrorKinds; ++i) {
    Sample(out, "amqp_errors_total",
           std::string("{kind=\"") +
               AmqpErrorName(static_cast<AmqpErrorKind>(i)) + "\"}",
           to_string(m.amqp_errors[i]));
  }
  Simple(out, "amqp_messages_total", "counter",
         "Messages received from RabbitMQ.", to_string(m.amqp_messages));
  Simple(out, "amqp_messages_skipped_total", "counter",
         "Messages that were not notifications (not JSON, missing fields, too "
         "large): acknowledged and skipped.",
         to_string(m.amqp_skipped));
  Simple(out, "amqp_offset", "gauge",
         "Last stream offset consumed (-1: none, or not a stream).",
         to_string(m.amqp_offset));
  Simple(out, "amqp_lag", "gauge",
         "Messages the broker holds that the bridge has not consumed yet, as "
         "the broker last counted them (-1: unknown).",
         to_string(m.amqp_lag));
}

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& m) {
  using std::to_string;
  std::string out;
  Simple(&out, "polls_total", "counter",
         "Page requests made to the delivery API by the poller.",
         to_string(m.polls));
  Block(&out, "poll_errors_total", "counter",
        "Failed page requests, by kind.");
  for (size_t i = 1; i < kFetchErrorKinds; ++i) {
    Sample(&out, "poll_errors_total",
           std::string("{kind=\"") + FetchErrorName(static_cast<FetchError>(i)) + "\"}",
           to_string(m.poll_errors[i]));
  }
  Simple(&out, "contract_violations_total", "counter",
         "Pages rejected because they broke the delivery API contract.",
         to_string(m.contract_violations));
  Simple(&out, "notifications_published_total", "counter",
         "Notifications published to streams.",
         to_string(m.notifications_published));
  Simple(&out, "duplicates_dropped_total", "counter",
         "Re-served notifications dropped because they were already published.",
         to_string(m.duplicates_dropped));
  Simple(&out, "upstream_resets_total", "counter",
         "Times the delivery API forgot the cursor (410) and polling restarted.",
         to_string(m.upstream_resets));
  Simple(&out, "clients_connected", "gauge", "Open event streams.",
         to_string(m.clients_connected));
  Simple(&out, "streams_opened_total", "counter", "Event streams accepted.",
         to_string(m.streams_opened));
  Simple(&out, "streams_rejected_total", "counter",
         "Event streams turned away because --max-clients was reached.",
         to_string(m.streams_rejected));
  Simple(&out, "events_sent_total", "counter",
         "Notification events written to streams.", to_string(m.events_sent));
  Simple(&out, "bytes_sent_total", "counter",
         "Bytes written to event streams.", to_string(m.bytes_sent));
  Simple(&out, "gap_fetches_total", "counter",
         "Delivery API requests made to fill a resuming client's gap.",
         to_string(m.gap_fetches));
  Simple(&out, "state_save_errors_total", "counter",
         "Failed writes of the --state-file cursor.",
         to_string(m.state_save_errors));
  Simple(&out, "last_success_timestamp_seconds", "gauge",
         "Unix time of the last successful poll (0: never).",
         Seconds(m.last_success_unix_seconds));
  Block(&out, "notifications_skipped_total", "counter",
        "Notifications from upstream left out, by reason: a value that "
        "cannot be represented, or above --max-item-bytes.");
  Sample(&out, "notifications_skipped_total", "{reason=\"unrepresentable\"}",
         to_string(m.skipped_unrepresentable));
  Sample(&out, "notifications_skipped_total", "{reason=\"too_large\"}",
         to_string(m.skipped_too_large));
  Simple(&out, "upstream_ids_backwards_total", "counter",
         "Pages whose ids all fell below the cursor (upstream went back in "
         "time).",
         to_string(m.ids_backwards));
  Simple(&out, "upstream_resets_suppressed_total", "counter",
         "410s for a cursor the API had just served, which did not reset the "
         "streams again.",
         to_string(m.resets_suppressed));
  Simple(&out, "upstream_degraded", "gauge",
         "1 while upstream answers but does not deliver as it should "
         "(/healthz gives the reason).",
         to_string(m.upstream_degraded));
  Simple(&out, "history_bytes", "gauge",
         "Bytes held by the history (bounded by --history-bytes).",
         to_string(m.history_bytes));
  Simple(&out, "gap_requests_total", "counter",
         "Resuming streams that needed notifications older than the history.",
         to_string(m.gap_requests));
  Simple(&out, "gap_shared_total", "counter",
         "Of those, answered by a fetch shared with others or a recent result.",
         to_string(m.gap_shared));
  Simple(&out, "gap_rejected_total", "counter",
         "Of those, refused because too many gap fetches were in flight "
         "(the stream ends; the client retries).",
         to_string(m.gap_rejected));
  Simple(&out, "gap_fetches_in_flight", "gauge",
         "Gap fetches running upstream now.",
         to_string(m.gap_fetches_in_flight));
  if (m.amqp) RenderAmqp(&out, m);
  return out;
}

}  // namespace notifications
