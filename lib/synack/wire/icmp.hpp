#pragma once
// ICMP for IPv4 (RFC 792), as far as an endpoint needs it: echo (ping) and
// destination unreachable, built and parsed; other types parse generically.

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/checksum.hpp>
#include <synack/wire/error.hpp>

#include <cstdint>

namespace synack::wire {

inline constexpr std::size_t icmp_header_len = 8;

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
} // namespace icmp_type

namespace icmp_unreach_code {
inline constexpr std::uint8_t protocol = 2;
inline constexpr std::uint8_t port = 3;
inline constexpr std::uint8_t fragmentation_needed = 4;
} // namespace icmp_unreach_code

/// A checked ICMPv4 message. Accessors cannot fail.
struct Icmpv4Packet {
    Bytes message; // header and body

    std::uint8_t type() const noexcept { return message[0]; }
    std::uint8_t code() const noexcept { return message[1]; }
    std::uint16_t checksum() const noexcept { return load_be16(message.data() + 2); }
    /// Echo: identifier and sequence number (RFC 792 "Echo or Echo Reply Message").
    std::uint16_t echo_id() const noexcept { return load_be16(message.data() + 4); }
    std::uint16_t echo_seq() const noexcept { return load_be16(message.data() + 6); }
    /// Destination unreachable, code 4: the next-hop MTU (RFC 1191 section 4).
    std::uint16_t next_hop_mtu() const noexcept { return load_be16(message.data() + 6); }
    /// Everything after the 8-byte header: echo data, or the original
    /// datagram's header and first bytes for error messages.
    Bytes body() const noexcept { return message.subspan(icmp_header_len); }
};

/// Parses an ICMPv4 message (the whole IPv4 payload).
/// Returns it, or: truncated (< 8 bytes); bad_checksum (over the whole
/// message, by `check.mode`).
Result<Icmpv4Packet, WireError> parse_icmpv4(Bytes message, ChecksumCheck check) noexcept;

/// An ICMPv4 message to emit: type, code, the 4 bytes after the checksum
/// (echo id and sequence, or unused/MTU), and a body copied after them.
struct Icmpv4Repr {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest_of_header = 0;
    Bytes body;

    std::size_t len() const noexcept { return icmp_header_len + body.size(); }
    /// Writes len() bytes with the checksum filled. Precondition: out.size() >= len().
    void emit(MutBytes out) const noexcept;

    /// The reply to an echo request: same id, sequence and data (RFC 792).
    static Icmpv4Repr echo_reply_to(const Icmpv4Packet& request) noexcept {
        return {icmp_type::echo_reply, 0, load_be32(request.message.data() + 4), request.body()};
    }
};

} // namespace synack::wire
