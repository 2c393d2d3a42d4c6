// TailClient over a scripted HttpStream: what it asks, what it prints, when
// it reconnects, how it ends. No network.
#include "tail_client.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "env_guard.h"
#include "fakes.h"
#include "hostile_text.h"
#include "tail_sinks.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using End = HttpStreamResult::End;
using testing::CapturedSinks;
using testing::EnvGuard;

const char kUrl[] = "http://bridge.test/events";

TailOptions Options(bool once = false) {
  TailOptions o;
  o.url = kUrl;
  o.stream_url = std::string(kUrl) + "?service=Jenkins";
  o.once = once;
  o.json = true;
  return o;
}

// One notification event as the bridge frames it.
std::string Frame(const std::string& id) {
  return "id: " + id + "\nevent: notification\ndata: {\"id\":\"" + id +
         "\"}\n\n";
}

const std::string* Header(const HttpStreamRequest& request,
                          const std::string& name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

TEST_CASE("tail client: asks for an event stream and prints its events") {
  FakeHttpStream stream;
  stream.PushStream({"retry: 1500\n", Frame("1-1"), Frame("1-2").substr(0, 9),
                     Frame("1-2").substr(9)});
  CapturedSinks c;
  TailClient client(Options(/*once=*/true), c.sinks(), stream);
  CHECK(client.Run().ok());  // --once: the bridge ended the stream cleanly.
  CHECK(c.out() ==
        std::vector<std::string>{R"({"id":"1-1"})", R"({"id":"1-2"})"});
  CHECK(c.err().empty());
  std::vector<HttpStreamRequest> requests = stream.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].url == "http://bridge.test/events?service=Jenkins");
  REQUIRE(Header(requests[0], "Accept") != nullptr);
  CHECK(*Header(requests[0], "Accept") == "text/event-stream");
  CHECK(*Header(requests[0], "Cache-Control") == "no-cache");
  CHECK(Header(requests[0], "Last-Event-ID") == nullptr);
  CHECK(requests[0].user_agent.rfind("notifications-tail/", 0) == 0);
  CHECK(requests[0].connect_timeout == 10000ms);
  CHECK(requests[0].idle_timeout == 60000ms);
}

TEST_CASE("tail client: a stream token in the URL is never printed") {
  TailOptions o = Options();
  o.url = "http://u:pw@bridge.test/events?access_token=s3cret";
  o.stream_url = o.url;  // display_url left out: the client redacts.
  SUBCASE("refused") {
    FakeHttpStream stream;
    CapturedSinks c;
    TailClient client(o, c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.message().rfind(
              "cannot connect to http://bridge.test/events?access_token=***: ",
              0) == 0);
    CHECK(status.message().find("s3cret") == std::string::npos);
    CHECK(status.message().find("pw") == std::string::npos);
  }
  SUBCASE("rejected") {
    FakeHttpStream stream;
    FakeHttpStream::Response r;
    r.status = 401;
    r.content_type = "application/json";
    r.chunks = {R"({"error":"unauthorized","message":"wrong token"})"};
    stream.Push(r);
    CapturedSinks c;
    TailClient client(o, c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.message() ==
          "http://bridge.test/events?access_token=*** answered HTTP 401: "
          "unauthorized: wrong token");
  }
}

