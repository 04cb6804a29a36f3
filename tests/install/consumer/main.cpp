// A program outside the synack tree, built only from what `meson install`
// put on the machine: headers, libsynack and synack.pc. It uses the public
// API (synack/synack.hpp) and nothing else.

#include <synack/synack.hpp>

#include <cstdio>
#include <string>

int main() {
    // A stack's settings, and the names of its results: no EAL needed.
    synack::StackConfig config;
    config.ipv4 = synack::Ipv4Addr::from_octets(10, 0, 0, 2);
    config.max_connections = 1024;
    const std::string stale = synack::to_string(synack::ConnError::stale);
    const std::string v(synack::version());
    const bool ok = stale == "stale" && config.ipv4.value == 0x0a000002;
    std::printf("synack %s, api %s\n", v.c_str(), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
