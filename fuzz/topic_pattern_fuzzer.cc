// Fuzz target: the stream filters (lib/core/filter.h), TopicPattern and Filter.
//
// Input, as text: line 1 is a topic pattern, line 2 a routing key (any
// bytes), the rest a query string ("service=GitHub&key=nasqueron.%23", as
// a server decodes it: %XX, '+' for space).
//
// Oracle, besides "no crash" and libFuzzer's -timeout (the matcher must stay
// polynomial whatever the pattern):
//   - Compile() succeeds exactly when the pattern is 1..255 printable ASCII
//     bytes whose '.'-separated words are "*", "#" or free of both; then
//     text() is the lowercased pattern;
//   - Matches(key) agrees with a reference matcher: the textbook recursive
//     definition over words ('*' one word, '#' zero or more, other words
//     equal ASCII case-insensitively), memoised so that it stays fast;
//   - Filter::FromQuery() succeeds exactly when every project, group,
//     service, type and key parameter has at most 32 values of at most 256
//     bytes and every key compiles; then, for a notification built from the
//     routing key (its first four '.'-separated parts, the fourth taking
//     the rest; missing parts are null), Matches() agrees with the
//     reference reading of docs/events.md, MatchesAll() holds exactly when
//     no filter parameter was given, and ToQueryString() parses back into
//     the same filter (same canonical string).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter.h"
#include "fuzz_support.h"
#include "notification.h"

namespace {

using Params = std::multimap<std::string, std::string>;

bool ReferenceCompiles(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 255) return false;
  for (char c : pattern) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b > 0x7E) return false;
  }
  for (std::string_view word : fuzz::Split(pattern, '.')) {
    bool wild = word.find_first_of("*#") != std::string_view::npos;
    if (wild && word != "*" && word != "#") return false;
  }
  return true;
}

class ReferenceMatcher {
 public:
  ReferenceMatcher(std::string_view pattern, std::string_view key)
      : pattern_(fuzz::Split(pattern, '.')), key_(fuzz::Split(key, '.')) {}

  bool Matches() { return Match(0, 0); }

 private:
  // Pattern words from i on match key words from j on.
  bool Match(size_t i, size_t j) {
    auto memo = memo_.find({i, j});
    if (memo != memo_.end()) return memo->second;
    bool result;
    if (i == pattern_.size()) {
      result = j == key_.size();
    } else if (pattern_[i] == "#") {
      result = Match(i + 1, j) || (j < key_.size() && Match(i, j + 1));
    } else if (j == key_.size()) {
      result = false;
    } else if (pattern_[i] == "*") {
      result = Match(i + 1, j + 1);
    } else {
      result = fuzz::Lower(pattern_[i]) == fuzz::Lower(key_[j]) &&
               Match(i + 1, j + 1);
    }
    memo_[{i, j}] = result;
    return result;
  }

  std::vector<std::string_view> pattern_;
  std::vector<std::string_view> key_;
  std::map<std::pair<size_t, size_t>, bool> memo_;
};

const char* const kFields[] = {"project", "group", "service", "type", "key"};

bool ReferenceFilterValid(const Params& params) {
  for (const char* name : kFields) {
    if (params.count(name) > 32) return false;
    auto range = params.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second.size() > 256) return false;
      if (std::string_view(name) == "key" && !ReferenceCompiles(it->second)) {
        return false;
      }
    }
  }
  return true;
}

bool ReferenceFilterMatches(const Params& params,
                            const notifications::Notification& n) {
  const std::optional<std::string>* fields[] = {&n.project, &n.group,
                                                &n.service, &n.type};
  for (size_t f = 0; f < 4; ++f) {
    auto range = params.equal_range(kFields[f]);
    if (range.first == range.second) continue;
    std::string have = fuzz::Lower(fields[f]->value_or(""));
    bool any = false;
    for (auto it = range.first; it != range.second; ++it) {
      any = any || fuzz::Lower(it->second) == have;
    }
    if (!any) return false;
  }
  auto keys = params.equal_range("key");
  if (keys.first == keys.second) return true;
  const std::string key = n.project.value_or("") + "." + n.group.value_or("") +
                          "." + n.service.value_or("") + "." +
                          n.type.value_or("");
  for (auto it = keys.first; it != keys.second; ++it) {
    if (ReferenceMatcher(it->second, key).Matches()) return true;
  }
  return false;
}

notifications::Notification FromKey(std::string_view key) {
  notifications::Notification n;
  n.id = "1-1";
  std::optional<std::string>* fields[] = {&n.project, &n.group, &n.service,
                                          &n.type};
  std::string_view rest = key;
  for (size_t f = 0; f < 4; ++f) {
    size_t dot = f < 3 ? rest.find('.') : std::string_view::npos;
    *fields[f] = std::string(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view pattern = fuzz::TakeLine(rest);
  const std::string_view key = fuzz::TakeLine(rest);
  const Params params = fuzz::ParseQuery(rest);

  auto compiled = notifications::TopicPattern::Compile(pattern);
  FUZZ_CHECK(compiled.ok() == ReferenceCompiles(pattern),
             std::string(pattern) + " -> " + compiled.status().message());
  if (compiled.ok()) {
    FUZZ_CHECK(compiled->text() == fuzz::Lower(pattern), compiled->text());
    FUZZ_CHECK(
        compiled->Matches(key) == ReferenceMatcher(pattern, key).Matches(),
        std::string(pattern) + " vs " + std::string(key));
  } else {
    FUZZ_CHECK(!compiled.status().message().empty(), "no message");
  }

  auto filter = notifications::Filter::FromQuery(params);
  FUZZ_CHECK(filter.ok() == ReferenceFilterValid(params),
             filter.status().message());
  if (!filter.ok()) return 0;
  notifications::Notification n = FromKey(key);
  FUZZ_CHECK(filter->Matches(n) == ReferenceFilterMatches(params, n),
             filter->ToQueryString() + " vs " + std::string(key));
  bool any_filter = false;
  for (const char* name : kFields)
    any_filter = any_filter || params.count(name);
  FUZZ_CHECK(filter->MatchesAll() == !any_filter, filter->ToQueryString());
  const std::string canonical = filter->ToQueryString();
  auto again = notifications::Filter::FromQuery(fuzz::ParseQuery(canonical));
  FUZZ_CHECK(again.ok(), canonical + " -> " + again.status().message());
  FUZZ_CHECK(again->ToQueryString() == canonical,
             canonical + " -> " + again->ToQueryString());
  FUZZ_CHECK(again->Matches(n) == filter->Matches(n), canonical);
  return 0;
}
