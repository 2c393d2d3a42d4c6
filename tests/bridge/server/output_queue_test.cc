#include "output_queue.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace notifications {
namespace {

struct Pair {
  Pair() {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  std::string ReadAll() {
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  int fds[2];
};

TEST_CASE(
    "output queue: owned and shared pieces go out in order, shared ones "
    "uncopied") {
  auto frame = std::make_shared<const std::string>("id: 1\ndata: x\n\n");
  OutputQueue q;
  q.AppendOwned("f\r\n");
  q.AppendShared(frame);
  q.AppendOwned("\r\n");
  q.AppendOwned("");
  q.AppendShared(std::make_shared<const std::string>());
  CHECK(q.segments() == 3);
  CHECK(q.bytes() == 3 + frame->size() + 2);
  CHECK(q.ToString() == "f\r\nid: 1\ndata: x\n\n\r\n");
  CHECK(frame.use_count() == 2);  // The queue shares it.
  Pair p;
  size_t written = 0;
  CHECK(q.WriteTo(p.fds[0], &written) == OutputQueue::Write::kDone);
  CHECK(written == 3 + frame->size() + 2);
  CHECK(q.empty());
  CHECK(frame.use_count() == 1);  // Released once written.
  CHECK(p.ReadAll() == "f\r\nid: 1\ndata: x\n\n\r\n");
}

TEST_CASE(
    "output queue: a full socket keeps the rest, which resumes where it "
    "stopped") {
  Pair p;
  int small = 4096;
  REQUIRE(::setsockopt(p.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small) ==
          0);
  OutputQueue q;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    std::string piece(1000, static_cast<char>('a' + i % 26));
    expected += piece;
    if (i % 2) {
      q.AppendShared(std::make_shared<const std::string>(piece));
    } else {
      q.AppendOwned(piece);
    }
  }
  std::string got;
  OutputQueue::Write w = q.WriteTo(p.fds[0]);
  CHECK(w == OutputQueue::Write::kBlocked);
  CHECK(q.bytes() < expected.size());
  for (int i = 0; i < 1000 && w != OutputQueue::Write::kDone; ++i) {
    got += p.ReadAll();
    w = q.WriteTo(p.fds[0]);
  }
  got += p.ReadAll();
  CHECK(w == OutputQueue::Write::kDone);
  CHECK(got == expected);
}

TEST_CASE(
    "output queue: a closed peer is reported; TakeFrom moves what is left") {
  Pair p;
  OutputQueue a, b;
  a.AppendOwned("one");
  b.AppendOwned("two");
  b.AppendShared(std::make_shared<const std::string>("three"));
  a.TakeFrom(b);
  CHECK(b.empty());
  CHECK(b.segments() == 0);
  CHECK(a.ToString() == "onetwothree");
  ::close(p.fds[1]);
  p.fds[1] = ::socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK(a.WriteTo(p.fds[0]) == OutputQueue::Write::kClosed);
  a.Clear();
  CHECK(a.empty());
}

}  // namespace
}  // namespace notifications
