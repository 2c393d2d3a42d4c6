// A real nginx for tests: a child process on a free loopback port, from a
// generated nginx.conf in a temporary directory (error log, pid and temp
// paths there too), with the files we ship in packaging/nginx/ rendered
// into it (their Jinja placeholders filled in by RenderNginxTemplate()).
//
// nginx: /usr/sbin/nginx (Debian's "nginx", in the test group of
// packaging/debian-packages.txt), or $NB_NGINX.
//
// Not thread-safe; one per test.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "test_support.h"

namespace notifications {
namespace testing {

// The nginx binary the tests run.
std::string NginxBinary();
// True when there is no nginx to run (MissingPrerequisite() decides whether
// that fails, skips or returns).
bool NginxMissing();

// The text of packaging/nginx/`name`.
std::string ShippedNginxFile(const std::string& name);

// Fills in a shipped template: each "{{ key }}" of `values`, and each
// "{% for X in key %} ... {% endfor %}" block (one level, as our files
// use) once per item of `lists[key]`, with "{{ X }}" set to the item.
// Fails the test when a key is not found, so an edit of the shipped file
// cannot silently turn a test into a no-op.
std::string RenderNginxTemplate(
    std::string text, const std::map<std::string, std::string>& values,
    const std::map<std::string, std::vector<std::string>>& lists = {});

// Replaces every `from` in `text`; fails the test if there is none.
void ReplaceAll(std::string& text, const std::string& from,
                const std::string& to);

class NginxProxy {
 public:
  // `server_conf` goes inside the server block, `http_conf` at the http
  // level (e.g. an upstream group). `base_path` is the prefix url() adds.
  // Compression is on for event streams at the server level, as a busy
  // front end could have it: only the shipped blocks may turn it off.
  NginxProxy(const std::string& server_conf, const std::string& http_conf,
             std::string base_path);
  ~NginxProxy();
  NginxProxy(const NginxProxy&) = delete;
  NginxProxy& operator=(const NginxProxy&) = delete;

  // A URL under the base path, e.g. url("/events").
  std::string url(const std::string& path) const;
  int port() const { return port_; }
  std::string ErrorLog() const;

 private:
  std::string MainConfig(int port) const;

  std::string dir_;
  std::string base_path_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace testing
}  // namespace notifications
