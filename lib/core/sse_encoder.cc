#include "sse_encoder.h"

#include <string>

namespace notifications {
namespace {

// Calls `emit` with each line of `text`, split on CRLF, CR or LF. Always
// emits at least one line, and a trailing line end yields a last empty line,
// so that a parser joining the lines with LF gets the LF-normalised text back.
template <typename Emit>
void ForEachLine(std::string_view text, Emit&& emit) {
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      emit(text.substr(start, i - start));
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
               ? size_t{2}
               : size_t{1};
      start = i;
    } else {
      ++i;
    }
  }
  emit(text.substr(start));
}

void AppendWithout(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
}

}  // namespace

std::string EncodeSseEvent(const SseEvent& e) {
  std::string out;
  out.reserve(e.data.size() + e.event.size() + 32);
  if (e.id.has_value()) {
    out += "id: ";
    AppendWithout(out, *e.id);
    out += '\n';
  }
  if (!e.event.empty()) {
    // The field is still written when stripping empties it, as given: an
    // empty "event:" value means type "message", which is what the caller
    // gets for an event type made only of forbidden characters.
    out += "event: ";
    AppendWithout(out, e.event);
    out += '\n';
  }
  ForEachLine(e.data, [&out](std::string_view line) {
    out += "data: ";
    out += line;
    out += '\n';
  });
  out += '\n';
  return out;
}

std::string EncodeSseComment(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  ForEachLine(text, [&out](std::string_view line) {
    out += ':';
    if (!line.empty()) {
      out += ' ';
      out += line;
    }
    out += '\n';
  });
  out += '\n';
  return out;
}

std::string EncodeSseRetry(int64_t milliseconds) {
  if (milliseconds < 0) milliseconds = 0;
  return "retry: " + std::to_string(milliseconds) + "\n";
}

}  // namespace notifications
