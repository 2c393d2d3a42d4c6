#include "metrics.h"

#include <doctest/doctest.h>

namespace notifications {
namespace {

TEST_CASE("metrics: renders the Prometheus text format byte for byte") {
  MetricsSnapshot m;
  m.polls = 12;
  m.poll_errors[static_cast<size_t>(FetchError::kTimeout)] = 2;
  m.notifications_published = 40;
  m.clients_connected = 3;
  m.events_sent = 120;
  m.bytes_sent = 34567;
  m.last_success_unix_seconds = 1795869554.25;
  std::string text = RenderPrometheus(m);
  CHECK(text.rfind(
            "# HELP notifications_bridge_polls_total Page requests made to the "
            "delivery API by the poller.\n"
            "# TYPE notifications_bridge_polls_total counter\n"
            "notifications_bridge_polls_total 12\n"
            "# HELP notifications_bridge_poll_errors_total Failed page requests, "
            "by kind.\n"
            "# TYPE notifications_bridge_poll_errors_total counter\n"
            "notifications_bridge_poll_errors_total{kind=\"connect\"} 0\n"
            "notifications_bridge_poll_errors_total{kind=\"timeout\"} 2\n",
            0) == 0);
  CHECK(text.find("notifications_bridge_poll_errors_total{kind=\"malformed\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE notifications_bridge_clients_connected gauge\n"
                  "notifications_bridge_clients_connected 3\n") != std::string::npos);
  CHECK(text.find("notifications_bridge_events_sent_total 120\n") != std::string::npos);
  CHECK(text.find("notifications_bridge_bytes_sent_total 34567\n") != std::string::npos);
  CHECK(text.find("notifications_bridge_notifications_published_total 40\n") !=
        std::string::npos);
  CHECK(text.find("notifications_bridge_last_success_timestamp_seconds 1795869554.250\n") !=
        std::string::npos);
  CHECK(text.back() == '\n');
  // No "none" pseudo-kind.
  CHECK(text.find("kind=\"none\"") == std::string::npos);
}

TEST_CASE("metrics: snapshot reads the live counters") {
  Metrics m;
  m.polls += 3;
  m.CountPollError(FetchError::kGone);
  m.clients_connected += 2;
  MetricsSnapshot s = m.Snapshot();
  CHECK(s.polls == 3);
  CHECK(s.poll_errors[static_cast<size_t>(FetchError::kGone)] == 1);
  CHECK(s.clients_connected == 2);
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

TEST_CASE("metrics: the AMQP block, only for the AMQP source") {
  MetricsSnapshot m;
  CHECK(RenderPrometheus(m).find("amqp") == std::string::npos);
  m.amqp = true;
  m.amqp_connected = 1;
  m.amqp_connections = 2;
  m.amqp_errors[static_cast<size_t>(AmqpErrorKind::kAuth)] = 3;
  m.amqp_messages = 10;
  m.amqp_skipped = 1;
  m.amqp_offset = 41;
  m.amqp_lag = 0;
  std::string text = RenderPrometheus(m);
  CHECK(text.find("# HELP notifications_bridge_amqp_connected 1 while the AMQP "
                  "source is connected and consuming, else 0.\n"
                  "# TYPE notifications_bridge_amqp_connected gauge\n"
                  "notifications_bridge_amqp_connected 1\n") !=
        std::string::npos);
  CHECK(text.find("notifications_bridge_amqp_connections_total 2\n") !=
        std::string::npos);
  CHECK(
      text.find("notifications_bridge_amqp_errors_total{kind=\"connect\"} 0\n"
                "notifications_bridge_amqp_errors_total{kind=\"auth\"} 3\n") !=
      std::string::npos);
  CHECK(text.find("{kind=\"none\"}") == std::string::npos);
  CHECK(text.find("notifications_bridge_amqp_messages_total 10\n") !=
        std::string::npos);
  CHECK(text.find("notifications_bridge_amqp_messages_skipped_total 1\n") !=
        std::string::npos);
  CHECK(text.find("notifications_bridge_amqp_offset 41\n") !=
        std::string::npos);
  CHECK(text.find("notifications_bridge_amqp_lag 0\n") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("metrics: the snapshot carries the AMQP counters") {
  Metrics metrics;
  metrics.amqp = true;
  metrics.CountAmqpError(AmqpErrorKind::kNotFound);
  metrics.amqp_offset = 7;
  MetricsSnapshot s = metrics.Snapshot();
  CHECK(s.amqp);
  CHECK(s.amqp_errors[static_cast<size_t>(AmqpErrorKind::kNotFound)] == 1);
  CHECK(s.amqp_offset == 7);
  CHECK(s.amqp_lag == -1);
}

}  // namespace
}  // namespace notifications
