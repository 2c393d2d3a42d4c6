// StaticFiles: serves the web page from --public-dir, safely and cheaply.
//
// Request paths (already percent-decoded by the HTTP layer) are mapped to
// files under the root with no way out: ".." segments, NUL, backslashes and
// hidden segments (".git") are refused, and the resolved real path (after
// symlinks) must still lie inside the root's real path.
//
// Each file is read, and compressed with gzip when that is worth it, once:
// on first use. Later requests cost one stat() (a file changed on disk is
// read again) and share the cached bytes; nothing is read or compressed per
// request. Misses are not cached (a probe of random paths costs a few
// system calls and no memory).
//
// Thread-safe (the server loops share one instance).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "status.h"

namespace notifications {

struct StaticFile {
  std::string content_type;
  std::shared_ptr<const std::string> body;
  std::string etag;  // Quoted, from size and modification time.
  // The body compressed with gzip (level 9), or null when the type does
  // not compress (images) or gzip does not make it smaller.
  std::shared_ptr<const std::string> gzip_body;
  std::string gzip_etag;  // Another representation, another ETag.
  // Whether the answer depends on Accept-Encoding (Vary).
  bool compressible = false;
};

class StaticFiles {
 public:
  // `root` may be empty: every lookup is then kNotFound.
  explicit StaticFiles(std::string root);
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  // The file for `request_path` ("/" and "/dir/" map to index.html).
  // kNotFound for missing or refused paths (refusals are not told apart:
  // a probe learns nothing). The result is shared and immutable.
  Result<std::shared_ptr<const StaticFile>> Load(
      const std::string& request_path) const;

  const std::string& root() const { return root_; }
  // Files read from disk so far (each change on disk counts again).
  size_t loads() const;

 private:
  struct Entry {
    std::string real_path;
    long long size = 0;
    long long mtime_ns = 0;
    std::shared_ptr<const StaticFile> file;
  };

  std::string root_;       // As given.
  std::string real_root_;  // realpath(root_), "" when unusable.
  mutable std::mutex mu_;
  // guarded by mu_:
  mutable std::unordered_map<std::string, Entry> cache_;  // By relative path.
  mutable size_t loads_ = 0;
};

// Pure part of Load: the relative path for `request_path`, or kNotFound.
// Exposed for tests.
Result<std::string> RelativeStaticPath(const std::string& request_path);

// Content-Type for a file name, by extension (UTF-8 for text types).
std::string ContentTypeFor(const std::string& path);

// Whether an Accept-Encoding value accepts gzip (RFC 9110 12.5.3): "gzip"
// or "x-gzip", else "*", with a q-value above 0. "" accepts nothing.
bool AcceptsGzip(std::string_view accept_encoding);

// `data` compressed as a gzip member (RFC 1952), level 9; "" on failure.
std::string GzipCompress(std::string_view data);

// Whether an If-None-Match value matches `etag` (weak comparison, RFC 9110
// 13.1.2: a list of entity-tags, W/ ignored, or "*").
bool EtagMatches(std::string_view if_none_match, const std::string& etag);

}  // namespace notifications
