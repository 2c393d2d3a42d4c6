// Replicas as a supported deployment (docs/scaling.md): three real bridges
// behind a real nginx configured with the upstream group and location we
// ship (packaging/nginx/notifications-upstream.conf and
// notifications-replicas.conf), one real mock delivery API upstream, and
// clients that reconnect exactly as a browser's EventSource does (after
// `retry:`, with Last-Event-ID; no help from the test). Replicas are killed
// with SIGKILL and restarted while notifications flow.
#include <doctest/doctest.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nginx_proxy.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::BridgeProcess;
using testing::BrowserLikeClient;
using testing::Metric;
using testing::MockApiProcess;
using testing::NginxMissing;
using testing::NginxProxy;
using testing::RenderNginxTemplate;
using testing::ShippedNginxFile;

constexpr char kEntryPoint[] = "/notifications";
constexpr double kPollSeconds = 0.2;

std::vector<std::string> BridgeArgs() {
  return {"--base-path", kEntryPoint, "--poll-interval",
          "0.2",         "--retry",   "0.3"};
}

std::string Body(int i) {
  return R"({"service":"Jenkins","group":"ci","type":"completed.success","text":"build )" +
         std::to_string(i) + R"(","link":""})";
}

class ReplicaSet {
 public:
  explicit ReplicaSet(const std::string& delivery_url)
      : delivery_url_(delivery_url) {
    for (auto& bridge : bridges_) {
      bridge = std::make_unique<BridgeProcess>(delivery_url_, BridgeArgs());
      REQUIRE(bridge->port > 0);
      ports_.push_back(std::to_string(bridge->port));
    }
  }
  const std::vector<std::string>& ports() const { return ports_; }
  BridgeProcess& at(size_t i) { return *bridges_[i]; }

  // SIGKILL, then a new process on the same port (as a container restart).
  void KillAndRestart(size_t i) {
    bridges_[i]->process->Signal(SIGKILL);
    bridges_[i]->process->Wait(5s);
    std::this_thread::sleep_for(300ms);  // Down for a moment: nginx notices.
    bridges_[i] = std::make_unique<BridgeProcess>(delivery_url_, BridgeArgs(),
                                                  std::stoi(ports_[i]));
    REQUIRE_MESSAGE(bridges_[i]->port == std::stoi(ports_[i]),
                    "replica " << i << " did not come back on its port:\n"
                               << bridges_[i]->process->Stderr());
  }

 private:
  std::string delivery_url_;
  std::array<std::unique_ptr<BridgeProcess>, 3> bridges_;
  std::vector<std::string> ports_;
};

class ReplicaProxy : public NginxProxy {
 public:
  explicit ReplicaProxy(const std::vector<std::string>& ports)
      : NginxProxy(
            RenderNginxTemplate(ShippedNginxFile("notifications-replicas.conf"),
                                {{"api_entry_point", kEntryPoint}}),
            RenderNginxTemplate(ShippedNginxFile("notifications-upstream.conf"),
                                {}, {{"replica_ports", ports}}),
            kEntryPoint) {}
};

TEST_CASE(
    "replicas: behind nginx, every client gets every notification exactly once "
    "and in order while replicas are killed and restarted") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  ReplicaSet replicas(mock.base_url());
  ReplicaProxy nginx(replicas.ports());

  constexpr size_t kClients = 24;
  std::vector<std::unique_ptr<BrowserLikeClient>> clients;
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(
        std::make_unique<BrowserLikeClient>(nginx.url("/events")));
  }
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    size_t connected = 0;
    for (auto& c : clients)
      if (c->connections() > 0) ++connected;
    if (connected == kClients) break;
    std::this_thread::sleep_for(20ms);
  }
  for (auto& c : clients) REQUIRE(c->connections() == 1);
  // least_conn spreads the streams: each replica holds some.
  for (size_t i = 0; i < 3; ++i) {
    CHECK(Metric(replicas.at(i), "notifications_bridge_clients_connected") >=
          1);
  }

  // 240 notifications over about 8 s while each replica in turn is killed
  // and restarted (a kill every 2 s).
  constexpr int kNotifications = 240;
  std::vector<std::string> ids;
  std::atomic<bool> publishing{true};
  std::thread killer([&] {
    for (size_t round = 0; publishing.load(); ++round) {
      std::this_thread::sleep_for(2s);
      if (!publishing.load()) break;
      replicas.KillAndRestart(round % 3);
    }
  });
  for (int i = 0; i < kNotifications; ++i) {
    std::string id = mock.Post(Body(i));
    REQUIRE(!id.empty());
    ids.push_back(id);
    std::this_thread::sleep_for(33ms);
  }
  publishing = false;
  killer.join();

  size_t complete = 0;
  for (auto& c : clients) {
    bool all = c->WaitForList(ids, 30s);
    if (all) ++complete;
    CHECK_MESSAGE(all, "a client has " << c->ids().size() << " of "
                                       << ids.size() << " notifications after "
                                       << c->connections() << " connections"
                                       << (c->gave_up().empty()
                                               ? std::string()
                                               : ", gave up: " + c->gave_up()));
    CHECK_MESSAGE(c->order_violations() == 0, c->first_violation());
    CHECK(c->resets() == 0);
    CHECK(c->gave_up().empty());
  }
  size_t reconnections = 0;
  for (auto& c : clients) reconnections += c->connections() - 1;
  MESSAGE(complete << " of " << kClients << " clients got all "
                   << kNotifications << " notifications in order, through "
                   << reconnections << " reconnections");
  CHECK(reconnections >= kClients / 3);  // Kills did cut streams.
  if (complete < kClients) {
    std::string log = nginx.ErrorLog();
    MESSAGE("nginx's error log (end):\n"
            << log.substr(log.size() > 6000 ? log.size() - 6000 : 0));
  }
}

TEST_CASE(
    "replicas: each replica makes one upstream request per interval whatever "
    "its clients") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  ReplicaSet replicas(mock.base_url());
  ReplicaProxy nginx(replicas.ports());
  std::vector<std::unique_ptr<BrowserLikeClient>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(
        std::make_unique<BrowserLikeClient>(nginx.url("/events")));
  }
  REQUIRE(testing::WaitUntil(
      [&] {
        for (auto& c : clients)
          if (c->connections() == 0) return false;
        return true;
      },
      10s));
  std::array<double, 3> before{};
  for (size_t i = 0; i < 3; ++i) {
    before[i] = Metric(replicas.at(i), "notifications_bridge_polls_total");
    REQUIRE(before[i] >= 0);
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(3s);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (size_t i = 0; i < 3; ++i) {
    double polls =
        Metric(replicas.at(i), "notifications_bridge_polls_total") - before[i];
    MESSAGE("replica " << i << ": " << polls << " upstream requests in "
                       << seconds << " s (interval " << kPollSeconds << " s)");
    // Never more than one per interval (plus the one in flight at each end).
    CHECK(polls <= seconds / kPollSeconds + 2);
    CHECK(polls >= 1);
  }
}

}  // namespace
}  // namespace notifications
