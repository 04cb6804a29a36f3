#include <synack/time/timer_wheel.hpp>

#include <algorithm>
#include <bit>

namespace synack::time {

TimerWheel::TimerWheel(Instant start) noexcept : elapsed_tick_(floor_tick(start)) {}

void TimerWheel::arm(TimerNode& node, Instant deadline) noexcept {
    if (node.hook_.is_linked()) {
        unlink(node);
    } else {
        ++size_;
    }
    node.deadline_tick_ = ceil_tick(deadline);
    // Inside expire(now), anything due by now waits for the next call, so that
    // a callback re-arming its own node cannot keep the call going forever.
    const std::uint64_t due_before_tick = expiring_ ? expire_now_tick_ + 1 : elapsed_tick_;
    if (node.deadline_tick_ < due_before_tick) {
        due_.push_back(node);
        due_min_tick_ = std::min(due_min_tick_, node.deadline_tick_);
        return;
    }
    place(node);
}

void TimerWheel::cancel(TimerNode& node) noexcept {
    if (!node.hook_.is_linked()) {
        return;
    }
    unlink(node);
    SYNACK_ASSERT(size_ > 0);
    --size_;
}

void TimerWheel::place(TimerNode& node) noexcept {
    const std::uint64_t deadline_tick = node.deadline_tick_;
    SYNACK_ASSERT(deadline_tick >= elapsed_tick_);
    // The highest 6-bit group where deadline and current tick differ names the
    // level; the low group is or-ed in so that "no difference" means level 0.
    const std::uint64_t differ = (deadline_tick ^ elapsed_tick_) | slot_mask;
    const auto level = static_cast<unsigned>((std::bit_width(differ) - 1) / slot_bits);
    if (level >= levels) {
        far_.push_back(node);
        node.slot_ = TimerNode::no_slot;
        const std::uint64_t next_block_tick = ((elapsed_tick_ >> wheel_bits) + 1) << wheel_bits;
        next_event_tick_ = std::min(next_event_tick_, next_block_tick);
        return;
    }
    const unsigned shift = level * slot_bits;
    const auto slot = static_cast<unsigned>((deadline_tick >> shift) & slot_mask);
    slots_[level][slot].push_back(node);
    occupied_[level] |= std::uint64_t{1} << slot;
    node.slot_ = static_cast<std::uint16_t>(level * slots_per_level + slot);
    // The slot is visited when the current tick reaches its first tick.
    next_event_tick_ = std::min(next_event_tick_, deadline_tick >> shift << shift);
}

void TimerWheel::unlink(TimerNode& node) noexcept {
    node.hook_.unlink();
    if (node.slot_ == TimerNode::no_slot) {
        return;
    }
    // Keep the bitmap exact, so expire() and next_deadline() never stop at an
    // empty slot. A stale slot_ (the node sat in batch_) only re-checks a slot.
    const unsigned level = node.slot_ / slots_per_level;
    const unsigned slot = node.slot_ % slots_per_level;
    if (slots_[level][slot].empty()) {
        occupied_[level] &= ~(std::uint64_t{1} << slot);
    }
    node.slot_ = TimerNode::no_slot;
}

std::optional<TimerWheel::Event> TimerWheel::next_event() const noexcept {
    // Lower levels hold earlier timers (file comment), so the first occupied
    // level decides; within it, the lowest occupied slot.
    for (unsigned level = 0; level < levels; ++level) {
        if (occupied_[level] == 0) {
            continue;
        }
        const auto slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
        const unsigned shift = level * slot_bits;
        const auto current = static_cast<unsigned>((elapsed_tick_ >> shift) & slot_mask);
        // Slots before the current one are empty; above level 0 so is the
        // current one, which cascaded when the current tick entered it.
        SYNACK_ASSERT(level == 0 ? slot >= current : slot > current);
        const unsigned block_shift = shift + slot_bits;
        const std::uint64_t block_tick = elapsed_tick_ >> block_shift << block_shift;
        return Event{level, slot, block_tick + (std::uint64_t{slot} << shift)};
    }
    if (!far_.empty()) {
        return Event{far_level, 0, ((elapsed_tick_ >> wheel_bits) + 1) << wheel_bits};
    }
    return std::nullopt;
}

void TimerWheel::cascade(List& from) noexcept {
    // Moved out first: place() may put a node back into the list it came from
    // (the far list, for a deadline still beyond the next block).
    List moving;
    moving.splice(moving.end(), from);
    while (!moving.empty()) {
        TimerNode& node = moving.front();
        moving.pop_front();
        place(node);
    }
}

void TimerWheel::begin_expire(std::uint64_t now_tick) noexcept {
    SYNACK_ASSERT(!expiring_);
    SYNACK_ASSERT(now_tick >= elapsed_tick_);
    SYNACK_ASSERT(batch_.empty());
    expiring_ = true;
    expire_now_tick_ = now_tick;
    batch_.splice(batch_.end(), due_);
}

bool TimerWheel::next_due_slot(std::uint64_t now_tick) noexcept {
    SYNACK_ASSERT(batch_.empty());
    for (;;) {
        const std::optional<Event> event = next_event();
        if (!event || event->tick > now_tick) {
            // Exact again; place() only lowers it until the next call.
            next_event_tick_ = event ? event->tick : no_tick;
            return false;
        }
        SYNACK_ASSERT(event->tick >= elapsed_tick_);
        elapsed_tick_ = event->tick;
        ++slots_visited_;
        if (event->level == far_level) {
            cascade(far_);
            continue;
        }
        List& slot = slots_[event->level][event->slot];
        occupied_[event->level] &= ~(std::uint64_t{1} << event->slot);
        if (event->level > 0) {
            cascade(slot);
            continue;
        }
        batch_.splice(batch_.end(), slot);
        return true;
    }
}

void TimerWheel::end_expire(std::uint64_t now_tick) noexcept {
    SYNACK_ASSERT(batch_.empty());
    // No slot is due by now_tick any more, so the whole gap is skipped at once;
    // every remaining timer still lies after now_tick in its level's block.
    elapsed_tick_ = std::max(elapsed_tick_, now_tick);
    if (due_.empty()) {
        due_min_tick_ = no_tick;
    }
    expiring_ = false;
}

std::optional<Instant> TimerWheel::next_deadline() const noexcept {
    if (size_ == 0) {
        return std::nullopt;
    }
    if (!due_.empty() || !batch_.empty()) {
        // Overdue nodes: due_min_tick_ bounds them; elapsed_tick_ bounds a
        // level-0 slot being fired and everything still in the wheel.
        return tick_start(std::min(due_min_tick_, elapsed_tick_));
    }
    const std::optional<Event> event = next_event();
    SYNACK_ASSERT(event.has_value());
    return tick_start(event->tick);
}

} // namespace synack::time
