// BridgeConfig: every setting of notifications-bridge, with its default and
// unit, and the command line that fills it.
//
// Each flag can also come from an environment variable
// NOTIFICATIONS_BRIDGE_<FLAG> (upper case, '-' -> '_'), or from a config
// file given with --config (INI/TOML "key = value" lines, keys as the long
// flag names). Precedence: command line, then environment, then file.
// Secrets (the delivery API token) come only from a file or the
// environment, never from the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "amqp_config.h"
#include "command_line.h"
#include "logger.h"
#include "status.h"

namespace notifications {

struct BridgeConfig {
  // Delivery API base URL, e.g. http://127.0.0.1:8081/delivery. Exactly one
  // of it and amqp.url is set.
  std::string delivery_url;
  // RabbitMQ instead of the delivery API, and --serve-delivery-api.
  AmqpConfig amqp;
  // Bearer token for the delivery API (from --token-file or
  // NOTIFICATIONS_BRIDGE_TOKEN); empty = none.
  std::string token;
  std::chrono::milliseconds poll_interval{5000};     // --poll-interval, s
  std::chrono::milliseconds connect_timeout{5000};   // --connect-timeout, s
  std::chrono::milliseconds request_timeout{30000};  // --request-timeout, s
  std::chrono::milliseconds backoff_initial{1000};   // --backoff-initial, s
  std::chrono::milliseconds backoff_max{60000};      // --backoff-max, s
  size_t max_page_bytes = 16u << 20;                 // --max-page-bytes
  size_t page_limit = 100;                           // --page-limit, 1..1000
  // --long-poll, s: ask the API to hold empty answers (`wait=`); 0 = off.
  // Keep it below every proxy's read timeout between bridge and API.
  std::chrono::seconds long_poll{0};

  std::string listen_host = "127.0.0.1";  // --listen host:port
  int listen_port = 8080;                 // 0 = any free port
  std::string public_dir;                 // --public-dir; "" = none found
  // --base-path (or API_ENTRY_POINT): prefix of every route, e.g.
  // "/notifications"; "" = none.
  std::string base_path;
  size_t history = 1000;                          // --history, events
  size_t history_bytes = size_t{64} << 20;  // --history-bytes, bytes (64 MiB)
  // --max-item-bytes: a notification larger than this (its text, and its
  // rawContent with --raw-content) is skipped, counted and logged.
  size_t max_item_bytes = size_t{1} << 20;        // bytes (1 MiB)
  std::chrono::milliseconds heartbeat{15000};     // --heartbeat, s
  std::chrono::milliseconds retry{3000};          // --retry, s (+ jitter)
  size_t max_clients = 1000;                      // --max-clients
  std::chrono::milliseconds busy_retry{30000};    // --busy-retry, s
  std::chrono::milliseconds write_timeout{5000};  // --write-timeout, s
  // --head-timeout: time a connection has to send a whole request head
  // (and an idle keep-alive connection to send its next one); past it 408.
  std::chrono::milliseconds head_timeout{10000};  // s
  // --max-handshakes: connections that are not streams held at once; at
  // the cap each new one closes the oldest.
  size_t max_handshakes = 1024;
  size_t stream_threads = 0;  // --stream-threads; 0 = one per core (<= 8)
  std::vector<std::string> allow_origins;   // --allow-origin
  bool raw_content = false;                 // --raw-content
  LogLevel log_level = LogLevel::kInfo;     // --log-level
  LogFormat log_format = LogFormat::kText;  // --log-format
  // --state-file: where the cursor is persisted; "" = not persisted.
  std::string state_file;
  bool reset_state = false;  // --reset-state: ignore a corrupt/old state
  // Token /events requires (from --stream-token-file or
  // NOTIFICATIONS_BRIDGE_STREAM_TOKEN); empty = open stream.
  std::string stream_token;
};

// What the command line decided (command_line.h): run with `config`, or
// exit with `text`.
using BridgeCommandLine = CommandLine<BridgeConfig>;

// Parses argv (and the environment, and --config). Never throws, never
// exits: errors come back as kExit with a one-line message and code 2.
BridgeCommandLine ParseBridgeCommandLine(int argc, const char* const* argv);

}  // namespace notifications
