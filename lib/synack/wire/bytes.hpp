#pragma once
// Big-endian loads and stores on raw bytes. Network headers have no alignment
// guarantee inside an mbuf (a VLAN tag shifts everything by 4), so every access
// goes through memcpy-sized byte operations, which compilers turn into a
// single load plus bswap.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace synack::wire {

using Bytes = std::span<const std::uint8_t>;
using MutBytes = std::span<std::uint8_t>;

constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
           (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}
constexpr void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
constexpr void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

/// A 48-bit Ethernet MAC address, in wire order.
struct MacAddr {
    std::array<std::uint8_t, 6> bytes{};

    static constexpr MacAddr broadcast() noexcept { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
    /// I/G bit: group (multicast or broadcast) addresses have it set.
    constexpr bool is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }
    constexpr bool operator==(const MacAddr&) const noexcept = default;
};

/// An IPv4 address held as a host-order integer (so 10.0.0.1 is 0x0a000001).
struct Ipv4Addr {
    std::uint32_t value = 0;

    static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                          std::uint8_t d) noexcept {
        return {(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
                std::uint32_t{d}};
    }
    static constexpr Ipv4Addr load(const std::uint8_t* p) noexcept { return {load_be32(p)}; }
    constexpr void store(std::uint8_t* p) const noexcept { store_be32(p, value); }
    constexpr auto operator<=>(const Ipv4Addr&) const noexcept = default;
};

/// An IPv6 address, in wire order.
struct Ipv6Addr {
    std::array<std::uint8_t, 16> bytes{};

    constexpr auto operator<=>(const Ipv6Addr&) const noexcept = default;
};

} // namespace synack::wire
