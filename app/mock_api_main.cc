// notifications-mock-api: serves the delivery API contract for development
// and tests. Prints one line "notifications-mock-api listening on
// http://HOST:PORT<base>" once it accepts requests, runs until SIGINT or
// SIGTERM, then exits 0. Exit 2: bad command line; 1: could not start.
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "clock.h"
#include "logger.h"
#include "mock_config.h"
#include "mock_delivery_api.h"
#include "termination_signals.h"

int main(int argc, char** argv) {
  using namespace notifications;

  MockCommandLine command_line = ParseMockCommandLine(argc, argv);
  if (command_line.exits()) return PrintExitText(command_line);

  // Blocked before any thread starts, so that every thread inherits the
  // mask and only sigwait below receives them.
  TerminationSignals stop_signals;
  std::signal(SIGPIPE, SIG_IGN);  // A client gone mid-answer is not fatal.

  SystemClock clock;
  Logger logger(command_line.config.log_level);
  for (const std::string& warning : command_line.warnings) logger.Warn(warning);

  const MockApiOptions& options = command_line.config.api;
  MockDeliveryApi api(options, clock, logger);
  Status started = api.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "notifications-mock-api: %s\n",
                 started.message().c_str());
    return 1;
  }

  const bool ipv6 = options.host.find(':') != std::string::npos;
  std::printf("notifications-mock-api listening on http://%s%s%s:%d%s\n",
              ipv6 ? "[" : "", options.host.c_str(), ipv6 ? "]" : "",
              api.port(), options.base_path.c_str());
  std::fflush(stdout);

  int signal_number = stop_signals.Wait();
  logger.Info(std::string("received ") +
              TerminationSignals::Name(signal_number) + ", stopping");
  api.Stop();
  return 0;
}
