// CapturedSinks: TailSinks (tail_printer.h) that record the lines given to
// them, for tests of the terminal client. Thread-safe (a TailClient calls
// them on its own thread). Header-only: for test binaries that link nb_tail.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tail_printer.h"

namespace notifications {
namespace testing {

// Output sinks that record lines; thread-safe (a TailClient calls them on
// its own thread).
class CapturedSinks {
 public:
  TailSinks sinks() {
    return TailSinks{[this](const std::string& line) {
                       std::lock_guard<std::mutex> lock(mu_);
                       out_.push_back(line);
                       return out_ok_;
                     },
                     [this](const std::string& line) {
                       std::lock_guard<std::mutex> lock(mu_);
                       err_.push_back(line);
                     }};
  }
  void FailOutput() {
    std::lock_guard<std::mutex> lock(mu_);
    out_ok_ = false;
  }
  std::vector<std::string> out() {
    std::lock_guard<std::mutex> lock(mu_);
    return out_;
  }
  std::vector<std::string> err() {
    std::lock_guard<std::mutex> lock(mu_);
    return err_;
  }
  // Waits until `n` lines were given to `out`.
  bool WaitForOut(size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out().size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> out_;
  std::vector<std::string> err_;
  bool out_ok_ = true;
};

}  // namespace testing
}  // namespace notifications
