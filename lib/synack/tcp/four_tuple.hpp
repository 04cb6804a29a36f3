#pragma once
// The identity of a connection: its two addresses and two ports.

#include <synack/wire/bytes.hpp>

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
};

} // namespace synack::tcp
