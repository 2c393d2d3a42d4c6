#include "server_metrics.h"

namespace notifications {

namespace {

constexpr int kRefusedCodes[] = {400, 408, 414, 431, 505};

void Block(std::string* out, const char* name, const char* type,
           const char* help) {
  *out += "# HELP notifications_bridge_";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE notifications_bridge_";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Simple(std::string* out, const char* name, const char* type,
            const char* help, const std::string& value) {
  Block(out, name, type, help);
  *out += "notifications_bridge_";
  *out += name;
  *out += ' ';
  *out += value;
  *out += '\n';
}

}  // namespace

void ServerMetrics::CountRefused(int status) {
  for (size_t i = 0; i < static_cast<size_t>(RefusedStatus::kCount); ++i) {
    if (kRefusedCodes[i] == status) {
      refused[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

ServerMetricsSnapshot ServerMetrics::Snapshot(size_t worker_threads) const {
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  ServerMetricsSnapshot s;
  s.requests = get(requests);
  for (size_t i = 0; i < static_cast<size_t>(RefusedStatus::kCount); ++i) {
    s.refused[i] = get(refused[i]);
  }
  s.handshakes = get(handshakes);
  s.handshakes_evicted = get(handshakes_evicted);
  s.fd_exhausted = get(fd_exhausted);
  s.streams_cut_slow = get(streams_cut_slow);
  s.streams_cut_stalled = get(streams_cut_stalled);
  s.waiting = get(waiting);
  s.parked = get(parked);
  s.unsent = get(unsent);
  s.worker_threads = worker_threads;
  return s;
}

std::string RenderServerMetrics(const ServerMetricsSnapshot& m) {
  std::string out;
  Simple(&out, "http_requests_total", "counter",
         "Request heads read completely.", std::to_string(m.requests));
  Block(&out, "http_requests_refused_total", "counter",
        "Requests answered with an error before any route, by status "
        "(malformed, too large, too slow).");
  for (size_t i = 0; i < static_cast<size_t>(RefusedStatus::kCount); ++i) {
    out += "notifications_bridge_http_requests_refused_total{status=\"" +
           std::to_string(kRefusedCodes[i]) + "\"} " +
           std::to_string(m.refused[i]) + "\n";
  }
  Simple(&out, "http_handshakes", "gauge",
         "Connections reading a request head, idle between requests or "
         "answering one (not streams).",
         std::to_string(m.handshakes));
  Simple(&out, "http_handshakes_evicted_total", "counter",
         "Connections closed to make room at --max-handshakes, oldest first.",
         std::to_string(m.handshakes_evicted));
  Simple(&out, "accept_fd_exhausted_total", "counter",
         "Connections that could not be accepted: out of file descriptors.",
         std::to_string(m.fd_exhausted));
  Block(&out, "streams_cut_total", "counter",
        "Streams ended because their client did not take its bytes.");
  out += "notifications_bridge_streams_cut_total{reason=\"too_far_behind\"} " +
         std::to_string(m.streams_cut_slow) + "\n";
  out += "notifications_bridge_streams_cut_total{reason=\"write_timeout\"} " +
         std::to_string(m.streams_cut_stalled) + "\n";
  Simple(&out, "requests_waiting", "gauge",
         "Requests whose answer waits for something (a gap fetch upstream, a "
         "long-poll).",
         std::to_string(m.waiting));
  Simple(&out, "requests_parked", "gauge",
         "Of those, long-polls held until the hub has news (capped, over "
         "all loops).",
         std::to_string(m.parked));
  Simple(&out, "stream_unsent_bytes", "gauge",
         "Bytes queued for stream clients that have not taken them yet (each "
         "stream is cut past its bound).",
         std::to_string(m.unsent));
  Simple(&out, "worker_threads", "gauge",
         "Threads running blocking work (gap fetches) for the server loops.",
         std::to_string(m.worker_threads));
  return out;
}

}  // namespace notifications
