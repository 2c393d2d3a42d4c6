// TempFile: a file under the temporary directory with the given content,
// removed at the end of the scope. For tests of what programs read from
// files (tokens, fixtures, config files). Not copyable.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace notifications {
namespace testing {

class TempFile {
 public:
  // Created with mode 0600 unless `mode` says otherwise.
  explicit TempFile(const std::string& content, mode_t mode = 0600) {
    path = (std::filesystem::temp_directory_path() /
            ("nb-test-" + std::to_string(getpid()) + "-" +
             std::to_string(counter++)))
               .string();
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
  }
  ~TempFile() { std::remove(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  std::string path;

 private:
  static inline int counter = 0;
};

}  // namespace testing
}  // namespace notifications
