// AmqpConnection and AmqpConnector: the AMQP 0-9-1 operations the bridge
// needs to consume Nasqueron's RabbitMQ exchange (docs/amqp.md), and no
// more. An interface, like HttpClient, so the AMQP source is tested with a
// fake (tests/support/fake_amqp.h); the real implementation is
// LibrabbitmqConnector (lib/amqp/librabbitmq_client.h), the only code that
// includes <amqp.h>.
//
// The model is librabbitmq's: one connection, one thread, no reconnection
// and no background heartbeat thread. A connection is used by the thread
// that made it, which must call into it (Wait() does) at least every half
// heartbeat; after any error whose kind is not kNone the connection is
// finished (its socket closed or its channel gone): destroy it and build a
// new one (declarations, binding and consumer included). Interrupt() is the
// only call another thread may make.
//
// Every operation returns an AmqpStatus; expected failures are values.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "amqp_url.h"

namespace notifications {

// What went wrong, classified for logs, /healthz and /metrics.
enum class AmqpErrorKind {
  kNone,
  kConnect,             // TCP connect: refused, unreachable, DNS, timeout.
  kAuth,                // Login refused: wrong user or password (403).
  kAccessRefused,       // 403 ACCESS_REFUSED on an operation, or the vhost
                        // refused to this user / missing (530 NOT_ALLOWED).
  kNotFound,            // 404 NOT_FOUND: queue or exchange missing.
  kPreconditionFailed,  // 406 PRECONDITION_FAILED: declared otherwise, or a
                        // stream consumed without basic.qos.
  kConnectionLost,      // Socket error, closed by the broker (320 and the
                        // like), or Interrupt().
  kHeartbeatTimeout,    // No frame from the broker for two heartbeats.
  kTls,                 // TLS handshake, certificate or hostname check.
  kTimeout,             // The broker did not answer an operation in time.
  kProtocol,            // Anything else the broker or library reported.
};
inline constexpr size_t kAmqpErrorKinds =
    static_cast<size_t>(AmqpErrorKind::kProtocol) + 1;

// Stable lowercase label for logs and metrics: "connect", "auth",
// "access_refused", "not_found", "precondition_failed", "connection_lost",
// "heartbeat_timeout", "tls", "timeout", "protocol" ("none" for kNone).
const char* AmqpErrorName(AmqpErrorKind kind);

// The outcome of one operation. `message` is one line for people, e.g.
// "404 NOT_FOUND - no queue 'notifications' in vhost 'dev'", and never
// holds the password.
struct [[nodiscard]] AmqpStatus {
  AmqpErrorKind kind = AmqpErrorKind::kNone;
  std::string message;

  bool ok() const { return kind == AmqpErrorKind::kNone; }
  static AmqpStatus Ok() { return {}; }
  static AmqpStatus Error(AmqpErrorKind kind, std::string message) {
    return {kind, std::move(message)};
  }
};

// A queue or consume argument (an AMQP field-table entry): a long
// ("x-stream-offset": 42) or a string ("x-stream-offset": "first").
struct AmqpArgument {
  std::string key;
  std::variant<int64_t, std::string> value;
};

// One message delivered to the consumer.
struct AmqpDelivery {
  uint64_t delivery_tag = 0;  // For Ack().
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  // The `timestamp` property, in seconds since the Unix epoch (AMQP's
  // unit); nullopt when the publisher set none (Nasqueron sets none).
  std::optional<int64_t> timestamp;
  // The `x-stream-offset` header a stream queue adds to each delivery;
  // nullopt when absent (not a stream queue).
  std::optional<int64_t> stream_offset;
};

// What a queue declaration tells.
struct AmqpQueueInfo {
  std::string name;  // The server-chosen name when declared with "".
  // Messages the broker counts in it. For a stream queue this comes from
  // the broker's statistics, refreshed every few seconds: an estimate.
  uint32_t message_count = 0;
};

class AmqpConnection {
 public:
  virtual ~AmqpConnection() = default;

