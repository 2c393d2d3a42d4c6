// URL encoding (RFC 3986) for the query strings the programs build: the
// bridge's filters (Filter::ToQueryString()) and the terminal client's
// stream URL (BuildStreamUrl()). Pure functions, thread-safe.
//
//   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
//   encoded    = unreserved bytes as they are, every other byte (UTF-8
//                included) as "%" HEXDIG HEXDIG, upper-case hex
#pragma once

#include <string>
#include <string_view>

namespace notifications {

// `s` percent-encoded as above: PercentEncode("nasqueron.ops.#") ==
// "nasqueron.ops.%23", PercentEncode("é") == "%C3%A9".
std::string PercentEncode(std::string_view s);

// Appends "name=PercentEncode(value)" to `query`, after a '&' unless
// `query` is empty. `name` is appended as it is (callers pass literals).
void AppendQueryParameter(std::string& query, std::string_view name,
                          std::string_view value);

// The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1: what every
// percent-decoder and \uXXXX reader of the programs uses.
int HexDigitValue(char c);

}  // namespace notifications
