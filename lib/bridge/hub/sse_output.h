// SseOutput: the bytes a stream writes next, as pieces: hub events' SSE
// frames, shared (a HubEvent holds each notification's frame once, and a
// thousand streams writing it hold pointers to it, not copies), and small
// owned pieces (the preamble, comments, reset events, frames of a gap
// fetched for one stream).
//
// StreamSession appends to it; the server turns the pieces into its output
// queue (one HTTP chunk per batch) without copying the frames.
//
// A value type; not thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "event_hub.h"

namespace notifications {

class SseOutput {
 public:
  struct Piece {
    HubEventPtr event;  // Its frame, when set.
    std::string bytes;  // Otherwise.
    std::string_view view() const {
      return event ? std::string_view(event->frame) : std::string_view(bytes);
    }
  };

  // Appends `event`'s frame (a notification's; shared, not copied).
  void AppendFrame(const HubEventPtr& event);
  // Appends bytes of its own. Empty ones are ignored.
  void AppendBytes(std::string bytes);

  const std::vector<Piece>& pieces() const { return pieces_; }
  std::vector<Piece>& pieces() { return pieces_; }
  size_t bytes() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }
  // Forgets every piece (keeps the vector's capacity for reuse).
  void Clear();
  // Every byte, in order (for tests).
  std::string ToString() const;

 private:
  std::vector<Piece> pieces_;
  size_t bytes_ = 0;
};

}  // namespace notifications
