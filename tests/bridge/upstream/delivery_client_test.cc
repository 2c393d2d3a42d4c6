#include "delivery_client.h"

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

const char* kPage =
    R"({"notifications":[{"id":"1","service":"GitHub","project":"Nasqueron",)"
    R"("group":"ops","type":"push","text":"a","link":"https:\/\/x"}],"cursor":"1","more":true})";

TEST_CASE("delivery client: builds the page URL and sends the token") {
  FakeHttpClient http;
  DeliveryOptions o = Options();
  o.token = "s3cret";
  DeliveryClient client(http, o);
  http.PushJson(200, kPage);
  FetchResult r = client.FetchPage(std::string("0"));
  CHECK(r.error == FetchError::kNone);
  REQUIRE(http.requests().size() == 1);
  HttpRequest req = http.requests()[0];
  CHECK(req.url == "http://api.test/delivery/notifications?limit=50&after=0");
  CHECK(req.headers.at("Authorization") == "Bearer s3cret");
  CHECK(client.PageUrl(std::nullopt) == "http://api.test/delivery/notifications?limit=50");
  CHECK(r.page.more);
  REQUIRE(r.page.notifications.size() == 1);
  CHECK(*r.page.notifications[0].link == "https://x");
}

TEST_CASE("delivery client: classifies every failure") {
  FakeHttpClient http;
  DeliveryClient client(http, Options());
  struct Case {
    std::function<void()> push;
    FetchError expected;
  };
  std::vector<Case> cases = {
      {[&] { http.PushError(HttpResponse::Error::kConnect); },
       FetchError::kConnect},
      {[&] { http.PushError(HttpResponse::Error::kTimeout); },
       FetchError::kTimeout},
      {[&] { http.PushError(HttpResponse::Error::kTooLarge); },
       FetchError::kTooLarge},
      {[&] { http.PushError(HttpResponse::Error::kTransport); },
       FetchError::kTransport},
      {[&] { http.PushJson(410, R"({"error":"gone","message":"x"})"); },
       FetchError::kGone},
      {[&] { http.PushJson(401, "{}"); }, FetchError::kUnauthorized},
      {[&] { http.PushJson(400, "{}"); }, FetchError::kHttpClient},
      {[&] { http.PushJson(503, "busy"); }, FetchError::kHttpServer},
      {[&] { http.PushJson(302, ""); }, FetchError::kRedirect},
      {[&] { http.PushJson(204, ""); }, FetchError::kHttpServer},
      {[&] { http.PushError(HttpResponse::Error::kNoFileDescriptors); },
       FetchError::kOutOfFds},
      {[&] { http.PushJson(200, "{\"notifications\":["); },
       FetchError::kMalformed},
      {[&] {
         http.PushJson(
             200, R"({"notifications":[{"id":"2"},{"id":"1"}],"cursor":"1"})");
       },
       FetchError::kMalformed},
      {[&] {
         HttpResponse r;
         r.status = 200;
         r.content_type = "text/html";
         r.body = "<html>";
         http.Push(r);
       },
       FetchError::kNotJson},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    cases[i].push();
    FetchResult r = client.FetchPage(std::nullopt);
    CHECK(r.error == cases[i].expected);
    CHECK(!r.message.empty());
  }
}

TEST_CASE("delivery client: error messages carry the API's explanation") {
  FakeHttpClient http;
  DeliveryClient client(http, Options());
  http.PushJson(410, R"({"error":"gone","message":"cursor 5 is no longer retained"})");
  FetchResult r = client.FetchPage(std::string("5"));
  CHECK(r.message.find("410") != std::string::npos);
  CHECK(r.message.find("no longer retained") != std::string::npos);
}

TEST_CASE(
    "delivery client: a 3xx is its own kind, naming the target without "
    "credentials") {
  FakeHttpClient http;
  DeliveryClient client(http, Options());
  http.PushRedirect(301,
                    "https://user:pw@api.example/delivery/notifications\r\nX");
  FetchResult r = client.FetchPage(std::nullopt);
  CHECK(r.error == FetchError::kRedirect);
  CHECK(std::string(FetchErrorName(r.error)) == "http_3xx");
  CHECK(r.message ==
        "HTTP 301 redirect to https://api.example/delivery/notifications??X, "
        "not followed: set --delivery-url to the API's own URL");
}

TEST_CASE(
    "delivery client: a cancelled request is marked so, not an upstream "
    "failure") {
  FakeHttpClient http;
  DeliveryClient client(http, Options());
  CancelToken token;
  token.Cancel();
  FetchResult r = client.FetchPage(std::nullopt, false, &token);
  CHECK(r.cancelled);
  REQUIRE(http.requests().size() == 1);
  CHECK(http.requests()[0].cancel == &token);
}

TEST_CASE(
    "delivery client: drops rawContent and skips oversized items as told") {
  FakeHttpClient http;
  DeliveryOptions o = Options();
  o.keep_raw_content = false;
  o.max_item_bytes = 100;
  DeliveryClient client(http, o);
  http.PushJson(200, R"({"notifications":[{"id":"1","rawContent":{"a":1}},)"
                     R"({"id":"2","text":")" +
                         std::string(200, 'x') + R"("}],"cursor":"2"})");
  FetchResult r = client.FetchPage(std::nullopt);
  REQUIRE(r.error == FetchError::kNone);
  REQUIRE(r.page.notifications.size() == 1);
  CHECK_FALSE(r.page.notifications[0].raw_content.has_value());
  REQUIRE(r.page.skipped.size() == 1);
  CHECK(r.page.skipped[0].id == "2");
}

TEST_CASE("delivery client: JSON with parameters or +json is accepted") {
  FakeHttpClient http;
  DeliveryClient client(http, Options());
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/json; charset=utf-8";
  r.body = kPage;
  http.Push(r);
  CHECK(client.FetchPage(std::nullopt).error == FetchError::kNone);
}

}  // namespace
}  // namespace notifications
