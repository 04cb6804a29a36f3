#pragma once
// The identity of a connection: its two addresses and two ports.

#include <synack/wire/bytes.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace synack::tcp {

/// The two ends of a connection, from our side. Addresses are IPv4 or IPv6;
/// an IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d, RFC 4291 section
/// 2.5.5.2) so one type keys both.
struct FourTuple {
    wire::Ipv6Addr local_addr;
    wire::Ipv6Addr remote_addr;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;

    static wire::Ipv6Addr mapped(wire::Ipv4Addr a) noexcept {
        wire::Ipv6Addr m;
        m.bytes[10] = 0xff;
        m.bytes[11] = 0xff;
        a.store(m.bytes.data() + 12);
        return m;
    }
    bool operator==(const FourTuple&) const noexcept = default;

    /// The tuple as bytes in a fixed order (local address, remote address,
    /// local port, remote port, big-endian): what every keyed hash of a
    /// tuple (flow table, ISN, SYN cookie, timestamp offset) takes as input.
    std::array<std::uint8_t, 36> key_bytes() const noexcept {
        std::array<std::uint8_t, 36> b{};
        std::copy(local_addr.bytes.begin(), local_addr.bytes.end(), b.begin());
        std::copy(remote_addr.bytes.begin(), remote_addr.bytes.end(), b.begin() + 16);
        wire::store_be16(b.data() + 32, local_port);
        wire::store_be16(b.data() + 34, remote_port);
        return b;
    }
};

} // namespace synack::tcp
