#include "options.hpp"

#include "values.hpp"

#include <synack/engine/engine.hpp>

#include <boost/program_options.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <tuple>
#include <cstring>
#include <sstream>

namespace synack::bench {

namespace po = boost::program_options;
using app::ip_text;
using app::ipv4;
using app::not_a_host;
using app::number;
using app::prefix_mask;
using app::seconds;

const char* to_string(ServerMode m) noexcept {
    switch (m) {
    case ServerMode::echo: return "echo";
    case ServerMode::sink: return "sink";
    case ServerMode::source: return "source";
    case ServerMode::rr: return "rr";
    case ServerMode::hold: return "hold";
    }
    return "?";
}

const char* to_string(Workload w) noexcept {
    switch (w) {
    case Workload::stream: return "stream";
    case Workload::rps: return "rps";
    case Workload::cps: return "cps";
    case Workload::bulk: return "bulk";
    }
    return "?";
}

const char* to_string(StackKind k) noexcept { return k == StackKind::synack ? "synack" : "kernel"; }

namespace {

std::optional<ServerMode> server_mode(std::string_view s) {
    for (const ServerMode m : {ServerMode::echo, ServerMode::sink, ServerMode::source, ServerMode::rr, ServerMode::hold}) {
        if (s == to_string(m)) {
            return m;
        }
    }
    return std::nullopt;
}

ParseError bad(const std::string& option, const std::string& value, const std::string& why) {
    return {fmt::format("synack-bench: option --{}: '{}' {}", option, value, why)};
}

/// The text of the config file at path, or the error that refuses it.
std::variant<std::string, ParseError> config_text(const std::string& path) {
    std::string text;
    if (const auto why = app::read_config(path, text)) {
        return bad("config", path, *why);
    }
    return text;
}

/// The server mode a pair's server takes for its client's workload.
ServerMode pair_server_mode(const Options& o) {
    switch (o.workload) {
    case Workload::stream: return ServerMode::echo;
    case Workload::rps:
    case Workload::cps: return o.request_size == o.response_size && o.workload == Workload::rps ? ServerMode::echo : ServerMode::rr;
    case Workload::bulk: return o.direction == Direction::up ? ServerMode::sink : ServerMode::source;
    }
    return ServerMode::echo;
}

/// The workload's options (--workload and what goes with it).
std::optional<ParseError> parse_workload(const po::variables_map& vm, Options& o) {
    if (vm.count("workload") != 0) {
        const std::string w = vm["workload"].as<std::string>();
        bool found = false;
        for (const Workload k : {Workload::stream, Workload::rps, Workload::cps, Workload::bulk}) {
            if (w == to_string(k)) {
                o.workload = k;
                found = true;
            }
        }
        if (!found) {
            return bad("workload", w, "is not one of stream, rps, cps, bulk");
        }
        if (o.role == Role::server) {
            return bad("workload", w, "applies to a client or a pair, not a server (see --listen PORT:MODE)");
        }
    }
    if (o.workload == Workload::stream && o.stack == StackKind::kernel && o.role != Role::server) {
        return ParseError{"synack-bench: option --stack: 'kernel' runs the rps, cps and bulk workloads (see --workload), not stream"};
    }
    for (const auto& [name, field, low, high] :
         {std::tuple{"request-size", &o.request_size, 1U, 1U << 24}, std::tuple{"response-size", &o.response_size, 1U, 1U << 24},
          std::tuple{"pipeline", &o.pipeline, 1U, 256U}}) {
        if (vm.count(name) != 0) {
            const std::string s = vm[name].as<std::string>();
            const auto v = number(s, high);
            if (!v || *v < low) {
                return bad(name, s, fmt::format("is not a whole number from {} to {}", low, high));
            }
            *field = *v;
        }
    }
    if (vm.count("rate") != 0) {
        const std::string s = vm["rate"].as<std::string>();
        double v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || !(v > 0) || v > 1e9) {
            return bad("rate", s, "is not a rate of requests per second above 0 and at most 1000000000");
        }
        if (o.workload != Workload::rps) {
            return bad("rate", s, "applies to --workload rps only");
        }
        o.rate = v;
    }
    if (vm.count("count") != 0) {
        const std::string s = vm["count"].as<std::string>();
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || v == 0) {
            return bad("count", s, "is not a count above 0");
        }
        if (o.workload != Workload::rps && o.workload != Workload::cps) {
            return bad("count", s, "applies to --workload rps or cps only");
        }
        o.count = v;
    }
    if (vm.count("direction") != 0) {
        const std::string s = vm["direction"].as<std::string>();
        if (s != "up" && s != "down" && s != "both") {
            return bad("direction", s, "is not up, down or both");
        }
        o.direction = s == "up" ? Direction::up : s == "down" ? Direction::down : Direction::both;
    }
    return std::nullopt;
}

} // namespace

