// nb-rss-floor: the resident memory a process has before any bridge code
// runs, from the libraries the bridge links (Debian's libcurl and
// cpp-httplib and what they pull in). Prints VmRSS at main(), after
// curl_global_init() (which initialises OpenSSL), and after one plain-HTTP
// request, so the bridge's own share of its RSS can be told apart.
//
//   nb-rss-floor [URL]     (default http://127.0.0.1:9/, refused is fine)
#include <curl/curl.h>
#include <httplib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace {

long VmRssKb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, std::strlen(field), field) == 0) {
      return std::stol(line.substr(std::strlen(field)));
    }
  }
  return -1;
}

void Print(const char* when) {
  std::printf("%-34s VmRSS %6ld KB  (RssFile %6ld KB, RssAnon %6ld KB)\n", when,
              VmRssKb("VmRSS:"), VmRssKb("RssFile:"), VmRssKb("RssAnon:"));
}

}  // namespace

int main(int argc, char** argv) {
  // Keep cpp-httplib linked and loaded, as in the bridge.
  httplib::Server unused_server;
  Print("at main()");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Print("after curl_global_init()");
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL,
                   argc > 1 ? argv[1] : "http://127.0.0.1:9/");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_perform(curl);
  Print("after one plain-HTTP request");
  curl_easy_cleanup(curl);
  return 0;
}
