// synack-bench [EAL args] -- server --ip a.b.c.d/n [--mode echo|sink|source]
//              [--listen PORT...] [--duration S] ...
// synack-bench [EAL args] -- client --ip a.b.c.d/n --connect a.b.c.d:port
//              [--connections N] [--bytes B] [--close-first client|server]
// The benchmark harness: one port, one run loop and engine per lcore (EAL's
// -l), steered as docs/design.md says (runtime/steering.hpp). The server prints
// one summary line a second and a JSON summary on exit; SIGINT or SIGTERM
// closes its connections, stops the port, and checks that every mbuf came
// back. The client (just what the interop tests need for now) echoes a
// checked stream over N connections, shared among the loops, and exits 0
// when every one came back intact and closed normally.

#include "client.hpp"
#include "values.hpp"
#include "harness.hpp"
#include "options.hpp"
#include "parts.hpp"
#include "synack_stack.hpp"

#include <synack/api/stack.hpp>
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
#include <rte_eth_ring.h>
#include <rte_random.h>
#include <rte_ring.h>

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

using app::ip_text;
using app::mac_text;

/// What a loop shows the main lcore for its once-a-second line: a copy made
/// ten times a second under a lock, never the live counters.
struct Glimpse {
    bench::WorkloadStats server;
    std::size_t connections = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t drops = 0;    // by the engine, on TX, between loops
    runtime::PortCounters port; // with the port's own receive drops (loop 0's)
};

/// One run loop and what it drives, on one lcore.
struct Worker {
    unsigned index = 0;
    unsigned lcore = 0;
    std::unique_ptr<Stack> core; // the synack stack this run loop drives
    std::unique_ptr<runtime::RunLoop> loop;
    std::unique_ptr<bench::SynackStack> stack;
    std::unique_ptr<bench::ServerWorkload<bench::SynackStack>> server;
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
        o.role == bench::Role::server ? bench::ServerWorkload<bench::SynackStack>::bytes_per_connection() : 0;
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
    const auto& c = w.core->engine().counters();
    std::lock_guard lock(w.mutex);
    w.glimpse.server = w.server ? w.server->stats() : bench::WorkloadStats{};
    w.glimpse.connections = w.core->connections();
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
        w.server->step(0);
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
    w.connections_at_exit = w.core->connections();
    // Close: FINs go out; give them two seconds, then reset the rest.
    w.server->close_all();
    const time::Instant grace = clock.now() + time::Duration::from_s(2);
    while (w.core->connections() != 0 && clock.now() < grace) {
        w.loop->once();
        w.server->step(0);
    }
    w.server->abort_all();
    w.loop->once();
    wait_for_the_others(run, w);
}

