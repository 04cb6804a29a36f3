// synack-bench [EAL args] -- server --ip a.b.c.d/n [--mode echo|sink|source]
//              [--listen PORT...] [--duration S] ...
// synack-bench [EAL args] -- client --ip a.b.c.d/n --connect a.b.c.d:port
//              [--connections N] [--bytes B] [--close-first client|server]
// The benchmark harness: one port, one core, the engine run as DESIGN.md's
// run loop. The server prints one summary line a second and a JSON summary
// on exit; SIGINT or SIGTERM closes its connections, stops the port, and
// checks that every mbuf came back. The client (just what the interop tests
// need for now) echoes a checked stream over N connections and exits 0 when
// every one came back intact and closed normally.

#include "client.hpp"
#include "options.hpp"
#include "server.hpp"

#include <synack/engine/engine.hpp>
#include <synack/runtime/capture.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/run_loop.hpp>
#include <synack/runtime/telemetry.hpp>
#include <synack/synack.hpp>
#include <synack/time/clock.hpp>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>

using namespace synack;

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

std::string ip_text(wire::Ipv4Addr a) {
    return fmt::format("{}.{}.{}.{}", a.value >> 24, (a.value >> 16) & 0xff, (a.value >> 8) & 0xff, a.value & 0xff);
}

std::string mac_text(wire::MacAddr m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                       m.bytes[4], m.bytes[5]);
}

std::uint64_t frame_drops(const engine::EngineCounters& c) {
    std::uint64_t n = 0;
    for (const std::uint64_t d : c.frame_drops) {
        n += d;
    }
    return n;
}

int run_server(engine::Engine& eng, runtime::RunLoop& loop, const time::TscClock& clock, const bench::Options& o,
               runtime::Port& port) {
    for (const std::uint16_t p : o.listen) {
        if (!eng.listen(p).ok()) {
            fmt::print(stderr, "synack-bench: option --listen: port {} given twice\n", p);
            return 2;
        }
    }
    bench::Server server(eng, o);
    fmt::print("synack-bench {}: {} server on port {} ({}), {}/{} at {}, listening on", synack::version(),
               bench::to_string(o.mode), o.port_id, port.driver(), ip_text(o.ip), o.prefix_len, mac_text(port.mac()));
    for (const std::uint16_t p : o.listen) {
        fmt::print(" {}", p);
    }
    fmt::print("\n");
    std::fflush(stdout);
    eng.announce();

    const time::Instant start = clock.now();
    time::Instant next_line = start + time::Duration::from_s(1);
    bench::ServerStats last;
    while (g_stop == 0) {
        loop.once();
        server.step();
        const time::Instant now = clock.now();
        if (o.duration_s > 0 && now - start >= time::Duration::from_s(static_cast<std::int64_t>(o.duration_s))) {
            break;
        }
        if (now >= next_line) {
            const auto& s = server.stats();
            const auto& c = eng.counters();
            fmt::print("{:6.1f}s conns {} (+{} -{}) in {:.1f} MB/s out {:.1f} MB/s retransmits {} drops {}\n",
                       static_cast<double>((now - start).us()) / 1e6, eng.connections(),
                       s.accepted - last.accepted, s.closed - last.closed,
                       static_cast<double>(s.bytes_in - last.bytes_in) / 1e6,
                       static_cast<double>(s.bytes_out - last.bytes_out) / 1e6, c.tcp.retransmits,
                       frame_drops(c) + port.counters().tx_dropped);
            std::fflush(stdout);
            last = s;
            next_line += time::Duration::from_s(1);
        }
    }
    const std::size_t connections_at_exit = eng.connections();
    // Close: FINs go out; give them two seconds, then reset the rest.
    server.close_all();
    const time::Instant grace = clock.now() + time::Duration::from_s(2);
    while (eng.connections() != 0 && clock.now() < grace) {
        loop.once();
        server.step();
    }
    server.abort_all();
    loop.once();
    const time::Instant end = clock.now();
    port.stop();

    const auto& s = server.stats();
    const auto& c = eng.counters();
    std::string drops;
    for (std::size_t i = 0; i < engine::frame_drop_count; ++i) {
        drops += fmt::format("{}\"{}\": {}", i == 0 ? "" : ", ", engine::to_string(static_cast<engine::FrameDrop>(i)),
                             c.frame_drops[i]);
    }
    fmt::print("{{\"mode\": \"{}\", \"seconds\": {:.3f}, \"accepted\": {}, \"bytes_in\": {}, \"bytes_out\": {}, "
               "\"segments_in\": {}, \"segments_out\": {}, \"retransmits\": {}, \"arp_requests\": {}, \"arp_replies\": {}, "
               "\"icmp_echo_replies\": {}, \"pattern_errors\": {}, \"connections_at_exit\": {}, "
               "\"frame_drops\": {{{}}}, \"port\": {{\"rx\": {}, \"tx\": {}, \"tx_dropped\": {}}}}}\n",
               bench::to_string(o.mode), static_cast<double>((end - start).us()) / 1e6, s.accepted, s.bytes_in,
               s.bytes_out, c.tcp.segments_in, c.tcp.segments_out, c.tcp.retransmits, c.arp_requests_sent, c.arp_replies_sent,
               c.icmp_echo_replies, s.pattern_errors, connections_at_exit, drops, port.counters().rx_packets,
               port.counters().tx_packets,
               port.counters().tx_dropped);
    return EXIT_SUCCESS;
}

