// A throwaway RabbitMQ node for the AMQP tests, started by the tests
// themselves: Debian's rabbitmq-server run directly (not the /usr/sbin
// wrapper, not systemd) in a temporary directory, on free loopback ports,
// with its own epmd port, HOME (its Erlang cookie) and RABBITMQ_*
// variables, so it shares nothing with a system node or another test run.
// Boot takes 5-8 s on an idle 2-core machine (more under load): make one per
// test binary, not one per test. The destructor shuts the node down, stops
// its epmd and removes the directory. (shared/KNOWLEDGE.md, "RabbitMQ".)
//
// Not thread-safe: one test thread drives it. AmqpPublisher is a separate
// connection, usable from another thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp_client.h"

namespace notifications {
namespace testing {

class RabbitMqNode {
 public:
  // Starts the node and waits until it runs (up to `boot_timeout`). With
  // `tls`, it also listens for AMQPS on tls_port(), with a certificate for
  // "localhost" signed by a throwaway authority (ca_file(); made with the
  // openssl command).
  explicit RabbitMqNode(bool tls = false, std::chrono::seconds boot_timeout =
                                              std::chrono::seconds(240));
  ~RabbitMqNode();
  RabbitMqNode(const RabbitMqNode&) = delete;
  RabbitMqNode& operator=(const RabbitMqNode&) = delete;

  // False when the node could not start; error() says why (and where its
  // log is).
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  // Marks the node unusable for the tests, with the reason.
  void Fail(std::string reason) {
    ok_ = false;
    error_ = std::move(reason);
  }
  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  const std::string& dir() const { return dir_; }
  // PEM of the authority that signed the node's certificate, and of another
  // one that did not (for the failure cases).
  std::string ca_file() const { return dir_ + "/tls/ca.pem"; }
  std::string other_ca_file() const { return dir_ + "/tls/other-ca.pem"; }

  // amqp://USER@127.0.0.1:PORT/VHOST (vhost percent-encoded).
  std::string Url(const std::string& user, const std::string& vhost) const;
  // An endpoint with the password, for the tests' own connections.
  AmqpEndpoint Endpoint(const std::string& user, const std::string& password,
                        const std::string& vhost) const;

  // rabbitmqctl with this node's environment. Returns its exit code; its
  // output (stdout and stderr) in `*output` when given.
  int Ctl(const std::vector<std::string>& args, std::string* output = nullptr,
          std::chrono::seconds timeout = std::chrono::seconds(120));

  // rabbitmqctl import_definitions of `json` (vhosts, users, permissions,
  // exchanges, queues, bindings). The import finishes in the background:
  // WaitForQueue() before relying on a queue it declares.
  bool ImportDefinitions(const std::string& json);
  // Waits until `user` can see `queue` in `vhost` (passive declare).
  bool WaitForQueue(const std::string& user, const std::string& password,
                    const std::string& vhost, const std::string& queue,
                    std::chrono::seconds timeout = std::chrono::seconds(60));

  // The broker application stopped (every connection closed, the port
  // refused) and started again, its data kept: a broker restart as clients
  // see it, without the Erlang VM's own boot.
  bool StopApp();
  bool StartApp();

 private:
  bool Start(bool tls, std::chrono::seconds boot_timeout);
  bool MakeCertificates();
  std::vector<std::string> Environment() const;

  bool ok_ = false;
  std::string error_;
  std::string dir_;
  std::string node_name_;
  int port_ = 0;
  int tls_port_ = 0;
  int dist_port_ = 0;
  int epmd_port_ = 0;
  pid_t server_pid_ = -1;
};

// A publishing connection, as Nasqueron's Notifications Center publishes:
// to the exchange, with the routing key, the JSON body, no properties (a
// timestamp only when a test asks for one). Publish() reconnects once when
// the connection was lost (e.g. across StopApp()/StartApp()).
class AmqpPublisher {
 public:
  AmqpPublisher(AmqpEndpoint endpoint, std::string exchange = "notifications");
  ~AmqpPublisher();
  AmqpStatus Publish(const std::string& routing_key, const std::string& body,
                     std::optional<int64_t> timestamp = std::nullopt);

 private:
  AmqpEndpoint endpoint_;
  std::string exchange_;
  std::unique_ptr<AmqpConnector> connector_;
  std::unique_ptr<AmqpConnection> connection_;
};

// Nasqueron's body for a notification: PHP's json_encode of service,
// project, group, rawContent, type, text, link (escaped slashes).
std::string NasqueronBody(const std::string& service, const std::string& group,
                          const std::string& type, const std::string& text,
                          const std::string& link = "");

}  // namespace testing
}  // namespace notifications
