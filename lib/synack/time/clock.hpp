#pragma once
// Time values and the clocks that produce them. Instant (a point in time) and
// Duration (a span) are distinct types so that adding two points, or passing a
// span where a deadline is expected, fails to compile. Both count whole
// microseconds: fine enough for RTT estimates (RFC 6298), coarse enough that a
// uint64_t lasts 584,000 years.
//
// Time enters the stack only through a Clock read once per burst and passed
// down as an argument (docs/design.md "Engine"); nothing else reads a system clock.

#include <synack/base/assert.hpp>

#include <compare>
#include <cstdint>
#include <limits>

namespace synack::time {

/// A signed span of time in microseconds. Signed because the difference of
/// two Instants may be negative ("the deadline passed 3 ms ago").
class Duration {
public:
    /// The zero span.
    constexpr Duration() noexcept = default;

    /// A span of us microseconds.
    static constexpr Duration from_us(std::int64_t us) noexcept { return Duration(us); }
    /// A span of ms milliseconds. Precondition: |ms| * 1000 fits an int64_t (asserts).
    static constexpr Duration from_ms(std::int64_t ms) noexcept {
        SYNACK_ASSERT(ms <= max_us / 1000 && ms >= -max_us / 1000);
        return Duration(ms * 1000);
    }
    /// A span of s seconds. Precondition: |s| * 1000000 fits an int64_t (asserts).
    static constexpr Duration from_s(std::int64_t s) noexcept {
        SYNACK_ASSERT(s <= max_us / 1000000 && s >= -max_us / 1000000);
        return Duration(s * 1000000);
    }

    /// The span in microseconds.
    constexpr std::int64_t us() const noexcept { return us_; }
    /// The span in whole milliseconds, truncated toward zero.
    constexpr std::int64_t ms() const noexcept { return us_ / 1000; }

    constexpr Duration& operator+=(Duration d) noexcept {
        us_ += d.us_;
        return *this;
    }
    constexpr Duration& operator-=(Duration d) noexcept {
        us_ -= d.us_;
        return *this;
    }
    friend constexpr Duration operator+(Duration a, Duration b) noexcept { return a += b; }
    friend constexpr Duration operator-(Duration a, Duration b) noexcept { return a -= b; }
    friend constexpr Duration operator-(Duration d) noexcept { return Duration(-d.us_); }
    /// Scales a span (RFC 6298's K * RTTVAR, a backoff doubling).
    friend constexpr Duration operator*(Duration d, std::int64_t k) noexcept {
        return Duration(d.us_ * k);
    }
    friend constexpr Duration operator*(std::int64_t k, Duration d) noexcept { return d * k; }
    /// Divides a span, truncating toward zero (RFC 6298's SRTT / 8). Precondition: k != 0.
    friend constexpr Duration operator/(Duration d, std::int64_t k) noexcept {
        SYNACK_ASSERT(k != 0);
        return Duration(d.us_ / k);
    }

    friend constexpr auto operator<=>(Duration, Duration) noexcept = default;

private:
    static constexpr std::int64_t max_us = std::numeric_limits<std::int64_t>::max();
    constexpr explicit Duration(std::int64_t us) noexcept : us_(us) {}

    std::int64_t us_ = 0;
};

/// A point in time: microseconds since an epoch that only the Clock knows
/// (boot for TscClock, whatever the test chose for VirtualClock). Instants
/// compare meaningfully only when they come from the same clock.
class Instant {
public:
    /// The epoch itself.
    constexpr Instant() noexcept = default;

    /// The point us microseconds after the epoch.
    static constexpr Instant from_us(std::uint64_t us) noexcept { return Instant(us); }

    /// Microseconds since the epoch.
    constexpr std::uint64_t us() const noexcept { return us_; }