int run_client(engine::Engine& eng, runtime::RunLoop& loop, const time::TscClock& clock, const bench::Options& o,
               runtime::Port& port) {
    fmt::print("synack-bench {}: echo client on port {} ({}), {}/{} at {}, {} connection(s) to {}:{}, {} bytes each\n",
               synack::version(), o.port_id, port.driver(), ip_text(o.ip), o.prefix_len, mac_text(port.mac()),
               o.connections, ip_text(o.connect_ip), o.connect_port, o.source_bytes);
    std::fflush(stdout);
    bench::Client client(eng, o);
    eng.announce();
    const time::Instant start = clock.now();
    client.start(start);
    const time::Duration limit = time::Duration::from_s(o.duration_s > 0 ? static_cast<std::int64_t>(o.duration_s) : 600);
    while (g_stop == 0 && !client.done() && clock.now() - start < limit) {
        loop.once();
        client.step();
    }
    // TIME-WAIT records and the last ACKs: a moment for them to leave.
    const time::Instant settle = clock.now() + time::Duration::from_ms(200);
    while (clock.now() < settle) {
        loop.once();
    }
    const auto& s = client.stats();
    const double secs = static_cast<double>((clock.now() - start).us()) / 1e6;
    fmt::print("{{\"role\": \"client\", \"seconds\": {:.3f}, \"connections\": {}, \"connected\": {}, "
               "\"completed\": {}, \"failed\": {}, \"bytes_out\": {}, \"bytes_in\": {}, \"echo_errors\": {}, "
               "\"retransmits\": {}, \"arp_requests\": {}}}\n",
               secs, o.connections, s.connected, s.completed, s.failed, s.bytes_out, s.bytes_in, s.echo_errors,
               eng.counters().tcp.retransmits, eng.counters().arp_requests_sent);
    return s.completed == o.connections ? EXIT_SUCCESS : EXIT_FAILURE;
}

} // namespace

int main(int argc, char** argv) {
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        fmt::print(stderr, "synack-bench: EAL initialisation failed: {}\n", rte_strerror(rte_errno));
        return 2;
    }
    // What EAL did not take: "--" was consumed with its arguments.
    auto parsed = bench::parse_options(argc - eal_args, argv + eal_args);
    if (auto* e = std::get_if<bench::ParseError>(&parsed)) {
        fmt::print(e->help ? stdout : stderr, "{}\n", e->message);
        rte_eal_cleanup();
        return e->help ? 0 : 2;
    }
    const bench::Options& o = std::get<bench::Options>(parsed);
    runtime::enable_capture();

    runtime::PortConfig pc;
    pc.port_id = o.port_id;
    pc.mbufs = o.mbufs;
    auto port = runtime::Port::open(pc);
    if (!port) {
        fmt::print(stderr, "synack-bench: {}\n", runtime::to_string(o.port_id, port.error()));
        rte_eal_cleanup();
        return 1;
    }
    int status = EXIT_SUCCESS;
    {
        time::TscClock clock;
        engine::EngineConfig ec;
        ec.ipv4 = o.ip;
        ec.prefix_len = o.prefix_len;
        ec.gateway = o.gateway;
        ec.mac = port->mac();
        ec.tx_checksum = port->tx_checksum();
        ec.max_connections = o.max_connections;
        ec.secret = SipKey{rte_rand(), rte_rand()};
        engine::Engine eng(ec, port->pool(), clock.now());
        runtime::register_telemetry();
        runtime::RunLoop loop(*port, eng, clock, rte_lcore_id());
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        status = o.role == bench::Role::client ? run_client(eng, loop, clock, o, *port)
                                               : run_server(eng, loop, clock, o, *port);
    }
    // The engine is gone and the port closed (its rings emptied): every
    // mbuf must be back in the pool.
    port->close();
    const unsigned in_use = rte_mempool_in_use_count(port->pool());
    if (in_use != 0) {
        fmt::print(stderr, "synack-bench: {} mbufs still in use at exit\n", in_use);
        status = EXIT_FAILURE;
    }
    { auto closing = std::move(*port); }
    runtime::disable_capture();
    rte_eal_cleanup();
    return status;
}
