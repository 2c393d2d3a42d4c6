// StaticFiles: serves the web page from --public-dir, safely.
//
// Request paths (already percent-decoded by the HTTP layer) are mapped to
// files under the root with no way out: ".." segments, NUL, backslashes and
// hidden segments (".git") are refused, and the resolved real path (after
// symlinks) must still lie inside the root's real path. Files are read
// whole per request (the page is a handful of small files).
//
// Thread-safe: no mutable state after construction.
#pragma once

#include <string>

#include "status.h"

namespace notifications {

struct StaticFile {
  std::string content_type;
  std::string body;
  std::string etag;  // Quoted, from size and modification time.
};

class StaticFiles {
 public:
  // `root` may be empty: every lookup is then kNotFound.
  explicit StaticFiles(std::string root);

  // The file for `request_path` ("/" and "/dir/" map to index.html).
  // kNotFound for missing or refused paths (refusals are not told apart:
  // a probe learns nothing).
  Result<StaticFile> Load(const std::string& request_path) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;       // As given.
  std::string real_root_;  // realpath(root_), "" when unusable.
};

// Pure part of Load: the relative path for `request_path`, or kNotFound.
// Exposed for tests.
Result<std::string> RelativeStaticPath(const std::string& request_path);

// Content-Type for a file name, by extension (UTF-8 for text types).
std::string ContentTypeFor(const std::string& path);

}  // namespace notifications
