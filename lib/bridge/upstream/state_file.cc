#include "state_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "notification.h"

namespace notifications {

namespace {

constexpr const char* kHeader = "notifications-bridge state v1";

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Error(Status::Code::kDataLoss,
                       "state file " + path + " is unusable (" + why +
                           "): fix or delete it, or start once with "
                           "--reset-state to begin from the oldest "
                           "notification the delivery API retains");
}

std::string Errno() { return std::strerror(errno); }

}  // namespace

StateFile::StateFile(std::string path) : path_(std::move(path)) {}

Result<std::optional<std::string>> StateFile::Load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Corrupt(path_, "cannot read it: " + Errno());
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > 4096) return Corrupt(path_, "too large");
  std::string expected = std::string(kHeader) + "\ncursor ";
  if (text.compare(0, expected.size(), expected) != 0) {
    return Corrupt(path_, "it does not start with \"" + std::string(kHeader) + "\"");
  }
  if (text.back() != '\n') return Corrupt(path_, "it is truncated");
  std::string cursor = text.substr(expected.size(), text.size() - expected.size() - 1);
  if (cursor.empty()) return std::optional<std::string>();
  if (!IsValidId(cursor)) return Corrupt(path_, "its cursor is not a valid id");
  return std::optional<std::string>(cursor);
}

Status StateFile::Save(const std::optional<std::string>& cursor) {
  std::string text = std::string(kHeader) + "\ncursor " + cursor.value_or("") + "\n";
  // A temporary name of our own, created exclusively (mkostemp: O_CREAT |
  // O_EXCL, mode 0600) in the same directory: nothing planted there (a
  // symlink to a file we must not write, a file of someone else's) is ever
  // opened, and the rename stays within one file system.
  size_t slash = path_.rfind('/');
  std::string dir =
      slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  std::string base =
      slash == std::string::npos ? path_ : path_.substr(slash + 1);
  std::string tmp =
      (slash == std::string::npos ? "" : dir) + "." + base + ".XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    return Status::Unavailable(
        "cannot create a temporary file beside state file " + path_ + ": " +
        Errno());
  }
  auto fail = [&](const std::string& what) {
    std::string why = Errno();
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Unavailable(what + " " + tmp + ": " + why);
  };
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write state file");
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync state file");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("cannot sync state file");
  // rename() replaces the directory entry PATH, even a symlink planted
  // there: it never writes through it.
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::string why = Errno();
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot replace state file " + path_ + ": " +
                               why);
  }
  // The rename itself must reach the disk too.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace notifications
