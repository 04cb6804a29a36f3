// synack-lb: a layer-4 TCP load balancer on synack's public API and runtime.
//
//   synack-lb [EAL args] -- --ip A/LEN --listen PORT --backend A:PORT ... [options]
//
// One run loop per lcore, each with its own Stack and Balancer (balancer.hpp):
// a client's packets are steered to one loop, which connects to the backend
// from a local port whose replies steer back to it, so that a spliced pair
// lives on one core. A line each second; a JSON summary at exit (SIGINT,
// SIGTERM, or --duration).

#include "balancer.hpp"
#include "options.hpp"
#include "values.hpp"

#include <synack/api/stack.hpp>
#include <synack/api/version.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/run_loop.hpp>
#include <synack/runtime/steering.hpp>
#include <synack/runtime/telemetry.hpp>
#include <synack/time/clock.hpp>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <fmt/core.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

using namespace synack;

namespace {

std::atomic<bool> g_signal{false}; // lock-free: safe to set in a signal handler

void on_signal(int) { g_signal.store(true, std::memory_order_relaxed); }

struct Worker {
    unsigned index = 0;
    unsigned lcore = 0;
    std::unique_ptr<Stack> stack;
    std::unique_ptr<runtime::RunLoop> loop;
    std::unique_ptr<lb::Balancer> balancer;
    // What the main lcore prints: a copy taken ten times a second under the lock.
    std::mutex mutex;
    lb::BalancerStats glimpse;
    std::uint64_t pairs = 0;
    std::size_t connections_at_exit = 0;
};

struct Run {
    const lb::Options& options;
    const time::TscClock& clock;
    std::vector<std::unique_ptr<Worker>> workers;
    std::atomic<bool> stop{false};
    std::atomic<unsigned> finished{0};
    time::Instant start;
};

void take_glimpse(Worker& w) {
    std::lock_guard lock(w.mutex);
    w.glimpse = w.balancer->stats();
    w.pairs = w.balancer->pairs();
}

/// Every loop's figures added up.
std::pair<lb::BalancerStats, std::uint64_t> totals(Run& run) {
    lb::BalancerStats sum;
    sum.backends.resize(run.options.backends.size());
    std::uint64_t pairs = 0;
    for (auto& w : run.workers) {
        std::lock_guard lock(w->mutex);
        const lb::BalancerStats& s = w->glimpse;
        sum.accepted += s.accepted;
        sum.no_backend += s.no_backend;
        sum.backend_failed += s.backend_failed;
        sum.resets_forwarded += s.resets_forwarded;
        sum.half_closes += s.half_closes;
        for (std::size_t b = 0; b < s.backends.size(); ++b) {
            sum.backends[b].connections += s.backends[b].connections;
            sum.backends[b].failures += s.backends[b].failures;
            sum.backends[b].bytes_to += s.backends[b].bytes_to;
            sum.backends[b].bytes_from += s.backends[b].bytes_from;
            sum.backends[b].active += s.backends[b].active;
        }
        pairs += w->pairs;
    }
    return {sum, pairs};
}

std::string backend_text(const lb::Backend& b) {
    return fmt::format("{}:{}", app::ip_text(b.ip), b.port);
}

void print_line(Run& run, time::Instant now, lb::BalancerStats& last) {
    auto [sum, pairs] = totals(run);
    std::string per;
    for (std::size_t b = 0; b < sum.backends.size(); ++b) {
        per += fmt::format(" {} {} (+{}, {} failed)", backend_text(run.options.backends[b]),
                           sum.backends[b].active,
                           sum.backends[b].connections - last.backends[b].connections,
                           sum.backends[b].failures);
    }
    fmt::print("{:6.1f}s clients {} (+{}) reset {} backends:{}\n",
               static_cast<double>((now - run.start).us()) / 1e6, pairs,
               sum.accepted - last.accepted,
               sum.no_backend + sum.backend_failed + sum.resets_forwarded, per);
    std::fflush(stdout);
    last = sum;
}

void serve(Run& run, Worker& w) {
    const auto& o = run.options;
    const auto& clock = run.clock;
    time::Instant next_glimpse = clock.now();
    time::Instant next_line = run.start + time::Duration::from_s(1);
    lb::BalancerStats last;
    last.backends.resize(o.backends.size());
    while (!run.stop.load(std::memory_order_relaxed)) {
        w.loop->once();
        const time::Instant now = clock.now();
        w.balancer->step(now);
        if (now >= next_glimpse) {
            take_glimpse(w);
            next_glimpse = now + time::Duration::from_ms(100);
        }
        if (w.index != 0) {
            continue;
        }
        // The main lcore watches the clock and the signals for everyone.
        if (g_signal.load(std::memory_order_relaxed) ||
            (o.duration_s > 0 &&
             now - run.start >=
                 time::Duration::from_us(static_cast<std::int64_t>(o.duration_s * 1e6)))) {
            run.stop.store(true);
        }
        if (now >= next_line) {
            print_line(run, now, last);
            next_line = now + time::Duration::from_s(1);
        }
    }
    w.connections_at_exit = w.stack->connections();
    w.balancer->abort_all();
    take_glimpse(w);
    run.finished.fetch_add(1);
    // Send the RSTs, and keep steering for the loops still finishing.
    const time::Instant settle = clock.now() + time::Duration::from_ms(200);
    while (clock.now() < settle || run.finished.load() < run.workers.size()) {
        w.loop->once();
    }
    w.loop->publish();
}

struct Launch {
    Run* run;
    Worker* worker;
};

int on_lcore(void* arg) {
    auto* l = static_cast<Launch*>(arg);
    serve(*l->run, *l->worker);
    return 0;
}

int run_balancer(const lb::Options& o, runtime::Port& port, runtime::Steering& steering) {
    time::TscClock clock;
    Run run{o, clock, {}};
    std::vector<unsigned> lcores{rte_get_main_lcore()};
    unsigned worker_lcore = 0;
    RTE_LCORE_FOREACH_WORKER(worker_lcore) { lcores.push_back(worker_lcore); }
    std::array<std::uint8_t, 16> secret{};
    for (std::size_t i = 0; i < secret.size(); i += 8) {
        const std::uint64_t r = rte_rand();
        std::memcpy(secret.data() + i, &r, 8);
    }
    for (unsigned i = 0; i < steering.workers(); ++i) {
        auto w = std::make_unique<Worker>();
        w->index = i;
        w->lcore = lcores[i];
        StackConfig sc;
        sc.mac = port.mac();
        sc.ipv4 = o.ip;
        sc.prefix_len = o.prefix_len;
        sc.gateway = o.gateway;
        sc.max_connections = o.max_connections;
        sc.mss = static_cast<std::uint16_t>(port.mtu() - 40);
        sc.syn_retries = o.connect_retries;
        sc.secret = secret;
        sc.tx_checksum_ipv4 = port.tx_checksum().ipv4;
        sc.tx_checksum_tcp = port.tx_checksum().tcp;
        sc.arp_responder = i == 0;
        if (steering.workers() > 1) {
            sc.owns = [&steering, i](Ipv4Addr l, std::uint16_t lp, Ipv4Addr r, std::uint16_t rp) {
                return steering.owns(i, l, lp, r, rp);
            };
        }
        w->stack =
            std::make_unique<Stack>(sc, port.pool(static_cast<std::uint16_t>(i)), clock.now(),
                                    port.ctrl_pool(static_cast<std::uint16_t>(i)));
        w->loop = std::make_unique<runtime::RunLoop>(port, w->stack->engine(), clock, w->lcore,
                                                     steering, i);
        w->balancer = std::make_unique<lb::Balancer>(*w->stack, o);
        if (const auto p = w->balancer->start()) {
            fmt::print(stderr, "synack-lb: option --listen: '{}' cannot be listened on\n", *p);
            return 2;
        }
        run.workers.push_back(std::move(w));
    }
    std::string backends;
    for (const lb::Backend& b : o.backends) {
        backends += " " + backend_text(b);
    }
    std::string ports;
    for (const std::uint16_t p : o.listen) {
        ports += fmt::format(" {}", p);
    }
    fmt::print("synack-lb {}: port {} ({}), {}/{}, {} run loop(s), {} policy, listening on{}, "
               "backends{}\n",
               synack::version(), o.port_id, port.driver(), app::ip_text(o.ip), o.prefix_len,
               run.workers.size(), lb::to_string(o.policy), ports, backends);
    std::fflush(stdout);
    run.workers[0]->stack->announce();
    run.start = clock.now();
    std::vector<Launch> launches;
    for (auto& w : run.workers) {
        launches.push_back(Launch{&run, w.get()});
    }
    bool launch_failed = false;
    for (std::size_t i = 1; i < run.workers.size(); ++i) {
        if (const int rc = rte_eal_remote_launch(on_lcore, &launches[i], run.workers[i]->lcore);
            rc != 0) {
            fmt::print(stderr, "synack-lb: run loop {} could not start on lcore {}: {}\n", i,
                       run.workers[i]->lcore, rte_strerror(-rc));
            launch_failed = true;
            run.stop.store(true);
            run.finished.fetch_add(1);
        }
    }
    on_lcore(&launches[0]);
    rte_eal_mp_wait_lcore();
    const time::Instant end = clock.now();

    auto [sum, pairs] = totals(run);
    std::size_t at_exit = 0;
    for (auto& w : run.workers) {
        at_exit += w->connections_at_exit;
    }
    std::string per;
    for (std::size_t b = 0; b < sum.backends.size(); ++b) {
        const lb::BackendStats& s = sum.backends[b];
        per += fmt::format(
            "{}{{\"address\": \"{}\", \"connections\": {}, \"failures\": {}, \"bytes_to\": {}, "
            "\"bytes_from\": {}}}",
            b == 0 ? "" : ", ", backend_text(o.backends[b]), s.connections, s.failures, s.bytes_to,
            s.bytes_from);
    }
    fmt::print(
        "{{\"seconds\": {:.3f}, \"accepted\": {}, \"no_backend\": {}, \"backend_failed\": {}, "
        "\"resets_forwarded\": {}, \"half_closes\": {}, \"connections_at_exit\": {}, \"backends\": "
        "[{}]}}\n",
        static_cast<double>((end - run.start).us()) / 1e6, sum.accepted, sum.no_backend,
        sum.backend_failed, sum.resets_forwarded, sum.half_closes, at_exit, per);
    (void)pairs;
    return launch_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int run_port(const lb::Options& o);

} // namespace

int main(int argc, char** argv) {
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        fmt::print(stderr, "synack-lb: EAL initialisation failed: {}\n", rte_strerror(rte_errno));
        return 2;
    }
    auto parsed = lb::parse_options(argc - eal_args, argv + eal_args);
    if (auto* e = std::get_if<lb::ParseError>(&parsed)) {
        fmt::print(e->help ? stdout : stderr, "{}\n", e->message);
        rte_eal_cleanup();
        return e->help ? 0 : 2;
    }
    const lb::Options& o = std::get<lb::Options>(parsed);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const int status = run_port(o);
    rte_eal_cleanup();
    return status;
}

