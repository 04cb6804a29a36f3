// The wheel against a reference model that is obviously right: a multimap of
// deadline tick to timer id, fired by scanning from the front. 100,000 random
// operations (arm, cancel, advance) at every scale from 1 us to weeks, with
// callbacks that cancel and re-arm; a fixed seed replays any failure.

#include "unit/time/time_test_support.hpp"

#include <synack/time/clock.hpp>
#include <synack/time/timer_wheel.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
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

namespace {

// The model: when each armed timer fires. Its order key is the deadline tick,
// raised to the tick at which it was armed when that deadline had already
// passed, since an overdue timer is due "now" and fires first in the next call.
class Model {
public:
    explicit Model(std::size_t count) : where_(count) {}

    void arm(int id, std::uint64_t key_tick) {
        cancel(id);
        where_[static_cast<std::size_t>(id)] = by_key_.emplace(key_tick, id);
    }
    void cancel(int id) {
        auto& it = where_[static_cast<std::size_t>(id)];
        if (it) {
            by_key_.erase(*it);
            it.reset();
        }
    }
    bool armed(int id) const { return where_[static_cast<std::size_t>(id)].has_value(); }
    std::uint64_t key(int id) const { return (*where_[static_cast<std::size_t>(id)])->first; }
    std::size_t size() const { return by_key_.size(); }
    std::uint64_t earliest_key() const { return by_key_.begin()->first; }

    /// The ids due by now_tick.
    std::vector<int> due(std::uint64_t now_tick) const {
        std::vector<int> ids;
        for (auto it = by_key_.begin(); it != by_key_.end() && it->first <= now_tick; ++it) {
            ids.push_back(it->second);
        }
        return ids;
    }

private:
    using Map = std::multimap<std::uint64_t, int>;
    Map by_key_;
    std::vector<std::optional<Map::iterator>> where_;
};

struct Harness {
    static constexpr std::size_t node_count = 1000;

    std::mt19937_64 rng{0x7173};
    Instant now = Instant::from_us(987'654'321);
    std::vector<TimerOwner> owners = std::vector<TimerOwner>(node_count); // outlive the wheel
    TimerWheel wheel{now};
    Model model{node_count};
    std::uint64_t arm_floor_tick = floor_tick(now); // overdue deadlines count as this tick

    std::uint64_t random(std::uint64_t bound) { return rng() % bound; }
    int random_id() { return static_cast<int>(random(node_count)); }

