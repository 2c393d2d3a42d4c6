#include "mock_options.h"

#include <cmath>
#include <string>
#include <utility>

#include "mock_page.h"  // Quote

namespace notifications {
namespace {

constexpr double kMaxGenerateRate = 10000;
constexpr double kMaxFaultSeconds = 3600;

bool IsPrintableAscii(char c) { return c >= 0x21 && c <= 0x7e; }

}  // namespace

Status ValidateMockApiOptions(const MockApiOptions& o) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (o.host.empty()) return bad("host must not be empty");
  if (o.port < 0 || o.port > 65535) {
    return bad("port must be 0..65535 (0 = any free port), got " +
               std::to_string(o.port));
  }
  if (!o.base_path.empty()) {
    bool ok = o.base_path[0] == '/' && o.base_path.back() != '/';
    for (char c : o.base_path) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
                  c == '/' || c == '-');
    }
    if (!ok || o.base_path.find("//") != std::string::npos) {
      return bad(
          "base path must be empty or like /delivery (starts with /, "
          "no trailing /, only A-Z a-z 0-9 . _ ~ - /), got " +
          Quote(o.base_path));
    }
  }
  if (o.retention < 1) return bad("retention must be at least 1");
  for (char c : o.token) {
    if (!IsPrintableAscii(c)) {
      return bad("token must be printable ASCII without spaces");
    }
  }
  if (!std::isfinite(o.generate_rate) || o.generate_rate < 0 ||
      o.generate_rate > kMaxGenerateRate) {
    return bad(
        "generate rate must be 0..10000 notifications per second, "
        "got " +
        std::to_string(o.generate_rate));
  }
  if (o.max_limit < 1) return bad("max limit must be at least 1");
  if (o.max_connections < 1 || o.max_connections > 100000) {
    return bad("max connections must be 1..100000, got " +
               std::to_string(o.max_connections));
  }
  if (o.request_head_timeout < std::chrono::milliseconds(100) ||
      o.request_head_timeout > std::chrono::hours(1)) {
    return bad("request head timeout must be 0.1 s..1 h, got " +
               std::to_string(o.request_head_timeout.count()) + " ms");
  }
  if (o.default_limit < 1 || o.default_limit > o.max_limit) {
    return bad("default limit must be 1.." + std::to_string(o.max_limit) +
               ", got " + std::to_string(o.default_limit));
  }
  if (o.overlap < 0 || static_cast<size_t>(o.overlap) > o.max_limit) {
    return bad("overlap must be 0.." + std::to_string(o.max_limit) + ", got " +
               std::to_string(o.overlap));
  }
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    double r = o.faults.rates[i];
    if (!std::isfinite(r) || r < 0 || r > 1) {
      return bad(
          std::string("fault ") + MockFaultName(static_cast<MockFault>(i)) +
          " rate must be a probability from 0 to 1, got " + std::to_string(r));
    }
  }
  // A small tolerance: rates such as 0.1 + 0.2 + ... are not exact in
  // binary, and a user who wrote rates adding up to 1 meant 1.
  if (o.faults.Total() > 1 + 1e-9) {
    return bad(
        "fault rates add up to " + std::to_string(o.faults.Total()) +
        "; at most 1 (a request gets at most one fault): lower --fault-rate "
        "or a --fault-<kind>");
  }
  const std::pair<const char*, std::chrono::milliseconds> durations[] = {
      {"delay", o.faults.delay}, {"slow", o.faults.slow}};
  for (const auto& [name, value] : durations) {
    double seconds = static_cast<double>(value.count()) / 1000;
    if (seconds < 0 || seconds > kMaxFaultSeconds) {
      return bad(std::string("fault ") + name +
                 " seconds must be 0..3600, got " + std::to_string(seconds));
    }
  }
  return Status::Ok();
}

}  // namespace notifications
