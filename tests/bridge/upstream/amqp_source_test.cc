#include "amqp_source.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "fake_amqp.h"
#include "fakes.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

// A message body exactly as Nasqueron's Notifications Center publishes it:
// PHP's json_encode (escaped slashes, \u escapes), member order included.
std::string Body(int n, const std::string& service = "GitHub") {
  return "{\"service\":\"" + service +
         "\",\"project\":\"Nasqueron\",\"group\":\"ops\",\"rawContent\":"
         "{\"n\":" +
         std::to_string(n) + "},\"type\":\"push\",\"text\":\"pushed " +
         std::to_string(n) +
         "\",\"link\":\"https:\\/\\/github.com\\/nasqueron\\/operations\"}";
}

struct Rig {
  FakeAmqpBroker broker;
  FakeClock clock;
  Metrics metrics;
  std::vector<std::string> log_lines;
  std::mutex log_mu;
  Logger logger{LogLevel::kDebug, [this](const std::string& l) {
                  std::lock_guard<std::mutex> lock(log_mu);
                  log_lines.push_back(l);
                }};
  EventHub hub;

  explicit Rig(bool raw_content = false) : hub(100, raw_content) {}

  AmqpSourceOptions Options(const std::string& queue = "notifications-stream") {
    AmqpSourceOptions o;
    o.endpoint = ParseAmqpUrl("amqp://bridge@rabbitmq.test/dev").value();
    o.endpoint.password = "secret";
    o.queue = queue;
    o.seed = 1;
    return o;
  }
  std::vector<std::string> HistoryIds() const {
    std::vector<std::string> ids;
    for (const auto& e : hub.TakeSnapshot().history) ids.push_back(e->id);
    return ids;
  }
  bool Called(const std::string& call) const {
    auto calls = broker.calls();
    return std::find(calls.begin(), calls.end(), call) != calls.end();
  }
  bool Logged(const std::string& needle) {
    std::lock_guard<std::mutex> lock(log_mu);
    for (const auto& l : log_lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_CASE(
    "amqp source: stream mode reads from the first message, ids are offsets") {
  Rig rig;
  for (int i = 0; i < 3; ++i) rig.broker.AddToStream(Body(i));
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  CHECK(rig.Called("open bridge@rabbitmq.test/dev"));
  CHECK(rig.Called("declare_queue notifications-stream passive"));
  CHECK(rig.Called("qos 256"));
  CHECK(rig.Called("consume notifications-stream x-stream-offset=first"));
  CHECK(source.State().connection == "connected");
  CHECK(source.State().upstream_ok);
  REQUIRE(source.Pump().ok());
  CHECK(rig.HistoryIds() == std::vector<std::string>{"0", "1", "2"});
  CHECK(source.State().cursor == "2");
  CHECK(source.State().offset == 2);
  CHECK(source.LastOffset() == 2);
  CHECK(rig.metrics.notifications_published == 3);
  CHECK(rig.metrics.amqp_messages == 3);
  CHECK(rig.metrics.amqp_offset == 2);
  CHECK(rig.metrics.amqp_connected == 1);
  CHECK(rig.Called("ack 3 multiple"));
}

TEST_CASE(
    "amqp source: a batch is acknowledged only once it is in the history") {
  Rig rig;
  for (int i = 0; i < 4; ++i) rig.broker.AddToStream(Body(i));
  // At each publication, how many calls the broker had seen, and whether
  // an ack was among them.
  std::vector<bool> acked_before_publish;
  rig.hub.AddWaker([&] {
    auto calls = rig.broker.calls();
    acked_before_publish.push_back(std::any_of(
        calls.begin(), calls.end(),
        [](const std::string& c) { return c.rfind("ack", 0) == 0; }));
  });
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  REQUIRE(acked_before_publish.size() == 1);  // One batch, one publication.
  CHECK_FALSE(acked_before_publish[0]);
  CHECK(rig.Called("ack 4 multiple"));
}

TEST_CASE("amqp source: Nasqueron's exact body, its escapes and its nulls") {
  Rig rig;
  rig.broker.AddToStream(
      "{\"service\":\"Phabricator\",\"project\":\"Nasqueron\",\"group\":"
      "\"devtools\",\"rawContent\":null,\"type\":\"TASK\",\"text\":"
      "\"T1 caf\\u00e9 \\ud83d\\ude00 \\/ ok\",\"link\":\"\"}");
  rig.broker.AddToStream(
      "{\"service\":\"Notifications\",\"project\":\"Nasqueron\",\"group\":"
      "\"\",\"rawContent\":null,\"type\":\"native\",\"text\":null,\"link\":"
      "null}");
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  auto history = rig.hub.TakeSnapshot().history;
  REQUIRE(history.size() == 2);
  const Notification& a = history[0]->notification;
  CHECK(a.service == "Phabricator");
  CHECK(a.group == "devtools");
  CHECK(a.type == "TASK");
  CHECK(a.text == "T1 caf\xC3\xA9 \xF0\x9F\x98\x80 / ok");
  CHECK(a.link == "");
  CHECK_FALSE(a.raw_content.has_value());
  CHECK(a.RoutingKey() == "nasqueron.devtools.phabricator.task");
  // rawContent is not kept when streams do not carry it.
  rig.broker.AddToStream(Body(2));
  REQUIRE(source.Pump().ok());
  CHECK_FALSE(rig.hub.TakeSnapshot().history.back()->notification.raw_content);
  const Notification& b = history[1]->notification;
  CHECK(b.group == "");
  CHECK_FALSE(b.text.has_value());
  CHECK_FALSE(b.link.has_value());
  CHECK(b.RoutingKey() == "nasqueron..notifications.native");
}

TEST_CASE(
    "amqp source: time is the timestamp property, else the receive time") {
  Rig rig;
  rig.broker.AddToStream(Body(0), 1795869000);
  rig.broker.AddToStream(Body(1));
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  auto history = rig.hub.TakeSnapshot().history;
  REQUIRE(history.size() == 2);
  CHECK(history[0]->notification.time == "2026-11-28T12:30:00.000Z");
  CHECK(history[1]->notification.time == FormatRfc3339(rig.clock.WallMillis()));
}

TEST_CASE(
    "amqp source: resumes after the saved offset; a non-offset cursor reads "
    "from the first") {
  Rig rig;
  for (int i = 0; i < 5; ++i) rig.broker.AddToStream(Body(i));
  {
    AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                      rig.Options(), std::string("2"));
    CHECK(source.LastOffset() == 2);
    REQUIRE(source.Subscribe().ok());
    // From the cursor itself: its message comes back first, dropped.
    CHECK(rig.Called("consume notifications-stream x-stream-offset=2"));
    REQUIRE(source.Pump().ok());
    CHECK(rig.HistoryIds() == std::vector<std::string>{"3", "4"});
    CHECK(rig.metrics.duplicates_dropped == 1);
    CHECK(rig.metrics.upstream_resets == 0);
  }
  Rig other;
  other.broker.AddToStream(Body(0));
  AmqpSource source(other.broker, other.hub, other.metrics, other.logger,
                    other.clock, other.Options(),
                    std::string("1795869554-0000000042"));
  CHECK_FALSE(source.LastOffset().has_value());
  CHECK(other.Logged("is not an offset"));
  REQUIRE(source.Subscribe().ok());
  CHECK(other.Called("consume notifications-stream x-stream-offset=first"));
}

TEST_CASE(
    "amqp source: offsets redelivered from the start of a chunk are not "
    "published twice") {
  Rig rig;
  for (int i = 0; i < 6; ++i) rig.broker.AddToStream(Body(i));
  rig.broker.SetChunkRewind(2);
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options(), std::string("3"));
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  CHECK(rig.HistoryIds() == std::vector<std::string>{"4", "5"});
  CHECK(rig.metrics.duplicates_dropped == 3);
  CHECK(rig.Called("ack 5 multiple"));  // 1 to 5: all acknowledged.
  CHECK(rig.metrics.upstream_resets == 0);
}

TEST_CASE(
    "amqp source: --max-item-bytes counts rawContent only when streams carry "
    "it") {
  // A webhook with a 2 MiB payload and a one-line notification.
  const std::string body =
      "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":"
      "\"ops\",\"rawContent\":{\"payload\":\"" +
      std::string(2 << 20, 'p') +
      "\"},\"type\":\"push\",\"text\":\"pushed\",\"link\":\"\"}";
  SUBCASE("without --raw-content: kept, without its payload") {
    Rig rig;
    rig.broker.AddToStream(body);
    AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                      rig.Options());
    REQUIRE(source.Subscribe().ok());
    REQUIRE(source.Pump().ok());
    auto history = rig.hub.TakeSnapshot().history;
    REQUIRE(history.size() == 1);
    CHECK(!history[0]->notification.raw_content.has_value());
    CHECK(rig.metrics.amqp_skipped == 0);
  }
  SUBCASE("with --raw-content: over 1 MiB as kept, skipped") {
    Rig rig(/*raw_content=*/true);
    rig.broker.AddToStream(body);
    rig.broker.AddToStream(Body(1));
    AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                      rig.Options());
    REQUIRE(source.Subscribe().ok());
    REQUIRE(source.Pump().ok());
    CHECK(rig.HistoryIds() == std::vector<std::string>{"1"});
    CHECK(rig.metrics.skipped_too_large == 1);
    CHECK(rig.Logged("offset 0): notification of "));
    CHECK(rig.Logged("bytes, over --max-item-bytes 1048576"));
  }
}

