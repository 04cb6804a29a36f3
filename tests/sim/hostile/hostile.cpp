#include "sim/hostile/hostile.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace synack::sim::hostile {

engine::EngineConfig default_config(bool a, std::uint64_t secret) {
    engine::EngineConfig c;
    c.ipv4 = a ? ip_a : ip_b;
    c.mac = a ? mac_a : mac_b;
    c.gateway = ip_gateway;
    c.secret = SipKey{secret, mix64(secret)};
    // Array sizes only (a default engine allocates about 25 MB, some 6 ms a
    // run for a pair); still above the listener's default SYN and accept
    // backlogs together (2 x 1024), so those stay the limits a flood meets.
    c.max_connections = 4096;
    c.time_wait_records = 4096;
    c.reassembly_segments = 16384;
    return c;
}

Setup default_setup(Rng& r) {
    Setup s{default_config(true, r.next()), default_config(false, r.next()), {}, {}};
    const double loss = r.pick({0.0, 0.0, 0.01, 0.02});
    s.a_to_b = random_profile(r, loss);
    s.b_to_a = random_profile(r, r.chance(0.25) ? r.pick({0.0, 0.01, 0.02}) : loss);
    s.station.delay = time::Duration::from_us(static_cast<std::int64_t>(r.between(50, 2'000)));
    return s;
}

unsigned MbufGauge::held(const World& w) const noexcept {
    const unsigned in_use = rte_mempool_in_use_count(pool_);
    const auto wires = static_cast<unsigned>(w.in_flight());
    return in_use > baseline_ + wires ? in_use - baseline_ - wires : 0;
}

unsigned MbufGauge::sample(const World& w) noexcept {
    const unsigned n = held(w);
    // Frames in a transmit queue are the world's to move on, not what the
    // engine keeps: sampled when none waits (each instant ends so).
    if (w.a.tx_pending() == 0 && w.b.tx_pending() == 0) {
        peak_ = std::max(peak_, n);
    }
    return n;
}

void check_limits_unreached(World& w, std::vector<std::string>& failures, bool connections) {
    // The reassembly pool (16384 segments) would need 64 connections each
    // holding its whole out-of-order share (256) at once: none runs as many.
    for (engine::Engine* e : {&w.a, &w.b}) {
        const engine::EngineCounters& c = e->counters();
        const char name = e == &w.a ? 'A' : 'B';
        if (connections && c.dropped(engine::FrameDrop::no_connection_slot) != 0) {
            failures.push_back(fmt::format("engine {}: {} SYNs found no connection slot free", name,
                                           c.dropped(engine::FrameDrop::no_connection_slot)));
        }
        if (c.time_wait_full != 0) {
            failures.push_back(
                fmt::format("engine {}: {} connections found no TIME-WAIT record free", name,
                            c.time_wait_full));
        }
    }
}

time::Duration backoff_total(time::Duration first, time::Duration max, unsigned count) {
    time::Duration total;
    time::Duration step = first;
    for (unsigned i = 0; i < count; ++i) {
        total += std::min(step, max);
        step = std::min(step * 2, max);
    }
    return total;
}

} // namespace synack::sim::hostile
