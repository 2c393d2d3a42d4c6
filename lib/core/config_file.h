// Config files ("--config FILE"): the text of a settings file read into
// key/value entries, checked line by line. Pure and thread-safe; the
// programs (lib/cli) then check the keys against their flags.
//
// Grammar (INI-like, the subset of INI/TOML that CLI11 read before):
//
//   file     = *(line EOL) [line]        EOL is LF or CRLF
//   line     = ws [comment / section / entry] ws
//   comment  = ("#" / ";") *char         only at the start of a line: a '#'
//                                        inside a value is the value's
//   section  = "[" ws "default" ws "]"   the top level, as in CLI11; no
//                                        other section exists
//   entry    = key ws "=" ws value
//   key      = 1*64(ALPHA / DIGIT / "-" / "_" / ".")
//   value    = quoted / array / bare
//   quoted   = DQUOTE *(char / "\" ("\" / DQUOTE)) DQUOTE
//            / "'" *char "'"             literal, no escapes
//   array    = "[" ws [item *(ws "," ws item)] ws "]"
//   item     = quoted / 1*(char except "," "]" and ws)
//   bare     = *char                     the rest of the line, trimmed
//   ws       = *(SP / HTAB)
//
// `char` is any byte but the controls: a NUL, a lone CR or any other C0
// control byte but TAB anywhere in the file is an error, as is a file over
// kMaxConfigFileBytes. A key may repeat (its values are appended in order;
// whether that is allowed is the program's call).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace notifications {

// One `key = value` line.
struct ConfigEntry {
  std::string key;
  // One value; an array gives one per item (possibly none: "[]").
  std::vector<std::string> values;
  size_t line = 0;  // 1-based.
};

inline constexpr size_t kMaxConfigFileBytes = 1u << 20;

// The entries of `text`, in file order. Failure: kInvalidArgument, one
// line starting with "line N: " that says what is wrong ("line 3: expected
// key = value", "line 7: unterminated quoted value"); it never echoes the
// line's content (a value may be a secret).
Result<std::vector<ConfigEntry>> ParseConfigFile(std::string_view text);

}  // namespace notifications
