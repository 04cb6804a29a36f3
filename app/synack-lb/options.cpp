#include "options.hpp"

#include "values.hpp"

#include <boost/program_options.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <sstream>

namespace synack::lb {

namespace po = boost::program_options;

const char* to_string(Policy p) noexcept { return p == Policy::maglev ? "maglev" : "roundrobin"; }

namespace {

/// The engine's listeners.
constexpr std::size_t listeners_max = 64;
/// Backends: the Maglev table (maglev.hpp) is sized for a few hundred.
constexpr std::size_t backends_max = 256;

ParseError bad(const std::string& option, const std::string& value, const std::string& why) {
    return {fmt::format("synack-lb: option --{}: '{}' {}", option, value, why)};
}

std::optional<ParseError> parse_addresses(const po::variables_map& vm, Options& o) {
    if (vm.count("ip") == 0) {
        return ParseError{
            "synack-lb: option --ip is required (a.b.c.d/len: the balancer's address)"};
    }
    const std::string s = vm["ip"].as<std::string>();
    const std::size_t slash = s.find('/');
    const auto addr = app::ipv4(std::string_view(s).substr(0, slash));
    const auto len = slash == std::string::npos
                         ? std::optional<std::uint32_t>(24)
                         : app::number(std::string_view(s).substr(slash + 1), 32);
    if (!addr || !len || *len == 0) {
        return bad("ip", s, "is not an address with a prefix length from 1 to 32 (a.b.c.d/len)");
    }
    o.ip = *addr;
    o.prefix_len = static_cast<std::uint8_t>(*len);
    if (const auto why = app::not_a_host(o.ip, o.prefix_len)) {
        return bad("ip", s, *why);
    }
    if (vm.count("gateway") != 0) {
        const std::string g = vm["gateway"].as<std::string>();
        const auto gw = app::ipv4(g);
        if (!gw) {
            return bad("gateway", g, "is not an IPv4 address");
        }
        const std::uint32_t mask = app::prefix_mask(o.prefix_len);
        if ((gw->value & mask) != (o.ip.value & mask)) {
            return bad("gateway", g,
                       fmt::format("is not on the link of --ip ({}/{})",
                                   app::ip_text(wire::Ipv4Addr{o.ip.value & mask}), o.prefix_len));
        }
        if (const auto why = app::not_a_host(*gw, o.prefix_len)) {
            return bad("gateway", g, *why);
        }
        o.gateway = gw;
    }
    return std::nullopt;
}

std::optional<ParseError> parse_endpoints(const po::variables_map& vm, Options& o) {
    if (vm.count("listen") == 0) {
        return ParseError{
            "synack-lb: option --listen is required (a TCP port; give it once per port)"};
    }
    for (const std::string& s : vm["listen"].as<std::vector<std::string>>()) {
        const auto port = app::number(s, 65535);
        if (!port || *port == 0) {
            return bad("listen", s, "is not a TCP port (1-65535)");
        }
        if (std::find(o.listen.begin(), o.listen.end(), *port) != o.listen.end()) {
            return bad("listen", s, "is given twice");
        }
        if (o.listen.size() == listeners_max) {
            return bad("listen", s,
                       fmt::format("is one port too many: at most {} ports", listeners_max));
        }
        o.listen.push_back(static_cast<std::uint16_t>(*port));
    }
    if (vm.count("backend") == 0) {
        return ParseError{
            "synack-lb: option --backend is required (a.b.c.d:port; give it once per backend)"};
    }
    for (const std::string& s : vm["backend"].as<std::vector<std::string>>()) {
        const std::size_t colon = s.find(':');
        const auto addr = app::ipv4(std::string_view(s).substr(0, colon));
        const auto port = colon == std::string::npos
                              ? std::nullopt
                              : app::number(std::string_view(s).substr(colon + 1), 65535);
        if (!addr || !port || *port == 0) {
            return bad("backend", s, "is not an address and port (a.b.c.d:port)");
        }
        if (const auto why = app::not_a_host(*addr, 32)) {
            return bad("backend", s, *why);
        }
        const Backend b{*addr, static_cast<std::uint16_t>(*port)};
        if (b.ip == o.ip) {
            return bad("backend", s, "is the balancer's own address (--ip)");
        }
        if (std::find(o.backends.begin(), o.backends.end(), b) != o.backends.end()) {
            return bad("backend", s, "is given twice");
        }
        if (o.backends.size() == backends_max) {
            return bad("backend", s,
                       fmt::format("is one backend too many: at most {}", backends_max));
        }
        o.backends.push_back(b);
    }
    return std::nullopt;
}

std::optional<ParseError> parse_limits(const po::variables_map& vm, Options& o) {
    if (vm.count("policy") != 0) {
        const std::string s = vm["policy"].as<std::string>();
        if (s != "roundrobin" && s != "maglev") {
            return bad("policy", s, "is not roundrobin or maglev");
        }
        o.policy = s == "maglev" ? Policy::maglev : Policy::round_robin;
    }
    for (const auto& [name, field] :
         {std::pair{"duration", &o.duration_s}, std::pair{"down-time", &o.down_s}}) {
        if (vm.count(name) != 0) {
            const std::string s = vm[name].as<std::string>();
            const auto v = app::seconds(s);
            if (!v) {
                return bad(name, s, "is not a number of seconds from 0 to a week");
            }
            *field = *v;
        }
    }
    if (vm.count("connect-retries") != 0) {
        const std::string s = vm["connect-retries"].as<std::string>();
        const auto v = app::number(s, 10);
        if (!v) {
            return bad("connect-retries", s, "is not a count from 0 to 10");
        }
        o.connect_retries = static_cast<std::uint8_t>(*v);
    }
    if (vm.count("port-id") != 0) {
        const std::string s = vm["port-id"].as<std::string>();
        const auto v = app::number(s, 65535);
        if (!v) {
            return bad("port-id", s, "is not a port number");
        }
        o.port_id = static_cast<std::uint16_t>(*v);
    }
    if (vm.count("mbufs") != 0) {
        const std::string s = vm["mbufs"].as<std::string>();
        const auto v = app::number(s, 1U << 24);
        if (!v || *v < 4096) {
            return bad("mbufs", s, "is not a pool size from 4096 to 16777216");
        }
        o.mbufs = *v;
    }
    if (vm.count("max-connections") != 0) {
        const std::string s = vm["max-connections"].as<std::string>();
        const auto v = app::number(s, 1U << 22);
        if (!v || *v < 2) {
            return bad("max-connections", s, "is not a count from 2 to 4194304");
        }
        o.max_connections = *v;
    }
    return std::nullopt;
}

} // namespace

std::variant<Options, ParseError> parse_options(int argc, char** argv) {
    po::options_description named(
        "synack-lb [EAL args] -- --ip A/LEN --listen PORT... --backend A:PORT... [options]\n\n"
        "Options (also as name = value lines in --config)");
    // clang-format off
    named.add_options()
        ("help", "show this")
        ("config", po::value<std::string>(), "read options from this text file too (the command line wins)")
        ("ip", po::value<std::string>(), "the balancer's address on the port, a.b.c.d/len")
        ("gateway", po::value<std::string>(), "next hop for addresses off the link")
        ("listen", po::value<std::vector<std::string>>(), "a TCP port clients connect to (repeat for more)")
        ("backend", po::value<std::vector<std::string>>(), "a backend, a.b.c.d:port (repeat for more)")
        ("policy", po::value<std::string>(), "roundrobin (default) or maglev (consistent hashing of the client)")
        ("down-time", po::value<std::string>(), "seconds a backend that refused or timed out stays out (10)")
        ("connect-retries", po::value<std::string>(), "SYNs resent to a backend before it counts as down (2)")
        ("port-id", po::value<std::string>(), "DPDK port to use (0)")
        ("mbufs", po::value<std::string>(), "mbuf pool size (65535)")
        ("max-connections", po::value<std::string>(), "connections per run loop, both sides (16384)")
        ("duration", po::value<std::string>(), "seconds to run, 0 for until SIGINT (0)");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(named).run(), vm);
        if (vm.count("help") != 0) {
            std::ostringstream usage;
            usage << named;
            return ParseError{usage.str(), true};
        }
        if (vm.count("config") != 0) {
            const std::string path = vm["config"].as<std::string>();
            std::string text;
            if (const auto why = app::read_config(path, text)) {
                return bad("config", path, *why);
            }
            std::istringstream in(text);
            po::store(po::parse_config_file(in, named), vm);
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return ParseError{fmt::format("synack-lb: {}", e.what())};
    }
    Options o;
    for (auto* step : {parse_addresses, parse_endpoints, parse_limits}) {
        if (auto e = step(vm, o)) {
            return *e;
        }
    }
    return o;
}

} // namespace synack::lb
