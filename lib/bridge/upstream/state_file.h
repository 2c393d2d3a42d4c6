// StateFile: the bridge's cursor on disk, so a restart resumes where the
// last run stopped: it neither re-streams old notifications as new nor
// skips any.
//
// Format (text, two lines):
//   notifications-bridge state v1\n
//   cursor <id>\n          (<id> empty: start from the oldest upstream item)
//
// Save() is atomic: it writes a temporary file it creates exclusively in
// PATH's directory (".NAME.XXXXXX", mkostemp: never a fixed name, so a
// symlink planted there cannot redirect the write), fsyncs it, renames it
// over PATH and fsyncs the directory, so a crash leaves either the old or
// the new state, never a torn one (at worst a stray ".NAME.XXXXXX").
// Not thread-safe: the poller thread is its only user.
#pragma once

#include <optional>
#include <string>

#include "status.h"

namespace notifications {

class StateFile {
 public:
  explicit StateFile(std::string path);

  // The saved cursor; nullopt when the file does not exist (a fresh start)
  // or holds no cursor. A file that exists but cannot be read or parsed is
  // Status::Code::kDataLoss, with the path and what to do.
  Result<std::optional<std::string>> Load() const;

  // Replaces the saved cursor (nullopt: start from the oldest next time).
  Status Save(const std::optional<std::string>& cursor);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace notifications
