// synack-bench [EAL args] -- server --ip a.b.c.d/n [--mode echo|sink|source]
//              [--listen PORT...] [--duration S] ...
// synack-bench [EAL args] -- client --ip a.b.c.d/n --connect a.b.c.d:port
//              [--connections N] [--bytes B] [--close-first client|server]
// The benchmark harness: one port, one run loop and engine per lcore (EAL's
// -l), steered as DESIGN.md says (runtime/steering.hpp). The server prints
// one summary line a second and a JSON summary on exit; SIGINT or SIGTERM
// closes its connections, stops the port, and checks that every mbuf came
// back. The client (just what the interop tests need for now) echoes a
// checked stream over N connections, shared among the loops, and exits 0
// when every one came back intact and closed normally.

#include "client.hpp"
#include "options.hpp"
#include "server.hpp"

#include <synack/engine/engine.hpp>
#include <synack/runtime/capture.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/run_loop.hpp>
#include <synack/runtime/steering.hpp>
#include <synack/runtime/telemetry.hpp>
#include <synack/synack.hpp>
#include <synack/time/clock.hpp>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <fmt/core.h>

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

using namespace synack;

namespace {

std::atomic<bool> g_signal{false}; // lock-free: safe to set in a signal handler

void on_signal(int) { g_signal.store(true, std::memory_order_relaxed); }

std::string ip_text(wire::Ipv4Addr a) {
    return fmt::format("{}.{}.{}.{}", a.value >> 24, (a.value >> 16) & 0xff, (a.value >> 8) & 0xff, a.value & 0xff);
}

std::string mac_text(wire::MacAddr m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                       m.bytes[4], m.bytes[5]);
}

/// What a loop shows the main lcore for its once-a-second line: a copy made
/// ten times a second under a lock, never the live counters.
struct Glimpse {
    bench::ServerStats server;
    std::size_t connections = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t drops = 0;    // by the engine, on TX, between loops
    runtime::PortCounters port; // with the port's own receive drops (loop 0's)
};

/// One run loop and what it drives, on one lcore.
struct Worker {
    unsigned index = 0;
    unsigned lcore = 0;
    std::unique_ptr<engine::Engine> engine;
    std::unique_ptr<runtime::RunLoop> loop;
    std::unique_ptr<bench::Server> server;
    std::unique_ptr<bench::Client> client;
    std::mutex mutex;
    Glimpse glimpse;
    std::size_t connections_at_exit = 0;
};

struct Run {
    const bench::Options& options;
    const time::TscClock& clock;
    runtime::Port& port;
    runtime::Steering& steering;
    std::vector<std::unique_ptr<Worker>> workers;
    std::atomic<bool> stop{false};
    std::atomic<unsigned> finished{0};
    bool launch_failed = false; // written before loop 0 runs, read after all joined
    time::Instant start;
};

/// Bytes a run loop allocates up front, and touches, for each of
/// --max-connections: the engine's connection (a slot of its pool, padded to
/// alignment), its entries in the engine's tables (slot, generation, free and
/// dirty lists, flow-table bucket: about 40 bytes), and the server's state.
std::size_t connection_bytes(const bench::Options& o) {
    constexpr std::size_t engine_tables = 64;
    const std::size_t server =
        o.role == bench::Role::server ? bench::Server::bytes_per_connection(o) : 0;
    return sizeof(engine::EngineConn) + alignof(engine::EngineConn) + engine_tables + server;
}

/// Memory this process may still take: the least of what the kernel has
/// available (MemAvailable), what its cgroup may still use (cgroup v2
/// memory.max), and what is left under its address-space limit (RLIMIT_AS,
/// `ulimit -v`). nullopt when none of them can be read.
std::optional<std::uint64_t> memory_available_bytes() {
    std::optional<std::uint64_t> avail;
    const auto at_most = [&avail](std::uint64_t v) { avail = avail ? std::min(*avail, v) : v; };
    std::ifstream meminfo("/proc/meminfo");
    for (std::string key, unit; meminfo >> key;) {
        std::uint64_t kib = 0;
        if (key == "MemAvailable:" && meminfo >> kib) {
            at_most(kib * 1024);
            break;
        }
        std::getline(meminfo, unit);
    }
    std::ifstream cgroup("/proc/self/cgroup");
    for (std::string line; std::getline(cgroup, line);) {
        if (line.starts_with("0::")) {
            const std::string dir = "/sys/fs/cgroup" + line.substr(3);
            std::uint64_t max = 0;
            std::uint64_t current = 0;
            // "max" (no limit) does not read as a number.
            if (std::ifstream(dir + "/memory.max") >> max &&
                std::ifstream(dir + "/memory.current") >> current) {
                at_most(max > current ? max - current : 0);
            }
        }
    }
    rlimit as{};
    std::uint64_t pages = 0;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY &&
        std::ifstream("/proc/self/statm") >> pages) {
        const std::uint64_t mapped = pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
        at_most(as.rlim_cur > mapped ? as.rlim_cur - mapped : 0);
    }
    return avail;
}