void connect(Run& run, Worker& w) {
    const auto& clock = run.clock;
    const time::Duration limit =
        time::Duration::from_s(run.options.duration_s > 0 ? static_cast<std::int64_t>(run.options.duration_s) : 600);
    w.client->start();
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

const char* listen_error_text(ListenError e) {
    switch (e) {
    case ListenError::port_in_use: return "is given twice";
    case ListenError::too_many_listeners: return "is one port too many for the engine's listeners";
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
        per_loop += fmt::format(
            "{}{{\"lcore\": {}, \"rx\": {}, \"segments_in\": {}, \"connections_opened\": {}}}",
            per_loop.empty() ? "" : ", ", w->lcore, w->loop->port_counters().rx_packets,
            w->core->engine().counters().tcp.segments_in,
            w->core->engine().counters().connections_opened);
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
        w->stack = std::make_unique<bench::SynackStack>(*w->core);
        w->server = std::make_unique<bench::ServerWorkload<bench::SynackStack>>(*w->stack, o);
        for (const bench::ListenSpec& l : o.listen) {
            // parse_options() refused both already; the engine has the last word.
            if (const auto r = w->core->listen(l.port); !r.ok()) {
                fmt::print(stderr, "synack-bench: option --listen: '{}' {}\n", l.port,
                           listen_error_text(r.error()));
                return 2;
            }
        }
    }
    fmt::print("synack-bench {}: {} server on port {} ({}), {}/{} at {}, MTU {}, {} run loop(s), listening on",
               synack::version(), bench::to_string(o.mode), o.port_id, run.port.driver(), ip_text(o.ip), o.prefix_len,
               mac_text(run.port.mac()), run.port.mtu(), run.workers.size());
    for (const bench::ListenSpec& l : o.listen) {
        fmt::print(" {}:{}", l.port, bench::to_string(l.mode));
    }
    fmt::print("\n");
    std::fflush(stdout);
    run.workers[0]->core->announce();
    run.start = run.clock.now();
    run_all(run);
    const time::Instant end = run.clock.now();
    run.port.stop();

    bench::WorkloadStats s;
    engine::EngineCounters c;
    runtime::PortCounters pc;
    std::size_t connections_at_exit = 0;
    for (const auto& w : run.workers) {
        const auto& ws = w->server->stats();
        s.accepted += ws.accepted;
        s.bytes_in += ws.bytes_in;
        s.bytes_out += ws.bytes_out;
        s.pattern_errors += ws.pattern_errors;
        c += w->core->engine().counters();
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

/// A client workload (rps, cps, bulk) over the port: a lane per run loop.
int run_client_workload(Run& run) {
    const auto& o = run.options;
    const auto loops = static_cast<std::uint32_t>(run.workers.size());
    std::vector<std::unique_ptr<bench::Lane>> lanes;
    for (auto& w : run.workers) {
        auto lane = std::make_unique<bench::Lane>();
        lane->lcore = w->lcore;
        runtime::RunLoop* loop = w->loop.get();
        auto stack = std::make_unique<bench::SynackStack>(
            *w->core, o.connect_ip, std::vector<std::uint16_t>{o.connect_port});
        lane->parts.push_back(std::make_unique<bench::ClientPart<bench::SynackStack>>(
            std::move(stack), [loop] { return loop->once(); }, o,
            static_cast<std::uint32_t>(bench::share(o.connections, loops, w->index)), o.rate / loops,
            bench::share(o.count, loops, w->index)));
        lanes.push_back(std::move(lane));
    }
    fmt::print("synack-bench {}: {} client on port {} ({}), {}/{} at {}, {} run loop(s), {} connection(s) to {}:{}\n",
               synack::version(), bench::to_string(o.workload), o.port_id, run.port.driver(), ip_text(o.ip),
               o.prefix_len, mac_text(run.port.mac()), loops, o.connections, ip_text(o.connect_ip), o.connect_port);
    std::fflush(stdout);
    run.workers[0]->core->announce();
    return bench::run_lanes(o, lanes, g_signal, [&run] {
        engine::EngineCounters c;
        runtime::PortCounters pc;
        for (const auto& w : run.workers) {
            w->loop->publish();
            c += w->core->engine().counters();
            pc += w->loop->port_counters();
        }
        return fmt::format("\"engine\": {{{}}}, {}", engine_json(c), port_json(pc));
    });
}

int run_client(Run& run) {
    const auto& o = run.options;
    if (o.workload != bench::Workload::stream) {
        return run_client_workload(run);
    }
    const auto loops = static_cast<std::uint32_t>(run.workers.size());
    for (auto& w : run.workers) {
        // The connections, shared out: loop i opens every loop-th one.
        const std::uint32_t share = o.connections / loops + (w->index < o.connections % loops ? 1 : 0);
        w->client = std::make_unique<bench::Client>(*w->core, o, share);
    }
    fmt::print("synack-bench {}: echo client on port {} ({}), {}/{} at {}, {} run loop(s), {} connection(s) to {}:{}, "
               "{} bytes each\n",
               synack::version(), o.port_id, run.port.driver(), ip_text(o.ip), o.prefix_len, mac_text(run.port.mac()),
               loops, o.connections, ip_text(o.connect_ip), o.connect_port, o.source_bytes);
    std::fflush(stdout);
    run.workers[0]->core->announce();
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
        retransmits += w->core->engine().counters().tcp.retransmits;
        arp_requests += w->core->engine().counters().arp_requests_sent;
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

/// An engine's settings from the options, for address ip on port.
engine::EngineConfig engine_config(const bench::Options& o, const runtime::Port& port, wire::Ipv4Addr ip) {
    engine::EngineConfig ec;
    ec.ipv4 = ip;
    ec.prefix_len = o.prefix_len;
    ec.gateway = o.gateway;
    ec.mac = port.mac();
    ec.tx_checksum = port.tx_checksum();
    ec.max_connections = o.max_connections;
    ec.tcp.mss = static_cast<std::uint16_t>(port.mtu() - 40); // IPv4 and TCP headers without options
    ec.secret = SipKey{rte_rand(), rte_rand()};
    return ec;
}

/// One side of a pair: its ring port, stack and run loop.
struct PairSide {
    std::optional<runtime::Port> port;
    std::unique_ptr<runtime::Steering> steering;
    std::unique_ptr<Stack> core;
    std::unique_ptr<runtime::RunLoop> loop;
};

/// Client and server engines in one process, joined by two net_ring
/// ports with crossed rings (what one sends the other receives): on one
/// lcore, or the server on a second. No NIC, no kernel: what is measured is
/// synack alone.
int run_pair(const bench::Options& o) {
    rte_ring* to_server = rte_ring_create("pair_c2s", 16384, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* to_client = rte_ring_create("pair_s2c", 16384, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (to_server == nullptr || to_client == nullptr) {
        fmt::print(stderr, "synack-bench: pair: rings could not be made: {}\n", rte_strerror(rte_errno));
        return 1;
    }
    const int ids[2] = {rte_eth_from_rings("net_ring_pc", &to_client, 1, &to_server, 1, SOCKET_ID_ANY),
                        rte_eth_from_rings("net_ring_ps", &to_server, 1, &to_client, 1, SOCKET_ID_ANY)};
    std::vector<unsigned> lcores{rte_get_main_lcore()};
    unsigned worker_lcore = 0;
    RTE_LCORE_FOREACH_WORKER(worker_lcore) {
        lcores.push_back(worker_lcore);
    }
    const unsigned server_lcore = lcores.size() > 1 ? lcores[1] : lcores[0];
    const wire::Ipv4Addr addresses[2] = {wire::Ipv4Addr{o.ip.value ^ 3}, o.ip}; // .1 and .2 of the /24
    time::TscClock clock;
    PairSide sides[2];
    for (int i = 0; i < 2; ++i) {
        if (ids[i] < 0) {
            fmt::print(stderr, "synack-bench: pair: rte_eth_from_rings failed: {}\n", rte_strerror(rte_errno));
            return 1;
        }
        runtime::PortConfig pc;
        pc.port_id = static_cast<std::uint16_t>(ids[i]);
        pc.mbufs = o.mbufs;
        auto port = runtime::Port::open(pc);
        if (!port) {
            fmt::print(stderr, "synack-bench: pair: {}\n", runtime::to_string(pc.port_id, port.error()));
            return 1;
        }
        sides[i].port.emplace(std::move(*port));
        auto steering = runtime::Steering::create(*sides[i].port, 1);
        if (!steering) {
            fmt::print(stderr, "synack-bench: pair: {}\n", runtime::to_string(pc.port_id, steering.error()));
            return 1;
        }
        sides[i].steering = std::move(*steering);
        sides[i].core =
            std::make_unique<Stack>(engine_config(o, *sides[i].port, addresses[i]),
                                    sides[i].port->pool(), clock.now(), sides[i].port->ctrl_pool());
        sides[i].loop = std::make_unique<runtime::RunLoop>(*sides[i].port, sides[i].core->engine(),
                                                           clock, i == 0 ? lcores[0] : server_lcore,
                                                           *sides[i].steering, 0);
    }
    int status = 0;
    {
        std::vector<std::unique_ptr<bench::Lane>> lanes;
        lanes.push_back(std::make_unique<bench::Lane>());
        lanes[0]->lcore = lcores[0];
        if (server_lcore != lcores[0]) {
            lanes.push_back(std::make_unique<bench::Lane>());
            lanes[1]->lcore = server_lcore;
        }
        runtime::RunLoop* client_loop = sides[0].loop.get();
        runtime::RunLoop* server_loop = sides[1].loop.get();
        auto server = std::make_unique<bench::ServerPart<bench::SynackStack>>(
            std::make_unique<bench::SynackStack>(*sides[1].core),
            [server_loop] { return server_loop->once(); }, o);
        if (const auto port = server->listen()) {
            fmt::print(stderr, "synack-bench: option --listen: '{}' cannot be listened on\n", *port);
            return 2;
        }
        auto client = std::make_unique<bench::ClientPart<bench::SynackStack>>(
            std::make_unique<bench::SynackStack>(*sides[0].core, addresses[1],
                                                 bench::listen_ports(o)),
            [client_loop] { return client_loop->once(); }, o, o.connections, o.rate, o.count);
        lanes.back()->parts.push_back(std::move(server));
        lanes[0]->parts.push_back(std::move(client));
        fmt::print("synack-bench {}: pair, {} over net_ring, {} connection(s), client on lcore {}, server on lcore {}\n",
                   synack::version(), bench::to_string(o.workload), o.connections, lcores[0], server_lcore);
        std::fflush(stdout);
        sides[0].core->announce();
        sides[1].core->announce();
        status = bench::run_lanes(o, lanes, g_signal, [&sides] {
            std::string out;
            const char* names[2] = {"client_engine", "server_engine"};
            for (int i = 0; i < 2; ++i) {
                out += fmt::format("{}\"{}\": {{{}}}", i == 0 ? "" : ", ", names[i],
                                   engine_json(sides[i].core->engine().counters()));
            }
            return out;
        });
    }
    // The engines go (and free what they hold), then what is left in the rings.
    for (PairSide& side : sides) {
        side.loop.reset();
        side.core.reset();
    }
    for (rte_ring* r : {to_server, to_client}) {
        void* m = nullptr;
        while (rte_ring_dequeue(r, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        }
    }
    for (PairSide& side : sides) {
        side.steering.reset();
        side.port->close();
        if (const unsigned in_use = side.port->mbufs_in_use(); in_use != 0) {
            fmt::print(stderr, "synack-bench: pair: {} mbufs still in use at exit\n", in_use);
            status = 1;
        }
        side.port.reset();
    }
    rte_ring_free(to_server);
    rte_ring_free(to_client);
    return status;
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
        engine::EngineConfig ec = engine_config(o, port, o.ip);
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
        w->core = std::make_unique<Stack>(ec, port.pool(static_cast<std::uint16_t>(i)), clock.now(),
                                          port.ctrl_pool(static_cast<std::uint16_t>(i)));
        w->loop =
            std::make_unique<runtime::RunLoop>(port, w->core->engine(), clock, lcore, steering, i);
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
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (o.stack == bench::StackKind::kernel || o.role == bench::Role::pair) {
        // No port of ours: Linux sockets, or a pair over its own ring ports.
        const int status = o.stack == bench::StackKind::kernel ? bench::run_kernel(o, g_signal) : run_pair(o);
        rte_eal_cleanup();
        return status;
    }
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
