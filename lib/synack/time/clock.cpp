#include <synack/time/clock.hpp>

#include <rte_cycles.h>

namespace synack::time {

TscClock::TscClock() noexcept : hz_(rte_get_tsc_hz()) {
    // Zero means the EAL has not measured the counter yet: every Instant would divide by it.
    SYNACK_ASSERT(hz_ != 0);
    SYNACK_ASSERT(hz_ <= max_hz);
}

Instant TscClock::now() const noexcept {
    // rte_rdtsc, not rte_rdtsc_precise: a reading per burst needs no fence, and
    // on one lcore the counter never runs backwards.
    return Instant::from_us(cycles_to_us(rte_rdtsc(), hz_));
}

} // namespace synack::time