TEST_CASE("tail client: the first connection's failures end Run() at once") {
  SUBCASE("refused") {
    FakeHttpStream stream;  // Nothing scripted: refused.
    CapturedSinks c;
    TailClient client(Options(), c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.code() == Status::Code::kUnavailable);
    CHECK(status.message() ==
          "cannot connect to http://bridge.test/events: Failed to connect: "
          "Couldn't connect to server (Connection refused)");
    CHECK(stream.requests().size() == 1);
    CHECK(c.err().empty());
  }
  SUBCASE("not a stream") {
    FakeHttpStream stream;
    FakeHttpStream::Response r;
    r.status = 401;
    r.content_type = "application/json";
    r.chunks = {R"({"error":"unauthorized",)", R"("message":"wrong token"})"};
    stream.Push(r);
    CapturedSinks c;
    TailClient client(Options(), c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.code() == Status::Code::kInvalidArgument);
    CHECK(status.message() ==
          "http://bridge.test/events answered HTTP 401: unauthorized: wrong "
          "token");
  }
  SUBCASE("silent") {
    FakeHttpStream stream;
    FakeHttpStream::Response r;
    r.status = 0;
    r.end = End::kIdle;
    stream.Push(r);
    CapturedSinks c;
    TailOptions o = Options();
    o.idle_timeout = 2500ms;
    TailClient client(o, c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.code() == Status::Code::kUnavailable);
    CHECK(status.message() ==
          "no answer from http://bridge.test/events in 2.5 s");
  }
}

