#include "librabbitmq_client.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace notifications {
namespace {

using std::chrono::milliseconds;

constexpr amqp_channel_t kConsumeChannel = 1;
constexpr amqp_channel_t kInspectChannel = 2;
constexpr int kFrameMax = 131072;  // librabbitmq's default.

timeval ToTimeval(milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

amqp_bytes_t Bytes(const std::string& s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

std::string ToString(amqp_bytes_t b) {
  return b.len == 0 ? std::string()
                    : std::string(static_cast<const char*>(b.bytes), b.len);
}

// The broker's text, fit for one log line.
std::string Printable(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  if (s.size() > 300) s.resize(300);
  return s;
}

AmqpErrorKind KindOfLibraryError(int status) {
  switch (status) {
    case AMQP_STATUS_TIMEOUT:
      return AmqpErrorKind::kTimeout;
    case AMQP_STATUS_HEARTBEAT_TIMEOUT:
      return AmqpErrorKind::kHeartbeatTimeout;
    case AMQP_STATUS_CONNECTION_CLOSED:
    case AMQP_STATUS_SOCKET_ERROR:
    case AMQP_STATUS_SOCKET_CLOSED:
    case AMQP_STATUS_TCP_ERROR:
      return AmqpErrorKind::kConnectionLost;
    case AMQP_STATUS_SSL_ERROR:
    case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED:
    case AMQP_STATUS_SSL_PEER_VERIFY_FAILED:
    case AMQP_STATUS_SSL_CONNECTION_FAILED:
    case AMQP_STATUS_SSL_SET_ENGINE_FAILED:
      return AmqpErrorKind::kTls;
    case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
      return AmqpErrorKind::kConnect;
    default:
      return AmqpErrorKind::kProtocol;
  }
}

AmqpErrorKind KindOfReplyCode(int code, bool during_login) {
  switch (code) {
    case AMQP_ACCESS_REFUSED:  // 403
      return during_login ? AmqpErrorKind::kAuth
                          : AmqpErrorKind::kAccessRefused;
    case AMQP_NOT_ALLOWED:  // 530: vhost missing or refused to this user.
      return AmqpErrorKind::kAccessRefused;
    case AMQP_NOT_FOUND:  // 404
      return AmqpErrorKind::kNotFound;
    case AMQP_PRECONDITION_FAILED:  // 406
      return AmqpErrorKind::kPreconditionFailed;
    case AMQP_CONNECTION_FORCED:  // 320: broker shutting down, or an operator.
      return AmqpErrorKind::kConnectionLost;
    default:
      return AmqpErrorKind::kProtocol;
  }
}

class LibrabbitmqConnection final : public AmqpConnection {
 public:
  LibrabbitmqConnection() : state_(amqp_new_connection()) {}

  ~LibrabbitmqConnection() override {
    if (sound_ && !interrupted_.load()) {
      // Polite close so the broker logs a clean end; bounded, because the
      // broker may be the reason we are closing.
      timeval tv = ToTimeval(milliseconds(1000));
      amqp_set_rpc_timeout(state_, &tv);
      amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(state_);
  }

  LibrabbitmqConnection(const LibrabbitmqConnection&) = delete;
  LibrabbitmqConnection& operator=(const LibrabbitmqConnection&) = delete;

  AmqpStatus Open(const AmqpEndpoint& e) override {
    amqp_socket_t* socket = nullptr;
    if (e.tls) {
      socket = amqp_ssl_socket_new(state_);
      if (socket == nullptr) {
        return AmqpStatus::Error(AmqpErrorKind::kTls,
                                 "cannot set up TLS (OpenSSL failed)");
      }
      amqp_ssl_socket_set_verify_peer(socket, 1);
      amqp_ssl_socket_set_verify_hostname(socket, 1);
      if (amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2,
                                           AMQP_TLSvLATEST) != AMQP_STATUS_OK) {
        return AmqpStatus::Error(AmqpErrorKind::kTls,
                                 "cannot require TLS 1.2 or later");
      }
      const std::string& ca = e.ca_file.empty() ? kDefaultCaFile : e.ca_file;
      if (amqp_ssl_socket_set_cacert(socket, ca.c_str()) != AMQP_STATUS_OK) {
        return AmqpStatus::Error(AmqpErrorKind::kTls,
                                 "cannot load the certificate authorities "
                                 "from " +
                                     ca + " (--amqp-ca-file)");
      }
    } else {
      socket = amqp_tcp_socket_new(state_);
      if (socket == nullptr) {
        return AmqpStatus::Error(AmqpErrorKind::kConnect,
                                 "cannot create a socket");
      }
    }
    timeval connect_tv = ToTimeval(e.connect_timeout);
    errno = 0;
    int status =
        amqp_socket_open_noblock(socket, e.host.c_str(), e.port, &connect_tv);
    if (status != AMQP_STATUS_OK) {
      int os_error = errno;
      AmqpErrorKind kind = KindOfLibraryError(status);
      if (kind != AmqpErrorKind::kTls) kind = AmqpErrorKind::kConnect;
      std::string detail = amqp_error_string2(status);
      if (kind == AmqpErrorKind::kConnect && os_error != 0) {
        detail += std::string(" (") + std::strerror(os_error) + ")";
      }
      if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED) {
        detail += " (is the broker's certificate signed by --amqp-ca-file?)";
      } else if (status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED) {
        detail += " (the certificate does not name " + e.host + ")";
      }
      return AmqpStatus::Error(kind, "cannot connect to " + e.host + ":" +
                                         std::to_string(e.port) + ": " +
                                         detail);
    }
    fd_.store(amqp_get_sockfd(state_));
    if (interrupted_.load()) {
      return AmqpStatus::Error(AmqpErrorKind::kConnectionLost,
                               "interrupted (stopping)");
    }
    timeval handshake_tv = ToTimeval(e.connect_timeout);
    amqp_set_handshake_timeout(state_, &handshake_tv);
    timeval rpc_tv =
        ToTimeval(std::max(e.connect_timeout, milliseconds(10000)));
    amqp_set_rpc_timeout(state_, &rpc_tv);

    amqp_rpc_reply_t reply =
        amqp_login(state_, e.vhost.c_str(), 0, kFrameMax,
                   static_cast<int>(e.heartbeat.count()),
                   AMQP_SASL_METHOD_PLAIN, e.user.c_str(), e.password.c_str());
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          (reply.library_error == AMQP_STATUS_CONNECTION_CLOSED ||
           reply.library_error == AMQP_STATUS_SOCKET_CLOSED) &&
          !interrupted_.load()) {
        // Brokers without authentication_failure_close just hang up on a
        // wrong password.
        sound_ = false;
        return AmqpStatus::Error(
            AmqpErrorKind::kAuth,
            "the broker closed the connection during login as user '" + e.user +
                "' to vhost '" + e.vhost +
                "': wrong user or password, or vhost not allowed?");
      }
      return FromReply(reply, "login", /*during_login=*/true);
    }
    sound_ = true;
    amqp_channel_open(state_, kConsumeChannel);
    return FromReply(amqp_get_rpc_reply(state_), "channel.open");
  }

