// notifications-tail: parse flags, print a bridge's stream until
// SIGINT/SIGTERM (or, with --once, its end).
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "curl_http_client.h"
#include "curl_stream.h"
#include "tail_client.h"
#include "tail_config.h"
#include "termination_signals.h"

int main(int argc, char** argv) {
  using namespace notifications;
  TailCommandLine cli = ParseTailCommandLine(argc, argv);
  if (cli.exits()) return PrintExitText(cli);
  for (const std::string& warning : cli.warnings) {
    std::cerr << "notifications-tail: warning: " << warning << "\n";
  }
  // Block the signals before any thread starts, so only sigwait sees them.
  // SIGPIPE keeps its default: `notifications-tail URL | head` ends quietly
  // when head does, like any Unix filter.
  TerminationSignals signals;

  CurlGlobal curl;
  TailSinks sinks;
  sinks.out = [](const std::string& line) {
    std::string text = line + "\n";
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
           std::fflush(stdout) == 0;
  };
  sinks.err = [](const std::string& line) {
    std::string text = line + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  };
  CurlHttpStream stream;
  TailClient client(cli.config, sinks, stream);
  std::thread watcher([&signals, &client] {
    signals.Wait();
    client.Stop();
  });
  Status status = client.Run();
  // Wake the watcher if no signal came (Run() ended by itself).
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!status.ok()) {
    std::cerr << "notifications-tail: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
