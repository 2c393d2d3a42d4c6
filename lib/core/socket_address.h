// The two ends of a connected socket as text, for the HTTP servers (the
// bridge's and the mock's) that hand them to cpp-httplib. Thread-safe.
#pragma once

#include <string>

namespace notifications {

// The address of the peer (getpeername) or, with `peer` false, the local
// end (getsockname) of socket `fd`: `ip` as inet_ntop() writes it
// ("127.0.0.1", "::1") and `port`. "" and 0 when the socket has none or is
// not IPv4/IPv6.
void SocketAddress(int fd, bool peer, std::string& ip, int& port);

}  // namespace notifications
