// TerminationSignals: SIGINT and SIGTERM, received by sigwait on a chosen
// thread instead of an asynchronous handler (no global state, no
// async-signal-safety puzzles).
//
// Construct it in main before any thread starts: the mask it sets is
// inherited by every thread created afterwards, so only Wait() sees the
// signals. Not copyable; Wait() may be called from any one thread.
#pragma once

#include <signal.h>

namespace notifications {

class TerminationSignals {
 public:
  TerminationSignals();
  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;

  // Blocks until SIGINT or SIGTERM arrives; returns its number.
  int Wait() const;

  // "SIGINT" or "SIGTERM".
  static const char* Name(int signal_number);

 private:
  sigset_t set_;
};

}  // namespace notifications