  // Connects, logs in (`endpoint`'s credentials, vhost and heartbeat, TLS
  // when endpoint.tls) and opens channel 1. Once, first. The TCP connect
  // itself waits up to endpoint.connect_timeout even when interrupted.
  virtual AmqpStatus Open(const AmqpEndpoint& endpoint) = 0;

  // exchange.declare of `name`: `passive` only checks that it exists
  // (404 otherwise); active declares it with `type` and `durable` (406 when
  // it exists otherwise; needs the configure permission).
  virtual AmqpStatus DeclareExchange(const std::string& name,
                                     const std::string& type, bool durable,
                                     bool passive) = 0;

  // queue.declare. `name` "" asks for a server-named queue (its name comes
  // back in `info`). `passive`: only check that it exists (404 otherwise).
  // `exclusive` queues belong to this connection and vanish with it.
  virtual AmqpStatus DeclareQueue(const std::string& name, bool passive,
                                  bool exclusive, AmqpQueueInfo* info) = 0;

  // queue.bind of `queue` to `exchange` with a topic `routing_key`.
  virtual AmqpStatus BindQueue(const std::string& queue,
                               const std::string& exchange,
                               const std::string& routing_key) = 0;

  // basic.qos: at most `prefetch` unacknowledged deliveries in flight
  // (a stream queue refuses consumers without it).
  virtual AmqpStatus Qos(uint16_t prefetch) = 0;

  // basic.consume on `queue`, with acknowledgements, with `arguments`
  // (e.g. x-stream-offset). Deliveries then come from Wait().
  virtual AmqpStatus Consume(const std::string& queue,
                             const std::vector<AmqpArgument>& arguments) = 0;

  // Waits up to `timeout` (0: only what already arrived) for the next
  // delivery. ok() with `*delivery` set: a message; ok() with `*delivery`
  // empty: nothing within the timeout. Services heartbeats meanwhile.
  // The consumer being cancelled or the channel closed by the broker is an
  // error (with the broker's reason).
  virtual AmqpStatus Wait(std::chrono::milliseconds timeout,
                          std::optional<AmqpDelivery>* delivery) = 0;

  // basic.ack of `delivery_tag`, and of every earlier one when `multiple`.
  virtual AmqpStatus Ack(uint64_t delivery_tag, bool multiple) = 0;

  // Passive queue.declare of `queue` on a second channel, so it can be
  // asked while consuming (for the lag estimate).
  virtual AmqpStatus Inspect(const std::string& queue, AmqpQueueInfo* info) = 0;

  // basic.publish to `exchange` with `routing_key`: transient, no
  // properties but `timestamp` (seconds) when given; exactly what Nasqueron's
  // Notifications Center sends. For tests, the demo and bench/: the bridge
  // only consumes.
  virtual AmqpStatus Publish(const std::string& exchange,
                             const std::string& routing_key,
                             const std::string& body,
                             std::optional<int64_t> timestamp) = 0;

  // Makes a call blocked in another thread return soon with
  // kConnectionLost (shuts the socket down); the connection is then
  // finished. The only method safe to call from another thread, also
  // concurrently with any other.
  virtual void Interrupt() = 0;
};

// Makes connections, not yet open: the caller can hand it to the thread
// that may Interrupt() it before calling Open(), so that even a login in
// progress can be cut short. Thread-safe: each thread makes its own.
class AmqpConnector {
 public:
  virtual ~AmqpConnector() = default;
  virtual std::unique_ptr<AmqpConnection> NewConnection() = 0;
};

// Makes a connection with `connector` and opens it; on failure `*out` is
// left empty and the status says why. For callers that need no Interrupt()
// during the login (tests, the demo's publisher, bench/).
AmqpStatus OpenAmqpConnection(AmqpConnector& connector,
                              const AmqpEndpoint& endpoint,
                              std::unique_ptr<AmqpConnection>* out);

}  // namespace notifications
