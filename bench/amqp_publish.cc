// nb-amqp-publish: publishes notifications to RabbitMQ as Nasqueron's
// Notifications Center does (exchange, routing key, json_encode body, no
// properties), each with "t=<unix ns>" in its text, the time taken right
// before basic.publish: nb-sse-load reads it back on the streams and
// computes the end-to-end latency (bench/amqp_latency.sh, bench/README.md).
//
// The password comes from NB_AMQP_PASSWORD (a benchmark's throwaway
// broker). Exit status: 0 when every message was published, 1 otherwise,
// 2 on a bad flag.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "amqp_client.h"
#include "librabbitmq_client.h"

namespace {

int64_t RealNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 +
         static_cast<int64_t>(ts.tv_nsec);
}

int Usage() {
  std::fprintf(stderr,
               "Usage: nb-amqp-publish --url amqp://USER@HOST:PORT/VHOST "
               "[--exchange notifications] [--routing-key "
               "nasqueron.ops.github.push]\n"
               "                       [--count 10] [--interval 1] [--pad 0]\n"
               "Password: NB_AMQP_PASSWORD.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace notifications;
  std::string url, exchange = "notifications",
                   key = "nasqueron.ops.github.push";
  long count = 10;
  double interval = 1;
  long pad = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string value = argv[++i];
    if (arg == "--url") {
      url = value;
    } else if (arg == "--exchange") {
      exchange = value;
    } else if (arg == "--routing-key") {
      key = value;
    } else if (arg == "--count") {
      count = std::atol(value.c_str());
    } else if (arg == "--interval") {
      interval = std::atof(value.c_str());
    } else if (arg == "--pad") {
      pad = std::atol(value.c_str());
    } else {
      return Usage();
    }
  }
  Result<AmqpEndpoint> endpoint = ParseAmqpUrl(url);
  if (!endpoint.ok()) {
    std::fprintf(stderr, "nb-amqp-publish: %s\n",
                 endpoint.status().message().c_str());
    return 2;
  }
  AmqpEndpoint e = endpoint.value();
  const char* password = std::getenv("NB_AMQP_PASSWORD");
  e.password = password ? password : "";
  LibrabbitmqConnector connector;
  std::unique_ptr<AmqpConnection> c;
  AmqpStatus s = OpenAmqpConnection(connector, e, &c);
  if (!s.ok()) {
    std::fprintf(stderr, "nb-amqp-publish: %s: %s\n", AmqpErrorName(s.kind),
                 s.message.c_str());
    return 1;
  }
  const std::string padding(static_cast<size_t>(pad), 'x');
  auto next = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    std::this_thread::sleep_until(next);
    next += std::chrono::nanoseconds(static_cast<int64_t>(interval * 1e9));
    std::string head =
        "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":\"ops\","
        "\"rawContent\":null,\"type\":\"push\",\"text\":\"bench " +
        std::to_string(i) + " t=";
    std::string tail = " " + padding +
                       "\",\"link\":\"https:\\/\\/github.com\\/nasqueron\\/"
                       "operations\"}";
    std::string body = head + std::to_string(RealNs()) + tail;
    s = c->Publish(exchange, key, body, std::nullopt);
    if (!s.ok()) {
      std::fprintf(stderr, "nb-amqp-publish: message %ld: %s\n", i,
                   s.message.c_str());
      return 1;
    }
  }
  // Let the broker take the last frames before the polite close.
  std::optional<AmqpDelivery> none;
  s = c->Wait(std::chrono::milliseconds(100), &none);
  std::printf("published %ld\n", count);
  return 0;
}
