#include "test_support.h"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "notification.h"

namespace notifications {
namespace testing {

using namespace std::chrono_literals;

ChildProcess::ChildProcess(std::vector<std::string> argv,
                           std::vector<std::string> env) {
  // The child's environment, built before fork (only async-signal-safe
  // calls after it): ours, with `env` replacing variables of its names.
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('=') + 1);
    bool replaced = std::any_of(env.begin(), env.end(), [&](const auto& v) {
      return v.compare(0, name.size(), name) == 0;
    });
    if (!replaced) environment.push_back(entry);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  int out[2];
  if (pipe(out) != 0) return;
  char tmpl[] = "/tmp/nb-stderr-XXXXXX";
  int err = mkstemp(tmpl);
  stderr_path_ = tmpl;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    dup2(err, 2);
    close(out[0]);
    close(out[1]);
    // The test binary may block signals; the child must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err);
  stdout_fd_ = out[0];
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && exit_code_ < 0) {
    kill(pid_, SIGKILL);
    Wait(5s);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (!stderr_path_.empty()) {
    // The programs are built with the tests' sanitizers: a report in a
    // child fails the test that ran it, whether or not the test looked.
    // (Not thrown: this may run while a failed REQUIRE unwinds.)
    std::string report = SanitizerReportIn(Stderr());
    if (!report.empty()) {
      FAIL_CHECK("sanitizer report in a child process:\n" << report);
    }
    unlink(stderr_path_.c_str());
  }
}

std::string ChildProcess::WaitForLine(const std::string& needle,
                                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl;
    while ((nl = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (line.find(needle) != std::string::npos) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || stdout_fd_ < 0) return "";
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return "";
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && exit_code_ < 0) kill(pid_, sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ =
          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
}

std::string ChildProcess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool MissingPrerequisite(bool missing, const std::string& what) {
  if (!missing) return false;
  const char* require = std::getenv("NB_REQUIRE_PREREQUISITES");
  if (require != nullptr && std::string(require) == "1") {
    FAIL("prerequisite missing (NB_REQUIRE_PREREQUISITES=1): " << what);
    return true;
  }
  const char* ctest = std::getenv("NB_UNDER_CTEST");
  std::printf("SKIPPED: %s\n", what.c_str());
  std::fflush(stdout);
  if (ctest != nullptr && std::string(ctest) == "1") std::_Exit(77);
  MESSAGE("SKIPPED: " << what);
  return true;
}

std::string SanitizerReportIn(const std::string& log) {
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
        "ERROR: LeakSanitizer", "runtime error:"}) {
    size_t at = log.find(marker);
    if (at != std::string::npos) return log.substr(at, 4000);
  }
  return "";
}

int PortFromLine(const std::string& line) {
  size_t at = line.find("http://");
  if (at == std::string::npos) return 0;
  size_t colon = line.find(':', at + 7);
  if (colon == std::string::npos) return 0;
  return std::atoi(line.c_str() + colon + 1);
}

const char* UpstreamName(Upstream upstream) {
  return upstream == Upstream::kMock ? "mock" : "independent API";
}

bool UpstreamMissing(Upstream upstream) {
  return upstream == Upstream::kIndependent &&
         MissingPrerequisite(access(NB_PYTHON3_EXE, X_OK) != 0,
                             "python3 (" NB_PYTHON3_EXE
                             ") for tests/independent_api/delivery_api.py");
}

DeliveryApiProcess::DeliveryApiProcess(Upstream u,
                                       std::vector<std::string> extra_args)
    : upstream(u) {
  std::vector<std::string> argv;
  if (u == Upstream::kMock) {
    argv = {NB_MOCK_API_EXE, "--port", "0", "--log-level", "warn"};
  } else {
    argv = {NB_PYTHON3_EXE,
            NB_SOURCE_DIR "/tests/independent_api/delivery_api.py", "--port",
            "0"};
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<ChildProcess>(argv);
  port = PortFromLine(process->WaitForLine("listening on", 10s));
}

std::string DeliveryApiProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port) + "/delivery";
}

std::string DeliveryApiProcess::Post(const std::string& json_body,
                                     const std::string& project) const {
  HttpResult r =
      HttpRequestTo("http://127.0.0.1:" + std::to_string(port) +
                        "/gate/Notification/" + project,
                    "POST", {{"Content-Type", "application/json"}}, json_body);
  if (r.status != 200) return "";
  size_t at = r.body.find("\"id\":\"");
  if (at == std::string::npos) return "";
  at += 6;
  return r.body.substr(at, r.body.find('"', at) - at);
}

