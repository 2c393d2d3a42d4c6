#include "mock_generator.h"

#include <cinttypes>
#include <cstdio>
#include <string>

namespace notifications {
namespace {

// A deterministic 40-hex-digit string that looks like a git commit id.
std::string FakeSha(uint64_t n, uint64_t salt) {
  std::string out;
  uint64_t x = (n + 1) * 0x9e3779b97f4a7c15ULL ^ salt;
  while (out.size() < 40) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    char buf[20];
    snprintf(buf, sizeof buf, "%016" PRIx64, x);
    out += buf;
  }
  out.resize(40);
  return out;
}

}  // namespace

Notification SyntheticNotification(uint64_t n) {
  Notification out;
  out.project = "Nasqueron";
  const std::string num = std::to_string(100 + n);
  const std::string before = FakeSha(n, 0x5bd1e995);
  const std::string after = FakeSha(n, 0x1b873593);
  switch (n % 12) {
    case 0:
      out.service = "GitHub";
      out.group = "ops";
      out.type = "push";
      out.text = "dereckson pushed 2 commits to rOPS operations (main)";
      out.link = "https://github.com/nasqueron/operations/compare/" +
                 before.substr(0, 12) + "..." + after.substr(0, 12);
      out.raw_content =
          R"({"ref":"refs/heads/main","before":")" + before + R"(","after":")" +
          after +
          R"(","repository":{"full_name":"nasqueron/operations"},)"
          R"("pusher":{"name":"dereckson"},"commits":[{"id":")" +
          after + R"(","message":"Deploy notifications bridge"}]})";
      break;
    case 1:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "started";
      out.text = "Job deploy-website-infra build #" + num + " started";
      out.link =
          "https://cd.nasqueron.org/job/deploy-website-infra/" + num + "/";
      out.raw_content = R"({"name":"deploy-website-infra","build":{"number":)" +
                        num + R"(,"phase":"STARTED"}})";
      break;
    case 2:
      out.service = "GitHub";
      out.group = "devtools";
      out.type = "pull_request";
      out.text = "dereckson opened pull request #" + num +
                 " on nasqueron/notifications-center: Publish the delivery API";
      out.link =
          "https://github.com/nasqueron/notifications-center/pull/" + num;
      out.raw_content =
          R"({"action":"opened","number":)" + num +
          R"(,"pull_request":{"title":"Publish the delivery API"}})";
      break;
    case 3:
      out.service = "Phabricator";
      out.group = "orgz";
      out.type = "TASK";
      out.text =
          "dereckson created T" + num + ": Document the notifications bridge";
      out.link = "";
      out.raw_content = R"({"type":"TASK","object":{"phid":"PHID-TASK-)" +
                        after.substr(0, 20) + R"("}})";
      break;
    case 4:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "completed.success";
      out.text = "Job deploy-website-infra build #" + num + " succeeded";
      out.link =
          "https://cd.nasqueron.org/job/deploy-website-infra/" + num + "/";
      out.raw_content = R"({"name":"deploy-website-infra","build":{"number":)" +
                        num + R"(,"phase":"COMPLETED","status":"SUCCESS"}})";
      break;
    case 5:
      out.service = "DockerHub";
      out.group = "docker";
      out.type = "push";
      out.text =
          "New image pushed to Docker Hub registry: "
          "nasqueron/notifications:latest";
      out.link = "https://hub.docker.com/r/nasqueron/notifications/";
      out.raw_content =
          R"({"push_data":{"tag":"latest","pusher":"nasqueron"},)"
          R"("repository":{"repo_name":"nasqueron/notifications"}})";
      break;
    case 6:
      out.service = "GitHub";
      out.group = "ops";
      out.type = "status";
      out.text = "Jenkins build #" + num + " of nasqueron/operations: success";
      out.link = "https://cd.nasqueron.org/job/operations-test/" + num + "/";
      out.raw_content =
          R"({"sha":")" + after + R"(","state":"success","context":"jenkins"})";
      break;
    case 7:
      out.service = "Phabricator";
      out.group = "devtools";
      out.type = "DREV";
      out.text =
          "dereckson created D" + num + ": Poll the delivery API with backoff";
      out.link = "";
      out.raw_content = R"({"type":"DREV","object":{"phid":"PHID-DREV-)" +
                        before.substr(0, 20) + R"("}})";
      break;
    case 8:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "completed.failure";
      out.text = "Job test-notifications-bridge build #" + num + " failed";
      out.link =
          "https://cd.nasqueron.org/job/test-notifications-bridge/" + num + "/";
      out.raw_content =
          R"({"name":"test-notifications-bridge","build":{"number":)" + num +
          R"(,"phase":"COMPLETED","status":"FAILURE"}})";
      break;
    case 9:
      out.service = "DockerHub";
      out.group = "docker";
      out.type = "buildFailure";
      out.text =
          "Image build by Docker Hub registry failure: nasqueron/etherpad";
      out.link = "https://hub.docker.com/r/nasqueron/etherpad/builds/";
      out.raw_content = R"({"repository":{"repo_name":"nasqueron/etherpad"},)"
                        R"("build":{"status":"error"}})";
      break;
    case 10:
      // A repository no group is mapped to: the Notifications Center sends "".
      out.service = "GitHub";
      out.group = "";
      out.type = "push";
      out.text = "dereckson pushed 1 commit to sandbox (master)";
      out.link = "https://github.com/dereckson/sandbox/commit/" + after;
      out.raw_content = R"({"ref":"refs/heads/master","after":")" + after +
                        R"(","repository":{"full_name":"dereckson/sandbox"}})";
      break;
    default:
      out.service = "GitHub";
      out.group = "orgz";
      out.type = "issues";
      out.text = "dereckson opened issue #" + num +
                 " on nasqueron/operations: Renew certificates";
      out.link = "https://github.com/nasqueron/operations/issues/" + num;
      out.raw_content = R"({"action":"opened","issue":{"number":)" + num +
                        R"(,"title":"Renew certificates"}})";
      break;
  }
  return out;
}

MockGenerator::MockGenerator(double rate, NotificationStore& store,
                             Clock& clock, Logger& logger)
    : rate_(rate), store_(store), clock_(clock), logger_(logger) {}

MockGenerator::~MockGenerator() { Stop(); }

void MockGenerator::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void MockGenerator::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MockGenerator::Loop() {
  using Nanos = std::chrono::nanoseconds;
  const Nanos interval = std::chrono::duration_cast<Nanos>(
      std::chrono::duration<double>(1.0 / rate_));
  uint64_t n = 0;
  auto next = clock_.Now() + interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto now = clock_.Now();
    if (now < next) {
      clock_.WaitFor(cv_, lock, next - now, [this] { return stop_; });
      continue;
    }
    lock.unlock();
    Notification stored = store_.Append(SyntheticNotification(n++));
    logger_.Info("generated " + stored.id + " " + stored.RoutingKey());
    lock.lock();
    next += interval;
    // After a stall (a suspended laptop), resume the rate instead of
    // catching up with a burst.
    if (next + std::chrono::seconds(1) < now) next = now + interval;
  }
}

}  // namespace notifications
