#include "static_files.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace notifications {
namespace {

std::string MakeTree() {
  char tmpl[] = "/tmp/nb-static-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string root = dir + "/public";
  REQUIRE(
      system(("mkdir -p " + root + "/js && echo secret > " + dir +
              "/secret.txt && echo '<h1>hi</h1>' > " + root +
              "/index.html && echo 'x=1' > " + root + "/js/app.js && mkdir " +
              root + "/.git && echo no > " + root + "/.git/config && ln -s " +
              dir + "/secret.txt " + root + "/leak.txt && ln -s " + root +
              "/index.html " + root + "/alias.html")
                 .c_str()) == 0);
  return root;
}

TEST_CASE("static files: maps request paths to files under the root") {
  CHECK(RelativeStaticPath("/").value() == "index.html");
  CHECK(RelativeStaticPath("/js/app.js").value() == "js/app.js");
  CHECK(RelativeStaticPath("/js/").value() == "js/index.html");
  CHECK(RelativeStaticPath("//js//app.js").value() == "js/app.js");
}

TEST_CASE("static files: refuses traversal, hidden names and odd bytes") {
  for (const char* bad :
       {"/../secret.txt", "/js/../../x", "/..", "/.git/config", "/.env",
        "relative", "", "/a\\..\\b"}) {
    CAPTURE(bad);
    CHECK_FALSE(RelativeStaticPath(bad).ok());
  }
  CHECK_FALSE(RelativeStaticPath(std::string("/a\0b", 4)).ok());
  CHECK_FALSE(RelativeStaticPath("/" + std::string(2000, 'a')).ok());
}

TEST_CASE("static files: serves files with type and etag, never outside") {
  std::string root = MakeTree();
  StaticFiles files(root);
  auto index = files.Load("/");
  REQUIRE(index.ok());
  CHECK(*index.value()->body == "<h1>hi</h1>\n");
  CHECK(index.value()->content_type == "text/html; charset=utf-8");
  CHECK(index.value()->etag.front() == '"');
  CHECK(files.Load("/js/app.js").value()->content_type ==
        "text/javascript; charset=utf-8");
  // A symlink inside the root to a file inside the root is fine...
  CHECK(files.Load("/alias.html").ok());
  // ...one that leads out of it is not.
  CHECK(files.Load("/leak.txt").status().code() == Status::Code::kNotFound);
  CHECK_FALSE(files.Load("/../secret.txt").ok());
  CHECK_FALSE(files.Load("/.git/config").ok());
  CHECK_FALSE(files.Load("/missing.html").ok());
  CHECK_FALSE(files.Load("/js").ok());  // A directory is not a file.
  CHECK(system(("rm -rf " + root.substr(0, root.rfind('/'))).c_str()) == 0);
}

TEST_CASE("static files: read once, read again when the file changes on disk") {
  std::string root = MakeTree();
  StaticFiles files(root);
  auto first = files.Load("/index.html");
  REQUIRE(first.ok());
  for (int i = 0; i < 10; ++i) CHECK(files.Load("/").ok());
  CHECK(files.loads() == 1);
  std::ofstream(root + "/index.html") << "<h1>changed, and longer</h1>\n";
  auto second = files.Load("/");
  REQUIRE(second.ok());
  CHECK(*second.value()->body == "<h1>changed, and longer</h1>\n");
  CHECK(second.value()->etag != first.value()->etag);
  CHECK(files.loads() == 2);
  // Misses are not cached: a probe costs no memory.
  for (int i = 0; i < 10; ++i)
    CHECK_FALSE(files.Load("/m" + std::to_string(i)).ok());
  CHECK(files.loads() == 2);
  CHECK(system(("rm -rf " + root.substr(0, root.rfind('/'))).c_str()) == 0);
}

TEST_CASE(
    "static files: gzip once, only when it helps and the type compresses") {
  std::string text(4000, 'a');
  std::string gz = GzipCompress(text);
  REQUIRE(gz.size() > 10);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(gz.size() < 100);
  std::string root = MakeTree();
  std::ofstream(root + "/big.js") << text;
  std::ofstream(root + "/tiny.js") << "x";
  std::ofstream(root + "/img.png") << text;
  StaticFiles files(root);
  auto big = files.Load("/big.js").value();
  CHECK(big->compressible);
  REQUIRE(big->gzip_body.get() != nullptr);
  CHECK(*big->gzip_body == gz);
  CHECK(big->gzip_etag != big->etag);
  auto tiny = files.Load("/tiny.js").value();
  CHECK(tiny->compressible);  // Varies, but gzip would be larger.
  CHECK(tiny->gzip_body.get() == nullptr);
  auto png = files.Load("/img.png").value();
  CHECK_FALSE(png->compressible);
  CHECK(png->gzip_body.get() == nullptr);
  CHECK(system(("rm -rf " + root.substr(0, root.rfind('/'))).c_str()) == 0);
}

TEST_CASE("static files: no root serves nothing") {
  StaticFiles files("");
  CHECK_FALSE(files.Load("/").ok());
}

}  // namespace
}  // namespace notifications