TEST_CASE(
    "amqp source: messages that are not notifications are acked, skipped, "
    "counted, logged") {
  Rig rig;
  rig.broker.AddToStream(Body(0));
  rig.broker.AddToStream("not json at all");
  rig.broker.AddToStream(
      "{\"service\":\"GitHub\",\"group\":\"ops\",\"type\":\"push\"}");
  rig.broker.AddToStream("[1,2,3]");
  rig.broker.AddToStream(std::string(2 << 20, ' ') + Body(4));
  rig.broker.AddToStream(Body(5));
  AmqpSourceOptions options = rig.Options();
  options.max_body_bytes = 1 << 20;  // --max-page-bytes 1 MiB
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    options);
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  CHECK(rig.HistoryIds() == std::vector<std::string>{"0", "5"});
  CHECK(rig.metrics.amqp_skipped == 4);
  CHECK(rig.metrics.amqp_messages == 6);
  CHECK(rig.Called("ack 6 multiple"));
  CHECK(source.State().cursor == "5");
  CHECK(source.State().upstream_ok);
  CHECK(rig.Logged("offset 1): body is not valid JSON"));
  CHECK(rig.Logged("offset 2): missing required field \"project\""));
  CHECK(rig.Logged("offset 4): body of"));
  // /healthz shows them as it does for the polling source.
  CHECK(rig.metrics.skipped_too_large == 1);
  CHECK(source.State().skipped == 4);
  CHECK(source.State().last_skipped_id == "4");
  CHECK(source.State().last_skipped_reason.rfind("body of", 0) == 0);
  CHECK(source.State().last_skipped_ms > 0);
  // A skipped last message still moves the cursor past it.
  rig.broker.AddToStream("{}");
  REQUIRE(source.Pump().ok());
  CHECK(source.State().cursor == "6");
  CHECK(rig.HistoryIds().size() == 2);
}

