#pragma once
// The Toeplitz hash that NICs use for RSS (Microsoft's RSS specification),
// computed in software to know which queue, and so which core, a flow's
// packets arrive on. DPDK's rte_softrss() walks the input bit by bit (about
// a hundred iterations for an IPv4 TCP tuple); this precomputes, for each
// input byte position and byte value, that byte's contribution, so a tuple
// costs one table load per byte. tests/unit/runtime checks it against
// rte_softrss().

#include <synack/wire/bytes.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace synack::runtime {

/// 40 bytes of 0x6d5a: a key whose hash is the same with source and
/// destination swapped (addresses and ports both span whole 16-bit periods),
/// so both directions of a flow land on one queue.
inline constexpr std::size_t rss_key_len = 40;
std::array<std::uint8_t, rss_key_len> symmetric_rss_key() noexcept;

class Toeplitz {
public:
    /// The longest input hashed: IPv4 addresses and TCP ports, 12 bytes.
    static constexpr std::size_t max_input = 12;

    /// key must hold at least max_input + 4 bytes (NICs use 40 or 52).
    explicit Toeplitz(std::span<const std::uint8_t> key) noexcept;

    /// The hash of IPv4 src, dst and TCP sport, dport, in the order a NIC
    /// hashes a received packet (RTE_ETH_RSS_NONFRAG_IPV4_TCP).
    std::uint32_t ipv4_tcp(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t sport,
                           std::uint16_t dport) const noexcept;
    /// The hash of the addresses alone (RTE_ETH_RSS_IPV4): other IPv4 packets.
    std::uint32_t ipv4(wire::Ipv4Addr src, wire::Ipv4Addr dst) const noexcept;

private:
    std::uint32_t word(std::size_t at, std::uint32_t value) const noexcept {
        return table_[at][value >> 24] ^ table_[at + 1][(value >> 16) & 0xff] ^ table_[at + 2][(value >> 8) & 0xff] ^
               table_[at + 3][value & 0xff];
    }

    std::array<std::array<std::uint32_t, 256>, max_input> table_{};
};

} // namespace synack::runtime
