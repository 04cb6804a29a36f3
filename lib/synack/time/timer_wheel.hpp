#pragma once
// A hierarchical timer wheel ("Hashed and Hierarchical Timing Wheels", SOSP
// 1987), laid out as Linux kernel/time/timer.c and tokio lay theirs: 64 slots
// per level, an occupancy bitmap per level searched with count-trailing-zeros,
// intrusive entries, and deadlines rounded up so that no timer ever fires early.
// One wheel per core holds every TCP timer of that core (retransmit, delayed
// ACK, persist, keepalive, SYN-RECV, FIN-WAIT-2, TIME_WAIT); arm, cancel and
// expire are O(1) per timer and never allocate.
//
// The wheel counts ticks of tick_us = 1000 us. Level L has 64 slots of 64^L
// ticks each:
//
//   level | slot granularity               | span of the level's 64 slots
//   ------+--------------------------------+-------------------------------------
//     0   |          1 tick  = 1 ms        |            64 ticks = 64 ms
//     1   |         64 ticks = 64 ms       |         4,096 ticks = 4.096 s
//     2   |      4,096 ticks = 4.096 s     |       262,144 ticks = 4 min 22 s
//     3   |    262,144 ticks = 4 min 22 s  |    16,777,216 ticks = 4 h 39 min 37 s
//     4   | 16,777,216 ticks = 4 h 39 min  | 1,073,741,824 ticks = 12 d 10 h 15 min
//    far  | one list, no slots             | re-examined each time the current tick
//         |                                | crosses a multiple of 2^30 ticks
//
// Placement. A timer sits at the level of the highest 6-bit group in which its
// deadline tick differs from the wheel's current tick, in the slot that group
// of the deadline names. So every timer of level L lies in the same
// 64^(L+1)-tick block as the current tick, at a slot after the current one
// (level 0: at or after): slots never wrap, and the lowest occupied slot of the
// lowest occupied level holds the earliest timers. When the current tick
// reaches a slot of level L > 0, its timers cascade to lower levels; a slot of
// level 0 holds timers of exactly one tick, which fire. A timer 2 hours away
// (keepalive) sits at level 3 and cascades at most three times.
//
// Far timers. A deadline outside the current 2^30-tick block (at least 12.4 days
// away, or just across a block boundary) goes to the far list with its exact
// deadline, and is placed again each time the current tick enters a new block.
// It is neither clamped nor fired early or late: it fires at its own tick.
//
// Expiry. expire(now) jumps from one occupied slot to the next using the
// bitmaps, so an idle gap of any length costs O(levels) per occupied slot it
// crosses, never one step per tick.

#include <synack/base/assert.hpp>
#include <synack/time/clock.hpp>

#include <boost/intrusive/list.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>

namespace synack::time {

/// The wheel's resolution: deadlines are rounded up to a multiple of it.
inline constexpr std::uint64_t tick_us = 1000;

/// The tick that contains t (t rounded down to a tick).
constexpr std::uint64_t floor_tick(Instant t) noexcept { return t.us() / tick_us; }
/// The first tick boundary at or after t (t rounded up): a deadline's tick.
constexpr std::uint64_t ceil_tick(Instant t) noexcept {
    return t.us() / tick_us + (t.us() % tick_us != 0 ? 1 : 0);
}
/// The Instant at which tick begins.
constexpr Instant tick_start(std::uint64_t tick) noexcept {
    return Instant::from_us(tick * tick_us);
}

class TimerWheel;

/// One timer, embedded in its owner (a TCB holds one per timer it runs). The
/// wheel links it into a slot; the owner finds itself again from the node
/// (boost::intrusive::get_parent_from_member) and may tell its timers apart
/// by kind(). Neither copyable nor movable: the wheel holds its address.
class TimerNode {
public:
    /// An unarmed timer of kind 0.
    TimerNode() noexcept = default;
    /// An unarmed timer of the given kind.
    explicit TimerNode(std::uint8_t kind) noexcept : kind_(kind) {}

    TimerNode(const TimerNode&) = delete;
    TimerNode& operator=(const TimerNode&) = delete;

