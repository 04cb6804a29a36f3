#pragma once
// One core's run loop (docs/design.md "Run to completion"): receive a
// burst from this loop's queues, pass each packet another loop owns to it
// (runtime/steering.hpp), take what other loops passed here, hand it all to
// the engine, fire its timers, transmit what it produced. The embedding
// API is used exactly as a host that owns its ports would use it.

#include <synack/engine/engine.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/steering.hpp>
#include <synack/runtime/telemetry.hpp>
#include <synack/time/clock.hpp>

#include <array>
#include <optional>
#include <vector>

namespace synack::runtime {

class RunLoop {
public:
    static constexpr std::uint16_t burst = 32;

    /// Loop `worker` of steering.workers(), on lcore (for telemetry).
    RunLoop(Port& port, engine::Engine& engine, const time::Clock& clock, unsigned lcore, Steering& steering,
            unsigned worker);

    /// One pass: RX burst (and steering) -> Engine::input, Engine::poll,
    /// Engine::drain -> TX burst. Returns the packets moved, so a caller
    /// may back off when idle.
    std::uint32_t once() noexcept;

    /// Publishes this loop's counters for the telemetry thread now (once()
    /// does ten times a second). Loop 0 first reads the port's own receive
    /// drops into its PortCounters: they are the port's, so one loop holds
    /// them and a sum over loops counts them once.
    void publish() noexcept;

    time::Instant now() const noexcept { return clock_.now(); }
    unsigned worker() const noexcept { return worker_; }
    const PortCounters& port_counters() const noexcept { return port_counters_; }
    const SteeringCounters& steering_counters() const noexcept { return steering_counters_; }

private:
    /// Sorts a received burst: ours to mine (returns how many), the rest to
    /// their owners' rings.
    std::uint16_t sort(rte_mbuf** pkts, std::uint16_t n, rte_mbuf** mine) noexcept;
    void pass(unsigned to, rte_mbuf* m) noexcept;
    void flush_passed() noexcept;
    void transmit(rte_mbuf** pkts, std::uint16_t n) noexcept;

    Port& port_;
    engine::Engine& engine_;
    const time::Clock& clock_;
    unsigned lcore_;
    Steering& steering_;
    unsigned worker_;
    std::vector<std::uint16_t> rx_queues_;
    std::optional<std::uint16_t> tx_queue_;
    std::vector<unsigned> handing_off_; // loops whose TX this loop transmits
    std::vector<std::array<rte_mbuf*, burst>> outbox_; // per owner, flushed after each burst
    std::vector<std::uint16_t> outbox_len_;
    PortCounters port_counters_;
    SteeringCounters steering_counters_;
    time::Instant next_publish_;
};

} // namespace synack::runtime
