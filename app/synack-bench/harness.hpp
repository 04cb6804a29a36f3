#pragma once
// Runs the workloads (workload.hpp) on EAL's lcores: each lcore has a Lane
// of Parts (a client or a server workload over its stack, with what moves
// its packets), passes over them until the run ends, and the main lcore
// prints a progress line each second and the result as JSON at the end.
// The same for every stack, so that figures compare.

#include "histogram.hpp"
#include "options.hpp"
#include "workload.hpp"

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace synack::bench {

/// A workload and its stack, as a lane drives it.
class Part {
public:
    virtual ~Part() = default;
    virtual bool is_client() const noexcept = 0;
    virtual void start(std::uint64_t now) = 0;
    /// One pass: move packets (where the stack is ours), then the workload.
    /// Returns the packets moved (0 for a kernel stack).
    virtual std::uint32_t step(std::uint64_t now) = 0;
    /// Client: abort what is open, open nothing more. Server: close all.
    virtual void stop() = 0;
    /// A descriptor that becomes readable when the part has work, for a
    /// stack that is not polled (the kernel): a lane that found nothing to
    /// do waits on it (up to a millisecond) rather than spin, so that the
    /// kernel's own work (softirq) on that core is not starved. -1: none.
    virtual int wait_fd() const noexcept { return -1; }
    /// Whether the last step found anything to do.
    virtual bool worked() const noexcept { return true; }
    /// When the part has something to send whatever arrives (an open-loop
    /// request), in ns; a lane waits no longer than that.
    virtual std::optional<std::uint64_t> next_due() const noexcept { return std::nullopt; }
    /// A client that reached its share of --count.
    virtual bool done() const noexcept { return false; }
    virtual void reset_stats() = 0;
    virtual WorkloadStats stats() const = 0;
    virtual const Histogram* latency() const noexcept { return nullptr; }
    /// Engine figures, for synack stacks.
    virtual std::uint64_t retransmits() const noexcept { return 0; }
    virtual std::size_t connections() const noexcept { return 0; }
};

/// One lcore's parts, and what the lane shows the main lcore.
struct Lane {
    unsigned lcore = 0;
    std::vector<std::unique_ptr<Part>> parts;

    struct Glimpse {
        WorkloadStats client;
        WorkloadStats server;
        std::uint64_t packets = 0;
    };
    std::mutex mutex;
    Glimpse glimpse;
    // Read after the lanes are joined.
    std::uint64_t cycles_start = 0;
    std::uint64_t cycles = 0;      // in the measured phase
    std::uint64_t busy_cycles = 0; // of passes that moved packets
    std::uint64_t packets = 0;
};

/// Runs the lanes: lane 0 on the main lcore, the others on theirs; a
/// warm-up (--warmup), then --duration or --count, or until `interrupted`.
/// Prints a line a second and, at the end, one JSON object (with `extra`
/// fields, ", "-separated, from extra() after the lanes stop). Returns
/// the exit status.
int run_lanes(const Options& o, std::vector<std::unique_ptr<Lane>>& lanes, const std::atomic<bool>& interrupted,
              const std::function<std::string()>& extra = {});

/// The whole run of --stack kernel (client, server or pair): lanes of
/// KernelStack parts, one per lcore.
int run_kernel(const Options& o, const std::atomic<bool>& interrupted);

/// The ports of o.listen: where a pair's client connects, in turn.
std::vector<std::uint16_t> listen_ports(const Options& o);

/// JSON of a histogram's percentiles, in nanoseconds.
std::string latency_json(const Histogram& h);

} // namespace synack::bench
