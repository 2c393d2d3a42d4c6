// EnvGuard: sets an environment variable for a scope, for tests of what
// programs read from the environment (flags, TZ). Not thread-safe: the
// environment is the process's.
#pragma once

#include <time.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace notifications {
namespace testing {

// Sets an environment variable for the scope (nullptr unsets it), then puts
// the previous value back.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
    tzset();
  }
  ~EnvGuard() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
    tzset();
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace testing
}  // namespace notifications