namespace {

/// Opens the port, runs the balancer on it, and closes it (before EAL goes).
int run_port(const lb::Options& o) {
    runtime::PortConfig pc;
    pc.port_id = o.port_id;
    pc.mbufs = o.mbufs;
    pc.queues = static_cast<std::uint16_t>(rte_lcore_count());
    auto port = runtime::Port::open(pc);
    if (!port) {
        fmt::print(stderr, "synack-lb: {}\n", runtime::to_string(o.port_id, port.error()));
        return 1;
    }
    int status = EXIT_SUCCESS;
    {
        auto steering = runtime::Steering::create(*port, rte_lcore_count());
        if (!steering) {
            fmt::print(stderr, "synack-lb: {}\n", runtime::to_string(o.port_id, steering.error()));
            status = EXIT_FAILURE;
        } else {
            runtime::register_telemetry();
            try {
                status = run_balancer(o, *port, **steering);
            } catch (const std::bad_alloc&) {
                fmt::print(stderr,
                           "synack-lb: option --max-connections: '{}' is too many for the memory "
                           "({} bytes each, per run loop)\n",
                           o.max_connections, Stack::bytes_per_connection());
                status = 2;
            }
        }
    }
    port->close();
    if (const unsigned in_use = port->mbufs_in_use(); in_use != 0) {
        fmt::print(stderr, "synack-lb: {} mbufs still in use at exit\n", in_use);
        status = EXIT_FAILURE;
    }
    return status;
}

} // namespace
