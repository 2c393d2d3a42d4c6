#include "amqp_url.h"

#include <cstdint>
#include <string_view>

#include "amqp_client.h"
#include "url_encoding.h"

namespace notifications {
namespace {

// Percent-decodes `in`; false on a malformed escape or a decoded control
// character (which no user or vhost name needs, and which could forge log
// lines).
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexDigitValue(in[i + 1]);
      int lo = HexDigitValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return false;
    out->push_back(c);
  }
  return true;
}

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(const std::string& in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

Status Bad(const std::string& what) {
  return Status::InvalidArgument("--amqp-url " + what +
                                 " (expected amqp://USER@HOST[:PORT][/VHOST])");
}

}  // namespace

const char* AmqpErrorName(AmqpErrorKind kind) {
  switch (kind) {
    case AmqpErrorKind::kNone:
      return "none";
    case AmqpErrorKind::kConnect:
      return "connect";
    case AmqpErrorKind::kAuth:
      return "auth";
    case AmqpErrorKind::kAccessRefused:
      return "access_refused";
    case AmqpErrorKind::kNotFound:
      return "not_found";
    case AmqpErrorKind::kPreconditionFailed:
      return "precondition_failed";
    case AmqpErrorKind::kConnectionLost:
      return "connection_lost";
    case AmqpErrorKind::kHeartbeatTimeout:
      return "heartbeat_timeout";
    case AmqpErrorKind::kTls:
      return "tls";
    case AmqpErrorKind::kTimeout:
      return "timeout";
    case AmqpErrorKind::kProtocol:
      return "protocol";
  }
  return "unknown";
}

AmqpStatus OpenAmqpConnection(AmqpConnector& connector,
                              const AmqpEndpoint& endpoint,
                              std::unique_ptr<AmqpConnection>* out) {
  out->reset();
  std::unique_ptr<AmqpConnection> c = connector.NewConnection();
  AmqpStatus s = c->Open(endpoint);
  if (s.ok()) *out = std::move(c);
  return s;
}

Result<AmqpEndpoint> ParseAmqpUrl(const std::string& url) {
  AmqpEndpoint e;
  std::string_view rest(url);
  if (rest.rfind("amqps://", 0) == 0) {
    e.tls = true;
    e.port = 5671;
    rest.remove_prefix(8);
  } else if (rest.rfind("amqp://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return Bad("must start with amqp:// or amqps://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Bad("must not have a query or a fragment");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos
                              ? std::string_view()
                              : rest.substr(slash + 1);

  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return Bad("needs a user, e.g. amqp://bridge@rabbitmq.example:5672/dev");
  }
  std::string_view userinfo = authority.substr(0, at);
  if (userinfo.find(':') != std::string_view::npos) {
    // Do not echo the URL: it holds the password.
    return Status::InvalidArgument(
        "--amqp-url must not hold a password: give it with "
        "--amqp-password-file or NOTIFICATIONS_BRIDGE_AMQP_PASSWORD");
  }
  if (!PercentDecode(userinfo, &e.user) || e.user.empty()) {
    return Bad("has an empty or malformed user");
  }

  std::string_view hostport = authority.substr(at + 1);
  std::string_view port_text;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Bad("has an unclosed '['");
    e.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad("has junk after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return Bad("has an empty port");
    }
  } else {
    size_t colon = hostport.find(':');
    e.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = hostport.substr(colon + 1);
      if (port_text.empty()) return Bad("has an empty port");
    }
  }
  if (e.host.empty()) return Bad("needs a host");
  for (char c : e.host) {
    if (!Unreserved(c) && c != ':') return Bad("has an invalid host");
  }
  if (!port_text.empty()) {
    int64_t port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return Bad("has an invalid port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Bad("has a port out of 1..65535");
    e.port = static_cast<int>(port);
  }
  if (path.find('/') != std::string_view::npos) {
    return Bad("has a '/' in the vhost: write it %2F");
  }
  if (!PercentDecode(path, &e.vhost)) return Bad("has a malformed vhost");
  if (e.vhost.empty()) e.vhost = "/";
  return e;
}

std::string AmqpEndpointText(const AmqpEndpoint& e) {
  std::string host =
      e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  return std::string(e.tls ? "amqps://" : "amqp://") + PercentEncode(e.user) +
         "@" + host + ":" + std::to_string(e.port) + "/" +
         PercentEncode(e.vhost);
}

}  // namespace notifications