    /// Precondition: not armed (asserts). Destroying an armed timer would
    /// leave the wheel counting a timer that no longer exists: a leak.
    ~TimerNode() { SYNACK_ASSERT(!hook_.is_linked()); }

    /// The owner's label, for dispatch in the expiry callback.
    std::uint8_t kind() const noexcept { return kind_; }
    void set_kind(std::uint8_t kind) noexcept { kind_ = kind; }

    /// The tick it fires at: its deadline rounded up. Meaningful once armed;
    /// after it fires or is cancelled, the tick of its last deadline.
    std::uint64_t deadline_tick() const noexcept { return deadline_tick_; }

private:
    friend class TimerWheel;
    using Hook = boost::intrusive::list_member_hook<
        boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

    // Marks a node that is in no slot (the due, far or batch list, or none).
    static constexpr std::uint16_t no_slot = std::numeric_limits<std::uint16_t>::max();

    // auto_unlink: cancel unlinks without knowing which list holds the node.
    Hook hook_;
    std::uint64_t deadline_tick_ = 0;
    std::uint16_t slot_ = no_slot; // level * 64 + slot, for keeping the bitmap exact
    std::uint8_t kind_ = 0;
};

/// The hierarchical timer wheel of one core (see the file comment for the
/// levels). Not thread-safe: it belongs to one lcore, as its connections do.
class TimerWheel {
public:
    static constexpr unsigned slot_bits = 6;
    static constexpr unsigned slots_per_level = 1U << slot_bits;
    static constexpr unsigned levels = 5;

    /// An empty wheel whose current tick is the one containing start.
    explicit TimerWheel(Instant start) noexcept;

    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;

    /// Timers still armed are disarmed (unlinked), so their owners may be
    /// destroyed afterwards.
    ~TimerWheel() = default;

    /// Arms node to fire at the first tick boundary at or after deadline; an
    /// armed node is moved to the new deadline. A deadline already passed (or,
    /// from inside expire(now), one at or before now) fires on the next
    /// expire() call. O(1), no allocation. Precondition: node is not armed in
    /// another wheel.
    void arm(TimerNode& node, Instant deadline) noexcept;

    /// Disarms node; a no-op if it is not armed. Inside expire(), a node due in
    /// the same call that is cancelled before its turn does not fire. O(1).
    void cancel(TimerNode& node) noexcept;

    /// True from arm() until the node fires or is cancelled. A node is no
    /// longer armed when its own callback runs.
    bool armed(const TimerNode& node) const noexcept { return node.hook_.is_linked(); }

    /// Fires every node whose deadline tick is at or before now's tick:
    /// calls on_expire(TimerNode&) once for each, each node disarmed just
    /// before its call. Order: first the nodes that were already overdue when
    /// armed (in arming order: they are all due "now"), then the rest by
    /// deadline tick, ties in arming order. When nothing is due this is a few
    /// comparisons, so a run loop may call it every burst. The callback
    /// may arm, re-arm or cancel any node, the firing one included; a node it
    /// arms for a deadline at or before now fires in the next call, not this
    /// one, so a timer re-arming itself cannot loop and every call is bounded
    /// by the timers due when it began. Returns how many fired.
    /// Preconditions: now is not earlier than the now of the previous call nor
    /// than the wheel's start (asserts); not called from inside a callback
    /// (asserts).
    template <class F>
    std::size_t expire(Instant now, F&& on_expire) noexcept;

    /// Armed timers, counted (O(1)).
    std::size_t size() const noexcept { return size_; }
    /// True when no timer is armed.
    bool empty() const noexcept { return size_ == 0; }

    /// A lower bound on when the next timer becomes due, for a run loop that
    /// wants to sleep: never later than the earliest armed deadline tick.
    /// Exact when the earliest timer lies in the current 64-tick block (level
    /// 0); otherwise the start of the slot holding it, and each expire() at
    /// that time moves the timer at least one level down, closer to exact. An
    /// overdue timer gives a time not after its deadline: call expire() now.
    /// Empty when nothing is armed.
    std::optional<Instant> next_deadline() const noexcept;

