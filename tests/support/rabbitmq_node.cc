#include "rabbitmq_node.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "librabbitmq_client.h"

extern char** environ;

namespace notifications {
namespace testing {
namespace {

using namespace std::chrono_literals;

const char* const kServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const char* const kCtl = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const char* const kEpmd = "/usr/bin/epmd";

// `count` distinct free loopback ports (held together while chosen).
std::vector<int> FreePorts(size_t count) {
  std::vector<int> fds, ports;
  for (size_t i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) close(fd);
      ports.push_back(0);
      continue;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

// Starts `argv` with the current environment minus RABBITMQ_* and ERL_*,
// plus `env`, in a session of its own, stdout and stderr to `log`. With
// `tie_to_parent`, the child is killed if this process dies.
pid_t Spawn(const std::vector<std::string>& argv,
            const std::vector<std::string>& env, const std::string& log,
            bool tie_to_parent) {
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string var = *e;
    if (var.rfind("RABBITMQ_", 0) == 0 || var.rfind("ERL_", 0) == 0 ||
        var.rfind("HOME=", 0) == 0) {
      continue;
    }
    merged.push_back(var);
  }
  merged.insert(merged.end(), env.begin(), env.end());
  pid_t pid = fork();
  if (pid != 0) return pid;
  setsid();
  if (tie_to_parent) prctl(PR_SET_PDEATHSIG, SIGKILL);
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  int null = open("/dev/null", O_RDONLY);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  if (null >= 0) dup2(null, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> args, envp;
  std::vector<std::string> a = argv;
  for (std::string& s : a) args.push_back(s.data());
  args.push_back(nullptr);
  for (std::string& s : merged) envp.push_back(s.data());
  envp.push_back(nullptr);
  execve(args[0], args.data(), envp.data());
  _exit(127);
}

// Waits for `pid` up to `timeout`; kills its session after that. Returns
// its exit code, or -1 when it had to be killed.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// PHP's json_encode of a string: '/' escaped, non-ASCII as \uXXXX
// (UTF-16, surrogate pairs).
std::string PhpJsonString(const std::string& s) {
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\' || c == '/') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Decode one UTF-8 sequence (the tests pass valid UTF-8).
      uint32_t cp = 0;
      size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
      cp = c & (0x3Fu >> extra);
      for (size_t k = 0; k < extra && i + 1 < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
      }
      if (cp >= 0x10000) {
        cp -= 0x10000;
        snprintf(buf, sizeof buf, "\\u%04x", 0xD800 + (cp >> 10));
        out += buf;
        snprintf(buf, sizeof buf, "\\u%04x", 0xDC00 + (cp & 0x3FF));
        out += buf;
      } else {
        snprintf(buf, sizeof buf, "\\u%04x", cp);
        out += buf;
      }
    }
  }
  return out + "\"";
}

}  // namespace

RabbitMqNode::RabbitMqNode(bool tls, std::chrono::seconds boot_timeout) {
  ok_ = Start(tls, boot_timeout);
}

bool RabbitMqNode::MakeCertificates() {
  const std::string d = dir_ + "/tls";
  std::filesystem::create_directories(d);
  std::ofstream(d + "/san.cnf") << "subjectAltName=DNS:localhost\n";
  const std::vector<std::vector<std::string>> steps = {
      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
       "/CN=nb-test-ca"},
      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       d + "/other-ca.key", "-out", d + "/other-ca.pem", "-days", "2", "-subj",
       "/CN=nb-other-ca"},
      {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key",
       "-out", d + "/server.csr", "-subj", "/CN=localhost"},
      {"x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days",
       "2", "-extfile", d + "/san.cnf"},
  };
  for (const auto& step : steps) {
    std::vector<std::string> argv = {"/usr/bin/openssl"};
    argv.insert(argv.end(), step.begin(), step.end());
    pid_t pid = Spawn(argv, {}, d + "/openssl.log", false);
    if (WaitFor(pid, 60s) != 0) {
      error_ =
          "openssl " + step[0] + " failed: " + ReadFile(d + "/openssl.log");
      return false;
    }
  }
  return true;
}