/// Why the run loops' connection tables cannot fit the memory there is, or
/// nullopt when they can (or when no figure of the memory can be read).
std::optional<std::string> connections_do_not_fit(const bench::Options& o, unsigned loops) {
    const std::uint64_t per = connection_bytes(o);
    const std::uint64_t need = std::uint64_t{loops} * o.max_connections * per;
    const auto avail = memory_available_bytes();
    if (!avail || need <= *avail) {
        return std::nullopt;
    }
    return fmt::format(
        "synack-bench: option --max-connections: '{}' is too many for the memory: {} run loop(s) "
        "need {} MiB for their connections ({} bytes each), and {} MiB is available",
        o.max_connections, loops, need >> 20, per, *avail >> 20);
}

/// Whether bytes of memory can be mapped now. An engine's connection pool
/// asserts when its one allocation fails (at setup that is fatal, by
/// design); trying first turns an address-space limit or a strict overcommit
/// policy that memory_available_bytes() did not see into a bad option value.
bool can_map(std::size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return false;
    }
    munmap(p, bytes);
    return true;
}

std::string connections_cannot_be_allocated(const bench::Options& o) {
    return fmt::format(
        "synack-bench: option --max-connections: '{}' is too many for the memory: a run loop "
        "could not allocate its connections",
        o.max_connections);
}

std::uint64_t frame_drops(const engine::EngineCounters& c) {
    std::uint64_t n = 0;
    for (const std::uint64_t d : c.frame_drops) {
        n += d;
    }
    return n;
}

void take_glimpse(Worker& w) {
    const auto& c = w.engine->counters();
    std::lock_guard lock(w.mutex);
    w.glimpse.server = w.server ? w.server->stats() : bench::ServerStats{};
    w.glimpse.connections = w.engine->connections();
    w.glimpse.retransmits = c.tcp.retransmits;
    w.glimpse.drops = frame_drops(c) + w.loop->port_counters().tx_dropped + w.loop->steering_counters().ring_full;
    w.glimpse.port = w.loop->port_counters();
}

/// The main lcore's once-a-second line, summed over the loops' glimpses;
/// rates over the time since the previous line (`since`).
void print_line(Run& run, time::Instant now, time::Instant since, Glimpse& last) {
    const double secs = std::max(static_cast<double>((now - since).us()) / 1e6, 1e-3);
    Glimpse sum;
    for (auto& w : run.workers) {
        std::lock_guard lock(w->mutex);
        sum.server.accepted += w->glimpse.server.accepted;
        sum.server.closed += w->glimpse.server.closed;
        sum.server.bytes_in += w->glimpse.server.bytes_in;
        sum.server.bytes_out += w->glimpse.server.bytes_out;
        sum.connections += w->glimpse.connections;
        sum.retransmits += w->glimpse.retransmits;
        sum.drops += w->glimpse.drops;
        sum.port += w->glimpse.port;
    }
    fmt::print("{:6.1f}s conns {} (+{} -{}) in {:.1f} MB/s out {:.1f} MB/s retransmits {} drops {} "
               "rx_missed {} rx_nombuf {} rx_errors {}\n",
               static_cast<double>((now - run.start).us()) / 1e6, sum.connections,
               sum.server.accepted - last.server.accepted, sum.server.closed - last.server.closed,
               static_cast<double>(sum.server.bytes_in - last.server.bytes_in) / 1e6 / secs,
               static_cast<double>(sum.server.bytes_out - last.server.bytes_out) / 1e6 / secs,
               sum.retransmits, sum.drops, sum.port.rx_missed, sum.port.rx_nombuf,
               sum.port.rx_errors);
    std::fflush(stdout);
    last = sum;
}

