#pragma once
// One core's run loop (DESIGN.md "Performance principles": run to
// completion): receive a burst, hand it to the engine, fire its timers,
// transmit what it produced. The embedding API is used exactly as a host
// that owns its ports would use it.

#include <synack/engine/engine.hpp>
#include <synack/runtime/port.hpp>
#include <synack/time/clock.hpp>

namespace synack::runtime {

class RunLoop {
public:
    static constexpr std::uint16_t burst = 32;

    RunLoop(Port& port, engine::Engine& engine, const time::Clock& clock) noexcept
        : port_(port), engine_(engine), clock_(clock) {}

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
        return moved;
    }

    time::Instant now() const noexcept { return clock_.now(); }

private:
    Port& port_;
    engine::Engine& engine_;
    const time::Clock& clock_;
};

} // namespace synack::runtime
