// Listen addresses as the programs' --listen flags take them.
// Pure and thread-safe.
#pragma once

#include <string>

namespace notifications {

// "host:port", "[v6]:port" or ":port" (host defaults to 127.0.0.1).
// Port 0..65535. False with a message on anything else.
bool ParseListenAddress(const std::string& text, std::string* host, int* port,
                        std::string* error);

}  // namespace notifications
