// OutputQueue: the bytes a connection has yet to write, as a queue of
// segments that are either owned (a response head, a chunk header, a
// comment) or shared (a hub event's SSE frame, a cached static file),
// written with one sendmsg() per call over up to 64 segments (writev).
// A shared segment is never copied: a thousand streams that have not yet
// taken the same frame hold one copy of it between them.
//
// Not thread-safe: one queue belongs to one connection on one loop thread.
// An empty queue holds no heap memory beyond its vector's capacity (which
// Shrink() returns).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace notifications {

class OutputQueue {
 public:
  OutputQueue() = default;
  OutputQueue(OutputQueue&&) = default;
  OutputQueue& operator=(OutputQueue&&) = default;

  // Appends bytes the queue owns. Empty strings are ignored.
  void AppendOwned(std::string bytes);
  // Appends bytes someone else owns, kept alive by `owner` (an aliasing
  // shared_ptr: e.g. a HubEvent's frame). Empty ones are ignored.
  void AppendShared(std::shared_ptr<const std::string> bytes);
  // Moves every segment of `other` (what it has not written) to the end of
  // this queue; `other` is left empty.
  void TakeFrom(OutputQueue& other);

  enum class Write {
    kDone,     // Everything was written: the queue is empty.
    kBlocked,  // The socket took what it could (maybe nothing); the rest waits.
    kClosed,   // The peer is gone or the socket failed: drop the connection.
  };
  // Writes from the front, without blocking (MSG_DONTWAIT, MSG_NOSIGNAL),
  // until everything is written or the socket is full. `*written` (when
  // given) gets the bytes written by this call.
  Write WriteTo(int fd, size_t* written = nullptr);

  size_t bytes() const { return bytes_; }  // Not yet written.
  bool empty() const { return bytes_ == 0; }
  size_t segments() const { return segments_.size() - head_; }
  // Drops everything.
  void Clear();
  // Returns the vector's memory when it grew past a few segments.
  void Shrink();
  // Every byte not yet written, in order (for tests).
  std::string ToString() const;

 private:
  struct Segment {
    std::shared_ptr<const std::string> shared;  // Null for owned bytes.
    std::string owned;
    size_t offset = 0;  // Bytes of it already written.
    std::string_view view() const {
      const std::string& s = shared ? *shared : owned;
      return std::string_view(s).substr(offset);
    }
  };

  std::vector<Segment> segments_;
  size_t head_ = 0;  // First segment not fully written.
  size_t bytes_ = 0;
};

}  // namespace notifications
