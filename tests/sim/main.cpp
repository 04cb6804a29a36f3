// synack-sim: the deterministic simulation. Runs scenarios over many seeds
// and checks every invariant; a failing seed is printed with the command
// that replays it alone. With --goodput, measures simulated goodput.
//
//   synack-sim [--scenario NAME|all] [--seeds N] [--first-seed S]
//   synack-sim --scenario NAME --seed S [--verbose] [--pcap FILE]
//   synack-sim --goodput [--bytes N] [--loss PERCENT [--verbose] [--pcap FILE]]
//   synack-sim --list

#include "sim/scenarios.hpp"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/core.h>

#include <malloc.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace synack;
using namespace synack::sim;

namespace {

struct Options {
    std::string scenario = "all";
    std::uint64_t seeds = 1000;
    std::uint64_t first_seed = 1;
    bool verbose = false;
    std::string pcap;
    bool goodput = false;
    std::uint64_t goodput_bytes = 16 << 20;
    std::optional<double> goodput_loss; // one loss rate only, in [0, 1]
    bool list = false;
};

[[noreturn]] void usage_error(const std::string& message) {
    fmt::print(stderr, "synack-sim: {}\n(see the usage at the top of tests/sim/main.cpp, or --list)\n", message);
    std::exit(2);
}

std::uint64_t number(std::string_view option, const char* value) {
    if (value == nullptr) {
        usage_error(fmt::format("option {} needs a value", option));
    }
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(value, &end, 10);
    if (errno != 0 || end == value || *end != 0 || value[0] == '-') {
        usage_error(fmt::format("option {}: '{}' is not a non-negative integer", option, value));
    }
    return n;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        if (arg == "--scenario") {
            if (value == nullptr) {
                usage_error("option --scenario needs a value");
            }
            o.scenario = value;
            ++i;
        } else if (arg == "--seeds") {
            o.seeds = number(arg, value);
            ++i;
        } else if (arg == "--first-seed") {
            o.first_seed = number(arg, value);
            ++i;
        } else if (arg == "--seed") {
            o.first_seed = number(arg, value);
            o.seeds = 1;
            ++i;
        } else if (arg == "--pcap") {
            if (value == nullptr) {
                usage_error("option --pcap needs a file name");
            }
            o.pcap = value;
            ++i;
        } else if (arg == "--bytes") {
            o.goodput_bytes = number(arg, value);
            ++i;
        } else if (arg == "--loss") {
            const std::uint64_t percent = number(arg, value);
            if (percent > 100) {
                usage_error(fmt::format("option --loss: {} is not a percentage (0-100)", percent));
            }
            o.goodput_loss = static_cast<double>(percent) / 100;
            ++i;
        } else if (arg == "--verbose") {
            o.verbose = true;
        } else if (arg == "--goodput") {
            o.goodput = true;
        } else if (arg == "--list") {
            o.list = true;
        } else {
            usage_error(fmt::format("unknown option '{}'", arg));
        }
    }
    if (!o.pcap.empty() && (o.goodput ? !o.goodput_loss : o.seeds != 1)) {
        usage_error("--pcap records one run: give --seed (or --goodput --loss) too");
    }
    if (o.goodput_loss && !o.goodput) {
        usage_error("--loss is an option of --goodput");
    }
    return o;
}

std::string loss_label(double loss) { return fmt::format("{:g}%", loss * 100); }

