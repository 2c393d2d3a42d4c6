// Fuzz target: the upstream JSON parsers (lib/core/notification_parser.h) on
// arbitrary bytes. The input is the body, as the delivery API (or the gate,
// or a fixtures file) would send it.
//
// Oracle, besides "no crash, no sanitizer report":
//   - SanitizeUtf8(x) equals fuzz::ReplaceInvalidUtf8(x) (an independent
//     reading of Unicode's "substitution of maximal subparts"), is valid
//     UTF-8, and leaves valid UTF-8 unchanged;
//   - a page that parses has contract ids (1..128 of [A-Za-z0-9._:-]),
//     strictly increasing in shortlex order, a cursor that is "" or the last
//     id (of the items kept or skipped), and every string (fields, time,
//     rawContent) valid UTF-8;
//   - what parses round-trips: PageToJson() of the parsed page parses back
//     to the same page (rawContent is compact, so re-compacting is a no-op);
//   - gate bodies and fixture arrays that parse have their required fields,
//     no id or time, and valid UTF-8 everywhere;
//   - ParseErrorBody() gives at most 200 bytes of valid UTF-8 without
//     control characters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "notification.h"
#include "notification_json.h"
#include "notification_parser.h"
#include "utf8.h"

namespace {

using notifications::Notification;

void CheckStrings(const Notification& n) {
  const std::optional<std::string>* fields[] = {
      &n.service, &n.project, &n.group,      &n.type,
      &n.text,    &n.link,    &n.raw_content};
  for (const auto* f : fields) {
    if (f->has_value()) FUZZ_CHECK(fuzz::IsValidUtf8(**f), **f);
  }
  FUZZ_CHECK(fuzz::IsValidUtf8(n.time), n.time);
  FUZZ_CHECK(fuzz::IsValidUtf8(n.id), n.id);
}

bool SameNotification(const Notification& a, const Notification& b) {
  return a.id == b.id && a.time == b.time && a.service == b.service &&
         a.project == b.project && a.group == b.group && a.type == b.type &&
         a.text == b.text && a.link == b.link && a.raw_content == b.raw_content;
}

void CheckPage(std::string_view body) {
  notifications::Result<notifications::Page> page =
      notifications::ParsePage(body);
  if (!page.ok()) {
    const std::string& m = page.status().message();
    FUZZ_CHECK(!m.empty() && m.find('\n') == std::string::npos, m);
    return;
  }
  const std::vector<Notification>& items = page->notifications;
  for (size_t i = 0; i < items.size(); ++i) {
    FUZZ_CHECK(notifications::IsValidId(items[i].id), items[i].id);
    FUZZ_CHECK(fuzz::IsContractId(items[i].id), items[i].id);
    if (i > 0) {
      FUZZ_CHECK(fuzz::IdLess(items[i - 1].id, items[i].id),
                 items[i - 1].id + " then " + items[i].id);
    }
    CheckStrings(items[i]);
  }
  FUZZ_CHECK(page->cursor.empty() || fuzz::IsContractId(page->cursor),
             page->cursor);
  // Skipped items (unrepresentable values) keep their place in the order
  // and the cursor is the last item's id, kept or skipped.
  std::string last = items.empty() ? "" : items.back().id;
  for (const notifications::SkippedItem& s : page->skipped) {
    FUZZ_CHECK(fuzz::IsContractId(s.id), s.id);
    FUZZ_CHECK(!s.reason.empty(), s.id);
    for (const Notification& n : items) FUZZ_CHECK(n.id != s.id, s.id);
    if (last.empty() || fuzz::IdLess(last, s.id)) last = s.id;
  }
  if (!last.empty()) FUZZ_CHECK(page->cursor == last, page->cursor);

  // Round trip through what the mock writes (the same writer the bridge
  // uses for SSE data); without skipped items the cursor is the last kept.
  const std::string cursor =
      page->skipped.empty() || items.empty() ? page->cursor : items.back().id;
  std::string again = notifications::PageToJson(items, cursor, page->more);
  notifications::Result<notifications::Page> reparsed =
      notifications::ParsePage(again);
  FUZZ_CHECK(reparsed.ok(), again + " -> " + reparsed.status().message());
  FUZZ_CHECK(reparsed->notifications.size() == items.size(), again);
  FUZZ_CHECK(reparsed->cursor == cursor, again);
  FUZZ_CHECK(reparsed->skipped.empty(), again);
  FUZZ_CHECK(reparsed->more == page->more, again);
  for (size_t i = 0; i < items.size(); ++i) {
    FUZZ_CHECK(SameNotification(items[i], reparsed->notifications[i]),
               again + "\n  item " + std::to_string(i) + " differs");
  }
}

void CheckGate(std::string_view body) {
  notifications::Result<Notification> n =
      notifications::ParseGateNotification(body, "Nasqueron");
  if (n.ok()) {
    FUZZ_CHECK(n->service && n->project && n->group && n->type, "required");
    FUZZ_CHECK(n->id.empty() && n->time.empty(), n->id + " " + n->time);
    CheckStrings(*n);
  }
  notifications::Result<std::vector<Notification>> array =
      notifications::ParseNotificationArray(body);
  if (array.ok()) {
    for (const Notification& item : array.value()) {
      FUZZ_CHECK(item.service && item.project && item.group && item.type,
                 "required");
      CheckStrings(item);
    }
  }
}

void CheckErrorBody(std::string_view body) {
  std::string line = notifications::ParseErrorBody(body);
  FUZZ_CHECK(line.size() <= 200, line);
  FUZZ_CHECK(fuzz::IsValidUtf8(line), line);
  for (char c : line) {
    auto b = static_cast<unsigned char>(c);
    FUZZ_CHECK(b >= 0x20 && b != 0x7F, line);
  }
}

void CheckSanitize(std::string_view bytes) {
  std::string clean = notifications::SanitizeUtf8(bytes);
  FUZZ_CHECK(clean == fuzz::ReplaceInvalidUtf8(bytes), clean);
  FUZZ_CHECK(fuzz::IsValidUtf8(clean), clean);
  FUZZ_CHECK(notifications::SanitizeUtf8(clean) == clean, clean);
  if (fuzz::IsValidUtf8(bytes)) FUZZ_CHECK(clean == bytes, clean);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  CheckSanitize(body);
  CheckPage(body);
  CheckGate(body);
  CheckErrorBody(body);
  return 0;
}
