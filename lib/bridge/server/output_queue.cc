#include "output_queue.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace notifications {

namespace {

// Segments per sendmsg(): a live batch is a chunk header, its frames and a
// CRLF; 64 covers a batch of 62 frames in one call (IOV_MAX is 1024).
constexpr size_t kMaxIov = 64;

}  // namespace

void OutputQueue::AppendOwned(std::string bytes) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  Segment s;
  s.owned = std::move(bytes);
  segments_.push_back(std::move(s));
}

void OutputQueue::AppendShared(std::shared_ptr<const std::string> bytes) {
  if (!bytes || bytes->empty()) return;
  bytes_ += bytes->size();
  Segment s;
  s.shared = std::move(bytes);
  segments_.push_back(std::move(s));
}

void OutputQueue::TakeFrom(OutputQueue& other) {
  for (size_t i = other.head_; i < other.segments_.size(); ++i) {
    segments_.push_back(std::move(other.segments_[i]));
  }
  bytes_ += other.bytes_;
  other.segments_.clear();
  other.head_ = 0;
  other.bytes_ = 0;
}

OutputQueue::Write OutputQueue::WriteTo(int fd, size_t* written) {
  if (written) *written = 0;
  while (bytes_ > 0) {
    iovec iov[kMaxIov];
    size_t n = 0;
    size_t offered = 0;
    for (size_t i = head_; i < segments_.size() && n < kMaxIov; ++i, ++n) {
      std::string_view v = segments_[i].view();
      iov[n].iov_base = const_cast<char*>(v.data());
      iov[n].iov_len = v.size();
      offered += v.size();
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    ssize_t sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Write::kBlocked;
      return Write::kClosed;
    }
    auto left = static_cast<size_t>(sent);
    if (written) *written += left;
    bytes_ -= left;
    while (left > 0) {
      Segment& s = segments_[head_];
      size_t size = s.view().size();
      if (left < size) {
        s.offset += left;
        break;
      }
      left -= size;
      s = Segment{};  // Release a shared frame as soon as it is written.
      ++head_;
    }
    if (head_ == segments_.size()) {
      segments_.clear();
      head_ = 0;
    } else if (head_ >= 32 && 2 * head_ >= segments_.size()) {
      // A queue that is never empty must not grow with written segments.
      segments_.erase(segments_.begin(),
                      segments_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    // A short write means the socket buffer is full: asking again would
    // only return EAGAIN.
    if (static_cast<size_t>(sent) < offered) return Write::kBlocked;
  }
  return Write::kDone;
}

void OutputQueue::Clear() {
  segments_.clear();
  head_ = 0;
  bytes_ = 0;
}

void OutputQueue::Shrink() {
  if (head_ > 0) {
    segments_.erase(segments_.begin(),
                    segments_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  if (segments_.capacity() > 16 &&
      segments_.size() < segments_.capacity() / 4) {
    segments_.shrink_to_fit();
  }
}

std::string OutputQueue::ToString() const {
  std::string out;
  out.reserve(bytes_);
  for (size_t i = head_; i < segments_.size(); ++i) {
    out.append(segments_[i].view());
  }
  return out;
}

}  // namespace notifications