  AmqpStatus DeclareExchange(const std::string& name, const std::string& type,
                             bool durable, bool passive) override {
    amqp_exchange_declare(state_, kConsumeChannel, Bytes(name), Bytes(type),
                          passive ? 1 : 0, durable ? 1 : 0, /*auto_delete=*/0,
                          /*internal=*/0, amqp_empty_table);
    return FromReply(amqp_get_rpc_reply(state_), "exchange.declare");
  }

  AmqpStatus DeclareQueue(const std::string& name, bool passive, bool exclusive,
                          AmqpQueueInfo* info) override {
    return Declare(kConsumeChannel, name, passive, exclusive, info);
  }

  AmqpStatus BindQueue(const std::string& queue, const std::string& exchange,
                       const std::string& routing_key) override {
    amqp_queue_bind(state_, kConsumeChannel, Bytes(queue), Bytes(exchange),
                    Bytes(routing_key), amqp_empty_table);
    return FromReply(amqp_get_rpc_reply(state_), "queue.bind");
  }

  AmqpStatus Qos(uint16_t prefetch) override {
    amqp_basic_qos(state_, kConsumeChannel, 0, prefetch, 0);
    return FromReply(amqp_get_rpc_reply(state_), "basic.qos");
  }

  AmqpStatus Consume(const std::string& queue,
                     const std::vector<AmqpArgument>& arguments) override {
    std::vector<amqp_table_entry_t> entries(arguments.size());
    for (size_t i = 0; i < arguments.size(); ++i) {
      entries[i].key = Bytes(arguments[i].key);
      if (const auto* n = std::get_if<int64_t>(&arguments[i].value)) {
        entries[i].value.kind = AMQP_FIELD_KIND_I64;
        entries[i].value.value.i64 = *n;
      } else {
        entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[i].value.value.bytes =
            Bytes(std::get<std::string>(arguments[i].value));
      }
    }
    amqp_table_t table;
    table.num_entries = static_cast<int>(entries.size());
    table.entries = entries.empty() ? nullptr : entries.data();
    amqp_basic_consume(state_, kConsumeChannel, Bytes(queue), amqp_empty_bytes,
                       /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, table);
    return FromReply(amqp_get_rpc_reply(state_), "basic.consume");
  }

