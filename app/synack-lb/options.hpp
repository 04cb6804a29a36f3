#pragma once
// synack-lb's options: one set of names for the command line and the config
// file (Boost.Program_options). Every bad value is refused with a message
// naming the option and the reason.

#include <synack/wire/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace synack::lb {

/// How a client connection finds its backend.
enum class Policy : std::uint8_t {
    round_robin, // the next backend that is up
    maglev,      // consistent hashing of the client's address and port
};

const char* to_string(Policy p) noexcept;

struct Backend {
    wire::Ipv4Addr ip;
    std::uint16_t port = 0;
    bool operator==(const Backend&) const noexcept = default;
};

struct Options {
    wire::Ipv4Addr ip;
    std::uint8_t prefix_len = 24;
    std::optional<wire::Ipv4Addr> gateway;
    std::vector<std::uint16_t> listen;
    std::vector<Backend> backends;
    Policy policy = Policy::round_robin;
    /// How long a backend that refused or did not answer stays out.
    double down_s = 10;
    /// SYNs resent to a backend before it counts as not answering (1 s, 2 s,
    /// 4 s ... apart, RFC 6298).
    std::uint8_t connect_retries = 2;
    std::uint16_t port_id = 0;
    std::uint32_t mbufs = 65535;
    std::uint32_t max_connections = 16384; // per run loop, clients and backends together
    double duration_s = 0;                 // 0: until SIGINT or SIGTERM
};

struct ParseError {
    std::string message;
    bool help = false; // --help: the message is the usage, exit 0
};

/// Parses what follows EAL's arguments (argv[0] is the program).
std::variant<Options, ParseError> parse_options(int argc, char** argv);

} // namespace synack::lb
