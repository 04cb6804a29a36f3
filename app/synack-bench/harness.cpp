#include "harness.hpp"

#include "kernel_stack.hpp"
#include "parts.hpp"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <fmt/core.h>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <thread>

// Under valgrind --tool=callgrind, the counts start at the measured phase
// and are dumped at its end (scripts/bench.sh: instructions per request).
// Without valgrind's header, or outside valgrind, these do nothing.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define SYNACK_CALLGRIND_ZERO() CALLGRIND_ZERO_STATS
#define SYNACK_CALLGRIND_DUMP() CALLGRIND_DUMP_STATS_AT("measured")
#else
#define SYNACK_CALLGRIND_ZERO() ((void)0)
#define SYNACK_CALLGRIND_DUMP() ((void)0)
#endif

namespace synack::bench {

namespace {

constexpr std::uint64_t ms = 1000000; // in ns

enum Phase : int { warming = 0, measuring = 1, stopping = 2 };

struct Shared {
    const Options& o;
    std::vector<std::unique_ptr<Lane>>& lanes;
    const std::atomic<bool>& interrupted;
    NsClock clock;
    std::atomic<int> phase{warming};
    std::atomic<unsigned> lanes_done{0};     // every client part reached its --count share
    std::atomic<unsigned> lanes_finished{0}; // stopped and settled
    std::uint64_t measure_start = 0;         // ns, written by lane 0
    std::uint64_t measure_end = 0;
};

/// Whether the run ends when the clients are done (--count, or bulk with
/// --bytes) rather than after --duration.
bool finite(const Options& o) {
    return o.count != 0 || (o.workload == Workload::bulk && o.source_bytes != 0 && o.role != Role::server);
}

void take_glimpse(Lane& lane) {
    Lane::Glimpse g;
    for (const auto& p : lane.parts) {
        (p->is_client() ? g.client : g.server) += p->stats();
    }
    g.packets = lane.packets;
    std::lock_guard lock(lane.mutex);
    lane.glimpse = g;
}

void print_progress(Shared& s, double t, Lane::Glimpse& last, double secs) {
    Lane::Glimpse sum;
    for (auto& lane : s.lanes) {
        std::lock_guard lock(lane->mutex);
        sum.client += lane->glimpse.client;
        sum.server += lane->glimpse.server;
        sum.packets += lane->glimpse.packets;
    }
    const auto rate = [secs](std::uint64_t now, std::uint64_t before) {
        return static_cast<double>(now >= before ? now - before : now) / secs;
    };
    fmt::print("{:6.1f}s {} requests/s {:.0f} connects/s {:.0f} in {:.1f} MB/s out {:.1f} MB/s failed {} "
               "server in {:.1f} MB/s out {:.1f} MB/s\n",
               t, s.phase.load() == warming ? "(warm-up)" : "", rate(sum.client.requests, last.client.requests),
               rate(sum.client.connects, last.client.connects),
               rate(sum.client.bytes_in, last.client.bytes_in) / 1e6,
               rate(sum.client.bytes_out, last.client.bytes_out) / 1e6, sum.client.failed,
               rate(sum.server.bytes_in, last.server.bytes_in) / 1e6,
               rate(sum.server.bytes_out, last.server.bytes_out) / 1e6);
    std::fflush(stdout);
    last = sum;
}

/// Lane 0 decides when the phases change; every lane follows.
void steer(Shared& s, std::uint64_t now) {
    const int phase = s.phase.load(std::memory_order_relaxed);
    const bool clients_done = s.lanes_done.load(std::memory_order_relaxed) == s.lanes.size();
    if (s.interrupted.load(std::memory_order_relaxed) && phase != stopping) {
        s.measure_end = now;
        if (phase == warming) {
            s.measure_start = now;
        }
        s.phase.store(stopping);
        return;
    }
    if (phase == warming && now >= static_cast<std::uint64_t>(s.o.warmup_s * 1e9)) {
        s.measure_start = now;
        s.phase.store(measuring);
    } else if (phase == measuring) {
        const bool timed_out = !finite(s.o) && s.o.duration_s > 0 &&
                               now - s.measure_start >= static_cast<std::uint64_t>(s.o.duration_s * 1e9);
        if (timed_out || (finite(s.o) && clients_done)) {
            s.measure_end = now;
            s.phase.store(stopping);
        }
    }
}

void run_lane(Shared& s, Lane& lane, bool main) {
    int seen = s.phase.load();
    bool done_told = false;
    std::uint64_t next_glimpse = 0;
    std::uint64_t next_line = ms * 1000;
    std::uint64_t last_line = 0;
    Lane::Glimpse last;
    // Kernel parts: wait when idle (Part::wait_fd); any other part, spin.
    std::vector<pollfd> waits;
    // A wait ends when asked, not up to 50 us later (the default timer slack).
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    for (const auto& p : lane.parts) {
        waits.push_back(pollfd{p->wait_fd(), POLLIN, 0});
        if (p->wait_fd() < 0) {
            waits.clear();
            break;
        }
    }
    const auto has_client = std::any_of(lane.parts.begin(), lane.parts.end(), [](const auto& p) { return p->is_client(); });
    if (!has_client || !finite(s.o)) {
        s.lanes_done.fetch_add(1);
        done_told = true;
    }
    for (;;) {
        const std::uint64_t now = s.clock.now();
        const int phase = s.phase.load(std::memory_order_relaxed);
        if (phase != seen) {
            if (phase == measuring || (phase == stopping && seen == warming)) {
                if (main) {
                    SYNACK_CALLGRIND_ZERO();
                }
                for (auto& p : lane.parts) {
                    p->reset_stats();
                }
                lane.packets = 0;
                lane.busy_cycles = 0;
                lane.cycles_start = rte_get_tsc_cycles();
            }
            if (phase == stopping) {
                if (main) {
                    SYNACK_CALLGRIND_DUMP();
                }
                break;
            }
            seen = phase;
        }
        const std::uint64_t t0 = rte_get_tsc_cycles();
        std::uint32_t moved = 0;
        for (auto& p : lane.parts) {
            moved += p->step(now);
        }
        if (moved != 0) {
            lane.busy_cycles += rte_get_tsc_cycles() - t0;
            lane.packets += moved;
        }
        if (!waits.empty() && std::none_of(lane.parts.begin(), lane.parts.end(), [](const auto& p) { return p->worked(); })) {
            // Up to a millisecond, and no later than the next open-loop send.
            std::uint64_t wait_ns = ms;
            for (const auto& p : lane.parts) {
                if (const auto due = p->next_due()) {
                    wait_ns = std::min(wait_ns, *due > now ? *due - now : 0);
                }
            }
            if (wait_ns > 2000) {
                const timespec t{0, static_cast<long>(wait_ns)};
                ppoll(waits.data(), waits.size(), &t, nullptr);
            }
        }
        // Done counts in the measured phase only: the warm-up's requests
        // were forgotten.
        if (!done_told && seen == measuring &&
            std::all_of(lane.parts.begin(), lane.parts.end(),
                        [](const auto& p) { return !p->is_client() || p->done(); })) {
            s.lanes_done.fetch_add(1);
            done_told = true;
        }
        if (now >= next_glimpse) {
            take_glimpse(lane);
            next_glimpse = now + 100 * ms;
        }
        if (main) {
            steer(s, now);
            if (now >= next_line) {
                print_progress(s, static_cast<double>(now) / 1e9, last,
                               static_cast<double>(now - last_line) / 1e9);
                last_line = now;
                next_line = now + 1000 * ms;
            }
        }
    }
    lane.cycles = rte_get_tsc_cycles() - lane.cycles_start;
    // Stop: clients reset what is open, servers close; a moment for the
    // last segments to go, passing over every part (a pair's other side too).
    for (auto& p : lane.parts) {
        p->stop();
    }
    take_glimpse(lane);
    const std::uint64_t settle = s.clock.now() + 200 * ms;
    while (s.clock.now() < settle) {
        for (auto& p : lane.parts) {
            p->step(s.clock.now());
        }
    }
    s.lanes_finished.fetch_add(1);
    while (s.lanes_finished.load() < s.lanes.size()) {
        for (auto& p : lane.parts) {
            p->step(s.clock.now());
        }
    }
}

struct Launch {
    Shared* shared;
    Lane* lane;
};

int lane_main(void* arg) {
    auto* l = static_cast<Launch*>(arg);
    run_lane(*l->shared, *l->lane, false);
    return 0;
}

std::string stats_json(const WorkloadStats& w) {
    return fmt::format("{{\"requests\": {}, \"bytes_in\": {}, \"bytes_out\": {}, \"connects\": {}, \"connect_errors\": {}, "
                       "\"failed\": {}, \"accepted\": {}, \"closed\": {}, \"pattern_errors\": {}, \"schedule_backlog\": {}}}",
                       w.requests, w.bytes_in, w.bytes_out, w.connects, w.connect_errors, w.failed, w.accepted, w.closed,
                       w.pattern_errors, w.schedule_backlog);
}

} // namespace

std::vector<std::uint16_t> listen_ports(const Options& o) {
    std::vector<std::uint16_t> ports;
    for (const ListenSpec& l : o.listen) {
        ports.push_back(l.port);
    }
    return ports;
}

std::string latency_json(const Histogram& h) {
    return fmt::format("{{\"count\": {}, \"min\": {}, \"mean\": {:.0f}, \"p50\": {}, \"p90\": {}, \"p99\": {}, "
                       "\"p99_9\": {}, \"p99_99\": {}, \"max\": {}}}",
                       h.count(), h.min(), h.mean(), h.percentile(50), h.percentile(90), h.percentile(99),
                       h.percentile(99.9), h.percentile(99.99), h.max());
}

int run_lanes(const Options& o, std::vector<std::unique_ptr<Lane>>& lanes, const std::atomic<bool>& interrupted,
              const std::function<std::string()>& extra_json) {
    Shared s{o, lanes, interrupted};
    if (o.warmup_s <= 0) {
        // No warm-up: everything counts, from before the first connect.
        s.phase.store(measuring);
        s.measure_start = s.clock.now();
        for (auto& lane : lanes) {
            lane->cycles_start = rte_get_tsc_cycles();
        }
    }
    for (auto& lane : lanes) { // servers first: a pair's client connects at once
        for (auto& p : lane->parts) {
            if (!p->is_client()) {
                p->start(s.clock.now());
            }
        }
    }
    for (auto& lane : lanes) {
        for (auto& p : lane->parts) {
            if (p->is_client()) {
                p->start(s.clock.now());
            }
        }
    }
    std::vector<Launch> launches;
    for (auto& lane : lanes) {
        launches.push_back(Launch{&s, lane.get()});
    }
    int status = 0;
    for (std::size_t i = 1; i < lanes.size(); ++i) {
        if (const int rc = rte_eal_remote_launch(lane_main, &launches[i], lanes[i]->lcore); rc != 0) {
            fmt::print(stderr, "synack-bench: lane {} could not start on lcore {}\n", i, lanes[i]->lcore);
            s.phase.store(stopping);
            s.lanes_finished.fetch_add(1);
            status = 1;
        }
    }
    run_lane(s, *lanes[0], true);
    rte_eal_mp_wait_lcore();

    WorkloadStats client;
    WorkloadStats server;
    Histogram latency;
    std::uint64_t cycles = 0;
    std::uint64_t busy = 0;
    std::uint64_t packets = 0;
    std::uint64_t retransmits = 0;
    for (auto& lane : lanes) {
        cycles += lane->cycles;
        busy += lane->busy_cycles;
        packets += lane->packets;
        for (auto& p : lane->parts) {
            (p->is_client() ? client : server) += p->stats();
            if (const Histogram* h = p->latency()) {
                latency.merge(*h);
            }
            retransmits += p->retransmits();
        }
    }
    const std::string extra = extra_json ? extra_json() : std::string();
    const double secs = std::max(static_cast<double>(s.measure_end - s.measure_start) / 1e9, 1e-9);
    const bool cps = o.workload == Workload::cps;
    const std::uint64_t requests = client.requests;
    const auto per = [](std::uint64_t a, std::uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); };
    const bool has_client = client.connects != 0 || o.role != Role::server;
    const std::uint64_t goodput_bytes =
        has_client ? client.bytes_in + client.bytes_out : server.bytes_in + server.bytes_out;
    fmt::print("{{\"role\": \"{}\", \"stack\": \"{}\", \"workload\": \"{}\", \"lanes\": {}, \"seconds\": {:.3f}, "
               "\"connections\": {}, \"pipeline\": {}, \"rate\": {}, \"request_size\": {}, \"response_size\": {}, "
               "\"requests\": {}, \"requests_per_s\": {:.1f}, \"connections_per_s\": {:.1f}, \"goodput_gbit_s\": {:.4f}, "
               "\"latency_ns\": {}, \"cycles\": {}, \"cycles_per_request\": {:.1f}, \"busy_cycles\": {}, "
               "\"packets\": {}, \"busy_cycles_per_packet\": {:.1f}, \"tsc_hz\": {}, \"retransmits\": {}, "
               "\"client\": {}, \"server\": {}{}{}}}\n",
               o.role == Role::pair ? "pair" : o.role == Role::client ? "client" : "server", to_string(o.stack),
               to_string(o.workload), lanes.size(), secs, o.connections, o.pipeline, o.rate, o.request_size,
               o.response_size, requests, static_cast<double>(requests) / secs,
               cps ? static_cast<double>(requests) / secs : static_cast<double>(client.connects) / secs,
               static_cast<double>(goodput_bytes) * 8 / secs / 1e9, latency_json(latency), cycles,
               per(cycles, requests), busy, packets, per(busy, packets), rte_get_tsc_hz(), retransmits,
               stats_json(client), stats_json(server), extra.empty() ? "" : ", ", extra);
    std::fflush(stdout);
    const bool clean = client.pattern_errors == 0 && server.pattern_errors == 0;
    return status != 0 ? status : clean ? 0 : 1;
}

