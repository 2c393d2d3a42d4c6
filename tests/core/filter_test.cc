#include "filter.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace notifications {
namespace {

TopicPattern MustCompile(std::string_view pattern) {
  Result<TopicPattern> p = TopicPattern::Compile(pattern);
  INFO("pattern: " << std::string(pattern));
  REQUIRE(p.ok());
  return std::move(p).value();
}

bool Match(std::string_view pattern, std::string_view key) {
  return MustCompile(pattern).Matches(key);
}

std::string CompileError(std::string_view pattern) {
  Result<TopicPattern> p = TopicPattern::Compile(pattern);
  return p.ok() ? "" : p.status().message();
}

Notification Make(const char* project, const char* group, const char* service,
                  const char* type) {
  Notification n;
  n.id = "1-1";
  if (project) n.project = project;
  if (group) n.group = group;
  if (service) n.service = service;
  if (type) n.type = type;
  return n;
}

using Params = std::multimap<std::string, std::string>;

Filter MustFilter(const Params& params) {
  Result<Filter> f = Filter::FromQuery(params);
  if (!f.ok()) INFO("error: " << f.status().message());
  REQUIRE(f.ok());
  return std::move(f).value();
}

std::string FilterError(const Params& params) {
  Result<Filter> f = Filter::FromQuery(params);
  return f.ok() ? "" : f.status().message();
}

TEST_SUITE_BEGIN("filter");

TEST_CASE("TopicPattern matches literal words exactly") {
  CHECK(Match("nasqueron.ops.github.push", "nasqueron.ops.github.push"));
  CHECK_FALSE(Match("nasqueron.ops.github.push", "nasqueron.ops.github"));
  CHECK_FALSE(Match("nasqueron.ops.github", "nasqueron.ops.github.push"));
  CHECK_FALSE(Match("nasqueron.ops", "nasqueron.opsx"));
}

TEST_CASE("TopicPattern nasqueron.ops.# matches the prefix and below") {
  CHECK(Match("nasqueron.ops.#", "nasqueron.ops.github.push"));
  CHECK(Match("nasqueron.ops.#", "nasqueron.ops"));
  CHECK(Match("nasqueron.ops.#", "nasqueron.ops."));
  CHECK_FALSE(Match("nasqueron.ops.#", "nasqueron.dev.github.push"));
  CHECK_FALSE(Match("nasqueron.ops.#", "nasqueron"));
}

TEST_CASE("TopicPattern *.ci.jenkins.completed.* needs exactly five words") {
  const char* p = "*.ci.jenkins.completed.*";
  CHECK(Match(p, "nasqueron.ci.jenkins.completed.success"));
  CHECK(Match(p, ".ci.jenkins.completed."));
  CHECK_FALSE(Match(p, "nasqueron.ci.jenkins.completed"));
  CHECK_FALSE(Match(p, "nasqueron.ci.jenkins.completed.a.b"));
  CHECK_FALSE(Match(p, "a.b.ci.jenkins.completed.x"));
}

TEST_CASE("TopicPattern # alone matches every key") {
  CHECK(Match("#", "nasqueron.ops.github.push"));
  CHECK(Match("#", "..."));
  CHECK(Match("#", ""));
  CHECK(Match("#", "single"));
}

TEST_CASE("TopicPattern #.push matches keys ending with push") {
  CHECK(Match("#.push", "push"));
  CHECK(Match("#.push", "nasqueron.ops.github.push"));
  CHECK_FALSE(Match("#.push", "nasqueron.ops.github.pushed"));
  CHECK_FALSE(Match("#.push", "nasqueron.push.github.x"));
}

TEST_CASE("TopicPattern a.#.b.#.c needs a, b, c in order") {
  const char* p = "a.#.b.#.c";
  CHECK(Match(p, "a.b.c"));
  CHECK(Match(p, "a.x.b.y.c"));
  CHECK(Match(p, "a.x.y.b.b.z.c"));
  CHECK(Match(p, "a.b.b.c.c"));
  CHECK_FALSE(Match(p, "a.c"));
  CHECK_FALSE(Match(p, "a.c.b"));
  CHECK_FALSE(Match(p, "a.b.c.d"));
  CHECK_FALSE(Match(p, "x.a.b.c"));
}

TEST_CASE("TopicPattern * matches one word, an empty word included") {
  CHECK(Match("a.*.c", "a.b.c"));
  CHECK(Match("a.*.c", "a..c"));
  CHECK_FALSE(Match("a.*.c", "a.c"));
  CHECK_FALSE(Match("a.*.c", "a.b.b.c"));
  CHECK(Match("*", ""));
  CHECK_FALSE(Match("*", "a.b"));
}

TEST_CASE("TopicPattern handles empty words literally") {
  // A notification with group "" has the key "nasqueron..github.push".
  CHECK(Match("nasqueron..github.push", "nasqueron..github.push"));
  CHECK_FALSE(Match("nasqueron..github.push", "nasqueron.ops.github.push"));
  CHECK(Match("nasqueron.*.github.push", "nasqueron..github.push"));
  CHECK(Match("nasqueron.#.github.push", "nasqueron..github.push"));
  CHECK(Match(".", "."));
  CHECK_FALSE(Match(".", ""));
  CHECK(Match("#.", "a.b."));
  CHECK_FALSE(Match("#.", "a.b"));
}

TEST_CASE("TopicPattern # matches zero words between others") {
  CHECK(Match("a.#.b", "a.b"));
  CHECK(Match("#.a.#", "a"));
  CHECK(Match("#.#", "a.b"));
  CHECK(Match("#.#", ""));
  CHECK(Match("*.#", "a"));
  CHECK(Match("*.#", ""));  // "" is one (empty) word.
  CHECK_FALSE(Match("*.*.#", "a"));
  CHECK(Match("#.*.*", "a.b"));
}

TEST_CASE("TopicPattern compares ASCII case-insensitively") {
  CHECK(Match("Nasqueron.OPS.#", "nasqueron.ops.github.push"));
  CHECK(Match("nasqueron.ops.#", "NASQUERON.Ops.GitHub.Push"));
  CHECK(MustCompile("Nasqueron.OPS.#").text() == "nasqueron.ops.#");
  // Non-ASCII bytes in keys compare as they are.
  CHECK(Match("*.ops.#", "caf\xC3\xA9.ops.x"));
  CHECK_FALSE(Match("cafe.ops.#", "caf\xC3\xA9.ops.x"));
}

TEST_CASE("TopicPattern::Compile rejects bad patterns") {
  CHECK(CompileError("") == "empty topic pattern");
  CHECK(CompileError(std::string(256, 'a')) ==
        "topic pattern longer than 255 bytes");
  CHECK(CompileError(std::string(255, 'a')) == "");
  CHECK(CompileError("ab*") ==
        "topic pattern \"ab*\": word \"ab*\" mixes '*' or '#' with other "
        "characters; they must be whole words");
  CHECK(CompileError("a.#b.c") != "");
  CHECK(CompileError("a.**") != "");
  CHECK(CompileError("##") != "");
  CHECK(CompileError("a\tb") ==
        "topic pattern has a byte outside printable ASCII at offset 1");
  CHECK(CompileError("caf\xC3\xA9") != "");
  CHECK(CompileError("a\x7F") != "");
  CHECK(CompileError(std::string("a\0b", 3)) != "");
  CHECK(CompileError("a b.#") == "");  // Space is printable.
}

// Work is counted, not timed: a backtracking matcher would take
// exponentially many steps on these, a table one at most (pattern words + 1)
// x (key words + 1) cells (how long that takes: fuzz/ and bench/).
TEST_CASE("TopicPattern matches a pathological pattern in polynomial time") {
  TopicPattern p = MustCompile("#.#.#.#.#.#.#.#.#.#.#.#.x");
  TopicPattern many = MustCompile(
      "#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.a.#.b");
  std::string key = "a";
  for (int i = 1; i < 200; ++i) key += ".a";
  const size_t key_words = 200;
  // Runs of '#' fold into one word: `p` is 2 words ("#.x"), `many` 32.
  size_t steps = 0;
  CHECK_FALSE(p.Matches(key, &steps));
  CHECK(steps <= 3 * (key_words + 1));
  steps = 0;
  CHECK_FALSE(many.Matches(key, &steps));
  CHECK(steps <= 32 * (key_words + 1));
  steps = 0;
  CHECK(p.Matches(key + ".x", &steps));
  CHECK(many.Matches(key + ".b", &steps));
  CHECK(steps <= (3 + 32) * (key_words + 2));
  CHECK(steps > 0);
}

TEST_CASE("TopicPattern stays linear on a long key of empty words") {
  TopicPattern p = MustCompile("*.#.*.#.*.#.*.#.*.#.*.#.*.#.*.#.*.#.z");
  std::string key(100000, '.');  // 100,001 empty words.
  size_t steps = 0;
  CHECK_FALSE(p.Matches(key, &steps));
  CHECK(steps <= 20 * (100001 + 1));
  CHECK(steps > 0);
}

TEST_CASE("Filter without parameters matches everything") {
  Filter f = MustFilter({});
  CHECK(f.MatchesAll());
  CHECK(f.Matches(Make("Nasqueron", "ops", "GitHub", "push")));
  CHECK(f.Matches(Make(nullptr, nullptr, nullptr, nullptr)));
  CHECK(f.ToQueryString() == "");
  CHECK(Filter().MatchesAll());
  CHECK(Filter().Matches(Make("a", "b", "c", "d")));
}

TEST_CASE("Filter ignores unknown parameters") {
  Filter f = MustFilter({{"backlog", "10"}, {"lastEventId", "1-1"}});
  CHECK(f.MatchesAll());
}

TEST_CASE("Filter field values compare ASCII case-insensitively") {
  Filter f = MustFilter({{"project", "NASQUERON"}});
  CHECK_FALSE(f.MatchesAll());
  CHECK(f.Matches(Make("Nasqueron", "ops", "GitHub", "push")));
  CHECK(f.Matches(Make("nasqueron", "ops", "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("Other", "ops", "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("Nasqueron2", "ops", "GitHub", "push")));
}

TEST_CASE("Filter ORs the values of one parameter") {
  Filter f = MustFilter({{"type", "push"}, {"type", "TASK"}});
  CHECK(f.Matches(Make("n", "ops", "GitHub", "push")));
  CHECK(f.Matches(Make("n", "ops", "Phabricator", "task")));
  CHECK_FALSE(f.Matches(Make("n", "ops", "GitHub", "issue")));
}

TEST_CASE("Filter ANDs different parameters") {
  Filter f = MustFilter({{"project", "nasqueron"},
                         {"service", "github"},
                         {"service", "jenkins"},
                         {"group", "ops"}});
  CHECK(f.Matches(Make("Nasqueron", "ops", "GitHub", "push")));
  CHECK(f.Matches(Make("Nasqueron", "ops", "Jenkins", "completed")));
  CHECK_FALSE(f.Matches(Make("Nasqueron", "dev", "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("Other", "ops", "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("Nasqueron", "ops", "Phabricator", "push")));
}

TEST_CASE("Filter empty value matches an empty or missing field") {
  Filter f = MustFilter({{"group", ""}});
  CHECK(f.Matches(Make("n", "", "GitHub", "push")));
  CHECK(f.Matches(Make("n", nullptr, "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("n", "ops", "GitHub", "push")));
  Filter g = MustFilter({{"group", "ops"}});
  CHECK_FALSE(g.Matches(Make("n", nullptr, "GitHub", "push")));
}

TEST_CASE("Filter key is a topic pattern over the routing key, OR-ed") {
  Filter f = MustFilter({{"key", "nasqueron.ops.#"}, {"key", "#.task"}});
  CHECK(f.Matches(Make("Nasqueron", "ops", "GitHub", "push")));
  CHECK(f.Matches(Make("Other", "dev", "Phabricator", "TASK")));
  CHECK_FALSE(f.Matches(Make("Nasqueron", "dev", "GitHub", "push")));
  Filter g = MustFilter({{"key", "nasqueron..github.*"}});
  CHECK(g.Matches(Make("Nasqueron", "", "GitHub", "push")));
  CHECK(g.Matches(Make("Nasqueron", nullptr, "GitHub", nullptr)));
}

TEST_CASE("Filter ANDs key with the field parameters") {
  Filter f = MustFilter({{"key", "*.ops.#"}, {"service", "github"}});
  CHECK(f.Matches(Make("Nasqueron", "ops", "GitHub", "push")));
  CHECK_FALSE(f.Matches(Make("Nasqueron", "ops", "Jenkins", "push")));
  CHECK_FALSE(f.Matches(Make("Nasqueron", "dev", "GitHub", "push")));
}

TEST_CASE("Filter::FromQuery names the parameter in its errors") {
  CHECK(FilterError({{"key", "ab*"}}).rfind("key: topic pattern", 0) == 0);
  CHECK(FilterError({{"key", ""}}) == "key: empty topic pattern");
  CHECK(FilterError({{"project", std::string(257, 'p')}}) ==
        "project: value longer than 256 bytes");
  CHECK(FilterError({{"project", std::string(256, 'p')}}) == "");
  Params many;
  for (int i = 0; i < 33; ++i) many.emplace("type", "t" + std::to_string(i));
  CHECK(FilterError(many) == "type: more than 32 values");
  many.erase(many.find("type"));
  CHECK(FilterError(many) == "");
  Params keys;
  for (int i = 0; i < 33; ++i) keys.emplace("key", "#");
  CHECK(FilterError(keys) == "key: more than 32 values");
}

TEST_CASE("Filter::ToQueryString is canonical and percent-encoded") {
  Filter f = MustFilter({{"key", "Nasqueron.ops.#"},
                         {"type", "push"},
                         {"project", "Nasqueron"},
                         {"project", "alpha beta"},
                         {"project", "nasqueron"},
                         {"group", ""},
                         {"service", "a&b=c"},
                         {"key", "*.ci.#"}});
  CHECK(f.ToQueryString() ==
        "project=alpha%20beta&project=nasqueron&group=&service=a%26b%3Dc"
        "&type=push&key=%2A.ci.%23&key=nasqueron.ops.%23");
}

TEST_SUITE_END();

}  // namespace
}  // namespace notifications
