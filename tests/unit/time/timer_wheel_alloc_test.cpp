// The wheel never allocates: arm, cancel and expire only relink intrusive
// nodes. Checked by replacing the global operator new for this program and
// counting calls across a million operations.

#include "unit/time/time_test_support.hpp"

#include <synack/time/clock.hpp>
#include <synack/time/timer_wheel.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>

namespace {
std::atomic<std::uint64_t> g_allocations{0};

std::uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

void* counted_alloc(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
} // namespace

// Every unaligned form, each paired with free(), so a sanitizer sees matching
// malloc/free; the aligned forms keep their defaults, which pair among themselves.
void* operator new(std::size_t size) {
    if (void* p = counted_alloc(size)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    if (void* p = counted_alloc(size)) {
        return p;
    }
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return counted_alloc(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using synack::time::Duration;
using synack::time::Instant;
using synack::time::TimerNode;
using synack::time::TimerWheel;

namespace {
const Instant t0 = Instant::from_us(55'555'000);
constexpr std::size_t million = 1'000'000;
// Up to 40 days: every level and the far list.
constexpr std::uint64_t span_us = 40ULL * 24 * 3600 * 1'000'000;

Duration random_delay(std::mt19937_64& rng) {
    return Duration::from_us(static_cast<std::int64_t>(rng() % span_us));
}
} // namespace

TEST_CASE("allocation counter: counts a call to operator new", "[time][alloc]") {
    static void* volatile sink = nullptr;
    const std::uint64_t before = allocations();
    sink = ::operator new(16);
    ::operator delete(sink);
    REQUIRE(allocations() == before + 1);
}

TEST_CASE("TimerWheel: a million timers armed at random deadlines, moved and cancelled "
          "allocate nothing",
          "[time][alloc]") {
    const auto nodes = std::make_unique<TimerNode[]>(million);
    TimerWheel wheel(t0);
    std::mt19937_64 rng(11);

    const std::uint64_t before = allocations();
    for (std::size_t i = 0; i < million; ++i) {
        wheel.arm(nodes[i], t0 + random_delay(rng));
    }
    for (std::size_t i = 0; i < million; i += 3) {
        wheel.arm(nodes[i], t0 + random_delay(rng)); // re-arm moves
    }
    const std::size_t armed = wheel.size();
    for (std::size_t i = 0; i < million; ++i) {
        wheel.cancel(nodes[i]);
    }
    const std::uint64_t after = allocations();

    REQUIRE(armed == million);
    REQUIRE(after == before);
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: timers expired, some re-armed from callbacks, allocate nothing",
          "[time][alloc]") {
    constexpr std::size_t count = 200'000;
    const auto nodes = std::make_unique<TimerNode[]>(count);
    TimerWheel wheel(t0);
    std::mt19937_64 rng(12);
    for (std::size_t i = 0; i < count; ++i) {
        nodes[i].set_kind(static_cast<std::uint8_t>(i % 2));
    }

    const std::uint64_t before = allocations();
    for (std::size_t i = 0; i < count; ++i) {
        wheel.arm(nodes[i], t0 + random_delay(rng));
    }
    std::size_t fired = 0;
    Instant now = t0;
    for (int step = 0; step < 60; ++step) {
        now += Duration::from_s(24 * 3600);
        fired += wheel.expire(now, [&](TimerNode& node) noexcept {
            if (node.kind() == 1) {
                node.set_kind(0);
                wheel.arm(node, now + Duration::from_s(3600)); // once more, an hour later
            }
        });
    }
    const std::uint64_t after = allocations();

    REQUIRE(after == before);
    REQUIRE(fired == count + count / 2);
    REQUIRE(wheel.empty());
}
