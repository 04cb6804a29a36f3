#pragma once
// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), shared by
// the IPv4 protocol field and the IPv6 next-header field.

#include <cstdint>

namespace synack::wire {

namespace ip_proto {
inline constexpr std::uint8_t hop_by_hop = 0;
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t ipv6_routing = 43;
inline constexpr std::uint8_t ipv6_fragment = 44;
inline constexpr std::uint8_t esp = 50;
inline constexpr std::uint8_t ah = 51;
inline constexpr std::uint8_t icmpv6 = 58;
inline constexpr std::uint8_t ipv6_none = 59;
inline constexpr std::uint8_t ipv6_dest_opts = 60;
inline constexpr std::uint8_t mobility = 135;
inline constexpr std::uint8_t hip = 139;
inline constexpr std::uint8_t shim6 = 140;
} // namespace ip_proto

} // namespace synack::wire