/// Keeps a finished loop running (steering and TX hand-off for the others)
/// until every loop has finished.
void wait_for_the_others(Run& run, Worker& w) {
    run.finished.fetch_add(1);
    while (run.finished.load() < run.workers.size()) {
        w.loop->once();
    }
    // The last loop to finish may have handed frames (its RSTs) to this one
    // after this loop's previous pass: one more pass sends them.
    w.loop->once();
    w.loop->publish();
}

void serve(Run& run, Worker& w) {
    const auto& o = run.options;
    const auto& clock = run.clock;
    time::Instant next_glimpse = clock.now();
    time::Instant last_line = run.start;
    time::Instant next_line = run.start + time::Duration::from_s(1);
    Glimpse last;
    while (!run.stop.load(std::memory_order_relaxed)) {
        w.loop->once();
        w.server->step();
        const time::Instant now = clock.now();
        if (now >= next_glimpse) {
            take_glimpse(w);
            next_glimpse = now + time::Duration::from_ms(100);
        }
        if (w.index != 0) {
            continue;
        }
        // The main lcore watches the clock and the signals for everyone.
        if (g_signal.load(std::memory_order_relaxed) ||
            (o.duration_s > 0 && now - run.start >= time::Duration::from_s(static_cast<std::int64_t>(o.duration_s)))) {
            run.stop.store(true);
        }
        if (now >= next_line) {
            print_line(run, now, last_line, last);
            last_line = now;
            next_line = now + time::Duration::from_s(1); // after a stall, no burst of catch-up lines
        }
    }
    w.connections_at_exit = w.engine->connections();
    // Close: FINs go out; give them two seconds, then reset the rest.
    w.server->close_all();
    const time::Instant grace = clock.now() + time::Duration::from_s(2);
    while (w.engine->connections() != 0 && clock.now() < grace) {
        w.loop->once();
        w.server->step();
    }
    w.server->abort_all();
    w.loop->once();
    wait_for_the_others(run, w);
}

void connect(Run& run, Worker& w) {
    const auto& clock = run.clock;
    const time::Duration limit =
        time::Duration::from_s(run.options.duration_s > 0 ? static_cast<std::int64_t>(run.options.duration_s) : 600);
    w.client->start(clock.now());
    while (!g_signal.load(std::memory_order_relaxed) && !run.stop.load(std::memory_order_relaxed) && !w.client->done() &&
           clock.now() - run.start < limit) {
        w.loop->once();
        w.client->step();
    }
    // TIME-WAIT records and the last ACKs: a moment for them to leave.
    const time::Instant settle = clock.now() + time::Duration::from_ms(200);
    while (clock.now() < settle) {
        w.loop->once();
    }
    wait_for_the_others(run, w);
}

struct Launch {
    Run* run;
    Worker* worker;
};

int on_lcore(void* arg) {
    auto* l = static_cast<Launch*>(arg);
    if (l->run->options.role == bench::Role::client) {
        connect(*l->run, *l->worker);
    } else {
        serve(*l->run, *l->worker);
    }
    return 0;
}

/// Runs every loop, worker 0 on this (the main) lcore, and waits for all.
void run_all(Run& run) {
    std::vector<Launch> launches;
    for (auto& w : run.workers) {
        launches.push_back(Launch{&run, w.get()});
    }
    for (std::size_t i = 1; i < run.workers.size(); ++i) {
        if (const int rc = rte_eal_remote_launch(on_lcore, &launches[i], run.workers[i]->lcore); rc != 0) {
            // A loop that never runs never finishes: stop the others, and
            // count it finished so that none waits for it.
            fmt::print(stderr, "synack-bench: run loop {} could not start on lcore {}: {}\n", i,
                       run.workers[i]->lcore, rte_strerror(-rc));
            run.launch_failed = true;
            run.stop.store(true);
            run.finished.fetch_add(1);
        }
    }
    on_lcore(&launches[0]);
    rte_eal_mp_wait_lcore();
}

const char* listen_error_text(engine::ListenError e) {
    switch (e) {
    case engine::ListenError::port_in_use: return "is given twice";
    case engine::ListenError::too_many_listeners:
        return "is one port too many for the engine's listeners";
    }
    return "cannot be listened on";
}

/// {"name": count, ...} over an array of counters named by an enum.
template <typename Enum, std::size_t N>
std::string named_counts(const std::array<std::uint64_t, N>& counts) {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        out += fmt::format("{}\"{}\": {}", i == 0 ? "" : ", ", to_string(static_cast<Enum>(i)),
                           counts[i]);
    }
    return out;
}

