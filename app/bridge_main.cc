// notifications-bridge: parse flags, run the service until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "config.h"
#include "curl_http_client.h"
#include "descriptor_limit.h"
#include "http_url.h"
#include "logger.h"
#include "service.h"
#include "termination_signals.h"

int main(int argc, char** argv) {
  using namespace notifications;
  BridgeCommandLine cli = ParseBridgeCommandLine(argc, argv);
  if (cli.exits()) return PrintExitText(cli);
  // Before any thread starts, so only signals.Wait() sees them.
  TerminationSignals signals;
  // A vanished client is a failed write, not a death.
  signal(SIGPIPE, SIG_IGN);

  CurlGlobal curl;
  // One descriptor per stream, per connection in its handshake and, when
  // the delivery API is served, per parked long-poll (capped at
  // --max-clients too).
  const BridgeConfig& c = cli.config;
  EnsureDescriptorLimit(c.max_clients + c.max_handshakes +
                            (c.amqp.serve_delivery_api ? c.max_clients : 0),
                        "--max-clients and --max-handshakes", &cli.warnings);
  Logger logger(cli.config.log_level, cli.config.log_format);
  for (const std::string& warning : cli.warnings) logger.Warn(warning);
  Result<std::unique_ptr<BridgeService>> created =
      BridgeService::Create(cli.config, logger);
  if (!created.ok()) {
    std::cerr << "notifications-bridge: " << created.status().message() << "\n";
    return 1;
  }
  BridgeService& service = **created;
  Status started = service.Start();
  if (!started.ok()) {
    std::cerr << "notifications-bridge: " << started.message() << "\n";
    return 1;
  }
  std::string host = cli.config.listen_host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  const std::string& base = cli.config.base_path;
  const std::string source =
      cli.config.amqp.enabled()
          ? "consuming " + DescribeAmqpSource(cli.config.amqp)
          : "polling " + RedactUserinfo(cli.config.delivery_url);
  std::cout << "notifications-bridge listening on http://" << host << ":"
            << service.port() << base << "/ (stream: " << base << "/events), "
            << source << std::endl;
  logger.Info("serving on " + host + ":" + std::to_string(service.port()) +
              ", " + source +
              (cli.config.amqp.enabled()
                   ? ""
                   : " every " +
                         std::to_string(cli.config.poll_interval.count()) +
                         " ms"));

  int sig = signals.Wait();
  logger.Info(std::string("received ") + TerminationSignals::Name(sig) +
              ", stopping");
  service.Stop();
  logger.Info("stopped");
  return 0;
}
