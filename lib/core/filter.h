// Filters of the /events stream (docs/events.md): which notifications a
// client wants, from its query parameters.
//
// TopicPattern and Filter are immutable values once built: safe to share
// between threads for reading (Matches() has no side effects).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "notification.h"
#include "status.h"

namespace notifications {

// An AMQP topic pattern, matched against a routing key such as
// "nasqueron.ops.github.push" (Notification::RoutingKey()).
//
// Pattern and key are split into words on '.'; empty words are legal
// ("a..b" has three words, the middle one empty; a notification with group
// "" has the key "nasqueron..github.push"). A pattern word is
//   "*"   matches exactly one word (an empty word included);
//   "#"   matches zero or more words;
//   other matches the key word literally, ASCII case-insensitively.
// So "nasqueron.ops.#" matches "nasqueron.ops" and "nasqueron.ops.a.b",
// "#" matches every key, and "*.ci.jenkins.completed.*" needs 5 words.
//
// Matching is O(words(pattern) * words(key)) time and O(words(key)) memory
// whatever the pattern (no backtracking); without '#' it is linear.
class TopicPattern {
 public:
  // Compiles `pattern`. Fails (InvalidArgument) when it is empty, longer
  // than 255 bytes, holds a byte outside printable ASCII (0x20..0x7E), or a
  // word mixes '*' or '#' with other characters ("ab*", "##").
  static Result<TopicPattern> Compile(std::string_view pattern);

  // True when `routing_key` (any bytes) matches the whole pattern. Time
  // linear in (pattern words + 1) x (key words + 1), whatever the pattern:
  // when `steps` is not null, the number of table cells computed is added
  // to it, never more than that product (tests count them rather than
  // timing pathological patterns).
  bool Matches(std::string_view routing_key, size_t* steps = nullptr) const;

  // The pattern, ASCII-lowercased (its canonical form).
  const std::string& text() const { return text_; }

 private:
  enum class Kind : uint8_t { kLiteral, kStar, kHash };
  struct Word {
    Kind kind;
    std::string literal;  // Lowercased; only for kLiteral.
  };

  TopicPattern() = default;

  std::string text_;
  std::vector<Word> words_;  // Runs of "#" are folded into one.
  bool has_hash_ = false;
};

// The stream's filters. A default-constructed Filter matches everything.
//
// Query parameters (all optional, repeatable):
//   project, group, service, type   the notification's field equals one of
//       the values, ASCII case-insensitively; a missing (nullopt) field is
//       taken as "", so "group=" matches both group "" and no group.
//   key   a TopicPattern over Notification::RoutingKey().
// Values of one parameter are OR-ed; different parameters are AND-ed.
// Other parameters (backlog, lastEventId, ...) are ignored here.
class Filter {
 public:
  static constexpr size_t kMaxValuesPerParameter = 32;
  static constexpr size_t kMaxValueBytes = 256;

  Filter() = default;

  // Builds the filter from decoded query parameters. Fails (InvalidArgument)
  // with a message naming the parameter: "key: ..." for a bad pattern,
  // "type: more than 32 values", "project: value longer than 256 bytes".
  static Result<Filter> FromQuery(
      const std::multimap<std::string, std::string>& params);

  // True when `n` passes every parameter given.
  bool Matches(const Notification& n) const;

  // True when no filter parameter was given.
  bool MatchesAll() const;

  // Canonical form for logs: parameters in the order project, group,
  // service, type, key; values lowercased, sorted, without duplicates;
  // percent-encoded (RFC 3986: all but A-Z a-z 0-9 - . _ ~), joined with
  // '&'. "" when MatchesAll(). E.g. "project=nasqueron&key=nasqueron.ops.%23".
  std::string ToQueryString() const;

 private:
  // Lowercased, sorted, unique. Empty: the parameter was not given.
  std::vector<std::string> projects_;
  std::vector<std::string> groups_;
  std::vector<std::string> services_;
  std::vector<std::string> types_;
  std::vector<TopicPattern> keys_;  // Sorted by text(), unique.
};

}  // namespace notifications
