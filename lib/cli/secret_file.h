// Secrets (tokens, passwords) read from files or environment variables,
// never from the command line (every local user can read a process's
// arguments). Thread-safe as long as nobody changes the environment
// meanwhile.
//
// The same rules for every secret of every program (the bridge's delivery
// and stream tokens, the mock's token), from a file or a variable:
// surrounding whitespace (space, TAB, CR, LF) is trimmed; what is left
// must not be empty and must hold no CR or LF (a token is one line: one
// with a line break would split a header or hide a second value).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "status.h"

namespace notifications {

// Reads a secret from `path`: its first line, trimmed (shared by every
// program that takes a --token-file). Adds to `warnings` when group or
// others have any access to the file. Failure (kInvalidArgument, naming the
// file, never the secret): missing or unreadable, empty, or a CR inside the
// line.
Result<std::string> ReadSecretFile(const std::string& path,
                                   std::vector<std::string>* warnings);

// The secret in environment variable `variable`, trimmed: nullopt when the
// variable is not set. Failure (kInvalidArgument, naming the variable,
// never the secret): set but empty (or only whitespace), or holding a CR
// or LF inside.
Result<std::optional<std::string>> ReadSecretVariable(
    const std::string& variable);

// A secret option: from `file` when given (ReadSecretFile(); its errors
// start with `flag`), else from the environment variable `variable`
// (ReadSecretVariable()); "" when neither is given.
Result<std::string> ReadSecret(const std::string& flag, const std::string& file,
                               const std::string& variable,
                               std::vector<std::string>* warnings);

}  // namespace notifications
