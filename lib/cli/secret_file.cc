#include "secret_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

namespace notifications {
namespace {

constexpr char kSpace[] = " \t\r\n";

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

bool HasLineBreak(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path,
                                   std::vector<std::string>* warnings) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument("cannot read token file " + path +
                                   ": no such file or not accessible");
  }
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument("cannot read token file " + path +
                                   ": permission denied");
  }
  if (warnings && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    warnings->push_back("token file " + path +
                        " is accessible to group or others; chmod 600 it");
  }
  std::string line;
  std::getline(in, line);
  std::string token = Trim(line);
  if (token.empty()) {
    return Status::InvalidArgument("token file " + path + " is empty");
  }
  if (HasLineBreak(token)) {
    return Status::InvalidArgument(
        "token file " + path +
        " holds a carriage return inside its first line: a token is one "
        "line without CR or LF");
  }
  return token;
}

Result<std::optional<std::string>> ReadSecretVariable(
    const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr) return std::optional<std::string>();
  std::string token = Trim(value);
  if (token.empty()) {
    return Status::InvalidArgument(
        variable +
        " is set but empty: unset it, or set it to the token (like an empty "
        "token file, an empty token is refused)");
  }
  if (HasLineBreak(token)) {
    return Status::InvalidArgument(
        variable +
        " holds a line break (CR or LF) inside the token: a token "
        "is one line");
  }
  return std::optional<std::string>(std::move(token));
}

Result<std::string> ReadSecret(const std::string& flag, const std::string& file,
                               const std::string& variable,
                               std::vector<std::string>* warnings) {
  if (!file.empty()) {
    Result<std::string> secret = ReadSecretFile(file, warnings);
    if (!secret.ok()) {
      return Status::InvalidArgument(flag + ": " + secret.status().message());
    }
    return secret;
  }
  Result<std::optional<std::string>> secret = ReadSecretVariable(variable);
  if (!secret.ok()) return secret.status();
  return secret->value_or("");
}

}  // namespace notifications
