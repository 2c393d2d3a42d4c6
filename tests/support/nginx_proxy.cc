#include "nginx_proxy.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace notifications {
namespace testing {

namespace {

using namespace std::chrono_literals;

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteWhole(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A loopback port nobody listens on right now (nginx has no "port 0").
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

std::string NginxBinary() {
  const char* env = std::getenv("NB_NGINX");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/nginx";
}

bool NginxMissing() {
  return MissingPrerequisite(access(NginxBinary().c_str(), X_OK) != 0,
                             "no nginx at " + NginxBinary() +
                                 " (scripts/install-deps.sh test installs Debian's "
                                 "nginx; or set NB_NGINX)");
}

std::string ShippedNginxFile(const std::string& name) {
  std::string text =
      ReadWhole(std::string(NB_SOURCE_DIR) + "/packaging/nginx/" + name);
  REQUIRE_MESSAGE(!text.empty(),
                  "packaging/nginx/" << name << " is missing or empty");
  return text;
}

void ReplaceAll(std::string& text, const std::string& from,
                const std::string& to) {
  size_t count = 0;
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++count;
  }
  REQUIRE_MESSAGE(count > 0, "the nginx file has no \"" << from << "\"");
}

std::string RenderNginxTemplate(
    std::string text, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::vector<std::string>>& lists) {
  for (const auto& [key, items] : lists) {
    const std::string tail = " in " + key + " %}";
    size_t open = text.find(tail);
    REQUIRE_MESSAGE(open != std::string::npos,
                    "the nginx file has no loop over " << key);
    size_t begin = text.rfind("{% for ", open);
    REQUIRE(begin != std::string::npos);
    const std::string var = text.substr(begin + 7, open - begin - 7);
    size_t body = text.find('\n', open) + 1;
    size_t end = text.find("{% endfor %}", body);
    REQUIRE(end != std::string::npos);
    size_t after = text.find('\n', end);
    after = after == std::string::npos ? text.size() : after + 1;
    const std::string line = text.substr(body, end - body);
    std::string expanded;
    for (const std::string& item : items) {
      std::string copy = line;
      ReplaceAll(copy, "{{ " + var + " }}", item);
      expanded += copy;
    }
    text.replace(begin, after - begin, expanded);
  }
  for (const auto& [key, value] : values)
    ReplaceAll(text, "{{ " + key + " }}", value);
  return text;
}

NginxProxy::NginxProxy(const std::string& server_conf,
                       const std::string& http_conf, std::string base_path)
    : base_path_(std::move(base_path)) {
  char tmpl[] = "/tmp/nb-nginx-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  WriteWhole(dir_ + "/server.conf", server_conf);
  WriteWhole(dir_ + "/http.conf", http_conf);
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    int port = FreePort();
    REQUIRE(port > 0);
    WriteWhole(dir_ + "/nginx.conf", MainConfig(port));
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        NginxBinary(), "-p", dir_ + "/", "-c", dir_ + "/nginx.conf", "-e",
        dir_ + "/error.log", "-g", "daemon off;"});
    REQUIRE(process_->started());
    // Ready when nginx itself answers (a server of another test may have
    // taken the port between FreePort() and nginx's bind).
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline;) {
      if (process_->Wait(0ms) != -1)
        break;  // Exited: port taken or bad config.
      auto probe =
          HttpRequestTo("http://127.0.0.1:" + std::to_string(port) + "/");
      if (probe.status != 0 && probe.headers["server"].rfind("nginx", 0) == 0) {
        port_ = port;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  REQUIRE_MESSAGE(port_ > 0, "nginx did not start:\n" << ErrorLog());
}

NginxProxy::~NginxProxy() {
  if (process_) {
    process_->Signal(SIGTERM);
    process_->Wait(5s);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string NginxProxy::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + base_path_ + path;
}

std::string NginxProxy::ErrorLog() const {
  return ReadWhole(dir_ + "/error.log");
}

std::string NginxProxy::MainConfig(int port) const {
  const std::string& d = dir_;
  return "worker_processes 1;\n"
         "master_process off;\n"
         "pid " +
         d +
         "/nginx.pid;\n"
         "error_log " +
         d +
         "/error.log info;\n"
         "events { worker_connections 1024; }\n"
         "http {\n"
         "  access_log " +
         d +
         "/access.log;\n"
         "  client_body_temp_path " +
         d +
         "/client_body;\n"
         "  proxy_temp_path " +
         d +
         "/proxy;\n"
         "  fastcgi_temp_path " +
         d +
         "/fastcgi;\n"
         "  uwsgi_temp_path " +
         d +
         "/uwsgi;\n"
         "  scgi_temp_path " +
         d +
         "/scgi;\n"
         "  gzip on;\n"
         "  gzip_min_length 1;\n"
         "  gzip_types text/event-stream text/plain application/json;\n"
         "  include " +
         d +
         "/http.conf;\n"
         "  server {\n"
         "    listen 127.0.0.1:" +
         std::to_string(port) +
         ";\n"
         "    include " +
         d +
         "/server.conf;\n"
         "  }\n"
         "}\n";
}

}  // namespace testing
}  // namespace notifications
