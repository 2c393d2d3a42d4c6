#include "static_files.h"

#include <sys/stat.h>
#include <zlib.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace notifications {

namespace {

Status NotFound() {
  return Status::Error(Status::Code::kNotFound, "not found");
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) return "";
  return buf;
}

bool EndsWith(const std::string& s, const char* suffix) {
  std::string x(suffix);
  return s.size() >= x.size() &&
         s.compare(s.size() - x.size(), x.size(), x) == 0;
}

bool IsCompressible(const std::string& content_type) {
  return content_type.rfind("text/", 0) == 0 ||
         content_type.rfind("application/json", 0) == 0 ||
         content_type.rfind("application/manifest+json", 0) == 0 ||
         content_type.rfind("image/svg+xml", 0) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Calls fn(element) for each comma-separated, trimmed, non-empty element.
template <typename Fn>
void ForEachElement(std::string_view list, Fn fn) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view e = Trim(list.substr(start, comma - start));
    if (!e.empty()) fn(e);
    start = comma + 1;
  }
}

// q-value of an Accept-Encoding element's parameters ("; q=0.5"): 1 when
// absent, 0 for "0", "0.", "0.0"... ; anything else that parses is > 0.
bool QualityAboveZero(std::string_view params) {
  size_t q = params.find("q=");
  if (q == std::string_view::npos) q = params.find("Q=");
  if (q == std::string_view::npos) return true;
  std::string_view value = Trim(params.substr(q + 2));
  value = value.substr(0, value.find(';'));
  for (char c : value) {
    if (c >= '1' && c <= '9') return true;
  }
  return false;
}

}  // namespace

std::string ContentTypeFor(const std::string& path) {
  struct Entry {
    const char* ext;
    const char* type;
  };
  static constexpr Entry kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
      {".woff2", "font/woff2"},
  };
  for (const Entry& e : kTypes) {
    if (EndsWith(path, e.ext)) return e.type;
  }
  return "application/octet-stream";
}

Result<std::string> RelativeStaticPath(const std::string& request_path) {
  if (request_path.empty() || request_path[0] != '/') return NotFound();
  if (request_path.size() > 1024) return NotFound();
  std::string rel;
  size_t pos = 1;
  while (pos <= request_path.size()) {
    size_t slash = request_path.find('/', pos);
    if (slash == std::string::npos) slash = request_path.size();
    std::string segment = request_path.substr(pos, slash - pos);
    pos = slash + 1;
    if (segment.empty()) continue;
    // "." and ".." and every hidden name start with '.'.
    if (segment[0] == '.') return NotFound();
    for (char c : segment) {
      if (c == '\0' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return NotFound();
      }
    }
    if (!rel.empty()) rel += '/';
    rel += segment;
  }
  if (rel.empty() || request_path.back() == '/') {
    rel += rel.empty() ? "index.html" : "/index.html";
  }
  return rel;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  bool gzip = false, gzip_listed = false, star = false;
  ForEachElement(accept_encoding, [&](std::string_view element) {
    size_t semi = element.find(';');
    std::string_view coding = Trim(element.substr(0, semi));
    std::string_view params =
        semi == std::string_view::npos ? "" : element.substr(semi + 1);
    if (EqualsIgnoreCase(coding, "gzip") ||
        EqualsIgnoreCase(coding, "x-gzip")) {
      gzip_listed = true;
      gzip = gzip || QualityAboveZero(params);
    } else if (coding == "*") {
      star = QualityAboveZero(params);
    }
  });
  return gzip || (!gzip_listed && star);
}

std::string GzipCompress(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer around the deflate data.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return "";
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return "";
  out.resize(produced);
  return out;
}

bool EtagMatches(std::string_view if_none_match, const std::string& etag) {
  bool match = false;
  ForEachElement(if_none_match, [&](std::string_view tag) {
    if (tag == "*") match = true;
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
    std::string_view mine = etag;
    if (mine.rfind("W/", 0) == 0) mine.remove_prefix(2);
    if (tag == mine) match = true;
  });
  return match;
}

StaticFiles::StaticFiles(std::string root)
    : root_(std::move(root)),
      real_root_(root_.empty() ? "" : RealPath(root_)) {}

size_t StaticFiles::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

Result<std::shared_ptr<const StaticFile>> StaticFiles::Load(
    const std::string& request_path) const {
  if (real_root_.empty()) return NotFound();
  Result<std::string> rel = RelativeStaticPath(request_path);
  if (!rel.ok()) return rel.status();

  struct stat st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(rel.value());
    if (it != cache_.end()) {
      const Entry& e = it->second;
      if (stat(e.real_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          st.st_size == e.size &&
          st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec == e.mtime_ns) {
        return e.file;
      }
      cache_.erase(it);
    }
  }

  std::string real = RealPath(real_root_ + "/" + rel.value());
  // Symlinks may point anywhere; only what resolves inside the root is served.
  if (real.empty() ||
      real.compare(0, real_root_.size() + 1, real_root_ + "/") != 0) {
    return NotFound();
  }
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return NotFound();
  std::ifstream in(real, std::ios::binary);
  if (!in) return NotFound();
  std::ostringstream body;
  body << in.rdbuf();

  auto file = std::make_shared<StaticFile>();
  file->body = std::make_shared<const std::string>(body.str());
  file->content_type = ContentTypeFor(real);
  file->etag = "\"" + std::to_string(st.st_size) + "-" +
               std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) + "\"";
  file->compressible = IsCompressible(file->content_type);
  if (file->compressible) {
    std::string gz = GzipCompress(*file->body);
    if (!gz.empty() && gz.size() < file->body->size()) {
      file->gzip_body = std::make_shared<const std::string>(std::move(gz));
      file->gzip_etag = file->etag.substr(0, file->etag.size() - 1) + "-gzip\"";
    }
  }
  Entry entry;
  entry.real_path = real;
  entry.size = st.st_size;
  entry.mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  entry.file = file;
  std::lock_guard<std::mutex> lock(mu_);
  ++loads_;
  cache_[rel.value()] = std::move(entry);
  return std::shared_ptr<const StaticFile>(file);
}

}  // namespace notifications