TEST_CASE(
    "tail client: a drop is resumed with Last-Event-ID, without repeats") {
  FakeHttpStream stream;
  // retry: 0 so that the reconnection does not wait.
  stream.PushStream({"retry: 0\n", Frame("1-1"), Frame("1-2")}, End::kFailed,
                    "Recv failure: Connection reset by peer");
  stream.PushStream({Frame("1-2"), Frame("1-3")});  // 1-2 again: overlap.
  FakeHttpStream::Response last;
  last.hold = true;
  stream.Push(last);
  CapturedSinks c;
  TailClient client(Options(), c.sinks(), stream);
  Status status = Status::Unavailable("not run");
  std::thread runner([&] { status = client.Run(); });
  // Waits for the third connection, then stops.
  for (int i = 0; i < 500 && stream.requests().size() < 3; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  client.Stop();
  runner.join();
  CHECK(status.ok());
  CHECK(c.out() == std::vector<std::string>{R"({"id":"1-1"})",
                                            R"({"id":"1-2"})",
                                            R"({"id":"1-3"})"});
  std::vector<HttpStreamRequest> requests = stream.requests();
  REQUIRE(requests.size() == 3);
  CHECK(Header(requests[0], "Last-Event-ID") == nullptr);
  REQUIRE(Header(requests[1], "Last-Event-ID") != nullptr);
  CHECK(*Header(requests[1], "Last-Event-ID") == "1-2");
  CHECK(*Header(requests[2], "Last-Event-ID") == "1-3");
  CHECK(c.err() ==
        std::vector<std::string>{
            "stream interrupted: Recv failure: Connection reset by peer; "
            "reconnecting in 0.0 s",
            "reconnected, resuming after 1-2",
            "skipped notification 1-2: already printed (last 1-2)",
            "the bridge ended the stream; reconnecting in 0.0 s",
            "reconnected, resuming after 1-3"});
}

TEST_CASE("tail client: Stop() ends a Run() waiting on an open stream") {
  FakeHttpStream stream;
  FakeHttpStream::Response open;
  open.chunks = {Frame("1-1")};
  open.hold = true;
  stream.Push(open);
  CapturedSinks c;
  TailClient client(Options(), c.sinks(), stream);
  Status status = Status::Unavailable("not run");
  std::thread runner([&] { status = client.Run(); });
  CHECK(c.WaitForOut(1, 5s));
  client.Stop();
  runner.join();
  CHECK(status.ok());
  // Stop() before Run(): Run() returns at once, without a request.
  FakeHttpStream other;
  TailClient stopped(Options(), c.sinks(), other);
  stopped.Stop();
  CHECK(stopped.Run().ok());
  CHECK(other.requests().empty());
}

TEST_CASE("tail client: --once reports a broken stream, and output failures") {
  {
    FakeHttpStream stream;
    stream.PushStream({Frame("1-1")}, End::kFailed, "transfer closed");
    CapturedSinks c;
    TailClient client(Options(/*once=*/true), c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.code() == Status::Code::kUnavailable);
    CHECK(status.message() == "stream interrupted: transfer closed");
  }
  {
    FakeHttpStream stream;
    stream.PushStream({Frame("1-1"), Frame("1-2")});
    CapturedSinks c;
    c.FailOutput();
    TailClient client(Options(/*once=*/true), c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.code() == Status::Code::kInternal);
    CHECK(status.message() ==
          "cannot write the output (standard output closed?)");
    CHECK(c.out().size() == 1);  // The transfer stopped at the failure.
  }
  {
    FakeHttpStream stream;
    stream.PushStream({Frame("1-1")}, End::kIdle);
    CapturedSinks c;
    TailOptions o = Options(/*once=*/true);
    o.idle_timeout = 700ms;
    TailClient client(o, c.sinks(), stream);
    Status status = client.Run();
    CHECK(status.message() ==
          "stream silent for 0.7 s (not even a heartbeat): taken as dead");
  }
}

TEST_CASE("tail client: prints lines in the text format by default") {
  EnvGuard tz("TZ", "UTC");
  FakeHttpStream stream;
  stream.PushStream(
      {"id: 1-1\nevent: notification\ndata: "
       R"({"id":"1-1","time":"2026-11-28T12:00:00Z","project":"Nasqueron",)"
       R"("group":"ops","text":"hello","link":""})"
       "\n\n"});
  CapturedSinks c;
  TailOptions o = Options(/*once=*/true);
  o.json = false;
  TailClient client(o, c.sinks(), stream);
  CHECK(client.Run().ok());
  CHECK(c.out() ==
        std::vector<std::string>{"[Nov 28 12:00:00] <Nasqueron/ops> hello"});
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

using testing::HostileStrings;
using testing::IsTerminalSafe;

TEST_CASE(
    "tail client: notices and errors carry no control or bidi "
    "character from the network") {
  for (const std::string& hostile : HostileStrings()) {
    CAPTURE(hostile);
    {
      FakeHttpStream stream;
      FakeHttpStream::Response r;
      r.content_type = "text/html" + hostile;
      stream.Push(r);
      CapturedSinks c;
      TailClient client(Options(), c.sinks(), stream);
      Status status = client.Run();
      CHECK(status.code() == Status::Code::kInvalidArgument);
      CHECK(IsTerminalSafe(status.message()));
    }
    {
      FakeHttpStream stream;
      FakeHttpStream::Response r;
      r.status = 401;
      r.content_type = "application/json";
      r.chunks = {R"({"error":"x)" + hostile + R"(","message":")" + hostile +
                  R"("})"};
      stream.Push(r);
      CapturedSinks c;
      TailClient client(Options(), c.sinks(), stream);
      Status status = client.Run();
      CHECK(IsTerminalSafe(status.message()));
    }
    {
      // A hostile id and a hostile transfer error, then a resumed stream.
      FakeHttpStream stream;
      std::string id = "1-" + hostile;
      for (char& ch : id) {
        if (ch == '\r' || ch == '\n') ch = ' ';  // SSE fields hold no line end.
      }
      stream.PushStream(
          {"retry: 0\nid: " + id + "\nevent: notification\ndata: {}\n\n"},
          End::kFailed, "reset " + hostile);
      FakeHttpStream::Response last;
      last.hold = true;
      stream.Push(last);
      CapturedSinks c;
      TailClient client(Options(), c.sinks(), stream);
      std::thread runner([&] { (void)client.Run(); });
      for (int i = 0; i < 500 && c.err().size() < 2; ++i) {
        std::this_thread::sleep_for(10ms);
      }
      client.Stop();
      runner.join();
      REQUIRE(c.err().size() == 2);
      for (const std::string& line : c.err()) CHECK(IsTerminalSafe(line));
      CHECK(c.err()[1].rfind("reconnected, resuming after 1-", 0) == 0);
    }
  }
}

}  // namespace
}  // namespace notifications
