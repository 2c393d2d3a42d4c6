// Secrets (tokens, passwords) read from files, never from the command line
// (every local user can read a process's arguments). Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "status.h"

namespace notifications {

// Reads a secret from `path`: the first line, surrounding whitespace
// trimmed (shared by every program that takes a --token-file). Adds to
// `warnings` when group or others have any access to the file.
Result<std::string> ReadSecretFile(const std::string& path,
                                   std::vector<std::string>* warnings);

}  // namespace notifications
