#include "static_files.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace notifications {

namespace {

Status NotFound() { return Status::Error(Status::Code::kNotFound, "not found"); }

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) return "";
  return buf;
}

bool EndsWith(const std::string& s, const char* suffix) {
  std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

std::string ContentTypeFor(const std::string& path) {
  struct Entry { const char* ext; const char* type; };
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

StaticFiles::StaticFiles(std::string root)
    : root_(std::move(root)), real_root_(root_.empty() ? "" : RealPath(root_)) {}

Result<StaticFile> StaticFiles::Load(const std::string& request_path) const {
  if (real_root_.empty()) return NotFound();
  Result<std::string> rel = RelativeStaticPath(request_path);
  if (!rel.ok()) return rel.status();
  std::string real = RealPath(real_root_ + "/" + rel.value());
  // Symlinks may point anywhere; only what resolves inside the root is served.
  if (real.empty() || real.compare(0, real_root_.size() + 1, real_root_ + "/") != 0) {
    return NotFound();
  }
  struct stat st;
  if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return NotFound();
  std::ifstream in(real, std::ios::binary);
  if (!in) return NotFound();
  std::ostringstream body;
  body << in.rdbuf();
  StaticFile file;
  file.body = body.str();
  file.content_type = ContentTypeFor(real);
  file.etag = "\"" + std::to_string(st.st_size) + "-" +
              std::to_string(st.st_mtim.tv_sec) + "." +
              std::to_string(st.st_mtim.tv_nsec) + "\"";
  return file;
}

}  // namespace notifications
