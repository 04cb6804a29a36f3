#pragma once
// IPv6 (RFC 8200): the fixed header, and the extension-header chain walked far
// enough to find the upper-layer protocol or learn that the packet is a
// fragment. Extension headers are recognised and skipped, never acted upon.

#include <synack/base/result.hpp>
#include <synack/wire/bytes.hpp>
#include <synack/wire/checksum.hpp>
#include <synack/wire/error.hpp>
#include <synack/wire/ip_proto.hpp>

#include <cstdint>

namespace synack::wire {

inline constexpr std::size_t ipv6_header_len = 40;
/// A limit on the chain we walk; RFC 8200 section 4.1 recommends each kind at
/// most once (Destination Options twice), which is fewer than this.
inline constexpr std::size_t ipv6_max_extension_headers = 8;

/// A checked IPv6 packet. Accessors cannot fail.
struct Ipv6Packet {
    Bytes header;  // the 40-byte fixed header
    Bytes payload; // everything after the fixed header, trimmed to payload length
    /// The protocol after the extension headers: tcp, udp, icmpv6, ...;
    /// ipv6_none (59) when the chain says nothing follows, esp (50) when the
    /// rest is encrypted.
    std::uint8_t upper_protocol = 0;
    /// The upper-layer bytes (empty for ipv6_none; the fragment data for a
    /// non-first fragment).
    Bytes upper;
    std::uint8_t extension_count = 0;
    /// A Fragment header was seen (RFC 8200 section 4.5).
    bool is_fragment = false;
    bool more_fragments = false;
    std::uint16_t fragment_offset = 0; // in bytes
    std::uint32_t fragment_id = 0;

    std::uint8_t traffic_class() const noexcept {
        return static_cast<std::uint8_t>(load_be16(header.data()) >> 4);
    }
    std::uint32_t flow_label() const noexcept { return load_be32(header.data()) & 0xfffff; }
    std::uint16_t payload_len() const noexcept { return load_be16(header.data() + 4); }
    std::uint8_t next_header() const noexcept { return header[6]; }
    std::uint8_t hop_limit() const noexcept { return header[7]; }
    Ipv6Addr src() const noexcept { return load_addr(8); }
    Ipv6Addr dst() const noexcept { return load_addr(24); }

    /// The pseudo-header partial sum for the upper-layer protocol.
    std::uint16_t pseudo_sum() const noexcept {
        return ipv6_pseudo_sum(src(), dst(), upper_protocol, static_cast<std::uint32_t>(upper.size()));
    }

private:
    Ipv6Addr load_addr(std::size_t at) const noexcept {
        Ipv6Addr a;
        for (std::size_t i = 0; i < 16; ++i) {
            a.bytes[i] = header[at + i];
        }
        return a;
    }
};

/// Parses the fixed header and walks the extension headers.
/// Returns the packet, or: truncated (< 40 bytes); bad_version (not 6);
/// total_length_past_buffer (payload length past the buffer);
/// extension_header_past_packet; too_many_extension_headers;
/// misplaced_hop_by_hop (a Hop-by-Hop header after another header).
/// Jumbograms (payload length 0, RFC 2675) are not supported: they parse
/// with an empty payload.
Result<Ipv6Packet, WireError> parse_ipv6(Bytes packet) noexcept;

/// An IPv6 header to emit, with no extension headers.
struct Ipv6Repr {
    Ipv6Addr src;
    Ipv6Addr dst;
    std::uint8_t next_header = 0;
    std::uint8_t hop_limit = 64;
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;
    std::uint16_t payload_len = 0;

    static constexpr std::size_t header_len() noexcept { return ipv6_header_len; }
    /// Writes 40 bytes. Precondition: out.size() >= 40.
    void emit(MutBytes out) const noexcept;
};

} // namespace synack::wire