long DeliveryApiProcess::RequestsServed() const {
  if (upstream != Upstream::kIndependent) return -1;
  HttpResult r = HttpRequestTo("http://127.0.0.1:" + std::to_string(port) +
                               "/_test/requests");
  size_t at = r.body.find("\"requests\":");
  if (r.status != 200 || at == std::string::npos) return -1;
  return std::atol(r.body.c_str() + at + 11);
}

BridgeProcess::BridgeProcess(const std::string& delivery_url,
                             std::vector<std::string> extra_args, int p,
                             std::vector<std::string> env)
    : BridgeProcess({"--delivery-url", delivery_url}, std::move(extra_args), p,
                    std::move(env)) {}

BridgeProcess::BridgeProcess(std::vector<std::string> source_args,
                             std::vector<std::string> extra_args, int p,
                             std::vector<std::string> env) {
  auto base = std::find(extra_args.begin(), extra_args.end(), "--base-path");
  if (base != extra_args.end() && base + 1 != extra_args.end()) {
    base_path = *(base + 1);
  }
  std::vector<std::string> argv = {NB_BRIDGE_EXE};
  argv.insert(argv.end(), source_args.begin(), source_args.end());
  argv.push_back("--listen");
  argv.push_back("127.0.0.1:" + std::to_string(p));
  // Fast defaults for tests, unless the test sets its own.
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"--poll-interval", "0.1"},
      {"--backoff-initial", "0.1"},
      {"--backoff-max", "0.5"},
      {"--log-level", "warn"}};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra_args.begin(), extra_args.end(), flag) ==
        extra_args.end()) {
      argv.push_back(flag);
      argv.push_back(value);
    }
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process = std::make_unique<ChildProcess>(argv, std::move(env));
  port = PortFromLine(process->WaitForLine("listening on", 10s));
}

std::string BridgeProcess::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

double MetricIn(const std::string& text, const std::string& name) {
  const std::string key = name + " ";
  for (size_t at = text.find(key); at != std::string::npos;
       at = text.find(key, at + 1)) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::strtod(text.c_str() + at + key.size(), nullptr);
    }
  }
  return -1;
}

double Metric(const BridgeProcess& bridge, const std::string& name) {
  HttpResult r = HttpRequestTo(bridge.url(bridge.base_path + "/metrics"));
  return r.status == 200 ? MetricIn(r.body, name) : -1;
}

bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool WaitForMetric(const BridgeProcess& bridge, const std::string& name,
                   double at_least, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return Metric(bridge, name) >= at_least; }, timeout);
}

bool WaitForMetricEquals(const BridgeProcess& bridge, const std::string& name,
                         double value, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return Metric(bridge, name) == value; }, timeout);
}

namespace {

size_t AppendTo(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t HeaderTo(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    auto* headers = static_cast<std::map<std::string, std::string>*>(out);
    if (headers->count(name))
      (*headers)[name] += ", " + value;
    else
      (*headers)[name] = value;
  }
  return size * n;
}

}  // namespace

HttpResult HttpRequestTo(const std::string& url, const std::string& method,
                         const std::map<std::string, std::string>& headers,
                         const std::string& body) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers)
    list = curl_slist_append(list, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(body.size()));
  }
  if (curl_easy_perform(curl) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return result;
}

SseClient::SseClient(const std::string& url,
                     std::map<std::string, std::string> headers) {
  thread_ = std::thread(&SseClient::Run, this, url, std::move(headers));
}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  stop_ = true;
  // Waking curl through its socket ends the transfer at once; its progress
  // callback alone may take a second to notice.
  int fd = fd_.load();
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

size_t SseClient::OnBody(char* data, size_t size, size_t n, void* self_ptr) {
  auto* self = static_cast<SseClient*>(self_ptr);
  if (self->stop_) return 0;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->raw_.append(data, size * n);
  self->parser_.Feed(
      std::string_view(data, size * n),
      [self](const SseParser::Event& e) { self->events_.push_back(e); });
  self->cv_.notify_all();
  return size * n;
}

size_t SseClient::OnHeader(char* data, size_t size, size_t n, void* self_ptr) {
  auto* self = static_cast<SseClient*>(self_ptr);
  std::lock_guard<std::mutex> lock(self->mu_);
  return HeaderTo(data, size, n, &self->headers_);
}

