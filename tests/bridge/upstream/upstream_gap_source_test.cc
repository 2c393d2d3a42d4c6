#include "upstream_gap_source.h"

#include <doctest/doctest.h>

#include <thread>

#include "fakes.h"

namespace notifications {
namespace {

DeliveryOptions Options() {
  DeliveryOptions o;
  o.base_url = "http://api.test/delivery/";
  o.page_limit = 50;
  return o;
}

// Each pooled client forwards to one scripted FakeHttpClient (thread-safe),
// so a test scripts the answers in arrival order.
struct Forward final : HttpClient {
  explicit Forward(FakeHttpClient& f) : fake(f) {}
  HttpResponse Get(const HttpRequest& r) override { return fake.Get(r); }
  FakeHttpClient& fake;
};

struct Rig {
  FakeHttpClient http;
  FakeClock clock;
  std::atomic<uint64_t> counter{0};
  int clients_made = 0;
  UpstreamGapSource Make(DeliveryOptions o,
                         size_t max_bytes = kDefaultMaxGapBytes) {
    return UpstreamGapSource(
        [this] {
          ++clients_made;
          return std::make_unique<Forward>(http);
        },
        o, clock, &counter, /*max_idle=*/4, max_bytes);
  }
};

TEST_CASE("gap source: pages until the stop id, one request per page") {
  Rig rig;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  UpstreamGapSource gaps = rig.Make(o);
  rig.http.PushJson(
      200,
      R"({"notifications":[{"id":"3"},{"id":"4"}],"cursor":"4","more":true})");
  rig.http.PushJson(
      200,
      R"({"notifications":[{"id":"5"},{"id":"6"}],"cursor":"6","more":true})");
  auto r = gaps.FetchAfter("2", "5", 100);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[2].id == "5");
  CHECK(!(*r)[0].time.empty());  // Stamped when upstream gave no time.
  CHECK(gaps.requests() == 2);
  CHECK(rig.counter == 2);
  auto reqs = rig.http.requests();
  CHECK(reqs[0].url.find("after=2") != std::string::npos);
  CHECK(reqs[1].url.find("after=4") != std::string::npos);
  CHECK(reqs[0].url.find("wait=") == std::string::npos);
  // No cache of its own (SharedGapSource keeps results): a second call asks.
  rig.http.PushJson(200, R"({"notifications":[],"cursor":"2","more":false})");
  CHECK(gaps.FetchAfter("2", "5", 100).ok());
  CHECK(gaps.requests() == 3);
  CHECK(rig.clients_made == 1);  // The pooled client was reused.
}

TEST_CASE(
    "gap source: a gap heavier than its byte bound is too large, whatever "
    "its count") {
  Rig rig;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  const std::string text(3000, 'x');
  auto item = [&](int id) {
    return R"({"id":")" + std::to_string(id) +
           R"(","time":"2026-11-28T12:00:00.000Z","service":"GitHub",)" +
           R"("project":"Nasqueron","group":"ops","type":"push","text":")" +
           text + R"(","link":""})";
  };
  Notification one;
  one.id = "3";
  one.service = "GitHub";
  one.project = "Nasqueron";
  one.group = "ops";
  one.type = "push";
  one.text = text;
  one.time = "2026-11-28T12:00:00.000Z";
  // Room for three such items, not four.
  UpstreamGapSource gaps = rig.Make(o, 3 * one.ByteSize() + 10);
  rig.http.PushJson(200, R"({"notifications":[)" + item(3) + "," + item(4) +
                             R"(],"cursor":"4","more":true})");
  rig.http.PushJson(200, R"({"notifications":[)" + item(5) + "," + item(6) +
                             R"(],"cursor":"6","more":true})");
  auto r = gaps.FetchAfter("2", "", 10000);
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == "more than " +
                                    std::to_string(3 * one.ByteSize() + 10) +
                                    " bytes of notifications missed");
  CHECK(gaps.requests() == 2);  // Stopped there: no third page.
  // Three fit.
  rig.http.PushJson(200, R"({"notifications":[)" + item(3) + "," + item(4) +
                             R"(],"cursor":"4","more":true})");
  rig.http.PushJson(200, R"({"notifications":[)" + item(5) +
                             R"(],"cursor":"5","more":false})");
  auto ok = gaps.FetchAfter("2", "", 10000);
  REQUIRE(ok.ok());
  CHECK(ok->size() == 3);
}

TEST_CASE("gap source: gone, too large and unavailable are told apart") {
  Rig rig;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  UpstreamGapSource gaps = rig.Make(o);
  rig.http.PushJson(410, "{}");
  CHECK(gaps.FetchAfter("1", "", 10).status().code() == Status::Code::kGone);
  rig.http.PushJson(
      200,
      R"({"notifications":[{"id":"3"},{"id":"4"}],"cursor":"4","more":true})");
  CHECK(gaps.FetchAfter("2", "", 1).status().code() ==
        Status::Code::kInvalidArgument);
  rig.http.PushError(HttpResponse::Error::kConnect);
  CHECK(gaps.FetchAfter("7", "", 10).status().code() ==
        Status::Code::kUnavailable);
}

TEST_CASE("gap source: pages past skipped items, which it leaves out") {
  Rig rig;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  UpstreamGapSource gaps = rig.Make(o);
  rig.http.PushJson(
      200, R"({"notifications":[{"id":"3"},{"id":"4","rawContent":1e400}],)"
           R"("cursor":"4","more":true})");
  rig.http.PushJson(
      200, R"({"notifications":[{"id":"5"}],"cursor":"5","more":false})");
  auto r = gaps.FetchAfter("2", "", 100);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[1].id == "5");
  CHECK(rig.http.requests()[1].url.find("after=4") != std::string::npos);
}

TEST_CASE(
    "gap source: fetches run at once on clients of their own; Stop() ends "
    "them") {
  // Before: one mutex around every fetch, so a resume from a hanging range
  // made every other resume wait for it.
  Rig rig;
  UpstreamGapSource gaps = rig.Make(Options());
  rig.http.PushHang();
  Result<std::vector<Notification>> hung = Status::Unavailable("not run");
  std::thread slow([&] { hung = gaps.FetchAfter("1", "", 100); });
  rig.http.WaitForHanging(1);
  rig.http.PushJson(
      200, R"({"notifications":[{"id":"6"}],"cursor":"6","more":false})");
  auto quick = gaps.FetchAfter("5", "", 100);  // While the first one hangs.
  REQUIRE(quick.ok());
  CHECK(quick->size() == 1);
  CHECK(rig.clients_made == 2);
  gaps.Stop();
  slow.join();
  CHECK(hung.status().code() == Status::Code::kUnavailable);
  CHECK(hung.status().message() == "the bridge is stopping");
  // After Stop(), nothing reaches upstream.
  size_t before = rig.http.requests().size();
  CHECK(gaps.FetchAfter("5", "", 100).status().code() ==
        Status::Code::kUnavailable);
  CHECK(rig.http.requests().size() == before);
}

}  // namespace
}  // namespace notifications