/// The engines' counters in the JSON summary (its keys are parsed by tests:
/// keep them).
std::string engine_json(const engine::EngineCounters& c) {
    return fmt::format(
        "\"segments_in\": {}, \"segments_out\": {}, \"retransmits\": {}, \"arp_requests\": {}, "
        "\"arp_replies\": {}, \"icmp_echo_replies\": {}, \"icmp_errors_sent\": {}, "
        "\"icmp_errors_limited\": {}, \"challenge_acks\": {}, \"invalid_acks_limited\": {}, "
        "\"syn_cookies_sent\": {}, \"syn_cookies_accepted\": {}, \"syn_cookies_rejected\": {}, "
        "\"half_open_timed_out\": {}, \"rx_pressure_high\": {}, \"rx_pressure_critical\": {}, "
        "\"fast_retransmits\": {}, \"ooo_queued\": {}, "
        "\"time_wait_compacted\": {}, \"time_wait_full\": {}, \"tx_queue_full\": {}, "
        "\"events_lost\": {}, \"frame_drops\": {{{}}}, \"tcp_drops\": {{{}}}",
        c.tcp.segments_in, c.tcp.segments_out, c.tcp.retransmits, c.arp_requests_sent,
        c.arp_replies_sent, c.icmp_echo_replies, c.icmp_errors_sent, c.icmp_errors_limited,
        c.tcp.challenge_acks, c.tcp.invalid_acks_limited, c.syn_cookies_sent,
        c.syn_cookies_accepted, c.syn_cookies_rejected, c.half_open_timed_out, c.rx_pressure_high,
        c.rx_pressure_critical, c.tcp.fast_retransmits, c.tcp.ooo_queued, c.time_wait_compacted,
        c.time_wait_full, c.tx_queue_full, c.events_lost,
        named_counts<engine::FrameDrop>(c.frame_drops),
        named_counts<tcp::DropReason>(c.tcp.drops.count));
}

/// The port's counters: what the loops moved, and what the port itself
/// dropped on receive (rte_eth_stats_get: imissed, rx_nombuf, ierrors).
std::string port_json(const runtime::PortCounters& pc) {
    return fmt::format("\"port\": {{\"rx\": {}, \"tx\": {}, \"tx_dropped\": {}, \"rx_missed\": {}, "
                       "\"rx_nombuf\": {}, \"rx_errors\": {}}}",
                       pc.rx_packets, pc.tx_packets, pc.tx_dropped, pc.rx_missed, pc.rx_nombuf,
                       pc.rx_errors);
}

std::string steering_json(const Run& run) {
    runtime::SteeringCounters s;
    std::string per_loop;
    for (const auto& w : run.workers) {
        s += w->loop->steering_counters();
        per_loop += fmt::format("{}{{\"lcore\": {}, \"rx\": {}, \"segments_in\": {}, \"connections_opened\": {}}}",
                                per_loop.empty() ? "" : ", ", w->lcore, w->loop->port_counters().rx_packets,
                                w->engine->counters().tcp.segments_in, w->engine->counters().connections_opened);
    }
    return fmt::format("\"loops\": {}, \"steering\": {{\"mode\": \"{}\", \"passed\": {}, \"taken\": {}, "
                       "\"ring_full\": {}, \"rss_mismatches\": {}, \"arp_copies\": {}, \"copy_failed\": {}, "
                       "\"tx_handed_off\": {}}}, "
                       "\"per_loop\": [{}]",
                       run.workers.size(), runtime::to_string(run.steering.mode()), s.passed, s.taken, s.ring_full,
                       s.rss_mismatches, s.arp_copies, s.copy_failed, s.tx_handed_off, per_loop);
}