void SseClient::Run(std::string url,
                    std::map<std::string, std::string> headers) {
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers)
    list = curl_slist_append(list, (k + ": " + v).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &SseClient::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &SseClient::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(
      curl, CURLOPT_XFERINFOFUNCTION,
      +[](void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
        return static_cast<SseClient*>(self)->stop_ ? 1 : 0;
      });
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(
      curl, CURLOPT_OPENSOCKETFUNCTION,
      +[](void* self, curlsocktype, curl_sockaddr* a) -> curl_socket_t {
        int fd = socket(a->family, a->socktype, a->protocol);
        static_cast<SseClient*>(self)->fd_.store(fd);
        return fd;
      });
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, this);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode result = CURLE_ABORTED_BY_CALLBACK;
  if (!stop_) result = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  std::lock_guard<std::mutex> lock(mu_);
  status_ = static_cast<int>(status);
  curl_result_ = static_cast<int>(result);
  curl_error_ = error[0] != '\0' ? error : curl_easy_strerror(result);
  ended_ = true;
  cv_.notify_all();
}

int SseClient::curl_result() const {
  std::lock_guard<std::mutex> lock(mu_);
  return curl_result_;
}

std::string SseClient::curl_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return curl_error_;
}

bool SseClient::ended_cleanly() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_ && status_ == 200 && curl_result_ == CURLE_OK;
}

std::vector<SseParser::Event> SseClient::WaitFor(
    size_t n, std::chrono::milliseconds timeout, const std::string& type) {
  std::unique_lock<std::mutex> lock(mu_);
  // Counted on each wake-up, copied once: events may be large and many.
  auto count = [&] {
    return static_cast<size_t>(std::count_if(
        events_.begin(), events_.end(),
        [&](const SseParser::Event& e) { return e.type == type; }));
  };
  cv_.wait_for(lock, timeout, [&] { return ended_ || count() >= n; });
  std::vector<SseParser::Event> out;
  for (const auto& e : events_) {
    if (e.type == type) out.push_back(e);
  }
  return out;
}

bool SseClient::WaitForOpen(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  // The opening is the first bytes of the body: never search further.
  auto open = [&] {
    return std::string_view(raw_).substr(0, 256).find(": connected\n") !=
           std::string_view::npos;
  };
  cv_.wait_for(lock, timeout, [&] { return ended_ || open(); });
  return open();
}

bool SseClient::WaitForEnd(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ended_; });
}

std::vector<SseParser::Event> SseClient::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

int SseClient::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_ != 0) return status_;
  // While streaming, the status line is known from the headers callback.
  return headers_.count("content-type") ? 200 : 0;
}

std::string SseClient::header(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = headers_.find(name);
  return it == headers_.end() ? "" : it->second;
}

std::optional<int64_t> SseClient::retry_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parser_.retry_ms();
}

size_t SseClient::comments() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parser_.comments_seen();
}

std::string SseClient::raw() const {
  std::lock_guard<std::mutex> lock(mu_);
  return raw_;
}

std::vector<std::string> Ids(const std::vector<SseParser::Event>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.last_event_id);
  return ids;
}

BrowserLikeClient::BrowserLikeClient(std::string url) : url_(std::move(url)) {
  thread_ = std::thread(&BrowserLikeClient::Run, this);
}

BrowserLikeClient::~BrowserLikeClient() { Stop(); }

void BrowserLikeClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BrowserLikeClient::Disconnect() {
  // Under mu_, so that the socket cannot be closed (and its number reused)
  // meanwhile: the close callback takes mu_ too.
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

void BrowserLikeClient::OnEvent(const SseParser::Event& e) {
  if (e.type == "reset") {
    ++resets_;
    ids_.clear();
  } else if (e.type == "notification") {
    ++notifications_;
    const std::string& id = e.last_event_id;
    if (!ids_.empty() && CompareIds(id, ids_.back()) <= 0) {
      if (order_violations_++ == 0) {
        first_violation_ = "got " + id + " after " + ids_.back();
      }
    }
    ids_.push_back(id);
  }
}

size_t BrowserLikeClient::OnBody(char* data, size_t size, size_t n,
                                 void* self_ptr) {
  auto* self = static_cast<BrowserLikeClient*>(self_ptr);
  std::lock_guard<std::mutex> lock(self->mu_);
  if (self->stop_) return 0;
  if (!self->parser_) {
    // First body bytes: check the response as a browser does.
    auto type = self->headers_.find("content-type");
    bool ok = self->status_line_.find(" 200") != std::string::npos &&
              type != self->headers_.end() &&
              type->second.rfind("text/event-stream", 0) == 0;
    if (!ok) {
      self->gave_up_ = "response " + self->status_line_ + ", Content-Type " +
                       (type == self->headers_.end() ? "none" : type->second);
      return 0;
    }
    ++self->connections_;
    self->parser_ = std::make_unique<SseParser>();
    // Seeds the new parser with the last event id (a blank line after an
    // id dispatches nothing): ids persist across connections in a browser.
    self->parser_->Feed("id: " + self->last_event_id_ + "\n\n",
                        [](const SseParser::Event&) {});
  }
  self->parser_->Feed(std::string_view(data, size * n),
                      [self](const SseParser::Event& e) { self->OnEvent(e); });
  self->last_event_id_ = self->parser_->last_event_id();
  if (self->parser_->retry_ms()) self->retry_ms_ = *self->parser_->retry_ms();
  self->cv_.notify_all();
  return size * n;
}

size_t BrowserLikeClient::OnHeader(char* data, size_t size, size_t n,
                                   void* self_ptr) {
  auto* self = static_cast<BrowserLikeClient*>(self_ptr);
  std::lock_guard<std::mutex> lock(self->mu_);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    self->headers_.clear();
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
      line.pop_back();
    }
    self->status_line_ = line;
    return size * n;
  }
  return HeaderTo(data, size, n, &self->headers_);
}

