#include "sse_output.h"

namespace notifications {

void SseOutput::AppendFrame(const HubEventPtr& event) {
  if (!event || event->frame.empty()) return;
  bytes_ += event->frame.size();
  Piece p;
  p.event = event;
  pieces_.push_back(std::move(p));
}

void SseOutput::AppendBorrowed(const HubEventPtr& event) {
  if (!event || event->frame.empty()) return;
  bytes_ += event->frame.size();
  Piece p;
  p.borrowed = &event;
  pieces_.push_back(std::move(p));
}

void SseOutput::AppendBytes(std::string bytes) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  Piece p;
  p.bytes = std::move(bytes);
  pieces_.push_back(std::move(p));
}

void SseOutput::Clear() {
  pieces_.clear();
  bytes_ = 0;
}

std::string SseOutput::ToString() const {
  std::string out;
  out.reserve(bytes_);
  for (const Piece& p : pieces_) out.append(p.view());
  return out;
}

}  // namespace notifications
