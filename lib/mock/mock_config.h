// The command line of notifications-mock-api.
//
//   --host HOST          address to listen on            [127.0.0.1]
//   --port PORT          TCP port, 0 = any free one      [8081]
//   --base-path PATH     prefix of the API routes        [/delivery]
//   --retention N        notifications kept in memory    [10000]
//   --token-file FILE    require "Authorization: Bearer <first line of FILE>"
//   --fixtures FILE      JSON array of notifications loaded at start
//   --generate RATE      synthetic notifications per second, 0 = off [0]
//   --overlap N          re-serve N delivered items per page (dedupe tests) [0]
//   --fault-rate RATE    probability (0..1) that a poll request gets a fault,
//                        spread evenly over every kind but gone [0]
//   --fault-5xx RATE, --fault-delay RATE, --fault-close RATE,
//   --fault-truncate RATE, --fault-garbage RATE, --fault-reserve RATE,
//   --fault-gone RATE, --fault-slow RATE
//                        probability of that fault alone; given, it replaces
//                        that kind's share of --fault-rate [0]
//   --fault-delay-seconds S  how long a delay fault holds a request [35]
//   --fault-slow-seconds S   how long a slow fault drips a page [2]
//   --fault-seed N       seed of the fault draws, 0 = random [0]
//   (see MockFaultOptions and docs/delivery-api.md, "Fault injection")
//   --log-level LEVEL    debug, info, warn, error, off   [info]
//   --version, --help
//
// Each flag can also come from the environment variable
// NOTIFICATIONS_MOCK_<FLAG> (upper case, '-' -> '_', e.g.
// NOTIFICATIONS_MOCK_BASE_PATH); the command line wins. The token itself
// can come from NOTIFICATIONS_MOCK_TOKEN, never from the command line (every
// local user can read a process's arguments).
//
// Pure apart from reading the environment and the token file: thread-safe
// as long as nobody changes the environment meanwhile.
#pragma once

#include <string>

#include "command_line.h"
#include "logger.h"
#include "mock_delivery_api.h"

namespace notifications {

// What notifications-mock-api runs with.
struct MockConfig {
  MockApiOptions api;
  LogLevel log_level = LogLevel::kInfo;  // --log-level
};

// What the command line decided (command_line.h): run with `config`, or
// exit with `text`.
using MockCommandLine = CommandLine<MockConfig>;

// Parses argv[1..argc) and the environment. Never throws, never exits:
// --help and --version come back as kExit with code 0; a bad value as kExit
// with code 2 and a one-line message that names the flag (and the
// variable, when the value came from one) and what is wrong with it, e.g.
// "notifications-mock-api: --port: Value 70000 not in range 0 to 65535 (see
// notifications-mock-api --help)".
MockCommandLine ParseMockCommandLine(int argc, const char* const* argv);

}  // namespace notifications
