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

/// What a server does with each connection on a port: echo it back, read
/// and discard it (checking the stream), send --bytes of the stream then
/// close (0: until the peer closes), answer each request of --request-size
/// bytes with --response-size bytes, or accept and never read.
enum class ServerMode : std::uint8_t { echo, sink, source, rr, hold };
/// server: serve ports; client: drive a server elsewhere; pair: both in one
/// process, joined by a pair of net_ring ports (or loopback, --stack kernel).
enum class Role : std::uint8_t { server, client, pair };
/// The client's workload (workload.hpp); stream: echo a checked stream over
/// each connection and close, exit 0 when all came back intact.
enum class Workload : std::uint8_t { stream, rps, cps, bulk };
enum class Direction : std::uint8_t { up, down, both };
enum class StackKind : std::uint8_t { synack, kernel };

struct ListenSpec {
    std::uint16_t port = 5001;
    ServerMode mode = ServerMode::echo;
    bool operator==(const ListenSpec&) const noexcept = default;
};

struct Options {
    Role role = Role::server;
    StackKind stack = StackKind::synack;
    ServerMode mode = ServerMode::echo; // for ports given without one
    wire::Ipv4Addr ip;
    std::uint8_t prefix_len = 24;
    std::optional<wire::Ipv4Addr> gateway;
    std::vector<ListenSpec> listen{ListenSpec{}};
    std::uint16_t port_id = 0;
    std::uint64_t source_bytes = 1ULL << 30; // per connection, in source mode (0: no end)
    double duration_s = 0;                   // 0: until SIGINT or SIGTERM
    double warmup_s = 0;                     // run first and not counted
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
    bool client_closes = true; // else wait for the server's FIN first (rr servers close after answering)
    Workload workload = Workload::stream;
    std::uint32_t request_size = 64;
    std::uint32_t response_size = 64;
    std::uint32_t pipeline = 1; // rps: requests in flight per connection
    double rate = 0;            // rps: requests per second in all, open loop (0: closed loop)
    std::uint64_t count = 0;    // rps: requests, cps: connections, then stop (0: --duration)
    Direction direction = Direction::up; // bulk
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

const char* to_string(ServerMode m) noexcept;
const char* to_string(Workload w) noexcept;
const char* to_string(StackKind s) noexcept;

} // namespace synack::bench
