#include "secret_file.h"

#include <sys/stat.h>

#include <fstream>

namespace notifications {

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
  size_t b = line.find_first_not_of(" \t\r\n");
  size_t e = line.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return Status::InvalidArgument("token file " + path + " is empty");
  }
  return line.substr(b, e - b + 1);
}

}  // namespace notifications
