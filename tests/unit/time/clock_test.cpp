#include <synack/time/clock.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

using synack::time::Duration;
using synack::time::Instant;
using synack::time::TscClock;
using synack::time::VirtualClock;

namespace {
// The reference for cycles_to_us: a plain 128-bit product (a GCC extension).
__extension__ typedef unsigned __int128 U128;
} // namespace

TEST_CASE("Duration: from_s, from_ms and from_us agree; ms() truncates toward zero", "[time]") {
    REQUIRE(Duration::from_s(2) == Duration::from_ms(2000));
    REQUIRE(Duration::from_ms(3) == Duration::from_us(3000));
    REQUIRE(Duration::from_us(2999).ms() == 2);
    REQUIRE(Duration::from_us(-2999).ms() == -2);
    REQUIRE(Duration::from_s(-1).us() == -1000000);
    REQUIRE(Duration{}.us() == 0);
}

TEST_CASE("Duration: arithmetic and ordering", "[time]") {
    const Duration a = Duration::from_ms(10);
    const Duration b = Duration::from_us(2500);
    REQUIRE((a + b).us() == 12500);
    REQUIRE((a - b).us() == 7500);
    REQUIRE((b - a).us() == -7500);
    REQUIRE((-a).us() == -10000);
    REQUIRE((a * 4).ms() == 40);
    REQUIRE((3 * b).us() == 7500);
    REQUIRE((a / 8).us() == 1250);
    REQUIRE(b < a);
    REQUIRE(a >= a);
    REQUIRE(-a < Duration{});
}

TEST_CASE("Instant: Instant + Duration is an Instant, Instant - Instant a signed Duration",
          "[time]") {
    const Instant t = Instant::from_us(1'000'000);
    REQUIRE((t + Duration::from_ms(5)).us() == 1'005'000);
    REQUIRE((Duration::from_ms(5) + t).us() == 1'005'000);
    REQUIRE((t - Duration::from_ms(5)).us() == 995'000);
    REQUIRE((t + Duration::from_ms(-5)).us() == 995'000);
    REQUIRE((t + Duration::from_s(3)) - t == Duration::from_s(3));
    REQUIRE(t - (t + Duration::from_s(3)) == Duration::from_s(-3));
    REQUIRE(t < t + Duration::from_us(1));
    REQUIRE(Instant{}.us() == 0);
    Instant u = t;
    u += Duration::from_us(7);
    u -= Duration::from_us(2);
    REQUIRE(u - t == Duration::from_us(5));
}

TEST_CASE("Instant: differences hold far beyond years of uptime", "[time]") {
    const Instant boot = Instant::from_us(0);
    const Instant century = boot + Duration::from_s(100LL * 365 * 24 * 3600);
    REQUIRE((century - boot).us() == 100LL * 365 * 24 * 3600 * 1000000);
    const Instant late = Instant::from_us(UINT64_C(1) << 62);
    REQUIRE((late + Duration::from_s(1)) - late == Duration::from_s(1));
}

TEST_CASE("VirtualClock: starts where told and moves only by advance() and set()", "[time]") {
    VirtualClock clock(Instant::from_us(42));
    REQUIRE(clock.now() == Instant::from_us(42));
    REQUIRE(clock.now() == Instant::from_us(42));
    clock.advance(Duration::from_ms(3));
    REQUIRE(clock.now() == Instant::from_us(3042));
    clock.advance(Duration{});
    REQUIRE(clock.now() == Instant::from_us(3042));
    clock.set(Instant::from_us(10'000));
    REQUIRE(clock.now() == Instant::from_us(10'000));
    clock.set(Instant::from_us(10'000)); // the same instant is not backwards
    REQUIRE(clock.now() == Instant::from_us(10'000));

    const VirtualClock at_epoch;
    REQUIRE(at_epoch.now() == Instant{});
}

TEST_CASE("VirtualClock: reads through the Clock interface", "[time]") {
    VirtualClock clock(Instant::from_us(5));
    const synack::time::Clock& as_clock = clock;
    clock.advance(Duration::from_us(1));
    REQUIRE(as_clock.now() == Instant::from_us(6));
}

TEST_CASE("TscClock: cycles_to_us is floor(cycles * 10^6 / hz), exact for centuries", "[time]") {
    const std::uint64_t hzs[] = {1, 1'000'000, 2'100'000'000, 3'000'000'007, 25'000'000};
    const std::uint64_t cycles[] = {
        0, 1, 999, 2'099'999, UINT64_C(1) << 40, UINT64_C(1) << 62, UINT64_MAX / 2, UINT64_MAX};
    for (const std::uint64_t hz : hzs) {
        for (const std::uint64_t c : cycles) {
            const U128 expected = static_cast<U128>(c) * 1000000 / hz;
            if (expected > UINT64_MAX) {
                continue; // beyond 2**64 us: not representable, and never reached
            }
            INFO("hz " << hz << " cycles " << c);
            REQUIRE(TscClock::cycles_to_us(c, hz) == static_cast<std::uint64_t>(expected));
        }
    }
    // A 3 GHz counter after 100 years of uptime: a naive cycles * 10^6 would
    // have overflowed after 100 minutes.
    const std::uint64_t hz = 3'000'000'000;
    const std::uint64_t century_cycles = hz * 100 * 365 * 24 * 3600;
    REQUIRE(TscClock::cycles_to_us(century_cycles, hz) ==
            UINT64_C(100) * 365 * 24 * 3600 * 1000000);
}

TEST_CASE("TscClock: never runs backwards on one thread", "[time]") {
    const TscClock clock;
    REQUIRE(clock.hz() > 0);
    Instant previous = clock.now();
    for (int i = 0; i < 100000; ++i) {
        const Instant t = clock.now();
        REQUIRE(t >= previous);
        previous = t;
    }
}

TEST_CASE("TscClock: a 10 ms sleep reads as between 5 and 500 ms (a sanity check of the rate)",
          "[time]") {
    // Not a timing test: only catches a rate off by orders of magnitude
    // (cycles read as microseconds, hz of the wrong unit).
    const TscClock clock;
    const Instant before = clock.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const Duration slept = clock.now() - before;
    REQUIRE(slept >= Duration::from_ms(5));
    REQUIRE(slept <= Duration::from_ms(500));
}
