// HTTP/1.1 framing for the responses the bridge writes (every route: the
// server loops write their own bytes). Pure functions, thread-safe, tested
// byte-for-byte. RFC 9112:
//
//   response-head = status-line *( field-line CRLF ) CRLF
//   status-line   = "HTTP/1.1" SP 3DIGIT SP reason-phrase CRLF
//   field-line    = field-name ":" SP field-value
//   chunk         = 1*HEXDIG CRLF chunk-data CRLF     ; lowercase hex here
//   last-chunk    = "0" CRLF CRLF                     ; no trailers
//
// Field names and values are written as given, except that CR, LF and NUL
// are dropped from them (no header injection whatever the caller passes).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifications {

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// "HTTP/1.1 <status> <reason>\r\n" + each field + "\r\n". `reason` is the
// standard phrase for the usual codes, "Unknown" otherwise.
std::string EncodeResponseHead(int status, const HeaderFields& fields);

// The standard reason phrase of `status` ("Not Found"), "Unknown" for codes
// the bridge never sends.
const char* ReasonPhrase(int status);

// The line that opens a chunk of `size` bytes: lowercase hex, then CRLF
// ("1a\r\n"). `size` must not be 0 (that is the last chunk).
std::string ChunkHeader(size_t size);

// What ends every chunk's data.
inline constexpr std::string_view kChunkEnd = "\r\n";

// Appends one chunk carrying `data` to `out`. Empty data appends nothing:
// an empty chunk would be the last one.
void AppendChunk(std::string_view data, std::string* out);

// The last chunk, which ends a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace notifications