    /// The wheel's current tick: that of the latest expire()'s now (at first,
    /// of the start). Every armed timer not already overdue lies at or after it.
    std::uint64_t current_tick() const noexcept { return elapsed_tick_; }

    /// How many slots expire() has emptied, fired or cascaded so far, for
    /// tests and counters: it grows with occupied slots, not with elapsed time.
    std::uint64_t slots_visited() const noexcept { return slots_visited_; }

private:
    using List = boost::intrusive::list<
        TimerNode, boost::intrusive::member_hook<TimerNode, TimerNode::Hook, &TimerNode::hook_>,
        boost::intrusive::constant_time_size<false>>;

    // The next slot expire() would visit: level `levels` means the far list.
    struct Event {
        unsigned level;
        unsigned slot;
        std::uint64_t tick;
    };

    static constexpr std::uint64_t slot_mask = slots_per_level - 1;
    static constexpr unsigned far_level = levels;
    static constexpr unsigned wheel_bits = slot_bits * levels; // 2^30 ticks in all levels
    static constexpr std::uint64_t no_tick = std::numeric_limits<std::uint64_t>::max();

    std::optional<Event> next_event() const noexcept;
    void place(TimerNode& node) noexcept;
    void unlink(TimerNode& node) noexcept;
    void cascade(List& from) noexcept;
    void begin_expire(std::uint64_t now_tick) noexcept;
    bool next_due_slot(std::uint64_t now_tick) noexcept;
    void end_expire(std::uint64_t now_tick) noexcept;

    // Moves the current tick to now_tick when no slot is due by then.
    void skip_to(std::uint64_t now_tick) noexcept {
        SYNACK_ASSERT(!expiring_);
        SYNACK_ASSERT(now_tick >= elapsed_tick_);
        elapsed_tick_ = now_tick;
    }

    // Takes the next node of batch_ for its callback: disarmed and uncounted.
    TimerNode& pop_batch(std::uint64_t now_tick) noexcept {
        TimerNode& node = batch_.front();
        batch_.pop_front();
        node.slot_ = TimerNode::no_slot;
        // The rule of the wheel: nothing fires before its tick.
        SYNACK_ASSERT(node.deadline_tick_ <= now_tick);
        SYNACK_ASSERT(size_ > 0);
        --size_;
        return node;
    }

    std::array<std::array<List, slots_per_level>, levels> slots_;
    // Bit s of occupied_[level] is set exactly when slots_[level][s] is non-empty.
    std::array<std::uint64_t, levels> occupied_{};
    List far_;   // deadlines outside the current 2^30-tick block
    List due_;   // deadlines already passed when armed: fire first on the next expire()
    List batch_; // nodes being fired by the running expire(), in order

    std::uint64_t elapsed_tick_;              // the current tick (see current_tick())
    std::uint64_t due_min_tick_ = no_tick;    // <= every deadline in due_ and batch_
    std::uint64_t next_event_tick_ = no_tick; // <= the tick of the next slot to visit
    std::uint64_t expire_now_tick_ = 0;       // now's tick while expiring_
    std::uint64_t slots_visited_ = 0;
    std::size_t size_ = 0;
    bool expiring_ = false;
};

template <class F>
std::size_t TimerWheel::expire(Instant now, F&& on_expire) noexcept {
    static_assert(std::is_nothrow_invocable_v<F&, TimerNode&>,
                  "on_expire(TimerNode&) must be noexcept: expire() runs on the data path");
    const std::uint64_t now_tick = floor_tick(now);
    if (due_.empty() && now_tick < next_event_tick_) {
        // Nothing due: the common case of a run loop polling every burst.
        skip_to(now_tick);
        return 0;
    }
    begin_expire(now_tick); // the overdue nodes go first
    std::size_t fired = 0;
    do {
        // One node at a time from batch_: a node that an earlier callback
        // cancels or re-arms has left batch_ (auto_unlink) and is skipped.
        while (!batch_.empty()) {
            TimerNode& node = pop_batch(now_tick);
            ++fired;
            on_expire(node);
        }
    } while (next_due_slot(now_tick));
    end_expire(now_tick);
    return fired;
}

} // namespace synack::time