std::variant<Options, ParseError> parse_options(int argc, char** argv) {
    po::options_description named("synack-bench [EAL args] -- server|client|pair [options]\n\nOptions (also as name = value lines in --config)");
    named.add_options()
        ("help,h", "this text")
        ("config", po::value<std::string>(), "read options from this text file too, name = value lines (the command line wins)")
        ("stack", po::value<std::string>(), "synack (default), or kernel: the same workload over Linux sockets")
        ("mode", po::value<std::string>()->default_value("echo"), "server: what ports given without :MODE do: echo, sink, source, rr or hold")
        ("ip", po::value<std::string>(), "our address and on-link prefix, a.b.c.d/n (required)")
        ("gateway", po::value<std::string>(), "next hop for addresses off the link (an address on it)")
        ("listen", po::value<std::vector<std::string>>()->multitoken(), "TCP ports to serve, PORT or PORT:MODE (default 5001)")
        ("port-id", po::value<std::string>()->default_value("0"), "the ethdev port")
        ("bytes", po::value<std::string>(), "source mode: bytes to send per connection (default 1 GiB; 0: until the peer closes); client: the stream's length (default 1 MiB), bulk: bytes per connection (default: until --duration ends)")
        ("duration", po::value<std::string>(), "seconds to run, after the warm-up (default: until SIGINT or SIGTERM; pair: 10)")
        ("warmup", po::value<std::string>(), "client: seconds to run first, not counted (default 0)")
        ("mbufs", po::value<std::string>(), "data mbufs, split between the RX queues' pools (default 65535)")
        ("rx-descriptors", po::value<std::string>(), "RX ring size per queue, 64 to 32768 (default 1024)")
        ("tx-descriptors", po::value<std::string>(), "TX ring size per queue, 64 to 32768 (default 1024)")
        ("max-connections", po::value<std::string>(), "connections at once, per run loop (default 16384)")
        ("sha256", po::bool_switch(), "sink: report the SHA-256 of each stream received (the first 16 per run loop)")
        ("mtu", po::value<std::string>(), "the port's IP MTU, 68 to 9600 (default: the port's own)")
        ("connect", po::value<std::string>(), "client: the echo server, a.b.c.d:port (required)")
        ("connections", po::value<std::string>(), "client: connections at once (default 1)")
        ("close-first", po::value<std::string>(), "who closes first, client or server (default client; an rr server then closes after its answer)")
        ("workload", po::value<std::string>(), "client: stream (echo a checked stream, the default), rps, cps or bulk")
        ("request-size", po::value<std::string>(), "rps, cps, rr servers: bytes per request (default 64)")
        ("response-size", po::value<std::string>(), "rps, cps, rr servers: bytes per response (default 64)")
        ("pipeline", po::value<std::string>(), "rps: requests in flight per connection (default 1)")
        ("rate", po::value<std::string>(), "rps: requests per second in all, open loop, latency from the intended send time (default: closed loop)")
        ("count", po::value<std::string>(), "rps: requests, cps: connections, then stop (default: --duration)")
        ("direction", po::value<std::string>(), "bulk: up (client sends), down (server sends) or both (default up)");
    po::options_description hidden;
    hidden.add_options()("role", po::value<std::string>(), "server, client or pair");
    po::options_description all;
    all.add(named).add(hidden);
    po::positional_options_description positional;
    positional.add("role", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        if (vm.count("config") != 0) {
            auto text = config_text(vm["config"].as<std::string>());
            if (auto* e = std::get_if<ParseError>(&text)) {
                return *e;
            }
            std::istringstream file(std::get<std::string>(text));
            po::store(po::parse_config_file(file, named), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return ParseError{fmt::format("synack-bench: {}", e.what())};
    }
    if (vm.count("help") != 0) {
        std::ostringstream text;
        text << named;
        return ParseError{text.str(), true};
    }

    Options o;
    const std::string role = vm.count("role") != 0 ? vm["role"].as<std::string>() : "";
    if (role == "client" || role == "pair") {
        o.role = role == "client" ? Role::client : Role::pair;
        o.source_bytes = 1 << 20;
    } else if (role != "server") {
        return ParseError{fmt::format("synack-bench: the role must be 'server', 'client' or 'pair' (got '{}'); see --help", role)};
    }
    if (vm.count("stack") != 0) {
        const std::string k = vm["stack"].as<std::string>();
        if (k != "synack" && k != "kernel") {
            return bad("stack", k, "is not synack or kernel");
        }
        o.stack = k == "synack" ? StackKind::synack : StackKind::kernel;
    }
    const std::string mode = vm["mode"].as<std::string>();
    if (const auto m = server_mode(mode)) {
        o.mode = *m;
        o.listen = {ListenSpec{5001, o.mode}}; // unless --listen says otherwise
    } else {
        return bad("mode", mode, "is not one of echo, sink, source, rr, hold");
    }
    // A pair's addresses are its own (198.18.0.0/15, the benchmarking
    // range, RFC 2544); the kernel stack binds to any address by default.
    const bool ip_needed = o.role != Role::pair && o.stack == StackKind::synack;
    if (vm.count("ip") == 0 && ip_needed) {
        return ParseError{"synack-bench: option --ip is required (a.b.c.d/n)"};
    }
    if (vm.count("ip") == 0) {
        o.ip = wire::Ipv4Addr{o.role == Role::pair ? 0xc6120002 : 0}; // 198.18.0.2: the pair's server
    } else {
        const std::string s = vm["ip"].as<std::string>();
        const std::size_t slash = s.find('/');
        const auto addr = ipv4(std::string_view(s).substr(0, slash));
        const auto prefix = slash == std::string::npos ? std::optional<std::uint32_t>(24)
                                                       : number(std::string_view(s).substr(slash + 1), 32);
        if (!addr || !prefix) {
            return bad("ip", s, "is not an IPv4 address with a prefix length (a.b.c.d/n, n at most 32)");
        }
        o.ip = *addr;
        o.prefix_len = static_cast<std::uint8_t>(*prefix);
        // The kernel stack binds a socket: a loopback address is fine there.
        const bool loopback_ok = o.stack == StackKind::kernel && o.ip.value >> 24 == 127;
        if (const auto why = not_a_host(o.ip, o.prefix_len); why && !loopback_ok) {
            return bad("ip", s, *why);
        }
    }
    if (vm.count("gateway") != 0) {
        const std::string s = vm["gateway"].as<std::string>();
        o.gateway = ipv4(s);
        if (!o.gateway) {
            return bad("gateway", s, "is not an IPv4 address (a.b.c.d)");
        }
        // The engine reaches the gateway directly, by ARP: it must be on our link.
        const std::uint32_t mask = prefix_mask(o.prefix_len);
        if (o.gateway == o.ip) {
            return bad("gateway", s, "is our own address (--ip)");
        }
        if (((o.gateway->value ^ o.ip.value) & mask) != 0) {
            return bad("gateway", s,
                       fmt::format("is not on our link, {}/{} (--ip)",
                                   ip_text(wire::Ipv4Addr{o.ip.value & mask}), o.prefix_len));
        }
        if (const auto why = not_a_host(*o.gateway, o.prefix_len)) {
            return bad("gateway", s, *why);
        }
    }
    if (vm.count("listen") != 0) {
        o.listen.clear();
        // The engine's own limit (EngineConfig::max_listeners), which run loops keep.
        const std::size_t listeners_max = engine::EngineConfig{}.max_listeners;
        for (const std::string& s : vm["listen"].as<std::vector<std::string>>()) {
            const std::size_t colon = s.find(':');
            const auto port = number(std::string_view(s).substr(0, colon), 65535);
            if (!port || *port == 0) {
                return bad("listen", s, "is not a TCP port (1-65535), or PORT:MODE");
            }
            ServerMode m = o.mode;
            if (colon != std::string::npos) {
                const auto named_mode = server_mode(std::string_view(s).substr(colon + 1));
                if (!named_mode) {
                    return bad("listen", s, "does not name a mode after the port: echo, sink, source, rr or hold");
                }
                m = *named_mode;
            }
            if (std::any_of(o.listen.begin(), o.listen.end(), [&](const ListenSpec& l) { return l.port == *port; })) {
                return bad("listen", s, "is given twice");
            }
            if (o.listen.size() == listeners_max) {
                return bad("listen", s,
                           fmt::format("is one port too many: a server listens on at most {} ports",
                                       listeners_max));
            }
            o.listen.push_back(ListenSpec{static_cast<std::uint16_t>(*port), m});
        }
    }
    {
        const std::string s = vm["port-id"].as<std::string>();
        const auto id = number(s, 65535);
        if (!id) {
            return bad("port-id", s, "is not a port number");
        }
        o.port_id = static_cast<std::uint16_t>(*id);
    }
    if (vm.count("bytes") != 0) {
        const std::string s = vm["bytes"].as<std::string>();
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
            return bad("bytes", s, "is not a byte count");
        }
        o.source_bytes = v;
    }
    if (o.role == Role::pair) {
        o.duration_s = 10;
    }
    for (const auto& [name, field] : {std::pair{"duration", &o.duration_s}, std::pair{"warmup", &o.warmup_s}}) {
        if (vm.count(name) != 0) {
            const std::string s = vm[name].as<std::string>();
            const auto v = seconds(s);
            if (!v) {
                return bad(name, s, "is not a number of seconds from 0 to a week");
            }
            *field = *v;
        }
    }
    if (vm.count("mbufs") != 0) {
        const std::string s = vm["mbufs"].as<std::string>();
        const auto v = number(s, 1U << 24);
        if (!v || *v < 4096) {
            return bad("mbufs", s, "is not a pool size from 4096 to 16777216");
        }
        o.mbufs = *v;
    }
    for (const auto& [name, field] : {std::pair{"rx-descriptors", &o.rx_descriptors},
                                      std::pair{"tx-descriptors", &o.tx_descriptors}}) {
        if (vm.count(name) != 0) {
            const std::string s = vm[name].as<std::string>();
            const auto v = number(s, 32768);
            if (!v || *v < 64) {
                return bad(name, s, "is not a ring size from 64 to 32768");
            }
            *field = static_cast<std::uint16_t>(*v);
        }
    }
    if (vm.count("max-connections") != 0) {
        const std::string s = vm["max-connections"].as<std::string>();
        const auto v = number(s, 1U << 22);
        if (!v || *v == 0) {
            return bad("max-connections", s, "is not a count from 1 to 4194304");
        }
        o.max_connections = *v;
    }
    o.sha256 = vm["sha256"].as<bool>();
    if (o.sha256 && std::none_of(o.listen.begin(), o.listen.end(), [](const ListenSpec& l) { return l.mode == ServerMode::sink; })) {
        return ParseError{"synack-bench: option --sha256 applies to --mode sink only (or a port given as PORT:sink)"};
    }
    if (vm.count("mtu") != 0) {
        const std::string s = vm["mtu"].as<std::string>();
        const auto v = number(s, 9600);
        if (!v || *v < 68) {
            return bad("mtu", s, "is not an MTU from 68 (RFC 791) to 9600");
        }
        o.mtu = static_cast<std::uint16_t>(*v);
    }
    if (auto e = parse_workload(vm, o)) {
        return *e;
    }
    if (o.role == Role::client) {
        if (!vm["mode"].defaulted()) {
            return bad("mode", mode, "applies to a server, not a client (see --workload)");
        }
        if (vm.count("connect") == 0) {
            return ParseError{"synack-bench: option --connect is required for the client (a.b.c.d:port)"};
        }
        const std::string s = vm["connect"].as<std::string>();
        const std::size_t colon = s.find(':');
        const auto addr = ipv4(std::string_view(s).substr(0, colon));
        const auto port = colon == std::string::npos ? std::nullopt : number(std::string_view(s).substr(colon + 1), 65535);
        if (!addr || !port || *port == 0) {
            return bad("connect", s, "is not an address and port (a.b.c.d:port)");
        }
        o.connect_ip = *addr;
        o.connect_port = static_cast<std::uint16_t>(*port);
    }
    if (o.role != Role::server && vm.count("connections") != 0) {
        const std::string c = vm["connections"].as<std::string>();
        const auto v = number(c, o.max_connections);
        if (!v || *v == 0) {
            return bad("connections", c, fmt::format("is not a count from 1 to --max-connections ({})", o.max_connections));
        }
        o.connections = *v;
    }
    if (vm.count("close-first") != 0) {
        const std::string c = vm["close-first"].as<std::string>();
        if (c != "client" && c != "server") {
            return bad("close-first", c, "is not client or server");
        }
        o.client_closes = c == "client";
    }
    if (o.workload == Workload::bulk && vm.count("bytes") == 0) {
        o.source_bytes = 0; // bulk runs for --duration unless --bytes is given
    }
    if (o.role == Role::pair && vm.count("listen") == 0) {
        // A port for every 25,000 connections: one peer port gives the
        // client only its ephemeral range (32768-60999) of connections.
        const std::uint32_t ports = std::min<std::uint32_t>((o.connections + 24999) / 25000, 64);
        o.listen.clear();
        for (std::uint32_t i = 0; i < ports; ++i) {
            o.listen.push_back(ListenSpec{static_cast<std::uint16_t>(5001 + i), pair_server_mode(o)});
        }
    }
    return o;
}

} // namespace synack::bench
