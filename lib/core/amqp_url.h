// AmqpEndpoint: where and how the bridge connects to RabbitMQ, and the
// parser of --amqp-url. Pure functions, thread-safe.
//
// URL grammar (a subset of RabbitMQ's URI spec, without the password):
//   amqp[s]://USER@HOST[:PORT][/VHOST]
//     USER   percent-encoded, required, no ':' (a password in the URL is
//            refused: it would show in the process list and in logs)
//     HOST   a name, an IPv4 address or an IPv6 address in brackets
//     PORT   1..65535; default 5672 (amqp) or 5671 (amqps)
//     VHOST  percent-encoded ("%2F" is "/"); absent or empty: "/"
//   No query string, no fragment.
#pragma once

#include <chrono>
#include <string>

#include "status.h"

namespace notifications {

struct AmqpEndpoint {
  bool tls = false;  // amqps://
  std::string host;
  int port = 5672;
  std::string vhost = "/";
  std::string user;
  // From --amqp-password-file or the environment, never from the URL.
  // Never logged.
  std::string password;
  // PEM file of the certificate authorities that sign the broker's
  // certificate (amqps only); "" = the system's (peer and host name are
  // verified either way).
  std::string ca_file;
  // Heartbeat asked of the broker, in seconds; 0 disables it (then a dead
  // broker is only noticed by TCP).
  std::chrono::seconds heartbeat{30};
  // TCP connect, TLS and login, each.
  std::chrono::milliseconds connect_timeout{5000};
};

// Parses `url` into the scheme, host, port, vhost and user of an endpoint;
// the other fields keep their defaults. Errors say what is wrong without
// repeating a password that may be in `url`:
//   "--amqp-url must start with amqp:// or amqps://"
//   "--amqp-url must not hold a password: give it with --amqp-password-file
//    or NOTIFICATIONS_BRIDGE_AMQP_PASSWORD"
Result<AmqpEndpoint> ParseAmqpUrl(const std::string& url);

// The endpoint for logs and messages: "amqp://bridge@127.0.0.1:5672/dev"
// (vhost percent-encoded as in a URL; never the password).
std::string AmqpEndpointText(const AmqpEndpoint& endpoint);

}  // namespace notifications