int run_kernel(const Options& o, const std::atomic<bool>& interrupted) {
    // One descriptor per connection (two in a pair): as many as the system
    // allows (fs.nr_open) where we may raise the hard limit (root), else
    // up to the hard limit.
    rlimit files{};
    std::uint64_t nr_open = 0;
    if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
        if (std::fscanf(f, "%" SCNu64, &nr_open) != 1) {
            nr_open = 0;
        }
        std::fclose(f);
    }
    const rlimit wanted{nr_open, nr_open};
    if (nr_open == 0 || setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            setrlimit(RLIMIT_NOFILE, &files);
        }
    }
    std::vector<unsigned> lcores{rte_get_main_lcore()};
    unsigned lcore = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        lcores.push_back(lcore);
    }
    const std::uint32_t loopback = 0x7f000001;
    const std::uint32_t target_ip = o.role == Role::pair ? loopback : o.connect_ip.value;
    const std::vector<std::uint16_t> target_ports =
        o.role == Role::pair ? listen_ports(o) : std::vector<std::uint16_t>{o.connect_port};
    const std::uint32_t bind_ip = o.role == Role::pair ? loopback : o.ip.value;
    const auto clients = static_cast<std::uint32_t>(o.role == Role::pair && lcores.size() > 1 ? lcores.size() - 1
                                                                                               : lcores.size());
    std::vector<std::unique_ptr<Lane>> lanes;
    for (std::size_t i = 0; i < lcores.size(); ++i) {
        auto lane = std::make_unique<Lane>();
        lane->lcore = lcores[i];
        // A pair on one lcore has both sides there; on more, the last lcore serves.
        const bool serves = o.role == Role::server || (o.role == Role::pair && (lcores.size() == 1 || i + 1 == lcores.size()));
        const bool connects = o.role == Role::client || (o.role == Role::pair && (lcores.size() == 1 || i + 1 < lcores.size()));
        if (serves) {
            auto stack = std::make_unique<KernelStack>(bind_ip, 0, std::vector<std::uint16_t>{});
            if (!stack->error().empty()) {
                fmt::print(stderr, "synack-bench: {}\n", stack->error());
                return 1;
            }
            auto part = std::make_unique<ServerPart<KernelStack>>(std::move(stack), [] { return 0U; }, o);
            if (const auto port = part->listen()) {
                fmt::print(stderr, "synack-bench: option --listen: '{}' cannot be listened on by the kernel: {}\n",
                           *port, std::strerror(errno));
                return 2;
            }
            lane->parts.push_back(std::move(part));
        }
        if (connects) {
            const auto index = static_cast<std::uint32_t>(i);
            auto stack = std::make_unique<KernelStack>(0, target_ip, target_ports);
            if (!stack->error().empty()) {
                fmt::print(stderr, "synack-bench: {}\n", stack->error());
                return 1;
            }
            lane->parts.push_back(std::make_unique<ClientPart<KernelStack>>(
                std::move(stack), [] { return 0U; }, o, static_cast<std::uint32_t>(share(o.connections, clients, index)),
                o.rate / clients, share(o.count, clients, index)));
        }
        lanes.push_back(std::move(lane));
    }
    fmt::print("synack-bench: {} over Linux sockets, {} lane(s) on lcores",
               o.role == Role::pair ? "pair" : o.role == Role::client ? "client" : "server", lanes.size());
    for (const unsigned l : lcores) {
        fmt::print(" {}", l);
    }
    if (o.role != Role::client) {
        fmt::print(", listening on");
        for (const ListenSpec& l : o.listen) {
            fmt::print(" {}:{}", l.port, to_string(l.mode));
        }
    }
    if (o.role != Role::server) {
        fmt::print(", {} client of {} connection(s)", to_string(o.workload), o.connections);
    }
    fmt::print("\n");
    std::fflush(stdout);
    return run_lanes(o, lanes, interrupted);
}

} // namespace synack::bench
