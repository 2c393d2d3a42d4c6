// The project's version, from CMake (project(... VERSION ...)), shared by the
// three programs' --version and the terminal client's User-Agent.
#pragma once

#include <string>

namespace notifications {

// E.g. "0.1.0". Thread-safe (a constant).
const char* ProjectVersion();

// What --version prints, without its line end: "<program> <version>", e.g.
// "notifications-bridge 0.1.0".
std::string VersionLine(const std::string& program);

}  // namespace notifications
