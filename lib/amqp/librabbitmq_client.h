// LibrabbitmqConnector: the AmqpConnector (amqp_client.h) over Debian's
// librabbitmq 0.11, the only AMQP 0-9-1 client for C in Debian 12. This
// part (nb_amqp) is the only code that includes <amqp*.h>; nothing of
// librabbitmq shows through this header.
//
// What it does around the library (shared/KNOWLEDGE.md, "RabbitMQ"):
//   - TCP or TLS (amqps): peer and host name always verified, TLS 1.2 at
//     least, CAs from the endpoint's ca_file or else Debian's bundle
//     (/etc/ssl/certs/ca-certificates.crt: librabbitmq loads no default);
//   - connect, TLS and login bounded by the endpoint's connect_timeout,
//     every other broker round trip by max(connect_timeout, 10 s);
//   - broker refusals classified by their reply code (403 at login is
//     kAuth, 403 later kAccessRefused, 530 kAccessRefused, 404, 406...) with
//     the broker's own text, and answered with close-ok;
//   - AMQP_STATUS_UNEXPECTED_STATE (a frame that is not a delivery, e.g.
//     channel.close or basic.cancel) read with amqp_simple_wait_frame and
//     turned into an error, so no frame is left unread;
//   - Interrupt() shuts the socket down (shutdown(2)), which wakes a thread
//     blocked in the library without touching the library's state;
//   - the destructor closes politely (connection.close, 1 s) when the
//     connection is still sound, and frees everything.
//
// Thread-safety: the connector is; each connection belongs to one thread
// (Interrupt() excepted), as librabbitmq requires.
#pragma once

#include <memory>

#include "amqp_client.h"

namespace notifications {

class LibrabbitmqConnector final : public AmqpConnector {
 public:
  std::unique_ptr<AmqpConnection> NewConnection() override;
};

// Where the CAs come from when the endpoint names no ca_file.
inline constexpr const char* kDefaultCaFile =
    "/etc/ssl/certs/ca-certificates.crt";

}  // namespace notifications
