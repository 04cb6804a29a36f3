#pragma once
// One core's run loop (DESIGN.md "Performance principles": run to
// completion): receive a burst, hand it to the engine, fire its timers,
// transmit what it produced. The embedding API is used exactly as a host
// that owns its ports would use it.

#include <synack/engine/engine.hpp>
#include <synack/runtime/port.hpp>
#include <synack/runtime/telemetry.hpp>
#include <synack/time/clock.hpp>

namespace synack::runtime {

class RunLoop {
public:
    static constexpr std::uint16_t burst = 32;

    RunLoop(Port& port, engine::Engine& engine, const time::Clock& clock, unsigned lcore) noexcept
        : port_(port), engine_(engine), clock_(clock), lcore_(lcore) {}

    /// One pass: RX burst -> Engine::input, Engine::poll, Engine::drain -> TX
    /// burst. Returns the packets moved, so a caller may back off when idle.
    std::uint32_t once() noexcept {
        rte_mbuf* pkts[burst];
        const time::Instant now = clock_.now();
        const std::uint16_t n = port_.receive(pkts, burst);
        if (n != 0) {
            engine_.input(pkts, n, now);
        }
        engine_.poll(now);
        std::uint32_t moved = n;
        while (const std::uint16_t out = engine_.drain(pkts, burst)) {
            port_.transmit(pkts, out);
            moved += out;
        }
        if (now >= next_publish_) {
            publish();
            next_publish_ = now + time::Duration::from_ms(100);
        }
        return moved;
    }

    /// Publishes this loop's counters for the telemetry thread now.
    void publish() noexcept {
        publish_telemetry(lcore_, engine_.counters(), port_.counters(), engine_.connections());
    }

    time::Instant now() const noexcept { return clock_.now(); }

private:
    Port& port_;
    engine::Engine& engine_;
    const time::Clock& clock_;
    unsigned lcore_;
    time::Instant next_publish_;
};

} // namespace synack::runtime
