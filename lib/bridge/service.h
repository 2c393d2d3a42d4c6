// BridgeService: the whole bridge, built from a BridgeConfig: the poller
// thread, the event hub, the HTTP server and the clients they use.
//
// Start() once, Stop() once (also done by the destructor). Stop() stops
// polling, ends every stream with a proper last chunk, waits for the
// connections to finish and returns; it takes at most about the write
// timeout when a client stopped reading. Not thread-safe: call both from
// main's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config.h"
#include "logger.h"
#include "metrics.h"
#include "status.h"

namespace notifications {

class BridgeService {
 public:
  // Builds the service; loads the state file when one is configured (a
  // corrupt one is Status::Code::kDataLoss unless config.reset_state).
  static Result<std::unique_ptr<BridgeService>> Create(const BridgeConfig& config,
                                                       Logger& logger);
  ~BridgeService();
  BridgeService(const BridgeService&) = delete;
  BridgeService& operator=(const BridgeService&) = delete;

  // Binds the listening socket and starts polling. On failure nothing is
  // left running.
  Status Start();
  // The bound port (useful with --listen host:0).
  int port() const;
  void Stop();

  Metrics& metrics();

 private:
  BridgeService(const BridgeConfig& config, Logger& logger,
                std::optional<std::string> cursor);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications
