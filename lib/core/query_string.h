// ParseQueryString: the bridge's own reading of a request's query string
// into parameters. Pure, thread-safe.
//
// It follows the WHATWG URL Standard's application/x-www-form-urlencoded
// parser (what a browser's URLSearchParams does), without its final UTF-8
// decoding (values stay bytes; whoever uses one checks it):
//
//   query    = piece *( "&" piece )
//   piece    = ""                    ; skipped ("a=1&&b=2")
//            / name [ "=" value ]    ; no '=': the value is ""
//   name and value: '+' becomes a space, then each "%XX" (two hex digits)
//   becomes its byte; a '%' not followed by two hex digits is kept as is.
//
// Every piece is kept, in order, repeats included: "a=1&a=1" is two
// parameters. What a repeat means is the route's rule (docs/events.md: a
// single-valued parameter given twice is a 400; filter values are OR-ed).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace notifications {

using QueryParams = std::multimap<std::string, std::string>;

// Parameters of `query` (the text after '?', without it). At most
// `max_params` pieces are read; `*truncated` (when given) tells whether
// more were there.
QueryParams ParseQueryString(std::string_view query, size_t max_params = 256,
                             bool* truncated = nullptr);

// '+' as a space and lenient "%XX" decoding, as above, for one name or value.
std::string FormDecode(std::string_view text);

}  // namespace notifications
