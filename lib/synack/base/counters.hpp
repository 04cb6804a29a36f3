#pragma once
// Counter blocks: structs made only of std::uint64_t counters (and arrays of
// them), summed across engines, run loops and ports. Summing field by field
// by hand is how a counter gets left out of a total; add_counters() sums
// every field, and refuses at compile time a struct it cannot treat so.

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace synack {

/// a += b, counter by counter.
/// Precondition (checked at compile time): Block is trivially copyable and
/// its size a whole number of 64-bit words, as a block of std::uint64_t
/// counters is. Padding or a narrower field would break the size check only
/// sometimes, so a Block must hold std::uint64_t and nothing else.
template <typename Block>
void add_counters(Block& a, const Block& b) noexcept {
    static_assert(std::is_trivially_copyable_v<Block>);
    static_assert(sizeof(Block) % sizeof(std::uint64_t) == 0 && alignof(Block) == alignof(std::uint64_t),
                  "a counter block holds std::uint64_t counters only");
    constexpr std::size_t n = sizeof(Block) / sizeof(std::uint64_t);
    std::array<std::uint64_t, n> x;
    std::array<std::uint64_t, n> y;
    std::memcpy(x.data(), &a, sizeof(Block));
    std::memcpy(y.data(), &b, sizeof(Block));
    for (std::size_t i = 0; i < n; ++i) {
        x[i] += y[i];
    }
    std::memcpy(static_cast<void*>(&a), x.data(), sizeof(Block)); // trivially copyable: no -Wclass-memaccess
}

} // namespace synack
