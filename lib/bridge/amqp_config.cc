#include "amqp_config.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>

#include "filter.h"
#include "number_option.h"
#include "secret_file.h"

namespace notifications {
namespace {

// Exchange and queue names: what RabbitMQ accepts, minus what would garble
// a log line.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

std::string DescribeAmqpSource(const AmqpConfig& c) {
  std::string where = AmqpEndpointText(c.endpoint);
  return c.queue.empty()
             ? "the exchange '" + c.exchange + "' at " + where + " (live)"
             : "the stream '" + c.queue + "' at " + where;
}

void AddAmqpOptions(CLI::App& app, const std::string& env, AmqpFlags* f) {
  app.add_option("--amqp-url", f->url,
                 "Consume RabbitMQ instead of polling: "
                 "amqp://USER@HOST[:PORT][/VHOST] or amqps://... (no password "
                 "in it; see --amqp-password-file). Exactly one of this and "
                 "--delivery-url")
      ->envname(env + "AMQP_URL");
  app.add_option("--amqp-password-file", f->password_file,
                 "File holding the RabbitMQ password (or set " + env +
                     "AMQP_PASSWORD); never logged")
      ->envname(env + "AMQP_PASSWORD_FILE");
  app.add_option("--amqp-exchange", f->exchange,
                 "Exchange Nasqueron publishes to (topic, durable); live mode "
                 "binds to it")
      ->envname(env + "AMQP_EXCHANGE")
      ->capture_default_str();
  app.add_option("--amqp-queue", f->queue,
                 "Stream queue to consume (x-queue-type: stream, bound to the "
                 "exchange by the broker's operators): ids are stream offsets, "
                 "the same on every bridge, and nothing is lost across "
                 "restarts. Without it: live mode (an exclusive queue, ids of "
                 "this process only)")
      ->envname(env + "AMQP_QUEUE");
  app.add_option("--amqp-binding-key", f->binding_keys,
                 "Live mode: topic pattern the exclusive queue is bound with, "
                 "repeatable (default #: everything)")
      ->envname(env + "AMQP_BINDING_KEY")
      ->delimiter(',');
  app.add_option("--amqp-ca-file", f->ca_file,
                 "amqps: PEM file of the authorities that sign the broker's "
                 "certificate (default: the system's); the peer and its host "
                 "name are always verified")
      ->envname(env + "AMQP_CA_FILE");
  app.add_option("--amqp-heartbeat", f->heartbeat,
                 "Seconds between AMQP heartbeats; a broker silent for two is "
                 "taken as gone. 0 = off")
      ->envname(env + "AMQP_HEARTBEAT")
      ->transform(WholeNumberIn(0, 3600))
      ->capture_default_str();
  app.add_flag("--serve-delivery-api", f->serve_delivery_api,
               "Also serve the delivery API's polling contract at "
               "/delivery/notifications from the history (docs/delivery-"
               "api.md), for bridges without broker access that poll this "
               "one (--stream-token-file then applies there as a Bearer "
               "token)")
      ->envname(env + "SERVE_DELIVERY_API");
}

std::string FinishAmqpConfig(const AmqpFlags& f,
                             const std::string& delivery_url, AmqpConfig* c,
                             std::vector<std::string>* warnings) {
  c->serve_delivery_api = f.serve_delivery_api;
  if (f.url.empty() && delivery_url.empty()) {
    return "--delivery-url or --amqp-url is required (see --help)";
  }
  if (!f.url.empty() && !delivery_url.empty()) {
    return "give either --delivery-url (poll the delivery API) or --amqp-url "
           "(consume RabbitMQ), not both";
  }
  // The default binding key given explicitly (bridge.env lists it) is no
  // mistake in any mode.
  const bool keys_given = !f.binding_keys.empty() &&
                          f.binding_keys != std::vector<std::string>{"#"};
  if (f.url.empty()) {
    const char* amqp_only = !f.password_file.empty() ? "--amqp-password-file"
                            : !f.queue.empty()       ? "--amqp-queue"
                            : keys_given             ? "--amqp-binding-key"
                            : !f.ca_file.empty()     ? "--amqp-ca-file"
                                                     : nullptr;
    if (amqp_only != nullptr) {
      return std::string(amqp_only) + " needs --amqp-url";
    }
    return "";
  }
  Result<AmqpEndpoint> endpoint = ParseAmqpUrl(f.url);
  if (!endpoint.ok()) return endpoint.status().message();
  c->url = f.url;
  c->endpoint = endpoint.value();
  c->endpoint.heartbeat = std::chrono::seconds(f.heartbeat);

  const std::string env_password = "NOTIFICATIONS_BRIDGE_AMQP_PASSWORD";
  Result<std::string> password = ReadSecret(
      "--amqp-password-file", f.password_file, env_password, warnings);
  if (!password.ok()) return password.status().message();
  c->endpoint.password = password.value();
  if (c->endpoint.password.empty()) {
    return "--amqp-url needs a password: --amqp-password-file PATH or " +
           env_password;
  }

  if (!f.ca_file.empty()) {
    if (!c->endpoint.tls) {
      return "--amqp-ca-file is for amqps:// URLs (TLS)";
    }
    struct stat st;
    if (stat(f.ca_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return "--amqp-ca-file " + f.ca_file + " is not a readable file";
    }
    c->endpoint.ca_file = f.ca_file;
  }
  if (!ValidName(f.exchange)) {
    return "--amqp-exchange must be 1 to 255 printable bytes";
  }
  c->exchange = f.exchange;
  if (!f.queue.empty()) {
    if (!ValidName(f.queue))
      return "--amqp-queue must be 1 to 255 printable bytes";
    if (keys_given) {
      return "--amqp-binding-key is for live mode (without --amqp-queue): a "
             "stream queue's bindings are declared on the broker";
    }
    c->queue = f.queue;
  }
  if (!f.binding_keys.empty()) {
    c->binding_keys.clear();
    for (const std::string& key : f.binding_keys) {
      Result<TopicPattern> pattern = TopicPattern::Compile(key);
      if (!pattern.ok()) {
        return "--amqp-binding-key \"" + key +
               "\": " + pattern.status().message();
      }
      // Routing keys are lowercase (the Notifications Center lowercases
      // them) and the broker matches case-sensitively.
      c->binding_keys.push_back(pattern.value().text());
    }
  }
  return "";
}

}  // namespace notifications
