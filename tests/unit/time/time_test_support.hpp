#pragma once
// Shared by the time tests: Catch2 printing of time values, and a timer owner
// that finds itself from its TimerNode the way a TCB will.

#include <synack/time/clock.hpp>
#include <synack/time/timer_wheel.hpp>

#include <boost/intrusive/parent_from_member.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace Catch {
template <>
struct StringMaker<synack::time::Duration> {
    static std::string convert(synack::time::Duration d) { return std::to_string(d.us()) + " us"; }
};
template <>
struct StringMaker<synack::time::Instant> {
    static std::string convert(synack::time::Instant t) {
        return "@" + std::to_string(t.us()) + " us";
    }
};
} // namespace Catch

namespace synack::test {

/// A timer's owner: an id beside an embedded node, as a TCB embeds its timers.
struct TimerOwner {
    int id = 0;
    time::TimerNode node;

    /// The owner of a node that the wheel hands to a callback.
    static TimerOwner& of(time::TimerNode& n) noexcept {
        return *boost::intrusive::get_parent_from_member(&n, &TimerOwner::node);
    }
};

} // namespace synack::test