    // A deadline at one of many scales, a few in the past, rarely on a tick boundary.
    Instant random_deadline() {
        static constexpr std::uint64_t scales_us[] = {2'000,
                                                      70'000,
                                                      5'000'000,
                                                      300'000'000,
                                                      5ULL * 3600 * 1'000'000,
                                                      30ULL * 24 * 3600 * 1'000'000};
        if (random(16) == 0) {
            const std::uint64_t back_us = std::min(random(100'000), now.us());
            return now - Duration::from_us(static_cast<std::int64_t>(back_us));
        }
        const std::uint64_t scale = scales_us[random(std::size(scales_us))];
        return now + Duration::from_us(static_cast<std::int64_t>(random(scale)));
    }

    Duration random_step() {
        switch (random(8)) {
        case 0: return Duration{};
        case 1: return Duration::from_us(static_cast<std::int64_t>(random(1000)));
        case 2: return Duration::from_ms(1);
        case 3: return Duration::from_us(static_cast<std::int64_t>(random(100'000)));
        case 4: return Duration::from_us(static_cast<std::int64_t>(random(10'000'000)));
        case 5: return Duration::from_s(static_cast<std::int64_t>(random(3600)));
        case 6: return Duration::from_us(static_cast<std::int64_t>(random(64'000)));
        default:
            return random(50) == 0 ? Duration::from_s(static_cast<std::int64_t>(random(864'000)))
                                   : Duration::from_ms(static_cast<std::int64_t>(random(5)));
        }
    }

    void arm(int id, Instant deadline) {
        wheel.arm(owners[static_cast<std::size_t>(id)].node, deadline);
        model.arm(id, std::max(ceil_tick(deadline), arm_floor_tick));
    }
    void cancel(int id) {
        wheel.cancel(owners[static_cast<std::size_t>(id)].node);
        model.cancel(id);
    }

    // Advances and fires, checking the fired set against the model exactly.
    void advance() {
        now += random_step();
        const std::uint64_t now_tick = floor_tick(now);
        std::vector<char> pending(node_count, 0);
        std::size_t pending_count = 0;
        for (const int id : model.due(now_tick)) {
            pending[static_cast<std::size_t>(id)] = 1;
            ++pending_count;
        }
        // Inside the call, a deadline at or before now fires in the next call.
        arm_floor_tick = now_tick;
        bool fired_unexpected = false;
        bool out_of_order = false;
        std::uint64_t last_key = 0;
        std::size_t fired_count = 0;
        // A timer cancelled or re-armed by a callback before its turn must not fire.
        const auto take_back = [&](int id) noexcept {
            auto& flag = pending[static_cast<std::size_t>(id)];
            if (flag != 0) {
                flag = 0;
                --pending_count;
            }
        };
        const std::size_t fired = wheel.expire(now, [&](TimerNode& node) noexcept {
            const int id = TimerOwner::of(node).id;
            const auto index = static_cast<std::size_t>(id);
            ++fired_count;
            if (pending[index] == 0 || !model.armed(id) || wheel.armed(node)) {
                fired_unexpected = true;
                return;
            }
            out_of_order = out_of_order || model.key(id) < last_key;
            last_key = model.key(id);
            pending[index] = 0;
            --pending_count;
            model.cancel(id);
            // Now and then the callback acts on timers, this one included.
            switch (random(12)) {
            case 0: {
                const int other = random_id();
                take_back(other);
                cancel(other);
                break;
            }
            case 1: arm(id, random_deadline()); break;
            case 2: {
                const int other = random_id();
                take_back(other);
                arm(other, random(2) == 0 ? now : random_deadline());
                break;
            }
            default: break;
            }
        });
        arm_floor_tick = now_tick;
        REQUIRE_FALSE(fired_unexpected);
        REQUIRE_FALSE(out_of_order);
        REQUIRE(fired == fired_count);
        REQUIRE(pending_count == 0); // everything due fired, unless a callback took it back
    }

    void check_counts() {
        REQUIRE(wheel.size() == model.size());
        const int id = random_id();
        REQUIRE(wheel.armed(owners[static_cast<std::size_t>(id)].node) == model.armed(id));
    }

    void check_next_deadline() {
        const std::optional<Instant> next = wheel.next_deadline();
        REQUIRE(next.has_value() == (model.size() > 0));
        if (next) {
            std::uint64_t earliest_tick = UINT64_MAX;
            for (const TimerOwner& o : owners) {
                if (wheel.armed(o.node)) {
                    earliest_tick = std::min(earliest_tick, o.node.deadline_tick());
                }
            }
            REQUIRE(*next <= tick_start(earliest_tick));
            REQUIRE(*next <= tick_start(model.earliest_key()));
        }
    }

    void disarm_all() {
        for (int id = 0; id < static_cast<int>(node_count); ++id) {
            cancel(id);
        }
        REQUIRE(wheel.empty());
    }
};

} // namespace

TEST_CASE("TimerWheel: 100k random arm/cancel/advance operations fire exactly what a sorted "
          "multimap fires",
          "[time][model]") {
    Harness h;
    for (std::size_t i = 0; i < h.owners.size(); ++i) {
        h.owners[i].id = static_cast<int>(i);
    }
    constexpr int operations = 100'000;
    for (int op = 0; op < operations; ++op) {
        const std::uint64_t choice = h.random(10);
        if (choice < 4) {
            h.arm(h.random_id(), h.random_deadline());
        } else if (choice < 6) {
            h.cancel(h.random_id());
        } else {
            h.advance();
        }
        h.check_counts();
        if (op % 64 == 0) {
            h.check_next_deadline();
        }
    }
    h.disarm_all();
}