bool BrowserLikeClient::Connect() {
  std::string last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    parser_.reset();
    headers_.clear();
    status_line_.clear();
    last = last_event_id_;
  }
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Accept: text/event-stream");
  if (!last.empty()) {
    list = curl_slist_append(list, ("Last-Event-ID: " + last).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &BrowserLikeClient::OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &BrowserLikeClient::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(
      curl, CURLOPT_OPENSOCKETFUNCTION,
      +[](void* self_ptr, curlsocktype, curl_sockaddr* a) -> curl_socket_t {
        auto* self = static_cast<BrowserLikeClient*>(self_ptr);
        int fd = socket(a->family, a->socktype, a->protocol);
        std::lock_guard<std::mutex> lock(self->mu_);
        self->fd_ = fd;
        if (self->stop_ && fd >= 0) shutdown(fd, SHUT_RDWR);
        return fd;
      });
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(
      curl, CURLOPT_CLOSESOCKETFUNCTION,
      +[](void* self_ptr, curl_socket_t fd) -> int {
        auto* self = static_cast<BrowserLikeClient*>(self_ptr);
        std::lock_guard<std::mutex> lock(self->mu_);
        if (self->fd_ == fd) self->fd_ = -1;
        return close(fd);
      });
  curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  std::lock_guard<std::mutex> lock(mu_);
  auto type = headers_.find("content-type");
  if (gave_up_.empty() && status != 0 &&
      (status != 200 || type == headers_.end() ||
       type->second.rfind("text/event-stream", 0) != 0)) {
    // A response without a body: OnBody never saw it.
    gave_up_ = "response " + status_line_ + ", Content-Type " +
               (type == headers_.end() ? "none" : type->second);
  }
  return gave_up_.empty();
}

void BrowserLikeClient::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (!Connect()) return;
    std::unique_lock<std::mutex> lock(mu_);
    // The whole event being received when the connection ended is dropped,
    // as in a browser: the next connection gets a new parser.
    cv_.wait_for(lock, std::chrono::milliseconds(retry_ms_),
                 [this] { return stop_; });
  }
}

bool BrowserLikeClient::WaitForList(const std::vector<std::string>& ids,
                                    std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ids_ == ids; });
}

std::vector<std::string> BrowserLikeClient::ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ids_;
}

std::string BrowserLikeClient::last_event_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_event_id_;
}

size_t BrowserLikeClient::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

size_t BrowserLikeClient::resets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resets_;
}

size_t BrowserLikeClient::notifications() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notifications_;
}

size_t BrowserLikeClient::order_violations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_violations_;
}

std::string BrowserLikeClient::first_violation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_violation_;
}

std::string BrowserLikeClient::gave_up() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gave_up_;
}

size_t PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return static_cast<size_t>(std::strtoull(line.c_str() + 6, nullptr, 10));
    }
  }
  return 0;
}

Notification SampleNotification(const std::string& id,
                                const std::string& service) {
  Notification n;
  n.id = id;
  n.time = "2026-11-28T12:00:00.000Z";
  n.service = service;
  n.project = "Nasqueron";
  n.group = "ops";
  n.type = "push";
  n.text = "text " + id;
  n.link = "";
  return n;
}

int RawConnect(int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace testing
}  // namespace notifications
