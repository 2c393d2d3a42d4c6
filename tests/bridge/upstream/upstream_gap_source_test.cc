#include "upstream_gap_source.h"

#include <doctest/doctest.h>

#include "fakes.h"

namespace notifications {
namespace {

DeliveryOptions Options() {
  DeliveryOptions o;
  o.base_url = "http://api.test/delivery/";
  o.page_limit = 50;
  return o;
}

TEST_CASE("gap source: pages until the stop id and caches for a storm") {
  FakeHttpClient http;
  FakeClock clock;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  DeliveryClient client(http, o);
  UpstreamGapSource gaps(client, clock);
  http.PushJson(
      200,
      R"({"notifications":[{"id":"3"},{"id":"4"}],"cursor":"4","more":true})");
  http.PushJson(
      200,
      R"({"notifications":[{"id":"5"},{"id":"6"}],"cursor":"6","more":true})");
  auto r = gaps.FetchAfter("2", "5", 100);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[2].id == "5");
  CHECK(!(*r)[0].time.empty());  // Stamped when upstream gave no time.
  CHECK(gaps.requests() == 2);
  // 999 other clients with the same Last-Event-ID: no more requests.
  for (int i = 0; i < 999; ++i) CHECK(gaps.FetchAfter("2", "5", 100).ok());
  CHECK(gaps.requests() == 2);
  clock.Advance(std::chrono::seconds(3));  // Cache expired.
  http.PushJson(200, R"({"notifications":[],"cursor":"2","more":false})");
  CHECK(gaps.FetchAfter("2", "5", 100).ok());
  CHECK(gaps.requests() == 3);
}

TEST_CASE("gap source: gone, too large and unavailable are told apart") {
  FakeHttpClient http;
  FakeClock clock;
  DeliveryOptions o = Options();
  o.page_limit = 2;
  DeliveryClient client(http, o);
  UpstreamGapSource gaps(client, clock);
  http.PushJson(410, "{}");
  CHECK(gaps.FetchAfter("1", "", 10).status().code() == Status::Code::kGone);
  http.PushJson(
      200,
      R"({"notifications":[{"id":"3"},{"id":"4"}],"cursor":"4","more":true})");
  CHECK(gaps.FetchAfter("2", "", 1).status().code() ==
        Status::Code::kInvalidArgument);
  http.PushError(HttpResponse::Error::kConnect);
  CHECK(gaps.FetchAfter("7", "", 10).status().code() ==
        Status::Code::kUnavailable);
}

}  // namespace
}  // namespace notifications
