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
    HubEventPtr event;                      // Its frame, when set; or
    const HubEventPtr* borrowed = nullptr;  // that one's frame; or
    std::string bytes;                      // these bytes.
    std::string_view view() const {
      if (borrowed) return (*borrowed)->frame;
      return event ? std::string_view(event->frame) : std::string_view(bytes);
    }
    // The event whose frame this is (null for bytes): a reference the
    // caller may keep.
    HubEventPtr owner() const { return borrowed ? *borrowed : event; }
  };

  // Appends `event`'s frame (a notification's; shared, not copied).
  void AppendFrame(const HubEventPtr& event);
  // Same, without even taking a reference: `event` (the pointer itself, an
  // element of the caller's vector) must outlive every use of this output.
  // For the live path, where a batch read from the hub is written to many
  // streams at once: no reference-count traffic per stream.
  void AppendBorrowed(const HubEventPtr& event);
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