/// Runs one scenario over the seeds; prints failures and a summary. Returns the failures.
std::uint64_t run_seeds(const ScenarioInfo& info, const Options& o, const char* argv0, rte_mempool* pool) {
    std::uint64_t failed = 0;
    LinkCounters links;
    std::map<std::string, unsigned> loss_mix;
    double virtual_s = 0;
    std::uint64_t delivered = 0;
    std::uint64_t retransmits = 0;
    const auto wall_start = std::chrono::steady_clock::now();
    for (std::uint64_t seed = o.first_seed; seed < o.first_seed + o.seeds; ++seed) {
        RunOptions ro{o.verbose, o.pcap};
        if (o.verbose) {
            fmt::print("--- {} seed {}\n", info.name, seed);
        }
        const RunResult r = run(info, seed, ro, pool);
        if (o.verbose || o.seeds == 1) {
            fmt::print("{} seed {}: A->B {}; B->A {}\n", info.name, seed, r.a_to_b.describe(), r.b_to_a.describe());
        }
        links += r.links;
        ++loss_mix[loss_label(r.a_to_b.loss)];
        virtual_s += static_cast<double>(r.virtual_time.us()) / 1e6;
        delivered += r.bytes_delivered;
        retransmits += r.retransmits;
        if (!r.failures.empty()) {
            ++failed;
            fmt::print("FAIL {} seed {} (A->B {}; B->A {}):\n", info.name, seed, r.a_to_b.describe(), r.b_to_a.describe());
            for (std::size_t i = 0; i < r.failures.size() && i < 8; ++i) {
                fmt::print("  {}\n", r.failures[i]);
            }
            fmt::print("  replay: {} --scenario {} --seed {} --verbose --pcap {}-{}.pcap\n", argv0, info.name, seed,
                       info.name, seed);
        }
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    std::string mix;
    for (const auto& [label, n] : loss_mix) {
        mix += fmt::format(" {}:{}", label, n);
    }
    const auto pct = [&](std::uint64_t n) { return links.sent == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(links.sent); };
    fmt::print("{:<19} {} seeds, {} passed, {} failed | loss (A->B) runs:{} | frames {} lost {:.1f}% dup {:.1f}% "
               "reordered {:.1f}% corrupt {:.1f}% queue-drop {:.1f}% | retransmits {} | {:.1f} MiB delivered in {:.0f} s "
               "virtual, {:.1f} s wall\n",
               info.name, o.seeds, o.seeds - failed, failed, mix, links.sent, pct(links.lost), pct(links.duplicated),
               pct(links.reordered), pct(links.corrupted), pct(links.queue_drops), retransmits,
               static_cast<double>(delivered) / (1 << 20), virtual_s, wall_s);
    return failed;
}

int goodput(const Options& o, rte_mempool* pool) {
    struct Row {
        double loss;
        RunResult r;
        double wall_s;
    };
    std::vector<Row> rows;
    std::vector<double> losses = {0.0, 0.01, 0.05, 0.2};
    if (o.goodput_loss) {
        losses = {*o.goodput_loss};
    }
    for (double loss : losses) {
        auto scenario = bulk_transfer(o.goodput_bytes);
        const auto wall_start = std::chrono::steady_clock::now();
        RunResult r = run(goodput_setup(loss), *scenario, 1, RunOptions{o.verbose, o.pcap}, pool);
        rows.push_back({loss, std::move(r),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count()});
    }
    fmt::print("simulated goodput: {} MiB one way, 1 Gbit/s, 5 ms each way (10 ms RTT), 1 MiB queue, 4 MiB buffers, "
               "random loss both ways\n",
               o.goodput_bytes >> 20);
    fmt::print("{:>6} {:>14} {:>12} {:>12} {:>10} {:>12} {:>9}\n", "loss", "goodput Mbit/s", "transfer s",
               "retransmits", "timeouts", "queue drops", "wall s");
    int status = EXIT_SUCCESS;
    std::string json = "{\"goodput\": [";
    for (const Row& row : rows) {
        const double s = static_cast<double>(row.r.last_read_time.us()) / 1e6;
        const double mbps = s > 0 ? static_cast<double>(o.goodput_bytes) * 8 / s / 1e6 : 0;
        fmt::print("{:>6} {:>14.1f} {:>12.3f} {:>12} {:>10} {:>12} {:>9.2f}\n", loss_label(row.loss), mbps, s,
                   row.r.retransmits, row.r.timeouts, row.r.links.queue_drops, row.wall_s);
        json += fmt::format("{}{{\"loss\": {}, \"goodput_mbps\": {:.1f}, \"transfer_s\": {:.4f}, \"retransmits\": {}, "
                            "\"timeouts\": {}, \"queue_drops\": {}}}",
                            &row == rows.data() ? "" : ", ", row.loss, mbps, s, row.r.retransmits, row.r.timeouts,
                            row.r.links.queue_drops);
        for (const auto& f : row.r.failures) {
            fmt::print("FAIL goodput at {} loss: {}\n", loss_label(row.loss), f);
            status = EXIT_FAILURE;
        }
    }
    fmt::print("{}]}}\n", json);
    return status;
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    // Every run builds two engines whose arrays take megabytes: kept in the
    // heap once freed (neither returned to the system nor mapped afresh), the
    // next run's engines reuse pages already there instead of faulting them in.
    mallopt(M_MMAP_THRESHOLD, 32 << 20); // the most glibc takes
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (o.list) {
        for (const ScenarioInfo& s : scenarios()) {
            fmt::print("{:<19} {}\n", s.name, s.what);
        }
        return EXIT_SUCCESS;
    }
    std::vector<const ScenarioInfo*> chosen;
    for (const ScenarioInfo& s : scenarios()) {
        if (o.scenario == "all" || o.scenario == s.name) {
            chosen.push_back(&s);
        }
    }
    if (chosen.empty() && !o.goodput) {
        usage_error(fmt::format("option --scenario: no scenario '{}' (--list shows them)", o.scenario));
    }

    std::vector<std::string> eal_args = {"synack-sim", "--no-huge", "--no-pci", "--no-shconf",
                                         "--no-telemetry", "-m", "256", "--log-level=lib.*:error"};
    std::vector<char*> eal_argv;
    for (auto& a : eal_args) {
        eal_argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        fmt::print(stderr, "synack-sim: EAL initialisation failed: {}\n", rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }
    rte_mempool* pool = rte_pktmbuf_pool_create("sim_pool", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool == nullptr) {
        fmt::print(stderr, "synack-sim: mempool creation failed: {}\n", rte_strerror(rte_errno));
        return EXIT_FAILURE;
    }

    int status = EXIT_SUCCESS;
    if (o.goodput) {
        status = goodput(o, pool);
    } else {
        std::uint64_t failed = 0;
        for (const ScenarioInfo* s : chosen) {
            failed += run_seeds(*s, o, argv[0], pool);
        }
        const std::uint64_t total = o.seeds * chosen.size();
        fmt::print("sim: {} runs ({} seeds x {} scenarios), {} passed, {} failed\n", total, o.seeds, chosen.size(),
                   total - failed, failed);
        status = failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    }
    rte_mempool_free(pool);
    rte_eal_cleanup();
    return status;
}
