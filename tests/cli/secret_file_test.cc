#include "secret_file.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "env_guard.h"
#include "temp_file.h"

namespace notifications {
namespace {

using testing::EnvGuard;
using testing::TempFile;

TEST_CASE("secrets: a file's first line, trimmed; warned when readable") {
  TempFile file("  abc123 \r\nsecond\n");
  std::vector<std::string> warnings;
  Result<std::string> token = ReadSecretFile(file.path, &warnings);
  REQUIRE(token.ok());
  CHECK(*token == "abc123");
  CHECK(warnings.empty());
  TempFile open("abc", 0644);
  CHECK(ReadSecretFile(open.path, &warnings).ok());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("chmod 600") != std::string::npos);
}

TEST_CASE("secrets: an empty file, a missing one, a CR inside are refused") {
  TempFile empty(" \t\r\n");
  CHECK(ReadSecretFile(empty.path, nullptr).status().message() ==
        "token file " + empty.path + " is empty");
  CHECK(ReadSecretFile("/nonexistent/t", nullptr).status().message() ==
        "cannot read token file /nonexistent/t: no such file or not "
        "accessible");
  TempFile cr("abc\rdef\n");
  Result<std::string> r = ReadSecretFile(cr.path, nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("carriage return") != std::string::npos);
  CHECK(r.status().message().find("abc") == std::string::npos);
}

TEST_CASE("secrets: a variable is trimmed like a file, and refused empty") {
  {
    EnvGuard unset("NB_TEST_SECRET", nullptr);
    Result<std::optional<std::string>> r = ReadSecretVariable("NB_TEST_SECRET");
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
  {
    EnvGuard set("NB_TEST_SECRET", " tok3n\n");
    CHECK(**ReadSecretVariable("NB_TEST_SECRET") == "tok3n");
  }
  for (const char* empty : {"", " ", "\n", "\t\r\n"}) {
    EnvGuard set("NB_TEST_SECRET", empty);
    Result<std::optional<std::string>> r = ReadSecretVariable("NB_TEST_SECRET");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind("NB_TEST_SECRET is set but empty", 0) ==
          0);
  }
  for (const char* broken : {"a\nb", "a\rb", "a\r\nX-Injected: 1"}) {
    EnvGuard set("NB_TEST_SECRET", broken);
    Result<std::optional<std::string>> r = ReadSecretVariable("NB_TEST_SECRET");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "NB_TEST_SECRET holds a line break (CR or LF) inside the token: a "
          "token is one line");
  }
}

}  // namespace
}  // namespace notifications
