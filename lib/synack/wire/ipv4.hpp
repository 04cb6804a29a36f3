#pragma once
// IPv4 (RFC 791). Options are skipped by the header length (IHL); fragments
// are recognised, not reassembled: TCP over fragments is not worth the memory
// an attacker could pin, and our own segments never exceed the path MTU.

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/checksum.hpp>
#include <synack/wire/error.hpp>
#include <synack/wire/ip_proto.hpp>

#include <cstdint>

namespace synack::wire {

inline constexpr std::size_t ipv4_min_header_len = 20;

/// A checked IPv4 packet: the header (options included) and the payload,
/// trimmed to the total length (Ethernet padding dropped). Accessors cannot fail.
class Ipv4Packet {
public:
    std::uint8_t header_len() const noexcept { return static_cast<std::uint8_t>((h()[0] & 0x0f) * 4); }
    std::uint8_t dscp_ecn() const noexcept { return h()[1]; }
    std::uint16_t total_len() const noexcept { return load_be16(h() + 2); }
    std::uint16_t id() const noexcept { return load_be16(h() + 4); }
    bool dont_fragment() const noexcept { return (h()[6] & 0x40) != 0; }
    bool more_fragments() const noexcept { return (h()[6] & 0x20) != 0; }
    /// Fragment offset in bytes (the field counts 8-byte units).
    std::uint16_t fragment_offset() const noexcept {
        return static_cast<std::uint16_t>((load_be16(h() + 6) & 0x1fff) * 8);
    }
    /// True for any fragment: the first (MF set) as well as the others.
    bool is_fragment() const noexcept { return more_fragments() || fragment_offset() != 0; }
    std::uint8_t ttl() const noexcept { return h()[8]; }
    std::uint8_t protocol() const noexcept { return h()[9]; }
    std::uint16_t checksum() const noexcept { return load_be16(h() + 10); }
    Ipv4Addr src() const noexcept { return Ipv4Addr::load(h() + 12); }
    Ipv4Addr dst() const noexcept { return Ipv4Addr::load(h() + 16); }

    Bytes header() const noexcept { return header_; }
    /// The options area (empty when IHL is 5); skipped, never interpreted.
    Bytes options() const noexcept { return header_.subspan(ipv4_min_header_len); }
    Bytes payload() const noexcept { return payload_; }
    /// Header and payload together: the datagram (quoted in ICMP errors).
    Bytes datagram() const noexcept { return {header_.data(), header_.size() + payload_.size()}; }

    /// The pseudo-header partial sum for an upper-layer protocol carried here.
    std::uint16_t pseudo_sum() const noexcept {
        return ipv4_pseudo_sum(src(), dst(), protocol(), static_cast<std::uint16_t>(payload_.size()));
    }

private:
    friend Result<Ipv4Packet, WireError> parse_ipv4(Bytes, ChecksumCheck) noexcept;
    Ipv4Packet(Bytes header, Bytes payload) noexcept : header_(header), payload_(payload) {}
    const std::uint8_t* h() const noexcept { return header_.data(); }

    Bytes header_;
    Bytes payload_;
};

/// Parses and checks an IPv4 header. Checks run in this order, so each error
/// names the first defect: truncated (< 20 bytes); bad_version (not 4);
/// bad_header_length (IHL < 5 or past the buffer); bad_total_length (total
/// length < IHL); total_length_past_buffer; bad_checksum (header checksum, by
/// `check.mode`).
Result<Ipv4Packet, WireError> parse_ipv4(Bytes packet, ChecksumCheck check) noexcept;

/// An IPv4 header to emit: no options, never a fragment.
struct Ipv4Repr {
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint8_t dscp_ecn = 0;
    std::uint16_t id = 0;
    bool dont_fragment = true;
    std::uint16_t payload_len = 0;

    static constexpr std::size_t header_len() noexcept { return ipv4_min_header_len; }
    /// Writes 20 bytes. With fill_checksum false the checksum field is left 0
    /// for the NIC to fill (TX offload). Precondition: out.size() >= 20.
    void emit(MutBytes out, bool fill_checksum) const noexcept;
};

} // namespace synack::wire
