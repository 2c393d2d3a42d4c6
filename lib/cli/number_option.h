// Numeric flags: the one rule every number of the three programs' command
// lines goes through, whether it comes from the command line, the
// environment or a --config file.
//
//   decimal = ["+" / "-"] (1*DIGIT ["." *DIGIT] / "." 1*DIGIT)
//             [("e" / "E") ["+" / "-"] 1*DIGIT]
//   whole   = ["+"] 1*DIGIT
//
// Anything else is refused: "nan", "inf", "-inf", "0x10", "1e400" (out of
// the range of a double), "99999999999999999999" (out of 64 bits), empty,
// spaces, and every value outside the flag's [min, max]. The message names
// the accepted range and quotes the value: "must be a number of seconds
// from 0.01 to 3600, got \"nan\"". CLI11 prefixes it with the flag
// ("--poll-interval: "), and ParseCommandLine() adds where the value came
// from (" (from NOTIFICATIONS_BRIDGE_POLL_INTERVAL)").
//
// Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "status.h"

namespace CLI {
class Validator;
}  // namespace CLI

namespace notifications {

// `text` as a decimal number within [min, max]. Failure: kInvalidArgument
// "must be a <what> from <min> to <max>, got \"<text>\"", where <what> is
// "number" or, with `unit`, "number of <unit>" (e.g. "seconds").
Result<double> ParseDecimal(std::string_view text, double min, double max,
                            const std::string& unit = "");

// `text` as a whole number within [min, max]; leading zeros are decimal
// ("010" is 10). Failure: kInvalidArgument "must be a whole number from
// <min> to <max>, got \"<text>\"".
Result<uint64_t> ParseWholeNumber(std::string_view text, uint64_t min,
                                  uint64_t max);

// CLI11 validators for the options' transform(): they accept only the
// numbers above within [min, max], and hand CLI11 the value in canonical
// decimal (CLI11 would read "010" as octal). E.g.
//   app.add_option("--poll-interval", seconds)
//       ->transform(SecondsIn(0.01, 3600));
// Their description (in --help) is "SECONDS in [min - max]", "NUMBER in
// [min - max]" or "UINT in [min - max]". WholeNumberIn() is for an option
// bound to an integer type that holds [min, max].
CLI::Validator SecondsIn(double min, double max);
CLI::Validator NumberIn(double min, double max);
CLI::Validator WholeNumberIn(uint64_t min, uint64_t max);

// `seconds` (finite, checked) rounded to the nearest millisecond.
std::chrono::milliseconds SecondsToMillis(double seconds);

}  // namespace notifications
