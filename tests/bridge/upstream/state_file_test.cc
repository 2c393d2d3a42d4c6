#include "state_file.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

namespace notifications {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/nb-state-XXXXXX";
  return mkdtemp(tmpl);
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

TEST_CASE("state file: a missing file is a fresh start") {
  StateFile f(TempDir() + "/state");
  auto loaded = f.Load();
  REQUIRE(loaded.ok());
  CHECK_FALSE(loaded->has_value());
}

TEST_CASE("state file: saves and loads the cursor, atomically, mode 0600") {
  std::string dir = TempDir();
  StateFile f(dir + "/state");
  REQUIRE(f.Save(std::string("1795869554-0000000042")).ok());
  auto loaded = f.Load();
  REQUIRE(loaded.ok());
  CHECK(loaded->value() == "1795869554-0000000042");
  // The exact bytes.
  std::ifstream in(dir + "/state");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(all == "notifications-bridge state v1\ncursor 1795869554-0000000042\n");
  CHECK(access((dir + "/state.tmp").c_str(), F_OK) != 0);  // Renamed away.
  CHECK(Entries(dir) == std::vector<std::string>{"state"});
  struct stat st;
  REQUIRE(stat((dir + "/state").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(f.Save(std::string("1795869554-0000000043")).ok());
  CHECK(f.Load()->value() == "1795869554-0000000043");
  REQUIRE(f.Save(std::nullopt).ok());
  CHECK_FALSE(f.Load()->has_value());
}

TEST_CASE("state file: corrupt files are a clear error naming the path") {
  std::string dir = TempDir();
  for (const char* bad : {"garbage", "notifications-bridge state v1\ncursor bad id!\n",
                          "notifications-bridge state v1\ncursor 12",
                          "notifications-bridge state v2\ncursor 1\n", ""}) {
    CAPTURE(bad);
    std::ofstream(dir + "/state") << bad;
    auto loaded = StateFile(dir + "/state").Load();
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().code() == Status::Code::kDataLoss);
    CHECK(loaded.status().message().find(dir + "/state") != std::string::npos);
    CHECK(loaded.status().message().find("--reset-state") != std::string::npos);
  }
}

TEST_CASE("state file: an unwritable directory is an error, not a crash") {
  StateFile f("/nonexistent-dir/state");
  Status s = f.Save(std::string("1"));
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("/nonexistent-dir/state") != std::string::npos);
}

TEST_CASE("state file: a planted symlink redirects no write") {
  // Before: the state went through the fixed name PATH.tmp, opened with
  // O_CREAT|O_TRUNC: a symlink planted there made the bridge truncate and
  // overwrite whatever it pointed to.
  std::string dir = TempDir();
  std::string victim = TempDir() + "/victim";
  std::ofstream(victim) << "precious\n";
  REQUIRE(symlink(victim.c_str(), (dir + "/state.tmp").c_str()) == 0);
  for (int i = 0; i < 20; ++i) {
    // Every name a predictable scheme could use.
    symlink(victim.c_str(), (dir + "/.state.tmp" + std::to_string(i)).c_str());
  }
  StateFile f(dir + "/state");
  REQUIRE(f.Save(std::string("7")).ok());
  CHECK(Read(victim) == "precious\n");
  CHECK(f.Load()->value() == "7");
  // A symlink planted at PATH itself is replaced, not written through.
  REQUIRE(unlink((dir + "/state").c_str()) == 0);
  REQUIRE(symlink(victim.c_str(), (dir + "/state").c_str()) == 0);
  REQUIRE(f.Save(std::string("8")).ok());
  CHECK(Read(victim) == "precious\n");
  struct stat st;
  REQUIRE(lstat((dir + "/state").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(f.Load()->value() == "8");
  // No temporary file is left behind.
  for (const std::string& name : Entries(dir)) {
    CHECK((name == "state" || name == "state.tmp" ||
           name.rfind(".state.tmp", 0) == 0));
  }
}

}  // namespace
}  // namespace notifications