  AmqpStatus Wait(milliseconds timeout,
                  std::optional<AmqpDelivery>* delivery) override {
    delivery->reset();
    amqp_maybe_release_buffers(state_);
    timeval tv = ToTimeval(std::max(milliseconds(0), timeout));
    amqp_envelope_t envelope;
    amqp_rpc_reply_t reply = amqp_consume_message(state_, &envelope, &tv, 0);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
      AmqpDelivery d;
      d.delivery_tag = envelope.delivery_tag;
      d.redelivered = envelope.redelivered != 0;
      d.exchange = ToString(envelope.exchange);
      d.routing_key = ToString(envelope.routing_key);
      d.body = ToString(envelope.message.body);
      const amqp_basic_properties_t& p = envelope.message.properties;
      if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) {
        d.timestamp = static_cast<int64_t>(p.timestamp);
      }
      if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
        d.stream_offset = StreamOffset(p.headers);
      }
      amqp_destroy_envelope(&envelope);
      *delivery = std::move(d);
      return AmqpStatus::Ok();
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_TIMEOUT) {
      return AmqpStatus::Ok();  // Nothing yet.
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      return ReadOtherFrame();
    }
    return FromReply(reply, "basic.consume");
  }

  AmqpStatus Ack(uint64_t delivery_tag, bool multiple) override {
    int status =
        amqp_basic_ack(state_, kConsumeChannel, delivery_tag, multiple ? 1 : 0);
    return FromStatus(status, "basic.ack");
  }

  AmqpStatus Inspect(const std::string& queue, AmqpQueueInfo* info) override {
    if (!inspect_open_) {
      amqp_channel_open(state_, kInspectChannel);
      AmqpStatus s = FromReply(amqp_get_rpc_reply(state_), "channel.open");
      if (!s.ok()) return s;
      inspect_open_ = true;
    }
    return Declare(kInspectChannel, queue, /*passive=*/true,
                   /*exclusive=*/false, info);
  }

  AmqpStatus Publish(const std::string& exchange,
                     const std::string& routing_key, const std::string& body,
                     std::optional<int64_t> timestamp) override {
    amqp_basic_properties_t props;
    std::memset(&props, 0, sizeof props);
    if (timestamp) {
      props._flags = AMQP_BASIC_TIMESTAMP_FLAG;
      props.timestamp = static_cast<uint64_t>(*timestamp);
    }
    int status = amqp_basic_publish(state_, kConsumeChannel, Bytes(exchange),
                                    Bytes(routing_key), 0, 0,
                                    timestamp ? &props : nullptr, Bytes(body));
    return FromStatus(status, "basic.publish");
  }

  void Interrupt() override {
    interrupted_.store(true);
    int fd = fd_.load();
    // shutdown(2), not close(2): the descriptor stays the library's (no
    // reuse race); its blocked read or poll returns at once.
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  AmqpStatus Declare(amqp_channel_t channel, const std::string& name,
                     bool passive, bool exclusive, AmqpQueueInfo* info) {
    amqp_queue_declare_ok_t* ok =
        amqp_queue_declare(state_, channel, Bytes(name), passive ? 1 : 0,
                           /*durable=*/0, exclusive ? 1 : 0,
                           /*auto_delete=*/exclusive ? 1 : 0, amqp_empty_table);
    AmqpStatus s =
        FromReply(amqp_get_rpc_reply(state_), "queue.declare", false, channel);
    if (s.ok() && ok != nullptr && info != nullptr) {
      info->name = ToString(ok->queue);
      info->message_count = ok->message_count;
    }
    return s;
  }

  // The x-stream-offset header, whatever integer type the broker used.
  static std::optional<int64_t> StreamOffset(const amqp_table_t& headers) {
    for (int i = 0; i < headers.num_entries; ++i) {
      const amqp_table_entry_t& h = headers.entries[i];
      if (ToString(h.key) != "x-stream-offset") continue;
      const amqp_field_value_t& v = h.value;
      switch (v.kind) {
        case AMQP_FIELD_KIND_I64:
          return v.value.i64;
        case AMQP_FIELD_KIND_U64:
          return static_cast<int64_t>(v.value.u64);
        case AMQP_FIELD_KIND_I32:
          return v.value.i32;
        case AMQP_FIELD_KIND_U32:
          return v.value.u32;
        case AMQP_FIELD_KIND_I16:
          return v.value.i16;
        case AMQP_FIELD_KIND_U16:
          return v.value.u16;
        case AMQP_FIELD_KIND_I8:
          return v.value.i8;
        case AMQP_FIELD_KIND_U8:
          return v.value.u8;
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // After AMQP_STATUS_UNEXPECTED_STATE: the next frame is not a delivery.
  AmqpStatus ReadOtherFrame() {
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame(state_, &frame);
    if (status != AMQP_STATUS_OK) return FromStatus(status, "read");
    if (frame.frame_type != AMQP_FRAME_METHOD) return AmqpStatus::Ok();
    switch (frame.payload.method.id) {
      case AMQP_CHANNEL_CLOSE_METHOD:
      case AMQP_CONNECTION_CLOSE_METHOD: {
        amqp_rpc_reply_t reply;
        std::memset(&reply, 0, sizeof reply);
        reply.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
        reply.reply = frame.payload.method;
        return FromReply(reply, "basic.consume", false, frame.channel);
      }
      case AMQP_BASIC_CANCEL_METHOD:
        // The broker ended our consumer: the queue was deleted, or the
        // node holding it went away.
        return AmqpStatus::Error(AmqpErrorKind::kNotFound,
                                 "the broker cancelled the consumer (queue "
                                 "deleted, or its node down?)");
      case AMQP_BASIC_RETURN_METHOD: {
        // A returned publish (Publish() is never mandatory, so not
        // expected): read its content and drop it.
        amqp_message_t message;
        amqp_rpc_reply_t r =
            amqp_read_message(state_, frame.channel, &message, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
          return FromReply(r, "basic.return");
        }
        amqp_destroy_message(&message);
        return AmqpStatus::Ok();
      }
      default:
        return AmqpStatus::Ok();  // basic.ack of a publish, and the like.
    }
  }

  AmqpStatus FromStatus(int status, const char* what) {
    if (status == AMQP_STATUS_OK) return AmqpStatus::Ok();
    amqp_rpc_reply_t reply;
    std::memset(&reply, 0, sizeof reply);
    reply.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
    reply.library_error = status;
    return FromReply(reply, what);
  }

  AmqpStatus FromReply(const amqp_rpc_reply_t& reply, const char* what,
                       bool during_login = false,
                       amqp_channel_t channel = kConsumeChannel) {
    switch (reply.reply_type) {
      case AMQP_RESPONSE_NORMAL:
        return AmqpStatus::Ok();
      case AMQP_RESPONSE_NONE:
        sound_ = false;
        return AmqpStatus::Error(AmqpErrorKind::kProtocol,
                                 std::string(what) + ": no reply");
      case AMQP_RESPONSE_LIBRARY_EXCEPTION: {
        sound_ = false;
        if (interrupted_.load()) {
          return AmqpStatus::Error(AmqpErrorKind::kConnectionLost,
                                   "interrupted (stopping)");
        }
        return AmqpStatus::Error(
            KindOfLibraryError(reply.library_error),
            std::string(what) + ": " + amqp_error_string2(reply.library_error));
      }
      case AMQP_RESPONSE_SERVER_EXCEPTION:
        break;
    }
    int code = 0;
    std::string text;
    if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      const auto* m =
          static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
      code = m->reply_code;
      text = ToString(m->reply_text);
      amqp_connection_close_ok_t close_ok;
      amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
      sound_ = false;
    } else if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
      const auto* m =
          static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
      code = m->reply_code;
      text = ToString(m->reply_text);
      amqp_channel_close_ok_t close_ok;
      if (amqp_send_method(state_, channel, AMQP_CHANNEL_CLOSE_OK_METHOD,
                           &close_ok) != AMQP_STATUS_OK) {
        sound_ = false;
      }
      if (channel == kInspectChannel) inspect_open_ = false;
    } else {
      sound_ = false;
      return AmqpStatus::Error(AmqpErrorKind::kProtocol,
                               std::string(what) + ": unexpected method " +
                                   std::to_string(reply.reply.id));
    }
    return AmqpStatus::Error(KindOfReplyCode(code, during_login),
                             Printable(std::to_string(code) + " " + text));
  }

  amqp_connection_state_t state_;
  std::atomic<int> fd_{-1};
  std::atomic<bool> interrupted_{false};
  bool sound_ = false;  // Logged in, no connection-level failure since.
  bool inspect_open_ = false;
};

}  // namespace

std::unique_ptr<AmqpConnection> LibrabbitmqConnector::NewConnection() {
  return std::make_unique<LibrabbitmqConnection>();
}

}  // namespace notifications
