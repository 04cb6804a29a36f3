#pragma once
// 32-bit TCP sequence numbers. RFC 9293 section 3.4: "the sequence number space
// ranges from 0 to 2**32 - 1 ... all arithmetic dealing with sequence numbers
// must be performed modulo 2**32". Seq32 has no operator<: ordering exists only
// between numbers less than 2**31 apart, so it is spelled before()/after()
// (as Linux spells it) and every comparison in the protocol code reads as one.

#include <cstdint>

namespace synack::wire {

class Seq32 {
public:
    constexpr Seq32() noexcept = default;
    constexpr explicit Seq32(std::uint32_t raw) noexcept : raw_(raw) {}

    constexpr std::uint32_t raw() const noexcept { return raw_; }

    constexpr Seq32& operator+=(std::uint32_t n) noexcept {
        raw_ += n;
        return *this;
    }
    constexpr Seq32& operator-=(std::uint32_t n) noexcept {
        raw_ -= n;
        return *this;
    }
    friend constexpr Seq32 operator+(Seq32 s, std::uint32_t n) noexcept { return s += n; }
    friend constexpr Seq32 operator-(Seq32 s, std::uint32_t n) noexcept { return s -= n; }

    /// Signed distance a - b; meaningful when |a - b| < 2**31.
    friend constexpr std::int32_t operator-(Seq32 a, Seq32 b) noexcept {
        return static_cast<std::int32_t>(a.raw_ - b.raw_);
    }

    friend constexpr bool operator==(Seq32, Seq32) noexcept = default;

    /// a < b in sequence space. Numbers exactly 2**31 apart are each "before"
    /// the other; TCP never compares numbers that far apart.
    friend constexpr bool before(Seq32 a, Seq32 b) noexcept { return (a - b) < 0; }
    /// a <= b in sequence space.
    friend constexpr bool before_eq(Seq32 a, Seq32 b) noexcept { return (a - b) <= 0; }
    /// a > b in sequence space.
    friend constexpr bool after(Seq32 a, Seq32 b) noexcept { return (a - b) > 0; }
    /// a >= b in sequence space.
    friend constexpr bool after_eq(Seq32 a, Seq32 b) noexcept { return (a - b) >= 0; }

    /// lo <= x < hi, the half-open window test of RFC 9293 section 3.4
    /// ("RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND"). An empty window (lo == hi)
    /// contains nothing.
    friend constexpr bool in_window(Seq32 lo, Seq32 x, Seq32 hi) noexcept {
        return x.raw_ - lo.raw_ < hi.raw_ - lo.raw_;
    }

    friend constexpr Seq32 seq_max(Seq32 a, Seq32 b) noexcept { return after(a, b) ? a : b; }
    friend constexpr Seq32 seq_min(Seq32 a, Seq32 b) noexcept { return before(a, b) ? a : b; }

private:
    std::uint32_t raw_ = 0;
};

} // namespace synack::wire