    /// Moves the point by d. Precondition: the result lies in [0, 2**64) us (asserts).
    constexpr Instant& operator+=(Duration d) noexcept {
        const std::int64_t delta = d.us();
        if (delta >= 0) {
            SYNACK_ASSERT(us_ + static_cast<std::uint64_t>(delta) >= us_);
        } else {
            SYNACK_ASSERT(us_ >= 0 - static_cast<std::uint64_t>(delta));
        }
        us_ += static_cast<std::uint64_t>(delta); // modulo 2**64: adds a negative delta too
        return *this;
    }
    constexpr Instant& operator-=(Duration d) noexcept { return *this += -d; }
    friend constexpr Instant operator+(Instant t, Duration d) noexcept { return t += d; }
    friend constexpr Instant operator+(Duration d, Instant t) noexcept { return t += d; }
    friend constexpr Instant operator-(Instant t, Duration d) noexcept { return t -= d; }

    /// The signed span a - b. Precondition: it fits an int64_t (asserts), which
    /// holds for any two readings of one clock within 292,000 years.
    friend constexpr Duration operator-(Instant a, Instant b) noexcept {
        const std::uint64_t diff = a.us_ - b.us_; // modulo 2**64, read back as signed
        const auto signed_diff = static_cast<std::int64_t>(diff);
        SYNACK_ASSERT((a.us_ >= b.us_) == (signed_diff >= 0));
        return Duration::from_us(signed_diff);
    }

    friend constexpr auto operator<=>(Instant, Instant) noexcept = default;

private:
    constexpr explicit Instant(std::uint64_t us) noexcept : us_(us) {}

    std::uint64_t us_ = 0;
};

/// Where time comes from. Read once per burst, never per packet, so the
/// virtual call costs nothing that matters.
class Clock {
public:
    virtual ~Clock() = default;

    /// The current time. Never earlier than a previous reading of this clock.
    virtual Instant now() const noexcept = 0;

protected:
    Clock() noexcept = default;
    Clock(const Clock&) noexcept = default;
    Clock& operator=(const Clock&) noexcept = default;
};

/// Production time: the CPU's time-stamp counter (rte_rdtsc) at the rate
/// rte_get_tsc_hz() measured at EAL start. The epoch is the counter's zero
/// (about boot), so TscClocks on different lcores agree where the TSC is
/// invariant and synchronised across cores, as it is on current x86 and arm64
/// servers.
class TscClock final : public Clock {
public:
    /// Precondition: the EAL is initialised, so rte_get_tsc_hz() is known
    /// (asserts it is non-zero and below 18 THz, the limit of cycles_to_us).
    TscClock() noexcept;

    /// The counter now, in microseconds (rounded down).
    Instant now() const noexcept override;

    /// Counter ticks per second.
    std::uint64_t hz() const noexcept { return hz_; }

    /// floor(cycles * 10**6 / hz) without a 128-bit product: whole seconds and
    /// the remainder converted apart, so nothing overflows until 2**64 us.
    /// Precondition: 0 < hz <= 2**64 / 10**6 (asserts).
    static constexpr std::uint64_t cycles_to_us(std::uint64_t cycles, std::uint64_t hz) noexcept {
        SYNACK_ASSERT(hz != 0 && hz <= max_hz);
        const std::uint64_t whole_s = cycles / hz;
        const std::uint64_t rem_cycles = cycles % hz; // < hz, so rem_cycles * 10**6 fits
        return whole_s * us_per_s + rem_cycles * us_per_s / hz;
    }

private:
    static constexpr std::uint64_t us_per_s = 1000000;
    static constexpr std::uint64_t max_hz = std::numeric_limits<std::uint64_t>::max() / us_per_s;

    std::uint64_t hz_;
};

/// Test and simulation time: moves only when told to, and never backwards.
class VirtualClock final : public Clock {
public:
    /// A clock that reads start until advanced.
    explicit VirtualClock(Instant start = Instant{}) noexcept : now_(start) {}

    Instant now() const noexcept override { return now_; }

    /// Moves the clock forward by d. Precondition: d >= 0 (asserts).
    void advance(Duration d) noexcept {
        SYNACK_ASSERT(d >= Duration{});
        now_ += d;
    }

    /// Moves the clock to t. Precondition: t >= now() (asserts): time never
    /// goes backwards, or timers and RTT samples would be nonsense.
    void set(Instant t) noexcept {
        SYNACK_ASSERT(t >= now_);
        now_ = t;
    }

private:
    Instant now_;
};

} // namespace synack::time