std::vector<std::string> RabbitMqNode::Environment() const {
  return {
      "HOME=" + dir_ + "/home",
      "RABBITMQ_NODENAME=" + node_name_,
      "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
      "RABBITMQ_NODE_PORT=" + std::to_string(port_),
      "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_),
      "RABBITMQ_MNESIA_BASE=" + dir_ + "/mnesia",
      "RABBITMQ_LOG_BASE=" + dir_ + "/log",
      "RABBITMQ_PID_FILE=" + dir_ + "/pid",
      "RABBITMQ_CONFIG_FILE=" + dir_ + "/rabbitmq.conf",
      "RABBITMQ_ADVANCED_CONFIG_FILE=" + dir_ + "/no-advanced.config",
      "RABBITMQ_ENABLED_PLUGINS_FILE=" + dir_ + "/enabled_plugins",
      "RABBITMQ_CONF_ENV_FILE=" + dir_ + "/no-rabbitmq-env.conf",
      "ERL_EPMD_ADDRESS=127.0.0.1",
      "ERL_EPMD_PORT=" + std::to_string(epmd_port_),
      // Makes the start script exec the Erlang VM instead of keeping a
      // shell in front of it, so the VM itself dies with the test process.
      // Nothing here talks to systemd (no NOTIFY_SOCKET).
      "RUNNING_UNDER_SYSTEMD=true",
  };
}

bool RabbitMqNode::Start(bool tls, std::chrono::seconds boot_timeout) {
  if (access(kServer, X_OK) != 0 || access(kCtl, X_OK) != 0) {
    error_ = "rabbitmq-server is not installed (scripts/install-deps.sh test)";
    return false;
  }
  char tmpl[] = "/tmp/nb-rabbitmq-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    error_ = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  dir_ = tmpl;
  std::filesystem::create_directories(dir_ + "/home");
  std::filesystem::create_directories(dir_ + "/mnesia");
  std::filesystem::create_directories(dir_ + "/log");
  std::filesystem::permissions(dir_ + "/home",
                               std::filesystem::perms::owner_all);
  std::vector<int> ports = FreePorts(4);
  port_ = ports[0];
  dist_port_ = ports[1];
  epmd_port_ = ports[2];
  tls_port_ = tls ? ports[3] : 0;
  if (port_ == 0 || dist_port_ == 0 || epmd_port_ == 0 ||
      (tls && tls_port_ == 0)) {
    error_ = "no free port";
    return false;
  }
  if (tls && !MakeCertificates()) return false;
  node_name_ = "nbtest" + std::to_string(getpid()) + "@localhost";
  {
    std::ofstream conf(dir_ + "/rabbitmq.conf");
    conf << "listeners.tcp.default = 127.0.0.1:" << port_ << "\n"
         << "log.console = true\n"
         << "log.console.level = warning\n"
         << "log.file = false\n";
    if (tls) {
      conf << "listeners.ssl.default = 127.0.0.1:" << tls_port_ << "\n"
           << "ssl_options.cacertfile = " << ca_file() << "\n"
           << "ssl_options.certfile = " << dir_ << "/tls/server.pem\n"
           << "ssl_options.keyfile = " << dir_ << "/tls/server.key\n"
           << "ssl_options.verify = verify_none\n"
           << "ssl_options.fail_if_no_peer_cert = false\n";
    }
  }
  std::ofstream(dir_ + "/enabled_plugins") << "[].\n";

  server_pid_ = Spawn({kServer}, Environment(), dir_ + "/server.log", true);
  std::string out;
  int rc = Ctl({"wait", dir_ + "/pid", "--timeout",
                std::to_string(boot_timeout.count())},
               &out, boot_timeout + 30s);
  if (rc != 0) {
    error_ = "rabbitmq-server did not start within " +
             std::to_string(boot_timeout.count()) +
             " s (rabbitmqctl wait: " + out + "); its log: " + dir_ +
             "/server.log:\n" + ReadFile(dir_ + "/server.log");
    return false;
  }
  return true;
}