TEST_CASE("amqp source: a gap in retention resets the streams and continues") {
  Rig rig;
  for (int i = 0; i < 8; ++i) rig.broker.AddToStream(Body(i));
  rig.broker.Truncate(5);  // Offsets 0..4 expired.
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options(), std::string("1"));
  REQUIRE(source.Subscribe().ok());
  CHECK(rig.Called("consume notifications-stream x-stream-offset=1"));
  uint64_t before = rig.hub.last_seq();
  REQUIRE(source.Pump().ok());
  std::vector<HubEventPtr> events;
  rig.hub.ReadAfter(before, 100, &events);
  REQUIRE(events.size() == 4);
  CHECK(events[0]->kind == HubEvent::Kind::kReset);
  CHECK(events[0]->reason == "upstream-reset");
  CHECK(events[0]->message.find("no longer retains offset 1") !=
        std::string::npos);
  CHECK(rig.HistoryIds() == std::vector<std::string>{"5", "6", "7"});
  CHECK(rig.metrics.upstream_resets == 1);
}

TEST_CASE(
    "amqp source: a queue whose deliveries carry no offset is not a stream: "
    "nothing acked") {
  Rig rig;
  rig.broker.AddToStream(Body(0));
  rig.broker.SetNoOffsetHeader(true);
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  AmqpStatus s = source.Pump();
  CHECK(s.kind == AmqpErrorKind::kPreconditionFailed);
  CHECK(s.message.find("is it a stream queue") != std::string::npos);
  CHECK_FALSE(source.subscribed());
  CHECK(rig.HistoryIds().empty());
  for (const std::string& c : rig.broker.calls()) CHECK(c.rfind("ack", 0) != 0);
  CHECK(source.State().connection == "disconnected");
  CHECK_FALSE(source.State().upstream_ok);
}

