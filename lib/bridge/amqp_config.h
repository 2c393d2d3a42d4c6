// AmqpConfig: the bridge's settings for consuming RabbitMQ (docs/amqp.md)
// and for serving the delivery API, and the command-line options that fill
// them, registered by ParseBridgeCommandLine() (config.h) from here.
//
//   --amqp-url amqp[s]://USER@HOST[:PORT][/VHOST]   instead of --delivery-url
//   --amqp-password-file PATH   or NOTIFICATIONS_BRIDGE_AMQP_PASSWORD
//   --amqp-exchange NAME        default notifications
//   --amqp-queue NAME           a stream queue: stream mode; else live mode
//   --amqp-binding-key KEY      live mode, repeatable, default #
//   --amqp-ca-file PATH         amqps: the broker's certificate authorities
//   --amqp-heartbeat S          default 30, 0 = off
//   --serve-delivery-api        answer GET /delivery/... from the history
//                               (server/delivery_route.h), either source
// Each also as NOTIFICATIONS_BRIDGE_<FLAG>, as every flag of the bridge.
#pragma once

#include <string>
#include <vector>

#include "amqp_url.h"

namespace CLI {
class App;
}

namespace notifications {

struct AmqpConfig {
  // --amqp-url as given (it holds no password); "" = the polling source.
  std::string url;
  // Parsed from url, with the password (never logged), --amqp-ca-file and
  // --amqp-heartbeat.
  AmqpEndpoint endpoint;
  std::string exchange = "notifications";  // --amqp-exchange
  // --amqp-queue: consume this stream queue (ids are offsets); "" = live
  // mode on a server-named exclusive queue.
  std::string queue;
  std::vector<std::string> binding_keys{"#"};  // --amqp-binding-key, live
  // --serve-delivery-api: serve docs/delivery-api.md from the history, for
  // bridges that poll this one. Either source.
  bool serve_delivery_api = false;

  bool enabled() const { return !url.empty(); }
};

// The raw values of the options, as CLI11 fills them.
struct AmqpFlags {
  std::string url;
  std::string password_file;
  std::string exchange = "notifications";
  std::string queue;
  std::vector<std::string> binding_keys;
  std::string ca_file;
  int heartbeat = 30;
  bool serve_delivery_api = false;
};

// What the bridge consumes, for its start line and log: "the stream
// 'notifications-bridge' at amqp://bridge@rabbitmq:5672/dev" or "the exchange
// 'notifications' at amqp://... (live)".
std::string DescribeAmqpSource(const AmqpConfig& config);

// Registers the options above on `app`, filling `flags`; `env_prefix` is
// "NOTIFICATIONS_BRIDGE_". `flags` must outlive the parse.
void AddAmqpOptions(CLI::App& app, const std::string& env_prefix,
                    AmqpFlags* flags);

// After the parse: checks the values (exactly one of `delivery_url` and
// --amqp-url; the URL; the password, required with --amqp-url; options
// that need --amqp-url, or need it without --amqp-queue) and fills
// `config`. Returns "" or the one-line error to exit with (code 2).
// Warnings (a password file others can read) go to `warnings`.
std::string FinishAmqpConfig(const AmqpFlags& flags,
                             const std::string& delivery_url,
                             AmqpConfig* config,
                             std::vector<std::string>* warnings);

}  // namespace notifications