RabbitMqNode::~RabbitMqNode() {
  if (server_pid_ > 0) {
    Ctl({"shutdown"}, nullptr, 60s);
    WaitFor(server_pid_, 20s);
  }
  if (!dir_.empty()) {
    // epmd outlives the node: stop this node's own (its port is ours).
    pid_t epmd =
        Spawn({kEpmd, "-kill"}, Environment(), dir_ + "/epmd.log", false);
    WaitFor(epmd, 10s);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

int RabbitMqNode::Ctl(const std::vector<std::string>& args, std::string* output,
                      std::chrono::seconds timeout) {
  std::string log = dir_ + "/ctl-" + std::to_string(getpid()) + ".log";
  std::vector<std::string> argv = {kCtl};
  argv.insert(argv.end(), args.begin(), args.end());
  unlink(log.c_str());
  pid_t pid = Spawn(argv, Environment(), log, false);
  int rc = WaitFor(pid, timeout);
  if (output) *output = ReadFile(log);
  unlink(log.c_str());
  return rc;
}

std::string RabbitMqNode::Url(const std::string& user,
                              const std::string& vhost) const {
  AmqpEndpoint e;
  e.host = "127.0.0.1";
  e.port = port_;
  e.user = user;
  e.vhost = vhost;
  return AmqpEndpointText(e);
}

AmqpEndpoint RabbitMqNode::Endpoint(const std::string& user,
                                    const std::string& password,
                                    const std::string& vhost) const {
  AmqpEndpoint e = ParseAmqpUrl(Url(user, vhost)).value();
  e.password = password;
  e.heartbeat = std::chrono::seconds(10);
  return e;
}

bool RabbitMqNode::ImportDefinitions(const std::string& json) {
  std::string path = dir_ + "/definitions.json";
  std::ofstream(path) << json;
  std::string out;
  int rc = Ctl({"import_definitions", path}, &out);
  if (rc != 0) error_ = "import_definitions: " + out;
  return rc == 0;
}

bool RabbitMqNode::WaitForQueue(const std::string& user,
                                const std::string& password,
                                const std::string& vhost,
                                const std::string& queue,
                                std::chrono::seconds timeout) {
  LibrabbitmqConnector connector;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<AmqpConnection> c;
    AmqpQueueInfo info;
    if (OpenAmqpConnection(connector, Endpoint(user, password, vhost), &c)
            .ok() &&
        c->DeclareQueue(queue, true, false, &info).ok()) {
      return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

bool RabbitMqNode::StopApp() { return Ctl({"stop_app"}) == 0; }
bool RabbitMqNode::StartApp() { return Ctl({"start_app"}) == 0; }

AmqpPublisher::AmqpPublisher(AmqpEndpoint endpoint, std::string exchange)
    : endpoint_(std::move(endpoint)),
      exchange_(std::move(exchange)),
      connector_(std::make_unique<LibrabbitmqConnector>()) {}

AmqpPublisher::~AmqpPublisher() = default;

AmqpStatus AmqpPublisher::Publish(const std::string& routing_key,
                                  const std::string& body,
                                  std::optional<int64_t> timestamp) {
  AmqpStatus s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connection_) {
      s = OpenAmqpConnection(*connector_, endpoint_, &connection_);
      if (!s.ok()) continue;
    }
    s = connection_->Publish(exchange_, routing_key, body, timestamp);
    if (s.ok()) return s;
    connection_.reset();
  }
  return s;
}

std::string NasqueronBody(const std::string& service, const std::string& group,
                          const std::string& type, const std::string& text,
                          const std::string& link) {
  return "{\"service\":" + PhpJsonString(service) +
         ",\"project\":\"Nasqueron\",\"group\":" + PhpJsonString(group) +
         ",\"rawContent\":{\"source\":" +
         PhpJsonString("https://example.test/" + type) +
         "},\"type\":" + PhpJsonString(type) +
         ",\"text\":" + PhpJsonString(text) +
         ",\"link\":" + PhpJsonString(link) + "}";
}

}  // namespace testing
}  // namespace notifications
