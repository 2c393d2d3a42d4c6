#include "tail_printer.h"

#include <algorithm>
#include <utility>

#include "notification.h"
#include "notification_parser.h"
#include "tail_format.h"
#include "utf8.h"

namespace notifications {

TailPrinter::TailPrinter(bool json, TailSinks sinks)
    : json_(json), sinks_(std::move(sinks)) {}

bool TailPrinter::OnEvent(const SseParser::Event& event,
                          std::time_t received_at) {
  if (event.type == "reset") {
    last_printed_id_.clear();
    Notice(ResetNotice(event.data));
    return true;
  }
  if (event.type != "notification") return true;
  const std::string& id = event.last_event_id;
  if (!id.empty() && !last_printed_id_.empty() &&
      CompareIds(id, last_printed_id_) <= 0) {
    ++skipped_;
    Notice("skipped notification " + id + ": already printed (last " +
           last_printed_id_ + ")");
    return true;
  }
  std::string line;
  if (json_) {
    // Joined into one line, then every control or bidi character escaped
    // as \uXXXX: still the same JSON where it is JSON (they are only
    // allowed escaped in its strings), never raw on the terminal.
    line = event.data;
    std::replace(line.begin(), line.end(), '\n', ' ');
    line = ReplaceUnsafeCodePoints(line, /*bidi=*/true, JsonEscapeOf);
  } else {
    Result<Notification> n = ParseStreamNotification(event.data);
    if (!n.ok()) {
      Notice("skipped notification " + (id.empty() ? "without id" : id) + ": " +
             n.status().message());
      return true;
    }
    line = FormatNotificationLine(*n, received_at);
  }
  if (!id.empty()) last_printed_id_ = id;
  ++printed_;
  return sinks_.out ? sinks_.out(line) : true;
}

void TailPrinter::Notice(const std::string& line) const {
  if (sinks_.err) sinks_.err(TerminalText(line));
}

}  // namespace notifications
