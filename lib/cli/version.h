// The project's version, from CMake (project(... VERSION ...)), shared by the
// three programs' --version and the terminal client's User-Agent.
#pragma once

namespace notifications {

// E.g. "0.1.0". Thread-safe (a constant).
const char* ProjectVersion();

}  // namespace notifications