TEST_CASE(
    "amqp source: failures are classified, explained, counted, and the "
    "connection rebuilt") {
  Rig rig;
  rig.broker.Fail("open",
                  AmqpStatus::Error(AmqpErrorKind::kAuth,
                                    "403 ACCESS_REFUSED - Login was refused"));
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  AmqpStatus s = source.Subscribe();
  CHECK(s.kind == AmqpErrorKind::kAuth);
  UpstreamState st = source.State();
  CHECK_FALSE(st.upstream_ok);
  CHECK(st.source == "amqp");
  CHECK(st.connection == "disconnected");
  CHECK(st.consecutive_failures == 1);
  CHECK(st.last_error.find("auth: connecting: 403 ACCESS_REFUSED") == 0);
  CHECK(st.last_error.find("--amqp-password-file") != std::string::npos);
  CHECK(st.last_error.find("secret") == std::string::npos);
  CHECK(rig.metrics.amqp_errors[static_cast<size_t>(AmqpErrorKind::kAuth)] ==
        1);
  CHECK(rig.Logged("amqp amqp://rabbitmq.test:5672/dev: auth: connecting"));

  rig.broker.Fail(
      "declare_queue",
      AmqpStatus::Error(AmqpErrorKind::kNotFound,
                        "404 NOT_FOUND - no queue 'notifications-stream'"));
  s = source.Subscribe();
  CHECK(s.kind == AmqpErrorKind::kNotFound);
  CHECK(source.State().consecutive_failures == 2);
  CHECK(source.State().last_error.find("declared and bound") !=
        std::string::npos);
  CHECK(rig.broker.open_connections() == 0);  // Each failed one was closed.

  REQUIRE(source.Subscribe().ok());
  CHECK(source.State().upstream_ok);
  CHECK(source.State().consecutive_failures == 0);
  CHECK(source.State().last_error.find("not_found") == 0);  // Kept for people.
  CHECK(rig.broker.connections() == 3);
  CHECK(rig.metrics.amqp_connections == 1);

  rig.broker.Fail("wait",
                  AmqpStatus::Error(AmqpErrorKind::kHeartbeatTimeout,
                                    "basic.consume: heartbeat timeout"));
  s = source.Pump();
  CHECK(s.kind == AmqpErrorKind::kHeartbeatTimeout);
  CHECK_FALSE(source.subscribed());
  CHECK(rig.metrics.amqp_connected == 0);
}

TEST_CASE(
    "amqp source: the lag is the queue's message count past the consumed "
    "offset") {
  Rig rig;
  for (int i = 0; i < 3; ++i) rig.broker.AddToStream(Body(i));
  rig.broker.SetMessageCount(10);
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options());
  REQUIRE(source.Subscribe().ok());
  CHECK_FALSE(source.State().lag.has_value());
  REQUIRE(source.Pump().ok());
  CHECK(source.State().lag == 7);
  CHECK(rig.metrics.amqp_lag == 7);
  // Asked again only after the interval.
  REQUIRE(source.Pump().ok());
  auto calls = rig.broker.calls();
  CHECK(std::count(calls.begin(), calls.end(),
                   "inspect notifications-stream") == 1);
  rig.clock.Advance(5s);
  REQUIRE(source.Pump().ok());
  calls = rig.broker.calls();
  CHECK(std::count(calls.begin(), calls.end(),
                   "inspect notifications-stream") == 2);
}

TEST_CASE(
    "amqp source: the cursor is reported after each batch, for the state "
    "file") {
  Rig rig;
  std::vector<std::string> saved;
  AmqpSourceOptions o = rig.Options();
  o.on_cursor = [&](const std::optional<std::string>& c) {
    saved.push_back(c.value_or(""));
  };
  for (int i = 0; i < 2; ++i) rig.broker.AddToStream(Body(i));
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock, o);
  REQUIRE(source.Subscribe().ok());
  REQUIRE(source.Pump().ok());
  REQUIRE(source.Pump().ok());  // Nothing new: nothing saved.
  rig.broker.AddToStream(Body(2));
  REQUIRE(source.Pump().ok());
  CHECK(saved == std::vector<std::string>{"1", "2"});
}

TEST_CASE(
    "amqp source: live mode binds an exclusive queue and mints increasing "
    "ids") {
  Rig rig;
  AmqpSourceOptions o = rig.Options("");
  o.binding_keys = {"nasqueron.ops.#", "*.ci.#"};
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock, o,
                    std::string("41"));
  CHECK_FALSE(source.stream_mode());
  REQUIRE(source.Subscribe().ok());
  CHECK(rig.broker.calls() ==
        std::vector<std::string>{
            "open bridge@rabbitmq.test/dev",
            "declare_exchange notifications topic durable passive",
            "declare_queue '' exclusive",
            "bind amq.gen-1 notifications nasqueron.ops.#",
            "bind amq.gen-1 notifications *.ci.#", "qos 256",
            "consume amq.gen-1"});
  rig.broker.AddLive(Body(0));
  rig.broker.AddLive("poison");
  rig.broker.AddLive(Body(2));
  REQUIRE(source.Pump().ok());
  std::vector<std::string> ids = rig.HistoryIds();
  CHECK(ids == std::vector<std::string>{"1795869554000-0000000001",
                                        "1795869554000-0000000002"});
  CHECK(CompareIds(ids[0], ids[1]) < 0);
  CHECK(source.State().cursor == ids[1]);
  CHECK_FALSE(source.State().offset.has_value());
  CHECK(rig.metrics.amqp_skipped == 1);
  CHECK(rig.Called("ack 3 multiple"));
}

