#include "unit/time/time_test_support.hpp"

#include <synack/time/clock.hpp>
#include <synack/time/timer_wheel.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <vector>

using synack::test::TimerOwner;
using synack::time::ceil_tick;
using synack::time::Duration;
using synack::time::floor_tick;
using synack::time::Instant;
using synack::time::tick_start;
using synack::time::TimerNode;
using synack::time::TimerWheel;
using synack::time::VirtualClock;

namespace {

Duration ms(std::int64_t n) { return Duration::from_ms(n); }
Duration us(std::int64_t n) { return Duration::from_us(n); }

// Each test declares its timers before the wheel, so that a failing REQUIRE
// unwinds through ~TimerWheel (which disarms them) before ~TimerNode (which
// asserts they are disarmed) and reports the failure instead of aborting.

// A tick boundary that is not aligned to any level's block, so that timers
// cross block boundaries as they would at any moment of a real run.
const Instant t0 = Instant::from_us(123'457'000);

// Fires the wheel at now and returns the ids of the owners that fired, in order.
std::vector<int> expire_ids(TimerWheel& wheel, Instant now) {
    std::vector<int> ids;
    ids.reserve(wheel.size());
    const std::size_t fired =
        wheel.expire(now, [&](TimerNode& n) noexcept { ids.push_back(TimerOwner::of(n).id); });
    REQUIRE(fired == ids.size());
    return ids;
}

} // namespace

