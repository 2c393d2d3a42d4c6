#include "filter.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "url_encoding.h"

namespace notifications {
namespace {

constexpr size_t kMaxPatternBytes = 255;

char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `lower` is already lowercase.
bool EqualsIgnoreCase(std::string_view lower, std::string_view s) {
  if (lower.size() != s.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (lower[i] != LowerAscii(s[i])) return false;
  }
  return true;
}

std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(s.substr(start));
      return words;
    }
    words.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// `values` are lowercased.
bool AnyEquals(const std::vector<std::string>& values,
               const std::optional<std::string>& field) {
  std::string_view s = field.has_value() ? std::string_view(*field) : "";
  for (const std::string& v : values) {
    if (EqualsIgnoreCase(v, s)) return true;
  }
  return false;
}

}  // namespace

Result<TopicPattern> TopicPattern::Compile(std::string_view pattern) {
  if (pattern.empty()) {
    return Status::InvalidArgument("empty topic pattern");
  }
  if (pattern.size() > kMaxPatternBytes) {
    return Status::InvalidArgument("topic pattern longer than " +
                                   std::to_string(kMaxPatternBytes) + " bytes");
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    auto b = static_cast<unsigned char>(pattern[i]);
    if (b < 0x20 || b > 0x7E) {
      return Status::InvalidArgument(
          "topic pattern has a byte outside printable ASCII at offset " +
          std::to_string(i));
    }
  }
  TopicPattern p;
  p.text_ = AsciiLower(std::string(pattern));
  for (std::string_view word : SplitWords(p.text_)) {
    bool wildcard = word.find_first_of("*#") != std::string_view::npos;
    if (wildcard && word.size() != 1) {
      return Status::InvalidArgument(
          "topic pattern \"" + p.text_ + "\": word \"" + std::string(word) +
          "\" mixes '*' or '#' with other characters; they must be whole "
          "words");
    }
    if (word == "#") {
      // "#.#" matches what "#" matches; folding keeps the table small.
      if (!p.words_.empty() && p.words_.back().kind == Kind::kHash) continue;
      p.words_.push_back({Kind::kHash, ""});
      p.has_hash_ = true;
    } else if (word == "*") {
      p.words_.push_back({Kind::kStar, ""});
    } else {
      p.words_.push_back({Kind::kLiteral, std::string(word)});
    }
  }
  return p;
}

bool TopicPattern::Matches(std::string_view routing_key, size_t* steps) const {
  const std::vector<std::string_view> key = SplitWords(routing_key);
  const size_t k = key.size();
  auto word_matches = [&key](const Word& w, size_t j) {
    return w.kind == Kind::kStar || EqualsIgnoreCase(w.literal, key[j]);
  };
  if (!has_hash_) {
    if (words_.size() != k) return false;
    for (size_t j = 0; j < k; ++j) {
      if (steps != nullptr) ++*steps;
      if (!word_matches(words_[j], j)) return false;
    }
    return true;
  }
  // next[j]: pattern words after the current one match key words j..k-1.
  // Filled from the last pattern word backwards, one row per word.
  std::vector<char> next(k + 1, 0);
  std::vector<char> cur(k + 1, 0);
  next[k] = 1;
  size_t cells = 0;
  for (size_t i = words_.size(); i-- > 0;) {
    const Word& w = words_[i];
    if (w.kind == Kind::kHash) {
      // Zero words (next[j]) or one more word then '#' again (cur[j + 1]).
      cur[k] = next[k];
      for (size_t j = k; j-- > 0;) cur[j] = next[j] || cur[j + 1];
    } else {
      cur[k] = 0;
      for (size_t j = 0; j < k; ++j) cur[j] = next[j + 1] && word_matches(w, j);
    }
    cells += k + 1;
    std::swap(cur, next);
  }
  if (steps != nullptr) *steps += cells;
  return next[0] != 0;
}

Result<Filter> Filter::FromQuery(
    const std::multimap<std::string, std::string>& params) {
  Filter f;
  struct Field {
    const char* name;
    std::vector<std::string>* values;
  };
  const Field fields[] = {{"project", &f.projects_},
                          {"group", &f.groups_},
                          {"service", &f.services_},
                          {"type", &f.types_},
                          {"key", nullptr}};
  for (const Field& field : fields) {
    auto range = params.equal_range(field.name);
    size_t count = 0;
    for (auto it = range.first; it != range.second; ++it) {
      const std::string& value = it->second;
      if (++count > kMaxValuesPerParameter) {
        return Status::InvalidArgument(
            std::string(field.name) + ": more than " +
            std::to_string(kMaxValuesPerParameter) + " values");
      }
      if (value.size() > kMaxValueBytes) {
        return Status::InvalidArgument(
            std::string(field.name) + ": value longer than " +
            std::to_string(kMaxValueBytes) + " bytes");
      }
      if (field.values != nullptr) {
        field.values->push_back(AsciiLower(value));
        continue;
      }
      Result<TopicPattern> pattern = TopicPattern::Compile(value);
      if (!pattern.ok()) {
        return Status::InvalidArgument("key: " + pattern.status().message());
      }
      f.keys_.push_back(std::move(pattern).value());
    }
    if (field.values != nullptr) {
      std::sort(field.values->begin(), field.values->end());
      field.values->erase(
          std::unique(field.values->begin(), field.values->end()),
          field.values->end());
    }
  }
  auto by_text = [](const TopicPattern& a, const TopicPattern& b) {
    return a.text() < b.text();
  };
  auto same_text = [](const TopicPattern& a, const TopicPattern& b) {
    return a.text() == b.text();
  };
  std::sort(f.keys_.begin(), f.keys_.end(), by_text);
  f.keys_.erase(std::unique(f.keys_.begin(), f.keys_.end(), same_text),
                f.keys_.end());
  return f;
}

bool Filter::Matches(const Notification& n) const {
  if (!projects_.empty() && !AnyEquals(projects_, n.project)) return false;
  if (!groups_.empty() && !AnyEquals(groups_, n.group)) return false;
  if (!services_.empty() && !AnyEquals(services_, n.service)) return false;
  if (!types_.empty() && !AnyEquals(types_, n.type)) return false;
  if (keys_.empty()) return true;
  const std::string key = n.RoutingKey();
  for (const TopicPattern& p : keys_) {
    if (p.Matches(key)) return true;
  }
  return false;
}

bool Filter::MatchesAll() const {
  return projects_.empty() && groups_.empty() && services_.empty() &&
         types_.empty() && keys_.empty();
}

std::string Filter::ToQueryString() const {
  std::string out;
  for (const std::string& v : projects_) AppendQueryParameter(out, "project", v);
  for (const std::string& v : groups_) AppendQueryParameter(out, "group", v);
  for (const std::string& v : services_) AppendQueryParameter(out, "service", v);
  for (const std::string& v : types_) AppendQueryParameter(out, "type", v);
  for (const TopicPattern& p : keys_) AppendQueryParameter(out, "key", p.text());
  return out;
}

}  // namespace notifications
