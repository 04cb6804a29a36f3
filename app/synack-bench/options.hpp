#pragma once
// synack-bench's options: one set of names for the command line and the
// config file (Boost.Program_options). Every bad value is refused with a
// message naming the option and the reason.

#include <synack/wire/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace synack::bench {

enum class Mode : std::uint8_t { echo, sink, source };
enum class Role : std::uint8_t { server, client };

struct Options {
    Role role = Role::server;
    Mode mode = Mode::echo;
    wire::Ipv4Addr ip;
    std::uint8_t prefix_len = 24;
    std::optional<wire::Ipv4Addr> gateway;
    std::vector<std::uint16_t> listen{5001};
    std::uint16_t port_id = 0;
    std::uint64_t source_bytes = 1ULL << 30; // per connection, in source mode
    double duration_s = 0;                   // 0: until SIGINT or SIGTERM
    std::uint32_t mbufs = 65535;
    std::uint16_t rx_descriptors = 1024; // per queue; the port may round them
    std::uint16_t tx_descriptors = 1024;
    std::uint32_t max_connections = 16384; // per run loop
    std::uint16_t mtu = 0;                 // 0: the port's own
    bool sha256 = false;                   // sink: hash each stream received
    // client: connect to connect_ip:connect_port over `connections`
    // connections, each sending `source_bytes` and checking the echo.
    wire::Ipv4Addr connect_ip;
    std::uint16_t connect_port = 0;
    std::uint32_t connections = 1;
    bool client_closes = true; // else wait for the server's FIN first
};

/// Parses the application's arguments (after EAL's, "--" removed): the
/// role ("server" or "client") then options. Returns the options, or the message to
/// print before exiting with status 2 (a help request returns its text
/// with `help` set).
struct ParseError {
    std::string message;
    bool help = false;
};
std::variant<Options, ParseError> parse_options(int argc, char** argv);

const char* to_string(Mode m) noexcept;

} // namespace synack::bench
