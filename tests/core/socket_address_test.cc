#include "socket_address.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace notifications {
namespace {

TEST_CASE("socket address: both ends of a loopback connection") {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(server >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(server, 1) == 0);
  std::string ip;
  int port = -1;
  SocketAddress(server, /*peer=*/false, ip, port);
  CHECK(ip == "127.0.0.1");
  REQUIRE(port > 0);
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
          0);
  std::string peer_ip;
  int peer_port = 0;
  SocketAddress(client, /*peer=*/true, peer_ip, peer_port);
  CHECK(peer_ip == "127.0.0.1");
  CHECK(peer_port == port);
  // Not connected: nothing.
  SocketAddress(server, /*peer=*/true, ip, port);
  CHECK(ip.empty());
  CHECK(port == 0);
  ::close(client);
  ::close(server);
}

}  // namespace
}  // namespace notifications