int run_server(Run& run) {
    const auto& o = run.options;
    for (auto& w : run.workers) {
        w->server = std::make_unique<bench::Server>(*w->engine, o);
        for (const std::uint16_t p : o.listen) {
            // parse_options() refused both already; the engine has the last word.
            if (const auto r = w->engine->listen(p); !r.ok()) {
                fmt::print(stderr, "synack-bench: option --listen: '{}' {}\n", p,
                           listen_error_text(r.error()));
                return 2;
            }
        }
    }
    fmt::print("synack-bench {}: {} server on port {} ({}), {}/{} at {}, MTU {}, {} run loop(s), listening on",
               synack::version(), bench::to_string(o.mode), o.port_id, run.port.driver(), ip_text(o.ip), o.prefix_len,
               mac_text(run.port.mac()), run.port.mtu(), run.workers.size());
    for (const std::uint16_t p : o.listen) {
        fmt::print(" {}", p);
    }
    fmt::print("\n");
    std::fflush(stdout);
    run.workers[0]->engine->announce();
    run.start = run.clock.now();
    run_all(run);
    const time::Instant end = run.clock.now();
    run.port.stop();

    bench::ServerStats s;
    engine::EngineCounters c;
    runtime::PortCounters pc;
    std::size_t connections_at_exit = 0;
    for (const auto& w : run.workers) {
        const auto& ws = w->server->stats();
        s.accepted += ws.accepted;
        s.bytes_in += ws.bytes_in;
        s.bytes_out += ws.bytes_out;
        s.pattern_errors += ws.pattern_errors;
        c += w->engine->counters();
        pc += w->loop->port_counters();
        connections_at_exit += w->connections_at_exit;
    }
    std::string digests;
    for (const auto& w : run.workers) {
        for (const std::string& d : w->server->digests()) {
            digests += fmt::format("{}\"{}\"", digests.empty() ? "" : ", ", d);
        }
    }
    fmt::print(
        "{{\"mode\": \"{}\", \"seconds\": {:.3f}, \"accepted\": {}, \"bytes_in\": {}, "
        "\"bytes_out\": {}, \"pattern_errors\": {}, \"sha256\": [{}], \"connections_at_exit\": {}, "
        "{}, {}, {}}}\n",
        bench::to_string(o.mode), static_cast<double>((end - run.start).us()) / 1e6, s.accepted,
        s.bytes_in, s.bytes_out, s.pattern_errors, digests, connections_at_exit, engine_json(c),
        port_json(pc), steering_json(run));
    return run.launch_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int run_client(Run& run) {
    const auto& o = run.options;
    const auto loops = static_cast<std::uint32_t>(run.workers.size());
    for (auto& w : run.workers) {
        // The connections, shared out: loop i opens every loop-th one.
        const std::uint32_t share = o.connections / loops + (w->index < o.connections % loops ? 1 : 0);
        w->client = std::make_unique<bench::Client>(*w->engine, o, share);
    }
    fmt::print("synack-bench {}: echo client on port {} ({}), {}/{} at {}, {} run loop(s), {} connection(s) to {}:{}, "
               "{} bytes each\n",
               synack::version(), o.port_id, run.port.driver(), ip_text(o.ip), o.prefix_len, mac_text(run.port.mac()),
               loops, o.connections, ip_text(o.connect_ip), o.connect_port, o.source_bytes);
    std::fflush(stdout);
    run.workers[0]->engine->announce();
    run.start = run.clock.now();
    run_all(run);
    bench::ClientStats s;
    std::uint64_t retransmits = 0;
    std::uint64_t arp_requests = 0;
    runtime::PortCounters pc;
    for (const auto& w : run.workers) {
        pc += w->loop->port_counters();
        const auto& ws = w->client->stats();
        s.connected += ws.connected;
        s.completed += ws.completed;
        s.failed += ws.failed;
        s.bytes_out += ws.bytes_out;
        s.bytes_in += ws.bytes_in;
        s.echo_errors += ws.echo_errors;
        retransmits += w->engine->counters().tcp.retransmits;
        arp_requests += w->engine->counters().arp_requests_sent;
    }
    const double secs = static_cast<double>((run.clock.now() - run.start).us()) / 1e6;
    fmt::print(
        "{{\"role\": \"client\", \"seconds\": {:.3f}, \"connections\": {}, \"connected\": {}, "
        "\"completed\": {}, \"failed\": {}, \"bytes_out\": {}, \"bytes_in\": {}, "
        "\"echo_errors\": {}, \"retransmits\": {}, \"arp_requests\": {}, {}, {}}}\n",
        secs, o.connections, s.connected, s.completed, s.failed, s.bytes_out, s.bytes_in,
        s.echo_errors, retransmits, arp_requests, port_json(pc), steering_json(run));
    return s.completed == o.connections ? EXIT_SUCCESS : EXIT_FAILURE;
}

/// Builds the loops, runs the role, and tears the loops down.
int run_role(const bench::Options& o, runtime::Port& port, runtime::Steering& steering) {
    time::TscClock clock;
    Run run{o, clock, port, steering, {}};
    // Loop 0 on the main lcore, the others on EAL's worker lcores in order.
    std::vector<unsigned> lcores{rte_get_main_lcore()};
    unsigned worker_lcore = 0;
    RTE_LCORE_FOREACH_WORKER(worker_lcore) {
        lcores.push_back(worker_lcore);
    }
    for (unsigned i = 0; i < steering.workers(); ++i) {
        const unsigned lcore = lcores[i];
        auto w = std::make_unique<Worker>();
        w->index = i;
        w->lcore = lcore;
        engine::EngineConfig ec;
        ec.ipv4 = o.ip;
        ec.prefix_len = o.prefix_len;
        ec.gateway = o.gateway;
        ec.mac = port.mac();
        ec.tx_checksum = port.tx_checksum();
        ec.max_connections = o.max_connections;
        ec.tcp.mss = static_cast<std::uint16_t>(port.mtu() - 40); // IPv4 and TCP headers without options
        ec.secret = SipKey{rte_rand(), rte_rand()};
        ec.arp_responder = i == 0;
        if (steering.workers() > 1) {
            ec.owns_tuple = [&steering, i](const tcp::FourTuple& t) { return steering.owns(i, t); };
        }
        if (!can_map(std::size_t{o.max_connections} *
                     (sizeof(engine::EngineConn) + alignof(engine::EngineConn)))) {
            fmt::print(stderr, "{}\n", connections_cannot_be_allocated(o));
            return 2;
        }
        // Throws std::bad_alloc where a table beyond the pool does not fit (main() says so).
        w->engine = std::make_unique<engine::Engine>(ec, port.pool(static_cast<std::uint16_t>(i)), clock.now(),
                                                     port.ctrl_pool(static_cast<std::uint16_t>(i)));
        w->loop = std::make_unique<runtime::RunLoop>(port, *w->engine, clock, lcore, steering, i);
        run.workers.push_back(std::move(w));
    }
    return o.role == bench::Role::client ? run_client(run) : run_server(run);
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
    // Before the port is touched: the connection tables are allocated whole,
    // per loop, at start.
    if (const auto why = connections_do_not_fit(o, rte_lcore_count())) {
        fmt::print(stderr, "{}\n", *why);
        rte_eal_cleanup();
        return 2;
    }
    runtime::enable_capture();

    runtime::PortConfig pc;
    pc.port_id = o.port_id;
    pc.mbufs = o.mbufs;
    pc.rx_descriptors = o.rx_descriptors;
    pc.tx_descriptors = o.tx_descriptors;
    pc.mtu = o.mtu;
    pc.queues = static_cast<std::uint16_t>(rte_lcore_count());
    auto port = runtime::Port::open(pc);
    if (!port) {
        // An MTU the port cannot take is a bad option value (status 2).
        const bool bad_mtu = port.error().code == ERANGE && std::string_view(port.error().call) == "MTU";
        fmt::print(stderr, "synack-bench: {}{}\n", bad_mtu ? "option --mtu: " : "",
                   runtime::to_string(o.port_id, port.error()));
        runtime::disable_capture();
        rte_eal_cleanup();
        return bad_mtu ? 2 : 1;
    }
    int status = EXIT_SUCCESS;
    {
        auto steering = runtime::Steering::create(*port, rte_lcore_count());
        if (!steering) {
            fmt::print(stderr, "synack-bench: {}\n", runtime::to_string(o.port_id, steering.error()));
            status = EXIT_FAILURE;
        } else {
            runtime::register_telemetry();
            std::signal(SIGINT, on_signal);
            std::signal(SIGTERM, on_signal);
            try {
                status = run_role(o, *port, **steering);
            } catch (const std::bad_alloc&) {
                // Only setup allocates (the engines' and the server's tables).
                fmt::print(stderr, "{}\n", connections_cannot_be_allocated(o));
                status = 2;
            }
        }
        // The engines are gone; the steering rings are emptied as they go.
    }
    // The port closed (its rings emptied): every mbuf must be back in the pool.
    port->close();
    const unsigned in_use = port->mbufs_in_use();
    if (in_use != 0) {
        fmt::print(stderr, "synack-bench: {} mbufs still in use at exit\n", in_use);
        status = EXIT_FAILURE;
    }
    { auto closing = std::move(*port); }
    runtime::disable_capture();
    rte_eal_cleanup();
    return status;
}