TEST_CASE("amqp source: a missing exchange in live mode is explained") {
  Rig rig;
  rig.broker.Fail(
      "declare_exchange",
      AmqpStatus::Error(AmqpErrorKind::kNotFound,
                        "404 NOT_FOUND - no exchange 'notifications'"));
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock,
                    rig.Options(""));
  AmqpStatus s = source.Subscribe();
  CHECK(s.kind == AmqpErrorKind::kNotFound);
  CHECK(s.message.find("checking the exchange 'notifications'") !=
        std::string::npos);
  CHECK(s.message.find("--amqp-exchange") != std::string::npos);
}

TEST_CASE(
    "amqp source: Run() retries with the poller's backoff; Stop() interrupts "
    "it") {
  Rig rig;
  for (int i = 0; i < 3; ++i) {
    rig.broker.Fail("open", AmqpStatus::Error(AmqpErrorKind::kConnect,
                                              "cannot connect: refused"));
  }
  rig.broker.AddToStream(Body(0));
  AmqpSourceOptions o = rig.Options();
  o.backoff.initial = 1000ms;
  o.backoff.max = 60000ms;
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock, o);
  std::thread runner([&] { source.Run(); });
  for (int i = 0; i < 2000 && rig.HistoryIds().empty(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  source.Stop();
  runner.join();
  CHECK(rig.HistoryIds() == std::vector<std::string>{"0"});
  std::vector<std::chrono::milliseconds> waits = rig.clock.waits();
  REQUIRE(waits.size() >= 3);
  // Ceilings 1 s, 2 s, 4 s: each wait in the upper half of its ceiling.
  CHECK(waits[0] >= 500ms);
  CHECK(waits[0] <= 1000ms);
  CHECK(waits[1] >= 1000ms);
  CHECK(waits[1] <= 2000ms);
  CHECK(waits[2] >= 2000ms);
  CHECK(waits[2] <= 4000ms);
  // It was only waiting for deliveries: closed, not interrupted.
  CHECK_FALSE(rig.Called("interrupt"));
  CHECK(rig.broker.open_connections() == 0);
  CHECK(source.State().connection == "disconnected");
}

TEST_CASE("amqp source: Stop() interrupts a consumer blocked in the library") {
  Rig rig;
  rig.broker.SetWaitBlocks(true);  // A broker that stopped answering.
  AmqpSourceOptions o = rig.Options();
  o.wake = 10ms;
  AmqpSource source(rig.broker, rig.hub, rig.metrics, rig.logger, rig.clock, o);
  std::thread runner([&] { source.Run(); });
  while (rig.broker.blocked() == 0) std::this_thread::sleep_for(1ms);
  source.Stop();
  runner.join();
  CHECK(rig.Called("interrupt"));
  CHECK(rig.broker.open_connections() == 0);
  CHECK(rig.metrics
            .amqp_errors[static_cast<size_t>(AmqpErrorKind::kConnectionLost)] ==
        0);
}

TEST_CASE("amqp source: stream offsets as ids") {
  CHECK(ParseStreamOffset("0") == 0);
  CHECK(ParseStreamOffset("42") == 42);
  CHECK(ParseStreamOffset("999999999999999999") == 999999999999999999);
  CHECK_FALSE(ParseStreamOffset("").has_value());
  CHECK_FALSE(ParseStreamOffset("042").has_value());
  CHECK_FALSE(ParseStreamOffset("-1").has_value());
  CHECK_FALSE(ParseStreamOffset("1e3").has_value());
  CHECK_FALSE(ParseStreamOffset("1795869554-0000000042").has_value());
  CHECK_FALSE(ParseStreamOffset("1000000000000000000").has_value());
  // Decimal offsets without leading zeros order as CompareIds orders ids.
  CHECK(CompareIds("9", "10") < 0);
  CHECK(CompareIds("99", "100") < 0);
}

}  // namespace
}  // namespace notifications
