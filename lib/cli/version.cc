#include "version.h"

namespace notifications {

const char* ProjectVersion() { return NB_VERSION; }

std::string VersionLine(const std::string& program) {
  return program + " " + ProjectVersion();
}

}  // namespace notifications
