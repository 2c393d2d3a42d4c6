// The bridge's configuration as a process sees it: what it prints at start
// and what it does with its limits.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;

// The soft "Max open files" of process `pid`, from /proc.
long SoftOpenFiles(pid_t pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(
          line.substr(std::string("Max open files").size()));
      long soft = -1;
      fields >> soft;
      return soft;
    }
  }
  return -1;
}

TEST_CASE(
    "config: the bridge never prints or logs the delivery URL's "
    "credentials") {
  // Port 9 (discard) refuses: the poller logs its failures with the URL.
  ChildProcess bridge({NB_BRIDGE_EXE, "--delivery-url",
                       "http://bot:s3cret@127.0.0.1:9/delivery", "--listen",
                       "127.0.0.1:0", "--poll-interval", "0.1",
                       "--backoff-initial", "0.1", "--backoff-max", "0.2",
                       "--log-level", "debug"});
  std::string line = bridge.WaitForLine("listening on", 10s);
  REQUIRE_FALSE(line.empty());
  CHECK(line.find("polling http://127.0.0.1:9/delivery") != std::string::npos);
  CHECK(line.find("s3cret") == std::string::npos);
  CHECK(line.find("bot:") == std::string::npos);
  for (int i = 0; i < 100; ++i) {
    if (bridge.Stderr().find("failed") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  bridge.Signal(SIGTERM);
  CHECK(bridge.Wait(10s) == 0);
  const std::string err = bridge.Stderr();
  CHECK(err.find("http://127.0.0.1:9/delivery") != std::string::npos);
  CHECK(err.find("s3cret") == std::string::npos);
}

TEST_CASE(
    "config: the bridge raises its file-descriptor limit to fit "
    "--max-clients and --max-handshakes") {
  struct rlimit limit;
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  // The test needs room above 256 for 1000 streams and 1024 handshakes: it
  // fails, rather than passing silently, where the hard limit does not
  // allow it.
  REQUIRE((limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= 2088));
  ChildProcess bridge(
      {"/bin/sh", "-c",
       std::string("ulimit -Sn 256 && exec ") + NB_BRIDGE_EXE +
           " --delivery-url http://127.0.0.1:9/delivery --listen 127.0.0.1:0"
           " --max-clients 1000 --log-level warn"});
  REQUIRE_FALSE(bridge.WaitForLine("listening on", 10s).empty());
  // Before: 1064 (streams only); 1,024 slow heads on top then ran it out
  // of descriptors, /metrics unreachable.
  CHECK(SoftOpenFiles(bridge.pid()) >= 1000 + 1024 + 64);
  CHECK(bridge.Stderr().find("file descriptors") == std::string::npos);
  bridge.Signal(SIGTERM);
  CHECK(bridge.Wait(10s) == 0);
}

}  // namespace
}  // namespace notifications
