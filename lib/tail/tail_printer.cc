#include "tail_printer.h"

#include <algorithm>
#include <utility>

#include "notification.h"
#include "notification_parser.h"
#include "tail_format.h"

namespace notifications {

TailPrinter::TailPrinter(bool json, TailSinks sinks)
    : json_(json), sinks_(std::move(sinks)) {}

bool TailPrinter::OnEvent(const SseParser::Event& event,
                          std::time_t received_at) {
  if (event.type == "reset") {
    last_printed_id_.clear();
    if (sinks_.err) sinks_.err(ResetNotice(event.data));
    return true;
  }
  if (event.type != "notification") return true;
  const std::string& id = event.last_event_id;
  if (!id.empty() && !last_printed_id_.empty() &&
      CompareIds(id, last_printed_id_) <= 0) {
    ++skipped_;
    if (sinks_.err) {
      sinks_.err("skipped notification " + id + ": already printed (last " +
                 last_printed_id_ + ")");
    }
    return true;
  }
  std::string line;
  if (json_) {
    line = event.data;
    std::replace(line.begin(), line.end(), '\n', ' ');
  } else {
    Result<Notification> n = ParseStreamNotification(event.data);
    if (!n.ok()) {
      if (sinks_.err) {
        sinks_.err("skipped notification " + (id.empty() ? "without id" : id) +
                   ": " + n.status().message());
      }
      return true;
    }
    line = FormatNotificationLine(*n, received_at);
  }
  if (!id.empty()) last_printed_id_ = id;
  ++printed_;
  return sinks_.out ? sinks_.out(line) : true;
}

}  // namespace notifications
