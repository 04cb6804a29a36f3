#include "workload.hpp"

#include <synack/base/counters.hpp>

#include <rte_cycles.h>

#include <cmath>

namespace synack::bench {

NsClock::NsClock()
    : ns_per_cycle_(1e9L / static_cast<long double>(rte_get_tsc_hz())), origin_(rte_get_tsc_cycles()) {}

std::uint64_t NsClock::now() const noexcept {
    return static_cast<std::uint64_t>(static_cast<long double>(rte_get_tsc_cycles() - origin_) * ns_per_cycle_);
}

OpenLoopSchedule::OpenLoopSchedule(double per_second, std::uint64_t start_ns) noexcept
    : interval_ns_(1e9L / static_cast<long double>(per_second)), start_(start_ns) {}

std::uint64_t OpenLoopSchedule::at(std::uint64_t k) const noexcept {
    // From the start each time, not by adding intervals: no drift.
    return start_ + static_cast<std::uint64_t>(std::llround(static_cast<long double>(k) * interval_ns_));
}

std::optional<std::uint64_t> OpenLoopSchedule::due(std::uint64_t now_ns) noexcept {
    const std::uint64_t t = at(issued_);
    if (t > now_ns) {
        return std::nullopt;
    }
    ++issued_;
    return t;
}

WorkloadStats& WorkloadStats::operator+=(const WorkloadStats& o) noexcept {
    add_counters(*this, o);
    return *this;
}

} // namespace synack::bench