TEST_CASE("TimerWheel: timers fire in deadline order, whatever the arming order", "[time]") {
    const std::array<std::int64_t, 8> delays_ms = {300, 2, 70'000, 64, 1, 4096, 63, 65};
    std::array<TimerOwner, delays_ms.size()> owners;
    TimerWheel wheel(t0);
    for (std::size_t i = 0; i < owners.size(); ++i) {
        owners[i].id = static_cast<int>(delays_ms[i]);
        wheel.arm(owners[i].node, t0 + ms(delays_ms[i]));
    }
    const std::vector<int> fired = expire_ids(wheel, t0 + ms(100'000));
    REQUIRE(fired == std::vector<int>{1, 2, 63, 64, 65, 300, 4096, 70'000});
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: never early: a deadline 1 us past a tick boundary fires at the next tick",
          "[time]") {
    TimerOwner late{1, {}};
    TimerOwner exact{2, {}};
    TimerWheel wheel(t0);
    wheel.arm(late.node, t0 + ms(5) + us(1));
    wheel.arm(exact.node, t0 + ms(5));
    REQUIRE(late.node.deadline_tick() == floor_tick(t0) + 6);
    REQUIRE(exact.node.deadline_tick() == floor_tick(t0) + 5);

    REQUIRE(expire_ids(wheel, t0 + ms(5) - us(1)).empty());
    REQUIRE(expire_ids(wheel, t0 + ms(5)) == std::vector<int>{2});
    REQUIRE(expire_ids(wheel, t0 + ms(5) + us(1)).empty()); // its deadline, but not its tick
    REQUIRE(expire_ids(wheel, t0 + ms(6) - us(1)).empty());
    REQUIRE(expire_ids(wheel, t0 + ms(6)) == std::vector<int>{1});
}

TEST_CASE("TimerWheel: a timer armed for now or the past fires on the next expire()", "[time]") {
    TimerOwner past{1, {}};
    TimerOwner now{2, {}};
    TimerOwner long_ago{3, {}};
    TimerWheel wheel(t0);
    REQUIRE(expire_ids(wheel, t0 + ms(50)).empty());
    wheel.arm(past.node, t0 + ms(10));
    wheel.arm(now.node, t0 + ms(50));
    wheel.arm(long_ago.node, Instant{});
    REQUIRE(wheel.size() == 3);
    // Same now as the call before: the overdue timers still fire.
    const std::vector<int> fired = expire_ids(wheel, t0 + ms(50));
    REQUIRE(fired.size() == 3);
    REQUIRE(std::is_permutation(fired.begin(), fired.end(), std::vector<int>{1, 2, 3}.begin()));
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: a timer armed before the first expire() for the wheel's start fires",
          "[time]") {
    TimerOwner owner{1, {}};
    TimerWheel wheel(t0);
    wheel.arm(owner.node, t0);
    REQUIRE(expire_ids(wheel, t0) == std::vector<int>{1});
}

TEST_CASE("TimerWheel: a cancelled timer never fires; cancel of an unarmed timer is a no-op",
          "[time]") {
    TimerOwner a{1, {}};
    TimerOwner b{2, {}};
    TimerWheel wheel(t0);
    wheel.cancel(a.node); // never armed
    wheel.arm(a.node, t0 + ms(10));
    wheel.arm(b.node, t0 + ms(10));
    REQUIRE(wheel.armed(a.node));
    wheel.cancel(a.node);
    REQUIRE_FALSE(wheel.armed(a.node));
    wheel.cancel(a.node); // twice
    REQUIRE(wheel.size() == 1);
    REQUIRE(expire_ids(wheel, t0 + ms(1000)) == std::vector<int>{2});
    REQUIRE_FALSE(wheel.armed(b.node));
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: a timer cancelled from a callback does not fire, even if due in that call",
          "[time]") {
    std::array<TimerOwner, 4> owners;
    TimerWheel wheel(t0);
    for (int i = 0; i < 4; ++i) {
        owners[i].id = i;
        // 0 and 1 share a tick; 2 is due later in the same call; 3 is not due.
        const std::int64_t delay_ms[] = {5, 5, 30, 500};
        wheel.arm(owners[i].node, t0 + ms(delay_ms[i]));
    }
    std::vector<int> fired;
    const std::size_t n = wheel.expire(t0 + ms(100), [&](TimerNode& node) noexcept {
        const int id = TimerOwner::of(node).id;
        fired.push_back(id);
        if (id == 0) {
            wheel.cancel(owners[1].node); // same slot, not yet fired
            wheel.cancel(owners[2].node); // a later slot of this call
            wheel.cancel(owners[3].node); // not due
        }
    });
    REQUIRE(n == 1);
    REQUIRE(fired == std::vector<int>{0});
    REQUIRE(wheel.empty());
    REQUIRE(expire_ids(wheel, t0 + ms(10'000)).empty());
}

TEST_CASE("TimerWheel: a callback may re-arm another timer due in the same call to later",
          "[time]") {
    TimerOwner a{1, {}};
    TimerOwner b{2, {}};
    TimerWheel wheel(t0);
    wheel.arm(a.node, t0 + ms(3));
    wheel.arm(b.node, t0 + ms(3));
    std::vector<int> fired;
    wheel.expire(t0 + ms(3), [&](TimerNode& node) noexcept {
        fired.push_back(TimerOwner::of(node).id);
        if (&node == &a.node) {
            wheel.arm(b.node, t0 + ms(20));
        }
    });
    REQUIRE(fired == std::vector<int>{1});
    REQUIRE(wheel.armed(b.node));
    REQUIRE(expire_ids(wheel, t0 + ms(19)).empty());
    REQUIRE(expire_ids(wheel, t0 + ms(20)) == std::vector<int>{2});
}

TEST_CASE("TimerWheel: a periodic timer re-armed from its callback fires exactly N times in N "
          "periods",
          "[time]") {
    constexpr std::int64_t period_ms = 7;
    constexpr int periods = 200;
    VirtualClock clock(t0);
    TimerOwner periodic{1, {}};
    TimerWheel wheel(t0);
    wheel.arm(periodic.node, t0 + ms(period_ms));
    int fired = 0;
    std::vector<std::uint64_t> fired_ticks;
    for (std::int64_t step = 1; step <= periods * period_ms; ++step) {
        clock.advance(ms(1));
        wheel.expire(clock.now(), [&](TimerNode& node) noexcept {
            ++fired;
            fired_ticks.push_back(floor_tick(clock.now()));
            wheel.arm(node, tick_start(node.deadline_tick()) + ms(period_ms));
        });
    }
    REQUIRE(fired == periods);
    for (int i = 0; i < periods; ++i) {
        REQUIRE(fired_ticks[static_cast<std::size_t>(i)] ==
                floor_tick(t0) + static_cast<std::uint64_t>((i + 1) * period_ms));
    }
    REQUIRE(wheel.size() == 1);
    wheel.cancel(periodic.node);
}

TEST_CASE("TimerWheel: a callback re-arming its own timer for now fires in the next call, not "
          "this one",
          "[time]") {
    TimerOwner self{1, {}};
    TimerOwner other{2, {}};
    TimerWheel wheel(t0);
    wheel.arm(self.node, t0 + ms(1));
    int self_fired = 0;
    const auto rearm_now = [&](Instant now) {
        return wheel.expire(now, [&](TimerNode& node) noexcept {
            if (&node == &self.node) {
                ++self_fired;
                wheel.arm(self.node, now); // due again at once
                if (self_fired == 1) {
                    wheel.arm(other.node, now - ms(1) + us(1)); // another, also due by now
                }
            }
        });
    };
    // Three hours in one call: still one firing per call, no loop.
    const Instant later = t0 + Duration::from_s(3 * 3600);
    REQUIRE(rearm_now(later) == 1);
    REQUIRE(self_fired == 1);
    REQUIRE(wheel.size() == 2);
    REQUIRE(wheel.next_deadline().value() <= later);
    REQUIRE(rearm_now(later) == 2);
    REQUIRE(self_fired == 2);
    wheel.cancel(self.node);
    wheel.cancel(other.node);
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: re-arming an armed timer moves it, later or earlier", "[time]") {
    TimerOwner a{1, {}};
    TimerOwner b{2, {}};
    TimerWheel wheel(t0);
    wheel.arm(a.node, t0 + ms(10));
    wheel.arm(b.node, t0 + ms(20));
    wheel.arm(a.node, t0 + ms(30)); // later: now after b
    REQUIRE(wheel.size() == 2);
    REQUIRE(expire_ids(wheel, t0 + ms(10)).empty());
    REQUIRE(expire_ids(wheel, t0 + ms(20)) == std::vector<int>{2});
    REQUIRE(expire_ids(wheel, t0 + ms(29)).empty());
    REQUIRE(expire_ids(wheel, t0 + ms(30)) == std::vector<int>{1});

    wheel.arm(a.node, t0 + Duration::from_s(3600));
    wheel.arm(a.node, t0 + ms(31)); // earlier: from level 3 back to level 0
    REQUIRE(wheel.size() == 1);
    REQUIRE(expire_ids(wheel, t0 + ms(31)) == std::vector<int>{1});
    REQUIRE(wheel.empty());
}

namespace {

// 1 ms, 100 ms, 5 s, 300 s and 2.5 h: one timer at each of levels 0 to 3 and
// one that starts at level 3 and cascades through every level below.
constexpr std::array<std::int64_t, 5> cascade_delays_ms = {1, 100, 5'000, 300'000, 9'000'000};

struct CascadeFixture {
    std::array<TimerOwner, cascade_delays_ms.size()> owners;
    TimerWheel wheel{t0};
    VirtualClock clock{t0};
    std::array<std::uint64_t, cascade_delays_ms.size()> fired_tick{};
    std::array<int, cascade_delays_ms.size()> fired_count{};

    CascadeFixture() {
        for (std::size_t i = 0; i < owners.size(); ++i) {
            owners[i].id = static_cast<int>(i);
            wheel.arm(owners[i].node, t0 + ms(cascade_delays_ms[i]));
        }
    }

    std::size_t advance_to(Instant t) {
        clock.set(t);
        return wheel.expire(clock.now(), [&](TimerNode& n) noexcept {
            const auto i = static_cast<std::size_t>(TimerOwner::of(n).id);
            fired_tick[i] = floor_tick(clock.now());
            ++fired_count[i];
        });
    }

    void require_each_fired_once_at_its_tick() const {
        for (std::size_t i = 0; i < owners.size(); ++i) {
            INFO("delay " << cascade_delays_ms[i] << " ms");
            REQUIRE(fired_count[i] == 1);
            REQUIRE(fired_tick[i] == ceil_tick(t0 + ms(cascade_delays_ms[i])));
        }
        REQUIRE(wheel.empty());
    }
};

} // namespace

TEST_CASE("TimerWheel: cascading through every level fires each timer at exactly its tick, "
          "stepping every tick",
          "[time][slow]") {
    CascadeFixture f;
    for (std::int64_t step = 1; step <= cascade_delays_ms.back(); ++step) {
        f.advance_to(t0 + ms(step));
    }
    f.require_each_fired_once_at_its_tick();
}

TEST_CASE("TimerWheel: cascading through every level fires each timer at exactly its tick, "
          "jumping to one tick before each deadline",
          "[time]") {
    CascadeFixture f;
    for (std::size_t i = 0; i < cascade_delays_ms.size(); ++i) {
        const Instant deadline = t0 + ms(cascade_delays_ms[i]);
        REQUIRE(f.advance_to(deadline - us(1)) == 0);
        REQUIRE(f.fired_count[i] == 0);
        REQUIRE(f.advance_to(deadline) == 1);
    }
    f.require_each_fired_once_at_its_tick();
}

TEST_CASE("TimerWheel: cascading through every level in one giant jump fires all, in order",
          "[time]") {
    CascadeFixture f;
    std::vector<int> order;
    f.clock.set(t0 + ms(cascade_delays_ms.back()));
    f.wheel.expire(f.clock.now(),
                   [&](TimerNode& n) noexcept { order.push_back(TimerOwner::of(n).id); });
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4});
    REQUIRE(f.wheel.empty());
}

TEST_CASE("TimerWheel: a far timer (20 days, beyond the top level) fires at exactly its tick",
          "[time]") {
    TimerOwner far{1, {}};
    TimerOwner near{2, {}};
    const Instant deadline = t0 + Duration::from_s(20 * 24 * 3600) + us(250);
    TimerWheel wheel(t0);
    wheel.arm(far.node, deadline);
    wheel.arm(near.node, t0 + Duration::from_s(3600));
    REQUIRE(wheel.next_deadline().value() <= t0 + Duration::from_s(3600));
    // Hour by hour, then to one tick short: never early.
    Instant now = t0;
    std::vector<int> fired;
    while (now + Duration::from_s(3600) < deadline) {
        now += Duration::from_s(3600);
        for (const int id : expire_ids(wheel, now)) {
            fired.push_back(id);
        }
        REQUIRE(wheel.next_deadline().value() <= tick_start(ceil_tick(deadline)));
    }
    REQUIRE(fired == std::vector<int>{2});
    REQUIRE(expire_ids(wheel, tick_start(ceil_tick(deadline)) - us(1)).empty());
    REQUIRE(expire_ids(wheel, tick_start(ceil_tick(deadline))) == std::vector<int>{1});
    REQUIRE(wheel.empty());
}

TEST_CASE("TimerWheel: a timer just across a 2^30-tick block boundary fires at its tick",
          "[time]") {
    const std::uint64_t boundary_tick = std::uint64_t{5} << 30;
    const Instant start = tick_start(boundary_tick - 3);
    TimerOwner owner{1, {}};
    TimerWheel wheel(start);
    wheel.arm(owner.node, tick_start(boundary_tick + 2));
    REQUIRE(expire_ids(wheel, tick_start(boundary_tick + 1)).empty());
    REQUIRE(expire_ids(wheel, tick_start(boundary_tick + 2)) == std::vector<int>{1});
}

TEST_CASE("TimerWheel: a 3-hour idle gap visits only occupied slots, never each tick", "[time]") {
    constexpr int timers = 10;
    std::array<TimerOwner, timers> owners;
    TimerWheel wheel(t0);
    const Instant later = t0 + Duration::from_s(3 * 3600);
    REQUIRE(expire_ids(wheel, later).empty());
    REQUIRE(wheel.slots_visited() == 0);
    REQUIRE(wheel.current_tick() == floor_tick(later));

    // A few timers spread over the next 3 hours: each is visited once per
    // level it passes through, at most `levels` times, whatever the gap.
    std::mt19937_64 rng(7);
    for (int i = 0; i < timers; ++i) {
        owners[static_cast<std::size_t>(i)].id = i;
        const auto delay_us = static_cast<std::int64_t>(rng() % (3ULL * 3600 * 1000000));
        wheel.arm(owners[static_cast<std::size_t>(i)].node, later + us(delay_us));
    }
    const std::vector<int> fired = expire_ids(wheel, later + Duration::from_s(3 * 3600));
    REQUIRE(fired.size() == timers);
    REQUIRE(wheel.slots_visited() <= timers * TimerWheel::levels);
}

TEST_CASE("TimerWheel: size() counts armed timers and returns to 0", "[time]") {
    std::array<TimerOwner, 6> owners;
    TimerWheel wheel(t0);
    REQUIRE(wheel.size() == 0);
    for (std::size_t i = 0; i < owners.size(); ++i) {
        wheel.arm(owners[i].node, t0 + ms(static_cast<std::int64_t>(i) * 1000));
        REQUIRE(wheel.size() == i + 1);
    }
    wheel.arm(owners[0].node, t0 + ms(5)); // re-arm: no new timer
    REQUIRE(wheel.size() == owners.size());
    wheel.cancel(owners[5].node);
    REQUIRE(wheel.size() == owners.size() - 1);
    REQUIRE(wheel.expire(t0 + ms(2000), [](TimerNode&) noexcept {}) == 3);
    REQUIRE(wheel.size() == 2);
    REQUIRE(wheel.expire(t0 + ms(10'000), [](TimerNode&) noexcept {}) == 2);
    REQUIRE(wheel.size() == 0);
    REQUIRE(wheel.empty());
    REQUIRE_FALSE(wheel.next_deadline().has_value());
}

TEST_CASE("TimerWheel: next_deadline() is exact within the current 64 ticks, a lower bound "
          "beyond",
          "[time]") {
    const Instant block_start = tick_start(64 * 1000); // tick 64000, a level-1 block boundary
    TimerOwner near{1, {}};
    TimerOwner far{2, {}};
    TimerWheel wheel(block_start);
    wheel.arm(far.node, block_start + ms(1000) + us(1));
    const Instant far_tick = tick_start(ceil_tick(block_start + ms(1000) + us(1)));
    REQUIRE(wheel.next_deadline().value() <= far_tick);
    REQUIRE(wheel.next_deadline().value() > block_start);
    wheel.arm(near.node, block_start + ms(10) + us(1));
    REQUIRE(wheel.next_deadline().value() == block_start + ms(11));
    REQUIRE(expire_ids(wheel, block_start + ms(11)) == std::vector<int>{1});
    // Sleeping until next_deadline() and expiring converges on the far timer.
    int calls = 0;
    std::vector<int> fired;
    while (fired.empty()) {
        const Instant wake = wheel.next_deadline().value();
        REQUIRE(wake <= far_tick);
        fired = expire_ids(wheel, wake);
        ++calls;
    }
    REQUIRE(fired == std::vector<int>{2});
    REQUIRE(calls <= 3);
}

TEST_CASE("TimerWheel: cancelling the last timer of a slot clears its bit: next_deadline() "
          "and expire() skip it",
          "[time]") {
    TimerOwner a{1, {}};
    TimerOwner b{2, {}};
    TimerOwner c{3, {}};
    const Instant block_start = tick_start(64 * 64 * 1000); // a level-2 block boundary
    TimerWheel wheel(block_start);
    wheel.arm(a.node, block_start + ms(10));
    wheel.arm(b.node, block_start + ms(20));
    wheel.arm(c.node, block_start + ms(700)); // level 1
    wheel.cancel(a.node);
    REQUIRE(wheel.next_deadline().value() == block_start + ms(20));
    wheel.cancel(b.node);
    REQUIRE(wheel.next_deadline().value() == block_start + ms(640)); // c's level-1 slot
    REQUIRE(expire_ids(wheel, block_start + ms(639)).empty());
    REQUIRE(wheel.slots_visited() == 0);
    REQUIRE(expire_ids(wheel, block_start + ms(700)) == std::vector<int>{3});
    REQUIRE(wheel.slots_visited() == 2); // c's level-1 slot, then its level-0 slot
}

TEST_CASE("TimerWheel: next_deadline() is never later than the earliest deadline (random)",
          "[time]") {
    std::mt19937_64 rng(2024);
    Instant now = t0;
    constexpr std::size_t count = 300;
    std::vector<TimerOwner> owners(count);
    TimerWheel wheel(t0);
    const std::array<std::uint64_t, 5> scales_us = {2'000, 100'000, 10'000'000, 3'600'000'000,
                                                    40ULL * 24 * 3600 * 1000000};
    for (std::size_t i = 0; i < count; ++i) {
        owners[i].id = static_cast<int>(i);
        const std::uint64_t scale = scales_us[rng() % scales_us.size()];
        wheel.arm(owners[i].node, now + us(static_cast<std::int64_t>(rng() % scale)));
    }
    std::size_t fired_total = 0;
    while (!wheel.empty()) {
        std::uint64_t earliest_tick = UINT64_MAX;
        for (const TimerOwner& o : owners) {
            if (wheel.armed(o.node)) {
                earliest_tick = std::min(earliest_tick, o.node.deadline_tick());
            }
        }
        const Instant wake = wheel.next_deadline().value();
        REQUIRE(wake <= tick_start(earliest_tick));
        // Nothing fires before the bound: it is safe to sleep until then.
        if (wake > now) {
            REQUIRE(wheel.expire(wake - us(1), [](TimerNode&) noexcept {}) == 0);
        }
        now = std::max(now, wake);
        // Arm a few more as time goes on, some before the current earliest.
        if (rng() % 4 == 0) {
            TimerOwner& o = owners[rng() % count];
            wheel.arm(o.node, now + us(static_cast<std::int64_t>(rng() % 50'000)));
        }
        fired_total += wheel.expire(now, [](TimerNode&) noexcept {});
    }
    REQUIRE(fired_total >= count);
}

TEST_CASE("TimerWheel: timers with the same deadline fire in arming order, across cascades",
          "[time]") {
    std::array<TimerOwner, 4> owners;
    TimerWheel wheel(t0);
    const Instant deadline = t0 + Duration::from_s(600); // starts at level 2 or 3
    owners[0].id = 0;
    owners[1].id = 1;
    wheel.arm(owners[0].node, deadline);
    wheel.arm(owners[1].node, deadline);
    REQUIRE(expire_ids(wheel, deadline - Duration::from_s(100)).empty());
    owners[2].id = 2;
    wheel.arm(owners[2].node, deadline);
    REQUIRE(expire_ids(wheel, deadline - ms(30)).empty());
    owners[3].id = 3;
    wheel.arm(owners[3].node, deadline); // level 0 by now
    REQUIRE(expire_ids(wheel, deadline) == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("TimerWheel: kind() labels a node for the owner's dispatch", "[time]") {
    TimerNode retransmit(1);
    TimerNode keepalive(4);
    TimerWheel wheel(t0);
    REQUIRE(retransmit.kind() == 1);
    keepalive.set_kind(5);
    wheel.arm(retransmit, t0 + ms(200));
    wheel.arm(keepalive, t0 + ms(100));
    std::vector<int> kinds;
    wheel.expire(t0 + ms(300), [&](TimerNode& n) noexcept { kinds.push_back(n.kind()); });
    REQUIRE(kinds == std::vector<int>{5, 1});
}

TEST_CASE("TimerWheel: destroying the wheel disarms the timers still in it", "[time]") {
    TimerOwner owner{1, {}};
    {
        TimerWheel wheel(t0);
        wheel.arm(owner.node, t0 + ms(10));
        REQUIRE(wheel.armed(owner.node));
    }
    // ~TimerNode asserts that the node is not armed: reaching the end is the check.
    TimerWheel other(t0);
    REQUIRE_FALSE(other.armed(owner.node));
}

namespace {

// Arms count timers at random deadlines over 5 hours, expires them with
// expire_all(wheel, on_expire, span), and checks each fired once, in order.
template <class ExpireAll>
void require_fire_once_in_order(std::size_t count, ExpireAll expire_all) {
    const auto owners = std::make_unique<TimerOwner[]>(count);
    TimerWheel wheel(t0);
    std::mt19937_64 rng(count);
    const Duration span = Duration::from_s(5 * 3600);
    for (std::size_t i = 0; i < count; ++i) {
        owners[i].id = static_cast<int>(i);
        const auto delay_us =
            static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span.us()));
        wheel.arm(owners[i].node, t0 + us(delay_us));
    }
    REQUIRE(wheel.size() == count);

    std::vector<std::uint8_t> times_fired(count, 0);
    std::uint64_t last_tick = 0;
    bool in_order = true;
    const auto on_expire = [&](TimerNode& n) noexcept {
        ++times_fired[static_cast<std::size_t>(TimerOwner::of(n).id)];
        in_order = in_order && n.deadline_tick() >= last_tick;
        last_tick = n.deadline_tick();
    };
    REQUIRE(expire_all(wheel, on_expire, span) == count);
    REQUIRE(in_order);
    REQUIRE(std::all_of(times_fired.begin(), times_fired.end(), [](auto n) { return n == 1; }));
    REQUIRE(wheel.empty());
}

} // namespace

TEST_CASE("TimerWheel: a million timers expired in one jump fire exactly once each, in "
          "non-decreasing deadline order",
          "[time]") {
    require_fire_once_in_order(1'000'000, [](TimerWheel& wheel, auto& on_expire, Duration span) {
        return wheel.expire(t0 + span, on_expire);
    });
}

TEST_CASE("TimerWheel: timers expired a minute at a time fire exactly once each, in "
          "non-decreasing deadline order",
          "[time]") {
    require_fire_once_in_order(200'000, [](TimerWheel& wheel, auto& on_expire, Duration span) {
        std::size_t fired = 0;
        for (Instant now = t0; now <= t0 + span; now += Duration::from_s(60)) {
            fired += wheel.expire(now, on_expire);
        }
        return fired;
    });
}
